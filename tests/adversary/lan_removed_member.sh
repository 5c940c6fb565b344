# What the LAN gives a removed member, an informer and a flooding host (SECURITY.md "Adversary
# tests", rows 40, 42, 43), in network namespaces joined by one bridge (as
# tests/integration/lan_discovery.sh):
#  1. Mallory, removed from the group, goes on beaconing under every epoch key her home still
#     holds (kolokol-adversary lan-beacon-as, which also writes down every connection to the
#     port her beacons name). Anna and Boris, running `serve --lan`, find each other, never
#     recognise her beacons and never dial her.
#  2. Ivan, a member and an informer, announces a hostile relay of his in his beacons: Anna
#     dials it and offers only the group's mailboxes, never her other group's.
#  3. A host floods the beacon port from one address (kolokol-adversary lan-flood, about 2000
#     datagrams a second); Anna and Boris still find each other, sync, and miss none of each
#     other's beacons.
# Needs root and network namespaces: without them it says so loudly and exits 77 (skipped).
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"

fail() {
  echo "FAIL: $*" >&2
  for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $(basename "$f")" >&2; tail -20 "$f" >&2; }; done
  exit 1
}
skip() { echo "SKIP (loudly): $* — the LAN attacks were NOT tested" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "not root: cannot create network namespaces"
command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
source "$(dirname "$0")/../integration/lib_netns.bash"
trap 'cleanup; net_cleanup' EXIT
net_up 10.79.0
join anna 1; join boris 2; join ivan 7; join flood 8; join mallory 9

new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member mallory "Mallory Informer"
new_member ivan "Ivan Informer"
G="Support group Sigma"
as anna group create "$G" >/dev/null
as anna group create "Beta strike fund" >/dev/null  # Anna's other group: nobody here is in it
for who in boris mallory ivan; do
  token=$(as anna group add "$G" "$(card_of "$who")" 2>/dev/null)
  as "$who" group join "$token" >/dev/null
done
GID=$(as anna group list --json | python3 -c 'import json, sys; print([g["id"] for g in json.load(sys.stdin) if g["name"] == sys.argv[1]][0])' "$G")
[ -n "$GID" ] || fail "no group id"
# Everyone holds the group as it is, with Mallory a member: by sync file.
as anna sync --to-file "$WORK/all.sync" >/dev/null
as boris sync --from-file "$WORK/all.sync" >/dev/null
as mallory sync --from-file "$WORK/all.sync" >/dev/null
as ivan sync --from-file "$WORK/all.sync" >/dev/null
as mallory read "$GID" >/dev/null || fail "mallory cannot read the group before her removal"
# Anna removes her; Boris hears of it by sync file, Mallory does not.
as anna group remove "$G" "Mallory Informer" >/dev/null
as anna post "$G" "after mallory's removal"
as anna sync --to-file "$WORK/removal.sync" >/dev/null
as boris sync --from-file "$WORK/removal.sync" >/dev/null
as ivan sync --from-file "$WORK/removal.sync" >/dev/null
as boris read "$G" | grep -q "after mallory's removal" || fail "boris did not get the rotation"

LANPORT=$(pick_port)
# serve_lan WHO INTERVAL_MS — `kolokol serve --lan` in WHO's namespace.
serve_lan() {
  local who=$1
  : > "$WORK/$who.addr"
  ( ip netns exec "$TAG$who" env KOLOKOL_HOME="$WORK/$who" KOLOKOL_PASSPHRASE_FILE="$WORK/$who.pass" \
      "$KOLOKOL" serve --lan --lan-port "$LANPORT" --lan-interval-ms "$2" \
      > "$WORK/$who.addr" 2>>"$WORK/$who.log" ) &
  eval "PID_$who=$!"
  CLEANUP_PIDS+=("$!")
  for _ in $(seq 100); do [ -s "$WORK/$who.addr" ] && break; sleep 0.1; done
  grep -q '^kolokol://0.0.0.0:' "$WORK/$who.addr" || fail "$who's serve --lan did not start: $(cat "$WORK/$who.log")"
}
stop() {
  local pid; pid=$(eval echo "\$PID_$1")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "$1 did not stop on SIGTERM"
  true
}
synced_lines() { cat "$@" 2>/dev/null | grep -c "LAN: synced with" || true; }
# wait_syncs N SECONDS LOGS… — until the logs hold N successful LAN syncs.
wait_syncs() {
  local n=$1 secs=$2 deadline=$((SECONDS + $2)); shift 2
  while ((SECONDS < deadline)); do [ "$(synced_lines "$@")" -ge "$n" ] && return 0; sleep 0.1; done
  fail "only $(synced_lines "$@") of $n LAN syncs happened in $secs s"
}
# stat_of WHO NAME — a number from WHO's last LAN statistics line.
stat_of() { grep "beacons sent" "$WORK/$1.log" | tail -1 | sed -n "s/.* \([0-9]*\) $2.*/\1/p"; }

# 1. The removed member beacons under her old key and waits to be dialled.
: > "$WORK/dials.txt"
( exec ip netns exec "${TAG}mallory" "$KOLOKOL_ADVERSARY" lan-beacon-as "$WORK/mallory" "$WORK/mallory.pass" \
    "$GID" "$LANPORT" 300 "$WORK/dials.txt" > "$WORK/mallory.out" 2>"$WORK/mallory.log" ) &
MALLORY=$!
CLEANUP_PIDS+=("$MALLORY")
for _ in $(seq 100); do [ -s "$WORK/mallory.out" ] && break; sleep 0.1; done
grep -q "beaconing under" "$WORK/mallory.out" || fail "mallory's beaconer did not start: $(cat "$WORK/mallory.log")"
serve_lan anna 300
serve_lan boris 300
wait_syncs 1 30 "$WORK/anna.log" "$WORK/boris.log"
sleep 3  # ten more of Mallory's beacons
stop anna; stop boris
kill -TERM "$MALLORY"; wait "$MALLORY" 2>/dev/null || true
sent=$(sed -n 's/.*: \([0-9]*\) beacons sent.*/\1/p' "$WORK/mallory.log")
[ "${sent:-0}" -ge 10 ] || fail "mallory sent only ${sent:-0} beacons"
[ ! -s "$WORK/dials.txt" ] || fail "a member dialled the removed member: $(cat "$WORK/dials.txt")"
for who in anna boris; do
  grep -q "10.79.0.9" "$WORK/$who.log" && fail "$who connected to the removed member"
  [ "$(stat_of "$who" "not recognised")" -ge 1 ] || fail "$who never saw (and ignored) mallory's beacons"
done
echo "ok: mallory sent $sent beacons under her old keys; neither member recognised one or dialled her, and they found each other"

# 2. Ivan, a member of the group and an informer, beacons on the LAN under
# its key with the address of a hostile relay of his (kolokol-adversary hostile-relay, whose
# key makes Anna the side that dials): Anna's `serve --lan` offers it the group's mailboxes
# only, never those of her other group.
( exec ip netns exec "${TAG}ivan" "$KOLOKOL_ADVERSARY" hostile-relay "0.0.0.0:$(pick_port)" \
    "$WORK/ivan_relay.txt" high-key > "$WORK/ivan_relay.out" 2>"$WORK/ivan_relay.log" ) &
CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/ivan_relay.out" ] && break; sleep 0.1; done
IVAN_RELAY=$(head -1 "$WORK/ivan_relay.out")
[[ "$IVAN_RELAY" == kolokol://* ]] || fail "ivan's hostile relay did not start"
( exec ip netns exec "${TAG}ivan" "$KOLOKOL_ADVERSARY" lan-beacon-as "$WORK/ivan" "$WORK/ivan.pass" \
    "$GID" "$LANPORT" 300 "$WORK/ivan_dials.txt" "$IVAN_RELAY" > "$WORK/ivan.out" 2>"$WORK/ivan.log" ) &
IVAN=$!
CLEANUP_PIDS+=("$IVAN")
: > "$WORK/anna.log"
serve_lan anna 300
deadline=$((SECONDS + 30))
until grep -q '^open ' "$WORK/ivan_relay.txt" 2>/dev/null; do
  ((SECONDS < deadline)) || fail "anna never dialled ivan's announced relay: $(cat "$WORK/anna.log")"
  sleep 0.1
done
sleep 2
stop anna
kill -TERM "$IVAN" 2>/dev/null || true
adv member-mailboxes "$WORK/anna" "$WORK/anna.pass" "$G" | sort > "$WORK/g.mailboxes"
adv member-mailboxes "$WORK/anna" "$WORK/anna.pass" "Beta strike fund" | sort > "$WORK/b.mailboxes"
awk '$1 == "open" { print $3 }' "$WORK/ivan_relay.txt" | sort -u > "$WORK/ivan.opened"
leaked=$(comm -12 "$WORK/ivan.opened" "$WORK/b.mailboxes" | wc -l)
[ "$leaked" -eq 0 ] || fail "anna offered a LAN member of one group $leaked mailboxes of her other group"
foreign=$(comm -23 "$WORK/ivan.opened" "$WORK/g.mailboxes" | wc -l)
[ "$foreign" -eq 0 ] || fail "anna offered $foreign mailboxes that are not the group's"
echo "ok: a member found on the LAN was offered only the group whose beacon it sent ($(wc -l < "$WORK/ivan.opened") mailboxes)"

# 3. A flood from one address does not stop two members finding each other, nor make them miss
# each other's beacons. The flooder sends as fast as it can into a shaping qdisc that lets
# 2 Mbit/s (about 2000 beacon-sized datagrams a second, forty times the old overall budget) out
# steadily, so the flood has no gaps while the flooder waits for a CPU, and a member's socket
# never overflows (what reaches a member is all examined or refused, none lost before).
command -v tc >/dev/null || skip "tc (iproute2) is not installed"
ip netns exec "${TAG}flood" tc qdisc replace dev lan0 root tbf rate 2mbit burst 3000 limit 4000000 \
  2>"$WORK/tc.err" || skip "the kernel refused a tbf qdisc: $(cat "$WORK/tc.err")"
( exec ip netns exec "${TAG}flood" "$KOLOKOL_ADVERSARY" lan-flood 10.79.0.8 "$LANPORT" 300 \
    > "$WORK/flood.out" 2>"$WORK/flood.log" ) &
FLOOD=$!
CLEANUP_PIDS+=("$FLOOD")
sleep 2
: > "$WORK/anna.log"; : > "$WORK/boris.log"
# Anna is flooded for a while before Boris comes: whatever budget she started with is gone.
serve_lan anna 1000
sleep 2
serve_lan boris 1000
wait_syncs 1 40 "$WORK/anna.log" "$WORK/boris.log"
sleep 10
stop boris
sleep 2  # Boris's last beacon reaches Anna
stop anna
kill -TERM "$FLOOD" 2>/dev/null || true
for who in anna boris; do
  dropped=$(stat_of "$who" "dropped by the rate limit")
  [ "${dropped:-0}" -ge 1000 ] || fail "$who saw only ${dropped:-0} datagrams dropped: the flood did not reach it"
done
sent=$(stat_of boris "beacons sent"); heard=$(stat_of anna "from members")
[ "${heard:-0}" -ge $((sent - 2)) ] || fail "under the flood anna recognised only ${heard:-0} of the $sent beacons boris sent"
echo "ok: flooded from one address, the members found each other and anna recognised $heard of boris's $sent beacons (anna dropped $(stat_of anna "dropped by the rate limit") datagrams, boris $(stat_of boris "dropped by the rate limit"))"
