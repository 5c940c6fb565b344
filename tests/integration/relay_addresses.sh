# Several addresses of one relay: a group's relay listed first at a dead address (a closed port)
# and second at the one it listens on. The sync goes through the second and exits 0; the next
# sync tries the second first (`sync -v` says which address it tries); retiring the dead one
# removes it for the other members once they sync. Only admins change the addresses, and an
# address with another key is refused.
source "$(dirname "$0")/lib.bash"
start_relay
DEAD="kolokol://127.0.0.1:$(pick_port)/$KEY"

new_member anna Anna
new_member boris Boris
as anna group create G >/dev/null
as anna group relay add G "$ADDR" >/dev/null
token=$(as anna group add G "$(card_of boris)" 2>/dev/null)
as anna sync >/dev/null
as boris group join "$token" >/dev/null
as boris sync >/dev/null

# The dead address first: added, then the live one retired and added again after it.
as anna group relay add-address G "$DEAD" >/dev/null
as anna group relay retire-address G "$ADDR" >/dev/null
as anna group relay add-address G "$ADDR" >/dev/null
[ "$(as anna group relay list G | tr '\n' ' ')" = "$DEAD $ADDR " ] ||
  fail "the list is not the dead address then the live one: $(as anna group relay list G)"

# Refusals: another key, an address listed, the relay's only address, a member who is not admin.
OTHER_KEY=$(printf 'b%.0s' $(seq 51))a
expect_exit 7 anna group relay add-address G "kolokol://127.0.0.1:7/$OTHER_KEY"
expect_exit 11 anna group relay add-address G "$ADDR"
expect_exit 11 anna group relay add G "$DEAD"
expect_exit 7 anna group relay retire-address G "kolokol://127.0.0.1:9/$KEY"
expect_exit 6 anna group relay add-address G "kolokol://127.0.0.1:9/${KEY%?}"
as anna post G "through the second address" --no-send 2>/dev/null

# First sync: the dead address is tried, then the live one; the sync succeeds.
rc=0
as anna sync -v > "$WORK/s1.out" 2> "$WORK/s1.err" || rc=$?
[ "$rc" -eq 0 ] || fail "sync with a dead first address exited $rc: $(cat "$WORK/s1.out" "$WORK/s1.err")"
grep -qF "Synced with 1 of 1" "$WORK/s1.out" || fail "stdout: $(cat "$WORK/s1.out")"
tried=$(grep -F "trying kolokol://" "$WORK/s1.err" | sed 's/.*trying //')
[ "$(head -1 <<<"$tried")" = "$DEAD" ] || fail "the first sync did not start with the dead address: $(cat "$WORK/s1.err")"
grep -qF "trying $ADDR" "$WORK/s1.err" || fail "the live address was not tried: $(cat "$WORK/s1.err")"
grep -qF "$DEAD failed" "$WORK/s1.err" || fail "-v does not say the dead address failed: $(cat "$WORK/s1.err")"

# Second sync: the address that worked is tried first, and the dead one not at all.
as anna sync -v > "$WORK/s2.out" 2> "$WORK/s2.err" || fail "second sync failed: $(cat "$WORK/s2.err")"
first=$(grep -F "trying kolokol://" "$WORK/s2.err" | head -1 | sed 's/.*trying //')
[ "$first" = "$ADDR" ] || fail "the second sync started with $first, not the address that worked: $(cat "$WORK/s2.err")"
if grep -qF "$DEAD" "$WORK/s2.err"; then fail "the second sync tried the dead address: $(cat "$WORK/s2.err")"; fi
# Without -v nothing of this is said.
as anna sync > "$WORK/s3.out" 2> "$WORK/s3.err"
if grep -qF "trying" "$WORK/s3.err"; then fail "sync without -v says what it tries: $(cat "$WORK/s3.err")"; fi

# Boris learns both addresses, and gets the message.
as boris sync >/dev/null
grep -qF "through the second address" <<<"$(as boris read G)" || fail "Boris did not get the message"
[ "$(as boris group relay list G | tr '\n' ' ')" = "$DEAD $ADDR " ] ||
  fail "Boris's list: $(as boris group relay list G)"
expect_exit 8 boris group relay retire-address G "$DEAD"
# His next sync tries the dead one first, then the live one, and succeeds.
as boris sync -v > "$WORK/b1.out" 2> "$WORK/b1.err" || fail "Boris's sync failed: $(cat "$WORK/b1.err")"
grep -qF "trying $ADDR" "$WORK/b1.err" || fail "Boris did not reach the live address: $(cat "$WORK/b1.err")"

# Retired: gone from Boris's list after his next sync, and never tried again.
as anna group relay retire-address G "$DEAD" >/dev/null
as anna sync >/dev/null
as boris sync >/dev/null
[ "$(as boris group relay list G)" = "$ADDR" ] || fail "the retired address is still listed for Boris: $(as boris group relay list G)"
as boris sync -v > "$WORK/b2.out" 2> "$WORK/b2.err" || fail "Boris's sync failed: $(cat "$WORK/b2.err")"
if grep -qF "$DEAD" "$WORK/b2.err"; then fail "Boris tried the retired address: $(cat "$WORK/b2.err")"; fi
# The relay's last address cannot be retired, only the relay removed.
expect_exit 2 anna group relay retire-address G "$ADDR"
echo "a dead first address is passed over, the working one remembered, a retired one dropped for all"
