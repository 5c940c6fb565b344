# Row 50 behind a web server: a relay run with --ws-path caps sessions per client address (32)
# and per client /24 (128), the client named by X-Real-IP, which nginx sets as README.md says.
# The relay's Server counts each session against that client (ClientOrigins), and the gateway
# in front of it counts the upgrades it carries the same way, before it dials the Server: an
# upgrade over its client's cap gets the 404 any other request gets. When the gateway took
# connections up to --max-sessions from all clients together, one address held every one of
# them (64 of 64, 352 upgrades) and both members were refused on every try.
# One address that knows the secret path (the web server, a CDN, any member or anyone who has
# seen an address) opens WebSocket upgrades through nginx and then says nothing — no Noise
# handshake, not even a close frame — and dials again whatever the relay closes. Members come
# from another /24 (127.0.0.1, the attacker from 127.0.5.1), which row 50 says the attack does
# not touch: their syncs must go through within 10 s.
# The relay has 64 slots rather than 1,024 so that one process fills them quickly; the attack is
# the same with more slots and more connections.
source "$(dirname "$0")/../integration/lib.bash"
HOLD="$(dirname "$0")/../support/wss_hold.py"
source "$(dirname "$0")/lib_wss.bash"
wss_start --max-sessions 64
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
G="Support group Omega"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$ADDR" >/dev/null
token=$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
as anna sync >/dev/null || fail "anna's first sync failed before the attack"
as boris sync >/dev/null || fail "boris's first sync failed before the attack"
echo "ok: both members sync through nginx before the attack"
seq 1 20 | sed 's/^/under siege /' | as anna post "$G" --each-line --no-send 2>/dev/null

# One address, 160 attempts at once, for 75 s (past both members' tries).
python3 "$HOLD" "$tls_port" "$WORK/pki/ca.pem" "$secret" 127.0.5.1 160 75 "$WORK/hold.json" &
ATTACK_PID=$!
CLEANUP_PIDS+=("$ATTACK_PID")
sleep 15
kill -0 "$ATTACK_PID" 2>/dev/null || fail "the attack ended early"

# timed WHO ARGS… — as in relay_silent_sessions.sh: a sync must succeed within 10 s (three
# tries, so that one unlucky moment is not taken for the attack).
timed() {
  local who=$1; shift
  local t0 t1 rc
  for try in 1 2 3; do
    rc=0
    t0=$(date +%s%N)
    as "$who" "$@" > "$WORK/$who.sync.out" 2> "$WORK/$who.sync.err" || rc=$?
    t1=$(date +%s%N)
    local ms=$(( (t1 - t0) / 1000000 ))
    if [ "$rc" -eq 0 ] && [ "$ms" -le 10000 ]; then echo "$ms"; return 0; fi
    echo "  $who's sync, try $try: exit $rc after $ms ms: $(tr '\n' ' ' < "$WORK/$who.sync.err" | cut -c1-200)" >&2
    sleep 2
  done
  return 1
}
broken=0
anna_ms=$(timed anna sync) || broken=1
boris_ms=$(timed boris sync) || broken=1
wait "$ATTACK_PID" || true
echo "attack (one address, 127.0.5.1): $(cat "$WORK/hold.json" 2>/dev/null)"
echo "anna's sync: ${anna_ms:-refused on all three tries} ms; boris's: ${boris_ms:-refused on all three tries} ms"
if [ "$broken" -ne 0 ]; then
  fail "row 50: one address holding silent WebSocket upgrades through nginx kept members of another /24 off the relay"
fi
n=$(as boris read "$G" --limit 1000 --json | grep -c '"text": "under siege ' || true)
[ "$n" -eq 20 ] || fail "boris received $n of the 20 messages"
echo "ok: under the attack anna sent in $anna_ms ms and boris received in $boris_ms ms"
