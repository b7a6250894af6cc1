# Job control: a stopped child is T in /proc/PID/status, /proc/PID/stat and ps until SIGCONT;
# the shell's wait sees how it ended.
# Each stop is sent once the child runs `sleep` (its cmdline says so) and a little later: a stop
# that lands while the box process is still in its execve is lost under litebox-run (DESIGN.md,
# "Still to come"); this script checks what happens after.
started() {
    i=0
    while [ "$(head -c 6 /proc/$1/cmdline 2>/dev/null | tr '\0' ' ')" != "sleep " ] && [ $i -lt 200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    sleep 0.1
}
sleep 5 &
pid=$!
state() { sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' /proc/$pid/status; }
started $pid
kill -STOP $pid
i=0
while [ "$(state)" != T ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
echo "status: $(grep '^State:' /proc/$pid/status)"
echo "stat: $(cut -d' ' -f3 /proc/$pid/stat)"
# (only the state letter of ps: its W flag says the box reports no memory size)
echo "ps: $(ps -o pid,stat | awk -v p=$pid '$1 == p { print substr($2, 1, 1) }')"
kill -CONT $pid
i=0
while [ "$(state)" = T ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ "$(state)" != T ] && echo "continued: no longer stopped"
kill $pid
wait $pid 2>/dev/null
echo "killed: $?"
# A stopped child the shell waits for: the wait lasts until it is continued and exits.
sleep 0.5 &
pid=$!
started $pid
kill -STOP $pid
( sleep 0.8; kill -CONT $pid ) &
wait $pid 2>/dev/null
echo "waited: $?"
wait
