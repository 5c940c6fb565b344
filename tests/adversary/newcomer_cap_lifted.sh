# A removed member must not lift the newcomers' size cap (SECURITY.md row 65). Eve is removed;
# with the old epoch keys she kept she writes records that wait for a parent that does not exist
# and pushes them to her old mailbox on the group's own relay. A group with a waiting record has
# its control-only mailboxes opened without the 49,152-byte cap (a control record over it may be
# what is missing), but only a waiting record by a member counts: Eve's are unverified. So a
# newcomer without history added after the attack still downloads none of the old epochs'
# attachment chunks. (Before this rule: 5.3 MB for a 4 MiB history.) The client keeps the cap
# too: a relay that ignores it is cut off (test_sync "a size cap…").
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
start_relay
G="Legal support"
new_member anna Anna
new_member eve Eve
new_member dan Dan
new_member carol Carol
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
as eve group join "$(as anna group add "$G" "$(card_of eve)" 2>/dev/null)" >/dev/null
head -c $((4 << 20)) /dev/urandom > "$WORK/video.mp4"
as anna report add "$G" --place "Court 3" --at "2026-03-01 10:05" --text "hearing" \
  --attach "$WORK/video.mp4" --no-send >/dev/null 2>&1
as anna sync >/dev/null
as eve sync >/dev/null
as anna group remove "$G" Eve >/dev/null
as anna sync >/dev/null
bytes_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes_received"])'; }

# Before the attack: a newcomer without history receives a small part of the history.
as dan group join "$(as anna group add "$G" "$(card_of dan)" 2>/dev/null)" >/dev/null
as anna sync >/dev/null
before=$(as dan sync --json | bytes_of)
[ "$before" -lt $((1 << 20)) ] || fail "the cap did not hold even before the attack ($before bytes)"

adv junk-sync-file "$WORK/eve" "$WORK/eve.pass" "$WORK/junk.sync" 1 waiting
as eve sync --from-file "$WORK/junk.sync" >/dev/null 2>&1 || true
as eve sync >/dev/null 2>&1 || true

as carol group join "$(as anna group add "$G" "$(card_of carol)" 2>/dev/null)" >/dev/null
as anna sync >/dev/null
after=$(as carol sync --json | bytes_of)
echo "newcomer before the attack: $before bytes; after it: $after bytes (history: 4 MiB)"
# Eve's 1 MiB of junk records, each under the cap, reaches the newcomer (counted against its
# unverified quota, row 44); the old epochs' 4 MiB file must not.
[ "$after" -lt $((2 << 20)) ] || fail "row 65: one record of a removed member lifted the cap: \
a newcomer without history downloaded $after bytes of old epochs it cannot read"
echo "held: the cap holds for newcomers after a removed member's waiting record"
