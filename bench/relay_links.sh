#!/usr/bin/env bash
# A fresh member's relay sync over three links (DESIGN §9.14, §18): 2,000 messages and a 5 MiB
# attachment held by a relay in one network namespace, fetched by a member who just joined, in
# another, over a veth pair at MTU 1500 (tests/integration/lib_veth.bash):
#   plain   — the link as it is;
#   freeze  — the same link with the freeze rule (`ct reply bytes gt 16384 drop`, as in
#             freeze_sync.sh): the member learns the freeze on its first connection;
#   nginx   — through a real nginx beside the relay (TLS with a test CA, the relay behind it
#             with --ws-path), as in nginx_wss.sh, to a wss:// address.
# Each run starts from the same fresh member (a copy of its home taken after it joined, so no
# freeze is remembered) and checks that it then holds every message and the whole attachment.
# Prints one JSON object: for each link the median over the runs of
#   seconds    — wall time of `kolokol sync` (unlock with --kdf fast included);
#   wire_bytes — bytes on the wire: rx_bytes + tx_bytes of the member's veth (wan0) in
#                /proc/net/dev of its namespace, read before and after: whole Ethernet frames
#                (14-byte header, no FCS), counted before nftables sees them (the frozen
#                packets the rule drops on input count as received);
# and the ratios freeze/plain and nginx/plain of both; "connections" is the median number of
# connections the freezing run opened (the rule's dials counter).
# Needs root (network namespaces), nft and nginx; exits 77 without them.
#
#   bench/relay_links.sh [KOLOKOL_BINARY] [RUNS]    (default build/cli/kolokol, RUNS = 3)
# Environment: KOLOKOL_BENCH_MESSAGES (2000), KOLOKOL_BENCH_MIB (5), KOLOKOL_BENCH_NGINX (1; 0
# leaves the nginx link out: plain and freeze only, nginx's figures and ratio print as null).
KOLOKOL=$(realpath "${1:-build/cli/kolokol}")
RUNS=${2:-3}
N=${KOLOKOL_BENCH_MESSAGES:-2000}
MIB=${KOLOKOL_BENCH_MIB:-5}
LIMIT=16384
[ -x "$KOLOKOL" ] || { echo "no kolokol binary at $KOLOKOL" >&2; exit 2; }
export KOLOKOL
IT="$(dirname "$(realpath "$0")")/../tests/integration"
source "$IT/lib.bash"
skip() { echo "cannot run the benchmark: $*" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "not root: cannot create network namespaces"
for tool in ip nft python3 openssl; do command -v "$tool" >/dev/null || skip "$tool is not installed"; done
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || skip "nginx is not installed"
source "$IT/lib_veth.bash"
source "$IT/lib_nginx.bash"
HOSTS_DIR=/etc/netns/$CNS
trap 'cleanup; net_cleanup; rm -rf "$HOSTS_DIR"' EXIT
veth_up
port=7443 gw_port=7444 tls_port=8443

log() { echo "$*" >&2; }
in_relay() { local who=$1; shift; KOLOKOL_HOME="$WORK/$who" KOLOKOL_PASSPHRASE_FILE="$WORK/$who.pass" ip netns exec "$RNS" "$KOLOKOL" "$@"; }
in_member() { local who=$1; shift; KOLOKOL_HOME="$WORK/$who" KOLOKOL_PASSPHRASE_FILE="$WORK/$who.pass" ip netns exec "$CNS" "$KOLOKOL" "$@"; }

# start_relay_ns [WS] — the relay in its namespace on the same data: on 10.89.0.1:$port, or (WS)
# on 127.0.0.1:$gw_port behind nginx. Sets RELAY_PID and ADDR.
pass_file relay
start_relay_ns() {
  local args=(--listen "10.89.0.1:$port")
  [ "${1:-}" = ws ] && args=(--listen "127.0.0.1:$gw_port" --ws-path "$secret" --ws-host "relay.test:$tls_port")
  : > "$WORK/relay.out"
  ( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec ip netns exec "$RNS" "$KOLOKOL" relay \
      "${args[@]}" --data "$WORK/relay" --kdf fast > "$WORK/relay.out" 2>>"$WORK/relay.err" ) &
  RELAY_PID=$!
  CLEANUP_PIDS+=("$RELAY_PID")
  for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
  ADDR=$(head -1 "$WORK/relay.out")
  [[ "$ADDR" == kolokol://* || "$ADDR" == wss://* ]] || fail "the relay did not start: $(tail -3 "$WORK/relay.err")"
}
stop_relay() { kill "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true; }

# nginx beside the relay, as README.md configures it (tests/integration/lib_nginx.bash): TLS for
# relay.test with a test CA, the secret path proxied to the relay's gateway.
NGINX_NAME=relay.test NGINX_LISTEN=10.89.0.1 NGINX_EXEC="ip netns exec $RNS" nginx_up
# The member's namespace resolves relay.test (ip netns exec mounts /etc/netns/NAME/hosts).
mkdir -p "$HOSTS_DIR"
printf '127.0.0.1 localhost\n10.89.0.1 relay.test\n' > "$HOSTS_DIR/hosts"

# The relay's holdings: Anna, beside the relay, writes N messages and attaches a file, and
# syncs; Boris joins and his home is kept as it is then (the fresh member).
start_relay_ns
RAW_ADDR=$ADDR
G="Bench group"
new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$RAW_ADDR" >/dev/null
token=$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
seq 1 "$N" | sed 's/^/message number /' | as anna post "$G" --each-line --no-send 2>/dev/null
as anna case open "$G" --person "Ivan" > "$WORK/open"
CASE=$(sed -n 's/^Case \([0-9a-f]*\) created\.$/\1/p' "$WORK/open")
head -c $((MIB << 20)) /dev/urandom > "$WORK/video.mp4"
as anna case attach "$G" "$CASE" "$WORK/video.mp4" --type video/mp4 >/dev/null
in_relay anna sync > "$WORK/anna_sync.log" 2>&1 || fail "anna's sync beside the relay failed: $(tail -5 "$WORK/anna_sync.log")"
GID=$(as anna group list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
cp -a "$WORK/boris" "$WORK/boris.fresh"
log "set up: $N messages and a $MIB MiB attachment at the relay"

wire_bytes() {  # rx_bytes + tx_bytes of wan0 in the member's namespace
  ip netns exec "$CNS" awk '$1 == "wan0:" { print $2 + $10 }' /proc/net/dev
}
# measure LINK [SYNC ARGS…] — one fresh member's sync; appends "seconds bytes" to $WORK/res/LINK.
measure() {
  local link=$1; shift
  rm -rf "$WORK/boris"
  cp -a "$WORK/boris.fresh" "$WORK/boris"
  local b0 b1 t0 t1 rc=0
  b0=$(wire_bytes)
  t0=$(date +%s%N)
  KOLOKOL_CA_FILE="$WORK/pki/ca.pem" in_member boris sync -v "$@" > "$WORK/$link.log" 2>&1 || rc=$?
  t1=$(date +%s%N)
  b1=$(wire_bytes)
  [ "$rc" -eq 0 ] || fail "the $link sync exited $rc: $(tail -5 "$WORK/$link.log")"
  local n
  n=$(in_member boris read "$GID" --limit 100000 --json | grep -c '"text": "message number ' || true)
  [ "$n" -eq "$N" ] || fail "after the $link sync boris holds $n of $N messages"
  in_member boris attachment list "$GID" --json | grep -q '"complete": true' ||
    fail "after the $link sync the attachment is incomplete"
  echo "$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f", ns / 1e9 }') $((b1 - b0))" >> "$WORK/res/$link"
  log "$link: $(tail -1 "$WORK/res/$link") ($(grep -i '^Synced' "$WORK/$link.log" | head -1))"
}
dials() { ip netns exec "$CNS" nft list counter inet freeze dials | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }

mkdir -p "$WORK/res"
for run in $(seq "$RUNS"); do
  log "run $run of $RUNS"
  measure plain
  freeze_on "$port" "$LIMIT"
  measure freeze
  dials >> "$WORK/res/connections"
  freeze_off
  [ "${KOLOKOL_BENCH_NGINX:-1}" = 0 ] && continue
  stop_relay
  start_relay_ns ws
  WS_ADDR=$ADDR
  measure nginx --group "$GID" "$WS_ADDR"
  stop_relay
  start_relay_ns
done

median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
med() { awk -v c="$2" '{ print $c }' "$WORK/res/$1" | median; }
s_nginx=null b_nginx=null
for l in plain freeze nginx; do
  [ -s "$WORK/res/$l" ] || { : > "$WORK/res/$l"; continue; }
  eval "s_$l=$(med $l 1) b_$l=$(med $l 2)"
done
ratio() { [ "$1" = null ] && { echo null; return; }; awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cat <<JSON
{"bench":"relay_links","runs":$RUNS,"messages":$N,"attachment_mib":$MIB,"freeze_limit":$LIMIT,
 "wire_bytes_from":"/proc/net/dev rx+tx of the member's veth",
 "plain":{"seconds":$s_plain,"wire_bytes":$b_plain},
 "freeze":{"seconds":$s_freeze,"wire_bytes":$b_freeze,"connections":$(median < "$WORK/res/connections")},
 "nginx":{"seconds":$s_nginx,"wire_bytes":$b_nginx},
 "ratio_freeze_plain":{"seconds":$(ratio "$s_freeze" "$s_plain"),"wire_bytes":$(ratio "$b_freeze" "$b_plain")},
 "ratio_nginx_plain":{"seconds":$(ratio "$s_nginx" "$s_plain"),"wire_bytes":$(ratio "$b_nginx" "$b_plain")},
 "each_run":{"plain":"$(awk '{printf "%s%s", (NR>1?", ":""), $1}' "$WORK/res/plain")","freeze":"$(awk '{printf "%s%s", (NR>1?", ":""), $1}' "$WORK/res/freeze")","nginx":"$(awk '{printf "%s%s", (NR>1?", ":""), $1}' "$WORK/res/nginx")"}}
JSON
