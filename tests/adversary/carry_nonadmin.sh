# A member who is not an admin tries to have a private case handed to every member added
# without history: his own kolokol refuses, so he forges the record himself (kolokol-adversary
# forge-carry) and pushes it through the group's relay — first a mark that the case is carried,
# then, once a newcomer is in, a carried copy of the case in the newcomer's epoch. The admins'
# and the newcomer's kolokol refuse both (not_admin): nothing of the case reaches the newcomer.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"

pass_file relay
port=$(pick_port)
( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
    --data "$WORK/relay" --kdf fast > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
ADDR=$(head -1 "$WORK/relay.out")
[[ "$ADDR" == kolokol://* ]] || fail "relay did not start: $(cat "$WORK/relay.err")"
json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

G="Legal support"
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member carol "Carol Smirnova"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$ADDR" >/dev/null
as boris group join "$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)" >/dev/null
as anna case open "$G" --person "Ivan Detained" --charges "private" > "$WORK/open"
CASE=$(sed -n 's/^Case \([0-9a-f]*\) created\.$/\1/p' "$WORK/open")
[ -n "$CASE" ] || fail "no case id in: $(cat "$WORK/open")"
as anna contact add "$G" --name "Lawyer Ivanova" --role lawyer --carry >/dev/null
as anna sync >/dev/null
as boris sync >/dev/null
as boris case list "$G" | grep -q "Ivan Detained" || fail "boris does not hold the case"

# Through the command line, a member may not carry anything.
expect_exit 8 boris case carry "$G" "$CASE"

# The forged mark goes to the relay; the admin's kolokol refuses it.
adv forge-carry "$ADDR" "$WORK/boris" "$WORK/boris.pass" "$G" "$CASE" mark ||
  fail "the forged mark did not reach the relay"
as anna sync >/dev/null
as anna rejected | grep -q "only an admin may carry" || fail "the admin did not refuse the member's carry mark: $(as anna rejected)"
if as anna case list "$G" | grep "Ivan Detained" | grep -q "carried"; then
  fail "the member's mark made the case carried"
fi
echo "ok: the admin refuses a member's carry mark"

# A newcomer without history: only the admin's carried contact comes, not the case.
as carol group join "$(as anna group add "$G" "$(card_of carol)" 2>/dev/null)" >/dev/null
as anna sync >/dev/null
as carol sync >/dev/null
[ "$(as carol contact list "$G" --json | json_field 'len(d)')" = 1 ] || fail "carol lacks the admin's carried contact"
[ "$(as carol case list "$G" --json | json_field 'len(d)')" = 0 ] || fail "the member's mark carried the case to carol"
echo "ok: the newcomer gets the admin's carried contact and not the case"

# Boris, now in the newcomer's epoch, forges a carried copy of the case there himself.
as boris sync >/dev/null
adv forge-carry "$ADDR" "$WORK/boris" "$WORK/boris.pass" "$G" "$CASE" copy ||
  fail "the forged copy did not reach the relay"
as carol sync >/dev/null
[ "$(as carol case list "$G" --json | json_field 'len(d)')" = 0 ] || fail "carol shows the member's forged copy of the case"
as carol rejected | grep -q "only an admin may carry" || fail "carol did not refuse the forged copy: $(as carol rejected)"
as anna sync >/dev/null
[ "$(as anna case list "$G" --json | json_field 'len(d)')" = 1 ] || fail "the admin's cases changed"
echo "ok: a member's forged carried copy is refused by the newcomer"
