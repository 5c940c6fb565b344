# Attack (rows 1, 3, 68; design §5.8 "Relay changes wait for their author's standing"): held_relays
# holds the addresses of the last SETTLED list, not what the unsettled stale change dropped. When
# an honest move is itself less than a day old, a removed admin's stale change drops the relay the
# group really uses and the member dials only the relay the group left.
# Anna moves the group from R1 to R2 (R1 blocked: she stops it). Carl receives the move at once
# (unsettled at Carl for a day: written by someone else, after Carl's add). Ivan, an admin, copies
# his home after the move; Anna then removes him (an hour later, say) and syncs with R2. Ivan's old
# home moves the group from R2 to his own relay H and hands Carl the change in a sync file. At
# Carl, the last settled change lists R1 only: R1 is "held", R2 — which the stale change dropped —
# is neither listed nor held. Carl syncs three times and posts.
# The promise broken if Carl never hears of Ivan's removal, or Ivan reads Carl's post on H.
# CONTROL=1: Carl's copy of the move is made a day old (sqlcipher, no process running) before the
# stale file: then R2 is held and it holds.
# Exits 1 when the promise breaks, 0 when it holds.
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
command -v sqlcipher >/dev/null || fail "needs the sqlcipher shell"
key_of() { adv home-secrets "$WORK/$1" "$WORK/$1.pass" - | awk '$1 == "database-key" {print $2}'; }
q() {
  sqlcipher "$WORK/$1/store.db" <<SQL 2>/dev/null | grep -v '^ok$' || true
PRAGMA key = "x'$(key_of "$1")'";
PRAGMA cipher_page_size = 4096;
$2
SQL
}
start_extra_relay() {
  pass_file "$1"; local port; port=$(pick_port)
  ( KOLOKOL_PASSPHRASE_FILE="$WORK/$1.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
      --data "$WORK/$1" --kdf fast > "$WORK/$1.out" 2>"$WORK/$1.err" ) &
  CLEANUP_PIDS+=("$!")
  for _ in $(seq 100); do [ -s "$WORK/$1.out" ] && break; sleep 0.1; done
  sleep 0.3
}
setup_group
new_member ivan "Ivan Admin"
new_member carl "Carl Member"
token=$(as anna group add "$G" "$(card_of ivan)" --admin 2>/dev/null)
as ivan group join "$token" >/dev/null
invite anna carl
for r in 1 2; do for w in anna ivan boris carl; do as $w sync >/dev/null 2>&1 || true; done; done
start_extra_relay r2; R2=$(head -1 "$WORK/r2.out"); [[ "$R2" == kolokol://* ]] || fail "no R2"
as anna group relay add "$G" "$R2" >/dev/null || fail "Anna could not add R2"
as anna sync >/dev/null 2>&1 || true
as anna group relay remove "$G" "$RELAY" >/dev/null || fail "Anna could not remove R1"
as anna sync >/dev/null 2>&1 || true
for r in 1 2; do for w in ivan boris carl; do as $w sync >/dev/null 2>&1 || true; done; done
echo "Carl's relays after the move: $(as carl group relay list "$G" 2>&1 | tr '\n' ' ') (R1 $RELAY, R2 $R2)"
cp -a "$WORK/ivan" "$WORK/ivan_before"; cp "$WORK/ivan.pass" "$WORK/ivan_before.pass"
# R1 is blocked: it no longer answers.
kill -9 "${CLEANUP_PIDS[0]}" 2>/dev/null || true; wait "${CLEANUP_PIDS[0]}" 2>/dev/null || true
as anna group remove "$G" "Ivan Admin" >/dev/null || fail "Anna could not remove Ivan"
as anna sync >/dev/null 2>&1 || true
start_extra_relay ivanrelay; H=$(head -1 "$WORK/ivanrelay.out"); [[ "$H" == kolokol://* ]] || fail "no H"
as ivan_before group relay add "$G" "$H" >/dev/null || fail "Ivan's old home could not add H"
as ivan_before group relay remove "$G" "$R2" >/dev/null || fail "Ivan's old home could not remove R2"
as ivan_before sync >/dev/null 2>&1 || true
as ivan_before sync --to-file "$WORK/stale.sync" >/dev/null || fail "no sync file"
[ "${CONTROL:-0}" = 1 ] && q carl "UPDATE records SET received_ms = received_ms - 90000000;"
as carl sync --from-file "$WORK/stale.sync" >/dev/null || fail "Carl could not import the file"
echo "Carl's relays after the file: $(as carl group relay list "$G" 2>&1 | tr '\n' ' ') (H $H)"
for i in 1 2 3; do echo "Carl sync $i: $(as carl sync 2>&1 | tr '\n' ' ' | cut -c1-200)"; done
MSG="Carl: the printing is moved to Sadovaya 5, Thursday 19:00"
as carl post "$G" "$MSG" >/dev/null 2>&1 || echo "Carl cannot post"
as carl sync >/dev/null 2>&1 || true
echo "Carl's members: $(as carl group members "$G" 2>&1 | tr '\n' ' ')"
as carl group members "$G" | grep -q "Ivan Admin" &&
  problem "rows 1/3/68: Carl never hears of Ivan's removal: the relay the stale change dropped (R2, the group's own since a recent move) is not dialled"
adv home-secrets "$WORK/ivan" "$WORK/ivan.pass" "$WORK/ivan.secrets" >/dev/null || fail "home-secrets failed"
for epoch in $(adv home-epochs "$WORK/ivan" "$WORK/ivan.pass" "$GID" | awk '$3=="secret"{print $1}'); do
  secret=$(awk -v l="epoch-secret:${epoch:0:8}" '$1 == l {print $2}' "$WORK/ivan.secrets" | head -1)
  [ -n "$secret" ] || continue
  out=$(adv mailbox-read "$H" "$secret" "$GID" "$epoch" 2>/dev/null) || true
  grep -qF "$MSG" <<<"$out" && problem "row 1: Ivan, removed, read Carl's post on his own relay (epoch ${epoch:0:16})"
done
finish
