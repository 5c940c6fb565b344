# Another local user passes doctor's Tor check (no numbered row; the adversary is "another local
# user" of SECURITY.md, and the check is what a Tor-only group's member is told to rely on).
# While Tor is not listening — not started yet at boot, restarting, crashed — any user can bind
# its SOCKS port; a SOCKS5 proxy of his that answers an HTTP request with Tor's status line
# ("HTTP/1.0 501 Tor is not an HTTP Proxy") is reported by `kolokol doctor` as "[ok] proxy …
# answers as Tor", and then sees every relay address the member connects to, from the member's
# own address. Here the squatter is a 10-line script run as `nobody`.
# doctor reads who listens on the proxy's port (/proc/net/tcp gives the listening socket's uid
# to anyone): neither Tor's user (debian-tor), the member nor root is a problem.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root to run the squatter as nobody"
command -v setpriv >/dev/null || skip "setpriv is not installed"
PY=$(command -v python3)
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3  # readable by nobody, unlike a per-user install
port=$(pick_port)
cat > "$WORK/squatter.py" <<'PYEOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
while True:
    c, _ = s.accept()
    if c.recv(64)[:1] in (b"G", b"H", b"P", b"C"):
        c.sendall(b"HTTP/1.0 501 Tor is not an HTTP Proxy\r\nContent-Type: text/html\r\n\r\n")
    c.close()
PYEOF
chmod 755 "$WORK"; chmod 644 "$WORK/squatter.py"
( exec setpriv --reuid=nobody --regid=nogroup --clear-groups "$PY" "$WORK/squatter.py" "$port" ) \
  2>"$WORK/squatter.err" &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do ss -tln | grep -q "127.0.0.1:$port " && break; sleep 0.1; done
ss -tlnH "sport = :$port" | grep -q . || fail "the squatter did not start: $(cat "$WORK/squatter.err")"
new_member anna Anna
as anna group create "Legal support" >/dev/null
as anna group tor-only "Legal support" on >/dev/null
as anna proxy set "socks5://127.0.0.1:$port" >/dev/null
out=$(as anna doctor 2>&1 || true)
grep -F "proxy" <<<"$out" | head -3
grep -q "proxy" <<<"$out" || fail "doctor said nothing about the proxy: $out"
! grep -qF "[ok] proxy" <<<"$out" \
  || problem "doctor reports another user's listener on the proxy port as Tor: $(grep -F '[ok] proxy' <<<"$out")"
finish
