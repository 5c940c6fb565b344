# A quorum of 2 in a group of three admins, through the CLI and a real relay: Anna's add of
# Dave waits (no member sees him, he cannot write) until Boris approves it; the approval makes
# it effective at every member after a sync, and Dave, added without history, reads what was
# written after the add and nothing before. A removal and a change of the quorum wait the same
# way; approving is refused with a clear exit code for an unknown, malformed or already
# effective proposal and for a member who is no admin.
source "$(dirname "$0")/lib.bash"
start_relay
G="Legal support"
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member carol "Carol Smirnova"
new_member dave "Dave Orlov"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$ADDR" >/dev/null
for w in boris carol; do
  as "$w" group join "$(as anna group add "$G" "$(card_of "$w")" --admin 2>/dev/null)" >/dev/null
done
as anna group quorum "$G" 2 > "$WORK/quorum.out"
grep -q "The quorum is now 2" "$WORK/quorum.out" || fail "setting the quorum from 1: $(cat "$WORK/quorum.out")"
as anna post "$G" "before Dave" --no-send >/dev/null 2>&1
for w in anna boris carol; do as "$w" sync >/dev/null; done
for w in anna boris carol; do
  [ "$(as "$w" group quorum "$G")" = 2 ] || fail "$w does not see the quorum of 2"
done
echo "ok: the quorum is 2 at every admin"

# json_len WHO ARGS… — the length of a --json list.
json_len() { as "$@" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
pending_field() { as "$1" group pending "$G" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0][sys.argv[1]])' "$2"; }

# Anna adds Dave: only a proposal.
as anna group add "$G" "$(card_of dave)" > "$WORK/dave.token" 2> "$WORK/add.err"
grep -q "waits for 1 more admin's approval" "$WORK/add.err" || fail "add under a quorum does not say it waits: $(cat "$WORK/add.err")"
grep -q "Welcome token" "$WORK/add.err" || fail "no welcome token announced: $(cat "$WORK/add.err")"
[ "$(json_len anna group members "$G" --json)" = 3 ] || fail "the proposed add took effect at once"
[ "$(json_len anna group pending "$G" --json)" = 1 ] || fail "anna does not list the add as pending"
[ "$(pending_field anna kind)" = add ] || fail "the pending change is not an add"
[ "$(pending_field anna needed)" = 2 ] || fail "the add does not need 2 admins"
[ "$(pending_field anna target_name)" = "Dave Orlov" ] || fail "the add is not of Dave"
as anna group pending "$G" | grep -q "add Dave Orlov  proposed by Anna Petrova  1 of 2 approvals" ||
  fail "group pending: $(as anna group pending "$G")"
as dave group join "$(cat "$WORK/dave.token")" >/dev/null
as anna sync >/dev/null
as dave sync >/dev/null 2>&1 || true
as dave group list --json | grep -q "waiting" || fail "dave's admission is not waiting"
expect_exit 8 dave post "$G" "too early"
# Anna cannot approve her own proposal; Carol has not seen it yet.
ID=$(pending_field anna id)
expect_exit 11 anna group approve "$G" "${ID:0:8}"
expect_exit 7 carol group approve "$G" "${ID:0:8}"
echo "ok: the add waits; the proposer alone cannot complete it"

# Boris approves: it takes effect.
as boris sync >/dev/null
as boris group pending "$G" | grep -q "${ID:0:8}  add Dave Orlov" || fail "boris does not list the add"
expect_exit 6 boris group approve "$G" "zz"
expect_exit 7 boris group approve "$G" "00000000"
as boris group approve "$G" "${ID:0:8}" > "$WORK/approve.out"
grep -q "Approved: add Dave Orlov. It has taken effect" "$WORK/approve.out" || fail "approve: $(cat "$WORK/approve.out")"
expect_exit 11 boris group approve "$G" "${ID:0:8}"
as boris sync >/dev/null
for w in anna carol; do as "$w" sync >/dev/null; done
expect_exit 11 carol group approve "$G" "${ID:0:8}"
as anna post "$G" "after Dave" --no-send >/dev/null 2>&1
as anna sync >/dev/null
as dave sync >/dev/null
for w in anna boris carol dave; do
  [ "$(json_len "$w" group members "$G" --json)" = 4 ] || fail "$w does not see Dave as a member"
  [ "$(json_len "$w" group pending "$G" --json)" = 0 ] || fail "$w still lists a pending change"
done
as dave group list --json | grep -q "waiting" && fail "dave's admission still waits"
as dave read "$G" --limit 1000 | grep -q "after Dave" || fail "dave cannot read what came after his add"
as dave read "$G" --limit 1000 | grep -q "before Dave" && fail "dave, added without history, read an earlier post"
as dave post "$G" "hello from Dave" >/dev/null 2>&1
as dave sync >/dev/null
as boris sync >/dev/null
as boris read "$G" | grep -q "hello from Dave" || fail "Dave's post did not reach Boris"
echo "ok: the second approval made the add effective everywhere; Dave reads only what came after"

# A removal waits the same way, and a member who is no admin cannot approve it.
as carol group remove "$G" "Dave Orlov" > "$WORK/remove.out"
grep -q "Proposed removing Dave Orlov" "$WORK/remove.out" || fail "remove under a quorum: $(cat "$WORK/remove.out")"
[ "$(json_len carol group members "$G" --json)" = 4 ] || fail "the proposed removal took effect at once"
as carol sync >/dev/null
as dave sync >/dev/null
RID=$(pending_field dave id)
expect_exit 8 dave group approve "$G" "${RID:0:8}"
as anna sync >/dev/null
as anna group approve "$G" "${RID:0:8}" | grep -q "It has taken effect" || fail "anna's approval of the removal"
as anna post "$G" "after the removal" --no-send >/dev/null 2>&1
as anna sync >/dev/null
as dave sync >/dev/null 2>&1 || true
as dave read "$G" --limit 1000 | grep -q "after the removal" && fail "dave read a post written after his removal"
for w in boris carol; do as "$w" sync >/dev/null; done
for w in anna boris carol; do
  [ "$(json_len "$w" group members "$G" --json)" = 3 ] || fail "$w still sees Dave"
done
echo "ok: the removal took effect at its approval"

# A burn notice waits like a removal. The approving admin's device posts the group alert, in
# that admin's language (here Russian), with the detention time the notice gives.
export TZ=UTC  # the time as typed is local; the alert gives it in UTC
new_member eve "Eve Kuznetsova"
as eve group join "$(as anna group add "$G" "$(card_of eve)" 2>/dev/null)" >/dev/null
as anna sync >/dev/null
as boris sync >/dev/null
as boris group approve "$G" "$(pending_field boris id | cut -c1-8)" >/dev/null
as boris sync >/dev/null
as anna sync >/dev/null
as anna group compromised "$G" "Eve Kuznetsova" --at "2001-01-01 00:00" > "$WORK/burn.out" 2>&1 ||
  fail "group compromised: $(cat "$WORK/burn.out")"
as anna alert list "$G" | grep -q "Burn notice" && fail "the waiting burn notice already posted an alert"
as anna sync >/dev/null
as boris sync >/dev/null
BID=$(pending_field boris id)
LANG=ru_RU.UTF-8 LC_ALL=ru_RU.UTF-8 as boris group approve "$G" "${BID:0:8}" >/dev/null
as boris alert list "$G" --json > "$WORK/alerts.txt"
grep -q "Сигнал о захвате: устройство участника Eve Kuznetsova в чужих руках с 2001-01-01 00:00 UTC" \
  "$WORK/alerts.txt" || fail "no Russian burn-notice alert with the time at Boris: $(cat "$WORK/alerts.txt")"
as boris group members "$G" | grep -q "Eve Kuznetsova" && fail "Eve is still a member after the approved burn notice"
echo "ok: a burn notice approved in Russian posts its alert in Russian"

# A proposal withdrawn by its proposer: gone at every admin, and an approval of it refused.
new_member wendy "Wendy Withdrawn"
as anna sync >/dev/null
as anna group add "$G" "$(card_of wendy)" > /dev/null 2>&1
WID=$(as anna group pending "$G" --json | python3 -c 'import json,sys; print(next(p["id"] for p in json.load(sys.stdin) if "Wendy" in p["change"]))')
if as boris group withdraw "$G" "${WID:0:8}" >/dev/null 2>"$WORK/notmine.err"; then
  fail "Boris withdrew Anna's proposal"
fi
as anna group withdraw "$G" "${WID:0:8}" > "$WORK/withdraw.out" || fail "group withdraw: $(cat "$WORK/withdraw.out")"
grep -q "Withdrawn: add Wendy Withdrawn" "$WORK/withdraw.out" || fail "withdraw said: $(cat "$WORK/withdraw.out")"
as anna sync >/dev/null
as boris sync >/dev/null
as boris group pending "$G" --json | grep -q "${WID:0:16}" && fail "Boris still lists the withdrawn proposal"
as boris group approve "$G" "${WID:0:8}" >/dev/null 2>&1 && fail "Boris approved a withdrawn proposal"
as boris group members "$G" | grep -q "Wendy" && fail "the withdrawn add took effect"
echo "ok: a withdrawn add is gone at every admin and cannot be approved"

# Lowering the quorum is itself a proposal.
as boris group quorum "$G" 1 > "$WORK/lower.out"
grep -q "Proposed a quorum of 1" "$WORK/lower.out" || fail "quorum change under a quorum: $(cat "$WORK/lower.out")"
[ "$(as boris group quorum "$G")" = 2 ] || fail "the quorum changed on one admin's word"
as boris sync >/dev/null
as carol sync >/dev/null
QID=$(pending_field carol id)
as carol group approve "$G" "${QID:0:8}" >/dev/null
[ "$(as carol group quorum "$G")" = 1 ] || fail "the approved quorum change did not take effect"
echo "ok: the quorum change waited for a second admin"
