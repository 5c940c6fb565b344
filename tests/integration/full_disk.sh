# A full disk never leaves half an object: the member's home on a small tmpfs of its own, a
# 5 MiB video that does not fit. `report add … --attach`, `case open … --attach` and
# `case attach` fail with one line saying nothing was saved, and nothing was: no report, no
# case, no attachment, no partial chunks, and the space the attempt took is given back. With
# space freed the same command works once, and the file comes back byte-identical. Needs root
# (mount); exits 77 (skipped) without it.
source "$(dirname "$0")/lib.bash"
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "mounting a tmpfs needs root"
command -v python3 >/dev/null || fail "python3 is missing (scripts/deps)"

DISK="$WORK/disk"
mkdir -p "$DISK"
mount -t tmpfs -o size=16m,mode=0700 kolokol-full-disk "$DISK" 2>"$WORK/mount.err" \
  || skip "cannot mount a tmpfs: $(cat "$WORK/mount.err")"
trap 'umount -l "$DISK" 2>/dev/null || true; cleanup' EXIT
free_kib() { df --output=avail -k "$DISK" | tail -1 | tr -d ' '; }
json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

pass_file anna
obs() { KOLOKOL_HOME="$DISK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/anna.pass" "$KOLOKOL" "$@"; }
obs init --name "Anna" --kdf fast >/dev/null
G="Observers"
obs group create "$G" >/dev/null
head -c $((5 * 1024 * 1024)) /dev/urandom > "$WORK/video.bin"
CASE=$(obs case open "$G" --person "Ivan P." | sed -n 's/^Case \([0-9a-f]*\) created\.$/\1/p')
[ -n "$CASE" ] || fail "no case opened"

# Leave about 3 MiB free: the 5 MiB file cannot fit.
fill_kib=$(( $(free_kib) - 3 * 1024 ))
head -c $((fill_kib * 1024)) /dev/zero > "$DISK/filler" 2>/dev/null || true
before=$(free_kib)
[ "$before" -lt 4096 ] && [ "$before" -gt 1024 ] || fail "could not leave ~3 MiB free ($before KiB)"

# must_fail_nothing_saved WHAT ARGS… — fails with one line saying nothing was saved.
must_fail_nothing_saved() {
  local what=$1; shift
  local rc=0 err
  err=$(obs "$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" -ne 0 ] || fail "$what succeeded on a full disk"
  [ "$(printf '%s\n' "$err" | grep -c .)" -eq 1 ] || fail "$what: not one line of error: $err"
  grep -qF "Nothing was saved: the disk is full" <<<"$err" || fail "$what: the error does not say nothing was saved: $err"
  echo "ok: $what refused (exit $rc) — $err"
}
must_fail_nothing_saved "report add --attach" report add "$G" --place "Polling station 1234" \
  --at "2026-03-15 20:05" --text "Ballot box stuffed" --attach "$WORK/video.bin"
[ "$(obs report list "$G" --json | json_field 'len(d)')" = 0 ] || fail "a report exists without its video"
must_fail_nothing_saved "case open --attach" case open "$G" --person "Olga S." --attach "$WORK/video.bin"
[ "$(obs case list "$G" --json | json_field 'len(d)')" = 1 ] || fail "a case exists without its file"
must_fail_nothing_saved "case attach" case attach "$G" "$CASE" "$WORK/video.bin"
[ "$(obs attachment list "$G" --json | json_field 'len(d)')" = 0 ] || fail "an attachment was left behind"
[ "$(obs case show "$G" "$CASE" --json | json_field 'len(d["attachments"])')" = 0 ] || fail "the case shows an attachment"
after=$(free_kib)
[ $((before - after)) -lt 512 ] || fail "the failed attempts kept $((before - after)) KiB of the disk"
echo "ok: nothing was left behind, and the disk is as full as before ($before → $after KiB free)"

# The store is sound, and with space the same command works exactly once.
obs doctor > "$WORK/doctor.out" || fail "doctor finds a problem after the failures: $(cat "$WORK/doctor.out")"
rm "$DISK/filler"
obs report add "$G" --place "Polling station 1234" --at "2026-03-15 20:05" \
  --text "Ballot box stuffed" --attach "$WORK/video.bin" > "$WORK/report.out"
grep -q "^Report [0-9a-f]* created\.$" "$WORK/report.out" || fail "report not created: $(cat "$WORK/report.out")"
[ "$(obs report list "$G" --json | json_field 'len(d)')" = 1 ] || fail "not exactly one report"
[ "$(obs report list "$G" --json | json_field 'len(d[0]["lists"]["attachments"])')" = 1 ] || fail "the report lacks its video"
AID=$(obs attachment list "$G" --json | json_field 'd[0]["id"][:12]')
obs attachment get "$G" "$AID" -o "$WORK/got.bin" >/dev/null
cmp -s "$WORK/video.bin" "$WORK/got.bin" || fail "the video differs"
echo "ok: with space freed the report and its video were filed once, byte-identical"
