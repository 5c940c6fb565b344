# A removed admin brings back a post its author redacted, at every member (rows 3, 27).
# Strong remove spares every REMOVE concurrent with its author's removal (§5.4), and a
# redaction whose author a removal drops is undone (§13.7: the target is forgotten and fetched
# again). Together: Xavier posts an address by mistake and redacts it. Ivan, an admin removed by
# Anna, kept a copy of his home from before Xavier's redaction; after his own removal it removes
# Xavier, naming as cutoff the post (the latest record of Xavier's it holds). Xavier's redaction
# is "concurrent" with that removal and not covered: void. Every member forgets the tombstone,
# fetches the post again from the relay and shows it — on the word of someone who was no longer
# a member.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
setup_group
new_member ivan "Ivan Admin"
new_member xavier "Xavier Member"
token=$(as anna group add "$G" "$(card_of ivan)" --admin 2>/dev/null)
as ivan group join "$token" >/dev/null
invite anna xavier
for r in 1 2; do for w in anna ivan xavier boris; do as $w sync >/dev/null 2>&1 || true; done; done
P="Safe house: Lesnaya 14, flat 9, knock twice"
as xavier post "$G" "$P" >/dev/null
for w in anna ivan boris; do as $w sync >/dev/null 2>&1 || true; done
reads boris "$P" || fail "setup: the post did not arrive"
pid=$(as xavier read "$G" --json | python3 -c '
import json, sys
print(next(m["id"] for m in json.load(sys.stdin) if "Lesnaya" in m.get("text", "")))')
cp -a "$WORK/ivan" "$WORK/ivan_before"; cp "$WORK/ivan.pass" "$WORK/ivan_before.pass"
as xavier redact "$G" "${pid:0:16}" --reason "wrong channel" >/dev/null || fail "Xavier could not redact"
as xavier sync >/dev/null 2>&1 || true
for w in anna boris; do as $w sync >/dev/null 2>&1 || true; done
for w in anna boris; do reads $w "$P" && fail "setup: $w still shows the redacted post"; done
as anna group remove "$G" "Ivan Admin" >/dev/null || fail "Anna could not remove Ivan"
for w in anna boris xavier; do as $w sync >/dev/null 2>&1 || true; done
# After his removal, Ivan's old home removes Xavier.
as ivan_before group remove "$G" "Xavier Member" >/dev/null 2>&1 || fail "Ivan's old home could not remove Xavier"
as ivan_before sync >/dev/null 2>&1 || true
for r in 1 2 3; do for w in anna boris; do as $w sync >/dev/null 2>&1 || true; done; done
for w in anna boris; do
  echo "$w: members $(as $w group members "$G" --json | python3 -c 'import json,sys; print(", ".join(sorted(m["name"] for m in json.load(sys.stdin))))'); redacted post shown: $(reads $w "$P" && echo yes || echo no)"
  reads $w "$P" && problem "row 27/3: $w shows again the post Xavier redacted, after a removed admin's removal of Xavier"
done
as anna group members "$G" | grep -q "Xavier" || problem "row 3: Xavier was removed by an admin removed before"
finish
