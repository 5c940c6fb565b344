# A removed admin removes an honest member after his own removal (row 3).
# Strong remove spares every REMOVE concurrent with its author's removal (§5.4, "removals are
# exempt, so mutual removals remove both") — not only a removal of the remover. So Ivan, an
# admin whom Anna removes, takes a copy of his home from before (or simply does not sync) and
# removes Boris, an honest member, after his own removal. Every member applies it: Boris is out
# of the group at every member, for good, by the word of someone who was no longer a member.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
setup_group
new_member ivan "Ivan Admin"
new_member carl "Carl Member"
token=$(as anna group add "$G" "$(card_of ivan)" --admin 2>/dev/null)
as ivan group join "$token" >/dev/null
invite anna carl
for r in 1 2; do for w in anna ivan boris carl; do as $w sync >/dev/null 2>&1 || true; done; done
cp -a "$WORK/ivan" "$WORK/ivan_before"; cp "$WORK/ivan.pass" "$WORK/ivan_before.pass"
as anna group remove "$G" "Ivan Admin" >/dev/null || fail "Anna could not remove Ivan"
as anna sync >/dev/null
for w in boris carl; do as $w sync >/dev/null 2>&1 || true; done
as anna group members "$G" | grep -q "Ivan Admin" && fail "setup: Ivan is still a member at Anna"
# An hour later, say: Ivan's old home still thinks him an admin.
as ivan_before group remove "$G" "Boris Ivanov" >/dev/null 2>&1 || fail "Ivan's old home could not remove Boris"
as ivan_before sync >/dev/null 2>&1 || true
for r in 1 2; do for w in anna boris carl; do as $w sync >/dev/null 2>&1 || true; done; done
for w in anna boris carl; do echo "$w sees: $(as $w group members "$G" --json | python3 -c 'import json,sys; print(", ".join(sorted(m["name"] for m in json.load(sys.stdin))))')"; done
echo "Anna's refusals: $(as anna rejected 2>&1 | tail -n +2 | tr '\n' ' ')"
for w in anna carl; do
  as $w group members "$G" | grep -q "Boris" ||
    problem "row 3: at $w Boris was removed by Ivan's removal, written after Ivan's own removal"
done
as boris post "$G" "Boris, still here?" >/dev/null 2>&1 ||
  problem "row 3: Boris can no longer post after a removed admin's removal of him"
finish
