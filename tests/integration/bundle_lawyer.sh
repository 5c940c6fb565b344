#!/usr/bin/env bash
# Case bundles end to end with real processes: a member exports a case with attachments; the
# lawyer opens it with nothing but `age`, `tar` and `sha256sum`, finds the files under their own
# (Cyrillic) names and a summary.txt to read, in English or in Russian as the exporter's
# language is; `kolokol bundle verify` names
# each kind of tampering (flipped byte, truncation, altered and swapped files, edited manifest,
# forged signature, removed custody entry); `bundle open` refuses hostile archives built with
# python's tarfile (../, absolute paths, symlinks, hard links, devices, huge declared sizes) and
# never overwrites; re-export by the lawyer appends a signed custody entry; a passphrase bundle
# opens with `age -d` too.
source "$(dirname "$0")/lib.bash"
for tool in age age-keygen python3 sha256sum tar; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/deps)"
done
cd "$WORK"
# A fixed export date (KOLOKOL_FAKE_NOW_MS), which only the test build reads.
KOLOKOL=${KOLOKOL_TESTHOOKS:?set KOLOKOL_TESTHOOKS to the kolokol-testhooks binary}
export KOLOKOL_FAKE_NOW_MS=1795320000000

new_member alice Alice
new_member lawyer "Lawyer L."
as alice group create Legal >/dev/null
case_id=$(as alice case open Legal --person "Ivan P." --charges "article 212" | awk '{print $2}')
[ -n "$case_id" ] || fail "no case id"
as alice case note Legal "$case_id" "Detained at 14:00 near the square" >/dev/null
as alice case pay Legal "$case_id" 150 EUR --purpose fine >/dev/null
head -c 3000000 /dev/urandom > evidence.bin
printf 'protocol of detention\n' > "протокол задержания.txt"
as alice case attach Legal "$case_id" evidence.bin >/dev/null
as alice case attach Legal "$case_id" "протокол задержания.txt" >/dev/null
age-keygen -o key.txt 2>/dev/null
recipient=$(age-keygen -y key.txt)

as alice bundle export "${case_id:0:6}" -r "$recipient" -o case.age >/dev/null
[ -f case.age ] && [ ! -e case.age.partial ] || fail "export left no bundle or a partial one"
expect_exit 11 alice bundle export "$case_id" -r "$recipient" -o case.age

# 1. Standard tools only.
mkdir plain && (cd plain && age -d -i ../key.txt ../case.age | tar x && sha256sum -c --quiet SHA256SUMS) \
  || fail "age | tar x && sha256sum -c failed"
for f in README.txt manifest.json summary.txt manifest.sig signer.card custody.log SHA256SUMS; do
  [ -s "plain/$f" ] || fail "bundle lacks $f"
done
cmp plain/files/*/*-evidence.bin evidence.bin || fail "attachment not byte-identical"
cmp plain/files/*/*-"протокол задержания.txt" "протокол задержания.txt" \
  || fail "the Cyrillic name did not survive tar x: $(find plain/files -type f)"
[ "$(age -d -i key.txt case.age | LC_ALL=C.UTF-8 tar t | grep -c 'протокол задержания.txt')" = 1 ] \
  || fail "tar t does not list the Cyrillic name: $(age -d -i key.txt case.age | LC_ALL=C.UTF-8 tar t)"
for want in "CASE SUMMARY" "Person: Ivan P." "Charges: article 212" "Detained at 14:00 near the square" \
    "paid 150.00 EUR — fine" "Total paid: 150.00 EUR (1 entry)" "Alice recorded" "протокол задержания.txt"; do
  grep -qF -- "$want" plain/summary.txt || fail "summary.txt lacks \"$want\": $(cat plain/summary.txt)"
done
grep -q "sha256sum -c SHA256SUMS" plain/README.txt || fail "README does not say how to check"
python3 - plain/manifest.json <<'EOF' || fail "manifest.json lacks case data"
import json, sys
m = json.load(open(sys.argv[1]))
c = m["cases"][0]
assert c["fields"]["person"] == "Ivan P." and c["fields"]["charges"] == "article 212"
assert any("Detained at 14:00" in t["item"]["text"] for t in c["timeline"])
assert c["ledger_totals"][0]["amount"] == "150.00"
assert len(c["history"]) >= 4, c["history"]
assert sorted(a["name"] for a in c["attachments"]) == ["evidence.bin", "протокол задержания.txt"]
assert m["exporter"]["name"] == "Alice"
assert m["summary"]["path"] == "summary.txt" and m["summary"]["language"] == "en", m["summary"]
EOF

# 2. kolokol verify says what it proved.
out=$("$KOLOKOL" bundle verify case.age -i key.txt) || fail "verify of a good bundle failed: $out"
grep -q '8 SHA-256 hashes in SHA256SUMS match' <<<"$out" || fail "verify: hashes line: $out"
grep -q 'summary.txt is the one manifest.json names' <<<"$out" || fail "verify: summary line: $out"
grep -q 'signed by "Alice"' <<<"$out" || fail "verify: signer line: $out"
grep -q 'Custody chain of 1 entry intact' <<<"$out" || fail "verify: custody line: $out"
card=$(card_of lawyer)
"$KOLOKOL" bundle verify case.age -i key.txt --card "$card" | grep -q "Safety number between you and Alice" \
  || fail "verify --card shows no safety number"

# 3. Tampering, each caught and named. rebuild DIR OUT: tar the folder in bundle order, encrypt.
order="README.txt manifest.json summary.txt manifest.sig signer.card custody.log SHA256SUMS"
# Names may hold spaces and Cyrillic: lists go through files, one name a line.
entries() { printf '%s\n' $order; (cd "$1" && find files -type f | LC_ALL=C sort); }
rebuild() {
  entries "$1" > "$1.list"
  (cd "$1" && tar --format=pax -cf - --verbatim-files-from -T "../$1.list") | age -r "$recipient" -o "$2"
}
fix_sums() {
  entries "$1" | grep -vx SHA256SUMS > "$1.sums"
  (cd "$1" && tr '\n' '\0' < "../$1.sums" | xargs -0 sha256sum > SHA256SUMS)
}
verify_fails() {  # FILE WORDS…
  local file=$1 words=$2 rc=0 out
  out=$("$KOLOKOL" bundle verify "$file" -i key.txt 2>&1) || rc=$?
  [ "$rc" -eq 10 ] || fail "verify $file: exit $rc, expected 10: $out"
  grep -qF -- "$words" <<<"$out" || fail "verify $file does not say \"$words\": $out"
  echo "ok: $file — $words"
}
cp case.age flipped.age
size=$(stat -c %s flipped.age)
flip_byte flipped.age $((size - 5000))
verify_fails flipped.age "failed to decrypt and authenticate payload chunk"
head -c $((size - 300)) case.age > truncated.age
verify_fails truncated.age "payload"

cp -r plain t1 && flip_byte "$(ls t1/files/*/*-evidence.bin)" 10
rebuild t1 altered.age
verify_fails altered.age "evidence.bin: SHA-256 differs from SHA256SUMS"

cp -r plain t2 && a=$(ls t2/files/*/*-evidence.bin) && b=$(ls t2/files/*/*-"протокол задержания.txt")
mv "$a" swap.tmp && mv "$b" "$a" && mv swap.tmp "$b" && fix_sums t2
rebuild t2 swapped.age
verify_fails swapped.age "evidence.bin: differs from manifest.json"

cp -r plain t3 && sed -i 's/article 212/article 213/' t3/manifest.json && fix_sums t3
rebuild t3 edited.age
verify_fails edited.age "manifest.sig: the signature does not verify"

cp -r plain t4 && python3 - t4/manifest.sig <<'EOF' && fix_sums t4
import sys, base64
p = sys.argv[1]
kind, key, sig = open(p).read().split()
raw = bytearray(base64.b64decode(sig + "=="))
raw[0] ^= 1
open(p, "w").write(f"{kind} {key} {base64.b64encode(bytes(raw)).decode().rstrip('=')}\n")
EOF
rebuild t4 forged.age
verify_fails forged.age "manifest.sig: the signature does not verify"

# 4. Re-export by the lawyer, then a removed custody entry.
as lawyer bundle reexport case.age -i key.txt -r "$recipient" -o court.age >/dev/null
out=$("$KOLOKOL" bundle verify court.age -i key.txt) || fail "verify after re-export: $out"
grep -q 'Custody chain of 2 entries intact' <<<"$out" || fail "re-export added no entry: $out"
grep -q 'reexport by Lawyer L.' <<<"$out" || fail "re-export entry not by the lawyer: $out"
mkdir t5 && (cd t5 && age -d -i ../key.txt ../court.age | tar x)
sed -i '1d' t5/custody.log && fix_sums t5
rebuild t5 removed.age
verify_fails removed.age "the export entry was removed"
mkdir t6 && (cd t6 && age -d -i ../key.txt ../court.age | tar x)
age-keygen -o other.txt 2>/dev/null
sed -i '2d' t6/custody.log && fix_sums t6
entries t6 > t6.list
(cd t6 && tar --format=pax -cf - --verbatim-files-from -T ../t6.list) | age -r "$recipient" -r "$(age-keygen -y other.txt)" -o cut.age
rc=0; out=$("$KOLOKOL" bundle verify cut.age -i other.txt 2>&1) || rc=$?
[ "$rc" -eq 10 ] && grep -q "a later custody entry was removed" <<<"$out" || fail "cut custody tail not caught ($rc): $out"

# 5. bundle open: safe extraction, and hostile archives refused before anything is written.
as lawyer bundle open case.age -i key.txt -o opened >/dev/null || fail "bundle open failed"
cmp opened/files/*/*-evidence.bin evidence.bin || fail "open: attachment differs"
expect_exit 11 lawyer bundle open case.age -i key.txt -o opened
hostile() {  # NAME KIND WORDS
  local name=$1 kind=$2 words=$3 rc=0 out
  python3 - "$kind" "$name.tar" <<'EOF'
import io, sys, tarfile
kind, path = sys.argv[1], sys.argv[2]
with open(path, "wb") as f:
    t = tarfile.open(fileobj=f, mode="w", format=tarfile.USTAR_FORMAT)
    def add(name, data=b"x", **kw):
        i = tarfile.TarInfo(name); i.size = len(data)
        for k, v in kw.items(): setattr(i, k, v)
        t.addfile(i, io.BytesIO(data) if i.isreg() else None)
    if kind == "dotdot": add("files/../../escaped.txt")
    elif kind == "absolute": add("/tmp/kolokol-absolute-escape.txt")
    elif kind == "symlink": add("files/link", type=tarfile.SYMTYPE, linkname="/etc/passwd", size=0)
    elif kind == "hardlink": add("files/hard", type=tarfile.LNKTYPE, linkname="README.txt", size=0)
    elif kind == "device": add("files/dev", type=tarfile.CHRTYPE, devmajor=1, devminor=3, size=0)
    elif kind == "huge":
        i = tarfile.TarInfo("files/huge.bin"); i.size = 1 << 40
        f.write(i.tobuf(format=tarfile.GNU_FORMAT))  # the header alone: 1 TiB declared
        f.write(b"\0" * 1024)
    if kind != "huge": t.close()
EOF
  age -r "$recipient" -o "$name.age" "$name.tar"
  out=$("$KOLOKOL" bundle open "$name.age" -i key.txt -o "out-$name" 2>&1) || rc=$?
  [ "$rc" -eq 6 ] || fail "hostile $kind: exit $rc, expected 6: $out"
  grep -qF -- "$words" <<<"$out" || fail "hostile $kind: message lacks \"$words\": $out"
  [ -z "$(find "out-$name" -mindepth 1 2>/dev/null)" ] || fail "hostile $kind wrote files"
  echo "ok: hostile $kind refused — $out"
}
hostile h1 dotdot '".." would write outside the folder'
hostile h2 absolute "absolute paths are not allowed"
hostile h3 symlink "links are not allowed"
hostile h4 hardlink "links are not allowed"
hostile h5 device "only regular files are allowed"
hostile h6 huge "over the limit"
[ ! -e escaped.txt ] && [ ! -e /tmp/kolokol-absolute-escape.txt ] || fail "a hostile entry escaped"

# 5b. A summary edited after export (SHA256SUMS fixed to match) is caught by the signed manifest.
cp -r plain t7 && sed -i 's/Ivan P./Ivan Q./' t7/summary.txt && fix_sums t7
rebuild t7 summary.age
verify_fails summary.age "summary.txt: differs from manifest.json"

# 5c. Exported in Russian, the summary is in Russian and says so in the manifest.
LANG=ru_RU.UTF-8 LC_ALL=ru_RU.UTF-8 as alice bundle export "$case_id" -r "$recipient" -o ru.age >/dev/null
mkdir ru && (cd ru && age -d -i ../key.txt ../ru.age | tar x && sha256sum -c --quiet SHA256SUMS) \
  || fail "the Russian bundle does not open with age | tar x && sha256sum -c"
for want in "СВОДКА ПО ДЕЛУ" "Человек: Ivan P." "Хронология, в порядке событий" "Итого оплачено: 150.00 EUR (1 запись)"; do
  grep -qF -- "$want" ru/summary.txt || fail "the Russian summary lacks \"$want\": $(cat ru/summary.txt)"
done
grep -q '"language": "ru"' ru/manifest.json || fail "the manifest does not say the summary is Russian"

# 6. A passphrase bundle opens with age too (age reads passphrases from a terminal only).
printf '%s\n%s\n' "passphrase of alice" "bundle pass phrase" > "$WORK/alice.pass"
as alice bundle export "$case_id" -p -o pass.age >/dev/null
printf 'bundle pass phrase\n' > bp.txt
"$KOLOKOL" bundle verify pass.age --bundle-passphrase-file bp.txt | grep -q "with the passphrase" \
  || fail "passphrase bundle did not verify"
python3 - pass.age <<'EOF' || fail "age -d with the passphrase failed"
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execvp("sh", ["sh", "-c", f"age -d {sys.argv[1]} | tar x -O README.txt > pass-readme.txt"])
buf = b""
while True:
    try:
        r, _, _ = select.select([fd], [], [], 30)
        if not r: break
        data = os.read(fd, 1024)
    except OSError:
        break
    if not data: break
    buf += data
    if b"passphrase" in buf.lower():
        os.write(fd, b"bundle pass phrase\n"); buf = b""
_, status = os.waitpid(pid, 0)
sys.exit(0 if os.WEXITSTATUS(status) == 0 and os.path.getsize("pass-readme.txt") > 0 else 1)
EOF
echo "bundle_lawyer: all checks passed"
