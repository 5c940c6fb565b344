# A seized device and a coerced owner: whoever looks at the home with stat afterwards must not
# tell a duress passphrase from a wrong one. After either, every file and the home itself keep
# their inode, size and modification time, and the change times move alike; the database and
# its WAL are not touched at all. The real passphrase then fails exactly as a wrong one. A
# kill -9 anywhere in the duress erase leaves either the untouched key file (killed before its
# one write: nothing erased, and the duress passphrase still erases next time) or both slots
# erased (killed at or after it) — never a key file that is damaged or opens half.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
command -v strace >/dev/null || fail "strace is missing: run scripts/deps"

# make_home WHO — a store with a duress passphrase, a group and a message, left as a killed
# process leaves it: with its -wal and -shm files.
make_home() {
  printf 'real passphrase of %s\nduress passphrase of %s\n' "$1" "$1" > "$WORK/$1.init"
  KOLOKOL_HOME="$WORK/$1" KOLOKOL_PASSPHRASE_FILE="$WORK/$1.init" "$KOLOKOL" init --name "$1" \
    --kdf fast --duress >/dev/null
  echo "real passphrase of $1" > "$WORK/$1.pass"
  echo "duress passphrase of $1" > "$WORK/$1.duress"
  echo "not the passphrase of $1" > "$WORK/$1.wrong"
  as "$1" group create G >/dev/null
  as "$1" post G "a message in the store of $1"
  local pid try
  for try in 1 2 3; do
    ( as_bg "$1" serve --listen "127.0.0.1:$(pick_port)" > "$WORK/$1.serve" 2>&1 ) &
    pid=$!
    for _ in $(seq 100); do [ -s "$WORK/$1.serve" ] && break; sleep 0.1; done
    grep -q '^kolokol://' "$WORK/$1.serve" && break
    wait "$pid" 2>/dev/null || true   # the port was taken after all: another one
  done
  grep -q '^kolokol://' "$WORK/$1.serve" || fail "$1's serve did not start: $(cat "$WORK/$1.serve")"
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  [ -e "$WORK/$1/store.db-wal" ] || fail "no WAL left in $1's home"
}
# attempt WHO PASSFILE [TRACE…] — one unlock (whoami) of WHO's home with PASSFILE, optionally under
# a tracer; prints the exit code, keeps stderr in $WORK/err.
attempt() {
  local who=$1 pass=$2 rc=0; shift 2
  KOLOKOL_HOME="$WORK/$who" KOLOKOL_PASSPHRASE_FILE="$pass" "$@" "$KOLOKOL" whoami --no-qr \
    >/dev/null 2>"$WORK/err" || rc=$?
  echo "$rc"
}
# look WHO — what stat shows of the home and each file in it: name, inode, size, mtime (ns).
look() { (cd "$WORK" && find "$1" -printf '%p %i %s %T@\n' | sort); }
# changed_ctimes WHO BEFORE — names whose change time differs from BEFORE (a `ctimes` listing).
ctimes() { (cd "$WORK" && find "$1" -printf '%p %C@\n' | sort); }
changed_ctimes() { { diff <(echo "$2") <(ctimes "$1") || true; } | sed -n 's/^> \([^ ]*\) .*/\1/p' | sort -u | tr '\n' ' '; }
sums() { (cd "$WORK/$1" && sha256sum -- * | sort -k2); }

# --- A wrong passphrase, then the duress passphrase: the same to stat. ---
make_home clara
look0=$(look clara); sums0=$(sums clara); ctimes0=$(ctimes clara)
sleep 0.05  # so that a time written now differs from the times above

rc=$(attempt clara "$WORK/clara.wrong"); wrong_err=$(cat "$WORK/err")
[ "$rc" = 3 ] || fail "a wrong passphrase gave exit $rc: $wrong_err"
[ "$(look clara)" = "$look0" ] || fail "a wrong passphrase changed the home:
$(diff <(echo "$look0") <(look clara))"
[ "$(sums clara)" = "$sums0" ] || fail "a wrong passphrase changed a file's bytes"
ctime_wrong=$(changed_ctimes clara "$ctimes0")
ctimes1=$(ctimes clara)
sleep 0.05

rc=$(attempt clara "$WORK/clara.duress")
[ "$rc" = 3 ] || fail "the duress passphrase gave exit $rc"
[ "$(cat "$WORK/err")" = "$wrong_err" ] || fail "the duress passphrase says \"$(cat "$WORK/err")\", a wrong one \"$wrong_err\""
[ "$(look clara)" = "$look0" ] || fail "the duress passphrase left a trace stat shows (name inode size mtime):
$(diff <(echo "$look0") <(look clara))"
ctime_duress=$(changed_ctimes clara "$ctimes1")
[ "$ctime_duress" = "$ctime_wrong" ] \
  || fail "change times: a wrong passphrase changed [$ctime_wrong], the duress passphrase [$ctime_duress]"
# Only the key file's bytes changed — so the erase happened — and the database, WAL and shared
# memory file are byte for byte as they were.
changed=$(diff <(echo "$sums0") <(sums clara) | sed -n 's/^> [0-9a-f]*  //p' || true)
[ "$changed" = store.key ] || fail "the duress passphrase changed the bytes of [$changed], not just the key file's"
echo "ok: wrong and duress passphrases look alike (inode, size, mtime; ctime changed on [$ctime_wrong])"

# The real passphrase now fails exactly as a wrong one, and so does the duress passphrase.
for pass in pass duress wrong; do
  rc=$(attempt clara "$WORK/clara.$pass")
  [ "$rc" = 3 ] && [ "$(cat "$WORK/err")" = "$wrong_err" ] \
    || fail "after the erase, the $pass passphrase gave exit $rc: $(cat "$WORK/err")"
done
[ "$(look clara)" = "$look0" ] || fail "unlock attempts after the erase changed the home"
echo "ok: after the erase every passphrase fails as a wrong one"

# --- kill -9 in the middle of the erase. ---
# At the write itself (before it runs): nothing is erased; the real passphrase still opens.
make_home dora
cp "$WORK/dora/store.key" "$WORK/dora.key.before"
look_dora=$(look dora)
rc=$(attempt dora "$WORK/dora.duress" strace -f -qq -o /dev/null -e trace=pwrite64 -e inject=pwrite64:signal=KILL)
[ "$rc" = 137 ] || fail "the duress unlock was not killed at its write (exit $rc): $(cat "$WORK/err")"
cmp -s "$WORK/dora/store.key" "$WORK/dora.key.before" || fail "killed before the write, the key file changed anyway"
[ "$(look dora)" = "$look_dora" ] || fail "killed before the write, the home changed"
rc=$(attempt dora "$WORK/dora.pass"); [ "$rc" = 0 ] || fail "killed before the write, the real passphrase fails ($rc)"
rc=$(attempt dora "$WORK/dora.duress"); [ "$rc" = 3 ] || fail "the second duress attempt gave $rc"
rc=$(attempt dora "$WORK/dora.pass"); [ "$rc" = 3 ] || fail "the second duress attempt did not erase ($rc)"
echo "ok: killed before its write, the erase has not begun and the duress passphrase still erases"

# Just after the write (at the time reset, and at the fsync): both slots are erased.
for call in utimensat fsync; do
  make_home "eve_$call"
  look_eve=$(look "eve_$call")
  rc=$(attempt "eve_$call" "$WORK/eve_$call.duress" strace -f -qq -o /dev/null -e trace=$call -e inject=$call:signal=KILL)
  [ "$rc" = 137 ] || fail "the duress unlock was not killed at $call (exit $rc): $(cat "$WORK/err")"
  for pass in pass duress; do
    rc=$(attempt "eve_$call" "$WORK/eve_$call.$pass")
    [ "$rc" = 3 ] && [ "$(cat "$WORK/err")" = "$wrong_err" ] \
      || fail "killed at $call, the $pass passphrase then gave exit $rc: $(cat "$WORK/err")"
  done
  # Killed at the fsync, the modification time was already put back.
  [ "$call" != fsync ] || [ "$(look "eve_$call")" = "$look_eve" ] || fail "killed at fsync, the home changed"
done
echo "ok: killed just after its write, both slots are erased and the file still parses"

# At random moments: either nothing happened (the real passphrase opens) or everything did
# (every passphrase fails as a wrong one) — never a damaged key file (exit 5) or a half-open one.
make_home frank
cp -a "$WORK/frank" "$WORK/frank.pristine"
# How long one whole duress unlock takes here, so that the kills spread over all of it.
cp -a "$WORK/frank" "$WORK/frank.timing"
t0=$(date +%s%N)
KOLOKOL_HOME="$WORK/frank.timing" KOLOKOL_PASSPHRASE_FILE="$WORK/frank.duress" "$KOLOKOL" whoami \
  >/dev/null 2>&1 || true
span_ms=$((($(date +%s%N) - t0) / 1000000 + 10))
begun=0; untouched=0
for i in $(seq 30); do
  rm -rf "$WORK/frank"; cp -a "$WORK/frank.pristine" "$WORK/frank"
  ( KOLOKOL_HOME="$WORK/frank" KOLOKOL_PASSPHRASE_FILE="$WORK/frank.duress" exec "$KOLOKOL" whoami \
      >/dev/null 2>&1 ) &
  pid=$!
  ms=$((RANDOM % span_ms))
  sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if cmp -s "$WORK/frank/store.key" "$WORK/frank.pristine/store.key"; then
    rc=$(attempt frank "$WORK/frank.pass")
    [ "$rc" = 0 ] || fail "kill $i: the key file is untouched but the real passphrase gives $rc"
    untouched=$((untouched + 1))
  else
    for pass in pass duress; do
      rc=$(attempt frank "$WORK/frank.$pass")
      [ "$rc" = 3 ] || fail "kill $i: after a partial erase the $pass passphrase gives $rc: $(cat "$WORK/err")"
    done
    begun=$((begun + 1))
  fi
done
echo "ok: 30 random kills: $begun erased, $untouched before the erase; none damaged or half-open"
echo "the duress passphrase leaves no trace stat can see, and its erase is all or nothing"
