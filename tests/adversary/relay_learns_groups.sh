# A relay listed by one group learns nothing of the member's other groups (SECURITY.md "Relays
# and the LAN"). Olga, admin of group A, lists a hostile relay R1 (kolokol-adversary
# hostile-relay, which writes down every session's Noise static key and every mailbox opened);
# Anna is a member of A and admin of B, which lists only an honest relay R2. After Anna's
# `sync` (twice), `sync R1` named explicitly, `read --follow` and `chat`, R1 must have seen only
# A's mailboxes, a different static key in every session, and never Anna's long-term key.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
command -v tmux >/dev/null || fail "tmux is missing: run scripts/deps"
export LC_ALL=C.UTF-8
TMUX_SOCK="kolokol-adv-$$"
tmx() { tmux -L "$TMUX_SOCK" "$@"; }
trap 'tmx kill-server 2>/dev/null || true; cleanup' EXIT

( exec "$KOLOKOL_ADVERSARY" hostile-relay "127.0.0.1:$(pick_port)" "$WORK/r1.log" \
    > "$WORK/r1.out" 2>"$WORK/r1.err" ) &
CLEANUP_PIDS+=("$!")
pass_file relay
( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$(pick_port)" \
    --data "$WORK/relay" --kdf fast > "$WORK/r2.out" 2>"$WORK/r2.err" ) &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/r1.out" ] && [ -s "$WORK/r2.out" ] && break; sleep 0.1; done
R1=$(head -1 "$WORK/r1.out"); R2=$(head -1 "$WORK/r2.out")
[[ "$R1" == kolokol://* ]] || fail "the hostile relay did not start: $(cat "$WORK/r1.err")"
[[ "$R2" == kolokol://* ]] || fail "the relay did not start: $(cat "$WORK/r2.err")"

new_member olga "Olga Admin"
new_member anna "Anna Petrova"
A="Alpha legal aid"; B="Beta strike fund"
as olga group create "$A" >/dev/null
as olga group relay add "$A" "$R1" >/dev/null
token=$(as olga group add "$A" "$(card_of anna)" 2>/dev/null)
as olga post "$A" "welcome to A"
as olga sync >/dev/null
as anna group join "$token" >/dev/null
as anna group create "$B" >/dev/null
as anna group relay add "$B" "$R2" >/dev/null
as anna post "$B" "only for B"

# From here on R1 sees Anna only.
: > "$WORK/r1.log"
sessions() { grep -c '^session ' "$WORK/r1.log" 2>/dev/null || true; }
# wait_session N — until R1 has seen N sessions (at most 30 s).
wait_session() {
  for _ in $(seq 300); do [ "$(sessions)" -ge "$1" ] && return 0; sleep 0.1; done
  fail "R1 saw $(sessions) sessions, expected $1: $(cat "$WORK/r1.log" "$WORK"/*.err "$WORK/follow.out" 2>/dev/null)"
}

# 1. Plain syncs, twice, and a sync naming R1.
as anna sync >/dev/null 2>"$WORK/sync1.err" || fail "anna's sync failed: $(cat "$WORK/sync1.err")"
as anna sync >/dev/null 2>"$WORK/sync2.err" || fail "anna's second sync failed: $(cat "$WORK/sync2.err")"
as anna sync "$R1" >/dev/null 2>"$WORK/sync3.err" || fail "anna's sync with R1 failed: $(cat "$WORK/sync3.err")"
n=$(sessions)
[ "$n" -ge 3 ] || fail "R1 saw only $n sessions of three syncs"
# An address no group lists (R1's host and port, another key) is refused before anything is
# sent, and a malformed one is bad input.
expect_exit 2 anna sync "${R1%/*}/${R2##*/}"
expect_exit 6 anna sync "kolokol://no-port-here"
[ "$(sessions)" -eq "$n" ] || fail "an address no group lists was contacted"

# 2. read --follow on A, until R1 sees its session.
( as_bg anna read "$A" --follow > "$WORK/follow.out" 2>&1 ) &
follow=$!
CLEANUP_PIDS+=("$follow")
wait_session $((n + 1))
sleep 0.5
kill -TERM "$follow"; wait "$follow" 2>/dev/null || true
n=$(sessions)

# 3. The chat (it goes live with every relay its groups list), until R1 sees its session.
tmx new-session -d -s chat -x 80 -y 24 \
  "env KOLOKOL_HOME='$WORK/anna' KOLOKOL_PASSPHRASE_FILE='$WORK/anna.pass' LANG=C.UTF-8 \
   '$KOLOKOL' chat '$B' 2>'$WORK/chat.err'; echo \$? > '$WORK/chat.rc'; sleep 0.5"
wait_session $((n + 1))
sleep 1
tmx send-keys -t chat -l "/quit"; tmx send-keys -t chat Enter
for _ in $(seq 100); do [ -s "$WORK/chat.rc" ] && break; sleep 0.1; done
[ "$(cat "$WORK/chat.rc" 2>/dev/null)" = 0 ] || fail "anna's chat did not end cleanly: $(cat "$WORK/chat.err" 2>/dev/null)"
echo "ok: R1 saw $(sessions) sessions of anna's (sync ×2, sync R1, read --follow, chat)"

# What R1 saw against what Anna holds.
adv member-mailboxes "$WORK/anna" "$WORK/anna.pass" "$A" | sort > "$WORK/a.mailboxes"
adv member-mailboxes "$WORK/anna" "$WORK/anna.pass" "$B" | sort > "$WORK/b.mailboxes"
own=$(adv member-transport-key "$WORK/anna" "$WORK/anna.pass")
[ -s "$WORK/a.mailboxes" ] && [ -s "$WORK/b.mailboxes" ] || fail "could not list anna's mailboxes"
awk '$1 == "open" { print $3 }' "$WORK/r1.log" | sort -u > "$WORK/r1.opened"
[ -s "$WORK/r1.opened" ] || fail "R1 saw no mailbox opened: $(cat "$WORK/r1.log")"
leaked=$(comm -12 "$WORK/r1.opened" "$WORK/b.mailboxes" | wc -l)
[ "$leaked" -eq 0 ] || fail "R1 (listed by A only) was asked to open $leaked of B's mailboxes"
foreign=$(comm -23 "$WORK/r1.opened" "$WORK/a.mailboxes" | wc -l)
[ "$foreign" -eq 0 ] || fail "R1 was asked to open $foreign mailboxes that are not A's"
for s in $(awk '$1 == "session" { print $2 }' "$WORK/r1.log"); do
  awk -v s="$s" '$1 == "open" && $2 == s { found = 1 } END { exit !found }' "$WORK/r1.log" \
    || fail "R1's session $s opened no mailbox: the check above saw nothing of it"
done
echo "ok: R1 was asked only for A's mailboxes ($(wc -l < "$WORK/r1.opened") of them), never B's"

total=$(sessions)
distinct=$(awk '$1 == "session" { print $4 }' "$WORK/r1.log" | sort -u | wc -l)
[ "$distinct" -eq "$total" ] || fail "R1 saw $distinct distinct static keys over $total sessions: the sessions can be linked by key"
awk '$1 == "session" { print $4 }' "$WORK/r1.log" | grep -qx "$own" \
  && fail "anna's long-term transport key was presented to R1"
echo "ok: every one of the $total sessions presented a fresh static key, never anna's long-term key"
