# A retired relay address must not be dialled again (SECURITY.md row 68; docs/design.md §5.8
# "Retired addresses stay retired": `relay remove` retires every address of the relay, and a
# retired address "is dialled by no member whose state holds the retirement").
# Boris joined with a welcome token, which names the relay's address; the store keeps it in
# welcome_relays, used whenever the group's own settings list no relay. Anna (the admin) removes
# the relay (its address is blocked or watched) and Boris imports her settings record by sync
# file: his state holds the retirement and lists no relay. His next sync falls back to the
# token's address and would dial the retired address, were a token's relays still used once the
# group's settings set the list.
# Part two: the same through two honest admins who each retire one of the relay's two addresses
# concurrently (the fold removes the relay, docs/design.md §5.8): Carol, a member who joined with
# a token naming the first address, then dials it.
# A removal or retirement by another admin is held a day before it is settled (the relays a change
# by someone else drops are still dialled that day, §5.8 "Relay changes wait for their author's
# standing"): each check first moves the member's received_ms back 25 hours, so what is checked
# is the settled state.
# Part three: Dima, an admin of that group who joined with such a token, adds another relay:
# `relay add` writes the list he is shown, the token's address included, and his record has seen
# both retirements, so the fold lets it stand — the retired address is back for every member,
# Anna included, and her sync dials it.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
command -v sqlcipher >/dev/null || fail "needs the sqlcipher shell"
key_of() { adv home-secrets "$WORK/$1" "$WORK/$1.pass" - | awk '$1 == "database-key" {print $2}'; }
# Every record the member holds, received a day and an hour ago: its relay changes are settled.
settle() {
  sqlcipher "$WORK/$1/store.db" <<SQL 2>/dev/null | grep -v '^ok$' || true
PRAGMA key = "x'$(key_of "$1")'";
PRAGMA cipher_page_size = 4096;
UPDATE records SET received_ms = received_ms - 90000000;
SQL
}
start_relay
key=$RELAY_KEY
port=$RELAY_PORT
A2="kolokol://127.0.0.2:$port/$key"
G="Legal support"
new_member anna "Anna"; new_member boris "Boris"; new_member carol "Carol"; new_member dima "Dima"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null

# Part one: relay remove.
as boris group join "$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)" >/dev/null
as anna sync >/dev/null 2>&1
as boris sync >/dev/null 2>&1 || fail "Boris cannot sync through the relay"
as boris group relay list "$G" | grep -qF "$RELAY" || fail "Boris does not list the relay"
as anna group relay remove "$G" "$RELAY" >/dev/null
as anna post "$G" "after the removal" --no-send >/dev/null 2>&1
as anna group relay list "$G" | grep -q "No relays" || fail "Anna still lists a relay"
as anna sync --to-file "$WORK/a1.sync" --group "$G" >/dev/null 2>&1 || true
as boris sync --from-file "$WORK/a1.sync" >/dev/null
reads boris "after the removal" || fail "Boris did not import Anna's records"
list=$(as boris group relay list "$G")
! grep -qF "$RELAY" <<<"$list" \
  && echo "Boris's state holds the removal: $(tr '\n' ' ' <<<"$list")" \
  || problem "Boris still lists the removed relay: $list"
out=$(as boris sync -v 2>&1 || true)
grep -qF "127.0.0.1:$port" <<<"$out" && echo "Boris, the day the removal is not settled, still dials the relay (§5.8)"
settle boris
out=$(as boris sync -v 2>&1 || true)
! grep -qF "127.0.0.1:$port" <<<"$out" \
  || problem "row 68: after the relay's removal (its address retired) Boris's sync dials it: $(grep -F "127.0.0.1:$port" <<<"$out" | head -2 | tr '\n' ' ')"

# Part two: two admins each retire one of the relay's two addresses, concurrently.
G="Second group"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
as anna group relay add-address "$G" "$A2" >/dev/null
as dima group join "$(as anna group add "$G" "$(card_of dima)" --admin 2>/dev/null)" >/dev/null
as carol group join "$(as anna group add "$G" "$(card_of carol)" 2>/dev/null)" >/dev/null
as anna sync >/dev/null 2>&1
as dima sync >/dev/null 2>&1 || fail "Dima cannot sync"
as carol sync >/dev/null 2>&1 || fail "Carol cannot sync"
[ "$(as dima group relay list "$G" | grep -c kolokol://)" -eq 2 ] || fail "Dima lacks an address"
as anna group relay retire-address "$G" "$RELAY" >/dev/null
as dima group relay retire-address "$G" "$A2" >/dev/null
as anna post "$G" "anna retired" --no-send >/dev/null 2>&1
as dima post "$G" "dima retired" --no-send >/dev/null 2>&1
as anna sync --to-file "$WORK/a2.sync" --group "$G" >/dev/null 2>&1 || true
as dima sync --to-file "$WORK/d2.sync" --group "$G" >/dev/null 2>&1 || true
as carol sync --from-file "$WORK/a2.sync" >/dev/null
as carol sync --from-file "$WORK/d2.sync" >/dev/null
reads carol "anna retired" && reads carol "dima retired" || fail "Carol lacks a retirement"
list=$(as carol group relay list "$G")
echo "Carol's list after both retirements: $(tr '\n' ' ' <<<"$list")"
settle carol
out=$(as carol sync -v --group "$G" 2>&1 || true)
! grep -qF "127.0.0.1:$port" <<<"$out" \
  || problem "row 68: after concurrent retirements of both addresses Carol's sync dials the retired 127.0.0.1: $(grep -F "127.0.0.1:$port" <<<"$out" | head -2 | tr '\n' ' ')"

# Part three: Dima, an admin who joined with a token naming 127.0.0.1, adds another relay. The
# list he writes is the one he is shown — the token's address included — and his record has
# seen both retirements, so the fold lets it list the address again: it is back for everyone.
pass_file relay2
port2=$(pick_port)
( KOLOKOL_PASSPHRASE_FILE="$WORK/relay2.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port2" \
    --data "$WORK/relay2" --kdf fast > "$WORK/relay2.out" 2>"$WORK/relay2.err" ) &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/relay2.out" ] && break; sleep 0.1; done
R2=$(head -1 "$WORK/relay2.out")
[[ "$R2" == kolokol://* ]] || fail "the second relay did not start"
as dima sync --from-file "$WORK/a2.sync" >/dev/null
as dima group relay add "$G" "$R2" >/dev/null
as dima sync --to-file "$WORK/d3.sync" --group "$G" >/dev/null 2>&1 || true
as anna sync --from-file "$WORK/d2.sync" >/dev/null
as anna sync --from-file "$WORK/d3.sync" >/dev/null
list=$(as anna group relay list "$G")
echo "Anna's list after Dima adds a relay: $(tr '\n' ' ' <<<"$list")"
! grep -qF "$RELAY" <<<"$list" \
  || problem "row 68: an admin's relay add after the retirements lists the retired 127.0.0.1 again, at Anna too (who never joined by token)"
settle anna
out=$(as anna sync -v --group "$G" 2>&1 || true)
! grep -qF "127.0.0.1:$port/" <<<"$out" \
  || problem "row 68: Anna's sync dials the address she retired: $(grep -F "127.0.0.1:$port/" <<<"$out" | head -1)"
finish
