#!/bin/sh
# Runs one shell script natively with busybox and under litebox-run, and compares what they print
# (standard output and error, minus the shim's own "litebox shim:" notes) and the exit status.
# Native: in a fresh temporary directory with only busybox applets on PATH. In the box: in /tmp of
# the default image. The scripts print only what does not depend on where they run.
# Usage: compare.sh LITEBOX_RUN BUSYBOX CASE.sh
set -u
runner=$1
busybox=$2
case_file=$3
script=$(cat "$case_file") || exit 2
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin" "$tmp/work"
for applet in $("$busybox" --list); do ln -s "$busybox" "$tmp/bin/$applet"; done

native=$(cd "$tmp/work" && env -i PATH="$tmp/bin" HOME=/root TZ=UTC "$busybox" sh -c "$script" 2>&1 < /dev/null; echo "exit status $?")
"$runner" --workdir /tmp --env TZ=UTC -- sh -c "$script" > "$tmp/boxed" 2>&1 < /dev/null
status=$?
boxed=$(grep -v '^litebox shim: ' "$tmp/boxed"; echo "exit status $status")
if [ "$native" = "$boxed" ]; then
    printf '%s\n' "$boxed"
    exit 0
fi
echo "=== native"
printf '%s\n' "$native"
echo "=== litebox-run"
printf '%s\n' "$boxed"
exit 1
