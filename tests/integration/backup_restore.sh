# Backup → panic → restore on a fresh home → sync through a relay: every group and every message
# the member could read is back, and the restored member can write again. A wrong backup
# passphrase fails cleanly and writes nothing; restoring over a store is refused. The backup
# holds no plaintext, and the real age opens it with the passphrase (interop). A backup with
# --history restores the messages without any sync. A removed member's backup gains no keys.
source "$(dirname "$0")/lib.bash"
command -v age >/dev/null || fail "age is not installed (scripts/deps)"
command -v python3 >/dev/null || fail "python3 is not installed"

pass_file relay
port=$(pick_port)
( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
    --data "$WORK/relay" --kdf fast > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
ADDR=$(head -1 "$WORK/relay.out")
[[ "$ADDR" == kolokol://* ]] || fail "relay did not start: $(cat "$WORK/relay.err")"

new_member anna "Anna Petrova"
new_member boris "Борис Иванов"
new_member clara "Clara Smirnova"
G1="Support group Omega"
G2="Юристы"
for g in "$G1" "$G2"; do
  as anna group create "$g" >/dev/null
  as anna group relay add "$g" "$ADDR" >/dev/null
  as boris group join "$(as anna group add "$g" "$(card_of boris)" 2>/dev/null)" >/dev/null
done
as clara group join "$(as anna group add "$G1" "$(card_of clara)" 2>/dev/null)" >/dev/null
as anna post "$G1" "first words in Omega"
as anna post "$G2" "Привет, это юристы"
as anna sync >/dev/null
as boris sync >/dev/null
as clara sync >/dev/null
as boris post "$G1" "boris answers in Omega"
as boris post "$G2" "Борис отвечает юристам"
card_of anna | as boris verify - --confirm >/dev/null
as boris sync >/dev/null
as anna sync >/dev/null

snapshot() {  # snapshot WHO FILE — what the member can read, in a form to compare
  {
    as "$1" group list --json | python3 -c 'import json,sys; print(json.dumps(sorted((g["id"], g["name"], g["members"]) for g in json.load(sys.stdin))))'
    for g in "$G1" "$G2"; do as "$1" read "$g" --limit 100000 --json; done
  } > "$2"
}
snapshot boris "$WORK/before.json"
grep -q "Привет, это юристы" "$WORK/before.json" || fail "boris cannot read the messages before the backup"
grep -q '"verified": true' "$WORK/before.json" || fail "boris's mark of anna as verified is missing"

# The backup: a passphrase of its own, asked from a file here.
echo "a different passphrase for the backup" > "$WORK/backup.pass"
as boris backup -o "$WORK/boris.age" --backup-passphrase-file "$WORK/backup.pass" --json \
  > "$WORK/backup.json"
grep -q '"groups":2' "$WORK/backup.json" || fail "the backup does not hold two groups: $(cat "$WORK/backup.json")"
[ "$(stat -c %a "$WORK/boris.age")" = 600 ] || fail "the backup file is not 0600"
[ "$(head -c 21 "$WORK/boris.age")" = "age-encryption.org/v1" ] || fail "the backup is not an age file"
grep -q -- "-> scrypt " "$WORK/boris.age" || fail "the backup is not passphrase-protected (scrypt)"
for secret in "Борис Иванов" "Anna Petrova" "$G1" "$G2" "first words" "kolokol://"; do
  if grep -q --binary-files=text -F "$secret" "$WORK/boris.age"; then fail "\"$secret\" is readable in the backup"; fi
done
expect_exit 11 boris backup -o "$WORK/boris.age" --backup-passphrase-file "$WORK/backup.pass"
echo "ok: the backup is an age file with a scrypt stanza and no plaintext"

# Interop: the real age opens it with the passphrase (it reads passphrases from a terminal only).
python3 "$(dirname "$0")/../support/pty_run.py" "a different passphrase for the backup" age -d -o "$WORK/boris.plain" \
  "$WORK/boris.age" >/dev/null || fail "age -d could not open the backup"
grep -q --binary-files=text "Борис Иванов" "$WORK/boris.plain" || fail "age -d did not yield the backup"
rm -f "$WORK/boris.plain"
echo "ok: the real age opens the backup with its passphrase"

# Panic, then a wrong backup passphrase: exit 3, nothing written.
as boris panic --yes >/dev/null
[ ! -e "$WORK/boris/store.key" ] || fail "panic left the key file"
echo "not the passphrase" > "$WORK/wrong.pass"
expect_exit 3 boris restore "$WORK/boris.age" --backup-passphrase-file "$WORK/wrong.pass" --kdf fast
[ ! -e "$WORK/boris/store.key" ] && [ ! -e "$WORK/boris/store.db" ] || fail "a failed restore wrote a store"
# A damaged backup: one flipped byte in the payload.
cp "$WORK/boris.age" "$WORK/damaged.age"
size=$(stat -c %s "$WORK/damaged.age")
flip_byte "$WORK/damaged.age" $((size - 40))
expect_exit 6 boris restore "$WORK/damaged.age" --backup-passphrase-file "$WORK/backup.pass" --kdf fast
[ ! -e "$WORK/boris/store.key" ] || fail "a failed restore wrote a store"
expect_exit 7 boris restore "$WORK/missing.age" --backup-passphrase-file "$WORK/backup.pass" --kdf fast
echo "ok: a wrong passphrase or a damaged backup fails cleanly and writes nothing"

# Restore into the fresh home with a new store passphrase, sync, and compare.
echo "boris's new store passphrase" > "$WORK/boris.pass"
as boris restore "$WORK/boris.age" --backup-passphrase-file "$WORK/backup.pass" --kdf fast >/dev/null
expect_exit 11 boris restore "$WORK/boris.age" --backup-passphrase-file "$WORK/backup.pass" --kdf fast
as boris sync >/dev/null
snapshot boris "$WORK/after.json"
diff -u "$WORK/before.json" "$WORK/after.json" || fail "what boris reads after the restore differs"
echo "ok: backup → panic → restore → sync: every group and message is back, verified marks too"

# The restored member is the same member: what he writes reaches the others.
as boris post "$G1" "back after losing my phone"
as boris sync >/dev/null
as anna sync >/dev/null
as anna read "$G1" | grep -q "back after losing my phone" || fail "anna does not see the restored boris"
echo "ok: the restored member writes and is read"

# With --history the messages come back without any sync (the relay is not needed).
as boris backup -o "$WORK/boris-history.age" --history --backup-passphrase-file "$WORK/backup.pass" \
  > /dev/null
echo "history restore passphrase" > "$WORK/boris_h.pass"
as boris_h restore "$WORK/boris-history.age" --backup-passphrase-file "$WORK/backup.pass" --kdf fast \
  --json > "$WORK/restore_h.json"
snapshot boris "$WORK/boris_now.json"
snapshot boris_h "$WORK/boris_h.json"
diff -u "$WORK/boris_now.json" "$WORK/boris_h.json" || fail "a --history restore differs before any sync"
echo "ok: a --history backup restores every message without a sync"

# A removed member gains no key: Clara's backup after her removal holds the same epochs as before.
as clara backup -o "$WORK/clara1.age" --backup-passphrase-file "$WORK/backup.pass" --json > "$WORK/clara1.json"
as anna group remove "$G1" "Clara Smirnova" >/dev/null
as anna post "$G1" "after clara left"
as anna sync >/dev/null
as clara sync >/dev/null || true
as clara backup -o "$WORK/clara2.age" --backup-passphrase-file "$WORK/backup.pass" --json > "$WORK/clara2.json"
keys() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["epochs"], d["control_only"])' "$1"; }
[ "$(keys "$WORK/clara1.json")" = "$(keys "$WORK/clara2.json")" ] \
  || fail "clara's backup changed after her removal: $(keys "$WORK/clara1.json") → $(keys "$WORK/clara2.json")"
as boris sync >/dev/null
as boris read "$G1" | grep -q "after clara left" || fail "boris cannot read the post-removal message"
echo "ok: a removed member's backup holds no key of the epochs after the removal"
