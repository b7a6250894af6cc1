# System V shared memory through glibc (ctypes), run natively and under litebox-run by
# sysv_ipc.sh: the two outputs must be the same.
import ctypes, errno, functools, mmap, os, struct

print = functools.partial(print, flush=True)  # the children fork with an empty buffer

libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmat.restype = ctypes.c_void_p
libc.shmdt.argtypes = [ctypes.c_void_p]
libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.mmap.restype = ctypes.c_void_p
IPC_PRIVATE, IPC_CREAT, IPC_EXCL, IPC_RMID, IPC_SET, IPC_STAT = 0, 0o1000, 0o2000, 0, 1, 2
SHM_RDONLY, SHM_RND, SHM_REMAP = 0o10000, 0o20000, 0o40000
SHM_DEST = 0o1000
FAILED = ctypes.c_void_p(-1).value
PAGE = 4096


def e(r):
    return r if r >= 0 else errno.errorcode[ctypes.get_errno()]


def attach(sid, address=None, flags=0):
    got = libc.shmat(sid, address, flags)
    return errno.errorcode[ctypes.get_errno()] if got == FAILED else got


def detach(address):
    return e(libc.shmdt(address))


def stat(sid):
    buf = ctypes.create_string_buffer(112)
    if libc.shmctl(sid, IPC_STAT, buf) != 0:
        return errno.errorcode[ctypes.get_errno()]
    key, uid, gid, cuid, cgid, mode = struct.unpack_from('iIIIIH', buf, 0)
    segsz, atime, dtime, ctime, cpid, lpid, nattch = struct.unpack_from('QqqqiiQ', buf, 48)
    return dict(key=key, mode=oct(mode), size=segsz, cpid=cpid == os.getpid(), lpid=lpid, nattch=nattch,
                attached=atime != 0, detached=dtime != 0)


sid = libc.shmget(IPC_PRIVATE, 10000, 0o600)
print('shmget', sid >= 0)
print('fresh', stat(sid))
a = attach(sid)
print('attached', isinstance(a, int), a % PAGE if isinstance(a, int) else a)
ctypes.memmove(a, b'hello', 5)
print('read back', ctypes.string_at(a, 5), 'zeros after', ctypes.string_at(a + 9995, 5))
s = stat(sid)
print('after attach', s['nattch'], s['lpid'] == os.getpid(), s['attached'], s['detached'])

# A child inherits the attachment (nattch 2 while it lives) and writes through it.
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    ctypes.memmove(a, b'child', 5)
    os.write(w, str(stat(sid)['nattch']).encode())
    os._exit(0)
os.close(w)
print('in the child', os.read(r, 16).decode())
os.waitpid(pid, 0)
os.close(r)
print('parent sees', ctypes.string_at(a, 5), 'nattch', stat(sid)['nattch'])

# A second process attaches by key; both see one memory.
key = 0x4c420000 + (os.getpid() & 0xffff)
kid = libc.shmget(key, 8192, IPC_CREAT | 0o600)
print('by key', kid >= 0, 'again', e(libc.shmget(key, 4096, 0)) == kid, 'bigger', e(libc.shmget(key, 9000, 0)),
      'excl', e(libc.shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0o600)), 'none', e(libc.shmget(key + 1, 4096, 0)))
pid = os.fork()
if pid == 0:
    b = attach(libc.shmget(key, 0, 0))
    ctypes.memmove(b + 100, b'from the child', 14)
    print('child nattch', stat(kid)['nattch'], 'detach', detach(b), 'again', detach(b))
    os._exit(0)
os.waitpid(pid, 0)
k = attach(kid)
print('key segment', ctypes.string_at(k + 100, 14), stat(kid)['nattch'])

# Read-only attachments cannot be made writable.
ro = attach(sid, None, SHM_RDONLY)
print('read-only', ctypes.string_at(ro, 5), 'mprotect', e(libc.mprotect(ro, PAGE, 3)), 'nattch', stat(sid)['nattch'])
print('detach ro', detach(ro), stat(sid)['nattch'])

# An address: refused over a mapping unless SHM_REMAP; rounded with SHM_RND; page-aligned only.
spot = libc.mmap(None, 4 * PAGE, 3, 0x22, -1, 0)
print('over a mapping', attach(sid, spot), 'unaligned', attach(sid, spot + 1))
at = attach(sid, spot, SHM_REMAP)
print('remap', at == spot, ctypes.string_at(at, 5))
print('detach remapped', detach(spot), 'rnd', attach(sid, spot + 5, SHM_RND | SHM_REMAP) == spot, detach(spot))
print('not attached', detach(spot), 'unaligned', detach(a + 1))

# A split by mprotect is two attachments, as on Linux; shmdt takes both pieces.
libc.mprotect(a, PAGE, 1)
print('split', stat(sid)['nattch'], 'detach', detach(a), stat(sid)['nattch'])

# IPC_RMID while attached: SHM_DEST, a private key, still there until the last detach.
print('remove', e(libc.shmctl(kid, IPC_RMID, None)))
s = stat(kid)
print('destroyed', s['key'], int(s['mode'], 8) & SHM_DEST != 0, s['nattch'], 'by key', e(libc.shmget(key, 0, 0)))
again = attach(kid)
print('attach a removed one', isinstance(again, int), stat(kid)['nattch'])
print('detach', detach(again), detach(k), 'gone', stat(kid))

# IPC_SET, then removal without attachments: gone at once.
buf = ctypes.create_string_buffer(112)
libc.shmctl(sid, IPC_STAT, buf)
struct.pack_into('H', buf, 20, 0o640)
print('set', e(libc.shmctl(sid, IPC_SET, buf)), stat(sid)['mode'])
print('remove', e(libc.shmctl(sid, IPC_RMID, None)), stat(sid), 'attach', attach(sid))
print('bad size', e(libc.shmget(IPC_PRIVATE, 0, 0o600)), 'bad command', e(libc.shmctl(0, 99, None)))
