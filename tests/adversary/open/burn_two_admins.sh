# A burn notice that can never take effect: quorum 2 with two admins (docs/design.md §5.10,
# §5.11; SECURITY.md row 73). Anna (creator) and Clara are the group's admins, Mila a member;
# the quorum is 2, as "A group that fears a seizure sets K >= 2" advises. Clara is detained and
# her home is in other hands. Anna sends the burn notice (`group compromised`). `needed` =
# min(K, admins at the notice's position) = 2 counts Clara herself, so the notice waits for an
# approval that only the burned admin could give — and her approvals after it count for nothing
# anyway. The seized device then posts, and the others keep showing it; nothing Anna can do
# (remove, quorum 1, demote) gets past the same quorum.
# Row 73: "A burn notice makes every member reject what the seized member's keys sign that the
# notice has not seen ... also what the seized device signs while the notice waits".
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
start_relay
new_member anna "Anna Petrova"
new_member clara "Clara Seized"
new_member mila "Mila Member"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
as clara group join "$(as anna group add "$G" "$(card_of clara)" --admin 2>/dev/null)" >/dev/null
as mila group join "$(as anna group add "$G" "$(card_of mila)" 2>/dev/null)" >/dev/null
as anna group quorum "$G" 2 >/dev/null
for w in anna clara mila anna clara mila; do as $w sync >/dev/null 2>&1 || true; done
[ "$(as mila group quorum "$G" 2>&1 | grep -o '[0-9]\+' | head -1)" = 2 ] || fail "setup: quorum is not 2 at Mila: $(as mila group quorum "$G" 2>&1)"
as clara post "$G" "Clara: before the seizure" >/dev/null
as clara sync >/dev/null; as anna sync >/dev/null; as mila sync >/dev/null
reads mila "Clara: before the seizure" || fail "setup: Mila lacks Clara's post"
cp -a "$WORK/clara" "$WORK/seized"; cp "$WORK/clara.pass" "$WORK/seized.pass"

out=$(as anna group compromised "$G" "Clara Seized" 2>&1) || fail "group compromised failed: $out"
echo "anna: $out"
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
finish
