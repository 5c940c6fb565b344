# Attack (rows 1, 3, 68; design §5.8 "A restore keeps when the changes were received"): a removed
# admin's stale relay list survives a plain backup as the only relays the restored store knows.
# Ivan, an admin, keeps a copy of his home; Anna removes him. Ivan's old home removes every relay
# (variant "none") or moves the group to his own relay (variant "his") and hands Carl the change
# in a sync file. Carl imports it and, before his next sync, makes a plain backup (no --history):
# the backup's relays are the listed ones (Node::relays), not those still dialled while the change
# is unsettled (held_relays); HISTORY=1 makes a --history backup instead. Carl restores it on a new phone and syncs three times.
# The promise broken if the restored Carl never hears of Ivan's removal: he reaches no relay of
# the group at all ("none") or still lists Ivan ("his") — while the same store without the
# restore still dials R1 (held_relays) and hears of it at its next sync.
# Observed: none and his-silent break (the restored store knows no relay of the group but H, or
# none, and cannot even name the group); his holds (H serves the old list, held_relays is
# recomputed); HISTORY=1 holds.
# Exits 1 when the promise breaks, 0 when it holds.
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
VARIANT=${VARIANT:-none}  # none | his | his-silent (Ivan pushes nothing to his relay: it serves the restored store nothing)
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
if [ "$VARIANT" != none ]; then
  pass_file ivanrelay; port=$(pick_port)
  ( KOLOKOL_PASSPHRASE_FILE="$WORK/ivanrelay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
      --data "$WORK/ivanrelay" --kdf fast > "$WORK/ivanrelay.out" 2>"$WORK/ivanrelay.err" ) &
  CLEANUP_PIDS+=("$!")
  for _ in $(seq 100); do [ -s "$WORK/ivanrelay.out" ] && break; sleep 0.1; done
  IVAN_RELAY=$(head -1 "$WORK/ivanrelay.out"); [[ "$IVAN_RELAY" == kolokol://* ]] || fail "no Ivan relay"
  as ivan_before group relay add "$G" "$IVAN_RELAY" >/dev/null || fail "Ivan's old home could not add his relay"
fi
as ivan_before group relay remove "$G" "$RELAY" >/dev/null 2>"$WORK/rm.err" || fail "Ivan's old home could not remove R1: $(cat "$WORK/rm.err")"
if [ "$VARIANT" = his ]; then as ivan_before sync >/dev/null 2>&1 || true; fi
as ivan_before sync --to-file "$WORK/stale.sync" >/dev/null || fail "no sync file"
as carl sync --from-file "$WORK/stale.sync" >/dev/null || fail "Carl could not import the file"
echo "Carl's listed relays after the file: $(as carl group relay list "$G" 2>&1 | tr '\n' ' ')"
printf 'passphrase of carl\nbackup secret\n' > "$WORK/bk.pass"
KOLOKOL_HOME="$WORK/carl" "$KOLOKOL" --passphrase-file "$WORK/bk.pass" backup -o "$WORK/carl.bak" ${HISTORY:+--history} --force >/dev/null || fail "backup failed"
rm -rf "$WORK/carl2"; cp "$WORK/carl.pass" "$WORK/carl2.pass"
KOLOKOL_HOME="$WORK/carl2" "$KOLOKOL" --passphrase-file "$WORK/bk.pass" restore "$WORK/carl.bak" --kdf fast >/dev/null || fail "restore failed"
for i in 1 2 3; do echo "restored Carl sync $i: $(as carl2 sync 2>&1 | tr '\n' ' ' | cut -c1-200)"; done
echo "restored Carl's relays: $(as carl2 group relay list "$G" 2>&1 | tr '\n' ' ')"
echo "restored Carl's members: $(as carl2 group members "$G" 2>&1 | tr '\n' ' ')"
# The same store without the restore still hears of it (control: held_relays there).
echo "original Carl sync: $(as carl sync 2>&1 | tr '\n' ' ' | cut -c1-200)"
echo "original Carl's members: $(as carl group members "$G" 2>&1 | tr '\n' ' ')"
MSG="Carl: the lawyer for Pavel is at Lesnaya 12 tomorrow 10:00"
if [ "$VARIANT" != none ]; then
  echo "restored Carl posts by group id: $(as carl2 post "${GID:0:12}" "$MSG" 2>&1 | tr '\n' ' ')"
  as carl2 sync >/dev/null 2>&1 || true
  adv home-secrets "$WORK/ivan" "$WORK/ivan.pass" "$WORK/ivan.secrets" >/dev/null || fail "home-secrets failed"
  for epoch in $(adv home-epochs "$WORK/ivan" "$WORK/ivan.pass" "$GID" | awk '$3=="secret"{print $1}'); do
    secret=$(awk -v l="epoch-secret:${epoch:0:8}" '$1 == l {print $2}' "$WORK/ivan.secrets" | head -1)
    [ -n "$secret" ] || continue
    out=$(adv mailbox-read "$IVAN_RELAY" "$secret" "$GID" "$epoch" 2>/dev/null) || true
    grep -qF "$MSG" <<<"$out" && problem "row 1 ($VARIANT): Ivan, removed, read the restored Carl's post on his own relay (epoch ${epoch:0:16})"
  done
fi
m=$(as carl2 group members "$G" 2>&1) || true
if ! grep -q "Anna Petrova" <<<"$m"; then
  problem "rows 1/3/68 ($VARIANT): Carl restored from a backup made while Ivan's stale relay change was unsettled reaches no relay of the group and knows nothing of it: $m"
elif grep -q "Ivan Admin" <<<"$m"; then
  problem "rows 1/3/68 ($VARIANT): Carl restored from a backup made while Ivan's stale relay change was unsettled never hears of Ivan's removal"
fi
finish
