# A "Tor only" group refuses direct syncs with a clear message and exit code 12, and proceeds
# through a proxy (dante on loopback standing in for Tor). A member's other groups still sync
# directly, with a notice naming the group left out.
source "$(dirname "$0")/lib.bash"

skip() { echo "SKIP (loudly): $* — Tor-only groups were NOT tested" >&2; exit 77; }
command -v danted >/dev/null || skip "danted (dante-server) is not installed: run scripts/deps"
[ "$(id -u)" -eq 0 ] || skip "danted needs root here to switch to its unprivileged user"

PPORT=$(pick_port)
cat > "$WORK/danted.conf" <<EOF
logoutput: $WORK/danted.log
internal: 127.0.0.1 port = $PPORT
external: 127.0.0.1
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
  from: 127.0.0.0/8 to: 0.0.0.0/0
  log: connect disconnect error
}
socks pass {
  from: 127.0.0.0/8 to: 127.0.0.0/8
  command: connect
  log: connect disconnect error
}
EOF
( exec danted -f "$WORK/danted.conf" -p "$WORK/danted.pid" ) 2>"$WORK/danted.err" &
CLEANUP_PIDS+=("$!")
PROXY="socks5://127.0.0.1:$PPORT"

pass_file relay
RPORT=$(pick_port)
( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$RPORT" \
    --data "$WORK/relaydata" --kdf fast > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
RELAY=$(head -1 "$WORK/relay.out")
[[ "$RELAY" == kolokol://* ]] || fail "the relay did not start: $(cat "$WORK/relay.err")"
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PPORT") 2>/dev/null && break; sleep 0.1; done

new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
T="Tor circle"; O="Open circle"
for g in "$T" "$O"; do
  as anna group create "$g" >/dev/null
  as anna group relay add "$g" "$RELAY" >/dev/null
  token=$(as anna group add "$g" "$(card_of boris)" 2>/dev/null)
  as boris group join "$token" >/dev/null
done
as anna sync >/dev/null
as boris sync >/dev/null   # Boris learns both groups (neither is Tor only yet)

# Only an admin marks a group Tor only.
expect_exit 8 boris group tor-only "$T" on
as anna group tor-only "$T" on >/dev/null
[ "$(as anna group tor-only "$T")" = on ] || fail "the group is not Tor only"
# Written, kept, and not sent: no proxy, and the group is Tor only.
expect_exit 12 anna post "$T" "only over Tor"
as anna post "$O" "open news"

# Anna alone in the Tor group: without a proxy her sync of it is refused, the open one goes.
out=$(as anna sync 2>&1 >/dev/null) || fail "anna's sync failed although the open group can sync: $out"
grep -q "Tor circle is Tor only and no proxy is set" <<<"$out" || fail "no notice about the Tor-only group: $out"
# A sync whose every group is Tor only is refused outright, with exit 12 and the reason.
new_member clara "Clara Smirnova"
as anna group add "$T" "$(card_of clara)" 2>/dev/null > "$WORK/clara.token"
as clara group join "$(cat "$WORK/clara.token")" >/dev/null
as anna sync --proxy "$PROXY" >/dev/null
as clara sync --proxy "$PROXY" >/dev/null   # Clara learns the group is Tor only
rc=0; err=$(as clara sync 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 12 ] || fail "a direct sync of a Tor-only group should exit 12, got $rc: $err"
grep -q "refusing to connect: Tor circle is Tor only and no proxy is set" <<<"$err" || fail "unclear refusal: $err"
echo "ok: refused with exit 12 — $err"
rc=0; as clara sync "$RELAY" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 12 ] || fail "a direct sync to a named address should also be refused (exit 12), got $rc"
before=$(grep -c "tcp/connect \]" "$WORK/danted.log" || true)

# With a proxy it proceeds, and the proxy carried it.
as boris sync --proxy "$PROXY" >/dev/null || fail "boris could not sync through the proxy"
as boris read "$T" | grep -q "only over Tor" || fail "boris did not get the Tor-only group's message"
as boris read "$O" | grep -q "open news" || fail "boris did not get the open group's message"
after=$(grep -c "tcp/connect \]" "$WORK/danted.log" || true)
[ "$after" -gt "$before" ] || fail "the proxy's log shows no new connection"
echo "ok: with a proxy the Tor-only group syncs (dante logged $((after - before)) connection(s))"

# Boris now knows the group is Tor only: directly, only the open group is synced.
# Written, kept, and not sent: no proxy, and the group is Tor only.
expect_exit 12 anna post "$T" "second Tor message"
as anna post "$O" "second open message"
as anna sync --proxy "$PROXY" >/dev/null
out=$(as boris sync 2>&1 >/dev/null) || fail "boris's direct sync of the open group failed: $out"
grep -q "Tor circle is Tor only" <<<"$out" || fail "no notice for boris: $out"
as boris read "$O" | grep -q "second open message" || fail "the open group did not sync directly"
if as boris read "$T" | grep -q "second Tor message"; then fail "the Tor-only group synced without a proxy"; fi
echo "ok: without a proxy the open group syncs and the Tor-only one is left out, with a notice"

# Turning it off lets direct syncs through again.
as anna group tor-only "$T" off >/dev/null
as anna sync --proxy "$PROXY" >/dev/null
as boris sync --proxy "$PROXY" >/dev/null
as boris sync >/dev/null || fail "direct sync refused after tor-only off"
echo "ok: tor-only off restores direct syncs"
