# Cards and tokens as people pass them, and group names as people type them:
# - a card or welcome token wrapped by a terminal or a messenger (line breaks, spaces, CRLF,
#   no-break and zero-width spaces) is accepted, from standard input and as an argument;
# - `group add G -` at a terminal says what it waits for, takes a pasted card over several lines
#   and then asks the passphrase on the same terminal (tmux);
# - a group is found by its exact name first, then ignoring case and spaces (Cyrillic too, under
#   any locale); two loose matches are refused; a miss suggests the closest name;
# - the examples in --help name the README's group ("Legal support") and run as written.
source "$(dirname "$0")/lib.bash"
command -v tmux >/dev/null || fail "tmux is missing: run scripts/deps"
source "$(dirname "$0")/lib_tmux.bash"
trap 'tmux_cleanup; cleanup' EXIT
export LANG=C.UTF-8

new_member anna Anna
new_member boris Boris
new_member clara Clara
as anna group create "Legal support" >/dev/null
as anna group create "Штаб" >/dev/null

# wrap TEXT — the text cut into 37-character lines, with the invisible and no-break spaces a
# messenger leaves behind and Windows line ends.
wrap() {
  python3 -c '
import sys
t = sys.argv[1]
lines = [t[i:i + 37] for i in range(0, len(t), 37)]
junk = ["\u00a0", "\u200b", " ", "\u2060", "\ufeff"]
print("\r\n".join(l + junk[i % len(junk)] for i, l in enumerate(lines)))' "$1"
}

# 1. A wrapped card from standard input, and a wrapped token from standard input.
wrap "$(card_of boris)" > "$WORK/boris.card"
[ "$(wc -l < "$WORK/boris.card")" -gt 3 ] || fail "the card was not wrapped"
as anna group add "Legal support" - < "$WORK/boris.card" > "$WORK/boris.token" 2>/dev/null \
  || fail "a wrapped card was refused"
wrap "$(cat "$WORK/boris.token")" > "$WORK/boris.wrapped"
as boris group join - < "$WORK/boris.wrapped" > "$WORK/join.out" || fail "a wrapped token was refused"
grep -qF 'Joined "Legal support"' "$WORK/join.out" || fail "join did not name the group: $(cat "$WORK/join.out")"
# As an argument with spaces in it (pasted into quotes), and for verify.
spaced=$(card_of clara | sed 's/.\{20\}/& /g')
as anna verify "$spaced" | grep -q "Safety number with Clara" || fail "verify refused a spaced card"
echo "ok: wrapped cards and tokens are accepted (stdin and argument)"

# 2. At a terminal: `group add G -` says what to paste, reads it over several lines up to an
# empty one, then asks the passphrase there.
tmx new-session -d -s paste -x 200 -y 40 \
  "env LANG=C.UTF-8 KOLOKOL_HOME='$WORK/anna' '$KOLOKOL' group add 'Legal support' - -o '$WORK/clara.token'; echo \$? > '$WORK/paste.rc'; sleep 100"
wait_for paste "Paste their card (kolokol-card:…)"
while IFS= read -r line; do type_line paste "$line"; done < <(card_of clara | fold -w 50)
type_line paste ""
wait_for paste "Passphrase:"
type_line paste "$(cat "$WORK/anna.pass")"
deadline=$((SECONDS + 60))
until [ -s "$WORK/paste.rc" ]; do
  ((SECONDS < deadline)) || fail "group add - at a terminal did not finish: $(screen paste)"
  sleep 0.1
done
[ "$(cat "$WORK/paste.rc")" = 0 ] || fail "group add - at a terminal failed: $(screen paste)"
as clara group join - < "$WORK/clara.token" >/dev/null || fail "the token made at the terminal does not open"
! screen paste | grep -qF "$(cat "$WORK/anna.pass")" || fail "the passphrase showed on the screen"
echo "ok: group add - at a terminal says what it waits for and takes a card pasted over lines"

# 3. Group names: exact first, then loose; Cyrillic folds under LANG=C too.
as anna post "Legal support" "first" >/dev/null
for typed in "legal support" "LEGAL SUPPORT" "  Legal   Support " "legalsupport"; do
  as anna read "$typed" | grep -q "Anna: first" || fail "\"$typed\" did not find Legal support"
done
as anna post "Штаб" "в штабе" >/dev/null
LANG=C as anna read "штаб" | grep -q "в штабе" || fail "\"штаб\" did not find Штаб under LANG=C"
LANG=C as anna read "ШТАБ" | grep -q "в штабе" || fail "\"ШТАБ\" did not find Штаб"
# Exact beats loose; two loose matches are refused, naming the problem.
as anna group create "legal support" >/dev/null
as anna post "legal support" "second group" >/dev/null
as anna read "legal support" | grep -q "second group" || fail "the exact name did not win"
as anna read "Legal support" | grep -q "Anna: first" || fail "the exact name did not win (2)"
expect_exit 6 anna read "LEGAL SUPPORT"
err=$(as anna read "LEGAL SUPPORT" 2>&1 >/dev/null) || true
grep -qF "apart from case and spaces" <<<"$err" || fail "ambiguity not explained: $err"
# A miss suggests the closest name, or nothing when nothing is close.
expect_exit 7 anna read "Legl suport"
err=$(as anna read "Штап" 2>&1 >/dev/null) || true
grep -qF 'did you mean "Штаб"?' <<<"$err" || fail "no suggestion for Штап: $err"
err=$(as anna read "Weather" 2>&1 >/dev/null) || true
grep -qF 'no group called "Weather"' <<<"$err" && ! grep -q "did you mean" <<<"$err" \
  || fail "a far-off name got a suggestion: $err"
echo "ok: group names match exactly, then loosely, with suggestions"

# 4. The examples of --help that list a group's things run as written against the README's
# group (the first "legal support" is gone so the name is unambiguous again).
new_member dana Dana
as dana group create "Legal support" >/dev/null
ran=0
for cmd in event task case contact report alert attachment; do
  example=$("$KOLOKOL" "$cmd" list --help | grep -E '^  kolokol ' | head -1)
  [ -n "$example" ] || fail "kolokol $cmd list --help has no example"
  grep -qF '"Legal support"' <<<"$example" || fail "the example does not use the README's group: $example"
  eval "as dana ${example#  kolokol }" >/dev/null || fail "the example failed: $example"
  ran=$((ran + 1))
done
echo "ok: $ran help examples name \"Legal support\" and run as written"
