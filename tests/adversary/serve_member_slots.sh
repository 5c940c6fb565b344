# An informer who is a member tries to keep every other member of his LAN out of a member's
# `kolokol serve`. Serve has the transport server's caps (32 sessions an address, 128 a /24,
# 1,024 in all). A member holds keys to the group's mailboxes, so each session he opens is
# authorized: from 4 addresses of one /24 (a LAN, here 127.0.0.2–5) he holds its 128 slots with
# a Ping every 30 s (kolokol-adversary member-hold). Before the fix a session that opened a
# mailbox was never evicted and Clara, a member on the same /24, was refused before the
# handshake completed. A member's listener now evicts authorized sessions too: a newcomer takes
# the oldest session of the address holding the most in the full /24 when that address holds at
# least two more than the newcomer's (transport/session_slots.hpp; unit tests in
# tests/unit/session/test_session_slots.cpp, also that cycling addresses never takes an
# address's only session). No numbered row promises a member's serve against its own members.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"

G="Prisoner support"
new_member anna "Anna Petrova"
new_member boris "Boris Informer"
new_member clara "Clara Smirnova"
as anna group create "$G" >/dev/null
for who in boris clara; do
  token=$(as anna group add "$G" "$(card_of "$who")" 2>/dev/null)
  as "$who" group join "$token" >/dev/null
done
as anna sync --to-file "$WORK/all.sync" >/dev/null
as boris sync --from-file "$WORK/all.sync" >/dev/null
as clara sync --from-file "$WORK/all.sync" >/dev/null

( as_bg anna serve --listen "127.0.0.1:$(pick_port)" > "$WORK/serve.out" 2>"$WORK/serve.err" ) &
CLEANUP_PIDS+=("$!")
for _ in $(seq 300); do [ -s "$WORK/serve.out" ] && break; sleep 0.1; done
ADDR=$(head -1 "$WORK/serve.out")
[[ "$ADDR" == kolokol://* ]] || fail "serve did not start: $(cat "$WORK/serve.err")"
# Clara's sync works before the attack: the probe is sound.
as clara post "$G" "before" >/dev/null 2>&1 || true
as clara sync "$ADDR" --group "$G" >/dev/null 2>&1 || fail "clara could not sync before the attack"

( exec "$KOLOKOL_ADVERSARY" member-hold "$ADDR" "$WORK/boris" "$WORK/boris.pass" 128 \
    127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5 > "$WORK/hold.out" 2>"$WORK/hold.err" ) &
HOLD=$!
CLEANUP_PIDS+=("$HOLD")
deadline=$((SECONDS + 60))
until grep -q "^held 128 " "$WORK/hold.out" 2>/dev/null; do
  ((SECONDS < deadline)) || fail "boris never held 128 sessions: $(tail -1 "$WORK/hold.out") $(cat "$WORK/hold.err")"
  sleep 0.5
done
# 40 s in, past the 10 s an unauthorized session may stay: his sessions are still there.
sleep 40
tail -1 "$WORK/hold.out" | grep -q "^held 128 " || fail "anna's serve closed boris's sessions: $(tail -1 "$WORK/hold.out")"
as clara post "$G" "while boris holds the serve" >/dev/null 2>&1 || true
rc=0
err=$(as clara sync "$ADDR" --group "$G" 2>&1 >/dev/null) || rc=$?
kill -TERM "$HOLD" 2>/dev/null || true
if [ "$rc" -ne 0 ]; then
  echo "BROKEN: with 128 sessions of an informer from 4 addresses of her /24, clara cannot sync with anna's serve (exit $rc: $err)" >&2
  exit 1
fi
echo "serve_member_slots: clara synced with anna's serve beside 128 sessions of an informer"
