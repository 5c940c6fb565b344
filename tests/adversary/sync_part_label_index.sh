# Sync file parts travel through messengers and mail, so anyone can hand a member one (rows 8,
# 33: bad input gets one line, a distinct exit code, and changes nothing; parsers survive
# arbitrary input). Since a damaged copy of a part is passed over when the set is whole without
# it (core/src/sync_part_set.cpp), a damaged block is kept aside with what its BEGIN line says,
# and when parts are missing its number picks a slot: `slots[label->index - 1]`. The armored
# BEGIN line's numbers are not bounded as a binary header's are (index from 1 to the count), so
# a block "PART 0 OF 13" (or 99 OF 13) of the set, with a damaged body, indexes out of the
# vector (index 0 wraps to slot 4294967295). Anna is handed part 1 of her own 13-part set and
# such a block: `sync --from-file` must refuse as it refuses part 1 alone (one line, the exit
# code of a damaged or incomplete set), not die. (14 or 99 OF 13 read past the vector too, but
# near enough that this build does not crash; ASan would name them.)
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
new_member anna "Anna"
as anna group create "Legal support" >/dev/null
for i in $(seq 40); do
  as anna post "Legal support" "post $i $(head -c 300 /dev/urandom | base64 -w0)" --no-send >/dev/null 2>&1
done
as anna sync --to-file "$WORK/a.sync" --part-size 4K --armor >/dev/null
count=$(ls "$WORK"/a.sync.part*.txt | wc -l)
set=$(head -1 "$WORK/a.sync.part01.txt" | sed 's/.* SET \([0-9a-f]*\)-----/\1/')
[ "$count" -ge 3 ] && [ ${#set} -eq 16 ] || fail "setup: $count parts, set '$set'"
rc_alone=0
as anna sync --from-file "$WORK/a.sync.part01.txt" >/dev/null 2>&1 || rc_alone=$?
[ "$rc_alone" -gt 0 ] && [ "$rc_alone" -lt 64 ] || fail "setup: part 1 alone gives exit $rc_alone"
before=$(as anna read "Legal support" --limit 1000 | md5sum)
for idx in 0 $((count + 1)) 99 4294967295; do
  f="$WORK/evil$idx.txt"
  printf -- '-----BEGIN KOLOKOL SYNC PART %s OF %s SET %s-----\nAAAA\n-----END KOLOKOL SYNC PART %s OF %s SET %s-----\n' \
    "$idx" "$count" "$set" "$idx" "$count" "$set" > "$f"
  rc=0
  err=$(as anna sync --from-file "$WORK/a.sync.part01.txt" "$f" 2>&1 >/dev/null) || rc=$?
  echo "block PART $idx OF $count: exit $rc: $(head -c 200 <<<"$err" | tr '\n' ' ')"
  [ "$rc" -eq "$rc_alone" ] && [ "$(grep -c . <<<"$err")" -le 1 ] ||
    problem "rows 8, 33: a damaged block labelled PART $idx OF $count makes sync --from-file exit $rc (not $rc_alone, as for part 1 alone)$([ "$rc" -ge 128 ] && echo ": killed by signal $((rc - 128))")"
done
[ "$(as anna read "Legal support" --limit 1000 | md5sum)" = "$before" ] || problem "Anna's messages changed"
finish
