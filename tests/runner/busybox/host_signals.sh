#!/bin/sh
# Signals between the host and litebox-run's guest (the default busybox image):
# - a signal another host process sends to the runner (kill, timeout, a service manager) reaches
#   the guest's first process, as if the runner were the program: its trap runs and the runner
#   exits with the guest's status, or the guest dies of it and the runner exits with 128 + N;
# - signals the runner was started with ignored or blocked stay so in the guest (execve keeps
#   them: `nohup`, background jobs of scripts);
# - the terminal's ^C reaches the guests (they run in a session of their own, so the runner passes
#   it on to the box's foreground process group), and so do a new window size (SIGWINCH) and ^Z
#   when the box's foreground group is a job the box would stop; otherwise ^Z stops the runner.
# Margins are wide: the machine running the tests may be loaded.
# Usage: host_signals.sh LITEBOX_RUN [GUEST_PROBE]
set -u
run=$1
probe=${2:-}
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Kills runner $1 after 30 s, so that a signal that is not passed on fails the check instead of
# hanging it (a `timeout` in between would receive the signals itself).
watchdog() { (sleep 30; kill -KILL "$1" 2>/dev/null) >/dev/null 2>&1 & }

# Waits (up to 20 s) until file $1 holds a line "ready".
wait_ready() {
    i=0
    while ! grep -q ready "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 200 ] && return 1
        sleep 0.1
    done
}

# 1. SIGTERM to the runner runs the guest's trap; the runner exits with the trap's status.
"$run" -- sh -c 'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done' >"$work/out1" 2>&1 &
pid=$!
watchdog $pid
if wait_ready "$work/out1"; then
    kill -TERM $pid
    wait $pid
    status=$?
    if [ "$status" = 7 ] && grep -q "got TERM" "$work/out1"; then
        echo "ok: SIGTERM to the runner ran the guest's trap (exit 7)"
    else
        fail "SIGTERM with a trap: status $status, output: $(cat "$work/out1")"
    fi
else
    fail "the trap guest never became ready: $(cat "$work/out1")"
    kill -KILL $pid 2>/dev/null
fi

# 2. A guest without a handler dies of the forwarded signal: 128 + 15, at once.
"$run" -- sh -c 'echo ready; exec sleep 30' >"$work/out2" 2>&1 &
pid=$!
watchdog $pid
if wait_ready "$work/out2"; then
    sleep 0.3  # past the exec
    start=$(now_ms)
    kill -TERM $pid
    wait $pid
    status=$?
    elapsed=$(( $(now_ms) - start ))
    if [ "$status" = 143 ] && [ "$elapsed" -lt 5000 ]; then
        echo "ok: SIGTERM to the runner ended 'sleep 30' with 143 after ${elapsed} ms"
    else
        fail "SIGTERM without a handler: status $status after ${elapsed} ms (expected 143)"
    fi
else
    fail "the sleep guest never became ready"
    kill -KILL $pid 2>/dev/null
fi

# 3. SIGUSR1 to the runner reaches the guest's handler; the guest goes on.
"$run" -- sh -c 'trap "echo usr1" USR1; echo ready; i=0; while [ $i -lt 10 ]; do sleep 0.1; i=$((i + 1)); done; echo done' >"$work/out3" 2>&1 &
pid=$!
watchdog $pid
if wait_ready "$work/out3"; then
    kill -USR1 $pid
    wait $pid
    status=$?
    if [ "$status" = 0 ] && grep -q usr1 "$work/out3" && grep -q done "$work/out3"; then
        echo "ok: SIGUSR1 to the runner reached the guest's handler"
    else
        fail "SIGUSR1: status $status, output: $(cat "$work/out3")"
    fi
else
    fail "the USR1 guest never became ready"
    kill -KILL $pid 2>/dev/null
fi

# 4. Ignored at start: stays ignored in the guest (a shell cannot undo an inherited SIG_IGN, so
#    the guest's own SIGINT leaves it alive).
out=$( (trap '' INT; "$run" -- sh -c 'kill -INT $$; echo survived') 2>&1)
status=$?
if [ "$status" = 0 ] && [ "$out" = survived ]; then
    echo "ok: SIGINT ignored by the runner's parent stays ignored in the guest"
else
    fail "inherited SIG_IGN: status $status, output: $out"
fi

# The pty checks below drive litebox-run from Python: read_until reads the terminal until a token
# (or a timeout), read_rest until the guest side closes it (or the deadline), finish reaps and prints.
pty_helpers='
import os, time
def read_until(fd, token, seconds):
    buf, deadline = b"", time.time() + seconds
    while token not in buf and time.time() < deadline:
        try:
            buf += os.read(fd, 1024)
        except OSError:
            break
    return buf, deadline
def read_rest(fd, deadline):
    buf = b""
    while time.time() < deadline:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
    return buf
def finish(pid, buf):  # waits for the runner, prints what the terminal showed and its status
    _, status = os.waitpid(pid, 0)
    print(buf.decode(errors="replace").replace("\r", ""))
    print("status", os.waitstatus_to_exitcode(status))
'

# 5. Blocked at start: stays blocked (the guest's own SIGUSR1 stays pending instead of killing it).
if command -v python3 >/dev/null; then
    out=$(timeout -s KILL 30 python3 -c '
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
os.execv(sys.argv[1], [sys.argv[1], "--", "sh", "-c", "kill -USR1 $$; echo survived"])
' "$run" 2>&1)
    status=$?
    if [ "$status" = 0 ] && [ "$out" = survived ]; then
        echo "ok: SIGUSR1 blocked by the runner's parent stays blocked in the guest"
    else
        fail "inherited mask: status $status, output: $out"
    fi

    # 6. ^C on the runner's terminal: the guest shell's trap runs once and its foreground child (a
    #    second box process in its process group) is interrupted too, as a terminal would do.
    out=$(timeout -s KILL 60 python3 -c "$pty_helpers"'
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "--", "sh", "-c",
             "n=0; trap \"n=\\$((n + 1))\" INT; echo ready; s=$(date +%s); sleep 23; echo count=$n slept=$(($(date +%s) - s))"])
def sleeping():  # the guest sleep 23 runs (a host process with that argv)
    for entry in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                if f.read() == b"sleep\x0023\x00":
                    return True
        except (OSError, ValueError):
            pass
    return False
buf, deadline = read_until(fd, b"ready", 40)
while not sleeping() and time.time() < deadline:
    time.sleep(0.05)
time.sleep(0.2)
os.write(fd, b"\x03")
buf += read_rest(fd, deadline)
finish(pid, buf)
' "$run" 2>&1)
    if echo "$out" | grep -q "count=1 slept=[0-9]\b" && echo "$out" | grep -q "status 0"; then
        echo "ok: ^C on the terminal reached the guest once"
    else
        fail "^C on the terminal: $(echo "$out" | tr '\n' ' ')"
    fi
fi

if command -v python3 >/dev/null; then
    # 7. A new window size of the runner's terminal: SIGWINCH reaches the box's foreground group,
    #    and the guest reads the new size.
    out=$(timeout -s KILL 60 python3 -c "$pty_helpers"'
import fcntl, os, pty, struct, sys, termios, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "--", "sh", "-c", "trap \"echo winch \$(stty size)\" WINCH; echo ready; sleep 2; echo done"])
buf, deadline = read_until(fd, b"ready", 40)
time.sleep(0.3)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
buf += read_rest(fd, deadline)
finish(pid, buf)
' "$run" 2>&1)
    if echo "$out" | grep -q "^winch 33 101$" && echo "$out" | grep -q "status 0"; then
        echo "ok: a new terminal size reached the guest (SIGWINCH, stty size)"
    else
        fail "SIGWINCH: $(echo "$out" | tr '\n' ' ')"
    fi

    # 8. ^Z while the box's foreground group is pid 1's (orphaned in the box, which would discard
    #    SIGTSTP): the runner itself stops, as the job of the (here: Python) job-control shell
    #    that started it, and goes on after SIGCONT.
    out=$(timeout -s KILL 60 python3 -c "$pty_helpers"'
import os, pty, signal, sys, time
pid, fd = pty.fork()
if pid == 0:
    job = os.fork()
    if job == 0:
        os.setpgid(0, 0)
        while os.tcgetpgrp(0) != os.getpid():  # start only once it is the foreground job
            time.sleep(0.01)
        os.execv(sys.argv[1], [sys.argv[1], "--", "sh", "-c", "echo ready; sleep 1; echo done"])
    try:
        os.setpgid(job, job)
    except PermissionError:  # the job has already made its group (and is waiting to be foreground)
        pass
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    os.tcsetpgrp(0, job)
    _, status = os.waitpid(job, os.WUNTRACED)
    print("runner stopped by", os.WSTOPSIG(status) if os.WIFSTOPPED(status) else 0, flush=True)
    os.tcsetpgrp(0, os.getpgrp())
    os.kill(job, signal.SIGCONT)
    _, status = os.waitpid(job, 0)
    print("runner status", os.waitstatus_to_exitcode(status), flush=True)
    os._exit(0)
buf, deadline = read_until(fd, b"ready", 40)
os.write(fd, b"\x1a")
buf += read_rest(fd, deadline)
os.waitpid(pid, 0)
print(buf.decode(errors="replace").replace("\r", ""))
' "$run" 2>&1)
    if echo "$out" | grep -q "runner stopped by 20" && echo "$out" | grep -q "^done$" && echo "$out" | grep -q "runner status 0"; then
        echo "ok: ^Z stopped the runner (no box job to stop), SIGCONT let it finish"
    else
        fail "^Z of the runner: $(echo "$out" | tr '\n' ' ')"
    fi

    # 9. ^Z while a box job (a group of its own, made the terminal's foreground group) is in the
    #    foreground: the job stops with SIGTSTP, its parent's waitpid says so, the runner goes on.
    if [ -n "$probe" ]; then
        out=$(timeout -s KILL 60 python3 -c "$pty_helpers"'
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "--rootfs-dir", "/", "--", sys.argv[2], "foreground-job"])
buf, deadline = read_until(fd, b"ready=1", 40)
time.sleep(0.2)
os.write(fd, b"\x1a")
waited, status = 0, 0
while time.time() < deadline:
    waited, status = os.waitpid(pid, os.WNOHANG | os.WUNTRACED)
    if waited == pid and os.WIFSTOPPED(status):
        print("the runner stopped")
        os.kill(pid, 18)
    elif waited == pid:
        break  # it ended (and is reaped)
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    buf += chunk
if waited != pid or os.WIFSTOPPED(status):
    _, status = os.waitpid(pid, 0)
buf += read_rest(fd, time.time() + 1)
print(buf.decode(errors="replace").replace("\r", ""))
print("status", os.waitstatus_to_exitcode(status))
' "$run" "$probe" 2>&1)
        if echo "$out" | grep -q "job_stop_signal=20" && echo "$out" | grep -q "status 0" && ! echo "$out" | grep -q "the runner stopped"; then
            echo "ok: ^Z stopped the box's foreground job, not the runner"
        else
            fail "^Z of a box job: $(echo "$out" | tr '\n' ' ')"
        fi
    fi
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all host signal checks passed"
