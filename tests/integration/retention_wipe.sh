# Retention: an admin sets a period; once it has passed (injected clock), opening the store
# deletes the expired messages, objects and attachments, and a later sync does not bring them
# back. Nothing of them is visible, and no file of the home holds their text. (The unit test
# "retention: expired records…" checks a plaintext export of the database for text and ids.)
source "$(dirname "$0")/lib.bash"
# The clock is moved with KOLOKOL_FAKE_NOW_MS, which only the test build reads.
KOLOKOL=${KOLOKOL_TESTHOOKS:?set KOLOKOL_TESTHOOKS to the kolokol-testhooks binary}

pass_file relay
port=$(pick_port)
( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
    --data "$WORK/relay" --kdf fast > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
ADDR=$(head -1 "$WORK/relay.out")
[[ "$ADDR" == kolokol://* ]] || fail "relay did not start: $(cat "$WORK/relay.err")"

G="Disappearing"
T0=$(( $(date +%s) * 1000 ))
export KOLOKOL_FAKE_NOW_MS=$T0
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$ADDR" >/dev/null
token=$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null

SECRET="meet-at-the-old-bakery-7731"
as anna post "$G" "$SECRET"
as anna case open "$G" --person "$SECRET-person" >/dev/null
printf '%s\n' "$SECRET-file" > "$WORK/note.txt"
as anna report add "$G" --place "$SECRET-place" --at 2026-03-01 --attach "$WORK/note.txt" >/dev/null
as anna sync >/dev/null
as boris sync >/dev/null
expect_exit 8 boris group retention "$G" 1d
as anna group retention "$G" 1d >/dev/null
as anna sync >/dev/null
as boris sync >/dev/null
as boris read "$G" | grep -q "$SECRET" || fail "boris did not get the message before it expired"
shown=$(as boris group retention "$G")
[ "$(head -1 <<<"$shown")" = "Records are deleted 1 day after they were written." ] \
  || fail "boris does not see the retention period: $shown"
# A shorter period deletes only once held a day (docs/design.md §13.8), and says so.
grep -q "starts deleting here at" <<<"$shown" || fail "boris is not told when it starts deleting: $shown"

# Two days later: opening the store deletes what expired; a sync does not bring it back.
export KOLOKOL_FAKE_NOW_MS=$(( T0 + 2 * 86400 * 1000 ))
as anna post "$G" "fresh news"
for who in anna boris; do
  as "$who" sync >/dev/null
  as "$who" sync >/dev/null
  shown=$(as "$who" read "$G" --limit 1000)
  if grep -qF "$SECRET" <<< "$shown"; then fail "$who still shows the expired message"; fi
  [ "$(as "$who" case list "$G" --json)" = "[]" ] || fail "$who still shows the expired case"
  [ "$(as "$who" report list "$G" --json)" = "[]" ] || fail "$who still shows the expired report"
  [ "$(as "$who" attachment list "$G" --json)" = "[]" ] || fail "$who still holds the expired attachment"
  grep -qF "fresh news" <<< "$shown" || fail "$who lost the fresh message"
  if grep -rl --binary-files=text -F "$SECRET" "$WORK/$who"; then fail "$SECRET found in $who's files"; fi
  wal="$WORK/$who/store.db-wal"
  [ ! -s "$wal" ] || [ "$(stat -c %s "$wal")" -lt 1000000 ] || fail "$who's WAL is large after retention"
done
echo "ok: expired records are gone from both members and stay gone after syncing"
