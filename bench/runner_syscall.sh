#!/bin/sh
# Served-syscall round trip under litebox-run's supervisor vs native (see bench/runner/).
# usage: bench/runner_syscall.sh [BUILD_DIR] [calls] [repetitions] [runs]
# Builds an optimised tree (default build-bench-runner/) and runs litebox_runner_bench.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$root/build-bench-runner"}
calls=${2:-20000}
reps=${3:-11}
runs=${4:-5}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$build" -j2 litebox_runner_bench litebox_guest_probe >/dev/null
echo "kernel $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
"$build/tests/runner/litebox_runner_bench" "$build/tests/runner/litebox_guest_probe" "$calls" "$reps" "$runs"
