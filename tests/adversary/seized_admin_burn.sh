# A seized admin, burned by the other admins (docs/design.md §5.11, SECURITY.md "Burn notice").
# Quorum 2; admins Anna, Boris and Clara, member Mila, through a real relay. Clara is detained:
# her home, copied, is in other hands ("seized"). Anna sends the burn notice (`group
# compromised`); it waits for a second admin. The seized device, not having synced, posts with
# its clock set back an hour (kolokol-testhooks, KOLOKOL_FAKE_NOW_MS) and proposes Anna's
# removal; then it syncs, sees the notice waiting, and hurries: it points the group at a relay
# of its own and posts again. Boris syncs — he holds all of that — and approves the notice.
# Promises: what the seized keys sign that the notice has not seen is rejected by every member,
# whatever time it claims — also the control record Boris had seen before approving (a plain
# removal would count from his approval and keep it); the counter-removal never takes effect;
# Anna, Boris and Mila agree on the members; an alert tells the group; what Clara wrote before
# the seizure stays.
# The same attack runs at once in a second group of the same four with quorum 1 ("$G1"): there
# the notice takes effect at once, and the seized device's counter-removal, written before it
# synced, is one admin's word against another's — the documented outcome (design §5.11) is
# mutual removal: Clara and Anna both go, Boris stays admin, Boris and Mila agree, and nothing
# the seized device signed after the notice is shown.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
[ -x "${KOLOKOL_TESTHOOKS:-}" ] || fail "KOLOKOL_TESTHOOKS (the test build with a settable clock) is not set"
# as_hooks WHO ... — WHO's kolokol, the test build, with the clock at $FAKE_NOW.
as_hooks() {
  local who=$1; shift
  KOLOKOL_HOME="$WORK/$who" KOLOKOL_PASSPHRASE_FILE="$WORK/$who.pass" \
    KOLOKOL_FAKE_NOW_MS="$FAKE_NOW" "$KOLOKOL_TESTHOOKS" "$@"
}
members_of() {
  as "$1" group members "$G" --json | python3 -c 'import json,sys; print(sorted(m["key"] for m in json.load(sys.stdin)))'
}
relays_of() { as "$1" group relay list "$G" 2>&1; }

G1="Support group One"
start_relay
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member clara "Clara Seized"
new_member mila "Mila Member"
for group in "$G" "$G1"; do
  as anna group create "$group" >/dev/null
  as anna group relay add "$group" "$RELAY" >/dev/null
  for w in boris clara; do
    token=$(as anna group add "$group" "$(card_of $w)" --admin 2>/dev/null)
    as $w group join "$token" >/dev/null
  done
  token=$(as anna group add "$group" "$(card_of mila)" 2>/dev/null)
  as mila group join "$token" >/dev/null
done
"$KOLOKOL_ADVERSARY" set-quorum "$WORK/anna" "$WORK/anna.pass" "$G" 2 ||
  fail "setup: the quorum could not be set"
for w in anna boris clara mila anna boris clara mila; do as $w sync >/dev/null 2>&1 || true; done
as clara post "$G" "Clara: before the seizure" >/dev/null
as clara post "$G1" "Clara: before the seizure" >/dev/null
as clara sync >/dev/null
for w in anna boris mila; do as $w sync >/dev/null; done
reads mila "Clara: before the seizure" || fail "setup: Mila lacks Clara's post"
cp -a "$WORK/clara" "$WORK/seized"; cp "$WORK/clara.pass" "$WORK/seized.pass"

out=$(as anna group compromised "$G" "Clara Seized") || fail "group compromised failed: $out"
echo "$out"
grep -q "1 more approval" <<<"$out" || problem "the notice does not say it waits for one more approval"
notice=$(grep -o '([0-9a-f]\{16\})' <<<"$out" | tr -d '()')
[ -n "$notice" ] || fail "the notice's id is not in the output"
out1=$(as anna group compromised "$G1" "Clara Seized") || fail "group compromised (quorum 1) failed: $out1"
grep -q "posted an alert" <<<"$out1" || problem "with quorum 1 the notice does not take effect at once"
as anna sync >/dev/null

# The seized device, before it syncs: a back-dated post and a counter-removal of Anna.
FAKE_NOW=$(( $(date +%s%3N) - 3600000 ))
for group in "$G" "$G1"; do
  as_hooks seized post --no-send "$group" "seized: back-dated an hour" >/dev/null ||
    fail "the seized copy could not post"
  err=$(as_hooks seized group remove "$group" "Anna Petrova" 2>&1) ||
    fail "the seized copy could not remove (propose removing) Anna in $group: $err"
done
as seized sync >/dev/null 2>&1 || true
# Now it has seen the notice: its own relay for the group, and another post (with quorum 1 it
# is no member any more, and its own kolokol refuses to write).
hostile="kolokol://127.0.0.1:9/$(python3 -c 'import base64,os; print(base64.b32encode(os.urandom(32)).decode().lower().rstrip("="))')"
as seized group relay add "$G" "$hostile" >/dev/null 2>&1 || fail "the seized copy could not add a relay"
as seized post "$G" "seized: after seeing the notice" >/dev/null || fail "the seized copy could not post again"
as seized post "$G1" "seized: after seeing the notice" >/dev/null 2>&1 || true
as seized sync >/dev/null 2>&1 || true

as boris sync >/dev/null 2>&1 || true
relays_of boris | grep -q "127.0.0.1:9/" || fail "setup: Boris does not hold the seized device's relay change"
"$KOLOKOL_ADVERSARY" approve "$WORK/boris" "$WORK/boris.pass" "$G" "$notice" ||
  fail "Boris could not approve the notice"
as boris sync >/dev/null 2>&1 || true
as seized post "$G" "seized: after the rotation" >/dev/null 2>&1 || true
as seized sync >/dev/null 2>&1 || true
for round in 1 2; do
  for w in anna boris mila; do as $w sync >/dev/null 2>&1 || true; done
done

ref=$(members_of anna)
for w in anna boris mila; do
  m=$(members_of $w)
  [ "$m" = "$ref" ] || problem "$w and Anna show different members"
  as $w group members "$G" | grep -q "Clara Seized" && problem "$w still shows Clara as a member"
  as $w group members "$G" | grep -q "Anna Petrova" || problem "$w no longer shows Anna (the counter-removal took effect)"
  reads $w "Clara: before the seizure" || problem "$w lost Clara's post from before the seizure"
  for t in "seized: back-dated an hour" "seized: after seeing the notice" "seized: after the rotation"; do
    reads $w "$t" && problem "$w shows \"$t\""
  done
  relays_of $w | grep -q "127.0.0.1:9/" && problem "$w keeps the relay the seized device added"
  as $w alert list "$G" | grep -q "Burn notice" || problem "$w has no burn-notice alert"
done
[ "$(members_of anna | tr -cd ',' | wc -c)" = 2 ] || problem "the group does not have three members left"

# Quorum 1: mutual removal, the same at Boris and Mila.
members1_of() {
  as "$1" group members "$G1" --json | python3 -c 'import json,sys; print(sorted(m["name"] for m in json.load(sys.stdin)))'
}
m1=$(members1_of boris)
[ "$m1" = "['Boris Ivanov', 'Mila Member']" ] || problem "quorum 1: Boris shows $m1, not Boris and Mila (mutual removal)"
[ "$(members1_of mila)" = "$m1" ] || problem "quorum 1: Mila and Boris show different members"
as boris group members "$G1" | grep "Boris Ivanov" | grep -q admin || problem "quorum 1: Boris is no longer admin"
for w in boris mila; do
  as $w read "$G1" --limit 100000 --json | grep -qF '"text": "Clara: before the seizure"' ||
    problem "quorum 1: $w lost Clara's post from before the seizure"
  for t in "seized: back-dated an hour" "seized: after seeing the notice"; do
    as $w read "$G1" --limit 100000 --json | grep -qF "\"text\": \"$t\"" &&
      problem "quorum 1: $w shows \"$t\""
  done
done
# Anna's rotation went with her: Boris's sync rotated again, and the group goes on.
as boris post "$G1" "Boris: the two of us go on" >/dev/null || problem "quorum 1: Boris cannot post"
as boris sync >/dev/null 2>&1 || true
as mila sync >/dev/null 2>&1 || true
as mila read "$G1" --limit 100000 --json | grep -qF '"text": "Boris: the two of us go on"' ||
  problem "quorum 1: Mila does not get Boris's post"
finish
