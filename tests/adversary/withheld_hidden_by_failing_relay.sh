#!/usr/bin/env bash
# SECURITY.md row 74 (docs/design.md §5.12): a relay that withholds a control record from a
# member cannot do it unseen once the member holds a record naming it: "after a sync `kolokol
# sync` … name[s] the group, the missing record, the members whose records name it".
# The attack: the group lists two relays, the hostile one (withholds Anna's add of Dan from Bob)
# and a second one that is down (blocked, seized, or just offline). `sync` printed the
# missing-control warning only when no listed relay failed (errors
# were thrown before the warning), so Bob's syncs brought in Anna's records that
# name the withheld add — they wait — and never warned: they only said the other relay failed.
# (`group audit` and `doctor`, run by hand, still show it.) It fails if the attack works again.

source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"

: > "$WORK/withhold"
( exec "$KOLOKOL_ADVERSARY" hostile-relay "127.0.0.1:$(pick_port)" "$WORK/r.log" \
    "withhold=$WORK/withhold" > "$WORK/r.out" 2>"$WORK/r.err" ) &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/r.out" ] && break; sleep 0.1; done
R=$(head -1 "$WORK/r.out")
[[ "$R" == kolokol://* ]] || fail "the hostile relay did not start: $(cat "$WORK/r.err")"
start_relay   # the second relay ($RELAY), honest; it goes down later
R2_PID=${CLEANUP_PIDS[-1]}

new_member anna "Anna Petrova"; new_member bob "Bob Ivanov"; new_member dan "Dan Orlov"
G="Legal support"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$R" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
bob_token=$(as anna group add "$G" "$(card_of bob)" 2>/dev/null)
as anna sync >/dev/null 2>"$WORK/s.err" || fail "anna's first sync failed: $(cat "$WORK/s.err")"
as bob group join "$bob_token" >/dev/null
as bob sync >/dev/null 2>"$WORK/s.err" || fail "bob's first sync failed: $(cat "$WORK/s.err")"

as anna group add "$G" "$(card_of dan)" --with-history >/dev/null 2>&1
add_id=$(as anna group audit "$G" --json | python3 -c '
import json, sys
a = json.load(sys.stdin)
print([r["id"] for r in a["records"] if r["kind"] == "add" and r["change"].endswith("Dan Orlov")][-1])')
as anna post "$G" "Dan joins us for the hearing" >/dev/null 2>&1
as anna sync >/dev/null 2>"$WORK/s.err" || fail "anna's sync failed: $(cat "$WORK/s.err")"

# The second relay goes down (kill -9 of the relay this script started).
kill -9 "$R2_PID"; wait "$R2_PID" 2>/dev/null || true
echo "$add_id" > "$WORK/withhold"
for i in 1 2 3; do
  rc=0; as bob sync > "$WORK/bob_sync.out" 2> "$WORK/bob_sync.err" || rc=$?
  echo "Bob's sync $i: exit $rc; stderr: $(tr '\n' ' ' < "$WORK/bob_sync.err")"
done
as bob group audit "$G" --json 2>/dev/null | python3 -c '
import json,sys; a=json.load(sys.stdin); print("Bob'"'"'s group audit (run by hand) lists", len(a["missing"]), "missing control record(s)")'
grep -q "has not reached you" "$WORK/bob_sync.err" ||
  problem "Bob's sync brings in Anna's records naming the withheld add ${add_id:0:8} and never warns while another listed relay is down"
finish
