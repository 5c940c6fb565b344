# Attack (rows 1, 3, 68; design §5.8): held_relays leaves out every address that ANY settled
# change retired ("retired"), also one a later settled change listed again. R1 moved from its
# address A to a second address B (Anna: add-address B, retire-address A) and back (add-address
# A again, retire-address B): the settled list is R1 at A, and A was once retired. Ivan, an
# admin, keeps a copy of his home; Anna removes him; his old home removes R1 (every relay) and
# hands Carl the change in a sync file. Carl syncs three times.
# The promise broken if Carl never hears of Ivan's removal: the address the stale change dropped
# is not dialled because an older settled change had retired it.
# Exits 1 when the promise breaks, 0 when it holds.
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
setup_group
A="$RELAY"; B="kolokol://localhost:${RELAY#kolokol://127.0.0.1:}"
# CONTROL=1 skips the move and the move back (then it holds).
if [ "${CONTROL:-0}" != 1 ]; then
as anna group relay add-address "$G" "$B" >/dev/null || fail "could not add B ($B)"
as anna group relay retire-address "$G" "$A" >/dev/null || fail "could not retire A"
as anna sync >/dev/null 2>&1 || true
as anna group relay add-address "$G" "$A" >/dev/null 2>"$WORK/readd.err" || fail "could not list A again: $(cat "$WORK/readd.err")"
as anna group relay retire-address "$G" "$B" >/dev/null || fail "could not retire B"
as anna sync >/dev/null 2>&1 || true
fi
echo "Anna's relays: $(as anna group relay list "$G" 2>&1 | tr '\n' ' ')"
new_member ivan "Ivan Admin"
new_member carl "Carl Member"
token=$(as anna group add "$G" "$(card_of ivan)" --admin 2>/dev/null)
as ivan group join "$token" >/dev/null
invite anna carl
for r in 1 2; do for w in anna ivan boris carl; do as $w sync >/dev/null 2>&1 || true; done; done
echo "Carl's relays: $(as carl group relay list "$G" 2>&1 | tr '\n' ' ')"
cp -a "$WORK/ivan" "$WORK/ivan_before"; cp "$WORK/ivan.pass" "$WORK/ivan_before.pass"
as anna group remove "$G" "Ivan Admin" >/dev/null || fail "Anna could not remove Ivan"
as anna sync >/dev/null 2>&1 || true
as ivan_before group relay remove "$G" "$A" >/dev/null 2>"$WORK/rm.err" || fail "Ivan's old home could not remove R1: $(cat "$WORK/rm.err")"
as ivan_before sync --to-file "$WORK/stale.sync" >/dev/null || fail "no sync file"
as carl sync --from-file "$WORK/stale.sync" >/dev/null || fail "Carl could not import the file"
echo "Carl's relays after the file: $(as carl group relay list "$G" 2>&1 | tr '\n' ' ')"
for i in 1 2 3; do echo "Carl sync $i: $(as carl sync 2>&1 | tr '\n' ' ' | cut -c1-200)"; done
echo "Carl's members: $(as carl group members "$G" 2>&1 | tr '\n' ' ')"
as carl group members "$G" | grep -q "Ivan Admin" &&
  problem "rows 1/3/68: Carl never hears of Ivan's removal: R1's address, once retired and listed again, is not held after Ivan's stale removal of R1"
finish
