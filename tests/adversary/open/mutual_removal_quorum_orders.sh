# Mutual removal under a quorum of 2, each side completed by a different approver, delivered in
# both orders (SECURITY.md "Group rules": a removal of the remover — the removal's author or its
# completing approver — is exempt, so mutual removals remove both; rows 3, 6).
# Admins Anna, Boris, Clara, Dima; members Mila, Nina; quorum 2. The relay is stopped after the
# setup and everything goes by sync file, so the two sides are truly concurrent. Anna proposes
# removing Dima and Boris approves; Dima proposes removing Anna and Clara approves (neither side
# has seen the other). Mila gets Anna's side first, Nina Dima's. Variant SIDE=approver: Dima
# proposes removing Boris (the approver that completed his own removal) instead of Anna.
# SIDE=rotate: as proposer, but Anna rotates the key (unseen by Dima's side) before proposing.
# SIDE=demote: Dima proposes demoting Anna instead (Anna's removal of the demoter is exempt).
# Found: SIDE=rotate breaks it — Anna is removed, Dima stays an admin at every member.
# Every member must end with the same members, and both targets of the exchange gone.
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
source "$(dirname "$0")/../lib_quorum.bash"
SIDE=${SIDE:-proposer}
start_relay
new_member anna "Anna Petrova"; new_member boris "Boris Ivanov"; new_member clara "Clara Admin"
new_member dima "Dima Admin"; new_member mila "Mila Member"; new_member nina "Nina Member"
quorum_scene "boris clara dima" "mila nina" 2
for w in anna boris clara dima mila nina; do as $w sync >/dev/null 2>&1 || true; done
[ "$(as nina group quorum "$G" 2>&1 | grep -o '[0-9]\+' | head -1)" = 2 ] || fail "setup: quorum is not 2 at Nina"
kill "${CLEANUP_PIDS[0]}" 2>/dev/null || true; sleep 0.5
pid_of() { as "$1" group pending "$G" --json | python3 -c '
import json,sys
for p in json.load(sys.stdin):
    if p["kind"] in ("remove", "set_role"): print(p["id"][:8]); break'; }
tofile() { as "$1" sync --to-file "$WORK/$2.sync" >/dev/null 2>&1 || fail "no sync file from $1"; }
fromfile() { as "$1" sync --from-file "$WORK/$2.sync" >/dev/null 2>&1 || echo "($1 could not import $2: $?)"; }
[ "$SIDE" = rotate ] && { as anna group rotate "$G" >/dev/null 2>&1 || echo "(anna rotate exit $?)"; }
as anna group remove "$G" "Dima Admin" >/dev/null 2>&1 || echo "(anna remove exit $?)"
tofile anna a1; fromfile boris a1
as boris group approve "$G" "$(pid_of boris)" >/dev/null 2>&1 || echo "(boris approve exit $?)"
tofile boris b1
if [ "$SIDE" = approver ]; then victim="Boris Ivanov"; else victim="Anna Petrova"; fi
if [ "$SIDE" = demote ]; then
  as dima group role "$G" "$victim" member >/dev/null 2>&1 || echo "(dima demote exit $?)"
else
  as dima group remove "$G" "$victim" >/dev/null 2>&1 || echo "(dima remove exit $?)"
fi
tofile dima d1; fromfile clara d1
as clara group approve "$G" "$(pid_of clara)" >/dev/null 2>&1 || echo "(clara approve exit $?)"
tofile clara c1
fromfile mila b1; echo "mila after Anna's side: $(members_of mila | tr '\n' ';')"; fromfile mila c1
fromfile nina c1; echo "nina after Dima's side: $(members_of nina | tr '\n' ';')"; fromfile nina b1
for w in anna boris clara dima; do fromfile $w b1; fromfile $w c1; done
ref=$(members_of mila)
echo "mila: $(tr '\n' ';' <<<"$ref")"
for w in nina anna boris clara dima; do
  m=$(members_of $w 2>/dev/null || echo "(none)")
  echo "$w: $(tr '\n' ';' <<<"$m")"
  [ "$w" = anna ] || [ "$w" = dima ] || [ "$w" = boris -a "$SIDE" = approver ] || [ "$m" = "$ref" ] ||
    problem "row 6: $w and Mila disagree on the members after a mutual removal under quorum 2"
done
grep -q "Dima Admin" <<<"$ref" && problem "Group rules (mutual removals remove both, also under a quorum): Dima is still a member and admin at Mila (SIDE=$SIDE; Anna's earlier rotation is dropped by Dima's removal of her, and her approved removal of Dima, written in that rotation's epoch, is void with it)"
[ "$SIDE" = demote ] || ! grep -q "$victim" <<<"$ref" || problem "mutual removal: $victim is still a member at Mila"
grep -q " admin" <<<"$ref" || problem "the group is left without an admin at Mila"
finish
