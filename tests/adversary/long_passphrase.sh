# A passphrase longer than 1,024 bytes used to be cut without a word at the terminal (and taken
# whole from a passphrase file), so a store made from a file could not be opened at the
# terminal, and a long passphrase was weaker than its owner thought. Now both refuse it with
# one line and exit 2 and change nothing; 1,024 bytes still work, from a file and at a terminal.
source "$(dirname "$0")/../integration/lib.bash"
source "$(dirname "$0")/lib_adversary.bash"

long=$(head -c 1500 /dev/zero | tr '\0' 'p')
max=$(head -c 1024 /dev/zero | tr '\0' 'q')
# tty_run INPUT COMMAND… — runs a command on a pseudo-terminal, answering every passphrase
# prompt with INPUT; prints its output and exits with its status.
tty_run() {
  python3 - "$@" <<'PY'
import os, pty, select, sys
answer = sys.argv[1].encode() + b"\n"
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
buf = b""
timed_out = False
while True:
    try:
        r, _, _ = select.select([fd], [], [], 30)
        if not r:
            timed_out = True
            break
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data: break
    buf += data
    if buf.rstrip().endswith(b":"):  # a prompt: "Passphrase:", "Repeat it:"
        os.write(fd, answer)
        buf = b""
    sys.stdout.buffer.write(data)
if timed_out:  # still waiting for input: a failure, not a hang
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    sys.exit(124)
_, status = os.waitpid(pid, 0)
sys.exit(os.WEXITSTATUS(status))
PY
}

# From a file: refused before anything is created.
printf '%s\n' "$long" > "$WORK/long.pass"
rc=0; err=$(KOLOKOL_HOME="$WORK/a" KOLOKOL_PASSPHRASE_FILE="$WORK/long.pass" "$KOLOKOL" init --name A --kdf fast 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 2 ] && grep -q "longer than 1024 bytes" <<<"$err" || fail "a 1500-byte passphrase file: exit $rc: $err"
[ "$(printf '%s\n' "$err" | grep -c .)" -eq 1 ] || fail "not one line: $err"
[ ! -e "$WORK/a" ] || fail "a store was created with the refused passphrase"
echo "ok: file — $err"

# At the terminal: refused too, not cut.
rc=0; out=$(KOLOKOL_HOME="$WORK/b" tty_run "$long" "$KOLOKOL" init --name B --kdf fast 2>&1) || rc=$?
[ "$rc" -eq 2 ] && grep -q "longer than 1024 bytes" <<<"$out" || fail "a 1500-byte passphrase at the terminal: exit $rc: $out"
[ ! -e "$WORK/b" ] || fail "a store was created from a cut passphrase"
echo "ok: terminal — refused"

# 1,024 bytes (with a CR, as an editor may leave) work from a file and at the terminal alike.
printf '%s\r\n' "$max" > "$WORK/c.pass"
KOLOKOL_HOME="$WORK/c" KOLOKOL_PASSPHRASE_FILE="$WORK/c.pass" "$KOLOKOL" init --name C --kdf fast >/dev/null \
  || fail "a 1024-byte passphrase was refused"
KOLOKOL_HOME="$WORK/c" tty_run "$max" "$KOLOKOL" group list >/dev/null \
  || fail "the 1024-byte passphrase from the file does not open the store at the terminal"
# A longer one typed for an existing store is refused as too long, not taken as wrong.
rc=0; out=$(KOLOKOL_HOME="$WORK/c" tty_run "$max$max" "$KOLOKOL" group list 2>&1) || rc=$?
[ "$rc" -eq 2 ] && grep -q "longer than 1024 bytes" <<<"$out" || fail "2048 bytes at the terminal: exit $rc: $out"
echo "ok: 1024 bytes open the store from a file and at the terminal"

# A new passphrase (line 2 of the file) that is too long changes nothing.
printf '%s\n%s\n' "$max" "$long" > "$WORK/c.pass"
rc=0; err=$(KOLOKOL_HOME="$WORK/c" KOLOKOL_PASSPHRASE_FILE="$WORK/c.pass" "$KOLOKOL" passwd 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 2 ] && grep -q "line 2 of passphrase file" <<<"$err" || fail "passwd with a long new passphrase: exit $rc: $err"
printf '%s\n' "$max" > "$WORK/c.pass"
KOLOKOL_HOME="$WORK/c" KOLOKOL_PASSPHRASE_FILE="$WORK/c.pass" "$KOLOKOL" group list >/dev/null \
  || fail "the refused passwd changed the passphrase"
# The backup's own passphrase file, too.
printf '%s\n' "$long" > "$WORK/backup.pass"
rc=0; err=$(KOLOKOL_HOME="$WORK/c" KOLOKOL_PASSPHRASE_FILE="$WORK/c.pass" "$KOLOKOL" backup -o "$WORK/c.age" \
  --backup-passphrase-file "$WORK/backup.pass" 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 2 ] && grep -q "longer than 1024 bytes" <<<"$err" || fail "a long backup passphrase: exit $rc: $err"
[ ! -e "$WORK/c.age" ] || fail "a backup was written with a refused passphrase"
echo "long_passphrase: refused from files and the terminal, nothing changed"
