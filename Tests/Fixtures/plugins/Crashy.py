import os
import time

from task import Provider, Task
from dispatcher.rpc import roles, description


def _depends():
    return []


class CrashyProvider(Provider):
    @roles('READONLY_ADMIN')
    def ok(self):
        return 'ok'

    @roles('READONLY_ADMIN')
    @description('Ends the process while the call is in flight')
    def die(self):
        print('about to die in crashy.die', flush=True)
        os._exit(3)

    @roles('READONLY_ADMIN')
    def pid(self):
        return os.getpid()


class DyingTask(Task):
    def run(self):
        self.set_progress(50, 'half way, then dying')
        time.sleep(0.2)
        os._exit(4)


def _init(dispatcher):
    dispatcher.register_provider('crashy', CrashyProvider)
    dispatcher.register_task_handler('crashy.dying_job', DyingTask)
