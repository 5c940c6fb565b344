# A seized admin under a quorum of 2 picks its own causal position (docs/design.md §5.10,
# SECURITY.md row 72). `needed = min(K, admins)` is taken at the proposal's position, and the
# position is whatever `control_heads` the author names. Anna, Boris and Carol are admins, Mark a
# member, the quorum 2. Carol's home is copied with its passphrase; with the passphrase the
# attacker holds the database key, deletes the one settings record that set the quorum from the
# copy's store (no forging tool needed: any record the copy does not hold is simply not named
# as a head), and then does what one admin can do at K = 1: adds Xena as an admin, removes Anna,
# Boris and Mark. Each of these records stands at a position where K = 1, so it needs one admin
# and takes effect where it stands; Anna's quorum record is concurrent with her own removal and
# not covered by its cutoff, so strong remove drops it — the quorum is 1 again everywhere.
# Row 72 promises that none of it changes anything at any other member.
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
for w in boris carol; do
  as "$w" group join "$(as anna group add "$G" "$(card_of "$w")" --admin 2>/dev/null)" >/dev/null
done
invite anna mark
as anna group quorum "$G" 2 >/dev/null
for w in anna boris carol mark; do as "$w" sync >/dev/null; done
GID=$(group_id anna "$G")
expected=$(printf '%s\n' "Anna Petrova admin" "Boris Ivanov admin" "Carol Smirnova admin" "Mark Member")
[ "$(members_of mark)" = "$expected" ] || fail "the group is not as set up: $(members_of mark)"
[ "$(as carol group quorum "$G")" = 2 ] || fail "setup: Carol does not hold the quorum of 2"

# The seized copy of Carol's device, its passphrase forced.
cp -a "$WORK/carol" "$WORK/seized"; cp "$WORK/carol.pass" "$WORK/seized.pass"
key=$(adv home-secrets "$WORK/seized" "$WORK/seized.pass" - | awk '$1 == "database-key" {print $2}')
[ -n "$key" ] || fail "no database key from the seized home"
db="$WORK/seized/store.db"
[ -f "$db" ] || fail "no store.db in the seized home"
# The settings record that set the quorum is the last settings record (kind 4) of the group.
sqlcipher "$db" >/dev/null <<SQL || fail "sqlcipher could not edit the seized store"
PRAGMA key = "x'$key'";
PRAGMA cipher_page_size = 4096;
CREATE TEMP TABLE gone AS SELECT r.n, coalesce((SELECT id FROM record_ids x WHERE x.n = r.n), (SELECT id FROM envelopes e WHERE e.seq = r.n)) AS id FROM records r WHERE kind = 4 ORDER BY lamport DESC LIMIT 1;
DELETE FROM heads WHERE id IN (SELECT id FROM gone);
DELETE FROM records WHERE n IN (SELECT n FROM gone);
SQL
[ "$(as seized group quorum "$G")" = 1 ] || fail "the seized copy still holds the quorum record"

as seized group add "$G" "$(card_of xena)" --admin > "$WORK/xena.token" 2>/dev/null ||
  fail "the seized copy could not add Xena"
as xena group join "$(cat "$WORK/xena.token")" >/dev/null
for w in "Anna Petrova" "Boris Ivanov" "Mark Member"; do
  as seized group remove "$G" "$w" >/dev/null 2>&1 || echo "the seized copy could not remove $w"
done
as seized sync >/dev/null 2>&1 || true
for w in xena anna boris mark xena; do as "$w" sync >/dev/null 2>&1 || true; done

for w in anna boris mark; do
  got=$(members_of "$w" 2>/dev/null)
  [ "$got" = "$expected" ] || problem "the membership changed at $w: $(tr '\n' ';' <<<"$got")"
  q=$(as "$w" group quorum "$G" 2>/dev/null)
  [ "$q" = 2 ] || problem "the quorum at $w is '$q', not 2"
done
adm=$(admission_of xena "$GID")
echo "Xena: ${adm:-admitted} (at her own copy, which the seized copy fed)"
# What the seized copy and Xena do between themselves (the seized copy holds its keys and can
# hand them over) is theirs; the promise is about every other member: none of them shows a post
# of Xena, and Xena reads nothing an honest member writes after the seizure.
as xena post "$GID" "Xena writes" >/dev/null 2>&1 || true
as xena sync >/dev/null 2>&1 || true
for w in anna boris mark; do as "$w" sync >/dev/null 2>&1 || true; done
for w in anna boris mark; do
  as "$w" read "$G" --limit 1000 2>/dev/null | grep -q "Xena writes" &&
    problem "$w shows a post of Xena (added by one seized admin)"
done
as anna post "$G" "Anna writes after the seizure" >/dev/null 2>&1 || problem "Anna can no longer post"
as anna sync >/dev/null 2>&1 || true
as xena sync >/dev/null 2>&1 || true
as xena read "$GID" --limit 1000 2>/dev/null | grep -q "Anna writes after the seizure" &&
  problem "Xena reads what Anna wrote after the seizure"
as mark sync >/dev/null 2>&1 || true
as mark read "$G" --limit 1000 2>/dev/null | grep -q "Anna writes after the seizure" ||
  problem "Mark does not read what Anna wrote after the seizure"
finish
