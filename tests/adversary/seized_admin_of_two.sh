# A seized admin of two tries to take the group over alone by burning the honest admin first
# (docs/design.md §5.10, §5.11; SECURITY.md rows 72, 73), through a real relay. Anna (creator)
# and Clara are the group's admins, Mila a member; the quorum is 2. Clara is detained and her
# home is in other hands. The seized copy sends a burn notice for Anna (`group compromised`): the
# one it is about never counts, and under a quorum of 2 or more a burn notice for an admin needs
# two admins, so it waits for good. Anna stays a member and an admin at every member, and the
# seized device's add of a new admin waits for Anna. Anna's own notice for Clara waits the same
# way: with exactly K admins every admin, a seized one too, has a veto (the documented limit:
# make at least K + 1 members admins, as `group quorum 2` warns).
# Then, in a second group with three admins (Anna, Boris, Clara) and a quorum of 3, Anna's
# notice for Clara takes effect with Boris's approval alone: Clara is gone at Mila.
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
cp -a "$WORK/clara" "$WORK/seized"; cp "$WORK/clara.pass" "$WORK/seized.pass"

out=$(as seized group compromised "$G" "Anna Petrova" 2>&1) || fail "the seized notice could not be written: $out"
echo "seized: $out"
grep -q "posted an alert" <<<"$out" && problem "the seized device's notice for Anna took effect at once: $out"
as seized sync >/dev/null 2>&1 || true
new_member zoya "Zoya Orlova"
as seized group add "$G" "$(card_of zoya)" --admin >/dev/null 2>&1 || echo "(the seized copy could not write an add)"
as seized sync >/dev/null 2>&1 || true
out=$(as anna group compromised "$G" "Clara Seized" 2>&1) || fail "Anna's notice could not be written: $out"
echo "anna: $out"
grep -q "posted an alert" <<<"$out" && problem "Anna's notice for Clara took effect at once with two admins: $out"
grep -q "cannot take effect" <<<"$out" ||
  problem "Anna is not told that her notice can never take effect with two admins: $out"
for r in 1 2; do for w in anna seized mila; do as $w sync >/dev/null 2>&1 || true; done; done
for w in anna mila seized; do
  m=$(as $w group members "$G" 2>&1); echo "$w: $m"
  grep "Anna Petrova" <<<"$m" | grep -qi admin || problem "$w does not show Anna as a member and admin"
  grep "Clara Seized" <<<"$m" | grep -qi admin || problem "$w does not show Clara as an admin while both notices wait"
  grep -q "Zoya Orlova" <<<"$m" && problem "$w shows Zoya, added by the seized device alone"
done
n=$(as mila group pending "$G" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" -ge 2 ] || problem "Mila does not list both notices as waiting ($n waiting)"

# Three admins under a quorum of 3: the two others complete a notice without the target.
G2="Support group Three"
new_member boris "Boris Admin"
as anna group create "$G2" >/dev/null
as anna group relay add "$G2" "$RELAY" >/dev/null
as boris group join "$(as anna group add "$G2" "$(card_of boris)" --admin 2>/dev/null)" >/dev/null
as clara group join "$(as anna group add "$G2" "$(card_of clara)" --admin 2>/dev/null)" >/dev/null
as mila group join "$(as anna group add "$G2" "$(card_of mila)" 2>/dev/null)" >/dev/null
as anna group quorum "$G2" 3 >/dev/null 2>&1
for w in anna boris clara mila anna boris clara mila; do as $w sync >/dev/null 2>&1 || true; done
[ "$(as mila group quorum "$G2" 2>&1 | grep -o '[0-9]\+' | head -1)" = 3 ] || fail "setup: quorum is not 3 at Mila"
out=$(as anna group compromised "$G2" "Clara Seized" 2>&1) || fail "Anna's notice in the second group failed: $out"
grep -q "cannot take effect" <<<"$out" && problem "Anna is told a notice that two other admins can complete cannot take effect: $out"
as anna sync >/dev/null 2>&1 || true; as boris sync >/dev/null 2>&1 || true
id=$(as boris group pending "$G2" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"][:8])')
as boris group approve "$G2" "$id" >/dev/null 2>&1 || fail "Boris could not approve the notice"
for r in 1 2; do for w in boris anna mila; do as $w sync >/dev/null 2>&1 || true; done; done
for w in anna boris mila; do
  m=$(as $w group members "$G2" 2>&1)
  grep -q "Clara Seized" <<<"$m" && problem "$w still shows Clara after Anna's and Boris's signatures: $m"
  grep "Anna Petrova" <<<"$m" | grep -qi admin || problem "$w does not show Anna as an admin: $m"
  grep "Boris Admin" <<<"$m" | grep -qi admin || problem "$w does not show Boris as an admin: $m"
done
finish
