# A removed admin wipes a member's history for good with a retention setting written in a copy
# of his home from before his removal. Anna posts, rotates, posts again; Ivan, an admin, keeps a
# copy of his home; Anna removes him. A minute later Ivan's old home sets the group's retention
# to one minute (it still thinks him an admin) and hands the setting to Boris in a sync file
# before Boris has synced the removal. Boris applies it at once: every record older than a
# minute is deleted and the secrets of epochs left without content are deleted too (retired:
# "their envelopes are never stored again"). Then Boris syncs and learns of the removal, which
# voids the setting (§5.4: a control record concurrent with its author's removal is dropped and
# whatever it did is void; every other member refuses it). Boris must get his history back: the
# relay and Anna still hold every envelope. He does not — the epoch keys are gone and the old
# post never comes back (rows 3, 6; row 30 promises deletion only for a group's real period).
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
setup_group
new_member ivan "Ivan Admin"
token=$(as anna group add "$G" "$(card_of ivan)" --admin 2>/dev/null)
as ivan group join "$token" >/dev/null
as anna sync >/dev/null; as ivan sync >/dev/null; as boris sync >/dev/null
OLD="Before the rotation: lawyer Kuznetsov, +7 900 111 22 33"
NEW="After the rotation: court hearing moved to Friday"
as anna post "$G" "$OLD"
as anna sync >/dev/null; as ivan sync >/dev/null; as boris sync >/dev/null
as anna group rotate "$G" >/dev/null
as anna post "$G" "$NEW"
as anna sync >/dev/null; as ivan sync >/dev/null; as boris sync >/dev/null
reads boris "$OLD" && reads boris "$NEW" || fail "setup: Boris lacks the posts"
boris_keys=$(adv home-epochs "$WORK/boris" "$WORK/boris.pass" "$GID")

cp -a "$WORK/ivan" "$WORK/ivan_before"; cp "$WORK/ivan.pass" "$WORK/ivan_before.pass"
as anna group remove "$G" "Ivan Admin" >/dev/null
as anna sync >/dev/null
sleep 62  # the shortest period is a minute: let the posts be older than that
as ivan_before group retention "$G" 1m >/dev/null || fail "Ivan's old home could not set retention"
as ivan_before sync --to-file "$WORK/stale.sync" >/dev/null || fail "no sync file"
as boris sync --from-file "$WORK/stale.sync" >/dev/null || fail "Boris could not import the file"
as boris sync >/dev/null 2>&1 || true
as boris sync >/dev/null 2>&1 || true
as anna sync >/dev/null 2>&1 || true
reads anna "$OLD" || fail "setup: Anna lost the old post herself"
echo "Boris's retention now: $(as boris group retention "$G" 2>&1)"
reads boris "$OLD" || problem "Boris lost the old post for good to a removed admin's retention setting"
reads boris "$NEW" || problem "Boris lost the newer post to a removed admin's retention setting"
now_keys=$(adv home-epochs "$WORK/boris" "$WORK/boris.pass" "$GID")
while read -r epoch _ kind; do
  [ "$kind" = secret ] || continue
  grep -q "^$epoch [0-9a-f]* secret$" <<<"$now_keys" ||
    problem "Boris lost the secret of epoch ${epoch:0:16} to a removed admin's retention setting"
done <<<"$boris_keys"
finish
