# A sync file holding chunks under keys the member does not hold is imported as one transaction
# (core/src/node_sync_file.cpp), so nothing is committed, and the WAL cannot be checkpointed,
# until the whole file is in. Boris, removed, keeps the old epochs' file keys: he makes 100 MiB
# junk files (kolokol-adversary junk-sync-file) and adds to each the group's own file, which
# holds chunks Clara (who joined without history) holds no key to — so her import of it is one
# transaction. Row 44: what she cannot check takes at most the unverified quota (64 MiB), and the
# rest is refused and said. At the import's peak, not only once it is done: with nothing
# committed until the end, her home (database and WAL) may hold about twice what it keeps for a
# moment — never more (measured: 62 MiB kept, a peak of 125 MiB, where
# the junk file alone peaks at 68 MiB); several passes (the group's chunks in
# reverse, one rotation opened a pass) do not add to it. Her memory stays under 256 MiB and the
# later messages arrive when the group's file is read again.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
MIB=100
QUOTA_MIB=64
G="Prisoner support"
size_of() { du -sb "$WORK/$1" | cut -f1; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
new_member anna "Anna Petrova"; new_member boris "Boris Ivanov"; new_member clara "Clara Smirnova"
as anna group create "$G" >/dev/null
as anna post "$G" "written before Clara came" >/dev/null 2>&1
as boris group join "$(as anna group add "$G" "$(card_of boris)" --with-history 2>/dev/null)" >/dev/null
as clara group join "$(as anna group add "$G" "$(card_of clara)" 2>/dev/null)" >/dev/null
as anna sync --to-file "$WORK/all.sync" >/dev/null
as boris sync --from-file "$WORK/all.sync" >/dev/null
out=$(as clara sync --from-file "$WORK/all.sync")
grep -q "[1-9][0-9]* not readable by you" <<<"$out" || fail "setup: Clara holds every key of the file: $out"
as anna group remove "$G" "Boris Ivanov" >/dev/null
as anna post "$G" "after the removal" >/dev/null 2>&1
for i in 1 2; do  # two more rotations: Clara learns one key a pass
  new_member d$i "Dummy $i"
  as d$i group join "$(as anna group add "$G" "$(card_of d$i)" 2>/dev/null)" >/dev/null
  as anna group remove "$G" "Dummy $i" >/dev/null
  as anna post "$G" "after rotation $i" >/dev/null 2>&1
done
for kind in waiting unopenable; do
  adv junk-sync-file "$WORK/boris" "$WORK/boris.pass" "$WORK/junk.sync" "$MIB" "$kind" >/dev/null
  # The junk, then the group's own file behind it, chunks reversed: chunks Clara holds no key
  # to until an earlier pass opened the rotation that grants it.
  as anna sync --to-file "$WORK/group.sync" >/dev/null
  python3 - "$WORK/junk.sync" "$WORK/group.sync" "$WORK/both.sync" <<'PY'
import struct, sys
def frames(p):
    b = open(p, 'rb').read(); assert b[:8] == b'KKSYNC01'; i = 8; out = []
    while i < len(b):
        n = struct.unpack('>I', b[i:i+4])[0]; out.append(b[i:i+4+n]); i += 4 + n
    return out
j, g = frames(sys.argv[1]), frames(sys.argv[2])
# The group's chunks in reverse: the last epoch first, so each pass opens one more.
open(sys.argv[3], 'wb').write(b'KKSYNC01' + b''.join(j) + b''.join(g[1:][::-1]))
PY
  before=$(size_of clara)
  ( r=0; /usr/bin/time -f "%M" -o "$WORK/rss" env KOLOKOL_HOME="$WORK/clara" \
      KOLOKOL_PASSPHRASE_FILE="$WORK/clara.pass" "$KOLOKOL" sync --from-file "$WORK/both.sync" \
      >"$WORK/out" 2>&1 || r=$?; echo $r >"$WORK/rc" ) &
  pid=$!
  peak=$before
  while kill -0 $pid 2>/dev/null; do
    s=$(size_of clara 2>/dev/null || echo 0); [ "$s" -gt "$peak" ] && peak=$s; sleep 0.1
  done
  wait $pid || true
  rc=$(cat "$WORK/rc"); rss=$(tail -1 "$WORK/rss"); after=$(size_of clara)
  echo "$kind: $(mib "$(stat -c %s "$WORK/both.sync")") file, exit $rc; home $(mib "$before") → peak $(mib "$peak") → $(mib "$after"); max RSS $((rss / 1024)) MiB; $(grep -o '[0-9]* not readable by you' "$WORK/out" | head -1)"
  [ "$rc" -eq 0 ] || [ "$rc" -eq 14 ] || fail "$kind: exit $rc: $(cat "$WORK/out")"
  [ $((peak - before)) -le $(( (2 * QUOTA_MIB + 16) << 20 )) ] \
    || fail "row 44: Clara's home grew by $(mib $((peak - before))) during a one-transaction import of $kind junk"
  [ "$rss" -le $((256 * 1024)) ] || fail "Clara's import of $kind junk took $((rss / 1024)) MiB of memory"
  rm -f "$WORK/junk.sync" "$WORK/both.sync"
done
# The junk filled her quota before the group's chunks behind it were reached (exit 14); the
# group's own file, read again, brings every later message.
as anna sync --to-file "$WORK/group.sync" >/dev/null
as clara sync --from-file "$WORK/group.sync" >/dev/null
grep -q "after rotation 2" <<<"$(as clara read "$G")" || fail "Clara did not get the later messages"
echo "one-transaction imports of 100 MiB junk peaked within twice the quota"
