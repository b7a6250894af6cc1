#!/bin/sh
# Dynamically linked Debian programs under litebox-run with the host's root visible read-only
# (--rootfs-dir /) under an in-memory overlay: python3 (files, subprocess with a pipe, sqlite3
# module) and the sqlite3 shell. Their loader and libraries are read through the box.
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

[ "$failures" = 0 ] || exit 1
