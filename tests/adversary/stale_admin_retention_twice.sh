# A removed admin's retention setting, written twice, deletes at once (rows 3, 30).
# The fix for stale_admin_retention.sh makes a shorter period set by someone else wait a day
# before it deletes — unless it is "no shorter than the period it replaced" (§13.8,
# deleting_retention). The period a setting replaced is whatever the previous setting said,
# also a setting that has not been held a day itself. So a copy of Ivan's home from before his
# removal sets the retention to one minute twice: the second setting replaces a period of one
# minute, is "no shorter", and deletes at once at Boris, who gets them both in a sync file before
# he hears of the removal. The removal then voids both; Boris's history is gone for good.
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
as ivan_before group retention "$G" 1m >/dev/null || fail "Ivan's old home could not set it again"
as ivan_before sync --to-file "$WORK/stale.sync" >/dev/null || fail "no sync file"
as boris sync --from-file "$WORK/stale.sync" >/dev/null || fail "Boris could not import the file"
echo "Boris right after the file: old post shown: $(reads boris "$OLD" && echo yes || echo no)"
as boris sync >/dev/null 2>&1 || true
as boris sync >/dev/null 2>&1 || true
as anna sync >/dev/null 2>&1 || true
reads anna "$OLD" || fail "setup: Anna lost the old post herself"
echo "Boris's retention now: $(as boris group retention "$G" 2>&1)"
reads boris "$OLD" || problem "row 3/30: Boris lost the old post for good to a removed admin's retention setting written twice"
reads boris "$NEW" || problem "row 3/30: Boris lost the newer post to a removed admin's retention setting written twice"
now_keys=$(adv home-epochs "$WORK/boris" "$WORK/boris.pass" "$GID")
while read -r epoch _ kind; do
  [ "$kind" = secret ] || continue
  grep -q "^$epoch [0-9a-f]* secret$" <<<"$now_keys" ||
    problem "row 3/30: Boris lost the secret of epoch ${epoch:0:16} to a removed admin's retention setting"
done <<<"$boris_keys"
finish
