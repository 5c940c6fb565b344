# A seized admin's waiting add after his removal (SECURITY.md row 72; docs/design.md §5.10). Quorum
# 2; admins Anna, Boris, Carol. The seized copy of Carol's device proposes adding Xena, an
# outsider, and hands her the token; Anna and Boris remove Carol. Carol's add still waits (a
# removal voids nothing of hers, and a waiting add cannot be refused), but no honest rotation
# after her removal hands Xena the control access of its epoch (control grants go only to adds
# whose proposer is still an admin): Xena, still "waiting", holds no control key of an epoch
# made after Carol's removal and reads nothing written after it, while the group goes on (Pavel
# added and approved, a rotation, a post).
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
start_relay
new_member anna "Anna Petrova"; new_member boris "Boris Ivanov"; new_member carol "Carol Smirnova"
new_member mark "Mark Member"; new_member xena "Xena Outsider"; new_member pavel "Pavel Later"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
for w in boris carol; do
  as "$w" group join "$(as anna group add "$G" "$(card_of "$w")" --admin 2>/dev/null)" >/dev/null
done
invite anna mark
as anna group quorum "$G" 2 >/dev/null
for w in anna boris carol mark; do as "$w" sync >/dev/null; done
GID=$(group_id anna "$G")
# The seized copy of Carol's device adds Xena; Xena joins with its token.
cp -a "$WORK/carol" "$WORK/seized"; cp "$WORK/carol.pass" "$WORK/seized.pass"
as seized group add "$G" "$(card_of xena)" > "$WORK/xena.token" 2>/dev/null
as xena group join "$(cat "$WORK/xena.token")" >/dev/null
as seized sync >/dev/null 2>&1 || true
for w in anna boris mark xena; do as "$w" sync >/dev/null 2>&1 || true; done
echo "Xena before: $(admission_of xena "$GID")"
# Anna and Boris remove Carol (Boris's approval rotates).
as anna group remove "$G" "Carol Smirnova" >/dev/null || fail "Anna cannot propose removing Carol"
as anna sync >/dev/null; as boris sync >/dev/null
id=$(as boris group pending "$G" --json | python3 -c '
import json, sys
print(next(p["id"] for p in json.load(sys.stdin) if p["kind"] == "remove" and p["target_name"] == "Carol Smirnova"))')
as boris group approve "$G" "${id:0:8}" >/dev/null || fail "Boris cannot approve Carol's removal"
as boris sync >/dev/null
for w in anna mark; do as "$w" sync >/dev/null 2>&1 || true; done
echo "Anna's pending after Carol's removal:"; as anna group pending "$G"
# Later life of the group: Anna proposes Pavel, Boris approves (another rotation); Anna rotates.
as pavel group join "$(as anna group add "$G" "$(card_of pavel)" 2>/dev/null)" >/dev/null
as anna sync >/dev/null; as boris sync >/dev/null
id=$(as boris group pending "$G" --json | python3 -c '
import json, sys
print(next(p["id"] for p in json.load(sys.stdin) if p["kind"] == "add" and p["target_name"] == "Pavel Later"))')
as boris group approve "$G" "${id:0:8}" >/dev/null || fail "Boris cannot approve Pavel"
as boris sync >/dev/null; as anna sync >/dev/null
as anna group rotate "$G" >/dev/null || fail "Anna cannot rotate"
as anna post "$G" "after Carol went" >/dev/null
as anna sync >/dev/null
for i in 1 2; do for w in xena pavel boris mark; do as "$w" sync >/dev/null 2>&1 || true; done; done
echo "Xena after: $(admission_of xena "$GID")"
ak=$(adv home-secrets "$WORK/anna" "$WORK/anna.pass" - | grep '^epoch-control:' | sort)
xk=$(adv home-secrets "$WORK/xena" "$WORK/xena.pass" - | grep '^epoch-control:' | sort)
# Epochs made after the seizure: those the seized copy never got.
ck=$(adv home-secrets "$WORK/seized" "$WORK/seized.pass" - | grep '^epoch-control:' | sort)
newer=$(comm -23 <(echo "$ak") <(echo "$ck"))
[ -n "$newer" ] || fail "setup: no epoch was made after Carol's removal"
shared=$(comm -12 <(echo "$newer") <(echo "$xk"))
[ -z "$shared" ] ||
  problem "the outsider added by a seized admin holds the control key of $(grep -c . <<<"$shared") epoch(s) made after the seized admin was removed"
posts=$(as xena read "$GID" --limit 100 2>&1) || true
grep -q "after Carol went" <<<"$posts" && problem "Xena reads a post written after Carol's removal"
finish
