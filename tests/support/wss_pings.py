"""Sends WebSocket pings on a wss:// relay's secret path and never reads a byte.

wss_pings.py PORT CAFILE PATH MIB SECONDS

Opens one TLS connection to the web server at 127.0.0.1:PORT, upgrades PATH (reading only the
101), then writes MIB MiB of masked ping frames of 125 bytes each as fast as the connection takes
them, and holds the connection, reading nothing, for SECONDS. Every ping asks for a pong, which
nobody takes. Prints how many MiB it wrote.
"""

import base64
import os
import socket
import ssl
import sys
import time


def main(port, cafile, path, mib, seconds):
    ctx = ssl.create_default_context(cafile=cafile)
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((
        "GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            raise SystemExit("closed during the upgrade")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        raise SystemExit("no upgrade: %r" % head[:40])
    # A ping with a zero mask: the payload goes as it is.
    ping = bytes([0x89, 0x80 | 125, 0, 0, 0, 0]) + b"p" * 125
    block = ping * 8000  # about 1 MiB
    sent = 0
    end = time.monotonic() + seconds
    try:
        while sent < mib * 1024 * 1024 and time.monotonic() < end:
            s.sendall(block)
            sent += len(block)
    except (OSError, ssl.SSLError) as e:
        print("write ended: %s" % e, file=sys.stderr)
    print("%.1f" % (sent / 1048576.0), flush=True)
    while time.monotonic() < end:
        time.sleep(0.5)


if __name__ == "__main__":
    a = sys.argv
    main(int(a[1]), a[2], a[3], int(a[4]), float(a[5]))
