# Variant: the copy is seized AFTER it synced the withdrawal and deletes it from its store.
# SECURITY.md row 72 ("one admin's device alone changes no membership: a seized copy ... that
# ... promotes a member ... changes nothing at any other member"), with docs/design.md §5.10
# "Withdrawal": "a seized approver writing at a stale position is answered by a burn notice,
# which drops that approval".
#
# Quorum 2; Anna, Boris, Sasha admins, Mark a member. Anna proposes making Mark an admin; all
# sync. Sasha's device is seized (copy + passphrase). Anna, who now distrusts Mark, withdraws
# the proposal; Boris no longer lists it. The seized copy, at its stale position (it never saw
# the withdrawal), approves it: until the burn notice that completes it, as one admin's approval
# completes any waiting proposal under K = 2. Then Anna and Boris burn Sasha, having seen the
# approval: the notice drops it all the same (it was written without seeing the withdrawal), and
# Mark is no admin at any member. Before, a notice spared an approval it had seen.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
source "$(dirname "$0")/lib_quorum.bash"
start_relay
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member sasha "Sasha Seized"
new_member mark "Mark Member"
quorum_scene "boris sasha" "mark"
[ "$(as mark group quorum "$G")" = 2 ] || fail "setup: quorum not 2"
as anna group role "$G" "Mark Member" admin >/dev/null 2>&1 || fail "setup: group role failed"
for w in anna boris sasha mark; do as "$w" sync >/dev/null 2>&1 || true; done
pid=$(pending_json sasha | python3 -c 'import json,sys; print(next(p["id"][:8] for p in json.load(sys.stdin)))')
[ -n "$pid" ] || fail "setup: Sasha does not hold the promotion"
# (the copy is taken later, after the withdrawal)

# Anna withdraws.
as anna group withdraw "$G" "$pid" >"$WORK/w.out" 2>&1 || fail "withdraw: $(cat "$WORK/w.out")"
for w in anna boris mark anna; do as "$w" sync >/dev/null 2>&1 || true; done
[ "$(pending_json boris)" = "[]" ] || fail "setup: Boris still lists it: $(pending_json boris)"
expected=$(printf '%s\n' "Anna Petrova admin" "Boris Ivanov admin" "Mark Member" "Sasha Seized admin")
[ "$(members_of mark)" = "$expected" ] || fail "setup: $(members_of mark | tr '\n' ';')"
echo "withdrawn; Boris lists nothing waiting"
# Sasha syncs the withdrawal; only then is her device seized. The copy deletes the withdrawal
# from its store (sqlcipher, the key from home-secrets) to write at the position before it.
as sasha sync >/dev/null 2>&1 || true
[ "$(pending_json sasha)" = "[]" ] || fail "setup: Sasha still lists it"
cp -a "$WORK/sasha" "$WORK/seized"; cp "$WORK/sasha.pass" "$WORK/seized.pass"
key=$(adv home-secrets "$WORK/seized" "$WORK/seized.pass" - | awk '$1 == "database-key" {print $2}')
[ -n "$key" ] || fail "no database key"
sqlcipher "$WORK/seized/store.db" >/dev/null <<SQL || fail "sqlcipher could not edit the seized store"
PRAGMA key = "x'$key'";
PRAGMA cipher_page_size = 4096;
CREATE TEMP TABLE gone AS SELECT r.n, coalesce((SELECT id FROM record_ids x WHERE x.n = r.n), (SELECT id FROM envelopes e WHERE e.seq = r.n)) AS id FROM records r WHERE kind = 10 ORDER BY lamport DESC LIMIT 1;
DELETE FROM heads WHERE id IN (SELECT id FROM gone);
DELETE FROM records WHERE n IN (SELECT n FROM gone);
SQL
echo "seized copy lists: $(pending_json seized | head -c 300)"
# The seized copy approves at its stale position.
as seized group approve "$G" "$pid" >"$WORK/a.out" 2>&1 || echo "seized copy could not approve: $(cat "$WORK/a.out")"
as seized sync >/dev/null 2>&1 || true
for w in anna boris mark anna boris mark; do as "$w" sync >/dev/null 2>&1 || true; done
for w in anna boris mark; do
  got=$(members_of "$w")
  echo "$w sees after the seized approval: $(tr '\n' ';' <<<"$got")"
  # Until the burn notice the seized approval completes it, as one admin's approval completes
  # any waiting proposal under K = 2 (docs/design.md §5.10 "Withdrawal"); the notice undoes it.
  grep -q "Mark Member admin" <<<"$got" && echo "  (until the notice, Mark is an admin at $w)"
done
# The remedy §5.10 names: a burn notice for Sasha, approved by Boris.
as anna group compromised "$G" "Sasha Seized" >"$WORK/b.out" 2>&1 || fail "compromised: $(cat "$WORK/b.out")"
as anna sync >/dev/null 2>&1 || true; as boris sync >/dev/null 2>&1 || true
for id in $(pending_json boris | python3 -c 'import json,sys; print(" ".join(p["id"][:8] for p in json.load(sys.stdin) if p.get("compromised")))'); do
  as boris group approve "$G" "$id" >/dev/null 2>&1 || echo "Boris could not approve $id"
done
for w in boris anna mark boris anna mark; do as "$w" sync >/dev/null 2>&1 || true; done
for w in anna boris mark; do
  got=$(members_of "$w")
  echo "$w sees after the burn notice: $(tr '\n' ';' <<<"$got")"
  grep -q "Sasha Seized" <<<"$got" && echo "  (the notice did not take effect at $w)"
  grep -q "Mark Member admin" <<<"$got" &&
    problem "design §5.10/row 72: the burn notice did not drop the seized approval of the withdrawn promotion at $w"
done
finish
