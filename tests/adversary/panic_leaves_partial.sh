# A device about to be seized while the member saves a piece of evidence (`attachment get … -o`)
# or writes a backup: `kolokol panic --yes` ends the command (exit 15, row 54), and what it was
# writing must not stay on disk. `attachment get` writes the plaintext to OUT.kolokol-partial and
# renames it at the end; `backup` writes OUT.tmp. No later run of the command will clear them
# after a panic, so the exit path itself must remove them (rows 19, 46): otherwise whoever takes
# the device finds tens of MiB of the evidence in the clear beside the path the member chose,
# after the member destroyed the store, and an OUT.tmp that says a backup was being written.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
export LC_ALL=C.UTF-8

new_member anna "Anna Petrova"
G="Prisoner support"
as anna group create "$G" >/dev/null
(yes "PHOTO OF THE BEATING AT PRECINCT 7 " || true) | head -c $((96 * 1024 * 1024)) > "$WORK/evidence.bin"
as anna report add "$G" --place "Precinct 7" --at 2026-03-01T10:00 --category beating \
  --attach "$WORK/evidence.bin" >/dev/null
rm "$WORK/evidence.bin"
id=$(as anna attachment list "$G" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
items = d if isinstance(d, list) else d.get("attachments", [])
print(items[0]["id"])')
[ -n "$id" ] || fail "no attachment listed"
cp -a "$WORK/anna" "$WORK/anna.copy"

# --- attachment get, panic while it writes ---
OUT="$WORK/usb/evidence.jpg"
mkdir -p "$WORK/usb"
( as_bg anna attachment get "$G" "${id:0:8}" -o "$OUT" > "$WORK/get.out" 2> "$WORK/get.err" ) &
GET=$!
CLEANUP_PIDS+=("$GET")
for _ in $(seq 400); do
  [ "$(stat -c %s "$OUT.kolokol-partial" 2>/dev/null || echo 0)" -gt $((4 * 1024 * 1024)) ] && break
  sleep 0.01
done
[ -e "$OUT.kolokol-partial" ] || fail "attachment get never wrote $OUT.kolokol-partial (finished too fast?)"
as anna panic --yes >/dev/null
rc=0; wait "$GET" || rc=$?
[ "$rc" = 15 ] || fail "attachment get exited $rc after the panic, not 15"
echo "ok: attachment get ended with 15"
left=$(find "$WORK/usb" -mindepth 1 -printf '%f (%s bytes) ')
if [ -n "$left" ]; then
  n=$(grep -c --binary-files=text "PHOTO OF THE BEATING" "$WORK/usb"/* 2>/dev/null | awk -F: '{s += $NF} END {print s + 0}')
  fail "after panic, the interrupted attachment get left $left holding the evidence in the clear ($n lines of it)"
fi
echo "ok: nothing of the interrupted attachment get is left"

# --- backup, panic while it runs ---
rm -rf "$WORK/anna"; mv "$WORK/anna.copy" "$WORK/anna"
printf 'passphrase of anna\nbackup passphrase\n' > "$WORK/anna.bk"
( KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/anna.bk" exec "$KOLOKOL" backup \
    -o "$WORK/usb/kolokol.age" > "$WORK/bk.out" 2> "$WORK/bk.err" ) &
BK=$!
CLEANUP_PIDS+=("$BK")
for _ in $(seq 400); do [ -e "$WORK/usb/kolokol.age.tmp" ] && break; sleep 0.01; done
[ -e "$WORK/usb/kolokol.age.tmp" ] || fail "backup never wrote its .tmp"
as anna panic --yes >/dev/null
rc=0; wait "$BK" || rc=$?
[ "$rc" = 15 ] || fail "backup exited $rc after the panic, not 15"
left=$(find "$WORK/usb" -mindepth 1 -printf '%f (%s bytes) ')
[ -z "$left" ] || fail "after panic, the interrupted backup left $left"
echo "ok: panic leaves nothing the interrupted commands were writing"
