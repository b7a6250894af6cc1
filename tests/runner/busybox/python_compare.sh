# Sourced by compat.sh and pty.sh (after they set `run`): failure counting and
# python_same_as_native, which runs a python3 script natively and in the box and compares, and
# python_box_prints, for a script that only the box may run.
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
quiet() { grep -v '^litebox shim: '; }
# Runs python3 script $2 natively and in the box: "ok: $1" when both print the same.
python_same_as_native() {
    native=$(/usr/bin/python3 -c "$2" 2>&1)
    out=$("$run" --rootfs-dir / -- /usr/bin/python3 -c "$2" 2>&1 | quiet)
    if [ "$out" = "$native" ]; then
        echo "ok: $1"
    else
        fail "$1: the box printed:
$out
natively:
$native"
    fi
}
# Runs python3 script $2 in the box only: "ok: $1" when it prints exactly $3.
python_box_prints() {
    out=$("$run" --rootfs-dir / -- /usr/bin/python3 -c "$2" 2>&1 | quiet)
    if [ "$out" = "$3" ]; then
        echo "ok: $1"
    else
        fail "$1: the box printed:
$out
expected:
$3"
    fi
}
