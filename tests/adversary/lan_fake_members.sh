# An informer on the LAN makes up members (SECURITY.md row 67): from his one address he beacons
# under the group's key as 200 members, each with a transport key and port of its own, and
# answers every dial with a handshake, a Hello and then only a Ping now and then, so a session
# with him never ends on its own (kolokol-adversary lan-fake-members). Anna runs `serve --lan`:
# she may hold at most 4 sessions with his address at once (and 32 with the LAN in all), and
# she and Boris, an honest member beside them, still find each other and sync. In network
# namespaces joined by one bridge (as lan_removed_member.sh).
# Needs root and network namespaces: without them it says so loudly and exits 77 (skipped).
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"

fail() {
  echo "FAIL: $*" >&2
  for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $(basename "$f")" >&2; tail -20 "$f" >&2; }; done
  exit 1
}
skip() { echo "SKIP (loudly): $* — the made-up LAN members were NOT tested" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "not root: cannot create network namespaces"
command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
source "$(dirname "$0")/../integration/lib_netns.bash"
trap 'cleanup; net_cleanup' EXIT
net_up 10.81.0
join anna 1; join boris 2; join ivan 7

new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
new_member ivan "Ivan Informer"
G="Support group Sigma"
as anna group create "$G" >/dev/null
for who in boris ivan; do
  token=$(as anna group add "$G" "$(card_of "$who")" 2>/dev/null)
  as "$who" group join "$token" >/dev/null
done
as anna sync --to-file "$WORK/all.sync" >/dev/null
as boris sync --from-file "$WORK/all.sync" >/dev/null
as ivan sync --from-file "$WORK/all.sync" >/dev/null
as anna post "$G" "for boris, by LAN"

LANPORT=$(pick_port)
PER_HOST=4
# serve_lan WHO — `kolokol serve --lan` in WHO's namespace, a beacon every 300 ms.
serve_lan() {
  local who=$1
  : > "$WORK/$who.addr"
  ( ip netns exec "$TAG$who" env KOLOKOL_HOME="$WORK/$who" KOLOKOL_PASSPHRASE_FILE="$WORK/$who.pass" \
      "$KOLOKOL" serve --lan --lan-port "$LANPORT" --lan-interval-ms 300 \
      > "$WORK/$who.addr" 2>>"$WORK/$who.log" ) &
  CLEANUP_PIDS+=("$!")
  for _ in $(seq 300); do [ -s "$WORK/$who.addr" ] && break; sleep 0.1; done
  grep -q '^kolokol://0.0.0.0:' "$WORK/$who.addr" || fail "$who's serve --lan did not start: $(cat "$WORK/$who.log")"
}

: > "$WORK/ivan.txt"
( exec ip netns exec "${TAG}ivan" "$KOLOKOL_ADVERSARY" lan-fake-members "$WORK/ivan" "$WORK/ivan.pass" \
    "$G" 10.81.0.7 "$LANPORT" 200 "$WORK/ivan.txt" > "$WORK/ivan.out" 2>"$WORK/ivan.log" ) &
IVAN=$!
CLEANUP_PIDS+=("$IVAN")
for _ in $(seq 300); do [ -s "$WORK/ivan.out" ] && break; sleep 0.1; done
grep -q "beaconing" "$WORK/ivan.out" || fail "ivan's made-up members did not start: $(cat "$WORK/ivan.log")"
serve_lan anna
# 25 s of made-up members: about 300 of their beacons reach Anna's listener.
sleep 25
serve_lan boris
deadline=$((SECONDS + 40))
until grep -q "LAN: synced with 10.81.0.[12]" "$WORK/anna.log" "$WORK/boris.log" 2>/dev/null; do
  ((SECONDS < deadline)) || fail "anna and boris did not sync beside the made-up members"
  sleep 0.2
done
# Each serve syncs with the other within 40 s.
deadline=$((SECONDS + 40))
until as boris read "$G" 2>/dev/null | grep -q "for boris, by LAN"; do
  ((SECONDS < deadline)) || fail "boris never got anna's message by LAN"
  sleep 1
done
kill -TERM "$IVAN"; wait "$IVAN" 2>/dev/null || true
# stat_of IP FIELD — the last count of FIELD ivan wrote for the member at IP.
stat_of() { awk -v ip="$1" -v f="$2" '$3 == ip { for (i = 4; i < NF; i++) if ($i == f) v = $(i + 1) } END { print v + 0 }' "$WORK/ivan.txt"; }
most=$(stat_of 10.81.0.1 most)
dials=$(stat_of 10.81.0.1 dials)
echo "ivan: anna dialled his made-up members $dials times, at most $most sessions at once"
[ "$dials" -ge 1 ] || fail "anna never dialled a made-up member: the attack did not run"
[ "$most" -le "$PER_HOST" ] || fail "one informer's address held $most of anna's LAN sessions at once (at most $PER_HOST)"
echo "lan_fake_members: 200 made-up members from one address held at most $most of anna's sessions; anna and boris synced"
