# Times as people type and read them: an observer in Moscow (TZ=Europe/Moscow) types "10:05"
# or "05.12.2026 09:40" and that is 07:05Z and 06:40Z, not three hours off; an explicit offset or
# Z is taken as written; a reader in New York sees the same instants in their own time, and
# --json gives RFC 3339 with the reader's offset. A time the clocks skipped or repeated is
# refused, not guessed. The chat's /event reads its time with the same parser (tmux).
source "$(dirname "$0")/lib.bash"
# The clock is moved with KOLOKOL_FAKE_NOW_MS, which only the test build reads.
KOLOKOL=${KOLOKOL_TESTHOOKS:?set KOLOKOL_TESTHOOKS to the kolokol-testhooks binary}
source "$(dirname "$0")/lib_tmux.bash"
trap 'tmux_cleanup; cleanup' EXIT
command -v python3 >/dev/null || fail "python3 is missing (scripts/deps)"
[ -e /usr/share/zoneinfo/Europe/Moscow ] || fail "tzdata is missing (scripts/deps)"
json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
# 2026-12-05T12:00:00Z: "today" for times typed without a date.
export KOLOKOL_FAKE_NOW_MS=1796472000000
msk() { TZ=Europe/Moscow as anna "$@"; }
nyc() { TZ=America/New_York as anna "$@"; }

new_member anna "Anna"
G="Observers"
as anna group create "$G" >/dev/null

# 1. A time alone is today, in the observer's zone.
msk report add "$G" --place "Station 1" --at "10:05" --text "first" > "$WORK/r1.out"
grep -qF "Recorded as 2026-12-05 10:05 (UTC+03:00)." "$WORK/r1.out" || fail "no confirmation of the time: $(cat "$WORK/r1.out")"
# 2. An offset is taken as written, whatever the zone.
nyc report add "$G" --place "Station 2" --at "2026-12-05T10:05+03:00" --text "second" >/dev/null
# 3. Day.month.year as typed in Russia.
msk report add "$G" --place "Station 3" --at "05.12.2026 09:40" --text "third" >/dev/null
msk case open "$G" --person "Ivan P." --detained-at "05.12.2026 09:40" >/dev/null
python3 - "$(TZ=UTC as anna report list "$G" --json)" <<'EOF' || fail "reports not stored as the instants typed"
import json, sys
at = {r["fields"]["place"]: r["fields"]["at"] for r in json.loads(sys.argv[1])}
assert at == {"Station 1": "2026-12-05T07:05:00+00:00", "Station 2": "2026-12-05T07:05:00+00:00",
              "Station 3": "2026-12-05T06:40:00+00:00"}, at
EOF
echo "ok: 10:05 in Moscow is 07:05Z; offsets and dotted dates are read as typed"

# 4. Readers see their own time: RFC 3339 with their offset in --json, local time in lists.
[ "$(msk report list "$G" --json | json_field 'd[0]["fields"]["at"]')" = "2026-12-05T10:05:00+03:00" ] \
  || fail "Moscow reader: $(msk report list "$G" --json)"
[ "$(nyc report list "$G" --json | json_field 'd[0]["fields"]["at"]')" = "2026-12-05T02:05:00-05:00" ] \
  || fail "New York reader: $(nyc report list "$G" --json)"
grep -q -- "2026-12-05 02:05  Station 1" <<<"$(nyc report list "$G")" || fail "New York list: $(nyc report list "$G")"
grep -q -- "2026-12-05 10:05  Station 1" <<<"$(msk report list "$G")" || fail "Moscow list: $(msk report list "$G")"
[ "$(msk case list "$G" --json | json_field 'd[0]["fields"]["detained_at"]')" = "2026-12-05T09:40:00+03:00" ] \
  || fail "case detained_at: $(msk case list "$G" --json)"
grep -q -- "2026-12-05 09:40" <<<"$(msk case list "$G")" || fail "case list: $(msk case list "$G")"
echo "ok: each reader sees the instants in their own zone"

# 5. Refused, with the reason, and nothing written.
expect_exit 6 anna report add "$G" --place X --at "2026-12-05 25:00"
expect_exit 6 anna report add "$G" --place X --at "yesterday evening"
err=$(TZ=Europe/Berlin as anna event add "$G" --title T --at "2026-10-25 02:30" 2>&1 >/dev/null) && fail "an ambiguous time was taken"
grep -q "happened twice" <<<"$err" || fail "ambiguous time: $err"
err=$(TZ=Europe/Berlin as anna event add "$G" --title T --at "2026-03-29 02:30" 2>&1 >/dev/null) && fail "a skipped time was taken"
grep -q "never happened" <<<"$err" || fail "skipped time: $err"
TZ=Europe/Berlin as anna event add "$G" --title T --at "2026-10-25 02:30+01:00" >/dev/null || fail "offset refused"
[ "$(TZ=UTC as anna report list "$G" --json | json_field 'len(d)')" = 3 ] || fail "a refused report was written"
echo "ok: impossible and ambiguous times are refused"

# 6. The chat's /event reads the same forms, in local time.
command -v tmux >/dev/null || fail "tmux is missing: run scripts/deps"
tmx new-session -d -s anna -x 100 -y 30 \
  "env TZ=Europe/Moscow KOLOKOL_HOME='$WORK/anna' KOLOKOL_PASSPHRASE_FILE='$WORK/anna.pass' LANG=C.UTF-8 \
   '$KOLOKOL' chat --offline '$G' 2>'$WORK/anna.err'; echo \$? > '$WORK/anna.rc'; sleep 0.5"
wait_for anna "$G"
type_line anna "/event 2026-12-06 18:00 Vigil at the court @ Tverskaya 1"
wait_for anna "Event added."
type_line anna "/event 07.12.2026 19:30 Second vigil"
wait_for anna "Event added."
quit_chat anna
python3 - "$(TZ=UTC as anna event list "$G" --json)" <<'EOF' || fail "chat events not at the local times typed"
import json, sys
starts = {e["fields"]["title"]: e["fields"]["starts"] for e in json.loads(sys.argv[1])}
assert starts["Vigil at the court"] == "2026-12-06T15:00:00+00:00", starts
assert starts["Second vigil"] == "2026-12-07T16:30:00+00:00", starts
EOF
echo "ok: the chat's /event takes local dates and times as the commands do"
