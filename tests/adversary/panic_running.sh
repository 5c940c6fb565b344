# A device about to be seized while kolokol runs on it: `kolokol panic --yes` — or the duress
# passphrase typed into another process — must stop everything that has the store open. Every
# running process of that home (serve, chat, read --follow) wipes its keys and ends within a
# second with exit code 15, and nothing it held remains: no process keeps the deleted database
# open, and nothing listens on serve's port. After a duress erase, their ending leaves the home
# as stat saw it. A relay whose own data dir is destroyed ends the same way. (The deadline is the
# one the requirement names: a second after the panic or the erase returned.)
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/../integration/lib_tmux.bash"
source "$(dirname "$0")/lib_adversary.bash"
command -v tmux >/dev/null || fail "tmux is missing: run scripts/deps"
export LC_ALL=C.UTF-8
trap 'tmux_cleanup; cleanup' EXIT

now_ns() { date +%s%N; }
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
# gone_within_a_second SINCE_NS NAME=PID… — each has ended within a second of SINCE_NS.
gone_within_a_second() {
  local since=$1 deadline=$(($1 + 1000000000)) item; shift
  for item in "$@"; do
    while alive "${item#*=}"; do
      (($(now_ns) < deadline)) || fail "${item%%=*} (pid ${item#*=}) still runs a second after"
      sleep 0.01
    done
  done
  echo "ok: $* ended $((($(now_ns) - since) / 1000000)) ms after"
}
# holders DIR — the processes that hold a file under DIR open.
# (find complains of processes that end while it looks.)
holders() { { find /proc/[0-9]*/fd -lname "$1/*" 2>/dev/null || true; } | cut -d/ -f3 | sort -u | tr '\n' ' '; }
# look WHO — name, inode, size and mtime of the home and its database files (the -shm file is
# shared memory that readers write through mmap, so it is left out).
look() { (cd "$WORK" && find "$1" ! -name '*-shm' -printf '%p %i %s %T@\n' | sort); }

start_relay
RELAY=$RELAY_PID

new_member boris Boris
# member WHO [--duress] — a member in group G with Boris, synced through the relay.
member() {
  if [ "${2:-}" = --duress ]; then
    printf 'real passphrase of %s\nduress passphrase of %s\n' "$1" "$1" > "$WORK/$1.init"
    KOLOKOL_HOME="$WORK/$1" KOLOKOL_PASSPHRASE_FILE="$WORK/$1.init" "$KOLOKOL" init --name "$1" \
      --kdf fast --duress >/dev/null
    echo "real passphrase of $1" > "$WORK/$1.pass"
    echo "duress passphrase of $1" > "$WORK/$1.duress"
  else
    new_member "$1" "$1"
  fi
  as "$1" group create G >/dev/null
  as "$1" group relay add G "$ADDR" >/dev/null
  token=$(as "$1" group add G "$(card_of boris)" 2>/dev/null)
  as boris group join "$token" >/dev/null
  as "$1" post G "hello from $1"
  as "$1" sync >/dev/null
  as boris sync >/dev/null
}
# run_all WHO — WHO's serve, read --follow and chat; sets SERVE FOLLOW CHAT (pids) and PORT.
run_all() {
  PORT=$(pick_port)
  ( as_bg "$1" serve --listen "127.0.0.1:$PORT" > "$WORK/$1.serve.out" 2>"$WORK/$1.serve.err" ) &
  SERVE=$!
  ( as_bg "$1" read G --follow > "$WORK/$1.follow.out" 2>"$WORK/$1.follow.err" ) &
  FOLLOW=$!
  CLEANUP_PIDS+=("$SERVE" "$FOLLOW")
  rm -f "$WORK/$1.rc"
  tmx new-session -d -s "$1" -x 80 -y 24 \
    "env KOLOKOL_HOME='$WORK/$1' KOLOKOL_PASSPHRASE_FILE='$WORK/$1.pass' LANG=C.UTF-8 \
     '$KOLOKOL' chat G 2>'$WORK/$1.err'; echo \$? > '$WORK/$1.rc'; sleep 600"
  wait_for "$1" "Live with 127.0.0.1:" 20
  local shell_pid
  shell_pid=$(tmx display-message -p -t "$1" '#{pane_pid}')
  CHAT=$(cat "/proc/$shell_pid/task/$shell_pid/children" | tr -d ' ')
  [ -n "$CHAT" ] && alive "$CHAT" || fail "no chat process under the tmux pane"
  for _ in $(seq 100); do [ -s "$WORK/$1.serve.out" ] && grep -q "hello from $1" "$WORK/$1.follow.out" && break; sleep 0.1; done
  alive "$SERVE" || fail "serve did not start: $(cat "$WORK/$1.serve.err")"
  alive "$FOLLOW" || fail "read --follow did not start: $(cat "$WORK/$1.follow.err")"
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || fail "serve does not accept on $PORT"
  local held
  held=$(holders "$WORK/$1")
  for pid in "$SERVE" "$FOLLOW" "$CHAT"; do
    [[ " $held " == *" $pid "* ]] || fail "pid $pid does not hold $1's store open (holders: $held)"
  done
}
# all_ended_cleanly WHO — exit code 15 from each, the store's files held by nobody, the port closed.
all_ended_cleanly() {
  local rc
  rc=0; wait "$SERVE" || rc=$?; [ "$rc" = 15 ] || fail "serve exited $rc: $(cat "$WORK/$1.serve.err")"
  rc=0; wait "$FOLLOW" || rc=$?; [ "$rc" = 15 ] || fail "read --follow exited $rc: $(cat "$WORK/$1.follow.err")"
  for _ in $(seq 100); do [ -s "$WORK/$1.rc" ] && break; sleep 0.02; done
  [ "$(cat "$WORK/$1.rc")" = 15 ] || fail "the chat exited $(cat "$WORK/$1.rc"): $(cat "$WORK/$1.err")"
  grep -q "the store is gone" "$WORK/$1.err" || fail "the chat said: $(cat "$WORK/$1.err")"
  [ -z "$(holders "$WORK/$1")" ] || fail "still holding $1's store: $(holders "$WORK/$1")"
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then fail "something still accepts on serve's port"; fi
}

# --- panic ---
member anna
run_all anna
as anna panic --yes >/dev/null
gone_within_a_second "$(now_ns)" serve="$SERVE" "read --follow=$FOLLOW" chat="$CHAT"
all_ended_cleanly anna
[ ! -e "$WORK/anna" ] || fail "panic left $(ls -A "$WORK/anna")"
echo "ok: after panic, serve, chat and read --follow are gone and hold nothing"

# --- a duress passphrase typed in another process ---
member clara --duress
run_all clara
sleep 1.5  # the processes' start-up writes are done; an idle store is not written to
before=$(look clara)
rc=0; KOLOKOL_HOME="$WORK/clara" KOLOKOL_PASSPHRASE_FILE="$WORK/clara.duress" "$KOLOKOL" whoami \
  >/dev/null 2>&1 || rc=$?
erased=$(now_ns)
[ "$rc" = 3 ] || fail "the duress passphrase gave exit $rc"
gone_within_a_second "$erased" serve="$SERVE" "read --follow=$FOLLOW" chat="$CHAT"
all_ended_cleanly clara
[ "$(look clara)" = "$before" ] || fail "the processes' ending changed the home:
$(diff <(echo "$before") <(look clara))"
rc=0; as clara whoami >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "after the duress erase the real passphrase gives $rc"
echo "ok: after a duress erase elsewhere, they are gone, hold nothing and left the home as it was"

# --- a relay whose data dir is destroyed ---
[ -n "$(holders "$WORK/relay")" ] || fail "the relay holds nothing open"
shred -u "$WORK/relay/relay.key"
gone_within_a_second "$(now_ns)" relay="$RELAY"
rc=0; wait "$RELAY" || rc=$?
[ "$rc" = 15 ] || fail "the relay exited $rc: $(cat "$WORK/relay.err")"
[ -z "$(holders "$WORK/relay")" ] || fail "still holding the relay's store: $(holders "$WORK/relay")"
echo "ok: a relay whose key file is destroyed is gone too"
echo "panic and duress end every process of the store within a second"
