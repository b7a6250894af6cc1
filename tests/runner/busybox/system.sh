# sleep, kill, env, id: what does not depend on the host.
sleep 0.2
echo slept
env | grep -c '^PATH='
id -u
id -g
echo "$$" | grep -c '^[0-9][0-9]*$'
kill -0 $$ && echo self-signal-ok
date +%Y | grep -c '^20'
# The box shows as many CPUs as the runner may use (sched_getaffinity), as natively.
nproc
# ps and pidof know a program by the name it was started as (comm: the base name of execve's path,
# here an applet link to busybox). Waits up to ~3 s for the child to have exec'd.
sleep 5 &
sleeper=$!
n=0
while [ "$(cat /proc/$sleeper/comm)" != sleep ] && [ $n -lt 60 ]; do sleep 0.05; n=$((n + 1)); done
# (natively, pidof and ps also see the host's other sleeps: look for this one)
pidof sleep | tr ' ' '\n' | grep -qx "$sleeper" && found=yes || found=no
echo "comm: $(cat /proc/$sleeper/comm) pidof: $found ps: $(ps -o pid,comm | awk -v p=$sleeper '$1 == p { print $2 }')"
kill $sleeper
wait $sleeper 2>/dev/null
# ulimit -v bounds what a program may map, also across exec; the parent keeps its own limit.
( ulimit -v 65536; ulimit -v; dd if=/dev/zero of=/dev/null bs=128M count=1 2>&1; echo "dd: $?"
  dd if=/dev/zero of=/dev/null bs=16M count=1 2>/dev/null; echo "small dd: $?" )
dd if=/dev/zero of=/dev/null bs=128M count=1 2>/dev/null; echo "dd outside: $?"
# Job control: SIGSTOP really stops a process (its counter stands still) until SIGCONT.
# (written aside and renamed, so that a read never sees the file half written)
( i=0; while :; do i=$((i + 1)); echo $i > counter.new; mv counter.new counter; sleep 0.05; done ) &
worker=$!
sleep 0.4
kill -STOP $worker
sleep 0.5
stopped_at=$(cat counter)
sleep 0.6
[ "$(cat counter)" = "$stopped_at" ] && echo stop-holds
kill -CONT $worker
sleep 0.6
[ "$(cat counter)" -gt "$stopped_at" ] && echo cont-resumes
kill $worker
wait $worker 2>/dev/null
echo "worker ended: $?"
# ulimit -f (RLIMIT_FSIZE, 512-byte blocks in ash): a write that straddles the limit is cut at it,
# the next one fails with EFBIG and SIGXFSZ kills the writer; also through >> (at the end of the
# file) and truncate; shrinking and pipes are not limited; with SIGXFSZ ignored, dd sees EFBIG.
( ulimit -f 1; ulimit -f; dd if=/dev/zero of=fsize.out bs=1k count=4 2>/dev/null; echo "dd: $?" )
ls -l fsize.out | awk '{ print "size " $5 }'
( ulimit -f 1; echo more >> fsize.out ); echo "append: $?"
( ulimit -f 1; truncate -s 4096 fsize.out ); echo "truncate: $?"
( ulimit -f 1; truncate -s 100 fsize.out; echo "shrink: $?"; dd if=/dev/zero bs=1k count=4 2>/dev/null | cat > /dev/null; echo "pipe: $?" )
ls -l fsize.out | awk '{ print "size " $5 }'
( ulimit -f 1; trap '' XFSZ; dd if=/dev/zero of=fsize.out bs=1k count=4 2>&1; echo "ignored: $?" )
ls -l fsize.out | awk '{ print "size " $5 }'
rm -f fsize.out
# /proc/<pid>/limits has Linux's layout and shows the process's own limits (set here, so that
# both sides agree); /proc/version names the release uname reports; task/ lists the shell's one
# thread; mountinfo lists the mounts of mounts in the same order; statm has its 7 fields; a
# random uuid is fresh per read.
head -1 /proc/self/limits
wc -l < /proc/self/limits
( ulimit -n 100; cat /proc/self/limits ) | grep '^Max open files'
( ulimit -c 0; cat /proc/self/limits ) | grep '^Max core file size'
grep -c '^Max nice priority         [0-9a-z]* *[0-9a-z]* *$' /proc/self/limits
grep -c '^Linux version ' /proc/version
[ "$(cut -d' ' -f3 /proc/version)" = "$(uname -r)" ] && echo version-names-uname-release
[ "$(ls /proc/$$/task)" = "$$" ] && echo task-lists-the-shell
[ "$(cat /proc/$$/task/$$/comm)" = "$(cat /proc/$$/comm)" ] && echo task-comm-is-comm
ls /proc/self/task | grep -c '^[0-9][0-9]*$'
[ "$(awk '{ print $5 }' /proc/self/mountinfo)" = "$(awk '{ print $2 }' /proc/self/mounts)" ] && echo mountinfo-lists-mounts
wc -w < /proc/self/statm
grep -c '^[0-9][0-9]*$' /proc/sys/kernel/pid_max
u1=$(cat /proc/sys/kernel/random/uuid); u2=$(cat /proc/sys/kernel/random/uuid)
echo "$u1" | grep -c '^[0-9a-f]\{8\}-[0-9a-f]\{4\}-4[0-9a-f]\{3\}-[89ab][0-9a-f]\{3\}-[0-9a-f]\{12\}$'
[ "$u1" != "$u2" ] && echo uuid-fresh
cat /proc/sys/kernel/ostype
