# A seized admin's device removes honest members past the burn notice (row 73).
# Row 73: once the notice takes effect, every member rejects what the seized member's keys sign
# that the notice has not seen, control records included; the one exception named is a
# counter-removal (with K = 1 both are removed). The fold spares every REMOVE by the member
# concurrent with the notice (GroupState::burn_spares: `is_kind(op, REMOVE) && !in(m_anc[i],
# notice)`), whoever it removes. So the police, holding Clara's unlocked phone after the arrest,
# remove Boris — the group's lawyer contact — after Anna's notice, from a device that has not
# synced it (old heads, any time it claims). Every member applies it. (A second removal from the
# same copy is written in the epoch of the copy's own rotation, which the notice voids, so it
# fails: one member per copy of the phone, unless forked copies each write one.)
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
setup_group
new_member clara "Clara Seized"
new_member mila "Mila Member"
token=$(as anna group add "$G" "$(card_of clara)" --admin 2>/dev/null)
as clara group join "$token" >/dev/null
invite anna mila
for r in 1 2; do for w in anna boris clara mila; do as $w sync >/dev/null 2>&1 || true; done; done
cp -a "$WORK/clara" "$WORK/seized"; cp "$WORK/clara.pass" "$WORK/seized.pass"
out=$(as anna group compromised "$G" "Clara Seized" 2>&1) || fail "Anna's notice: $out"
echo "anna: $out"
as anna sync >/dev/null 2>&1 || true
for w in boris mila; do as $w sync >/dev/null 2>&1 || true; done
as boris group members "$G" | grep -q "Clara" && fail "setup: the notice did not take effect at Boris"
# The seized phone, which has not synced since, removes Boris and Mila.
as seized group remove "$G" "Boris Ivanov" >/dev/null 2>&1 || fail "the seized copy could not remove Boris"
as seized group remove "$G" "Mila Member" >/dev/null 2>&1 || echo "(the seized copy could not remove Mila)"
as seized sync >/dev/null 2>&1 || true
for r in 1 2; do for w in anna boris mila; do as $w sync >/dev/null 2>&1 || true; done; done
for w in anna boris mila; do
  echo "$w sees: $(as $w group members "$G" --json | python3 -c 'import json,sys; print(", ".join(sorted(m["name"] for m in json.load(sys.stdin))))')"
done
as anna group members "$G" | grep -q "Boris" ||
  problem "row 73: Boris was removed by the burned admin's device, after the notice and unseen by it"
as anna group members "$G" | grep -q "Mila" ||
  problem "row 73: Mila was removed by the burned admin's device, after the notice and unseen by it"
finish
