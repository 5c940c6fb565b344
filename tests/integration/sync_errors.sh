# `kolokol sync` failures: each error said once, on one line; a relay whose key is not the
# address's exits 10, an unreachable one 9, a malformed address 6; stdout says "Synced" only
# when something was; Ctrl-C in a terminal ends it with 16 and says what was kept.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/lib_tmux.bash"
trap 'tmux_cleanup; cleanup' EXIT
command -v tmux >/dev/null || fail "tmux is missing: run scripts/deps"
export LC_ALL=C.UTF-8
start_relay() {  # NAME
  pass_file "$1"
  ( KOLOKOL_PASSPHRASE_FILE="$WORK/$1.pass" exec "$KOLOKOL" relay --listen 127.0.0.1:0 \
      --data "$WORK/$1" --kdf fast > "$WORK/$1.out" 2>"$WORK/$1.err" ) &
  CLEANUP_PIDS+=("$!")
  for _ in $(seq 100); do [ -s "$WORK/$1.out" ] && break; sleep 0.1; done
  head -1 "$WORK/$1.out"
}
A=$(start_relay relay_a)
B=$(start_relay relay_b)
# Relay B's host and port with relay A's key: whoever answers there is not A.
WRONG="${B%/*}/${A##*/}"
DOWN="kolokol://127.0.0.1:$(pick_port)/${A##*/}"
new_member anna Anna

# sync_fails CODE ADDRESS-IN-ERROR — sync must exit CODE, print nothing on stdout and one line
# on stderr, naming the address.
sync_fails() {
  local code=$1 named=$2 rc=0
  as anna sync > "$WORK/s.out" 2> "$WORK/s.err" || rc=$?
  [ "$rc" -eq "$code" ] || fail "sync exited $rc, not $code: $(cat "$WORK/s.out" "$WORK/s.err")"
  [ ! -s "$WORK/s.out" ] || fail "stdout says something though nothing synced: $(cat "$WORK/s.out")"
  [ "$(grep -c . "$WORK/s.err")" -eq 1 ] || fail "not one line of error: $(cat "$WORK/s.err")"
  grep -qF "$named" "$WORK/s.err" || fail "the error does not name $named: $(cat "$WORK/s.err")"
}
as anna group create G >/dev/null
as anna group relay add G "$WRONG" >/dev/null
sync_fails 10 "$WRONG"
as anna group relay remove G "$WRONG" >/dev/null
as anna group relay add G "$DOWN" >/dev/null
sync_fails 9 "$DOWN"
expect_exit 6 anna sync "kolokol://127.0.0.1:7000/${A##*/}x"
expect_exit 6 anna sync --group G "${A:0:${#A}-3}"
# Both at once: the graver (someone else answered) is the exit code; each said once.
as anna group relay add G "$WRONG" >/dev/null
rc=0; as anna sync > "$WORK/s.out" 2> "$WORK/s.err" || rc=$?
[ "$rc" -eq 10 ] || fail "sync with a wrong key and a dead relay exited $rc: $(cat "$WORK/s.err")"
[ "$(grep -c . "$WORK/s.err")" -eq 2 ] || fail "not one line per failed relay: $(cat "$WORK/s.err")"
[ "$(grep -cF "$DOWN" "$WORK/s.err")" -eq 1 ] || fail "$DOWN not named once: $(cat "$WORK/s.err")"
[ "$(grep -cF "$WRONG" "$WORK/s.err")" -eq 1 ] || fail "$WRONG not named once: $(cat "$WORK/s.err")"
[ ! -s "$WORK/s.out" ] || fail "stdout: $(cat "$WORK/s.out")"

# Ctrl-C: a relay that accepts and then says nothing holds the sync in its handshake; what the
# first relay brought is kept, and the command says so.
python3 - "$WORK/silent.accepted" > "$WORK/silent.port" <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
open(sys.argv[1], "w").write("accepted")
time.sleep(120)
PY
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/silent.port" ] && break; sleep 0.1; done
SILENT="kolokol://127.0.0.1:$(cat "$WORK/silent.port")/${B##*/}"
new_member boris Boris
as anna group create H >/dev/null
as anna group relay add H "$A" >/dev/null
as anna group relay add H "$SILENT" >/dev/null
token=$(as anna group add H "$(card_of boris)" 2>/dev/null)
as anna sync --group H "$A" >/dev/null
as boris group join "$token" >/dev/null
# Boris learns the group's relay list, in its order (A first), from A alone.
as boris sync "$A" >/dev/null
for n in 1 2 3; do as anna post H "сообщение $n" --no-send 2>/dev/null; done
as anna sync --group H "$A" >/dev/null
tmx new-session -d -s boris -x 200 -y 24 \
  "env KOLOKOL_HOME='$WORK/boris' KOLOKOL_PASSPHRASE_FILE='$WORK/boris.pass' '$KOLOKOL' sync; \
   echo \$? > '$WORK/boris.rc'; sleep 30"
for _ in $(seq 200); do [ -s "$WORK/silent.accepted" ] && break; sleep 0.1; done
[ -s "$WORK/silent.accepted" ] || fail "the sync never reached the silent relay: $(screen boris)"
tmx send-keys -t boris C-c
wait_for boris "stopped (Ctrl-C)" 10
wait_for boris "received before it are kept" 1
for _ in $(seq 50); do [ -s "$WORK/boris.rc" ] && break; sleep 0.1; done
[ "$(cat "$WORK/boris.rc" 2>/dev/null)" = 16 ] || fail "Ctrl-C ended sync with $(cat "$WORK/boris.rc" 2>/dev/null): $(screen boris)"
if screen boris | grep -qF "Synced"; then fail "the screen says Synced: $(screen boris)"; fi
for n in 1 2 3; do
  grep -qF "сообщение $n" <<<"$(as boris read H)" || fail "\"сообщение $n\" was not kept: $(screen boris)"
done
echo "sync says each failure once, with its own exit code, and what Ctrl-C kept"
