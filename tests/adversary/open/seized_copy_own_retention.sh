# A seized copy of an admin's own home deletes her history at once (rows 30, 73).
# §13.8 lets a shorter period apply at once when "written by this member himself"; the check is
# the record's author key, not this device. So the copy of Anna's home taken at a search sets the
# retention to one minute and syncs it to the relay: Anna's own device deletes everything older
# than a minute at its next sync, although she never set it. Clara, an admin who holds the same
# setting, waits a day (time for the burn notice that would void it); Anna's own device, whose
# history is what the police want gone, does not. Whether row 30 covers this is arguable: §13.8
# says "written by this member himself" on purpose; the key is hers, the device is not.
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
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
as seized group retention "$G" 1m >/dev/null || fail "the seized copy could not set retention"
as seized sync >/dev/null 2>&1 || true
as anna sync >/dev/null 2>&1 || true
as clara sync >/dev/null 2>&1 || true
echo "Anna's retention now: $(as anna group retention "$G" 2>&1)"
echo "Anna shows the post: $(reads anna "$OLD" && echo yes || echo no); Clara: $(reads clara "$OLD" && echo yes || echo no)"
reads clara "$OLD" || fail "setup: Clara lost the post (the day's wait did not hold)"
reads anna "$OLD" ||
  problem "row 30: Anna's own device deleted her history at once under a setting written by a seized copy of her home"
finish
