# SECURITY.md row 72: "one admin's device alone changes no membership, whatever position its
# records claim ... changes nothing at any other member". Broken by the floor rule of §5.10
# ("a quorum change the proposal does not follow is held whole, not capped"), through one late
# approval.
#
# Quorum 2; Anna, Boris and Sasha are admins, Mark a member. Anna once proposed raising the
# quorum to 3; nobody approved it and it stays pending (a proposal cannot be withdrawn). Sasha's
# device is seized (copy of the home + passphrase) and kept offline. Meanwhile the group goes on
# under K = 2: Anna adds Dan, Boris approves, Dan joins and writes. Then the seized copy approves Anna's old quorum change from its stale
# position and syncs. The quorum change is effective at that approval, which no honest record
# follows, so every proposal written since is held to K* = 3 uncapped: Dan's add, completed by two
# admins under K = 2, needs a third approval and is undone at every member. One device, alone,
# removed a member.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
source "$(dirname "$0")/lib_quorum.bash"
start_relay
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member sasha "Sasha Seized"
new_member mark "Mark Member"
new_member dan "Dan Newcomer"
quorum_scene "boris sasha" "mark"
[ "$(as mark group quorum "$G")" = 2 ] || fail "setup: quorum not 2"
# Anna's proposal of a quorum of 3, never approved.
as anna group quorum "$G" 3 >/dev/null 2>&1 || true
for w in anna boris sasha mark; do as "$w" sync >/dev/null 2>&1 || true; done
qid=$(as sasha group pending "$G" | awk '/quorum/ {print $1; exit}')
[ -n "$qid" ] || fail "setup: Sasha does not list Anna's pending quorum change: $(as sasha group pending "$G")"
# Sasha's device is seized; the copy stays offline.
cp -a "$WORK/sasha" "$WORK/seized"; cp "$WORK/sasha.pass" "$WORK/seized.pass"
# The group goes on under K = 2: Anna adds Dan, Boris approves.
as dan group join "$(as anna group add "$G" "$(card_of dan)" 2>/dev/null)" >/dev/null
as anna sync >/dev/null 2>&1 || true
as boris sync >/dev/null 2>&1 || true
for id in $(as boris group pending "$G" | awk '/add Dan/ {print $1}'); do as boris group approve "$G" "$id" >/dev/null; done
for w in boris anna mark dan sasha dan; do as "$w" sync >/dev/null 2>&1 || true; done
as dan post "$G" "Dan writes as a member" >/dev/null 2>&1; as dan sync >/dev/null 2>&1 || true
for w in anna boris mark sasha; do as "$w" sync >/dev/null 2>&1 || true; done
expected=$(printf '%s\n' "Anna Petrova admin" "Boris Ivanov admin" "Dan Newcomer" "Mark Member" "Sasha Seized admin")
for w in anna boris mark; do
  [ "$(members_of $w)" = "$expected" ] || fail "setup: $w sees $(members_of $w | tr '\n' ';')"
  reads $w "Dan writes as a member" || fail "setup: $w does not show Dan's post"
done
echo "setup: Dan is a member everywhere, his post shown; the quorum is $(as mark group quorum "$G")"

# The seized copy approves Anna's old quorum change and syncs.
as seized group approve "$G" "$qid" >/dev/null 2>&1 || fail "the seized copy could not approve"
as seized sync >/dev/null 2>&1 || true
for w in anna boris mark dan anna boris mark; do as "$w" sync >/dev/null 2>&1 || true; done
for w in anna boris mark; do
  got=$(members_of $w)
  echo "$w sees: $(tr '\n' ';' <<<"$got") quorum $(as $w group quorum "$G")"
  [ "$got" = "$expected" ] ||
    problem "row 72: one seized admin's late approval changed the membership at $w: $(tr '\n' ';' <<<"$got")"
  reads $w "Dan writes as a member" || problem "row 72: $w no longer shows Dan's post"
done
as anna group pending "$G" | sed 's/^/anna pending: /'
finish
