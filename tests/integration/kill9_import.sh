# kill -9 during a large `sync --from-file` leaves a store that opens and is consistent; running
# the import again completes it.
source "$(dirname "$0")/lib.bash"
new_member anna Anna
new_member boris Boris
as anna group create G >/dev/null
token=$(as anna group add G "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
N=6000
seq 1 $N | sed 's/^/message number /' | as anna post G --each-line 2>/dev/null
as anna sync --to-file "$WORK/big.sync" >/dev/null
for attempt in 1 2 3; do
  ( as_bg boris sync --from-file "$WORK/big.sync" >/dev/null 2>&1 ) &
  pid=$!
  # Kill at a random moment while it runs (the full import takes about a second here).
  sleep "0.$((RANDOM % 6 + 2))"
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  # The store opens and reads whatever committed; nothing is half-applied.
  gid=$(as boris group list --json | grep '"id"' | head -1 | sed 's/.*"id": "\([0-9a-f]*\)".*/\1/')
  got=$(as boris read "$gid" --limit 100000 --json | grep -c '"text"' || true)
  echo "after kill $attempt: $got messages readable"
  [ "$got" -le $N ] || fail "more messages than were written"
done
as boris sync --from-file "$WORK/big.sync" >/dev/null
got=$(as boris read G --limit 100000 --json | grep -c '"text"')
[ "$got" -eq $N ] || fail "after a full import: $got of $N"
# Each message exactly once, in order.
as boris read G --limit 100000 --json | grep '"text"' | sed 's/.*message number \([0-9]*\).*/\1/' > "$WORK/order"
seq 1 $N | diff -q - "$WORK/order" >/dev/null || fail "messages missing, duplicated or out of order"
echo "kill -9 during import: store consistent, import completes"
