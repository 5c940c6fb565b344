# A seized admin goes back to a moment when it was the group's only admin (docs/design.md §5.10,
# SECURITY.md row 72). Under a quorum of 2 a plain removal or demotion that would leave fewer
# admins than the quorum does nothing at every member (and the CLI refuses it), so once the
# quorum is set no position has one admin alone — before, an admin whose fellow admins had
# stepped down decided alone there, and a copy of her home could write there for ever after.
#
# Anna creates the group, makes Boris an admin and sets the quorum to 2. Boris tries to step
# down: refused (it would leave Anna alone). Anna makes Carol an admin (Boris approves); now
# Boris steps down (Carol approves) — two admins stay. Carol approves Dan (admin) and Mark.
# Anna's device is then seized (copy of the home + passphrase). The copy deletes every control
# record written after Boris's demotion and adds Xena as an admin there, where Anna and Carol
# are the admins: the add waits for Carol at every member, Xena is never admitted, reads
# nothing written after and cannot write.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
source "$(dirname "$0")/lib_quorum.bash"
command -v sqlcipher >/dev/null || fail "needs the sqlcipher shell (Debian: sqlcipher)"
start_relay
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member carol "Carol Smirnova"
new_member dan "Dan Sokolov"
new_member mark "Mark Member"
new_member xena "Xena Outsider"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
as boris group join "$(as anna group add "$G" "$(card_of boris)" --admin 2>/dev/null)" >/dev/null
as anna group quorum "$G" 2 >/dev/null
as anna sync >/dev/null; as boris sync >/dev/null
approve_all() {  # APPROVER approves what waits, everyone syncs
  local who=$1
  for w in anna boris carol dan mark; do [ -d "$WORK/$w" ] && { as "$w" sync >/dev/null 2>&1 || true; }; done
  for id in $(as "$who" group pending "$G" --json | python3 -c 'import json,sys; print(" ".join(p["id"][:8] for p in json.load(sys.stdin)))'); do
    as "$who" group approve "$G" "$id" >/dev/null
  done
  for w in "$who" anna boris carol dan mark; do [ -d "$WORK/$w" ] && { as "$w" sync >/dev/null 2>&1 || true; }; done
}
# Boris steps down: Anna proposes, Boris approves.
if as anna group role "$G" "Boris Ivanov" member >/dev/null 2>"$WORK/stepdown.err"; then
  problem "Boris's step-down, leaving Anna the only admin under a quorum of 2, was taken"
fi
grep -q "would leave 1 admins under a quorum of 2" "$WORK/stepdown.err" ||
  problem "the refused step-down does not say why: $(cat "$WORK/stepdown.err")"
as carol group join "$(as anna group add "$G" "$(card_of carol)" --admin 2>/dev/null)" >/dev/null
approve_all boris
as anna group role "$G" "Boris Ivanov" member >/dev/null || fail "setup: Boris's step-down with three admins was refused"
approve_all carol
[ "$(as anna group quorum "$G")" = 2 ] || fail "setup: quorum not 2 after the demotion"
# Where the seized copy will go back to: the last control record Anna holds now.
akey=$(adv home-secrets "$WORK/anna" "$WORK/anna.pass" - | awk '$1 == "database-key" {print $2}')
cut=$(sqlcipher "$WORK/anna/store.db" <<SQL | tail -1
PRAGMA key = "x'$akey'";
PRAGMA cipher_page_size = 4096;
SELECT max(lamport) FROM records WHERE kind IN (2, 3, 4, 10, 11);
SQL
)
[ -n "$cut" ] || fail "setup: no cut lamport"
# Anna, the only admin now, makes Carol and Dan admins (needed 1 each), and adds Mark.
# From here two admins stand again: Carol approves Anna's adds of Dan (admin) and Mark.
as dan group join "$(as anna group add "$G" "$(card_of dan)" --admin 2>/dev/null)" >/dev/null
invite anna mark
approve_all carol
expected=$(printf '%s\n' "Anna Petrova admin" "Boris Ivanov" "Carol Smirnova admin" "Dan Sokolov admin" "Mark Member")
for w in boris carol dan mark; do
  [ "$(members_of $w)" = "$expected" ] || fail "setup: $w sees $(members_of $w | tr '\n' ';')"
  [ "$(as $w group quorum "$G")" = 2 ] || fail "setup: the quorum at $w is not 2"
done
# Sanity: at the current position one admin alone cannot add anybody.
new_member yuri "Yuri Newcomer"
as anna group add "$G" "$(card_of yuri)" >/dev/null 2>&1
pend=$(as anna group pending "$G" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$pend" -ge 1 ] || fail "setup: Anna's add at the current position did not wait"
as anna sync >/dev/null 2>&1 || true
echo "setup: K = 2 with three admins; Anna's honest add of Yuri waits ($pend pending)"

# The seized copy of Anna's device, passphrase forced: back to the position where she was alone.
cp -a "$WORK/anna" "$WORK/seized"; cp "$WORK/anna.pass" "$WORK/seized.pass"
key=$(adv home-secrets "$WORK/seized" "$WORK/seized.pass" - | awk '$1 == "database-key" {print $2}')
[ -n "$key" ] || fail "no database key from the seized home"
sqlcipher "$WORK/seized/store.db" >/dev/null <<SQL || fail "sqlcipher could not edit the seized store"
PRAGMA key = "x'$key'";
PRAGMA cipher_page_size = 4096;
CREATE TEMP TABLE gone AS SELECT r.n, coalesce((SELECT id FROM record_ids x WHERE x.n = r.n), (SELECT id FROM envelopes e WHERE e.seq = r.n)) AS id FROM records r WHERE kind IN (2, 3, 4, 10, 11) AND lamport > $cut;
DELETE FROM heads WHERE id IN (SELECT id FROM gone);
DELETE FROM records WHERE n IN (SELECT n FROM gone);
SQL
echo "seized copy: quorum $(as seized group quorum "$G"), members: $(members_of seized | tr '\n' ';')"
as seized group add "$G" "$(card_of xena)" --admin > "$WORK/xena.token" 2>"$WORK/seized_add.err" ||
  fail "the seized copy could not add Xena: $(cat "$WORK/seized_add.err")"
as xena group join "$(cat "$WORK/xena.token")" >/dev/null || echo "Xena's join refused"
as seized sync >/dev/null 2>&1 || true
for w in xena boris carol dan mark xena; do as "$w" sync >/dev/null 2>&1 || true; done
exp_x=$(printf '%s\n' "$expected")
for w in boris carol dan mark; do
  got=$(members_of "$w" 2>/dev/null)
  echo "$w sees: $(tr '\n' ';' <<<"$got") quorum $(as $w group quorum "$G" 2>/dev/null)"
  [ "$got" = "$exp_x" ] || problem "row 72: one seized admin's device changed the membership at $w: $(tr '\n' ';' <<<"$got")"
done
as carol post "$G" "Carol writes after the seizure" >/dev/null 2>&1 || echo "Carol cannot post"
as carol sync >/dev/null 2>&1 || true
for w in boris dan mark; do as "$w" sync >/dev/null 2>&1 || true; done
as xena sync >/dev/null 2>&1 || true
reads xena "Carol writes after the seizure" && problem "row 72: Xena, added by one seized device, reads what Carol wrote after it"
as xena post "$G" "Xena writes" >/dev/null 2>&1 && as xena sync >/dev/null 2>&1
for w in boris carol dan mark; do as "$w" sync >/dev/null 2>&1 || true; done
reads dan "Xena writes" && problem "row 72: Xena's post reached Dan"
finish
