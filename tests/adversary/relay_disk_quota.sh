# A relay's disk as a whole: a flood of new mailboxes (anyone can make one: a mailbox is opened
# by proof of a key the client makes itself) cannot grow the relay's data past its store quota.
# kolokol-adversary pushes 64 envelopes of 1 KiB to each of 200 new mailboxes (12.5 MiB) at a
# relay whose store may hold 8 MiB: what goes over is declined and never acknowledged as stored,
# the data directory stays under the quota plus one batch (the quota is checked per batch, at
# most a session's 1 MiB window) and the WAL's 4 MiB, and after a kill -9 and a restart every
# envelope the relay acknowledged is still there, and the quota still holds.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
quota=$((8 << 20))
pass_file relay
port=$(pick_port)
start_relay() {
  ( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
      --data "$WORK/relay" --kdf fast --store-max-bytes "$quota" > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
  RELAY_PID=$!
  CLEANUP_PIDS+=("$RELAY_PID")
  for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
  ADDR=$(head -1 "$WORK/relay.out")
  [[ "$ADDR" == kolokol://* ]] || fail "relay did not start: $(cat "$WORK/relay.err")"
}
# data_bytes — the size of every file in the relay's data directory.
data_bytes() { find "$WORK/relay" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }

start_relay
adv relay-quota "$ADDR" --mailboxes 200 --envelopes 64 --size 1024 --state "$WORK/state.json" \
  > "$WORK/flood.json" || fail "the flood failed: $(cat "$WORK/flood.json")"
cat "$WORK/flood.json"
acked=$(field "$WORK/flood.json" acked)
acked_bytes=$(field "$WORK/flood.json" acked_bytes)
declined=$(field "$WORK/flood.json" declined)
[ "$declined" -gt 0 ] || fail "the relay took all 12.5 MiB with a quota of 8 MiB"
[ "$acked" -gt 0 ] || fail "the relay took nothing at all"
[ "$acked_bytes" -le "$quota" ] || fail "the relay acknowledged $acked_bytes envelope bytes past its quota of $quota"
size=$(data_bytes)
# The quota counts the database's pages in use, checked before each batch; beyond it the data
# directory holds at most one batch (≤ 1 MiB), the WAL (cut back to 4 MiB after each
# checkpoint), its index (-shm, 32 KiB) and the key file.
limit=$((quota + (1 << 20) + (4 << 20) + (64 << 10)))
echo "relay data: $size bytes after $acked acknowledged envelopes ($acked_bytes bytes); limit $limit"
[ "$size" -le "$limit" ] || fail "the relay's data grew to $size bytes (quota $quota, limit $limit)"
echo "ok: $declined envelopes declined at the quota, data $size bytes"

# Over the quota even a mailbox the relay already keeps gets nothing more.
adv relay-quota "$ADDR" --mailboxes 1 --envelopes 16 --size 1024 --state "$WORK/more.json" > "$WORK/more.out"
[ "$(field "$WORK/more.out" acked)" -eq 0 ] || fail "the relay took more past its quota: $(cat "$WORK/more.out")"

kill -9 "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true
start_relay
adv relay-verify "$ADDR" --state "$WORK/state.json" > "$WORK/verify.json" \
  || fail "acknowledged envelopes were lost: $(cat "$WORK/verify.json")"
[ "$(field "$WORK/verify.json" acked)" -eq "$acked" ] || fail "verified $(cat "$WORK/verify.json"), acknowledged $acked"
echo "ok: all $acked acknowledged envelopes survive kill -9 and a restart"
adv relay-quota "$ADDR" --mailboxes 4 --envelopes 16 --size 1024 --state "$WORK/after.json" > "$WORK/after.out"
[ "$(field "$WORK/after.out" acked)" -eq 0 ] || fail "after a restart the relay forgot its quota: $(cat "$WORK/after.out")"
echo "ok: the quota holds across the restart"
