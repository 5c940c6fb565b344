# A relay behind a real nginx (TLS with a test CA, a WebSocket on a secret path), as a relay
# that looks like an ordinary HTTPS site: two members sync through it; the client's first bytes
# are a TLS ClientHello naming the host (SNI) and offering http/1.1 (ALPN); curl to the site, to
# random paths and to the secret path without an upgrade gets the site or nginx's own 404, and
# the relay starts no session for them; a bad WebSocket frame ends that one connection only; one
# client address that opens many sessions is capped (the gateway takes it from nginx's
# X-Real-IP) while another still gets in.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/lib_nginx.bash"
start_nginx

pass_file relay
start_ws_relay() {
  ( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$gw_port" \
      --ws-path "$secret" --ws-host "localhost:$fwd_port" --data "$WORK/relay" --kdf fast "$@" \
      > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
  RELAY_PID=$!
  CLEANUP_PIDS+=("$RELAY_PID")
  for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
  ADDR=$(head -1 "$WORK/relay.out")
  [[ "$ADDR" == "wss://localhost:$fwd_port$secret#"* ]] || fail "the relay did not start: $ADDR $(cat "$WORK/relay.err")"
}
stop_relay() { kill "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true; }
start_ws_relay
echo "ok: the relay hands out $ADDR"

# Probes: the site, random paths, the secret path without the upgrade or with a bad one.
site="https://localhost:$tls_port"
[ "$(curl_to "$site/")" = 200 ] && grep -q "Garden club" "$WORK/body" ||
  fail "the site is not served: $(tail -3 "$NGINX_DIR/logs/error.log")"
[ "$(curl_to "$site/no-such-page")" = 404 ] || fail "a random path did not give 404"
cp "$WORK/body" "$WORK/body.404"
for p in /k /k- "/k-$RANDOM" "$secret/" "$secret.html" /admin "/${secret#/k-}"; do
  [ "$(curl_to "$site$p")" = 404 ] || fail "$p did not give 404"
done
[ "$(curl_to "$site$secret")" = 404 ] || fail "the secret path without an upgrade did not give 404"
cmp -s "$WORK/body" "$WORK/body.404" || fail "the secret path's 404 differs from the site's: $(cat "$WORK/body")"
[ "$(curl_to -H 'Upgrade: websocket' -H 'Connection: Upgrade' "$site$secret")" = 404 ] ||
  fail "an upgrade without a key did not give 404"
cmp -s "$WORK/body" "$WORK/body.404" || fail "the refused upgrade's 404 differs from the site's"
[ "$(curl_to -X POST -d x "$site$secret")" = 404 ] || fail "a POST to the secret path did not give 404"
if curl -s --cacert "$WORK/pki/ca.pem" "$site$secret" | grep -qi kolokol; then fail "a probe saw Kolokol"; fi
echo "ok: the site, random paths and the secret path without a good upgrade give the site or its 404"
stop_relay
grep -q "stopped after 0 sessions" "$WORK/relay.err" || fail "a probe started a session: $(cat "$WORK/relay.err")"
grep -q "web server: 0 upgraded to sessions, [1-9][0-9]* answered 404" "$WORK/relay.err" ||
  fail "the gateway did not answer the probes 404: $(cat "$WORK/relay.err")"
echo "ok: the relay started no session for the probes"

# Two members sync through nginx.
start_ws_relay
export KOLOKOL_CA_FILE="$WORK/pki/ca.pem"
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
G="Support group Omega"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$ADDR" >/dev/null
token=$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
seq 1 300 | sed 's/^/from anna /' | as anna post "$G" --each-line --no-send 2>/dev/null
as anna sync >/dev/null || fail "anna could not sync through nginx"
as boris sync --json > "$WORK/boris_sync.json" || fail "boris could not sync through nginx"
seq 1 200 | sed 's/^/from boris /' | as boris post "$G" --each-line --no-send 2>/dev/null
as boris sync >/dev/null
as anna sync >/dev/null
for who in anna boris; do
  n=$(as "$who" read "$G" --limit 100000 --json | grep -c '"text": "from ')
  [ "$n" -eq 500 ] || fail "$who sees $n of 500 messages"
done
echo "ok: 500 messages both ways through nginx"

first=$(ls "$WORK/rec"/first-* | head -1)
python3 "$TOOLS" hello "$first" localhost http/1.1 || fail "the first bytes are not the expected ClientHello"
echo "ok: the client's first bytes are a TLS ClientHello with SNI localhost and ALPN http/1.1"

# Without the test CA the certificate is refused.
out=$(KOLOKOL_CA_FILE= as anna sync 2>&1) && fail "sync trusted an unknown CA"
grep -qi "certificate" <<<"$out" || fail "the refusal does not name the certificate: $out"
echo "ok: an unknown CA is refused"

# Bad frames end their own connection; another stays served.
python3 "$TOOLS" abuse "$tls_port" "$WORK/pki/ca.pem" "$secret" || fail "bad frames were not handled"
as boris sync >/dev/null || fail "the relay stopped serving after bad frames"
echo "ok: bad frames closed their connection only; the relay keeps serving"
stop_relay

# Caps per client: nginx names each client in X-Real-IP. One address (127.0.0.2) that opens six
# sessions and says nothing holds four; another (127.0.0.1, through the forwarder) still syncs.
start_ws_relay --per-address 4
python3 "$TOOLS" crowd "$tls_port" "$WORK/pki/ca.pem" "$secret" 127.0.0.2 6 > "$WORK/crowd.out" &
CROWD_PID=$!
CLEANUP_PIDS+=("$CROWD_PID")
for _ in $(seq 100); do [ -s "$WORK/crowd.out" ] && break; sleep 0.1; done
grep -qx "held 4 of 6" "$WORK/crowd.out" || fail "one address was not capped at 4: $(cat "$WORK/crowd.out")"
as boris sync >/dev/null || fail "another address was locked out by the first one's sessions"
kill "$CROWD_PID"
stop_relay
# The gateway refuses the two over the cap, before the relay is dialled (docs/design.md §8.7).
grep -q "relay: web server: [0-9]* upgraded to sessions, [0-9]* answered 404, 2 refused at the cap" "$WORK/relay.err" ||
  fail "the gateway did not count the refusals: $(cat "$WORK/relay.err")"
echo "ok: one client address is capped at 4 sessions behind nginx; another still syncs"
