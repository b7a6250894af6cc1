#!/bin/sh
# Builds litebox-run's default root file system image (a ustar archive) from Debian's
# busybox-static: /bin/busybox, a symlink per applet, /etc/passwd, /etc/group, /etc/hostname, and
# the directories a shell expects (/tmp 1777, /root, /dev and /proc as mount points).
# Usage: make_rootfs.sh BUSYBOX OUTPUT.tar
set -eu
busybox=$1
output=$2
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"
cd "$stage"
mkdir -p bin sbin usr/bin usr/sbin etc tmp root dev proc home var/tmp
cp "$busybox" bin/busybox
chmod 0755 bin/busybox
"$busybox" --list-full | while read -r applet; do
    [ "$applet" = bin/busybox ] && continue
    mkdir -p "$(dirname "$applet")"
    ln -sf /bin/busybox "$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > etc/passwd
printf 'root:x:0:\nnogroup:x:65534:\n' > etc/group
printf 'litebox\n' > etc/hostname
printf '127.0.0.1 localhost\n' > etc/hosts
chmod 1777 tmp var/tmp
chmod 0700 root
tar --format=ustar --owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name -cf "$output.tmp" .
mv "$output.tmp" "$output"
