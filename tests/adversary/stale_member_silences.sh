# A removed member — no admin — must not silence an honest member with one post from a copy of
# his home. Ivan is a member; Carl is offline for a while. Ivan keeps a copy of his home; Anna
# writes a few messages and removes Ivan. Ivan's old home posts once and syncs to the group's
# relay (the old epoch's mailbox stays open, row 17). Carl comes back and syncs: in one batch,
# in Lamport order, Ivan's post comes before his removal, so Carl accepts it (it is hidden from
# Carl's `read` once the removal is applied, but stays one of his heads). Every record Carl writes
# from then on names it as a parent, or has such a record as its `prev`. Anna and Boris refused
# Ivan's post (`author was removed`), so Carl's records would wait at them for a parent that
# never comes — nothing Carl writes would reach the group, without a word to anyone — were
# references to records refused for membership not cut (docs/design.md §7, causal delivery). Promises: a
# removed member cannot have new records accepted (adversaries table) — here his record decides
# what the group accepts of others; membership and message order are a function of the record
# set (row 6); a member is not left waiting for what it will never get (row 27's principle).
# No malice is needed: an honest member removed while offline, who posts before he syncs, does
# the same to whoever catches up after him (checked by hand: the same result without the copy).
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
setup_ivan_with_copy
for i in 1 2 3; do as anna post "$G" "Anna, while Carl is away, $i" >/dev/null; done
as anna group remove "$G" "Ivan Member" >/dev/null
as anna sync >/dev/null
as boris sync >/dev/null
as ivan_before post "$G" "Ivan, from his old home" >/dev/null || fail "Ivan's old home could not post"
as ivan_before sync >/dev/null 2>&1 || true

as carl sync >/dev/null 2>&1 || true  # Carl comes back
as carl group members "$G" | grep -q "Ivan Member" && fail "setup: Carl did not learn of the removal"
reads carl "Ivan, from his old home" && problem "Carl shows a post by a removed member"
as carl post "$G" "Carl: back, I can drive on Friday" || problem "Carl cannot post"
as carl sync >/dev/null 2>&1 || true
as carl post "$G" "Carl: and I bring the documents" || problem "Carl cannot post"
as carl sync >/dev/null 2>&1 || true
for w in anna boris; do
  as $w sync >/dev/null 2>&1 || true
  as $w sync >/dev/null 2>&1 || true
  reads $w "Carl: back, I can drive on Friday" ||
    problem "$w never gets Carl's post (it waits for the removed member's record)"
  reads $w "Carl: and I bring the documents" ||
    problem "$w never gets Carl's second post"
done
a=$(as anna read "$G" --limit 100000 --json | python3 -c 'import json,sys; print(sorted(m["id"] for m in json.load(sys.stdin)))')
c=$(as carl read "$G" --limit 100000 --json | python3 -c 'import json,sys; print(sorted(m["id"] for m in json.load(sys.stdin)))')
[ "$a" = "$c" ] || problem "Anna and Carl, synced with the same relay, show different messages"
finish
