# A removal voided later (its completing approval dropped by a burn notice) must bring the removed
# member's concurrent post back at every member, also at one who received the post while the
# removal stood and refused it at ingest (`removed_author`): that member keeps the envelope
# (`dropped_held`, within the unverified quota) and judges it again when the control records
# change. Two members holding the same records must show the same thing (SECURITY.md row 6 "a
# function of the record set", row 73 "whatever the order"; docs/design.md §5.4, §5.10, §7.6 10).
# Quorum 2; admins Anna, Boris, Clara (seized); members Mila, Nina, Xavier; a real relay.
#   Xavier writes a post (--no-send). Boris proposes removing Xavier. Anna sends the burn notice
#   for Clara; Boris approves it (it takes effect at Boris) but has not synced yet. The seized
#   copy, which has not seen Boris's approval, approves the removal of Xavier: it takes effect
#   there. Mila syncs (Xavier removed), then Xavier's post arrives: Mila refuses it. Nina syncs
#   once and applies the post before the removal (Lamport order). Boris syncs: the notice drops
#   Clara's approval, the removal waits again and Xavier is a member at everyone — Nina shows
#   his post, and Mila must show it too (also after a sync file of Nina's).
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_removal_scene.bash"
removal_scene
members_of mila | grep -q "Xavier" && fail "setup: the removal did not take effect at Mila"
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
