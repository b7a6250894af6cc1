#!/bin/sh
# signalfd under litebox-run with the host root visible read-only (--rootfs-dir /): signalfd.py
# (python3 calling libc's signalfd through ctypes: reads, short buffers, several signals in one
# read, sigqueue's value, a new mask, a blocking read woken by another process, epoll, poll for
# SIGCHLD, a child that reads only its own signals, F_SETFL, a handler interrupting a blocking
# read, a descriptor kept across exec) must print the same in the box as natively; util-linux
# script(1), which waits for its child through a signalfd, runs a command; and the box's
# signalfd limit (--limits signalfds=N) gives EMFILE.
# Usage: signalfd.sh LITEBOX_RUN
set -u
run=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/python_compare.sh"

python_file_same_as_native "signalfd as native" "$here/signalfd.py"

if [ -x /usr/bin/script ]; then
    out=$("$run" --rootfs-dir / --tmpfs /tmp -- /usr/bin/script -q -e -c 'echo inside; exit 3' /dev/null </dev/null 2>&1 | tr -d '\r' | quiet)
    if [ "$out" = "inside" ]; then
        echo "ok: script(1) runs a command on a pseudo-terminal"
    else
        fail "script printed:
$out"
    fi
fi

limit='import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
mask = (ctypes.c_ulong * 16)(1 << 9)
fds = [libc.signalfd(-1, mask, 0) for _ in range(3)]
print(fds[2], errno.errorcode[ctypes.get_errno()])'
out=$("$run" --rootfs-dir / --limits signalfds=2 -- /usr/bin/python3 -c "$limit" 2>&1 | quiet)
if [ "$out" = "-1 EMFILE" ]; then
    echo "ok: --limits signalfds=2: the third signalfd is EMFILE"
else
    fail "signalfd limit: $out"
fi

exit $failures
