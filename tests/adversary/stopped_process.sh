# A command stopped from its terminal keeps its keys (row 54). Someone holding a `chat` or a
# `read --follow` presses Ctrl-Z (or the shell stops a background job that touches the terminal:
# SIGTTIN, SIGTTOU); then the owner, or a coerced owner with the duress passphrase, erases the
# store from another terminal. A stopped process runs nothing, not even its store guard: it
# would keep the database key in its memory and the deleted database open until continued.
# So no kolokol command can be stopped that way: each signal leaves it running, and the erase
# ends it within a second with exit 15, as for a running one. (SIGSTOP cannot be ignored; it
# needs the user's own rights, which is the seized-and-unlocked case SECURITY.md leaves out.)
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/../integration/lib_tmux.bash"
source "$(dirname "$0")/lib_adversary.bash"
command -v tmux >/dev/null || fail "tmux is missing: run scripts/deps"
export LC_ALL=C.UTF-8
trap 'tmux_cleanup; cleanup' EXIT

alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
stopped() { grep -q '^State:[[:space:]]*T' "/proc/$1/status" 2>/dev/null; }
now_ns() { date +%s%N; }

printf 'real passphrase\nduress passphrase\n' > "$WORK/anna.init"
KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/anna.init" "$KOLOKOL" init --name Anna \
  --kdf fast --duress >/dev/null
echo "real passphrase" > "$WORK/anna.pass"
echo "duress passphrase" > "$WORK/anna.duress"
start_relay
as anna group create G >/dev/null
as anna group relay add G "$ADDR" >/dev/null
as anna post G "Lawyer for Pavel: +7 900 000 00 00"

# read --follow and serve in the background, each sent the three signals.
PORT=$(pick_port)
( as_bg anna read G --follow > "$WORK/follow.out" 2>"$WORK/follow.err" ) &
FOLLOW=$!
( as_bg anna serve --listen "127.0.0.1:$PORT" > "$WORK/serve.out" 2>"$WORK/serve.err" ) &
SERVE=$!
CLEANUP_PIDS+=("$FOLLOW" "$SERVE")
for _ in $(seq 200); do grep -q "Lawyer" "$WORK/follow.out" && [ -s "$WORK/serve.out" ] && break; sleep 0.05; done
grep -q "Lawyer" "$WORK/follow.out" || fail "read --follow did not start: $(cat "$WORK/follow.err")"
alive "$SERVE" || fail "serve did not start: $(cat "$WORK/serve.err")"

# chat in a terminal, stopped the way a person does it: Ctrl-Z.
rm -f "$WORK/chat.rc"
tmx new-session -d -s anna -x 80 -y 24 \
  "env KOLOKOL_HOME='$WORK/anna' KOLOKOL_PASSPHRASE_FILE='$WORK/anna.pass' LANG=C.UTF-8 \
   '$KOLOKOL' chat G 2>'$WORK/chat.err'; echo \$? > '$WORK/chat.rc'; sleep 600"
wait_for anna "Lawyer" 20
shell_pid=$(tmx display-message -p -t anna '#{pane_pid}')
CHAT=$(cat "/proc/$shell_pid/task/$shell_pid/children" | tr -d ' ')
[ -n "$CHAT" ] && alive "$CHAT" || fail "no chat process under the tmux pane"

for sig in TSTP TTIN TTOU; do
  kill -"$sig" "$FOLLOW" "$SERVE"
done
tmx send-keys -t anna C-z
sleep 0.5
for p in follow="$FOLLOW" serve="$SERVE" chat="$CHAT"; do
  stopped "${p#*=}" && fail "${p%%=*} was stopped by SIGTSTP/SIGTTIN/SIGTTOU (Ctrl-Z for the chat): it would keep its keys through an erase"
  alive "${p#*=}" || fail "${p%%=*} ended on a stop signal"
done
echo "ok: SIGTSTP, SIGTTIN, SIGTTOU and Ctrl-Z stop none of read --follow, serve and chat"

# The duress passphrase in another process: all three end within a second, exit 15.
rc=0; KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/anna.duress" "$KOLOKOL" whoami \
  >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "the duress passphrase gave exit $rc"
erased=$(now_ns)
for p in follow="$FOLLOW" serve="$SERVE" chat="$CHAT"; do
  while alive "${p#*=}"; do
    (($(now_ns) < erased + 1000000000)) || fail "${p%%=*} still runs a second after the erase"
    sleep 0.01
  done
done
rc=0; wait "$FOLLOW" || rc=$?; [ "$rc" = 15 ] || fail "read --follow exited $rc"
rc=0; wait "$SERVE" || rc=$?; [ "$rc" = 15 ] || fail "serve exited $rc"
for _ in $(seq 100); do [ -s "$WORK/chat.rc" ] && break; sleep 0.02; done
[ "$(cat "$WORK/chat.rc")" = 15 ] || fail "the chat exited $(cat "$WORK/chat.rc")"
echo "ok: the duress erase ends all three within a second, exit 15"
