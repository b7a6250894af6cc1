#!/bin/sh
# Debian programs under litebox-run with the host root visible read-only (--rootfs-dir /, an
# in-memory overlay on top): coreutils nice (getpriority/setpriority), python3's extended
# attributes (os.setxattr/getxattr/listxattr, shutil.copy2 and copytree copying them) and flock
# next to lockf (independent lock tables, as on Linux; a blocked flock waits for the holder; a
# blocked lockf is interrupted by a signal, and dup2 over a descriptor of the file releases it),
# and memfd_create, file seals, splice and tee and CLONE_FILES unsharing against the same python3
# script run natively.
# Usage: compat.sh LITEBOX_RUN
set -u
run=$1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
quiet() { grep -v '^litebox shim: '; }

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
native=$(/usr/bin/python3 -c "$script" 2>&1)
out=$("$run" --rootfs-dir / -- /usr/bin/python3 -c "$script" 2>&1 | quiet)
if [ "$out" = "$native" ]; then
    echo "ok: memfd, seals, splice, tee, CLONE_FILES unshare as native"
else
    fail "memfd script printed:
$out
natively:
$native"
fi

exit $failures
