# The narrowed strong-remove exemption, used by a seized admin under quorum 1 (SECURITY.md
# "Group rules": only a removal of the remover is exempt; rows 3, 6).
# Admins Anna, Boris, Sasha (seized); members Mila, Mark (Sasha's accomplice). Relay stopped after
# setup; the two sides travel by sync file, truly concurrent. Anna, learning what Mark did,
# removes Mark and Sasha; the seized copy of Sasha's home removes Anna. Expected by the rules as
# written: Anna and Sasha both gone (mutual), Anna's removal of Mark dropped (it is concurrent
# with her own removal and Mark is not her remover), so Mark stays — Boris must remove him again.
# Checked: every member converges in both delivery orders, Sasha is gone, Boris stays an admin.
# Found: when Anna's removal of Sasha comes after any control change of hers that rotates the key
# (her removal of Mark, or a plain `group rotate`), the seized copy's removal of Anna drops that
# change (concurrent, not a removal of the remover), its rotation is void, and Anna's removal of
# Sasha — written in the void epoch — is void with it: Anna is gone and Sasha stays an admin.
# ORDER (mark-first by default): sasha-first, rotate-first (Anna only rotates the key, then
# removes Sasha), burn-after-mark, burn-after-rotate, burn-only (a burn notice instead of the
# removal of Sasha; row 73: with K = 1 a concurrent counter-removal removes both), sasha-only (the control: mutual removal as documented).
# Exits 1 only on divergence or if Sasha keeps his place; Mark staying is reported, not counted
# (it is what the rule says).
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
source "$(dirname "$0")/../lib_quorum.bash"
start_relay
new_member anna "Anna Petrova"; new_member boris "Boris Ivanov"; new_member sasha "Sasha Seized"
new_member mila "Mila Member"; new_member mark "Mark Accomplice"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
for w in boris sasha; do as $w group join "$(as anna group add "$G" "$(card_of $w)" --admin 2>/dev/null)" >/dev/null; done
for w in mila mark; do invite anna $w; done
for r in 1 2; do for w in anna boris sasha mila mark; do as $w sync >/dev/null 2>&1 || true; done; done
kill "${CLEANUP_PIDS[0]}" 2>/dev/null || true; sleep 0.5
cp -a "$WORK/sasha" "$WORK/seized"; cp "$WORK/sasha.pass" "$WORK/seized.pass"
case "${ORDER:-mark-first}" in
  mark-first)
    as anna group remove "$G" "Mark Accomplice" >/dev/null 2>&1 || echo "(anna remove mark: $?)"
    as anna group remove "$G" "Sasha Seized" >/dev/null 2>&1 || echo "(anna remove sasha: $?)" ;;
  sasha-first)
    as anna group remove "$G" "Sasha Seized" >/dev/null 2>&1 || echo "(anna remove sasha: $?)"
    as anna group remove "$G" "Mark Accomplice" >/dev/null 2>&1 || echo "(anna remove mark: $?)" ;;
  rotate-first)
    as anna group rotate "$G" >/dev/null 2>&1 || echo "(anna rotate: $?)"
    as anna group remove "$G" "Sasha Seized" >/dev/null 2>&1 || echo "(anna remove sasha: $?)" ;;
  burn-after-mark)
    as anna group remove "$G" "Mark Accomplice" >/dev/null 2>&1 || echo "(anna remove mark: $?)"
    as anna group compromised "$G" "Sasha Seized" >/dev/null 2>&1 || echo "(anna burn sasha: $?)" ;;
  burn-after-rotate)
    as anna group rotate "$G" >/dev/null 2>&1 || echo "(anna rotate: $?)"
    as anna group compromised "$G" "Sasha Seized" >/dev/null 2>&1 || echo "(anna burn sasha: $?)" ;;
  burn-only)
    as anna group compromised "$G" "Sasha Seized" >/dev/null 2>&1 || echo "(anna burn sasha: $?)" ;;
  sasha-only)
    as anna group remove "$G" "Sasha Seized" >/dev/null 2>&1 || echo "(anna remove sasha: $?)" ;;
esac
as anna sync --to-file "$WORK/a.sync" >/dev/null 2>&1 || fail "no file from Anna"
as seized group remove "$G" "Anna Petrova" >/dev/null 2>&1 || echo "(seized remove anna: $?)"
as seized sync --to-file "$WORK/s.sync" >/dev/null 2>&1 || fail "no file from the seized copy"
as mila sync --from-file "$WORK/a.sync" >/dev/null 2>&1 || true
as mila sync --from-file "$WORK/s.sync" >/dev/null 2>&1 || true
as boris sync --from-file "$WORK/s.sync" >/dev/null 2>&1 || true
as boris sync --from-file "$WORK/a.sync" >/dev/null 2>&1 || true
as mark sync --from-file "$WORK/s.sync" >/dev/null 2>&1 || true
as mark sync --from-file "$WORK/a.sync" >/dev/null 2>&1 || true
ref=$(members_of mila); echo "mila: $(tr '\n' ';' <<<"$ref")"
for w in boris mark; do
  m=$(members_of $w); echo "$w: $(tr '\n' ';' <<<"$m")"
  [ "$m" = "$ref" ] || problem "row 6: $w and Mila disagree on the members"
done
grep -q "Sasha Seized" <<<"$ref" && problem "Group rules (mutual removals remove both), rows 3/73: the seized Sasha keeps his admin seat while his concurrent removal of Anna stands; Anna's removal/notice, written after her own earlier control change (order ${ORDER:-mark-first}), is void"
grep -q "Boris Ivanov admin" <<<"$ref" || problem "Boris is no admin at Mila"
grep -q "Mark Accomplice" <<<"$ref" && echo "note: Mark stays (Anna's removal of him is dropped with her: the rule as written)"
finish
