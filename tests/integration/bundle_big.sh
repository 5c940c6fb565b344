#!/usr/bin/env bash
# A large attachment exports and verifies with bounded memory: peak RSS (GNU time) stays under
# fixed bounds that are far below the file's size. The size is KOLOKOL_BUNDLE_BIG_MIB (default
# 256 MiB in CI, to keep the run short; the 1 GiB figure is measured with
# KOLOKOL_BUNDLE_BIG_MIB=1024). Export holds the store's 128 MiB SQLCipher page cache, so its
# bound is 200 MiB; verify holds only the age batch and libarchive's blocks: 48 MiB.
source "$(dirname "$0")/lib.bash"
[ -x /usr/bin/time ] || fail "/usr/bin/time is not installed (scripts/deps: package time)"
command -v age-keygen >/dev/null || fail "age-keygen is not installed (scripts/deps)"
cd "$WORK"
mib=${KOLOKOL_BUNDLE_BIG_MIB:-256}

new_member alice Alice
as alice group create Legal >/dev/null
case_id=$(as alice case open Legal --person "Large Evidence" | awk '{print $2}')
head -c $((mib * 1024 * 1024)) /dev/urandom > big.bin
want=$(sha256sum big.bin | cut -d' ' -f1)
as alice case attach Legal "$case_id" big.bin >/dev/null
rm big.bin
age-keygen -o key.txt 2>/dev/null

peak_kib() { grep "Maximum resident set size" "$1" | awk '{print $NF}'; }
KOLOKOL_HOME="$WORK/alice" KOLOKOL_PASSPHRASE_FILE="$WORK/alice.pass" \
  /usr/bin/time -v "$KOLOKOL" bundle export "$case_id" -r "$(age-keygen -y key.txt)" -o big.age \
  >/dev/null 2> export.time || { cat export.time; fail "export failed"; }
/usr/bin/time -v "$KOLOKOL" bundle verify big.age -i key.txt > verify.out 2> verify.time \
  || { cat verify.out verify.time; fail "verify failed"; }
grep -q "Everything checks out" verify.out || fail "verify did not pass: $(cat verify.out)"
export_kib=$(peak_kib export.time)
verify_kib=$(peak_kib verify.time)
echo "size ${mib} MiB: export peak RSS ${export_kib} KiB, verify peak RSS ${verify_kib} KiB"
[ "$export_kib" -lt $((200 * 1024)) ] || fail "export peak RSS ${export_kib} KiB over 200 MiB"
[ "$verify_kib" -lt $((48 * 1024)) ] || fail "verify peak RSS ${verify_kib} KiB over 48 MiB"
# The attachment is intact inside: hash it straight out of the bundle.
got=$(age -d -i key.txt big.age | tar x -O --wildcards 'files/*' | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "the attachment inside the bundle differs from the original"
echo "bundle_big: all checks passed"
