# Passphrases are checked as early as possible, at a real terminal (tmux):
# - `restore` checks the backup's passphrase before it asks for the new store's: a wrong one
#   ends the command at once (exit 3), nothing created, no new passphrase asked;
# - `init --duress` refuses a duress passphrase equal to the main one as soon as it is typed,
#   before asking to repeat it (exit 2, no store);
# - a very weak new passphrase gets one warning line (and is still accepted); a strong one none.
source "$(dirname "$0")/lib.bash"
command -v tmux >/dev/null || fail "tmux is missing: run scripts/deps"
source "$(dirname "$0")/lib_tmux.bash"
trap 'tmux_cleanup; cleanup' EXIT
export LANG=C.UTF-8

# at_terminal NAME ENV… -- ARGS… — runs kolokol ARGS in a new tmux session NAME with the given
# environment; its exit status lands in $WORK/NAME.rc.
at_terminal() {
  local name=$1; shift
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  local cmd
  cmd=$(printf '%q ' env LANG=C.UTF-8 "${envs[@]}" "$KOLOKOL" "$@")
  tmx new-session -d -s "$name" -x 200 -y 40 "$cmd; echo \$? > '$WORK/$name.rc'; sleep 100"
}
wait_rc() {
  local name=$1 deadline=$((SECONDS + 120))
  until [ -s "$WORK/$name.rc" ]; do
    ((SECONDS < deadline)) || fail "$name did not finish: $(screen "$name")"
    sleep 0.1
  done
  cat "$WORK/$name.rc"
}

# 1. restore: the backup's passphrase first.
new_member anna Anna
as anna group create "Legal support" >/dev/null
echo "the backup passphrase of anna" > "$WORK/backup.pass"
as anna backup -o "$WORK/anna.backup" --backup-passphrase-file "$WORK/backup.pass" >/dev/null
at_terminal wrong KOLOKOL_HOME="$WORK/new1" -- restore "$WORK/anna.backup" --kdf fast
wait_for wrong "Backup passphrase:"
type_line wrong "not the backup passphrase"
[ "$(wait_rc wrong)" = 3 ] || fail "a wrong backup passphrase: exit $(cat "$WORK/wrong.rc"): $(screen wrong)"
screen wrong | grep -qF "the backup passphrase is wrong" || fail "no reason given: $(screen wrong)"
! screen wrong | grep -qF "New passphrase" || fail "the new passphrase was asked before the backup's was checked"
[ ! -e "$WORK/new1" ] || fail "a refused restore left a home"
at_terminal right KOLOKOL_HOME="$WORK/new2" -- restore "$WORK/anna.backup" --kdf fast
wait_for right "Backup passphrase:"
type_line right "$(cat "$WORK/backup.pass")"
wait_for right "New passphrase for this device's store:"
type_line right "a new passphrase for this device"
wait_for right "Repeat it:"
type_line right "a new passphrase for this device"
[ "$(wait_rc right)" = 0 ] || fail "restore failed: $(screen right)"
screen right | grep -qF "Restored into" || fail "restore said nothing: $(screen right)"
echo "ok: restore checks the backup's passphrase before asking for a new one"

# 2. init --duress: the duress passphrase is compared with the main one as soon as it is typed.
at_terminal duress KOLOKOL_HOME="$WORK/clara" -- init --name Clara --kdf fast --duress
wait_for duress "New passphrase:"
type_line duress "clara's real passphrase"
wait_for duress "Repeat it:"
type_line duress "clara's real passphrase"
wait_for duress "Duress passphrase:"
type_line duress "clara's real passphrase"
[ "$(wait_rc duress)" = 2 ] || fail "init --duress with the same passphrase: exit $(cat "$WORK/duress.rc"): $(screen duress)"
screen duress | grep -qF "the duress passphrase must differ from your passphrase" \
  || fail "no reason given: $(screen duress)"
[ "$(screen duress | grep -c "Repeat it:")" -eq 1 ] || fail "the duress passphrase was asked again: $(screen duress)"
[ ! -e "$WORK/clara/store.key" ] || fail "a refused init left a store"
echo "ok: init --duress refuses the main passphrase as soon as it is typed"

# 3. Very weak passphrases get a warning, and are still accepted; strong ones do not.
n=0
for weak in "12345678" "qwertyuiop" "password2024!" "aaaaaaaaaaaaaaa" "abababababab" \
            "19900101" "Пароль" "йцукенгшщз" "short"; do
  n=$((n + 1))
  printf '%s\n' "$weak" > "$WORK/weak$n.pass"
  err=$(KOLOKOL_HOME="$WORK/weak$n" KOLOKOL_PASSPHRASE_FILE="$WORK/weak$n.pass" \
        "$KOLOKOL" init --name Weak --kdf fast 2>&1 >/dev/null) || fail "a weak passphrase was refused: $err"
  [ "$(grep -c "very weak" <<<"$err")" -eq 1 ] || fail "no single warning for \"$weak\": $err"
done
for strong in "correct horse battery staple" "мы встретимся у старого моста в семь" "Tr4m-lighthouse-92-kettle"; do
  n=$((n + 1))
  printf '%s\n' "$strong" > "$WORK/strong$n.pass"
  err=$(KOLOKOL_HOME="$WORK/strong$n" KOLOKOL_PASSPHRASE_FILE="$WORK/strong$n.pass" \
        "$KOLOKOL" init --name Strong --kdf fast 2>&1 >/dev/null) || fail "init failed: $err"
  ! grep -q "very weak" <<<"$err" || fail "\"$strong\" was called very weak: $err"
done
# At the terminal the warning comes right after the first entry, before it is repeated.
at_terminal weakterm KOLOKOL_HOME="$WORK/weakterm" -- init --name Weak --kdf fast
wait_for weakterm "New passphrase:"
type_line weakterm "qwerty123"
wait_for weakterm "very weak"
wait_for weakterm "Repeat it:"
type_line weakterm "qwerty123"
[ "$(wait_rc weakterm)" = 0 ] || fail "a warned passphrase was not accepted: $(screen weakterm)"
echo "ok: very weak passphrases are warned about ($n checked), strong ones are not"
