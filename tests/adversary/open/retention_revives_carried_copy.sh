# Rows 27 and 30 with §13.8/§13.9: a redaction voids what a carried copy took from its target
# only while the redaction's note is held. Retention deletes a record "with its redaction notes"
# by its author's clock; a copy written after the redaction is kept longer. Boris (not an admin)
# redacts his contact with his home address; Anna, who has not synced, adds Dora without
# history, so her copy (written later) carries the address. Every old member applies the
# redaction (Dora cannot: it is in the old epoch). Then Anna sets a retention period that
# expires the contact and the redaction, not the copy. Does the redacted address show again?
# The day a shorter period waits (§13.8) is stood in for by moving every row's received_ms back
# 25 hours with sqlcipher while no process runs — the one thing a real day would also change
# that matters here (the period is a minute, so the copy, younger than a minute, is kept, as a
# copy four days old is under a seven-day period).
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
command -v sqlcipher >/dev/null || fail "needs the sqlcipher shell"
q() {
  local key
  key=$(adv home-secrets "$WORK/$1" "$WORK/$1.pass" - | awk '$1 == "database-key" {print $2}')
  sqlcipher "$WORK/$1/store.db" <<SQL 2>/dev/null | grep -v '^ok$' || true
PRAGMA key = "x'$key'";
PRAGMA cipher_page_size = 4096;
$2
SQL
}
start_relay
G="Legal support"
reach_of() { as "$1" contact list "$G" --all --json | python3 -c '
import json, sys
print(" ".join(str(c["fields"].get("reach")) for c in json.load(sys.stdin)))'; }
new_member anna Anna
new_member boris Boris
new_member dora Dora
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RELAY" >/dev/null
as boris group join "$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)" >/dev/null
as anna sync >/dev/null; as boris sync >/dev/null
as boris contact add "$G" --name "Lawyer Petrov" --role lawyer --reach "HOME: Sadovaya 1" >/dev/null
as boris sync >/dev/null; as anna sync >/dev/null
id=$(as anna contact list "$G" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
as anna contact carry "$G" "${id:0:8}" >/dev/null
as boris redact "$G" "${id:0:12}" --reason "my home address, by mistake" >/dev/null
as boris sync >/dev/null
sleep 45
as dora group join "$(as anna group add "$G" "$(card_of dora)" 2>/dev/null)" >/dev/null
for r in 1 2; do for w in anna boris dora; do as $w sync >/dev/null 2>&1 || true; done; done
echo "before retention: Anna: $(reach_of anna); Boris: $(reach_of boris); Dora: $(reach_of dora)"
[[ "$(reach_of anna)" != *Sadovaya* ]] || fail "setup: the redaction did not apply at Anna"
sleep 20
as anna group retention "$G" 1m >/dev/null
for r in 1 2; do for w in anna boris dora; do as $w sync >/dev/null 2>&1 || true; done; done
for w in anna boris dora; do q $w "UPDATE records SET received_ms = received_ms - 90000000;"; done
echo "after a (simulated) day: Anna: $(reach_of anna); Boris: $(reach_of boris); Dora: $(reach_of dora)"
echo "anna: $(as anna group retention "$G" | tr '\n' ' ')"
as anna read "$G" --json | python3 -c 'import json,sys; print("anna holds", len(json.load(sys.stdin)), "messages")'
for w in anna boris; do
  [[ "$(reach_of $w)" != *Sadovaya* ]] || problem "rows 27/30: after retention $w shows again the \
home address Boris redacted (the redaction's note expired, the carried copy did not)"
done
finish
