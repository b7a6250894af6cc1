# Runs COMMAND on a new pseudo-terminal (its session's controlling terminal, as a login shell's)
# for tty_jobctl.py, types "typed" once the script reports that its background reader stopped,
# and prints the script's reports (the lines that start with "R:") without the prefix.
# usage: python3 tty_harness.py COMMAND [ARGS...]
import os, pty, select, sys, time

pid, master = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b''
typed = False
deadline = time.time() + 60
while time.time() < deadline:
    if not select.select([master], [], [], 1)[0]:
        continue
    try:
        chunk = os.read(master, 4096)
    except OSError:  # EIO: every slave descriptor is closed
        break
    if not chunk:
        break
    out += chunk
    if not typed and b'R:read: stopped by SIGTTIN' in out:
        time.sleep(0.2)
        os.write(master, b'typed\n')
        typed = True
# The terminal closed (the run ended) or the deadline passed: give the process time to become
# reapable, and kill it only if it is still running then (a read that never stopped).
for _ in range(1000):
    if os.waitpid(pid, os.WNOHANG)[0] == pid:
        break
    time.sleep(0.01)
else:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    out += b'R:timeout\n'
for line in out.decode(errors='replace').replace('\r', '').splitlines():
    if line.startswith('R:'):
        print(line[2:])
