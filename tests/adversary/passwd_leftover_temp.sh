# A `passwd` killed between writing its new key file (store.key.tmp) and renaming it into place
# leaves that file behind: it wraps the real database key under the new passphrase. A coerced
# owner then types the duress passphrase; whoever holds the device puts store.key.tmp in place
# of the erased key file and tries the new passphrase (rows 9, 53). The erase must cover the
# leftover too — and a wrong passphrase must change the leftover's metadata exactly as the
# duress one does, so its stat does not tell which was typed.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
command -v strace >/dev/null || fail "strace is missing: run scripts/deps"

# look FILE — what stat shows of a file, but for the change time (every attempt changes it).
look() { stat -c '%i %s %a %Y' "$1"; }

# leftover HOME — a store whose passwd (real → new) was killed before its rename.
leftover() {
  printf 'real passphrase\nduress passphrase\n' > "$WORK/init.pass"
  KOLOKOL_HOME="$WORK/$1" KOLOKOL_PASSPHRASE_FILE="$WORK/init.pass" "$KOLOKOL" init --name "$1" \
    --kdf fast --duress >/dev/null
  KOLOKOL_HOME="$WORK/$1" KOLOKOL_PASSPHRASE_FILE="$WORK/real.pass" "$KOLOKOL" group create \
    "Prisoner support" >/dev/null
  KOLOKOL_HOME="$WORK/$1" KOLOKOL_PASSPHRASE_FILE="$WORK/real.pass" "$KOLOKOL" post \
    "Prisoner support" "Safe flat: Arbat 12, flat 4" --no-send
  ( KOLOKOL_HOME="$WORK/$1" KOLOKOL_PASSPHRASE_FILE="$WORK/passwd.pass" exec strace -f -qq \
      -o /dev/null -e trace=rename,renameat,renameat2,link,linkat \
      -e inject=rename,renameat,renameat2,link,linkat:delay_enter=30000000 "$KOLOKOL" passwd \
      >/dev/null 2>&1 ) &
  local pid=$!
  CLEANUP_PIDS+=("$pid")
  for _ in $(seq 300); do [ -s "$WORK/$1/store.key.tmp" ] && break; sleep 0.02; done
  sleep 0.3  # written and fsynced; the rename is held back
  pkill -KILL -P "$pid" 2>/dev/null || true
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ -s "$WORK/$1/store.key.tmp" ] || fail "passwd left no store.key.tmp"
  # The leftover opens with the new passphrase (what the attack relies on).
  mkdir "$WORK/$1.copy"
  cp -a "$WORK/$1/store.db" "$WORK/$1.copy/"
  cp -a "$WORK/$1/store.key.tmp" "$WORK/$1.copy/store.key"
  KOLOKOL_HOME="$WORK/$1.copy" KOLOKOL_PASSPHRASE_FILE="$WORK/new.pass" "$KOLOKOL" read \
    "Prisoner support" | grep -q Arbat || fail "the leftover store.key.tmp does not open with the new passphrase"
  rm -rf "$WORK/$1.copy"
}
echo "real passphrase" > "$WORK/real.pass"
echo "duress passphrase" > "$WORK/duress.pass"
echo "not my passphrase" > "$WORK/wrong.pass"
echo "new passphrase" > "$WORK/new.pass"
printf 'real passphrase\nnew passphrase\n' > "$WORK/passwd.pass"

leftover anna
leftover boris
echo "ok: a killed passwd left store.key.tmp, which opens with the new passphrase"

# A wrong passphrase at anna's, the duress one at boris's: the leftovers look alike after.
a_before=$(look "$WORK/anna/store.key.tmp"); b_before=$(look "$WORK/boris/store.key.tmp")
rc=0; KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/wrong.pass" "$KOLOKOL" whoami \
  >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "a wrong passphrase gave exit $rc"
rc=0; KOLOKOL_HOME="$WORK/boris" KOLOKOL_PASSPHRASE_FILE="$WORK/duress.pass" "$KOLOKOL" whoami \
  >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "the duress passphrase gave exit $rc"
[ "$(look "$WORK/anna/store.key.tmp")" = "$a_before" ] || fail "a wrong passphrase changed the leftover: $a_before → $(look "$WORK/anna/store.key.tmp")"
[ "$(look "$WORK/boris/store.key.tmp")" = "$b_before" ] || fail "the duress passphrase left the leftover looking otherwise than a wrong one: $b_before → $(look "$WORK/boris/store.key.tmp")"
echo "ok: after a wrong and a duress passphrase, both leftovers show the same inode, size, mode and mtime"

# Whoever holds boris's device puts the leftover in place and tries every passphrase.
mv "$WORK/boris/store.key.tmp" "$WORK/boris/store.key"
for p in new real; do
  rc=0; KOLOKOL_HOME="$WORK/boris" KOLOKOL_PASSPHRASE_FILE="$WORK/$p.pass" "$KOLOKOL" read \
    "Prisoner support" > "$WORK/read.$p" 2>/dev/null || rc=$?
  [ "$rc" = 0 ] && fail "the duress erase left store.key.tmp opening with the $p passphrase: $(tr '\n' ' ' < "$WORK/read.$p")"
  [ "$rc" = 3 ] || fail "the $p passphrase on the leftover gave exit $rc, not 3 (wrong passphrase)"
done
echo "ok: after the duress erase, the leftover opens with no passphrase"

# And anna's store, after only a wrong passphrase, still opens with the real one.
KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/real.pass" "$KOLOKOL" read \
  "Prisoner support" | grep -q Arbat || fail "a wrong passphrase damaged anna's store"
echo "a duress erase covers a passwd's leftover store.key.tmp"
