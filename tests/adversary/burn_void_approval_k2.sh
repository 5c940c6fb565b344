# Quorum 2: the burned admin's void approval still voids an honest admin's records
# (docs/design.md §5.10 "Strong remove with a quorum", §5.11 point 1; SECURITY.md rows 72, 73).
# Admins Anna, Boris, Clara and Dora, member Mila, quorum 2, through a real relay. Boris proposes
# demoting Dora (it waits for a second admin; nobody else agrees). Clara's home is in other
# hands. Dora, not having synced, adds a relay to the group (an admin's settings record, no
# approval needed). Anna sends the burn notice for Clara; before the seized copy has seen it, it
# approves Boris's demotion of Dora. Boris approves the notice. The notice counts from itself,
# so the seized approval is dropped and the demotion is still waiting (every member lists it as
# 1 of 2, Dora is still admin) — but in the same round of the fixed point the demotion, completed
# by that approval, dropped Dora's concurrent relay change, and the drop set only grows: Dora's
# relay is gone at every member, Dora's own device included. Without the seized approval (the
# same script with it left out) Dora's relay stands everywhere.
# Row 73: the notice makes every member reject what the seized keys sign, "approvals included".
# Row 72: one admin's device alone changes nothing at any other member.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
start_relay
new_member anna "Anna Petrova"; new_member boris "Boris Ivanov"; new_member clara "Clara Seized"
new_member dora "Dora Admin"; new_member mila "Mila Member"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
for w in boris clara dora; do
  as $w group join "$(as anna group add "$G" "$(card_of $w)" --admin 2>/dev/null)" >/dev/null
done
as mila group join "$(as anna group add "$G" "$(card_of mila)" 2>/dev/null)" >/dev/null
as anna group quorum "$G" 2 >/dev/null
for w in anna boris clara dora mila anna boris clara dora mila; do as $w sync >/dev/null 2>&1 || true; done
as boris group role "$G" "Dora Admin" member >/dev/null 2>&1 || fail "Boris could not propose the demotion"
as boris sync >/dev/null 2>&1 || true
as clara sync >/dev/null 2>&1 || true
demotion=$(as clara group pending "$G" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"][:8])')
dora_relay="kolokol://127.0.0.1:9/$(python3 -c 'import base64,os; print(base64.b32encode(os.urandom(32)).decode().lower().rstrip("="))')"
as dora group relay add "$G" "$dora_relay" >/dev/null || fail "Dora could not add a relay"
out=$(as anna group compromised "$G" "Clara Seized" 2>&1) || fail "group compromised failed: $out"
notice=$(grep -o '([0-9a-f]\{16\})' <<<"$out" | tr -d '()')
[ -n "$notice" ] || fail "the notice's id is not in the output: $out"
if [ -z "${CONTROL:-}" ]; then
  as clara group approve "$G" "$demotion" >/dev/null 2>&1 || fail "the seized copy could not approve"
fi
as clara sync >/dev/null 2>&1 || true; as anna sync >/dev/null 2>&1 || true
as boris sync >/dev/null 2>&1 || true
as boris group approve "$G" "${notice:0:8}" >/dev/null || fail "Boris could not approve the notice"
for r in 1 2 3; do for w in dora boris anna mila; do as $w sync >/dev/null 2>&1 || true; done; done
for w in anna boris dora mila; do
  as $w group members "$G" | grep "Dora Admin" | grep -q admin || fail "$w: Dora is no longer admin (the demotion took effect)"
  as $w group pending "$G" | grep -q "make Dora Admin a member" || fail "$w: the demotion is no longer listed as waiting"
  as $w group members "$G" | grep -q "Clara Seized" && problem "$w still shows Clara"
  as $w group relay list "$G" | grep -qF "${dora_relay#kolokol://}" ||
    problem "$w lost the relay Dora (still an admin, never demoted) added"
done
finish
