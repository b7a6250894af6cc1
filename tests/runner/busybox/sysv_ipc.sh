#!/bin/sh
# System V semaphores and message queues under litebox-run with the host root visible read-only
# (--rootfs-dir /): sysv_ipc.py (python3 calling glibc through ctypes: all-or-nothing semop,
# IPC_NOWAIT, semtimedop's timeout, SETALL/GETALL, SEM_UNDO undone at exit, a waiter woken by
# another process and counted by GETNCNT, EIDRM on removal, EINTR under SA_RESTART; msgrcv's type
# rules, MSG_NOERROR, E2BIG, a blocked receiver and a blocked sender, IPC_STAT) and sysv_shm.py
# (shared memory: attach, a child's inherited attachment and its writes, attaching by key in
# another process, shm_nattch through fork, exit, an mprotect split and shmdt, SHM_RDONLY against
# mprotect, SHM_REMAP/SHM_RND and EINVAL over a mapping, IPC_RMID while attached) must print the
# same in the box as natively; util-linux ipcmk, ipcs and ipcrm work in the box, and a segment
# shows in /proc/self/maps as on Linux; --limits msg-queues, sem-sets and shm-segments bound the
# box's objects.
# Usage: sysv_ipc.sh LITEBOX_RUN
set -u
run=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/python_compare.sh"

python_file_same_as_native "System V semaphores and message queues as native" "$here/sysv_ipc.py"
python_file_same_as_native "System V shared memory as native" "$here/sysv_shm.py"

# The box's IPC namespace starts empty, so the ids are Linux's first ones.
out=$("$run" --rootfs-dir / --tmpfs /tmp -- /bin/sh -c \
    'ipcmk -Q; ipcmk -S 3 -p 0640; ipcs -s | grep -c " 640 "; ipcrm -q 0 && ipcs -q | grep -c "^0x"; ipcrm -s 0 && ipcs -s | grep -c "^0x"' 2>&1 | quiet)
expected="Message queue id: 0
Semaphore id: 0
1
0
0"
if [ "$out" = "$expected" ]; then
    echo "ok: ipcmk, ipcs and ipcrm"
else
    fail "ipcmk/ipcs/ipcrm printed:
$out"
fi

# Shared memory with util-linux, and a segment's name in the process's map (Linux: /SYSV + key).
out=$("$run" --rootfs-dir / --tmpfs /tmp -- /bin/sh -c \
    'ipcmk -M 8192 -p 0640; ipcs -m | grep -c " 640 .* 8192 "; ipcs -m -l | grep -c "max number of segments = 128"; ipcrm -m 0 && ipcs -m | grep -c "^0x";
     python3 -c "import ctypes; c = ctypes.CDLL(None); c.shmat.restype = ctypes.c_void_p; c.shmat(c.shmget(0x1234, 5000, 0o1600), None, 0); print(sum(\"/SYSV00001234 (deleted)\" in l and \" rw-s 00000000 \" in l for l in open(\"/proc/self/maps\")))"' 2>&1 | quiet)
expected="Shared memory id: 0
1
1
0
1"
if [ "$out" = "$expected" ]; then
    echo "ok: ipcmk -M, ipcs -m, ipcrm -m; the segment in /proc/self/maps"
else
    fail "shared memory with ipcmk/ipcs/ipcrm printed:
$out"
fi

# The box's limits: --limits msg-queues=1 leaves room for one queue (then ENOSPC).
out=$("$run" --rootfs-dir / --tmpfs /tmp --limits msg-queues=1,sem-sets=1,shm-segments=1 -- /bin/sh -c \
    'ipcmk -Q >/dev/null && ipcmk -Q; ipcmk -S 1 >/dev/null && ipcmk -S 1; ipcmk -M 1 >/dev/null && ipcmk -M 1' 2>&1 | quiet)
case "$out" in
    *"No space left on device"*"No space left on device"*"No space left on device"*)
        echo "ok: --limits msg-queues=1,sem-sets=1,shm-segments=1: the second is ENOSPC" ;;
    *) fail "--limits msg-queues/sem-sets/shm-segments printed: $out" ;;
esac

exit $failures
