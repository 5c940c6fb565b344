# The cut of references to records refused for membership (docs/design.md §7.7) rests on the
# `rejected` table, which keeps at most 10,000 rows, oldest dropped. Ivan, removed, keeps a copy
# of his home: he posts from it after his removal (Anna refuses the post, `author was removed`),
# then floods Anna with more than 10,000 records she must refuse (kolokol-adversary forge-batch,
# in the old epoch he still holds a key to), so that the row for his post is dropped. Carl, who
# was away, applies Ivan's post before learning of the removal and names it in what he writes
# next. Were the cut the only thing that let Anna take Carl's posts, they would now wait at her
# for good (row 6: what a member holds is a function of the record set; stale_member_silences).
# They must not: whoever holds a record naming Ivan's post holds the post too, so it comes again,
# is refused again, and wakes what waits for it.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
setup_ivan_with_copy
# A second copy, without his post: the flood must not carry the post again.
cp -a "$WORK/ivan" "$WORK/ivan_flood"; cp "$WORK/ivan.pass" "$WORK/ivan_flood.pass"
as anna post "$G" "Anna, while Carl is away" >/dev/null
as anna group remove "$G" "Ivan Member" >/dev/null
as anna sync >/dev/null
as ivan_before post "$G" "Ivan, from his old home" >/dev/null || fail "Ivan's old home could not post"
as ivan_before sync >/dev/null 2>&1 || true
as anna sync >/dev/null 2>&1 || true
refused() { as anna rejected --json --limit 100000 | python3 -c '
import json, sys
j = json.load(sys.stdin)
rows = j if isinstance(j, list) else j.get("rejected", j.get("records", []))
print(sum(1 for r in rows if "removed" in json.dumps(r)), len(rows))'; }
read -r removed total <<<"$(refused)"
[ "$removed" -ge 1 ] || fail "setup: Anna did not refuse Ivan's post as a removed member's ($removed of $total)"
echo "Anna refused Ivan's post: $removed row(s) for a removed author, $total in all"

# The flood: about 12,000 records Anna must refuse, in one file.
adv forge-batch "$WORK/ivan_flood" "$WORK/ivan_flood.pass" "$G" "$WORK/flood.sync" 6000 >/dev/null
as anna sync --from-file "$WORK/flood.sync" >/dev/null 2>&1 || true
read -r removed total <<<"$(refused)"
echo "after the flood: $removed row(s) for a removed author, $total in all"
[ "$total" -le 10000 ] || problem "the rejected table holds $total rows, over its 10,000"
[ "$removed" -eq 0 ] || fail "setup: the flood did not push out the row for Ivan's post"
# Anna's copy that will hear of Carl only by his sync file.
cp -a "$WORK/anna" "$WORK/anna2"; cp "$WORK/anna.pass" "$WORK/anna2.pass"

as carl sync >/dev/null 2>&1 || true
as carl group members "$G" | grep -q "Ivan Member" && fail "setup: Carl did not learn of the removal"
as carl post "$G" "Carl: back, I can drive on Friday" >/dev/null || problem "Carl cannot post"
as carl post "$G" "Carl: and I bring the documents" >/dev/null || problem "Carl cannot post"
as carl sync >/dev/null 2>&1 || true
for w in anna boris; do
  as $w sync >/dev/null 2>&1 || true
  as $w sync >/dev/null 2>&1 || true
  reads $w "Carl: back, I can drive on Friday" && reads $w "Carl: and I bring the documents" ||
    problem "row 6: $w never gets Carl's posts after the flood (they wait for Ivan's post)"
  ! reads $w "Ivan, from his old home" || problem "$w shows the removed member's post"
done
# Sneakernet too: Carl's sync file holds what his posts name.
as carl sync --to-file "$WORK/carl.sync" --group "$G" >/dev/null 2>&1 || true
as anna2 sync --from-file "$WORK/carl.sync" >/dev/null 2>&1 || true
reads anna2 "Carl: back, I can drive on Friday" && reads anna2 "Carl: and I bring the documents" ||
  problem "row 6: Anna's copy that read Carl's sync file after the flood does not get his posts"
! reads anna2 "Ivan, from his old home" || problem "Anna's copy shows the removed member's post"
finish
