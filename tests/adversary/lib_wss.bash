# A relay behind a real nginx as README.md sets it up (TLS with a test CA, a WebSocket on a
# secret path; tests/integration/lib_nginx.bash), for attacks on the gateway (sourced after
# tests/integration/lib.bash).
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib_nginx.bash"
# wss_start [RELAY ARGS…] — starts nginx and `kolokol relay --ws-path`; sets TLS_PORT, GW_PORT,
# SECRET, ADDR, RELAY_PID, NGINX_DIR and exports KOLOKOL_CA_FILE. Skips (77) without nginx.
wss_start() {
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "SKIP: nginx is not installed"; exit 77; }
  # Room for an attack's connections: the limits under test are the relay's, not nginx's.
  NGINX_CONNECTIONS=900 nginx_up
  TLS_PORT=$tls_port GW_PORT=$gw_port SECRET=$secret
  pass_file relay
  ( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$GW_PORT" \
      --ws-path "$SECRET" --ws-host "localhost:$TLS_PORT" --data "$WORK/relay" --kdf fast "$@" \
      > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
  RELAY_PID=$!
  CLEANUP_PIDS+=("$RELAY_PID")
  for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
  ADDR=$(head -1 "$WORK/relay.out")
  [[ "$ADDR" == "wss://localhost:$TLS_PORT$SECRET#"* ]] ||
    fail "the relay did not start: $ADDR $(cat "$WORK/relay.err")"
  export KOLOKOL_CA_FILE="$WORK/pki/ca.pem"
}
# rss_kib PID — the process's resident set now, in KiB.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
