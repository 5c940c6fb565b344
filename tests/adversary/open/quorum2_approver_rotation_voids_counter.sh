# Quorum 2: the honest counter-removal's approval, written after the approver's own client
# rotated in the proposer's void epoch, is void — the seized admin stays (rows 3, 6, 73;
# SECURITY.md "Group rules": a removal of the remover, "or an approval of one", stands on void
# rotations "by its author (or the approver)" … "concurrent with a removal or demotion of their
# author that the target wrote or approved"; mutual_removal_quorum_orders.sh SIDE=rotate).
# Admins Anna, Boris, Clara, Dima (seized); members Mila, Nina; quorum 2. Relay stopped after
# setup; everything travels by sync file. Mila replaces her key (`rekey`). Anna, not having seen
# it, rotates and proposes removing Dima (SIDE=rotate of mutual_removal_quorum_orders.sh). Boris
# takes Anna's file and then Mila's key update: his sync rotates for the new key — in Anna's rotation's
# epoch — and he approves in his rotation's epoch. Dima proposes removing Anna; Clara approves.
# Expected, as in mutual_removal_quorum_orders.sh: Anna and Dima both gone, every member agreeing.
# VARIANT=norekey (the control): Mila does not rekey, so Boris does not rotate before approving.
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
source "$(dirname "$0")/../lib_quorum.bash"
start_relay
new_member anna "Anna Petrova"; new_member boris "Boris Ivanov"; new_member clara "Clara Admin"
new_member dima "Dima Seized"; new_member mila "Mila Member"; new_member nina "Nina Member"
quorum_scene "boris clara dima" "mila nina" 2
for w in anna boris clara dima mila nina; do as $w sync >/dev/null 2>&1 || true; done
[ "$(as nina group quorum "$G" 2>&1 | grep -o '[0-9]\+' | head -1)" = 2 ] || fail "setup: quorum is not 2 at Nina"
kill "${CLEANUP_PIDS[0]}" 2>/dev/null || true; sleep 0.5
pid_of() { as "$1" group pending "$G" --json | python3 -c '
import json,sys
for p in json.load(sys.stdin):
    if p["kind"] == "remove": print(p["id"][:8]); break'; }
tofile() { as "$1" sync --to-file "$WORK/$2.sync" >/dev/null 2>&1 || fail "no sync file from $1"; }
fromfile() { as "$1" sync --from-file "$WORK/$2.sync" 2>&1 | grep -i "rotated" || true; }
if [ "${VARIANT:-rekey}" = rekey ]; then
  as mila rekey "$G" >/dev/null 2>&1 || fail "Mila could not rekey"
fi
tofile mila m0
as anna group rotate "$G" >/dev/null 2>&1 || echo "(anna rotate exit $?)"
as anna group remove "$G" "Dima Seized" >/dev/null 2>&1 || echo "(anna remove exit $?)"
tofile anna a1
echo "boris takes anna's file: $(fromfile boris a1)"
echo "boris takes mila's file: $(fromfile boris m0)"
echo "boris approves: $(as boris group approve "$G" "$(pid_of boris)" 2>&1 | head -1)"
tofile boris b1
as dima group remove "$G" "Anna Petrova" >/dev/null 2>&1 || echo "(dima remove exit $?)"
tofile dima d1; fromfile clara d1 >/dev/null
echo "clara approves: $(as clara group approve "$G" "$(pid_of clara)" 2>&1 | head -1)"
tofile clara c1
for w in mila nina boris clara; do fromfile $w m0 >/dev/null; fromfile $w b1 >/dev/null; fromfile $w c1 >/dev/null; done
tofile boris b2; tofile clara c2
for w in mila nina boris clara; do fromfile $w b2 >/dev/null; fromfile $w c2 >/dev/null; done
ref=$(members_of mila); echo "mila: $(tr '\n' ';' <<<"$ref")"
for w in nina boris clara; do
  m=$(members_of $w); echo "$w: $(tr '\n' ';' <<<"$m")"
  [ "$m" = "$ref" ] || problem "row 6: $w and Mila disagree on the members (VARIANT=${VARIANT:-rekey})"
done
grep -q "Dima Seized" <<<"$ref" && problem "rows 3/73, Group rules (mutual removals remove both, also under a quorum): the seized Dima is still a member at Mila while his counter-proposal removed Anna (VARIANT=${VARIANT:-rekey})"
grep -q "Anna Petrova" <<<"$ref" && echo "note: Anna is still a member at Mila"
echo "boris's approval at nina: $(as nina group audit "$G" 2>&1 | grep "approve .*signed by Boris" | head -2 | tr '\n' ' ')"
finish
