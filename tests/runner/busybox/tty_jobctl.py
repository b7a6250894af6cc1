# Terminal job control on the terminal this script runs on, as the session leader whose controlling
# terminal it is (run by pty.sh under tty_harness.py: natively; as litebox-run's pid 1, where the
# terminal is the box's console; and under a harness inside the box, where it is a box pty): a
# background group that reads it gets SIGTTIN, one that writes it with TOSTOP or changes its
# settings SIGTTOU (a stopped job is brought to the foreground and continued: its call restarts);
# ignored or blocked, SIGTTIN is EIO and SIGTTOU lets the call go on; a handled one interrupts the
# call; with the argument "orphan", a job whose group is orphaned gets EIO (not run as box pid 1,
# whose children's groups always have a parent in the session: pid 1 itself). Reports are the
# lines that start with "R:".
import errno, os, signal, sys, termios, time

def report(text):
    os.write(1, b'R:' + text.encode() + b'\n')

class Handled(Exception):
    pass

def raise_handled(sig, frame):
    raise Handled()

def job(name, body, orphan=False):
    # Runs body() in a new background group; returns the job's pid (the group leader's). With
    # `orphan`, body() runs in the group leader's child once the leader has left.
    child = os.fork()
    if child == 0:
        leader = os.getpid()
        os.setpgid(0, 0)
        if orphan:
            if os.fork() != 0:
                os._exit(0)
            deadline = time.monotonic() + 20
            while os.getppid() == leader and time.monotonic() < deadline:
                time.sleep(0.01)
        try:
            body()
        except Handled:
            report('%s: handler ran' % name)
        except OSError as e:
            report('%s: %s' % (name, errno.errorcode[e.errno]))
        os._exit(0)
    os.setpgid(child, child)
    return child

def watch(name, child):
    # Reports how the job stops or ends; a stopped job is brought to the foreground and continued.
    _, status = os.waitpid(child, os.WUNTRACED)
    if os.WIFSTOPPED(status):
        report('%s: stopped by %s' % (name, signal.Signals(os.WSTOPSIG(status)).name))
        os.tcsetpgrp(0, child)
        os.kill(child, signal.SIGCONT)
        _, status = os.waitpid(child, 0)
        os.tcsetpgrp(0, os.getpgrp())
    report('%s: exit %d' % (name, os.waitstatus_to_exitcode(status)))

signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # the leader takes the terminal back, as a shell does

def read_line():
    report('read %r' % os.read(0, 100))
watch('read', job('read', read_line))

def read_ignored():
    signal.signal(signal.SIGTTIN, signal.SIG_IGN)
    os.read(0, 100)
    report('read_ignored: no error')
watch('read_ignored', job('read_ignored', read_ignored))

def read_blocked():
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTTIN])
    os.read(0, 100)
watch('read_blocked', job('read_blocked', read_blocked))

def read_handled():
    signal.signal(signal.SIGTTIN, raise_handled)
    os.read(0, 100)
watch('read_handled', job('read_handled', read_handled))

def write_plain():
    os.write(1, b'background write\n')
    report('write_plain: written')
watch('write_plain', job('write_plain', write_plain))

attrs = termios.tcgetattr(0)
attrs[3] |= termios.TOSTOP
termios.tcsetattr(0, termios.TCSANOW, attrs)
def write_tostop():
    signal.signal(signal.SIGTTOU, signal.SIG_DFL)
    os.write(1, b'tostop write\n')
    report('write_tostop: written')
watch('write_tostop', job('write_tostop', write_tostop))

def write_tostop_ignored():
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    os.write(1, b'tostop write, SIGTTOU ignored\n')
    report('write_tostop_ignored: written')
watch('write_tostop_ignored', job('write_tostop_ignored', write_tostop_ignored))
attrs[3] &= ~termios.TOSTOP
termios.tcsetattr(0, termios.TCSANOW, attrs)

def set_attributes():
    signal.signal(signal.SIGTTOU, signal.SIG_DFL)
    termios.tcsetattr(0, termios.TCSANOW, termios.tcgetattr(0))
    report('set_attributes: done')
watch('set_attributes', job('set_attributes', set_attributes))

def set_attributes_handled():
    signal.signal(signal.SIGTTOU, raise_handled)
    termios.tcsetattr(0, termios.TCSANOW, termios.tcgetattr(0))
watch('set_attributes_handled', job('set_attributes_handled', set_attributes_handled))

def get_attributes():
    termios.tcgetattr(0)
    report('get_attributes: done')
watch('get_attributes', job('get_attributes', get_attributes))

if sys.argv[1:] == ['orphan']:
    def orphaned_read():
        os.read(0, 100)
    done_r, done_w = os.pipe()
    job('orphaned_read', orphaned_read, orphan=True)
    os.close(done_w)
    os.read(done_r, 1)  # end of file once the orphaned job (which holds done_w) has reported and left
report('end')
