# A member's `kolokol serve` behind a real nginx, as a relay is in nginx_wss.sh: serve hands out
# a wss:// address; a probe of the secret path without an upgrade gets the site's 404 and serve
# starts no session for it; another member syncs with the serving one through nginx, both ways.
# nginx speaks TLS 1.2 only here, so the record types of the client's bytes can be read: each of
# its connections ends with an alert record, the close_notify of a clean end.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/lib_nginx.bash"
NGINX_TLS=TLSv1.2 start_nginx
export KOLOKOL_CA_FILE="$WORK/pki/ca.pem"

new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
G="Support group Omega"
as anna group create "$G" >/dev/null
token=$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
# Boris learns the group's first records by file: its messages come through nginx.
as anna sync --to-file "$WORK/start.sync" >/dev/null
as boris sync --from-file "$WORK/start.sync" >/dev/null

start_serve() {
  ( as_bg anna serve --listen "127.0.0.1:$gw_port" --ws-path "$secret" \
      --ws-host "localhost:$fwd_port" > "$WORK/serve.out" 2>"$WORK/serve.err" ) &
  SERVE_PID=$!
  CLEANUP_PIDS+=("$SERVE_PID")
  # Up to 30 s: on a loaded two-core machine serve once printed nothing within 10 s.
  for _ in $(seq 300); do [ -s "$WORK/serve.out" ] && break; sleep 0.1; done
  ADDR=$(head -1 "$WORK/serve.out")
  [[ "$ADDR" == "wss://localhost:$fwd_port$secret#"* ]] ||
    fail "serve did not start: $ADDR $(cat "$WORK/serve.err")"
}
stop_serve() {
  kill -TERM "$SERVE_PID"
  local rc=0
  wait "$SERVE_PID" || rc=$?
  [ "$rc" = 0 ] || fail "serve exited with $rc on SIGTERM: $(cat "$WORK/serve.err")"
}

# Options that do not go together are refused before anything starts.
expect_exit 2 anna serve --listen "127.0.0.1:$gw_port" --ws-path "$secret"
expect_exit 2 anna serve --listen "127.0.0.1:$gw_port" --ws-host localhost
expect_exit 2 anna serve --listen "127.0.0.1:$gw_port" --ws-path "$secret" --ws-host localhost --lan
expect_exit 2 anna serve --ws-path "$secret" --ws-host localhost --ws-proxy not-an-address

start_serve
echo "ok: serve hands out $ADDR"
site="https://localhost:$tls_port"
[ "$(curl_to "$site/no-such-page")" = 404 ] || fail "a random path did not give 404"
cp "$WORK/body" "$WORK/body.404"
[ "$(curl_to "$site$secret")" = 404 ] || fail "the secret path without an upgrade did not give 404"
cmp -s "$WORK/body" "$WORK/body.404" || fail "the secret path's 404 differs from the site's"
[ "$(curl_to -H 'Upgrade: websocket' -H 'Connection: Upgrade' "$site$secret")" = 404 ] ||
  fail "an upgrade without a key did not give 404"
stop_serve
grep -q "serve: stopped after 0 sessions" "$WORK/serve.err" ||
  fail "a probe started a session: $(cat "$WORK/serve.err")"
grep -q "serve: web server: 0 upgraded to sessions, 2 answered 404" "$WORK/serve.err" ||
  fail "the gateway did not answer the probes 404: $(cat "$WORK/serve.err")"
echo "ok: probes of the secret path got the site's 404 and serve started no session"

seq 1 200 | sed 's/^/from anna /' | as anna post "$G" --each-line --no-send 2>/dev/null
start_serve
as boris sync "$ADDR" --group "$G" >/dev/null || fail "boris could not sync with anna's serve through nginx"
seq 1 100 | sed 's/^/from boris /' | as boris post "$G" --each-line --no-send 2>/dev/null
as boris sync "$ADDR" --group "$G" >/dev/null || fail "boris could not send to anna's serve through nginx"
stop_serve
for who in anna boris; do
  n=$(as "$who" read "$G" --limit 100000 --json | grep -c '"text": "from ')
  [ "$n" -eq 300 ] || fail "$who sees $n of 300 messages"
done
grep -q "serve: stopped after [1-9][0-9]* session" "$WORK/serve.err" ||
  fail "serve counted no session: $(cat "$WORK/serve.err")"
echo "ok: 300 messages both ways between boris and anna's serve through nginx"

ups=("$WORK"/rec/up-*)
[ -e "${ups[0]}" ] || fail "the forwarder saw no connection"
for f in "${ups[@]}"; do
  python3 "$TOOLS" hello "$f" localhost http/1.1 >/dev/null || fail "$f does not start with the ClientHello"
  last=$(python3 "$TOOLS" last-record "$f")
  [ "$last" = 21 ] || fail "$f ends with a TLS record of type $last, not the close_notify alert (21)"
done
echo "ok: each of the client's ${#ups[@]} connections ended with TLS close_notify"

# A TLS failure is told in the user's language.
out=$(KOLOKOL_CA_FILE= LANGUAGE=ru LC_ALL=ru_RU.UTF-8 LANG=ru_RU.UTF-8 as boris sync "$ADDR" --group "$G" 2>&1) &&
  fail "sync trusted an unknown CA"
grep -q "сертификат" <<<"$out" || fail "the refusal is not in Russian: $out"
echo "ok: an untrusted certificate is refused in the user's language"
