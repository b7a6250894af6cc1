# inotify through libc (ctypes), printed so that a run in the box and a native run can be compared
# line by line: watch descriptors, masks by name, names, whether move cookies pair up, errnos.
import ctypes, errno, fcntl, os, select, signal, struct, sys, tempfile, termios, time

libc = ctypes.CDLL(None, use_errno=True)
IN = dict(ACCESS=0x1, MODIFY=0x2, ATTRIB=0x4, CLOSE_WRITE=0x8, CLOSE_NOWRITE=0x10, OPEN=0x20, MOVED_FROM=0x40,
          MOVED_TO=0x80, CREATE=0x100, DELETE=0x200, DELETE_SELF=0x400, MOVE_SELF=0x800, UNMOUNT=0x2000,
          Q_OVERFLOW=0x4000, IGNORED=0x8000, ISDIR=0x40000000)
ALL = 0xfff
ONLYDIR, DONT_FOLLOW, EXCL_UNLINK, MASK_CREATE, MASK_ADD, ONESHOT = 0x01000000, 0x02000000, 0x04000000, 0x10000000, 0x20000000, 0x80000000

def call(name, *args):
    r = getattr(libc, name)(*args)
    return r if r >= 0 else errno.errorcode[ctypes.get_errno()]

def init(flags=os.O_NONBLOCK): return call('inotify_init1', flags)
def watch(fd, path, mask): return call('inotify_add_watch', fd, path.encode(), ctypes.c_uint32(mask))
def unwatch(fd, wd): return call('inotify_rm_watch', fd, wd)

def names(mask):
    return '|'.join(n for n, b in IN.items() if mask & b) or hex(mask)

def parse(data):
    out, at, cookies = [], 0, {}
    while at < len(data):
        wd, mask, cookie, ln = struct.unpack_from('iIII', data, at)
        raw = data[at + 16:at + 16 + ln]
        name = raw.rstrip(b'\0').decode()
        pad_ok = raw[len(name):] == b'\0' * (ln - len(name)) and (ln % 16 == 0)
        tag = ''
        if cookie:
            tag = ' cookie#%d' % cookies.setdefault(cookie, len(cookies) + 1)
        out.append('%d %s %s%s%s' % (wd, names(mask), name, tag, '' if pad_ok else ' BADPAD'))
        at += 16 + ln
    return out

def events(fd, size=65536):
    try:
        return parse(os.read(fd, size))
    except OSError as e:
        return [errno.errorcode[e.errno]]

def show(title, fd):
    print('--', title)
    for line in events(fd):
        print('  ', line)

d = tempfile.mkdtemp(dir='/tmp')
os.chdir(d)
print('errors', init(0o4), watch(99, '.', ALL), watch(0 if os.isatty(0) else os.open('/dev/null', 0), '.', ALL))
fd = init()
print('fd link', os.readlink('/proc/self/fd/%d' % fd))
print('flags', fcntl.fcntl(fd, fcntl.F_GETFL) & (os.O_NONBLOCK | os.O_ACCMODE))
print('empty read', events(fd))
with open('pre', 'w') as f:
    f.write('x')
os.mkdir('sub')
os.symlink('pre', 'lnk')
print('add errors', watch(fd, '.', 0), watch(fd, 'missing', ALL), watch(fd, 'pre', ALL | ONLYDIR),
      watch(fd, '.', ALL | MASK_ADD | MASK_CREATE), watch(fd, '.', ALL | 0x08000000), watch(99, '.', 0),
      watch(99, '.', ALL | MASK_ADD | MASK_CREATE), watch(fd, 'missing', 0))
wdir = watch(fd, '.', ALL)
wpre = watch(fd, 'pre', ALL)
wsub = watch(fd, 'sub', ALL)
print('wds', wdir, wpre, wsub, watch(fd, './', ALL), watch(fd, 'lnk', ALL), watch(fd, 'lnk', ALL | DONT_FOLLOW),
      watch(fd, '.', ALL | MASK_CREATE), watch(fd, 'sub', ALL | ONLYDIR))
print('rm lnk watch', unwatch(fd, 4), unwatch(fd, 4), unwatch(fd, 999))
show('rm_watch', fd)

with open('new', 'w') as f:
    f.write('hello\n')
    f.flush()
    f.write('world\n')
show('create and write', fd)
with open('new') as f:
    f.read()
show('read', fd)
with open('new', 'a') as f:
    f.write('more\n')
show('append', fd)
os.chmod('pre', 0o600)
show('chmod', fd)
os.utime('pre', (1, 2))
show('utime', fd)
os.truncate('pre', 0)
show('truncate', fd)
with open('pre', 'r+') as f:
    os.ftruncate(f.fileno(), 3)
    os.fchmod(f.fileno(), 0o644)
show('ftruncate fchmod', fd)
os.link('pre', 'hard')
show('link', fd)
os.unlink('hard')
show('unlink one of two names', fd)
os.rename('new', 'renamed')
show('rename', fd)
os.rename('renamed', 'sub/moved')
show('rename into sub', fd)
os.rename('sub/moved', 'pre')
show('rename over a watched file', fd)
os.mkdir('sub/inner')
os.rmdir('sub/inner')
show('mkdir rmdir in sub', fd)
os.rename('sub', 'sub2')
show('rename a watched directory', fd)
os.listdir('.')
show('listdir', fd)
os.chmod('sub2', 0o700)
os.utime('sub2')
show('chmod utime a watched directory', fd)
with open('pre', 'w') as f:
    pass
show('O_TRUNC open of a watched file', fd)
with open('victim', 'w') as f:
    f.write('v')
wv = watch(fd, 'victim', ALL)
os.unlink('victim')
show('unlink a watched file (wd %d)' % wv, fd)
f = open('held', 'w')
wh = watch(fd, 'held', ALL)
os.unlink('held')
show('unlink a watched open file (wd %d)' % wh, fd)
f.close()
show('close it', fd)
os.rmdir('sub2')
show('rmdir a watched directory', fd)

# Coalescing, one-shot, IN_EXCL_UNLINK.
with open('c', 'w') as f:
    for i in range(5):
        f.write('x'); f.flush()
show('coalesced writes', fd)
fd2 = init()
print('oneshot', watch(fd2, '.', ALL | ONESHOT))
open('o', 'w').close()
show('oneshot', fd2)
print('excl', watch(fd2, '.', ALL | EXCL_UNLINK))
f = open('o', 'w')
os.unlink('o')
f.write('z'); f.flush(); f.close()
show('excl_unlink', fd2)
print()
os.close(fd2)

# read(2) semantics: a buffer too small for one event, partial batches, FIONREAD, select.
for n in ('a', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'):
    open(n, 'w').close()
buf = bytearray(4)
fcntl.ioctl(fd, termios.FIONREAD, buf)
print('fionread', struct.unpack('i', buf)[0])
print('select', select.select([fd], [], [], 0)[0] == [fd])
print('small', events(fd, 16), events(fd, 32 + 16))
show('rest', fd)
print('select empty', select.select([fd], [], [], 0)[0])

# A blocking read wakes up when another process changes the directory, and a signal interrupts it.
bfd = init(0)
watch(bfd, '.', IN['CREATE'])
pid = os.fork()
if pid == 0:
    time.sleep(0.3)
    open('from-child', 'w').close()
    os._exit(0)
t0 = time.time()
print('blocking', parse(os.read(bfd, 4096)))
os.waitpid(pid, 0)
class Alarm(Exception): pass
def on_alarm(signo, frame): raise Alarm()
signal.signal(signal.SIGALRM, on_alarm)
signal.setitimer(signal.ITIMER_REAL, 0.2)
try:
    os.read(bfd, 4096)
    print('not interrupted')
except Alarm:
    print('interrupted')
os.close(bfd)
show('the child and the blocking reader', fd)
print('flags only', watch(fd, '.', ONLYDIR))
open('quiet', 'w').close()
print('quiet', events(fd))
os.close(fd)
for n in os.listdir('.'):
    os.unlink(n)
os.chdir('/')
os.rmdir(d)
print('done')
