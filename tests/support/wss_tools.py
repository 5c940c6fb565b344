#!/usr/bin/env python3
"""Helpers for tests/integration/nginx_wss.sh.

forward LISTEN_PORT TARGET_PORT RECORD_DIR
    A TCP forwarder on 127.0.0.1: for each connection it writes the client's first 4 KiB to
    RECORD_DIR/first-N and, at the connection's end, the bytes each way to RECORD_DIR/bytes-N.
hello FILE SNI ALPN
    Exits 0 when FILE starts with a TLS ClientHello that names SNI and offers ALPN.
abuse PORT CAFILE PATH
    Through the web server: opens a good WebSocket, then one that sends an unmasked frame and
    one that announces a frame over the bound; both of those must be closed by the far side,
    and the good one must still answer a ping. Prints one line per check; exits 1 on failure.
crowd PORT CAFILE PATH SOURCE N
    Through the web server, from the local address SOURCE: opens N WebSockets one after another
    and sends nothing on them; 2 s later prints "held H of N" (those the far side has not
    closed), then keeps them open until killed.
last-record FILE
    Prints the content type of the last whole TLS record in FILE (a client's bytes): 21 is an
    alert, as the close_notify of a clean end is under TLS 1.2.
"""
import os, select, socket, ssl, struct, sys, threading, time, base64, hashlib


def forward(listen_port, target_port, record_dir):
    """Also writes each connection's bytes from the client to RECORD_DIR/up-N."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(64)
    count = 0

    def pump(client, n):
        up = down = 0
        first = b""
        try:
            server = socket.create_connection(("127.0.0.1", target_port))
        except OSError:
            client.close()
            return
        socks = [client, server]
        try:
            # An end of one side is passed on as a half-close; the other side may still send
            # (a TLS close_notify after the server's).
            while socks:
                r, _, _ = select.select(socks, [], [])
                for s in r:
                    try:
                        data = s.recv(65536)
                    except ConnectionResetError:
                        data = b""
                    if not data:
                        socks.remove(s)
                        try:
                            (server if s is client else client).shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
                        continue
                    if s is client:
                        with open(os.path.join(record_dir, "up-%d" % n), "ab") as f:
                            f.write(data)
                        if len(first) < 4096:
                            first += data[: 4096 - len(first)]
                            with open(os.path.join(record_dir, "first-%d" % n), "wb") as f:
                                f.write(first)
                        up += len(data)
                        server.sendall(data)
                    else:
                        down += len(data)
                        client.sendall(data)
        except OSError:
            pass
        finally:
            with open(os.path.join(record_dir, "bytes-%d" % n), "w") as f:
                f.write("%d %d\n" % (up, down))
            client.close()
            server.close()

    while True:
        c, _ = srv.accept()
        count += 1
        threading.Thread(target=pump, args=(c, count), daemon=True).start()


def hello(path, sni, alpn):
    b = open(path, "rb").read()
    # TLS record: handshake (22), then a ClientHello (1).
    if len(b) < 9 or b[0] != 22 or b[1] != 3 or b[5] != 1:
        print("not a TLS ClientHello: %r" % b[:16])
        return 1
    length = struct.unpack(">H", b[3:5])[0]
    body = b[9 : 5 + length]
    p = 2 + 32  # version, random
    p += 1 + body[p]  # session id
    p += 2 + struct.unpack(">H", body[p : p + 2])[0]  # cipher suites
    p += 1 + body[p]  # compression
    end = p + 2 + struct.unpack(">H", body[p : p + 2])[0]
    p += 2
    names, protocols = [], []
    while p + 4 <= end:
        kind, n = struct.unpack(">HH", body[p : p + 4])
        ext = body[p + 4 : p + 4 + n]
        if kind == 0:  # server_name
            q = 2
            while q + 3 <= len(ext):
                t, m = ext[q], struct.unpack(">H", ext[q + 1 : q + 3])[0]
                if t == 0:
                    names.append(ext[q + 3 : q + 3 + m].decode())
                q += 3 + m
        elif kind == 16:  # ALPN
            q = 2
            while q < len(ext):
                m = ext[q]
                protocols.append(ext[q + 1 : q + 1 + m].decode())
                q += 1 + m
        p += 4 + n
    print("ClientHello: SNI %s, ALPN %s" % (names, protocols))
    return 0 if sni in names and alpn in protocols else 1


def open_ws(port, cafile, path, source=None):
    ctx = ssl.create_default_context(cafile=cafile)
    raw = socket.create_connection(
        ("127.0.0.1", port), timeout=10, source_address=(source, 0) if source else None
    )
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(
        (
            "GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, key)
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            raise RuntimeError("closed during the upgrade")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError("no upgrade: %r" % head[:40])
    want = base64.b64encode(
        hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    ).decode()
    if ("Sec-WebSocket-Accept: " + want).encode() not in head:
        raise RuntimeError("bad accept value")
    return s


def closed_by_peer(s):
    """True when the far side ends the connection within 10 s (EOF or reset)."""
    s.settimeout(10)
    try:
        while True:
            data = s.recv(4096)
            if not data:
                return True
            # A close frame from the server (0x88) is an end too.
            if data[0] == 0x88:
                return True
    except (ConnectionError, ssl.SSLError):
        return True
    except socket.timeout:
        return False


def masked(opcode, payload):
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    else:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def abuse(port, cafile, path):
    good = open_ws(port, cafile, path)
    ok = True
    bad = open_ws(port, cafile, path)
    bad.sendall(bytes([0x82, 0x05]) + b"hello")  # unmasked, from a client
    r = closed_by_peer(bad)
    print("unmasked client frame: connection %s" % ("closed" if r else "left open"))
    ok &= r
    bad = open_ws(port, cafile, path)
    bad.sendall(bytes([0x82, 0x80 | 127]) + struct.pack(">Q", 1 << 30) + os.urandom(4))
    r = closed_by_peer(bad)
    print("frame of 1 GiB announced: connection %s" % ("closed" if r else "left open"))
    ok &= r
    good.sendall(masked(0x9, b"still-there"))
    good.settimeout(10)
    got = b""
    try:
        while len(got) < 13:
            chunk = good.recv(64)
            if not chunk:
                break
            got += chunk
    except (socket.timeout, OSError):
        pass
    r = got[:2] == bytes([0x8A, 11]) and got[2:13] == b"still-there"
    print("the other connection answers a ping: %s" % ("yes" if r else "no (%r)" % got))
    ok &= r
    return 0 if ok else 1


def crowd(port, cafile, path, source, n):
    # An upgrade refused (the gateway's 404 for a client over its cap) holds nothing; one the
    # relay closes after the upgrade is readable (its end) and holds nothing either.
    held = []
    for _ in range(n):
        try:
            held.append(open_ws(port, cafile, path, source))
        except RuntimeError:
            pass
    time.sleep(2)
    r, _, _ = select.select(held, [], [], 0) if held else ([], [], [])
    print("held %d of %d" % (len(held) - len(r), n), flush=True)
    while True:
        time.sleep(60)


def last_record(path):
    b = open(path, "rb").read()
    p, last = 0, None
    while p + 5 <= len(b):
        n = struct.unpack(">H", b[p + 3 : p + 5])[0]
        if p + 5 + n > len(b):
            break
        last = b[p]
        p += 5 + n
    print(last)
    return 0


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "forward":
        forward(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif cmd == "hello":
        sys.exit(hello(sys.argv[2], sys.argv[3], sys.argv[4]))
    elif cmd == "abuse":
        sys.exit(abuse(int(sys.argv[2]), sys.argv[3], sys.argv[4]))
    elif cmd == "crowd":
        crowd(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    elif cmd == "last-record":
        sys.exit(last_record(sys.argv[2]))
