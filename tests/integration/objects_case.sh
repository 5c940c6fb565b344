# Coordination objects from the command line, between two organisers who sync through a relay
# and are never online together: a case opened by one, a timeline note and a payment added by
# the other while offline, edits on both sides; afterwards both show the same case. Then every
# other object type, history, attachments, redaction permissions and bad input (exit 6).
source "$(dirname "$0")/lib.bash"

pass_file relay
port=$(pick_port)
( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
    --data "$WORK/relay" --kdf fast > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
ADDR=$(head -1 "$WORK/relay.out")
[[ "$ADDR" == kolokol://* ]] || fail "relay did not start: $(cat "$WORK/relay.err")"

G="Legal support"
json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# The demo's scenario (scripts/demo runs the same lines): prints the case as both see it.
case_scenario() {
  new_member anna "Anna Petrova"
  new_member boris "Boris Ivanov"
  as anna group create "$G" >/dev/null
  as anna group relay add "$G" "$ADDR" >/dev/null
  token=$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)
  as boris group join "$token" >/dev/null

  # Anna opens a case for a detained member and syncs.
  as anna case open "$G" --person "Ivan Sokolov" --detained-at "2026-03-01 18:30" \
    --where "Precinct 5" --charges "Art. 20.2" | tee "$WORK/open.out"
  CASE=$(sed -n 's/^Case \([0-9a-f]*\) created\.$/\1/p' "$WORK/open.out")
  [ -n "$CASE" ] || fail "no case id printed: $(cat "$WORK/open.out")"
  as anna sync >/dev/null
  # Boris syncs, then offline adds a timeline note and a payment.
  as boris sync >/dev/null
  as boris case note "$G" "$CASE" "Lawyer admitted at 23:10; Ivan is well"
  as boris case pay "$G" "$CASE" 150 eur --purpose "fine"
  # Meanwhile Anna, also offline, names the lawyer and changes the status.
  as anna case set "$G" "$CASE" lawyer="M. Sokolova" status=charged
  # Both sync (never at the same time), then both show the same case.
  as boris sync >/dev/null
  as anna sync >/dev/null
  as boris sync >/dev/null
  echo "--- Anna sees:"; as anna case show "$G" "$CASE"
  echo "--- Boris sees:"; as boris case show "$G" "$CASE"
}

case_scenario
as anna case show "$G" "$CASE" --json > "$WORK/anna.case"
as boris case show "$G" "$CASE" --json > "$WORK/boris.case"
cmp -s "$WORK/anna.case" "$WORK/boris.case" || fail "the two organisers see different cases: $(diff "$WORK/anna.case" "$WORK/boris.case")"
[ "$(json_field 'd["fields"]["lawyer"]' < "$WORK/anna.case")" = "M. Sokolova" ] || fail "lawyer not set"
[ "$(json_field 'd["fields"]["status"]' < "$WORK/anna.case")" = "charged" ] || fail "status not set"
[ "$(json_field 'len(d["lists"]["timeline"])' < "$WORK/anna.case")" = 1 ] || fail "timeline note missing"
[ "$(json_field 'd["totals"][0]["amount"]' < "$WORK/anna.case")" = "150.00" ] || fail "ledger total wrong"
[ "$(json_field 'd["totals"][0]["currency"]' < "$WORK/anna.case")" = "EUR" ] || fail "currency not normalised"
echo "ok: both organisers show the same case after offline edits on both sides"

# History: who changed what, and when.
as anna case history "$G" "$CASE" > "$WORK/history"
grep -q "Boris Ivanov  added to ledger: amount=150, currency=EUR, direction=paid, purpose=fine" "$WORK/history" \
  || fail "history lacks Boris's payment: $(cat "$WORK/history")"
grep -q 'Anna Petrova  set lawyer: "" → "M. Sokolova"' "$WORK/history" || fail "history lacks the lawyer: $(cat "$WORK/history")"
[ "$(as boris case history "$G" "$CASE" --json | json_field 'len(d)')" -ge 8 ] || fail "short JSON history"
[ "$(as boris case list "$G" --json | json_field 'd[0]["fields"]["person"]')" = "Ivan Sokolov" ] || fail "case list"
echo "ok: case history names who changed what"

# Attachments travel with the case and come out byte-identical.
head -c 300000 /dev/urandom > "$WORK/decision.pdf"
as anna case attach "$G" "$CASE" "$WORK/decision.pdf" --type application/pdf >/dev/null
as anna sync >/dev/null
as boris sync >/dev/null
AID=$(as boris attachment list "$G" --json | json_field 'd[0]["id"][:10]')
as boris attachment get "$G" "$AID" -o "$WORK/got.pdf" >/dev/null
cmp -s "$WORK/decision.pdf" "$WORK/got.pdf" || fail "attachment differs"
expect_exit 11 boris attachment get "$G" "$AID" -o "$WORK/got.pdf"
[ "$(as boris case show "$G" "$CASE" --json | json_field 'd["attachments"][0]["complete"]')" = True ] || fail "case lacks its attachment"
echo "ok: a case attachment synced byte-identical"

# Events, tasks, contacts, reports, alerts.
as anna event add "$G" --title "Court vigil" --at "2026-03-02 09:00" --place "District court" > "$WORK/ev"
EV=$(sed -n 's/^Event \([0-9a-f]*\) created\.$/\1/p' "$WORK/ev")
as anna task add "$G" --title "Collect signatures" --target 1000 > "$WORK/task"
TASK=$(sed -n 's/^Task \([0-9a-f]*\) created\.$/\1/p' "$WORK/task")
as anna contact add "$G" --name "M. Sokolova" --role lawyer --reach "+7 900 000 00 00" >/dev/null
echo "ballot box opened before the count" > "$WORK/photo.txt"
as anna report add "$G" --place "Polling station 1234" --at "2026-03-15 20:05" --category "ballot stuffing" \
  --text "Observer was removed" --attach "$WORK/photo.txt" >/dev/null
as anna alert "$G" "Detained at station X — lawyer needed now" --urgency critical >/dev/null
as anna alert "$G" "Rally moved to 19:00" --urgency normal >/dev/null
as anna sync >/dev/null
as boris sync >/dev/null
as boris event rsvp "$G" "$EV" yes --role medic
as boris task progress "$G" "$TASK" 250 --note "metro exit" >/dev/null
as boris task assign "$G" "$TASK" "Anna Petrova" >/dev/null
as boris sync >/dev/null
as anna sync >/dev/null
[ "$(as anna event show "$G" "$EV" --json | json_field 'd["rsvps"][0]["answer"]')" = yes ] || fail "rsvp"
[ "$(as anna event list "$G" --json | json_field 'd[0]["fields"]["place"]')" = "District court" ] || fail "event list"
[ "$(as anna task list "$G" --json | json_field 'd[0]["fields"]["count"]')" = 250 ] || fail "task count"
as anna task done "$G" "$TASK" >/dev/null
[ "$(as anna task list "$G" --json | json_field 'len(d)')" = 0 ] || fail "a done task is still open"
[ "$(as anna task list "$G" --all --json | json_field 'len(d)')" = 1 ] || fail "task list --all"
[ "$(as boris contact list "$G" --json | json_field 'd[0]["fields"]["role"]')" = lawyer ] || fail "contact"
[ "$(as boris report list "$G" --json | json_field 'len(d[0]["lists"]["attachments"])')" = 1 ] || fail "report attachment"
[ "$(as boris alert list "$G" --json | json_field 'd[0]["fields"]["urgency"]')" = critical ] || fail "alerts not most urgent first"
echo "ok: events, tasks, contacts, reports and alerts"

# Permissions: Boris (not an admin) cannot redact Anna's record; he can redact his own.
REC=$(as anna case show "$G" "$CASE" --json | json_field 'd["set_by"]["lawyer"]["record"][:12]')
expect_exit 8 boris redact "$G" "$REC"
NOTE=$(as boris case show "$G" "$CASE" --json | json_field 'd["lists"]["timeline"][0]["id"][:12]')
as boris redact "$G" "$NOTE" --reason "too revealing" >/dev/null
as boris sync >/dev/null
as anna sync >/dev/null
shown=$(as anna case show "$G" "$CASE")
if grep -qF "Lawyer admitted" <<< "$shown"; then fail "a redacted note still shows"; fi
echo "ok: only the author or an admin redacts, and peers honour it"

# Bad input: a clear reason and exit 6.
expect_exit 6 anna case set "$G" "$CASE" shoe_size=42
expect_exit 6 anna case set "$G" "$CASE" "person=$(head -c 300 /dev/zero | tr '\0' x)"
expect_exit 6 anna case open "$G" --person X --detained-at "2026-02-30"
expect_exit 6 anna case pay "$G" "$CASE" 1e99 EUR
expect_exit 6 anna case pay "$G" "$CASE" 99999999999999 EUR
expect_exit 6 anna event add "$G" --title T --at "3000-01-01"
expect_exit 6 anna case show "$G" zz
expect_exit 7 anna case show "$G" ffffffff
expect_exit 6 anna group retention "$G" 5parsecs
echo "ok: bad input refused with exit 6"
