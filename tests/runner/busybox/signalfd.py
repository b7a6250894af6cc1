# signalfd through libc (ctypes), printed so that a run in the box and a native run can be compared
# line by line: signal numbers, codes, errnos, readiness. (No pids: a signal the box sends carries
# the runner's host pid, see examples/litebox-run/DESIGN.md.)
import ctypes, errno, os, select, signal, struct, sys, time

libc = ctypes.CDLL(None, use_errno=True)
SFD_NONBLOCK, SFD_CLOEXEC = os.O_NONBLOCK, os.O_CLOEXEC
SIGINFO = struct.Struct('IiiIIiIIIIIiIIQQQQ')  # the first fields of struct signalfd_siginfo (128 bytes)


class SigSet(ctypes.Structure):
    _fields_ = [('bits', ctypes.c_ulong * 16)]


def sigset(*signals):
    s = SigSet()
    for sig in signals:
        s.bits[(sig - 1) // 64] |= 1 << ((sig - 1) % 64)
    return s


def sfd(signals, flags=SFD_NONBLOCK | SFD_CLOEXEC, fd=-1):
    s = sigset(*signals)
    r = libc.signalfd(fd, ctypes.byref(s), flags)
    return r if r >= 0 else errno.errorcode[ctypes.get_errno()]


def take(fd, size=128):
    try:
        data = os.read(fd, size)
    except OSError as e:
        return errno.errorcode[e.errno]
    out = []
    for at in range(0, len(data), 128):
        f = SIGINFO.unpack_from(data, at)
        out.append('signo=%d code=%d int=%d' % (f[0], f[2], f[11]))
    return ' / '.join(out) if out else 'empty'


def readable(fd, timeout=0):
    return bool(select.select([fd], [], [], timeout)[0])


mine = [signal.SIGUSR1, signal.SIGUSR2, signal.SIGCHLD, signal.SIGRTMIN + 2]
signal.pthread_sigmask(signal.SIG_BLOCK, mine)

fd = sfd([signal.SIGUSR1])
print('created', fd >= 3, 'mode', oct(os.fstat(fd).st_mode), 'nonblocking', bool(os.get_blocking(fd) is False))
print('empty read', take(fd), 'readable', readable(fd))
os.kill(os.getpid(), signal.SIGUSR1)
print('after kill readable', readable(fd, 5))
print('short buffer', take(fd, 64))
print('read', take(fd), 'then', take(fd))

# Two signals in one read; a queued real-time signal carries its value (sigqueue).
fd2 = sfd([signal.SIGUSR1, signal.SIGUSR2, signal.SIGRTMIN + 2])
os.kill(os.getpid(), signal.SIGUSR2)
os.kill(os.getpid(), signal.SIGUSR1)
print('two at once', take(fd2, 256))
libc.sigqueue(os.getpid(), signal.SIGRTMIN + 2, ctypes.c_void_p(42))
print('sigqueue', take(fd2))

# A new mask for the same descriptor: only SIGUSR2 now; SIGUSR1 stays pending for the process.
print('remask returns the fd', sfd([signal.SIGUSR2], 0, fd) == fd)
os.kill(os.getpid(), signal.SIGUSR1)
print('USR1 not readable', not readable(fd), 'pending', signal.SIGUSR1 in signal.sigpending())
os.kill(os.getpid(), signal.SIGUSR2)
print('USR2 read', take(fd))
print('USR1 by sigtimedwait', signal.sigtimedwait([signal.SIGUSR1], 1).si_signo)
print('remask of a non-signalfd', sfd([signal.SIGUSR2], 0, 0), 'of a closed fd', sfd([signal.SIGUSR2], 0, 999))
print('bad flags', sfd([signal.SIGUSR1], 0x1))
os.close(fd2)

# A blocking read woken by another process's kill.
bfd = sfd([signal.SIGUSR1], SFD_CLOEXEC)
child = os.fork()
if child == 0:
    time.sleep(0.3)
    os.kill(os.getppid(), signal.SIGUSR1)
    os._exit(0)
print('blocking read', take(bfd))
os.waitpid(child, 0)

# epoll: ready after a signal, not before.
ep = select.epoll()
ep.register(bfd, select.EPOLLIN)
print('epoll before', ep.poll(0))
os.kill(os.getpid(), signal.SIGUSR1)
print('epoll after', [(f == bfd, e) for f, e in ep.poll(5)])
print('read', take(bfd))
ep.close()

# A child's exit through a signalfd for SIGCHLD (poll waits for it).
cfd = sfd([signal.SIGCHLD])
child = os.fork()
if child == 0:
    time.sleep(0.2)
    os._exit(3)
p = select.poll()
p.register(cfd, select.POLLIN)
print('poll for SIGCHLD', [(f == cfd, e) for f, e in p.poll(5000)])
print('SIGCHLD', take(cfd).split(' ')[0], 'status', os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))

# A child reads its own signals, not its parent's (pending signals are not inherited).
nfd = sfd([signal.SIGUSR1])
os.kill(os.getpid(), signal.SIGUSR1)
r, w = os.pipe()
child = os.fork()
if child == 0:
    first = take(nfd)
    os.kill(os.getpid(), signal.SIGUSR1)
    os.write(w, ('%s | %s' % (first, take(nfd).split(' ')[0])).encode())
    os._exit(0)
os.waitpid(child, 0)
print('child reads its own', os.read(r, 200).decode())
print('parent still has USR1', take(nfd))
os.set_blocking(bfd, False)
print('F_SETFL nonblocking read', take(bfd))

# A handler's signal interrupts a blocking read (no SA_RESTART: the handler raises).
class Alarm(Exception):
    pass


def on_alarm(*_):
    raise Alarm()


signal.signal(signal.SIGALRM, on_alarm)
os.set_blocking(bfd, True)
signal.setitimer(signal.ITIMER_REAL, 0.2)
try:
    os.read(bfd, 128)
    print('read returned')
except Alarm:
    print('blocking read interrupted by a handler')

# The descriptor survives exec (no SFD_CLOEXEC); the new image reads the same process's signals.
efd = sfd([signal.SIGUSR2], 0)
os.kill(os.getpid(), signal.SIGUSR2)
sys.stdout.flush()
code = ('import os, struct; d = os.read(%d, 128); print("after exec", struct.unpack_from("I", d)[0])' % efd)
os.execv(sys.executable, [sys.executable, '-c', code])
