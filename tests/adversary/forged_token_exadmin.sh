# An admin who added someone, then was removed, forges the newcomer's token. Ivan (an admin)
# adds Vera; before she joins, Anna removes Ivan. Ivan signs Vera a token that names his own
# add of her — a valid add, written while he was an admin — and gives, for the epoch the group
# writes in now (the rotation that removed him), a secret he chose. Vera joins it and syncs
# through the relay: the group's rotation grants her the real key for that epoch, which proves
# the token forged. It must be refused, its keys dropped, Vera must write with the rotation's
# key (her post reaches Anna), and Ivan's mailbox must hold nothing of hers.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
setup_group
new_member ivan "Ivan Admin"
new_member vera "Vera Newcomer"
token=$(as anna group add "$G" "$(card_of ivan)" --admin 2>/dev/null)
as ivan group join "$token" >/dev/null
as anna sync >/dev/null
as ivan sync >/dev/null
as ivan group add "$G" "$(card_of vera)" >/dev/null 2>&1  # Vera's real token stays with Ivan
as ivan sync >/dev/null
as anna sync >/dev/null
as anna group remove "$G" "Ivan Admin" >/dev/null
as anna sync >/dev/null
as ivan sync >/dev/null 2>&1 || true
anna_keys=$(adv home-epochs "$WORK/anna" "$WORK/anna.pass" "$GID")

secret=$(random_hex)
forged=$(adv forge-welcome "$WORK/ivan" "$WORK/ivan.pass" "$GID" "$(card_of vera)" \
  --secret "$secret" --add-record victim 2>"$WORK/forge.err") ||
  fail "forging failed: $(cat "$WORK/forge.err")"
epoch=$(sed -n 's/^epoch \([0-9a-f]*\) .*/\1/p' "$WORK/forge.err")
grep -q "^$epoch [0-9a-f]* secret$" <<<"$anna_keys" || fail "the forged epoch is not the group's current one"

as vera group join "$forged" >/dev/null || problem "Vera could not join (nothing held yet can tell)"
as vera sync >/dev/null 2>&1 || true
adm=$(admission_of vera "$GID")
echo "Vera: $adm"
grep -q "refused" <<<"$adm" || problem "Vera's group list does not say the token was refused: '$adm'"
line=$(adv home-epochs "$WORK/vera" "$WORK/vera.pass" "$GID" | grep "^$epoch " || true)
[ "$line" = "$(grep "^$epoch " <<<"$anna_keys")" ] ||
  problem "Vera does not hold the group's key for the current epoch: '$line'"
as vera post "$GID" "Vera after Ivan's token" || problem "Vera cannot post with the rotation's key"
as vera sync >/dev/null
as anna sync >/dev/null
reads anna "Vera after Ivan's token" || problem "Vera's post did not reach Anna"
leak=$(adv mailbox-read "$RELAY" "$secret" "$GID" "$epoch" 2>"$WORK/read.err") ||
  fail "mailbox-read failed: $(cat "$WORK/read.err")"
grep -qF "Vera after Ivan's token" <<<"$leak" && problem "Ivan read Vera's post from his mailbox"
echo "ok: Ivan's mailbox: $(cat "$WORK/read.err")"
finish
