# A real nginx in front of a Kolokol gateway, as README.md configures it: a test CA and a
# certificate for the site's name; nginx with TLS serving a small site, and proxying the secret
# path as a WebSocket to a gateway with X-Real-IP set. Source after lib.bash.
#
# nginx_up — writes the CA, the certificate and nginx.conf and starts nginx. Uses (and sets
# when unset) tls_port, gw_port and secret; NGINX_NAME (default localhost), NGINX_LISTEN
# (default 127.0.0.1), NGINX_CONNECTIONS (default 256), NGINX_TLS (ssl_protocols, default
# TLSv1.2 TLSv1.3), NGINX_EXEC (a command prefix, e.g. `ip netns exec NS`). Sets NGINX_DIR, its
# prefix.
# start_nginx — nginx_up for tests/integration/nginx_wss*.sh, with a forwarder on $fwd_port in
# front of nginx that records each client connection's bytes in $WORK/rec
# (tests/support/wss_tools.py).
TOOLS="$(dirname "${BASH_SOURCE[0]}")/../support/wss_tools.py"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
nginx_up() {
  [ -x "$NGINX" ] || fail "nginx is not installed (scripts/deps installs nginx-light)"
  local name=${NGINX_NAME:-localhost}
  mkdir -p "$WORK/pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Kolokol test CA" \
    -keyout "$WORK/pki/ca.key" -out "$WORK/pki/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$name" \
    -keyout "$WORK/pki/site.key" -out "$WORK/pki/site.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s\n' "$name" > "$WORK/pki/ext"
  openssl x509 -req -in "$WORK/pki/site.csr" -CA "$WORK/pki/ca.pem" -CAkey "$WORK/pki/ca.key" \
    -CAcreateserial -days 2 -extfile "$WORK/pki/ext" -out "$WORK/pki/site.pem" 2>/dev/null

  tls_port=${tls_port:-$(pick_port)}
  gw_port=${gw_port:-$(pick_port)}
  [ "$tls_port" != "$gw_port" ] || gw_port=$((tls_port + 1))
  secret=${secret:-"/k-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"}

  # nginx on a high port with its own prefix, pid, logs and temp paths, as one process (no
  # master: it runs as whoever runs the test, reads the test's files, and dies with it).
  NGINX_DIR="$WORK/nginx"
  local N=$NGINX_DIR
  mkdir -p "$N/site" "$N/logs" "$N/tmp"
  echo "<html><body><h1>Garden club</h1><p>Meetings on Thursdays.</p></body></html>" > "$N/site/index.html"
  cat > "$N/nginx.conf" <<CONF
daemon off;
master_process off;
pid $N/nginx.pid;
error_log $N/logs/error.log;
events { worker_connections ${NGINX_CONNECTIONS:-256}; }
http {
  access_log $N/logs/access.log;
  client_body_temp_path $N/tmp/body;
  proxy_temp_path $N/tmp/proxy;
  fastcgi_temp_path $N/tmp/fastcgi;
  uwsgi_temp_path $N/tmp/uwsgi;
  scgi_temp_path $N/tmp/scgi;
  server {
    listen ${NGINX_LISTEN:-127.0.0.1}:$tls_port ssl;
    server_name $name;
    ssl_protocols ${NGINX_TLS:-TLSv1.2 TLSv1.3};
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
  ${NGINX_EXEC:-} "$NGINX" -p "$N" -c "$N/nginx.conf" -e "$N/logs/error.log" &
  CLEANUP_PIDS+=($!)
  [ -n "${NGINX_EXEC:-}" ] && return 0
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$tls_port") 2>/dev/null && break; sleep 0.1; done
}

start_nginx() {
  nginx_up
  fwd_port=$(pick_port)
  # A forwarder in front of nginx records each client connection's first bytes and its bytes.
  mkdir -p "$WORK/rec"
  python3 "$TOOLS" forward "$fwd_port" "$tls_port" "$WORK/rec" &
  CLEANUP_PIDS+=($!)
}

# curl_to ARGS… — the HTTP status of a request that trusts the test CA; the body in $WORK/body.
curl_to() { curl -s --cacert "$WORK/pki/ca.pem" -o "$WORK/body" -w '%{http_code}' "$@"; }
