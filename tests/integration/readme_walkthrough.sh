# Follows the README's five-minute walk-through literally: extracts the ```sh blocks between the
# walkthrough markers, each named by its first line (# Relay, # Anna, # Boris), and runs them in
# order — the relay's block in the background, each person's blocks in "their terminal" (a shell
# that replays that person's earlier `cd` and `export` lines, as a terminal window would keep
# them). `kolokol` is found on PATH, as after installing; the relay's port 7000 becomes a free one
# so parallel tests do not collide. Prints how long it took.
#
# Two ways to type the passphrases (WALKTHROUGH_PASSPHRASES):
#   file      (default) from files, KOLOKOL_PASSPHRASE_FILE;
#   terminal  typed at a real terminal: every block runs in a tmux window, and each time a
#             passphrase prompt appears the test types the passphrase and Enter, as a person
#             would — also where the block's standard input or output is a file (`- < boris.card`,
#             `| tee`). The typed passphrases must never show on the screen.
#             (readme_walkthrough_tty.sh runs this mode.)
source "$(dirname "$0")/lib.bash"
README="$(dirname "$0")/../../README.md"
[ -f "$README" ] || fail "no README at $README"
MODE=${WALKTHROUGH_PASSPHRASES:-file}
case "$MODE" in file | terminal) ;; *) fail "WALKTHROUGH_PASSPHRASES is file or terminal, not $MODE" ;; esac

port=$(pick_port)
export HOME="$WORK/home"
mkdir -p "$HOME" "$WORK/bin"
ln -s "$KOLOKOL" "$WORK/bin/kolokol"
export PATH="$WORK/bin:$PATH"
for who in relay anna boris; do echo "the passphrase of $who in the walk-through" > "$WORK/$who.pass"; done

# Extract the blocks: one file per block, named NN-person.
mkdir "$WORK/blocks"
python3 - "$README" "$WORK/blocks" "$port" <<'PY' || fail "could not extract the walk-through"
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"<!-- walkthrough:start.*?-->(.*?)<!-- walkthrough:end -->", text, re.S)
assert m, "no walkthrough markers in the README"
blocks = re.findall(r"```sh\n(.*?)```", m.group(1), re.S)
assert len(blocks) >= 5, f"only {len(blocks)} blocks"
for i, b in enumerate(blocks):
    first = b.splitlines()[0]
    who = re.fullmatch(r"# (Relay|Anna|Boris)\b.*", first)
    assert who, f"block {i} does not start with '# Relay', '# Anna' or '# Boris': {first!r}"
    body = b.replace("127.0.0.1:7000", "127.0.0.1:" + sys.argv[3])
    open(f"{sys.argv[2]}/{i:02d}-{who.group(1).lower()}", "w", encoding="utf-8").write(body)
PY

RELAY_PID=""
if [ "$MODE" = terminal ]; then
  command -v tmux >/dev/null || fail "tmux is missing: run scripts/deps"
  source "$(dirname "$0")/lib_tmux.bash"
fi
cleanup_walkthrough() {
  [ -n "$RELAY_PID" ] && kill -- "-$RELAY_PID" 2>/dev/null || true
  [ "$MODE" = terminal ] && tmux_cleanup
  cleanup
}
trap cleanup_walkthrough EXIT

# In terminal mode: run_in_terminal NAME WHO SCRIPT [wait] — runs SCRIPT in a new tmux window
# NAME, typing WHO's passphrase at each prompt. With "wait", returns when the script ends and
# leaves its screen in $WORK/NAME.screen and its status in $WORK/NAME.rc; otherwise returns at
# once (the relay, left running).
prompt_re='^(.*[Pp]assphrase[^:]*|Repeat it): ?$'
whole_screen() { tmx capture-pane -p -J -S - -E - -t "$1" 2>/dev/null || true; }
# answer_prompts NAME WHO — types WHO's passphrase for each prompt window NAME shows that has
# not been answered yet; the count answered is kept in $WORK/NAME.answered.
answer_prompts() {
  local name=$1 who=$2 seen answered
  seen=$(whole_screen "walk:$name" | grep -cE "$prompt_re" || true)
  answered=$(cat "$WORK/$name.answered" 2>/dev/null || echo 0)
  while ((answered < seen)); do
    tmx send-keys -t "walk:$name" -l "$(cat "$WORK/$who.pass")"
    tmx send-keys -t "walk:$name" Enter
    answered=$((answered + 1))
    echo "$answered" > "$WORK/$name.answered"
  done
}
run_in_terminal() {
  local name=$1 who=$2 script=$3 wait=${4:-}
  if ! tmx has-session -t walk 2>/dev/null; then
    tmx new-session -d -s walk -n idle -x 250 -y 50 "sleep 100000"
  fi
  tmx new-window -d -t walk -n "$name" \
    "env HOME='$HOME' PATH='$PATH' LANG=C.UTF-8 bash -euo pipefail '$script'; echo \$? > '$WORK/$name.rc'; sleep 100000"
  [ -n "$wait" ] || return 0
  local deadline=$((SECONDS + 900))
  until [ -s "$WORK/$name.rc" ]; do
    ((SECONDS < deadline)) || fail "$name did not finish in 15 minutes; its screen:
$(whole_screen "walk:$name")"
    answer_prompts "$name" "$who"
    sleep 0.2
  done
  whole_screen "walk:$name" > "$WORK/$name.screen"
  tmx kill-window -t "walk:$name"
}

start=$(date +%s%N)
for block in "$WORK"/blocks/*; do
  who=${block##*-}
  name=$(basename "$block")
  echo "--- $name"
  sed 's/^/    /' "$block"
  if [ "$who" = relay ]; then
    if [ "$MODE" = file ]; then
      # A terminal left running: its own process group, so the whole pipeline stops at the end.
      KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" setsid bash -euo pipefail "$block" \
        > "$WORK/relay.out" 2> "$WORK/relay.err" &
      RELAY_PID=$!
    else
      run_in_terminal "$name" relay "$block"
    fi
    for _ in $(seq 600); do
      [ "$MODE" = terminal ] && answer_prompts "$name" relay
      grep -q '^kolokol://' "$HOME/kolokol-try/relay-address.txt" 2>/dev/null && break
      sleep 0.2
    done
    grep -q '^kolokol://' "$HOME/kolokol-try/relay-address.txt" 2>/dev/null \
      || fail "the relay block printed no address: $(cat "$WORK/relay.err" 2>/dev/null)$([ "$MODE" = terminal ] && whole_screen "walk:$name")"
    [ "$MODE" = terminal ] && whole_screen "walk:$name" > "$WORK/relay.screen"
    continue
  fi
  # The person's terminal so far: their earlier cd and export lines, then this block.
  { cat "$WORK/$who.terminal" 2>/dev/null || true; cat "$block"; } > "$WORK/$name.sh"
  grep -E '^(cd|export) ' "$block" >> "$WORK/$who.terminal" || true
  if [ "$MODE" = file ]; then
    KOLOKOL_PASSPHRASE_FILE="$WORK/$who.pass" bash -euo pipefail "$WORK/$name.sh" \
      > "$WORK/$who.last" 2>&1 || fail "$name failed: $(cat "$WORK/$who.last")"
  else
    run_in_terminal "$name" "$who" "$WORK/$name.sh" wait
    cp "$WORK/$name.screen" "$WORK/$who.last"
    [ "$(cat "$WORK/$name.rc")" = 0 ] || fail "$name failed: $(cat "$WORK/$who.last")"
    [ "$(cat "$WORK/$name.answered" 2>/dev/null || echo 0)" -gt 0 ] \
      || fail "$name asked for no passphrase at the terminal: $(cat "$WORK/$who.last")"
  fi
  sed 's/^/  | /' "$WORK/$who.last"
  cat "$WORK/$who.last" >> "$WORK/$who.all"
done
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))

grep -q "Boris: Hello Anna, I am here" "$WORK/anna.all" || fail "Anna never read Boris's answer"
grep -q "Anna: Hello Boris, this is our group" "$WORK/boris.all" || fail "Boris never read Anna's hello"
grep -q "All is well" "$WORK/boris.all" || fail "Boris's doctor did not find all well"
grep -q 'Joined "Legal support"' "$WORK/boris.all" || fail "joining did not name the group"
[ -s "$HOME/kolokol-try/boris.welcome" ] || fail "no welcome token was written"
# Both halves of the verification: the same 60 digits on each side.
digits() { grep -E '^ *[0-9]{5}( [0-9]{5}){5} *$' "$WORK/$1.all" | tr -d ' \n'; }
[ "$(digits anna | wc -c)" -eq 60 ] || fail "Anna saw no safety number: $(cat "$WORK/anna.all")"
[ "$(digits anna)" = "$(digits boris)" ] \
  || fail "the safety numbers differ: Anna $(digits anna), Boris $(digits boris)"
if [ "$MODE" = terminal ]; then
  # What a person would have seen: no passphrase echoed anywhere, no refusal for lack of a
  # terminal.
  cat "$WORK"/*.screen > "$WORK/all.screens"
  for who in relay anna boris; do
    ! grep -qF "$(cat "$WORK/$who.pass")" "$WORK/all.screens" \
      || fail "the passphrase of $who showed on the screen"
  done
  ! grep -q "no terminal to ask" "$WORK/all.screens" || fail "a command found no terminal"
  echo "ok: every passphrase was typed at the terminal, $(cat "$WORK"/*.answered | awk '{n += $1} END {print n}') prompts, none echoed"
fi
echo "ok: the README walk-through runs as written ($MODE passphrases): two people talk through a relay and compare safety numbers (${elapsed_ms} ms of commands)"
