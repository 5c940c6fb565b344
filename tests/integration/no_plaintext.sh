# After the demo's scenario, no message text, group name or display name appears in any file of
# any home, and no database file begins with "SQLite format 3".
source "$(dirname "$0")/lib.bash"
# Every temp file the project makes lands here, so it can be scanned too.
export TMPDIR="$WORK/tmp"
mkdir -p "$TMPDIR"
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
as anna group create "Legal support Moscow" >/dev/null
token=$(as anna group add "Legal support Moscow" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
as anna post "Legal support Moscow" "Detained at Mayakovskaya station"
as anna sync --to-file "$WORK/x.sync" >/dev/null
as boris sync --from-file "$WORK/x.sync" >/dev/null
as boris post "Legal support Moscow" "Lawyer Ivanova is on her way"
as boris sync --to-file "$WORK/y.sync" >/dev/null
as anna sync --from-file "$WORK/y.sync" >/dev/null
as anna read "Legal support Moscow" | grep -q "Lawyer Ivanova" || fail "the scenario did not work"
for secret in "Detained at Mayakovskaya" "Lawyer Ivanova" "Legal support Moscow" "Anna Petrova" "Boris Ivanov"; do
  for dir in "$WORK/anna" "$WORK/boris" "$WORK/x.sync" "$WORK/y.sync"; do
    if grep -rl --binary-files=text -F "$secret" "$dir"; then fail "\"$secret\" readable in $dir"; fi
  done
done
for db in "$WORK"/*/store.db; do
  if head -c 16 "$db" | grep -q "SQLite format 3"; then fail "$db is a plain SQLite file"; fi
done
# Homes are private.
for home in "$WORK/anna" "$WORK/boris"; do
  [ "$(stat -c %a "$home")" = "700" ] || fail "$home is not 0700"
  for f in "$home"/*; do [ "$(stat -c %a "$f")" = "600" ] || fail "$f is not 0600"; done
done

# The rest of the demo: a relay, a removal and rotation, a third member — then scan everything
# written: homes, the relay's data dir, sync files and temp files.
pass_file relay
port=$(pick_port)
( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
    --data "$WORK/relay" --kdf fast > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
RELAY_PID=$!
CLEANUP_PIDS+=("$RELAY_PID")
for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
ADDR=$(head -1 "$WORK/relay.out")
[[ "$ADDR" == kolokol://* ]] || fail "relay did not start: $(cat "$WORK/relay.err")"
new_member clara "Clara Smirnova"
as anna group relay add "Legal support Moscow" "$ADDR" >/dev/null
token=$(as anna group add "Legal support Moscow" "$(card_of clara)" 2>/dev/null)
as clara group join "$token" >/dev/null
as anna post "Legal support Moscow" "Court hearing moved to Tverskoy district"
as anna sync "$ADDR" >/dev/null
as boris sync --group "Legal support Moscow" "$ADDR" >/dev/null
as clara sync "$ADDR" >/dev/null
as anna group remove "Legal support Moscow" "Clara Smirnova" >/dev/null
as anna post "Legal support Moscow" "New safe flat on Arbat"
as anna sync "$ADDR" >/dev/null
as boris sync --group "Legal support Moscow" "$ADDR" >/dev/null
as boris read "Legal support Moscow" | grep -q "safe flat on Arbat" || fail "the relay scenario did not work"

# Process hygiene, checked on the running relay: no core dumps, not dumpable, no passphrase in
# its argv or environment (the environment names only the passphrase file).
grep -Eq '^Max core file size +0 +0' "/proc/$RELAY_PID/limits" || fail "the relay may dump core: $(grep core "/proc/$RELAY_PID/limits")"
relay_pass=$(cat "$WORK/relay.pass")
if tr '\0' '\n' < "/proc/$RELAY_PID/cmdline" | grep -qF "$relay_pass"; then fail "passphrase in the relay's argv"; fi
if tr '\0' '\n' < "/proc/$RELAY_PID/environ" | grep -qF "$relay_pass"; then fail "passphrase in the relay's environment"; fi
# A member's long-running process too (serve), while it holds the unlocked store.
( as_bg anna serve --listen "127.0.0.1:$((port + 1))" > "$WORK/serve.out" 2>&1 ) &
SERVE_PID=$!
CLEANUP_PIDS+=("$SERVE_PID")
for _ in $(seq 100); do [ -s "$WORK/serve.out" ] && break; sleep 0.1; done
kill -0 "$SERVE_PID" 2>/dev/null || fail "serve did not start: $(cat "$WORK/serve.out")"
grep -Eq '^Max core file size +0 +0' "/proc/$SERVE_PID/limits" || fail "serve may dump core"
anna_pass=$(cat "$WORK/anna.pass")
for f in cmdline environ; do
  if tr '\0' '\n' < "/proc/$SERVE_PID/$f" | grep -qF "$anna_pass"; then fail "passphrase in serve's $f"; fi
done
kill "$SERVE_PID" "$RELAY_PID"; wait "$SERVE_PID" "$RELAY_PID" 2>/dev/null || true

secrets=("Detained at Mayakovskaya" "Lawyer Ivanova" "Legal support Moscow" "Anna Petrova"
         "Boris Ivanov" "Clara Smirnova" "Court hearing moved" "safe flat on Arbat"
         "$anna_pass" "$relay_pass" "passphrase of boris" "passphrase of clara")
scanned=0
while IFS= read -r -d '' f; do
  case "$f" in *.pass|*/relay.out|*/relay.err|*/serve.out) continue ;; esac
  scanned=$((scanned + 1))
  for secret in "${secrets[@]}"; do
    if grep -q --binary-files=text -F "$secret" "$f"; then fail "\"$secret\" readable in $f"; fi
  done
done < <(find "$WORK" -type f -print0)
[ "$scanned" -ge 8 ] || fail "only $scanned files scanned"
# Nothing is left in the temp dir, and the relay's data dir is private.
leftover=$(find "$TMPDIR" -mindepth 1 | head -5)
[ -z "$leftover" ] || fail "temp files left behind: $leftover"
[ "$(stat -c %a "$WORK/relay")" = "700" ] || fail "the relay's data dir is not 0700"
while IFS= read -r -d '' f; do
  [ "$(stat -c %a "$f")" = "600" ] || fail "$f is not 0600"
done < <(find "$WORK/relay" "$WORK/anna" "$WORK/boris" "$WORK/clara" -type f -print0)
for f in "$WORK/x.sync" "$WORK/y.sync"; do
  [ "$(stat -c %a "$f")" = "600" ] || fail "sync file $f is not 0600"
done
echo "no plaintext on disk ($scanned files scanned); no core dumps; no passphrase in argv or environment"
