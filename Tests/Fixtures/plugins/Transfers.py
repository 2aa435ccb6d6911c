"""File transfer from a Python plugin, as middlewared's job.pipes: a task that stores an upload, one that serves a
download, and one that asks for pipes it did not declare."""
import hashlib

from task import Task


class Store(Task):
    pipes = ['input']

    def run(self, path):
        digest, size = hashlib.sha256(), 0
        with open(path, 'wb') as target:
            for piece in self.pipes.input:
                target.write(piece)
                digest.update(piece)
                size += len(piece)
        return {'bytes': size, 'sha256': digest.hexdigest(), 'more_files': self.pipes.input.next_file()}


class Serve(Task):
    pipes = ['output']

    def run(self, path):
        with open(path, 'rb') as source:
            while True:
                piece = source.read(200000)
                if not piece:
                    return True
                self.pipes.output.write(piece)


class Misuse(Task):
    def run(self):
        refusals = []
        for method, params in [('job.input.read', {'job': self.job_id}),
                               ('job.output.write', {'job': self.job_id, 'data': 'AAAA'})]:
            try:
                self.dispatcher._conn.request(method, params)
                refusals.append(None)
            except Exception as e:
                refusals.append(str(e))
        try:
            self.dispatcher._register({'methods': [{'name': 'transfers.bad', 'job': {'pipes': ['sideways']}}]})
            refusals.append(None)
        except Exception as e:
            refusals.append(str(e))
        return refusals


def _init(dispatcher):
    dispatcher.register_task_handler('transfers.store', Store)
    dispatcher.register_task_handler('transfers.serve', Serve)
    dispatcher.register_task_handler('transfers.misuse', Misuse)
