# A device about to be seized while `kolokol doctor` checks the relays (row 54): doctor unlocks
# the store and holds its database open while it probes each relay, and a relay that is slow to
# answer (down, behind Tor, or an informer's listener that accepts and stays silent) keeps it
# there for seconds. `kolokol panic --yes` — or the duress passphrase typed in another process —
# must end it like every other command of the home: within a second, exit code 15, no descriptor
# left on the store's files; and after a duress erase its ending must leave the home as `stat`
# saw it.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
command -v python3 >/dev/null || fail "python3 is missing"

now_ns() { date +%s%N; }
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
holders() { { find /proc/[0-9]*/fd -lname "$1/*" 2>/dev/null || true; } | cut -d/ -f3 | sort -u | tr '\n' ' '; }
look() { (cd "$WORK" && find "$1" ! -name '*-shm' -printf '%p %i %s %T@\n' | sort); }

# A relay address whose listener accepts and never answers.
SILENT=$(pick_port)
python3 -c "
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $SILENT)); s.listen(64); held = []
while True: held.append(s.accept()[0])
" &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SILENT") 2>/dev/null && break; sleep 0.05; done
KEY=sxzm6vk7hfjhgrh3fcee7y32hisuucykipfbvewxzn3rrso6quka
ADDR="kolokol://127.0.0.1:$SILENT/$KEY"

# member WHO [--duress] — a home with group G listing the silent relay.
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
  as "$1" post G "hello from $1"
  as "$1" group relay add G "$ADDR" >/dev/null
}
# doctor_running WHO — starts doctor; returns once it holds the store open. Sets DOCTOR.
doctor_running() {
  ( as_bg "$1" doctor > "$WORK/$1.doctor.out" 2> "$WORK/$1.doctor.err" ) &
  DOCTOR=$!
  CLEANUP_PIDS+=("$DOCTOR")
  for _ in $(seq 200); do [[ " $(holders "$WORK/$1") " == *" $DOCTOR "* ]] && break; sleep 0.02; done
  [[ " $(holders "$WORK/$1") " == *" $DOCTOR "* ]] || fail "doctor never held $1's store open"
  sleep 0.3  # it is probing the relay now
}
# ended_within_a_second SINCE_NS WHO — doctor ended by then, exit code 15, holding nothing.
ended_within_a_second() {
  local deadline=$(($1 + 1000000000)) rc=0
  while alive "$DOCTOR"; do
    if (($(now_ns) > deadline)); then
      local held; held=$(holders "$WORK/$2")
      wait "$DOCTOR" || rc=$?
      fail "doctor still ran a second after the store was destroyed (holding $2's store: ${held:-nothing}); it went on to exit $rc at $((($(now_ns) - $1) / 1000000)) ms: $(tail -3 "$WORK/$2.doctor.out" | tr '\n' ' ')"
    fi
    sleep 0.01
  done
  wait "$DOCTOR" || rc=$?
  [ "$rc" = 15 ] || fail "doctor exited $rc, not 15: $(cat "$WORK/$2.doctor.err")"
  [ -z "$(holders "$WORK/$2")" ] || fail "still holding $2's store: $(holders "$WORK/$2")"
}

# --- panic ---
member anna
doctor_running anna
as anna panic --yes >/dev/null
ended_within_a_second "$(now_ns)" anna
echo "ok: panic ends a running doctor"

# --- a duress passphrase typed in another process ---
member clara --duress
sleep 1.1
doctor_running clara
before=$(look clara)
rc=0; KOLOKOL_HOME="$WORK/clara" KOLOKOL_PASSPHRASE_FILE="$WORK/clara.duress" "$KOLOKOL" whoami \
  >/dev/null 2>&1 || rc=$?
erased=$(now_ns)
[ "$rc" = 3 ] || fail "the duress passphrase gave exit $rc"
ended_within_a_second "$erased" clara
[ "$(look clara)" = "$before" ] || fail "doctor's ending changed the home after the duress erase:
$(diff <(echo "$before") <(look clara))"
echo "ok: a duress erase ends a running doctor and leaves the home as stat saw it"
