# A coerced owner types the duress passphrase while `kolokol passwd` runs in another terminal
# (rows 9, 53, 54). passwd has read the key file and unlocked it; it then writes store.key.tmp
# and renames it over store.key. If it does not stop when the key file is erased — as row 54
# says every command of the home does, exit code 15 within a second — its rename puts a key file
# wrapping the real database key back in place, under the new passphrase: the duress erase is
# undone and whoever holds the device (and that passphrase) reads the whole store.
#
# The race is made deterministic with strace: passwd's rename is held back 3 s (delay_enter),
# long after it wrote store.key.tmp; the duress passphrase is typed in that window.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
command -v strace >/dev/null || fail "strace is missing: run scripts/deps"

printf 'real passphrase\nduress passphrase\n' > "$WORK/init.pass"
KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/init.pass" "$KOLOKOL" init --name Anna \
  --kdf fast --duress >/dev/null
echo "real passphrase" > "$WORK/anna.pass"
echo "duress passphrase" > "$WORK/duress.pass"
printf 'real passphrase\nnew passphrase\n' > "$WORK/passwd.pass"
echo "new passphrase" > "$WORK/new.pass"
as anna group create "Prisoner support" >/dev/null
as anna post "Prisoner support" "Safe flat: Arbat 12, flat 4"

# passwd, its rename held back 3 s. (LeakSanitizer cannot run under ptrace: in a sanitizer
# build its leak check is off for this one process, which would otherwise abort at exit.)
( KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/passwd.pass" \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" exec strace -f -qq \
    -o /dev/null -e trace=rename,renameat,renameat2 \
    -e inject=rename,renameat,renameat2:delay_enter=3000000 "$KOLOKOL" passwd \
    > "$WORK/passwd.out" 2> "$WORK/passwd.err" ) &
PASSWD=$!
CLEANUP_PIDS+=("$PASSWD")
for _ in $(seq 200); do [ -e "$WORK/anna/store.key.tmp" ] && break; sleep 0.02; done
[ -e "$WORK/anna/store.key.tmp" ] || fail "passwd never wrote store.key.tmp: $(cat "$WORK/passwd.err")"

# The duress passphrase, typed in another process while passwd waits to rename.
rc=0; KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/duress.pass" "$KOLOKOL" whoami \
  >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "the duress passphrase gave exit $rc"
echo "ok: duress passphrase typed while passwd was about to rename (exit 3)"

rc=0; wait "$PASSWD" || rc=$?
echo "passwd exited $rc: $(cat "$WORK/passwd.out" "$WORK/passwd.err" | tr '\n' ' ')"

# After the erase, no passphrase may open the store again.
for p in new anna; do
  rc2=0; KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/$p.pass" "$KOLOKOL" read \
    "Prisoner support" > "$WORK/read.$p" 2>/dev/null || rc2=$?
  if [ "$rc2" = 0 ]; then
    fail "the duress erase was undone by the passwd that was running: the ${p/anna/real} passphrase opens the store again and reads: $(tr '\n' ' ' < "$WORK/read.$p")"
  fi
done
[ "$rc" = 15 ] || fail "passwd exited $rc after the key file was erased under it, not 15"
echo "ok: passwd stopped (15) and the erase stands"
