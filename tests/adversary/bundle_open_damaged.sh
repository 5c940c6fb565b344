# `bundle open` extracts while it reads, so a bundle damaged in transit — or cut, or altered by
# whoever carried it — used to leave README.txt, the manifest, the custody log and empty
# folders behind, unverified, with no word. A lawyer must not find unverified files that look
# like an extracted bundle: whatever fails, nothing of it stays (and the message says so), and
# files that were in the folder before are never touched.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
cd "$WORK"

new_member alice Alice
as alice group create Legal >/dev/null
case_id=$(as alice case open Legal --person "Ivan P." | awk '{print $2}')
head -c 3000000 /dev/urandom > evidence.bin
as alice case attach Legal "$case_id" evidence.bin >/dev/null
as alice age keygen -o key.txt 2>/dev/null
recipient=$(grep -om1 'age1[0-9a-z]*' key.txt)
as alice bundle export "$case_id" -r "$recipient" -o case.age >/dev/null
size=$(stat -c %s case.age)

# open_fails FILE FOLDER WORDS — the open fails, says WORDS and that nothing was left.
open_fails() {
  local rc=0 err
  err=$("$KOLOKOL" bundle open "$1" -i key.txt -o "$2" 2>&1 >/dev/null) || rc=$?
  [ "$rc" -ne 0 ] || fail "$1 opened"
  grep -q -- "$3" <<<"$err" || fail "$1: the message lacks \"$3\": $err"
  grep -q "nothing was left in $2" <<<"$err" || fail "$1: the message does not say what was left: $err"
  echo "ok: $1 (exit $rc) — $(tail -1 <<<"$err")"
}

head -c $((size / 2)) case.age > cut.age
open_fails cut.age out-cut "payload"
[ ! -e out-cut ] || fail "a cut bundle left $(find out-cut | tr '\n' ' ')"

cp case.age flipped.age
flip_byte flipped.age $((size - 5000))
open_fails flipped.age out-flipped "payload"
[ ! -e out-flipped ] || fail "a flipped bundle left $(find out-flipped | tr '\n' ' ')"

# A bundle that decrypts whole but does not verify (README.txt altered, re-encrypted).
mkdir t && (cd t && age -d -i ../key.txt ../case.age | tar x)
echo "altered" >> t/README.txt
(cd t && tar --format=ustar -cf - README.txt manifest.json manifest.sig signer.card custody.log \
  SHA256SUMS $(find files -type f | sort)) | age -r "$recipient" -o altered.age
open_fails altered.age out-altered "did not verify"
[ ! -e out-altered ] || fail "an unverified bundle left $(find out-altered | tr '\n' ' ')"

# Into a folder that holds the lawyer's own files: those stay, nothing else does.
mkdir mine && echo "my notes" > mine/notes.txt && mkdir mine/files
open_fails cut.age mine "payload"
[ "$(cd mine && find . | sort | tr '\n' ' ')" = ". ./files ./notes.txt " ] || fail "mine/ now holds $(cd mine && find . | tr '\n' ' ')"

# A good bundle still opens and stays.
"$KOLOKOL" bundle open case.age -i key.txt -o good >/dev/null || fail "the good bundle did not open"
cmp good/files/*/*-evidence.bin evidence.bin || fail "the attachment differs"
echo "bundle_open_damaged: failed opens leave nothing behind"
