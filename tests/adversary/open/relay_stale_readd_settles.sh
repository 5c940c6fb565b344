# Attack (rows 1, 3; design §5.8 "A change ... that the add admitting this member follows is
# settled"): a removed admin's stale copy removes a member and adds him again, so that the add
# admitting him follows the stale relay change and makes it settled at once.
# Ivan, an admin, keeps a copy of his home; Anna removes him. His old home moves the group from R1
# to his own relay H, then removes Carl and adds him again (`group add`: a new token), and hands
# Carl the records in a sync file and the token ("you were removed by mistake, join again").
# Carl imports the file and joins the token. At Carl, admitting_add(Carl) is now Ivan's re-add,
# which follows the stale change: the change is settled, R1 is no longer dialled.
# The promise broken if Carl never hears of Ivan's removal, or Ivan reads Carl's post on H.
# Exits 1 when the promise breaks, 0 when it holds.
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
setup_group
new_member ivan "Ivan Admin"
new_member carl "Carl Member"
token=$(as anna group add "$G" "$(card_of ivan)" --admin 2>/dev/null)
as ivan group join "$token" >/dev/null
invite anna carl
for r in 1 2; do for w in anna ivan boris carl; do as $w sync >/dev/null 2>&1 || true; done; done
cp -a "$WORK/ivan" "$WORK/ivan_before"; cp "$WORK/ivan.pass" "$WORK/ivan_before.pass"
as anna group remove "$G" "Ivan Admin" >/dev/null || fail "Anna could not remove Ivan"
as anna sync >/dev/null 2>&1 || true
pass_file ivanrelay; port=$(pick_port)
( KOLOKOL_PASSPHRASE_FILE="$WORK/ivanrelay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
    --data "$WORK/ivanrelay" --kdf fast > "$WORK/ivanrelay.out" 2>"$WORK/ivanrelay.err" ) &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/ivanrelay.out" ] && break; sleep 0.1; done; sleep 0.3
H=$(head -1 "$WORK/ivanrelay.out"); [[ "$H" == kolokol://* ]] || fail "no H"
# RELAY_CHANGE=0 (no relay change, only the removal and the re-add): holds (control).
# JOIN=0 (Carl does not join the token): breaks too, by another path — Ivan's stale removal of
# Carl, applied first, leaves Carl no admitting add, so Anna's change that listed R1 (settled at
# Carl only because his add followed it, received minutes ago) is unsettled as well: no change is
# settled, held_relays holds nothing (`!base`), and Carl dials only H; he stays removed in his view.
if [ "${RELAY_CHANGE:-1}" = 1 ]; then
  as ivan_before group relay add "$G" "$H" >/dev/null || fail "Ivan's old home could not add H"
  as ivan_before group relay remove "$G" "$RELAY" >/dev/null || fail "Ivan's old home could not remove R1"
fi
as ivan_before group remove "$G" "Carl Member" >/dev/null 2>"$WORK/rmc.err" || fail "Ivan's old home could not remove Carl: $(cat "$WORK/rmc.err")"
retoken=$(as ivan_before group add "$G" "$(card_of carl)" 2>"$WORK/add.err") || fail "Ivan's old home could not add Carl again: $(cat "$WORK/add.err")"
as ivan_before sync >/dev/null 2>&1 || true
as ivan_before sync --to-file "$WORK/stale.sync" >/dev/null || fail "no sync file"
as carl sync --from-file "$WORK/stale.sync" >/dev/null || fail "Carl could not import the file"
[ "${JOIN:-1}" = 1 ] && echo "Carl joins Ivan's token: $(as carl group join "$retoken" 2>&1 | tr '\n' ' ')"
echo "Carl's relays: $(as carl group relay list "$G" 2>&1 | tr '\n' ' ') (R1 is $RELAY, H is $H)"
echo "Carl's members after the file: $(as carl group members "$G" 2>&1 | tr '\n' ' ')"
for i in 1 2 3; do echo "Carl sync $i: $(as carl sync 2>&1 | tr '\n' ' ' | cut -c1-200)"; done
MSG="Carl: the printing is moved to Sadovaya 5, Thursday 19:00"
as carl post "$G" "$MSG" >/dev/null 2>&1 || echo "Carl cannot post"
as carl sync >/dev/null 2>&1 || true
echo "Carl's members: $(as carl group members "$G" 2>&1 | tr '\n' ' ')"
as carl group members "$G" 2>/dev/null | grep -q "Ivan Admin" &&
  problem "rows 1/3: Carl, re-added by Ivan's stale copy, never hears of Ivan's removal"
adv home-secrets "$WORK/ivan_before" "$WORK/ivan_before.pass" "$WORK/ivan.secrets" >/dev/null || fail "home-secrets failed"
for epoch in $(adv home-epochs "$WORK/ivan_before" "$WORK/ivan_before.pass" "$GID" | awk '$3=="secret"{print $1}'); do
  secret=$(awk -v l="epoch-secret:${epoch:0:8}" '$1 == l {print $2}' "$WORK/ivan.secrets" | head -1)
  [ -n "$secret" ] || continue
  out=$(adv mailbox-read "$H" "$secret" "$GID" "$epoch" 2>/dev/null) || true
  grep -qF "$MSG" <<<"$out" && problem "row 1: Ivan, removed, read Carl's post on his own relay (epoch ${epoch:0:16})"
done
finish
