#!/bin/sh
# Signal timers under litebox-run with the host's root visible read-only (--rootfs-dir /):
# coreutils `timeout` (timer_create + SIGALRM, then kill of its child) and python3's
# signal.setitimer / signal.alarm, whose handlers must run while the interpreter computes.
# Margins are wide: the machine running the tests may be loaded.
# Usage: timers.sh LITEBOX_RUN
set -u
run=$1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# The host's timeout bounds each run, so a runner whose timers never fire fails instead of hanging.
guard="timeout -s KILL 30"

start=$(now_ms)
$guard "$run" --rootfs-dir / -- /usr/bin/timeout 1 /usr/bin/sleep 5 2>/dev/null
status=$?
elapsed=$(( $(now_ms) - start ))
if [ "$status" = 124 ] && [ "$elapsed" -lt 4000 ]; then
    echo "ok: timeout 1 sleep 5 exits 124 after ${elapsed} ms"
else
    fail "timeout 1 sleep 5: status $status after ${elapsed} ms (expected 124, well under 5 s)"
fi

# The timed-out child is a busy loop (no system call to interrupt): timeout's SIGTERM must reach it.
start=$(now_ms)
$guard "$run" --rootfs-dir / -- /usr/bin/timeout 1 /bin/sh -c 'while :; do :; done' 2>/dev/null
status=$?
elapsed=$(( $(now_ms) - start ))
if [ "$status" = 124 ] && [ "$elapsed" -lt 4000 ]; then
    echo "ok: timeout 1 of a busy shell loop exits 124 after ${elapsed} ms"
else
    fail "timeout 1 busy loop: status $status after ${elapsed} ms"
fi

$guard "$run" --rootfs-dir / -- /usr/bin/timeout 5 /usr/bin/true 2>/dev/null
status=$?
[ "$status" = 0 ] && echo "ok: timeout 5 true exits 0" || fail "timeout 5 true: status $status"

out=$($guard "$run" --rootfs-dir / -- /usr/bin/python3 -c "
import signal, time
hits = []
signal.signal(signal.SIGALRM, lambda s, f: hits.append(s))
print('old', signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05))
n = 0
while len(hits) < 3 and n < 300000000:
    n += 1   # pure computation: no system call for the signal to ride on
print('fired', len(hits) >= 3)
value, interval = signal.setitimer(signal.ITIMER_REAL, 0)
print('interval', interval)
print('getitimer', signal.getitimer(signal.ITIMER_REAL))
print('alarm', signal.alarm(7), signal.alarm(0))
hits.clear()
signal.alarm(1)
start = time.monotonic()
while not hits and time.monotonic() - start < 20:
    time.sleep(0.01)
print('alarm fired', bool(hits), time.monotonic() - start < 10)
" 2>&1 | grep -v '^litebox shim: ')
expected="old (0.0, 0.0)
fired True
interval 0.05
getitimer (0.0, 0.0)
alarm 0 7
alarm fired True True"
[ "$out" = "$expected" ] && echo "ok: python3 signal.setitimer, getitimer and alarm" || fail "python3 printed: $out"

[ "$failures" = 0 ] || exit 1
echo "all timer checks passed"
