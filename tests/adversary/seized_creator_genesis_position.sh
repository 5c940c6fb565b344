# A seized creator's device takes over a group by writing at the genesis position (docs/design.md
# §5.10, SECURITY.md row 72). Anna creates the group; she cannot set a quorum of 2 while she is
# its only admin (a quorum above the admins where it is written is void at every member, and
# the CLI refuses it). She makes Boris an admin and sets the quorum to 2; Carol joins as an
# admin and Mark as a member, each add approved by Boris. The attacker holds a copy of Anna's
# home and its passphrase, hence the database key: in the copy it deletes every control record
# after the group's first two settings records (name, relay), so the copy stands at the genesis,
# where Anna is the only admin and the quorum 1, then runs `group add Xena --admin`. The quorum
# record is concurrent with that add and is held whole there, not capped by the one admin at
# its position: the add waits for a second admin at every member, Xena is never admitted, reads
# nothing written after and cannot write. (Before, `needed = min(K, admins at the position)`
# made the add take effect at once everywhere.)
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
source "$(dirname "$0")/lib_quorum.bash"
command -v sqlcipher >/dev/null || fail "needs the sqlcipher shell (Debian: sqlcipher)"
start_relay
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member carol "Carol Smirnova"
new_member mark "Mark Member"
new_member xena "Xena Outsider"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
if as anna group quorum "$G" 2 >/dev/null 2>"$WORK/quorum.err"; then
  fail "a quorum of 2 was taken from the only admin"
fi
grep -q "needs at least 2 admins" "$WORK/quorum.err" || fail "the refusal does not say why: $(cat "$WORK/quorum.err")"
as boris group join "$(as anna group add "$G" "$(card_of boris)" --admin 2>/dev/null)" >/dev/null
as anna group quorum "$G" 2 >/dev/null
as anna sync >/dev/null; as boris sync >/dev/null
approve_all() {  # Boris approves what waits, everyone syncs
  as anna sync >/dev/null; as boris sync >/dev/null
  for id in $(as boris group pending "$G" --json | python3 -c 'import json,sys; print(" ".join(p["id"][:8] for p in json.load(sys.stdin)))'); do
    as boris group approve "$G" "$id" >/dev/null
  done
  as boris sync >/dev/null
  for w in anna carol mark; do as "$w" sync >/dev/null 2>&1 || true; done
}
as carol group join "$(as anna group add "$G" "$(card_of carol)" --admin 2>/dev/null)" >/dev/null
approve_all
as mark group join "$(as anna group add "$G" "$(card_of mark)" 2>/dev/null)" >/dev/null
approve_all
expected=$(printf '%s\n' "Anna Petrova admin" "Boris Ivanov admin" "Carol Smirnova admin" "Mark Member")
for w in boris carol mark; do
  [ "$(members_of $w)" = "$expected" ] || fail "setup: $w sees $(members_of $w | tr '\n' ';')"
  [ "$(as $w group quorum "$G")" = 2 ] || fail "setup: the quorum at $w is not 2"
done

# A copy of Anna's device, its passphrase forced.
cp -a "$WORK/anna" "$WORK/seized"; cp "$WORK/anna.pass" "$WORK/seized.pass"
key=$(adv home-secrets "$WORK/seized" "$WORK/seized.pass" - | awk '$1 == "database-key" {print $2}')
[ -n "$key" ] || fail "no database key from the seized home"
sqlcipher "$WORK/seized/store.db" >/dev/null <<SQL || fail "sqlcipher could not edit the seized store"
PRAGMA key = "x'$key'";
PRAGMA cipher_page_size = 4096;
CREATE TEMP TABLE keep AS SELECT r.n, coalesce((SELECT id FROM record_ids x WHERE x.n = r.n), (SELECT id FROM envelopes e WHERE e.seq = r.n)) AS id FROM records r WHERE kind = 4 ORDER BY lamport LIMIT 2;
CREATE TEMP TABLE gone AS SELECT r.n, coalesce((SELECT id FROM record_ids x WHERE x.n = r.n), (SELECT id FROM envelopes e WHERE e.seq = r.n)) AS id FROM records r WHERE kind IN (2, 3, 4, 10) AND r.n NOT IN (SELECT n FROM keep);
DELETE FROM heads WHERE id IN (SELECT id FROM gone);
DELETE FROM records WHERE n IN (SELECT n FROM gone);
SQL
[ "$(as seized group quorum "$G")" = 1 ] || fail "the seized copy still holds the quorum record"
as seized group add "$G" "$(card_of xena)" --admin > "$WORK/xena.token" 2>/dev/null ||
  fail "the seized copy could not add Xena"
as xena group join "$(cat "$WORK/xena.token")" >/dev/null
as seized sync >/dev/null 2>&1 || true
for w in xena boris carol mark xena; do as "$w" sync >/dev/null 2>&1 || true; done
for w in boris carol mark; do
  got=$(members_of "$w" 2>/dev/null)
  [ "$got" = "$expected" ] || problem "one seized device changed the membership at $w: $(tr '\n' ';' <<<"$got")"
done

# The add waits: every admin lists it, needing two.
for w in boris carol; do
  waiting=$(as "$w" group pending "$G" --json | python3 -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin) if p.get("needed") == 2))')
  [ "${waiting:-0}" -ge 1 ] || problem "$w does not list the seized copy's add as waiting for two admins"
done

# Were Xena an admin, she would read and write like one.
for w in boris carol mark; do as "$w" sync >/dev/null 2>&1 || true; done
as boris post "$G" "Boris writes after the seizure" >/dev/null 2>&1 || echo "Boris cannot post"
as boris sync >/dev/null 2>&1 || true
as xena sync >/dev/null 2>&1 || true
as xena read "$G" --limit 1000 2>/dev/null | grep -c "Boris writes after the seizure" >/dev/null &&
  problem "Xena, added by one seized device, reads what Boris wrote after it"
as xena post "$G" "Xena writes" >/dev/null 2>&1 && as xena sync >/dev/null 2>&1
as carol sync >/dev/null 2>&1 || true
as carol read "$G" --limit 1000 2>/dev/null | grep -c "Xena writes" >/dev/null &&
  problem "Xena's post reached Carol"
finish
