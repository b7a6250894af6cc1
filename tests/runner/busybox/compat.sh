#!/bin/sh
# Debian programs under litebox-run with the host root visible read-only (--rootfs-dir /, an
# in-memory overlay on top): coreutils nice (getpriority/setpriority), python3's extended
# attributes (os.setxattr/getxattr/listxattr, shutil.copy2 and copytree copying them) and flock
# next to lockf (independent lock tables, as on Linux; a blocked flock waits for the holder; a
# blocked lockf is interrupted by a signal, and dup2 over a descriptor of the file releases it).
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

exit $failures
