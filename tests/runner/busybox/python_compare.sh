# Sourced by compat.sh and pty.sh (after they set `run`): failure counting and
# python_same_as_native, which runs a python3 script natively and in the box and compares.
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
