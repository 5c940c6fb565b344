# A burn notice from the chat (docs/design.md §5.11): `/compromised NAME` only says what it would
# do; `/compromised NAME confirm` sends it — Boris removed, the key rotated, the alert posted —
# and the notice reaches Carol through the relay. A member who is no admin is refused.
source "$(dirname "$0")/lib.bash"
command -v tmux >/dev/null || fail "tmux is missing: run scripts/deps"
export LC_ALL=C.UTF-8
source "$(dirname "$0")/lib_tmux.bash"
trap 'tmux_cleanup; cleanup' EXIT
start_relay
G=Legal
new_member anna Anna
new_member boris Boris
new_member carol Carol
as anna group create "$G" >/dev/null
as anna group relay add "$G" "$ADDR" >/dev/null
for w in boris carol; do
  as "$w" group join "$(as anna group add "$G" "$(card_of "$w")" 2>/dev/null)" >/dev/null
done
for w in anna boris carol; do as "$w" sync >/dev/null; done

# Carol, no admin, is refused.
tmx new-session -d -s carol -x 110 -y 30 \
  "env KOLOKOL_HOME='$WORK/carol' KOLOKOL_PASSPHRASE_FILE='$WORK/carol.pass' LANG=C.UTF-8 \
   '$KOLOKOL' chat '$G' 2>'$WORK/carol.err'; echo \$? > '$WORK/carol.rc'; sleep 0.5"
wait_for carol "$G · 3 members"
type_line carol "/compromised Boris confirm"
wait_for carol "No burn notice:"
quit_chat carol
[ "$(as anna group members "$G" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ] ||
  fail "a member who is no admin changed the group"

tmx new-session -d -s anna -x 110 -y 30 \
  "env KOLOKOL_HOME='$WORK/anna' KOLOKOL_PASSPHRASE_FILE='$WORK/anna.pass' LANG=C.UTF-8 \
   '$KOLOKOL' chat '$G' 2>'$WORK/anna.err'; echo \$? > '$WORK/anna.rc'; sleep 0.5"
wait_for anna "$G · 3 members"
type_line anna "/compromised Boris"
wait_for anna "· /compromised Boris confirm"
[ "$(as carol group members "$G" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ] ||
  fail "the first /compromised already did something"
type_line anna "/compromised Boris confirm"
wait_for anna "Burn notice sent: removed Boris, rotated the group's key and posted an alert."
wait_for anna "$G · 2 members"
echo "ok: /compromised asks first, then sends the burn notice"
quit_chat anna
as anna sync >/dev/null 2>&1 || true
as carol sync >/dev/null 2>&1 || true
members=$(as carol group members "$G" --json | python3 -c 'import json,sys; print(" ".join(sorted(m["name"] for m in json.load(sys.stdin))))')
[ "$members" = "Anna Carol" ] || fail "Carol's members after the notice: $members"
audit=$(as carol group audit "$G")
grep -q "burn notice" <<<"$audit" || fail "Carol's audit shows no burn notice: $audit"
echo "ok: the notice from the chat reached Carol"
