"""Zephserver's websocket server as a Python plugin: chat rooms any logged-in session may enter, messages pushed
to a room, a user or everyone, a session manager that logs a connection in from its ``chat_ticket`` cookie, and two
workers: one that runs until it is disabled, one that dies every time it starts."""
import errno
import sys
import threading
import time
import uuid

from task import Provider
from service import Service
from dispatcher.rpc import roles, RpcException

NAME = 'chatroom'

_tickets = {}


class Janitor(Service):
    """Runs until disabled; counts its runs."""

    def __init__(self, dispatcher=None):
        super().__init__(dispatcher)
        self.runs = 0
        self.disables = 0
        self.wake = threading.Event()

    def main(self):
        self.runs += 1
        self.wake.clear()
        while self.enabled:
            self.wake.wait(3600)

    def disable(self):
        self.disables += 1
        self.enabled = False
        self.wake.set()


class Flaky(Service):
    def main(self):
        raise ValueError('flaky by design')


_janitor = []


class Chat(Provider):
    @roles('AUTHENTICATED')
    def enter(self, room):
        """Puts the caller's session in a room, through the plugin (whatever the room's roles)."""
        return self.dispatcher.join_room(self.dispatcher.caller()['session'], room)

    @roles('AUTHENTICATED')
    def say(self, room, text):
        return self.dispatcher.push_to_room(room, 'chat.message', {'text': text, 'from': self.dispatcher.caller()['user']})

    @roles('AUTHENTICATED')
    def whisper(self, user, text):
        return self.dispatcher.push_to_user(user, 'chat.message', {'text': text, 'from': self.dispatcher.caller()['user']})

    @roles('AUTHENTICATED')
    def tell(self, session, text):
        return self.dispatcher.push_to_session(session, 'chat.message', {'text': text})

    @roles('AUTHENTICATED')
    def announce(self, text):
        return self.dispatcher.push_to_everyone('chat.message', {'text': text})

    @roles('AUTHENTICATED')
    def session(self):
        return self.dispatcher.caller()['session']

    def linger(self, seconds):
        """A call that takes its time: what a stopping daemon interrupts."""
        print('lingering for {0} s'.format(seconds))
        sys.stdout.flush()
        time.sleep(seconds)
        return 'done'

    def issue_ticket(self, username):
        ticket = uuid.uuid4().hex
        _tickets[ticket] = username
        return ticket

    @roles('READONLY_ADMIN')
    def janitor(self):
        worker = _janitor[0]
        return {'runs': worker.runs, 'disables': worker.disables, 'enabled': worker.enabled}


def _judge(dispatcher, request):
    ticket = (request.get('cookies') or {}).get('chat_ticket')
    if ticket is None:
        return None
    username = _tickets.get(ticket)
    if username is None:
        raise RpcException(errno.EACCES, 'unknown chat ticket')
    rows = dispatcher.call_sync('user.query', [['username', '=', username]])
    if not rows:
        raise RpcException(errno.EACCES, 'the ticket names a user who is gone')
    return {'username': username, 'roles': rows[0].get('roles', []), 'user_id': rows[0].get('id')}


def _depends():
    return ['user']


def _init(dispatcher):
    dispatcher.register_event_type('chat.message', roles=['AUTHENTICATED'])
    dispatcher.register_room('chat.*', description='Chat rooms', roles=['AUTHENTICATED'], max_members=50)
    dispatcher.register_provider('chat', Chat)
    dispatcher.register_session_manager('chat-ticket', lambda request: _judge(dispatcher, request),
                                        description='the chat ticket cookie')
    _janitor.append(dispatcher.register_worker('chat.janitor', Janitor))
    dispatcher.register_worker('chat.flaky', Flaky, description='dies at once',
                               restart={'initial_delay_ms': 50, 'max_delay_seconds': 60, 'jitter_percent': 0, 'intensity': 2,
                                        'window_seconds': 60})
