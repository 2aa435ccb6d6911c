"""Seed 000's module-level conventions: NAME, __version__, CONFIGURATION_SCHEMA; registering and unregistering
at run time; an event source reading its argument."""
import time

from task import Provider
from event import EventSource
from dispatcher.rpc import roles

NAME = 'settings_demo'
__version__ = '2.5'
CONFIGURATION_SCHEMA = {'type': 'object', 'properties': {'greeting': {'type': 'string'}}, 'additionalProperties': False}

_dispatcher = []


class Extra(Provider):
    @roles('READONLY_ADMIN')
    def there(self):
        return True


class Settings(Provider):
    @roles('READONLY_ADMIN')
    def configuration(self):
        return self.dispatcher.configuration

    @roles('READONLY_ADMIN')
    def drop_extra(self):
        self.dispatcher.unregister_provider('settings_demo.extra')
        return True

    @roles('READONLY_ADMIN')
    def add_shared(self, scope):
        self.dispatcher.register_event_type('settings_demo.shared', roles=['READONLY_ADMIN'], scope=scope)
        return True

    @roles('READONLY_ADMIN')
    def add_extra(self):
        self.dispatcher.register_provider('settings_demo.extra', Extra)
        return True


class Echo(EventSource):
    def run(self):
        while self.running:
            self.emit_event('settings_demo.echo', {'argument': self.argument})
            time.sleep(0.05)


def _init(dispatcher):
    dispatcher.register_provider('settings_demo', Settings)
    dispatcher.register_provider('settings_demo.extra', Extra)
    dispatcher.register_event_source('settings_demo.echo', Echo)
