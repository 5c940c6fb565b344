"""Holds WebSocket upgrades of a wss:// relay's secret path open from one source address.

wss_hold.py PORT CAFILE PATH FROM CONNECTIONS SECONDS OUT.json

Keeps CONNECTIONS attempts going at once to the web server at 127.0.0.1:PORT, each a TLS
connection from the address FROM that sends a good upgrade for PATH and, once it has its 101,
sends nothing more and answers nothing (no Noise handshake, no close frame), until the far side
ends it; then it dials again at once. Anything but a 101 is dropped and dialled again after
20 ms. Writes {"upgraded", "refused", "peak_held"} to OUT.json when SECONDS have passed.
"""

import asyncio
import base64
import json
import os
import ssl
import sys
import time


async def main(port, cafile, path, source, connections, seconds, out):
    ctx = ssl.create_default_context(cafile=cafile)
    counts = {"upgraded": 0, "refused": 0, "held": 0, "peak_held": 0}
    end = time.monotonic() + seconds

    async def one():
        while time.monotonic() < end:
            writer = None
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(
                        "127.0.0.1", port, ssl=ctx, server_hostname="localhost",
                        local_addr=(source, 0)),
                    timeout=5)
                key = base64.b64encode(os.urandom(16)).decode()
                writer.write((
                    "GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                    "Sec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())
                await writer.drain()
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
                if not head.startswith(b"HTTP/1.1 101"):
                    counts["refused"] += 1
                    writer.close()
                    await asyncio.sleep(0.02)
                    continue
                counts["upgraded"] += 1
                counts["held"] += 1
                counts["peak_held"] = max(counts["peak_held"], counts["held"])
                try:
                    while time.monotonic() < end:
                        left = end - time.monotonic()
                        data = await asyncio.wait_for(reader.read(4096), timeout=max(left, 0.01))
                        if not data:
                            break
                except (asyncio.TimeoutError, ConnectionError, ssl.SSLError):
                    pass
                finally:
                    counts["held"] -= 1
            except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError,
                    ssl.SSLError, OSError):
                counts["refused"] += 1
                await asyncio.sleep(0.02)
            finally:
                if writer is not None:
                    try:
                        writer.transport.abort()
                    except Exception:
                        pass

    await asyncio.gather(*(one() for _ in range(connections)))
    del counts["held"]
    with open(out, "w") as f:
        json.dump(counts, f)


if __name__ == "__main__":
    a = sys.argv
    asyncio.run(main(int(a[1]), a[2], a[3], a[4], int(a[5]), float(a[6]), a[7]))
