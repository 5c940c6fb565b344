# A damaged copy of a part is passed over when the set is whole without it (docs/design.md §15,
# core/src/sync_part_set.cpp). Whoever relays parts may hand a member a damaged or altered copy
# beside the good one, first in the list, in the same folder, or as an earlier block of the same
# text file. Rows 8 and 29's principle: what is imported is what was checked, byte for byte, or
# nothing — the damaged copy is never the one read, whatever the order; without the good copy
# the set is refused in one line and nothing changes.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
G="Legal support"
new_member anna "Anna"; new_member boris "Boris"
as anna group create "$G" >/dev/null
as boris group join "$(as anna group add "$G" "$(card_of boris)" --with-history 2>/dev/null)" >/dev/null
for i in $(seq 30); do
  as anna post "$G" "post $i $(head -c 200 /dev/urandom | base64 -w0)" --no-send >/dev/null 2>&1
done
mkdir -p "$WORK/bin"; as anna sync --to-file "$WORK/bin/a.sync" --part-size 4K >/dev/null
mkdir -p "$WORK/txt"; as anna sync --to-file "$WORK/txt/a.sync" --part-size 4K --armor >/dev/null
n=$(ls "$WORK"/bin/a.sync.part* | wc -l)
[ "$n" -ge 3 ] || fail "setup: only $n parts"
want=$(as anna read "$G" --limit 1000)
fresh() { rm -rf "$WORK/b"; cp -a "$WORK/boris" "$WORK/b"; cp "$WORK/boris.pass" "$WORK/b.pass"; }
state() { as b read "$G" --limit 1000 2>&1 || true; as b group list 2>&1; }
empty=$(fresh; state)

# Binary: a copy of part 2 with one byte of its body flipped, given first; then in the folder.
cp "$WORK/bin/a.sync.part02" "$WORK/bad.part02"
flip_byte "$WORK/bad.part02" $(( $(stat -c %s "$WORK/bad.part02") - 10 ))
fresh
out=$(as b sync --from-file "$WORK/bad.part02" "$WORK"/bin/a.sync.part* 2>&1) || fail "damaged copy first: $out"
[ "$(as b read "$G" --limit 1000)" = "$want" ] || fail "damaged copy first: Boris does not read what Anna wrote"
grep -qi "damaged" <<<"$out" || fail "the damaged copy was not said: $out"
echo "binary, damaged copy first: imported whole; said: $(grep -i damaged <<<"$out" | head -1)"
cp "$WORK/bad.part02" "$WORK/bin/a.sync.part02.copy"
fresh
out=$(as b sync --from-file "$WORK/bin" 2>&1) || fail "damaged copy in the folder: $out"
[ "$(as b read "$G" --limit 1000)" = "$want" ] || fail "folder: Boris does not read what Anna wrote"
rm "$WORK/bin/a.sync.part02.copy"
# Without the good copy: refused, nothing changes.
fresh
rc=0; err=$(as b sync --from-file "$WORK/bad.part02" $(ls "$WORK"/bin/a.sync.part* | grep -v part02) 2>&1) || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -lt 64 ] && [ "$(grep -c . <<<"$err")" -le 1 ] || fail "only a damaged part 2: exit $rc: $err"
[ "$(state)" = "$empty" ] || fail "only a damaged part 2: Boris's store changed"
echo "binary, only the damaged copy: exit $rc: $err"

# Armored: a text file holding a damaged block of part 2 before the good one.
python3 - "$WORK/txt/a.sync.part02.txt" "$WORK/both02.txt" <<'PY'
import sys
good = open(sys.argv[1]).read().split('\n')
bad = list(good)
line = bad[3]; bad[3] = ('B' if line[0] != 'B' else 'C') + line[1:]
open(sys.argv[2], 'w').write('\n'.join(bad) + '\n' + '\n'.join(good))
PY
fresh
out=$(as b sync --from-file "$WORK/both02.txt" $(ls "$WORK"/txt/a.sync.part*.txt | grep -v part02) 2>&1) \
  || fail "armored, damaged block first: $out"
[ "$(as b read "$G" --limit 1000)" = "$want" ] || fail "armored: Boris does not read what Anna wrote"
echo "armored, damaged block before the good one in one file: imported whole"
echo "a damaged copy is never the one read"
