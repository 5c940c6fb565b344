# A damaged sync file must change nothing (SECURITY.md row 8), also when the damage is in a
# chunk under an epoch key the file itself grants. Reading checks every chunk it holds a key for
# before it ingests anything; a chunk under a key it does not hold yet can be opened only after
# an earlier chunk's rotation is ingested. Any member holding the later epoch can make such a
# file on purpose (seal junk under its file key); a byte flipped on the way does the same by
# accident (parts are no help: their check is not keyed, so whoever cuts them can recompute
# it). Every chunk of the file is damaged in turn: each damaged copy must be refused with exit 6
# and leave Boris's store as it was; the intact file must import (so the check can tell).
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
G="Legal support"
new_member anna "Anna Petrova"; new_member boris "Boris Ivanov"; new_member carol "Carol"
as anna group create "$G" >/dev/null
as boris group join "$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)" >/dev/null
as anna sync --to-file "$WORK/first.sync" >/dev/null
as boris sync --from-file "$WORK/first.sync" >/dev/null
as anna post "$G" "before the rotation" --no-send >/dev/null 2>&1
# Adding Carol without history rotates: the file's last epoch is one Boris does not hold yet.
as anna group add "$G" "$(card_of carol)" >/dev/null 2>&1
as anna post "$G" "after the rotation" --no-send >/dev/null 2>&1
as anna sync --to-file "$WORK/second.sync" >/dev/null

state() { as boris read "$G" --limit 100; as boris group members "$G"; }
before=$(state)
cp -a "$WORK/boris" "$WORK/boris.orig"
# Offset and length of each chunk after the header: "KKSYNC01", then 4-byte big-endian lengths.
chunks=$(python3 - "$WORK/second.sync" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"KKSYNC01"
at = 8 + 4 + struct.unpack(">I", b[8:12])[0]
while at < len(b):
    n = struct.unpack(">I", b[at:at + 4])[0]
    print(at + 4, n)
    at += 4 + n
PY
)
[ "$(grep -c . <<<"$chunks")" -ge 2 ] || fail "the file holds fewer than two chunks: $chunks"
while read -r off len; do
  rm -rf "$WORK/boris"; cp -a "$WORK/boris.orig" "$WORK/boris"
  cp "$WORK/second.sync" "$WORK/damaged.sync"
  flip_byte "$WORK/damaged.sync" $((off + len - 1))
  rc=0; err=$(as boris sync --from-file "$WORK/damaged.sync" 2>&1 >/dev/null) || rc=$?
  [ "$rc" -eq 6 ] || problem "row 8: the file damaged in the chunk at $off exited $rc: $err"
  after=$(state)
  [ "$after" = "$before" ] || problem "row 8: the file damaged in the chunk at $off was \
refused ($err) yet changed Boris's store: $(diff <(echo "$before") <(echo "$after") | grep '^>' \
| tr '\n' ' ')"
done <<<"$chunks"

# The intact file imports everything, so the comparison above can tell.
rm -rf "$WORK/boris"; cp -a "$WORK/boris.orig" "$WORK/boris"
as boris sync --from-file "$WORK/second.sync" >/dev/null
grep -q "after the rotation" <<<"$(state)" || fail "the intact file did not import"
grep -q "Carol" <<<"$(state)" || fail "the intact file did not bring Carol"
finish
