# Runs a command under a pseudo-terminal, answering every passphrase prompt with a passphrase:
#   python3 pty_run.py PASSPHRASE COMMAND [ARG…]
# Exits with the command's exit code (the real `age` reads passphrases from a terminal only).
import os, pty, sys, time, select
passphrase, argv = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
seen, deadline = b"", time.time() + 120
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 1.0)
    if not r:
        if os.waitpid(pid, os.WNOHANG)[0]:
            break
        continue
    try:
        data = os.read(fd, 1024)
    except OSError:
        break
    if not data:
        break
    seen += data
    while b"passphrase" in seen.lower():
        # Answer each prompt once, then look for the next one after it.
        idx = seen.lower().index(b"passphrase") + len(b"passphrase")
        seen = seen[idx:]
        time.sleep(0.1)
        os.write(fd, passphrase.encode() + b"\n")
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
