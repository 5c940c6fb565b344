# Quorum 1: an honest counter-removal written in an epoch another admin's client rotated to on
# top of her own void rotation is void — the seized admin stays and she is removed (rows 3, 6,
# 73; SECURITY.md row 3: "a seized admin's removal of Anna concurrent with her removal of him,
# also when she rotated first … removes both at every member").
# Admins Anna, Boris, Sasha (seized); members Mila, Nina. Relay stopped after setup; everything
# travels by sync file. Anna rotates (seized_admin_shields_accomplice.sh ORDER=rotate-first).
# Mila replaces her key. Boris takes Anna's file, then Mila's: his sync rotates for the new key,
# in Anna's rotation's epoch. Anna takes Boris's file and then removes Sasha — her client writes
# in Boris's rotation's epoch. The seized copy of Sasha's home removes Anna. Expected: Anna and
# Sasha both gone, every member agreeing. VARIANT=norekey (the control): Mila does not rekey, so
# Boris does not rotate, and Anna writes in her own rotation's epoch (the documented case).
# VARIANT=burn: as rekey, with Anna's burn notice for Sasha instead of a removal (row 73).
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
source "$(dirname "$0")/../lib_quorum.bash"
start_relay
new_member anna "Anna Petrova"; new_member boris "Boris Ivanov"; new_member sasha "Sasha Seized"
new_member mila "Mila Member"; new_member nina "Nina Member"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
for w in boris sasha; do as $w group join "$(as anna group add "$G" "$(card_of $w)" --admin 2>/dev/null)" >/dev/null; done
for w in mila nina; do invite anna $w; done
for r in 1 2; do for w in anna boris sasha mila nina; do as $w sync >/dev/null 2>&1 || true; done; done
kill "${CLEANUP_PIDS[0]}" 2>/dev/null || true; sleep 0.5
cp -a "$WORK/sasha" "$WORK/seized"; cp "$WORK/sasha.pass" "$WORK/seized.pass"
tofile() { as "$1" sync --to-file "$WORK/$2.sync" >/dev/null 2>&1 || fail "no sync file from $1"; }
fromfile() { as "$1" sync --from-file "$WORK/$2.sync" 2>&1 | grep -i "rotated" || true; }
[ "${VARIANT:-rekey}" != norekey ] && { as mila rekey "$G" >/dev/null 2>&1 || fail "Mila could not rekey"; }
tofile mila m0
as anna group rotate "$G" >/dev/null 2>&1 || echo "(anna rotate: $?)"
tofile anna a0
echo "boris takes anna's file: $(fromfile boris a0)"
echo "boris takes mila's file: $(fromfile boris m0)"
tofile boris b0
echo "anna takes boris's file: $(fromfile anna b0)"
if [ "${VARIANT:-rekey}" = burn ]; then
  as anna group compromised "$G" "Sasha Seized" >/dev/null 2>&1 || echo "(anna burn sasha: $?)"
else
  as anna group remove "$G" "Sasha Seized" >/dev/null 2>&1 || echo "(anna remove sasha: $?)"
fi
tofile anna a1
as seized group remove "$G" "Anna Petrova" >/dev/null 2>&1 || echo "(seized remove anna: $?)"
tofile seized s1
for w in mila nina boris; do fromfile $w m0 >/dev/null; fromfile $w b0 >/dev/null; fromfile $w a1 >/dev/null; fromfile $w s1 >/dev/null; done
tofile boris b2
for w in mila nina; do fromfile $w b2 >/dev/null; done
ref=$(members_of mila); echo "mila: $(tr '\n' ';' <<<"$ref")"
for w in nina boris; do
  m=$(members_of $w); echo "$w: $(tr '\n' ';' <<<"$m")"
  [ "$m" = "$ref" ] || problem "row 6: $w and Mila disagree on the members (VARIANT=${VARIANT:-rekey})"
done
grep -q "Sasha Seized" <<<"$ref" && problem "rows 3/73 (mutual removals remove both, also when she rotated first): the seized Sasha keeps his admin seat at Mila while his removal of Anna stands (VARIANT=${VARIANT:-rekey})"
grep -q "Anna Petrova" <<<"$ref" && echo "note: Anna is still a member at Mila"
echo "anna's removal of sasha at nina: $(as nina group audit "$G" 2>&1 | grep "remove Sasha" | head -2 | tr '\n' ' ')"
finish
