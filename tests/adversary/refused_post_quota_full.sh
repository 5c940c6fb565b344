# A removal voided later (its completing approval dropped by a burn notice) must bring the removed
# member's concurrent post back at every member, also at one who refused it at ingest
# (`removed_author`) while the removal stood and whose unverified quota was full then
# (SECURITY.md row 6 "a function of the record set", row 73 "whatever the order";
# docs/design.md §5.4, §7.9). Anyone holding an old file key can fill that quota: here the
# seized admin's copy itself, with a sync file of records by strangers that wait forever
# (`kolokol-adversary junk-sync-file … waiting`). The refused post's row (id, author, seq,
# heads) is kept without its envelope, and once the post stands the envelope is fetched again.
# The scene of refused_post_not_restored.sh (quorum 2; admins Anna, Boris, Clara (seized);
# members Mila, Nina, Xavier; a real relay), with one step more: after Mila has applied the
# seized copy's approval of Xavier's removal, the copy hands Mila a 72 MiB sync file of waiting
# junk (her 64 MiB quota fills, exit 14); then Xavier's post reaches her and is refused.
# Boris's approval of the burn notice voids the removal at every member: Nina (who applied the
# post before the removal) shows it, and Mila must show it too after her next syncs (and after a
# sync file of Nina's). Exits 1 when two members holding the same records show different
# messages.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_removal_scene.bash"
removal_scene
members_of mila | grep -q "Xavier" && fail "setup: the removal did not take effect at Mila"
# The seized copy fills Mila's unverified quota (any holder of the group's file key can).
adv junk-sync-file "$WORK/seized" "$WORK/seized.pass" "$WORK/junk.sync" 72 waiting >/dev/null
rc=0; out=$(as mila sync --from-file "$WORK/junk.sync" 2>&1) || rc=$?
echo "mila imports the junk: exit $rc: $(head -1 <<<"$out")"
rm -f "$WORK/junk.sync"
echo "xavier: $(as xavier sync 2>&1 | head -1)"
as mila sync >/dev/null 2>&1 || true
echo "mila rejected: $(as mila rejected 2>&1 | tr '\n' ' ')"
as nina sync >/dev/null 2>&1 || true
for r in 1 2 3; do for w in boris anna mila nina xavier; do as $w sync >/dev/null 2>&1 || true; done; done
for w in anna boris mila nina; do
  m=$(members_of $w); echo "$w: $m"
  if reads $w "Xavier was here"; then echo "  $w shows Xavier's post"; else echo "  $w does not show Xavier's post"; fi
done
[ "$(members_of mila)" = "$(members_of nina)" ] || problem "Mila and Nina disagree on the members"
if grep -q "Xavier" <<<"$(members_of mila)"; then
  for w in anna boris mila nina; do
    reads $w "Xavier was here" || problem "$w does not show Xavier's post though Xavier is a member and his removal waits at every member"
  done
fi
# Nina hands Mila a sync file of everything she holds: Mila still does not take the post.
as nina sync --to-file "$WORK/nina.sync" >/dev/null 2>&1 || echo "(Nina could not write a sync file)"
echo "mila from Nina's file: $(as mila sync --from-file "$WORK/nina.sync" 2>&1 | head -1)"
if reads nina "Xavier was here" && ! reads mila "Xavier was here"; then
  problem "Nina shows Xavier's post, Mila (who got it while the removal stood) does not"
fi
finish
