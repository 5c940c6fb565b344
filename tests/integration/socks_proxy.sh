# Sync and relay traffic through a real SOCKS5 proxy (Debian's dante-server), with no direct
# connection and no DNS lookup by kolokol. Two network namespaces joined by veth:
#   C (10.78.0.1): Boris's kolokol, a DNS "server" (python3) that logs every query it gets and
#                  answers NXDOMAIN — C's resolv.conf points at it;
#   P (10.78.0.2): danted on 10.78.0.2:1080, a relay and Anna's `serve` on P's own loopback
#                  (unreachable from C), and host names for them that only P's hosts file knows.
# Boris reaches both by name only through the proxy (--proxy, then `kolokol proxy set`); the
# DNS log stays empty; the proxy's log shows each connection. As a control, without the proxy
# the same sync fails and the DNS log shows the lookup — so the detector is shown to work.
# Needs root and network namespaces: without them it says so loudly and exits 77 (skipped).
source "$(dirname "$0")/lib.bash"

skip() { echo "SKIP (loudly): $* — the SOCKS5 path was NOT tested" >&2; exit 77; }
fail() {
  echo "FAIL: $*" >&2
  for f in "$WORK"/*.log "$WORK"/*.err; do [ -f "$f" ] && { echo "--- $(basename "$f")" >&2; tail -15 "$f" >&2; }; done
  exit 1
}
[ "$(id -u)" -eq 0 ] || skip "not root: cannot create network namespaces"
command -v danted >/dev/null || skip "danted (dante-server) is not installed: run scripts/deps"
command -v python3 >/dev/null || skip "python3 is not installed"

TAG="ks$$"
C="${TAG}c"; P="${TAG}p"
net_cleanup() {
  ip netns del "$C" 2>/dev/null || true
  ip netns del "$P" 2>/dev/null || true
  rm -rf "/etc/netns/$C" "/etc/netns/$P"
}
trap 'cleanup; net_cleanup' EXIT
ip netns add "$C" 2>"$WORK/netns.err" || skip "the kernel refused a network namespace: $(cat "$WORK/netns.err")"
ip netns add "$P"
ip link add "${TAG}a" type veth peer name "${TAG}b"
ip link set "${TAG}a" netns "$C"; ip link set "${TAG}b" netns "$P"
ip -n "$C" addr add 10.78.0.1/24 dev "${TAG}a"; ip -n "$C" link set "${TAG}a" up; ip -n "$C" link set lo up
ip -n "$P" addr add 10.78.0.2/24 dev "${TAG}b"; ip -n "$P" link set "${TAG}b" up; ip -n "$P" link set lo up
# `ip netns exec` bind-mounts /etc/netns/NAME/* over /etc: per-namespace hosts and resolv.conf.
mkdir -p "/etc/netns/$C" "/etc/netns/$P"
printf '127.0.0.1 localhost\n' > "/etc/netns/$C/hosts"
printf 'nameserver 10.78.0.1\noptions timeout:1 attempts:1\n' > "/etc/netns/$C/resolv.conf"
printf '127.0.0.1 localhost\n127.0.0.1 relay.kolokol-test.invalid\n127.0.0.1 anna.kolokol-test.invalid\n' > "/etc/netns/$P/hosts"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > "/etc/netns/$P/resolv.conf"
inC() { ip netns exec "$C" env KOLOKOL_HOME="$WORK/$1" KOLOKOL_PASSPHRASE_FILE="$WORK/$1.pass" "$KOLOKOL" "${@:2}"; }
inP() { ip netns exec "$P" env KOLOKOL_HOME="$WORK/$1" KOLOKOL_PASSPHRASE_FILE="$WORK/$1.pass" "$KOLOKOL" "${@:2}"; }

# The DNS detector in C.
cat > "$WORK/dns.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.78.0.1", 53))
log = open(sys.argv[1], "a", buffering=1)
while True:
    q, frm = s.recvfrom(512)
    if len(q) < 12: continue
    i, labels = 12, []
    while i < len(q) and q[i] != 0:
        labels.append(q[i + 1:i + 1 + q[i]].decode(errors="replace")); i += 1 + q[i]
    log.write(".".join(labels) + "\n")
    # NXDOMAIN: same id, QR=1 RD RA, RCODE 3, the question echoed.
    s.sendto(q[:2] + b"\x81\x83" + q[4:6] + b"\x00\x00\x00\x00\x00\x00" + q[12:i + 5], frm)
EOF
: > "$WORK/dns.queries"
( exec ip netns exec "$C" python3 "$WORK/dns.py" "$WORK/dns.queries" ) 2>"$WORK/dns.err" &
CLEANUP_PIDS+=("$!")

# dante in P, logging every connection.
cat > "$WORK/danted.conf" <<EOF
logoutput: $WORK/danted.log
internal: 10.78.0.2 port = 1080
external: 127.0.0.1
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
  from: 10.78.0.0/24 to: 0.0.0.0/0
  log: connect disconnect error
}
socks pass {
  from: 10.78.0.0/24 to: 127.0.0.0/8
  command: connect
  log: connect disconnect error
}
EOF
( exec ip netns exec "$P" danted -f "$WORK/danted.conf" -p "$WORK/danted.pid" ) 2>"$WORK/danted.err" &
CLEANUP_PIDS+=("$!")

# The relay in P, on P's loopback.
pass_file relay
RPORT=$(pick_port)
( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec ip netns exec "$P" env KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" \
    "$KOLOKOL" relay --listen "127.0.0.1:$RPORT" --data "$WORK/relaydata" --kdf fast > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
RKEY=$(head -1 "$WORK/relay.out" | sed 's|.*/||')
[ -n "$RKEY" ] || fail "the relay did not start"
RELAY="kolokol://relay.kolokol-test.invalid:$RPORT/$RKEY"
for _ in $(seq 50); do ip netns exec "$C" bash -c "exec 3<>/dev/tcp/10.78.0.2/1080" 2>/dev/null && break; sleep 0.1; done

new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
G="Support group Omega"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
token=$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
# Anna is in P, where the relay's name resolves: her post goes to it directly.
inP anna post "$G" "through the relay, via the proxy" >/dev/null
inP anna sync >/dev/null 2>"$WORK/anna_sync.err" || fail "anna (in P) could not sync with the relay directly"

# Control: without a proxy Boris cannot reach the relay, and his lookup shows in the DNS log.
rc=0; inC boris sync >/dev/null 2>"$WORK/control.err" || rc=$?
[ "$rc" -eq 9 ] || fail "a direct sync from C should fail with exit 9, got $rc"
grep -q "relay.kolokol-test.invalid" "$WORK/dns.queries" || fail "the DNS detector saw no query (the control failed)"
echo "ok: control — directly, the name is looked up (and fails): $(head -1 "$WORK/dns.queries")"
: > "$WORK/dns.queries"

# 1. Relay traffic through the proxy (--proxy).
inC boris sync --json --proxy socks5://10.78.0.2:1080 > "$WORK/boris1.json" 2>"$WORK/boris1.err" \
  || fail "boris could not sync with the relay through the proxy: $(cat "$WORK/boris1.err")"
grep -q '"failed":0' "$WORK/boris1.json" || fail "boris's sync failed: $(cat "$WORK/boris1.json")"
inC boris read "$G" | grep -q "through the relay, via the proxy" || fail "boris did not get anna's message"
echo "ok: relay traffic through dante"

# 2. A peer's `serve` through the proxy, with the proxy set in the store this time.
inC boris proxy set socks5://10.78.0.2:1080 >/dev/null
inC boris proxy show | grep -qx "socks5://10.78.0.2:1080" || fail "the proxy setting did not stick"
inC boris post "$G" "to anna directly, via the proxy"
( exec ip netns exec "$P" env KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/anna.pass" \
    "$KOLOKOL" serve --listen "127.0.0.1:0" > "$WORK/anna_serve.out" 2>"$WORK/anna_serve.err" ) &
SERVE=$!; CLEANUP_PIDS+=("$SERVE")
for _ in $(seq 100); do [ -s "$WORK/anna_serve.out" ] && break; sleep 0.1; done
PEER=$(head -1 "$WORK/anna_serve.out" | sed 's|kolokol://127.0.0.1:|kolokol://anna.kolokol-test.invalid:|')
[[ "$PEER" == kolokol://anna.kolokol-test.invalid:* ]] || fail "anna's serve did not start"
inC boris sync --group "$G" "$PEER" >/dev/null 2>"$WORK/boris2.err" || fail "boris could not sync with anna through the proxy"
kill -TERM "$SERVE"; wait "$SERVE" 2>/dev/null || true
as anna read "$G" | grep -q "to anna directly, via the proxy" || fail "anna did not get boris's message"
echo "ok: peer traffic through dante, with the proxy from \`kolokol proxy set\`"

# Nothing was looked up by name in C, and dante carried both connections.
[ ! -s "$WORK/dns.queries" ] || fail "DNS queries left C while a proxy was set: $(cat "$WORK/dns.queries")"
n=$(grep -c "pass(1): tcp/connect \]: .* 10.78.0.1\.[0-9]* 10.78.0.2.1080 -> .* 127.0.0.1\.\(${RPORT}\|[0-9]*\)" "$WORK/danted.log" || true)
[ "$n" -ge 2 ] || fail "dante's log shows $n proxied connections, expected at least 2"
grep -q "127.0.0.1.$RPORT" "$WORK/danted.log" || fail "dante's log does not show the relay connection"
echo "ok: no DNS query left C; dante's log shows $n proxied connections"

# A proxy that is down: the sync fails, and still nothing is tried directly or looked up.
inC boris proxy set socks5://10.78.0.2:1081 >/dev/null
rc=0; inC boris sync >/dev/null 2>"$WORK/down.err" || rc=$?
[ "$rc" -eq 9 ] || fail "with the proxy down the sync should fail with exit 9, got $rc"
grep -q "SOCKS5 proxy socks5://10.78.0.2:1081" "$WORK/down.err" || fail "the error does not name the proxy: $(cat "$WORK/down.err")"
[ ! -s "$WORK/dns.queries" ] || fail "a DNS query left C with the proxy down: $(cat "$WORK/dns.queries")"
echo "ok: with the proxy down nothing falls back to a direct connection: $(head -1 "$WORK/down.err")"
