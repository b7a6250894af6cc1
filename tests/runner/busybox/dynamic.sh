#!/bin/sh
# Dynamically linked Debian programs under litebox-run with the host's root visible read-only
# (--rootfs-dir /) under an in-memory overlay: python3 (files, subprocess with a pipe, sqlite3
# module), the sqlite3 shell, and glibc's resolver against a DNS server in the box. Their loader
# and libraries are read through the box.
# Usage: dynamic.sh LITEBOX_RUN
set -u
run=$1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
probe=/tmp/litebox-python-probe-$$
rm -rf "$probe"

out=$("$run" --rootfs-dir / -- /usr/bin/python3 -c "
import os, subprocess, sqlite3
d = '$probe'
os.makedirs(d)
for i in range(3):
    with open(os.path.join(d, 'f%d.txt' % i), 'w') as f:
        f.write('line %d\n' % i)
print(sorted(os.listdir(d)))
print(open(os.path.join(d, 'f1.txt')).read().strip())
p = subprocess.run(['sh', '-c', 'cat | tr a-z A-Z'], input=b'piped through a subprocess', capture_output=True)
print(p.returncode, p.stdout.decode())
con = sqlite3.connect(os.path.join(d, 'db.sqlite'))
con.execute('create table t (x integer)')
con.executemany('insert into t values (?)', [(i,) for i in range(10)])
con.commit()
print('sum', con.execute('select sum(x) from t').fetchone()[0])
" 2>&1 | grep -v '^litebox shim: ')
expected="['f0.txt', 'f1.txt', 'f2.txt']
line 1
0 PIPED THROUGH A SUBPROCESS
sum 45"
[ "$out" = "$expected" ] && echo "ok: python3 files, subprocess and sqlite3" || fail "python3 printed: $out"
[ ! -e "$probe" ] && echo "ok: python3's writes stayed in the overlay" || { fail "python3 wrote $probe on the host"; rm -rf "$probe"; }

out=$(printf 'create table t(a); insert into t values (1),(2),(39); select sum(a) from t;\n' |
      "$run" --rootfs-dir / -- /usr/bin/sqlite3 /tmp/litebox-db-$$ 2>&1 | grep -v '^litebox shim: ')
[ "$out" = 42 ] && echo "ok: sqlite3 shell" || fail "sqlite3 printed: $out"
[ ! -e /tmp/litebox-db-$$ ] || { fail "sqlite3 wrote its database on the host"; rm -f /tmp/litebox-db-$$; }

out=$("$run" --rootfs-dir / --audit -- /bin/cat /etc/hostname 2>&1)
case "$out" in
    *"hostfs grant read 'etc/hostname'"*"punchthrough: "*" granted, 0 denied"*) echo "ok: --audit lists the host-directory grants" ;;
    *) fail "--audit output: $out" ;;
esac

# File-backed mmap of a host-directory file maps the host file itself (read-only, no copy); once
# the box changes the file (copied up into the overlay) a mapping shows the box's bytes, and the
# host file stays as it was.
map_dir=$(mktemp -d /var/tmp/litebox-map.XXXXXX)
head -c 300000 /bin/busybox > "$map_dir/data"
out=$("$run" --rootfs-dir / --audit -- /usr/bin/python3 -c "
import mmap
path = '$map_dir/data'
def mapped():
    with open(path, 'rb') as f:
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            return bytes(m[:])
before = mapped()
print('host', before == open(path, 'rb').read(), len(before))
early = open(path, 'rb')  # opened before the copy-up: maps what the file holds now
with open(path, 'r+b') as f:
    f.seek(1000)
    f.write(b'box bytes')
after = mapped()
print('box', after[1000:1009] == b'box bytes', after[:1000] == before[:1000], len(after))
with mmap.mmap(early.fileno(), 0, access=mmap.ACCESS_READ) as m:
    print('early', m[1000:1009] == b'box bytes')
" 2>&1 | grep -v '^litebox shim: ')
case "$out" in
    *"hostfs grant open_read '${map_dir#/}/data'"*) ;;
    *) fail "no open_read grant for the mapped host file: $out" ;;
esac
out=$(printf '%s\n' "$out" | grep -E '^(host|box|early) ')
expected="host True 300000
box True True 300000
early True"
[ "$out" = "$expected" ] && echo "ok: mmap of a host file, then of the box's copy" || fail "mmap printed: $out"
[ "$(head -c 300000 /bin/busybox | md5sum)" = "$(md5sum < "$map_dir/data")" ] || fail "the host file changed"
rm -rf "$map_dir"

# glibc's resolver in the box (getaddrinfo: IP_RECVERR, sendmmsg of the A and AAAA queries, poll,
# FIONREAD, recvfrom) against a DNS responder on the box's loopback; resolv.conf is written in the
# overlay. Nothing leaves the box.
dns_dir=$(mktemp -d)
cat > "$dns_dir/dns.py" <<'PY'
import socket, struct, threading
# A DNS responder for one name on the box's loopback, and glibc's resolver (getaddrinfo) asking it.
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(('127.0.0.1', 53))
def serve():
    while True:
        q, peer = srv.recvfrom(512)
        ident, flags, qd = struct.unpack('>HHH', q[:6])
        end = 12
        while q[end] != 0:
            end += q[end] + 1
        question = q[12:end + 5]
        qtype = struct.unpack('>H', q[end + 1:end + 3])[0]
        answers = b''
        if qtype == 1:  # A
            answers = b'\xc0\x0c' + struct.pack('>HHIH', 1, 1, 60, 4) + bytes([10, 1, 2, 3])
        header = struct.pack('>HHHHHH', ident, 0x8180, 1, 1 if answers else 0, 0, 0)
        srv.sendto(header + question + answers, peer)
threading.Thread(target=serve, daemon=True).start()
open('/etc/resolv.conf', 'w').write('nameserver 127.0.0.1\n')
print(sorted(set(a[4][0] for a in socket.getaddrinfo('litebox.test', 80))))
PY
out=$("$run" --rootfs-dir / --mount "$dns_dir:/dns" -- /usr/bin/python3 /dns/dns.py 2>&1 | grep -v '^litebox shim: ')
[ "$out" = "['10.1.2.3']" ] && echo "ok: glibc's resolver asks a DNS server in the box" || fail "resolver printed: $out"
rm -rf "$dns_dir"

# bash's process substitution passes /dev/fd/N (a pipe) to the program.
out=$("$run" --rootfs-dir / -- /bin/bash -c 'diff <(printf "a\nb\n") <(printf "a\nc\n"); echo "status $?"' 2>&1 | grep -v '^litebox shim: ')
expected="2c2
< b
---
> c
status 1"
[ "$out" = "$expected" ] && echo "ok: bash process substitution through /dev/fd" || fail "process substitution printed: $out"

# /proc/PID/cmdline of a dynamically linked program is its own argv (the runner starts it through
# its loader, which Linux does not show either), so pidof finds it by name.
out=$("$run" --rootfs-dir / -- /bin/sh -c '/bin/sleep 5 & p=$!; sleep 0.3; tr "\0" " " < /proc/$p/cmdline; echo "| $(cat /proc/$p/comm) | $(pidof sleep)" ; kill $p' 2>&1 | grep -v '^litebox shim: ')
[ "$out" = "/bin/sleep 5 | sleep | 2" ] && echo "ok: /proc/PID/cmdline of a dynamic program is its argv" || fail "cmdline printed: $out"

# setrlimit(RLIMIT_AS) in a running program binds that program (no exec in between).
out=$("$run" --rootfs-dir / -- /usr/bin/python3 -c '
import resource
resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))
print(resource.getrlimit(resource.RLIMIT_AS)[0] >> 20)
try:
    b = bytearray(1024 << 20)
    print("allocated")
except MemoryError:
    print("MemoryError")
b = bytearray(16 << 20)
print("small ok")' 2>&1 | grep -v '^litebox shim: ')
expected="512
MemoryError
small ok"
[ "$out" = "$expected" ] && echo "ok: python3's setrlimit(RLIMIT_AS) binds it" || fail "RLIMIT_AS in python3 printed: $out"

[ "$failures" = 0 ] || exit 1
