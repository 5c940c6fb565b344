# A genuine welcome token, replayed. Boris joined with it and synced; someone who kept the text
# (it is sealed to Boris, so only he can open it — but he can be made to paste it again) has
# him join again: refused with exit code 13, nothing changed. After Anna removes him, the same
# token must not bring him back either: the add it names was undone.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
start_relay
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
token=$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
as anna sync >/dev/null
as boris sync >/dev/null
GID=$(group_id anna "$G")
keys=$(adv home-epochs "$WORK/boris" "$WORK/boris.pass" "$GID")

rc=0
err=$(as boris group join "$token" 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 13 ] || problem "a replayed token exited $rc, not 13 ($err)"
grep -q "already a member" <<<"$err" || problem "the refusal does not say why: $err"
echo "replay: exit $rc — $err"
[ "$(adv home-epochs "$WORK/boris" "$WORK/boris.pass" "$GID")" = "$keys" ] ||
  problem "the replay changed Boris's keys"

as anna group remove "$G" "Boris Ivanov" >/dev/null
as anna sync >/dev/null
as boris sync >/dev/null 2>&1 || true
keys=$(adv home-epochs "$WORK/boris" "$WORK/boris.pass" "$GID")
rc=0
err=$(as boris group join "$token" 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 13 ] || problem "the old token after the removal exited $rc, not 13 ($err)"
echo "after the removal: exit $rc — $err"
[ "$(adv home-epochs "$WORK/boris" "$WORK/boris.pass" "$GID")" = "$keys" ] ||
  problem "the old token changed Boris's keys after his removal"
rc=0
as boris post "$G" "still here?" 2>/dev/null || rc=$?
[ "$rc" -eq 8 ] || problem "the removed member's post exited $rc, not 8"

# Re-added by Anna, he joins with the new token and writes again.
token=$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)
as anna sync >/dev/null
as boris group join "$token" >/dev/null || problem "the re-added member could not join"
as boris sync >/dev/null
as boris post "$G" "back again" || problem "the re-added member cannot post"
as boris sync >/dev/null
as anna sync >/dev/null
reads anna "back again" || problem "the re-added member's post did not reach Anna"
finish
