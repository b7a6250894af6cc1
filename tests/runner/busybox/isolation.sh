#!/bin/sh
# What litebox-run must keep from the host, checked from outside: box writes stay in the box,
# host files and processes are out of reach, paths cannot climb out of the box's root.
# Usage: isolation.sh LITEBOX_RUN
set -u
run=$1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

probe=/tmp/litebox-isolation-probe-$$
rm -f "$probe"
out=$("$run" -- sh -c "echo inside > $probe && cat $probe" 2>/dev/null)
[ "$out" = inside ] && pass "the guest writes and reads $probe" || fail "guest write/read of $probe: '$out'"
[ ! -e "$probe" ] && pass "the host's /tmp is untouched" || { fail "the box's write reached the host's $probe"; rm -f "$probe"; }

echo secret > "/tmp/litebox-host-only-$$"
"$run" -- cat "/tmp/litebox-host-only-$$" > /dev/null 2>&1 && fail "the guest read a host file in /tmp" || pass "host files are not visible"
rm -f "/tmp/litebox-host-only-$$"

"$run" -- cat /etc/shadow > /dev/null 2>&1 && fail "cat /etc/shadow succeeded" || pass "/etc/shadow is absent from the default image"

out=$("$run" -- sh -c 'cd /; cd ../../..; pwd; ls /../../.. | wc -l; ls / | wc -l' 2>/dev/null | tr '\n' ' ')
set -- $out
[ "${1:-}" = / ] && [ "${2:-x}" = "${3:-y}" ] && pass "'..' stops at the box's root" || fail "'..' climbed: $out"

out=$("$run" -- sh -c 'ln -s /../../../../../etc/passwd /tmp/l && cat /tmp/l' 2>/dev/null)
expected=$(printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false')
[ "$out" = "$expected" ] && pass "an absolute symlink resolves inside the box" || fail "symlink resolved to: $out"

sleep 30 &
host_pid=$!
"$run" -- kill -9 "$host_pid" > /dev/null 2>&1 && fail "the guest's kill of host pid $host_pid succeeded" || true
kill -0 "$host_pid" 2> /dev/null && pass "a host process cannot be signalled from the box" || fail "host process $host_pid died"
kill "$host_pid" 2> /dev/null
wait "$host_pid" 2> /dev/null

out=$(echo through-stdin | "$run" -- cat 2>/dev/null)
[ "$out" = through-stdin ] && pass "standard input reaches the guest" || fail "stdin: '$out'"

"$run" -- sh -c 'kill -9 $$' > /dev/null 2>&1
status=$?
[ "$status" = 137 ] && pass "a guest killed by SIGKILL exits 137" || fail "SIGKILL exit status $status"

out=$("$run" --hostname inside-box -- hostname 2>/dev/null)
[ "$out" = inside-box ] && pass "--hostname" || fail "hostname: '$out'"
out=$("$run" -- uname -r 2>/dev/null)
[ "$out" != "$(uname -r)" ] && pass "uname shows the box's release ($out), not the host's" || fail "uname -r shows the host's release"

out=$("$run" --uid 1000 --gid 1000 -- sh -c 'id -u; touch /root/x' 2>&1 | tr '\n' ' ')
case "$out" in
    "1000 touch: /root/x: Permission denied "*) pass "an unprivileged guest is refused by box permissions" ;;
    *) fail "unprivileged guest: '$out'" ;;
esac

out=$("$run" -- sh -c 'sleep 1 & ls /proc | grep -c "^[0-9]"; ps -o pid | tail -n +2 | wc -l' 2>/dev/null | tr '\n' ' ')
set -- $out
# The box has the shell, sleep and the pipeline's few processes; the host has many more.
[ "${1:-99}" -le 8 ] && [ "${2:-99}" -le 8 ] && pass "/proc and ps show only the box's processes ($out)" || fail "/proc shows: $out"

host_dir=$(mktemp -d)
echo "from the host" > "$host_dir/in.txt"
out=$("$run" --mount "$host_dir:/data" -- sh -c 'cat /data/in.txt; echo new > /data/out.txt; cat /data/out.txt' 2>/dev/null | tr '\n' ' ')
[ "$out" = "from the host new " ] && [ ! -e "$host_dir/out.txt" ] && pass "--mount (read-only) shows the host directory; writes stay in memory" ||
    fail "--mount ro: '$out', host: $(ls "$host_dir")"
"$run" --mount "$host_dir:/data:rw" -- sh -c 'echo kept > /data/kept.txt' > /dev/null 2>&1
[ "$(cat "$host_dir/kept.txt" 2>/dev/null)" = kept ] && pass "--mount HOST:GUEST:rw writes reach the host directory" || fail "--mount rw did not write"
# An open file outlives its name, as on Linux: written and read after rm, the host file gone.
out=$("$run" --mount "$host_dir:/data:rw" -- sh -c 'exec 3<>/data/temp 4</data/temp; rm /data/temp; echo held >&3; cat <&4; echo >/data/temp new; cat <&4; cat /data/temp' 2>&1 | tr '\n' ' ')
[ "$out" = "held new " ] && [ "$(cat "$host_dir/temp" 2>/dev/null)" = new ] && pass "--mount rw: an unlinked open file is still written and read" ||
    fail "--mount rw, unlinked open file: '$out'"
"$run" --mount "$host_dir:/data:rw" -- sh -c 'ln -s / /data/up; cat /data/up/etc/passwd' > /dev/null 2>&1
out=$("$run" --mount "$host_dir:/data" -- cat /data/up/etc/shadow 2>&1)
case "$out" in
    *root:*) fail "a symlink in a mounted host directory reached the host's /etc/shadow" ;;
    *) pass "a symlink planted in a host directory resolves inside the box" ;;
esac
rm -rf "$host_dir"
out=$("$run" --tmpfs /scratch:10000 -- sh -c 'head -c 50000 /dev/zero > /scratch/big; echo status $?' 2>/dev/null)
[ "$out" = "status 1" ] && pass "--tmpfs GUEST:SIZE enforces its size" || fail "--tmpfs size: '$out'"
out=$("$run" --tmpfs /scratch:2M -- sh -c 'stat -f -c "%S %b" /scratch' 2>/dev/null)
[ "$out" = "4096 512" ] && pass "--tmpfs GUEST:2M is 2 MiB (statfs)" || fail "--tmpfs 2M: statfs says '$out'"
"$run" --tmpfs /scratch:2Q -- true > /dev/null 2>&1 && fail "--tmpfs GUEST:2Q was accepted" || pass "--tmpfs rejects an unknown size suffix"

out=$("$run" --limits processes=3 -- sh -c 'for i in 1 2 3 4 5; do sleep 1 & done; echo spawned' 2>&1)
case "$out" in
    *"can't fork: Resource temporarily unavailable"*) pass "--limits processes=3 makes the fourth fork fail with EAGAIN" ;;
    *) fail "--limits processes: '$out'" ;;
esac
out=$("$run" --limits files=20 -- sh -c 'ulimit -n' 2>/dev/null)
[ "$out" = 20 ] && pass "--limits files=20 is the guest's RLIMIT_NOFILE" || fail "--limits files: '$out'"
# The address-space limit binds every process (the host kernel enforces it) and box root cannot lift it.
out=$("$run" --limits memory=64M -- sh -c 'ulimit -v; dd if=/dev/zero of=/dev/null bs=96M count=1 2>&1; echo "dd $?"
    dd if=/dev/zero of=/dev/null bs=8M count=1 2>/dev/null; echo "small dd $?"; ulimit -v unlimited 2>/dev/null; echo "raise $?"' 2>&1)
expected="65536
dd: out of memory
dd 1
small dd 0
raise 1"
[ "$out" = "$expected" ] && pass "--limits memory=64M bounds each process's address space" || fail "--limits memory: '$out'"

[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
