# Through a SOCKS5 proxy (Tor), each group's connection to each relay gives credentials of its
# own, so Tor (IsolateSOCKSAuth) never puts two groups — or one group's two relays — on one
# circuit, where an exit or a relay could link them (SECURITY.md "Relays and the LAN").
# The proxy is kolokol-adversary socks-record, which writes down the methods each client offers,
# the username and password it sends and the target, and carries the connection. Anna is in
# A (relay R1), B (relay R2) and C (both); Boris in A.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"

( exec "$KOLOKOL_ADVERSARY" socks-record "127.0.0.1:$(pick_port)" "$WORK/proxy.log" \
    > "$WORK/proxy.out" 2>"$WORK/proxy.err" ) &
CLEANUP_PIDS+=("$!")
for r in r1 r2; do
  pass_file "$r"
  ( KOLOKOL_PASSPHRASE_FILE="$WORK/$r.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$(pick_port)" \
      --data "$WORK/$r" --kdf fast > "$WORK/$r.out" 2>"$WORK/$r.err" ) &
  CLEANUP_PIDS+=("$!")
done
for _ in $(seq 100); do [ -s "$WORK/proxy.out" ] && [ -s "$WORK/r1.out" ] && [ -s "$WORK/r2.out" ] && break; sleep 0.1; done
PROXY=$(head -1 "$WORK/proxy.out"); R1=$(head -1 "$WORK/r1.out"); R2=$(head -1 "$WORK/r2.out")
[[ "$PROXY" == socks5://* ]] || fail "the recording proxy did not start: $(cat "$WORK/proxy.err")"
[[ "$R1" == kolokol://* && "$R2" == kolokol://* ]] || fail "the relays did not start"
R1_TARGET=$(sed 's|kolokol://\([^/]*\)/.*|\1|' <<<"$R1"); R2_TARGET=$(sed 's|kolokol://\([^/]*\)/.*|\1|' <<<"$R2")

new_member anna "Anna Petrova"
new_member boris "Boris Ivanov"
as anna group create A >/dev/null
as anna group create B >/dev/null
as anna group create C >/dev/null
as anna group relay add A "$R1" >/dev/null
as anna group relay add B "$R2" >/dev/null
as anna group relay add C "$R1" >/dev/null
as anna group relay add C "$R2" >/dev/null
token=$(as anna group add A "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
as anna post A "through the proxy"

# connects FILE — the proxy's log so far into FILE, and a fresh log for what comes next.
connects() { grep '^connect ' "$WORK/proxy.log" > "$1" || true; : > "$WORK/proxy.log"; }
# users_for FILE TARGET — the distinct credentials given for connections to TARGET.
users_for() { awk -v t="$2" '$1 == "connect" && $10 == t { print $6 ":" $8 }' "$1" | sort -u; }

as anna sync --proxy "$PROXY" >/dev/null 2>"$WORK/anna.err" || fail "anna's sync through the proxy failed: $(cat "$WORK/anna.err")"
connects "$WORK/run1"
as boris sync --proxy "$PROXY" >/dev/null 2>"$WORK/boris.err" || fail "boris's sync through the proxy failed: $(cat "$WORK/boris.err")"
as boris read A | grep -q "through the proxy" || fail "boris did not get anna's message through the proxy"
connects "$WORK/boris.connects"
echo "ok: both synced through the recording proxy: anna with $(wc -l < "$WORK/run1") connections"

[ -s "$WORK/run1" ] || fail "the proxy saw no connection of anna's"
while read -r _ _ _ methods _ user _ pass _ target; do
  [[ ",$methods," == *,2,* ]] || fail "a connection to $target offered no username/password (methods $methods)"
  [ "$user" != - ] && [ "$pass" != - ] || fail "a connection to $target gave no credentials"
done < "$WORK/run1"
echo "ok: every connection offered and gave SOCKS5 credentials"

# Four sessions (A and C to R1, B and C to R2) under four credentials, none shared by relays.
r1=$(users_for "$WORK/run1" "$R1_TARGET" | wc -l); r2=$(users_for "$WORK/run1" "$R2_TARGET" | wc -l)
[ "$r1" -ge 2 ] || fail "groups A and C reached R1 with the same credentials: $(cat "$WORK/run1")"
[ "$r2" -ge 2 ] || fail "groups B and C reached R2 with the same credentials: $(cat "$WORK/run1")"
shared=$(comm -12 <(users_for "$WORK/run1" "$R1_TARGET") <(users_for "$WORK/run1" "$R2_TARGET") | wc -l)
[ "$shared" -eq 0 ] || fail "$shared credentials were given for both relays: $(cat "$WORK/run1")"
echo "ok: each group reached each relay with credentials of its own: R1 saw $r1, R2 saw $r2, none shared"

# The credentials are the process's own: the next run gives new ones.
as anna sync --proxy "$PROXY" >/dev/null 2>"$WORK/anna2.err" || fail "anna's second sync failed: $(cat "$WORK/anna2.err")"
connects "$WORK/run2"
again=$(comm -12 <(awk '{ print $6 ":" $8 }' "$WORK/run1" | sort -u) <(awk '{ print $6 ":" $8 }' "$WORK/run2" | sort -u) | wc -l)
[ "$again" -eq 0 ] || fail "a second run reused $again credentials of the first"
echo "ok: a second run gave none of the first run's credentials"
