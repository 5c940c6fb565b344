# A burn notice for an admin under a quorum of 2 never takes effect once the burned admin's
# device has rotated the key after the notice was written: the approval that should complete
# the notice is written in the epoch of that rotation, the notice drops the rotation (a control
# record of the burned admin not in its past, docs/design.md §5.11 point 1), which voids every
# op written in its epoch (§5.4) — the completing approval too — so the notice waits, so the
# rotation stands, so the approval is valid... The rounds alternate and "both rounds' drops
# stand": the seized device's rotation *and* the honest approval are dropped, the notice waits
# for good, and everything the seized device signs meanwhile stands at every member.
# SECURITY.md rows 72 and 73 ("with three admins ... the two others complete it"; "also what
# the seized device signs while the notice waits"); docs/design.md §5.4, §5.10, §5.11.
# Quorum 2; admins Anna, Boris, Clara (seized), member Mila, through a real relay.
#   Anna sends the burn notice for Clara (waits for one more admin). The seized copy syncs, sees
#   it, and rotates: by default `rekey` then `sync` (its own key update makes its maintain
#   rotate); KOLOKOL_VARIANT=rotate: `group rotate`; KOLOKOL_VARIANT=approve: it approves a
#   waiting add of Boris's, which rotates in the same transaction; KOLOKOL_VARIANT=rekey: it only
#   runs `sync` after Mila's `rekey` (the notice not yet seen: concurrent). KOLOKOL_VARIANT=none
#   is the control run (no rotation by the seized copy: the notice takes effect). Boris then
#   approves Anna's notice: it stays "1 of 2" at every member, Clara stays an admin, and her
#   post written after the notice is shown everywhere. The seized copy repeats it for a second
#   notice (it waits too); only a plain removal, which counts from its completing approval,
#   removes her — and then what she signed after the notice stays shown.
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
VARIANT=${KOLOKOL_VARIANT:-selfrekey}
start_relay
new_member anna "Anna Petrova"; new_member boris "Boris Ivanov"; new_member clara "Clara Seized"
new_member mila "Mila Member"; new_member zoya "Zoya Orlova"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
for w in boris clara; do
  as $w group join "$(as anna group add "$G" "$(card_of $w)" --admin 2>/dev/null)" >/dev/null
done
invite anna mila
as anna group quorum "$G" 2 >/dev/null 2>&1
for r in 1 2; do for w in anna boris clara mila; do as $w sync >/dev/null 2>&1 || true; done; done
[ "$(as mila group quorum "$G" 2>&1 | grep -o '[0-9]\+' | head -1)" = 2 ] || fail "setup: quorum is not 2 at Mila"
members_of() {
  as "$1" group members "$G" --json |
    python3 -c 'import json,sys; print(";".join(sorted(m["name"] + (" admin" if m["admin"] else "") for m in json.load(sys.stdin))))'
}
pending_id() {  # pending_id WHO KIND-FILTER — first 8 hex digits of a waiting proposal
  as "$1" group pending "$G" --json | python3 -c '
import json,sys
want = sys.argv[1]
for p in json.load(sys.stdin):
    if (want == "burn") == bool(p.get("compromised")) and (want == "burn" or p["kind"] == want):
        print(p["id"][:8]); break' "$2"
}
cp -a "$WORK/clara" "$WORK/seized"; cp "$WORK/clara.pass" "$WORK/seized.pass"
if [ "$VARIANT" = approve ] || [ "$VARIANT" = none ]; then
  as boris group add "$G" "$(card_of zoya)" > "$WORK/zoya.token" 2>/dev/null || fail "Boris could not propose adding Zoya"
  as boris sync >/dev/null 2>&1 || true
  as anna sync >/dev/null 2>&1 || true
  out=$(as anna group compromised "$G" "Clara Seized" 2>&1) || fail "Anna's notice: $out"
  echo "anna: $out"
  as anna sync >/dev/null 2>&1 || true
  as seized sync >/dev/null 2>&1 || true
elif [ "$VARIANT" = selfrekey ] || [ "$VARIANT" = rotate ]; then
  # The seized copy sees the notice and only then replaces its own key: its `sync` rotates.
  out=$(as anna group compromised "$G" "Clara Seized" 2>&1) || fail "Anna's notice: $out"
  echo "anna: $out"
  as anna sync >/dev/null 2>&1 || true
  as seized sync >/dev/null 2>&1 || true
  as seized group pending "$G" 2>&1 | grep -q "burn notice" || fail "the seized copy does not see the notice"
  if [ "$VARIANT" = rotate ]; then as seized group rotate "$G" >/dev/null 2>&1 || fail "the seized copy could not rotate"
  else as seized rekey >/dev/null 2>&1 || as seized rekey "$G" >/dev/null 2>&1 || fail "the seized copy could not rekey"; fi
  echo "seized: $(as seized sync 2>&1 | tr '\n' ' ')"
else
  # Anna writes the notice; before it reaches the relay, Mila replaces her key and the seized
  # copy's routine `sync` (its maintain) rotates for it.
  out=$(as anna group compromised "$G" "Clara Seized" 2>&1) || fail "Anna's notice: $out"
  echo "anna: $out"
  as mila rekey >/dev/null 2>&1 || as mila rekey "$G" >/dev/null 2>&1 || fail "Mila could not rekey"
  as mila sync >/dev/null 2>&1 || true
  echo "seized: $(as seized sync 2>&1 | tr '\n' ' ')"
  as anna sync >/dev/null 2>&1 || true
fi
if [ "$VARIANT" = approve ]; then
  id=$(pending_id seized add)
  [ -n "$id" ] || fail "the seized copy sees no waiting add"
  echo "seized approves the add: $(as seized group approve "$G" "$id" 2>&1 | head -2 | tr '\n' ' ')"
fi
as seized sync >/dev/null 2>&1 || true
echo "seized epochs: $(adv home-epochs "$WORK/seized" "$WORK/seized.pass" "$G" 2>&1 | wc -l)"
as boris sync >/dev/null 2>&1 || true
nid=$(pending_id boris burn)
[ -n "$nid" ] || fail "Boris sees no waiting notice"
echo "boris: $(as boris group approve "$G" "$nid" 2>&1 | head -2 | tr '\n' ' ')"
for r in 1 2; do for w in boris anna mila; do as $w sync >/dev/null 2>&1 || true; done; done
# The seized device writes after all of it.
as seized sync >/dev/null 2>&1 || true
as seized post "$G" "seized device writes after the notice" >/dev/null 2>&1 || true
as seized sync >/dev/null 2>&1 || true
for r in 1 2; do for w in anna boris mila; do as $w sync >/dev/null 2>&1 || true; done; done
for w in anna boris mila; do
  m=$(members_of $w); echo "$w: $m"
  grep -q "Clara" <<<"$m" && problem "$w still shows Clara (burn notice proposed by Anna, approved by Boris)"
  as $w group pending "$G" 2>&1 | grep -i "burn notice" | sed "s/^/  $w pending: /" || true
  reads $w "seized device writes after the notice" && problem "$w shows the seized device's post written after the notice"
done
# The seized device can do it again: Anna's second notice, the seized copy rotates once it sees
# it, Boris approves — it waits as well. (REPEAT=0 skips this.)
if [ "${REPEAT:-1}" = 1 ]; then
  out=$(as anna group compromised "$G" "Clara Seized" 2>&1) || true
  echo "anna's second notice: $out"
  as anna sync >/dev/null 2>&1 || true
  as seized sync >/dev/null 2>&1 || true
  as seized group rotate "$G" >/dev/null 2>&1 || echo "(the seized copy could not rotate again)"
  as seized sync >/dev/null 2>&1 || true
  as boris sync >/dev/null 2>&1 || true
  nid2=$(as boris group pending "$G" --json | python3 -c '
import json,sys
ids = [p["id"][:8] for p in json.load(sys.stdin) if p.get("compromised") and not p["id"].startswith(sys.argv[1])]
print(ids[0] if ids else "")' "$nid")
  [ -n "$nid2" ] && echo "boris on the second: $(as boris group approve "$G" "$nid2" 2>&1 | head -1)"
  for r in 1 2; do for w in boris anna mila; do as $w sync >/dev/null 2>&1 || true; done; done
  m=$(members_of mila); echo "after a second notice, mila: $m"
  grep -q Clara <<<"$m" && problem "a second notice, approved by Boris, waits too (the seized copy rotated again)"
  # What still works: a plain removal under the quorum (it counts from its completing approval).
  as anna group remove "$G" "Clara Seized" >/dev/null 2>&1 || echo "(Anna could not propose a removal)"
  as anna sync >/dev/null 2>&1 || true
  as seized sync >/dev/null 2>&1 || true; as seized group rotate "$G" >/dev/null 2>&1 || true; as seized sync >/dev/null 2>&1 || true
  as boris sync >/dev/null 2>&1 || true
  rid=$(as boris group pending "$G" --json | python3 -c '
import json,sys
print(next((p["id"][:8] for p in json.load(sys.stdin) if p["kind"] == "remove" and not p.get("compromised")), ""))')
  [ -n "$rid" ] && echo "boris on the plain removal: $(as boris group approve "$G" "$rid" 2>&1 | head -1)"
  for r in 1 2; do for w in boris anna mila; do as $w sync >/dev/null 2>&1 || true; done; done
  echo "after a plain removal, mila: $(members_of mila)"
  reads mila "seized device writes after the notice" && echo "  (the seized device's post after the first notice is still shown at Mila)"
fi
finish
