"""A TCP forwarder that can freeze connections the way some national filters do.

freeze_proxy.py LISTEN_PORT TARGET_PORT CONTROL_FILE

Forwards 127.0.0.1:LISTEN_PORT to 127.0.0.1:TARGET_PORT. While CONTROL_FILE holds a number N, a
new connection carries N bytes towards the client and then nothing more in either direction
(no reset, no close: the bytes just stop); otherwise it forwards everything.
"""

import os
import socket
import sys
import threading


def pump(src, dst, limit, stop):
    sent = 0
    try:
        while not stop.is_set():
            data = src.recv(65536)
            if not data:
                break
            if limit is not None:
                room = max(limit - sent, 0)
                data = data[:room]
            if data:
                dst.sendall(data)
                sent += len(data)
            if limit is not None and sent >= limit:
                stop.set()  # frozen: hold both sockets, pass nothing
                break
    except OSError:
        pass


def serve(client, target_port, control):
    limit = None
    try:
        with open(control) as f:
            text = f.read().strip()
            limit = int(text) if text else None
    except (OSError, ValueError):
        limit = None
    upstream = socket.create_connection(("127.0.0.1", target_port))
    stop = threading.Event()
    threading.Thread(target=pump, args=(client, upstream, None, stop), daemon=True).start()
    pump(upstream, client, limit, stop)
    if limit is None:
        for s in (client, upstream):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main(listen_port, target_port, control):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", listen_port))
    ls.listen(128)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c, target_port, control), daemon=True).start()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
