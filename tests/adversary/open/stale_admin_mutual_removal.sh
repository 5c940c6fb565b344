# A removed admin, any time later, removes the admin who removed him and wipes out everything
# written since. Anna and Ivan are admins; Boris and Carl members. Anna removes Ivan (and
# rotates); the group goes on: Anna and Boris post in the new epoch. Days later Ivan opens a
# copy of his home from before his removal — there he is still an admin — removes Anna, and
# syncs through the group's relay (its old-epoch mailbox stays open, row 17). His removal of
# Anna names only control records from before his own removal, so it counts as concurrent with
# it, and "removals are exempt, so mutual removals remove both" (§5.4): both removals stand,
# Anna's rotation is dropped (her control record concurrent with her removal), and with it every
# record written in its epoch. Result at every member: Anna is out, no admin is left, nobody can
# write again (no key, no admin to rotate), and every message written since Ivan's removal is
# gone. A removed member must not be able to write after his removal, remove others, or rewrite
# history (adversaries table: infiltrator; rows 3, 6).
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
setup_group
new_member ivan "Ivan Admin"
new_member carl "Carl Third"
token=$(as anna group add "$G" "$(card_of ivan)" --admin 2>/dev/null)
as ivan group join "$token" >/dev/null
invite anna carl
for w in anna ivan boris carl; do as $w sync >/dev/null; done
cp -a "$WORK/ivan" "$WORK/ivan_before"; cp "$WORK/ivan.pass" "$WORK/ivan_before.pass"
as anna group remove "$G" "Ivan Admin" >/dev/null
as anna sync >/dev/null
for w in boris carl; do as $w sync >/dev/null; done
as anna post "$G" "Anna: Ivan is out, we go on"
as anna sync >/dev/null
as boris post "$G" "Boris: the hearing is on Friday"
as boris sync >/dev/null
for w in anna carl; do as $w sync >/dev/null; done
reads carl "Boris: the hearing is on Friday" || fail "setup: Carl lacks Boris's post"

# Days later: Ivan's old home removes Anna and syncs with the group's relay.
as ivan_before group remove "$G" "Anna Petrova" >/dev/null || fail "Ivan's old home could not remove Anna"
as ivan_before sync >/dev/null 2>&1 || true
for w in anna boris carl; do as $w sync >/dev/null 2>&1 || true; done

as boris group members "$G" | grep -q "Anna Petrova" ||
  problem "Anna was removed by Ivan's record, written after his own removal"
as boris group members "$G" | grep -q "Ivan Admin" && problem "Ivan is a member again at Boris"
for w in boris carl; do
  reads $w "Anna: Ivan is out, we go on" || problem "$w lost Anna's post written after Ivan's removal"
  reads $w "Boris: the hearing is on Friday" || problem "$w lost Boris's post written after Ivan's removal"
done
rc=0; err=$(as boris post "$G" "Boris: still here" 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 0 ] || problem "Boris can no longer write in the group (exit $rc: $err)"
rc=0; err=$(as anna post "$G" "Anna: still here" 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 0 ] || problem "Anna can no longer write in the group (exit $rc: $err)"
finish
