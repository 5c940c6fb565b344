# A burn notice with `--at` earlier than the adds it depends on hands the group to the burned
# member (docs/design.md §5.11 point 3, §5.4; SECURITY.md row 73, and row 72 for the second part).
#
# Group A, quorum 1 — honest use. Anna creates the group and sets its relay; at time T her
# laptop is imaged (the admins learn it later); then she adds Boris (admin), Clara (admin) and
# Mila, and everyone posts. Boris, learning that Anna's device has been in other hands since T,
# sends `group compromised A "Anna Petrova" --at T`. The fold drops Anna's control records
# stamped after T — her adds of Boris, Clara and Mila — so Boris is no member at his own
# notice's position and the notice becomes invalid; but the drops it caused stay (the drop set
# only grows). Every member then shows Anna — the burned member — as the group's only member
# and admin; Boris, Clara and Mila are "removed", all history is out of view.
#
# Group B, quorum 2 — hostile use. Sasha's device is seized; it proposes
# `group compromised B "Anna Petrova" --at 2001-01-01`. Boris is shown "remove Anna Petrova"
# (see burn_at_shown_as_removal.sh) and approves. The same collapse: one seized admin plus one
# approval of what was shown as a plain removal of one member removes every member but Anna.
#
# Row 73: the notice makes every member reject what the burned member's keys sign; "the seized
# device cannot undo it". Row 72: under K = 2 one admin's device alone changes no membership.

source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
GA="Support group A"; GB="Support group B"
start_relay
new_member anna "Anna Petrova"; new_member boris "Boris Ivanov"; new_member clara "Clara Admin"
new_member sasha "Sasha Seized"; new_member mila "Mila Member"
for g in "$GA" "$GB"; do
  as anna group create "$g" >/dev/null
  as anna group relay add "$g" "$RELAY" >/dev/null
done
sleep 2; T=$(date -u +%Y-%m-%dT%H:%M:%SZ); sleep 2
for w in boris clara; do
  as $w group join "$(as anna group add "$GA" "$(card_of $w)" --admin 2>/dev/null)" >/dev/null
done
for w in boris sasha; do
  as $w group join "$(as anna group add "$GB" "$(card_of $w)" --admin 2>/dev/null)" >/dev/null
done
for g in "$GA" "$GB"; do
  as mila group join "$(as anna group add "$g" "$(card_of mila)" 2>/dev/null)" >/dev/null
done
as anna group quorum "$GB" 2 >/dev/null
for w in anna boris clara sasha mila anna boris clara sasha mila; do as $w sync >/dev/null 2>&1 || true; done
for g in "$GA" "$GB"; do
  as mila post "$g" "Mila: hello" >/dev/null 2>&1 || true
  as boris post "$g" "Boris: hello" >/dev/null 2>&1 || true
done
for w in mila boris anna clara sasha; do as $w sync >/dev/null 2>&1 || true; done
readsg() { as "$1" read "$2" --limit 100000 --json 2>/dev/null | grep -qF "\"text\": \"$3\""; }
readsg boris "$GA" "Mila: hello" || fail "setup: Boris lacks Mila's post in A"

# A: the honest notice, anna imaged at T.
out=$(as boris group compromised "$GA" "Anna Petrova" --at "$T" 2>&1) || fail "group compromised failed: $out"
echo "boris (A): $(tail -1 <<<"$out")"
# B: the seized Sasha's notice, approved by Boris.
out=$(as sasha group compromised "$GB" "Anna Petrova" --at 2001-01-01T00:00:00Z 2>&1) || fail "Sasha's notice failed: $out"
as sasha sync >/dev/null 2>&1 || true; as boris sync >/dev/null 2>&1 || true
id=$(as boris group pending "$GB" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"][:8])')
echo "boris (B): $(as boris group approve "$GB" "$id" 2>&1 | head -1)"
for r in 1 2 3; do for w in boris clara mila anna sasha; do as $w sync >/dev/null 2>&1 || true; done; done

gid_of() { as "$1" group list --json | python3 -c '
import json,sys
print(json.load(sys.stdin)[int(sys.argv[1])]["id"][:16])' "$2"; }
names_of() { as "$1" group members "$2" --json 2>/dev/null | python3 -c 'import json,sys; print(sorted(m["name"] for m in json.load(sys.stdin)))'; }
for idx in 0 1; do
  ga=$(gid_of boris $idx)
  for w in boris mila; do
    m=$(names_of $w "$ga"); echo "group $idx at $w: $m"
    grep -q "Anna Petrova" <<<"$m" && problem "group $idx: $w shows the burned Anna as a member"
    grep -q "Boris Ivanov" <<<"$m" || problem "group $idx: $w shows Boris (the notice's honest author/approver) removed"
    grep -q "Mila Member" <<<"$m" || problem "group $idx: $w shows Mila removed"
    readsg $w "$ga" "Mila: hello" || problem "group $idx: $w lost Mila's post"
  done
done
finish
