#!/usr/bin/env bash
# The full LiteBox test suite: the command the README and CI run.
#
# On Debian 12 it first installs what is missing (apt-get, as root or through sudo), then for each
# preset configures, builds and runs ctest:
#   dev        g++ 12, Debug, -Werror      (unit, compile-fail, audit, consumer tests)
#   dev-clang  clang++ 14, Debug, -Werror  (the same, and every public header compiled on its own)
#   asan       clang++ 14, ASan + UBSan    (unit tests and examples; the compiler-only tests
#              would repeat dev-clang's)
#   tsan       clang++ 14, ThreadSanitizer (the [sync] and [ipc] Catch2 tests); not in the default
#              run (CI time), run it with LITEBOX_PRESETS=tsan
# Exits non-zero if any step fails. Environment:
#   LITEBOX_PRESETS="dev asan"  run only these presets
#   LITEBOX_JOBS=2              build and test parallelism (default 2)
#   LITEBOX_NO_APT=1            never call apt-get (check the tools only)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
read -r -a presets <<<"${LITEBOX_PRESETS:-dev dev-clang asan}"
jobs="${LITEBOX_JOBS:-2}"
packages=(cmake ninja-build g++ clang-14 libclang-rt-14-dev catch2 libfmt-dev libbenchmark-dev
          pkg-config busybox-static libslirp-dev python3 sqlite3)

say() { printf '\n==> %s\n' "$*"; }

# shellcheck source=install-packages.sh
source "scripts/install-packages.sh"

if command -v dpkg >/dev/null; then
    install_missing_packages "${packages[@]}"
else
    echo "not a Debian system: assuming cmake, ninja, g++, clang++-14, Catch2 2, fmt 9 and pkg-config are installed" >&2
fi

start=$SECONDS
summary=()
failed=""
run_step() {  # run_step <preset> <what> <command...>
    local preset=$1 what=$2
    shift 2
    say "$preset: $what"
    local step_start=$SECONDS
    if "$@"; then
        summary+=("$preset $what ok ($((SECONDS - step_start))s)")
    else
        summary+=("$preset $what FAILED")
        failed+=" $preset/$what"
        return 1
    fi
}

for preset in "${presets[@]}"; do
    run_step "$preset" configure cmake --preset "$preset" || continue
    run_step "$preset" build cmake --build --preset "$preset" -j "$jobs" || continue
    run_step "$preset" test ctest --preset "$preset" -j "$jobs" || continue
done

elapsed=$((SECONDS - start))
say "summary"
printf '  %s\n' "${summary[@]}"
if [[ -n "$failed" ]]; then
    echo "test.sh: FAILED:${failed} ($((elapsed / 60))m$((elapsed % 60))s)"
    exit 1
fi
echo "test.sh: all passed: ${presets[*]} ($((elapsed / 60))m$((elapsed % 60))s)"
