# Sourced by compat.sh, pty.sh, inotify.sh, signalfd.sh and sysv_ipc.sh (after they set `run`): failure
# counting and python_same_as_native (and python_file_same_as_native, for a script file), which
# run a python3 script natively and in the box and compare, and python_box_prints, for a script
# that only the box may run.
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
quiet() { grep -v '^litebox shim: '; }
# "ok: $1" when the box printed $2 and $3 was expected, else a failure showing both ($4 names
# where $3 comes from: "natively" or "expected").
same_or_fail() {
    if [ "$2" = "$3" ]; then
        echo "ok: $1"
    else
        fail "$1: the box printed:
$2
$4:
$3"
    fi
}
# Runs python3 script $2 natively and in the box: "ok: $1" when both print the same.
python_same_as_native() {
    native=$(/usr/bin/python3 -c "$2" 2>&1)
    out=$("$run" --rootfs-dir / -- /usr/bin/python3 -c "$2" 2>&1 | quiet)
    same_or_fail "$1" "$out" "$native" natively
}
# Runs python3 script file $2 natively (from /) and in the box (fed on stdin: the box cannot see a
# source tree under a --tmpfs): "ok: $1" when both print the same.
python_file_same_as_native() {
    native=$(cd / && env -u PYTHONUNBUFFERED /usr/bin/python3 - <"$2" 2>&1)
    out=$("$run" --rootfs-dir / --tmpfs /tmp -- /usr/bin/python3 - <"$2" 2>&1 | quiet)
    same_or_fail "$1" "$out" "$native" natively
}
# Runs python3 script $2 in the box only: "ok: $1" when it prints exactly $3.
python_box_prints() {
    out=$("$run" --rootfs-dir / -- /usr/bin/python3 -c "$2" 2>&1 | quiet)
    same_or_fail "$1" "$out" "$3" expected
}
