# `kolokol read --follow` stays connected to the group's relay and shows messages as they arrive.
source "$(dirname "$0")/lib.bash"
start_relay
new_member anna Anna
new_member boris Boris
as anna group create G >/dev/null
as anna group relay add G "$ADDR" >/dev/null
token=$(as anna group add G "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
as anna sync >/dev/null
as boris sync >/dev/null
( as_bg boris read G --follow > "$WORK/follow.out" 2>&1 ) &
follow_pid=$!
CLEANUP_PIDS+=("$follow_pid")
sleep 1
for text in "Живое сообщение один" "live message two"; do
  as anna post G "$text"
  as anna sync >/dev/null
  for _ in $(seq 100); do grep -qF "$text" "$WORK/follow.out" && break; sleep 0.1; done
  grep -qF "$text" "$WORK/follow.out" || fail "\"$text\" did not arrive live: $(cat "$WORK/follow.out")"
done
kill -TERM "$follow_pid"
rc=0; wait "$follow_pid" || rc=$?
[ "$rc" -eq 0 ] || fail "read --follow ended with $rc on SIGTERM"
echo "read --follow shows messages live"
