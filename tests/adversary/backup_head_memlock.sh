# A backup whose keys part is larger than an unprivileged user may lock (docs/design.md §3.3,
# SECURITY.md rows 55 and 31). Restore reads the fields before the envelopes into one growing
# buffer of locked memory; an unprivileged member's RLIMIT_MEMLOCK is often 8 MiB. A crafted or
# damaged backup (passphrase known) with megabytes of fields before its envelopes must be
# refused with one line and a distinct exit code, leaving no home — not end the process when
# the buffer can no longer be locked (before: at 5 MiB, "cannot lock memory for secrets" and
# SIGABRT). Runs `restore` as the user nobody; needs root.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to run restore as an unprivileged user" >&2; exit 77; }
PTY_RUN="$(cd "$(dirname "$0")/../support" && pwd)/pty_run.py"
new_member anna Anna
as anna group create G >/dev/null
as anna post G "hello"
printf 'passphrase of anna\nbackup pass\n' > "$WORK/anna.bk"
KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/anna.bk" "$KOLOKOL" backup -o "$WORK/anna.age" >/dev/null \
  || fail "backup failed"
python3 "$PTY_RUN" "backup pass" age -d -o "$WORK/plain" "$WORK/anna.age" || fail "age -d failed"
# Prepend an unknown length-delimited field (number 15) of MIB MiB: a field before the envelopes.
craft() {
  python3 - "$WORK/plain" "$WORK/crafted.$1" "$1" <<'PY'
import sys
src, dst, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
body = bytes(mib << 20)
def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7f; n >>= 7
        if n: out.append(b | 0x80)
        else: out.append(b); return bytes(out)
open(dst, "wb").write(bytes([15 << 3 | 2]) + varint(len(body)) + body + open(src, "rb").read())
PY
  python3 "$PTY_RUN" "backup pass" age -p -o "$WORK/crafted.$1.age" "$WORK/crafted.$1" || fail "age -p failed"
}
U=$WORK/u; mkdir -p "$U"; chmod 0755 "$WORK"
printf 'new pass\nbackup pass\n' > "$U/rs"
chown -R 65534:65534 "$U"; chmod 0644 "$WORK"/*.age 2>/dev/null
restore_as_nobody() {  # FILE HOME — prints the exit code
  ( cd "$U" && setpriv --reuid=65534 --regid=65534 --clear-groups \
      env KOLOKOL_HOME="$2" KOLOKOL_PASSPHRASE_FILE="$U/rs" "$KOLOKOL" restore --kdf fast "$1" \
      > "$2.out" 2> "$2.err" ); echo $?
}
echo "locked-memory limit of the unprivileged user: $(setpriv --reuid=65534 --regid=65534 --clear-groups bash -c 'ulimit -l') KiB"
rc=$(restore_as_nobody "$WORK/anna.age" "$U/plain")
[ "$rc" = 0 ] || fail "control: the honest backup does not restore as an unprivileged user (exit $rc): $(cat "$U/plain.err")"
echo "ok: the honest backup restores as an unprivileged user"
for mib in 1 3 5 20; do
  craft $mib; chmod 0644 "$WORK/crafted.$mib.age"
  rc=$(restore_as_nobody "$WORK/crafted.$mib.age" "$U/h$mib")
  echo "keys part +${mib} MiB: exit $rc: $(head -c 300 "$U/h$mib.err" | tr '\n' ' ')"
  if [ "$rc" -ge 128 ] || grep -q 'cannot lock memory' "$U/h$mib.err"; then
    left=$( [ -e "$U/h$mib" ] && echo "a home was left at $U/h$mib: $(ls "$U/h$mib" | tr '\n' ' ')" || echo "no home left")
    fail "row 55/31 (and row 8's one line and exit code): a backup whose keys part holds ${mib} MiB more kills \`kolokol restore\` of an unprivileged user (exit $rc, $(grep -o 'cannot lock[^:]*' "$U/h$mib.err")) instead of being refused; $left"
  fi
done
# Refused, not killed: the larger ones with the line about locked memory (or the 64 MiB cap).
grep -q "locked memory\|larger than 64 MiB" "$U/h20.err" || fail "the 20 MiB keys part was not refused with a reason: $(cat "$U/h20.err")"
[ -e "$U/h20" ] && fail "the refused restore left a home"
echo "ok: a keys part beyond what the user may lock is refused with one line"

