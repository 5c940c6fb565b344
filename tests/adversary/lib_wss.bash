# A relay behind a real nginx as README.md sets it up (TLS with a test CA, a WebSocket on a
# secret path), for attacks on the gateway (sourced after tests/integration/lib.bash).
# wss_start [RELAY ARGS…] — starts nginx and `kolokol relay --ws-path`; sets TLS_PORT, GW_PORT,
# SECRET, ADDR, RELAY_PID, NGINX_DIR and exports KOLOKOL_CA_FILE. Skips (77) without nginx.
wss_start() {
  local nginx
  nginx=$(command -v nginx || echo /usr/sbin/nginx)
  [ -x "$nginx" ] || { echo "SKIP: nginx is not installed"; exit 77; }
  mkdir -p "$WORK/pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Kolokol test CA" \
    -keyout "$WORK/pki/ca.key" -out "$WORK/pki/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$WORK/pki/site.key" -out "$WORK/pki/site.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost\n' > "$WORK/pki/ext"
  openssl x509 -req -in "$WORK/pki/site.csr" -CA "$WORK/pki/ca.pem" -CAkey "$WORK/pki/ca.key" \
    -CAcreateserial -days 2 -extfile "$WORK/pki/ext" -out "$WORK/pki/site.pem" 2>/dev/null
  TLS_PORT=$(pick_port)
  GW_PORT=$(pick_port)
  [ "$TLS_PORT" != "$GW_PORT" ] || GW_PORT=$((TLS_PORT + 1))
  SECRET="/k-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  # One nginx process with its own prefix, with room for an attack's connections: the limits
  # under test are the relay's, not nginx's.
  NGINX_DIR="$WORK/nginx"
  local N="$NGINX_DIR"
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
    listen 127.0.0.1:$TLS_PORT ssl;
    server_name localhost;
    ssl_certificate $WORK/pki/site.pem;
    ssl_certificate_key $WORK/pki/site.key;
    root $N/site;
    location / { try_files \$uri \$uri/ =404; }
    location = $SECRET {
      proxy_pass http://127.0.0.1:$GW_PORT;
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
  "$nginx" -p "$N" -c "$N/nginx.conf" -e "$N/logs/error.log" &
  CLEANUP_PIDS+=($!)
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$TLS_PORT") 2>/dev/null && break; sleep 0.1; done
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
