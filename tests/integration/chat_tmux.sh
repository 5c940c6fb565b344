# `kolokol chat` driven in tmux at 80×24: type a Cyrillic message and see it; a second member's
# message arrives live through a relay; an alert shows in the strip; switching groups; unread
# counts; resizing keeps the layout; /quit ends cleanly. Every wait polls the screen with a
# deadline.
source "$(dirname "$0")/lib.bash"
command -v tmux >/dev/null || fail "tmux is missing: run scripts/deps"
# grep counts characters, not bytes, in the screen's Cyrillic and box drawing.
export LC_ALL=C.UTF-8
SOCK="kolokol-chat-test-$$"
tmx() { tmux -L "$SOCK" "$@"; }
cleanup_tmux() { tmx kill-server 2>/dev/null || true; cleanup; }
trap cleanup_tmux EXIT

screen() { tmx capture-pane -p -t chat 2>/dev/null || true; }
# wait_for TEXT [SECONDS] — until the screen shows TEXT (a fixed string).
wait_for() {
  local text=$1 deadline=$((SECONDS + ${2:-20}))
  while ((SECONDS < deadline)); do
    screen | grep -qF -- "$text" && return 0
    sleep 0.1
  done
  fail "the screen never showed \"$text\"; it shows:
$(screen)"
}
# wait_for_re REGEX [SECONDS]
wait_for_re() {
  local re=$1 deadline=$((SECONDS + ${2:-20}))
  while ((SECONDS < deadline)); do
    screen | grep -qE -- "$re" && return 0
    sleep 0.1
  done
  fail "the screen never matched /$re/; it shows:
$(screen)"
}

start_relay

new_member anna Anna
new_member boris Boris
as anna group create "Штаб" >/dev/null
as anna group create Lawyers >/dev/null
as anna group relay add "Штаб" "$ADDR" >/dev/null
token=$(as anna group add "Штаб" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
as anna sync >/dev/null
as boris sync >/dev/null

# Anna's chat in a detached 80×24 terminal; its exit status goes to a file.
tmx new-session -d -s chat -x 80 -y 24 \
  "env KOLOKOL_HOME='$WORK/anna' KOLOKOL_PASSPHRASE_FILE='$WORK/anna.pass' LANG=C.UTF-8 \
   '$KOLOKOL' chat 'Штаб'; echo \$? > '$WORK/chat.rc'; sleep 0.5"
wait_for "Штаб · 2 members"
wait_for "Live with 127.0.0.1:"
wait_for "Groups"

# 1. A Cyrillic message typed in the chat shows with its author, and reaches Boris.
tmx send-keys -t chat -l "Привет из чата, всё хорошо"
wait_for "> Привет из чата, всё хорошо"
tmx send-keys -t chat Enter
wait_for "Anna: Привет из чата, всё хорошо"
screen | tail -1 | grep -qE '^> *$' || fail "the input line was not cleared: $(screen | tail -1)"
deadline=$((SECONDS + 20))
until as boris sync >/dev/null 2>&1 && as boris read "Штаб" | grep -qF "Привет из чата"; do
  ((SECONDS < deadline)) || fail "Boris never received the message the chat sent"
  sleep 0.2
done
echo "ok: typed Cyrillic message shown and sent"

# 2. Boris writes (wide characters too) and syncs: it appears live, with no key pressed.
as boris post "Штаб" "Ответ от Бориса 中文 ok"
as boris sync >/dev/null
wait_for "Boris: Ответ от Бориса 中文 ok"
echo "ok: a message from another process arrived live"

# 3. An alert from the input line shows in the strip and as a badge.
tmx send-keys -t chat -l "/alert urgent Задержан у метро"
tmx send-keys -t chat Enter
wait_for "⚠ URGENT: Задержан у метро"
wait_for_re '▸ Штаб +!1 *│'
when=$(date -d '+2 hours' +%Y-%m-%dT%H:%M)
tmx send-keys -t chat -l "/event $when Митинг у суда @ Тверская 1"
tmx send-keys -t chat Enter
wait_for "Митинг у суда @ Тверская 1"
tmx send-keys -t chat -l "/task Купить воду"
tmx send-keys -t chat Enter
wait_for "Task: Купить воду"
echo "ok: alert, event and task show in the strip; the alert on the group"

# 4. Switch groups with Tab; a new message in the other group counts as unread.
tmx send-keys -t chat Tab
wait_for "Lawyers · 1 member"
wait_for_re '▸ Lawyers +│'
as boris post "Штаб" "Пока вас не было"
as boris sync >/dev/null
wait_for_re '^  Штаб +1 !1 *│'
tmx send-keys -t chat BTab
wait_for "Boris: Пока вас не было"
wait_for_re '▸ Штаб +!1 *│'
echo "ok: switching groups and unread counts"

# 5. Resize: wider and taller, then narrow (the group list hides), then back to 80×24.
tmx resize-window -t chat -x 100 -y 30
deadline=$((SECONDS + 10))
until [ "$(screen | wc -l)" -eq 30 ] && screen | sed -n 3p | grep -qE '^.{21}│'; do
  ((SECONDS < deadline)) || fail "the layout did not follow the resize to 100x30: $(screen)"
  sleep 0.1
done
screen | tail -1 | grep -q '^>' || fail "the input line is not at the bottom after the resize"
wait_for "Boris: Пока вас не было"
tmx resize-window -t chat -x 50 -y 20
deadline=$((SECONDS + 10))
until [ "$(screen | wc -l)" -eq 20 ] && ! screen | grep -q '│'; do
  ((SECONDS < deadline)) || fail "the group list did not hide at 50 columns: $(screen)"
  sleep 0.1
done
wait_for "Пока вас не было"
tmx resize-window -t chat -x 80 -y 24
wait_for_re '▸ Штаб +!1 *│'
echo "ok: resizing keeps the layout"

# 6. Editing: type, move left, delete and insert in the middle of Cyrillic text, recall history.
tmx send-keys -t chat -l "Првет"
tmx send-keys -t chat Left Left Left
tmx send-keys -t chat -l "и"
wait_for "> Привет"
tmx send-keys -t chat End BSpace
wait_for_re '^> Приве *$'
tmx send-keys -t chat C-u Up
wait_for "> /task Купить воду"
tmx send-keys -t chat Up Up
wait_for "> /alert urgent Задержан у метро"
tmx send-keys -t chat Down
wait_for "> /event $when Митинг у суда"
tmx send-keys -t chat Down Down
wait_for_re '^> *$'
echo "ok: line editing and history"

# 7. /quit leaves cleanly with status 0 and the terminal session ends.
tmx send-keys -t chat -l "/quit"
tmx send-keys -t chat Enter
deadline=$((SECONDS + 10))
until [ -s "$WORK/chat.rc" ]; do
  ((SECONDS < deadline)) || fail "/quit did not end the chat: $(screen)"
  sleep 0.1
done
[ "$(cat "$WORK/chat.rc")" = 0 ] || fail "the chat exited with $(cat "$WORK/chat.rc")"
echo "ok: /quit ends the chat with status 0"
