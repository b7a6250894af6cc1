#!/bin/sh
# Pseudo-terminals under litebox-run with the host root visible read-only (--rootfs-dir /):
# python3's os.openpty (/dev/ptmx, /dev/pts/N, ttyname, the line discipline: canonical editing
# and echo, raw mode, VMIN/VTIME, TCSAFLUSH, ISIG echo, FIONREAD, poll, window size, the hangups
# on either side's close) and pty.fork (a session leader's controlling terminal, /dev/tty, ^C
# delivering SIGINT and a new window size SIGWINCH to the foreground group, EIO on the master
# once the child exits), a session leader's exit (SIGHUP to the foreground group) and job control
# (tty_jobctl.py under tty_harness.py: SIGTTIN and SIGTTOU for background groups, on a box pty
# and on the terminal litebox-run itself runs on), each against the same script run natively.
# Usage: pty.sh LITEBOX_RUN
set -u
run=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/python_compare.sh"

script=$(cat <<'PYTHON'
import errno, fcntl, os, select, struct, termios, time, tty

def rd(fd, n=1024):
    try:
        return os.read(fd, n)
    except OSError as e:
        return errno.errorcode[e.errno]

def drain(fd):
    out = b''
    while select.select([fd], [], [], 0.2)[0]:
        got = rd(fd)
        if not isinstance(got, bytes) or not got:
            break
        out += got
    return out

m, s = os.openpty()
name = os.ttyname(s)
print('tty', os.isatty(s), os.isatty(m), name.startswith('/dev/pts/'), os.stat(name).st_rdev == os.fstat(s).st_rdev,
      os.stat(name).st_mode & 0o170600 == 0o020600, os.stat(name).st_uid == os.getuid())
print('fd link', os.readlink('/proc/self/fd/%d' % s) == name, os.readlink('/proc/self/fd/%d' % m) in ('/dev/ptmx', '/dev/pts/ptmx'))
print('listed', os.path.basename(name) in os.listdir('/dev/pts'))
os.write(m, b'abc\x7fd\n'); print('cooked', rd(s)); print('echo', drain(m))
os.write(m, b'one two\x17three\n'); print('werase', rd(s)); print('werase echo', drain(m))
os.write(m, b'gone\x15kept\n'); print('kill', rd(s)); print('kill echo', drain(m))
os.write(m, b'\x04'); print('eof', rd(s))
os.write(m, b'ab\x04'); print('eof after text', rd(s), drain(m))
os.write(m, b'\x01\x1b\n'); print('ctl echo', rd(s), drain(m))
os.write(s, b'x\ty\n'); print('opost', drain(m))
os.write(m, b'q\n'); time.sleep(0.1)  # Linux moves input to the line discipline asynchronously
print('fionread', struct.unpack('i', fcntl.ioctl(s, termios.FIONREAD, b'\0' * 4))[0], rd(s)); drain(m)
p = select.poll(); p.register(s, select.POLLIN | select.POLLOUT)
print('poll idle', [ev for _, ev in p.poll(0)])
os.write(m, b'z\n'); print('poll line', [ev for _, ev in p.poll(0)]); rd(s); drain(m)
fcntl.ioctl(m, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 80, 0, 0))
print('winsize', struct.unpack('HHHH', fcntl.ioctl(s, termios.TIOCGWINSZ, b'\0' * 8)))
cooked = termios.tcgetattr(s)
tty.setraw(s)
os.write(m, b'\x03\r\x7f'); print('raw', rd(s), drain(m))
os.write(s, b'1\n2'); print('raw out', drain(m))
a = termios.tcgetattr(s)
a[6][termios.VMIN] = 0; a[6][termios.VTIME] = 0
termios.tcsetattr(s, termios.TCSANOW, a)
print('vmin 0', rd(s))
a[6][termios.VTIME] = 2
termios.tcsetattr(s, termios.TCSANOW, a)
t0 = time.monotonic(); got = rd(s); print('vtime', got, time.monotonic() - t0 >= 0.15)
a[6][termios.VMIN] = 3; a[6][termios.VTIME] = 0
termios.tcsetattr(s, termios.TCSANOW, a)
os.write(m, b'xyz'); print('vmin 3', rd(s, 10))
os.write(m, b'left over'); time.sleep(0.1)  # (as above: queued before the flush)
termios.tcsetattr(s, termios.TCSAFLUSH, cooked)
os.write(m, b'after\n'); print('tcsaflush', rd(s)); drain(m)
os.write(m, b'\x03'); print('isig echo', drain(m))
# The slave's last close: the master reads what is left, then EIO; its writes still go in.
os.write(s, b'data\n')
os.close(s)
p = select.poll(); p.register(m, select.POLLIN | select.POLLOUT)
print('master poll', [ev for _, ev in p.poll(0)])
print('master read', rd(m), rd(m))
os.close(m)
# The master's close: the slave reads end of file, writes and tcgetattr fail with EIO.
m, s = os.openpty()
name = os.ttyname(s)
os.close(m)
print('slave read', rd(s))
try:
    os.write(s, b'x')
except OSError as e:
    print('slave write', errno.errorcode[e.errno])
try:
    termios.tcgetattr(s)
except termios.error as e:
    print('tcgetattr', errno.errorcode[e.args[0]])
p = select.poll(); p.register(s, select.POLLIN | select.POLLOUT)
print('slave poll', [ev for _, ev in p.poll(0)], os.path.exists(name))
PYTHON
)
python_same_as_native "openpty: line discipline, termios, hangups as native" "$script"

script=$(cat <<'PYTHON'
import errno, fcntl, os, pty, signal, struct, sys, termios

pid, master = pty.fork()
if pid == 0:
    def winch(sig, frame):
        rows, cols = struct.unpack('HHHH', fcntl.ioctl(0, termios.TIOCGWINSZ, b'\0' * 8))[:2]
        os.write(1, b'winch %d %d\n' % (rows, cols))
    def interrupted(sig, frame):
        os.write(1, b'got SIGINT\n')
        os._exit(3)
    signal.signal(signal.SIGWINCH, winch)
    signal.signal(signal.SIGINT, interrupted)
    tty_fd = os.open('/dev/tty', os.O_RDWR)
    print('child', os.ttyname(0).startswith('/dev/pts/'), os.getsid(0) == os.getpid(), os.tcgetpgrp(0) == os.getpgrp(),
          os.ttyname(tty_fd) == os.ttyname(0))
    sys.stdout.flush()
    os.write(tty_fd, b'via /dev/tty\n')
    line = sys.stdin.readline()
    print('child read', repr(line))
    sys.stdout.flush()
    while True:
        signal.pause()

def read_until(marker):
    out = b''
    while marker not in out:
        try:
            chunk = os.read(master, 1024)
        except OSError as e:
            out += b'<' + errno.errorcode[e.errno].encode() + b'>'
            break
        if not chunk:
            break
        out += chunk
    return out

print(read_until(b'via /dev/tty\r\n'))
os.write(master, b'typed text\n')
print(read_until(b"'typed text\\n'\r\n"))
fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack('HHHH', 30, 100, 0, 0))
print(read_until(b'winch 30 100\r\n'))
os.write(master, b'\x03')
print(read_until(b'<EIO>'))
print('status', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
PYTHON
)
python_same_as_native "pty.fork: controlling terminal, /dev/tty, SIGINT and SIGWINCH as native" "$script"

# A session leader's exit: its foreground group gets SIGHUP (a background group does not) and the
# session has no controlling terminal any more. Both happen before the leader's children are
# handed to their new parent, which each job waits for (getppid).
script=$(cat <<'PYTHON'
import os, pty, select, signal, time

r, w = os.pipe()
ready_r, ready_w = os.pipe()
pid, master = pty.fork()
if pid == 0:
    os.close(r)
    def job(name, own_group):
        if os.fork() != 0:
            return
        if own_group:
            os.setpgid(0, 0)
        def hup(sig, frame):
            os.write(w, b'%s: SIGHUP\n' % name)
            os._exit(0)
        signal.signal(signal.SIGHUP, hup)
        leader = os.getppid()
        os.write(ready_w, b'r')
        deadline = time.monotonic() + 20
        while os.getppid() == leader and time.monotonic() < deadline:
            time.sleep(0.01)
        os.write(w, b'%s: no SIGHUP, terminal %s\n' % (name, b'kept' if controls_tty() else b'gone'))
        os._exit(0)
    def controls_tty():  # TIOCGPGRP on a terminal that is not the caller's controlling one: ENOTTY
        try:
            os.tcgetpgrp(0)
            return True
        except OSError:
            return False
    job(b'foreground', False)
    job(b'background', True)
    os.close(ready_w)
    got = b''
    while len(got) < 2:  # both have their handlers: now leave
        chunk = os.read(ready_r, 2)
        if not chunk:
            break
        got += chunk
    os._exit(0)
os.close(w)
os.close(ready_w)
os.close(ready_r)
os.waitpid(pid, 0)  # the session leader has exited
out = b''
while select.select([r], [], [], 5)[0]:
    chunk = os.read(r, 1024)
    if not chunk:
        break
    out += chunk
print(sorted(out.decode().splitlines()))
os.close(master)
PYTHON
)
python_same_as_native "pty: a session leader's exit hangs up its foreground group, as native" "$script"

# Job control: tty_jobctl.py as the session leader of a terminal made by tty_harness.py -- a box
# pty when the harness runs in the box; the box's console when litebox-run runs on the harness's
# terminal (as pid 1, without the orphaned-group case: see the script).
native=$(cd / && python3 "$here/tty_harness.py" /usr/bin/python3 "$here/tty_jobctl.py" orphan 2>&1)
out=$("$run" --rootfs-dir / -- /usr/bin/python3 "$here/tty_harness.py" /usr/bin/python3 "$here/tty_jobctl.py" orphan 2>&1 | quiet)
same_or_fail "pty: SIGTTIN and SIGTTOU for background jobs, as native" "$out" "$native" natively
native=$(cd / && python3 "$here/tty_harness.py" /usr/bin/python3 "$here/tty_jobctl.py" 2>&1)
out=$(python3 "$here/tty_harness.py" "$run" --rootfs-dir / -- /usr/bin/python3 "$here/tty_jobctl.py" 2>&1)
same_or_fail "console: SIGTTIN and SIGTTOU for background jobs, as native" "$out" "$native" natively

# Not here: util-linux script(1) sets up its pty with signalfd, which the shim does not implement
# yet (it fails with "failed to create pseudo-terminal: Function not implemented").

exit $failures
