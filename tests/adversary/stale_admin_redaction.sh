# A removed admin's redaction destroys content for good at a member who hears of it before the
# removal — by a sync file, or simply by catching up through the relay after being offline. Ivan is an admin; Anna posts a message and attaches evidence (a photo) to a case.
# Anna removes Ivan. Ivan kept a copy of his home from before (or simply has not synced): in it
# he is still an admin, so `kolokol redact` writes redactions of Anna's post and of the
# evidence's manifest. He hands them to Boris on a USB stick (a sync file) before Boris has
# synced the removal. Boris applies them (at his position Ivan is an admin); then he syncs with
# the relay and learns of the removal. The redactions are concurrent with the removal and not
# covered by its cutoff: every other member refuses them (`author was removed`), and they are
# void (§5.4: "whatever a dropped record did is void"). Boris must then show Anna's post and
# evidence again (the relay and Anna still hold them): the same record set must give the same
# messages and objects at every member, whatever the order (rows 3, 6, 26, 27).
# Second part, no sneakernet: Carl was offline since before Anna's post. Ivan's old home writes
# its redaction of Anna's post (its Lamport clock lower than the removal's, since Anna wrote
# more before removing him) and syncs it to the group's relay. Carl syncs once and fetches it all
# in one batch, in Lamport order: the redaction is applied before the removal is, and Anna's post
# is gone at Carl for good.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
setup_group
new_member ivan "Ivan Admin"
new_member carl "Carl Offline"
token=$(as anna group add "$G" "$(card_of ivan)" --admin 2>/dev/null)
as ivan group join "$token" >/dev/null
invite anna carl
as anna sync >/dev/null; as ivan sync >/dev/null; as boris sync >/dev/null; as carl sync >/dev/null
as anna post "$G" "Lawyer Kuznetsov takes the case: +7 900 111 22 33"
head -c 300000 /dev/urandom > "$WORK/arrest-photo.jpg"
as anna case open "$G" --person "Pavel S." --where "Precinct 5" \
  --attach "$WORK/arrest-photo.jpg" >/dev/null || fail "Anna could not open the case"
as anna sync >/dev/null; as ivan sync >/dev/null; as boris sync >/dev/null
post_id=$(as anna read "$G" --json | python3 -c '
import json, sys
print(next(m["id"] for m in json.load(sys.stdin) if "Kuznetsov" in m.get("text", "")))')
manifest=$(as anna attachment list "$G" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
items = d if isinstance(d, list) else next(v for v in d.values() if isinstance(v, list))
a = items[0]
print(next(a[k] for k in ("manifest_record", "record", "id") if k in a))')
reads boris "Lawyer Kuznetsov takes the case: +7 900 111 22 33" || fail "setup: Boris lacks the post"
as boris attachment list "$G" --json | grep -q "arrest-photo.jpg" || fail "setup: Boris lacks the photo"

# Ivan's copy of his home from before his removal.
cp -a "$WORK/ivan" "$WORK/ivan_before"; cp "$WORK/ivan.pass" "$WORK/ivan_before.pass"
for i in 1 2 3 4 5; do as anna post "$G" "Anna, later, $i" >/dev/null; done
as anna group remove "$G" "Ivan Admin" >/dev/null
as anna sync >/dev/null
as ivan_before redact "$G" "${post_id:0:16}" --reason "stale admin" >/dev/null ||
  fail "Ivan's old home could not redact the post"
as ivan_before redact "$G" "${manifest:0:16}" --reason "stale admin" >/dev/null ||
  fail "Ivan's old home could not redact the evidence"
as ivan_before sync --to-file "$WORK/stale.sync" >/dev/null || fail "no sync file"
as boris sync --from-file "$WORK/stale.sync" >/dev/null || fail "Boris could not import the file"
as ivan_before sync >/dev/null 2>&1 || true  # and to the relay, for whoever catches up there
# Now Boris learns of the removal (twice: a first sync may mark what to fetch again).
as boris sync >/dev/null 2>&1 || true
as boris sync >/dev/null 2>&1 || true
as anna sync >/dev/null 2>&1 || true
echo "Anna's refusals: $(as anna rejected | tail -n +2 | tr '\n' ' ')"
echo "Boris's refusals: $(as boris rejected | tail -n +2 | tr '\n' ' ')"
reads anna "Lawyer Kuznetsov takes the case: +7 900 111 22 33" ||
  fail "setup: Anna herself lost the post (the relay path is not what this attacks)"
reads boris "Lawyer Kuznetsov takes the case: +7 900 111 22 33" ||
  problem "Boris lost Anna's post to a redaction by a removed admin, for good"
as boris attachment list "$G" --json | grep -q "arrest-photo.jpg" ||
  problem "Boris lost the case evidence to a redaction by a removed admin, for good"
as anna attachment list "$G" --json | grep -q "arrest-photo.jpg" || fail "setup: Anna lost the photo"
as carl sync >/dev/null 2>&1 || true
as carl sync >/dev/null 2>&1 || true
reads carl "Lawyer Kuznetsov takes the case: +7 900 111 22 33" ||
  problem "Carl, catching up through the relay, lost Anna's post to the removed admin's redaction"
a=$(as anna read "$G" --limit 100000 --json | python3 -c 'import json,sys; print(sorted((m["id"], m.get("text","")) for m in json.load(sys.stdin)))')
b=$(as boris read "$G" --limit 100000 --json | python3 -c 'import json,sys; print(sorted((m["id"], m.get("text","")) for m in json.load(sys.stdin)))')
[ "$a" = "$b" ] || problem "Anna and Boris hold the same records but show different messages"
finish
