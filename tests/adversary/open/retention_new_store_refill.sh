# Row 30 / §13.8 ("after a group's retention period no expired record's text ... is left";
# "a shorter period deletes at a member only once he has held the setting for a day"): the day
# is counted from when *this store* received the setting. A store that receives it for the
# first time — Anna's own backup restored on a new phone, a member added --with-history — holds
# no period for its first day, so it takes in and shows whatever the relay still holds (its TTL
# is 30 days by default), however long ago the group's settled period deleted it everywhere.
# The group's day is stood in for by moving received_ms back 25 hours in the existing members'
# stores (sqlcipher, no process running); the new stores are left as they are.
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
command -v sqlcipher >/dev/null || fail "needs the sqlcipher shell"
q() {
  local key
  key=$(adv home-secrets "$WORK/$1" "$WORK/$1.pass" - | awk '$1 == "database-key" {print $2}')
  sqlcipher "$WORK/$1/store.db" <<SQL 2>/dev/null | grep -v '^ok$' || true
PRAGMA key = "x'$key'";
PRAGMA cipher_page_size = 4096;
$2
SQL
}
reads() { as "$1" read "$G" 2>/dev/null | grep -qF "$2"; }
setup_group
OLD="Pavel S. detained at Precinct 5; lawyer Kuznetsov +7 900 111 22 33"
as boris post "$G" "$OLD" >/dev/null
for w in boris anna; do as $w sync >/dev/null 2>&1; done
as anna group retention "$G" 1m >/dev/null
for w in anna boris; do as $w sync >/dev/null 2>&1; done
sleep 62
for w in anna boris; do q $w "UPDATE records SET received_ms = received_ms - 90000000;"; done
for w in anna boris; do as $w sync >/dev/null 2>&1 || true; done
echo "after the group's (simulated) day: Anna shows it: $(reads anna "$OLD" && echo yes || echo no); Boris: $(reads boris "$OLD" && echo yes || echo no)"
reads anna "$OLD" && fail "setup: the settled period did not delete at Anna"
reads boris "$OLD" && fail "setup: the settled period did not delete at Boris"
# a) Anna's own backup (keys only) restored on a new device.
printf 'passphrase of anna\nbackup pass\n' > "$WORK/anna.bpass"
KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/anna.bpass" "$KOLOKOL" backup \
  -o "$WORK/anna.age" >/dev/null || fail "setup: backup failed"
printf 'passphrase of anna2\nbackup pass\n' > "$WORK/anna2.rpass"; echo "passphrase of anna2" > "$WORK/anna2.pass"
KOLOKOL_HOME="$WORK/anna2" KOLOKOL_PASSPHRASE_FILE="$WORK/anna2.rpass" "$KOLOKOL" restore --kdf fast \
  "$WORK/anna.age" >/dev/null || fail "setup: restore failed"
as anna2 sync >/dev/null 2>&1 || true; as anna2 sync >/dev/null 2>&1 || true
echo "restored device: $(as anna2 group retention "$G" 2>&1 | tr '\n' ' ')"
reads anna2 "$OLD" && problem "row 30: Anna's restored device takes the deleted post back from the relay and shows it"
# b) a member added with history.
new_member eve "Eve Newcomer"
as eve group join "$(as anna group add "$G" "$(card_of eve)" --with-history 2>/dev/null)" >/dev/null
for r in 1 2; do for w in anna eve; do as $w sync >/dev/null 2>&1 || true; done; done
echo "newcomer: $(as eve group retention "$G" 2>&1 | tr '\n' ' ')"
reads eve "$OLD" && problem "row 30: a member added --with-history reads a post the group's settled period deleted everywhere (the relay still held it)"
finish
