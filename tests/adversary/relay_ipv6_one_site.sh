# Anyone who can reach a relay must not keep members off it (SECURITY.md, adversaries: "anyone
# who can reach a relay … cannot keep members off the relay"; row 50). The caps are per address
# (32), per /24 of IPv4 or /48 of IPv6 (128) and in all (1,024), and a session that opened a
# mailbox of its own — anyone can — is never evicted. The non-goals accept that this fails
# against such sessions "from many /24s". The IPv6 prefix was a /64, and one subscriber
# routinely holds a /56 (home ISPs) or a /48 (hosting): 256 or 65,536 /64s. So one attacker on
# ONE site fills the default relay — 32 addresses in 8 /64s of one /56, each session opening a
# mailbox of its own and pinging — and every member is refused before the handshake, for as long
# as the attacker likes. With IPv4 the same needs 8 separate /24s.
#
# Runs in a network namespace of its own (root): the relay listens on 2001:db8:ffff::1 with its
# default limits; the attacker dials from 2001:db8:0:P::H (P 1…8, H 1…4), all inside
# 2001:db8::/56; the members come from the relay's own address, another /48. Once the relay is
# full, members must still sync, each within 10 s. Exits 77 (skipped, loudly) without namespaces.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
skip() { echo "SKIP (loudly): $* — the IPv6 relay attack was NOT tested" >&2; exit 77; }
NS="kv6$$"
trap 'ip netns del "$NS" 2>/dev/null || true; cleanup' EXIT
ip netns add "$NS" 2>"$WORK/netns.err" || skip "the kernel refused a network namespace: $(cat "$WORK/netns.err")"
ip -n "$NS" link set lo up
ip -n "$NS" -6 addr add 2001:db8:ffff::1/128 dev lo nodad || skip "no IPv6 in the namespace"
from=""
for p in 1 2 3 4 5 6 7 8; do
  for h in 1 2 3 4; do
    ip -n "$NS" -6 addr add "2001:db8:0:$p::$h/128" dev lo nodad
    from+="2001:db8:0:$p::$h,"
  done
done
from=${from%,}
inns() { ip netns exec "$NS" "$@"; }

pass_file relay
( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec ip netns exec "$NS" "$KOLOKOL" relay \
    --listen "[2001:db8:ffff::1]:7400" --data "$WORK/relay" --kdf fast \
    > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
RELAY=$!
CLEANUP_PIDS+=("$RELAY")
for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
ADDR=$(head -1 "$WORK/relay.out")
[[ "$ADDR" == kolokol://* ]] || fail "the relay did not start: $(cat "$WORK/relay.err")"
# ip netns exec execs the relay, so $RELAY is its pid.
sockets() { ls -l "/proc/$RELAY/fd" 2>/dev/null | grep -c 'socket:' || true; }

new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
G="Strike committee"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$ADDR" >/dev/null
token=$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
inns env KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/anna.pass" "$KOLOKOL" sync >/dev/null \
  || fail "anna's sync failed before the attack"
inns env KOLOKOL_HOME="$WORK/boris" KOLOKOL_PASSPHRASE_FILE="$WORK/boris.pass" "$KOLOKOL" sync >/dev/null \
  || fail "boris's sync failed before the attack"
echo "ok: members sync through the relay before the attack"

# The attack: 1,100 sessions that each open a mailbox of their own, from one /56.
( exec ip netns exec "$NS" "$KOLOKOL_ADVERSARY" relay-silent "$ADDR" --sessions 1100 --from "$from" \
    --seconds 240 --open yes > "$WORK/silent.json" 2> "$WORK/silent.err" ) &
ATTACK=$!
CLEANUP_PIDS+=("$ATTACK")
# Relay-wide the attack could hold 1,024 sockets; one site may hold one prefix's share, 128 (plus
# the relay's own listening socket). Wait until what it holds stops growing.
n=0; last=-1; steady=0
for _ in $(seq 180); do
  n=$(sockets)
  kill -0 "$ATTACK" 2>/dev/null || fail "the attack ended early: $(cat "$WORK/silent.err")"
  if [ "$n" -ge 128 ] && [ "$n" -eq "$last" ]; then
    steady=$((steady + 1)); [ "$steady" -ge 5 ] && break
  else
    steady=0
  fi
  last=$n
  sleep 1
done
[ "$n" -ge 128 ] || fail "the attack never reached its site's share (sockets: $n); the test proves nothing"
[ "$n" -le 140 ] || fail "one /56 of IPv6 holds $n relay sockets, more than one prefix's share (128)"
echo "the attack holds $n relay sockets, every attacking session inside 2001:db8::/56"
sleep 12  # past the relay's 10 s deadline for opening a mailbox: what holds now holds for good

# timed WHO ARGS… — a sync by WHO under the attack; must succeed within 10 s.
timed() {
  local who=$1; shift
  local t0 rc=0
  t0=$(date +%s%N)
  inns env KOLOKOL_HOME="$WORK/$who" KOLOKOL_PASSPHRASE_FILE="$WORK/$who.pass" "$KOLOKOL" "$@" \
    > "$WORK/$who.sync.out" 2> "$WORK/$who.sync.err" || rc=$?
  local ms=$((($(date +%s%N) - t0) / 1000000))
  [ "$rc" -eq 0 ] || fail "$who is kept off the relay by one /56 of IPv6 (32 addresses, 8 /64s; relay sockets: $(sockets)): sync exit $rc after $ms ms: $(tr '\n' ' ' < "$WORK/$who.sync.err")"
  [ "$ms" -le 10000 ] || fail "$who's sync took $ms ms under the attack (at most 10 s)"
}
as anna post --no-send "$G" "Picket at gate 3 moved to 6am"
timed anna sync
timed boris sync
as boris read "$G" | grep -q "gate 3" || fail "boris did not receive anna's message"
echo "ok: members sync while one /56 holds every session it can"
