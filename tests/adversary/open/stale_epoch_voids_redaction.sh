# A removed admin's add, applied at a member before the removal, voids what that member writes
# in the epoch it made — here his redaction of his own post (rows 3, 6, 27).
# Ivan's home from before his removal adds a newcomer: the add rotates to a new epoch. Boris
# takes it from a USB stick before he has synced the removal, so his next records are written
# in that epoch: a post, then a redaction of an earlier post of his (a safe-house address sent by
# mistake). Once the removal arrives, the add, its rotation and "ops written in the epoch of a
# void rotation" are void (§5.4). If that voids Boris's own redaction, the address he redacted is
# fetched again and shown at every member; if it voids his post, his word is lost. (Same family
# as the open attack stale_admin_relays.sh: Ivan holds that epoch's key.)
source "$(dirname "$0")/../../integration/lib.bash"
source "$(dirname "$0")/../lib_adversary.bash"
source "$(dirname "$0")/../lib_tokens.bash"
setup_group
new_member ivan "Ivan Admin"
new_member zed "Zed Newcomer"
new_member carl "Carl Member"
token=$(as anna group add "$G" "$(card_of ivan)" --admin 2>/dev/null)
as ivan group join "$token" >/dev/null
invite anna carl
for r in 1 2; do for w in anna ivan boris carl; do as $w sync >/dev/null 2>&1 || true; done; done
P="Safe house: Lesnaya 14, flat 9, knock twice"
as boris post "$G" "$P" >/dev/null
for w in anna ivan carl; do as $w sync >/dev/null 2>&1 || true; done
reads anna "$P" && reads carl "$P" || fail "setup: the post did not arrive"
pid=$(as boris read "$G" --json | python3 -c '
import json, sys
print(next(m["id"] for m in json.load(sys.stdin) if "Lesnaya" in m.get("text", "")))')
cp -a "$WORK/ivan" "$WORK/ivan_before"; cp "$WORK/ivan.pass" "$WORK/ivan_before.pass"
as anna group remove "$G" "Ivan Admin" >/dev/null || fail "Anna could not remove Ivan"
as anna sync >/dev/null 2>&1 || true
as ivan_before group add "$G" "$(card_of zed)" >/dev/null 2>&1 || fail "Ivan's old home could not add Zed"
as ivan_before sync --to-file "$WORK/ivan.sync" >/dev/null || fail "no sync file"
as boris sync --from-file "$WORK/ivan.sync" >/dev/null || fail "Boris could not import it"
echo "Boris's epochs after the file: $(adv home-epochs "$WORK/boris" "$WORK/boris.pass" "$GID" | awk '{print substr($1,1,8) "/" $3}' | tr '\n' ' ')"
Q="Boris: meeting moved to the library, 18:00"
as boris post "$G" "$Q" >/dev/null 2>&1 || echo "(Boris could not post)"
as boris redact "$G" "${pid:0:16}" --reason "sent by mistake" >/dev/null 2>&1 || echo "(Boris could not redact)"
for r in 1 2 3; do for w in boris anna carl; do as $w sync >/dev/null 2>&1 || true; done; done
for w in anna boris carl; do
  echo "$w: redacted address shown: $(reads $w "$P" && echo yes || echo no); Boris's later post shown: $(reads $w "$Q" && echo yes || echo no)"
done
echo "Anna's refusals: $(as anna rejected 2>&1 | tail -n +2 | tr '\n' ' ')"
for w in anna boris carl; do
  reads $w "$P" && problem "row 27/3: $w shows the address Boris redacted: a removed admin's add voided his redaction"
  reads $w "$Q" || problem "row 3/6: $w does not show Boris's post, written in the epoch a removed admin's add made"
done
# And the removed admin reads what Boris wrote after the removal, sealed in his epoch.
as ivan_before sync >/dev/null 2>&1 || true
reads ivan_before "$Q" && problem "row 1: Ivan, removed, reads Boris's post written after the removal"
finish
