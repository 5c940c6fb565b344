#!/usr/bin/env bash
# SECURITY.md row 75 (docs/design.md §5.13 "What a copied signing key still allows"): a copy of
# a member's store can write a key update that takes the member's next grants, but "the
# member's `sync` and `doctor` then warn of a key update signed with their key that this device
# did not make and say to ask for a burn notice". Attack: the seizing party also runs the
# group's relay (kolokol-adversary hostile-relay). The copy of Boris's home writes a key update;
# the relay gives it to Anna (whose sync rotates, sealing Boris's grant to the copy's key) and
# withholds it from Boris's sessions only. Boris's `sync` and `doctor` never show the
# "did not make … burn notice" warning (Node::foreign_key_updates looks only at key updates
# he holds); at most a generic "control record … has not reached you" (row 74) — and none at
# all when another listed relay is down (see withheld_hidden_by_failing_relay.sh). Meanwhile the
# copy reads Anna's new posts and Boris does not. With DEAD_SECOND_RELAY=1 the group also lists
# an honest relay that goes down before the attack: Boris's sync then warns of nothing at all.
# Exits 1 while the attack works.
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
reads() { as "$1" read "$G" 2>/dev/null | grep -qF "$2"; }

: > "$WORK/withhold"
( exec "$KOLOKOL_ADVERSARY" hostile-relay "127.0.0.1:$(pick_port)" "$WORK/r.log" \
    "withhold=$WORK/withhold" > "$WORK/r.out" 2>"$WORK/r.err" ) &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/r.out" ] && break; sleep 0.1; done
R=$(head -1 "$WORK/r.out")
[[ "$R" == kolokol://* ]] || fail "the hostile relay did not start: $(cat "$WORK/r.err")"
new_member anna "Anna Petrova"; new_member boris "Boris Ivanov"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$R" >/dev/null
if [ "${DEAD_SECOND_RELAY:-0}" = 1 ]; then  # a second listed relay, down during the attack
  start_relay; R2_PID=${CLEANUP_PIDS[-1]}; as anna group relay add "$G" "$RELAY" >/dev/null
fi
invite anna boris
as anna sync >/dev/null 2>&1; as boris sync >/dev/null 2>&1
as anna post "$G" "Anna: before the copy" >/dev/null 2>&1; as anna sync >/dev/null 2>&1
as boris sync >/dev/null 2>&1
reads boris "Anna: before the copy" || fail "setup: Boris lacks Anna's first post"

# Boris's home is copied (passphrase known); the copy writes a key update and sends it.
cp -a "$WORK/boris" "$WORK/seized"; cp "$WORK/boris.pass" "$WORK/seized.pass"
as seized rekey "$G" >/dev/null || fail "the copy could not write a key update"
ku=$(as seized group audit "$G" --json | python3 -c '
import json,sys; a=json.load(sys.stdin); print([r["id"] for r in a["records"] if r["kind"]=="key_update"][-1])')
as seized sync >/dev/null 2>&1 || true
err=$(as anna sync 2>&1 >/dev/null) || true
grep -q "a member replaced their key" <<<"$err" || fail "setup: Anna did not rotate for the copy's key update: $err"
# From now on the relay withholds the copy's key update from every session (Anna has it).
echo "$ku" > "$WORK/withhold"
[ -n "${R2_PID:-}" ] && { kill -9 "$R2_PID"; wait "$R2_PID" 2>/dev/null || true; }
as anna post "$G" "Anna: after the rotation" >/dev/null 2>&1; as anna sync >/dev/null 2>&1 || true

for i in 1 2; do
  rc=0; as boris sync > "$WORK/b.out" 2> "$WORK/b.err" || rc=$?
  echo "Boris's sync $i: exit $rc: $(tr '\n' ' ' < "$WORK/b.err" | cut -c1-220)"
done
doc=$(as boris doctor 2>&1) || true
as seized sync >/dev/null 2>&1 || true
reads seized "Anna: after the rotation" && echo "the copy reads Anna's post written after the rotation"
reads boris "Anna: after the rotation" || echo "Boris does not read it"
grep -q "has not reached you" "$WORK/b.err" || echo "Boris's sync gives no warning of any kind"
grep -q "did not make" "$WORK/b.err" ||
  problem "Boris's sync does not warn of the key update made with his key elsewhere (withheld by the relay)"
grep -q "did not make" <<<"$doc" ||
  problem "Boris's doctor does not warn of the key update made with his key elsewhere"
reads seized "Anna: after the rotation" && ! reads boris "Anna: after the rotation" &&
  problem "the copy reads what Anna wrote after the rotation, Boris does not, and he is never told his key was taken"
finish
