# `kolokol read --limit 1 --follow`: --limit bounds the history shown first, not what arrives.
# Four messages that reach the follower in one batch are all shown, in the order written.
source "$(dirname "$0")/lib.bash"
start_relay
new_member anna Anna
new_member boris Boris
as anna group create G >/dev/null
as anna group relay add G "$ADDR" >/dev/null
token=$(as anna group add G "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
as anna sync >/dev/null
as anna post G "earlier message" >/dev/null 2>&1
as boris sync >/dev/null
# Written while Boris is away: his follow fetches all four in its first exchange.
for n in 1 2 3 4; do as anna post G "задержан номер $n" >/dev/null 2>&1; done
as anna sync >/dev/null
( as_bg boris read G --limit 1 --follow > "$WORK/follow.out" 2>"$WORK/follow.err" ) &
follow_pid=$!
CLEANUP_PIDS+=("$follow_pid")
for _ in $(seq 150); do grep -qF "задержан номер 4" "$WORK/follow.out" && break; sleep 0.1; done
sleep 1  # anything wrongly shown twice would show by now
kill -TERM "$follow_pid"
rc=0; wait "$follow_pid" || rc=$?
[ "$rc" -eq 0 ] || fail "read --follow ended with $rc on SIGTERM: $(cat "$WORK/follow.err")"
shown=$(sed -E 's/^.*(Anna): //' "$WORK/follow.out")
expected=$(printf '%s\n' "earlier message" "задержан номер 1" "задержан номер 2" \
  "задержан номер 3" "задержан номер 4")
[ "$shown" = "$expected" ] || fail "read --limit 1 --follow showed:
$(cat "$WORK/follow.out")
--- expected (after the author):
$expected"
echo "read --limit 1 --follow shows every message of a batch, in order"
