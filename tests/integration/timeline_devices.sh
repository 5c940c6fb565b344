# Order and times. A case's timeline is shown in the order things happened (the times notes
# state, else when they were written), all in one local format, whatever order they were
# written in. And one identity writing from two devices at once — a restore from a backup on a
# second machine, both then in use — is not interleaved without a word: `read` says so and
# marks each of those messages with its device, for every member who receives them.
source "$(dirname "$0")/lib.bash"
# The clock is moved with KOLOKOL_FAKE_NOW_MS, which only the test build reads.
KOLOKOL=${KOLOKOL_TESTHOOKS:?set KOLOKOL_TESTHOOKS to the kolokol-testhooks binary}
command -v python3 >/dev/null || fail "python3 is missing (scripts/deps)"
json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
export TZ=Europe/Moscow

new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
G="Legal support"
as anna group create "$G" >/dev/null
as boris group join "$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)" >/dev/null

# 1. The timeline, written out of order. Written on 2026-03-05 at 10:00 Moscow time.
export KOLOKOL_FAKE_NOW_MS=1772694000000
CASE=$(as anna case open "$G" --person "Ivan P." | sed -n 's/^Case \([0-9a-f]*\) created\.$/\1/p')
as anna case note "$G" "$CASE" "Court hearing set" --at "2026-03-03 09:00" >/dev/null
as anna case note "$G" "$CASE" "Lawyer not admitted" >/dev/null
as anna case note "$G" "$CASE" "Detained near the square" --at "01.03.2026 18:30" >/dev/null
as anna case note "$G" "$CASE" "Moved to the detention centre" --at "2026-03-02T06:15:00Z" >/dev/null
shown=$(as anna case show "$G" "$CASE" | sed -n '/^Timeline:/,/^[A-Z]/p' | grep '^  ')
expected="  2026-03-01 18:30  Anna Petrova: Detained near the square
  2026-03-02 09:15  Anna Petrova: Moved to the detention centre
  2026-03-03 09:00  Anna Petrova: Court hearing set
  2026-03-05 10:00  Anna Petrova: Lawyer not admitted"
[ "$shown" = "$expected" ] || fail "the timeline is not in time order in one format:
$shown
--- expected:
$expected"
as anna case show "$G" "$CASE" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
t = [(i["at"], i["at_stated"], i["fields"]["text"]) for i in d["timeline"]]
assert [x[0] for x in t] == ["2026-03-01T18:30:00+03:00", "2026-03-02T09:15:00+03:00",
                             "2026-03-03T09:00:00+03:00", "2026-03-05T10:00:00+03:00"], t
assert [x[1] for x in t] == [True, True, True, False], t
' || fail "case show --json: the timeline in time order"
echo "ok: the timeline is in the order things happened, in one format"

# 2. One identity on two devices. Anna backs up, restores on a second machine, and both are used
#    before either syncs; Boris receives both.
as anna post "$G" "Before the backup"
echo "backup passphrase" > "$WORK/backup.pass"
as anna backup -o "$WORK/anna.age" --backup-passphrase-file "$WORK/backup.pass" >/dev/null
cp "$WORK/anna.pass" "$WORK/anna2.pass"
as anna2 restore "$WORK/anna.age" --backup-passphrase-file "$WORK/backup.pass" --kdf fast >/dev/null
export KOLOKOL_FAKE_NOW_MS=1772697600000  # an hour later
as anna post "$G" "From the laptop: lawyer on the way"
as anna2 post "$G" "From the phone: I am at the station"
as anna2 post "$G" "From the phone: still waiting"
as anna sync --to-file "$WORK/laptop.sync" >/dev/null
as anna2 sync --to-file "$WORK/phone.sync" >/dev/null
as boris sync --from-file "$WORK/laptop.sync" >/dev/null
as boris sync --from-file "$WORK/phone.sync" >/dev/null
out=$(as boris read "$G")
echo "$out"
grep -qF "! Anna Petrova wrote from 2 devices at once" <<<"$out" || fail "read does not say Anna wrote from two devices"
grep -q "Anna Petrova \[device [12]\]: From the laptop" <<<"$out" || fail "the laptop's message is not marked"
grep -q "Anna Petrova \[device [12]\]: From the phone: I am" <<<"$out" || fail "the phone's message is not marked"
laptop=$(sed -n 's/.*\[device \([12]\)\]: From the laptop.*/\1/p' <<<"$out")
phone1=$(sed -n 's/.*\[device \([12]\)\]: From the phone: I am.*/\1/p' <<<"$out")
phone2=$(sed -n 's/.*\[device \([12]\)\]: From the phone: still.*/\1/p' <<<"$out")
[ "$laptop" != "$phone1" ] && [ "$phone1" = "$phone2" ] || fail "devices not told apart: laptop $laptop, phone $phone1 $phone2"
grep -q "Anna Petrova: Before the backup" <<<"$out" || fail "the message before the fork should not be marked"
python3 - "$(as boris read "$G" --json)" <<'EOF' || fail "read --json lacks the device marks"
import json, sys
m = {x["text"]: x for x in json.loads(sys.argv[1])}
assert "device" not in m["Before the backup"], m["Before the backup"]
assert m["From the laptop: lawyer on the way"]["devices"] == 2
assert m["From the phone: I am at the station"]["device"] == m["From the phone: still waiting"]["device"]
assert m["From the laptop: lawyer on the way"]["device"] != m["From the phone: still waiting"]["device"]
EOF
# The restored device sees it too once it has the laptop's records.
as anna2 sync --from-file "$WORK/laptop.sync" >/dev/null
out=$(as anna2 read "$G"); grep -qF "! Anna Petrova wrote from 2 devices at once" <<<"$out" || fail "the phone is not told: $out"
echo "ok: read marks the messages of one identity written from two devices"
