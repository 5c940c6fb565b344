# kolokol doctor and the proxy: whether it answers as Tor, and whether a Tor-only group's relays
# answer through it. A small SOCKS5 proxy in python3 on loopback stands in:
#   plain — a SOCKS5 proxy that is not Tor: anything that is not a SOCKS5 greeting is closed
#           (as dante or ssh -D do). doctor says it is not Tor, a problem for a Tor-only group,
#           and still reaches the group's relay through it (the proxy logs the CONNECT).
#   tor   — the same proxy answering an HTTP request with the status line Tor's SOCKS port sends
#           ("HTTP/1.0 501 Tor is not an HTTP Proxy"): doctor says it answers as Tor.
# Then the proxy stopped: doctor says it cannot be reached. Last, Debian's real tor (scripts/deps)
# on a loopback SOCKS port: this machine has no way out, so Tor builds no circuit, but its SOCKS
# port answers doctor's check: doctor says it answers as Tor, and that the relay cannot be
# reached through it.
source "$(dirname "$0")/lib.bash"
command -v python3 >/dev/null || fail "python3 is needed"

start_relay

cat > "$WORK/socks.py" <<'PY'
# A minimal SOCKS5 proxy (RFC 1928, no auth or RFC 1929 user/pass), CONNECT only, one thread a
# connection, every read bounded. argv: port, mode (plain|tor), log file.
import socket, sys, threading
port, mode, log = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "a", buffering=1)
TOR = b"HTTP/1.0 501 Tor is not an HTTP Proxy\r\nContent-Type: text/html\r\n\r\n<html></html>\n"

def exact(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d: raise EOFError
        b += d
    return b

def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d: break
            b.sendall(d)
    except OSError: pass
    finally:
        for s in (a, b):
            try: s.shutdown(socket.SHUT_RDWR)
            except OSError: pass

def serve(c):
    try:
        c.settimeout(10)
        first = exact(c, 1)
        if first != b"\x05":
            log.write("not socks5: %r\n" % first)
            if mode == "tor" and first in b"GHPC": c.sendall(TOR)
            c.close(); return
        methods = exact(c, exact(c, 1)[0])
        if 2 in methods:
            c.sendall(b"\x05\x02")
            exact(c, 1); exact(c, exact(c, 1)[0]); exact(c, exact(c, 1)[0])
            c.sendall(b"\x01\x00")
        else:
            c.sendall(b"\x05\x00")
        ver, cmd, _, atyp = exact(c, 4)
        if atyp == 3: host = exact(c, exact(c, 1)[0]).decode()
        elif atyp == 1: host = socket.inet_ntoa(exact(c, 4))
        else: c.close(); return
        tport = int.from_bytes(exact(c, 2), "big")
        log.write("CONNECT %s:%d\n" % (host, tport))
        try:
            up = socket.create_connection((host, tport), timeout=5)
        except OSError:
            c.sendall(b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00"); c.close(); return
        c.sendall(b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00")
        c.settimeout(None); up.settimeout(None)
        threading.Thread(target=pump, args=(up, c), daemon=True).start()
        pump(c, up)
    except (EOFError, OSError, ValueError):
        c.close()

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(16)
log.write("listening\n")
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
PROXY_PORT=$(pick_port)
start_proxy() {
  : > "$WORK/proxy.log"
  python3 "$WORK/socks.py" "$PROXY_PORT" "$1" "$WORK/proxy.log" 2>"$WORK/proxy.err" &
  PROXY_PID=$!
  CLEANUP_PIDS+=("$PROXY_PID")
  for _ in $(seq 100); do grep -q listening "$WORK/proxy.log" 2>/dev/null && return; sleep 0.1; done
  fail "the test proxy did not start: $(cat "$WORK/proxy.err")"
}
stop_proxy() { kill "$PROXY_PID" 2>/dev/null || true; wait "$PROXY_PID" 2>/dev/null || true; }

new_member anna Anna
as anna group create G >/dev/null
as anna group relay add G "$ADDR" >/dev/null
as anna group tor-only G on >/dev/null
as anna proxy set "socks5://127.0.0.1:$PROXY_PORT" >/dev/null
doctor_run() { rc=0; as anna doctor "$@" > "$WORK/doctor.out" 2>&1 || rc=$?; }

# A SOCKS5 proxy that is not Tor.
start_proxy plain
doctor_run
[ "$rc" -eq 1 ] || fail "a proxy that is not Tor for a Tor-only group is not a problem (exit $rc): $(cat "$WORK/doctor.out")"
grep -q "^\[PROBLEM\] proxy: the proxy socks5://127.0.0.1:$PROXY_PORT does not answer as Tor" "$WORK/doctor.out" ||
  fail "doctor does not say the proxy is not Tor: $(cat "$WORK/doctor.out")"
grep -q "^\[ok\] relay: $ADDR (of a Tor-only group) answered through the proxy" "$WORK/doctor.out" ||
  fail "doctor does not say the Tor-only group's relay answered through the proxy: $(cat "$WORK/doctor.out")"
grep -q "^CONNECT " "$WORK/proxy.log" || fail "the relay was not reached through the proxy: $(cat "$WORK/proxy.log")"
grep -q "^not socks5: b'G'" "$WORK/proxy.log" || fail "doctor did not send its HTTP check to the proxy: $(cat "$WORK/proxy.log")"
as anna doctor --json > "$WORK/doctor.json" 2>/dev/null || true
python3 - "$WORK/doctor.json" <<'PY' || fail "doctor --json: $(cat "$WORK/doctor.json")"
import json, sys
d = json.load(open(sys.argv[1]))
proxy = [c for c in d["checks"] if c["check"] == "proxy"]
assert len(proxy) == 1 and proxy[0]["status"] == "problem", proxy
assert "Tor" in proxy[0]["fix"], proxy
PY
# A group that is not Tor only: the same proxy is a note, not a problem.
as anna group tor-only G off >/dev/null
doctor_run
[ "$rc" -eq 0 ] || fail "a plain SOCKS5 proxy without Tor-only groups is a problem (exit $rc): $(cat "$WORK/doctor.out")"
grep -q "^\[note\] proxy: .* does not answer as Tor" "$WORK/doctor.out" || fail "no note: $(cat "$WORK/doctor.out")"
as anna group tor-only G on >/dev/null
stop_proxy

# The proxy answering an HTTP request the way Tor's SOCKS port does.
start_proxy tor
doctor_run
[ "$rc" -eq 0 ] || fail "a proxy answering as Tor is a problem (exit $rc): $(cat "$WORK/doctor.out")"
grep -q "^\[ok\] proxy: the proxy socks5://127.0.0.1:$PROXY_PORT answers as Tor" "$WORK/doctor.out" ||
  fail "doctor does not say the proxy answers as Tor: $(cat "$WORK/doctor.out")"
stop_proxy

# No proxy listening: said, and the relay is not reached.
doctor_run --timeout 2
[ "$rc" -eq 1 ] || fail "a proxy that is down is not a problem (exit $rc)"
grep -q "^\[PROBLEM\] proxy: the proxy socks5://127.0.0.1:$PROXY_PORT cannot be reached" "$WORK/doctor.out" ||
  fail "doctor does not say the proxy cannot be reached: $(cat "$WORK/doctor.out")"
grep -q "^\[PROBLEM\] relay: $ADDR cannot be reached" "$WORK/doctor.out" || fail "the relay is shown reachable without the proxy: $(cat "$WORK/doctor.out")"

command -v tor >/dev/null || fail "tor is not installed: run scripts/deps"
mkdir -m 700 "$WORK/tor"
printf 'SocksPort 127.0.0.1:%s\nDataDirectory %s\nLog notice file %s\n' "$PROXY_PORT" \
  "$WORK/tor/data" "$WORK/tor/tor.log" > "$WORK/tor/torrc"
tor -f "$WORK/tor/torrc" > "$WORK/tor/out" 2>&1 &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do grep -q "Opened Socks listener" "$WORK/tor/tor.log" 2>/dev/null && break; sleep 0.1; done
grep -q "Opened Socks listener" "$WORK/tor/tor.log" || fail "tor did not open its SOCKS port: $(cat "$WORK/tor/out" "$WORK/tor/tor.log")"
doctor_run --timeout 3
grep -q "^\[ok\] proxy: the proxy socks5://127.0.0.1:$PROXY_PORT answers as Tor" "$WORK/doctor.out" ||
  fail "doctor does not recognise a real Tor: $(cat "$WORK/doctor.out")"
grep -q "^\[PROBLEM\] relay: $ADDR cannot be reached" "$WORK/doctor.out" ||
  fail "the relay is not reported unreachable through a Tor without circuits: $(cat "$WORK/doctor.out")"
echo "doctor tells a SOCKS5 proxy that is not Tor from one that answers as Tor (and from a real Tor), and probes through it"
