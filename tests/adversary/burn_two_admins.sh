# A burn notice with quorum 2 and two admins (docs/design.md §5.10, §5.11; SECURITY.md rows 72,
# 73), through a real relay. Anna (creator) and Clara are the group's admins, Mila a member; the
# quorum is 2, as "A group that fears a seizure sets K >= 2" advises. Clara is detained and her
# home is in other hands. Anna sends the burn notice (`group compromised`): it needs K of the
# admins other than Clara, who never approves it, so Anna's alone takes effect at once. The
# seized device then posts; Anna and Mila refuse it, show Clara gone and hold the alert. (Before
# the fix the notice waited for ever for the burned admin's own approval.)
# Then the cost, in a second group of the same two admins: neither tells the seized device from
# the honest admin, so two burn notices written concurrently (each before seeing the other)
# remove both admins at every member: no admin is left, and the seized device's add after that
# is void at Mila. `group quorum 2` with two admins warns about this.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
start_relay
new_member anna "Anna Petrova"
new_member clara "Clara Seized"
new_member mila "Mila Member"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
as clara group join "$(as anna group add "$G" "$(card_of clara)" --admin 2>/dev/null)" >/dev/null
as mila group join "$(as anna group add "$G" "$(card_of mila)" 2>/dev/null)" >/dev/null
as anna group quorum "$G" 2 >/dev/null 2>"$WORK/quorum.err"
grep -q "Make at least 3 members admins" "$WORK/quorum.err" ||
  problem "group quorum 2 with two admins does not warn: $(cat "$WORK/quorum.err")"
for w in anna clara mila anna clara mila; do as $w sync >/dev/null 2>&1 || true; done
[ "$(as mila group quorum "$G" 2>&1 | grep -o '[0-9]\+' | head -1)" = 2 ] || fail "setup: quorum is not 2 at Mila: $(as mila group quorum "$G" 2>&1)"
as clara post "$G" "Clara: before the seizure" >/dev/null
as clara sync >/dev/null; as anna sync >/dev/null; as mila sync >/dev/null
reads mila "Clara: before the seizure" || fail "setup: Mila lacks Clara's post"
cp -a "$WORK/clara" "$WORK/seized"; cp "$WORK/clara.pass" "$WORK/seized.pass"

out=$(as anna group compromised "$G" "Clara Seized" 2>&1) || fail "group compromised failed: $out"
echo "anna: $out"
grep -q "posted an alert" <<<"$out" || problem "the notice did not take effect at once: $out"
as anna sync >/dev/null 2>&1 || true
as mila sync >/dev/null 2>&1 || true
as seized sync >/dev/null 2>&1 || true
as seized post "$G" "seized: after seeing the notice" >/dev/null 2>&1 || echo "(the seized copy could not post)"
as seized sync >/dev/null 2>&1 || true
# Anna tries what else there is.
echo "anna remove: $(as anna group remove "$G" "Clara Seized" 2>&1 | head -2)"
echo "anna quorum 1: $(as anna group quorum "$G" 1 2>&1 | head -2)"
echo "anna demote: $(as anna group role "$G" "Clara Seized" member 2>&1 | head -2)"
for round in 1 2; do for w in anna mila; do as $w sync >/dev/null 2>&1 || true; done; done
echo "pending at Anna:"; as anna group pending "$G" 2>&1 || true
for w in anna mila; do
  as $w group members "$G" | grep -q "Clara Seized" && problem "$w still shows Clara (burned) as a member"
  reads $w "seized: after seeing the notice" && problem "$w shows the seized device's post written after the notice"
  as $w alert list "$G" 2>/dev/null | grep -q "Burn notice" || problem "$w has no burn-notice alert"
done
# Concurrent notices for each other: both admins go.
G2="Support group Two"
as anna group create "$G2" >/dev/null
as anna group relay add "$G2" "$RELAY" >/dev/null
as clara group join "$(as anna group add "$G2" "$(card_of clara)" --admin 2>/dev/null)" >/dev/null
as mila group join "$(as anna group add "$G2" "$(card_of mila)" 2>/dev/null)" >/dev/null
as anna group quorum "$G2" 2 >/dev/null 2>&1
for w in anna clara mila anna clara mila; do as $w sync >/dev/null 2>&1 || true; done
[ "$(as mila group quorum "$G2" 2>/dev/null)" = 2 ] || fail "setup: quorum is not 2 at Mila in the second group"
rm -rf "$WORK/seized2"; cp -a "$WORK/clara" "$WORK/seized2"; cp "$WORK/clara.pass" "$WORK/seized2.pass"
out=$(as anna group compromised "$G2" "Clara Seized" 2>&1) || fail "Anna's notice failed: $out"
out=$(as seized2 group compromised "$G2" "Anna Petrova" 2>&1) || fail "the seized notice failed: $out"
for r in 1 2; do for w in anna seized2 mila; do as $w sync >/dev/null 2>&1 || true; done; done
new_member zoya "Zoya Orlova"
as seized2 group add "$G2" "$(card_of zoya)" --admin >/dev/null 2>&1 || echo "(the seized copy could not write an add)"
as seized2 sync >/dev/null 2>&1 || true; as mila sync >/dev/null 2>&1 || true
m=$(as mila group members "$G2" 2>&1); echo "mila, second group: $m"
grep -q "Anna Petrova" <<<"$m" && problem "Mila still shows Anna after the mutual notices"
grep -q "Clara Seized" <<<"$m" && problem "Mila still shows Clara after the mutual notices"
grep -q "Zoya Orlova" <<<"$m" && problem "the seized device added Zoya with no admin left"
grep -q "Mila Member" <<<"$m" || problem "Mila is not listed as a member of the second group"
grep -qi "admin" <<<"$(grep -v 'Mila Member' <<<"$m")" && problem "an admin is left: $m"
finish
