# Row 27: "a redaction also voids what a carried copy (§13.9) took from its target, at every
# member, in either order of arrival". Boris (not an admin) wrote a contact with his home address
# by mistake; Anna carried it. Boris redacts it while Anna, offline, adds Dora without history:
# Anna's node copies the contact (naming Boris's write as the source) into the new epoch. The
# redaction was written in the old epoch, which Dora cannot open: does it still reach her copy?
# REDACTOR=clara: the same with the redaction by Clara, another admin ("an admin's in every copy").
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
start_relay
G="Legal support"
reach_of() { as "$1" contact list "$G" --all --json | python3 -c '
import json, sys
print(" ".join(str(c["fields"].get("reach")) for c in json.load(sys.stdin)))'; }
new_member anna Anna
new_member boris Boris
new_member dora Dora
new_member clara Clara
REDACTOR=${REDACTOR:-boris}
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
as boris group join "$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)" >/dev/null
as clara group join "$(as anna group add "$G" "$(card_of clara)" --admin 2>/dev/null)" >/dev/null
for w in anna boris clara; do as $w sync >/dev/null; done
as boris contact add "$G" --name "Lawyer Petrov" --role lawyer --reach "HOME: Sadovaya 1" >/dev/null
as boris sync >/dev/null; as anna sync >/dev/null; as clara sync >/dev/null
id=$(as anna contact list "$G" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
as anna contact carry "$G" "${id:0:8}" >/dev/null
# Boris redacts his own write; Anna has not synced since.
as $REDACTOR redact "$G" "${id:0:12}" --reason "a home address, by mistake" >/dev/null ||
  fail "$REDACTOR could not redact"
as $REDACTOR sync >/dev/null
# Anna adds Dora (without history) before she syncs: her copy takes the value.
as dora group join "$(as anna group add "$G" "$(card_of dora)" 2>/dev/null)" >/dev/null
for r in 1 2; do for w in anna boris clara dora; do as $w sync >/dev/null 2>&1 || true; done; done
echo "reach at Anna: $(reach_of anna)"
echo "reach at Boris: $(reach_of boris)"
echo "reach at Dora: $(reach_of dora)"
[[ "$(reach_of anna)" != *Sadovaya* ]] || fail "setup: the redaction did not apply at Anna"
[[ "$(reach_of dora)" == *Sadovaya* || "$(reach_of dora)" == "" || "$(reach_of dora)" == None* ]] ||
  true
if [[ "$(reach_of dora)" == *Sadovaya* ]]; then
  problem "row 27: $REDACTOR's redaction of Boris's write, written before Dora's add, never reaches \
the carried copy at Dora (she shows the redacted home address; the others do not)"
fi
finish
