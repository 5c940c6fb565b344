# A member added without history does not download what they cannot read. The group's history
# (a report with a 4 MiB file, posts, contacts) is on a relay; Carol, added without history,
# syncs and receives a small fraction of it, yet reads her own epoch's posts and verifies the
# membership. Contacts an admin marked as carried reach her under the same id, existing members
# see nothing change, and edits after her arrival work both ways. Dave, added with history,
# still gets everything, the file included.
source "$(dirname "$0")/lib.bash"
MIB=${KOLOKOL_NEWCOMER_MIB:-4}

pass_file relay
port=$(pick_port)
( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
    --data "$WORK/relay" --kdf fast > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
ADDR=$(head -1 "$WORK/relay.out")
[[ "$ADDR" == kolokol://* ]] || fail "relay did not start: $(cat "$WORK/relay.err")"
json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
# contact_id WHO NAME — the id of the contact called NAME in WHO's list, or nothing.
contact_id() {
  as "$1" contact list "$G" --all --json |
    python3 -c 'import json,sys; print("".join(c["id"] for c in json.load(sys.stdin) if c["fields"].get("name") == sys.argv[1]))' "$2"
}

G="Legal support"
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member carol "Carol Smirnova"
new_member dave "Dave Orlov"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$ADDR" >/dev/null
as boris group join "$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)" >/dev/null

# The history: a report with a file, posts, and three contacts, one of them carried.
head -c $((MIB << 20)) /dev/urandom > "$WORK/video.mp4"
as anna report add "$G" --place "Court 3" --at "2026-03-01 10:05" --text "hearing" \
  --attach "$WORK/video.mp4" --no-send >/dev/null 2>&1
for i in $(seq 20); do echo "history post $i"; done | as anna post "$G" --each-line --no-send >/dev/null 2>&1
as anna contact add "$G" --name "Lawyer Ivanova" --role lawyer --reach "+7 900 000-00-01" \
  --carry >/dev/null
as anna contact add "$G" --name "Journalist Petrov" --role journalist >/dev/null
as anna contact add "$G" --name "Medic Sidorova" --role medic >/dev/null
LAWYER=$(contact_id anna "Lawyer Ivanova")
MEDIC=$(contact_id anna "Medic Sidorova")
[ -n "$LAWYER" ] && [ -n "$MEDIC" ] || fail "the contacts were not created"
# A later edit is part of what is carried; a mark taken back carries nothing.
as anna contact set "$G" "${LAWYER:0:8}" --reach "+7 900 000-00-02" >/dev/null
as anna contact carry "$G" "${MEDIC:0:8}" >/dev/null
as anna contact uncarry "$G" "${MEDIC:0:8}" >/dev/null
as anna contact list "$G" | grep "Lawyer Ivanova" | grep -q "carried" || fail "the carried contact is not marked as carried"
as anna sync >/dev/null
as boris sync >/dev/null
as boris contact list "$G" --all --json > "$WORK/boris.before"
as boris contact list "$G" | grep "Lawyer Ivanova" | grep -q "carried" || fail "boris does not see the carry mark"

# Carol, without history.
as carol group join "$(as anna group add "$G" "$(card_of carol)" 2>/dev/null)" >/dev/null
as anna post "$G" "welcome, Carol" --no-send >/dev/null 2>&1
as anna sync >/dev/null
as carol sync --json > "$WORK/carol.sync"
carol_bytes=$(json_field 'd["bytes_received"]' < "$WORK/carol.sync")
carol_envelopes=$(json_field 'd["received"]' < "$WORK/carol.sync")
carol_store=$(du -sb "$WORK/carol" | cut -f1)

# Dave, with history: everything, the file included.
as dave group join "$(as anna group add "$G" "$(card_of dave)" --with-history 2>/dev/null)" >/dev/null
as anna sync >/dev/null
as dave sync --json > "$WORK/dave.sync"
dave_bytes=$(json_field 'd["bytes_received"]' < "$WORK/dave.sync")
dave_envelopes=$(json_field 'd["received"]' < "$WORK/dave.sync")
dave_store=$(du -sb "$WORK/dave" | cut -f1)
history_bytes=$((MIB << 20))
echo "history: $MIB MiB file + 21 posts + 3 contacts"
echo "newcomer without history: received $carol_bytes bytes, $carol_envelopes envelopes; store $carol_store bytes"
echo "newcomer with history:    received $dave_bytes bytes, $dave_envelopes envelopes; store $dave_store bytes"
[ "$dave_bytes" -gt "$history_bytes" ] || fail "the member added with history received only $dave_bytes bytes"
[ $((carol_bytes * 10)) -lt "$history_bytes" ] ||
  fail "the member added without history received $carol_bytes bytes of a $history_bytes-byte history"
echo "ok: without history, $carol_bytes bytes received (< 10% of $history_bytes)"

# Carol reads her own epoch and verifies the membership, not what came before.
as carol read "$G" | grep -q "welcome, Carol" || fail "carol cannot read her own epoch"
if as carol read "$G" --limit 1000 | grep -q "history post"; then fail "carol read a post from before she was added"; fi
as carol group members "$G" --json > "$WORK/carol.members"
for n in "Anna Petrova" "Boris Ivanov" "Carol Smirnova"; do
  grep -q "\"$n\"" "$WORK/carol.members" || fail "carol does not see $n as a member"
done
[ "$(as carol report list "$G" --json | json_field 'len(d)')" = 0 ] || fail "carol sees the old report"
echo "ok: carol reads her epoch and sees the membership"

# The carried contact reaches her under the same id, as it stands now; the others do not.
[ "$(contact_id carol "Lawyer Ivanova")" = "$LAWYER" ] || fail "the carried contact is missing or has another id at carol"
as carol contact list "$G" --json | grep -q "+7 900 000-00-02" || fail "carol has not the carried contact's latest reach"
[ -z "$(contact_id carol "Journalist Petrov")" ] || fail "carol sees a contact that was not carried"
[ -z "$(contact_id carol "Medic Sidorova")" ] || fail "carol sees a contact whose mark was taken back"
[ "$(as carol contact list "$G" --json | json_field 'len(d)')" = 1 ] || fail "carol sees more than the carried contact"
echo "ok: the carried contact reaches the newcomer under the same id; the others do not"

# Existing members see nothing change: no duplicate, the same fields and the same authors.
as boris sync >/dev/null
as boris contact list "$G" --all --json > "$WORK/boris.after"
cmp -s "$WORK/boris.before" "$WORK/boris.after" || {
  diff "$WORK/boris.before" "$WORK/boris.after" >&2 || true
  fail "boris's contacts changed when carol was added"
}
echo "ok: existing members see no change and no duplicate"

# Dave, with history, has everything: the file, every contact.
[ "$(as dave attachment list "$G" --json | json_field 'd[0]["complete"]')" = True ] || fail "dave lacks the file"
[ -n "$(contact_id dave "Journalist Petrov")" ] || fail "dave lacks an uncarried contact"
[ "$(as dave contact list "$G" --json | json_field 'len(d)')" = 3 ] || fail "dave does not see exactly the three contacts"
echo "ok: a member added with history gets everything"

# Edits after her arrival work both ways, on the same object.
as carol contact set "$G" "${LAWYER:0:8}" --reach "+7 900 000-00-03" >/dev/null
as carol sync >/dev/null
as boris sync >/dev/null
as boris contact list "$G" --json | grep -q "+7 900 000-00-03" || fail "boris does not see carol's edit"
[ "$(as boris contact list "$G" --all --json | json_field 'len(d)')" = 3 ] || fail "boris sees a duplicate after carol's edit"
as boris contact set "$G" "${LAWYER:0:8}" --name "Lawyer Ivanova-Orlova" >/dev/null
as boris sync >/dev/null
as carol sync >/dev/null
[ "$(contact_id carol "Lawyer Ivanova-Orlova")" = "$LAWYER" ] || fail "carol does not see boris's edit"
echo "ok: edits after the newcomer's arrival reach everyone"

# A later sync does not fetch the file either.
as carol sync --json > "$WORK/carol.sync2"
again=$(json_field 'd["bytes_received"]' < "$WORK/carol.sync2")
[ $((again * 10)) -lt "$history_bytes" ] || fail "carol's second sync received $again bytes"
echo "ok: a later sync received $again bytes"
