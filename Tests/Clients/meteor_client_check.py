"""python-meteor (MeteorClient over python-ddp's DDPClient), unmodified from PyPI, against /websocket.

Usage: meteor_client_check.py HOST:PORT USERNAME PASSWORD
Prints one line per check; exits non-zero on the first failure. The daemon runs with a 1 s DDP heartbeat,
so the client's answers to server pings are exercised while it waits.
"""
import sys
import threading
import time

from MeteorClient import MeteorClient


def main():
    host, username, password = sys.argv[1:4]
    client = MeteorClient("ws://%s/websocket" % host, auto_reconnect=False)
    connected = threading.Event()
    client.on("connected", lambda: connected.set())
    jobs = {}
    finished = threading.Event()

    def changed(collection, id, fields, cleared):
        if collection == "core.get_jobs":
            jobs.setdefault(id, {}).update(fields)
            if fields.get("state") in ("SUCCESS", "FAILED", "ABORTED"):
                finished.set()

    client.on("changed", changed)
    client.connect()
    if not connected.wait(10):
        raise SystemExit("no connected")
    print("connect: ok")

    def call(method, params):
        done = threading.Event()
        answer = {}

        def callback(error, result):
            answer["error"], answer["result"] = error, result
            done.set()

        client.call(method, params, callback)
        if not done.wait(10):
            raise SystemExit("no answer to %s" % method)
        if answer["error"]:
            raise SystemExit("%s failed: %r" % (method, answer["error"]))
        return answer["result"]

    # Meteor's own `login` hashes the password with SHA-256 (and breaks on Python 3); middlewared's method is used.
    assert call("auth.login", [username, password]) is True
    assert call("core.ping", []) == "pong"
    print("login and core.ping: ok")

    ready = threading.Event()
    sub_error = {}

    def subscribed(error):
        sub_error["error"] = error
        ready.set()

    client.subscribe("core.get_jobs", [], subscribed)
    if not ready.wait(10) or sub_error["error"]:
        raise SystemExit("subscribe failed: %r" % sub_error.get("error"))
    print("subscribe: ok")

    job_id = call("test.job", [4, 20])
    if not finished.wait(20):
        raise SystemExit("job %s did not finish: %r" % (job_id, jobs))
    # MeteorClient keeps a local copy of the collection from added/changed.
    document = client.find_one("core.get_jobs", selector={"state": "SUCCESS"})
    assert document is not None and document["result"] == {"steps": 4}, document
    print("job: %s %s" % (document["state"], document["result"]))

    # Stay silent past two heartbeats: the client answers the server's pings, so the connection stays.
    time.sleep(2.5)
    assert call("core.ping", []) == "pong"
    print("heartbeat: ok")
    client.close()
    print("done")


main()
