# A newcomer whose add waits across a rotation is never admitted at his own device (docs/design.md
# §5.6, §5.10). Under a quorum of 2 Anna proposes Mark and hands him the token at once, as
# `group add` says to; the token of a waiting add carries control access to the epochs Anna
# holds then. Before Boris approves, the group rotates once (here `group rotate`; an approved
# add of someone else or a removal does the same). Boris's approval and the rotation that grants
# Mark his first key are written in the new epoch, whose control key Mark was never given: he
# cannot open them, his admission stays "waiting" for good and he cannot write, while every
# other member lists him as a member. quorum_cli.sh promises the add "takes effect at the
# second admin's approval at every member"; row 6 that membership is a function of the
# records — here Mark can never fetch them. Any admin (a seized one included) can strand every
# pending newcomer this way with one `group rotate`.
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
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
finish
