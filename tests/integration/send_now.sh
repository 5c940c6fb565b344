# A write that has not left the device says so. `alert`, `post` and `report add` send to the
# group's relays at once and say so; with the relay down they exit 9 saying NOT SENT and that
# the write is kept (the next sync sends it); --no-send and a group without relays say that it
# stays on this device.
source "$(dirname "$0")/lib.bash"
pass_file relay
PORT=$(pick_port)
start_relay() {
  ( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$PORT" \
      --data "$WORK/relay" --kdf fast > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
  RELAY_PID=$!
  CLEANUP_PIDS+=("$RELAY_PID")
  for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
  [ -s "$WORK/relay.out" ] || fail "the relay did not start: $(cat "$WORK/relay.err")"
}
start_relay
ADDR=$(head -1 "$WORK/relay.out")
new_member anna Anna
new_member boris Boris
as anna group create "Юрпомощь" >/dev/null
as anna group relay add "Юрпомощь" "$ADDR" >/dev/null
token=$(as anna group add "Юрпомощь" "$(card_of boris)" 2>/dev/null)
as anna sync >/dev/null
as boris group join "$token" >/dev/null
as boris sync >/dev/null

# A critical alert goes out at once: Boris gets it with no `kolokol sync` by Anna.
out=$(as anna alert "Юрпомощь" "Задержан у станции Пушкинская" --urgency critical 2>"$WORK/alert.err")
grep -qE "^Alert [0-9a-f]+ created\.$" <<<"$out" || fail "no 'created': $out"
grep -qxF "Sent to the group's relay." <<<"$out" || fail "the alert does not say it was sent: $out $(cat "$WORK/alert.err")"
as boris sync >/dev/null
grep -qF "Задержан у станции Пушкинская" <<<"$(as boris alert list "Юрпомощь")" || fail "Boris did not get the alert"

out=$(as anna post "Юрпомощь" "Адвокат выехал" 2>&1)
[ "$out" = "Sent to the group's relay." ] || fail "post says: $out"
as boris sync >/dev/null
grep -qF "Адвокат выехал" <<<"$(as boris read "Юрпомощь")" || fail "Boris did not get the message"

out=$(as anna report add "Юрпомощь" --place "ОВД Тверское" --at 10:05 --text "Не пускают адвоката" 2>&1)
grep -qxF "Sent to the group's relay." <<<"$out" || fail "report add says: $out"

# --no-send keeps it here, and says so.
err=$(as anna post "Юрпомощь" "только здесь" --no-send 2>&1 >/dev/null)
grep -qF "not sent (--no-send)" <<<"$err" || fail "--no-send says: $err"
as boris sync >/dev/null
if grep -qF "только здесь" <<<"$(as boris read "Юрпомощь")"; then fail "--no-send sent it"; fi

# The relay is down: exit 9, NOT SENT, kept; the next sync sends it.
kill -TERM "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true
rc=0
out=$(as anna alert "Юрпомощь" "Обыск на Лесной, 5" --urgency critical 2>"$WORK/down.err") || rc=$?
[ "$rc" -eq 9 ] || fail "an alert with its relay down exited $rc: $out $(cat "$WORK/down.err")"
grep -qE "^Alert [0-9a-f]+ created\.$" <<<"$out" || fail "no 'created': $out"
if grep -q "Sent" <<<"$out"; then fail "stdout says sent: $out"; fi
grep -qF "NOT SENT" "$WORK/down.err" || fail "stderr does not say NOT SENT: $(cat "$WORK/down.err")"
grep -qF "kept on this device" "$WORK/down.err" || fail "stderr does not say it is kept: $(cat "$WORK/down.err")"
grep -qF "127.0.0.1:$PORT" "$WORK/down.err" || fail "stderr does not name the relay: $(cat "$WORK/down.err")"
grep -qF "Обыск на Лесной, 5" <<<"$(as anna alert list "Юрпомощь")" || fail "the alert was not kept"
start_relay
as anna sync >/dev/null
as boris sync >/dev/null
grep -qF "Обыск на Лесной, 5" <<<"$(as boris alert list "Юрпомощь")" || fail "the kept alert did not go with the next sync"

# A group without a relay: kept here, and said.
as anna group create Local >/dev/null
rc=0
err=$(as anna post Local "без реле" 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 0 ] || fail "post in a group without relays exited $rc: $err"
grep -qF "not sent: the group has no relay" <<<"$err" || fail "post without a relay says: $err"
echo "writes say whether they left the device; alerts go out at once"
