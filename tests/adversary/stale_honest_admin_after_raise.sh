# design.md §5.10: "An honest admin who writes at a stale position is only held to the quorum the
# group already has; the approvals of the others complete it as usual." Quorum 2; Anna, Boris and
# Carol are admins. Carol is offline. Anna raises the quorum to 3, Boris approves (three admins:
# valid). Carol, still at the old position, proposes adding Dan; her add does not follow the
# raise, so it is held to 3 (uncapped). Anna and Boris approve: it must take effect everywhere.
# (Passes: the promise holds.)
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
source "$(dirname "$0")/lib_quorum.bash"
start_relay
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member carol "Carol Smirnova"
new_member mark "Mark Member"
new_member dan "Dan Newcomer"
quorum_scene "boris carol" "mark"
approve_as() {  # WHO approves every pending proposal they may
  as "$1" sync >/dev/null 2>&1 || true
  for id in $(as "$1" group pending "$G" | awk '/approvals/ && !/you approved/ {print $1}'); do
    as "$1" group approve "$G" "$id" >/dev/null 2>&1 || true
  done
  as "$1" sync >/dev/null 2>&1 || true
}
# Carol goes offline. Anna raises the quorum to 3, Boris approves.
as anna group quorum "$G" 3 >/dev/null 2>&1
as anna sync >/dev/null 2>&1
approve_as boris
for w in anna mark; do as "$w" sync >/dev/null 2>&1 || true; done
[ "$(as mark group quorum "$G")" = 3 ] || fail "setup: the quorum is not 3 at Mark"
# Carol, stale, proposes Dan (her own store still says K = 2).
token=$(as carol group add "$G" "$(card_of dan)" --no-send 2>/dev/null || as carol group add "$G" "$(card_of dan)" 2>/dev/null)
as dan group join "$token" >/dev/null 2>&1 || true
as carol sync >/dev/null 2>&1 || true
as anna sync >/dev/null 2>&1 || true
as anna group pending "$G" | sed 's/^/anna pending: /'
approve_as anna
approve_as boris
for w in anna carol mark dan anna carol mark; do as "$w" sync >/dev/null 2>&1 || true; done
for w in anna boris carol mark; do
  got=$(members_of $w)
  echo "$w: $(tr '\n' ';' <<<"$got")"
  grep -q "Dan Newcomer" <<<"$got" || problem "§5.10: the stale honest admin's add, approved by the two others, did not take effect at $w"
done
finish
