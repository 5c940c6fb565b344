# A removed member still holds the old epochs' mailbox keys, so a member's `kolokol serve`
# admits them to those mailboxes. Pushing 100 MiB of noise into each must grow the member's
# store by no more than the unverified quota; the rest is declined (the pusher is told), and the
# member's store works as before.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"

MIB=100
QUOTA_MIB=64
# What a store may grow by: the quota, and the list of rejected records (at most 10,000 notes).
LIMIT=$(( (QUOTA_MIB + 2) << 20 ))
G="Prisoner support"
size_of() { du -sb "$WORK/$1" | cut -f1; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member clara "Clara Smirnova"
as anna group create "$G" >/dev/null
as anna post "$G" "written before Clara came"
token=$(as anna group add "$G" "$(card_of boris)" --with-history 2>/dev/null)
as boris group join "$token" >/dev/null
token=$(as anna group add "$G" "$(card_of clara)" 2>/dev/null)  # no history
as clara group join "$token" >/dev/null
as anna sync --to-file "$WORK/all.sync" >/dev/null
as boris sync --from-file "$WORK/all.sync" >/dev/null
as anna group remove "$G" "Boris Ivanov" >/dev/null
as anna post "$G" "after the removal"
as anna sync --to-file "$WORK/all.sync" >/dev/null
as clara sync --from-file "$WORK/all.sync" >/dev/null

before=$(size_of clara)
( as_bg clara serve --listen "127.0.0.1:$(pick_port)" > "$WORK/serve.out" 2>"$WORK/serve.err" ) &
SERVE=$!
CLEANUP_PIDS+=("$SERVE")
for _ in $(seq 300); do [ -s "$WORK/serve.out" ] && break; sleep 0.1; done
ADDR=$(head -1 "$WORK/serve.out")
[[ "$ADDR" == kolokol://* ]] || fail "serve did not start: $(cat "$WORK/serve.err")"
out=$(adv junk-push "$ADDR" "$WORK/boris" "$WORK/boris.pass" "$MIB") || fail "the push failed: $out"
echo "boris → clara's serve: $out"
kill -TERM "$SERVE"; wait "$SERVE" 2>/dev/null || true
after=$(size_of clara)
grew=$((after - before))
echo "clara: home $(mib "$before") → $(mib "$after") (+$(mib "$grew")) after $MIB MiB of noise per old mailbox"
[ "$grew" -le "$LIMIT" ] || fail "the push grew clara's store by $(mib "$grew")"
declined=$(sed -n 's/.*, \([0-9]*\) declined by the peer.*/\1/p' <<<"$out")
[ "${declined:-0}" -gt 0 ] || fail "nothing was declined: the push was too small to reach the quota ($out)"
grep -q "after the removal" <<<"$(as clara read "$G")" || fail "clara's store lost messages"
as anna post "$G" "still here"
as anna sync --to-file "$WORK/later.sync" >/dev/null
as clara sync --from-file "$WORK/later.sync" >/dev/null || fail "clara's next sync failed"
grep -q "still here" <<<"$(as clara read "$G")" || fail "clara did not get the next message"
echo "junk_push: 2 × $MIB MiB pushed into a member's serve grew her store by $(mib "$grew")"
