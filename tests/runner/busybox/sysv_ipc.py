# System V semaphores and message queues through glibc (ctypes), run natively and under
# litebox-run by sysv_ipc.sh: the two outputs must be the same.
import ctypes, errno, functools, os, signal, struct, time

print = functools.partial(print, flush=True)  # the children fork with an empty buffer

libc = ctypes.CDLL(None, use_errno=True)
libc.msgrcv.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long, ctypes.c_int]
libc.msgrcv.restype = ctypes.c_ssize_t
IPC_PRIVATE, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT = 0, 0o4000, 0, 1, 2
GETPID, GETVAL, GETALL, GETNCNT, GETZCNT, SETVAL, SETALL = 11, 12, 13, 14, 15, 16, 17
SEM_UNDO, MSG_NOERROR, MSG_EXCEPT = 0x1000, 0o10000, 0o20000


def e(r):
    return r if r >= 0 else errno.errorcode[ctypes.get_errno()]


def semop(sid, *ops, timeout=None):
    buf = b''.join(struct.pack('Hhh', n, op, flags) for n, op, flags in ops)
    if timeout is None:
        return e(libc.semop(sid, buf, len(ops)))
    ts = struct.pack('qq', int(timeout), int(round((timeout % 1) * 1e9)))
    return e(libc.semtimedop(sid, buf, len(ops), ts))


def wait_for(check):
    for _ in range(500):
        if check():
            return True
        time.sleep(0.01)
    return False


sid = libc.semget(IPC_PRIVATE, 2, 0o600)
print('semget', sid >= 0)
print('setval', e(libc.semctl(sid, 0, SETVAL, 1)), e(libc.semctl(sid, 0, GETVAL)), e(libc.semctl(sid, 0, GETPID)) == os.getpid())
print('nowait', semop(sid, (0, -2, IPC_NOWAIT)))
print('all or nothing', semop(sid, (0, -1, 0), (1, -1, IPC_NOWAIT)), e(libc.semctl(sid, 0, GETVAL)))
print('timed out', semop(sid, (1, -1, 0), timeout=0.05))
print('range', semop(sid, (0, 32767, 0)), 'fbig', semop(sid, (5, 1, 0)), 'none', semop(sid))
values = (ctypes.c_ushort * 2)(4, 6)
print('setall', e(libc.semctl(sid, 0, SETALL, values)))
got = (ctypes.c_ushort * 2)()
print('getall', e(libc.semctl(sid, 0, GETALL, got)), list(got))
pid = os.fork()
if pid == 0:
    semop(sid, (0, -3, SEM_UNDO), (1, 2, SEM_UNDO))
    os._exit(0)
os.waitpid(pid, 0)
print('undone at exit', e(libc.semctl(sid, 0, GETVAL)), e(libc.semctl(sid, 1, GETVAL)))
libc.semctl(sid, 1, SETVAL, 0)
pid = os.fork()
if pid == 0:
    print('child semop', semop(sid, (1, -1, 0)), flush=True)
    os._exit(0)
print('waiting', wait_for(lambda: libc.semctl(sid, 1, GETNCNT) == 1), libc.semctl(sid, 1, GETNCNT))
posted = semop(sid, (1, 1, 0))
os.waitpid(pid, 0)  # the child prints first: the order is the same natively and in the box
print('post', posted)
pid = os.fork()
if pid == 0:
    print('child wait for zero', semop(sid, (0, 0, 0)), flush=True)
    os._exit(0)
print('zero waiting', wait_for(lambda: libc.semctl(sid, 0, GETZCNT) == 1))
# A signal ends a wait with EINTR even under SA_RESTART (Linux never restarts these calls).
signal.signal(signal.SIGALRM, lambda *args: None)
signal.siginterrupt(signal.SIGALRM, False)
signal.setitimer(signal.ITIMER_REAL, 0.1)
print('interrupted', semop(sid, (1, -1, 0)), libc.semctl(sid, 1, GETNCNT))
ds = ctypes.create_string_buffer(104)
print('stat', e(libc.semctl(sid, 0, IPC_STAT, ds)), struct.unpack_from('iIIIIH', ds.raw)[5], struct.unpack_from('Q', ds.raw, 80)[0])
removed = e(libc.semctl(sid, 0, IPC_RMID))
os.waitpid(pid, 0)
print('rmid', removed)
print('stale', e(libc.semctl(sid, 0, GETVAL)))

qid = libc.msgget(IPC_PRIVATE, 0o600)
print('msgget', qid >= 0)


def send(mtype, text, flags=0):
    return e(libc.msgsnd(qid, struct.pack('q', mtype) + text, len(text), flags))


def recv(mtype, size=64, flags=IPC_NOWAIT):
    buf = ctypes.create_string_buffer(8 + size)
    n = libc.msgrcv(qid, buf, size, mtype, flags)
    if n < 0:
        return errno.errorcode[ctypes.get_errno()]
    return struct.unpack_from('q', buf.raw)[0], buf.raw[8:8 + n].decode()


print('send', [send(t, s) for t, s in ((3, b'three'), (1, b'one'), (2, b'two'), (1, b'uno'))], send(0, b'x'))
print('type 2', recv(2), 'except 3', recv(3, flags=IPC_NOWAIT | MSG_EXCEPT), 'lowest', recv(-5), 'none', recv(9))
print('too big', recv(0, 2), 'truncated', recv(0, 2, IPC_NOWAIT | MSG_NOERROR), 'empty', recv(0))
pid = os.fork()
if pid == 0:
    print('child received', recv(7, flags=0), flush=True)
    os._exit(0)
time.sleep(0.1)
late = send(7, b'late')
os.waitpid(pid, 0)
print('late send', late)
big = b'b' * 8192
print('fill', send(1, big), send(1, big), 'full', send(1, b'x', IPC_NOWAIT))
pid = os.fork()
if pid == 0:
    print('child send', send(2, b'waited'), flush=True)
    os._exit(0)
time.sleep(0.1)
drained = recv(1, 8192)[0]
os.waitpid(pid, 0)
print('drain', drained)
signal.setitimer(signal.ITIMER_REAL, 0.1)
print('interrupted', recv(99, flags=0))
mds = ctypes.create_string_buffer(120)
print('msg stat', e(libc.msgctl(qid, IPC_STAT, mds)), struct.unpack_from('QQQ', mds.raw, 72))
print('rmid', e(libc.msgctl(qid, IPC_RMID, None)), 'stale', e(libc.msgctl(qid, IPC_STAT, mds)))
