# Shared by the forged_token*.sh attacks (sourced after lib_adversary.bash): a real relay on
# loopback, a group that syncs through it, and a list of the promises an attack broke, so that
# a run against a vulnerable build names all of them before it fails.
PROBLEMS=()
problem() { echo "BROKEN: $*" >&2; PROBLEMS+=("$*"); }
finish() {
  [ "${#PROBLEMS[@]}" -eq 0 ] || fail "${#PROBLEMS[@]} promise(s) broken: ${PROBLEMS[*]}"
  echo "ok: every promise held"
}
start_relay() {
  pass_file relay
  local port
  port=$(pick_port)
  ( KOLOKOL_PASSPHRASE_FILE="$WORK/relay.pass" exec "$KOLOKOL" relay --listen "127.0.0.1:$port" \
      --data "$WORK/relay" --kdf fast > "$WORK/relay.out" 2>"$WORK/relay.err" ) &
  CLEANUP_PIDS+=("$!")
  for _ in $(seq 100); do [ -s "$WORK/relay.out" ] && break; sleep 0.1; done
  RELAY=$(head -1 "$WORK/relay.out")
  [[ "$RELAY" == kolokol://* ]] || fail "relay did not start: $(cat "$WORK/relay.err")"
  RELAY_PORT=$port
  RELAY_KEY=${RELAY##*/}
}
# group_id WHO NAME — the group's id in hex, as WHO's `group list --json` gives it.
group_id() {
  as "$1" group list --json | python3 -c '
import json, sys
name = sys.argv[1]
print(next(g["id"] for g in json.load(sys.stdin) if g["name"] == name))' "$2"
}
# admission_of WHO GID — what `group list --json` says of WHO's admission to the group.
admission_of() {
  as "$1" group list --json | python3 -c '
import json, sys
gid = sys.argv[1]
print(next((g.get("admission", "") for g in json.load(sys.stdin) if g["id"] == gid), "<no group>"))' "$2"
}
# invite ADMIN WHO — ADMIN adds WHO to $G and WHO joins with the token.
invite() {
  local token
  token=$(as "$1" group add "$G" "$(card_of "$2")" 2>/dev/null)
  as "$2" group join "$token" >/dev/null
}
# A relay, Anna's group on it, and Boris in it, both synced.
G="Support group Omega"
setup_group() {
  start_relay
  new_member anna "Anna Petrova"
  new_member boris "Boris Ivanov"
  as anna group create "$G" >/dev/null
  as anna group relay add "$G" "$RELAY" >/dev/null
  invite anna boris
  as anna sync >/dev/null
  as boris sync >/dev/null
  GID=$(group_id anna "$G")
}
# setup_group, then Ivan and Carl invited and everyone synced; Ivan's home copied as
# ivan_before (what a removed member keeps of his device from before the removal).
setup_ivan_with_copy() {
  setup_group
  new_member ivan "Ivan Member"
  new_member carl "Carl Offline"
  invite anna ivan
  invite anna carl
  for w in anna ivan boris carl; do as $w sync >/dev/null; done
  cp -a "$WORK/ivan" "$WORK/ivan_before"; cp "$WORK/ivan.pass" "$WORK/ivan_before.pass"
}
random_hex() { python3 -c 'import os; print(os.urandom(32).hex())'; }
# reads WHO TEXT — WHO's copy of the group shows a message with exactly this text.
reads() {
  # Read whole, then searched: `grep -q` on a pipe ends at the first match, and under pipefail
  # the reader's next write would then fail with SIGPIPE and the check with it.
  local out
  out=$(as "$1" read "$G" --limit 100000 --json) || return 1
  grep -qF "\"text\": \"$2\"" <<<"$out"
}
