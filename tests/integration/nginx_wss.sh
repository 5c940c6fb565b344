# A relay behind a real nginx (TLS with a test CA, a WebSocket on a secret path), as a relay
# that looks like an ordinary HTTPS site: two members sync through it; the client's first bytes
# are a TLS ClientHello naming the host (SNI) and offering http/1.1 (ALPN); curl to the site, to
# random paths and to the secret path without an upgrade gets the site or nginx's own 404, and
# the relay starts no session for them; a bad WebSocket frame ends that one connection only.
source "$(dirname "$0")/lib.bash"
TOOLS="$(dirname "$0")/../support/wss_tools.py"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || fail "nginx is not installed (scripts/deps installs nginx-light)"

# A test CA and a certificate for localhost signed by it.
mkdir -p "$WORK/pki"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Kolokol test CA" \
  -keyout "$WORK/pki/ca.key" -out "$WORK/pki/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
  -keyout "$WORK/pki/site.key" -out "$WORK/pki/site.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\n' > "$WORK/pki/ext"
openssl x509 -req -in "$WORK/pki/site.csr" -CA "$WORK/pki/ca.pem" -CAkey "$WORK/pki/ca.key" \
  -CAcreateserial -days 2 -extfile "$WORK/pki/ext" -out "$WORK/pki/site.pem" 2>/dev/null

tls_port=$(pick_port)
gw_port=$(pick_port)
fwd_port=$(pick_port)
[ "$tls_port" != "$gw_port" ] || gw_port=$((tls_port + 1))
secret="/k-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

# nginx on a high port with its own prefix, pid, logs and temp paths, as one process (no
# master: it runs as whoever runs the test, reads the test's files, and dies with it).
N="$WORK/nginx"
mkdir -p "$N/site" "$N/logs" "$N/tmp"
echo "<html><body><h1>Garden club</h1><p>Meetings on Thursdays.</p></body></html>" > "$N/site/index.html"
cat > "$N/nginx.conf" <<CONF
daemon off;
master_process off;
pid $N/nginx.pid;
error_log $N/logs/error.log;
events { worker_connections 256; }
http {
  access_log $N/logs/access.log;
  client_body_temp_path $N/tmp/body;
  proxy_temp_path $N/tmp/proxy;
  fastcgi_temp_path $N/tmp/fastcgi;
  uwsgi_temp_path $N/tmp/uwsgi;
  scgi_temp_path $N/tmp/scgi;
  server {
    listen 127.0.0.1:$tls_port ssl;
    server_name localhost;
    ssl_certificate $WORK/pki/site.pem;
    ssl_certificate_key $WORK/pki/site.key;
    root $N/site;
    location / { try_files \$uri \$uri/ =404; }
    location = $secret {
      proxy_pass http://127.0.0.1:$gw_port;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      proxy_buffering off;
      proxy_intercept_errors on;
      error_page 404 = @missing;
    }
    location @missing { return 404; }
  }
}
CONF
"$NGINX" -p "$N" -c "$N/nginx.conf" -e "$N/logs/error.log" &
CLEANUP_PIDS+=($!)
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$tls_port") 2>/dev/null && break; sleep 0.1; done

# A forwarder in front of nginx records each client connection's first bytes and its bytes.
mkdir -p "$WORK/rec"
python3 "$TOOLS" forward "$fwd_port" "$tls_port" "$WORK/rec" &
CLEANUP_PIDS+=($!)

pass_file relay
start_ws_relay() {
  ( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$gw_port" \
      --ws-path "$secret" --ws-host "localhost:$fwd_port" --data "$WORK/relay" --kdf fast \
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
curl_to() { curl -s --cacert "$WORK/pki/ca.pem" -o "$WORK/body" -w '%{http_code}' "$@"; }
site="https://localhost:$tls_port"
[ "$(curl_to "$site/")" = 200 ] && grep -q "Garden club" "$WORK/body" ||
  fail "the site is not served: $(tail -3 "$N/logs/error.log")"
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
