# Shell features: pipelines, redirections, here-documents, subshells, $(...), background jobs,
# wait, traps, exec, exit codes.
x=$(echo substituted)
echo "$x"
(echo in a subshell; exit 3)
echo "subshell status $?"
cat <<END
here-document with $x
END
echo one > out; echo two >> out; cat < out
echo to-stderr 1>&2
ls /nonexistent 2> err; echo "ls status $?"; wc -l < err
sleep 0.1 & pid=$!
wait $pid; echo "background status $?"
sleep 5 & kill $!; sleep 0.5; jobs
# (ash reports "Terminated" on stderr or not depending on when SIGCHLD arrives: not compared)
{ sleep 5 & pid=$!; (sleep 0.1; kill $pid) & wait $pid; echo "killed status $?"; } 2>/dev/null
false | true; echo "pipeline status $?"
echo a b c | { read first rest; echo "$first / $rest"; }
i=0; while [ $i -lt 3 ]; do i=$((i + 1)); done; echo "loop $i"
sh -c 'exit 42'; echo "child status $?"
mkfifo fifo; (echo through a fifo > fifo &); cat fifo; rm fifo
# /dev/stdin, /dev/stdout, /dev/stderr and /dev/fd/N are the process's own descriptors
echo through dev stdin | cat /dev/stdin
echo through proc fd 0 | cat /proc/self/fd/0
(echo via dev stdout > /dev/stdout) > out; echo "out: $(cat out)"
(echo via dev stderr > /dev/stderr) 2> err; echo "err: $(cat err)"
(echo via dev fd 3 > /dev/fd/3) 3> out; echo "fd 3: $(cat out)"
# execve keeps ignored signals ignored (nohup-style)
trap '' USR1; sh -c 'kill -USR1 $$; echo survived an ignored signal across exec'; trap - USR1
# A child's SIGCHLD is pending before the wait for it returns (so the trap runs first, as native)
trap 'echo trapped' CHLD; sleep 0; echo after; env true; echo after2; trap - CHLD
trap 'echo trapped on exit' EXIT
exec echo replaced by exec
