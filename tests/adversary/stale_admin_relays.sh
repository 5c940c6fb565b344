# A removed admin keeps reading a member by moving the group to his own relay with a setting
# written in a copy of his home from before his removal. Ivan, an admin, keeps such a copy;
# Anna removes him and rotates (the removal and rotation are on the group's relay). Ivan's old
# home, where he is still an admin, replaces the group's relay list with a relay he runs, and
# hands the setting to Boris in a sync file before Boris has synced the removal. Boris applies
# it: from then on `kolokol sync` asks only Ivan's relay, so he never hears of the removal, and
# he keeps writing in the epoch Ivan holds — into Ivan's relay. The setting is concurrent with
# Ivan's removal and void (§5.4); a removed member must not read what is written after the
# rotation (rows 1, 3; the adversaries table: "infiltrator … cannot read what is written after
# their removal; write after it"). Row 17's limit covers members who have not *yet* heard of a
# removal, not a removed member who arranges that they never will. Expect: Boris's post reaches
# Anna, and Ivan's relay holds nothing Ivan can open.
# What holds it (docs/design.md §5.8, "Relay changes wait for their author's standing"): the
# change is someone else's and not settled (held less than a day) and brings in a relay the
# settled list lacks, so Boris still dials the group's relay — first — hears of the removal
# there, which voids the change, and does not dial Ivan's relay in that round.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
setup_group
new_member ivan "Ivan Admin"
token=$(as anna group add "$G" "$(card_of ivan)" --admin 2>/dev/null)
as ivan group join "$token" >/dev/null
as anna sync >/dev/null; as ivan sync >/dev/null; as boris sync >/dev/null

# Ivan's own relay, a plain `kolokol relay`.
pass_file ivanrelay
port=$(pick_port)
( KOLOKOL_PASSPHRASE_FILE="$WORK/ivanrelay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
    --data "$WORK/ivanrelay" --kdf fast > "$WORK/ivanrelay.out" 2>"$WORK/ivanrelay.err" ) &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/ivanrelay.out" ] && break; sleep 0.1; done
IVAN_RELAY=$(head -1 "$WORK/ivanrelay.out")
[[ "$IVAN_RELAY" == kolokol://* ]] || fail "Ivan's relay did not start"

cp -a "$WORK/ivan" "$WORK/ivan_before"; cp "$WORK/ivan.pass" "$WORK/ivan_before.pass"
as anna group remove "$G" "Ivan Admin" >/dev/null
as anna sync >/dev/null
as ivan_before group relay add "$G" "$IVAN_RELAY" >/dev/null || fail "Ivan's old home could not add a relay"
as ivan_before group relay remove "$G" "$RELAY" >/dev/null || fail "Ivan's old home could not remove the relay"
as ivan_before sync --to-file "$WORK/stale.sync" >/dev/null || fail "no sync file"
as boris sync --from-file "$WORK/stale.sync" >/dev/null || fail "Boris could not import the file"
echo "Boris's relays now: $(as boris group relay list "$G" 2>&1 | tr '\n' ' ')"
for day in 1 2 3; do as boris sync >/dev/null 2>&1 || true; done
MSG="Safe flat for Pavel's family: Lesnaya 12, kv. 4"
as boris post "$G" "$MSG" || problem "Boris cannot post"
as boris sync >/dev/null 2>&1 || true
as anna sync >/dev/null 2>&1 || true
as boris group members "$G" | grep -q "Ivan Admin" &&
  problem "Boris still lists Ivan as a member after three syncs: he never heard of the removal"
reads anna "$MSG" || problem "Boris's post never reached Anna"
adv home-secrets "$WORK/ivan" "$WORK/ivan.pass" "$WORK/ivan.secrets" >/dev/null ||
  fail "home-secrets failed"
leaked=""
for epoch in $(adv home-epochs "$WORK/ivan" "$WORK/ivan.pass" "$GID" | awk '$3=="secret"{print $1}'); do
  secret=$(awk -v l="epoch-secret:${epoch:0:8}" '$1 == l {print $2}' "$WORK/ivan.secrets" | head -1)
  [ -n "$secret" ] || continue
  out=$(adv mailbox-read "$IVAN_RELAY" "$secret" "$GID" "$epoch" 2>/dev/null) || true
  grep -qF "$MSG" <<<"$out" && leaked="$epoch"
done
[ -n "$leaked" ] && problem "Ivan, removed, read Boris's post on his own relay (epoch ${leaked:0:16})"
finish
