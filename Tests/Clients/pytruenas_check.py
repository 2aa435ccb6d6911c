"""Drives Switchboard's JSON-RPC 2.0 dialect (/api/current) with pytruenas, unchanged, as a TrueNAS 25.x client.

Usage: pytruenas_check.py HOST:PORT USERNAME PASSWORD
Prints one line per step; exits non-zero on the first failure.
"""
import sys

from pytruenas import TrueNASClient


def main(host: str, username: str, password: str) -> None:
    client = TrueNASClient(f"ws://{host}/api/current", credentials=f"{username}:{password}", verify=False)
    assert client.api.core.ping() == "pong"
    print("login and core.ping: ok")
    assert client.api.system.info()["hostname"]
    print("system.info: ok")
    client.api.user._upsert(("username",), username="svc", full_name="Service")
    client.api.user._upsert(("username",), username="svc", full_name="Service Account")
    users = client.api.user.query([["username", "=", "svc"]])
    assert len(users) == 1 and users[0]["full_name"] == "Service Account", users
    print("user upsert: ok")
    print("done")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
