# The small things a newcomer trips over in the first hour:
# - global options also after the command (`kolokol read G --home X`);
# - `group join` names the group and who added you; a removed member's `group list` says so;
# - `bundle export` without -r/-p says what is missing;
# - plural forms come from ngettext ("1 entry", "2 entries"; Russian's three forms);
# - Russian --help keeps its description column aligned (CLI11 pads by bytes);
# - the install step of the README gives `man kolokol`, bash completion and the translation;
# - a progress bar that completes ends at 100% (tmux);
# - the chat header says "live" only for a group whose relay is connected (tmux).
source "$(dirname "$0")/lib.bash"
command -v tmux >/dev/null || fail "tmux is missing: run scripts/deps"
source "$(dirname "$0")/lib_tmux.bash"
RELAY_PID=""
trap 'tmux_cleanup; cleanup' EXIT
export LANG=C.UTF-8
unset LC_ALL LANGUAGE LC_MESSAGES

new_member anna Anna
new_member boris Boris
as anna group create "Legal support" >/dev/null

# 1. Global options after the command.
as anna post "Legal support" "hello" >/dev/null
out=$("$KOLOKOL" read "Legal support" --home "$WORK/anna" --passphrase-file "$WORK/anna.pass") \
  || fail "global options after the command were refused"
grep -q "Anna: hello" <<<"$out" || fail "read with --home after the command: $out"
out=$("$KOLOKOL" group list --home "$WORK/anna" --passphrase-file "$WORK/anna.pass") \
  || fail "global options after a nested command were refused"
grep -q "Legal support" <<<"$out" || fail "group list --home: $out"
echo "ok: --home and --passphrase-file work after the command"

# 2. Joining names the group; removal shows in the removed member's list.
token=$(as anna group add "Legal support" "$(card_of boris)" 2>/dev/null)
out=$(as boris group join "$token")
grep -qF 'Joined "Legal support"' <<<"$out" && grep -qF "added by Anna" <<<"$out" \
  || fail "join does not name the group and the inviter: $out"
as anna sync --to-file "$WORK/a1.sync" >/dev/null
as boris sync --from-file "$WORK/a1.sync" >/dev/null
as boris group list | grep -q "Legal support" || fail "Boris does not list the group"
! as boris group list | grep -q "removed" || fail "Boris is called removed before he is"
as anna group remove "Legal support" Boris >/dev/null
as anna sync --to-file "$WORK/a2.sync" >/dev/null
as boris sync --from-file "$WORK/a2.sync" >/dev/null
as boris group list | grep "Legal support" | grep -q "you were removed" \
  || fail "a removed member's list does not say so: $(as boris group list)"
as boris group list --json | grep -q '"member": false' || fail "--json lacks member: false"
echo "ok: join names the group; a removed member's list says so"

# 3. bundle export without a recipient or passphrase names what is missing.
case_id=$(as anna case open "Legal support" --person "Ivan P." | grep -oE '[0-9a-f]{16}' | head -1)
rc=0; err=$(as anna bundle export "$case_id" -o "$WORK/c.age" 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 2 ] || fail "bundle export without -r/-p: exit $rc"
grep -q -- "-r age1" <<<"$err" && grep -q -- "-p" <<<"$err" && ! grep -q "not both" <<<"$err" \
  || fail "bundle export does not say what is missing: $err"
[ ! -e "$WORK/c.age" ] || fail "a refused export left a file"
echo "ok: bundle export says to give -r or -p"

# 4. Plurals through ngettext.
as anna case pay "Legal support" "$case_id" 10 EUR >/dev/null
as anna case show "Legal support" "$case_id" | grep -qF "(1 entry)" || fail "not '1 entry': $(as anna case show "Legal support" "$case_id")"
as anna case pay "Legal support" "$case_id" 20 EUR >/dev/null
as anna case show "Legal support" "$case_id" | grep -qF "(2 entries)" || fail "not '2 entries'"
ru_total() { LANG=ru_RU.UTF-8 as anna case show "Legal support" "$case_id" | grep "Итого"; }
ru_total | grep -qF "(2 записи)" || fail "Russian few-form: $(ru_total)"
for _ in 1 2 3; do as anna case pay "Legal support" "$case_id" 1 EUR >/dev/null; done
ru_total | grep -qF "(5 записей)" || fail "Russian many-form: $(ru_total)"
as anna case pay "Legal support" "$case_id" 1 EUR >/dev/null
for _ in $(seq 15); do as anna case pay "Legal support" "$case_id" 1 EUR >/dev/null; done
ru_total | grep -qF "(21 запись)" || fail "Russian one-form for 21: $(ru_total)"
echo "ok: plural forms in English and Russian's three"

# 5. Russian help: the descriptions start in one column, whatever the bytes of the labels.
for cmd in "" "init" "group add" "case open" "bundle export"; do
  LANG=ru_RU.UTF-8 "$KOLOKOL" $cmd --help > "$WORK/help.txt"
  python3 - "$WORK/help.txt" "$cmd" <<'PY' || fail "kolokol $cmd --help is not aligned in Russian"
import re, sys, unicodedata
cols = set()
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    # An option or command row: two spaces, a name, two or more spaces, a description.
    m = re.match(r"^(  \S.*?)( {2,})(\S.*)$", line)
    if not m or line.startswith("  kolokol ") or len(m.group(1)) + len(m.group(2)) > 60:
        continue
    cols.add(sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in m.group(1) + m.group(2)))
if len(cols) > 1:
    print(f"kolokol {sys.argv[2]} --help: descriptions start at columns {sorted(cols)}")
    sys.exit(1)
PY
done
LANG=ru_RU.UTF-8 "$KOLOKOL" init --help | grep -qE "ТЕКСТ|ОБЯЗАТЕЛЬНО" || fail "no translated labels in init --help to align"
echo "ok: Russian help columns align"

# 6. The README's install step: the manual, completion and translation where man and bash look.
root=$(cd "$(dirname "$0")/../.." && pwd)
grep -qF "sudo cmake --install build" "$root/README.md" || fail "the README has no install step"
cmake --install "${KOLOKOL_BUILD:?}" --prefix "$WORK/usr/local" >/dev/null || fail "cmake --install failed"
[ -x "$WORK/usr/local/bin/kolokol" ] || fail "no kolokol installed"
[ -f "$WORK/usr/local/share/man/man1/kolokol.1" ] || fail "no man page installed"
[ -f "$WORK/usr/local/share/bash-completion/completions/kolokol" ] || fail "no completion installed"
[ -f "$WORK/usr/local/share/locale/ru/LC_MESSAGES/kolokol.mo" ] || fail "no translation installed"
# /usr/local/share/man is on man's own path (manpath.config); here the same layout under $WORK.
manpath -g 2>/dev/null | tr ':' '\n' | grep -qx /usr/local/share/man || fail "man does not look in /usr/local/share/man"
page=$(MANPATH="$WORK/usr/local/share/man" MANWIDTH=100 man -P cat kolokol 2>/dev/null) || fail "man kolokol failed"
grep -q "encrypted, offline-first messaging" <<<"$page" || fail "man kolokol shows something else: $page"
grep -q "PASSPHRASES" <<<"$page" || fail "the manual lacks the passphrase section"
"$KOLOKOL" --help | grep -qF "man kolokol" || fail "--help does not point to the manual"
echo "ok: the install step gives man kolokol, completion and the Russian catalogue"

# 7. A completed progress bar ends at 100%: decrypting counts plaintext against the file's size.
"$KOLOKOL" age keygen -o "$WORK/key.txt" 2>/dev/null
recipient=$(grep -o 'age1[a-z0-9]*' "$WORK/key.txt" | head -1)
head -c $((12 << 20)) /dev/urandom > "$WORK/big.bin"
"$KOLOKOL" age encrypt -r "$recipient" -o "$WORK/big.age" "$WORK/big.bin"
tmx new-session -d -s progress -x 120 -y 10 \
  "'$KOLOKOL' age decrypt -i '$WORK/key.txt' -o '$WORK/big.out' '$WORK/big.age'; echo \$? > '$WORK/progress.rc'; sleep 100"
deadline=$((SECONDS + 120))
until [ -s "$WORK/progress.rc" ]; do
  ((SECONDS < deadline)) || fail "decrypt did not finish: $(screen progress)"
  sleep 0.1
done
[ "$(cat "$WORK/progress.rc")" = 0 ] || fail "decrypt failed: $(screen progress)"
cmp -s "$WORK/big.bin" "$WORK/big.out" || fail "decrypt gave other bytes"
bar=$(screen progress | grep "Decrypting" | tail -1)
[ -n "$bar" ] || fail "no progress bar was drawn: $(screen progress)"
grep -qE '\[#{30}\] 100%$' <<<"$bar" || fail "the bar did not end full: $bar"
echo "ok: a completed progress bar ends at 100%"

# 8. The chat header: "live" for a group whose relay is connected, not for one without a relay.
start_relay
addr=$ADDR
new_member clara Clara
as clara group create "Aardvark" >/dev/null
as clara group relay add "Aardvark" "$addr" >/dev/null
as clara group create "Zebra" >/dev/null
tmx new-session -d -s chat -x 100 -y 24 \
  "env KOLOKOL_HOME='$WORK/clara' KOLOKOL_PASSPHRASE_FILE='$WORK/clara.pass' LANG=C.UTF-8 '$KOLOKOL' chat Aardvark; sleep 100"
wait_for chat "Aardvark · 1 member · live" 60
tmx send-keys -t chat Tab
wait_for chat "Zebra · 1 member"
header=$(screen chat | grep "Zebra · 1 member" | head -1)
! grep -q "live" <<<"$header" || fail "a group without a relay is called live: $header"
tmx send-keys -t chat BTab
wait_for chat "Aardvark · 1 member · live"
echo "ok: the chat header says live only where a relay is connected"
