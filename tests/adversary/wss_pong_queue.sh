# Row 51 behind a web server: a relay's memory has a ceiling whatever its clients do. A client
# that upgrades the secret path, sends pings as fast as it can and never reads makes the
# gateway's writer wait on a full socket. The gateway answers only the newest ping while a pong
# waits (transport/src/ws_tunnel.hpp, `answer_ping`, as RFC 6455 §5.5.3 allows), so the
# unread pongs cost one control frame; when each ping queued a pong of its own, 400 MiB of
# pings took the relay from 18 MiB to 572 MiB resident. One connection, no Noise handshake, no
# mailbox. The relay must stay under 256 MiB resident (row 51's figure, there for 256
# reconciliations at once); the attack sends 400 MiB of pings.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_wss.bash"
PINGS="$(dirname "$0")/../support/wss_pings.py"
wss_start
before=$(rss_kib "$RELAY_PID")
python3 "$PINGS" "$TLS_PORT" "$WORK/pki/ca.pem" "$SECRET" 400 40 > "$WORK/pings.out" 2> "$WORK/pings.err" &
ATTACK_PID=$!
CLEANUP_PIDS+=("$ATTACK_PID")
peak=0
for _ in $(seq 40); do
  sleep 1
  kill -0 "$RELAY_PID" 2>/dev/null || fail "the relay died under the attack: $(tail -3 "$WORK/relay.err")"
  r=$(rss_kib "$RELAY_PID")
  [ "$r" -gt "$peak" ] && peak=$r
  [ -s "$WORK/pings.out" ] && break
done
sleep 2
r=$(rss_kib "$RELAY_PID"); [ "$r" -gt "$peak" ] && peak=$r
echo "relay resident: $((before / 1024)) MiB before, peak $((peak / 1024)) MiB; pings sent: $(cat "$WORK/pings.out") MiB $(cat "$WORK/pings.err")"
[ "$peak" -le $((256 * 1024)) ] ||
  fail "row 51: one connection's unread pongs took the relay to $((peak / 1024)) MiB resident"
echo "ok: the relay stayed under 256 MiB"
