# A sync file cut into armored parts and carried through a folder, as through a messenger: the
# parts shuffled and renamed, one twice, one missing. The import names the missing part and
# writes nothing; with it the import completes and Boris reads every message. A part of another
# set, and a damaged part, are refused by name; all the parts pasted into one text file (with
# a messenger's lines between them, CRLF) import too.
source "$(dirname "$0")/lib.bash"
export LC_ALL=C.UTF-8
G="Legal support"
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
as anna group create "$G" >/dev/null
token=$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
as anna sync --to-file "$WORK/first.sync" >/dev/null
as boris sync --from-file "$WORK/first.sync" >/dev/null
for n in $(seq 1 40); do
  as anna post "$G" "сообщение $n: $(printf 'x%.0s' $(seq 1 150))" >/dev/null 2>&1
done

mkdir "$WORK/out" "$WORK/carried"
out=$(as anna sync --to-file "$WORK/out/kolokol.sync" --part-size 4K --armor)
echo "$out"
mapfile -t parts < <(ls "$WORK/out")
count=${#parts[@]}
[ "$count" -ge 5 ] || fail "only $count parts: $out"
grep -qF "to $count parts of set" <<<"$out" || fail "the output does not say the parts: $out"
set_id=$(sed -n 's/.* parts of set \([0-9a-f]\{16\}\):.*/\1/p' <<<"$out")
[ -n "$set_id" ] || fail "no set id in: $out"
for p in "${parts[@]}"; do
  [ "$(stat -c %s "$WORK/out/$p")" -le 4096 ] || fail "$p is larger than 4K"
  [ "$(stat -c %a "$WORK/out/$p")" = 600 ] || fail "$p is not 0600"
  ! LC_ALL=C grep -q '[^ -~]' "$WORK/out/$p" || fail "$p holds more than printable ASCII"
  head -1 "$WORK/out/$p" | grep -qE "^-----BEGIN KOLOKOL SYNC PART [0-9]+ OF $count SET $set_id-----$" \
    || fail "$p does not begin with its BEGIN line: $(head -1 "$WORK/out/$p")"
done
[ ! -e "$WORK/out/kolokol.sync" ] && [ ! -e "$WORK/out/kolokol.sync.partial" ] \
  || fail "a whole file or a temporary was left beside the parts"

# Carried: renamed as a messenger's downloads, in shuffled order, part 2 twice, part 3 held back.
i=0
for p in $(printf '%s\n' "${parts[@]}" | shuf); do
  i=$((i + 1))
  case "$p" in *part03.txt) cp "$WORK/out/$p" "$WORK/part3-held-back.txt"; continue ;; esac
  cp "$WORK/out/$p" "$WORK/carried/download($i).txt"
  case "$p" in *part02.txt) cp "$WORK/out/$p" "$WORK/carried/download($i) (1).txt" ;; esac
done
echo "a note that is no part" > "$WORK/carried/readme.txt"
# And a copy of part 4 that a messenger damaged (one base64 character of its third line).
p4=$(printf '%s\n' "${parts[@]}" | grep 'part04.txt$')
python3 - "$WORK/out/$p4" "$WORK/carried/part4 (damaged).txt" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
lines[2] = lines[2][:2] + ("B" if lines[2][2] == "A" else "A") + lines[2][3:]
open(sys.argv[2], "w").write("\n".join(lines))
PY
! cmp -s "$WORK/out/$p4" "$WORK/carried/part4 (damaged).txt" || fail "the copy of part 4 is not damaged"
before=$(as boris read "$G" --limit 100)
rc=0; err=$(as boris sync --from-file "$WORK/carried" 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 6 ] || fail "an incomplete set exited $rc: $err"
grep -qF "part 3 of $count of set $set_id is missing" <<<"$err" || fail "the missing part is not named: $err"
[ "$(as boris read "$G" --limit 100)" = "$before" ] || fail "something was imported from an incomplete set"
if grep -q "сообщение" <<<"$(as boris read "$G" --limit 100)"; then fail "messages came from an incomplete set"; fi

# Part 3 arrives: the import completes, the second copy of part 2 is said and ignored.
cp "$WORK/part3-held-back.txt" "$WORK/carried/late.txt"
rc=0; as boris sync --from-file "$WORK/carried" > "$WORK/in.out" 2> "$WORK/in.err" || rc=$?
cat "$WORK/in.out" "$WORK/in.err"
[ "$rc" -eq 0 ] || fail "the whole set exited $rc: $(cat "$WORK/in.err")"
grep -qF "from its $count parts (set $set_id)" "$WORK/in.out" || fail "the set is not said: $(cat "$WORK/in.out")"
grep -qF "a second copy of part 2 of $count, ignored" "$WORK/in.err" || fail "the duplicate is not said: $(cat "$WORK/in.err")"
grep -qF "Left alone 1 file" "$WORK/in.err" || fail "the note is not said: $(cat "$WORK/in.err")"
grep -qF "part4 (damaged).txt: part 4 of $count of set $set_id is damaged" "$WORK/in.err" \
  && grep -qF "(passed over: the set is whole without it)" "$WORK/in.err" \
  || fail "the damaged copy of part 4 is not said: $(cat "$WORK/in.err")"
got=$(as boris read "$G" --limit 100)
for n in 1 17 40; do grep -qF "сообщение $n:" <<<"$got" || fail "message $n did not arrive: $got"; done
[ "$(grep -c "сообщение" <<<"$got")" -eq 40 ] || fail "not 40 messages: $got"

# The files, not the folder, named one by one in any order, also work (all duplicate now).
mapfile -t given < <(ls -d "$WORK"/carried/download* | shuf)
as boris sync --from-file "${given[@]}" "$WORK/carried/late.txt" --json > "$WORK/again.json"
python3 - "$WORK/again.json" "$count" <<'PY' || fail "the second import: $(cat "$WORK/again.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["parts"] == int(sys.argv[2]) and len(j["duplicates"]) == 1 and j["new"] == 0, j
PY

# A part of another set among them: refused, naming its file.
as anna post "$G" "later" >/dev/null 2>&1
mkdir "$WORK/other"
as anna sync --to-file "$WORK/other/k.sync" --part-size 4K >/dev/null
stray="$WORK/carried/stray.bin"
cp "$(ls -d "$WORK"/other/* | sed -n 2p)" "$stray"
rc=0; err=$(as boris sync --from-file "$WORK/carried" 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 6 ] || fail "a part of another set exited $rc: $err"
grep -qF "$stray: part 2 of" <<<"$err" && grep -qF "is from another set" <<<"$err" \
  || fail "the stray part is not named: $err"
rm "$stray"

# A damaged part: one base64 character changed on its fifth line.
victim="$WORK/carried/late.txt"
python3 - "$victim" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().split("\n")
line = lines[4]
lines[4] = ("B" if line[10] == "A" else "A").join([line[:10], line[11:]])
open(p, "w").write("\n".join(lines))
PY
rc=0; err=$(as boris sync --from-file "$WORK/carried" 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 6 ] || fail "a damaged part exited $rc: $err"
grep -qF "$victim: part 3 of $count of set $set_id is damaged: its checksum does not match" <<<"$err" \
  || fail "the damaged part is not named: $err"

# Everything pasted into one text file, newest message first, between a messenger's lines, CRLF.
for p in $(ls "$WORK"/out/* | sort -r); do
  printf '[12:%02d] Anna Petrova:\n' "$((RANDOM % 60))"
  cat "$p"
  printf '\n'
done | sed 's/$/\r/' > "$WORK/pasted.txt"
as boris sync --from-file "$WORK/pasted.txt" > "$WORK/paste.out"
grep -qF "from its $count parts" "$WORK/paste.out" || fail "the pasted parts: $(cat "$WORK/paste.out")"

# Bounds on the options.
expect_exit 6 anna sync --to-file "$WORK/x.sync" --part-size 1K
expect_exit 6 anna sync --to-file "$WORK/x.sync" --part-size 3G
expect_exit 2 anna sync --from-file "$WORK/first.sync" --armor
echo "armored parts carried through a folder: the missing one named, then imported whole"
