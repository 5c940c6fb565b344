# A removed admin's accomplice, made admin by the removed admin's old home, redacts an honest
# post for good (rows 3, 26, 27).
# Fixed (§13.7): applied redactions are judged again both ways, with the full stands test,
# after every batch that changes control records, and a redaction of a redaction is deleted like
# any other target; the text below describes the break as it was.
# §13.7 judges a redaction again after a control change only when its *author* was dropped
# (settle_redactions looks at redactions that are not record_valid_now). A redaction can also go
# void because its author was no admin at its position after all: his promotion was written by
# an admin whose removal arrives later, and strong remove drops that promotion (§5.4: a SET_ROLE
# is not exempt). The accomplice is never removed, so his redaction is never looked at again.
# Anna posts; Ivan (admin) is removed by Anna. Ivan's home from before the removal makes Yuri, a
# member and his accomplice, an admin; Yuri (who has not synced the removal) redacts Anna's post
# and hands both records to Boris on a USB stick. Boris applies them; then he syncs with the
# relay and learns of the removal: the promotion is void, Yuri was never an admin, and every
# other member refuses or ignores the redaction (Anna and Carl show the post). Boris must show
# it again; he does not.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
setup_group
new_member ivan "Ivan Admin"
new_member yuri "Yuri Member"
new_member carl "Carl Offline"
token=$(as anna group add "$G" "$(card_of ivan)" --admin 2>/dev/null)
as ivan group join "$token" >/dev/null
invite anna yuri
invite anna carl
for r in 1 2; do for w in anna ivan yuri boris carl; do as $w sync >/dev/null 2>&1 || true; done; done
P="Lawyer Kuznetsov takes the case: +7 900 111 22 33"
as anna post "$G" "$P"
for w in anna ivan yuri boris carl; do as $w sync >/dev/null 2>&1 || true; done
reads boris "$P" && reads yuri "$P" || fail "setup: the post did not arrive"
post_id=$(as anna read "$G" --json | python3 -c '
import json, sys
print(next(m["id"] for m in json.load(sys.stdin) if "Kuznetsov" in m.get("text", "")))')

cp -a "$WORK/ivan" "$WORK/ivan_before"; cp "$WORK/ivan.pass" "$WORK/ivan_before.pass"
for i in 1 2 3; do as anna post "$G" "Anna, later, $i" >/dev/null; done
as anna group remove "$G" "Ivan Admin" >/dev/null
as anna sync >/dev/null
# Ivan's old home promotes Yuri; Yuri, who has not synced since, takes it from a sync file.
as ivan_before group role "$G" "Yuri Member" admin >/dev/null 2>&1 || fail "Ivan's old home could not promote Yuri"
as ivan_before sync --to-file "$WORK/ivan.sync" >/dev/null || fail "no sync file from Ivan"
as yuri sync --from-file "$WORK/ivan.sync" >/dev/null || fail "Yuri could not import Ivan's file"
as yuri redact "$G" "${post_id:0:16}" --reason "stale admin's friend" >/dev/null ||
  fail "Yuri could not redact Anna's post"
as yuri sync --to-file "$WORK/yuri.sync" >/dev/null || fail "no sync file from Yuri"
as boris sync --from-file "$WORK/yuri.sync" >/dev/null || fail "Boris could not import Yuri's file"
echo "Boris after the file: post shown: $(reads boris "$P" && echo yes || echo no)"
as yuri sync >/dev/null 2>&1 || true   # to the relay too
for r in 1 2; do for w in boris anna carl; do as $w sync >/dev/null 2>&1 || true; done; done
for w in anna boris carl; do
  echo "$w: members $(as $w group members "$G" --json | python3 -c 'import json,sys; print(", ".join(sorted(m["name"] + (" (admin)" if m["admin"] else "") for m in json.load(sys.stdin))))'); post shown: $(reads $w "$P" && echo yes || echo no)"
done
echo "Anna's refusals: $(as anna rejected 2>&1 | tail -n +2 | tr '\n' ' ')"
reads anna "$P" || fail "setup: Anna herself lost the post (not what this attacks)"
as anna group members "$G" --json | grep -q '"Yuri Member"' || fail "setup: Yuri is not a member at Anna"
if as anna group members "$G" --json | python3 -c 'import json,sys; sys.exit(0 if any(m["name"]=="Yuri Member" and m["admin"] for m in json.load(sys.stdin)) else 1)'; then
  fail "setup: Yuri is an admin at Anna (the promotion stood)"
fi
reads boris "$P" ||
  problem "row 27/26: Boris lost Anna's post for good to a redaction by Yuri, no admin once the removal voided his promotion"
reads carl "$P" ||
  problem "row 27: Carl lost Anna's post to a redaction by Yuri, who is no admin"
finish
