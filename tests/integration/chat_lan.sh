# `kolokol chat --lan` between two network namespaces joined by veth to one bridge, no relay
# and no address listed anywhere: Anna's and Boris's chats (tmux) find each other by beacon and
# keep a live session, so what either types appears on the other's screen, in Cyrillic, with
# no /sync. Needs root and network namespaces: without them it says so loudly and exits 77
# (skipped). Every wait polls the screen with a deadline.
source "$(dirname "$0")/lib.bash"

skip() { echo "SKIP (loudly): $* — chat over the LAN was NOT tested" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "not root: cannot create network namespaces"
command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
command -v tmux >/dev/null || fail "tmux is missing: run scripts/deps"
export LC_ALL=C.UTF-8

source "$(dirname "$0")/lib_netns.bash"
source "$(dirname "$0")/lib_tmux.bash"
trap 'tmux_cleanup; net_cleanup; cleanup' EXIT
net_up 10.78.0
join anna 1; join boris 2

LANPORT=$(pick_port)
# chat_lan WHO — WHO's chat with --lan in WHO's namespace, in a detached 80×24 terminal.
chat_lan() {
  local who=$1
  tmx new-session -d -s "$who" -x 80 -y 24 \
    "ip netns exec '$TAG$who' env KOLOKOL_HOME='$WORK/$who' \
     KOLOKOL_PASSPHRASE_FILE='$WORK/$who.pass' LANG=C.UTF-8 \
     '$KOLOKOL' chat 'Штаб' --lan --lan-port $LANPORT --lan-interval-ms 300 2>'$WORK/$who.err'; \
     echo \$? > '$WORK/$who.rc'; sleep 0.5"
}

new_member anna Anna
new_member boris Boris
as anna group create "Штаб" >/dev/null
token=$(as anna group add "Штаб" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
as anna sync --to-file "$WORK/start.sync" >/dev/null
as boris sync --from-file "$WORK/start.sync" >/dev/null

chat_lan anna
chat_lan boris
# The side with the smaller transport key dials; the other accepts. Both are live.
wait_for anna "Штаб · 2 members · live" 20
wait_for boris "Штаб · 2 members · live" 20
type_line anna "/peers"
type_line boris "/peers"
wait_for anna "Listening:"
wait_for boris "Listening:"
screen anna | grep -qF "10.78.0.2:" || screen boris | grep -qF "10.78.0.1:" \
  || fail "neither chat lists a LAN session: $(screen anna) $(screen boris)"
echo "ok: the two chats found each other on the LAN and went live"

type_line anna "Привет по локальной сети"
wait_for boris "Anna: Привет по локальной сети" 10
echo "ok: Anna's message appeared live in Boris's chat"
type_line boris "Ответ Бориса по LAN"
wait_for anna "Boris: Ответ Бориса по LAN" 10
echo "ok: Boris's message appeared live in Anna's chat"

for who in anna boris; do quit_chat "$who"; done
# Both stores hold both messages, and nothing went through an address list.
for who in anna boris; do
  texts=$(as "$who" read "Штаб")
  grep -qF "Привет по локальной сети" <<<"$texts" || fail "$who's store lacks Anna's message"
  grep -qF "Ответ Бориса по LAN" <<<"$texts" || fail "$who's store lacks Boris's message"
done
echo "ok: both chats ended cleanly and both stores hold both messages"
