#!/usr/bin/env bash
# The LiteBox demo (README): builds litebox-run (examples/litebox-run) and runs a shell script
# with Debian's busybox inside a LiteBox. Every file, pipe, process and clock operation of the
# guest is served by the library; the script writes files, runs a pipeline, and the host's /tmp is
# checked afterwards. --audit prints the run's whole host interface at the end.
# On Debian 12 it first installs what is missing (apt-get, as root or through sudo).
# Environment: LITEBOX_JOBS=2 (build parallelism), LITEBOX_NO_APT=1 (never call apt-get).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs="${LITEBOX_JOBS:-2}"
target=litebox-run
build_dir=build/demo
packages=(cmake ninja-build g++ libfmt-dev busybox-static)

# shellcheck source=install-packages.sh
source "scripts/install-packages.sh"

if command -v dpkg >/dev/null; then
    install_missing_packages "${packages[@]}"
fi

echo "==> building $target"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLITEBOX_BUILD_TESTS=OFF \
      -DLITEBOX_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build_dir" --target "$target" -j "$jobs"
runner="$build_dir/examples/litebox-run/litebox-run"

demo_dir=/tmp/litebox-demo
if [[ -e "$demo_dir" ]]; then
    echo "demo.sh: $demo_dir exists on the host; remove it first so the check below means something" >&2
    exit 1
fi

echo "==> running a shell script in the box: $runner --audit -- sh -c '...'"
"$runner" --audit -- sh -c '
echo "inside: $(uname -sr), host name $(hostname), I am pid $$ as $(id -un)"
mkdir -p /tmp/litebox-demo && cd /tmp/litebox-demo
for i in 1 2 3; do echo "line $i written in the box" > "file$i"; done
echo "files: $(ls | tr "\n" " ")"
echo "pipeline: $(cat file* | grep -c box) lines mention the box; last: $(sort -r file* | head -n 1)"
printf "hello" | md5sum
echo "box init is pid $$; the host never saw these files"
'
status=$?
echo "==> the guest exited with status $status"
if [[ -e "$demo_dir" ]]; then
    echo "host: $demo_dir exists -- the box leaked a write to the host!" >&2
    exit 1
fi
echo "host: $demo_dir does not exist -- the box's writes stayed in its in-memory overlay"
