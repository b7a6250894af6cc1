#!/usr/bin/env bash
# Builds the benchmarks in Release and runs each one with 10 repetitions (randomly interleaved, so
# that a burst of load on a shared machine hits both sides of a comparison alike), reporting
# medians, then prints the ratio box/host for every pair named "<case>/box" and "<case>/host".
#
# Usage: bench/run.sh [build-dir] [extra Google Benchmark flags...]
#   build-dir defaults to build/bench (relative to the repository root).
#   LITEBOX_BENCH_FILTER=regex runs only the matching benchmarks.
# Needs: cmake, ninja (or make), a C++20 compiler, fmt, Google Benchmark (libbenchmark-dev), python3.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-${root}/build/bench}"
shift || true
jobs="${LITEBOX_BENCH_JOBS:-2}"

generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
cmake -S "${root}" -B "${build}" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
      -DLITEBOX_BUILD_BENCH=ON -DLITEBOX_BUILD_TESTS=OFF -DLITEBOX_BUILD_EXAMPLES=OFF -DLITEBOX_INSTALL=OFF >/dev/null

targets=()
for source in "${root}"/bench/*_bench.cpp; do
  stem="$(basename "${source}" .cpp)"
  targets+=("litebox-bench-${stem%_bench}")
done
cmake --build "${build}" --parallel "${jobs}" --target "${targets[@]}"

results="${build}/bench/results"
mkdir -p "${results}"
echo "machine: $(uname -srm); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') x $(nproc) CPUs"
echo "compiler: $(${CXX:-c++} --version | head -n1)"
status=0
for target in "${targets[@]}"; do
  out="${results}/${target}.json"
  filter=()
  if [[ -n "${LITEBOX_BENCH_FILTER:-}" ]]; then filter=("--benchmark_filter=${LITEBOX_BENCH_FILTER}"); fi
  echo
  echo "== ${target}"
  "${build}/bench/${target}" --benchmark_repetitions=10 --benchmark_report_aggregates_only=true \
      --benchmark_enable_random_interleaving=true --benchmark_out="${out}" --benchmark_out_format=json "${filter[@]}" "$@" >/dev/null
  python3 "${root}/bench/ratios.py" "${out}" || status=1
done
exit "${status}"
