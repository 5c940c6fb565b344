# A relay's onion address is looked up in the open DNS (no numbered row: the asset is "who talks
# to whom"; the README offers "an onion name" as a relay's further address for when its IP is
# blocked). Without a proxy set, in a group that is not Tor only, `doctor` probes every address
# of every relay and `post`/`sync` fall back to the next address when one fails: for an .onion
# name both ask the system resolver, so whoever watches the member's DNS (the ISP, the state)
# gets the relay's onion name from the member's address — at every `doctor`, and at every
# write once the relay's IP is blocked, which is when the onion address is meant to help. An
# onion name is never resolvable (RFC 7686): the lookup can only leak.
# Namespace C: Anna's kolokol and the relay on loopback, and a DNS "server" that logs every
# query (resolv.conf points at it). A fix: never resolve a .onion host without a proxy — pass
# the address over ("needs Tor") in doctor, sync, the send-now and the sync service.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root for a network namespace"
C="ko$$c"
net_cleanup() { ip netns del "$C" 2>/dev/null || true; rm -rf "/etc/netns/$C"; }
trap 'cleanup; net_cleanup' EXIT
ip netns add "$C" 2>"$WORK/netns.err" || skip "the kernel refused a network namespace: $(cat "$WORK/netns.err")"
ip -n "$C" link set lo up
ip -n "$C" link add d0 type veth peer name d1
ip -n "$C" addr add 10.79.0.1/24 dev d0
ip -n "$C" link set d0 up; ip -n "$C" link set d1 up
# `ip netns exec` bind-mounts /etc/netns/NAME/* over /etc.
mkdir -p "/etc/netns/$C"
printf '127.0.0.1 localhost\n' > "/etc/netns/$C/hosts"
printf 'nameserver 10.79.0.1\noptions timeout:1 attempts:1\n' > "/etc/netns/$C/resolv.conf"
cat > "$WORK/dns.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.79.0.1", 53))
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
PY
: > "$WORK/dns.queries"
( exec ip netns exec "$C" python3 "$WORK/dns.py" "$WORK/dns.queries" ) 2>"$WORK/dns.err" &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do ip netns exec "$C" ss -uln | grep -q "10.79.0.1:53 " && break; sleep 0.1; done
inC() { ip netns exec "$C" env KOLOKOL_HOME="$WORK/$1" KOLOKOL_PASSPHRASE_FILE="$WORK/$1.pass" "$KOLOKOL" "${@:2}"; }
pass_file relay
port=$(pick_port)
( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec ip netns exec "$C" "$KOLOKOL" relay \
    --listen "127.0.0.1:$port" --data "$WORK/relay" --kdf fast > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
relay_pid=$!
CLEANUP_PIDS+=("$relay_pid")
for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
RELAY=$(head -1 "$WORK/relay.out")
[[ "$RELAY" == kolokol://* ]] || fail "relay did not start: $(cat "$WORK/relay.err")"
HOST="vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd.onion"
G="Legal support"
new_member anna Anna
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
as anna group relay add-address "$G" "kolokol://$HOST:443/${RELAY##*/}" >/dev/null

# Control: the detector sees a lookup of an ordinary name.
inC anna sync --group "$G" "kolokol://relay.kolokol-test.invalid:$port/${RELAY##*/}" >/dev/null 2>&1 || true
grep -q "relay.kolokol-test.invalid" "$WORK/dns.queries" || fail "the DNS detector saw no query (the control failed)"
: > "$WORK/dns.queries"

inC anna doctor >/dev/null 2>&1 || true
! grep -qF "$HOST" "$WORK/dns.queries" \
  || problem "doctor looked the relay's onion name up in the open DNS: $(sort -u "$WORK/dns.queries" | tr '\n' ' ')"
: > "$WORK/dns.queries"
# The relay's IP "blocked": the write falls back to the onion address.
kill -9 "$relay_pid"; wait "$relay_pid" 2>/dev/null || true
inC anna post "$G" "hello" >/dev/null 2>&1 || true
! grep -qF "$HOST" "$WORK/dns.queries" \
  || problem "post looked the relay's onion name up in the open DNS when its first address failed"
finish
