# Review of row 30 against §5.4's kept refused rows. Row 30: "After a group's retention period,
# no expired record's text, object, chunk or id is left in the database". A record refused as
# `removed_author` is kept as a row (id, author, seq, control heads; table dropped_held) so it can
# stand again (§5.4); beyond the unverified quota the row is kept without its envelope. Retention
# (core/src/node_retention.cpp) deletes content records and the unapplied *envelopes* older than
# the cutoff, and a kept row only through its envelope — so a row kept without one is never
# reached. Ivan, removed, posts from his old home; Anna's quota is full (a junk sync file from the
# same old home), so his posts are kept as rows alone. Anna sets a retention of one minute and
# waits past it. Exits 1 (BROKEN) when an expired refused record's id is still in Anna's database
# (plaintext read through sqlcipher with the key, as retention_wipe.sh does with an export).
# Control: QUOTA=64MiB JUNK_MIB=1 (rows kept with their envelopes) holds — retention deletes those.
# The setting waits a day before it deletes (§13.8): the test build's clock (kolokol-testhooks,
# KOLOKOL_FAKE_NOW_MS) is moved a day and WAIT s (75 by default) past it.
# Knobs: QUOTA (1MiB), JUNK_MIB (3), JUNK_KIND (waiting), RETENTION (1m), WAIT (75).
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
command -v sqlcipher >/dev/null || fail "needs the sqlcipher shell"
broken() { echo "BROKEN: $*"; exit 1; }
setup_ivan_with_copy
as anna group remove "$G" "Ivan Member" >/dev/null
as anna sync >/dev/null 2>&1 || true
key=$(adv home-secrets "$WORK/anna" "$WORK/anna.pass" - | awk '$1 == "database-key" {print $2}')
[ -n "$key" ] || fail "no database key"
q() { sqlcipher "$WORK/anna/store.db" <<SQL 2>/dev/null | grep -v '^ok$' || true
PRAGMA key = "x'$key'";
PRAGMA cipher_page_size = 4096;
$1
SQL
}
as anna settings set unverified-quota "${QUOTA:-1MiB}" >/dev/null || fail "could not set the quota"
adv junk-sync-file "$WORK/ivan_before" "$WORK/ivan_before.pass" "$WORK/junk.sync" ${JUNK_MIB:-3} ${JUNK_KIND:-waiting} >/dev/null
rc=0; as anna sync --from-file "$WORK/junk.sync" >/dev/null 2>&1 || rc=$?
as anna settings | tr "\n" " "; echo
echo "anna imports 3 MiB of junk under a ${QUOTA:-1MiB} quota: exit $rc"
seq 1 3 | sed 's/^/Ivan, removed, from his old home /' | as ivan_before post "$G" --each-line --no-send >/dev/null 2>&1 || fail "the copy could not post"
as ivan_before sync >/dev/null 2>&1 || true
as anna sync >/dev/null 2>&1 || true
rows=$(q "SELECT hex(id) FROM dropped_held;")
n=$(grep -c . <<<"$rows" || true)
withenv=$(q "SELECT COUNT(*) FROM dropped_held d JOIN envelopes e ON e.id = d.id;" | tail -1)
echo "anna keeps $n refused rows ($withenv with their envelope): $(tr '\n' ' ' <<<"$rows" | cut -c1-140)"
[ "$n" -ge 1 ] || fail "setup: no refused row kept at anna: $(as anna rejected 2>&1 | head -3)"
as anna group retention "$G" "${RETENTION:-1m}" > "$WORK/ret.out" 2>&1 || fail "could not set the retention: $(cat "$WORK/ret.out")"
as anna group retention "$G"
# A shorter period deletes only once its setting has been held a day, the member's own too
# (docs/design.md §13.8): the rest runs on the test build, its clock a day and WAIT s ahead.
KOLOKOL=${KOLOKOL_TESTHOOKS:?set KOLOKOL_TESTHOOKS to the kolokol-testhooks binary}
export KOLOKOL_FAKE_NOW_MS=$(( ($(date +%s) + 86400 + ${WAIT:-75}) * 1000 ))
as anna post "$G" "after the period" >/dev/null 2>&1 || true
as anna sync >/dev/null 2>&1 || true
as anna read "$G" >/dev/null 2>&1 || true
left=0
for id in $rows; do
  where=$(q "SELECT 'dropped_held' FROM dropped_held WHERE hex(id) = '$id' UNION ALL SELECT 'rejected' FROM rejected WHERE hex(id) = '$id' UNION ALL SELECT 'envelopes' FROM envelopes WHERE hex(id) = '$id';" | tr '\n' ' ')
  echo "after the period: ${id:0:16}… in: ${where:-nothing}"
  [ -n "$where" ] && left=$((left + 1))
done
old=$(as anna read "$G" --json --limit 1000 | grep -c '"text"' || true)
echo "anna shows $old messages after the period"
[ "$left" -eq 0 ] || broken "row 30: after the group's retention period $left expired refused record id(s) of a removed member are still in Anna's database (dropped_held kept without envelope)"
echo "held: no expired refused record's id left"
