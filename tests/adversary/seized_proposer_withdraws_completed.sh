# Expected to hold (§5.10 Withdrawal): a seized proposer's copy cannot void a removal and a burn
# notice others completed by withdrawing them at a stale position.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
source "$(dirname "$0")/lib_quorum.bash"
start_relay
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member sasha "Sasha Admin"
new_member mark "Mark Member"
new_member eve "Eve Burned"
quorum_scene "boris sasha" "mark eve"
as anna sync >/dev/null 2>&1
as anna group remove "$G" "Mark Member" >/dev/null 2>&1 || fail "remove"
as anna group compromised "$G" "Eve Burned" >/dev/null 2>&1 || fail "compromised"
as anna sync >/dev/null 2>&1; as boris sync >/dev/null 2>&1
for id in $(pending_json boris | python3 -c 'import json,sys; print(" ".join(p["id"][:8] for p in json.load(sys.stdin)))'); do
  as boris group approve "$G" "$id" >/dev/null 2>&1 || fail "approve $id"
done
for w in boris anna sasha boris; do as "$w" sync >/dev/null 2>&1 || true; done
expected=$(printf '%s\n' "Anna Petrova admin" "Boris Ivanov admin" "Sasha Admin admin")
[ "$(members_of sasha)" = "$expected" ] || fail "setup: $(members_of sasha | tr '\n' ';')"
# Anna's device seized; the copy forgets everything after her two proposals.
cp -a "$WORK/anna" "$WORK/seized"; cp "$WORK/anna.pass" "$WORK/seized.pass"
key=$(adv home-secrets "$WORK/seized" "$WORK/seized.pass" - | awk '$1 == "database-key" {print $2}')
sqlcipher "$WORK/seized/store.db" >/dev/null <<SQL || fail "sqlcipher"
PRAGMA key = "x'$key'";
PRAGMA cipher_page_size = 4096;
CREATE TEMP TABLE gone AS SELECT r.n, coalesce((SELECT id FROM record_ids x WHERE x.n = r.n), (SELECT id FROM envelopes e WHERE e.seq = r.n)) AS id FROM records r WHERE kind IN (2, 3, 4, 10) AND lamport > (SELECT max(lamport) FROM records WHERE kind = 2);
DELETE FROM heads WHERE id IN (SELECT id FROM gone);
DELETE FROM records WHERE n IN (SELECT n FROM gone);
SQL
echo "seized copy: $(members_of seized | tr '\n' ';') pending $(pending_json seized | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
for id in $(pending_json seized | python3 -c 'import json,sys; print(" ".join(p["id"][:8] for p in json.load(sys.stdin)))'); do
  as seized group withdraw "$G" "$id" 2>&1 | head -2
done
as seized sync >/dev/null 2>&1 || true
for w in boris sasha boris sasha; do as "$w" sync >/dev/null 2>&1 || true; done
for w in boris sasha; do
  got=$(members_of "$w"); echo "$w: $(tr '\n' ';' <<<"$got")"
  [ "$got" = "$expected" ] || problem "a stale withdrawal by the seized proposer undid a completed change at $w"
done
finish
