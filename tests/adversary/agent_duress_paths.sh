# The unlock agent where "lock it first" used to miss it. Each part is an attack that once made a
# duress passphrase look different from a wrong one, left an agent holding the key, or hung a
# panic:
# - a foreground agent sent SIGTSTP keeps running (a stopped one kept its key after a panic);
# - two agents started together for one home: one refuses, and `kolokol lock` leaves none;
# - the home spelled with a path too long for a socket address: the agent still starts, and a
#   duress and a wrong passphrase both end the agent and leave the same home;
# - root typing the owner's passphrases while the owner's agent runs: both refused (exit 17)
#   before any derivation, nothing erased;
# - a stopped agent with a full accept queue: a duress passphrase is refused within the client's
#   deadlines (nothing erased), and `kolokol panic` destroys the store at once.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
command -v setpriv >/dev/null || fail "setpriv is missing: run scripts/deps"

alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
pid_of() { sed -n 's/.*(pid \([0-9]*\)).*/\1/p' <<<"$1"; }
listing() { ls -A "$1" | tr '\n' ' '; }
# A home with a real and a duress passphrase; $who.pass holds the real one.
duress_member() {
  printf 'real passphrase of %s\nduress passphrase of %s\n' "$1" "$1" > "$WORK/$1.init"
  echo "real passphrase of $1" > "$WORK/$1.pass"
  echo "duress passphrase of $1" > "$WORK/$1.duress"
  echo "not the passphrase of $1" > "$WORK/$1.wrong"
  KOLOKOL_HOME="$WORK/$1" KOLOKOL_PASSPHRASE_FILE="$WORK/$1.init" "$KOLOKOL" init --name "$1" \
    --kdf fast --duress >/dev/null
}

# --- SIGTSTP does not stop the agent. ---
new_member anna Anna
KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/anna.pass" "$KOLOKOL" agent --foreground \
  --idle 1h 2>/dev/null &
fg_pid=$!
CLEANUP_PIDS+=("$fg_pid")
for _ in $(seq 50); do [ -S "$WORK/anna/agent/socket" ] && break; sleep 0.1; done
[ -S "$WORK/anna/agent/socket" ] || fail "the foreground agent did not start"
kill -TSTP "$fg_pid"
sleep 0.3
stopped=no
grep -q '^State:[[:space:]]*T' "/proc/$fg_pid/status" && stopped=yes
kill -CONT "$fg_pid"
[ $stopped = no ] || fail "SIGTSTP stopped the agent"
as anna lock >/dev/null
wait "$fg_pid" || fail "the foreground agent did not end cleanly on lock"
echo "ok: SIGTSTP does not stop the agent"

# --- Two agents started together: one refuses; after `kolokol lock` none runs. ---
# The tuned KDF (about a second here) keeps both inside the unlock at the same time.
pass_file hana
as hana init --name Hana >/dev/null
rc1=0 rc2=0
as hana agent --idle 1h >"$WORK/a1" 2>&1 &
j1=$!
as hana agent --idle 1h >"$WORK/a2" 2>&1 &
j2=$!
wait $j1 || rc1=$?
wait $j2 || rc2=$?
pids=$(cat "$WORK/a1" "$WORK/a2" | sed -n 's/.*(pid \([0-9]*\)).*/\1/p')
for p in $pids; do CLEANUP_PIDS+=("$p"); done
as hana lock >/dev/null
for p in $pids; do
  for _ in $(seq 20); do alive "$p" || break; sleep 0.1; done
  alive "$p" && fail "an agent started alongside another still runs after kolokol lock (rc $rc1/$rc2)"
done
for rc in $rc1 $rc2; do
  [ "$rc" -eq 0 ] || [ "$rc" -eq 17 ] || fail "an agent started alongside another exited $rc"
done
echo "ok: two agents started together leave none after kolokol lock (exits $rc1, $rc2)"

# --- A long spelling of the home: the agent starts, and duress and wrong look alike. ---
long() { local p=$WORK; while [ ${#p} -lt 110 ]; do p=$p/.; done; echo "$p/$1"; }
for who in clara dora; do duress_member "$who"; done
out=$(KOLOKOL_HOME=$(long clara) KOLOKOL_PASSPHRASE_FILE="$WORK/clara.pass" "$KOLOKOL" agent \
  --idle 1h) || fail "no agent for a home spelled with a long path: $out"
p=$(pid_of "$out"); CLEANUP_PIDS+=("$p")
[ "$(as clara lock)" = "The agent is locked: commands ask for the passphrase again." ] ||
  fail "kolokol lock by the short path did not reach the agent started by the long one"
for who in clara dora; do
  kind=wrong; [ $who = clara ] && kind=duress
  out=$(as $who agent --idle 1h); p=$(pid_of "$out"); CLEANUP_PIDS+=("$p")
  rc=0
  err=$(KOLOKOL_HOME=$(long $who) KOLOKOL_PASSPHRASE_FILE="$WORK/$who.$kind" "$KOLOKOL" agent \
    2>&1 >/dev/null) || rc=$?
  err=${err//$who/WHO}
  [ "$rc" -eq 3 ] || fail "a $kind passphrase by a long path exited $rc: $err"
  for _ in $(seq 20); do alive "$p" || break; sleep 0.1; done
  alive "$p" && fail "a $kind passphrase by a long path left the agent running"
  eval "res_$kind=\"\$err|\$(listing \"\$WORK/\$who\")\""
done
[ "$res_duress" = "$res_wrong" ] ||
  fail "duress and wrong passphrases by a long path differ: [$res_duress] vs [$res_wrong]"
echo "ok: by a long path, a duress and a wrong passphrase end the agent alike: $res_wrong"

# --- Root types the owner's passphrases while the owner's agent runs. ---
mkdir "$WORK/owned"
chown 65534:65534 "$WORK/owned"
chmod 755 "$WORK"
owner() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
for who in erik fern; do
  printf 'real passphrase of %s\nduress passphrase of %s\n' $who $who > "$WORK/$who.init"
  echo "real passphrase of $who" > "$WORK/$who.pass"
  chown 65534 "$WORK/$who.init" "$WORK/$who.pass"
  owner env KOLOKOL_HOME="$WORK/owned/$who" KOLOKOL_PASSPHRASE_FILE="$WORK/$who.init" \
    "$KOLOKOL" init --name $who --kdf fast --duress >/dev/null
done
echo "duress passphrase of erik" > "$WORK/erik.other"
echo "not the passphrase of fern" > "$WORK/fern.other"
for who in erik fern; do
  out=$(owner env KOLOKOL_HOME="$WORK/owned/$who" KOLOKOL_PASSPHRASE_FILE="$WORK/$who.pass" \
    "$KOLOKOL" agent --idle 1h)
  p=$(pid_of "$out"); CLEANUP_PIDS+=("$p")
  before=$(ls -Ali --time-style=full-iso "$WORK/owned/$who")
  rc=0
  KOLOKOL_HOME="$WORK/owned/$who" KOLOKOL_PASSPHRASE_FILE="$WORK/$who.other" "$KOLOKOL" \
    whoami --no-qr >/dev/null 2>&1 || rc=$?
  [ "$rc" -eq 17 ] || fail "root's unlock past the owner's agent ($who) exited $rc, not 17"
  [ "$(ls -Ali --time-style=full-iso "$WORK/owned/$who")" = "$before" ] ||
    fail "root's refused unlock changed the home of $who"
  alive "$p" || fail "root's refused unlock ended the agent of $who"
  kill "$p"
done
echo "ok: root's duress and wrong passphrases are refused alike past the owner's agent (exit 17)"

# --- A stopped agent with a full accept queue: refused in time, and panic destroys at once. ---
duress_member gus
out=$(as gus agent --idle 1h); p=$(pid_of "$out"); CLEANUP_PIDS+=("$p")
kill -STOP "$p"
for _ in $(seq 18); do adv agent-send "$WORK/gus/agent/socket" stall:30 >/dev/null 2>&1 &
  CLEANUP_PIDS+=($!); done
sleep 0.5
before=$(ls -Ali --time-style=full-iso "$WORK/gus")
rc=0
KOLOKOL_HOME="$WORK/gus" KOLOKOL_PASSPHRASE_FILE="$WORK/gus.duress" timeout 20 "$KOLOKOL" \
  whoami --no-qr >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 124 ] || fail "a duress unlock hung on a stopped agent with a full queue"
[ "$rc" -eq 17 ] || fail "a duress unlock past a stopped agent exited $rc, not 17"
[ "$(ls -Ali --time-style=full-iso "$WORK/gus")" = "$before" ] ||
  fail "a refused duress unlock changed the home"
rc=0
KOLOKOL_HOME="$WORK/gus" timeout 20 "$KOLOKOL" panic --yes >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 124 ] || fail "panic hung on a stopped agent with a full queue"
[ "$rc" -eq 0 ] || fail "panic exited $rc"
[ -e "$WORK/gus" ] && fail "panic left the home: $(listing "$WORK/gus")"
kill -CONT "$p"
for _ in $(seq 30); do alive "$p" || break; sleep 0.1; done
alive "$p" && fail "the agent did not end once the store was gone"
stalled=$(jobs -p)
kill $stalled 2>/dev/null
wait $stalled 2>/dev/null || true
echo "ok: a stopped, queued-up agent: duress refused (exit 17) in time, panic destroys at once"
