# Finding 3b: reconciliations must not grow a relay's memory without bound. kolokol-adversary
# fills a mailbox of its own with 100,000 tiny envelopes, then 256 sessions (from 8 loopback
# /24s) each keep a reconciliation of it going with rounds built to cost the relay as much as
# one message can, for 30 s (all 256 started before the rounds begin). The relay stays under 256 MiB of resident memory throughout (its
# VmHWM, and VmRSS sampled every 0.2 s), and within 64 MiB of where it started once the attack
# ends.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
bound_mib=256
back_mib=64
# The sanitizers' shadow memory and quarantine multiply the footprint, and what the relay frees
# stays resident in them: ASan holds up to 256 MiB of freed blocks in its quarantine, and neither
# sanitizer's allocator hands freed pages back as glibc does. The plain build checks both bounds
# as stated above.
if grep -qs 'KOLOKOL_SANITIZE:BOOL=ON\|KOLOKOL_TSAN:BOOL=ON' "${KOLOKOL_BUILD:-/nonexistent}/CMakeCache.txt"; then
  bound_mib=2048
  back_mib=$((64 + 256))
fi
pass_file relay
port=$(pick_port)
( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
    --data "$WORK/relay" --kdf fast > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
RELAY_PID=$!
CLEANUP_PIDS+=("$RELAY_PID")
for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
ADDR=$(head -1 "$WORK/relay.out")
[[ "$ADDR" == kolokol://* ]] || fail "relay did not start: $(cat "$WORK/relay.err")"
kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$RELAY_PID/status"; }

adv relay-fill "$ADDR" --mailbox flood --envelopes 100000 --from 127.0.0.2 > "$WORK/fill.json" \
  || fail "could not fill the mailbox: $(cat "$WORK/fill.json")"
grep -q '"acked":100000' "$WORK/fill.json" || fail "the relay did not take 100,000 envelopes: $(cat "$WORK/fill.json")"
start=$(kib VmRSS)
echo "ok: 100,000 envelopes stored; the relay holds $((start / 1024)) MiB"

from=$(for i in $(seq 1 8); do printf '127.0.%d.1,' "$i"; done)
"$KOLOKOL_ADVERSARY" relay-reconcile "$ADDR" --mailbox flood --sessions 256 --from "$from" \
  --seconds 30 > "$WORK/reconcile.json" &
ATTACK_PID=$!
CLEANUP_PIDS+=("$ATTACK_PID")
peak=0
while kill -0 "$ATTACK_PID" 2>/dev/null; do
  r=$(kib VmRSS) || fail "the relay died under the attack: $(tail -5 "$WORK/relay.err")"
  [ -n "$r" ] || fail "the relay died under the attack: $(tail -5 "$WORK/relay.err")"
  [ "$r" -gt "$peak" ] && peak=$r
  sleep 0.2
done
wait "$ATTACK_PID" || fail "the attack tool failed"
cat "$WORK/reconcile.json"
hwm=$(kib VmHWM)
echo "relay memory: start $((start / 1024)) MiB, sampled peak $((peak / 1024)) MiB, VmHWM $((hwm / 1024)) MiB"
[ "$hwm" -le $((bound_mib * 1024)) ] || fail "the relay's peak resident memory was $((hwm / 1024)) MiB (bound $bound_mib MiB)"
[ "$peak" -le $((bound_mib * 1024)) ] || fail "the relay's resident memory reached $((peak / 1024)) MiB (bound $bound_mib MiB)"
python3 - "$WORK/reconcile.json" <<'PY' || fail "the attack did not run as intended: $(cat "$WORK/reconcile.json")"
import json, sys
r = json.load(open(sys.argv[1]))
# Every one of the 256 sessions must have started its reconciliation at least once, or the
# bound above proves nothing.
assert r["sessions_opened"] >= 256, "fewer than 256 sessions opened the mailbox"
assert r["reconciliations"] >= 256, "fewer than 256 reconciliations started"
PY
echo "ok: the relay stayed under $bound_mib MiB"

# Back down: the sessions are gone (the tool exited), the relay gives the memory back.
after=0
for _ in $(seq 50); do
  after=$(kib VmRSS)
  [ "$after" -le $((start + back_mib * 1024)) ] && break
  sleep 0.2
done
echo "relay memory after the attack: $((after / 1024)) MiB"
[ "$after" -le $((start + back_mib * 1024)) ] || fail "the relay holds $((after / 1024)) MiB after the attack, $(( (after - start) / 1024 )) MiB more than before"
echo "ok: back within $back_mib MiB of the start"
kill -0 "$RELAY_PID" 2>/dev/null || fail "the relay died"
