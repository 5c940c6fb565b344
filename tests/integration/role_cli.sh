# Changing a member's role through the CLI and a real relay (docs/design.md §5.10): with a
# quorum of 1 `group role` promotes and demotes at once; under a quorum of 2 a promotion and a
# demotion wait (`group pending` says what they change) until a second admin approves; refusals
# have clear exit codes; and an admin demoted while adding someone concurrently sees that add
# void at every member.
source "$(dirname "$0")/lib.bash"
start_relay
G="Legal support"
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member carol "Carol Smirnova"
new_member dave "Dave Orlov"
new_member zoya "Zoya Orlova"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$ADDR" >/dev/null
as boris group join "$(as anna group add "$G" "$(card_of boris)" --admin 2>/dev/null)" >/dev/null
for w in carol dave; do
  as "$w" group join "$(as anna group add "$G" "$(card_of "$w")" 2>/dev/null)" >/dev/null
done
for w in anna boris carol dave; do as "$w" sync >/dev/null; done

# admins_at WHO — the sorted names of the admins.
admins_at() {
  as "$1" group members "$G" --json |
    python3 -c 'import json,sys; print(",".join(sorted(m["name"] for m in json.load(sys.stdin) if m["admin"])))'
}
json_len() { as "$@" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
pending_field() { as "$1" group pending "$G" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0][sys.argv[1]])' "$2"; }

# Quorum 1: at once.
as anna group role "$G" "Carol Smirnova" admin > "$WORK/promote.out" 2>&1 || fail "promote: $(cat "$WORK/promote.out")"
grep -q "Carol Smirnova is now an admin" "$WORK/promote.out" || fail "promote says: $(cat "$WORK/promote.out")"
[ "$(admins_at anna)" = "Anna Petrova,Boris Ivanov,Carol Smirnova" ] || fail "after the promotion: $(admins_at anna)"
expect_exit 11 anna group role "$G" "Carol Smirnova" admin
expect_exit 7 anna group role "$G" Nobody admin
expect_exit 8 dave group role "$G" "Dave Orlov" admin
as anna group role "$G" "Carol Smirnova" banana >/dev/null 2>&1 && fail "a role other than admin or member was accepted"
as anna group role "$G" "Carol Smirnova" member | grep -q "Carol Smirnova is now a member who is no admin" ||
  fail "the demotion at quorum 1"
as anna sync >/dev/null
for w in boris carol dave; do
  as "$w" sync >/dev/null
  [ "$(admins_at "$w")" = "Anna Petrova,Boris Ivanov" ] || fail "$w sees the admins as $(admins_at "$w")"
done
echo "ok: at quorum 1 a promotion and a demotion take effect at once"

# Quorum 2: a promotion waits for Boris.
as anna group quorum "$G" 2 >/dev/null
as anna group role "$G" "Dave Orlov" admin > "$WORK/wait.out"
grep -q "Proposed making Dave Orlov an admin" "$WORK/wait.out" || fail "promotion under a quorum: $(cat "$WORK/wait.out")"
grep -q "waits for 1 more admin's approval" "$WORK/wait.out" || fail "it does not say it waits: $(cat "$WORK/wait.out")"
[ "$(admins_at anna)" = "Anna Petrova,Boris Ivanov" ] || fail "the proposed promotion took effect at once"
[ "$(pending_field anna kind)" = set_role ] || fail "the pending change is not a change of role"
[ "$(pending_field anna admin)" = True ] || fail "the pending change does not make an admin"
as anna group pending "$G" | grep -q "make Dave Orlov an admin  proposed by Anna Petrova  1 of 2 approvals" ||
  fail "group pending: $(as anna group pending "$G")"
ID=$(pending_field anna id)
as anna sync >/dev/null
as boris sync >/dev/null
as boris group approve "$G" "${ID:0:8}" | grep -q "Approved: make Dave Orlov an admin. It has taken effect" ||
  fail "boris's approval of the promotion"
as boris sync >/dev/null
for w in anna carol dave; do
  as "$w" sync >/dev/null
  [ "$(admins_at "$w")" = "Anna Petrova,Boris Ivanov,Dave Orlov" ] || fail "$w sees the admins as $(admins_at "$w")"
done
echo "ok: at quorum 2 the promotion took effect at the second admin's approval"

# A demotion waits too: Anna alone does not demote Boris.
as anna group role "$G" "Boris Ivanov" member > "$WORK/demote.out"
grep -q "Proposed making Boris Ivanov a member who is no admin; they stay an admin until then" "$WORK/demote.out" ||
  fail "demotion under a quorum: $(cat "$WORK/demote.out")"
as anna sync >/dev/null
for w in boris carol dave; do
  as "$w" sync >/dev/null
  [ "$(admins_at "$w")" = "Anna Petrova,Boris Ivanov,Dave Orlov" ] || fail "one admin demoted Boris at $w"
done
as boris group pending "$G" | grep -q "make Boris Ivanov a member who is no admin" || fail "boris does not see the demotion pending"
echo "ok: one admin alone cannot demote another"

# Dave approves the demotion while Boris, not having seen the approval, proposes adding Zoya:
# Boris's proposal is concurrent with his demotion's point of effect and is void everywhere.
DID=$(pending_field dave id)
as dave group approve "$G" "${DID:0:8}" | grep -q "It has taken effect" || fail "dave's approval of the demotion"
as boris group add "$G" "$(card_of zoya)" > "$WORK/zoya.token" 2>/dev/null
as dave sync >/dev/null
as boris sync >/dev/null
for w in anna carol dave boris; do
  as "$w" sync >/dev/null
  [ "$(admins_at "$w")" = "Anna Petrova,Dave Orlov" ] || fail "$w sees the admins as $(admins_at "$w")"
  [ "$(json_len "$w" group pending "$G" --json)" = 0 ] || fail "$w still lists Boris's add as pending"
  [ "$(json_len "$w" group members "$G" --json)" = 4 ] || fail "$w sees Zoya as a member"
done
echo "ok: the demoted admin's concurrent proposal is void at every member"
