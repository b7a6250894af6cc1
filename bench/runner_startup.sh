#!/bin/sh
# Startup cost of litebox-run: `busybox true` natively and under litebox-run (vDSO hidden, the
# default; and kept), with hyperfine (Debian package). Medians are what docs/benchmarks.md quotes.
# usage: bench/runner_startup.sh [BUILD_DIR] [runs]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$root/build-bench-runner"}
runs=${2:-200}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$build" -j2 litebox-run >/dev/null
run="$build/examples/litebox-run/litebox-run"
echo "kernel $(uname -r), $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine -N --warmup 20 --runs "$runs" --export-markdown /dev/stdout \
  -n native "/bin/busybox true" \
  -n litebox-run "$run -- /bin/busybox true" \
  -n "litebox-run --keep-vdso" "$run --keep-vdso -- /bin/busybox true"
