# Freeze-tolerant sync (DESIGN §9.14): a relay in one network namespace, a fresh
# member in another, joined by a veth pair at MTU 1500. An nftables rule in the member's
# namespace drops every packet of a connection to the relay once 16 KiB have come from the
# relay's side (`ct reply bytes gt 16384 drop`): no reset, the data just stops, as behind the
# national filter. The member syncs N messages and an attachment through it (a kill -9 of its
# first sync in the middle, then of the relay in the middle of the next, which tries again
# until the relay is back), and gets them
# byte-identical, nothing lost or duplicated; sync -v and doctor say short connections are used.
# Needs root, network namespaces and nftables: without them it says so loudly and exits 77.
source "$(dirname "$0")/lib.bash"
N=${KOLOKOL_FREEZE_MESSAGES:-2000}
MIB=${KOLOKOL_FREEZE_MIB:-5}
LIMIT=16384

fail() {
  echo "FAIL: $*" >&2
  for f in "$WORK"/*.err "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $(basename "$f")" >&2; tail -20 "$f" >&2; }; done
  exit 1
}
skip() { echo "SKIP (loudly): $* — freeze-tolerant sync was NOT tested" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "not root: cannot create network namespaces"
command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
command -v nft >/dev/null || skip "nftables (nft) is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"

source "$(dirname "$0")/lib_veth.bash"
trap 'cleanup; net_cleanup' EXIT
veth_up

pass_file relay
port=7443
# ns_relay — starts the relay in its namespace (again after a kill, on the same data and port);
# sets RELAY_PID and ADDR.
ns_relay() {
  : > "$WORK/relay.out"
  ( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec ip netns exec "$RNS" "$KOLOKOL" relay \
      --listen "10.89.0.1:$port" --data "$WORK/relay" --kdf fast > "$WORK/relay.out" 2>>"$WORK/relay.err" ) &
  RELAY_PID=$!
  CLEANUP_PIDS+=("$RELAY_PID")
  for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
  ADDR=$(head -1 "$WORK/relay.out")
  [[ "$ADDR" == kolokol://* ]] || fail "relay did not start: $(cat "$WORK/relay.err")"
}
ns_relay

# The freeze, in the member's namespace (lib_veth.bash): once the relay's side has sent 16 KiB,
# every packet of the connection is dropped both ways.
freeze_on "$port" "$LIMIT"

# in_relay/in_member WHO ARGS… — kolokol as a member, in one namespace or the other.
in_relay() { local who=$1; shift; KOLOKOL_HOME="$WORK/$who" KOLOKOL_PASSPHRASE_FILE="$WORK/$who.pass" ip netns exec "$RNS" "$KOLOKOL" "$@"; }
in_member() { local who=$1; shift; KOLOKOL_HOME="$WORK/$who" KOLOKOL_PASSPHRASE_FILE="$WORK/$who.pass" ip netns exec "$CNS" "$KOLOKOL" "$@"; }
json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

G="Support group Omega"
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$ADDR" >/dev/null
token=$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
# Anna, beside the relay (no freeze), writes N messages and attaches a file, and syncs.
seq 1 "$N" | sed 's/^/message number /' | as anna post "$G" --each-line --no-send 2>/dev/null
as anna case open "$G" --person "Ivan" > "$WORK/open"
CASE=$(sed -n 's/^Case \([0-9a-f]*\) created\.$/\1/p' "$WORK/open")
head -c $((MIB << 20)) /dev/urandom > "$WORK/video.mp4"
as anna case attach "$G" "$CASE" "$WORK/video.mp4" --type video/mp4 >/dev/null
in_relay anna sync > "$WORK/anna_sync.log" 2>&1 || fail "anna's sync beside the relay failed"
echo "ok: $N messages and a $MIB MiB attachment are at the relay"
# Boris as he is now, fresh, for the lossy link at the end.
cp -a "$WORK/boris" "$WORK/fresh"
cp "$WORK/boris.pass" "$WORK/fresh.pass"

# Boris's first sync through the freeze must see it within seconds (5 s without progress),
# go on in short connections, and is killed -9 in the middle of those.
start=$(date +%s.%N)
( KOLOKOL_HOME="$WORK/boris" KOLOKOL_PASSPHRASE_FILE="$WORK/boris.pass" exec ip netns exec "$CNS" \
    "$KOLOKOL" sync -v > "$WORK/boris_first.log" 2>&1 ) & sync_pid=$!
# It goes on in short connections as soon as the connection goes quiet (the hedge, printed
# first; the freeze is confirmed later, at the progress timeout), and is killed -9 soon after:
# on a quiet machine the whole sync ends about a second after the hedge.
for _ in $(seq 300); do grep -q "went quiet" "$WORK/boris_first.log" && break; sleep 0.02; done
quiet=$(date +%s.%N)
grep -q "went quiet" "$WORK/boris_first.log" || fail "boris's first sync did not go on at once when its connection went quiet (no hedge): $(tail -5 "$WORK/boris_first.log")"
echo "ok: boris's first sync went on in short connections $(awk -v a="$start" -v b="$quiet" 'BEGIN { printf "%.2f", b - a }') s after it started: $(grep "went quiet" "$WORK/boris_first.log" | head -1)"
sleep "${KOLOKOL_FREEZE_KILL_AFTER:-0.3}"
kill -0 "$sync_pid" 2>/dev/null || fail "boris's first sync ended before it could be killed in its middle: $(tail -5 "$WORK/boris_first.log")"
kill -9 "$sync_pid"
wait "$sync_pid" 2>/dev/null || true
echo "ok: boris's first sync killed -9 ${KOLOKOL_FREEZE_KILL_AFTER:-0.3} s after that"
# Since the first sync goes on in short connections at once (the hedge), it has fetched most of
# the relay's data by then; Anna adds more, so the second sync has enough to do for the relay
# to be killed in its middle.
LATE=${KOLOKOL_FREEZE_LATE:-800}
seq 1 "$LATE" | sed 's/^/late message number /' | as anna post "$G" --each-line --no-send 2>/dev/null
in_relay anna sync >> "$WORK/anna_sync.log" 2>&1 || fail "anna's second sync beside the relay failed"

# The next sync goes on in short connections (at once if the first confirmed the freeze before
# its kill, else at its own hedge); the relay is killed -9 in its middle, once Boris has stored
# some of it, and started again on the same data.
stored_now() { in_member boris read "$G" --limit 100000 --json 2>/dev/null | grep -c '"text"' || true; }
before_second=$(stored_now)
( KOLOKOL_HOME="$WORK/boris" KOLOKOL_PASSPHRASE_FILE="$WORK/boris.pass" exec ip netns exec "$CNS" \
    "$KOLOKOL" sync -v > "$WORK/boris_second.log" 2>&1 ) & sync_pid=$!
# Counted from its first line about short connections (printed as it starts them), not from
# the process's start: on a fast machine the whole sync took under 0.75 s from there.
for _ in $(seq 200); do grep -q "short connections" "$WORK/boris_second.log" && break; sleep 0.05; done
sleep "${KOLOKOL_FREEZE_RELAY_KILL_AFTER:-0.15}"
kill -0 "$sync_pid" 2>/dev/null || fail "boris's second sync ended before the relay could be killed in its middle: $(tail -5 "$WORK/boris_second.log")"
kill -9 "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null || true
# Started again at once on the same data and port: the sync, which had carried something,
# tries its refused connections again after a pause (250 ms, doubled each time) and ends
# by itself, with everything.
ns_relay
rc=0
wait "$sync_pid" 2>/dev/null || rc=$?
grep -q "short connections" "$WORK/boris_second.log" || fail "the second sync did not start in short connections: $(tail -5 "$WORK/boris_second.log")"
[ "$rc" -eq 0 ] || fail "boris's second sync did not outlast the relay's restart (exit $rc): $(tail -5 "$WORK/boris_second.log")"
grep -q "trying again in" "$WORK/boris_second.log" || fail "the second sync did not say it tried the relay again: $(tail -5 "$WORK/boris_second.log")"
after_second=$(stored_now)
[ "$after_second" -eq $((N + LATE)) ] || fail "boris's second sync ended with $after_second messages, not $((N + LATE))"
echo "ok: the relay killed -9 in the middle of boris's second sync (messages held: $before_second before it) and started again; the sync tried again ($(grep -c "trying again in" "$WORK/boris_second.log") retries) and ended with all $after_second"

# Then one sync, bounded in time, must bring everything.
rc=0
timeout 240 bash -c 'KOLOKOL_HOME="$1/boris" KOLOKOL_PASSPHRASE_FILE="$1/boris.pass" ip netns exec "$2" "$3" sync -v' _ \
  "$WORK" "$CNS" "$KOLOKOL" > "$WORK/boris_sync.log" 2>&1 || rc=$?
end=$(date +%s.%N)
[ "$rc" -eq 0 ] || fail "boris's sync through the freeze exited $rc: $(tail -5 "$WORK/boris_sync.log")"
echo "boris: synced through the freeze in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s (all three runs)"
drops=$(ip netns exec "$CNS" nft list chain inet freeze in | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
[ "${drops:-0}" -gt 0 ] || fail "the freeze rule dropped nothing: the test did not test a freeze"
dials=$(ip netns exec "$CNS" nft list counter inet freeze dials | sed -n 's/.*packets \([0-9]*\).*/\1/p')
echo "ok: the freeze rule dropped $drops packets; boris opened $dials connections to the relay"
echo "boris's last sync: $(grep -i '^Synced' "$WORK/boris_sync.log" || tail -1 "$WORK/boris_sync.log")"

in_member boris read "$G" --limit 100000 --json | grep '"text"' | sed 's/.*"text": "\(.*\)".*/\1/' > "$WORK/boris.msgs"
{ seq 1 "$N" | sed 's/^/message number /'; seq 1 "$LATE" | sed 's/^/late message number /'; } | sort > "$WORK/expected.msgs"
[ "$(wc -l < "$WORK/boris.msgs")" -eq $((N + LATE)) ] || fail "boris sees $(wc -l < "$WORK/boris.msgs") messages, not $((N + LATE))"
sort "$WORK/boris.msgs" | cmp -s - "$WORK/expected.msgs" || fail "boris's messages differ from what anna wrote (lost or duplicated)"
echo "ok: $((N + LATE)) messages, none lost or duplicated"

in_member boris attachment list "$G" --json > "$WORK/att.json"
[ "$(json_field 'len(d)' < "$WORK/att.json")" = 1 ] || fail "boris lists $(json_field 'len(d)' < "$WORK/att.json") attachments, not 1"
[ "$(json_field 'd[0]["complete"]' < "$WORK/att.json")" = True ] || fail "the attachment is incomplete: $(cat "$WORK/att.json")"
AID=$(json_field 'd[0]["id"][:12]' < "$WORK/att.json")
in_member boris attachment get "$G" "$AID" -o "$WORK/out.mp4" >/dev/null
cmp "$WORK/video.mp4" "$WORK/out.mp4" || fail "the attachment is not byte-identical"
echo "ok: the $MIB MiB attachment is byte-identical"

# The member noticed the freeze and said so; doctor remembers it for the relay.
grep -q "short connections" "$WORK/boris_sync.log" || fail "sync -v did not say it used short connections: $(tail -5 "$WORK/boris_sync.log")"
in_member boris doctor > "$WORK/doctor.log" 2>&1 || true
grep -q "froze after about" "$WORK/doctor.log" || fail "doctor does not mention the freeze: $(cat "$WORK/doctor.log")"
echo "ok: sync -v and doctor report the freeze and the short connections"

# A lost segment is not a freeze. Without the freeze, the same namespace drops the 8th packet
# from the relay's side of every connection (TCP sends it again): Boris's copy from before his
# first sync syncs everything, and neither goes on in short connections nor remembers a freeze.
freeze_off
ip netns exec "$CNS" nft -f - <<NFT || fail "nft refused the loss rule"
table inet loss {
  chain in {
    type filter hook input priority 0; policy accept;
    ip saddr 10.89.0.1 tcp sport $port ct reply packets 8 counter drop
  }
}
NFT
in_member fresh sync -v > "$WORK/fresh_sync.log" 2>&1 || fail "the sync over the lossy link failed: $(tail -5 "$WORK/fresh_sync.log")"
lost=$(ip netns exec "$CNS" nft list chain inet loss in | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
[ "${lost:-0}" -gt 0 ] || fail "the loss rule dropped nothing: the test did not test a lost segment"
n=$(in_member fresh read "$G" --limit 100000 --json | grep -c '"text": "message number ' || true)
[ "$n" -eq "$N" ] || fail "the lossy sync brought $n of $N messages"
in_member fresh attachment list "$G" --json | grep -q '"complete": true' || fail "the lossy sync left the attachment incomplete"
! grep -qiE "went quiet|froze|short connections" "$WORK/fresh_sync.log" || fail "a lost segment was taken for a freeze: $(grep -iE "went quiet|froze|short connections" "$WORK/fresh_sync.log" | head -3)"
in_member fresh doctor > "$WORK/fresh_doctor.log" 2>&1 || true
! grep -q "froze after about" "$WORK/fresh_doctor.log" || fail "doctor remembers a freeze after a lost segment: $(grep "froze" "$WORK/fresh_doctor.log")"
echo "ok: $lost lost segments (one per connection) were not taken for a freeze: all $N messages and the attachment came in long sessions"
