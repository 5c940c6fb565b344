# kolokol doctor: a healthy home passes (exit 0); a file or directory others can read is reported
# with the chmod that fixes it; a relay that is down is reported as unreachable; a member whose
# clock runs ahead shows up as skew; a store that does not unlock is reported. Exit 1 each time.
source "$(dirname "$0")/lib.bash"

pass_file relay
port=$(pick_port)
( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
    --data "$WORK/relay" --kdf fast > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
RELAY_PID=$!
CLEANUP_PIDS+=("$RELAY_PID")
for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
ADDR=$(head -1 "$WORK/relay.out")
[[ "$ADDR" == kolokol://* ]] || fail "relay did not start: $(cat "$WORK/relay.err")"

new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
G="Support group Omega"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$ADDR" >/dev/null
as boris group join "$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)" >/dev/null
as anna post "$G" "hello"
as anna sync >/dev/null
as boris sync >/dev/null

# doctor_run WHO ARGS… — runs doctor, keeps its output in $WORK/doctor.out and its status in $rc.
doctor_run() { rc=0; as "$@" > "$WORK/doctor.out" 2>&1 || rc=$?; }

doctor_run boris doctor
[ "$rc" -eq 0 ] || fail "a healthy home does not pass (exit $rc): $(cat "$WORK/doctor.out")"
grep -q "All is well" "$WORK/doctor.out" || fail "no 'All is well': $(cat "$WORK/doctor.out")"
grep -q "^\[ok\] relay: $ADDR answered" "$WORK/doctor.out" || fail "the relay is not shown as reachable"
grep -q "^\[ok\] store:" "$WORK/doctor.out" || fail "the store check is not shown"
grep -q "^\[ok\] clock:" "$WORK/doctor.out" || fail "the clock check is not shown"
doctor_run boris doctor --json
[ "$rc" -eq 0 ] || fail "doctor --json on a healthy home exits $rc"
python3 - "$WORK/doctor.out" <<'PY' || fail "doctor --json is not as expected: $(cat "$WORK/doctor.out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is True and d["problems"] == 0, d
checks = {c["check"] for c in d["checks"]}
assert {"permissions", "store", "clock", "relay"} <= checks, checks
PY
echo "ok: a healthy home passes"

# A database others can read, and a home others can enter: each reported with its fix.
chmod 644 "$WORK/boris/store.db"
doctor_run boris doctor
[ "$rc" -eq 1 ] || fail "a readable store.db is not a failure (exit $rc)"
grep -q "store.db can be read by other users (mode 644, should be 600)" "$WORK/doctor.out" \
  || fail "the bad mode is not reported: $(cat "$WORK/doctor.out")"
grep -qF "fix: chmod 600 $WORK/boris/store.db" "$WORK/doctor.out" || fail "the chmod fix is not given"
chmod 755 "$WORK/boris"
doctor_run boris doctor
grep -qF "fix: chmod 700 $WORK/boris" "$WORK/doctor.out" || fail "the home's chmod fix is not given"
# Following the advice fixes it.
chmod 600 "$WORK/boris/store.db"; chmod 700 "$WORK/boris"
doctor_run boris doctor
[ "$rc" -eq 0 ] || fail "after the fixes doctor still fails: $(cat "$WORK/doctor.out")"
echo "ok: bad permissions are reported with the chmod to run"

# A member whose clock runs an hour ahead: Boris sees the skew in what she wrote.
ahead=$(( $(date +%s) * 1000 + 3600 * 1000 ))
# (The test build reads KOLOKOL_FAKE_NOW_MS; the release binary ignores it.)
hooks=${KOLOKOL_TESTHOOKS:?set KOLOKOL_TESTHOOKS to the kolokol-testhooks binary}
KOLOKOL=$hooks KOLOKOL_FAKE_NOW_MS=$ahead as anna post "$G" "written with a clock an hour ahead"
KOLOKOL=$hooks KOLOKOL_FAKE_NOW_MS=$ahead as anna sync >/dev/null
as boris sync >/dev/null
doctor_run boris doctor
[ "$rc" -eq 1 ] || fail "clock skew is not a failure (exit $rc): $(cat "$WORK/doctor.out")"
grep -q "clock: a member's clock is at least 5[0-9] minutes ahead" "$WORK/doctor.out" \
  || fail "the skew is not reported: $(cat "$WORK/doctor.out")"
echo "ok: a member's clock an hour ahead is reported"

# The relay goes down: reported as unreachable with what to do, within the timeout.
kill "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true
start=$(date +%s)
doctor_run anna doctor --timeout 2
[ "$rc" -eq 1 ] || fail "an unreachable relay is not a failure (exit $rc)"
[ $(( $(date +%s) - start )) -lt 20 ] || fail "doctor took too long with the relay down"
grep -qF "[PROBLEM] relay: $ADDR cannot be reached" "$WORK/doctor.out" \
  || fail "the unreachable relay is not reported: $(cat "$WORK/doctor.out")"
grep -q "fix: check this device's network" "$WORK/doctor.out" || fail "no advice for the relay"
echo "ok: an unreachable relay is reported"

# A wrong passphrase and a missing store: reported, not crashed on.
echo "wrong" > "$WORK/wrong.pass"
rc=0; KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/wrong.pass" "$KOLOKOL" doctor \
  > "$WORK/doctor.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "a wrong passphrase gives exit $rc"
grep -q "store: the store did not unlock: wrong passphrase" "$WORK/doctor.out" \
  || fail "the wrong passphrase is not reported: $(cat "$WORK/doctor.out")"
doctor_run nobody doctor
[ "$rc" -eq 1 ] || fail "a missing store gives exit $rc"
grep -q "run \`kolokol init\`" "$WORK/doctor.out" || fail "no advice for a missing store"
echo "ok: a store that does not open is reported"
