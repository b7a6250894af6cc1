#!/bin/sh
# The guest's view of the network interfaces is the box's, never the host's: rtnetlink (busybox ip,
# glibc's getifaddrs behind `hostname -I`, if_nameindex behind Python's socket.if_nameindex), the
# SIOCGIF* ioctls (busybox ifconfig) and /proc/net/{dev,route}.
# - --net none (the default): only lo, 127.0.0.1/8, and an empty main routing table.
# - --net slirp: lo and eth0 10.0.2.15/24 with its default route via 10.0.2.2.
# - None of the host's own IPv4 addresses other than 127.0.0.1 shows up in either.
# Usage: interfaces.sh LITEBOX_RUN
set -u
run=$1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# expect NAME OUTPUT PATTERN: OUTPUT must match the extended regular expression PATTERN.
expect() {
    if printf '%s\n' "$2" | grep -Eq "$3"; then echo "ok: $1"; else fail "$1: got '$(printf '%s' "$2" | tr '\n' '|')'"; fi
}
absent() {
    if printf '%s\n' "$2" | grep -Eq "$3"; then fail "$1: '$3' in '$(printf '%s' "$2" | tr '\n' '|')'"; else echo "ok: $1"; fi
}

# --net none.
out=$("$run" -- sh -c 'ip -o addr; echo "routes: $(ip route | wc -l)"' 2>&1)
expect "ip addr (none): lo has 127.0.0.1/8" "$out" '^1: lo +inet 127\.0\.0\.1/8 '
absent "ip addr (none): no other interface" "$out" '^[2-9]:'
expect "ip route (none): an empty main table" "$out" '^routes: 0$'
out=$("$run" -- ifconfig 2>&1)
expect "ifconfig (none): lo" "$out" 'inet addr:127\.0\.0\.1 +Mask:255\.0\.0\.0'
absent "ifconfig (none): only lo" "$out" '^eth0'
out=$("$run" -- cat /proc/net/dev 2>&1)
expect "/proc/net/dev (none): lo" "$out" '^ +lo:'
if command -v python3 >/dev/null; then
    out=$("$run" --rootfs-dir / -- python3 -c 'import socket; print(socket.if_nameindex())' 2>&1)
    expect "if_nameindex (none)" "$out" "^\[\(1, 'lo'\)\]$"
fi

# --net slirp.
out=$("$run" --net slirp -- sh -c 'ip -o -4 addr; ip route; ifconfig eth0; cat /proc/net/route' 2>&1)
expect "ip addr (slirp): eth0 10.0.2.15/24" "$out" '^2: eth0 +inet 10\.0\.2\.15/24 '
expect "ip route (slirp): default via 10.0.2.2" "$out" '^default via 10\.0\.2\.2 dev eth0'
expect "ip route (slirp): the subnet" "$out" '^10\.0\.2\.0/24 dev eth0 .*src 10\.0\.2\.15'
expect "ifconfig eth0 (slirp)" "$out" 'inet addr:10\.0\.2\.15 +Mask:255\.255\.255\.0'
expect "/proc/net/route (slirp): the default route" "$out" '^eth0	00000000	0202000A	0003'
if command -v python3 >/dev/null; then
    out=$("$run" --net slirp --rootfs-dir / -- python3 -c 'import socket; print(socket.if_nameindex())' 2>&1)
    expect "if_nameindex (slirp)" "$out" "^\[\(1, 'lo'\), \(2, 'eth0'\)\]$"
fi
if [ -x /usr/bin/hostname ] || [ -x /bin/hostname ]; then
    out=$("$run" --net slirp --rootfs-dir / -- hostname -I 2>&1)
    expect "hostname -I (getifaddrs, slirp)" "$out" '^10\.0\.2\.15 ?$'
fi

# The host's addresses stay out of sight.
if command -v python3 >/dev/null; then
    host_addresses=$(python3 -c '
import fcntl, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _, name in socket.if_nameindex():
    try:
        a = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))
        ip = socket.inet_ntoa(a[20:24])
        if ip not in ("127.0.0.1", "10.0.2.15"):
            print(ip)
    except OSError:
        pass
' 2>/dev/null)
    boxed=$("$run" --net slirp -- sh -c 'ip -o addr; ifconfig -a; cat /proc/net/dev /proc/net/route' 2>&1)
    for a in $host_addresses; do
        absent "the host's address $a is not visible" "$boxed" "$(echo "$a" | sed 's/\./\\./g')"
    done
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all interface checks passed"
