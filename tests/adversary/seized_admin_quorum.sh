# A seized admin device in a group with a quorum of 2 (docs/design.md §5.10). Anna, Boris and
# Carol are admins, Mark a member. Carol's home is copied with its passphrase (the device taken
# and the passphrase forced); with the copy the attacker adds Xena as an admin, removes Anna,
# Boris and Mark, demotes Anna and Boris, makes Mark an admin, and lowers the quorum to 1 —
# everything the CLI lets one admin do about membership — and syncs it through the relay. At
# Anna, Boris and Mark none of it may take effect: the same four members, Anna, Boris and Carol
# still admins and Mark not, the quorum still 2, Xena never admitted, unable to write or to read
# what is written after. The proposals are listed as pending, and Anna and Boris together then
# remove Carol.
# KOLOKOL_SEIZED_K=1 runs the same attack on a group without a quorum: there it must break.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
source "$(dirname "$0")/lib_quorum.bash"
K=${KOLOKOL_SEIZED_K:-2}
start_relay
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member carol "Carol Smirnova"
new_member mark "Mark Member"
new_member xena "Xena Outsider"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
for w in boris carol; do
  as "$w" group join "$(as anna group add "$G" "$(card_of "$w")" --admin 2>/dev/null)" >/dev/null
done
invite anna mark
[ "$K" = 1 ] || as anna group quorum "$G" "$K" >/dev/null
for w in anna boris carol mark; do as "$w" sync >/dev/null; done
GID=$(group_id anna "$G")

# members_of WHO — "name admin" lines, sorted.
expected=$(printf '%s\n' "Anna Petrova admin" "Boris Ivanov admin" "Carol Smirnova admin" "Mark Member")
[ "$(members_of mark)" = "$expected" ] || fail "the group is not as set up: $(members_of mark)"

# The seized copy of Carol's device.
cp -a "$WORK/carol" "$WORK/seized"; cp "$WORK/carol.pass" "$WORK/seized.pass"
as seized group add "$G" "$(card_of xena)" --admin > "$WORK/xena.token" 2>/dev/null
as xena group join "$(cat "$WORK/xena.token")" >/dev/null
for w in "Anna Petrova" "Boris Ivanov" "Mark Member"; do
  as seized group remove "$G" "$w" >/dev/null 2>&1 || echo "the seized device could not propose removing $w"
done
for w in "Anna Petrova" "Boris Ivanov"; do
  as seized group role "$G" "$w" member >/dev/null 2>&1 || echo "the seized device could not propose demoting $w"
done
as seized group role "$G" "Mark Member" admin >/dev/null 2>&1 || echo "the seized device could not propose making Mark an admin"
as seized group quorum "$G" 1 >/dev/null 2>&1 || echo "the seized device could not propose a quorum of 1"
as seized sync >/dev/null 2>&1 || true
as xena sync >/dev/null 2>&1 || true
for w in anna boris mark; do as "$w" sync >/dev/null 2>&1 || true; done
as xena sync >/dev/null 2>&1 || true

for w in anna boris mark; do
  got=$(members_of "$w")
  [ "$got" = "$expected" ] || problem "the membership changed at $w: $(tr '\n' ';' <<<"$got")"
  [ "$(as "$w" group quorum "$G")" = "$K" ] || problem "the quorum changed at $w"
done
for w in anna boris; do
  n=$(as "$w" group pending "$G" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  echo "$w lists $n pending change(s)"
  [ "$n" -ge 8 ] || problem "$w does not list the seized device's 8 proposals as pending"
done
adm=$(admission_of xena "$GID")
echo "Xena: ${adm:-admitted}"
grep -q "waiting" <<<"$adm" || problem "Xena's admission is not waiting: '$adm'"
as xena post "$GID" "Xena writes" >/dev/null 2>&1 && problem "Xena could post"
as xena sync >/dev/null 2>&1 || true
reads anna "Xena writes" && problem "Xena's post reached Anna"

as anna post "$G" "written after the seizure" >/dev/null 2>&1 || problem "Anna cannot post"
as anna sync >/dev/null 2>&1 || true
for w in boris mark xena; do as "$w" sync >/dev/null 2>&1 || true; done
reads mark "written after the seizure" || problem "Anna's post did not reach Mark"
reads boris "written after the seizure" || problem "Anna's post did not reach Boris"
as xena read "$GID" --limit 1000 2>/dev/null | grep -q "written after the seizure" &&
  problem "Xena read a post written after the seizure"
echo "ok: checked the membership, the quorum, Xena's admission and what she reads"

# Anna and Boris remove Carol's identity together.
as anna group remove "$G" "Carol Smirnova" >/dev/null 2>&1 || problem "Anna cannot propose removing Carol"
as anna sync >/dev/null
as boris sync >/dev/null
if [ "$K" != 1 ]; then
  id=$(as boris group pending "$G" --json | python3 -c '
import json, sys
print(next(p["id"] for p in json.load(sys.stdin) if p["kind"] == "remove" and p["target_name"] == "Carol Smirnova"))')
  as boris group approve "$G" "${id:0:8}" >/dev/null || problem "Boris cannot approve Carol's removal"
  as boris sync >/dev/null
fi
for w in anna mark; do as "$w" sync >/dev/null 2>&1 || true; done
for w in anna boris mark; do
  got=$(members_of "$w")
  [ "$got" = "$(printf '%s\n' "Anna Petrova admin" "Boris Ivanov admin" "Mark Member")" ] ||
    problem "after Carol's removal $w sees: $(tr '\n' ';' <<<"$got")"
done
finish
