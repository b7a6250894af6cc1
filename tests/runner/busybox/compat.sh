#!/bin/sh
# Debian programs under litebox-run with the host root visible read-only (--rootfs-dir /, an
# in-memory overlay on top): coreutils nice (getpriority/setpriority), python3's extended
# attributes (os.setxattr/getxattr/listxattr, shutil.copy2 and copytree copying them) and flock
# next to lockf (independent lock tables, as on Linux; a blocked flock waits for the holder; a
# blocked lockf is interrupted by a signal, and dup2 over a descriptor of the file releases it),
# and memfd_create, file seals, splice and tee and CLONE_FILES unsharing, and writable shared
# mappings (multiprocessing, sqlite WAL), each against the same python3 script run natively.
# Usage: compat.sh LITEBOX_RUN
set -u
run=$1
. "$(dirname "$0")/python_compare.sh"

out=$("$run" --rootfs-dir / -- /usr/bin/nice -n 5 /bin/sh -c '/usr/bin/nice; /usr/bin/nice -n 3 /usr/bin/nice' 2>&1 | quiet)
expected="5
8"
[ "$out" = "$expected" ] && echo "ok: nice -n 5" || fail "nice printed: $out"

out=$("$run" --rootfs-dir / -- /usr/bin/python3 -c "
import os, shutil
d = '/tmp/litebox-xattr-$$'
os.makedirs(d)
src, dst = os.path.join(d, 'src'), os.path.join(d, 'dst')
with open(src, 'w') as f:
    f.write('data')
os.setxattr(src, 'user.colour', b'blue')
print(os.getxattr(src, 'user.colour').decode(), os.listxattr(src))
shutil.copy2(src, dst)
print(open(dst).read(), os.getxattr(dst, 'user.colour').decode())
shutil.copytree(d, d + '-copy')
print(sorted(os.listdir(d + '-copy')), os.getxattr(os.path.join(d + '-copy', 'src'), 'user.colour').decode())
try:
    os.getxattr(src, 'user.missing')
except OSError as e:
    print('missing:', e.errno)
" 2>&1 | quiet)
expected="blue ['user.colour']
data blue
['dst', 'src'] blue
missing: 61"
[ "$out" = "$expected" ] && echo "ok: python3 xattrs and shutil.copy2" || fail "python3 xattrs printed: $out"

out=$("$run" --rootfs-dir / -- /usr/bin/python3 -c "
import fcntl, os, sys, time
p = '/tmp/litebox-lock-$$'
a, b = open(p, 'w'), open(p, 'w')
fcntl.lockf(a, fcntl.LOCK_EX | fcntl.LOCK_NB)
fcntl.flock(b, fcntl.LOCK_EX | fcntl.LOCK_NB)
print('parent: lockf and flock held')
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    b.close()  # the inherited descriptor would keep the parent's flock alive
    c = open(p, 'w')
    for name, call in (('flock', fcntl.flock), ('lockf', fcntl.lockf)):
        try:
            call(c, fcntl.LOCK_EX | fcntl.LOCK_NB)
            print('child', name, 'acquired')
        except OSError:
            print('child', name, 'busy')
    sys.stdout.flush()
    fcntl.flock(c, fcntl.LOCK_EX)
    print('child flock acquired after the parent let go')
    sys.stdout.flush()
    os._exit(0)
time.sleep(0.3)
b.close()
os.waitpid(pid, 0)
" 2>&1 | quiet)
expected="parent: lockf and flock held
child flock busy
child lockf busy
child flock acquired after the parent let go"
[ "$out" = "$expected" ] && echo "ok: flock next to lockf" || fail "locks printed: $out"

out=$("$run" --rootfs-dir / -- /usr/bin/python3 -c "
import fcntl, os, signal, sys, time
p = '/tmp/litebox-lockf-$$'
a, b = open(p, 'w'), open(p, 'w')
fcntl.lockf(a, fcntl.LOCK_EX)
pid = os.fork()
if pid == 0:
    c = open(p, 'w')
    class Alarm(Exception):
        pass
    def on_alarm(signum, frame):
        raise Alarm()
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    try:
        fcntl.lockf(c, fcntl.LOCK_EX)
        print('child lockf acquired too early')
    except Alarm:
        print('child lockf interrupted by SIGALRM')
    sys.stdout.flush()
    fcntl.lockf(c, fcntl.LOCK_EX)
    print('child lockf acquired after dup2 over the parent descriptor')
    sys.stdout.flush()
    os._exit(0)
time.sleep(1)
os.dup2(os.open('/dev/null', os.O_RDONLY), b.fileno())  # closes b: the parent's lock goes, a stays open
os.waitpid(pid, 0)
" 2>&1 | quiet)
expected="child lockf interrupted by SIGALRM
child lockf acquired after dup2 over the parent descriptor"
[ "$out" = "$expected" ] && echo "ok: lockf interrupted, released by dup2" || fail "lockf printed: $out"

# memfd_create, seals, splice/tee, and a descriptor table shared through CLONE_FILES (unshared by
# close_range(CLOSE_RANGE_UNSHARE) and by execve): the same script natively and in the box.
script=$(cat <<'PYTHON'
import ctypes, fcntl, mmap, os
libc = ctypes.CDLL(None, use_errno=True)
fd = os.memfd_create('litebox-memfd', os.MFD_ALLOW_SEALING | os.MFD_CLOEXEC)
os.write(fd, b'hello memfd')
print(os.readlink('/proc/self/fd/%d' % fd))
st = os.fstat(fd)
print(oct(st.st_mode), st.st_size, st.st_nlink, fcntl.fcntl(fd, fcntl.F_GETFD), fcntl.fcntl(fd, fcntl.F_GETFL))
print('seals', fcntl.fcntl(fd, fcntl.F_GET_SEALS))
fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW)
for name, call in (('shrink', lambda: os.ftruncate(fd, 2)), ('grow', lambda: os.pwrite(fd, b'past the end', 8))):
    try:
        call()
        print(name, 'allowed')
    except OSError as e:
        print(name, 'refused', e.errno)
m = mmap.mmap(fd, 11, mmap.MAP_PRIVATE, mmap.PROT_READ)
print(m[:5])
fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL)
print('seals', fcntl.fcntl(fd, fcntl.F_GET_SEALS))
try:
    os.pwrite(fd, b'x', 0)
except OSError as e:
    print('write refused', e.errno)
print(open('/proc/self/fd/%d' % fd, 'rb').read())
try:
    os.memfd_create('x' * 250)
except OSError as e:
    print('long name', e.errno)
plain = os.memfd_create('plain')
print('plain seals', fcntl.fcntl(plain, fcntl.F_GET_SEALS))

r, w = os.pipe()
os.lseek(fd, 0, 0)
print('splice', os.splice(fd, w, 5), os.read(r, 5), os.lseek(fd, 0, 1))
print('splice at', os.splice(fd, w, 100, offset_src=6), os.read(r, 100), os.lseek(fd, 0, 1))
os.write(w, b'tee data')
r2, w2 = os.pipe()
print('tee', libc.tee(r, w2, 100, 0), os.read(r2, 100), os.read(r, 100))

s1, s2 = os.pipe()
pid = libc.syscall(56, 0x400 | 17, 0, 0, 0, 0)  # clone(CLONE_FILES | SIGCHLD): a shared table
if pid == 0:
    rc = libc.syscall(436, s2, s2, 2)  # close_range(CLOSE_RANGE_UNSHARE): only this process's copy
    try:
        fcntl.fcntl(s2, fcntl.F_GETFD)
        os._exit(10 + rc)
    except OSError:
        os._exit(3)
print('close_range child', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), 'parent still writes', os.write(s2, b'k'))
pid = libc.syscall(56, 0x400 | 17, 0, 0, 0, 0)
if pid == 0:
    os.execv('/bin/true', ['true'])  # execve unshares first: the close-on-exec pipe stays the parent's
print('exec child', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), 'parent still writes', os.write(s2, b'!'), os.read(s1, 2))
PYTHON
)
python_same_as_native "memfd, seals, splice, tee, CLONE_FILES unshare as native" "$script"

# Writable shared mappings (the file's bytes move into a memfd the box then reads and writes):
# a mapping shared with a forked child and with a second process that maps the file by name, read()
# and write() seeing the mapping's bytes, a copied-up file of the read-only lower layer, memfd
# seals against writable mappings, /dev/zero mappings (private and shared), python's
# multiprocessing (POSIX semaphores and shared memory in /dev/shm) and sqlite3's WAL mode (its -shm
# file is a shared mapping): the same script natively and in the box. argv[1] is a file of the
# host's /tmp that the script changes (a copy each run).
script=$(cat <<'PYTHON'
import fcntl, mmap, multiprocessing as mp, os, sqlite3, sys, tempfile
from multiprocessing import shared_memory

def square(x):
    return x * x

def add(value, n):
    for _ in range(n):
        with value.get_lock():
            value.value += 1

if __name__ == '__main__':
    d = tempfile.mkdtemp(dir='/tmp')
    p = os.path.join(d, 'shared')
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o600)
    os.write(fd, b'hello world')
    m = mmap.mmap(fd, 11)
    ro = mmap.mmap(fd, 11, access=mmap.ACCESS_READ)
    pid = os.fork()
    if pid == 0:
        m[0:5] = b'HELLO'
        os._exit(0)
    os.waitpid(pid, 0)
    print('after the child:', os.pread(fd, 11, 0), ro[:])
    os.pwrite(fd, b'WORLD', 6)
    print('after pwrite:', m[:])
    os.ftruncate(fd, 8192)
    pid = os.fork()
    if pid == 0:
        other = os.open(p, os.O_RDWR)
        m2 = mmap.mmap(other, 8192)
        m2[5000:5003] = b'abc'
        os._exit(0)
    os.waitpid(pid, 0)
    with open(p, 'rb') as f:
        f.seek(5000)
        print('second page:', os.pread(fd, 3, 5000), f.read(3), os.fstat(fd).st_size)

    lower = sys.argv[1]
    lfd = os.open(lower, os.O_RDWR)
    lm = mmap.mmap(lfd, 0)
    lm[0:5] = b'LOWER'
    print('lower file:', os.pread(lfd, 16, 0))

    mfd = os.memfd_create('shared', os.MFD_ALLOW_SEALING)
    os.ftruncate(mfd, 4096)
    mm = mmap.mmap(mfd, 4096)
    mm[:2] = b'ok'
    for label, call in (('seal while mapped', lambda: fcntl.fcntl(mfd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE)),):
        try:
            call()
            print(label, 'allowed')
        except OSError as e:
            print(label, 'refused', e.errno)
    mm.close()
    fcntl.fcntl(mfd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE)
    print('memfd bytes:', os.pread(mfd, 2, 0))
    try:
        mmap.mmap(mfd, 4096)
        print('writable map of a sealed memfd allowed')
    except OSError as e:
        print('writable map of a sealed memfd refused', e.errno)
    print('read-only map:', mmap.mmap(mfd, 4096, access=mmap.ACCESS_READ)[:2])

    zfd = os.open('/dev/zero', os.O_RDWR)
    zshared = mmap.mmap(zfd, 8192, mmap.MAP_SHARED)
    zprivate = mmap.mmap(zfd, 4096, mmap.MAP_PRIVATE)
    pid = os.fork()
    if pid == 0:
        zshared[:5] = b'child'
        zprivate[:5] = b'privt'
        os._exit(0)
    os.waitpid(pid, 0)
    print('/dev/zero:', zshared[:5], zprivate[:5], zshared[8000:8002])

    with mp.Pool(2) as pool:
        print('pool:', sum(pool.map(square, range(100))))
    q = mp.Queue()
    proc = mp.Process(target=q.put, args=('queued',))
    proc.start()
    print('queue:', q.get())
    proc.join()
    value = mp.Value('i', 0)
    procs = [mp.Process(target=add, args=(value, 200)) for _ in range(3)]
    for x in procs:
        x.start()
    for x in procs:
        x.join()
    print('value:', value.value)
    shm = shared_memory.SharedMemory(create=True, size=16)
    shm.buf[:3] = b'abc'
    other = shared_memory.SharedMemory(shm.name)
    print('shared_memory:', bytes(other.buf[:3]))
    other.close()
    shm.close()
    shm.unlink()

    db = os.path.join(d, 'w.db')
    a = sqlite3.connect(db)
    print('journal:', a.execute('pragma journal_mode=wal').fetchone()[0])
    a.execute('create table t(x)')
    a.executemany('insert into t values (?)', [(i,) for i in range(50)])
    a.commit()
    b = sqlite3.connect(db)
    print('wal rows:', b.execute('select count(*), sum(x) from t').fetchone())
    a.close()
    b.close()
    import shutil
    shutil.rmtree(d)
PYTHON
)
lower_native=$(mktemp /tmp/litebox-lower-XXXXXX)
lower_box=$(mktemp /tmp/litebox-lower-XXXXXX)
printf 'lower layer text' > "$lower_native"
printf 'lower layer text' > "$lower_box"
native=$(/usr/bin/python3 -c "$script" "$lower_native" 2>&1)
out=$("$run" --rootfs-dir / -- /usr/bin/python3 -c "$script" "$lower_box" 2>&1 | quiet)
if [ "$out" = "$native" ]; then
    echo "ok: writable shared mappings, multiprocessing and sqlite WAL as native"
else
    fail "shared mapping script printed:
$out
natively:
$native"
fi
[ "$(cat "$lower_box")" = "lower layer text" ] && echo "ok: the host file under the overlay is unchanged" ||
    fail "the box changed the host file: $(cat "$lower_box")"
rm -f "$lower_native" "$lower_box"

# CPU time comes from the host's accounting of the guest's threads (the box serves only system
# calls, so it cannot count user-mode work itself): process, thread and children's times, through
# every interface, against the same script natively.
script=$(cat <<'PYTHON'
import os, resource, time
def work():
    return sum(i * i for i in range(6000000))
t0, th0 = time.process_time(), time.thread_time()
work()
print('process_time', time.process_time() - t0 > 0.1, 'thread_time', time.thread_time() - th0 > 0.1)
print('clock_gettime', time.clock_gettime(time.CLOCK_PROCESS_CPUTIME_ID) > 0.1, time.clock_gettime(time.CLOCK_THREAD_CPUTIME_ID) > 0.1)
self_usage = resource.getrusage(resource.RUSAGE_SELF)
print('rusage self', self_usage.ru_utime + self_usage.ru_stime > 0.1, 'times', os.times().user > 0.1)
pid = os.fork()
if pid == 0:
    work()
    os._exit(0)
os.waitpid(pid, 0)
children = resource.getrusage(resource.RUSAGE_CHILDREN)
print('children', children.ru_utime + children.ru_stime > 0.1, os.times().children_user > 0.1)
# A child killed by a signal never calls exit_group: its CPU time still counts once it is reaped.
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    work()
    os.write(w, b'x')
    while True:
        pass
os.read(r, 1)
os.kill(pid, 9)
_, status, usage = os.wait4(pid, 0)
after = resource.getrusage(resource.RUSAGE_CHILDREN)
print('killed child', os.WTERMSIG(status), usage.ru_utime + usage.ru_stime > 0.1,
      after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime > 0.1)
PYTHON
)
python_same_as_native "CPU times as native" "$script"

# O_TMPFILE in the box's /tmp (the overlay's upper tmpfs): an unnamed file, named once by
# linkat(fd, "", AT_EMPTY_PATH) (O_EXCL: never), the flag and path errors, and Python's
# TemporaryFile (which uses O_TMPFILE): the same script natively and in the box.
script=$(cat <<'PYTHON'
import ctypes, os, tempfile
libc = ctypes.CDLL(None, use_errno=True)
def flink(fd, path):
    if libc.linkat(fd, b'', -100, path.encode(), 0x1000) != 0:
        raise OSError(ctypes.get_errno(), 'linkat')
d = tempfile.mkdtemp(dir='/tmp')
fd = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o600)
os.write(fd, b'unnamed')
link = os.readlink(f'/proc/self/fd/{fd}')
print('name', link.startswith(d + '/#'), link.endswith(' (deleted)'))
print('nlink', os.fstat(fd).st_nlink, 'listed', os.listdir(d))
flink(fd, os.path.join(d, 'named'))
print('nlink after link', os.fstat(fd).st_nlink, 'listed', os.listdir(d))
print('content', open(os.path.join(d, 'named')).read())
os.unlink(os.path.join(d, 'named'))
for name, target, flags in (('relink', fd, 0), ('excl', os.open(d, os.O_TMPFILE | os.O_RDWR | os.O_EXCL, 0o600), 0)):
    try:
        flink(target, os.path.join(d, name))
        print(name, 'linked')
    except OSError as e:
        print(name, e.errno)
open(os.path.join(d, 'file'), 'w').close()
for name, path, flags in (('read-only', d, os.O_TMPFILE | os.O_RDONLY), ('creat', d, os.O_TMPFILE | os.O_RDWR | os.O_CREAT),
                          ('missing', os.path.join(d, 'missing'), os.O_TMPFILE | os.O_RDWR),
                          ('file', os.path.join(d, 'file'), os.O_TMPFILE | os.O_WRONLY)):
    try:
        os.close(os.open(path, flags, 0o600))
        print(name, 'opened')
    except OSError as e:
        print(name, e.errno)
with tempfile.TemporaryFile(dir=d) as f:  # python uses O_TMPFILE here
    f.write(b'x')
    print('TemporaryFile', f.tell())
os.unlink(os.path.join(d, 'file'))
os.rmdir(d)
PYTHON
)
python_same_as_native "O_TMPFILE and linkat AT_EMPTY_PATH as native" "$script"

# SO_REUSEPORT on the box's loopback: two UDP and two TCP sockets of one user share a port, a
# third without the option gets EADDRINUSE, and exactly one socket of each pair gets the traffic
# (which one is the kernel's hash natively, the first bound in the box).
script=$(cat <<'PYTHON'
import errno, select, socket
S = socket
def pair(kind):
    a = S.socket(S.AF_INET, kind)
    a.setsockopt(S.SOL_SOCKET, S.SO_REUSEPORT, 1)
    a.bind(('127.0.0.1', 0))
    port = a.getsockname()[1]
    b = S.socket(S.AF_INET, kind)
    b.setsockopt(S.SOL_SOCKET, S.SO_REUSEPORT, 1)
    b.bind(('127.0.0.1', port))
    print(kind, 'shared', a.getsockopt(S.SOL_SOCKET, S.SO_REUSEPORT), b.getsockopt(S.SOL_SOCKET, S.SO_REUSEPORT))
    c = S.socket(S.AF_INET, kind)
    try:
        c.bind(('127.0.0.1', port))
        print('third bound')
    except OSError as e:
        print('third', errno.errorcode[e.errno])
    return a, b, port
a, b, port = pair(S.SOCK_DGRAM)
S.socket(S.AF_INET, S.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', port))
ready, _, _ = select.select([a, b], [], [], 5)
print('udp receivers', len(ready))
l1, l2, port = pair(S.SOCK_STREAM)
l1.listen(4)
l2.listen(4)
client = S.create_connection(('127.0.0.1', port))
ready, _, _ = select.select([l1, l2], [], [], 5)
print('tcp acceptors', len(ready))
conn, _ = ready[0].accept()
client.sendall(b'hello')
print(conn.recv(16))
PYTHON
)
python_same_as_native "SO_REUSEPORT as native" "$script"

# A zombie (exited, not yet waited for) still takes a signal: kill and sigqueue succeed and the
# signal is discarded (the box once answered ESRCH, and util-linux script(1) stopped there).
script=$(cat <<'PYTHON'
import ctypes, os, signal, time
pid = os.fork()
if pid == 0:
    os._exit(3)
time.sleep(0.3)
for sig in (0, signal.SIGTERM, signal.SIGKILL):
    try:
        os.kill(pid, sig)
        print('kill', sig, 'ok')
    except OSError as e:
        print('kill', sig, e.errno)
libc = ctypes.CDLL(None, use_errno=True)
print('sigqueue', libc.sigqueue(pid, signal.SIGUSR1, ctypes.c_void_p(7)), ctypes.get_errno())
print('status', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
try:
    os.kill(pid, signal.SIGTERM)
except OSError as e:
    print('after wait', e.errno)
PYTHON
)
python_same_as_native "kill and sigqueue on a zombie as native" "$script"

# pidfd_open, pidfd_send_signal and waitid(P_PIDFD): readable when the process exits, a signal to
# a zombie, ESRCH/ECHILD once it is reaped, a O_NONBLOCK pidfd's EAGAIN, epoll, the errors.
script=$(cat <<'PYTHON'
import errno, os, select, signal, sys, time

def err(f, *a):
    try:
        r = f(*a)
        return 'ok' if r is None else r
    except OSError as e:
        return errno.errorcode[e.errno]

child = os.fork()
if child == 0:
    time.sleep(0.3)
    os._exit(7)
fd = os.pidfd_open(child)
print('cloexec', not os.get_inheritable(fd))
print('readable before exit', bool(select.select([fd], [], [], 0)[0]))
print('read', err(os.read, fd, 8))
p = select.poll(); p.register(fd, select.POLLIN)
print('poll until exit', p.poll(5000) == [(fd, select.POLLIN)])
print('signal to a zombie', err(signal.pidfd_send_signal, fd, signal.SIGTERM))
info = os.waitid(os.P_PIDFD, fd, os.WEXITED)
print('waitid', info.si_code == os.CLD_EXITED, info.si_status, info.si_pid == child)
print('signal after reaping', err(signal.pidfd_send_signal, fd, signal.SIGTERM))
print('waitid after reaping', err(os.waitid, os.P_PIDFD, fd, os.WEXITED))
os.close(fd)

# A signal through a pidfd, a nonblocking pidfd's waitid, epoll.
child = os.fork()
if child == 0:
    signal.pause()
    os._exit(0)
fd = os.pidfd_open(child, os.PIDFD_NONBLOCK if hasattr(os, 'PIDFD_NONBLOCK') else 0o4000)
print('nonblocking waitid', err(os.waitid, os.P_PIDFD, fd, os.WEXITED))
print('WNOHANG waitid', os.waitid(os.P_PIDFD, fd, os.WEXITED | os.WNOHANG))
ep = select.epoll(); ep.register(fd, select.EPOLLIN)
print('epoll before', ep.poll(0))
print('send SIGKILL', err(signal.pidfd_send_signal, fd, signal.SIGKILL))
print('epoll after', ep.poll(5) == [(fd, select.EPOLLIN)])
info = os.waitid(os.P_PIDFD, fd, os.WEXITED)
print('killed', info.si_code == os.CLD_KILLED, info.si_status)
os.close(fd)

# Errors.
print('pidfd_open bad flags', err(os.pidfd_open, os.getpid(), 1))
print('pidfd_open no process', err(os.pidfd_open, 999999))
print('pidfd_open pid 0', err(os.pidfd_open, 0))
print('send_signal to a non-pidfd', err(signal.pidfd_send_signal, 0, 0))
print('send_signal bad fd', err(signal.pidfd_send_signal, 999, 0))
print('send_signal flags', err(signal.pidfd_send_signal, os.pidfd_open(os.getpid()), 0, None, 3))
print('waitid P_PIDFD of a non-child', err(os.waitid, os.P_PIDFD, os.pidfd_open(os.getpid()), os.WEXITED | os.WNOHANG))
# A signal to oneself through a pidfd: the handler runs.
got = []
signal.signal(signal.SIGUSR1, lambda *a: got.append(1))
signal.pidfd_send_signal(os.pidfd_open(os.getpid()), signal.SIGUSR1)
time.sleep(0.05)
print('self signal', got)
PYTHON
)
python_same_as_native "pidfd_open, pidfd_send_signal, waitid P_PIDFD as native" "$script"

# pidfd_send_signal's flags (Linux 6.9; older hosts refuse them, so the box is checked alone):
# PIDFD_SIGNAL_THREAD and PIDFD_SIGNAL_PROCESS_GROUP reach the caller's handler, two flags are EINVAL.
script=$(cat <<'PYTHON'
import errno, os, signal, time
got = []
signal.signal(signal.SIGUSR1, lambda *a: got.append(1))
fd = os.pidfd_open(os.getpid())
for flags in (1, 2, 4, 3):
    try:
        signal.pidfd_send_signal(fd, signal.SIGUSR1, None, flags)
        time.sleep(0.05)
        print(flags, len(got))
    except OSError as e:
        print(flags, errno.errorcode[e.errno])
PYTHON
)
python_box_prints "pidfd_send_signal flags" "$script" "$(printf '1 1\n2 2\n4 3\n3 EINVAL')"

# Scheduling policies (recorded by the box, reported back): sched_setscheduler/getscheduler,
# sched_setparam/getparam, SCHED_RESET_ON_FORK in a forked child, sched_rr_get_interval,
# sched_setattr/getattr through syscall(2), the errors, and util-linux chrt.
script=$(cat <<'PYTHON'
import ctypes, errno, os, struct, subprocess
def err(f, *a):
    try:
        r = f(*a)
        return 'ok' if r is None else r
    except OSError as e:
        return errno.errorcode[e.errno]
print('start', os.sched_getscheduler(0), os.sched_getparam(0).sched_priority)
print('batch', err(os.sched_setscheduler, 0, os.SCHED_BATCH, os.sched_param(0)), os.sched_getscheduler(0))
print('batch prio 1', err(os.sched_setscheduler, 0, os.SCHED_BATCH, os.sched_param(1)))
print('rr 5', err(os.sched_setscheduler, 0, os.SCHED_RR, os.sched_param(5)), os.sched_getscheduler(0), os.sched_getparam(0).sched_priority)
print('interval', os.sched_rr_get_interval(0))
print('setparam 7', err(os.sched_setparam, 0, os.sched_param(7)), os.sched_getparam(0).sched_priority)
print('fifo 100', err(os.sched_setscheduler, 0, os.SCHED_FIFO, os.sched_param(100)))
print('bad policy', err(os.sched_setscheduler, 0, 4, os.sched_param(0)), 'deadline', err(os.sched_setscheduler, 0, 6, os.sched_param(0)))
print('no thread', err(os.sched_getscheduler, 999999), 'negative', err(os.sched_getscheduler, -1))
print('reset', err(os.sched_setscheduler, 0, os.SCHED_FIFO | os.SCHED_RESET_ON_FORK, os.sched_param(3)), hex(os.sched_getscheduler(0)))
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(w, ('%d %d' % (os.sched_getscheduler(0), os.sched_getparam(0).sched_priority)).encode())
    os._exit(0)
os.waitpid(pid, 0)
print('child after reset-on-fork', os.read(r, 50).decode())
libc = ctypes.CDLL(None, use_errno=True)
def setattr_(policy, prio, flags=0, nice=0, size=48):
    buf = struct.pack('IIQiIQQQ', size, policy, flags, nice, prio, 0, 0, 0)
    r = libc.syscall(314, 0, ctypes.c_char_p(buf), 0)
    return r if r == 0 else errno.errorcode[ctypes.get_errno()]
def getattr_(size=48):
    buf = ctypes.create_string_buffer(size)
    r = libc.syscall(315, 0, buf, size, 0)
    if r != 0:
        return errno.errorcode[ctypes.get_errno()]
    return struct.unpack_from('IIQiI', buf.raw)
print('setattr other nice 3', setattr_(0, 0, 0, 3), getattr_(), os.getpriority(os.PRIO_PROCESS, 0))
print('setattr idle', setattr_(5, 0), getattr_()[:2])
print('setattr rr 9', setattr_(2, 9), getattr_()[1::3])
print('setattr bad size', setattr_(0, 0, 0, 0, 20), 'getattr small', getattr_(20))
print('setattr bad flag', setattr_(0, 0, 0x100))
os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
out = subprocess.run(['chrt', '-b', '0', 'sh', '-c', 'chrt -p $$ | sed "s/[0-9]*.s current/X current/"'], capture_output=True, text=True)
print(out.stdout.strip(), out.returncode)
PYTHON
)
python_same_as_native "sched_setscheduler, sched_setattr and chrt as native" "$script"

# kill(-1) and kill(-group) reach only the processes the sender may signal (box only: natively a
# uid-1000 kill(-1) would reach the host's uid-1000 processes): a uid-1000 process's
# kill(-1, SIGKILL) succeeds by killing its own child and leaves root's processes alone.
script=$(cat <<'PYTHON'
import errno, os, signal, time
root_child = os.fork()
if root_child == 0:
    time.sleep(3)
    os._exit(0)
user = os.fork()
if user == 0:
    os.setgid(1000)
    os.setuid(1000)
    mine = os.fork()
    if mine == 0:
        time.sleep(3)
        os._exit(0)
    try:
        os.kill(-1, signal.SIGKILL)
        print('kill -1 ok', flush=True)
    except OSError as e:
        print('kill -1', errno.errorcode[e.errno], flush=True)
    print('own child', os.waitpid(mine, 0)[1] & 0x7f, flush=True)
    os._exit(0)
os.waitpid(user, 0)
print('root child alive', os.waitpid(root_child, os.WNOHANG) == (0, 0))
os.kill(root_child, signal.SIGKILL)
os.waitpid(root_child, 0)
PYTHON
)
python_box_prints "kill(-1) reaches only the processes the sender may signal" "$script" \
    "$(printf 'kill -1 ok\nown child 9\nroot child alive True')"

exit $failures
