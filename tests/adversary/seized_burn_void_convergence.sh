# Convergence (SECURITY.md row 26 "Object state is a function of the records held ... in any
# order", row 73 "records already shown are taken out of every view when the notice arrives,
# whatever the order", design §5.9). Same scene as seized_admin_quorum_approval_blocks_burn.sh,
# with two members. The seized copy posts first (at a position without the notice) and syncs;
# Mark syncs then, while the notice stands. Then the seized copy approves the pending quorum
# change, which voids the notice. Nina syncs only now and gets the post and the approval
# together. Do Mark and Nina show the same messages?
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
source "$(dirname "$0")/lib_quorum.bash"
start_relay
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member sasha "Sasha Seized"
new_member mark "Mark Member"
new_member nina "Nina Member"
quorum_scene "boris sasha" "mark nina"
[ "$(as mark group quorum "$G")" = 2 ] || fail "setup: quorum not 2"
# Anna proposes a quorum of 3; it waits.
as anna group quorum "$G" 3 >/dev/null 2>&1 || true
for w in anna boris sasha mark nina; do as "$w" sync >/dev/null 2>&1 || true; done
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
for w in boris anna mark nina; do as "$w" sync >/dev/null 2>&1 || true; done
expected=$(printf '%s\n' "Anna Petrova admin" "Boris Ivanov admin" "Mark Member" "Nina Member")
for w in anna boris mark nina; do
  [ "$(members_of $w)" = "$expected" ] || fail "the notice did not take effect at $w: $(members_of $w | tr '\n' ';')"
done
echo "the burn notice took effect: $(members_of mark | tr '\n' ';')"

# The seized copy posts, syncs; Mark syncs while the notice stands.
# (Offline: the copy writes the post, is copied once more, then approves; the first copy's sync
# sends the post alone.)
as seized post "$G" "Seized post one" --no-send >/dev/null 2>&1 || as seized post "$G" "Seized post one" >/dev/null 2>&1 || echo "seized could not post"
cp -a "$WORK/seized" "$WORK/seized_a"; cp "$WORK/seized.pass" "$WORK/seized_a.pass"
as seized group approve "$G" "$qid" >/dev/null 2>&1 || echo "the seized copy could not approve"
as seized_a sync >/dev/null 2>&1 || true
as mark sync >/dev/null 2>&1 || true
reads mark "Seized post one" && echo "(Mark shows the first post while the notice stands)"
as seized sync >/dev/null 2>&1 || true
for w in nina mark anna boris nina mark; do as "$w" sync >/dev/null 2>&1 || true; done
for w in mark nina anna boris; do echo "$w: $(members_of $w | tr '\n' ';') post shown: $(reads $w "Seized post one" && echo yes || echo no)"; done
m=$(reads mark "Seized post one" && echo yes || echo no)
n=$(reads nina "Seized post one" && echo yes || echo no)
[ "$m" = "$n" ] || problem "row 26/73: Mark and Nina hold the same records but one shows the seized post (Mark: $m, Nina: $n)"
[ "$(members_of mark)" = "$(members_of nina)" ] || problem "members differ between Mark and Nina"
finish
