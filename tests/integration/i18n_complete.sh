# The Russian translation is complete and shipped: the template regenerated from the sources
# has no msgid that po/ru.po lacks, leaves untranslated or marks fuzzy; and with
# LANG=ru_RU.UTF-8 the binary speaks Russian (help, the newcomer's hint, an error), while the
# default stays English.
source "$(dirname "$0")/lib.bash"
root=$(cd "$(dirname "$0")/../.." && pwd)

# 1. Completeness against the sources as they are now.
"$root/po/update.sh" --pot "$WORK/fresh.pot" 2>/dev/null
missing=$(python3 - "$WORK/fresh.pot" "$root/po/ru.po" <<'PY'
import re, sys
def entries(path):
    out = {}
    for block in open(path, encoding="utf-8").read().split("\n\n"):
        lines = block.split("\n")
        fuzzy = any(l.startswith("#,") and "fuzzy" in l for l in lines)
        obsolete = all(l.startswith("#") for l in lines if l.strip())
        body = "\n".join(l for l in lines if not l.startswith("#"))
        m = re.search(r'^msgid ((?:".*"\n?)+)', body, re.M)
        if not m or obsolete:
            continue
        msgid = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))
        strs = re.findall(r'^msgstr(?:\[\d+\])? ((?:".*"\n?)+)', body + "\n", re.M)
        texts = ["".join(re.findall(r'"((?:[^"\\]|\\.)*)"', s)) for s in strs]
        out[msgid] = (fuzzy, texts)
    return out
pot, po = entries(sys.argv[1]), entries(sys.argv[2])
bad = []
for msgid in pot:
    if msgid == "":
        continue
    if msgid not in po:
        bad.append("missing:      " + msgid)
    elif po[msgid][0]:
        bad.append("fuzzy:        " + msgid)
    elif not po[msgid][1] or not all(po[msgid][1]):
        bad.append("untranslated: " + msgid)
print("\n".join(bad))
PY
)
[ -z "$missing" ] || fail "po/ru.po is not complete (run po/update.sh and translate):
$missing"
msgfmt --check -o /dev/null "$root/po/ru.po" || fail "po/ru.po does not compile"
echo "ok: every msgid of the sources is translated in ru.po"

# 2. The binary shows it. Unset what could override LANG.
unset LC_ALL LC_MESSAGES LANGUAGE
locale -a | grep -qi '^ru_RU\.utf-\?8$' || fail "the ru_RU.UTF-8 locale is missing: run scripts/deps"
help=$(LANG=ru_RU.UTF-8 "$KOLOKOL" --help)
grep -qF "зашифрованные сообщения" <<<"$help" || fail "kolokol --help is not in Russian: $help"
grep -qF "Домашний каталог" <<<"$help" || fail "the options of --help are not in Russian: $help"
sub=$(LANG=ru_RU.UTF-8 "$KOLOKOL" group create --help)
grep -qF "Пример:" <<<"$sub" || fail "group create --help has no Russian example: $sub"
hint=$(LANG=ru_RU.UTF-8 "$KOLOKOL")
grep -qF "Следующий шаг: \`kolokol init\`" <<<"$hint" || fail "the newcomer's hint is not in Russian: $hint"
rc=0
err=$(LANG=ru_RU.UTF-8 KOLOKOL_HOME="$WORK/nobody" "$KOLOKOL" read G 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 4 ] || fail "expected exit 4 (no store), got $rc: $err"
grep -qF "нет хранилища — сначала выполните \`kolokol init\`" <<<"$err" || fail "the error is not in Russian: $err"
echo "ok: LANG=ru_RU.UTF-8 gives Russian help, hint and errors"

# 3. English stays the default, and an unknown language falls back to it.
for lang in C C.UTF-8 de_DE.UTF-8; do
  out=$(LANG=$lang "$KOLOKOL" --help)
  grep -qF "encrypted, offline-first messaging" <<<"$out" || fail "LANG=$lang is not English: $out"
done
err=$(KOLOKOL_HOME="$WORK/nobody" "$KOLOKOL" read G 2>&1 >/dev/null) || true
grep -qF "no store in" <<<"$err" || fail "the default error is not English: $err"
echo "ok: English is the default"

# 4. The libraries' messages reach the catalogue: every fail() and make_error() message in core,
# storage and transport is a literal pattern ("no group called \"{}\"", name), never text glued
# together, which xgettext would cut off after the first piece (or miss) and no translator would
# ever see (see core/crypto/include/kolokol/crypto/error.hpp).
glued=$(python3 - "$root" <<'PY'
import os, re, sys
root = sys.argv[1]
def strip_comments(s):
    out, i, n = [], 0, len(s)
    while i < n:
        if s.startswith("//", i):
            j = s.find("\n", i); i = n if j < 0 else j; continue
        if s.startswith("/*", i):
            j = s.find("*/", i); i = n if j < 0 else j + 2; continue
        if s[i] in "\"'":
            q, j = s[i], i + 1
            while j < n and s[j] != q:
                j += 2 if s[j] == "\\" else 1
            out.append(s[i:j + 1]); i = j + 1; continue
        out.append(s[i]); i += 1
    return "".join(out)
def args(s, i):
    depth, parts, start, j = 0, [], i + 1, i
    while j < len(s):
        c = s[j]
        if c in "\"'":
            q = c; j += 1
            while s[j] != q:
                j += 2 if s[j] == "\\" else 1
        elif c in "([{": depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0: parts.append(s[start:j]); return parts
        elif c == "," and depth == 1: parts.append(s[start:j]); start = j + 1
        j += 1
    return None
literal = re.compile(r'^\s*("(?:[^"\\]|\\.)*"\s*)+$', re.S)
for top in ("core", "storage", "transport"):
    for d, _, files in os.walk(os.path.join(root, top)):
        for f in sorted(files):
            if not f.endswith((".cpp", ".hpp")) or f == "error.hpp": continue
            path = os.path.join(d, f)
            s = strip_comments(open(path, encoding="utf-8").read())
            for m in re.finditer(r"(?<![\w.:>])(fail|make_error)\s*\(", s):
                a = args(s, m.end() - 1)
                if not a or len(a) < 2: continue
                msg = a[1].strip()
                # A helper may pass its caller's literal on, in a parameter named `literal`.
                if literal.match(msg) or msg == "literal": continue
                line = s[:m.start()].count("\n") + 1
                print(f"  {os.path.relpath(path, root)}:{line}: {msg[:80]}")
            for m in re.finditer(r"\bError\s*\{", s):
                a = args(s, m.end() - 1)
                if a and len(a) >= 2 and '"' in a[1]:
                    line = s[:m.start()].count("\n") + 1
                    print(f"  {os.path.relpath(path, root)}:{line}: Error{{…, {a[1].strip()[:60]}}}")
PY
)
[ -z "$glued" ] || fail "library messages that are not literal patterns (use fail(code, \"… {} …\", value)):
$glued"
echo "ok: every library message is a literal pattern the catalogue holds"

# 5. The errors a person meets in the first hour, in Russian: each path runs for real under
# LANG=ru_RU.UTF-8 LANGUAGE=ru, and every line it prints must be Russian. A line is Russian when
# it holds Cyrillic and, once what is shown verbatim is taken out — quoted input («…», "…", '…'),
# commands (`…`), keys and accepted values as typed (case.status, {a,b}, a|b), paths and
# addresses, options, hex ids, names in capitals — no English word of three letters or more is
# left but a few technical ones (age, SHA, UTF, Tor…).
cat > "$WORK/russian.py" <<'PY'
import re, sys
ALLOWED = {"age", "tar", "tor", "sha", "utf", "noise", "socks", "mac", "base", "wal", "ttl", "dns",
           "lan", "udp", "json", "enter", "ctrl", "kolokol", "gib", "kib", "mib", "eur", "rub",
           "usd", "fsync", "chmod", "stat", "bech", "scrypt", "argon", "psk", "nonce", "help"}
bad = []
for raw in sys.stdin.read().splitlines():
    line = raw.strip()
    if not line:
        continue
    s = re.sub(r"^kolokol: ", "", line)
    s = re.sub(r"«[^»]*»|\"[^\"]*\"|'[^']*'|`[^`]*`|\{[^}]*\}", " ", s)
    # Keys and values as typed: case.status, detained|charged|closed.
    s = re.sub(r"\b\w+(?:[.|]\w+)+\b", " ", s)
    s = re.sub(r"\S*(?:/|://)\S*", " ", s)
    s = re.sub(r"(?<![\w-])--?[A-Za-z][\w-]*", " ", s)
    s = re.sub(r"\b[0-9a-f]{4,}\b|\b[A-Z][A-Z0-9_]{2,}\b", " ", s)
    left = [w for w in re.findall(r"[A-Za-z]{3,}", s) if w.lower() not in ALLOWED]
    if left or not re.search(r"[А-Яа-яЁё]", line):
        bad.append(f"{raw}   <- {' '.join(left) or 'no Cyrillic'}")
print("\n".join(bad))
PY
unset LC_ALL LC_MESSAGES
export LANG=C.UTF-8
# russian_error CODE WHO ARGS… — runs the command in Russian; it must exit with CODE and say so
# in Russian only.
russian_error() {
  local code=$1 who=$2; shift 2
  local rc=0 out
  # setsid: no controlling terminal, so nothing can be asked there.
  out=$(LANG=ru_RU.UTF-8 LANGUAGE=ru KOLOKOL_HOME="$WORK/$who" \
        KOLOKOL_PASSPHRASE_FILE="${PASSFILE:-$WORK/$who.pass}" setsid -w "$KOLOKOL" "$@" 2>&1 \
        </dev/null) || rc=$?
  [ "$rc" -eq "$code" ] || fail "kolokol $*: exit $rc, not $code: $out"
  local english
  english=$(python3 "$WORK/russian.py" <<<"$out")
  [ -z "$english" ] || fail "kolokol $* (exit $rc) left English in Russian:
$english"
  echo "ok: exit $code in Russian — $(head -1 <<<"$out")"
}
# russian_output WHO ARGS… — a command that succeeds; every line of its output is Russian.
russian_output() {
  local who=$1; shift
  local out english
  out=$(LANG=ru_RU.UTF-8 LANGUAGE=ru KOLOKOL_HOME="$WORK/$who" \
        KOLOKOL_PASSPHRASE_FILE="$WORK/$who.pass" "$KOLOKOL" "$@" 2>&1 </dev/null) \
    || fail "kolokol $* failed: $out"
  english=$(python3 "$WORK/russian.py" <<<"$out")
  [ -z "$english" ] || fail "kolokol $* left English in Russian:
$english"
  printf '%s\n' "$out"
}

new_member anna Анна
new_member boris Борис
as anna group create "Legal support" >/dev/null
case_id=$(as anna case open "Legal support" --person "Иван П." --where "ОВД Тверской" \
  | grep -oE '[0-9a-f]{16}' | head -1)
[ -n "$case_id" ] || fail "no case id"
as anna case note "Legal support" "$case_id" "Привезли в суд" >/dev/null
as anna case pay "Legal support" "$case_id" 150 EUR --purpose "штраф" >/dev/null
as anna case set "Legal support" "$case_id" status=charged lawyer="М. Соколова" >/dev/null
task_id=$(as anna task add "Legal support" --title "Собрать подписи" --target 1000 \
  | grep -oE '[0-9a-f]{16}' | head -1)
as anna task done "Legal support" "$task_id" >/dev/null
echo "not the passphrase at all" > "$WORK/wrong.pass"

PASSFILE="$WORK/wrong.pass" russian_error 3 anna read "Legal support"
russian_error 7 anna read "No such group"
russian_error 7 anna read "legal suport"
russian_error 6 anna group add "Legal support" "kolokol-card:garbage"
russian_error 6 anna group add "Legal support" "hello"
russian_error 6 anna group join "kolokol-welcome:AAAAAAAA"
russian_error 7 anna case show "Legal support" 9999
russian_error 6 anna case set "Legal support" "$case_id" status=bogus
russian_error 2 anna bundle export "$case_id" -o "$WORK/case.age"
russian_error 2 anna read
russian_error 2 anna alert "Legal support" "x" --urgency someday
russian_error 2 anna panic
head -c 3000 /dev/urandom > "$WORK/garbage.sync"
russian_error 6 anna sync --from-file "$WORK/garbage.sync"
port=$(pick_port)
russian_error 9 anna sync "kolokol://127.0.0.1:$port/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" --group "Legal support"
russian_error 2 anna sync "kolokol://127.0.0.1:$port/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
printf 'same passphrase here\nsame passphrase here\n' > "$WORK/same.pass"
PASSFILE="$WORK/same.pass" russian_error 2 clara init --name Клара --kdf fast --duress
as anna backup -o "$WORK/anna.backup" --backup-passphrase-file "$WORK/anna.pass" >/dev/null
PASSFILE="$WORK/wrong.pass" russian_error 3 restored restore "$WORK/anna.backup" \
  --backup-passphrase-file "$WORK/wrong.pass" --kdf fast
[ ! -e "$WORK/restored" ] || fail "a failed restore left a home behind"

# What a person reads every day: a case with its fields, timeline and ledger totals, the tasks,
# the doctor's checks.
shown=$(russian_output anna case show "Legal support" "$case_id")
grep -qF "статус: обвинение предъявлено" <<<"$shown" || fail "case fields not in Russian: $shown"
grep -qF "Итого оплачено: 150.00 EUR (1 запись)" <<<"$shown" || fail "ledger total: $shown"
russian_output anna task list "Legal support" --all | grep -qF "выполнено" || fail "task state not in Russian"
doctor=$(LANG=ru_RU.UTF-8 LANGUAGE=ru KOLOKOL_HOME="$WORK/anna" \
  KOLOKOL_PASSPHRASE_FILE="$WORK/anna.pass" "$KOLOKOL" doctor 2>&1) || true
grep -qF "права доступа:" <<<"$doctor" && grep -qF "хранилище:" <<<"$doctor" \
  || fail "doctor's checks not in Russian: $doctor"
! grep -qE "\] (permissions|store|clock|relay):" <<<"$doctor" || fail "doctor's check names in English: $doctor"
echo "ok: errors, case, ledger, tasks and doctor speak Russian"

# 6. A confirmation takes the word of the user's language: `panic` asks on the terminal (here a
# tmux one); «нет» destroys nothing, «да» destroys the store, and so does "yes".
command -v tmux >/dev/null || fail "tmux is missing: run scripts/deps"
source "$(dirname "$0")/lib_tmux.bash"
trap 'tmux_cleanup; cleanup' EXIT
# panic_answer WHO ANSWER — runs `kolokol panic` in Russian at a terminal, answers, and leaves
# the exit status in $WORK/WHO.rc.
panic_answer() {
  local who=$1 answer=$2
  rm -f "$WORK/$who.rc"
  tmx new-session -d -s "$who" -x 150 -y 10 \
    "env LANG=ru_RU.UTF-8 LANGUAGE=ru KOLOKOL_HOME='$WORK/$who' '$KOLOKOL' panic; echo \$? > '$WORK/$who.rc'; sleep 100"
  wait_for "$who" "Введите «да»"
  type_line "$who" "$answer"
  local deadline=$((SECONDS + 30))
  until [ -s "$WORK/$who.rc" ]; do
    ((SECONDS < deadline)) || fail "panic did not end after \"$answer\": $(screen "$who")"
    sleep 0.1
  done
  tmx kill-session -t "$who"
}
new_member dasha Даша
panic_answer dasha "нет"
[ "$(cat "$WORK/dasha.rc")" = 2 ] && [ -e "$WORK/dasha/store.key" ] || fail "«нет» destroyed the store"
panic_answer dasha "да"
[ "$(cat "$WORK/dasha.rc")" = 0 ] && [ ! -e "$WORK/dasha/store.key" ] || fail "«да» did not destroy the store"
new_member egor Егор
panic_answer egor "yes"
[ "$(cat "$WORK/egor.rc")" = 0 ] && [ ! -e "$WORK/egor/store.key" ] || fail "\"yes\" did not destroy the store"
echo "ok: panic takes «да» (and yes) at the terminal, and «нет» keeps the store"
