# A task's count is derived from every member's increments: two organisers count signatures at
# the same time, offline, each from the same total; after they sync both show the sum of both
# increments (a count kept as a last-writer-wins register showed only one of them), and a
# redacted increment drops out of the count.
source "$(dirname "$0")/lib.bash"
command -v python3 >/dev/null || fail "python3 is missing (scripts/deps)"
json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

new_member anna "Anna"
new_member boris "Boris"
G="Signatures"
as anna group create "$G" >/dev/null
as boris group join "$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)" >/dev/null
TASK=$(as anna task add "$G" --title "Collect signatures" --target 1000 | sed -n 's/^Task \([0-9a-f]*\) created\.$/\1/p')
as anna task progress "$G" "$TASK" 40 >/dev/null
as anna sync --to-file "$WORK/a0.sync" >/dev/null
as boris sync --from-file "$WORK/a0.sync" >/dev/null

# Both at 40, both add at once without syncing.
grep -qF -- "Count now 290 / 1000." <<<"$(as anna task progress "$G" "$TASK" 250 --note "metro exit")" || fail "anna's count"
grep -qF -- "Count now 140 / 1000." <<<"$(as boris task progress "$G" "$TASK" 100 --note "market")" || fail "boris's count"
as anna sync --to-file "$WORK/a1.sync" >/dev/null
as boris sync --to-file "$WORK/b1.sync" >/dev/null
as anna sync --from-file "$WORK/b1.sync" >/dev/null
as boris sync --from-file "$WORK/a1.sync" >/dev/null
for who in anna boris; do
  [ "$(as "$who" task list "$G" --json | json_field 'd[0]["count"]')" = 390 ] \
    || fail "$who's count is not 40 + 250 + 100: $(as "$who" task list "$G")"
  grep -qF -- "390/1000" <<<"$(as "$who" task list "$G")" || fail "$who's task line: $(as "$who" task list "$G")"
done
echo "ok: concurrent increments both count (390 on both sides)"

# A correction and a redacted increment.
as boris task progress "$G" "$TASK" --note "counted twice" -- -10 >/dev/null
P=$(as boris task list "$G" --json | json_field '[i["id"] for i in d[0]["lists"]["progress"] if i["fields"].get("note") == "market"][0][:16]')
as boris redact "$G" "$P" --reason "duplicate sheet" >/dev/null
[ "$(as boris task list "$G" --json | json_field 'd[0]["count"]')" = 280 ] || fail "correction or redaction not counted"
echo "ok: corrections and redactions are counted"
