// litebox-run: runs an unmodified static x86-64 Linux program out of process. The guest runs under
// a seccomp filter; every system call it may not make natively is trapped and served here, by the
// handler below, from a LiteBox (see DESIGN.md for the mechanism and what is still to come).
//
// Exit status: the guest's (128 + N if signal N killed it); 125 for a runner error (bad option,
// launch failure), 126 for a program that cannot be executed (not an x86-64 ELF), 127 for a
// missing program.
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include <litebox/platform/linux/net_tun.hpp>
#include <litebox/platform/linux/remote_memory.hpp>
#ifdef LITEBOX_RUN_HAVE_SLIRP
#include <litebox/platform/linux/net_slirp.hpp>
#endif
#include <litebox/platform/linux/seccomp_launch.hpp>
#include <litebox/platform/linux/seccomp_supervisor.hpp>

#include "rootfs_image.hpp"
#include "runtime.hpp"

namespace {

namespace lp = litebox::platform::linux_platform;
namespace sc = litebox::platform::linux_platform::seccomp;
using litebox::Errno;

constexpr int exit_runner_error = 125;
constexpr int exit_cannot_execute = 126;
constexpr int exit_not_found = 127;

// Sanitizer builds take the box apart before exiting, so that LeakSanitizer checks the teardown
// and ThreadSanitizer's exit-time report still sets the exit status; other builds end with _exit
// once the guest is gone (finish()).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool full_teardown = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(leak_sanitizer)
constexpr bool full_teardown = true;
#else
constexpr bool full_teardown = false;
#endif
#else
constexpr bool full_teardown = false;
#endif

/// Ends the runner with the guest's `status`. The box lives only in this process's memory and
/// host descriptors, and nothing of it is written back at the end (writes through --mount rw
/// reached the host when the guest made them), so the destructors would only free memory and
/// close descriptors the kernel releases at exit anyway: skipping them saves ~0.4 ms of every
/// run. Guest processes still alive (daemons the box's init left behind) die with the tracer
/// thread (PTRACE_O_EXITKILL), as they would after a full teardown.
int finish(int status) {
    if (full_teardown) return status;
    std::fflush(nullptr);
    ::_exit(status);
}

struct Options {
    bool trace = false;
    bool audit = false;
    bool keep_vdso = false;
    bool sync_wakeup = true;
    int supervisor_cpu = -1;
    int guest_cpu = -1;
    std::vector<std::string> env{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"};
    std::vector<std::string> command;
    std::string rootfs;          // a tar file on the host; empty: the embedded busybox image
    std::string rootfs_dir;      // a host directory, read-only through the punchthrough
    std::vector<std::string> mounts;  // HOST:GUEST[:ro|rw]
    std::vector<std::string> tmpfs;   // GUEST[:SIZE]
    std::optional<std::uint64_t> max_processes, max_files, max_blocked_calls, max_memory, max_signalfds;  // --limits
    std::optional<std::uint64_t> max_sem_sets, max_msg_queues, max_shm_segments;                          // --limits
    std::string workdir = "/";
    std::string hostname = "litebox";
    std::uint32_t cpus = 0;  // 0: the host CPUs the runner may use (at most 64)
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint64_t tmpfs_bytes = 256ull << 20;
    std::string net = "none";  // none | slirp | tun
    std::vector<std::pair<std::uint16_t, std::uint16_t>> publish;  // host port, guest port
};

void usage(std::FILE* out) {
    std::fputs(
        "usage: litebox-run [options] -- PROGRAM [ARGS...]\n"
        "Runs a static x86-64 Linux program with every system call served by a LiteBox.\n"
        "PROGRAM is looked up in the box (PATH search without a '/').\n"
        "  --rootfs FILE.tar    root file system image (default: the embedded busybox image),\n"
        "                       read-only under an in-memory overlay that vanishes at exit\n"
        "  --rootfs-dir DIR     a host directory as the root instead, read-only through the\n"
        "                       platform's punchthrough (each access shown by --audit)\n"
        "  --tmpfs-size SIZE    size limit of that overlay (bytes, or K/M/G; default 256M)\n"
        "  --mount HOST:GUEST[:ro|rw]  a host directory at GUEST through its own punchthrough;\n"
        "                       ro (default): under an in-memory overlay; rw: writes reach the host\n"
        "  --tmpfs GUEST[:SIZE] an empty tmpfs at GUEST (SIZE: bytes, or K/M/G; default 64M)\n"
        "  --workdir DIR        the guest's working directory (default /)\n"
        "  --hostname NAME      the guest's host name (default litebox)\n"
        "  --cpus N             how many CPUs the guest sees, 1-64 (nproc, /proc/cpuinfo;\n"
        "                       default: the host CPUs litebox-run may run on)\n"
        "  --net none|slirp|tun the box's network beyond its loopback (default none):\n"
        "                       slirp: user-mode NAT (box 10.0.2.15, host and gateway 10.0.2.2,\n"
        "                       which reaches the host's 127.0.0.1; DNS 10.0.2.3);\n"
        "                       tun: a host interface lbxN (root; host 10.0.3.1, box 10.0.3.2)\n"
        "  --publish HOSTPORT:GUESTPORT  with --net slirp: host 127.0.0.1:HOSTPORT reaches the\n"
        "                       box's TCP listener on GUESTPORT\n"
        "  --uid U --gid G      the guest's credentials (default 0 0, root inside the box)\n"
        "  --env K=V            add to the guest's environment\n"
        "  --limits processes=N,files=N,blocked-calls=N,signalfds=N,memory=SIZE,sem-sets=N,msg-queues=N,\n"
        "           shm-segments=N\n"
        "                       box processes and threads (default 512), open files per process\n"
        "                       (RLIMIT_NOFILE, default 1024/4096), calls blocked at once (256),\n"
        "                       signalfds open at once (128), address space per process\n"
        "                       (RLIMIT_AS, e.g. 512M; default: the runner's own), System V\n"
        "                       semaphore sets (128), message queues (32) and shared memory\n"
        "                       segments (128; 256 MiB in all) in the box\n"
        "  --trace              print one line per served system call\n"
        "  --audit              at exit, print the run's whole host interface: punchthrough\n"
        "                       grants and denials, served calls, processes\n"
        "  --keep-vdso          keep the host's vDSO (faster clocks, host time)\n"
        "  --no-sync-wakeup     don't ask the kernel for same-CPU wake-ups\n"
        "  --supervisor-cpu N   pin the supervisor's notification thread to CPU N\n"
        "  --guest-cpu N        pin the guest to CPU N\n"
        "  --help               show this text\n",
        out);
}

std::optional<int> parse_cpu(std::string_view text) {
    int value = 0;
    if (text.empty() || text.size() > 4) return std::nullopt;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + (c - '0');
    }
    return value;
}

std::optional<std::uint64_t> parse_number(std::string_view text) {
    std::uint64_t value = 0;
    if (text.empty() || text.size() > 19) return std::nullopt;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;
}

/// A size: a number of bytes, or of KiB, MiB or GiB with a K, M or G suffix (as mount -o size=).
std::optional<std::uint64_t> parse_size(std::string_view text) {
    unsigned shift = 0;
    if (!text.empty()) {
        switch (text.back()) {
            case 'k': case 'K': shift = 10; break;
            case 'm': case 'M': shift = 20; break;
            case 'g': case 'G': shift = 30; break;
            default: break;
        }
        if (shift != 0) text.remove_suffix(1);
    }
    const auto number = parse_number(text);
    if (!number || *number > (std::numeric_limits<std::uint64_t>::max() >> shift)) return std::nullopt;
    return *number << shift;
}

/// --limits processes=N,files=N,blocked-calls=N,signalfds=N,memory=SIZE,sem-sets=N,msg-queues=N,shm-segments=N (each optional, N > 0; SIZE at
/// least 1M, with a K/M/G suffix).
bool parse_limits(std::string_view text, Options& options) {
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        const auto equals = item.find('=');
        if (equals == std::string_view::npos) return false;
        const auto key = item.substr(0, equals);
        if (key == "memory") {
            const auto size = parse_size(item.substr(equals + 1));
            if (!size || *size < (1u << 20)) return false;
            options.max_memory = *size;
            continue;
        }
        const auto number = parse_number(item.substr(equals + 1));
        if (!number || *number == 0 || *number > 1'000'000) return false;
        if (key == "processes") options.max_processes = *number;
        else if (key == "files") options.max_files = *number;
        else if (key == "blocked-calls") options.max_blocked_calls = *number;
        else if (key == "signalfds") options.max_signalfds = *number;
        else if (key == "sem-sets") options.max_sem_sets = *number;
        else if (key == "msg-queues") options.max_msg_queues = *number;
        else if (key == "shm-segments") options.max_shm_segments = *number;
        else return false;
    }
    return true;
}

/// Parses the command line; on error returns nullopt with `error` set (empty error: --help).
std::optional<Options> parse(int argc, char** argv, std::string& error) {
    Options options;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const auto value = [&]() -> std::optional<std::string_view> {
            if (i + 1 >= argc) return std::nullopt;
            return std::string_view(argv[++i]);
        };
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg == "--help" || arg == "-h") {
            error.clear();
            return std::nullopt;
        } else if (arg == "--trace") {
            options.trace = true;
        } else if (arg == "--audit") {
            options.audit = true;
        } else if (arg == "--keep-vdso") {
            options.keep_vdso = true;
        } else if (arg == "--no-sync-wakeup") {
            options.sync_wakeup = false;
        } else if (arg == "--env") {
            const auto v = value();
            if (!v || v->find('=') == std::string_view::npos) {
                error = "--env needs K=V";
                return std::nullopt;
            }
            options.env.emplace_back(*v);
        } else if (arg == "--rootfs" || arg == "--rootfs-dir" || arg == "--workdir" || arg == "--hostname") {
            const auto v = value();
            if (!v || v->empty()) {
                error = std::string(arg) + " needs a value";
                return std::nullopt;
            }
            (arg == "--rootfs"       ? options.rootfs
             : arg == "--rootfs-dir" ? options.rootfs_dir
             : arg == "--workdir"    ? options.workdir
                                     : options.hostname) = std::string(*v);
        } else if (arg == "--net") {
            const auto v = value();
            if (!v || (*v != "none" && *v != "slirp" && *v != "tun")) {
                error = "--net needs none, slirp or tun";
                return std::nullopt;
            }
            options.net = std::string(*v);
        } else if (arg == "--publish") {
            const auto v = value();
            const auto colon = v ? v->find(':') : std::string_view::npos;
            const auto host = colon != std::string_view::npos ? parse_number(v->substr(0, colon)) : std::nullopt;
            const auto guest = colon != std::string_view::npos ? parse_number(v->substr(colon + 1)) : std::nullopt;
            if (!host || !guest || *host == 0 || *host > 65535 || *guest == 0 || *guest > 65535) {
                error = "--publish needs HOSTPORT:GUESTPORT (1-65535)";
                return std::nullopt;
            }
            options.publish.emplace_back(static_cast<std::uint16_t>(*host), static_cast<std::uint16_t>(*guest));
        } else if (arg == "--limits") {
            const auto v = value();
            if (!v || !parse_limits(*v, options)) {
                error = "--limits needs KEY=N[,KEY=N...] with keys processes, files, blocked-calls, signalfds, memory, sem-sets, msg-queues, shm-segments";
                return std::nullopt;
            }
        } else if (arg == "--mount" || arg == "--tmpfs") {
            const auto v = value();
            if (!v || v->empty()) {
                error = std::string(arg) + (arg == "--mount" ? " needs HOST:GUEST[:ro|rw]" : " needs GUEST[:SIZE]");
                return std::nullopt;
            }
            (arg == "--mount" ? options.mounts : options.tmpfs).emplace_back(*v);
        } else if (arg == "--uid" || arg == "--gid" || arg == "--tmpfs-size") {
            const auto v = value();
            const auto number = !v ? std::nullopt : arg == "--tmpfs-size" ? parse_size(*v) : parse_number(*v);
            if (!number || (arg != "--tmpfs-size" && *number > 0xfffffffeull)) {
                error = std::string(arg) + " needs a number";
                return std::nullopt;
            }
            if (arg == "--uid") options.uid = static_cast<std::uint32_t>(*number);
            else if (arg == "--gid") options.gid = static_cast<std::uint32_t>(*number);
            else options.tmpfs_bytes = *number;
        } else if (arg == "--cpus") {
            const auto v = value();
            const auto number = v ? parse_number(*v) : std::nullopt;
            if (!number || *number == 0 || *number > 64) {
                error = "--cpus needs a number from 1 to 64";
                return std::nullopt;
            }
            options.cpus = static_cast<std::uint32_t>(*number);
        } else if (arg == "--supervisor-cpu" || arg == "--guest-cpu") {
            const auto v = value();
            const auto cpu = v ? parse_cpu(*v) : std::nullopt;
            if (!cpu) {
                error = std::string(arg) + " needs a CPU number";
                return std::nullopt;
            }
            (arg == "--guest-cpu" ? options.guest_cpu : options.supervisor_cpu) = *cpu;
        } else if (!arg.empty() && arg[0] == '-') {
            error = "unknown option '" + std::string(arg) + "'";
            return std::nullopt;
        } else {
            break;  // the program, without "--"
        }
    }
    for (; i < argc; ++i) options.command.emplace_back(argv[i]);
    if (!options.rootfs.empty() && !options.rootfs_dir.empty()) {
        error = "--rootfs and --rootfs-dir exclude each other";
        return std::nullopt;
    }
    if (!options.publish.empty() && options.net != "slirp") {
        error = "--publish needs --net slirp (with --net tun the host reaches the box's address directly)";
        return std::nullopt;
    }
    if (options.command.empty()) {
        error = "no program given";
        return std::nullopt;
    }
    return options;
}

/// The backend of --net slirp|tun (nullptr for none, or on error with `error` set).
std::unique_ptr<litebox_run::NetBackend> make_network(const Options& options, std::string& error) {
    if (options.net == "slirp") {
#ifdef LITEBOX_RUN_HAVE_SLIRP
        auto backend = std::make_unique<litebox_run::NetBackendOf<litebox::platform::SlirpBackend>>();
        if (!backend->backend().valid()) {
            const std::string missing = litebox::platform::slirp_library_error();
            error = "--net slirp: " + (missing.empty() ? std::string("libslirp could not start") : missing);
            return nullptr;
        }
        for (const auto& [host, guest] : options.publish) {
            if (!backend->backend().add_port_forward(host, guest)) {
                error = "--publish " + std::to_string(host) + ":" + std::to_string(guest) + ": host port 127.0.0.1:" +
                        std::to_string(host) + " is not available";
                return nullptr;
            }
        }
        return backend;
#else
        error = "--net slirp: this litebox-run was built without libslirp (apt-get install libslirp-dev)";
        return nullptr;
#endif
    }
    if (options.net == "tun") {
        auto backend = std::make_unique<litebox_run::NetBackendOf<litebox::platform::TunBackend>>();
        if (!backend->backend().valid()) {
            error = std::string("--net tun: cannot create the interface: ") +
                    std::string(litebox::errno_message(backend->backend().error())) +
                    " (needs /dev/net/tun and CAP_NET_ADMIN, i.e. root)";
            return nullptr;
        }
        return backend;
    }
    return nullptr;
}

/// Drives the box's TCP/IP stack for --net slirp|tun on its own thread: the stack takes in what
/// the backend received, runs its due timers and sends what is queued (Stack::poll), then the
/// backend waits for the host side until the stack's next deadline or a wake-up (the stack has
/// output or armed an earlier timer). No busy loop.
class NetDriver {
public:
    NetDriver(litebox::net::Stack<litebox_run::Platform>& stack, litebox_run::NetBackend& backend, const litebox_run::Platform& platform)
        : m_stack(stack), m_backend(backend) {
        m_stack.set_wakeup_hook(&backend.wakeup_hook());
        m_thread = std::thread([this, &platform] {
            while (!m_stop.load(std::memory_order_acquire)) {
                const auto deadline = m_stack.poll();
                std::optional<litebox::platform::Duration> wait = std::chrono::seconds(1);
                if (deadline) wait = std::min<litebox::platform::Duration>(*wait, deadline->saturating_duration_since(platform.now()));
                m_backend.service(wait);
            }
        });
    }
    NetDriver(const NetDriver&) = delete;
    NetDriver& operator=(const NetDriver&) = delete;
    ~NetDriver() {
        m_stop.store(true, std::memory_order_release);
        m_backend.wakeup_hook().wake();
        m_thread.join();
        m_stack.set_wakeup_hook(nullptr);
    }

private:
    litebox::net::Stack<litebox_run::Platform>& m_stack;
    litebox_run::NetBackend& m_backend;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

/// Runs the box's signal timers (alarm, setitimer, timer_create) on a thread of their own: it
/// sleeps until the earliest expiry or until a timer is armed, then sends what is due
/// (TimerTable::drive), so a timer fires even while every guest thread runs native code.
class TimerDriver {
public:
    explicit TimerDriver(litebox::shim::linux_abi::TimerTable<litebox_run::Platform>& timers)
        : m_timers(timers), m_thread([this] { m_timers.drive(); }) {}
    TimerDriver(const TimerDriver&) = delete;
    TimerDriver& operator=(const TimerDriver&) = delete;
    ~TimerDriver() {
        m_timers.stop();
        m_thread.join();
    }

private:
    litebox::shim::linux_abi::TimerTable<litebox_run::Platform>& m_timers;
    std::thread m_thread;
};

/// The host CPUs this process may run on (its affinity), 1 to 64: what the guest sees by default,
/// since its threads run on them.
std::uint32_t host_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    const int count = CPU_COUNT(&set);
    return static_cast<std::uint32_t>(std::clamp(count, 1, 64));
}

/// Passes the signals sent to the runner on to the guest, as if the runner were the program (the
/// guests run in a session of their own, without the runner's terminal): kill, timeout or a
/// service manager reach the guest's first process -- a guest with a SIGTERM handler cleans up, one
/// without dies of it and the runner exits with 128 + N -- and the terminal's ^C, ^\, ^Z, hangup
/// and window-size change (SI_KERNEL) reach the box terminal's foreground process group
/// (Runtime::forward_signal). A SIGTSTP the box does not take (from another process, or for a
/// foreground group the box would not stop: orphaned) stops the runner itself, as before it was
/// passed on (stop_self). The signals are blocked in every runner thread (block_forwarded_signals,
/// before the first thread starts; guests set their own mask at launch) and read from a signalfd
/// by a thread of their own. SIGKILL cannot be caught: the runner dies and the guests with it
/// (PTRACE_O_EXITKILL).
class SignalForwarder {
public:
    static constexpr int forwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGTSTP, SIGWINCH};

    static sigset_t block_forwarded_signals() {
        sigset_t set;
        sigemptyset(&set);
        for (const int sig : forwarded) sigaddset(&set, sig);
        (void)::pthread_sigmask(SIG_BLOCK, &set, nullptr);
        return set;
    }

    SignalForwarder(const sigset_t& set, std::function<bool(int, bool)> forward)
        : m_signals(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)),
          m_stop(::eventfd(0, EFD_CLOEXEC)),
          m_forward(std::move(forward)) {
        if (m_signals.valid() && m_stop.valid()) m_thread = std::thread([this] { loop(); });
    }
    SignalForwarder(const SignalForwarder&) = delete;
    SignalForwarder& operator=(const SignalForwarder&) = delete;
    ~SignalForwarder() {
        if (!m_thread.joinable()) return;
        const std::uint64_t one = 1;
        (void)!::write(m_stop.get(), &one, sizeof one);
        m_thread.join();
    }
    [[nodiscard]] bool running() const noexcept { return m_thread.joinable(); }

private:
    void loop() {
        for (;;) {
            pollfd fds[2] = {{m_signals.get(), POLLIN, 0}, {m_stop.get(), POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0) {
                if (errno == EINTR) continue;
                return;
            }
            if (fds[1].revents != 0) return;
            signalfd_siginfo info{};
            while (::read(m_signals.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
                const int sig = static_cast<int>(info.ssi_signo);
                if (!m_forward(sig, info.ssi_code == SI_KERNEL) && sig == SIGTSTP) stop_self();
            }
        }
    }

    /// SIGTSTP's default action on the runner (the kernel stops it, unless the runner's own
    /// process group is orphaned or SIGTSTP is ignored): unblocked on this thread only, raised at
    /// this thread, delivered as the raise returns; blocked again once the runner goes on.
    static void stop_self() noexcept {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTSTP);
        (void)::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
        (void)::syscall(SYS_tgkill, ::getpid(), ::gettid(), SIGTSTP);
        (void)::pthread_sigmask(SIG_BLOCK, &set, nullptr);
    }

    lp::UniqueFd m_signals;
    lp::UniqueFd m_stop;
    std::function<bool(int sig, bool from_terminal)> m_forward;
    std::thread m_thread;
};

/// A host file mapped read-only for the lifetime of the box (the --rootfs image).
class MappedFile {
public:
    MappedFile(void* data, std::size_t size) noexcept : m_data(data), m_size(size) {}
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile() {
        if (m_data != nullptr) ::munmap(m_data, m_size);
    }
    [[nodiscard]] std::span<const std::byte> bytes() const { return {static_cast<const std::byte*>(m_data), m_size}; }

    static std::shared_ptr<MappedFile> open(const std::string& path, std::string& error) {
        lp::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        struct stat st {};
        if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
            error = std::strerror(errno);
            return nullptr;
        }
        if (!S_ISREG(st.st_mode)) {
            error = "not a regular file";
            return nullptr;
        }
        if (st.st_size == 0) return std::make_shared<MappedFile>(nullptr, 0);
        void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
        if (p == MAP_FAILED) {
            error = std::strerror(errno);
            return nullptr;
        }
        return std::make_shared<MappedFile>(p, static_cast<std::size_t>(st.st_size));
    }

private:
    void* m_data;
    std::size_t m_size;
};

/// The host-directory policies' grant/denial lines on stderr with --audit (none without).
lp::HostDirectoryPolicy::Audit audit_printer(bool enabled) {
    if (!enabled) return {};
    return [](std::string_view line) { std::fprintf(stderr, "litebox-run: audit: %.*s\n", static_cast<int>(line.size()), line.data()); };
}

/// Creates every directory of `path` that is missing (as root, mode 0755).
litebox::Result<void> make_directories(litebox::fs::Vfs<litebox_run::Platform>& vfs, const std::string& path) {
    const auto creds = litebox::fs::Credentials::root();
    for (std::size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
        const std::string prefix = path.substr(0, slash);
        if (auto made = vfs.mkdir(creds, vfs.root(), prefix, 0755); !made && made.error() != Errno::exist) return made.error();
        if (slash == std::string::npos) return litebox::ok();
    }
}

/// --tmpfs and --mount: mounted in the box's namespace before the first process starts.
bool add_mounts(const Options& options, litebox_run::Platform& platform, std::deque<litebox_run::Platform>& mount_platforms,
                litebox::fs::Vfs<litebox_run::Platform>& vfs) {
    namespace fs = litebox::fs;
    const auto creds = fs::Credentials::root();
    const auto complain = [](const std::string& what, const std::string& spec, std::string_view why) {
        std::fprintf(stderr, "litebox-run: %s %s: %.*s\n", what.c_str(), spec.c_str(), static_cast<int>(why.size()), why.data());
        return false;
    };
    for (const auto& spec : options.tmpfs) {
        std::string guest = spec;
        std::uint64_t size = 64ull << 20;
        if (const auto colon = spec.rfind(':'); colon != std::string::npos) {
            const auto number = parse_size(std::string_view(spec).substr(colon + 1));
            if (!number) return complain("--tmpfs", spec, "SIZE must be a number of bytes (or with a K, M or G suffix)");
            size = *number;
            guest = spec.substr(0, colon);
        }
        if (guest.empty() || guest[0] != '/') return complain("--tmpfs", spec, "GUEST must be an absolute path");
        if (auto made = make_directories(vfs, guest); !made) return complain("--tmpfs", spec, litebox::errno_message(made.error()));
        fs::TmpfsLimits limits;
        limits.max_bytes = size;
        if (auto mounted = vfs.mount(creds, vfs.root(), guest, fs::Tmpfs<litebox_run::Platform>::create(platform, limits, 01777)); !mounted)
            return complain("--tmpfs", spec, litebox::errno_message(mounted.error()));
    }
    for (const auto& spec : options.mounts) {
        const auto first = spec.find(':');
        if (first == std::string::npos || first == 0) return complain("--mount", spec, "expected HOST:GUEST[:ro|rw]");
        const std::string host = spec.substr(0, first);
        std::string guest = spec.substr(first + 1);
        bool read_only = true;
        if (const auto second = guest.find(':'); second != std::string::npos) {
            const std::string mode = guest.substr(second + 1);
            if (mode != "ro" && mode != "rw") return complain("--mount", spec, "the mode is ro or rw");
            read_only = mode == "ro";
            guest.resize(second);
        }
        if (guest.empty() || guest[0] != '/') return complain("--mount", spec, "GUEST must be an absolute path");
        auto policy = lp::HostDirectoryPolicy::open(host, read_only, audit_printer(options.audit));
        if (!policy) return complain("--mount", spec, litebox::errno_message(policy.error()));
        auto& own = mount_platforms.emplace_back(std::move(*policy));
        auto hostfs = fs::HostFs<litebox_run::Platform>::create(own, read_only);
        if (!hostfs) return complain("--mount", spec, litebox::errno_message(hostfs.error()));
        std::shared_ptr<fs::FileSystem<litebox_run::Platform>> mounted = std::move(*hostfs);
        if (read_only) {  // writes land in memory and vanish at exit
            auto overlay = fs::OverlayFs<litebox_run::Platform>::create(platform, fs::Tmpfs<litebox_run::Platform>::create(platform, {}, 0755),
                                                                        mounted);
            if (!overlay) return complain("--mount", spec, litebox::errno_message(overlay.error()));
            mounted = std::move(*overlay);
        }
        if (auto made = make_directories(vfs, guest); !made) return complain("--mount", spec, litebox::errno_message(made.error()));
        if (auto done = vfs.mount(creds, vfs.root(), guest, std::move(mounted)); !done)
            return complain("--mount", spec, litebox::errno_message(done.error()));
    }
    return true;
}

int run(int argc, char** argv) {
    // Before anything changes them, and before the first thread (see SignalForwarder): the
    // signals the runner was started with blocked or ignored, which the guest keeps as execve
    // would (`nohup litebox-run ...` keeps SIGHUP ignored, a background job of a script SIGINT).
    const auto inherited = sc::detail::signal_state(::getpid(), ::gettid());
    const sigset_t forwarded_signals = SignalForwarder::block_forwarded_signals();
    std::string error;
    const auto options = parse(argc, argv, error);
    if (!options) {
        if (error.empty()) {
            usage(stdout);
            return 0;
        }
        std::fprintf(stderr, "litebox-run: %s\n", error.c_str());
        usage(stderr);
        return exit_runner_error;
    }

    // The box: the root image under an in-memory overlay, devices, the shim.
    litebox_run::BoxSpec spec;
    std::shared_ptr<MappedFile> mapped;
    std::shared_ptr<lp::HostDirectoryPolicy> policy;
    if (!options->rootfs_dir.empty()) {
        auto opened = lp::HostDirectoryPolicy::open(options->rootfs_dir, /*read_only=*/true, audit_printer(options->audit));
        if (!opened) {
            std::fprintf(stderr, "litebox-run: --rootfs-dir %s: %s\n", options->rootfs_dir.c_str(), litebox::errno_message(opened.error()).data());
            return exit_runner_error;
        }
        policy = std::move(*opened);
        spec.rootfs_is_host_directory = true;
    } else if (options->rootfs.empty()) {
        spec.rootfs = litebox_run::default_rootfs_image();
    } else {
        mapped = MappedFile::open(options->rootfs, error);
        if (!mapped) {
            std::fprintf(stderr, "litebox-run: --rootfs %s: %s\n", options->rootfs.c_str(), error.c_str());
            return exit_runner_error;
        }
        spec.rootfs = mapped->bytes();
        spec.rootfs_owner = mapped;
    }
    spec.overlay_limits.max_bytes = options->tmpfs_bytes;
    spec.shim.trace = options->trace;
    // Requests the box does not support fail with a Linux errno; the notes about them are part of
    // the trace (--trace) and counted by --audit, not mixed into the guest's standard error.
    spec.shim.log_unsupported = false;
    spec.shim.hostname = options->hostname;
    spec.shim.cpus = options->cpus != 0 ? options->cpus : host_cpus();
    spec.shim.initial_uid = options->uid;
    spec.shim.initial_gid = options->gid;
    if (options->max_processes) spec.shim.max_tasks = static_cast<std::size_t>(*options->max_processes);
    if (options->max_files) spec.shim.nofile_soft = spec.shim.nofile_hard = *options->max_files;
    if (options->max_sem_sets) spec.shim.sysv.sem_sets = static_cast<std::size_t>(*options->max_sem_sets);
    if (options->max_msg_queues) spec.shim.sysv.msg_queues = static_cast<std::size_t>(*options->max_msg_queues);
    if (options->max_shm_segments) spec.shim.sysv.shm_segments = static_cast<std::size_t>(*options->max_shm_segments);
    if (options->max_memory) spec.shim.max_address_space = *options->max_memory;
    static litebox_run::Platform platform(policy);
    litebox::fs::tar::ParseError tar_error{};
    auto root = litebox_run::Runtime::make_root(platform, spec, &tar_error);
    if (!root) {
        std::fprintf(stderr, "litebox-run: %s: not a usable tar image (%s)\n",
                     options->rootfs.empty() ? "the embedded image" : options->rootfs.c_str(),
                     litebox::errno_message(root.error()).data());
        return exit_runner_error;
    }
    // One platform object per --mount: each holds the policy of its own host directory (declared
    // before the runtime, so it outlives the box).
    std::deque<litebox_run::Platform> mount_platforms;
    // The network backend outlives the box (declared first), its driver does not (declared after).
    auto network = make_network(*options, error);
    if (!network && options->net != "none") {
        std::fprintf(stderr, "litebox-run: %s\n", error.c_str());
        return exit_runner_error;
    }
    platform.set_network(network.get());
    auto runtime = std::make_unique<litebox_run::Runtime>(platform, std::move(*root), spec.shim);
    if (options->max_signalfds) runtime->set_max_signalfds(static_cast<std::size_t>(*options->max_signalfds));
    std::optional<NetDriver> net_driver;
    if (network) {
        if (auto configured = runtime->box().net().configure_interface(network->interface_config()); !configured) {
            std::fprintf(stderr, "litebox-run: --net %s: %s\n", options->net.c_str(), litebox::errno_message(configured.error()).data());
            return exit_runner_error;
        }
        net_driver.emplace(runtime->box().net(), *network, platform);
    }
    if (!add_mounts(*options, platform, mount_platforms, runtime->shim().vfs())) return exit_runner_error;
    if (auto made = runtime->create_init(options->workdir); !made) {
        std::fprintf(stderr, "litebox-run: --workdir %s: %s\n", options->workdir.c_str(),
                     litebox::errno_message(made.error()).data());
        return exit_runner_error;
    }

    // The program, found in the box.
    auto program = runtime->load_program(runtime->init(), options->command[0], options->command, options->env, true);
    if (!program) {
        const Errno e = program.error();
        std::fprintf(stderr, "litebox-run: %s: %s\n", options->command[0].c_str(),
                     e == Errno::noexec ? "not a static x86-64 ELF executable (or a script for one)"
                                        : litebox::errno_message(e).data());
        return e == Errno::noent || e == Errno::notdir ? exit_not_found : exit_cannot_execute;
    }
    runtime->shim().complete_exec(runtime->init(), litebox::shim::linux_abi::ExecRequest{program->path, program->shown_argv,
                                                                                          options->env, options->command[0]});
    ::signal(SIGPIPE, SIG_IGN);  // a closed stdout is an EPIPE for the guest, not our death

    sc::LaunchOptions launch;
    launch.hide_vdso = !options->keep_vdso;
    launch.sync_wakeup = options->sync_wakeup;
    launch.guest_cpu = options->guest_cpu;
    launch.box_tid = runtime->init().pid();  // glibc keeps set_tid_address's answer as the thread's id
    launch.limits = litebox_run::host_limits(runtime->init().process());
    if (inherited) {
        launch.blocked_signals = inherited->blocked;
        launch.ignored_signals = inherited->ignored;
    }

    sc::SupervisorOptions supervise;
    supervise.supervisor_cpu = options->supervisor_cpu;
    if (options->max_blocked_calls) supervise.max_blocked_calls = static_cast<std::size_t>(*options->max_blocked_calls);
    // The box enforces the process limit (fork fails with EAGAIN); the supervisor only needs room
    // for every host process that can exist at once (images being replaced included).
    if (options->max_processes)
        supervise.max_processes = std::max(sc::default_max_guest_processes, static_cast<std::size_t>(*options->max_processes) * 2);
    supervise.external_reaper = true;
    sc::Supervisor<litebox_run::Runtime> supervisor(*runtime, supervise);
    runtime->set_signallers(
        [&](pid_t pid, int sig, const siginfo_t* info) { return supervisor.signal_process_deferred(pid, sig, info); },
        [&](pid_t pid, pid_t tid, int sig, const siginfo_t* info) { return supervisor.signal_thread(pid, tid, sig, info); },
        [&](pid_t tid) { return supervisor.take_restart_answer(tid); });
    // alarm, setitimer and POSIX timers fire from this thread (it sends through the signallers).
    TimerDriver timer_driver(runtime->shim().timers());

    // The tracer thread launches every image and sees every fork and death (seccomp_tracer.hpp).
    // SIGWINCH (the tracer's default wake signal) is passed on to the guests: the tracer is woken
    // by a real-time signal instead, which nothing else in the runner uses.
    sc::Tracer tracer(*runtime, SIGRTMAX);
    if (auto started = tracer.start(); !started) {
        std::fprintf(stderr, "litebox-run: cannot start the tracer: %s\n", litebox::errno_message(started.error()).data());
        return exit_runner_error;
    }
    sc::LaunchFailure failure;
    auto guest = tracer.launch(program->image, program->argv, options->env, launch, &failure, program->stage);
    if (!guest.has_value()) {
        std::fprintf(stderr, "litebox-run: %s: %s\n", options->command[0].c_str(), failure.message.c_str());
        return failure.error == Errno::noexec ? exit_cannot_execute : exit_runner_error;
    }
    runtime->bind_init((*guest)->pid);
    SignalForwarder forwarder(forwarded_signals,
                              [&runtime](int sig, bool from_terminal) { return runtime->forward_signal(sig, from_terminal); });
    if (!forwarder.running())
        std::fprintf(stderr, "litebox-run: warning: signals sent to the runner are not passed on to the guest: %s\n", std::strerror(errno));
    runtime->set_launcher(
        [&](litebox_run::LoadedProgram& next, const std::vector<std::string>& envp) {
            sc::LaunchOptions options = launch;
            options.blocked_signals = next.blocked_signals;
            options.ignored_signals = next.ignored_signals;
            options.limits = next.limits;
            options.box_tid = next.box_pid;
            return tracer.launch(next.image, next.argv, envp, options, nullptr, next.stage);
        },
        [&](std::unique_ptr<sc::LaunchedGuest> next, pid_t replaced) { return supervisor.adopt(std::move(next), replaced); },
        [&](pid_t pid, int status) { supervisor.record_exit(pid, status); }, [&](pid_t pid) { tracer.settle(pid); });
    auto exit = supervisor.run(**guest);
    if (full_teardown) tracer.stop();  // else finish() ends it, and EXITKILL any guest left
    if (options->audit) {
        const auto stats = supervisor.stats();
        const auto counts = runtime->counts();
        std::uint64_t granted = platform.granted(), denied = platform.denied();
        for (const auto& p : mount_platforms) {
            granted += p.granted();
            denied += p.denied();
        }
        std::fprintf(stderr, "litebox-run: audit: punchthrough: %llu granted, %llu denied (%s)\n",
                     static_cast<unsigned long long>(granted), static_cast<unsigned long long>(denied),
                     options->rootfs_dir.empty() && options->mounts.empty()
                         ? "the only punchthrough is a host directory, and none is mounted"
                         : "host directories of --rootfs-dir and --mount only; nothing else is reachable");
        if (options->net == "none")
            std::fprintf(stderr, "litebox-run: audit: network: none (sockets reach only the box's own loopback)\n");
        else
            std::fprintf(stderr, "litebox-run: audit: network: %s, %llu IP packets sent, %llu received (%s)\n", options->net.c_str(),
                         static_cast<unsigned long long>(platform.packets_sent()),
                         static_cast<unsigned long long>(platform.packets_received()),
                         options->net == "slirp" ? "user-mode NAT; 10.0.2.2 is the host's 127.0.0.1"
                                                 : "host interface; the host routes the rest");
        std::fprintf(stderr,
                     "litebox-run: audit: %llu system calls served (%llu inline, %llu on waiter threads, %llu refused: "
                     "too many blocked calls), %llu processes started (%llu forks, %llu program images)\n",
                     static_cast<unsigned long long>(stats.served_inline + stats.served_on_waiters),
                     static_cast<unsigned long long>(stats.served_inline), static_cast<unsigned long long>(stats.served_on_waiters),
                     static_cast<unsigned long long>(stats.overloaded),
                     static_cast<unsigned long long>(counts.forks + counts.images), static_cast<unsigned long long>(counts.forks),
                     static_cast<unsigned long long>(counts.images));
        std::fprintf(stderr, "litebox-run: audit: unsupported requests refused with an errno: %llu distinct (--trace names them)\n",
                     static_cast<unsigned long long>(runtime->shim().tracer().note_count()));
    }
    if (!exit.has_value()) {
        std::fprintf(stderr, "litebox-run: serving the guest failed: %s\n", litebox::errno_message(exit.error()).data());
        return exit_runner_error;
    }
    if (const auto exec_error = (*guest)->exec_error()) {
        std::fprintf(stderr, "litebox-run: %s: cannot execute: %s\n", options->command[0].c_str(),
                     litebox::errno_message(*exec_error).data());
        return exit_cannot_execute;
    }
    return finish(exit->shell_status());
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "litebox-run: internal error: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "litebox-run: internal error\n");
    }
    return exit_runner_error;
}
