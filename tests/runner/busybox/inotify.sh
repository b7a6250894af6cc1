#!/bin/sh
# inotify under litebox-run with the host root visible read-only (--rootfs-dir /) and a box tmpfs
# on /tmp: inotify.py (python3 calling libc's inotify_* through ctypes: the events of creating,
# writing, reading, chmod, utime, truncate, link, unlink, rename, mkdir/rmdir, deleting watched
# objects, coalescing, one-shot and IN_EXCL_UNLINK watches, read(2) sizes, FIONREAD, select, a
# blocking read woken by another process and one interrupted by a signal) must print the same in
# the box as natively; and GNU tail -f follows a file through inotify (no "reverting to polling"
# warning, and with -s 30 an appended line shows up long before a poll would look).
# Usage: inotify.sh LITEBOX_RUN
set -u
run=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/python_compare.sh"

python_file_same_as_native "inotify events as native" "$here/inotify.py"

if [ -x /usr/bin/tail ]; then
    out=$("$run" --rootfs-dir / --tmpfs /tmp -- /bin/sh -c \
        'echo first > /tmp/f; tail -s 30 -f /tmp/f & sleep 1; echo second >> /tmp/f; sleep 1; kill $!' 2>&1 | quiet)
    expected=$(printf 'first\nsecond')
    if [ "$out" = "$expected" ]; then
        echo "ok: tail -f follows through inotify"
    else
        fail "tail -f printed:
$out"
    fi
fi

exit $failures
