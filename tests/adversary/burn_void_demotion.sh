# A seized admin's demotion, void under the burn notice, still voids what the burning admin wrote
# (docs/design.md §5.4, §5.11; SECURITY.md rows 6, 73). Quorum 1; admins Anna, Boris and Clara,
# member Mila, through a real relay. Clara's home is in other hands. The seized copy, before it
# syncs, demotes Anna (`group role … member`: a SET_ROLE with a cutoff, strong remove on
# demotion) and syncs. Anna, who has not synced, sends the burn notice for Clara (rotation and
# alert in the same transaction), adds Zoya and posts. The notice counts from itself, so the
# seized demotion, concurrent with it, is dropped — but in the same round of the fixed point
# the demotion, still counted valid, drops Anna's concurrent control records, and the drop set
# only grows: at Boris and Mila (who got the demotion before the notice) Anna's rotation, her
# add of Zoya and the epoch they live in stay void although the demotion that voided them is
# itself void. Anna (who refused the demotion at ingest, after her notice) shows another group.
# Row 73: "The seized device cannot undo it"; "an alert ... is posted"; "every member holding
# the same records shows the same thing, whatever order they came in". Row 6: membership is a
# function of the record set.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
start_relay
new_member anna "Anna Petrova"; new_member boris "Boris Ivanov"; new_member clara "Clara Seized"
new_member mila "Mila Member"; new_member zoya "Zoya Orlova"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
for w in boris clara; do
  as $w group join "$(as anna group add "$G" "$(card_of $w)" --admin 2>/dev/null)" >/dev/null
done
as mila group join "$(as anna group add "$G" "$(card_of mila)" 2>/dev/null)" >/dev/null
for w in anna boris clara mila anna boris clara mila; do as $w sync >/dev/null 2>&1 || true; done
cp -a "$WORK/clara" "$WORK/seized"; cp "$WORK/clara.pass" "$WORK/seized.pass"

as seized group role "$G" "Anna Petrova" member >/dev/null 2>&1 || fail "the seized copy could not demote Anna"
as seized sync >/dev/null 2>&1 || true
out=$(as anna group compromised "$G" "Clara Seized" 2>&1) || fail "group compromised failed: $out"
grep -q "posted an alert" <<<"$out" || fail "with quorum 1 the notice did not take effect at once: $out"
token=$(as anna group add "$G" "$(card_of zoya)" 2>/dev/null) || fail "Anna could not add Zoya"
as anna post "$G" "Anna: after the notice" >/dev/null
for r in 1 2 3; do for w in anna boris mila seized; do as $w sync >/dev/null 2>&1 || true; done; done
as zoya group join "$token" >/dev/null 2>&1 || true
for r in 1 2; do for w in zoya anna boris mila; do as $w sync >/dev/null 2>&1 || true; done; done

members_of() {
  as "$1" group members "$G" --json | python3 -c 'import json,sys; print(sorted((m["name"], bool(m.get("admin"))) for m in json.load(sys.stdin)))'
}
ref=$(members_of anna)
echo "anna: $ref"
for w in boris mila; do
  m=$(members_of $w); echo "$w: $m"
  [ "$m" = "$ref" ] || problem "$w and Anna show different members"
  as $w group members "$G" | grep -q "Zoya Orlova" || problem "$w lost Anna's add of Zoya (voided by the void demotion)"
  as $w group members "$G" | grep -q "Clara Seized" && problem "$w still shows Clara"
  as $w alert list "$G" 2>/dev/null | grep -q "Burn notice" || problem "$w has no burn-notice alert"
  reads $w "Anna: after the notice" || problem "$w cannot read what Anna wrote after the notice"
done
as anna group members "$G" | grep "Anna Petrova" | grep -q admin || problem "Anna is no longer admin at Anna"
finish
