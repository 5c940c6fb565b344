# A hostile relay holds 100 MiB of noise in every mailbox a member opens and hands it out by
# FetchAll, as any relay would its envelopes. A late joiner cannot tell noise in an old epoch's
# mailbox (whose content key she never had) from the group's real old content: her store may
# grow by the unverified quota and no more, the sync says what it refused (exit 14), and she
# keeps syncing with the group's real relay. A member holding every key rejects the noise.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"

MIB=100
QUOTA_MIB=64
# What a store may grow by: the quota, and the list of rejected records (at most 10,000 notes).
LIMIT=$(( (QUOTA_MIB + 2) << 20 ))
G="Strike committee"
size_of() { du -sb "$WORK/$1" | cut -f1; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
start_relay() {  # NAME COMMAND… — runs until the test ends; sets ADDR to its address
  local name=$1; shift
  ( exec "$@" > "$WORK/$name.out" 2>"$WORK/$name.err" ) &
  CLEANUP_PIDS+=("$!")
  for _ in $(seq 300); do [ -s "$WORK/$name.out" ] && break; sleep 0.1; done
  ADDR=$(head -1 "$WORK/$name.out")
  [[ "$ADDR" == kolokol://* ]] || fail "$name did not start: $(cat "$WORK/$name.err")"
}

pass_file relay
export KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass"
start_relay relay "$KOLOKOL" relay --listen "127.0.0.1:$(pick_port)" --data "$WORK/relay" --kdf fast
unset KOLOKOL_PASSPHRASE_FILE
REAL=$ADDR
start_relay junk "$KOLOKOL_ADVERSARY" junk-relay "127.0.0.1:$(pick_port)" "$MIB"
JUNK=$ADDR

new_member anna "Anna Petrova"
new_member clara "Clara Smirnova"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$REAL" >/dev/null
as anna post "$G" "written before Clara came"
token=$(as anna group add "$G" "$(card_of clara)" 2>/dev/null)  # no history
as clara group join "$token" >/dev/null
as anna sync >/dev/null
as clara sync >/dev/null
as clara read "$G" >/dev/null

for who in clara anna; do
  for round in 1 2; do
    before=$(size_of "$who")
    rc=0; out=$(as "$who" sync "$JUNK" --group "$G" 2>&1) || rc=$?
    after=$(size_of "$who")
    grew=$((after - before))
    echo "junk relay → $who (round $round): home $(mib "$before") → $(mib "$after") (+$(mib "$grew")); exit $rc"
    [ "$grew" -le $LIMIT ] || fail "the junk relay grew $who's store by $(mib "$grew")"
    if [ "$who" = clara ]; then
      # Her old epoch's mailbox takes noise up to the quota, then refuses it, every time.
      [ "$rc" -eq 14 ] && grep -q "unverified quota (64 MiB) is full" <<<"$out" \
        || fail "clara: exit $rc, expected 14 and the reason: $out"
      [ "$round" -eq 1 ] || [ "$grew" -le $((2 << 20)) ] || fail "clara's store grew again in round 2"
    else
      # Anna holds every content key: noise does not open, and nothing of it is kept.
      [ "$rc" -eq 0 ] || fail "anna: exit $rc: $out"
      [ "$grew" -le $((2 << 20)) ] || fail "anna kept $(mib "$grew") of noise"
    fi
  done
done
total=$(size_of clara)
[ "$total" -le $LIMIT ] || fail "clara's store is $(mib "$total")"

# The group's real relay still works for both.
as anna post "$G" "after the junk relay"
as anna sync >/dev/null || fail "anna's sync with the real relay failed"
as clara sync >/dev/null || fail "clara's sync with the real relay failed"
grep -q "after the junk relay" <<<"$(as clara read "$G")" || fail "clara did not get the later message"
echo "junk_relay: ${MIB} MiB of noise per mailbox grew the late joiner's store to $(mib "$total") (quota $QUOTA_MIB MiB)"
