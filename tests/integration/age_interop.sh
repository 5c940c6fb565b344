#!/usr/bin/env bash
# `kolokol age` against the real age and age-keygen (Debian package `age`), both directions:
# X25519 recipients (one and several), passphrases (age only reads them from a terminal, so it
# runs under a pty), keys made by either tool, awkward sizes, and tampered or truncated files.
set -euo pipefail
# Runs a command under a pseudo-terminal, answering every passphrase prompt with its first
# argument.
PTY_RUN="$(cd "$(dirname "$0")/../support" && pwd)/pty_run.py"

: "${KOLOKOL:?set KOLOKOL to the kolokol binary}"
for tool in age age-keygen python3; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/deps)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

checks=0
pass() { checks=$((checks + 1)); }
die() { echo "FAIL: $*" >&2; exit 1; }
same() {
    # age 1.1.1 creates no output file for an empty plaintext (fixed in later releases).
    if [[ ! -s $1 && ! -e $2 ]]; then pass; return; fi
    cmp -s "$1" "$2" || die "$3: $1 and $2 differ"
    pass
}


# Inputs: empty, exactly one chunk, one chunk and a byte, a few MiB, and some text.
: > empty
head -c 65536 /dev/urandom > c64k
head -c 65537 /dev/urandom > c64k1
head -c $((3 * 1024 * 1024 + 12345)) /dev/urandom > few_mib
printf 'Detained at station 4, lawyer needed.\n' > note
inputs=(empty c64k c64k1 few_mib note)

# Keys: one from each tool, plus a second kolokol key.
age-keygen -o age_key.txt 2>/dev/null
age_pub=$(age-keygen -y age_key.txt)
"$KOLOKOL" age keygen -o kk_key.txt 2> keygen.err
kk_pub=$(sed -n 's/^# public key: //p' kk_key.txt)
grep -qx "Public key: $kk_pub" keygen.err || die "keygen did not print the public key on stderr"
[[ $(stat -c %a kk_key.txt) == 600 ]] || die "kolokol key file is not mode 0600"
[[ $(age-keygen -y kk_key.txt) == "$kk_pub" ]] || die "age-keygen derives another public key from a kolokol key"
pass
"$KOLOKOL" age keygen -o kk2_key.txt 2>/dev/null
kk2_pub=$(sed -n 's/^# public key: //p' kk2_key.txt)
if "$KOLOKOL" age keygen -o kk_key.txt 2>/dev/null; then die "keygen overwrote an existing key"; fi
pass

for f in "${inputs[@]}"; do
    # kolokol encrypts to an age-keygen key and a kolokol key; age decrypts with either.
    "$KOLOKOL" age encrypt -r "$age_pub" -r "$kk_pub" -o "$f.kk.age" "$f"
    age -d -i age_key.txt -o "$f.kk.by_age" "$f.kk.age"
    same "$f" "$f.kk.by_age" "age -d of a kolokol file (age key)"
    age -d -i kk_key.txt -o "$f.kk.by_age2" "$f.kk.age"
    same "$f" "$f.kk.by_age2" "age -d of a kolokol file (kolokol key)"

    # age encrypts to both; kolokol decrypts with either key file.
    age -r "$age_pub" -r "$kk_pub" -o "$f.age.age" "$f"
    "$KOLOKOL" age decrypt -i age_key.txt -o "$f.age.by_kk" "$f.age.age"
    same "$f" "$f.age.by_kk" "kolokol decrypt of an age file (age key)"
    "$KOLOKOL" age decrypt -i kk2_key.txt -i kk_key.txt -o "$f.age.by_kk2" "$f.age.age"
    same "$f" "$f.age.by_kk2" "kolokol decrypt of an age file (second identity file)"
done

# Pipes: stdin to stdout on both sides, and a recipients file.
printf '# the legal team\n%s\n\n%s\n' "$age_pub" "$kk2_pub" > team.txt
"$KOLOKOL" age encrypt -R team.txt < few_mib | age -d -i age_key.txt > piped.out
same few_mib piped.out "stdin/stdout pipeline with -R"
age -R team.txt < note | "$KOLOKOL" age decrypt -i kk2_key.txt > piped2.out
same note piped2.out "age -R into kolokol on stdin"

# Passphrases. kolokol -> age: age -d asks on its terminal.
printf 'correct horse battery staple\n' > pass.txt
for f in note c64k1; do
    "$KOLOKOL" --passphrase-file pass.txt age encrypt -p -o "$f.pw.age" "$f"
    head -2 "$f.pw.age" | grep -q '^-> scrypt [A-Za-z0-9+/]\{22\} 18$' || die "scrypt stanza is not age's (work factor 18)"
    python3 "$PTY_RUN" 'correct horse battery staple' age -d -o "$f.pw.by_age" "$f.pw.age" >/dev/null
    same "$f" "$f.pw.by_age" "age -d of a kolokol passphrase file"
    # age -> kolokol: age -p asks twice on its terminal.
    python3 "$PTY_RUN" 'correct horse battery staple' age -p -o "$f.age_pw.age" "$f" >/dev/null
    KOLOKOL_PASSPHRASE_FILE=pass.txt "$KOLOKOL" age decrypt -o "$f.age_pw.by_kk" "$f.age_pw.age"
    same "$f" "$f.age_pw.by_kk" "kolokol decrypt of an age passphrase file"
done
printf 'wrong\n' > wrong.txt
rc=0
"$KOLOKOL" --passphrase-file wrong.txt age decrypt -o nope note.age_pw.age 2> err || rc=$?
[[ $rc == 3 ]] && grep -q "incorrect passphrase" err || die "wrong passphrase: rc=$rc, $(cat err)"
[[ ! -e nope ]] || die "a failed decryption left an output file"
pass

# Failures: one clear line, a distinct exit code, no output file left behind.
expect_failure() {  # expected_rc pattern file [identity]
    local want=$1 pattern=$2 file=$3 id=${4:-kk_key.txt} rc=0
    "$KOLOKOL" age decrypt -i "$id" -o failed.out "$file" 2> err || rc=$?
    [[ $rc == "$want" ]] || die "$file: exit $rc, wanted $want ($(cat err))"
    [[ $(wc -l < err) == 1 ]] || die "$file: error is not one line: $(cat err)"
    grep -q -- "$pattern" err || die "$file: error does not say '$pattern': $(cat err)"
    [[ ! -e failed.out ]] || die "$file: output left behind after a failure"
    pass
}
src=few_mib.age.age
size=$(stat -c %s "$src")
header=$(grep -a -b -m1 '^--- ' "$src" | cut -d: -f1)
flip() {  # file offset out
    cp "$1" "$3"
    local byte
    byte=$(xxd -s "$2" -l 1 -p "$1")
    printf "$(printf '\\x%02x' $((0x$byte ^ 0x01)))" | dd of="$3" bs=1 seek="$2" conv=notrunc status=none
}
flip "$src" $((size - 100)) tail_flip.age
flip "$src" $((size / 2)) middle_flip.age
# A different base64 letter inside the MAC: still canonical, so only the MAC check can fail.
cp "$src" mac_flip.age
mac_char=$(dd if="$src" bs=1 skip=$((header + 10)) count=1 status=none)
[[ $mac_char == A ]] && repl=B || repl=A
printf '%s' "$repl" | dd of=mac_flip.age bs=1 seek=$((header + 10)) conv=notrunc status=none
head -c $((size - 1)) "$src" > truncated.age
head -c $((size - 65552 - 5)) "$src" > truncated_chunk.age
cp "$src" trailing.age && printf 'x' >> trailing.age
expect_failure 10 "failed to decrypt and authenticate payload" tail_flip.age
expect_failure 10 "failed to decrypt and authenticate payload" middle_flip.age
expect_failure 10 "bad header MAC" mac_flip.age
expect_failure 10 "failed to decrypt and authenticate payload" truncated.age
expect_failure 10 "failed to decrypt and authenticate payload" truncated_chunk.age
expect_failure 10 "failed to decrypt and authenticate payload" trailing.age
expect_failure 7 "no identity matched" "$src" kk2_key.txt
expect_failure 6 "not an age file" note
age -a -r "$kk_pub" -o armored.age note
expect_failure 6 "armor" armored.age
# age agrees that the damaged files are damaged.
for f in tail_flip.age mac_flip.age truncated.age trailing.age; do
    if age -d -i kk_key.txt "$f" > /dev/null 2>&1; then die "age accepted $f"; fi
    pass
done

# Usage errors match age's rules.
rc=0; "$KOLOKOL" age encrypt -p -r "$kk_pub" note > /dev/null 2>&1 || rc=$?
[[ $rc == 2 ]] || die "-p with -r: exit $rc"; pass
rc=0; "$KOLOKOL" age encrypt -r not-a-key -o x.age note 2> err || rc=$?
[[ $rc == 6 && ! -e x.age ]] || die "bad recipient: exit $rc"; pass
rc=0; "$KOLOKOL" age encrypt -R kk_key.txt -o x.age note 2> err || rc=$?
[[ $rc == 6 ]] && grep -q "secret key" err && ! grep -q AGE-SECRET-KEY err || die "secret key as recipient: exit $rc, $(cat err)"; pass
rc=0; script -qec "$KOLOKOL age encrypt -r $kk_pub note" /dev/null > tty.out 2>&1 || rc=$?
[[ $rc == 2 ]] && grep -q "refusing to output binary to the terminal" tty.out || die "binary to a terminal: exit $rc"; pass

echo "age interop: $checks checks passed"
echo "$checks passed, 0 failed"
