# A redaction must reach a carried copy (SECURITY.md row 27); it once did not. Two ways:
# 1. Anna, an admin, carries the lawyer contact; by mistake its reach is set to the lawyer's home
#    address. Carol is added without history, so Anna's node copies the contact into the new
#    epoch. Anna redacts the mistaken write: every member applies the redaction, yet Carol keeps
#    showing the home address (the copy holds it), and every member's store keeps it in the copy.
# 2. Boris, not an admin, wrote a contact; an admin carries it and adds Carol. Boris redacts his
#    own write: Carol still shows it, and Boris may not redact the copy (its author is the admin).
# The fix: a copy names the write each field comes from (and its author), and a standing
# redaction of one of them voids what the copy took from it, at every member, before or after
# the copy arrives (an admin's redaction in every copy, the author's in copies naming him).
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
start_relay
G="Legal support"
reach_of() { as "$1" contact list "$G" --all --json | python3 -c '
import json, sys
print(" ".join(str(c["fields"].get("reach")) for c in json.load(sys.stdin)))'; }

# 1. An admin's own mistaken write.
new_member anna Anna
new_member boris Boris
new_member carol Carol
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
as boris group join "$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)" >/dev/null
as anna contact add "$G" --name "Lawyer Ivanova" --role lawyer --reach "office +7 900 000-00-01" \
  --carry >/dev/null
id=$(as anna contact list "$G" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
as anna contact set "$G" "${id:0:8}" --reach "HOME: Lesnaya 5 apt 12" >/dev/null
rec=$(as anna contact list "$G" --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["set_by"]["reach"]["record"])')
as anna sync >/dev/null; as boris sync >/dev/null
as carol group join "$(as anna group add "$G" "$(card_of carol)" 2>/dev/null)" >/dev/null
as anna sync >/dev/null; as carol sync >/dev/null
[[ "$(reach_of carol)" == *Lesnaya* ]] || fail "the carried contact did not reach the newcomer"
as anna redact "$G" "${rec:0:12}" --reason "a private address, by mistake" >/dev/null
for w in anna boris carol; do as $w sync >/dev/null; done
[[ "$(reach_of anna)" != *Lesnaya* ]] || fail "the redaction did not apply at its author"
[[ "$(reach_of carol)" != *Lesnaya* ]] || problem "row 27: a redacted write still shows at a \
newcomer through its carried copy"

# 2. A member's own write, carried by an admin.
new_member dora Dora
as anna post "$G" "Dora joins soon" >/dev/null
as boris contact add "$G" --name "Lawyer Petrov" --role lawyer --reach "HOME: Sadovaya 1" \
  >/dev/null
as boris sync >/dev/null; as anna sync >/dev/null
id2=$(as anna contact list "$G" --json | python3 -c '
import json, sys
print([c["id"] for c in json.load(sys.stdin) if c["fields"].get("name") == "Lawyer Petrov"][0])')
as anna contact carry "$G" "${id2:0:8}" >/dev/null
as dora group join "$(as anna group add "$G" "$(card_of dora)" 2>/dev/null)" >/dev/null
as anna sync >/dev/null; as dora sync >/dev/null; as boris sync >/dev/null
[[ "$(reach_of dora)" == *Sadovaya* ]] || fail "the second carried contact did not reach Dora"
as boris redact "$G" "${id2:0:12}" --reason "my mistake" >/dev/null || fail "Boris could not \
redact his own write"
for w in boris anna dora; do as $w sync >/dev/null; done
[[ "$(reach_of dora)" != *Sadovaya* ]] || problem "row 27: an author's redaction of his own \
write does not reach its carried copy, and the copy is not his to redact"
finish
