# Finding 1: a removed member forges a welcome token for a member who stayed. Mallory keeps
# the genesis, the rotation that shut him out (sealed in an epoch he held, so he knows the new
# epoch's id) and Boris's card; he signs a token with his own key that names Boris's real add
# record and gives, for the epoch Boris writes in, a secret Mallory chose. Boris is persuaded to
# "join again". The join must be refused with exit code 13 and change nothing; Boris's next
# post must still reach the group through the relay; and the mailbox Mallory's secret opens on
# the relay must hold nothing Boris wrote.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
setup_group
new_member mallory "Mallory Informer"
invite anna mallory
as anna sync >/dev/null
as mallory sync >/dev/null
as boris post "$G" "before the removal"
as boris sync >/dev/null
as anna group remove "$G" "Mallory Informer" >/dev/null
as anna sync >/dev/null
as mallory sync >/dev/null 2>&1 || true
as boris sync >/dev/null

boris_keys=$(adv home-epochs "$WORK/boris" "$WORK/boris.pass" "$GID")
secret=$(random_hex)
forged=$(adv forge-welcome "$WORK/mallory" "$WORK/mallory.pass" "$GID" "$(card_of boris)" \
  --secret "$secret" 2>"$WORK/forge.err") || fail "forging failed: $(cat "$WORK/forge.err")"
epoch=$(sed -n 's/^epoch \([0-9a-f]*\) .*/\1/p' "$WORK/forge.err")
# The attack is the real one: the epoch is the one Boris holds the secret of and writes in, and
# Mallory holds no key to it.
grep -q "^$epoch [0-9a-f]* secret$" <<<"$boris_keys" || fail "the forged epoch is not Boris's"
if adv home-epochs "$WORK/mallory" "$WORK/mallory.pass" "$GID" | grep -q "^$epoch "; then
  fail "Mallory holds the current epoch: the removal did not rotate"
fi
echo "ok: Mallory forged a token for epoch ${epoch:0:16}… with a secret of his own"

rc=0
err=$(as boris group join "$forged" 2>&1 >/dev/null) || rc=$?
if [ "$rc" -ne 13 ]; then
  problem "Boris's join of the forged token exited $rc, not 13 ($err)"
else
  [ "$(printf '%s\n' "$err" | grep -c .)" -eq 1 ] || problem "more than one line of error: $err"
  grep -q "forged" <<<"$err" || problem "the refusal does not say the token is forged: $err"
  echo "ok: refused — $err"
fi
[ "$(adv home-epochs "$WORK/boris" "$WORK/boris.pass" "$GID")" = "$boris_keys" ] ||
  problem "Boris's epoch keys changed"

as boris post "$G" "after the forged token"
as boris sync >/dev/null
as anna sync >/dev/null
reads anna "after the forged token" || problem "Boris's post did not reach Anna through the relay"
reads boris "before the removal" || problem "Boris lost his own history"
leak=$(adv mailbox-read "$RELAY" "$secret" "$GID" "$epoch" 2>"$WORK/read.err") ||
  fail "mailbox-read failed: $(cat "$WORK/read.err")"
if grep -qF "after the forged token" <<<"$leak"; then
  problem "Mallory read Boris's post from the mailbox of his own secret"
fi
echo "ok: Mallory's mailbox: $(cat "$WORK/read.err")"
finish
