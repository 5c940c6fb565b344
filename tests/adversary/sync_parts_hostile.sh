# A carrier's hostile folder and parts (sync --from-file, DESIGN §11.1.1): whoever carries the
# parts of a sync file — a messenger, a mail account, a USB stick — decides what else is beside
# them and can make parts by hand (their check is not keyed). Each input must be refused with
# exit 6 (or passed over), quickly, in bounded memory, and change nothing:
# - a base64 bomb: a BEGIN line and 90 MiB of base64 with no END line (one part's bytes at most
#   are held: peak RSS bounded);
# - headers that lie: a count of 9,999 parts, a total of 9,999 × 64 MiB, an offset past the
#   total, a size past the part's end;
# - parts of a set that do not tile the file (made by hand, checks right);
# - a folder beside the real parts holding a FIFO, a symlink to a FIFO, a symlink to
#   /dev/zero, a socket, a subfolder, a dangling symlink and a symlink loop, and 5,000 other
#   files: the import ends (no read blocks), passes them over and reads the parts.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
export LC_ALL=C.UTF-8
G="Legal support"
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
as anna group create "$G" >/dev/null
as boris group join "$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)" >/dev/null
as anna sync --to-file "$WORK/first.sync" >/dev/null
as boris sync --from-file "$WORK/first.sync" >/dev/null
for n in $(seq 1 20); do as anna post "$G" "сообщение $n: $(printf 'x%.0s' $(seq 1 200))" >/dev/null 2>&1; done
mkdir "$WORK/out"
as anna sync --to-file "$WORK/out/k.sync" --part-size 4K >/dev/null
count=$(ls "$WORK/out" | wc -l)
[ "$count" -ge 3 ] || fail "only $count parts"
state() { as boris read "$G" --limit 100; as boris group members "$G"; }
before=$(state)

# part.py OUT SET INDEX COUNT TOTAL OFFSET BODYLEN — a binary part with a right check.
cat > "$WORK/part.py" <<'PY'
import hashlib, struct, sys
out, setid, index, count, total, offset, n = sys.argv[1], bytes.fromhex(sys.argv[2]), *map(int, sys.argv[3:])
body = b"\x00" * n
head = b"KKPART01" + setid + struct.pack(">IIQQI", index, count, total, offset, n)
check = hashlib.blake2b(b"kolokol/sync-part/v1\x00" + head + body, digest_size=32).digest()
open(out, "wb").write(head + check + body)
PY
part() { python3 "$WORK/part.py" "$@"; }

# refused WHAT MAX_SECONDS INPUTS… — exit 6 within the time, nothing changed.
refused() {
  local what=$1 max=$2; shift 2
  local rc=0 err start=$SECONDS
  err=$(timeout 120 env KOLOKOL_HOME="$WORK/boris" KOLOKOL_PASSPHRASE_FILE="$WORK/boris.pass" \
        /usr/bin/time -f "rss %M" "$KOLOKOL" sync --from-file "$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" -eq 6 ] || fail "$what: exited $rc (not 6): $err"
  [ $((SECONDS - start)) -le "$max" ] || fail "$what: took $((SECONDS - start)) s"
  local rss
  rss=$(sed -n 's/^rss \([0-9]*\)$/\1/p' <<<"$err")
  [ -n "$rss" ] && [ "$rss" -le 262144 ] || fail "$what: peak RSS ${rss:-?} KiB (over 256 MiB)"
  [ "$(state)" = "$before" ] || fail "$what: changed Boris's store"
  echo "ok: $what refused in $((SECONDS - start)) s, peak RSS $((rss / 1024)) MiB: $(grep -v '^rss' <<<"$err" | head -1)"
}

# A base64 bomb: a BEGIN line, then 90 MiB of base64 in 64-character lines (more than the
# 64 MiB a part may hold, once decoded), no END line.
python3 - "$WORK/bomb.txt" <<'PY'
import sys
line = b"A" * 64 + b"\n"
with open(sys.argv[1], "wb") as f:
    f.write(b"-----BEGIN KOLOKOL SYNC PART 1 OF 1 SET 0011223344556677-----\n")
    block = line * 16384
    for _ in range(90 * 1024 * 1024 // len(block)):
        f.write(block)
PY
refused "a base64 bomb" 90 "$WORK/bomb.txt"

# The same bomb whose decoded header claims the largest part, with an END line.
python3 - "$WORK/bomb2.txt" <<'PY'
import base64, struct, sys
head = b"KKPART01" + bytes(8) + struct.pack(">IIQQI", 1, 1, 64 << 20, 0, 64 << 20) + bytes(32)
with open(sys.argv[1], "wb") as f:
    f.write(b"-----BEGIN KOLOKOL SYNC PART 1 OF 1 SET 0000000000000000-----\n")
    data = head + bytes(48 * 16384 - len(head))
    enc = base64.b64encode(data)
    f.write(b"\n".join(enc[i:i + 64] for i in range(0, len(enc), 64)) + b"\n")
    zeros = base64.b64encode(bytes(48 * 16384))
    chunk = b"\n".join(zeros[i:i + 64] for i in range(0, len(zeros), 64)) + b"\n"
    for _ in range(66 * 1024 * 1024 // len(chunk)):
        f.write(chunk)
    f.write(b"-----END KOLOKOL SYNC PART 1 OF 1 SET 0000000000000000-----\n")
PY
refused "a bomb longer than its header's 64 MiB" 90 "$WORK/bomb2.txt"
rm -f "$WORK/bomb.txt" "$WORK/bomb2.txt"

# Headers that lie.
S=1122334455667788
part "$WORK/lie1" $S 1 9999 $((9999 * 64 * 1024 * 1024)) 0 4096
refused "a part of 9,999 claiming 9,999 × 64 MiB" 10 "$WORK/lie1"
part "$WORK/lie2" $S 2 2 100 50 60
refused "a part whose body runs past the total" 10 "$WORK/lie2"
part "$WORK/lie3" $S 1 1 $((1 << 40)) 0 100
refused "a lone part of a 1 TiB file" 10 "$WORK/lie3"
mkdir "$WORK/gap"
part "$WORK/gap/a" $S 1 2 300 0 100
part "$WORK/gap/b" $S 2 2 300 200 100
refused "two parts that leave a gap" 10 "$WORK/gap"
mkdir "$WORK/overlap"
part "$WORK/overlap/a" $S 1 2 150 0 100
part "$WORK/overlap/b" $S 2 2 150 50 100
refused "two parts that overlap" 10 "$WORK/overlap"
mkdir "$WORK/nine"
python3 - "$WORK/part.py" "$WORK/nine" $S <<'PY'
import subprocess, sys
script, folder, setid = sys.argv[1:]
code = open(script).read()
for i in range(1, 201):
    sys.argv = [script, f"{folder}/p{i}", setid, str(i), "9999", str(9999 * 4096), str((i - 1) * 4096), "4096"]
    exec(code, {})
PY
refused "200 parts of a set of 9,999" 60 "$WORK/nine"

# The real parts beside whatever a folder can hold that is no file to read.
mkdir "$WORK/carried" "$WORK/carried/sub"
cp "$WORK"/out/* "$WORK/carried/"
mkfifo "$WORK/carried/fifo" "$WORK/fifo-outside"
ln -s "$WORK/fifo-outside" "$WORK/carried/link-to-fifo"
ln -s /dev/zero "$WORK/carried/link-to-zero"
ln -s "$WORK/nowhere" "$WORK/carried/dangling"
ln -s "$WORK/carried/loop2" "$WORK/carried/loop1"
ln -s "$WORK/carried/loop1" "$WORK/carried/loop2"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$WORK/carried/socket"
for i in $(seq 1 5000); do echo "note $i"; done | split -l 1 -a 4 - "$WORK/carried/note."
start=$SECONDS
rc=0
timeout 120 env KOLOKOL_HOME="$WORK/boris" KOLOKOL_PASSPHRASE_FILE="$WORK/boris.pass" \
  "$KOLOKOL" sync --from-file "$WORK/carried" > "$WORK/in.out" 2> "$WORK/in.err" || rc=$?
[ "$rc" -eq 0 ] || fail "the parts beside FIFOs, links and devices exited $rc: $(cat "$WORK/in.err")"
grep -qF "from its $count parts" "$WORK/in.out" || fail "the set is not said: $(cat "$WORK/in.out")"
got=$(as boris read "$G" --limit 100)
[ "$(grep -c "сообщение" <<<"$got")" -eq 20 ] || fail "not 20 messages: $got"
echo "ok: the parts read beside a FIFO, links, a socket and 5,000 other files in $((SECONDS - start)) s"
echo "a carrier's hostile parts and folders: refused or passed over, nothing changed"
