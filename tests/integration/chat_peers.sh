# `kolokol chat` live with a peer, no relay anywhere: Boris's chat listens (--listen), Anna's
# group lists Boris's address (and a dead one: each address has its own session, failing and
# retrying on its own), and both chats (tmux) show what the other types, live, in Cyrillic —
# and what Boris writes with `kolokol post` while his chat runs. Then Boris leaves
# the chat and runs `kolokol serve` on the same address: Anna's chat reconnects by itself, a
# message Boris posts from another process reaches her screen live, and what she types lands
# in his store; Clara's chat joins the same serve, which passes what each chat sends on to the
# other, live. Every wait polls the screen with a deadline.
source "$(dirname "$0")/lib.bash"
command -v tmux >/dev/null || fail "tmux is missing: run scripts/deps"
export LC_ALL=C.UTF-8
source "$(dirname "$0")/lib_tmux.bash"
trap 'tmux_cleanup; cleanup' EXIT

# peers_listed WHO — what the last /peers in WHO's chat listed (the lines after its heading).
peers_listed() {
  screen "$1" | awk '/Live sessions:/ { out = ""; on = 1; next } on { out = out $0 "\n" } END { printf "%s", out }'
}
# wait_peers WHO TEXT [SECONDS] — runs /peers in WHO's chat until it lists TEXT.
wait_peers() {
  local who=$1 text=$2 deadline=$((SECONDS + ${3:-15}))
  while ((SECONDS < deadline)); do
    type_line "$who" "/peers"
    sleep 0.5
    peers_listed "$who" | grep -qF -- "$text" && return 0
    sleep 0.5
  done
  fail "$who's /peers never listed \"$text\"; it shows:
$(screen "$who")"
}
# clear_notices WHO — to another group and back: the notices (/peers' lines) go, so the
# messages they pushed up show again.
clear_notices() {
  tmx send-keys -t "$1" Tab
  wait_for "$1" "Lawyers · 1 member"
  tmx send-keys -t "$1" BTab
  wait_for "$1" "Штаб · 3 members"
}
# chat_of WHO COLUMNS ARGS… — WHO's chat in a detached terminal; its exit status goes to a file.
chat_of() {
  local who=$1 cols=$2; shift 2
  tmx new-session -d -s "$who" -x "$cols" -y 24 \
    "env KOLOKOL_HOME='$WORK/$who' KOLOKOL_PASSPHRASE_FILE='$WORK/$who.pass' LANG=C.UTF-8 \
     '$KOLOKOL' chat $* 2>'$WORK/$who.err'; echo \$? > '$WORK/$who.rc'; sleep 0.5"
}

new_member anna Anna
new_member boris Boris
new_member clara Clara
as anna group create "Штаб" >/dev/null
as anna group create Lawyers >/dev/null
token=$(as anna group add "Штаб" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
token=$(as anna group add "Штаб" "$(card_of clara)" 2>/dev/null)
as clara group join "$token" >/dev/null
# Boris and Clara learn the group's first records by file: no relay, no network yet.
as anna sync --to-file "$WORK/start.sync" >/dev/null
as boris sync --from-file "$WORK/start.sync" >/dev/null
as clara sync --from-file "$WORK/start.sync" >/dev/null

# Boris's chat listens on a free port and shows the address to give (wide enough for one line).
chat_of boris 200 "'Штаб' --listen 127.0.0.1:0"
wait_for boris "Others can connect to you at kolokol://127.0.0.1:"
ADDR=$(screen boris | grep -o 'kolokol://127\.0\.0\.1:[0-9]*/[a-z2-7]*' | head -1)
[[ "$ADDR" =~ ^kolokol://127\.0\.0\.1:[0-9]+/[a-z2-7]{52}$ ]] || fail "no address on Boris's screen: $ADDR"
HOSTPORT=${ADDR#kolokol://}; HOSTPORT=${HOSTPORT%%/*}
# A second address nobody listens on (port 1), with a made-up key.
DEAD="kolokol://127.0.0.1:1/$(printf 'a%.0s' $(seq 52))"
as anna group relay add "Штаб" "$ADDR" >/dev/null
as anna group relay add "Штаб" "$DEAD" >/dev/null
# Clara's chat comes later (step 5): she has the list by file.
as anna sync --to-file "$WORK/relays.sync" >/dev/null
as clara sync --from-file "$WORK/relays.sync" >/dev/null

chat_of anna 80 "'Штаб'"
wait_for anna "Штаб · 3 members · live"
# One session per address (and group), each with its own state: /peers names each by its address
# and then, per group it carries, "GROUP-ID · state".
wait_peers anna "· Live with $HOSTPORT"
wait_peers anna "· 127.0.0.1:1 unreachable"
[ "$(peers_listed anna | grep -cE '[0-9a-f]{8} · (Live with 127\.0\.0\.1:[0-9]+|127\.0\.0\.1:1 unreachable)')" -eq 2 ] \
  || fail "Anna's /peers does not list exactly two sessions: $(peers_listed anna)"
clear_notices anna
wait_for boris "· live"
echo "ok: Anna's chat is live with Boris's chat listener ($HOSTPORT)"

# 1. Boris types; Anna's screen shows it, with no key pressed there and no /sync.
type_line boris "Привет от Бориса, живьём"
wait_for anna "Boris: Привет от Бориса, живьём" 10
echo "ok: Boris's chat message appeared live in Anna's chat"

# 2. Anna types; Boris's screen shows it.
type_line anna "Ответ Анны через пира"
wait_for boris "Anna: Ответ Анны через пира" 10
echo "ok: Anna's chat message appeared live in Boris's chat"

# Boris's /peers: Anna's incoming session; his own address, which the group now lists (he has
# had it for over 3 s, when the chat looks at the lists again), is no peer of his own.
sleep 3.5
type_line boris "/peers"
wait_for boris "Listening: 1 member connected to you"
if screen boris | grep -qF "$HOSTPORT ·"; then fail "Boris's chat connects to itself: $(screen boris)"; fi
echo "ok: /peers shows the incoming session and no session with itself"

# 3. Boris posts with another process while his chat runs: the chat pushes it on.
as boris post "Штаб" "Из другого процесса"
wait_for anna "Boris: Из другого процесса" 10
echo "ok: a post from another process reached the peer through the running chat"

# 4. Boris leaves the chat; `kolokol serve` takes over the same address. Anna's chat
#    reconnects on its own; serve pushes what Boris posts meanwhile, and stores what Anna types.
quit_chat boris
wait_peers anna "· $HOSTPORT unreachable" 10
( as_bg boris serve --listen "$HOSTPORT" > "$WORK/serve.out" 2>"$WORK/serve.err" ) &
SERVE=$!
CLEANUP_PIDS+=("$SERVE")
for _ in $(seq 100); do [ -s "$WORK/serve.out" ] && break; sleep 0.1; done
[ "$(head -1 "$WORK/serve.out")" = "$ADDR" ] || fail "serve is not at $ADDR: $(cat "$WORK/serve.out" "$WORK/serve.err")"
# The retry pause grows 1, 2, 4 s…: the reconnection comes within a few seconds.
wait_peers anna "· Live with $HOSTPORT" 20
clear_notices anna
as boris post "Штаб" "Через serve, тоже живьём"
wait_for anna "Boris: Через serve, тоже живьём" 10
type_line anna "Анна пишет в serve"
deadline=$((SECONDS + 10))
until as boris read "Штаб" 2>/dev/null | grep -qF "Анна пишет в serve"; do
  ((SECONDS < deadline)) || fail "serve never stored what Anna typed: $(as boris read "Штаб" 2>&1)"
  sleep 0.2
done
echo "ok: with Boris's serve, his post reached Anna's chat live and her message reached his store"

# 5. Clara's chat on the same serve (the dead address listed too): what Anna types reaches
#    Clara's screen through serve, and what Clara types reaches Anna's.
chat_of clara 80 "'Штаб'"
wait_for clara "Штаб · 3 members · live"
type_line anna "Для Клары через serve"
wait_for clara "Anna: Для Клары через serve" 10
type_line clara "Клара отвечает через serve"
wait_for anna "Clara: Клара отвечает через serve" 10
echo "ok: serve passed each chat's message on to the other chat, live"
quit_chat clara

quit_chat anna
kill -TERM "$SERVE"
rc=0; wait "$SERVE" || rc=$?
[ "$rc" = 0 ] || fail "serve exited with $rc on SIGTERM: $(cat "$WORK/serve.err")"
echo "ok: the chats and serve ended cleanly"
