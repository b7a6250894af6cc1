#!/bin/sh
# Served-syscall round trip under litebox-run's supervisor vs native (see bench/runner/).
# usage: bench/runner_syscall.sh [BUILD_DIR] [calls] [repetitions] [runs]
# Builds an optimised tree (default build-bench-runner/) and runs litebox_runner_bench (the bare
# supervisor with a one-line handler), then the probe's call-costs mode under litebox-run itself
# (the whole shim): getppid, fstat (144 bytes written back), newfstatat (a path read as well) and a
# 4 KiB pread of a box file, median ns per call of each run.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$root/build-bench-runner"}
calls=${2:-20000}
reps=${3:-11}
runs=${4:-5}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$build" -j2 litebox_runner_bench litebox_guest_probe litebox-run >/dev/null
build=$(cd "$build" && pwd)  # the probe's path must not be relative: litebox-run resolves it in the box
echo "kernel $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
# LITEBOX_BENCH_RT=1 runs the benchmark as SCHED_FIFO (root): on a machine busy with other work
# the wall-clock numbers then show the round trip itself instead of the wait for a CPU.
rt=""
if [ "${LITEBOX_BENCH_RT:-0}" = 1 ]; then rt="chrt -f 10"; echo "(SCHED_FIFO)"; fi
$rt "$build/tests/runner/litebox_runner_bench" "$build/tests/runner/litebox_guest_probe" "$calls" "$reps" "$runs"
echo "served by litebox-run (the whole shim), $runs runs of $reps x $calls calls, median ns per call:"
for i in $(seq "$runs"); do
  $rt "$build/examples/litebox-run/litebox-run" --rootfs-dir / --workdir /tmp -- \
    "$build/tests/runner/litebox_guest_probe" call-costs "$calls" "$reps" | tr '\n' ' '
  echo
done
