#!/bin/sh
# System V semaphores and message queues under litebox-run with the host root visible read-only
# (--rootfs-dir /): sysv_ipc.py (python3 calling glibc through ctypes: all-or-nothing semop,
# IPC_NOWAIT, semtimedop's timeout, SETALL/GETALL, SEM_UNDO undone at exit, a waiter woken by
# another process and counted by GETNCNT, EIDRM on removal, EINTR under SA_RESTART; msgrcv's type
# rules, MSG_NOERROR, E2BIG, a blocked receiver and a blocked sender, IPC_STAT) must print the same
# in the box as natively; util-linux ipcmk, ipcs and ipcrm work in the box; --limits msg-queues
# and sem-sets bound the box's objects.
# Usage: sysv_ipc.sh LITEBOX_RUN
set -u
run=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/python_compare.sh"

python_file_same_as_native "System V semaphores and message queues as native" "$here/sysv_ipc.py"

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

# The box's limits: --limits msg-queues=1 leaves room for one queue (then ENOSPC).
out=$("$run" --rootfs-dir / --tmpfs /tmp --limits msg-queues=1,sem-sets=1 -- /bin/sh -c \
    'ipcmk -Q >/dev/null && ipcmk -Q; ipcmk -S 1 >/dev/null && ipcmk -S 1' 2>&1 | quiet)
case "$out" in
    *"No space left on device"*"No space left on device"*) echo "ok: --limits msg-queues=1,sem-sets=1: the second is ENOSPC" ;;
    *) fail "--limits msg-queues/sem-sets printed: $out" ;;
esac

exit $failures
