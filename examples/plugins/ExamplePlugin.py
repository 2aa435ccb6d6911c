"""An example plugin written exactly as seed 000 and FreeNAS 10 plugins were: a provider, a task that reports
progress and can be aborted, an event source, a schema definition and an event handler. Put it (or a link to
it) in a folder of dispatcher.plugin-dirs; the daemon runs it with sdk/python/switchboard_plugin.py."""

import errno
import threading
import time

from task import Provider, Task, TaskException
from event import EventSource
from dispatcher.rpc import description, accepts, returns, private, RpcException, roles, readonly


def _depends():
    return []


class GreetingProvider(Provider):
    """Greetings, and a method that always fails, to show errors."""

    @description("Greets someone")
    @accepts({'type': 'string', 'minLength': 1})
    @returns({'type': 'string'})
    @roles('READONLY_ADMIN')
    @readonly
    def hello(self, name):
        self.dispatcher.emit_event('example.greeted', {'id': name, 'name': name})
        return 'Hello, {0}'.format(name)

    @description("Adds two numbers")
    @accepts({'type': 'integer'}, {'type': 'integer'})
    @returns({'$ref': '#/components/schemas/example-sum'})
    @roles('READONLY_ADMIN')
    @readonly
    def add(self, a, b):
        return {'sum': a + b}

    @description("Fails with ENOENT, as FreeNAS 10 plugins report errors")
    @roles('READONLY_ADMIN')
    def fail(self):
        raise RpcException(errno.ENOENT, 'There is no such thing', {'what': 'thing'})

    @description("Raises a plain Python exception: the client sees it in exc_info")
    @roles('READONLY_ADMIN')
    def crash(self):
        return 1 / 0

    @description("Calls core.ping back in the daemon with the caller's rights")
    @roles('READONLY_ADMIN')
    def ping_back(self):
        return self.dispatcher.call_sync('core.ping')

    @description("Creates a user through the daemon with the caller's rights: only a FULL_ADMIN caller may")
    @accepts({'type': 'string', 'minLength': 1})
    @roles('READONLY_ADMIN')
    def make_user(self, username):
        return self.dispatcher.call_sync('user.create', {'username': username, 'password': 'changeme', 'roles': []})

    @private
    def internal(self):
        return 'private'


class CountTask(Task):
    """Counts to a number, reporting progress; abortable."""

    def __init__(self, dispatcher):
        super(CountTask, self).__init__(dispatcher)
        self.stop = threading.Event()

    def verify(self, count, delay=0):
        if count < 1:
            raise TaskException(errno.EINVAL, 'count must be at least 1')
        return []

    @description("Counts to a number with progress")
    @accepts({'type': 'integer'}, {'type': 'number'})
    def run(self, count, delay=0):
        for step in range(1, count + 1):
            if self.stop.wait(delay):
                raise TaskException(errno.ECANCELED, 'aborted at step {0}'.format(step))
            self.set_progress(step * 100 // count, 'step {0} of {1}'.format(step, count))
        self.log('counted to {0}'.format(count))
        return count

    def abort(self):
        self.stop.set()


class TickSource(EventSource):
    """Emits example.tick every `argument` seconds (0.05 by default) while someone subscribes."""

    def run(self):
        n = 0
        interval = self.argument if isinstance(self.argument, (int, float)) else 0.05
        with _lock:
            _state['sources'] += 1
        try:
            while self.running:
                n += 1
                self.emit_event('example.tick', {'id': n, 'n': n})
                time.sleep(interval)
        finally:
            with _lock:
                _state['sources'] -= 1


def _on_greeted(args):
    with _lock:
        _state['seen'] += 1


_state = {'seen': 0, 'sources': 0}
_lock = threading.Lock()


class StateProvider(Provider):
    """What the handler saw and how many source threads run."""

    @roles('READONLY_ADMIN')
    @readonly
    def greetings_seen(self):
        return _state['seen']

    @roles('READONLY_ADMIN')
    @readonly
    def sources_running(self):
        return _state['sources']


def _init(dispatcher, plugin=None):
    dispatcher.register_schema_definition('example-sum', {'type': 'object', 'properties': {'sum': {'type': 'integer'}}})
    dispatcher.register_provider('example', GreetingProvider)
    dispatcher.register_provider('example.state', StateProvider)
    dispatcher.register_task_handler('example.count', CountTask)
    dispatcher.register_event_source('example.tick', TickSource)
    dispatcher.register_event_type('example.greeted')
    dispatcher.register_event_handler('example.greeted', _on_greeted)


def _cleanup(dispatcher, plugin=None):
    pass
