# Follows the README's five-minute walk-through literally: extracts the ```sh blocks between the
# walkthrough markers, each named by its first line (# Relay, # Anna, # Boris), and runs them in
# order — the relay's block in the background, each person's blocks in "their terminal" (a shell
# that replays that person's earlier `cd` and `export` lines, as a terminal window would keep
# them). Only two things differ from a person at a keyboard: passphrases come from files
# (KOLOKOL_PASSPHRASE_FILE), and the relay's port 7000 becomes a free one so parallel tests do
# not collide. `kolokol` is found on PATH, as after installing. Prints how long it took.
source "$(dirname "$0")/lib.bash"
README="$(dirname "$0")/../../README.md"
[ -f "$README" ] || fail "no README at $README"

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
cleanup_walkthrough() {
  [ -n "$RELAY_PID" ] && kill -- "-$RELAY_PID" 2>/dev/null || true
  cleanup
}
trap cleanup_walkthrough EXIT

start=$(date +%s%N)
for block in "$WORK"/blocks/*; do
  who=${block##*-}
  echo "--- $(basename "$block")"
  sed 's/^/    /' "$block"
  if [ "$who" = relay ]; then
    # A terminal left running: its own process group, so the whole pipeline stops at the end.
    KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" setsid bash -euo pipefail "$block" \
      > "$WORK/relay.out" 2> "$WORK/relay.err" &
    RELAY_PID=$!
    for _ in $(seq 300); do grep -q '^kolokol://' "$HOME/kolokol-try/relay-address.txt" 2>/dev/null && break; sleep 0.1; done
    grep -q '^kolokol://' "$HOME/kolokol-try/relay-address.txt" 2>/dev/null \
      || fail "the relay block printed no address: $(cat "$WORK/relay.err")"
    continue
  fi
  # The person's terminal so far: their earlier cd and export lines, then this block.
  { cat "$WORK/$who.terminal" 2>/dev/null || true; cat "$block"; } > "$WORK/run.sh"
  grep -E '^(cd|export) ' "$block" >> "$WORK/$who.terminal" || true
  KOLOKOL_PASSPHRASE_FILE="$WORK/$who.pass" bash -euo pipefail "$WORK/run.sh" \
    > "$WORK/$who.last" 2>&1 || fail "$(basename "$block") failed: $(cat "$WORK/$who.last")"
  sed 's/^/  | /' "$WORK/$who.last"
  cat "$WORK/$who.last" >> "$WORK/$who.all"
done
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))

grep -q "Boris: Hello Anna, I am here" "$WORK/anna.all" || fail "Anna never read Boris's answer"
grep -q "Anna: Hello Boris, this is our group" "$WORK/boris.all" || fail "Boris never read Anna's hello"
grep -q "All is well" "$WORK/boris.all" || fail "Boris's doctor did not find all well"
[ -s "$HOME/kolokol-try/boris.welcome" ] || fail "no welcome token was written"
echo "ok: the README walk-through runs as written: two people talk through a relay (${elapsed_ms} ms of commands)"
