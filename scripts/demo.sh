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

install_missing_packages() {
    local missing=() package
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if [[ -n "${LITEBOX_NO_APT:-}" ]]; then
        echo "missing packages: ${missing[*]} (LITEBOX_NO_APT is set)" >&2
        return 1
    fi
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; return 1; }
        sudo=(sudo)
    fi
    echo "==> installing ${missing[*]}"
    "${sudo[@]}" apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

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
