# An active prober of a wss:// relay's site who guessed its secret path, or is checking one,
# but does not send an exact WebSocket upgrade of it (SECURITY.md, "active prober"): every
# answer — status line, every header but Date, and body — must be byte-identical to the site's
# own answer for a path that does not exist, for GET, HEAD, OPTIONS, a POST with a body, the
# path with a query, an upgrade without a key, an upgrade of WebSocket version 12, and a second
# request on the same keep-alive connection after one to the secret path. The relay starts no
# session for any of them. (nginx_wss.sh compares bodies and status codes of a few of these.)
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_wss.bash"
wss_start
site="https://localhost:$TLS_PORT"
answer() { curl -s -i --cacert "$WORK/pki/ca.pem" "$@" | tr -d '\r' | grep -v '^Date:'; }
same() {
  local what=$1; shift
  local a b
  a=$(answer "$@" "$site/no-such-page")
  b=$(answer "$@" "$site$SECRET")
  [ -n "$a" ] || fail "no answer to $what"
  [ "$a" = "$b" ] || fail "the secret path answers $what otherwise than a missing page: $(diff <(echo "$a") <(echo "$b") | head -5)"
  echo "ok: $what: the same answer"
}
same "GET"
same "HEAD" -I
same "OPTIONS" -X OPTIONS
same "a POST with a body" -d "field=value"
same "an upgrade without a key" -H 'Upgrade: websocket' -H 'Connection: Upgrade'
same "an upgrade of version 12" -H 'Upgrade: websocket' -H 'Connection: Upgrade' \
  -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H 'Sec-WebSocket-Version: 12'
a=$(answer "$site/no-such-page?x=1"); b=$(answer "$site$SECRET?x=1")
[ "$a" = "$b" ] || fail "the secret path with a query answers otherwise than a missing page"
echo "ok: the path with a query: the same answer"
a=$(answer "$site/no-such-page" "$site/no-such-page"); b=$(answer "$site$SECRET" "$site/no-such-page")
[ "$a" = "$b" ] || fail "a keep-alive connection behaves otherwise after the secret path"
echo "ok: a keep-alive connection after the secret path: the same answers"
kill "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true
grep -q "stopped after 0 sessions" "$WORK/relay.err" || fail "a probe started a session: $(cat "$WORK/relay.err")"
echo "ok: the relay started no session for the probes"
