# The chat under a quorum of 2: Boris's chat is open when Anna's proposed add of Dave arrives
# through the relay; a line announces it and the strip shows it waiting; /pending lists it;
# /approve with its short id makes it effective, and Anna sees Dave as a member after a sync.
source "$(dirname "$0")/lib.bash"
command -v tmux >/dev/null || fail "tmux is missing: run scripts/deps"
export LC_ALL=C.UTF-8
source "$(dirname "$0")/lib_tmux.bash"
trap 'tmux_cleanup; cleanup' EXIT
start_relay
G=Legal
new_member anna Anna
new_member boris Boris
new_member dave Dave
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$ADDR" >/dev/null
as boris group join "$(as anna group add "$G" "$(card_of boris)" --admin 2>/dev/null)" >/dev/null
as anna group quorum "$G" 2 >/dev/null
as anna sync >/dev/null
as boris sync >/dev/null

tmx new-session -d -s boris -x 100 -y 30 \
  "env KOLOKOL_HOME='$WORK/boris' KOLOKOL_PASSPHRASE_FILE='$WORK/boris.pass' LANG=C.UTF-8 \
   '$KOLOKOL' chat '$G' 2>'$WORK/boris.err'; echo \$? > '$WORK/boris.rc'; sleep 0.5"
wait_for boris "$G · 2 members"
wait_for boris "Live with 127.0.0.1:"

as anna group add "$G" "$(card_of dave)" >/dev/null 2>&1
as anna sync >/dev/null
ID=$(as anna group pending "$G" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"][:8])')
wait_for boris "Waiting for approvals in $G: add Dave. /approve $ID approves it." 30
wait_for boris "Waiting: add Dave (1 of 2 approvals)  #$ID"
echo "ok: the proposal arriving live is announced and shown in the strip"
type_line boris "/pending"
wait_for boris "$ID  add Dave  proposed by Anna  1 of 2 approvals"
type_line boris "/approve 0000"
wait_for boris "no proposal 0000 is waiting in this group"
type_line boris "/approve $ID"
wait_for boris "Approved: add Dave. It has taken effect."
wait_for boris "$G · 3 members"
screen boris | grep -qF "Waiting: add Dave" && fail "the strip still shows the add waiting: $(screen boris)"
echo "ok: /pending lists it; /approve makes it effective"
quit_chat boris
as boris sync >/dev/null
as anna sync >/dev/null
[ "$(as anna group members "$G" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ] ||
  fail "Anna does not see Dave after Boris's approval in the chat"
[ "$(as anna group pending "$G" --json)" = "[]" ] || fail "Anna still lists a pending change"
echo "ok: the approval from the chat reached Anna"
