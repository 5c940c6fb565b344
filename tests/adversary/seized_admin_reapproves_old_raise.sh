# SECURITY.md row 72 ("one admin's device alone changes no membership, whatever position its
# records claim"), without any pending proposal: the seized device approves, at an old position,
# a quorum raise that was completed long ago without it.
#
# Quorum 2; Anna, Boris, Carol and Sasha are admins, Mark a member. Anna raised the quorum to 3
# and Boris approved (effective). Later the group lowered it back to 2 (Anna, Boris and Carol).
# Under K = 2 Anna adds Dan and Boris approves. Sasha signed none of it. Sasha's device is
# seized: the copy deletes from its store every control record after Anna's raise proposal (it
# was waiting there), approves the raise there and syncs. If that approval sorts before Boris's
# (Lamport, id), it becomes the raise's point of effect; nothing honest follows it, so every
# later proposal is held to K* = 3 uncapped, the lowering does not lower anything any more
# and Dan's add, with two approvals, is undone at every member.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
source "$(dirname "$0")/lib_quorum.bash"
command -v sqlcipher >/dev/null || fail "needs the sqlcipher shell (Debian: sqlcipher)"
start_relay
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member carol "Carol Smirnova"
new_member sasha "Sasha Seized"
new_member mark "Mark Member"
new_member dan "Dan Newcomer"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
for w in boris carol sasha; do
  as "$w" group join "$(as anna group add "$G" "$(card_of "$w")" --admin 2>/dev/null)" >/dev/null
done
invite anna mark
as anna group quorum "$G" 2 >/dev/null 2>&1
ALL="anna boris carol sasha mark"
for w in $ALL anna; do as "$w" sync >/dev/null 2>&1 || true; done
approve_match() {  # WHO PATTERN
  as "$1" sync >/dev/null 2>&1 || true
  for id in $(as "$1" group pending "$G" | awk -v pat="$2" '$0 ~ pat && !/you approved/ {print $1}'); do
    as "$1" group approve "$G" "$id" >/dev/null
  done
  as "$1" sync >/dev/null 2>&1 || true
}
# Anna proposes 3; everyone syncs (Sasha holds the proposal, waiting).
as anna group quorum "$G" 3 >/dev/null 2>&1 || true
for w in $ALL; do as "$w" sync >/dev/null 2>&1 || true; done
qid=$(as sasha group pending "$G" | awk '/quorum/ {print $1; exit}')
[ -n "$qid" ] || fail "setup: no pending quorum change at Sasha"
skey=$(adv home-secrets "$WORK/sasha" "$WORK/sasha.pass" - | awk '$1 == "database-key" {print $2}')
cut=$(sqlcipher "$WORK/sasha/store.db" <<SQL | tail -1
PRAGMA key = "x'$skey'";
PRAGMA cipher_page_size = 4096;
SELECT max(lamport) FROM records WHERE kind IN (2, 3, 4, 10, 11);
SQL
)
# Boris approves after some other activity (his approval's Lamport is higher).
as boris post "$G" "Boris thinks it over" >/dev/null 2>&1 || true
as anna group relay list "$G" >/dev/null 2>&1 || true
approve_match boris quorum
for w in $ALL; do as "$w" sync >/dev/null 2>&1 || true; done
[ "$(as mark group quorum "$G")" = 3 ] || fail "setup: the raise did not take effect"
# The group lowers it again: Anna proposes 2, Boris and Carol approve (3 of 3 needed).
as anna group quorum "$G" 2 >/dev/null 2>&1 || true
as anna sync >/dev/null 2>&1 || true
approve_match boris quorum
approve_match carol quorum
for w in $ALL; do as "$w" sync >/dev/null 2>&1 || true; done
[ "$(as mark group quorum "$G")" = 2 ] || fail "setup: the lowering did not take effect: $(as mark group quorum "$G")"
# Under K = 2: Anna adds Dan, Boris approves.
as dan group join "$(as anna group add "$G" "$(card_of dan)" 2>/dev/null)" >/dev/null
as anna sync >/dev/null 2>&1 || true
approve_match boris "add Dan"
for w in $ALL dan; do as "$w" sync >/dev/null 2>&1 || true; done
expected=$(printf '%s\n' "Anna Petrova admin" "Boris Ivanov admin" "Carol Smirnova admin" "Dan Newcomer" "Mark Member" "Sasha Seized admin")
for w in anna boris mark; do
  [ "$(members_of $w)" = "$expected" ] || fail "setup: $w sees $(members_of $w | tr '\n' ';')"
done
echo "setup: quorum 2 again, Dan a member everywhere"

# Sasha's device is seized; the copy goes back to where the raise was waiting and approves it.
cp -a "$WORK/sasha" "$WORK/seized"; cp "$WORK/sasha.pass" "$WORK/seized.pass"
sqlcipher "$WORK/seized/store.db" >/dev/null <<SQL || fail "sqlcipher could not edit the seized store"
PRAGMA key = "x'$skey'";
PRAGMA cipher_page_size = 4096;
CREATE TEMP TABLE gone AS SELECT r.n, coalesce((SELECT id FROM record_ids x WHERE x.n = r.n), (SELECT id FROM envelopes e WHERE e.seq = r.n)) AS id FROM records r WHERE kind IN (2, 3, 4, 10, 11) AND lamport > $cut;
DELETE FROM heads WHERE id IN (SELECT id FROM gone);
DELETE FROM records WHERE n IN (SELECT n FROM gone);
SQL
echo "seized copy: quorum $(as seized group quorum "$G"); pending: $(as seized group pending "$G" | tr '\n' ';')"
as seized group approve "$G" "$qid" >"$WORK/ap.out" 2>&1 || fail "the seized copy could not approve: $(cat "$WORK/ap.out")"
as seized sync >/dev/null 2>&1 || true
for w in anna boris carol mark dan anna boris mark; do as "$w" sync >/dev/null 2>&1 || true; done
for w in anna boris carol mark; do
  got=$(members_of $w)
  echo "$w sees: $(tr '\n' ';' <<<"$got") quorum $(as $w group quorum "$G")"
  [ "$got" = "$expected" ] ||
    problem "row 72: one seized admin's approval at an old position changed the membership at $w: $(tr '\n' ';' <<<"$got")"
  q=$(as $w group quorum "$G")
  [ "$q" = 2 ] || problem "row 72: the quorum at $w is $q, not 2"
done
as anna group pending "$G" | sed 's/^/anna pending: /'
finish
