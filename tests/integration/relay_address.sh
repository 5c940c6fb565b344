# Relay addresses are parsed whole wherever they enter: `group relay add` refuses a truncated or
# mistyped one (exit 6, the list unchanged); and a sync where a listed relay failed exits 9,
# names that relay once, and says how many of the relays it synced with.
source "$(dirname "$0")/lib.bash"
start_relay
new_member anna Anna
as anna group create G >/dev/null

# Cut short while copying, a character mistyped, a port too large, no key: each refused.
for bad in "${ADDR:0:${#ADDR}-7}" "${ADDR%?}1" "kolokol://127.0.0.1:70000/$KEY" \
  "kolokol://127.0.0.1:7000/" "${ADDR}/"; do
  expect_exit 6 anna group relay add G "$bad"
  err=$(as anna group relay add G "$bad" 2>&1 >/dev/null || true)
  grep -qF "invalid address" <<<"$err" || fail "the refusal does not say why: $err"
done
[ "$(as anna group relay list G)" = "No relays." ] || fail "a refused address was kept: $(as anna group relay list G)"

# A host name in upper case names the same relay: kept as the canonical address, so it is
# found again however it is typed.
PORT=${ADDR##*:}; PORT=${PORT%%/*}
as anna group relay add G "kolokol://LocalHost:$PORT/$KEY" >/dev/null
[ "$(as anna group relay list G)" = "kolokol://localhost:$PORT/$KEY" ] || fail "the list holds $(as anna group relay list G)"
expect_exit 11 anna group relay add G "kolokol://LOCALHOST:$PORT/$KEY"
as anna group relay remove G "kolokol://LOCALHOST:$PORT/$KEY" >/dev/null
as anna group relay add G "$ADDR" >/dev/null
[ "$(as anna group relay list G)" = "$ADDR" ] || fail "the list holds $(as anna group relay list G), not $ADDR"

new_member boris Boris
token=$(as anna group add G "$(card_of boris)" 2>/dev/null)
as anna sync >/dev/null
as boris group join "$token" >/dev/null
as boris sync >/dev/null

# A second relay that is down: the sync with the first happens, and the command says it failed.
DOWN="kolokol://127.0.0.1:$(pick_port)/$KEY"
as anna group relay add G "$DOWN" >/dev/null
as anna post G "first words" --no-send 2>/dev/null
rc=0
as anna sync > "$WORK/sync.out" 2> "$WORK/sync.err" || rc=$?
[ "$rc" -eq 9 ] || fail "sync with one of two relays down exited $rc: $(cat "$WORK/sync.out" "$WORK/sync.err")"
grep -qF "Synced with 1 of 2" "$WORK/sync.out" || fail "stdout does not say 1 of 2: $(cat "$WORK/sync.out")"
[ "$(grep -cF "$DOWN" "$WORK/sync.err")" -eq 1 ] || fail "the failed relay is not named once: $(cat "$WORK/sync.err")"
if grep -qF "$ADDR" "$WORK/sync.err"; then fail "the relay that worked is named as failed: $(cat "$WORK/sync.err")"; fi
# It did reach the first relay.
as boris sync "$ADDR" >/dev/null
grep -qF "first words" <<<"$(as boris read G)" || fail "the message did not reach the working relay"
echo "relay addresses are checked whole; a sync with a failed relay exits 9 and names it"
