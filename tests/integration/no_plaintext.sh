# After the demo's scenario, no message text, group name or display name appears in any file of
# any home, and no database file begins with "SQLite format 3".
source "$(dirname "$0")/lib.bash"
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
as anna group create "Legal support Moscow" >/dev/null
token=$(as anna group add "Legal support Moscow" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
as anna post "Legal support Moscow" "Detained at Mayakovskaya station"
as anna sync --to-file "$WORK/x.sync" >/dev/null
as boris sync --from-file "$WORK/x.sync" >/dev/null
as boris post "Legal support Moscow" "Lawyer Ivanova is on her way"
as boris sync --to-file "$WORK/y.sync" >/dev/null
as anna sync --from-file "$WORK/y.sync" >/dev/null
as anna read "Legal support Moscow" | grep -q "Lawyer Ivanova" || fail "the scenario did not work"
for secret in "Detained at Mayakovskaya" "Lawyer Ivanova" "Legal support Moscow" "Anna Petrova" "Boris Ivanov"; do
  for dir in "$WORK/anna" "$WORK/boris" "$WORK/x.sync" "$WORK/y.sync"; do
    if grep -rl --binary-files=text -F "$secret" "$dir"; then fail "\"$secret\" readable in $dir"; fi
  done
done
for db in "$WORK"/*/store.db; do
  if head -c 16 "$db" | grep -q "SQLite format 3"; then fail "$db is a plain SQLite file"; fi
done
# Homes are private.
for home in "$WORK/anna" "$WORK/boris"; do
  [ "$(stat -c %a "$home")" = "700" ] || fail "$home is not 0700"
  for f in "$home"/*; do [ "$(stat -c %a "$f")" = "600" ] || fail "$f is not 0600"; done
done
echo "no plaintext on disk"
