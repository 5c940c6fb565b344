# A relay that withholds one control record from one member (SECURITY.md "One view of the
# group", docs/design.md §5.12). Anna (admin), Bob and Carol share a group whose only relay is
# hostile (kolokol-adversary hostile-relay withhold=FILE). Anna adds Dan and then writes; the
# relay serves Bob everything but the add. Bob's records from Anna wait for it: his `sync` and
# his `group audit` warn, naming Anna, and his audit digest differs from Carol's, who got
# everything. Once Bob reads Carol's sync file the warning is gone and the digests agree.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
trap cleanup EXIT

: > "$WORK/withhold"
( exec "$KOLOKOL_ADVERSARY" hostile-relay "127.0.0.1:$(pick_port)" "$WORK/r.log" \
    "withhold=$WORK/withhold" > "$WORK/r.out" 2>"$WORK/r.err" ) &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/r.out" ] && break; sleep 0.1; done
R=$(head -1 "$WORK/r.out")
[[ "$R" == kolokol://* ]] || fail "the hostile relay did not start: $(cat "$WORK/r.err")"

new_member anna "Anna Petrova"
new_member bob "Bob Ivanov"
new_member carol "Carol Smirnova"
new_member dan "Dan Orlov"
G="Legal support"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$R" >/dev/null
bob_token=$(as anna group add "$G" "$(card_of bob)" 2>/dev/null)
carol_token=$(as anna group add "$G" "$(card_of carol)" 2>/dev/null)
as anna sync >/dev/null 2>"$WORK/s.err" || fail "anna's first sync failed: $(cat "$WORK/s.err")"
as bob group join "$bob_token" >/dev/null
as carol group join "$carol_token" >/dev/null
for who in bob carol; do
  as "$who" sync >/dev/null 2>"$WORK/s.err" || fail "$who's first sync failed: $(cat "$WORK/s.err")"
done

digest() { as "$1" group audit "$G" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])'; }
missing() { as "$1" group audit "$G" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["missing"]))'; }
d_bob=$(digest bob); d_carol=$(digest carol); d_anna=$(digest anna)
[ "$d_bob" = "$d_anna" ] && [ "$d_carol" = "$d_anna" ] ||
  fail "before the attack the digests differ: anna $d_anna bob $d_bob carol $d_carol"
[ "$(missing bob)" = 0 ] || fail "bob misses a control record before the attack"

# Anna adds Dan (with history: no rotation, her next records are in the same epoch and name the
# add in their control heads), then writes.
as anna group add "$G" "$(card_of dan)" --with-history >/dev/null 2>&1
add_id=$(as anna group audit "$G" --json | python3 -c '
import json, sys
a = json.load(sys.stdin)
print([r["id"] for r in a["records"] if r["kind"] == "add" and r["change"].endswith("Dan Orlov")][-1])')
[ ${#add_id} = 64 ] || fail "no add record of Dan in anna's audit: $add_id"
as anna post "$G" "Dan joins us for the hearing"
as anna post "$G" "meeting at six"
as anna sync >/dev/null 2>"$WORK/s.err" || fail "anna's sync failed: $(cat "$WORK/s.err")"

# Bob syncs while the relay withholds the add from his session only.
echo "$add_id" > "$WORK/withhold"
as bob sync > "$WORK/bob_sync.out" 2> "$WORK/bob_sync.err" ||
  fail "bob's sync failed: $(cat "$WORK/bob_sync.err")"
: > "$WORK/withhold"
grep -q "control record ${add_id:0:8} has not reached you" "$WORK/bob_sync.err" ||
  fail "bob's sync did not warn of the withheld record: $(cat "$WORK/bob_sync.out" "$WORK/bob_sync.err")"
grep -q "Anna Petrova" "$WORK/bob_sync.err" || fail "bob's warning does not name Anna: $(cat "$WORK/bob_sync.err")"
grep -q "$G" "$WORK/bob_sync.err" || fail "bob's warning does not name the group: $(cat "$WORK/bob_sync.err")"
if as bob read "$G" 2>/dev/null | grep -q "meeting at six"; then
  fail "bob shows a message that waits for a control record he does not have"
fi

as bob group audit "$G" > "$WORK/bob_audit.out" 2> "$WORK/bob_audit.err" ||
  fail "bob's audit failed: $(cat "$WORK/bob_audit.err")"
grep -q "control record ${add_id:0:8} has not reached you" "$WORK/bob_audit.err" ||
  fail "bob's audit does not warn: $(cat "$WORK/bob_audit.out" "$WORK/bob_audit.err")"
as bob group audit "$G" --json > "$WORK/bob_audit.json" 2>/dev/null
python3 - "$WORK/bob_audit.json" "$add_id" <<'EOF' || fail "bob's audit --json does not list the missing record named by Anna"
import json, sys
a = json.load(open(sys.argv[1]))
m = [x for x in a["missing"] if x["id"] == sys.argv[2]]
assert len(m) == 1 and [n["name"] for n in m[0]["named_by"]] == ["Anna Petrova"], a["missing"]
assert m[0]["since_ms"] > 0
EOF

as bob doctor > "$WORK/bob_doctor.out" 2>&1 || true
grep -q "control records: \"$G\": 1 control record that records of Anna Petrova name has not reached you" \
  "$WORK/bob_doctor.out" || fail "bob's doctor does not name the missing record: $(cat "$WORK/bob_doctor.out")"

# Carol syncs from the same relay, which now serves everything: she has the add.
as carol sync >/dev/null 2>"$WORK/carol_sync.err" || fail "carol's sync failed: $(cat "$WORK/carol_sync.err")"
grep -q "has not reached you" "$WORK/carol_sync.err" && fail "carol was warned: $(cat "$WORK/carol_sync.err")"
[ "$(missing carol)" = 0 ] || fail "carol misses a control record"
d_bob=$(digest bob); d_carol=$(digest carol); d_anna=$(digest anna)
[ "$d_carol" = "$d_anna" ] || fail "carol's digest $d_carol is not anna's $d_anna"
[ "$d_bob" != "$d_carol" ] || fail "bob's digest equals carol's ($d_bob) though he lacks the add"
echo "ok: withheld from bob; digests bob $d_bob, carol $d_carol"

# Carol hands Bob a sync file: the add arrives, what waited for it is applied, the warning is
# gone and the digests agree.
as carol sync --to-file "$WORK/carol.sync" "$G" >/dev/null
as bob sync --from-file "$WORK/carol.sync" > "$WORK/bob_file.out" 2> "$WORK/bob_file.err" ||
  fail "bob could not read carol's sync file: $(cat "$WORK/bob_file.err")"
grep -q "has not reached you" "$WORK/bob_file.err" && fail "bob still warned after the file: $(cat "$WORK/bob_file.err")"
[ "$(missing bob)" = 0 ] || fail "bob still misses a control record after carol's file"
as bob group audit "$G" 2>"$WORK/bob_audit2.err" >/dev/null
[ -s "$WORK/bob_audit2.err" ] && fail "bob's audit still warns: $(cat "$WORK/bob_audit2.err")"
[ "$(digest bob)" = "$(digest carol)" ] || fail "bob's digest $(digest bob) is not carol's $(digest carol) after the file"
as bob read "$G" 2>/dev/null | grep -q "meeting at six" || fail "bob does not show anna's message after the file"
echo "ok: after carol's sync file bob's digest is $(digest bob), as carol's"
