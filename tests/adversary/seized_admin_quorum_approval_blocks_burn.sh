# SECURITY.md rows 72 and 73: "... and two admins then remove the seized identity"; "a burn
# notice makes every member reject what the seized member's keys sign that the notice has not
# seen ... approvals included". Broken by the floor rule of §5.10 (a quorum change the proposal
# does not follow is held whole, not capped by the admins at its position).
#
# Quorum 2; Anna, Boris and Sasha are admins, Mark a member (three admins, as `group quorum`
# advises). Anna proposes raising the quorum to 3; it waits for a second admin. Sasha's device
# is seized. Anna sends the burn notice for Sasha and Boris approves it: it takes effect (two
# other admins). The seized copy, which never saw the notice, approves Anna's pending quorum
# change. That approval is not seen by the notice, so the notice drops it — but the floors are
# computed from records "valid or dropped", so the quorum change counts as effective at Sasha's
# approval, which the notice does not follow: the notice's K* is 3, not capped by the two admins
# other than Sasha who can approve it. The notice can never complete; Sasha is an admin again at
# every member, the quorum is 3 with Sasha's approval standing.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
source "$(dirname "$0")/lib_quorum.bash"
start_relay
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member sasha "Sasha Seized"
new_member mark "Mark Member"
quorum_scene "boris sasha" "mark"
[ "$(as mark group quorum "$G")" = 2 ] || fail "setup: quorum not 2"
# Anna proposes a quorum of 3; it waits.
as anna group quorum "$G" 3 >/dev/null 2>&1 || true
for w in anna boris sasha mark; do as "$w" sync >/dev/null 2>&1 || true; done
qid=$(pending_json sasha | python3 -c 'import json,sys; print(next(p["id"][:8] for p in json.load(sys.stdin) if p.get("quorum") == 3 or "quorum" in p.get("kind","")))')
[ -n "$qid" ] || fail "setup: Sasha does not hold Anna's pending quorum change: $(pending_json sasha)"
[ "$(as mark group quorum "$G")" = 2 ] || fail "setup: the quorum change did not wait"

# Sasha's device is seized (a copy with its passphrase); it stays offline for now.
cp -a "$WORK/sasha" "$WORK/seized"; cp "$WORK/sasha.pass" "$WORK/seized.pass"
rm -rf "$WORK/sasha"   # the real device is gone
# Anna and Boris burn Sasha.
as anna group compromised "$G" "Sasha Seized" >/dev/null 2>&1 || fail "group compromised failed"
as anna sync >/dev/null 2>&1 || true
as boris sync >/dev/null 2>&1 || true
nid=$(pending_json boris | python3 -c 'import json,sys; print(next(p["id"][:8] for p in json.load(sys.stdin) if p["id"][:8] != sys.argv[1]))' "$qid")
as boris group approve "$G" "$nid" >/dev/null || fail "Boris could not approve the notice"
for w in boris anna mark; do as "$w" sync >/dev/null 2>&1 || true; done
expected=$(printf '%s\n' "Anna Petrova admin" "Boris Ivanov admin" "Mark Member")
for w in anna boris mark; do
  [ "$(members_of $w)" = "$expected" ] || fail "the notice did not take effect at $w: $(members_of $w | tr '\n' ';')"
done
echo "the burn notice took effect: $(members_of mark | tr '\n' ';')"

# The seized copy, which never saw the notice, approves Anna's quorum change and syncs.
as seized group approve "$G" "$qid" >/dev/null 2>&1 || echo "the seized copy could not approve"
as seized sync >/dev/null 2>&1 || true
for w in anna boris mark anna boris mark; do as "$w" sync >/dev/null 2>&1 || true; done
for w in anna boris mark; do
  got=$(members_of "$w")
  echo "$w sees: $(tr '\n' ';' <<<"$got") quorum $(as $w group quorum "$G" 2>/dev/null)"
  [ "$got" = "$expected" ] ||
    problem "rows 72/73: the seized admin's approval, unseen by the burn notice, undid the notice at $w: $(tr '\n' ';' <<<"$got")"
done
as anna group pending "$G" 2>/dev/null | sed 's/^/anna pending: /'
# While Sasha stands again, what Anna writes:
as anna post "$G" "Anna writes after the burn" >/dev/null 2>&1 || echo "Anna cannot post"
for w in anna boris mark anna; do as "$w" sync >/dev/null 2>&1 || true; done
as seized sync >/dev/null 2>&1 || true
reads seized "Anna writes after the burn" &&
  problem "row 73: the burned device reads what Anna wrote after the notice took effect"
as seized post "$G" "The seized device writes" >/dev/null 2>&1 || true; as seized sync >/dev/null 2>&1 || true
for w in anna boris mark; do as "$w" sync >/dev/null 2>&1 || true; done
reads mark "The seized device writes" && problem "row 73: Mark shows a post the burned device wrote after the notice"
# Not part of the verdict: can Anna and Boris burn Sasha again with a new notice, which
# follows the quorum change? (It needs min(3, max(2, 2)) = 2.)
if as anna group compromised "$G" "Sasha Seized" >"$WORK/second.out" 2>&1; then
  as anna sync >/dev/null 2>&1 || true; as boris sync >/dev/null 2>&1 || true
  for id in $(pending_json boris | python3 -c 'import json,sys; print(" ".join(p["id"][:8] for p in json.load(sys.stdin)))'); do
    as boris group approve "$G" "$id" >/dev/null 2>&1 || true
  done
  for w in boris anna mark; do as "$w" sync >/dev/null 2>&1 || true; done
  echo "after a second notice, Mark sees: $(members_of mark | tr '\n' ';')"
else
  echo "a second notice was refused: $(cat "$WORK/second.out")"
fi
finish
