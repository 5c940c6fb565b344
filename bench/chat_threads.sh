#!/usr/bin/env bash
# Threads of a running `kolokol chat` whose group lists N relays (DESIGN §5; design.md §2.3):
# every relay is a real `kolokol relay` on loopback, the chat runs in a detached tmux terminal,
# and the count is read from /proc/PID/status once every session is up. Prints one JSON object:
#   peers      — relays the group lists (one live session each)
#   threads    — the chat process's threads, the most seen over 5 samples a second apart
#   baseline   — the same chat with --offline (no session at all)
#
#   bench/chat_threads.sh [KOLOKOL_BINARY] [N]     (default build/cli/kolokol, N = 10)
set -euo pipefail
KOLOKOL=$(realpath "${1:-build/cli/kolokol}")
N=${2:-10}
[ -x "$KOLOKOL" ] || { echo "no kolokol binary at $KOLOKOL" >&2; exit 2; }
command -v tmux >/dev/null || { echo "tmux is needed" >&2; exit 2; }
WORK=$(mktemp -d)
SOCK="kolokol-bench-$$"
PIDS=()
finish() {
  tmux -L "$SOCK" kill-server 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap finish EXIT
echo "a passphrase for the benchmark" > "$WORK/pass"
export KOLOKOL_PASSPHRASE_FILE="$WORK/pass"
export KOLOKOL_HOME="$WORK/anna"
"$KOLOKOL" init --name Anna --kdf fast >/dev/null
"$KOLOKOL" group create G >/dev/null

for i in $(seq "$N"); do
  ( exec "$KOLOKOL" relay --listen 127.0.0.1:0 --data "$WORK/relay$i" --kdf fast \
      >"$WORK/relay$i.out" 2>"$WORK/relay$i.err" ) &
  PIDS+=($!)
done
for i in $(seq "$N"); do
  for _ in $(seq 100); do [ -s "$WORK/relay$i.out" ] && break; sleep 0.1; done
  addr=$(head -1 "$WORK/relay$i.out")
  [[ "$addr" == kolokol://* ]] || { echo "relay $i did not start: $(cat "$WORK/relay$i.err")" >&2; exit 1; }
  "$KOLOKOL" group relay add G "$addr" >/dev/null
done

# threads_of_chat ARGS… — starts the chat, waits for its sessions, prints its peak thread count.
threads_of_chat() {
  tmux -L "$SOCK" new-session -d -s chat -x 120 -y 30 \
    "exec env KOLOKOL_HOME='$KOLOKOL_HOME' KOLOKOL_PASSPHRASE_FILE='$WORK/pass' LANG=C.UTF-8 '$KOLOKOL' chat G $*"
  local pid most=0 n
  pid=$(tmux -L "$SOCK" list-panes -t chat -F '#{pane_pid}')
  # Every session is up once each relay has accepted one (or after 15 s).
  for _ in $(seq 150); do
    if [ "$*" = "--offline" ] || tmux -L "$SOCK" capture-pane -p -t chat | grep -q "live"; then break; fi
    sleep 0.1
  done
  sleep 2
  for _ in 1 2 3 4 5; do
    n=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
    ((n > most)) && most=$n
    sleep 1
  done
  tmux -L "$SOCK" kill-session -t chat
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  echo "$most"
}

live=$(threads_of_chat)
offline=$(threads_of_chat --offline)
printf '{"peers":%d,"threads":%d,"baseline":%d}\n' "$N" "$live" "$offline"
