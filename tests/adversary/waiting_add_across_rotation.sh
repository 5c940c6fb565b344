# A newcomer whose add waits across a rotation is admitted at his own device (docs/design.md
# §5.6, §5.10). Under a quorum of 2 Anna proposes Mark and hands him the token at once, as
# `group add` says to; the token of a waiting add carries control access to the epochs Anna
# holds then. Before Boris approves, the group rotates once (here `group rotate`; an approved
# add of someone else or a removal does the same). Boris's approval and the rotation that grants
# Mark his first key are written in the new epoch, which the token never named. Before the fix
# Mark could not open them: his admission stayed "waiting" for good and he could not write,
# while every other member listed him as a member, and any admin (a seized one included) could
# strand every pending newcomer this way with one `group rotate`. Now a rotation written while
# an add waits carries the new epoch's control access (no secret) sealed to the newcomer, so he
# fetches the approval and his grant; he still reads nothing written while he waited (row 72).
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
start_relay
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member mark "Mark Member"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
as boris group join "$(as anna group add "$G" "$(card_of boris)" --admin 2>/dev/null)" >/dev/null
as anna group quorum "$G" 2 >/dev/null
for w in anna boris; do as "$w" sync >/dev/null; done
GID=$(group_id anna "$G")

as mark group join "$(as anna group add "$G" "$(card_of mark)" 2>/dev/null)" >/dev/null
as anna sync >/dev/null
as boris sync >/dev/null
as boris group rotate "$G" >/dev/null || fail "Boris could not rotate"
as boris post "$G" "written while Mark waits" >/dev/null || fail "Boris cannot post"
as boris sync >/dev/null
for w in anna mark; do as "$w" sync >/dev/null 2>&1 || true; done
adm=$(admission_of mark "$GID")
grep -q "waiting" <<<"$adm" || problem "Mark's admission does not wait before Boris approves: '${adm:-admitted}'"
as mark read "$GID" --limit 1000 2>/dev/null | grep -q "written while Mark waits" &&
  problem "Mark, whose add nobody approved yet, reads what Boris wrote after the rotation"
id=$(as boris group pending "$G" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"][:8])')
as boris group approve "$G" "$id" >/dev/null || fail "Boris could not approve Mark's add"
as boris sync >/dev/null
for i in 1 2; do for w in anna mark boris; do as "$w" sync >/dev/null 2>&1 || true; done; done
as anna group members "$G" | grep -c "Mark Member" >/dev/null || fail "setup: Mark is no member at Anna"
adm=$(admission_of mark "$GID")
echo "Mark: ${adm:-admitted}"
[ -z "$adm" ] || grep -qv "waiting" <<<"$adm" || problem "Mark's admission still waits after his add took effect everywhere else: '$adm'"
rc=0; as mark post "$GID" "Mark writes" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 0 ] || problem "Mark, a member at every other device, cannot write (exit $rc)"
as mark read "$GID" --limit 1000 2>/dev/null | grep -q "written while Mark waits" &&
  problem "Mark, once admitted, reads what Boris wrote while his add waited"
if [ "$rc" -eq 0 ]; then
  as mark sync >/dev/null 2>&1 || true
  as anna sync >/dev/null 2>&1 || true
  as anna read "$GID" --limit 1000 2>/dev/null | grep -q "Mark writes" ||
    problem "Anna does not read what Mark wrote once admitted"
fi
finish
