# Job control: a stopped child is T in /proc/PID/status, /proc/PID/stat and ps until SIGCONT;
# the shell's wait sees how it ended.
# Most stops are sent once the child runs `sleep` (its cmdline says so) and a little later, so
# that what /proc shows is the program's; the last one lands right after the fork, most often
# while the child's execve is under way (it stops all the same, before or after the exec).
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
# A stop while the child goes through a chain of execs (sh, sh, sh, sleep): it stops (before or
# after an exec) and stays stopped until SIGCONT; then it runs to its end.
sh -c 'exec sh -c "exec sh -c \"exec sleep 0.3\""' &
pid=$!
sleep 0.01
kill -STOP $pid
i=0
while [ "$(state)" != T ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
echo "early stop: $(state)"
sleep 0.5
echo "still stopped: $(state)"
kill -CONT $pid
wait $pid
echo "early stop, continued: $?"
