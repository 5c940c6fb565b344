# Attack (rows 1, 3, 68; design §5.8 "Relay changes wait for their author's standing"): an
# honest admin's own relay change, written on top of a removed admin's unsettled stale change,
# settles the stale list at once.
# held_relays takes as its base "the last settled change in the fold's order", and a change the
# member wrote himself is settled. Ivan, an admin, keeps a copy of his home; Anna removes him. His
# old home moves the group from R1 to his own relay H and hands Carl, also an admin, the change in
# a sync file. Carl, seeing "the group moved", adds a second relay R3 for safety before his next
# sync (`group relay add`; or only gives H a second address, OWN_CHANGE=address; or removes the
# unknown relay H, OWN_CHANGE=remove): his own change lists H and R3 (or H twice, or nothing;
# it follows Ivan's), is settled, becomes the base — and R1, which the stale change dropped, is no longer dialled although that change is
# as unsettled as before. Carl syncs three times and posts.
# The promise broken if Carl never hears of Ivan's removal, or Ivan reads Carl's post on his relay.
# Exits 1 when the promise breaks, 0 when it holds.
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
setup_group
new_member ivan "Ivan Admin"
new_member carl "Carl Admin"
for w in ivan carl; do
  token=$(as anna group add "$G" "$(card_of $w)" --admin 2>/dev/null)
  as $w group join "$token" >/dev/null
done
for r in 1 2; do for w in anna ivan boris carl; do as $w sync >/dev/null 2>&1 || true; done; done
cp -a "$WORK/ivan" "$WORK/ivan_before"; cp "$WORK/ivan.pass" "$WORK/ivan_before.pass"
as anna group remove "$G" "Ivan Admin" >/dev/null || fail "Anna could not remove Ivan"
as anna sync >/dev/null 2>&1 || true
start_extra_relay() {  # NAME → prints its address
  pass_file "$1"; local port; port=$(pick_port)
  ( KOLOKOL_PASSPHRASE_FILE="$WORK/$1.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
      --data "$WORK/$1" --kdf fast > "$WORK/$1.out" 2>"$WORK/$1.err" ) &
  CLEANUP_PIDS+=("$!")
  for _ in $(seq 100); do [ -s "$WORK/$1.out" ] && break; sleep 0.1; done
  sleep 0.3
}
start_extra_relay ivanrelay; H=$(head -1 "$WORK/ivanrelay.out"); [[ "$H" == kolokol://* ]] || fail "no H"
start_extra_relay r3; R3=$(head -1 "$WORK/r3.out"); [[ "$R3" == kolokol://* ]] || fail "no R3"
as ivan_before group relay add "$G" "$H" >/dev/null || fail "Ivan's old home could not add H"
as ivan_before group relay remove "$G" "$RELAY" >/dev/null || fail "Ivan's old home could not remove R1"
as ivan_before sync >/dev/null 2>&1 || true
as ivan_before sync --to-file "$WORK/stale.sync" >/dev/null || fail "no sync file"
as carl sync --from-file "$WORK/stale.sync" >/dev/null || fail "Carl could not import the file"
echo "Carl's relays after the file: $(as carl group relay list "$G" 2>&1 | tr '\n' ' ')"
# OWN_CHANGE: add (default: Carl adds R3), address (Carl only gives H a second address of its
# key: no relay brought in), none (control: no change of Carl's; holds).
case "${OWN_CHANGE:-add}" in
  add) as carl group relay add "$G" "$R3" >/dev/null || fail "Carl could not add R3" ;;
  address) H2="kolokol://localhost:${H#kolokol://127.0.0.1:}"
    as carl group relay add-address "$G" "$H2" >/dev/null || fail "Carl could not add an address of H: $H2" ;;
  remove) as carl group relay remove "$G" "$H" >/dev/null 2>"$WORK/crm.err" || fail "Carl could not remove H: $(cat "$WORK/crm.err")" ;;
esac
echo "Carl's relays after his own change: $(as carl group relay list "$G" 2>&1 | tr '\n' ' ')"
for i in 1 2 3; do echo "Carl sync $i: $(as carl sync 2>&1 | tr '\n' ' ' | cut -c1-160)"; done
MSG="Carl: the printing is moved to Sadovaya 5, Thursday 19:00"
as carl post "$G" "$MSG" >/dev/null || problem "Carl cannot post"
as carl sync >/dev/null 2>&1 || true
echo "Carl's members: $(as carl group members "$G" 2>&1 | tr '\n' ' ')"
as carl group members "$G" | grep -q "Ivan Admin" &&
  problem "rows 1/3: Carl, an admin who changed the relays himself after Ivan's stale change, never hears of Ivan's removal"
adv home-secrets "$WORK/ivan" "$WORK/ivan.pass" "$WORK/ivan.secrets" >/dev/null || fail "home-secrets failed"
leaked=""
for epoch in $(adv home-epochs "$WORK/ivan" "$WORK/ivan.pass" "$GID" | awk '$3=="secret"{print $1}'); do
  secret=$(awk -v l="epoch-secret:${epoch:0:8}" '$1 == l {print $2}' "$WORK/ivan.secrets" | head -1)
  [ -n "$secret" ] || continue
  out=$(adv mailbox-read "$H" "$secret" "$GID" "$epoch" 2>/dev/null) || true
  grep -qF "$MSG" <<<"$out" && leaked="$epoch"
done
[ -n "$leaked" ] && problem "row 1: Ivan, removed, read Carl's post written after the removal on his own relay (epoch ${leaked:0:16})"
finish
