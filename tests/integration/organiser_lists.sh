# The lists an organiser reads under pressure say what they need: a task's assignee by name and
# its due date; an alert's sender and time; a report's author; who vetted a contact. Contacts can
# be edited and removed, an alert resolved without redacting it (both stay in --all and the
# history), and multi-line text keeps a table to one line per object.
source "$(dirname "$0")/lib.bash"
# The clock is moved with KOLOKOL_FAKE_NOW_MS, which only the test build reads.
KOLOKOL=${KOLOKOL_TESTHOOKS:?set KOLOKOL_TESTHOOKS to the kolokol-testhooks binary}
command -v python3 >/dev/null || fail "python3 is missing (scripts/deps)"
json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
export TZ=UTC
# 2026-12-05T12:00:00Z
export KOLOKOL_FAKE_NOW_MS=1796472000000

new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
G="Legal support"
as anna group create "$G" >/dev/null
as boris group join "$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)" >/dev/null
id_of() { sed -n 's/^[A-Za-z]* \([0-9a-f]*\) created\.$/\1/p'; }

# Tasks: the assignee by name, the due date in local time, the count.
TASK=$(as anna task add "$G" --title "Collect signatures" --target 1000 --due "2026-12-06 18:00" \
  --assignee "Boris Ivanov" | id_of)
[ -n "$TASK" ] || fail "no task id"
line=$(as anna task list "$G" | grep "Collect signatures") || fail "task not listed"
for want in "→ Boris Ivanov" "due 2026-12-06 18:00" "0/1000" "open"; do
  grep -qF -- "$want" <<<"$line" || fail "task line lacks \"$want\": $line"
done
echo "ok: task line — $line"

# Alerts: who sent it and when; resolved without redacting.
ALERT=$(as anna alert "$G" "Detained at station X — lawyer needed now" --urgency critical | id_of)
as anna alert "$G" "Rally moved to 19:00" --urgency normal >/dev/null
line=$(as anna alert list "$G" | grep "station X") || fail "alert not listed"
grep -qF -- "— Anna Petrova, 2026-12-05 12:00" <<<"$line" || fail "alert line lacks sender and time: $line"
as anna sync --to-file "$WORK/s1.sync" >/dev/null
as boris sync --from-file "$WORK/s1.sync" >/dev/null
as boris alert resolve "$G" "$ALERT" >/dev/null
as boris sync --to-file "$WORK/s2.sync" >/dev/null
as anna sync --from-file "$WORK/s2.sync" >/dev/null
open_alerts=$(as anna alert list "$G")
if grep -q -- "station X" <<<"$open_alerts"; then fail "a resolved alert is still listed as open"; fi
grep -qF -- "(1 more done, resolved or removed: --all shows it)" <<<"$open_alerts" \
  || fail "alert list does not say one is hidden: $(as anna alert list "$G")"
line=$(as anna alert list "$G" --all | grep "station X") || fail "alert list --all lacks the resolved alert"
grep -qF "[resolved by Boris Ivanov, 2026-12-05 12:00]" <<<"$line" || fail "resolved alert line: $line"
[ "$(as anna alert list "$G" --all --json | json_field '[a["fields"]["text"] for a in d if not a["active"]][0]')" \
  = "Detained at station X — lawyer needed now" ] || fail "resolving an alert removed its text"
echo "ok: alert line — $line"

# Reports: the author; multi-line text stays on one line of the table.
as boris report add "$G" --place "Polling station 1234" --at "2026-12-05 08:00" \
  --text "$(printf 'Observer removed\nat 08:00\tby police')" >/dev/null
as boris report add "$G" --place "Polling station 99" --at "2026-12-05 09:00" --text "Quiet" >/dev/null
out=$(as boris report list "$G")
[ "$(grep -c . <<<"$out")" = 2 ] || fail "report table is not one line per report: $out"
grep -qF "Observer removed ⏎ at 08:00 by police" <<<"$out" || fail "multi-line text not folded: $out"
grep -q "Polling station 1234.*— Boris Ivanov" <<<"$out" || fail "report line lacks its author: $out"
echo "ok: report lines — one per report, with the author"

# Contacts: who vetted, edit, remove.
CONTACT=$(as anna contact add "$G" --name "M. Sokolova" --role lawyer --reach "+7 900 000-00-00" \
  --vetted-by "Boris Ivanov" | id_of)
as anna contact add "$G" --name "Dr. Orlov" --role medic >/dev/null
line=$(as anna contact list "$G" | grep "Sokolova") || fail "contact not listed"
grep -qF "vetted by Boris Ivanov" <<<"$line" || fail "contact line lacks who vetted: $line"
grep "Orlov" <<<"$(as anna contact list "$G")" | grep -qF -- "vetted by Anna Petrova" || fail "default vetting not shown"
as anna contact set "$G" "$CONTACT" --reach "+7 900 111-22-33" >/dev/null
grep "Sokolova" <<<"$(as anna contact list "$G")" | grep -qF -- "+7 900 111-22-33" || fail "contact not edited"
expect_exit 2 anna contact set "$G" "$CONTACT"
expect_exit 6 anna contact set "$G" "$CONTACT" --role plumber
as anna contact remove "$G" "$CONTACT" --reason "phone seized" >/dev/null
contacts=$(as anna contact list "$G")
if grep -q -- "Sokolova" <<<"$contacts"; then fail "a removed contact is still listed"; fi
grep -q -- "Orlov" <<<"$contacts" || fail "the other contact is gone too: $contacts"
grep "Sokolova" <<<"$(as anna contact list "$G" --all)" | grep -qF -- "[removed by Anna Petrova" \
  || fail "contact list --all: $(as anna contact list "$G" --all)"
[ "$(as anna contact list "$G" --all --json | json_field '[c["lists"]["vetting"][0]["fields"]["note"] for c in d if not c["active"]][0]')" \
  = "phone seized" ] || fail "the reason for the removal is not kept"
echo "ok: contacts — vetted by, edited, removed with a reason"

# Everything above is the same for the other member after a sync.
as anna sync --to-file "$WORK/s3.sync" >/dev/null
as boris sync --from-file "$WORK/s3.sync" >/dev/null
grep "Collect signatures" <<<"$(as boris task list "$G")" | grep -qF -- "→ Boris Ivanov" || fail "boris's task list"
contacts=$(as boris contact list "$G")
if grep -q -- "Sokolova" <<<"$contacts"; then fail "boris still lists the removed contact"; fi
grep -q -- "Orlov" <<<"$contacts" || fail "boris lists no contacts: $contacts"
echo "ok: the other member sees the same lists"
