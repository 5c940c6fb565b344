# A waiting add with history hands out every epoch secret before any approval (docs/design.md
# §5.10, SECURITY.md row 72). Under a quorum of 2 an add waits for a second admin; §5.10 makes
# the welcome token of a waiting add carry no epoch secret — but only "without history":
# `group add --with-history` (core/src/node_welcome.cpp, `with_history || …`) still puts the
# secret of every epoch the admin holds, the current one included, into the token of an add
# nobody has approved. Carol (one admin, or a seized copy of her home) proposes Xena with
# history; Anna and Boris never approve. Xena joins, stays "waiting", and still reads what Anna
# writes after the proposal, for as long as nobody rotates. Row 72: the outsider "is never
# admitted, cannot write and reads nothing written after".
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
start_relay
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member carol "Carol Smirnova"
new_member xena "Xena Outsider"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
for w in boris carol; do
  as "$w" group join "$(as anna group add "$G" "$(card_of "$w")" --admin 2>/dev/null)" >/dev/null
done
as anna group quorum "$G" 2 >/dev/null
for w in anna boris carol; do as "$w" sync >/dev/null; done
GID=$(group_id anna "$G")
as anna post "$G" "before the proposal" >/dev/null
as anna sync >/dev/null

as carol group add "$G" "$(card_of xena)" --with-history > "$WORK/xena.token" 2>/dev/null ||
  fail "Carol could not propose Xena"
as xena group join "$(cat "$WORK/xena.token")" >/dev/null
as carol sync >/dev/null 2>&1 || true
for w in anna boris; do as "$w" sync >/dev/null 2>&1 || true; done
n=$(as anna group pending "$G" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 1 ] || fail "setup: Anna does not list Carol's add as pending ($n)"
as anna group members "$G" | grep -q "Xena" && fail "setup: Xena is a member at Anna"

as anna post "$G" "written after the proposal, never approved" >/dev/null || fail "Anna cannot post"
as anna sync >/dev/null
as xena sync >/dev/null 2>&1 || true
adm=$(admission_of xena "$GID")
echo "Xena: ${adm:-admitted}"
grep -q "waiting" <<<"$adm" || problem "Xena's admission is not waiting: '$adm'"
as xena read "$GID" --limit 1000 2>/dev/null | grep -q "written after the proposal, never approved" &&
  problem "Xena, whose add nobody approved, reads what Anna wrote after it"
as xena read "$GID" --limit 1000 2>/dev/null | grep -q "before the proposal" &&
  echo "(Xena also reads the history from before: the proposer could hand that over anyway)"
finish
