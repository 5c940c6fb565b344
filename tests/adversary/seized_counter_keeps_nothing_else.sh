# An informer hoping that a counter-removal keeps his earlier changes alive (SECURITY.md "Open
# attacks", the counter-removal item: any allowance for counter-removals must keep nothing else).
# Quorum 1; admins
# Anna, Boris, Ivan (seized); member Mila; Eve an outsider. Relay stopped after setup; the two
# sides travel by sync file. Anna removes Ivan. The seized copy of Ivan's home, not having seen
# it, rotates, adds Eve (and rotates), removes Mila, and only then removes Anna — each in the
# epoch of his latest rotation — hoping that the counter-removal keeps what came before it
# alive. Expected: his rotations, the add of Eve and the removal of Mila are dropped. Checked at Mila (Anna's side
# first) and Boris (Ivan's first): they agree, Ivan and Eve are no members, Mila is one, Boris is
# an admin. Anna's removal is reported, not counted (it is the rule: mutual removals remove both).
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
source "$(dirname "$0")/lib_quorum.bash"
start_relay
new_member anna "Anna Petrova"; new_member boris "Boris Ivanov"; new_member ivan "Ivan Seized"
new_member mila "Mila Member"; new_member eve "Eve Outsider"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
for w in boris ivan; do as $w group join "$(as anna group add "$G" "$(card_of $w)" --admin 2>/dev/null)" >/dev/null; done
invite anna mila
for r in 1 2; do for w in anna boris ivan mila; do as $w sync >/dev/null 2>&1 || true; done; done
kill "${CLEANUP_PIDS[0]}" 2>/dev/null || true; sleep 0.5
cp -a "$WORK/ivan" "$WORK/seized"; cp "$WORK/ivan.pass" "$WORK/seized.pass"
as anna group remove "$G" "Ivan Seized" >/dev/null 2>&1 || echo "(anna remove ivan: $?)"
as anna sync --to-file "$WORK/a.sync" >/dev/null 2>&1 || fail "no file from Anna"
as seized group rotate "$G" >/dev/null 2>&1 || echo "(seized rotate: $?)"
as seized group add "$G" "$(card_of eve)" >/dev/null 2>&1 || echo "(seized add eve: $?)"
as seized group remove "$G" "Mila Member" >/dev/null 2>&1 || echo "(seized remove mila: $?)"
as seized group remove "$G" "Anna Petrova" >/dev/null 2>&1 || echo "(seized remove anna: $?)"
echo "seized copy sees: $(members_of seized | tr '\n' ';')"
grep -q "Eve Outsider" <<<"$(members_of seized)" || fail "setup: the seized copy did not add Eve"
as seized sync --to-file "$WORK/s.sync" >/dev/null 2>&1 || fail "no file from the seized copy"
as mila sync --from-file "$WORK/a.sync" >/dev/null 2>&1 || true
as mila sync --from-file "$WORK/s.sync" >/dev/null 2>&1 || true
as boris sync --from-file "$WORK/s.sync" >/dev/null 2>&1 || true
as boris sync --from-file "$WORK/a.sync" >/dev/null 2>&1 || true
ref=$(members_of mila); echo "mila: $(tr '\n' ';' <<<"$ref")"
m=$(members_of boris); echo "boris: $(tr '\n' ';' <<<"$m")"
[ "$m" = "$ref" ] || problem "row 6: Boris and Mila disagree on the members"
grep -q "Ivan Seized" <<<"$ref" && problem "row 3: Ivan is still a member at Mila"
grep -q "Eve Outsider" <<<"$ref" && problem "row 3: the removed admin's add of Eve, written before his counter-removal, stands"
grep -q "Mila Member" <<<"$ref" || problem "row 3: the removed admin's removal of Mila, written before his counter-removal, stands"
grep -q "Boris Ivanov admin" <<<"$ref" || problem "Boris is no admin at Mila"
grep -q "Anna Petrova" <<<"$ref" || echo "note: Anna is removed too (mutual removal, the rule)"
finish
