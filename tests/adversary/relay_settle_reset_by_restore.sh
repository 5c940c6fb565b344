# A restore must not make a long-settled relay move unsettled again (row 68: "a seized or
# watched relay left for a new one sees the members a day more" — a day after the member received
# the change, not after every restore; design §5.8 "A restore keeps when the changes were
# received"). Anna moves the group from R1 to R2. Boris receives the change and, a day later
# (received_ms moved back 25 hours), no longer dials R1. He restores a backup on a new phone (both
# with and without --history) and syncs: R1 must not be dialled again.
# Broke before: the restored store received every record anew, so the day started again and
# Boris dialled R1 ("Synced with 2 of 2"). Holds now: the backup carries when each relay change
# was received (the time held before the backup counts), and the restored store keeps it.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
command -v sqlcipher >/dev/null || fail "needs the sqlcipher shell"
key_of() { adv home-secrets "$WORK/$1" "$WORK/$1.pass" - | awk '$1 == "database-key" {print $2}'; }
q() {
  sqlcipher "$WORK/$1/store.db" <<SQL 2>/dev/null | grep -v '^ok$' || true
PRAGMA key = "x'$(key_of "$1")'";
PRAGMA cipher_page_size = 4096;
$2
SQL
}
setup_group
pass_file r2; port=$(pick_port)
( KOLOKOL_PASSPHRASE_FILE="$WORK/r2.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
    --data "$WORK/r2" --kdf fast > "$WORK/r2.out" 2>"$WORK/r2.err" ) &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/r2.out" ] && break; sleep 0.1; done
R2=$(head -1 "$WORK/r2.out"); [[ "$R2" == kolokol://* ]] || fail "R2 did not start"
as anna group relay add "$G" "$R2" >/dev/null; as anna sync >/dev/null 2>&1 || true
as boris sync >/dev/null 2>&1 || true
as anna group relay remove "$G" "$RELAY" >/dev/null; as anna sync >/dev/null 2>&1 || true
as boris sync >/dev/null 2>&1 || true
echo "Boris right after the move: $(as boris sync 2>&1 | grep -o 'Synced with [0-9]* of [0-9]*')"
q boris "UPDATE records SET received_ms = received_ms - 90000000;"
line=$(as boris sync 2>&1 | grep -o 'Synced with [0-9]* of [0-9]*')
echo "Boris a day later: $line"
[ "$line" = "Synced with 1 of 1" ] || fail "setup: the move did not settle at Boris after a day ($line)"
printf 'passphrase of boris\nbackup secret\n' > "$WORK/bk.pass"
for mode in history plain; do
  flag=""; [ $mode = history ] && flag=--history
  KOLOKOL_HOME="$WORK/boris" "$KOLOKOL" --passphrase-file "$WORK/bk.pass" backup -o "$WORK/boris.$mode.bak" $flag --force >/dev/null || fail "backup failed"
  rm -rf "$WORK/b_$mode"; cp "$WORK/boris.pass" "$WORK/b_$mode.pass"
  KOLOKOL_HOME="$WORK/b_$mode" "$KOLOKOL" --passphrase-file "$WORK/bk.pass" restore "$WORK/boris.$mode.bak" --kdf fast >/dev/null || fail "restore failed"
  as b_$mode sync >/dev/null 2>&1 || true
  line=$(as b_$mode sync 2>&1 | grep -o 'Synced with [0-9]* of [0-9]*')
  echo "restored ($mode): $line"
  [ "$line" != "Synced with 1 of 1" ] && problem "row 68: after a restore ($mode) Boris dials the relay the group left over a day ago again ($line)"
done
# Diagnostic: moving the restored store's own received_ms back changes nothing either.
q b_history "UPDATE records SET received_ms = received_ms - 90000000;"
echo "restored (history), received_ms moved back a day: $(as b_history sync 2>&1 | grep -o 'Synced with [0-9]* of [0-9]*')"
finish
