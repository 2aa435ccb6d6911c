# control.status round trips over a socket (the control socket, or the main local one), for BENCHMARKS.md:
#   .build/python-clients/bin/python scripts/ctl-latency.py <state-dir>/control.sock 100
import asyncio, json, sys, time, websockets
async def main(sock, n):
    async with websockets.unix_connect(sock, "ws://localhost/api/current", max_size=2**24) as ws:
        lat = []
        for i in range(n):
            t = time.monotonic()
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": i, "method": "control.status"}))
            reply = json.loads(await ws.recv())
            assert "result" in reply, reply
            lat.append((time.monotonic() - t) * 1000)
            await asyncio.sleep(0.1)
        lat.sort()
        print("control.status over the control socket: n %d, p50 %.2f ms, p99 %.2f ms, max %.2f ms" % (n, lat[n // 2], lat[int(n * 0.99) - 1], lat[-1]))
asyncio.run(main(sys.argv[1], int(sys.argv[2])))
