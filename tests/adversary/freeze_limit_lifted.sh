# A filter (or a hostile network in the path) freezes a member's connections to a relay after
# the least it can — about 2 KiB — once, and is then lifted. The member remembers the freeze
# (`freeze:ADDRESS`, never raised) and from then on syncs with that relay in short connections
# under a 2 KiB limit. docs/design.md §9.14: a filter lifted "leaves syncs in short
# connections, which only cost round trips": the member's later syncs must still bring
# everything written after the freeze — 200 messages and a 200 KiB attachment (chunk
# envelopes of 48 KiB, fetched in parts of about 1 KiB) — and end with exit 0.
source "$(dirname "$0")/../integration/lib.bash"
PROXY="$(dirname "$0")/../support/freeze_proxy.py"
start_relay
proxy_port=$(pick_port)
relay_port=$(sed -E 's|^kolokol://[^:]+:([0-9]+).*|\1|' <<<"$ADDR")
PROXY_ADDR=${ADDR/:$relay_port/:$proxy_port}
[ "$PROXY_ADDR" != "$ADDR" ] || fail "could not make the proxied address from $ADDR"
python3 "$PROXY" "$proxy_port" "$relay_port" "$WORK/freeze" 2>/dev/null &
CLEANUP_PIDS+=($!)
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$proxy_port") 2>/dev/null && break; sleep 0.1; done

G="Legal support"
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$PROXY_ADDR" >/dev/null
token=$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
seq 1 50 | sed 's/^/before the freeze /' | as anna post "$G" --each-line --no-send 2>/dev/null
as anna sync > /dev/null 2>&1 || fail "anna's sync (no freeze) failed"

# The freeze, once: every connection carries 2,400 bytes towards boris and then stops.
echo 2400 > "$WORK/freeze"
rc=0
timeout 300 env KOLOKOL_HOME="$WORK/boris" KOLOKOL_PASSPHRASE_FILE="$WORK/boris.pass" \
  "$KOLOKOL" sync -v > "$WORK/frozen.log" 2>&1 || rc=$?
echo "boris's sync behind the freeze: exit $rc; $(grep -ci froze "$WORK/frozen.log") lines say it froze"
as boris doctor > "$WORK/doctor.log" 2>&1 || true
grep -i "froze" "$WORK/doctor.log" | head -2 || true
grep -qi "froze" "$WORK/doctor.log" || fail "the freeze was not remembered; the attack did not take: $(cat "$WORK/frozen.log" | tail -5) / $(cat "$WORK/doctor.log")"

n=$(as boris read "$G" --limit 1000 --json | grep -c '"text": "before the freeze ' || true)
echo "behind the freeze boris received $n of 50 messages"

# Anna writes more, and the filter is lifted. Two syncs must bring everything.
seq 1 200 | sed 's/^/message number /' | as anna post "$G" --each-line --no-send 2>/dev/null
as anna case open "$G" --person "Ivan" > "$WORK/open"
CASE=$(sed -n 's/^Case \([0-9a-f]*\) created\.$/\1/p' "$WORK/open")
head -c 204800 /dev/urandom > "$WORK/file.bin"
as anna case attach "$G" "$CASE" "$WORK/file.bin" --type application/octet-stream >/dev/null
as anna sync > /dev/null 2>&1 || fail "anna's sync (no freeze) failed"
: > "$WORK/freeze"
start=$(date +%s)
rc=0
for i in 1 2; do
  rc=0
  timeout 300 env KOLOKOL_HOME="$WORK/boris" KOLOKOL_PASSPHRASE_FILE="$WORK/boris.pass" \
    "$KOLOKOL" sync -v > "$WORK/after$i.log" 2>&1 || rc=$?
  echo "sync $i after the filter was lifted: exit $rc, $(( $(date +%s) - start )) s: $(tail -2 "$WORK/after$i.log" | tr '\n' ' ' | cut -c1-300)"
done
n=$(as boris read "$G" --limit 1000 --json | grep -c '"text": "message number ' || true)
[ "$n" -eq 200 ] || fail "after the filter was lifted boris has $n of 200 messages"
n=$(as boris read "$G" --limit 1000 --json | grep -c '"text": "before the freeze ' || true)
[ "$n" -eq 50 ] || fail "after the filter was lifted boris has $n of the 50 earlier messages"
att=$(as boris attachment list "$G" --json 2>/dev/null || true)
id=$(python3 -c 'import json,sys; a=json.load(sys.stdin); print(a[0]["id"] if a else "")' <<<"$att" 2>/dev/null || true)
[ -n "$id" ] || fail "boris sees no attachment: $att"
as boris attachment get "$G" "$id" -o "$WORK/got.bin" > "$WORK/get.log" 2>&1 || fail "the attachment did not arrive after the filter was lifted: $(cat "$WORK/get.log")"
cmp -s "$WORK/got.bin" "$WORK/file.bin" || fail "the attachment differs"
[ "$rc" -eq 0 ] || fail "the last sync after the filter was lifted exited $rc"
grep -q "short connection" "$WORK/after1.log" || fail "the syncs after the lift were not in short connections: the test did not test a remembered freeze"
echo "ok: after a 2 KiB freeze was lifted the member still syncs everything"
