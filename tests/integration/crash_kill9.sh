# kill -9 at random points of every kind of write: a member's sync with the relay (client killed,
# relay killed), ingest of a sync file, posting, a key rotation and large messages. After every
# kill, restart what died and check the invariants:
#   - every store opens (the member's and, by restarting, the relay's);
#   - each member's readable record count never goes down;
#   - everything the relay acknowledged is still there: the reader gets, from the relay alone,
#     at least what the writer had when its last complete sync ended;
#   - the next syncs complete and both members converge on the same messages.
# KOLOKOL_CRASH_ITERATIONS sets the number of kills (default 40; 15 under the sanitizers).
source "$(dirname "$0")/lib.bash"
ITER=${KOLOKOL_CRASH_ITERATIONS:-40}
if [ -z "${KOLOKOL_CRASH_ITERATIONS:-}" ] && grep -qs 'KOLOKOL_SANITIZE:BOOL=ON' "${KOLOKOL_BUILD:-/nonexistent}/CMakeCache.txt"; then
  ITER=15
fi
pass_file relay
port=$(pick_port)
start_relay() {
  : > "$WORK/relay.out"
  ( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
      --data "$WORK/relay" --kdf fast > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
  RELAY_PID=$!
  CLEANUP_PIDS+=("$RELAY_PID")
  for _ in $(seq 200); do [ -s "$WORK/relay.out" ] && break; sleep 0.05; done
  ADDR=$(head -1 "$WORK/relay.out")
  [[ "$ADDR" == kolokol://* ]] || fail "relay did not (re)start: $(cat "$WORK/relay.err")"
}
relay_alive() { kill -0 "$RELAY_PID" 2>/dev/null; }
start_relay
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
G="Crash group"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$ADDR" >/dev/null
token=$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
# Boris learns the name only from the group's records: both use the id.
G=$(as anna group list --json | grep '"id"' | head -1 | sed 's/.*"id": "\([0-9a-f]*\)".*/\1/')
[ -n "$G" ] || fail "no group id"

# count WHO — messages WHO can read; fails the test if the store does not open.
count() {
  local out
  out=$(as "$1" read "$G" --limit 1000000 --json 2>&1) || fail "$1's store does not open: $out"
  printf '%s\n' "$out" | grep -c '"text"' || true
}
random_delay() { printf '0.%03d' $((RANDOM % 700)); }
# kill_during VICTIM_PID_VAR CMD… — runs CMD in the background and kill -9s it (or the relay,
# when TARGET=relay) after a random delay.
run_and_kill() {
  local target=$1; shift
  ( "$@" >/dev/null 2>&1 ) &
  local pid=$!
  sleep "$(random_delay)"
  if [ "$target" = relay ]; then kill -9 "$RELAY_PID" 2>/dev/null || true; fi
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ "$target" = relay ]; then wait "$RELAY_PID" 2>/dev/null || true; fi
}
# post_batch WHO N SIZE — N messages kept here (--no-send): the syncs the test kills carry them.
post_batch() {
  local i
  local pad; pad=$(head -c "$3" /dev/zero | tr '\0' x)
  for i in $(seq 1 "$2"); do printf 'crash %s %s %05d %s\n' "$1" "$it" "$i" "$pad"; done |
    as "$1" post "$G" --each-line --no-send >/dev/null 2>&1 || true
}

prev_anna=0
prev_boris=0
acked=0
kills=(0 0 0 0 0 0 0)
names=("client during sync" "relay during push" "reader during pull" "relay during pull"
       "reader during sync-file ingest" "writer during rotation" "writer during posting")
for it in $(seq 1 "$ITER"); do
  scenario=$((it % 7))  # every kind in turn; the moment of the kill is random
  kills[$scenario]=$((kills[scenario] + 1))
  case $scenario in
    0) post_batch anna $((50 + RANDOM % 200)) 40; run_and_kill client as_bg anna sync ;;
    1) if ((RANDOM % 2)); then post_batch anna 20 15000; else post_batch anna 300 40; fi
       run_and_kill relay as_bg anna sync ;;
    2) post_batch anna 200 40; as anna sync >/dev/null || fail "anna's sync failed"
       acked=$(count anna); run_and_kill client as_bg boris sync ;;
    3) post_batch anna 300 40; as anna sync >/dev/null || fail "anna's sync failed"
       acked=$(count anna); run_and_kill relay as_bg boris sync ;;
    4) post_batch anna 300 40; as anna sync --to-file "$WORK/f.sync" >/dev/null
       run_and_kill client as_bg boris sync --from-file "$WORK/f.sync" ;;
    5) run_and_kill client as_bg anna group rotate "$G" ;;
    6) run_and_kill client as_bg anna post "$G" --each-line < <(seq 1 400 | sed "s/^/crash posting $it /") ;;
  esac
  relay_alive || start_relay
  # Stores open, counts never go down.
  a=$(count anna); b=$(count boris)
  [ "$a" -ge "$prev_anna" ] || fail "iteration $it (${names[$scenario]}): anna went from $prev_anna to $a"
  [ "$b" -ge "$prev_boris" ] || fail "iteration $it (${names[$scenario]}): boris went from $prev_boris to $b"
  # What the relay acknowledged is there: boris syncs before anna can push anything again.
  as boris sync >/dev/null 2>"$WORK/err" || fail "iteration $it: boris's sync failed: $(cat "$WORK/err")"
  b=$(count boris)
  [ "$b" -ge "$acked" ] || fail "iteration $it (${names[$scenario]}): the relay lost acknowledged records ($b < $acked)"
  # The next syncs complete and both sides converge.
  as anna sync >/dev/null 2>"$WORK/err" || fail "iteration $it: anna's sync failed: $(cat "$WORK/err")"
  acked=$(count anna)
  as boris sync >/dev/null 2>"$WORK/err" || fail "iteration $it: boris's second sync failed: $(cat "$WORK/err")"
  prev_anna=$acked; prev_boris=$(count boris)
  [ "$prev_boris" -eq "$prev_anna" ] || fail "iteration $it (${names[$scenario]}): no convergence (anna $prev_anna, boris $prev_boris)"
done
as anna read "$G" --limit 1000000 --json | grep '"text"' > "$WORK/anna.msgs"
as boris read "$G" --limit 1000000 --json | grep '"text"' > "$WORK/boris.msgs"
cmp -s "$WORK/anna.msgs" "$WORK/boris.msgs" || fail "anna and boris see different histories"
[ "$(sort -u "$WORK/anna.msgs" | wc -l)" -eq "$(wc -l < "$WORK/anna.msgs")" ] || fail "duplicated messages"
for s in 0 1 2 3 4 5 6; do echo "kills: ${kills[$s]} × ${names[$s]}"; done
echo "ok: $ITER kill -9 iterations; every store opened, counts monotone, nothing acknowledged lost, converged on $prev_anna messages"
