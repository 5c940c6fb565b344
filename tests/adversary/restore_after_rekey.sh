# Backup → panic → restore of a member who ran `kolokol rekey` (SECURITY.md rows 32 and 75;
# docs/design.md §5.13, §16). Anna (admin) and Boris share a group through a real relay. Boris
# runs `rekey`, Anna's sync rotates, Boris takes the grant (his card key's older grants stay
# readable). Boris makes a backup, panics and restores it on a fresh home, then syncs.
# Promises: row 32 — the restored member gets back every message he could read and writes as
# before; row 75 — `sync` and `doctor` warn only of a key update this member did not make (a
# copy's). A backup that does not carry the per-group keys (box_keys) breaks both: the restored
# store finds Boris's own key update "not made by this device" and tells him a copy of his store
# is in other hands and to ask for a burn notice; and every grant sealed to his key update's key
# is lost to him, so after the next rotation he neither reads nor writes. Exits 1 if either
# happens.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"

setup_group
as anna post "$G" "Anna: before the key update" >/dev/null
as anna sync >/dev/null; as boris sync >/dev/null
as boris rekey >/dev/null || fail "rekey failed"
as boris sync >/dev/null
err=$(as anna sync 2>&1 >/dev/null) || true
grep -q "a member replaced their key" <<<"$err" || fail "setup: Anna did not rotate"
as anna post "$G" "Anna: after the rotation" >/dev/null
as anna sync >/dev/null 2>&1 || true
as boris sync >/dev/null 2>&1 || true
reads boris "Anna: after the rotation" || fail "setup: Boris does not read Anna's post after the rotation"
err=$(as boris sync 2>&1 >/dev/null) || true
grep -q "did not make" <<<"$err" && fail "setup: Boris is warned before the restore"

echo "a backup passphrase" > "$WORK/backup.pass"
as boris backup -o "$WORK/boris.age" --backup-passphrase-file "$WORK/backup.pass" >/dev/null ||
  fail "backup failed"
as boris panic --yes >/dev/null 2>&1 || true
[ -e "$WORK/boris/store.db" ] && fail "panic left the store"
rm -rf "$WORK/boris"
printf '%s\n%s\n' "passphrase of boris" "a backup passphrase" > "$WORK/boris.restore"
KOLOKOL_HOME="$WORK/boris" KOLOKOL_PASSPHRASE_FILE="$WORK/boris.restore" "$KOLOKOL" restore \
  --kdf fast "$WORK/boris.age" >/dev/null 2>&1 || fail "restore failed"
err=$(as boris sync 2>&1 >/dev/null) || true
echo "Boris's first sync after the restore: $err"
reads boris "Anna: after the rotation" || problem "the restored Boris does not read Anna's post he read before"
grep -q "did not make" <<<"$err" &&
  problem "the restored Boris's sync says a key update he made himself was made by another device (a copy of his store in other hands)"
doc=$(as boris doctor 2>&1) || true
grep -q "did not make" <<<"$doc" && problem "so does his doctor"

# The next rotation (Anna's `group rotate`) is sealed to Boris's key update's key.
as anna group rotate "$G" >/dev/null 2>&1 || fail "Anna could not rotate"
as anna post "$G" "Anna: after the restore" >/dev/null
as anna sync >/dev/null 2>&1 || true
as boris sync >/dev/null 2>&1 || true
as boris sync >/dev/null 2>&1 || true
reads boris "Anna: after the restore" ||
  problem "after the next rotation the restored Boris reads nothing new (his grant is sealed to a key the backup did not carry)"
out=$(as boris post "$G" "Boris: after the restore" 2>&1) ||
  problem "after the next rotation the restored Boris cannot write: $out"
finish
