"""Drives Switchboard's /websocket (DDP) dialect with aiotruenas-client, unchanged, as a TrueNAS 24.x client would.

Usage: aiotruenas_client_check.py HOST:PORT USERNAME PASSWORD
Prints one line per step; exits non-zero on the first failure.
"""
import asyncio
import sys

from aiotruenas_client.websockets.machine import CachingMachine


async def main(host: str, username: str, password: str) -> None:
    machine = await CachingMachine.create(host, username=username, password=password, secure=False)
    client = machine._client
    assert await client.invoke_method("core.ping") == "pong"
    print("login and core.ping: ok")
    info = await machine.get_system_info()
    assert isinstance(info.get("hostname"), str) and info["hostname"], info
    print("system.info: ok", info["hostname"])
    # The machine follows core.get_jobs itself (a DDP sub made at login); wait on a job through it.
    job_id = await client.invoke_method("test.job", [5, 100])
    assert isinstance(job_id, int), job_id
    job = await asyncio.wait_for(machine.wait_for_job(job_id), 20)
    print("job:", job.status.value, job.result)
    assert job.status.value == "SUCCESS" and job.result == {"steps": 5}, job.result
    await machine.close()
    print("done")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
