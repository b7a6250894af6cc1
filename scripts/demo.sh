#!/usr/bin/env bash
# The LiteBox demo (README): builds and runs the example runtime `litebox-minimal-platform`
# (examples/minimal_platform: a deny-all platform bound to a LiteBox, showing the north API works).
# On Debian 12 it first installs what is missing (apt-get, as root or through sudo).
# Environment: LITEBOX_JOBS=2 (build parallelism), LITEBOX_NO_APT=1 (never call apt-get).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs="${LITEBOX_JOBS:-2}"
target=litebox-minimal-platform
build_dir=build/demo
packages=(cmake ninja-build g++ libfmt-dev)

# shellcheck source=install-packages.sh
source "scripts/install-packages.sh"

if command -v dpkg >/dev/null; then
    install_missing_packages "${packages[@]}"
fi

if [[ ! -f examples/CMakeLists.txt ]]; then
    echo "demo.sh: examples/ is missing from this checkout; nothing to build" >&2
    exit 1
fi

echo "==> building $target"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLITEBOX_BUILD_TESTS=OFF \
      -DLITEBOX_BUILD_EXAMPLES=ON -DCMAKE_RUNTIME_OUTPUT_DIRECTORY="$PWD/$build_dir/bin" >/dev/null
cmake --build "$build_dir" --target "$target" -j "$jobs"

echo "==> running $build_dir/bin/$target"
exec "$build_dir/bin/$target" "$@"
