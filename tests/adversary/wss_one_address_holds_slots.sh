# Row 50 behind a web server: a relay run with --ws-path caps sessions per client address (32)
# and per client /24 (128), the client named by X-Real-IP, which nginx sets as README.md says.
# The relay's Server counts each session against that client (ClientOrigins), and the gateway
# in front of it counts the upgrades it carries the same way, before it dials the Server: an
# upgrade over its client's cap gets the 404 any other request gets. When the gateway took
# connections up to --max-sessions from all clients together, one address held every one of
# them (64 of 64, 352 upgrades) and both members were refused on every try.
# One address that knows the secret path (the web server, a CDN, any member or anyone who has
# seen an address) opens WebSocket upgrades through nginx and then says nothing — no Noise
# handshake, not even a close frame — and dials again whatever the relay closes. Members come
# from another /24 (127.0.0.1, the attacker from 127.0.5.1), which row 50 says the attack does
# not touch: their syncs must go through within 10 s.
# The relay has 64 slots rather than 1,024 so that one process fills them quickly; the attack is
# the same with more slots and more connections.
source "$(dirname "$0")/../integration/lib.bash"
HOLD="$(dirname "$0")/../support/wss_hold.py"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "SKIP: nginx is not installed"; exit 77; }

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
[ "$tls_port" != "$gw_port" ] || gw_port=$((tls_port + 1))
secret="/k-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

# nginx as README.md configures it (one process, its own prefix), with room for the attack's
# connections: the limit under test is the relay's, not nginx's.
N="$WORK/nginx"
mkdir -p "$N/site" "$N/logs" "$N/tmp"
echo "<html><body><h1>Garden club</h1></body></html>" > "$N/site/index.html"
cat > "$N/nginx.conf" <<CONF
daemon off;
master_process off;
pid $N/nginx.pid;
error_log $N/logs/error.log;
events { worker_connections 900; }
http {
  access_log off;
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
      proxy_set_header X-Real-IP \$remote_addr;
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

pass_file relay
( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$gw_port" \
    --ws-path "$secret" --ws-host "localhost:$tls_port" --data "$WORK/relay" --kdf fast \
    --max-sessions 64 > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
RELAY_PID=$!
CLEANUP_PIDS+=("$RELAY_PID")
for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
ADDR=$(head -1 "$WORK/relay.out")
[[ "$ADDR" == "wss://localhost:$tls_port$secret#"* ]] || fail "the relay did not start: $ADDR $(cat "$WORK/relay.err")"

export KOLOKOL_CA_FILE="$WORK/pki/ca.pem"
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
G="Support group Omega"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$ADDR" >/dev/null
token=$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
as anna sync >/dev/null || fail "anna's first sync failed before the attack"
as boris sync >/dev/null || fail "boris's first sync failed before the attack"
echo "ok: both members sync through nginx before the attack"
seq 1 20 | sed 's/^/under siege /' | as anna post "$G" --each-line --no-send 2>/dev/null

# One address, 160 attempts at once, for 75 s (past both members' tries).
python3 "$HOLD" "$tls_port" "$WORK/pki/ca.pem" "$secret" 127.0.5.1 160 75 "$WORK/hold.json" &
ATTACK_PID=$!
CLEANUP_PIDS+=("$ATTACK_PID")
sleep 15
kill -0 "$ATTACK_PID" 2>/dev/null || fail "the attack ended early"

# timed WHO ARGS… — as in relay_silent_sessions.sh: a sync must succeed within 10 s (three
# tries, so that one unlucky moment is not taken for the attack).
timed() {
  local who=$1; shift
  local t0 t1 rc
  for try in 1 2 3; do
    rc=0
    t0=$(date +%s%N)
    as "$who" "$@" > "$WORK/$who.sync.out" 2> "$WORK/$who.sync.err" || rc=$?
    t1=$(date +%s%N)
    local ms=$(( (t1 - t0) / 1000000 ))
    if [ "$rc" -eq 0 ] && [ "$ms" -le 10000 ]; then echo "$ms"; return 0; fi
    echo "  $who's sync, try $try: exit $rc after $ms ms: $(tr '\n' ' ' < "$WORK/$who.sync.err" | cut -c1-200)" >&2
    sleep 2
  done
  return 1
}
broken=0
anna_ms=$(timed anna sync) || broken=1
boris_ms=$(timed boris sync) || broken=1
wait "$ATTACK_PID" || true
echo "attack (one address, 127.0.5.1): $(cat "$WORK/hold.json" 2>/dev/null)"
echo "anna's sync: ${anna_ms:-refused on all three tries} ms; boris's: ${boris_ms:-refused on all three tries} ms"
if [ "$broken" -ne 0 ]; then
  fail "row 50: one address holding silent WebSocket upgrades through nginx kept members of another /24 off the relay"
fi
n=$(as boris read "$G" --limit 1000 --json | grep -c '"text": "under siege ' || true)
[ "$n" -eq 20 ] || fail "boris received $n of the 20 messages"
echo "ok: under the attack anna sent in $anna_ms ms and boris received in $boris_ms ms"
