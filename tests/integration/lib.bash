# Shared helpers for the integration tests (sourced, not run).
set -euo pipefail
: "${KOLOKOL:?set KOLOKOL to the kolokol binary}"
WORK=$(mktemp -d)
trap 'cleanup' EXIT
CLEANUP_PIDS=()
cleanup() {
  for p in "${CLEANUP_PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
fail() { echo "FAIL: $*" >&2; exit 1; }
# pick_port — a loopback port below the kernel's ephemeral range, so that no outgoing connection
# (of this test, of another test running beside it) can be holding it, and with nothing
# listening on it now.
pick_port() {
  local lo _hi p
  read -r lo _hi < /proc/sys/net/ipv4/ip_local_port_range
  [ "$lo" -gt 12000 ] || lo=32768
  for _ in $(seq 50); do
    p=$((10000 + RANDOM % (lo - 10000)))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  fail "no free loopback port below $lo"
}
# flip_byte FILE OFFSET — inverts every bit of one byte in place, so the file always changes
# (writing a fixed byte leaves it unchanged whenever that byte was already there).
flip_byte() {
  local byte
  byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  [ -n "$byte" ] || fail "flip_byte: $1 has no byte at offset $2"
  printf "$(printf '\\x%02x' $((byte ^ 0xff)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
pass_file() { echo "passphrase of $1" > "$WORK/$1.pass"; }
# start_relay — starts `kolokol relay` on a free loopback port with its data in $WORK/relay,
# killed at exit; sets RELAY_PID, ADDR (the address it prints) and KEY (its key, the address's
# last part). Fails the test when the relay prints no address within 10 s.
start_relay() {
  pass_file relay
  ( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen 127.0.0.1:0 \
      --data "$WORK/relay" --kdf fast > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
  RELAY_PID=$!
  CLEANUP_PIDS+=("$RELAY_PID")
  for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
  ADDR=$(head -1 "$WORK/relay.out")
  [[ "$ADDR" == kolokol://* ]] || fail "the relay did not start: $(cat "$WORK/relay.err")"
  KEY=${ADDR##*/}
}
# as WHO ARGS… — run kolokol as a member with their own home and passphrase file.
as() { local who=$1; shift; KOLOKOL_HOME="$WORK/$who" KOLOKOL_PASSPHRASE_FILE="$WORK/$who.pass" "$KOLOKOL" "$@"; }
# expect_exit CODE WHO ARGS… — the command must fail with exactly this exit code and one line.
# as_bg WHO ARGS… — the same in the background; $! is the kolokol process itself.
as_bg() { local who=$1; shift; KOLOKOL_HOME="$WORK/$who" KOLOKOL_PASSPHRASE_FILE="$WORK/$who.pass" exec "$KOLOKOL" "$@"; }
expect_exit() {
  local code=$1; shift
  local rc=0 err
  err=$(as "$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" -eq "$code" ] || fail "expected exit $code, got $rc for: $* ($err)"
  [ "$(printf '%s\n' "$err" | grep -c .)" -le 2 ] || fail "more than one line of error for $*: $err"
  echo "ok: exit $code — $err"
}
new_member() { pass_file "$1"; as "$1" init --name "$2" --kdf fast >/dev/null; }
card_of() { as "$1" whoami --no-qr | tail -1; }
