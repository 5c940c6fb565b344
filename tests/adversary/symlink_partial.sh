# Someone who can write in the folder a member writes to (a shared folder, a USB stick, a
# colleague's account) plants a symlink — or a hard link — at the temporary name a command
# writes first (OUT.partial, OUT.tmp, OUT.kolokol-partial, the key file's store.key.tmp). No
# command may write through it into the file it points to: each refuses with one line (exit 11)
# or writes its own file beside it, and the victim file keeps its bytes. A plain leftover of an
# interrupted write is cleared and the command succeeds.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"

G="Legal support"
VICTIM="$WORK/victim.txt"
echo "the member's own notes, not to be overwritten" > "$VICTIM"
victim_sum=$(sha256sum < "$VICTIM")
mkdir "$WORK/out"

new_member anna "Anna Petrova"
as anna group create "$G" >/dev/null
as anna post "$G" "hello"
case_id=$(as anna case open "$G" --person "Ivan P." | awk '{print $2}')
head -c 100000 /dev/urandom > "$WORK/evidence.bin"
as anna case attach "$G" "$case_id" "$WORK/evidence.bin" >/dev/null
AID=$(as anna attachment list "$G" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"][:10])')
as anna age keygen -o "$WORK/key.txt" 2>/dev/null
recipient=$(grep -om1 'age1[0-9a-z]*' "$WORK/key.txt")
printf '%s\n%s\n' "passphrase of anna" "the backup passphrase" > "$WORK/anna.pass"
echo "secret text for age" > "$WORK/plain.txt"
as anna age encrypt -r "$recipient" -o "$WORK/sealed.age" "$WORK/plain.txt"
as anna bundle export "$case_id" -r "$recipient" -o "$WORK/case.age" >/dev/null

victim_intact() {
  [ "$(sha256sum < "$VICTIM")" = "$victim_sum" ] || fail "$1 wrote through the planted link into the victim file"
}
# attack HOW TEMP OUT COMMAND… — plant a link at TEMP, run the command as Anna, check.
attack() {
  local how=$1 temp=$2 out=$3; shift 3
  rm -rf "$temp" "$out"
  if [ "$how" = symlink ]; then ln -s "$VICTIM" "$temp"; else ln "$VICTIM" "$temp"; fi
  local rc=0 err
  err=$(as anna "$@" 2>&1 >/dev/null) || rc=$?
  victim_intact "$*"
  [ "$rc" -eq 11 ] || fail "$* with a $how at $(basename "$temp"): exit $rc, expected 11 ($err)"
  [ "$(printf '%s\n' "$err" | grep -c .)" -eq 1 ] && grep -q "in the way" <<<"$err" \
    || fail "$*: not one clear line: $err"
  [ -L "$temp" ] || [ "$how" = hardlink ] || fail "$*: the planted symlink was removed or replaced"
  [ ! -e "$out" ] || fail "$*: refused, yet $out exists"
  rm -f "$temp"
  echo "ok: $how at $(basename "$temp") refused — $err"
}

O="$WORK/out"
for how in symlink hardlink; do
  attack "$how" "$O/x.sync.partial" "$O/x.sync" sync --to-file "$O/x.sync"
  attack "$how" "$O/b.age.tmp" "$O/b.age" backup -o "$O/b.age" --backup-passphrase-file "$WORK/anna.pass"
  attack "$how" "$O/e.bin.kolokol-partial" "$O/e.bin" attachment get "$G" "$AID" -o "$O/e.bin"
  attack "$how" "$O/s.age.partial" "$O/s.age" age encrypt -r "$recipient" -o "$O/s.age" "$WORK/plain.txt"
  attack "$how" "$O/p.txt.partial" "$O/p.txt" age decrypt -i "$WORK/key.txt" -o "$O/p.txt" "$WORK/sealed.age"
  attack "$how" "$O/c.age.partial" "$O/c.age" bundle export "$case_id" -r "$recipient" -o "$O/c.age"
  attack "$how" "$O/r.age.partial" "$O/r.age" bundle reexport "$WORK/case.age" -i "$WORK/key.txt" -r "$recipient" -o "$O/r.age"
done

# The key file's temporary name lives in the (0700) home; a link planted there anyway is
# removed — never followed, never overwritten as a leftover would be — and the passphrase
# change goes through.
old_pass="passphrase of anna"
for how in symlink hardlink; do
  if [ "$how" = symlink ]; then ln -s "$VICTIM" "$WORK/anna/store.key.tmp"; else ln "$VICTIM" "$WORK/anna/store.key.tmp"; fi
  printf '%s\n%s\n' "$old_pass" "new passphrase ($how)" > "$WORK/anna.pass"
  as anna passwd >/dev/null || fail "passwd failed with a $how at store.key.tmp"
  victim_intact "passwd with a $how at store.key.tmp"
  [ ! -e "$WORK/anna/store.key.tmp" ] || fail "passwd left store.key.tmp"
  old_pass="new passphrase ($how)"
  printf '%s\n' "$old_pass" > "$WORK/anna.pass"
  grep -q hello <<<"$(as anna read "$G")" || fail "the store does not open after passwd"
  echo "ok: passwd cleared the $how at store.key.tmp and wrote its own file"
done

# A file under the final name is replaced, never written through: a symlink there stays a
# symlink to the untouched victim only until the command renames its own file over it.
ln -s "$VICTIM" "$O/final.sync"
as anna sync --to-file "$O/final.sync" >/dev/null
victim_intact "sync --to-file over a symlink"
[ -f "$O/final.sync" ] && [ ! -L "$O/final.sync" ] || fail "the sync file is not a file of its own"
# `bundle open` extracts with O_EXCL | O_NOFOLLOW: a link planted inside the folder is refused.
mkdir "$O/opened"
ln -s "$VICTIM" "$O/opened/README.txt"
rc=0; err=$("$KOLOKOL" bundle open "$WORK/case.age" -i "$WORK/key.txt" -o "$O/opened" 2>&1 >/dev/null) || rc=$?
victim_intact "bundle open"
[ "$rc" -eq 11 ] || fail "bundle open over a planted link: exit $rc ($err)"
echo "ok: bundle open refused the planted link — $err"

# A plain leftover of an interrupted write (ours, one link) is cleared, and the write succeeds.
echo "half a sync file" > "$O/y.sync.partial"
as anna sync --to-file "$O/y.sync" >/dev/null || fail "a leftover .partial blocked the sync file"
[ ! -e "$O/y.sync.partial" ] && [ -s "$O/y.sync" ] || fail "the leftover was not replaced"
victim_intact "everything"
echo "symlink_partial: no command wrote through a planted link"
