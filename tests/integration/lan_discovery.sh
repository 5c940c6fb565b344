# LAN discovery (DESIGN §5) between network namespaces joined by veth to one bridge:
#  1. two members (Anna, Boris) running `serve --lan` find each other by beacon and sync;
#  2. three members (and Clara) do the same, and what each posts reaches the other two;
#  3. a non-member (Oscar, his own group) in a fourth namespace captures the beacons with a
#     plain UDP listener, replays them (the members drop the replays), recognises none with his
#     own kolokol, and cannot open the members' mailboxes even knowing a member's address.
# Needs root and network namespaces: without them it says so loudly and exits 77 (skipped).
source "$(dirname "$0")/lib.bash"

# On failure, show what each process said.
fail() {
  echo "FAIL: $*" >&2
  for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $(basename "$f")" >&2; tail -20 "$f" >&2; }; done
  exit 1
}
skip() { echo "SKIP (loudly): $* — LAN discovery was NOT tested" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "not root: cannot create network namespaces"
command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"

source "$(dirname "$0")/lib_netns.bash"
trap 'cleanup; net_cleanup' EXIT
net_up 10.77.0
join anna 1; join boris 2; join clara 3; join oscar 9

new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member clara "Clara Smirnova"
new_member oscar "Oscar Outsider"
G="Support group Omega"
as anna group create "$G" >/dev/null
token=$(as anna group add "$G" "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
token=$(as anna group add "$G" "$(card_of clara)" 2>/dev/null)
as clara group join "$token" >/dev/null
as oscar group create "Oscar's own group" >/dev/null
# By id: a member who has not synced yet does not know the group's name.
GID=$(as anna group list --json | grep -o '"id": *"[0-9a-f]*"' | head -1 | grep -o '[0-9a-f]\{64\}')
[ -n "$GID" ] || fail "no group id"
as anna post "$G" "hello from anna over the LAN"

LANPORT=$(pick_port)
# serve_lan WHO — `kolokol serve --lan` in WHO's namespace; its address in $WORK/WHO.addr.
serve_lan() {
  local who=$1
  : > "$WORK/$who.addr"
  ( ip netns exec "$TAG$who" env KOLOKOL_HOME="$WORK/$who" KOLOKOL_PASSPHRASE_FILE="$WORK/$who.pass" \
      "$KOLOKOL" serve --lan --lan-port "$LANPORT" --lan-interval-ms 300 \
      > "$WORK/$who.addr" 2>>"$WORK/$who.log" ) &
  eval "PID_$who=$!"
  CLEANUP_PIDS+=("$!")
  for _ in $(seq 100); do [ -s "$WORK/$who.addr" ] && break; sleep 0.1; done
  grep -q '^kolokol://0.0.0.0:' "$WORK/$who.addr" || fail "$who's serve --lan did not start: $(cat "$WORK/$who.log")"
}
# stop WHO — SIGTERM; the process prints its LAN statistics on the way out.
stop() {
  local pid; pid=$(eval echo "\$PID_$1")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "$1's serve did not stop on SIGTERM"
  true
}
synced_lines() { cat "$@" 2>/dev/null | grep -c "LAN: synced with" || true; }
# wait_syncs N LOGS… — until the logs hold N successful LAN syncs (at most 30 s).
wait_syncs() {
  local n=$1; shift
  for _ in $(seq 300); do [ "$(synced_lines "$@")" -ge "$n" ] && return 0; sleep 0.1; done
  fail "only $(synced_lines "$@") of $n LAN syncs happened: $(cat "$@")"
}
# The last statistics line of a log: "LAN: S beacons sent, R received: M from members, U not recognised, P replayed, …"
stat_of() { grep "beacons sent" "$WORK/$1.log" | tail -1 | sed -n "s/.* \([0-9]*\) $2.*/\1/p"; }
texts_of() { as "$1" read "$GID" --limit 1000 --json | grep -o '"text": *"[^"]*"' | sed 's/.*: *"\(.*\)"/\1/' | sort; }

# 1. Two members.
serve_lan anna
serve_lan boris
wait_syncs 1 "$WORK/anna.log" "$WORK/boris.log"
stop anna; stop boris
texts_of boris | grep -qx "hello from anna over the LAN" || fail "boris did not get anna's message over the LAN"
[ -z "$(texts_of clara)" ] || fail "clara got a message while she was not running"
echo "ok: two members in separate namespaces found each other and synced"

# 2. Three members, with the outsider listening (a plain UDP socket and his own kolokol).
cat > "$WORK/capture.py" <<'EOF'
import socket, struct, sys, time
group, port, iface, secs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", port))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(group) + socket.inet_aton(iface))
s.settimeout(0.2)
seen = []
end = time.time() + secs
while time.time() < end:
    try:
        data, frm = s.recvfrom(2048)
    except socket.timeout:
        continue
    if frm[0] != iface:
        seen.append(data)
with open(out, "w") as f:
    for d in seen: f.write(d.hex() + "\n")
# Replay everything captured to the group, as an attacker on the link would.
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(iface))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
for d in seen:
    s.sendto(d, (group, port))
EOF
( ip netns exec "${TAG}oscar" python3 "$WORK/capture.py" 239.192.75.75 "$LANPORT" 10.77.0.9 3 "$WORK/captured.hex" ) &
CAP=$!
serve_lan oscar
serve_lan anna
serve_lan boris
serve_lan clara
: > "$WORK/round2.mark"
wait_syncs 4 "$WORK/anna.log" "$WORK/boris.log" "$WORK/clara.log"  # 1 from round 1, then 3 pairs
wait "$CAP" || fail "the capture script failed"
sleep 1   # let the replays arrive
for who in anna boris clara oscar; do stop "$who"; cp "$WORK/$who.log" "$WORK/$who.round2"; done
texts_of clara | grep -qx "hello from anna over the LAN" || fail "clara did not get anna's message"
# Clara's admission reached her over the LAN: she can post now. Boris and Clara post.
as boris post "$G" "boris says hi"
as clara post "$G" "clara says hi"
serve_lan anna; serve_lan boris; serve_lan clara
wait_syncs 7 "$WORK/anna.log" "$WORK/boris.log" "$WORK/clara.log"
for who in anna boris clara; do stop "$who"; done
expected=$(printf '%s\n' "boris says hi" "clara says hi" "hello from anna over the LAN" | sort)
for who in anna boris clara; do
  [ "$(texts_of "$who")" = "$expected" ] || fail "$who sees: $(texts_of "$who" | tr '\n' '|')"
done
echo "ok: three members in separate namespaces found each other; every message reached all three"

# 3. The outsider.
n=$(wc -l < "$WORK/captured.hex")
[ "$n" -ge 3 ] || fail "the outsider captured only $n beacons"
awk '{ if (length($0) != 172) exit 1 }' "$WORK/captured.hex" || fail "a beacon is not 86 bytes"
[ "$(sort -u "$WORK/captured.hex" | wc -l)" -eq "$n" ] || fail "two captured beacons are identical"
# No field repeats: the first 4 bytes (and any 4 at a fixed offset) differ between beacons.
for off in 0 16 40 78; do
  [ "$(cut -c$((off*2+1))-$((off*2+8)) "$WORK/captured.hex" | sort | uniq -d | wc -l)" -eq 0 ] \
    || fail "captured beacons share 4 bytes at offset $off"
done
echo "ok: the outsider captured $n beacons of 86 bytes with no repeated field"
[ "$(stat_of oscar 'received')" -ge 3 ] || fail "oscar's kolokol received no beacons: $(cat "$WORK/oscar.log")"
[ "$(stat_of oscar 'from members')" -eq 0 ] || fail "the outsider recognised a beacon: $(cat "$WORK/oscar.log")"
grep -q "LAN: synced" "$WORK/oscar.log" && fail "the outsider synced with someone"
replayed=0
for who in anna boris clara; do
  line=$(grep "beacons sent" "$WORK/$who.round2" | tail -1)
  r=$(sed -n 's/.* \([0-9]*\) replayed.*/\1/p' <<<"$line")
  replayed=$((replayed + ${r:-0}))
  u=$(sed -n 's/.* \([0-9]*\) not recognised.*/\1/p' <<<"$line")
  [ "${u:-0}" -ge 1 ] || fail "$who did not see (and ignore) the outsider's beacons: $line"
  # Replays come from the outsider's address, not the one sealed in the beacon: ignored, so
  # no member ever dials the outsider (which would tell him who shares the sender's group).
  w=$(sed -n 's/.* \([0-9]*\) from a wrong address.*/\1/p' <<<"$line")
  wrong=$((${wrong:-0} + ${w:-0}))
  if grep "10.77.0.9" "$WORK/$who.log"; then fail "$who connected to the outsider"; fi
done
[ $((replayed + wrong)) -ge 1 ] || fail "no member saw the outsider's replays: $(cat "$WORK"/{anna,boris,clara}.log)"
echo "ok: the outsider recognised none; the members ignored his beacons and his $((replayed + wrong)) replays ($replayed seen before, $wrong from a wrong address), and never dialed him"

# Even knowing Anna's address and key, the outsider cannot open a mailbox of the group.
serve_lan anna
addr=$(head -1 "$WORK/anna.addr" | sed 's/0\.0\.0\.0/10.77.0.1/')
ip netns exec "${TAG}oscar" env KOLOKOL_HOME="$WORK/oscar" KOLOKOL_PASSPHRASE_FILE="$WORK/oscar.pass" \
  "$KOLOKOL" sync --json --group "Oscar's own group" "$addr" > "$WORK/oscar_sync.json" 2>"$WORK/oscar_sync.err" || true
stop anna
grep -q '"received":0' "$WORK/oscar_sync.json" || fail "the outsider received something: $(cat "$WORK/oscar_sync.json" "$WORK/oscar_sync.err")"
[ "$(as oscar read "Oscar's own group" --limit 1000 --json | grep -c '"text"')" -eq 0 ] || fail "oscar holds messages"
as anna read "$GID" --limit 1000 | grep -q "Oscar" && fail "anna took in the outsider's records"
echo "ok: the outsider connected but could open no mailbox and received nothing"
