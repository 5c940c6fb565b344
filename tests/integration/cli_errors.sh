# Bad input from every side gets one clear line, a distinct exit code, no crash, and changes
# nothing; the duress passphrase erases the store.
source "$(dirname "$0")/lib.bash"
new_member anna Anna
new_member boris Boris
as anna group create G >/dev/null
token=$(as anna group add G "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
as anna post G "first message"
as anna sync --to-file "$WORK/a.sync" >/dev/null
as boris sync --from-file "$WORK/a.sync" >/dev/null
snapshot() { as "$1" read G --json; }
before=$(snapshot boris)

# Wrong passphrase.
echo "not the passphrase" > "$WORK/wrong.pass"
rc=0; KOLOKOL_HOME="$WORK/boris" KOLOKOL_PASSPHRASE_FILE="$WORK/wrong.pass" "$KOLOKOL" read G >/dev/null 2>"$WORK/err" || rc=$?
[ $rc -eq 3 ] || fail "wrong passphrase: exit $rc"
grep -q "wrong passphrase" "$WORK/err" || fail "wrong passphrase message: $(cat "$WORK/err")"

# Garbage card, garbage token, garbage sync file, unknown group.
expect_exit 6 anna group add G "kolokol-card:garbage"
expect_exit 6 anna group add G "hello"
expect_exit 6 boris group join "kolokol-welcome:AAAAAAAA"
head -c 3000 /dev/urandom > "$WORK/garbage.sync"
expect_exit 6 boris sync --from-file "$WORK/garbage.sync"
head -c 1000 "$WORK/a.sync" > "$WORK/truncated.sync"
expect_exit 6 boris sync --from-file "$WORK/truncated.sync"
expect_exit 7 boris read "No such group"
expect_exit 7 boris sync --from-file "$WORK/missing.sync"
expect_exit 8 boris group remove G Anna
expect_exit 11 boris init --name Again --kdf fast
[ "$(snapshot boris)" = "$before" ] || fail "bad input changed the store"

# No store at all.
pass_file nobody
expect_exit 4 nobody read G

# A missing key file (the database alone is noise).
cp -r "$WORK/boris" "$WORK/boris_nokey"; cp "$WORK/boris.pass" "$WORK/boris_nokey.pass"
rm "$WORK/boris_nokey/store.key"
expect_exit 4 boris_nokey read G
# A corrupted key file.
cp -r "$WORK/boris" "$WORK/boris_badkey"; cp "$WORK/boris.pass" "$WORK/boris_badkey.pass"
head -c 37 /dev/urandom > "$WORK/boris_badkey/store.key"
expect_exit 5 boris_badkey read G
# A truncated database.
cp -r "$WORK/boris" "$WORK/boris_trunc"; cp "$WORK/boris.pass" "$WORK/boris_trunc.pass"
truncate -s 1000 "$WORK/boris_trunc/store.db"; rm -f "$WORK/boris_trunc/store.db-wal"
expect_exit 5 boris_trunc read G

# The store itself is still fine after all of that.
[ "$(snapshot boris)" = "$before" ] || fail "the store changed"
as boris read G | grep -q "first message" || fail "message lost"

# passwd: the old passphrase stops working, the new one works, the data is untouched.
printf 'passphrase of boris\nnew passphrase of boris\n' > "$WORK/boris_change.pass"
KOLOKOL_HOME="$WORK/boris" KOLOKOL_PASSPHRASE_FILE="$WORK/boris_change.pass" "$KOLOKOL" passwd >/dev/null
expect_exit 3 boris read G
echo "new passphrase of boris" > "$WORK/boris.pass"
as boris read G | grep -q "first message" || fail "passwd lost data"

# Duress: a store made with a duress passphrase; typing it erases the store and looks exactly
# like a wrong passphrase, now and forever after.
printf 'real passphrase\nduress passphrase\n' > "$WORK/clara_init.pass"
KOLOKOL_HOME="$WORK/clara" KOLOKOL_PASSPHRASE_FILE="$WORK/clara_init.pass" "$KOLOKOL" init --name Clara --kdf fast --duress >/dev/null
echo "real passphrase" > "$WORK/clara.pass"
as clara whoami --no-qr >/dev/null
keysize=$(stat -c %s "$WORK/clara/store.key")
echo "duress passphrase" > "$WORK/clara_duress.pass"
rc=0; KOLOKOL_HOME="$WORK/clara" KOLOKOL_PASSPHRASE_FILE="$WORK/clara_duress.pass" "$KOLOKOL" whoami --no-qr >/dev/null 2>"$WORK/err" || rc=$?
[ $rc -eq 3 ] || fail "duress: exit $rc"
grep -q "wrong passphrase" "$WORK/err" || fail "duress message differs from a wrong passphrase"
expect_exit 3 clara whoami --no-qr   # the real passphrase no longer opens anything
[ "$(stat -c %s "$WORK/clara/store.key")" = "$keysize" ] || fail "duress changed the key file's size"

# The chat's network options: contradictions are usage errors, named even without a terminal.
for opts in "--lan" "--listen 127.0.0.1:0"; do
  rc=0; as anna chat --offline $opts </dev/null >/dev/null 2>"$WORK/err" || rc=$?
  [ $rc -eq 2 ] && grep -q "cannot be combined" "$WORK/err" \
    || fail "chat --offline $opts: exit $rc, $(cat "$WORK/err")"
done
rc=0; as anna chat --listen nonsense </dev/null >/dev/null 2>"$WORK/err" || rc=$?
[ $rc -ne 0 ] && grep -q 'invalid listen address "nonsense"' "$WORK/err" \
  || fail "chat --listen nonsense: exit $rc, $(cat "$WORK/err")"

# Panic: key file first, then the database; afterwards there is no store.
as anna panic --yes >/dev/null
[ ! -e "$WORK/anna/store.key" ] || fail "panic left the key file"
[ ! -e "$WORK/anna/store.db" ] || fail "panic left the database"
expect_exit 4 anna read G
echo "all CLI error checks passed"
