# The honest path next to the attacks: a member who lost their welcome token gets it again.
# Anna adds Clara and the token is lost; `group token` issues it again without posting
# anything; Clara joins, syncs through the relay and writes. Re-adding an existing member is
# refused (exit 11, pointing at `group token`), and only an admin may issue a token (exit 8).
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
setup_group
new_member clara "Clara Smirnova"
as anna post "$G" "before Clara"
as anna group add "$G" "$(card_of clara)" >/dev/null 2>&1  # the token is lost
as anna post "$G" "after Clara was added"
as anna sync >/dev/null
as boris sync >/dev/null

err=$(as anna group add "$G" "$(card_of clara)" 2>&1 >/dev/null) && fail "re-adding Clara succeeded"
grep -q "group token" <<<"$err" || problem "re-adding an existing member does not point at group token: $err"
expect_exit 8 boris group token "$G" "Clara Smirnova"
expect_exit 7 anna group token "$G" "Nobody"
token=$(as anna group token "$G" "Clara Smirnova" 2>/dev/null) || fail "group token failed"
[[ "$token" == kolokol-welcome:* ]] || fail "group token printed no token: $token"
as anna sync --json | grep -q '"sent":0' || problem "issuing a token again posted something"

as clara group join "$token" >/dev/null || fail "Clara could not join with the token issued again"
as clara sync >/dev/null
[ -z "$(admission_of clara "$GID")" ] || problem "Clara's admission: $(admission_of clara "$GID")"
reads clara "after Clara was added" || problem "Clara cannot read what came after her add"
reads clara "before Clara" && problem "Clara reads what came before her add (no history was given)"
as clara post "$G" "Clara is in" || problem "Clara cannot post"
as clara sync >/dev/null
as anna sync >/dev/null
as boris sync >/dev/null
reads anna "Clara is in" || problem "Clara's post did not reach Anna"
reads boris "Clara is in" || problem "Clara's post did not reach Boris"
finish
