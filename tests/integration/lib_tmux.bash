# Chat screens in tmux, one session per member, on a tmux server of this test's own. Source after
# lib.bash; tmux_cleanup belongs in the EXIT trap. Every wait polls the screen with a deadline.
TMUX_SOCK="kolokol-test-$$-$RANDOM"
tmx() { tmux -L "$TMUX_SOCK" "$@"; }
tmux_cleanup() { tmx kill-server 2>/dev/null || true; }
# screen WHO — what WHO's terminal shows now.
screen() { tmx capture-pane -p -t "$1" 2>/dev/null || true; }
# wait_for WHO TEXT [SECONDS] — until WHO's screen shows TEXT (a fixed string); on failure shows
# the screen and WHO's stderr ($WORK/WHO.err), if any.
wait_for() {
  local who=$1 text=$2 deadline=$((SECONDS + ${3:-15}))
  while ((SECONDS < deadline)); do
    screen "$who" | grep -qF -- "$text" && return 0
    sleep 0.1
  done
  fail "$who's screen never showed \"$text\"; it shows:
$(screen "$who")
--- $who's stderr:
$(cat "$WORK/$who.err" 2>/dev/null)"
}
# type_line WHO TEXT — types TEXT in WHO's chat and presses Enter.
type_line() {
  tmx send-keys -t "$1" -l -- "$2"
  tmx send-keys -t "$1" Enter
}
# quit_chat WHO — types /quit in WHO's chat, waits for its exit status ($WORK/WHO.rc, written by
# the tmux command) and fails unless it is 0.
quit_chat() {
  local who=$1 deadline=$((SECONDS + 10))
  type_line "$who" "/quit"
  until [ -s "$WORK/$who.rc" ]; do
    ((SECONDS < deadline)) || fail "/quit did not end $who's chat: $(screen "$who")"
    sleep 0.1
  done
  [ "$(cat "$WORK/$who.rc")" = 0 ] || fail "$who's chat exited with $(cat "$WORK/$who.rc"): $(cat "$WORK/$who.err" 2>/dev/null)"
}
