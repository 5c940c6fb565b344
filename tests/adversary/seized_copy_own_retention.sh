# A seized copy of an admin's own home must not delete her history at once (rows 30, 73).
# §13.8 once let a shorter period apply at once when "written by this member himself"; the check
# was the record's author key, not this device. So the copy of Anna's home taken at a search set
# the retention to one minute and synced it to the relay: Anna's own device deleted everything
# older than a minute at its next sync, although she never set it, while Clara, an admin who
# held the same setting, waited a day (time for the burn notice that would void it). Now every
# shortening waits the day, the member's own included, and the command that sets one says so.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
setup_group
new_member clara "Clara Admin"
token=$(as anna group add "$G" "$(card_of clara)" --admin 2>/dev/null)
as clara group join "$token" >/dev/null
for r in 1 2; do for w in anna boris clara; do as $w sync >/dev/null 2>&1 || true; done; done
OLD="Pavel S. detained at Precinct 5; lawyer Kuznetsov +7 900 111 22 33"
as boris post "$G" "$OLD" >/dev/null
for w in anna clara boris; do as $w sync >/dev/null 2>&1 || true; done
reads anna "$OLD" || fail "setup: Anna lacks the post"
cp -a "$WORK/anna" "$WORK/seized"; cp "$WORK/anna.pass" "$WORK/seized.pass"
sleep 62
out=$(as seized group retention "$G" 1m) || fail "the seized copy could not set retention"
echo "$out"
grep -q "only a day after" <<<"$out" || problem "setting a shorter period does not say it waits a day"
as seized sync >/dev/null 2>&1 || true
as anna sync >/dev/null 2>&1 || true
as clara sync >/dev/null 2>&1 || true
shown=$(as anna group retention "$G" 2>&1)
echo "Anna's retention now: $shown"
grep -q "starts deleting here at" <<<"$shown" || problem "the period shown does not say when it starts deleting"
echo "Anna shows the post: $(reads anna "$OLD" && echo yes || echo no); Clara: $(reads clara "$OLD" && echo yes || echo no)"
reads clara "$OLD" || fail "setup: Clara lost the post (the day's wait did not hold)"
reads anna "$OLD" ||
  problem "row 30: Anna's own device deleted her history at once under a setting written by a seized copy of her home"
finish
