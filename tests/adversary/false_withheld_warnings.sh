#!/usr/bin/env bash
# SECURITY.md row 74 (docs/design.md §5.12): `kolokol sync` / `group audit` warn of a control
# record "withheld" only when a held record of a *member* names it. Attack: Boris is removed; he
# keeps the old epochs' file keys and writes a 1 MiB sync file of records by made-up authors
# whose control heads exist nowhere (`kolokol-adversary junk-sync-file … waiting`). Clara reads
# it: every such record waits, and each of its made-up heads becomes a "control record … has not
# reached you … A relay or peer may be withholding it" warning on every later `sync` and in
# `group audit` — ~120 false warnings per MiB, up to the 64 MiB quota, naming non-members, and
# burying a real one. It fails if the attack works again.

source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"
source "$(dirname "$0")/lib_tokens.bash"
G="Prisoner support"
new_member anna "Anna Petrova"; new_member boris "Boris Ivanov"; new_member clara "Clara Smirnova"
as anna group create "$G" >/dev/null
t=$(as anna group add "$G" "$(card_of boris)" 2>/dev/null); as boris group join "$t" >/dev/null
t=$(as anna group add "$G" "$(card_of clara)" 2>/dev/null); as clara group join "$t" >/dev/null
as anna sync --to-file "$WORK/all.sync" >/dev/null
as boris sync --from-file "$WORK/all.sync" >/dev/null
as clara sync --from-file "$WORK/all.sync" >/dev/null
as anna group remove "$G" "Boris Ivanov" >/dev/null
as anna sync --to-file "$WORK/all.sync" >/dev/null
as clara sync --from-file "$WORK/all.sync" >/dev/null
err=$(as clara sync --from-file "$WORK/all.sync" 2>&1 >/dev/null) || true
grep -q "has not reached you" <<<"$err" && fail "setup: Clara is warned before the attack: $err"
digest_before=$(as clara group audit "$G" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest_hex"])')

# Boris, removed, writes junk records that wait for control heads nobody has.
adv junk-sync-file "$WORK/boris" "$WORK/boris.pass" "$WORK/junk.sync" 1 waiting >/dev/null
as clara sync --from-file "$WORK/junk.sync" >/dev/null 2>&1 || true
# Her next ordinary sync, and her audit, now "detect" withheld control records.
err=$(as clara sync --from-file "$WORK/all.sync" 2>&1 >/dev/null) || true
n=$(grep -c "has not reached you" <<<"$err" || true)
echo "Clara's next sync: $n 'withheld control record' warnings, e.g.:"; grep -m1 "has not reached you" <<<"$err" || true
miss=$(as clara group audit "$G" --json 2>/dev/null | python3 -c '
import json,sys; a=json.load(sys.stdin); print(len(a["missing"]))')
echo "Clara's group audit lists $miss missing control records"
digest_after=$(as clara group audit "$G" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest_hex"])')
[ "$digest_before" = "$digest_after" ] && echo "(her digest is unchanged: no control record is actually missing)"
[ "$n" -gt 0 ] && problem "a removed member makes Clara's sync warn of $n withheld control records that no member's record names"
[ "$miss" -gt 0 ] && problem "Clara's group audit lists $miss missing control records named only by non-members"
finish
