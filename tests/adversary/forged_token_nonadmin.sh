# A welcome token signed by a member who is not an admin. Nina is a member in good standing
# and holds every current key. (1) She forges Boris, a member, a token for the epoch he writes
# in with a secret she chose: refused with exit code 13, nothing changed, his next post reaches
# the group and not her mailbox. (2) She forges Vera, who was never added, a token with the
# group's real keys naming Nina's own add record: Vera can join (nothing held yet tells), but
# cannot post, and once a sync brings the add record `group list` says the token was refused
# and Vera holds none of its keys.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
setup_group
new_member nina "Nina Plant"
invite anna nina
as anna sync >/dev/null
as nina sync >/dev/null
as boris sync >/dev/null

# (1) A member as the victim.
boris_keys=$(adv home-epochs "$WORK/boris" "$WORK/boris.pass" "$GID")
secret=$(random_hex)
forged=$(adv forge-welcome "$WORK/nina" "$WORK/nina.pass" "$GID" "$(card_of boris)" \
  --secret "$secret" 2>"$WORK/forge.err") || fail "forging failed: $(cat "$WORK/forge.err")"
epoch=$(sed -n 's/^epoch \([0-9a-f]*\) .*/\1/p' "$WORK/forge.err")
grep -q "^$epoch [0-9a-f]* secret$" <<<"$boris_keys" || fail "the forged epoch is not Boris's"
rc=0
err=$(as boris group join "$forged" 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 13 ] || problem "Boris's join of Nina's token exited $rc, not 13 ($err)"
echo "Boris: exit $rc — $err"
[ "$(adv home-epochs "$WORK/boris" "$WORK/boris.pass" "$GID")" = "$boris_keys" ] ||
  problem "Boris's epoch keys changed"
as boris post "$G" "Boris after Nina's token"
as boris sync >/dev/null
as anna sync >/dev/null
reads anna "Boris after Nina's token" || problem "Boris's post did not reach Anna"
leak=$(adv mailbox-read "$RELAY" "$secret" "$GID" "$epoch" 2>/dev/null) || fail "mailbox-read failed"
grep -qF "Boris after Nina's token" <<<"$leak" && problem "Nina read Boris's post"

# (2) An outsider as the victim, with the group's real keys.
new_member vera "Vera Newcomer"
real_epoch=$(random_hex)  # an epoch id nobody holds: every real key Nina holds goes in as is
forged=$(adv forge-welcome "$WORK/nina" "$WORK/nina.pass" "$GID" "$(card_of vera)" \
  --epoch "$real_epoch" --add-record own 2>/dev/null) || fail "forging Vera's token failed"
as vera group join "$forged" >/dev/null || problem "Vera could not join at all (nothing held yet can tell)"
rc=0
as vera post "$GID" "Vera before any sync" 2>/dev/null || rc=$?
[ "$rc" -eq 8 ] || problem "Vera's post before a sync exited $rc, not 8"
as vera sync >/dev/null 2>&1 || true
adm=$(admission_of vera "$GID")
grep -q "refused" <<<"$adm" || problem "Vera's group list does not say the token was refused: '$adm'"
grep -q "Nina" <<<"$adm" || problem "the refusal does not name who signed the token: '$adm'"
echo "Vera: $adm"
[ -z "$(adv home-epochs "$WORK/vera" "$WORK/vera.pass" "$GID")" ] ||
  problem "Vera still holds keys from the refused token"
rc=0
as vera post "$GID" "Vera after the sync" 2>/dev/null || rc=$?
[ "$rc" -eq 8 ] || problem "Vera's post after the sync exited $rc, not 8"
as anna sync >/dev/null
reads anna "Vera after the sync" && problem "a post of Vera's reached the group"
finish
