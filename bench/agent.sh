#!/usr/bin/env bash
# The unlock agent (DESIGN §4 "Unlock agent"): what a command costs with and without it, on a
# store with the tuned Argon2id parameters every real store gets (`kolokol init` without
# --kdf fast). Prints one JSON object:
#   unlock_ms            — starting the agent: asking the passphrase (from a file), both
#                          derivations, listening; median of the runs
#   post_ms / read_ms    — `kolokol post G TEXT` and `kolokol read G`, median of N, with the
#                          passphrase ("passphrase") and through the agent ("agent")
#
#   bench/agent.sh [KOLOKOL_BINARY] [N]     (default build/cli/kolokol, N = 9)
set -euo pipefail
KOLOKOL=${1:-build/cli/kolokol}
N=${2:-9}
[ -x "$KOLOKOL" ] || { echo "no kolokol binary at $KOLOKOL" >&2; exit 2; }
WORK=$(mktemp -d)
trap '"$KOLOKOL" --home "$WORK/home" lock >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
echo "a passphrase for the benchmark" > "$WORK/pass"
export KOLOKOL_HOME="$WORK/home"

ms_of() {  # ms_of CMD… — runs CMD, prints its wall time in ms (3 decimals)
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1
  t1=$(date +%s%N)
  awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f\n", ns / 1e6 }'
}
median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
with_pass() { KOLOKOL_PASSPHRASE_FILE="$WORK/pass" "$KOLOKOL" "$@"; }
# No passphrase file and no terminal: only the agent can unlock.
via_agent() { env -u KOLOKOL_PASSPHRASE_FILE setsid -w "$KOLOKOL" "$@" </dev/null; }

with_pass init --name Bench >/dev/null
with_pass group create G >/dev/null
with_pass post G --no-send "warm-up" >/dev/null

post_pass=() read_pass=() post_agent=() read_agent=() unlock=()
for i in $(seq "$N"); do
  post_pass+=("$(ms_of with_pass post G --no-send "message $i")")
  read_pass+=("$(ms_of with_pass read G)")
done
for i in $(seq "$N"); do
  unlock+=("$(ms_of with_pass agent --idle 10m)")
  post_agent+=("$(ms_of via_agent post G --no-send "agent message $i")")
  read_agent+=("$(ms_of via_agent read G)")
  via_agent lock >/dev/null
done
med() { printf '%s\n' "$@" | median; }
cat <<JSON
{"bench":"agent","runs":$N,"kdf":"tuned",
 "unlock_ms":$(med "${unlock[@]}"),
 "post_ms":{"passphrase":$(med "${post_pass[@]}"),"agent":$(med "${post_agent[@]}")},
 "read_ms":{"passphrase":$(med "${read_pass[@]}"),"agent":$(med "${read_agent[@]}")}}
JSON
