# A 200 MiB attachment goes from one member to another through a relay, two separate processes
# never online together, and comes out byte-identical; memory stays bounded on both ends. A sync
# cut short leaves chunks missing: `attachment get` says so (exit 7, never a partial file) and
# the next sync fetches what is missing.
source "$(dirname "$0")/lib.bash"
MIB=${KOLOKOL_ATTACHMENT_MIB:-200}

pass_file relay
port=$(pick_port)
( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
    --data "$WORK/relay" --kdf fast > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
ADDR=$(head -1 "$WORK/relay.out")
[[ "$ADDR" == kolokol://* ]] || fail "relay did not start: $(cat "$WORK/relay.err")"
json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
# peak_kib FILE — the maximum resident set /usr/bin/time recorded. The store's SQLite page cache
# is 128 MiB (storage::kCacheBytes), so a bounded process stays under 200 MiB whatever the size;
# one holding the whole file would not.
peak_kib() { sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\).*/\1/p' "$1"; }

G="Evidence"
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$ADDR" >/dev/null
token=$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
as anna case open "$G" --person "Ivan" > "$WORK/open"
CASE=$(sed -n 's/^Case \([0-9a-f]*\) created\.$/\1/p' "$WORK/open")

head -c $((MIB << 20)) /dev/urandom > "$WORK/video.mp4"
start=$(date +%s.%N)
KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/anna.pass" /usr/bin/time -v \
  "$KOLOKOL" case attach "$G" "$CASE" "$WORK/video.mp4" --type video/mp4 > /dev/null 2> "$WORK/attach.time"
end=$(date +%s.%N)
echo "attach: $MIB MiB in $(echo "$end - $start" | bc) s, peak RSS $(peak_kib "$WORK/attach.time") KiB"
[ "$(peak_kib "$WORK/attach.time")" -lt 200000 ] || fail "attaching used $(peak_kib "$WORK/attach.time") KiB"
as anna sync >/dev/null

# Boris's first sync is cut short: some chunks arrive, not all.
( as_bg boris sync >/dev/null 2>&1 ) & sync_pid=$!
sleep 3
kill -9 "$sync_pid" 2>/dev/null || true
wait "$sync_pid" 2>/dev/null || true
if as boris attachment list "$G" --json > "$WORK/partial.json" 2>/dev/null && [ "$(json_field 'len(d)' < "$WORK/partial.json")" = 1 ]; then
  missing=$(json_field 'd[0]["missing_chunks"]' < "$WORK/partial.json")
  if [ "$missing" -gt 0 ]; then
    AID=$(json_field 'd[0]["id"][:12]' < "$WORK/partial.json")
    expect_exit 7 boris attachment get "$G" "$AID" -o "$WORK/out.mp4"
    [ ! -e "$WORK/out.mp4" ] || fail "a partial file was left behind"
    echo "ok: $missing chunks missing after an interrupted sync are reported, no file written"
  fi
fi

as boris sync >/dev/null
AID=$(as boris attachment list "$G" --json | json_field 'd[0]["id"][:12]')
[ "$(as boris attachment list "$G" --json | json_field 'd[0]["complete"]')" = True ] || fail "chunks still missing after a full sync"
start=$(date +%s.%N)
KOLOKOL_HOME="$WORK/boris" KOLOKOL_PASSPHRASE_FILE="$WORK/boris.pass" /usr/bin/time -v \
  "$KOLOKOL" attachment get "$G" "$AID" -o "$WORK/out.mp4" > /dev/null 2> "$WORK/get.time"
end=$(date +%s.%N)
echo "get: $MIB MiB in $(echo "$end - $start" | bc) s, peak RSS $(peak_kib "$WORK/get.time") KiB"
[ "$(peak_kib "$WORK/get.time")" -lt 200000 ] || fail "exporting used $(peak_kib "$WORK/get.time") KiB"
cmp "$WORK/video.mp4" "$WORK/out.mp4" || fail "the attachment is not byte-identical"
echo "ok: $MIB MiB through a relay between two processes, byte-identical"
