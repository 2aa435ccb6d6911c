#!/usr/bin/env python3
"""Switchboard's Python plugin host: runs one plugin file written as seed 000 and FreeNAS 10 plugins were.

    python3 switchboard_plugin.py /path/to/MyPlugin.py

The daemon starts it for every ``*.py`` file in ``dispatcher.plugin-dirs``. It speaks docs/plugin-protocol.md on
fd 3 and gives the plugin file the interface it expects, with nothing but the standard library:

- ``_depends()``, ``_init(dispatcher[, plugin])`` and ``_cleanup(dispatcher[, plugin])`` at module level;
- ``from task import Provider, Task, TaskException``, ``from event import EventSource``,
  ``from service import Service`` (Zephserver's ``main``/``disable``) and
  ``from dispatcher.rpc import description, accepts, returns, private, RpcException``;
- ``dispatcher.register_provider``, ``register_task_handler``, ``register_event_source``,
  ``register_schema_definition``, ``register_event_type``, ``register_event_handler``, ``register_room``,
  ``register_session_manager``, ``register_worker``, ``emit_event``, ``call_sync``, ``push`` (and
  ``push_to_session|user|room|everyone``), ``join_room``, ``leave_room``, ``caller``, and every ``unregister_*``;
- a ``Task`` with ``pipes = ['input']`` or ``['output']`` reads an upload or writes a download (``self.pipes``).

Errors raised by plugin code reach the client as the method's error, with the exception in ``exc_info``; they
never end the host. The plugin's name is its file's name without ``.py`` (``NAME`` at module level overrides it).
"""

import base64
import errno as errno_codes
import importlib.util
import inspect
import json
import os
import signal
import socket
import sys
import queue
import select
import threading
import traceback
import types
from collections import deque

PROTOCOL = 1


# --- dispatcher.rpc: FreeNAS 10's decorators -------------------------------------------------------------------

class RpcException(Exception):
    """An error with an errno, as FreeNAS 10 raised it: ``RpcException(errno.ENOENT, 'No such pool')``."""

    def __init__(self, code, message=None, extra=None):
        super().__init__(message or os.strerror(code))
        self.code = code
        self.message = message or os.strerror(code)
        self.extra = extra


def description(text):
    def wrap(fn):
        fn.description = text
        return fn
    return wrap


def accepts(*schemas):
    def wrap(fn):
        fn.params_schema = list(schemas)
        return fn
    return wrap


def returns(*schemas):
    def wrap(fn):
        fn.result_schema = schemas[0] if len(schemas) == 1 else {'type': 'array', 'prefixItems': list(schemas)}
        return fn
    return wrap


def private(fn):
    fn.private = True
    return fn


def roles(*names):
    """Switchboard's addition: the roles that may call a method (FULL_ADMIN only when not given)."""
    def wrap(fn):
        fn.roles = list(names)
        return fn
    return wrap


def readonly(fn):
    """Switchboard's addition: the method changes nothing (READONLY_ADMIN may call it)."""
    fn.readonly = True
    return fn


# --- task and event: the classes plugins derive from ------------------------------------------------------------

class Provider(object):
    """A data provider: its public methods become ``<name>.<method>``."""
    dispatcher = None


class TaskException(RpcException):
    pass


class TaskAbortException(TaskException):
    def __init__(self, message='Task aborted'):
        super().__init__(errno_codes.ECANCELED, message)


class _InputPipe(object):
    """The upload a task reads, as a binary file: ``read(size=-1)``. An upload may hold several files (up to five):
    ``next_file()`` moves to the next one and says whether there was one; the first is opened by the first read."""

    def __init__(self, connection, job):
        self._conn, self._job = connection, job
        self._buffer, self._open, self._done = b'', False, False

    def next_file(self):
        self._buffer = b''
        self._open = bool(self._conn.request('job.input.next_file', {'job': self._job}))
        self._done = not self._open
        return self._open

    def _piece(self):
        if not self._open and not self._done:
            self.next_file()
        if self._done:
            return b''
        data = self._conn.request('job.input.read', {'job': self._job})
        if data is None:
            self._done = True
            return b''
        return base64.b64decode(data)

    def read(self, size=-1):
        while size < 0 or len(self._buffer) < size:
            piece = self._piece()
            if not piece:
                break
            self._buffer += piece
        if size < 0:
            data, self._buffer = self._buffer, b''
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def __iter__(self):
        while True:
            piece = self._buffer or self._piece()
            self._buffer = b''
            if not piece:
                return
            yield piece


class _OutputPipe(object):
    """The download a task writes: ``write(data)`` returns once the daemon has taken it, so a task writes no faster
    than its client reads."""
    PIECE = 48 * 1024

    def __init__(self, connection, job):
        self._conn, self._job = connection, job

    def write(self, data):
        view = memoryview(bytes(data))
        for start in range(0, len(view), self.PIECE):
            piece = base64.b64encode(view[start:start + self.PIECE]).decode('ascii')
            self._conn.request('job.output.write', {'job': self._job, 'data': piece})
        return len(view)


class _Pipes(object):
    def __init__(self, connection, job, kinds):
        self.input = _InputPipe(connection, job) if 'input' in kinds else None
        self.output = _OutputPipe(connection, job) if 'output' in kinds else None


class Task(object):
    """A task handler: ``verify(*args)`` then ``run(*args)`` in a job; ``abort()`` makes it abortable.

    A class attribute ``pipes = ['input']`` makes it read an upload (``POST /_upload``) through
    ``self.pipes.input``; ``pipes = ['output']`` makes it write a download (``core.download``) through
    ``self.pipes.output``, as middlewared's ``job.pipes``."""

    pipes = ()

    def __init__(self, dispatcher):
        self.dispatcher = dispatcher
        self.job_id = None
        self.aborted = False

    def verify(self, *args):
        return []

    def run(self, *args):
        raise NotImplementedError('Task.run')

    def abort(self):
        """Override to make the task abortable: stop ``run`` soon, which then returns or raises."""
        raise TaskException(errno_codes.ENOTSUP, 'This task cannot be aborted')

    def set_progress(self, percentage, message=None, extra=None):
        self.dispatcher._send('job.progress', {'job': self.job_id, 'percent': int(percentage),
                                               'description': message, 'extra': extra})

    def log(self, line):
        self.dispatcher._send('job.log', {'job': self.job_id, 'line': str(line)})


class EventSource(object):
    """An event source: ``run()`` is a loop in a thread of its own while someone subscribes; it stops when
    ``self.running`` turns false (or ``stop()`` is called)."""

    def __init__(self, dispatcher):
        self.dispatcher = dispatcher
        self.running = True
        self.argument = None
        self._channel = None
        self._name = None

    def run(self):
        raise NotImplementedError('EventSource.run')

    def stop(self):
        self.running = False

    def emit_event(self, name, params=None, kind='changed'):
        self.dispatcher._emit(name, params, kind, self._channel if name == self._name else None)


class Service(object):
    """A worker, as Zephserver's services were: ``main()`` runs in a thread of its own until the worker is stopped,
    when ``disable()`` is called and must make ``main()`` return soon. A ``main()`` that returns or raises before
    that has died: the daemon starts it again (the same instance) under the worker's restart policy."""

    def __init__(self, dispatcher=None):
        self.dispatcher = dispatcher
        self.enabled = False

    def main(self):
        raise NotImplementedError('Service.main')

    def disable(self):
        self.enabled = False


# --- the connection to the daemon ------------------------------------------------------------------------------

class _Connection(object):
    def __init__(self, fd):
        self.sock = socket.socket(fileno=fd)
        self.file = self.sock.makefile('rb')
        self.write_lock = threading.Lock()
        self.outgoing = deque()
        self.pending = {}
        self.pending_lock = threading.Lock()
        self.next_id = 1

    def send(self, message):
        message['jsonrpc'] = '2.0'
        self.outgoing.append((json.dumps(message, separators=(',', ':'), default=str) + '\n').encode())
        # Whoever holds the write lock sends everything queued, in one write; the others only queue. The holder
        # looks again after releasing, so nothing queued meanwhile is left behind.
        while self.outgoing:
            if not self.write_lock.acquire(False):
                return
            try:
                chunks = []
                while True:
                    try:
                        chunks.append(self.outgoing.popleft())
                    except IndexError:
                        break
                if chunks:
                    self.sock.sendall(b''.join(chunks))
            finally:
                self.write_lock.release()

    def request(self, method, params):
        event = threading.Event()
        slot = {}
        with self.pending_lock:
            rid = self.next_id
            self.next_id += 1
            self.pending[rid] = (event, slot)
        self.send({'id': rid, 'method': method, 'params': params})
        event.wait()
        if 'error' in slot:
            error = slot['error']
            data = error.get('data') or {}
            raise RpcException(data.get('errno', errno_codes.EFAULT), error.get('message'), data.get('extra'))
        if 'closed' in slot:
            raise RpcException(errno_codes.EPIPE, 'the daemon closed the connection')
        return slot['result']

    def resolve(self, message):
        with self.pending_lock:
            waiter = self.pending.pop(message.get('id'), None)
        if waiter is None:
            return
        event, slot = waiter
        if 'error' in message:
            slot['error'] = message['error']
        else:
            slot['result'] = message.get('result')
        event.set()

    def close_pending(self):
        with self.pending_lock:
            waiters = list(self.pending.values())
            self.pending.clear()
        for event, slot in waiters:
            slot['closed'] = True
            event.set()


class Dispatcher(object):
    """What ``_init(dispatcher)`` receives: seed 000's dispatcher interface."""

    def __init__(self, connection, name):
        self._conn = connection
        self._name = name
        self._providers = {}
        self._tasks = {}
        self._sources = {}
        self._source_runs = {}
        self._handlers = {}
        self._jobs = {}
        self._workers = {}
        self._session_managers = {}
        self._local = threading.local()
        self._pool = _Workers(64)
        self.configuration = {}

    # Registering -----------------------------------------------------------------------------------------------

    def _register(self, params):
        self._conn.request('plugin.register', params)

    def _unregister(self, params):
        self._conn.request('plugin.unregister', params)

    def register_provider(self, name, cls):
        instance = cls()
        instance.dispatcher = self
        methods = []
        for attr, fn in inspect.getmembers(instance, predicate=inspect.ismethod):
            if attr.startswith('_'):
                continue
            methods.append(_method_entry('{0}.{1}'.format(name, attr), fn, job=False))
            self._providers['{0}.{1}'.format(name, attr)] = fn
        self._register({'services': [{'name': name, 'description': inspect.getdoc(cls) or ''}], 'methods': methods})

    def unregister_provider(self, name):
        names = [m for m in self._providers if m.startswith(name + '.')]
        self._unregister({'methods': names, 'services': [name]})
        for m in names:
            del self._providers[m]

    def register_task_handler(self, name, cls):
        entry = _method_entry(name, cls.run, job=True)
        # FreeNAS 10 put @accepts and @description on the Task class itself.
        if getattr(cls, 'params_schema', None) and not getattr(cls.run, 'params_schema', None):
            for index, schema in enumerate(cls.params_schema[:len(entry['params'])]):
                entry['params'][index]['schema'] = schema
        entry['job'] = {'abortable': cls.abort is not Task.abort, 'logs': True}
        if cls.pipes:
            entry['job']['pipes'] = list(cls.pipes)
        if getattr(cls, 'description', None) and isinstance(cls.description, str):
            entry['description'] = cls.description
        self._tasks[name] = cls
        self._register({'methods': [entry]})

    def unregister_task_handler(self, name):
        self._unregister({'methods': [name]})
        self._tasks.pop(name, None)

    def register_event_source(self, name, cls):
        self._sources[name] = cls
        self._register({'event_sources': [{'name': name, 'description': inspect.getdoc(cls) or '',
                                           'roles': list(getattr(cls, 'roles', []))}]})

    def unregister_event_source(self, name):
        self._unregister({'event_sources': [name]})
        self._sources.pop(name, None)

    def register_event_type(self, name, schema=None, roles=None, scope=None):
        """scope: 'cluster' for events every node of a cluster hears; 'node' (the default) for this node's."""
        declaration = {'name': name, 'schema': schema if schema is not None else True, 'roles': roles or []}
        if scope is not None:
            declaration['scope'] = scope
        self._register({'event_types': [declaration]})

    def unregister_event_type(self, name):
        self._unregister({'event_types': [name]})

    def register_schema_definition(self, name, schema):
        self._register({'schemas': {name: schema}})

    def unregister_schema_definition(self, name):
        self._unregister({'schemas': [name]})

    def register_event_handler(self, name, fn):
        first = name not in self._handlers
        self._handlers.setdefault(name, []).append(fn)
        if first:
            self._register({'event_handlers': [name]})

    def unregister_event_handler(self, name, fn):
        handlers = self._handlers.get(name, [])
        if fn in handlers:
            handlers.remove(fn)
        if not handlers and name in self._handlers:
            del self._handlers[name]
            self._unregister({'event_handlers': [name]})

    def register_room(self, name, description='', roles=None, max_members=None):
        """Declares a room, or a family ``prefix.*``, that sessions whose roles admit may join (``room.join``)."""
        declaration = {'name': name, 'description': description, 'roles': list(roles or [])}
        if max_members is not None:
            declaration['max_members'] = max_members
        self._register({'rooms': [declaration]})

    def unregister_room(self, name):
        self._unregister({'rooms': [name]})

    def register_session_manager(self, name, fn, description=''):
        """``fn(request)`` judges a new WebSocket connection from its upgrade request (``path``, ``query``,
        ``headers`` as ``[name, value]`` pairs, ``cookies``, ``origin``, ``dialect``): None when it is not its to
        judge, ``{'username', 'roles', 'user_id'}`` to log it in, or raise to refuse its proof."""
        self._session_managers[name] = fn
        self._register({'session_managers': [{'name': name, 'description': description}]})

    def unregister_session_manager(self, name):
        self._unregister({'session_managers': [name]})
        self._session_managers.pop(name, None)

    def register_worker(self, name, cls, description='', restart=None):
        """Declares a worker run by a ``Service`` subclass; returns its one instance, reused by every run. ``restart``:
        ``initial_delay_ms``, ``max_delay_seconds``, ``jitter_percent``, ``stable_seconds``, ``intensity``,
        ``window_seconds``."""
        try:
            instance = cls(self)
        except TypeError:
            instance = cls()
            instance.dispatcher = self
        self._workers[name] = {'instance': instance, 'run': None}
        declaration = {'name': name, 'description': description or inspect.getdoc(cls) or ''}
        if restart is not None:
            declaration['restart'] = restart
        self._register({'workers': [declaration]})
        return instance

    def unregister_worker(self, name):
        self._unregister({'workers': [name]})
        self._workers.pop(name, None)

    # Using the daemon ------------------------------------------------------------------------------------------

    def caller(self):
        """Who the call or task being served is for: ``{'user', 'roles', 'session', 'dialect'}``; None elsewhere."""
        return getattr(self._local, 'context', None)

    def push(self, target, name, fields=None, id=None, kind='added'):
        """Pushes a message of event type ``name`` to ``target`` (``{'session': id}``, ``{'user': name}``,
        ``{'room': name}`` or ``{'everyone': True}``), unasked, in each session's dialect; returns how many sessions
        of this node it reached."""
        return self._conn.request('session.push', {'target': target, 'name': name, 'kind': kind, 'id': id, 'fields': fields})

    def push_to_session(self, session, name, fields=None, id=None):
        return self.push({'session': session}, name, fields, id)

    def push_to_user(self, user, name, fields=None, id=None):
        return self.push({'user': user}, name, fields, id)

    def push_to_room(self, room, name, fields=None, id=None):
        return self.push({'room': room}, name, fields, id)

    def push_to_everyone(self, name, fields=None, id=None):
        return self.push({'everyone': True}, name, fields, id)

    def join_room(self, session, room):
        """Puts an open session (``caller()['session']``) in a declared room, whatever its roles."""
        return self._conn.request('session.join_room', {'session': session, 'room': room})

    def leave_room(self, session, room):
        return self._conn.request('session.leave_room', {'session': session, 'room': room})

    def emit_event(self, name, params=None, kind='changed'):
        self._emit(name, params, kind, None)

    dispatch_event = emit_event

    def call_sync(self, method, *args):
        """Calls a daemon method: inside a method or task, with its caller's rights (never more); elsewhere
        (``_init``, event sources, handlers) as the plugin, with the daemon's."""
        params = {'method': method, 'params': list(args)}
        token = getattr(self._local, 'call', None)
        if token is not None:
            params['call'] = token
        return self._conn.request('daemon.call', params)

    def _emit(self, name, params, kind, channel):
        message = {'name': name, 'kind': kind, 'fields': params}
        if isinstance(params, dict) and 'id' in params:
            message['id'] = params['id']
        if channel is not None:
            message['source'] = channel
        self._send('event.emit', message)

    def _send(self, method, params):
        self._conn.send({'method': method, 'params': params})

    # Serving the daemon's requests -----------------------------------------------------------------------------

    def handle(self, message):
        method = message.get('method')
        params = message.get('params') or {}
        if method == 'method.call':
            self._pool.submit(self._answer, message['id'], params, self._call)
        elif method == 'job.run':
            self._pool.submit(self._answer, message['id'], params, self._run_task)
        elif method == 'job.abort':
            task = self._jobs.get(params.get('job'))
            if task is not None:
                task.aborted = True
                self._pool.submit(_quietly, task.abort)
        elif method == 'call.cancel':
            pass  # a Python thread cannot be interrupted; its late answer is dropped by the daemon
        elif method == 'source.start':
            self._start_source(params)
        elif method == 'source.stop':
            source = self._source_runs.pop(params.get('source'), None)
            if source is not None:
                _quietly(source.stop)
        elif method == 'event':
            for fn in list(self._handlers.get(params.get('mask'), [])):
                self._pool.submit(_quietly, fn, params.get('fields'))
        elif method == 'session.authenticate':
            self._pool.submit(self._answer, message['id'], params, self._judge)
        elif method == 'worker.run':
            self._start_worker(params)
        elif method == 'worker.disable':
            worker = self._workers.get(params.get('worker'))
            if worker is not None and worker['run'] == params.get('run'):
                worker['run'] = None
                self._pool.submit(_quietly, worker['instance'].disable)

    def _answer(self, rid, params, body):
        self._local.context = params.get('context')
        self._local.call = (params.get('context') or {}).get('call')
        try:
            result = body(params)
            self._conn.send({'id': rid, 'result': result})
        except BaseException as e:  # noqa: B902 - plugin code may raise anything; the host must survive it
            self._conn.send({'id': rid, 'error': _error(e)})
        finally:
            self._local.call = None
            self._local.context = None

    def _call(self, params):
        fn = self._providers.get(params['method'])
        if fn is None:
            raise RpcException(errno_codes.ENOENT, 'No method {0} in this plugin'.format(params['method']))
        return fn(*params.get('params', []))

    def _run_task(self, params):
        cls = self._tasks.get(params['method'])
        if cls is None:
            raise RpcException(errno_codes.ENOENT, 'No task {0} in this plugin'.format(params['method']))
        task = cls(self)
        task.job_id = params['job']
        if cls.pipes:
            task.pipes = _Pipes(self._conn, task.job_id, cls.pipes)
        self._jobs[task.job_id] = task
        try:
            args = params.get('params', [])
            task.verify(*args)
            result = task.run(*args)
            if task.aborted:
                raise TaskAbortException()
            return result
        finally:
            self._jobs.pop(task.job_id, None)

    def _judge(self, params):
        fn = self._session_managers.get(params.get('manager'))
        if fn is None:
            return None
        return fn(params.get('request') or {})

    def _start_worker(self, params):
        name, run = params.get('worker'), params.get('run')
        worker = self._workers.get(name)
        if worker is None:
            self._send('worker.end', {'run': run, 'error': 'no such worker'})
            return
        worker['run'] = run
        instance = worker['instance']
        previous = worker.get('thread')

        def loop():
            # A run started right after a stop waits for the stopped run's main() to return: one instance,
            # one main() at a time, as Zephserver resurrected a service.
            if previous is not None:
                previous.join()
            instance.enabled = True
            error = None
            try:
                instance.main()
            except BaseException as e:  # noqa: B902 - a worker's death is reported, never the host's
                error = '{0}: {1}'.format(type(e).__name__, e)
                traceback.print_exc()
            self._send('worker.end', {'run': run, 'error': error})

        thread = threading.Thread(target=loop, name='worker-' + name, daemon=True)
        worker['thread'] = thread
        thread.start()

    def _start_source(self, params):
        cls = self._sources.get(params.get('name'))
        if cls is None:
            self._send('source.end', {'source': params.get('source'), 'error': 'no such event source'})
            return
        source = cls(self)
        source.argument = params.get('argument')
        source._channel = params.get('source')
        source._name = params.get('name')
        self._source_runs[source._channel] = source

        def loop():
            error = None
            try:
                source.run()
            except BaseException as e:  # noqa: B902
                error = '{0}: {1}'.format(type(e).__name__, e)
                traceback.print_exc()
            if self._source_runs.pop(source._channel, None) is not None:
                self._send('source.end', {'source': source._channel, 'error': error})

        threading.Thread(target=loop, name='source-' + source._name, daemon=True).start()


class _Workers(object):
    """Threads that run calls, tasks and handlers: started as needed up to ``limit`` (a call that blocks holds
    one; more wait in the queue), fed through one queue with no per-call future."""

    def __init__(self, limit):
        self.limit = limit
        self.queue = queue.SimpleQueue()
        self.threads = 0
        self.idle = 0
        self.lock = threading.Lock()

    def submit(self, fn, *args):
        self.queue.put((fn, args))
        with self.lock:
            if self.idle > 0 or self.threads >= self.limit:
                return
            self.threads += 1
        threading.Thread(target=self._run, name='plugin-worker', daemon=True).start()

    def _run(self):
        while True:
            with self.lock:
                self.idle += 1
            fn, args = self.queue.get()
            with self.lock:
                self.idle -= 1
            _quietly(fn, *args)


def _method_entry(name, fn, job):
    try:
        signature = inspect.signature(fn)
        names = [p.name for p in signature.parameters.values()
                 if p.name != 'self' and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        defaults = {p.name: p.default for p in signature.parameters.values() if p.default is not p.empty}
    except (TypeError, ValueError):
        names, defaults = [], {}
    schemas = getattr(fn, 'params_schema', None)
    params = []
    for index, pname in enumerate(names):
        entry = {'name': pname, 'schema': schemas[index] if schemas and index < len(schemas) else True}
        if pname in defaults:
            entry['default'] = defaults[pname]
        params.append(entry)
    flags = []
    if getattr(fn, 'private', False):
        flags.append('private')
    if getattr(fn, 'readonly', False):
        flags.append('readonly')
    return {'name': name, 'description': getattr(fn, 'description', None) or inspect.getdoc(fn) or '',
            'params': params, 'returns': getattr(fn, 'result_schema', True), 'roles': getattr(fn, 'roles', []),
            'flags': flags, 'job': job}


def _error(e):
    code = getattr(e, 'code', None)
    if not isinstance(code, int):
        code = errno_codes.EFAULT
    message = getattr(e, 'message', None) or str(e) or type(e).__name__
    data = {'errno': code, 'exc_info': {'type': type(e).__name__, 'message': str(e),
                                        'traceback': ''.join(traceback.format_exception(type(e), e, e.__traceback__))}}
    extra = getattr(e, 'extra', None)
    if extra is not None:
        data['extra'] = extra
    return {'code': code, 'message': message, 'data': data}


def _quietly(fn, *args):
    try:
        fn(*args)
    except BaseException:  # noqa: B902
        traceback.print_exc()


def _install_modules():
    """Makes ``task``, ``event``, ``service`` and ``dispatcher.rpc`` importable by the names plugins use."""
    task = types.ModuleType('task')
    task.Provider, task.Task, task.TaskException, task.TaskAbortException = Provider, Task, TaskException, TaskAbortException
    task.VerifyException = TaskException
    event = types.ModuleType('event')
    event.EventSource = EventSource
    service = types.ModuleType('service')
    service.Service = Service
    rpc = types.ModuleType('dispatcher.rpc')
    for name in ('description', 'accepts', 'returns', 'private', 'roles', 'readonly', 'RpcException'):
        setattr(rpc, name, globals()[name])
    package = types.ModuleType('dispatcher')
    package.__path__ = []
    package.rpc = rpc
    for name, module in (('task', task), ('event', event), ('service', service), ('dispatcher', package), ('dispatcher.rpc', rpc),
                         ('freenas.dispatcher.rpc', rpc)):
        sys.modules.setdefault(name, module)


def _with_plugin(fn, dispatcher, plugin):
    """Calls ``_init``/``_cleanup`` with ``(dispatcher)`` or ``(dispatcher, plugin)``, as the function takes."""
    try:
        count = len(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        count = 1
    return fn(dispatcher, plugin) if count >= 2 else fn(dispatcher)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write('usage: switchboard_plugin.py PLUGIN.py\n')
        return 2
    path = argv[1]
    _install_modules()
    stem = os.path.splitext(os.path.basename(path))[0]
    conn = _Connection(int(os.environ.get('SWITCHBOARD_PLUGIN_FD', '3')))
    spec = importlib.util.spec_from_file_location(stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[stem] = module
    spec.loader.exec_module(module)
    name = getattr(module, 'NAME', stem)
    dispatcher = Dispatcher(conn, name)
    depends = list(module._depends()) if hasattr(module, '_depends') else []

    stopping = threading.Event()
    # A Python handler runs in the main thread once it runs again, but the kernel may hand the signal to any
    # thread, leaving the main thread asleep in a wait it would not leave (the daemon then had to kill the
    # plugin after its stop grace). The C handler writes the signal's number to this pipe whichever thread took
    # it, and the reader writes to it when the daemon is gone, so the main thread waits on the pipe.
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)

    def wake():
        try:
            os.write(wake_write, b'\0')
        except BlockingIOError:
            pass  # the pipe is full of wake-ups already

    def reader():
        while True:
            line = conn.file.readline()
            if not line:
                break  # the daemon is gone: end with it
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if 'method' in message:
                dispatcher.handle(message)
            else:
                conn.resolve(message)
        conn.close_pending()
        stopping.set()
        wake()

    threading.Thread(target=reader, name='reader', daemon=True).start()
    ready = []

    def on_signal(*_):
        # Before it is ready the plugin has nothing to clean up: leave at once (the main thread may be waiting
        # for the answer to its hello). After, _cleanup runs first.
        if not ready:
            raise SystemExit(0)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.set_wakeup_fd(wake_write)

    hello = {'protocol': PROTOCOL, 'name': name, 'version': getattr(module, '__version__', None),
             'dependencies': depends, 'configuration_schema': getattr(module, 'CONFIGURATION_SCHEMA', None)}
    answer = conn.request('plugin.hello', hello)
    dispatcher.configuration = answer.get('configuration') or {}
    if hasattr(module, '_init'):
        _with_plugin(module._init, dispatcher, module)
    conn.request('plugin.ready', {})
    ready.append(True)
    while not stopping.is_set():
        select.select([wake_read], [], [])
        os.read(wake_read, 512)
    if hasattr(module, '_cleanup'):
        _quietly(_with_plugin, module._cleanup, dispatcher, module)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
