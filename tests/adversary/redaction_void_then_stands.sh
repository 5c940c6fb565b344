# A redaction voided for a while, then standing again, leaves the redacted post shown for good at
# a member who synced in between (rows 6, 26, 27, 73).
# Fixed (§13.7): applied redactions are judged again both ways, with the full stands test,
# after every batch that changes control records, and a redaction of a redaction is deleted like
# any other target; the text below describes the break as it was.
# §13.7: a redaction whose author a later removal drops is undone — its target's row is
# forgotten and fetched again. But when the removal is voided in turn (a burn notice drops the
# approval that completed it), nothing tombstones the target again: settle_redactions only
# looks at redactions that are void now, and a target comes back to redact_later only when it or
# a redaction of it is applied. So a member who fetched the target again while the removal stood
# keeps showing it, and keeps its plaintext and envelope, although the redaction stands — while a
# member who gets the same records in another order has the tombstone.
# Quorum 2; admins Anna, Boris, Clara (seized); members Mila, Nina, Xavier; a real relay.
#   Xavier posts a safe-house address and then redacts it himself (Boris has not seen the
#   redaction). Mila syncs: the post is gone at her. Boris proposes removing Xavier (his cutoff
#   is the post, not the redaction). Anna sends the burn notice for Clara; Boris approves it but
#   has not synced. The seized copy approves the removal: it completes at Mila, Xavier's
#   redaction is void there, the post's row is forgotten and fetched again from the relay.
#   Boris syncs: the notice drops the seized approval, the removal waits, Xavier is a member
#   and his redaction stands at every member. Nina, who synced at the end only, shows the post
#   as redacted; Mila must too.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_removal_scene.bash"
start_relay
new_member anna "Anna Petrova"; new_member boris "Boris Ivanov"; new_member clara "Clara Seized"
new_member mila "Mila Member"; new_member nina "Nina Member"; new_member xavier "Xavier Member"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
for w in boris clara; do
  as $w group join "$(as anna group add "$G" "$(card_of $w)" --admin 2>/dev/null)" >/dev/null
done
for w in mila nina xavier; do invite anna $w; done
as anna group quorum "$G" 2 >/dev/null 2>&1
for r in 1 2; do for w in anna boris clara mila nina xavier; do as $w sync >/dev/null 2>&1 || true; done; done
[ "$(as nina group quorum "$G" 2>&1 | grep -o '[0-9]\+' | head -1)" = 2 ] || fail "setup: quorum is not 2 at Nina"
cp -a "$WORK/clara" "$WORK/seized"; cp "$WORK/clara.pass" "$WORK/seized.pass"

P="Safe house: Lesnaya 14, flat 9, knock twice"
as xavier post "$G" "$P" >/dev/null || fail "Xavier could not post"
for w in anna boris mila nina seized; do as $w sync >/dev/null 2>&1 || true; done
reads nina "$P" && reads mila "$P" && reads boris "$P" || fail "setup: the post did not reach everyone"
pid=$(as xavier read "$G" --json | python3 -c '
import json, sys
print(next(m["id"] for m in json.load(sys.stdin) if "Lesnaya" in m.get("text", "")))')
# Xavier regrets it: he redacts his own post. Boris, Nina and the seized copy do not see it yet.
as xavier redact "$G" "${pid:0:16}" --reason "wrong channel" >/dev/null || fail "Xavier could not redact"
as xavier sync >/dev/null 2>&1 || true
as mila sync >/dev/null 2>&1 || true
as anna sync >/dev/null 2>&1 || true
reads mila "$P" && fail "setup: Mila still shows the post after its author's redaction"
echo "Mila: the post is redacted"

# Boris proposes removing Xavier (cutoff: the post, the latest of Xavier's records he holds).
as boris group remove "$G" "Xavier Member" >/dev/null 2>&1 || fail "Boris could not propose removing Xavier"
as boris sync >/dev/null 2>&1 || true
out=$(as anna group compromised "$G" "Clara Seized" 2>&1) || fail "Anna's notice: $out"
echo "anna: $out"
as anna sync >/dev/null 2>&1 || true
as boris sync >/dev/null 2>&1 || true
echo "boris: $(as boris group approve "$G" "$(pending_id boris burn)" 2>&1 | head -1)"
# Boris does not sync yet. The seized copy approves the removal of Xavier.
as seized sync >/dev/null 2>&1 || true
echo "seized: $(as seized group approve "$G" "$(pending_id seized remove)" 2>&1 | head -1)"
as seized sync >/dev/null 2>&1 || true
as mila sync >/dev/null 2>&1 || true
as mila sync >/dev/null 2>&1 || true
echo "mila while the seized approval stands: $(members_of mila)"
echo "mila shows the post again: $(reads mila "$P" && echo yes || echo no)"

# Boris syncs: the notice drops the seized approval. Everyone catches up.
for r in 1 2 3; do for w in boris anna mila nina xavier; do as $w sync >/dev/null 2>&1 || true; done; done
for w in anna boris mila nina xavier; do
  echo "$w: $(members_of $w) — post shown: $(reads $w "$P" && echo yes || echo no)"
done
[ "$(members_of mila)" = "$(members_of nina)" ] || echo "(Mila and Nina disagree on the members)"
if grep -q "Xavier" <<<"$(members_of nina)"; then
  for w in anna boris mila nina; do
    reads $w "$P" && problem "row 27/26: $w shows Xavier's post though his redaction of it stands (Xavier is a member)"
  done
fi
# Mila's store keeps the plaintext: read it from her database directly as well.
as mila sync --to-file "$WORK/mila.sync" >/dev/null 2>&1 || true
as nina sync --from-file "$WORK/mila.sync" >/dev/null 2>&1 || true
reads nina "$P" && problem "row 27: Nina shows the redacted post again after Mila's sync file"
finish
