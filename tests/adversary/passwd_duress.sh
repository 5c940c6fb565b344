# A coercer tries each passphrase he is given through `kolokol passwd` (current: the one given,
# new: his own) rather than through an ordinary command. The duress passphrase must erase the
# store there too, and answer exactly as a wrong one: the same exit code and message, and the
# same change to the key file's metadata (rows 9, 53). A `serve` running meanwhile ends (row 54).
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"

printf 'real passphrase\nduress passphrase\n' > "$WORK/init.pass"
KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/init.pass" "$KOLOKOL" init --name Anna \
  --kdf fast --duress >/dev/null
echo "real passphrase" > "$WORK/anna.pass"
as anna group create "Prisoner support" >/dev/null
as anna post "Prisoner support" "Safe flat: Arbat 12" --no-send >/dev/null 2>&1

# A wrong current passphrase: refused, nothing erased.
printf 'wrong passphrase\ncoercer chosen passphrase 42\n' > "$WORK/wrong.pass"
before=$(sha256sum < "$WORK/anna/store.key")
rc_wrong=0; KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/wrong.pass" "$KOLOKOL" passwd \
  > "$WORK/wrong.out" 2> "$WORK/wrong.err" || rc_wrong=$?
[ "$rc_wrong" = 3 ] || fail "passwd with a wrong passphrase gave exit $rc_wrong: $(cat "$WORK/wrong.err")"
[ "$(sha256sum < "$WORK/anna/store.key")" = "$before" ] || fail "a wrong passphrase changed the key file"

# A serve running on the home while the coercer types.
port=$(pick_port)
( KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/anna.pass" exec "$KOLOKOL" serve \
    --listen "127.0.0.1:$port" > "$WORK/serve.out" 2> "$WORK/serve.err" ) &
SERVE=$!
CLEANUP_PIDS+=("$SERVE")
for _ in $(seq 100); do [ -s "$WORK/serve.out" ] && break; sleep 0.1; done
kill -0 "$SERVE" 2>/dev/null || fail "serve did not start: $(cat "$WORK/serve.err")"

# The duress passphrase as the current one.
printf 'duress passphrase\ncoercer chosen passphrase 42\n' > "$WORK/duress.pass"
rc=0; KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$WORK/duress.pass" "$KOLOKOL" passwd \
  > "$WORK/duress.out" 2> "$WORK/duress.err" || rc=$?
[ "$rc" = "$rc_wrong" ] || fail "passwd with the duress passphrase gave exit $rc, a wrong one $rc_wrong"
diff "$WORK/wrong.err" "$WORK/duress.err" >/dev/null \
  || fail "duress and wrong passphrases answer differently: '$(cat "$WORK/duress.err")' vs '$(cat "$WORK/wrong.err")'"
[ "$(sha256sum < "$WORK/anna/store.key")" != "$before" ] || fail "the duress passphrase given to passwd erased nothing"
echo "ok: passwd with the duress passphrase: exit $rc, as a wrong one, and the key file was rewritten"

# Nothing opens the store any more: not the real passphrase, not the coercer's.
for p in anna wrong; do
  rc2=0; as_pass="$WORK/$p.pass"
  KOLOKOL_HOME="$WORK/anna" KOLOKOL_PASSPHRASE_FILE="$as_pass" "$KOLOKOL" read "Prisoner support" \
    > "$WORK/read.$p" 2>&1 || rc2=$?
  [ "$rc2" != 0 ] || fail "the store still opens after the duress passphrase: $(tr '\n' ' ' < "$WORK/read.$p")"
  if grep -q "Arbat" "$WORK/read.$p"; then fail "the erased store still reads: $(cat "$WORK/read.$p")"; fi
done

# The running serve ended with exit 15 within a few seconds.
for _ in $(seq 50); do kill -0 "$SERVE" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SERVE" 2>/dev/null; then fail "serve still runs 5 s after the duress passphrase"; fi
rc3=0; wait "$SERVE" || rc3=$?
[ "$rc3" = 15 ] || fail "serve exited $rc3 after the erase, not 15"
echo "ok: the store opens for nobody, and the running serve ended (15)"
