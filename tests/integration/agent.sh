# The unlock agent (`kolokol agent`): after one unlock, this user's commands post and read
# without the passphrase; the agent ends — its socket gone, nothing asked of it answered — on
# `kolokol lock`, after its idle time, on `kolokol panic`, on any unlock with a passphrase
# (the duress one too, leaving what a wrong one leaves), on `kolokol passwd`, and when the key
# file is removed or replaced behind its back. Waits are generous; nothing here is timed.
source "$(dirname "$0")/lib.bash"

# nopass WHO ARGS… — kolokol with no passphrase file and no terminal: only an agent can unlock.
nopass() {
  local who=$1; shift
  env -u KOLOKOL_PASSPHRASE_FILE KOLOKOL_HOME="$WORK/$who" setsid -w "$KOLOKOL" "$@" </dev/null
}
sock() { echo "$WORK/$1/agent/socket"; }
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
# start_agent WHO ARGS… — starts WHO's agent in the background (its default); its pid in $pid.
start_agent() {
  local who=$1 out; shift
  out=$(as "$who" agent "$@") || fail "$who's agent did not start"
  pid=$(sed -n 's/.*(pid \([0-9]*\)).*/\1/p' <<<"$out")
  [ -n "$pid" ] && alive "$pid" || fail "no running agent in: $out"
  CLEANUP_PIDS+=("$pid")
}
# ended WHO PID WHY — the agent has ended (waiting up to 30 s) and left no socket or directory.
ended() {
  for _ in $(seq 300); do alive "$2" || break; sleep 0.1; done
  alive "$2" && fail "$3: $1's agent (pid $2) still runs"
  [ ! -e "$(sock "$1")" ] || fail "$3: the agent's socket is still there"
  [ ! -e "$WORK/$1/agent" ] || fail "$3: the agent's directory is still there"
  echo "ok: $3 ended the agent"
}
# asks_passphrase WHO — with no agent, a command needs the passphrase: exit 2, and says so.
asks_passphrase() {
  local rc=0 err
  err=$(nopass "$1" read G 2>&1 >/dev/null) || rc=$?
  [ "$rc" -eq 2 ] && grep -qi passphrase <<<"$err" || fail "$2: expected a passphrase request, got $rc: $err"
}

new_member anna Anna
as anna group create G >/dev/null
asks_passphrase anna "before any agent"

# --- Post and read through the agent; lock ends it. ---
start_agent anna --idle 1h
[ "$(stat -c %a "$(sock anna)")" = 600 ] || fail "the socket is not 0600"
[ "$(stat -c %a "$WORK/anna/agent")" = 700 ] || fail "the agent's directory is not 0700"
nopass anna post G "posted through the agent" || fail "post through the agent failed"
nopass anna read G | grep -q "posted through the agent" || fail "read through the agent failed"
echo "ok: post and read without a passphrase"
nopass anna lock | grep -qi locked || fail "lock did not say it locked the agent"
ended anna "$pid" "kolokol lock"
asks_passphrase anna "after lock"
nopass anna lock | grep -q "No agent" || fail "lock without an agent did not say so"

# --- The idle time ends it. ---
start_agent anna --idle 2s
ended anna "$pid" "2 s without use"
asks_passphrase anna "after the idle time"
# Out-of-range idle times are refused before anything is asked.
expect_exit 2 anna agent --idle 0s
expect_exit 2 anna agent --idle 9h
expect_exit 2 anna agent --idle soon

# --- passwd ends it; the new passphrase works. ---
start_agent anna --idle 1h
printf 'passphrase of anna\nnew passphrase of anna\n' > "$WORK/anna.passwd"
KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/anna.passwd" "$KOLOKOL" passwd >/dev/null
ended anna "$pid" "kolokol passwd"
echo "new passphrase of anna" > "$WORK/anna.pass"
as anna read G | grep -q "posted through the agent" || fail "the new passphrase does not open the store"

# --- A key file replaced behind its back (as another passwd would): the next request ends it. ---
start_agent anna --idle 1h
cp -p "$WORK/anna/store.key" "$WORK/anna/store.key.new"
mv "$WORK/anna/store.key.new" "$WORK/anna/store.key"
asks_passphrase anna "after the key file was replaced"
ended anna "$pid" "a replaced key file"

# --- The key file removed: its watch ends it without a request. ---
new_member erin Erin
start_agent erin --idle 1h
rm "$WORK/erin/store.key"
ended erin "$pid" "a removed key file"

# --- panic ends it, and the home goes entirely. ---
new_member boris Boris
start_agent boris --idle 1h
as boris panic --yes >/dev/null
ended boris "$pid" "kolokol panic"
[ ! -e "$WORK/boris" ] || fail "panic left the home: $(ls -la "$WORK/boris")"

# --- Another unlock with a passphrase: a duress one and a wrong one end it alike. ---
for who in clara dora; do
  printf 'real passphrase of %s\nduress passphrase of %s\n' "$who" "$who" > "$WORK/$who.init"
  KOLOKOL_HOME="$WORK/$who" KOLOKOL_PASSPHRASE_FILE="$WORK/$who.init" "$KOLOKOL" init \
    --name "$who" --kdf fast --duress >/dev/null
  echo "real passphrase of $who" > "$WORK/$who.pass"
  as "$who" group create G >/dev/null
done
echo "duress passphrase of clara" > "$WORK/clara.other"
echo "not the passphrase of dora" > "$WORK/dora.other"
declare -A outcome
for who in clara dora; do
  start_agent "$who" --idle 1h
  nopass "$who" read G >/dev/null || fail "$who's agent does not serve"
  rc=0
  err=$(KOLOKOL_HOME="$WORK/$who" KOLOKOL_PASSPHRASE_FILE="$WORK/$who.other" "$KOLOKOL" agent \
    2>&1 >/dev/null) || rc=$?
  ended "$who" "$pid" "$who's other passphrase"
  outcome[$who]="$rc ${err//$who/WHO} $(cd "$WORK/$who" && ls -A | tr '\n' ' ')"
done
[ "${outcome[clara]}" = "${outcome[dora]}" ] || fail "a duress unlock does not look like a wrong one:
duress: ${outcome[clara]}
wrong:  ${outcome[dora]}"
[[ "${outcome[clara]}" == "3 "* ]] || fail "the duress unlock did not fail as a wrong passphrase: ${outcome[clara]}"
expect_exit 3 clara read G   # erased: the real passphrase opens nothing now
as dora read G >/dev/null || fail "a wrong passphrase harmed dora's store"
echo "ok: a duress unlock with a running agent looks like a wrong one and leaves no agent"
echo "the agent unlocks for its user and ends when it should"
