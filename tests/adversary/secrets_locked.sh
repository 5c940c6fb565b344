# A seized running machine, or one whose swap is read later: every copy of a key that a running
# `kolokol serve` holds must be in locked memory, which the kernel never writes to swap. The
# attacker (root) opens the home with its passphrase to learn the keys — the identity's seed and
# box secret, the transport secret, each epoch's secret and subkeys, the database key — then
# reads /proc/PID/mem of serve, finds every copy, and checks each lies in a locked mapping
# (VmFlags "lo" in /proc/PID/smaps). Every key must be found at least once: a scan that finds
# nothing proves nothing. Three stores: a fresh one after a sync through serve; one written
# before secret columns were sealed (serve migrates it on open); and one with 450 groups served
# by an unprivileged user, whom RLIMIT_MEMLOCK (8 MiB) limits.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"

# serve_and_scan WHO LABEL [RUNAS…] — starts WHO's serve (as RUNAS… if given), lets Boris sync
# with it when he is in WHO's group, and scans its memory for WHO's keys.
serve_and_scan() {
  local who=$1 label=$2 port pid addr; shift 2
  port=$(pick_port)
  ( KOLOKOL_HOME="$WORK/$who" KOLOKOL_PASSPHRASE_FILE="$WORK/$who.pass" exec "$@" "$KOLOKOL" \
      serve --listen "127.0.0.1:$port" > "$WORK/$who.serve" 2>"$WORK/$who.serve.err" ) &
  pid=$!
  CLEANUP_PIDS+=("$pid")
  for _ in $(seq 200); do [ -s "$WORK/$who.serve" ] && break; sleep 0.1; done
  addr=$(head -1 "$WORK/$who.serve")
  [[ "$addr" == kolokol://* ]] || fail "$who's serve did not start: $(cat "$WORK/$who.serve.err")"
  if [ -d "$WORK/boris" ] && as boris group list 2>/dev/null | grep -q "G-$who"; then
    as boris sync "$addr" >/dev/null || fail "Boris could not sync with $who's serve"
  fi
  adv scan-memory "$pid" "$WORK/$who.secrets" > "$WORK/$who.scan" || fail "the scan failed"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local summary total
  summary=$(tail -1 "$WORK/$who.scan")
  total=$(wc -l < "$WORK/$who.secrets")
  [[ "$summary" == "secrets=$total found=$total "* ]] \
    || fail "$label: not every key was found in serve's memory ($summary):
$(grep '^missing' "$WORK/$who.scan")"
  [[ "$summary" == *" unlocked=0" ]] || fail "$label: keys in memory that may be swapped out ($summary):
$(grep UNLOCKED "$WORK/$who.scan" | head -20)"
  echo "ok: $label: $summary"
}

# --- A fresh store, two epochs, a sync through serve. ---
new_member anna Anna
new_member boris Boris
new_member clara Clara
as anna group create G-anna >/dev/null
for who in boris clara; do
  token=$(as anna group add G-anna "$(card_of "$who")" 2>/dev/null)
  as "$who" group join "$token" >/dev/null
done
as anna post G-anna "before the rotation"
as anna group remove G-anna Clara >/dev/null   # a rotation: a second epoch
as anna post G-anna "after the rotation"
adv home-secrets "$WORK/anna" "$WORK/anna.pass" "$WORK/anna.secrets"
[ "$(grep -c '^epoch-secret:' "$WORK/anna.secrets")" -ge 2 ] || fail "anna holds fewer than two epochs"
serve_and_scan anna "a fresh store"

# --- A store written before secret columns were sealed: serve seals them as it opens. ---
new_member dora Dora
as dora group create G-dora >/dev/null
token=$(as dora group add G-dora "$(card_of boris)" 2>/dev/null)
as boris group join "$token" >/dev/null
as dora post G-dora "a message"
adv home-secrets "$WORK/dora" "$WORK/dora.pass" "$WORK/dora.secrets"
adv unseal-store "$WORK/dora" "$WORK/dora.pass" | grep -q "rewrote [1-9]" || fail "nothing to unseal"
serve_and_scan dora "a store from before sealing"
as dora read G-dora | grep -q "a message" || fail "the migrated store does not read"
[ "$(as dora whoami --no-qr | tail -1)" = "$(card_of dora)" ] || fail "the migrated identity changed"

# --- 450 groups, served by an unprivileged user within RLIMIT_MEMLOCK. ---
new_member erin Erin
adv add-groups "$WORK/erin" "$WORK/erin.pass" 450
adv home-secrets "$WORK/erin" "$WORK/erin.pass" "$WORK/erin.secrets"
chmod 711 "$WORK"
chown -R 65534:65534 "$WORK/erin" "$WORK/erin.pass"
serve_and_scan erin "450 groups as nobody, 8 MiB of locked memory" \
  prlimit --memlock=8388608:8388608 -- setpriv --reuid=65534 --regid=65534 --clear-groups --
echo "every key a running serve holds is in locked memory"
