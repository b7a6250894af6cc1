// A tiny static guest for the runner's tests and benchmark. Each mode exercises one part of the
// supervisor mechanism and reports through write(1, ...) (served by the test handler), one
// "key=value" line per fact. Built with -static and without sanitizers.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <cstdint>
#include <initializer_list>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/auxv.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace {

void say(const char* key, long value) {
    char line[160];
    const int n = snprintf(line, sizeof line, "%s=%ld\n", key, value);
    if (n > 0) (void)!write(1, line, static_cast<size_t>(n));
}

// The raw kernel result (-errno on failure).
long raw(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) {
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

long int80(long nr) {
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr) : "memory");
    return ret;
}

sigjmp_buf g_int80_fault;
void on_int80_fault(int) { siglongjmp(g_int80_fault, 1); }

// The i386 entry: its result, or "fault" when the kernel has no 32-bit emulation (int 0x80 then
// raises SIGSEGV before any system call or seccomp filter runs).
void say_int80_getpid() {
    struct sigaction action {}, old {};
    action.sa_handler = on_int80_fault;
    sigaction(SIGSEGV, &action, &old);
    if (sigsetjmp(g_int80_fault, 1) == 0) say("int80_getpid", int80(20));
    else (void)!write(1, "int80_getpid=fault\n", 19);
    sigaction(SIGSEGV, &old, nullptr);
}

int policy() {
    say_int80_getpid();
    say("x32_getpid", raw(SYS_getpid | 0x40000000));
    say("ptrace", raw(SYS_ptrace, 0 /*PTRACE_TRACEME*/));
    say("process_vm_readv", raw(SYS_process_vm_readv, 1, 0, 0, 0, 0, 0));
    say("bpf", raw(SYS_bpf, 0, 0, 0));
    say("io_uring_setup", raw(SYS_io_uring_setup, 1, 0));
    say("mount", raw(SYS_mount, 0, 0, 0, 0, 0));
    say("unshare", raw(SYS_unshare, 0x10000000 /*CLONE_NEWUSER*/));
    say("seccomp", raw(SYS_seccomp, 0, 0, 0));
    say("personality", raw(SYS_personality, 0xffffffff));
    say("personality_linux", raw(SYS_personality, 0x100000000L));  // low 32 bits: PER_LINUX
    say("personality_no_randomize", raw(SYS_personality, 0x0040000 /*ADDR_NO_RANDOMIZE*/));
    say("clone3", raw(SYS_clone3, 0, 0));
    say("getpid", raw(SYS_getpid));  // served: the test handler answers 4242
    const long anon = raw(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    say("anon_mmap_ok", anon > 0 ? 1 : anon);
    // Served, so the handler's ENOSYS comes back (natively it would be EBADF: no fds are open).
    say("file_mmap", raw(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, 0, 0));
    say("madvise_hwpoison", raw(SYS_madvise, anon, 4096, 100));
    say("madvise_dontneed", raw(SYS_madvise, anon, 4096, MADV_DONTNEED));
    unsigned long fs = 0;
    say("arch_prctl_get_fs", raw(SYS_arch_prctl, 0x1003, reinterpret_cast<long>(&fs)));
    say("arch_prctl_get_cpuid", raw(SYS_arch_prctl, 0x1011, 0));
    say("clone_newuser", raw(SYS_clone, 0x10000000 | SIGCHLD, 0, 0, 0, 0));
    return 0;
}

int memory() {
    char buffer[64] = {};
    const long n = raw(SYS_read, 0, reinterpret_cast<long>(buffer), sizeof buffer - 1);
    say("read", n);
    if (n > 0) {
        (void)!write(1, "data=", 5);
        (void)!write(1, buffer, static_cast<size_t>(n));
        (void)!write(1, "\n", 1);
    }
    say("bad_write", raw(SYS_write, 1, 8, 10));
    void* readonly = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    say("readonly_read", raw(SYS_read, 0, reinterpret_cast<long>(readonly), 8));
    // Strings: one that ends right before an inaccessible page, one that runs into it.
    char* pages = static_cast<char*>(mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    mprotect(pages + 4096, 4096, PROT_NONE);
    const char tail[] = "/edge/of/page";
    char* edge = pages + 4096 - sizeof tail;
    memcpy(edge, tail, sizeof tail);
    say("chdir_edge", raw(SYS_chdir, reinterpret_cast<long>(edge)));
    memset(pages + 4096 - 16, 'x', 16);  // no NUL before the guard page
    say("chdir_unterminated", raw(SYS_chdir, reinterpret_cast<long>(pages + 4096 - 16)));
    // A large write goes through process_vm_readv.
    static char big[65536];
    for (size_t i = 0; i < sizeof big; ++i) big[i] = static_cast<char>('a' + i % 26);
    say("big_write", raw(SYS_write, 2, reinterpret_cast<long>(big), sizeof big));
    return 0;
}

// File-backed mappings of box descriptor 7 (the test handler serves them from a memfd).
int filemap() {
    const long addr = raw(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, 7, 0);
    say("private_ok", addr > 0 ? 1 : addr);
    if (addr <= 0) return 1;
    char* bytes = reinterpret_cast<char*>(addr);
    (void)!write(1, "content=", 8);
    (void)!write(1, bytes, strlen(bytes));  // the memfd holds a NUL-terminated line
    say("private_mprotect", raw(SYS_mprotect, addr, 4096, PROT_READ | PROT_WRITE));
    bytes[0] = 'B';  // copy-on-write: the box file is untouched
    const long again = raw(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, 7, 0);
    say("remapped_first_byte", again > 0 ? reinterpret_cast<char*>(again)[0] : again);
    say("shared_writable", raw(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 7, 0));
    const long shared = raw(SYS_mmap, 0, 4096, PROT_READ, MAP_SHARED, 7, 0);
    say("shared_readonly_ok", shared > 0 ? 1 : shared);
    say("shared_mprotect_write", raw(SYS_mprotect, shared, 4096, PROT_READ | PROT_WRITE));
    say("unserved_fd", raw(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, 8, 0));
    return 0;
}

// Waits whose timing the host kernel and the box must agree on. (1) ppoll, pselect6 and
// epoll_pwait with a temporary signal mask, while a child writes to the pipe after 100 ms: each
// sees the byte well before its 5 s timeout (the box must go on serving the child meanwhile). (2) A
// futex with an absolute CLOCK_MONOTONIC deadline 300 ms ahead, as pthread_cond_timedwait,
// sem_clockwait and C++'s wait_for make: the host kernel times it against the clock the box
// serves. (3) pause() in a child returns EINTR once a handled signal arrives.
long elapsed_ms(const timespec& since) {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since.tv_sec) * 1000 + (now.tv_nsec - since.tv_nsec) / 1000000;
}
int timed_waits() {
    const char* names[][2] = {{"ppoll_mask", "ppoll_mask_fast"}, {"pselect_mask", "pselect_mask_fast"},
                              {"epoll_pwait_mask", "epoll_pwait_mask_fast"}};
    for (int kind = 0; kind < 3; ++kind) {
        int fds[2];
        if (pipe(fds) != 0) return 1;
        const pid_t child = fork();
        if (child == 0) {
            const timespec pause_for{0, 100000000};
            nanosleep(&pause_for, nullptr);
            (void)!write(fds[1], "x", 1);
            _exit(0);
        }
        timespec start{};
        clock_gettime(CLOCK_MONOTONIC, &start);
        sigset_t empty;
        sigemptyset(&empty);
        long rc = -1;
        if (kind == 0) {
            pollfd p{fds[0], POLLIN, 0};
            const timespec limit{5, 0};
            rc = ppoll(&p, 1, &limit, &empty);
        } else if (kind == 1) {
            fd_set readable;
            FD_ZERO(&readable);
            FD_SET(fds[0], &readable);
            const timespec limit{5, 0};
            rc = pselect(fds[0] + 1, &readable, nullptr, nullptr, &limit, &empty);
        } else {
            const int ep = epoll_create1(EPOLL_CLOEXEC);
            epoll_event ev{};
            ev.events = EPOLLIN;
            epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev);
            epoll_event out{};
            rc = epoll_pwait(ep, &out, 1, 5000, &empty);
            close(ep);
        }
        say(names[kind][0], rc);
        say(names[kind][1], elapsed_ms(start) < 2000 ? 1 : 0);
        waitpid(child, nullptr, 0);
        close(fds[0]);
        close(fds[1]);
    }

    // A signal that only the wait's mask unblocks ends it (GNU make's jobserver: SIGCHLD blocked
    // except in pselect), for pselect6 and ppoll; the handler has run once the thread unblocks it.
    static volatile sig_atomic_t sigchld_count = 0;
    struct sigaction on_child {};
    on_child.sa_handler = +[](int) { sigchld_count = sigchld_count + 1; };
    sigaction(SIGCHLD, &on_child, nullptr);
    sigset_t chld, empty;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigemptyset(&empty);
    for (int kind = 0; kind < 2; ++kind) {
        sigprocmask(SIG_BLOCK, &chld, nullptr);
        sigchld_count = 0;
        int idle[2];
        if (pipe(idle) != 0) return 1;
        const pid_t child = fork();
        if (child == 0) {
            const timespec pause_for{0, 100000000};
            nanosleep(&pause_for, nullptr);
            _exit(0);
        }
        timespec begin{};
        clock_gettime(CLOCK_MONOTONIC, &begin);
        const timespec limit{5, 0};
        long rc;
        if (kind == 0) {
            fd_set readable;
            FD_ZERO(&readable);
            FD_SET(idle[0], &readable);
            rc = pselect(idle[0] + 1, &readable, nullptr, nullptr, &limit, &empty);
        } else {
            pollfd p{idle[0], POLLIN, 0};
            rc = ppoll(&p, 1, &limit, &empty);
        }
        const int error = errno;
        say(kind == 0 ? "pselect_sigchld" : "ppoll_sigchld", rc < 0 ? -error : rc);
        say(kind == 0 ? "pselect_sigchld_fast" : "ppoll_sigchld_fast", elapsed_ms(begin) < 2000 ? 1 : 0);
        waitpid(child, nullptr, 0);
        sigprocmask(SIG_UNBLOCK, &chld, nullptr);
        say(kind == 0 ? "pselect_sigchld_handled" : "ppoll_sigchld_handled", sigchld_count >= 1 ? 1 : 0);
        close(idle[0]);
        close(idle[1]);
    }
    signal(SIGCHLD, SIG_DFL);

    timespec start{};
    clock_gettime(CLOCK_MONOTONIC, &start);
    timespec deadline = start;
    deadline.tv_nsec += 300000000;
    if (deadline.tv_nsec >= 1000000000) deadline.tv_nsec -= 1000000000, ++deadline.tv_sec;
    int word = 0;
    say("futex_abs_monotonic", raw(SYS_futex, reinterpret_cast<long>(&word), FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0,
                                   reinterpret_cast<long>(&deadline), 0, static_cast<long>(FUTEX_BITSET_MATCH_ANY)));
    const long waited = elapsed_ms(start);
    say("futex_abs_waited", waited >= 250 && waited < 3000 ? 1 : 0);

    int ready[2];
    if (pipe(ready) != 0) return 1;
    const pid_t child = fork();
    if (child == 0) {
        struct sigaction action {};
        action.sa_handler = +[](int) {};
        sigaction(SIGUSR1, &action, nullptr);
        (void)!write(ready[1], "r", 1);
        const long r = raw(SYS_pause);
        _exit(r == -EINTR ? 4 : r == -ENOSYS ? 38 : 5);
    }
    char byte = 0;
    (void)!read(ready[0], &byte, 1);
    int status = 0;
    for (int i = 0; i < 50; ++i) {
        const timespec tick{0, 100000000};
        nanosleep(&tick, nullptr);
        kill(child, SIGUSR1);
        if (waitpid(child, &status, WNOHANG) == child) break;
        if (i == 49) waitpid(child, &status, 0);
    }
    say("pause_status", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}

// sigqueue and pthread_sigqueue carry their value and SI_QUEUE to the handler; a forged
// non-negative si_code to another process is refused (EPERM), as on Linux.
volatile sig_atomic_t queued_code = 0, queued_value = 0, queued_count = 0;
int sigqueue_mode() {
    struct sigaction action {};
    action.sa_sigaction = +[](int, siginfo_t* info, void*) {
        queued_code = info->si_code;
        queued_value = info->si_value.sival_int;
        queued_count = queued_count + 1;
    };
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &action, nullptr);
    union sigval value {};
    value.sival_int = 42;
    say("sigqueue", sigqueue(getpid(), SIGUSR1, value));
    say("sigqueue_code", queued_code);
    say("sigqueue_value", queued_value);
    value.sival_int = 7;
    say("pthread_sigqueue", pthread_sigqueue(pthread_self(), SIGUSR1, value));
    say("pthread_sigqueue_code", queued_code);
    say("pthread_sigqueue_value", queued_value);
    const pid_t parent = getpid();
    const pid_t child = fork();
    if (child == 0) {
        siginfo_t forged {};
        forged.si_signo = SIGUSR1;
        forged.si_code = SI_USER;
        const long r = raw(SYS_rt_sigqueueinfo, parent, SIGUSR1, reinterpret_cast<long>(&forged));
        _exit(r == -EPERM ? 1 : 2);
    }
    int status = 0;
    waitpid(child, &status, 0);
    say("forged_code_refused", WIFEXITED(status) && WEXITSTATUS(status) == 1 ? 1 : 0);
    say("handled", queued_count);
    return 0;
}

// A writable shared mapping of box descriptor 7 (the test handler serves it from a MemfdStore): the
// guest's stores reach the box's copy; descriptor 8 is a host file, which must never be mapped so.
int sharedmap() {
    const long addr = raw(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 7, 0);
    say("shared_ok", addr > 0 ? 1 : addr);
    if (addr <= 0) return 1;
    char* bytes = reinterpret_cast<char*>(addr);
    say("first_byte", bytes[0]);  // what the box wrote before the run
    memcpy(bytes, "guest", 5);
    const long ro = raw(SYS_mmap, 0, 4096, PROT_READ, MAP_SHARED, 7, 0);
    say("readonly_sees", ro > 0 ? reinterpret_cast<char*>(ro)[0] : ro);
    say("readonly_mprotect", raw(SYS_mprotect, ro, 4096, PROT_READ | PROT_WRITE));
    say("host_file", raw(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 8, 0));
    return 0;
}

// A second process (clone must be native for this mode): the child reports and exits with 5
// through exit_group; the parent waits for it on a shared futex word (no served wait4 needed).
int fork_mode() {
    auto* flag = static_cast<volatile int*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    const long child = raw(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (child == 0) {
        (void)!write(1, "child\n", 6);
        *flag = 1;
        raw(SYS_futex, reinterpret_cast<long>(flag), 1 /*FUTEX_WAKE*/, 1);
        raw(SYS_exit_group, 5);
    }
    if (child < 0) {
        say("clone", child);
        return 1;
    }
    while (*flag == 0) raw(SYS_futex, reinterpret_cast<long>(flag), 0 /*FUTEX_WAIT*/, 0, 0);
    (void)!write(1, "parent\n", 7);
    return 0;
}

volatile sig_atomic_t g_handled = 0;
void on_signal(int) { g_handled = g_handled + 1; }

int block(bool restart) {
    struct sigaction action {};
    action.sa_handler = on_signal;
    action.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGUSR1, &action, nullptr);
    char c = 0;
    const long n = raw(SYS_read, 0, reinterpret_cast<long>(&c), 1);
    say("read", n);
    say("handled", g_handled);
    return 0;
}

void* writer(void*) {
    for (int i = 0; i < 3; ++i) (void)!write(1, "B\n", 2);
    return nullptr;
}

int threads() {
    pthread_t thread;
    if (pthread_create(&thread, nullptr, writer, nullptr) != 0) {
        say("pthread_create", -1);
        return 1;
    }
    char c = 0;
    const long n = raw(SYS_read, 0, reinterpret_cast<long>(&c), 1);  // released after three "B"
    pthread_join(thread, nullptr);
    say("main_read", n);
    return 0;
}

int vdso() {
    say("auxv_vdso", getauxval(AT_SYSINFO_EHDR) != 0 ? 1 : 0);
    struct timespec ts {};
    say("clock_gettime", clock_gettime(CLOCK_MONOTONIC, &ts) == 0 ? 0 : -errno);
    return 0;
}

long now_ns() {
    struct timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1'000'000'000L + ts.tv_nsec;
}

volatile sig_atomic_t g_usr1 = 0;
void on_usr1(int) { g_usr1 = g_usr1 + 1; }

// `restart` (for litebox-run): with an SA_RESTART handler for SIGUSR1, a poll interrupted by it
// fails with EINTR (Linux never restarts poll after a handler) while a blocking pipe read is
// restarted and completes. A child keeps signalling until it is killed.
int restart_mode() {
    struct sigaction action {};
    action.sa_handler = on_usr1;
    action.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &action, nullptr);
    int fds[2];
    if (pipe(fds) != 0) return 2;
    const pid_t parent = getpid();
    const pid_t child = fork();
    if (child < 0) return 3;
    if (child == 0) {
        const struct timespec pause_ns {0, 20'000'000};
        for (int i = 0; i < 500; ++i) {  // 10 s at most
            nanosleep(&pause_ns, nullptr);
            kill(parent, SIGUSR1);
            if (i == 10) (void)!write(fds[1], "x", 1);  // the read below completes after ~220 ms
        }
        _exit(0);
    }
    const int polled = poll(nullptr, 0, 10'000);
    say("poll", polled < 0 ? -errno : polled);
    char c = 0;
    const long n = read(fds[0], &c, 1);
    say("read", n < 0 ? -errno : n);
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    say("handled", g_usr1 > 0 ? 1 : 0);
    return 0;
}

// `nointr` (for litebox-run): a child floods this process with SIGUSR1 (handler without
// SA_RESTART) while it runs calls Linux never interrupts -- dup, fstat and close of a regular
// file -- and counts the EINTR failures (Linux: none). A signal landing between a call's seccomp
// trap and the supervisor's receive must not turn into EINTR.
int nointr_mode(long rounds) {
    struct sigaction action {};
    action.sa_handler = on_usr1;
    action.sa_flags = 0;
    sigaction(SIGUSR1, &action, nullptr);
    const int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 2;
    const pid_t parent = getpid();
    const pid_t child = fork();
    if (child < 0) return 3;
    if (child == 0) {
        for (long i = 0; i < 4 * rounds; ++i)
            if (kill(parent, SIGUSR1) != 0) break;
        _exit(0);
    }
    long eintr = 0, other = 0;
    for (long i = 0; i < rounds; ++i) {
        const int copy = dup(fd);
        struct stat st;
        const long results[3] = {copy < 0 ? -errno : 0, fstat(fd, &st) < 0 ? -errno : 0, copy >= 0 && close(copy) < 0 ? -errno : 0};
        for (const long r : results) {
            if (r == -EINTR) ++eintr;
            else if (r < 0) ++other;
        }
    }
    kill(child, SIGKILL);
    while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    say("eintr", eintr);
    say("other_errors", other);
    say("handled", g_usr1 > 0 ? 1 : 0);
    return 0;
}

// `thread-signal` (for litebox-run): a signal sent to one thread (pthread_kill, i.e. tgkill; then
// a raw tkill) runs the handler on that thread and interrupts its blocked pipe read with EINTR
// (handler without SA_RESTART); the main thread is not disturbed.
volatile long g_handler_tid = 0;
void on_usr2(int) { g_handler_tid = raw(SYS_gettid); }
struct Reader {
    int fd = -1;
    volatile long tid = 0;
    long result = 0;
    volatile int done = 0;
};
void* blocked_reader(void* arg) {
    auto* reader = static_cast<Reader*>(arg);
    reader->tid = raw(SYS_gettid);
    char c = 0;
    reader->result = raw(SYS_read, reader->fd, reinterpret_cast<long>(&c), 1);
    reader->done = 1;
    return nullptr;
}
int thread_signal_mode() {
    struct sigaction action {};
    action.sa_handler = on_usr2;
    action.sa_flags = 0;
    sigaction(SIGUSR2, &action, nullptr);
    int fds[2];
    if (pipe(fds) != 0) return 2;
    for (int round = 0; round < 2; ++round) {
        Reader reader;
        reader.fd = fds[0];
        g_handler_tid = 0;
        pthread_t thread;
        if (pthread_create(&thread, nullptr, blocked_reader, &reader) != 0) return 3;
        while (reader.tid == 0) sched_yield();
        // Signal until the read ends: a signal that came before the read blocked only ran the
        // handler, and the next one interrupts the read (each after 50 ms, for a loaded machine).
        long sent = 1;  // the first send's result (a later one may meet a thread that just ended)
        const struct timespec settle {0, 50'000'000};
        for (int attempt = 0; attempt < 200 && !reader.done; ++attempt) {
            nanosleep(&settle, nullptr);
            if (reader.done) break;
            const long r = round == 0 ? -pthread_kill(thread, SIGUSR2) : raw(SYS_tkill, reader.tid, SIGUSR2);
            if (sent == 1) sent = r;
        }
        pthread_join(thread, nullptr);
        const char* name = round == 0 ? "pthread_kill" : "tkill";
        char key[64];
        snprintf(key, sizeof key, "%s_sent", name);
        say(key, sent);
        snprintf(key, sizeof key, "%s_read", name);
        say(key, reader.result);
        snprintf(key, sizeof key, "%s_on_thread", name);
        say(key, g_handler_tid == reader.tid ? 1 : 0);
    }
    return 0;
}

// `exec-signals` (for litebox-run): block SIGUSR1, ignore SIGUSR2, make SIGUSR1 pending, then
// execve this program again, which reports what it inherited (Linux keeps all three).
int exec_signals(bool after) {
    if (!after) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, nullptr);
        signal(SIGUSR2, SIG_IGN);
        kill(getpid(), SIGUSR1);
        char arg0[] = "probe", arg1[] = "exec-signals", arg2[] = "after";
        char* args[] = {arg0, arg1, arg2, nullptr};
        execv("/proc/self/exe", args);
        say("execv", -errno);
        return 1;
    }
    sigset_t mask, pending;
    sigprocmask(SIG_BLOCK, nullptr, &mask);
    sigpending(&pending);
    struct sigaction usr2 {};
    sigaction(SIGUSR2, nullptr, &usr2);
    say("blocked_after_exec", sigismember(&mask, SIGUSR1));
    say("pending_after_exec", sigismember(&pending, SIGUSR1));
    say("ignored_after_exec", usr2.sa_handler == SIG_IGN ? 1 : 0);
    return 0;
}

pthread_t g_main_thread;
void* kill_main(void* result) {
    *static_cast<int*>(result) = pthread_kill(g_main_thread, 0);  // tgkill with glibc's tid of main
    return nullptr;
}

// /proc/self/maps as the box shows it: the program under its box path (from /proc/self/exe), a
// mapped box file under its path, the main thread's stack found by pthread_getattr_np (glibc reads
// maps for it, then asks sched_getaffinity with its idea of the thread's id), and no host name
// (memfd) anywhere.
int maps_mode() {
    char exe[512];
    const ssize_t exe_length = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (exe_length <= 0) return say("readlink", -errno), 1;
    exe[exe_length] = 0;
    const char* path = "/tmp/litebox-maps-probe";
    const int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, "maps!", 5) != 5) return say("create", -errno), 1;
    void* mapped = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (mapped == MAP_FAILED) return say("mmap", -errno), 1;
    // The program's own file, mapped again: under --rootfs-dir a host-directory file (the host
    // descriptor is what the kernel maps), not a memfd copy.
    const int self = open(exe, O_RDONLY);
    void* mapped_self = self < 0 ? MAP_FAILED : mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, self, 0);
    if (self >= 0) close(self);
    if (mapped_self == MAP_FAILED) return say("mmap_self", -errno), 1;

    static char text[1 << 16];
    const int maps = open("/proc/self/maps", O_RDONLY);
    if (maps < 0) return say("open_maps", -errno), 1;
    size_t used = 0;
    for (;;) {
        const ssize_t n = read(maps, text + used, sizeof text - 1 - used);
        if (n <= 0) break;
        used += static_cast<size_t>(n);
    }
    close(maps);
    text[used] = 0;
    int exe_executable = 0, file_line = 0, stack_line = 0, host_file_line = 0;
    const auto here = reinterpret_cast<uintptr_t>(&used);
    for (char* line = text; *line;) {
        char* end = strchr(line, '\n');
        if (end) *end = 0;
        unsigned long start = 0, stop = 0;
        char perms[5] = {};
        int name_at = 0;
        if (sscanf(line, "%lx-%lx %4s %*x %*x:%*x %*u %n", &start, &stop, perms, &name_at) >= 3) {
            const char* name = name_at > 0 ? line + name_at : "";
            if (strcmp(name, exe) == 0 && perms[2] == 'x') exe_executable = 1;
            if (strcmp(name, path) == 0 && start == reinterpret_cast<uintptr_t>(mapped)) file_line = 1;
            if (strcmp(name, exe) == 0 && start == reinterpret_cast<uintptr_t>(mapped_self)) host_file_line = 1;
            if (strcmp(name, "[stack]") == 0 && start <= here && here < stop) stack_line = 1;
        }
        if (!end) break;
        line = end + 1;
    }
    say("exe_executable", exe_executable);
    say("file_line", file_line);
    say("stack_line", stack_line);
    say("host_file_line", host_file_line);
    say("memfd", strstr(text, "memfd") ? 1 : 0);
    pthread_attr_t attr;
    void* stack = nullptr;
    size_t size = 0;
    const int got = pthread_getattr_np(pthread_self(), &attr);
    if (got == 0) {
        pthread_attr_getstack(&attr, &stack, &size);
        pthread_attr_destroy(&attr);
    }
    say("getattr", got);
    const auto low = reinterpret_cast<uintptr_t>(stack);
    say("stack_found", got == 0 && low <= here && here < low + size ? 1 : 0);
    // glibc keeps set_tid_address's answer as the main thread's id: it must be the box's.
    g_main_thread = pthread_self();
    int killed = -1;
    pthread_t other;
    if (pthread_create(&other, nullptr, kill_main, &killed) == 0) pthread_join(other, nullptr);
    say("main_thread_kill", killed);
    unlink(path);
    return 0;
}

// `join-threads N`: N short-lived threads, each created and joined in turn. pthread_join waits until the
// kernel clears the thread's id word (CLONE_CHILD_CLEARTID), which pthread_create also passes as
// CLONE_PARENT_SETTID: the tracer's box-id rewrite of that word must land before the thread can run,
// or a thread that finished first has its cleared word overwritten and the join never returns.
void* no_op(void* arg) { return arg; }
int join_threads_mode(long n) {
    long joined = 0;
    for (long i = 0; i < n; ++i) {
        pthread_t t;
        if (pthread_create(&t, nullptr, no_op, nullptr) != 0) break;
        if (pthread_join(t, nullptr) == 0) ++joined;
    }
    say("threads_joined", joined);
    return joined == n ? 0 : 1;
}

// Benchmark: `getppid N R` prints the median over R repetitions of N getppid calls, in ns/call.
int getppid_loop(long n, int repetitions) {
    long samples[64];
    if (repetitions > 64) repetitions = 64;
    for (int r = 0; r < repetitions; ++r) {
        const long start = now_ns();
        for (long i = 0; i < n; ++i) (void)raw(SYS_getppid);
        samples[r] = (now_ns() - start) / (n > 0 ? n : 1);
    }
    for (int i = 1; i < repetitions; ++i)  // insertion sort
        for (int j = i; j > 0 && samples[j - 1] > samples[j]; --j) {
            const long t = samples[j];
            samples[j] = samples[j - 1];
            samples[j - 1] = t;
        }
    say("getppid_ns_median", samples[repetitions / 2]);
    say("getppid_ns_min", samples[0]);
    return 0;
}

/// Median ns per call of `call` over `repetitions` rounds of `n` calls.
template <typename Call>
long median_per_call(long n, int repetitions, Call call) {
    long samples[64];
    if (repetitions > 64) repetitions = 64;
    if (repetitions < 1) repetitions = 1;
    for (int r = 0; r < repetitions; ++r) {
        const long start = now_ns();
        for (long i = 0; i < n; ++i) call();
        samples[r] = (now_ns() - start) / (n > 0 ? n : 1);
    }
    for (int i = 1; i < repetitions; ++i)
        for (int j = i; j > 0 && samples[j - 1] > samples[j]; --j) {
            const long t = samples[j];
            samples[j] = samples[j - 1];
            samples[j - 1] = t;
        }
    return samples[repetitions / 2];
}

/// What a served call costs by kind (for docs/benchmarks.md): no guest memory (getppid), a small
/// result written back (fstat: 144 bytes), a path read and a result written (newfstatat of a
/// three-component path), and a 4 KiB read of a file (pread), each the median ns per call.
int call_costs(long n, int repetitions) {
    (void)raw(SYS_mkdirat, AT_FDCWD, reinterpret_cast<long>("probe-costs"), 0755);
    (void)raw(SYS_mkdirat, AT_FDCWD, reinterpret_cast<long>("probe-costs/d"), 0755);
    const long fd = raw(SYS_openat, AT_FDCWD, reinterpret_cast<long>("probe-costs/d/file"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return 2;
    static char block[4096];
    memset(block, 'x', sizeof block);
    for (int i = 0; i < 16; ++i)
        if (raw(SYS_write, fd, reinterpret_cast<long>(block), sizeof block) != static_cast<long>(sizeof block)) return 3;
    struct stat st;
    say("getppid_ns", median_per_call(n, repetitions, [] { (void)raw(SYS_getppid); }));
    say("fstat_ns", median_per_call(n, repetitions, [&] { (void)raw(SYS_fstat, fd, reinterpret_cast<long>(&st)); }));
    say("newfstatat_ns", median_per_call(n, repetitions, [&] {
            (void)raw(SYS_newfstatat, AT_FDCWD, reinterpret_cast<long>("probe-costs/d/file"), reinterpret_cast<long>(&st),
                      AT_SYMLINK_NOFOLLOW);
        }));
    long offset = 0;
    say("pread4k_ns", median_per_call(n, repetitions, [&] {
            (void)raw(SYS_pread64, fd, reinterpret_cast<long>(block), sizeof block, offset);
            offset = (offset + 4096) % (16 * 4096);
        }));
    (void)raw(SYS_close, fd);
    return 0;
}

}  // namespace

namespace {

// `timers` (for litebox-run): POSIX timers and ITIMER_REAL fire while the process spins in
// native code (no syscall to ride on). Reports the siginfo a SIGEV_SIGNAL timer carried, that a
// periodic timer keeps firing, that glibc's SIGEV_THREAD callback runs, alarm's remaining
// seconds, and that a forked child has no timers.
volatile sig_atomic_t g_timer_signals = 0;
volatile int g_timer_code = 0, g_timer_id = -1, g_timer_value = 0;
volatile sig_atomic_t g_alarms = 0;
volatile int g_thread_callbacks = 0;
void on_timer(int, siginfo_t* info, void*) {
    g_timer_code = info->si_code;
    g_timer_id = info->si_timerid;
    g_timer_value = info->si_value.sival_int;
    g_timer_signals = g_timer_signals + 1;
}
void on_alarm(int) { g_alarms = g_alarms + 1; }
void on_thread_timer(union sigval value) { __atomic_fetch_add(&g_thread_callbacks, value.sival_int, __ATOMIC_SEQ_CST); }
// Spins without system calls until `done` says so (or about ten seconds of a fast CPU went by).
template <typename Done>
bool spin_until(Done done) {
    for (unsigned long i = 0; i < 40'000'000'000UL; ++i) {
        if (done()) return true;
        __asm__ volatile("" ::: "memory");
    }
    return false;
}

int timers_mode() {
    struct sigaction action {};
    action.sa_sigaction = on_timer;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &action, nullptr);
    struct sigevent event {};
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = SIGUSR1;
    event.sigev_value.sival_int = 77;
    timer_t timer;
    if (timer_create(CLOCK_MONOTONIC, &event, &timer) != 0) return 2;
    struct itimerspec spec {};
    spec.it_value.tv_nsec = 50'000'000;
    if (timer_settime(timer, 0, &spec, nullptr) != 0) return 3;
    say("oneshot_fired", spin_until([] { return g_timer_signals >= 1; }) ? 1 : 0);
    say("si_timer", g_timer_code == SI_TIMER ? 1 : 0);
    say("si_timerid", g_timer_id == static_cast<int>(reinterpret_cast<intptr_t>(timer)) ? 1 : 0);
    say("si_value", g_timer_value);
    spec.it_interval.tv_nsec = 20'000'000;
    spec.it_value.tv_nsec = 20'000'000;
    if (timer_settime(timer, 0, &spec, nullptr) != 0) return 4;
    say("periodic_fired", spin_until([] { return g_timer_signals >= 6; }) ? 1 : 0);
    say("overrun_ok", timer_getoverrun(timer) >= 0 ? 1 : 0);
    say("delete", timer_delete(timer));
    say("deleted_gettime", timer_gettime(timer, &spec) == -1 && errno == EINVAL ? 1 : 0);

    struct sigevent threaded {};
    threaded.sigev_notify = SIGEV_THREAD;
    threaded.sigev_notify_function = on_thread_timer;
    threaded.sigev_value.sival_int = 1;
    timer_t thread_timer;
    if (timer_create(CLOCK_REALTIME, &threaded, &thread_timer) != 0) return 5;
    struct itimerspec once {};
    once.it_value.tv_nsec = 30'000'000;
    if (timer_settime(thread_timer, 0, &once, nullptr) != 0) return 6;
    say("sigev_thread", spin_until([] { return __atomic_load_n(&g_thread_callbacks, __ATOMIC_SEQ_CST) >= 1; }) ? 1 : 0);
    timer_delete(thread_timer);

    signal(SIGALRM, on_alarm);
    say("alarm_first", alarm(10));
    say("alarm_left", alarm(0));
    struct itimerval real {};
    real.it_value.tv_usec = 40'000;
    real.it_interval.tv_usec = 40'000;
    setitimer(ITIMER_REAL, &real, nullptr);
    say("itimer_fired", spin_until([] { return g_alarms >= 3; }) ? 1 : 0);
    struct itimerval old {};
    const struct itimerval off {};
    setitimer(ITIMER_REAL, &off, &old);
    say("itimer_interval_us", old.it_interval.tv_usec);

    alarm(20);
    timer_t kept;
    if (timer_create(CLOCK_MONOTONIC, nullptr, &kept) != 0) return 7;
    const pid_t child = fork();
    if (child == 0) {
        const unsigned left = alarm(0);
        struct itimerspec none {};
        const int gone = timer_gettime(kept, &none) == -1 && errno == EINVAL;
        _exit(left == 0 && gone ? 0 : 1);
    }
    int status = -1;
    waitpid(child, &status, 0);
    say("fork_child_clear", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 1 : 0);
    say("parent_alarm_kept", alarm(0) >= 19 ? 1 : 0);
    return 0;
}

volatile sig_atomic_t g_sigchld = 0;
void on_sigchld(int) { g_sigchld = g_sigchld + 1; }

// Linux may wake a parent's wait before it sends the SIGCHLD (a continued child notifies its
// parent when it next runs): give the signal up to 2 s.
bool sigchld_arrives() {
    const struct timespec slice {0, 10'000'000};
    for (int i = 0; i < 200 && g_sigchld == 0; ++i) nanosleep(&slice, nullptr);
    return g_sigchld > 0;
}

// The one-letter state of `pid` from /proc/PID/stat ('?' if unreadable).
char proc_state(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    const int fd = open(path, O_RDONLY);
    if (fd < 0) return '?';
    char text[512] = {};
    const long n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return '?';
    const char* paren = strrchr(text, ')');
    return paren != nullptr && paren[1] == ' ' ? paren[2] : '?';
}

// `jobctl` (for litebox-run): a child stopped by SIGSTOP and continued by SIGCONT, as the parent
// sees it through waitpid (WUNTRACED, WCONTINUED), waitid (WSTOPPED, WCONTINUED, WNOWAIT), its
// SIGCHLD handler and /proc/PID/stat. Exact statuses, as Linux reports them.
int jobctl_mode() {
    struct sigaction action {};
    action.sa_handler = on_sigchld;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGCHLD, &action, nullptr);
    const pid_t child = fork();
    if (child < 0) return 2;
    if (child == 0) {
        for (;;) pause();
    }
    int status = 0;
    kill(child, SIGSTOP);
    const pid_t stopped = waitpid(child, &status, WUNTRACED);
    say("stop_waited", stopped == child ? 1 : -errno);
    say("stop_status", status);
    say("stopped_sig", WIFSTOPPED(status) ? WSTOPSIG(status) : -1);
    say("stop_again", waitpid(child, &status, WUNTRACED | WNOHANG));
    say("sigchld_on_stop", sigchld_arrives() ? 1 : 0);
    const char state = proc_state(child);
    char line[32];
    const int length = snprintf(line, sizeof line, "proc_state_stopped=%c\n", state);
    if (length > 0) (void)!write(1, line, static_cast<size_t>(length));
    g_sigchld = 0;
    kill(child, SIGCONT);
    status = 0;
    const pid_t continued = waitpid(child, &status, WCONTINUED);
    say("continue_waited", continued == child ? 1 : -errno);
    say("continue_status", status);
    say("continued", WIFCONTINUED(status) ? 1 : 0);
    say("continue_again", waitpid(child, &status, WCONTINUED | WNOHANG));
    say("sigchld_on_continue", sigchld_arrives() ? 1 : 0);
    say("proc_state_continued_not_t", proc_state(child) != 'T' ? 1 : 0);

    kill(child, SIGSTOP);
    for (const int flags : {WSTOPPED | WNOWAIT, WSTOPPED}) {
        siginfo_t info {};
        const int rc = waitid(P_PID, static_cast<id_t>(child), &info, flags);
        say(flags == WSTOPPED ? "waitid_rc" : "waitid_nowait_rc", rc == 0 ? 0 : -errno);
        say(flags == WSTOPPED ? "waitid_code" : "waitid_nowait_code", info.si_code);
        say(flags == WSTOPPED ? "waitid_status" : "waitid_nowait_status", info.si_status);
        say(flags == WSTOPPED ? "waitid_pid_ok" : "waitid_nowait_pid_ok", info.si_pid == child ? 1 : 0);
    }
    siginfo_t none {};
    none.si_pid = 12345;
    say("waitid_again_rc", waitid(P_PID, static_cast<id_t>(child), &none, WSTOPPED | WNOHANG) == 0 ? 0 : -errno);
    say("waitid_again_pid", none.si_pid);
    kill(child, SIGCONT);
    siginfo_t info {};
    say("waitid_continued_rc", waitid(P_ALL, 0, &info, WCONTINUED) == 0 ? 0 : -errno);
    say("waitid_continued_code", info.si_code);
    say("waitid_continued_status", info.si_status);

    kill(child, SIGKILL);
    status = 0;
    waitpid(child, &status, WUNTRACED | WCONTINUED);
    say("killed", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    return 0;
}


void* idle_thread(void*) {
    for (;;) pause();
}

// A second thread that waits in a served call (a read of an empty box pipe): a stop sent to the
// process goes to this thread (the supervisor interrupts its call).
void* reading_thread(void*) {
    int fds[2];
    if (pipe(fds) != 0) for (;;) pause();
    char byte;
    for (;;) (void)!read(fds[0], &byte, 1);
}

// `exec-chain QUIT PROGRESS [threaded|blocked]` (for `exec-stop`): one step of an endless chain of
// execve calls of this program. Each step writes one byte to descriptor PROGRESS and ends the chain
// (exit 0) once descriptor QUIT (a non-blocking pipe) is at end of file. `threaded`: each step
// starts a second thread first, which takes a stop while the main thread is in its execve;
// `blocked`: that thread waits in a served call (reading_thread).
int exec_chain(char** argv) {
    const int quit = atoi(argv[2]);
    const int progress = atoi(argv[3]);
    (void)!write(progress, "x", 1);
    char byte;
    if (read(quit, &byte, 1) == 0) return 0;
    pthread_t idle;
    void* (*second)(void*) = argv[4] != nullptr && strcmp(argv[4], "blocked") == 0 ? reading_thread : idle_thread;
    if (argv[4] != nullptr && pthread_create(&idle, nullptr, second, nullptr) != 0) return 4;
    execv("/proc/self/exe", argv);
    return 3;
}

// Milliseconds on the monotonic clock.
long now_ms() {
    struct timespec t {};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1'000'000;
}

// Bytes readable now from non-blocking descriptor `fd` (drained).
long drain(int fd) {
    char buffer[256];
    long total = 0;
    for (;;) {
        const long n = read(fd, buffer, sizeof buffer);
        if (n <= 0) return total;
        total += n;
    }
}

// `exec-stop ROUNDS [threaded|blocked]` (for litebox-run): a child that does nothing but execve
// itself (exec-chain) is stopped by SIGSTOP at a varying moment, most often while an execve is under way.
// Linux stops it before or after the exec: the parent's waitpid(WUNTRACED) sees it stopped (never
// exited), it makes no progress while stopped, and SIGCONT lets it go on until it is told to end.
// `threaded`: the child has a second thread, which takes the stop; `blocked`: that thread waits in a
// served call, so the stop is sent to it (exec-chain).
int exec_stop(long rounds, const char* variant) {
    long stopped = 0, frozen = 0, finished = 0, escaped = 0;
    for (long round = 0; round < rounds; ++round) {
        int quit[2], progress[2];
        if (pipe2(quit, O_NONBLOCK) != 0 || pipe2(progress, O_NONBLOCK) != 0) return 2;
        (void)fcntl(quit[1], F_SETFD, FD_CLOEXEC);     // the child keeps only the read end of quit
        (void)fcntl(progress[0], F_SETFD, FD_CLOEXEC);  // and the write end of progress
        const pid_t child = fork();
        if (child < 0) return 2;
        if (child == 0) {
            char arg0[] = "probe", arg1[] = "exec-chain", arg2[16], arg3[16], arg4[16] = {};
            snprintf(arg2, sizeof arg2, "%d", quit[0]);
            snprintf(arg3, sizeof arg3, "%d", progress[1]);
            if (variant != nullptr) snprintf(arg4, sizeof arg4, "%s", variant);
            char* args[] = {arg0, arg1, arg2, arg3, variant != nullptr ? arg4 : nullptr, nullptr};
            execv("/proc/self/exe", args);
            _exit(3);
        }
        close(quit[0]);
        close(progress[1]);
        // Let the chain run a few steps, then stop it somewhere within an exec or between two.
        const long start = now_ms();
        long steps = 0;
        while (steps < 3 && now_ms() - start < 5000) {
            steps += drain(progress[0]);
            const struct timespec slice {0, 200'000};
            nanosleep(&slice, nullptr);
        }
        const struct timespec delay {0, (round % 7) * 300'000};
        nanosleep(&delay, nullptr);
        kill(child, SIGSTOP);
        // A lost stop never shows: give the report 30 s (on a loaded machine the execve under way,
        // which the stop waits for, took up to 9 s).
        int status = 0;
        pid_t waited = 0;
        for (const long asked = now_ms(); waited == 0 && now_ms() - asked < 30000;) {
            waited = waitpid(child, &status, WUNTRACED | WNOHANG);
            const struct timespec slice {0, 1'000'000};
            if (waited == 0) nanosleep(&slice, nullptr);
        }
        if (waited == child && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP) {
            ++stopped;
            // Stopped for real: no step for a while (a step is a few milliseconds at most).
            (void)drain(progress[0]);
            const struct timespec hold {0, 60'000'000};
            nanosleep(&hold, nullptr);
            if (drain(progress[0]) == 0 && waitpid(child, &status, WNOHANG) == 0) ++frozen;
            close(quit[1]);  // the chain ends at its next step
            kill(child, SIGCONT);
            if (waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0) ++finished;
        } else {
            ++escaped;  // the stop was lost: the chain went on
            close(quit[1]);
            kill(child, SIGKILL);
            (void)waitpid(child, &status, 0);
        }
        close(progress[0]);
    }
    say("rounds", rounds);
    say("stopped", stopped);
    say("frozen", frozen);
    say("finished", finished);
    say("escaped", escaped);
    return 0;
}


int g_marker_fd = -1;
void on_marker(int sig) {
    const char c = sig == SIGTSTP ? 't' : 'r';
    (void)!write(g_marker_fd, &c, 1);
}
constexpr int marker_signal = 40;  // a real-time signal: delivered after any pending standard one

// A child for `jobctl-tstp`: writes 's' once its handlers are in place, 'r' for each
// marker_signal, 't' for each SIGTSTP when `tstp` is 1 (handled); 2 ignores SIGTSTP.
[[noreturn]] void job_child(int marker_fd, int tstp) {
    g_marker_fd = marker_fd;
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives the probe
    struct sigaction action {};
    action.sa_handler = on_marker;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(marker_signal, &action, nullptr);
    if (tstp == 1) sigaction(SIGTSTP, &action, nullptr);
    if (tstp == 2) signal(SIGTSTP, SIG_IGN);
    (void)!write(marker_fd, "s", 1);
    for (;;) pause();
}

// The next byte from `fd` within `timeout_ms`, or 0.
char next_marker(int fd, int timeout_ms) {
    struct pollfd p {fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return 0;
    char c = 0;
    return read(fd, &c, 1) == 1 ? c : 0;
}

// Starts a job_child; with `own_group` in a process group of its own (both sides call setpgid,
// as a shell does). Returns once its handlers are in place.
pid_t start_job(const int marker[2], bool own_group, int tstp) {
    const pid_t child = fork();
    if (child == 0) {
        if (own_group) setpgid(0, 0);
        job_child(marker[1], tstp);
    }
    if (child > 0 && own_group) setpgid(child, child);
    if (child > 0 && next_marker(marker[0], 5000) != 's') return -1;
    return child;
}

void end_job(pid_t child) {
    int status = 0;
    kill(child, SIGKILL);
    (void)waitpid(child, &status, 0);
}

// waitpid(child, `flags` | WNOHANG) for up to 5 s: the status, or -1 if none came.
int wait_status_of(pid_t child, int flags) {
    int status = 0;
    for (int i = 0; i < 500; ++i) {
        const pid_t waited = waitpid(child, &status, flags | WNOHANG);
        if (waited == child) return status;
        if (waited != 0) return -1;
        const struct timespec slice {0, 10'000'000};
        nanosleep(&slice, nullptr);
    }
    return -1;
}

// The signal that stopped `child` (waitpid WUNTRACED, up to 5 s), 0 if it did not stop.
int stop_signal_of(pid_t child) {
    const int status = wait_status_of(child, WUNTRACED);
    return status != -1 && WIFSTOPPED(status) ? WSTOPSIG(status) : 0;
}

// `jobctl-tstp` (for litebox-run): SIGTSTP, SIGTTIN and SIGTTOU stop a process whose group is not
// orphaned and are discarded in an orphaned group (POSIX; Linux's is_current_pgrp_orphaned). The
// probe makes a session of its own first, so the result does not depend on where it runs: a child
// in the session leader's group (whose parent is in another session) is in an orphaned group, a
// child in a group of its own (its parent, the leader, in the same session) is not.
int jobctl_tstp() {
    const pid_t leader = fork();
    if (leader < 0) return 2;
    if (leader > 0) {
        int status = 0;
        (void)waitpid(leader, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
    }
    if (setsid() < 0) _exit(2);
    int marker[2];
    if (pipe(marker) != 0) _exit(2);
    // Orphaned group: the signal is discarded, the marker after it is handled.
    const pid_t orphaned = start_job(marker, false, 0);
    if (orphaned < 0) _exit(2);
    kill(orphaned, SIGTSTP);
    kill(orphaned, marker_signal);
    say("orphaned_tstp_runs", next_marker(marker[0], 5000) == 'r' ? 1 : 0);
    int status = 0;
    say("orphaned_tstp_not_stopped", waitpid(orphaned, &status, WUNTRACED | WNOHANG));
    end_job(orphaned);
    // A group of its own: each stops the child, and wait reports that signal.
    for (const int sig : {SIGTSTP, SIGTTIN, SIGTTOU}) {
        const pid_t job = start_job(marker, true, 0);
        if (job < 0) _exit(2);
        kill(job, sig);
        const char* name = sig == SIGTSTP ? "tstp" : sig == SIGTTIN ? "ttin" : "ttou";
        char key[48];
        snprintf(key, sizeof key, "%s_stop_signal", name);
        say(key, stop_signal_of(job));
        kill(job, marker_signal);  // not handled while stopped...
        snprintf(key, sizeof key, "%s_holds", name);
        say(key, next_marker(marker[0], 200) == 0 ? 1 : 0);
        kill(job, SIGCONT);
        snprintf(key, sizeof key, "%s_continued", name);
        status = wait_status_of(job, WCONTINUED);
        say(key, status != -1 && WIFCONTINUED(status) ? 1 : 0);
        snprintf(key, sizeof key, "%s_then_runs", name);  // ...but once continued
        say(key, next_marker(marker[0], 5000) == 'r' ? 1 : 0);
        end_job(job);
    }
    // Handled or ignored, SIGTSTP stops nothing.
    const pid_t handled = start_job(marker, true, 1);
    if (handled < 0) _exit(2);
    kill(handled, SIGTSTP);
    say("handled_tstp_runs_handler", next_marker(marker[0], 5000) == 't' ? 1 : 0);
    say("handled_tstp_not_stopped", waitpid(handled, &status, WUNTRACED | WNOHANG));
    end_job(handled);
    const pid_t ignoring = start_job(marker, true, 2);
    if (ignoring < 0) _exit(2);
    kill(ignoring, SIGTSTP);
    kill(ignoring, marker_signal);
    say("ignored_tstp_runs", next_marker(marker[0], 5000) == 'r' ? 1 : 0);
    say("ignored_tstp_not_stopped", waitpid(ignoring, &status, WUNTRACED | WNOHANG));
    end_job(ignoring);
    // SIGSTOP stops a process in an orphaned group too.
    const pid_t stopped = start_job(marker, false, 0);
    if (stopped < 0) _exit(2);
    kill(stopped, SIGSTOP);
    say("orphaned_sigstop_stop_signal", stop_signal_of(stopped));
    end_job(stopped);
    _exit(0);
}

// For `orphaned-pgrp`: a job that writes 'h' for SIGHUP and 'c' for SIGCONT when `handled`
// (else both keep their default actions), 's' and its pid once ready, stops itself when `stop`,
// and writes 'e' before it exits once it runs again (after `linger_ms` of sleep: long enough for
// a hangup that should not come to arrive first).
int g_orphan_fd = -1;
void on_orphan_signal(int sig) {
    const char c = sig == SIGHUP ? 'h' : 'c';
    (void)!write(g_orphan_fd, &c, 1);
}
[[noreturn]] void orphan_job(int fd, bool handled, bool stop, int linger_ms) {
    g_orphan_fd = fd;
    if (handled) {
        struct sigaction action {};
        action.sa_handler = on_orphan_signal;
        sigemptyset(&action.sa_mask);
        sigaction(SIGHUP, &action, nullptr);
        sigaction(SIGCONT, &action, nullptr);
    }
    char ready[1 + sizeof(pid_t)] = {'s'};
    const pid_t self = getpid();
    memcpy(ready + 1, &self, sizeof self);
    (void)!write(fd, ready, sizeof ready);
    if (stop) kill(self, SIGSTOP);
    const struct timespec linger {0, static_cast<long>(linger_ms) * 1'000'000};
    nanosleep(&linger, nullptr);
    (void)!write(fd, "e", 1);
    _exit(0);
}

// One `orphaned-pgrp` case: a new session whose leader starts a job in a group of its own (with
// `member`, the job's leader forks the job and exits once it stopped, the session leader staying);
// without `member`, the session leader exits once the job stopped (or at once when it does not
// stop). Says what the job wrote: hup, cont, ran_on (it ran after the exit) and gone (its end of
// the pipe closed within 5 s: it exited or was killed).
void orphan_case(const char* name, bool handled, bool stop, bool member) {
    int marks[2], hold[2];
    if (pipe(marks) != 0 || pipe(hold) != 0) _exit(2);
    const pid_t leader = fork();
    if (leader == 0) {
        close(marks[0]);
        close(hold[1]);
        if (setsid() < 0) _exit(2);
        const pid_t group_leader = fork();
        if (group_leader == 0) {
            close(hold[0]);
            setpgid(0, 0);
            if (!member) orphan_job(marks[1], handled, stop, stop ? 0 : 300);
            const pid_t job = fork();
            if (job == 0) orphan_job(marks[1], handled, stop, 0);
            close(marks[1]);
            (void)stop_signal_of(job);  // stopped (WUNTRACED): now leave it
            _exit(0);
        }
        close(marks[1]);
        setpgid(group_leader, group_leader);
        if (member) {
            int status = 0;
            (void)waitpid(group_leader, &status, 0);
            char c = 0;
            while (read(hold[0], &c, 1) > 0) {  // until the probe has seen the job end
            }
        } else if (stop) {
            (void)stop_signal_of(group_leader);
        }
        _exit(0);
    }
    close(marks[1]);
    close(hold[0]);
    char ready[1 + sizeof(pid_t)] = {};
    std::size_t got = 0;
    while (got < sizeof ready) {
        struct pollfd p {marks[0], POLLIN, 0};
        if (poll(&p, 1, 5000) != 1) break;
        const ssize_t n = read(marks[0], ready + got, sizeof ready - got);
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    pid_t job = -1;
    if (got == sizeof ready && ready[0] == 's') memcpy(&job, ready + 1, sizeof job);
    if (!member) {
        int status = 0;
        (void)waitpid(leader, &status, 0);
    }
    int hup = 0, cont = 0, ran_on = 0, gone = 0;
    for (;;) {
        struct pollfd p {marks[0], POLLIN, 0};
        if (poll(&p, 1, 5000) != 1) break;
        char c = 0;
        const ssize_t n = read(marks[0], &c, 1);
        if (n <= 0) {
            gone = 1;
            break;
        }
        hup += c == 'h';
        cont += c == 'c';
        ran_on += c == 'e';
    }
    if (!gone && job > 0) kill(job, SIGKILL);  // still stopped: no hangup came
    close(hold[1]);
    close(marks[0]);
    if (member) {
        int status = 0;
        (void)waitpid(leader, &status, 0);
    }
    const char* const what[] = {"hup", "cont", "ran_on", "gone"};
    const int value[] = {hup, cont, ran_on, gone};
    for (int i = 0; i < 4; ++i) {
        char key[64];
        snprintf(key, sizeof key, "%s_%s", name, what[i]);
        say(key, value[i]);
    }
}

// `orphaned-pgrp` (for litebox-run): an exit that orphans a process group with a stopped member
// sends every member SIGHUP then SIGCONT (POSIX; Linux's kill_orphaned_pgrp): when a session
// leader exits and its job's group loses its last parent in the session, and when a job's group
// leader exits and leaves its stopped child. A stopped job with the default action dies of the
// SIGHUP; a job that is not stopped hears nothing.
int orphaned_pgrp() {
    orphan_case("stopped_job", true, true, false);
    orphan_case("running_job", true, false, false);
    orphan_case("stopped_default", false, true, false);
    orphan_case("stopped_member", true, true, true);
    return 0;
}

// `foreground-job` (for litebox-run on a terminal): a child in a process group of its own is made
// the terminal's foreground group; the host's ^Z then stops it with SIGTSTP (the group is not
// orphaned: its parent, this process, is in another group of the session), which waitpid reports.
int foreground_job() {
    const pid_t child = fork();
    if (child < 0) return 2;
    if (child == 0) {
        setpgid(0, 0);
        for (;;) pause();
    }
    setpgid(child, child);
    signal(SIGTTOU, SIG_IGN);  // taking the terminal back from the background, as a shell does
    if (tcsetpgrp(0, child) != 0) {
        say("tcsetpgrp", -errno);
        return 1;
    }
    say("ready", 1);
    int status = -1;
    for (int i = 0; i < 6 && status == -1; ++i) status = wait_status_of(child, WUNTRACED);
    say("job_stop_signal", status != -1 && WIFSTOPPED(status) ? WSTOPSIG(status) : 0);
    (void)tcsetpgrp(0, getpgrp());
    end_job(child);
    return 0;
}

}  // namespace


// execveat: fexecve of a binary (close-on-exec or not, a memfd too), of a `#!` script (ENOENT
// from a close-on-exec descriptor: its /dev/fd name is gone after the exec), dirfd-relative
// paths and the error rules. Each attempt runs in a child; the parent prints its exit status
// (200 + errno when execveat returned).
int exec_status(int dirfd, const char* path, char* const* argv, int flags) {
    const pid_t child = fork();
    if (child == 0) {
        char* envp[] = {const_cast<char*>("PATH=/usr/bin:/bin"), nullptr};
        const long r = raw(SYS_execveat, dirfd, reinterpret_cast<long>(path), reinterpret_cast<long>(argv),
                           reinterpret_cast<long>(envp), flags);
        _exit(200 + static_cast<int>(-r));
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}
int execveat_mode(const char* self) {
    char exit7[] = "exit", seven[] = "7";
    char* binary_argv[] = {const_cast<char*>(self), exit7, seven, nullptr};
    const int cloexec_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    const int plain_fd = open("/proc/self/exe", O_RDONLY);
    say("binary_cloexec", exec_status(cloexec_fd, "", binary_argv, AT_EMPTY_PATH));
    say("binary_plain", exec_status(plain_fd, "", binary_argv, AT_EMPTY_PATH));
    // A memfd copy of the program: an unnamed file.
    const int memfd = static_cast<int>(raw(SYS_memfd_create, reinterpret_cast<long>("probe"), MFD_CLOEXEC));
    char buffer[65536];
    ssize_t n;
    (void)lseek(plain_fd, 0, SEEK_SET);
    while ((n = read(plain_fd, buffer, sizeof buffer)) > 0) (void)!write(memfd, buffer, static_cast<size_t>(n));
    say("binary_memfd", exec_status(memfd, "", binary_argv, AT_EMPTY_PATH));
    // A dynamically linked program (the host's /bin/false): its loader opens it by name.
    char false_name[] = "false";
    char* false_argv[] = {false_name, nullptr};
    say("dynamic_cloexec", exec_status(open("/bin/false", O_RDONLY | O_CLOEXEC), "", false_argv, AT_EMPTY_PATH));
    say("dynamic_plain", exec_status(open("/bin/false", O_RDONLY), "", false_argv, AT_EMPTY_PATH));
    // The guest's own offset is not moved by the exec reading the file.
    say("offset_kept", lseek(plain_fd, 0, SEEK_CUR) == lseek(plain_fd, 0, SEEK_END));

    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/litebox-execveat-%d", static_cast<int>(getpid()));
    (void)mkdir(dir, 0755);
    char script[96], link_path[96];
    snprintf(script, sizeof script, "%s/script", dir);
    snprintf(link_path, sizeof link_path, "%s/link", dir);
    const int out = open(script, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    (void)!write(out, "#!/bin/sh\nexit 5\n", 17);
    close(out);
    (void)symlink("script", link_path);
    char script_name[] = "script";
    char* script_argv[] = {script_name, nullptr};
    const int script_cloexec = open(script, O_RDONLY | O_CLOEXEC);
    const int script_plain = open(script, O_RDONLY);
    say("script_cloexec", exec_status(script_cloexec, "", script_argv, AT_EMPTY_PATH));
    say("script_plain", exec_status(script_plain, "", script_argv, AT_EMPTY_PATH));
    const int dir_cloexec = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const int dir_plain = open(dir, O_RDONLY | O_DIRECTORY);
    say("dirfd_script_cloexec", exec_status(dir_cloexec, "script", script_argv, 0));
    say("dirfd_script_plain", exec_status(dir_plain, "script", script_argv, 0));
    say("dirfd_link", exec_status(dir_plain, "link", script_argv, 0));
    say("dirfd_link_nofollow", exec_status(dir_plain, "link", script_argv, AT_SYMLINK_NOFOLLOW));
    say("absolute_ignores_dirfd", exec_status(-1, "/proc/self/exe", binary_argv, 0));
    // Errors.
    say("empty_without_flag", exec_status(plain_fd, "", binary_argv, 0));
    say("bad_flags", exec_status(plain_fd, "", binary_argv, 0x1));
    say("bad_fd", exec_status(999, "", binary_argv, AT_EMPTY_PATH));
    say("relative_to_file", exec_status(plain_fd, "x", binary_argv, 0));
    say("directory_fd", exec_status(dir_plain, "", binary_argv, AT_EMPTY_PATH));
    int pipe_fds[2];
    (void)!pipe(pipe_fds);
    say("pipe_fd", exec_status(pipe_fds[0], "", binary_argv, AT_EMPTY_PATH));
    (void)chmod(script, 0644);
    say("not_executable", exec_status(script_plain, "", script_argv, AT_EMPTY_PATH));
    unlink(link_path);
    unlink(script);
    rmdir(dir);
    return 0;
}

// /proc/self/fd/N of directories that are host mount points (/proc, /dev) and of files opened
// through a symbolic link name the object itself (ls -la /dev/fd/ reads them).
int same_link(int fd, const char* expected) {
    char link[64], text[256];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = readlink(link, text, sizeof text - 1);
    if (n < 0) return -errno;
    text[n] = '\0';
    return strcmp(text, expected) == 0;
}
int fdlinks_mode() {
    say("proc_dir", same_link(open("/proc", O_RDONLY | O_DIRECTORY), "/proc"));
    say("dev_dir", same_link(open("/dev", O_RDONLY | O_DIRECTORY), "/dev"));
    say("root_dir", same_link(open("/", O_RDONLY | O_DIRECTORY), "/"));
    char exe[256];
    const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    say("through_exe_link", same_link(open("/proc/self/exe", O_RDONLY), exe));
    char dir[64], file[96], link_path[96];
    snprintf(dir, sizeof dir, "/tmp/litebox-fdlinks-%d", static_cast<int>(getpid()));
    (void)mkdir(dir, 0755);
    snprintf(file, sizeof file, "%s/target", dir);
    snprintf(link_path, sizeof link_path, "%s/link", dir);
    close(open(file, O_WRONLY | O_CREAT, 0644));
    (void)symlink("target", link_path);
    say("through_symlink", same_link(open(link_path, O_RDONLY), file));
    unlink(link_path);
    unlink(file);
    rmdir(dir);
    return 0;
}

// Calls that were ENOSYS: personality's harmless forms, ioprio, the mlock family, readahead,
// sync_file_range, preadv2/pwritev2 flags. Each result (or -errno) against native.
int smallcalls_mode() {
    say("personality_query", raw(SYS_personality, 0xffffffffL));
    say("personality_linux", raw(SYS_personality, 0));
    say("ioprio_set_be", raw(SYS_ioprio_set, 1, 0, (2 << 13) | 5));
    say("ioprio_get", raw(SYS_ioprio_get, 1, 0));
    say("ioprio_set_none_level", raw(SYS_ioprio_set, 1, 0, 3));
    say("ioprio_set_bad_class", raw(SYS_ioprio_set, 1, 0, 5 << 13));
    say("ioprio_get_bad_which", raw(SYS_ioprio_get, 7, 0));
    const pid_t child = fork();
    if (child == 0) _exit(static_cast<int>(raw(SYS_ioprio_get, 1, 0) == ((2 << 13) | 5)));
    int status = 0;
    waitpid(child, &status, 0);
    say("ioprio_inherited", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    say("ioprio_set_idle", raw(SYS_ioprio_set, 1, 0, 3 << 13));
    say("ioprio_get_idle", raw(SYS_ioprio_get, 1, 0));

    void* page = mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    say("mlock", raw(SYS_mlock, reinterpret_cast<long>(page), 8192));
    say("munlock", raw(SYS_munlock, reinterpret_cast<long>(page), 8192));
    say("mlock2_onfault", raw(SYS_mlock2, reinterpret_cast<long>(page), 100, 1));
    say("munlock_again", raw(SYS_munlock, reinterpret_cast<long>(page), 100));
    say("mlock2_bad_flags", raw(SYS_mlock2, reinterpret_cast<long>(page), 4096, 2));
    say("mlock_unmapped", raw(SYS_mlock, 4096, 4096));
    say("munlock_unmapped", raw(SYS_munlock, 4096, 4096));
    say("mlock_wraps", raw(SYS_munlock, 0x7fff00000000L, -4096L));
    say("mlockall_zero", raw(SYS_mlockall, 0));
    say("mlockall_onfault_alone", raw(SYS_mlockall, 4));
    say("munlockall", raw(SYS_munlockall));

    char path[64];
    snprintf(path, sizeof path, "/tmp/litebox-small-%d", static_cast<int>(getpid()));
    const int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    const int write_only = open(path, O_WRONLY);
    int fds[2];
    (void)!pipe(fds);
    say("readahead", raw(SYS_readahead, fd, 0, 4096));
    say("readahead_write_only", raw(SYS_readahead, write_only, 0, 4096));
    say("readahead_pipe", raw(SYS_readahead, fds[0], 0, 4096));
    say("readahead_negative_count", raw(SYS_readahead, fd, 0, -1));
    say("sync_file_range", raw(SYS_sync_file_range, fd, 0, 4096, 7));
    say("sync_file_range_flags", raw(SYS_sync_file_range, fd, 0, 4096, 8));
    say("sync_file_range_negative", raw(SYS_sync_file_range, fd, -1, 4096, 0));
    say("sync_file_range_pipe", raw(SYS_sync_file_range, fds[0], 0, 1, 2));
    say("sync_file_range_badfd", raw(SYS_sync_file_range, 999, 0, 1, 8));

    char text[] = "abc";
    struct iovec out = {text, 3};
    say("pwritev2_at_offset", raw(SYS_pwritev2, fd, reinterpret_cast<long>(&out), 1, -1, 0, 0));
    say("pwritev2_append", raw(SYS_pwritev2, fd, reinterpret_cast<long>(&out), 1, 0, 0, 0x10));
    say("offset_after_positional_append", lseek(fd, 0, SEEK_CUR));
    say("pwritev2_append_at_offset", raw(SYS_pwritev2, fd, reinterpret_cast<long>(&out), 1, -1, 0, 0x10 | 0x2));
    say("offset_after_append", lseek(fd, 0, SEEK_CUR));
    say("pwritev2_hipri_sync", raw(SYS_pwritev2, fd, reinterpret_cast<long>(&out), 1, 0, 0, 0x1 | 0x4));
    char in[16] = {};
    struct iovec back = {in, sizeof in};
    say("preadv2_nowait", raw(SYS_preadv2, fd, reinterpret_cast<long>(&back), 1, 0, 0, 0x8));
    say("preadv2_bad_offset", raw(SYS_preadv2, fd, reinterpret_cast<long>(&back), 1, -2, 0, 0));
    say("preadv2_unknown_flag", raw(SYS_preadv2, fd, reinterpret_cast<long>(&back), 1, 0, 0, 0x10000));
    say("preadv2_pipe_offset", raw(SYS_preadv2, fds[0], reinterpret_cast<long>(&back), 1, 0, 0, 0));
    say("preadv2_pipe_nowait", raw(SYS_preadv2, fds[0], reinterpret_cast<long>(&back), 1, -1, 0, 0x8));
    (void)!write(fds[1], "x", 1);
    say("preadv2_pipe_nowait_data", raw(SYS_preadv2, fds[0], reinterpret_cast<long>(&back), 1, -1, 0, 0x8));
    unlink(path);
    return 0;
}

int main(int argc, char** argv) {
    if (argc < 2) return 100;
    const char* mode = argv[1];
    if (strcmp(mode, "exit") == 0) return argc > 2 ? atoi(argv[2]) : 0;
    if (strcmp(mode, "hello") == 0) {
        (void)!write(1, "hello from probe\n", 17);
        return 0;
    }
    if (strcmp(mode, "policy") == 0) return policy();
    if (strcmp(mode, "memory") == 0) return memory();
    if (strcmp(mode, "block") == 0) return block(argc > 2 && strcmp(argv[2], "restart") == 0);
    if (strcmp(mode, "threads") == 0) return threads();
    if (strcmp(mode, "vdso") == 0) return vdso();
    if (strcmp(mode, "filemap") == 0) return filemap();
    if (strcmp(mode, "sharedmap") == 0) return sharedmap();
    if (strcmp(mode, "timed-waits") == 0) return timed_waits();
    if (strcmp(mode, "sigqueue") == 0) return sigqueue_mode();
    if (strcmp(mode, "execveat") == 0) return execveat_mode(argv[0]);
    if (strcmp(mode, "fdlinks") == 0) return fdlinks_mode();
    if (strcmp(mode, "smallcalls") == 0) return smallcalls_mode();
    if (strcmp(mode, "fork") == 0) return fork_mode();
    if (strcmp(mode, "restart") == 0) return restart_mode();
    if (strcmp(mode, "thread-signal") == 0) return thread_signal_mode();
    if (strcmp(mode, "nointr") == 0) return nointr_mode(argc > 2 ? atol(argv[2]) : 20000);
    if (strcmp(mode, "exec-signals") == 0) return exec_signals(argc > 2 && strcmp(argv[2], "after") == 0);
    if (strcmp(mode, "segv") == 0) {
        volatile std::uintptr_t address = 16;  // not a literal null: the compiler must emit the store
        *reinterpret_cast<volatile int*>(address) = 1;
        return 0;
    }
    if (strcmp(mode, "maps") == 0) return maps_mode();
    if (strcmp(mode, "timers") == 0) return timers_mode();
    if (strcmp(mode, "jobctl") == 0) return jobctl_mode();
    if (strcmp(mode, "exec-chain") == 0 && argc > 3) return exec_chain(argv);
    if (strcmp(mode, "jobctl-tstp") == 0) return jobctl_tstp();
    if (strcmp(mode, "foreground-job") == 0) return foreground_job();
    if (strcmp(mode, "orphaned-pgrp") == 0) return orphaned_pgrp();
    if (strcmp(mode, "exec-stop") == 0) return exec_stop(argc > 2 ? atol(argv[2]) : 20, argc > 3 && strcmp(argv[3], "single") != 0 ? argv[3] : nullptr);
    if (strcmp(mode, "join-threads") == 0) return join_threads_mode(argc > 2 ? atol(argv[2]) : 100);
    if (strcmp(mode, "getppid") == 0) return getppid_loop(argc > 2 ? atol(argv[2]) : 100000, argc > 3 ? atoi(argv[3]) : 11);
    if (strcmp(mode, "call-costs") == 0) return call_costs(argc > 2 ? atol(argv[2]) : 20000, argc > 3 ? atoi(argv[3]) : 11);
    return 101;
}
