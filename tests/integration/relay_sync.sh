# Two members who are never online at the same time talk through a real relay on loopback:
# 1,000 messages, both directions, nothing lost or duplicated. After a removal and rotation the
# removed member cannot read what follows. The relay's data dir holds nothing readable, and a
# kill -9 of the relay loses nothing it acknowledged.
source "$(dirname "$0")/lib.bash"
pass_file relay
port=$(pick_port)
start_relay() {
  ( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
      --data "$WORK/relay" --kdf fast > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
  RELAY_PID=$!
  CLEANUP_PIDS+=("$RELAY_PID")
  for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
  ADDR=$(head -1 "$WORK/relay.out")
  [[ "$ADDR" == kolokol://* ]] || fail "relay did not start: $(cat "$WORK/relay.err")"
}
start_relay
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member clara "Clara Smirnova"
as anna group create "Support group Omega" >/dev/null
as anna group relay add "Support group Omega" "$ADDR" >/dev/null
token=$(as anna group add "Support group Omega" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
token=$(as anna group add "Support group Omega" "$(card_of clara)" 2>/dev/null)
as clara group join "$token" >/dev/null
G="Support group Omega"

# Anna writes 500 and syncs; only then Boris syncs, answers 500 and syncs; then Anna again.
seq 1 500 | sed 's/^/from anna /' | as anna post "$G" --each-line 2>/dev/null
as anna sync >/dev/null
as boris sync >/dev/null
as clara sync >/dev/null
seq 1 500 | sed 's/^/from boris /' | as boris post "$G" --each-line 2>/dev/null
as boris sync >/dev/null
as anna sync --json > "$WORK/anna_sync.json"
grep -q '"received":500' "$WORK/anna_sync.json" || fail "anna did not receive 500: $(cat "$WORK/anna_sync.json")"
for who in anna boris; do
  as "$who" read "$G" --limit 100000 --json | grep '"text"' | sed 's/.*"text": "\(.*\)".*/\1/' > "$WORK/$who.msgs"
  [ "$(wc -l < "$WORK/$who.msgs")" -eq 1000 ] || fail "$who sees $(wc -l < "$WORK/$who.msgs") messages, not 1000"
  [ "$(sort -u "$WORK/$who.msgs" | wc -l)" -eq 1000 ] || fail "$who sees duplicates"
done
cmp -s "$WORK/anna.msgs" "$WORK/boris.msgs" || fail "anna and boris see different histories"
echo "ok: 1000 messages through the relay, same order on both sides"

# Removal: Clara is removed; what Anna writes next never opens for her.
as clara sync >/dev/null
as anna group remove "$G" "Clara Smirnova" >/dev/null
as anna post "$G" "secret plan after the removal"
as anna sync >/dev/null
as boris sync >/dev/null
as clara sync >/dev/null || true
as boris read "$G" | grep -q "secret plan after the removal" || fail "boris cannot read the new epoch"
if as clara read "$G" --limit 100000 | grep -q "secret plan"; then fail "the removed member read a new message"; fi
echo "ok: the removed member cannot read what came after"

# Kill -9 the relay in the middle of a transfer, restart it, and lose nothing acknowledged.
# Kept here (--no-send) so that the sync below carries them.
seq 1 3000 | sed 's/^/burst /' | as anna post "$G" --each-line --no-send 2>/dev/null
( as_bg anna sync >/dev/null 2>&1 ) & sync_pid=$!
sleep 0.$((RANDOM % 5 + 2))
kill -9 "$RELAY_PID" 2>/dev/null || true
wait "$sync_pid" 2>/dev/null || true
start_relay
as anna sync >/dev/null
as boris sync >/dev/null
n=$(as boris read "$G" --limit 100000 --json | grep -c '"text": "burst ')
[ "$n" -eq 3000 ] || fail "after a relay crash boris has $n of 3000"
echo "ok: relay killed mid-transfer, restarted, nothing lost"

# The relay's data dir holds no message text, group name, display name, group id or identity key.
kill "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true
for secret in "from anna" "secret plan" "burst " "Support group Omega" "Anna Petrova" "Boris Ivanov"; do
  if grep -rl --binary-files=text -F "$secret" "$WORK/relay"; then fail "\"$secret\" readable in the relay's data"; fi
done
gid=$(as anna group list --json | grep '"id"' | head -1 | sed 's/.*"id": "\([0-9a-f]*\)".*/\1/')
keys=$(for m in anna boris clara; do as "$m" whoami --json | grep '"key"' | sed 's/.*"key": "\([0-9a-f]*\)".*/\1/'; done)
python3 - "$WORK/relay" "$gid" $keys <<'PY' || fail "the relay holds a group id or identity key"
import os, sys
root, needles = sys.argv[1], [bytes.fromhex(h) for h in sys.argv[2:]]
for d, _, files in os.walk(root):
    for f in files:
        data = open(os.path.join(d, f), 'rb').read()
        for n in needles:
            for form in (n, n.hex().encode()):
                if form in data:
                    print("found", form[:8], "in", f); sys.exit(1)
PY
echo "ok: the relay's data dir holds nothing readable"
