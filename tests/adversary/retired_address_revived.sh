# A retired relay address must not come back (SECURITY.md row 68: "a retired address is never
# dialled again"). Anna, an admin, retires the relay's address 127.0.0.1 (say it is blocked, or watched)
# and keeps its other one. Boris, another admin, who had not yet heard of that, adds a third
# address: `add-address` writes the whole list as he knows it, retired address included. The
# settings records are concurrent, the later in (Lamport, id) order wins whole (docs/design.md
# §5.8), and Boris has written more. Were the later list kept whole, both would converge on a
# list that holds the retired address again, and Anna's next sync would dial it first: two
# honest admins, one offline for a day, would undo a retirement. A hostile admin could always re-add it; the promise is about
# what a retirement guarantees against concurrent changes.
# Each settings record names the addresses it retires, and the fold drops them from whichever
# list wins unless that list's record has seen the retirement.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
start_relay
key=$RELAY_KEY
port=$RELAY_PORT
A2="kolokol://127.0.0.2:$port/$key"
A3="kolokol://127.0.0.3:$port/$key"
G="Legal support"
new_member anna "Anna"; new_member boris "Boris"
as anna group create "$G" >/dev/null
as boris group join "$(as anna group add "$G" "$(card_of boris)" --admin 2>/dev/null)" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
as anna group relay add-address "$G" "$A2" >/dev/null
as anna sync --to-file "$WORK/a1.sync" >/dev/null 2>&1
as boris sync --from-file "$WORK/a1.sync" >/dev/null
[ "$(as boris group relay list "$G" | grep -c kolokol://)" -eq 2 ] \
  || fail "Boris does not see both addresses: $(as boris group relay list "$G")"

# Offline, at the same time: Anna retires 127.0.0.1; Boris writes a little, then adds 127.0.0.3.
as anna group relay retire-address "$G" "$RELAY" >/dev/null
! grep -qF "$RELAY" <<<"$(as anna group relay list "$G")" || fail "the retire did not take"
for i in 1 2 3; do as boris post "$G" "note $i" --no-send >/dev/null 2>&1; done
as boris group relay add-address "$G" "$A3" >/dev/null
as anna sync --to-file "$WORK/a2.sync" --group "$G" >/dev/null 2>&1 || true
as boris sync --to-file "$WORK/b2.sync" --group "$G" >/dev/null 2>&1 || true
as anna sync --from-file "$WORK/b2.sync" >/dev/null
as boris sync --from-file "$WORK/a2.sync" >/dev/null
for w in anna boris; do
  list=$(as $w group relay list "$G")
  grep -qF "$A3" <<<"$list" || fail "$w lacks Boris's added address: $list"
  ! grep -qF "$RELAY" <<<"$list" \
    || problem "row 68: after a concurrent add-address $w lists the retired address again: $list"
done
# And Anna dials it.
out=$(as anna sync -v 2>&1 || true)
! grep -qF "127.0.0.1:$port" <<<"$out" \
  || problem "row 68: Anna's sync dials the address she retired: $(grep -F "127.0.0.1:$port" <<<"$out" | head -2)"
finish
