# Whoever can set a member's environment (a planted shell profile, a shared machine's login
# script) sets KOLOKOL_FAKE_NOW_MS far in the future, hoping retention — which deletes by the
# store's clock when it opens — wipes the group's records. The release binary has no such hook:
# it ignores the variable, and nothing is deleted or misdated. Only the test build
# (kolokol-testhooks, never installed) reads it; the same steps with it do delete, which shows
# the attack would work if the hook were there.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
: "${KOLOKOL_TESTHOOKS:?set KOLOKOL_TESTHOOKS to the kolokol-testhooks binary}"

G="Retention"
FUTURE=$(( ($(date +%s) + 30 * 86400) * 1000 ))  # 30 days from now
new_member anna "Anna Petrova"
as anna group create "$G" >/dev/null
as anna group retention "$G" 1d >/dev/null
as anna post "$G" "kept for a day"
cp -a "$WORK/anna" "$WORK/anna-copy"

# The release binary: the variable changes nothing.
grep -q "kept for a day" <<<"$(KOLOKOL_FAKE_NOW_MS=$FUTURE as anna read "$G")" \
  || fail "the release binary deleted records by a clock taken from the environment"
KOLOKOL_FAKE_NOW_MS=$FUTURE as anna post "$G" "written under the planted variable"
grep -q "kept for a day" <<<"$(as anna read "$G")" || fail "the message is gone after a later open"
wall=$(as anna read "$G" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["time_ms"])')
now=$(( $(date +%s) * 1000 ))
[ $(( wall - now )) -lt 3600000 ] || fail "the release binary dated a record by the environment ($wall)"
echo "ok: the release kolokol ignores KOLOKOL_FAKE_NOW_MS"

# The test build reads it: on the copy, opening the store 30 days on deletes the message.
KOLOKOL=$KOLOKOL_TESTHOOKS
cp "$WORK/anna.pass" "$WORK/anna-copy.pass"
out=$(KOLOKOL_FAKE_NOW_MS=$FUTURE as anna-copy read "$G")
if grep -q "kept for a day" <<<"$out"; then fail "the test build did not move its clock"; fi
echo "fake_clock: only kolokol-testhooks moves its clock"
