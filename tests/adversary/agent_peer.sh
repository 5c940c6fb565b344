# The unlock agent's socket under attack. Another user (nobody, via setpriv) who reaches the
# socket — its home, directory and socket loosened to 0711/0711/0777 by the attacker, so that
# only the agent's peer check stands in the way — gets not one byte back, for a key request or
# a lock; the owner's identical requests get the key (so the probe itself works). Malformed,
# truncated, oversized and stalled requests each close their own connection and the agent goes on
# serving. The key the agent holds lies only in locked memory (adv scan-memory), and nothing of
# it is written to the disk.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
command -v setpriv >/dev/null || fail "setpriv is missing: run scripts/deps"

alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
nopass() {
  local who=$1; shift
  env -u KOLOKOL_PASSPHRASE_FILE KOLOKOL_HOME="$WORK/$who" setsid -w "$KOLOKOL" "$@" </dev/null
}
reply_of() { sed -n 's/^reply //p' <<<"$1"; }

new_member anna Anna
as anna group create G >/dev/null
as anna post G "a message before the agent"
adv home-secrets "$WORK/anna" "$WORK/anna.pass" "$WORK/anna.all"
grep '^database-key ' "$WORK/anna.all" > "$WORK/anna.dbkey"
dbkey=$(cut -d' ' -f2 "$WORK/anna.dbkey")
[ ${#dbkey} -eq 64 ] || fail "no database key to look for"

out=$(as anna agent --idle 1h)
pid=$(sed -n 's/.*(pid \([0-9]*\)).*/\1/p' <<<"$out")
[ -n "$pid" ] && alive "$pid" || fail "the agent did not start: $out"
CLEANUP_PIDS+=("$pid")
SOCK="$WORK/anna/agent/socket"

# --- The owner's request is answered with the key: the probe works. ---
own=$(adv agent-send "$SOCK" key)
[ "$(reply_of "$own")" = 272 ] || fail "the owner got no key reply: $own"
grep -q "^key $dbkey\$" <<<"$own" || fail "the owner's reply does not hold the database key"
echo "ok: the owner's request gets the key"

# --- Another user, the modes loosened: nothing comes back, and the agent goes on. ---
chmod 711 "$WORK" "$WORK/anna" "$WORK/anna/agent"
chmod 777 "$SOCK"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$KOLOKOL_ADVERSARY" "$@"; }
for kind in key lock; do
  theirs=$(nobody agent-send "$SOCK" "$kind") || fail "nobody could not connect: $theirs"
  grep -q '^connected$' <<<"$theirs" || fail "nobody did not reach the socket: $theirs"
  [ "$(reply_of "$theirs")" = 0 ] || fail "another user's $kind request was answered: $theirs"
  alive "$pid" || fail "another user's $kind request ended the agent"
done
# kolokol itself run by nobody against the same home finds no agent it trusts and asks for a
# passphrase (it cannot read the key file either).
rc=0
env -u KOLOKOL_PASSPHRASE_FILE KOLOKOL_HOME="$WORK/anna" setpriv --reuid=65534 --regid=65534 \
  --clear-groups -- setsid -w "$KOLOKOL" read G </dev/null >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "nobody's kolokol did not fall back to asking a passphrase (exit $rc)"
echo "ok: another user gets nothing, even with the socket 0777"

# --- Malformed, truncated, oversized and stalled requests: one connection each. ---
key_req=$(adv agent-send "$SOCK" hex:00 | sed -n 's/^reply //p')
[ "$key_req" = 0 ] || fail "a one-byte request was answered"
good_hex=$(printf 'kolokol-agent/1\001' | od -An -tx1 | tr -d ' \n')
for kind in "hex:${good_hex:0:30}" "hex:${good_hex}00" "hex:${good_hex:0:30}09" \
            "hex:6b6f6c6f6b6f6c2d6167656e742f3201" "junk:65" "junk:1048576" "stall:3"; do
  r=$(adv agent-send "$SOCK" "$kind")
  [ "$(reply_of "$r")" = 0 ] || fail "the request $kind was answered: $r"
  alive "$pid" || fail "the request $kind ended the agent"
  r=$(adv agent-send "$SOCK" key)
  [ "$(reply_of "$r")" = 272 ] || fail "the agent stopped serving after $kind: $r"
done
# A stalled connection held open while another request comes in: the other is still served.
adv agent-send "$SOCK" stall:4 >/dev/null &
stalled=$!
sleep 0.5
nopass anna read G | grep -q "a message before the agent" || fail "a stalled connection blocked a read"
wait "$stalled"
echo "ok: bad requests close their own connection; the agent keeps serving"

# --- The key in the agent's memory is locked, and never on disk. ---
adv scan-memory "$pid" "$WORK/anna.dbkey" > "$WORK/scan" || fail "the scan failed"
summary=$(tail -1 "$WORK/scan")
[[ "$summary" == "secrets=1 found=1 "* ]] || fail "the database key is not in the agent's memory: $summary"
[[ "$summary" == *" unlocked=0" ]] || fail "the agent holds the key in memory that may be swapped out:
$(grep UNLOCKED "$WORK/scan")"
echo "ok: the agent's key is in locked memory ($summary)"
python3 - "$WORK/anna" "$dbkey" <<'PY' || fail "the database key is in a file of the home"
import os, sys
home, key = sys.argv[1], bytes.fromhex(sys.argv[2])
for root, _, files in os.walk(home):
    for f in files:
        p = os.path.join(root, f)
        try:
            data = open(p, 'rb').read()
        except OSError:
            continue
        if key in data:
            print("key found in", p); sys.exit(1)
PY
echo "ok: no file of the home holds the key"
as anna lock >/dev/null
for _ in $(seq 300); do alive "$pid" || break; sleep 0.1; done
alive "$pid" && fail "the agent did not lock"
echo "the agent answers only its own user's well-formed requests, from locked memory"
