# A removed admin must not isolate a member on the relay he runs, also when his stale change
# brings in no new relay key (rows 1, 3; design §5.8 "Relay changes wait for their author's
# standing").
# The group uses two relays: the group's relay R1 and a second one Ivan, an admin, runs and added
# himself, long settled (Carl was added after it, so at Carl it is settled). Ivan keeps a copy of
# his home. Anna drops Ivan's relay and removes Ivan (Ivan's relay is down meanwhile — it is his).
# Ivan's old home, still an admin there, removes R1 from the list, leaving only his own relay, and
# hands that to Carl in a sync file before Carl synced.
# Broke before: the change brought in no relay the settled list lacked, so `held_relays` kept
# nothing: Carl dialled only Ivan's relay from then on, never heard of the removal, and wrote in
# the epoch Ivan holds — to Ivan's relay. Holds now: what a change by someone else drops is dialled
# until the change is settled whether or not it brings in a relay, so Carl syncs with R1 too,
# hears of the removal, and the change is void.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
setup_group
new_member ivan "Ivan Admin"
new_member carl "Carl Member"
token=$(as anna group add "$G" "$(card_of ivan)" --admin 2>/dev/null)
as ivan group join "$token" >/dev/null
as anna sync >/dev/null; as ivan sync >/dev/null; as boris sync >/dev/null
pass_file ivanrelay
port=$(pick_port)
start_ivan_relay() {
  ( KOLOKOL_PASSPHRASE_FILE="$WORK/ivanrelay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
      --data "$WORK/ivanrelay" --kdf fast > "$WORK/ivanrelay.out" 2>"$WORK/ivanrelay.err" ) &
  IVAN_PID=$!; CLEANUP_PIDS+=("$IVAN_PID")
  for _ in $(seq 100); do [ -s "$WORK/ivanrelay.out" ] && break; sleep 0.1; done
  sleep 0.3
}
start_ivan_relay
IVAN_RELAY=$(head -1 "$WORK/ivanrelay.out")
[[ "$IVAN_RELAY" == kolokol://* ]] || fail "Ivan's relay did not start"
as ivan group relay add "$G" "$IVAN_RELAY" >/dev/null || fail "Ivan could not add his relay"
as ivan sync >/dev/null; as anna sync >/dev/null
invite anna carl
for r in 1 2; do for w in anna ivan boris carl; do as $w sync >/dev/null 2>&1 || true; done; done
echo "Carl's relays: $(as carl group relay list "$G" 2>&1 | tr '\n' ' ')"
cp -a "$WORK/ivan" "$WORK/ivan_before"; cp "$WORK/ivan.pass" "$WORK/ivan_before.pass"
# Ivan's relay is down (his machine); Anna drops it and removes Ivan.
kill -9 "$IVAN_PID"; wait "$IVAN_PID" 2>/dev/null || true
as anna group relay remove "$G" "$IVAN_RELAY" >/dev/null 2>&1 || fail "Anna could not drop Ivan's relay"
as anna group remove "$G" "Ivan Admin" >/dev/null || fail "Anna could not remove Ivan"
as anna sync >/dev/null 2>&1 || true
as ivan_before group relay remove "$G" "$RELAY" >/dev/null || fail "Ivan's old home could not remove R1"
as ivan_before sync --to-file "$WORK/stale.sync" >/dev/null || fail "no sync file"
start_ivan_relay
as carl sync --from-file "$WORK/stale.sync" >/dev/null || fail "Carl could not import the file"
echo "Carl's relays now: $(as carl group relay list "$G" 2>&1 | tr '\n' ' ')"
for day in 1 2 3; do as carl sync >/dev/null 2>&1 || true; done
MSG="Carl: safe flat for Pavel's family: Lesnaya 12, kv. 4"
as carl post "$G" "$MSG" >/dev/null || problem "Carl cannot post"
as carl sync >/dev/null 2>&1 || true
as anna sync >/dev/null 2>&1 || true
as carl group members "$G" | grep -q "Ivan Admin" &&
  problem "row 3/17: Carl still lists Ivan as a member after four syncs: he never heard of the removal"
reads anna "$MSG" || problem "row 6: Carl's post never reached Anna"
adv home-secrets "$WORK/ivan" "$WORK/ivan.pass" "$WORK/ivan.secrets" >/dev/null || fail "home-secrets failed"
leaked=""
for epoch in $(adv home-epochs "$WORK/ivan" "$WORK/ivan.pass" "$GID" | awk '$3=="secret"{print $1}'); do
  secret=$(awk -v l="epoch-secret:${epoch:0:8}" '$1 == l {print $2}' "$WORK/ivan.secrets" | head -1)
  [ -n "$secret" ] || continue
  out=$(adv mailbox-read "$IVAN_RELAY" "$secret" "$GID" "$epoch" 2>/dev/null) || true
  grep -qF "$MSG" <<<"$out" && leaked="$epoch"
done
[ -n "$leaked" ] && problem "row 1: Ivan, removed, read Carl's post written after the removal on his own relay (epoch ${leaked:0:16})"
finish
