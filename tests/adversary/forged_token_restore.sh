# A backup and restore turn a forged token's key into one the group's own records seem to have
# given. Ivan, an admin, adds Vera; before she joins, Anna removes him. Ivan signs Vera a token
# naming his own (valid) add of her, with a secret he chose for the epoch the group writes in
# now, and hands her a sync file "to get started" written from a copy of his home made before
# he heard of his removal: it holds his add of her but not the removal and its rotation. Vera
# joins and imports it: the add admits her, so the token is confirmed (`epochs.source` 2) and
# only the rotation's grant could still expose it (row 37). Vera makes a backup — as the README
# tells everyone to — and restores it on a new device (or after a panic). A restore stores every
# epoch key as if the group's records gave it (source 0), so when the first sync brings the
# rotation, its grant is only noted as a `key_conflict` and Ivan's key is kept (row 36 meant
# for genuine keys). Vera then writes in the current epoch under Ivan's key: Anna never reads
# it, and Ivan reads it from the relay with the secret he chose.
# Promises: rows 37 (a rotation's grant that contradicts a token's key refuses the token, before
# or after its add record came), 31/32 (a restored member writes as before; a backup holds only
# keys the member holds) and 36 (the held key is kept only when the group's records gave it).
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
setup_group
new_member ivan "Ivan Admin"
new_member vera "Vera Newcomer"
token=$(as anna group add "$G" "$(card_of ivan)" --admin 2>/dev/null)
as ivan group join "$token" >/dev/null
as anna sync >/dev/null
as ivan sync >/dev/null
as ivan group add "$G" "$(card_of vera)" >/dev/null 2>&1  # Vera's real token stays with Ivan
as ivan sync >/dev/null
cp -a "$WORK/ivan" "$WORK/ivan_before"  # Ivan keeps a copy of his home from before his removal
as anna sync >/dev/null
as anna group remove "$G" "Ivan Admin" >/dev/null
as anna sync >/dev/null
as ivan sync >/dev/null 2>&1 || true
anna_keys=$(adv home-epochs "$WORK/anna" "$WORK/anna.pass" "$GID")

secret=$(random_hex)
forged=$(adv forge-welcome "$WORK/ivan" "$WORK/ivan.pass" "$GID" "$(card_of vera)" \
  --secret "$secret" --add-record victim 2>"$WORK/forge.err") ||
  fail "forging failed: $(cat "$WORK/forge.err")"
epoch=$(sed -n 's/^epoch \([0-9a-f]*\) .*/\1/p' "$WORK/forge.err")
grep -q "^$epoch [0-9a-f]* secret$" <<<"$anna_keys" || fail "the forged epoch is not the group's current one"
KOLOKOL_HOME="$WORK/ivan_before" KOLOKOL_PASSPHRASE_FILE="$WORK/ivan.pass" "$KOLOKOL" \
  sync --to-file "$WORK/starter.sync" >/dev/null || fail "Ivan's old home wrote no sync file"

as vera group join "$forged" >/dev/null || fail "Vera could not join (nothing held yet can tell)"
as vera sync --from-file "$WORK/starter.sync" >/dev/null || fail "Vera could not import Ivan's file"
echo "Vera after the file: $(admission_of vera "$GID")"

# Vera backs up and restores on a new device (same identity), then syncs with the group.
printf 'passphrase of vera\nbackup passphrase of vera\n' > "$WORK/vera.backup.pass"
KOLOKOL_HOME="$WORK/vera" KOLOKOL_PASSPHRASE_FILE="$WORK/vera.backup.pass" "$KOLOKOL" \
  backup -o "$WORK/vera.age" >/dev/null || fail "Vera's backup failed"
printf 'passphrase of vera2\nbackup passphrase of vera\n' > "$WORK/vera2.restore.pass"
echo "passphrase of vera2" > "$WORK/vera2.pass"
KOLOKOL_HOME="$WORK/vera2" KOLOKOL_PASSPHRASE_FILE="$WORK/vera2.restore.pass" "$KOLOKOL" \
  restore "$WORK/vera.age" --kdf fast >/dev/null || fail "Vera's restore failed"
as vera2 sync >/dev/null 2>&1 || true
echo "Vera restored, after a sync: $(admission_of vera2 "$GID")"

line=$(adv home-epochs "$WORK/vera2" "$WORK/vera2.pass" "$GID" | grep "^$epoch " || true)
[ "$line" = "$(grep "^$epoch " <<<"$anna_keys")" ] ||
  problem "restored Vera kept Ivan's key for the current epoch, not the rotation's grant: '$line'"
as vera2 post "$GID" "Vera restored, after Ivan's token" ||
  problem "restored Vera cannot post after a sync"
as vera2 sync >/dev/null 2>&1 || true
as anna sync >/dev/null
reads anna "Vera restored, after Ivan's token" || problem "restored Vera's post did not reach Anna"
leak=$(adv mailbox-read "$RELAY" "$secret" "$GID" "$epoch" 2>"$WORK/read.err") ||
  fail "mailbox-read failed: $(cat "$WORK/read.err")"
grep -qF "Vera restored, after Ivan's token" <<<"$leak" &&
  problem "Ivan read restored Vera's post from the mailbox of the key he chose"
echo "Ivan's mailbox: $(cat "$WORK/read.err")"
# The same device without the backup and restore is protected (forged_token_exadmin.sh): the
# restore is what loses the token's provenance.
as vera sync >/dev/null 2>&1 || true
grep -q "refused" <<<"$(admission_of vera "$GID")" ||
  fail "Vera's own device did not refuse the token either: this script's setup is wrong"
finish
