// Kernel<P>: the state one Linux shim shares between all guest threads of a box (process table,
// UTS identity, clocks' origin, tracer), and ThreadContext<P>: one guest thread as the runtime
// holds it.
//
// Contract (runtime side):
// - The runtime creates the first process with Kernel::create_init(), then calls
//   LinuxShim::dispatch(context, request) for each syscall of that thread.
// - After dispatch, the runtime checks context.take_request(): exit (stop this thread, or every
//   thread of the process), clone (start the child context it carries; its first return value
//   is 0), exec (load the program; then call Kernel::complete_exec). It delivers signals it gets
//   from context.dequeue_signal() (the shim only keeps the books).
// - A ThreadContext is used by one host thread at a time.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "../../box.hpp"
#include "../../error.hpp"
#include "../../fs/devpts.hpp"
#include "../../fs/vfs.hpp"
#include "../../ipc/fifo.hpp"
#include "request.hpp"
#include "task_table.hpp"
#include "terminal_settings.hpp"
#include "timer_table.hpp"
#include "trace.hpp"

namespace litebox::shim::linux_abi {

template <typename P>
class ThreadContext;

/// exit / exit_group: the runtime stops the thread (or all threads of the process).
struct ExitRequest {
    int wait_status = 0;
    bool whole_process = false;
    std::uintptr_t clear_child_tid = 0;  // write 0 there and futex-wake it (CLONE_CHILD_CLEARTID)
};
/// fork / vfork / clone: the runtime starts `child` (whose syscall returns 0).
template <typename P>
struct CloneRequest {
    std::unique_ptr<ThreadContext<P>> child;
    std::uint64_t flags = 0;
    std::uintptr_t stack = 0;
    std::uintptr_t child_tid = 0;  // CLONE_CHILD_SETTID: write the child's tid there in the child
    std::uint64_t tls = 0;         // CLONE_SETTLS
};
/// execve: the runtime loads `path` with argv/envp, then calls Kernel::complete_exec.
struct ExecRequest {
    std::string path;
    std::vector<std::string> argv;
    std::vector<std::string> envp;
    /// For complete_exec: the path the program was asked for (execve's first argument), whose base
    /// name becomes the thread's comm as on Linux (a busybox applet link shows the applet, a `#!`
    /// script its own name); empty: `path`'s.
    std::string invoked_as{};
    /// execveat(fd, "", ..., AT_EMPTY_PATH): the program is the file descriptor `descriptor` of the
    /// calling process names (`path` is then "/dev/fd/N", the name a `#!` interpreter is given);
    /// -1 for a program named by path.
    int descriptor = -1;
    /// execveat's AT_SYMLINK_NOFOLLOW: a symbolic link as the last component is ELOOP.
    bool nofollow = false;
    /// The program's name is a /dev/fd path that is gone after the exec (its descriptor is
    /// close-on-exec): a `#!` script then fails with ENOENT, as Linux's, while a binary runs.
    bool name_inaccessible = false;
};
template <typename P>
using RuntimeRequest = std::variant<std::monostate, ExitRequest, CloneRequest<P>, ExecRequest>;

/// The first process's program and identity.
struct InitSpec {
    std::string exe;
    std::vector<std::string> argv;
    std::vector<std::string> environ;
};

template <typename P>
class Kernel;

/// The inodes memfd_create's tmpfs may hold: ShimConfig::memfd_max_files, plus its root.
inline std::uint64_t memfd_inode_limit(const ShimConfig& config) noexcept {
    return config.memfd_max_files == ~std::uint64_t{0} ? config.memfd_max_files : config.memfd_max_files + 1;
}
template <typename P>
class ProcFs;
template <typename P>
class SysvIpc;  // sysv_ipc.hpp
/// Mounts a ProcFs of `kernel` at /proc (procfs.hpp). Called by the Kernel when
/// ShimConfig::mount_procfs is set.
template <typename P>
Result<std::shared_ptr<ProcFs<P>>> install_procfs(Kernel<P>& kernel);
template <typename P>
void detach_procfs(Kernel<P>& kernel, ProcFs<P>& procfs) noexcept;
/// Mounts the box sysfs at /sys (sysfs.hpp); when ShimConfig::mount_sysfs is set.
template <typename P>
Result<std::shared_ptr<fs::FileSystem<P>>> install_sysfs(Kernel<P>& kernel);
template <typename P>
void detach_sysfs(Kernel<P>& kernel, const fs::FileSystem<P>& sysfs) noexcept;

template <typename P>
class Kernel {
public:
    using Instant = typename P::Instant;

    /// The guest sees the box's file-system namespace (box.fs()), or `vfs` when one is given.
    Kernel(LiteBox<P>& box, ShimConfig config, std::shared_ptr<fs::Vfs<P>> vfs = nullptr)
        : m_box(&box),
          m_config(std::move(config)),
          m_tasks(m_config),
          m_tracer(m_config.trace, m_config.log_unsupported),
          m_boot(boot_instant(box.now(), m_config.monotonic_is_platform_clock)),
          m_timers(box.platform(), m_boot, m_config.max_posix_timers),
          m_own_vfs(std::move(vfs)),
          m_vfs(m_own_vfs ? m_own_vfs.get() : &box.fs()),
          m_memfd_fs(fs::Tmpfs<P>::create(box.platform(), fs::TmpfsLimits{m_config.memfd_max_bytes, memfd_inode_limit(m_config)}, 01777)) {
        if (m_own_vfs) ipc::install_fifo_opener(*m_own_vfs, box.platform());
        m_vfs->inotify_hub()->set_limits(
            fs::InotifyLimits{m_config.max_inotify_instances, m_config.max_inotify_watches, m_config.max_inotify_queued_events});
        m_vfs->assign_device(*m_memfd_fs);
        auto memfd_mount = std::make_shared<fs::Mount<P>>();
        memfd_mount->fs = m_memfd_fs;
        m_memfd_root = fs::Location<P>{std::move(memfd_mount), m_memfd_fs->root()};
        // Timer signals go to the shim's signal books unless the runtime delivers them itself.
        m_timers.set_signal_sink([this](Process<P>& process, Thread<P>* thread, const TimerSignal& signal) {
            if (thread != nullptr) m_tasks.post_to_thread(*thread, signal.signo);
            else m_tasks.post_to_process(process, signal.signo);
        });
        install_ptys();
        m_uts.with_lock([&](Uts& u) {
            u.hostname = m_config.hostname.substr(0, abi::host_name_max);
            u.domainname = m_config.domainname.substr(0, abi::host_name_max);
        });
        if (m_config.mount_procfs) {
            auto procfs = install_procfs(*this);
            if (procfs) m_procfs = std::move(*procfs);
            else litebox::log(platform(), "litebox: procfs not mounted at /proc: errno {}", errno_number(procfs.error()));
            if (m_procfs && m_config.link_dev_stdio) {
                try {  // never throws out of here (see below)
                    link_dev_stdio();
                } catch (const std::bad_alloc&) {
                }
            }
        }
        if (m_config.mount_sysfs) {
            // Never throws out of here: /proc is mounted already, and a constructor that throws
            // runs no destructor to unmount it.
            Result<std::shared_ptr<fs::FileSystem<P>>> sysfs = Errno::nomem;
            try {
                sysfs = install_sysfs(*this);
            } catch (const std::bad_alloc&) {
            }
            if (sysfs) m_sysfs = std::move(*sysfs);
            else litebox::log(platform(), "litebox: sysfs not mounted at /sys: errno {}", errno_number(sysfs.error()));
        }
    }
    /// Unmounts /proc and /sys (the namespace may outlive the shim) and cuts the procfs off this kernel.
    ~Kernel() {
        // The table may outlive the kernel (a mounted /dev/pts holds it; descriptors still close
        // after this body): its signals must not reach this kernel any more.
        if (m_ptys) m_ptys->set_signal_sink({});
        m_tasks.set_session_leader_exit({});
        fs::remove_pty_devices(*m_vfs, m_pty_devices);
        unlink_dev_stdio();
        if (m_sysfs) detach_sysfs(*this, *m_sysfs);
        if (m_procfs) detach_procfs(*this, *m_procfs);
    }
    Kernel(const Kernel&) = delete;
    Kernel& operator=(const Kernel&) = delete;

    [[nodiscard]] LiteBox<P>& box() const noexcept { return *m_box; }
    [[nodiscard]] const P& platform() const noexcept { return m_box->platform(); }
    [[nodiscard]] const ShimConfig& config() const noexcept { return m_config; }
    /// The box's CPUs (ShimConfig::cpus, clamped to 1..64) and their mask.
    [[nodiscard]] std::uint32_t cpu_count() const noexcept { return std::clamp<std::uint32_t>(m_config.cpus, 1, 64); }
    [[nodiscard]] std::uint64_t cpu_mask() const noexcept {
        return cpu_count() == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << cpu_count()) - 1;
    }
    [[nodiscard]] ProcessTable<P>& tasks() noexcept { return m_tasks; }
    [[nodiscard]] Tracer<P>& tracer() noexcept { return m_tracer; }
    [[nodiscard]] fs::Vfs<P>& vfs() const noexcept { return *m_vfs; }
    /// memfd_create's files: an internal tmpfs (ShimConfig::memfd_max_bytes, memfd_max_files) with
    /// a device number of the namespace, mounted nowhere; memfd_root() is its root directory.
    [[nodiscard]] fs::Tmpfs<P>& memfd_fs() const noexcept { return *m_memfd_fs; }
    [[nodiscard]] const fs::Location<P>& memfd_root() const noexcept { return m_memfd_root; }
    /// ITIMER_REAL and POSIX timers (timer_table.hpp): a runtime with threads runs drive() on one
    /// of them and may replace the signal sink.
    [[nodiscard]] TimerTable<P>& timers() noexcept { return m_timers; }

    /// Time since the box started (CLOCK_MONOTONIC and CLOCK_BOOTTIME of the guest).
    [[nodiscard]] platform::Duration uptime() const { return platform().now().checked_duration_since(m_boot).value_or(platform::Duration{0}); }
    [[nodiscard]] Instant boot_instant() const noexcept { return m_boot; }

    struct Uts {
        std::string hostname;
        std::string domainname;
    };
    [[nodiscard]] sync::Mutex<P, Uts>& uts() noexcept { return m_uts; }
    /// The box's System V IPC namespace (sysv_ipc.hpp), made on first use.
    SysvIpc<P>& sysv_ipc() {
        return *m_sysv_ipc.with_lock([&](std::shared_ptr<SysvIpc<P>>& ipc) {
            if (!ipc) ipc = std::make_shared<SysvIpc<P>>(m_config.sysv);
            return ipc.get();
        });
    }
    /// The emulated settings of the box's terminal (terminal.hpp).
    [[nodiscard]] sync::Mutex<P, TerminalSettings>& terminal() noexcept { return m_terminal; }
    /// The box's pseudo-terminals (/dev/ptmx, /dev/pts; ShimConfig::max_ptys). Their signals
    /// (ISIG characters, SIGWINCH, hangup) are posted to the shim's signal books unless a runtime
    /// that delivers signals itself sets the table's sink.
    [[nodiscard]] ipc::PtyTable<P>& ptys() const noexcept { return *m_ptys; }

    /// Opens the box's standard stream `index` (0 stdin, 1 stdout, 2 stderr): the devfs stdio
    /// device (/dev/stdin ... before ShimConfig::link_dev_stdio made them links). ENOENT without one.
    Result<std::shared_ptr<fd::OpenFile<P>>> open_stdio(int index, std::uint32_t flags) {
        if (index < 0 || index > 2) return Errno::inval;
        if (m_stdio[index].valid()) return m_vfs->open_location(fs::Credentials::root(), m_stdio[index], flags);
        static constexpr const char* names[] = {"/dev/stdin", "/dev/stdout", "/dev/stderr"};
        return m_vfs->open(fs::Credentials::root(), m_vfs->root(), names[index], flags);
    }

    /// Creates pid 1 with the configured credentials and limits.
    Result<std::unique_ptr<ThreadContext<P>>> create_init(InitSpec spec = {});
    /// Finishes execve after the runtime loaded the program: a descriptor table shared with another
    /// process is copied (Linux's unshare_files), close-on-exec descriptors are closed,
    /// POSIX timers deleted (ITIMER_REAL stays), caught signals reset to default, other threads
    /// killed, the program identity recorded.
    void complete_exec(ThreadContext<P>& context, const ExecRequest& exec);
    /// Logs an unsupported syscall or flag once.
    void unsupported(std::uint64_t number, std::string_view reason) { m_tracer.note_unsupported(platform(), number, reason); }

    /// The text of /proc/<pid>/maps for box process `pid`, in Linux's format. Only a runtime whose
    /// guests have real address spaces can answer (litebox-run reads the kernel's view and names
    /// the box files it mapped); without one, /proc/<pid>/maps does not exist. Set it before the
    /// first guest runs; it is called on the thread serving the guest's first read of the file.
    using MapsSource = std::function<Result<std::string>(int pid)>;
    void set_maps_source(MapsSource source) { m_maps_source = std::move(source); }
    [[nodiscard]] const MapsSource& maps_source() const noexcept { return m_maps_source; }

    /// Told, after setrlimit or prlimit64 changed one of box process `pid`'s limits, the
    /// resource and its new value: a runtime whose guests own real address spaces applies the
    /// ones the host kernel enforces on the guest's own memory and CPU time (RLIMIT_AS, DATA,
    /// STACK, CPU), which the shim only records. Set it before the first guest runs.
    using LimitObserver = std::function<void(int pid, std::uint32_t resource, const abi::rlimit& limit)>;
    void set_limit_observer(LimitObserver observer) { m_limit_observer = std::move(observer); }

    /// CPU time from the host's accounting, for a runtime whose guests run their own code on host
    /// threads the shim never sees (litebox-run): the time box process `pid` (all its threads,
    /// those gone included) or its thread `tid` used, or nullopt to use the shim's own accounting
    /// (Thread::user_ns and system_ns). Set before any guest runs.
    struct CpuTimeSource {
        std::function<std::optional<Usage>(int pid)> process;
        std::function<std::optional<Usage>(int pid, int tid)> thread;
    };
    void set_cpu_time_source(CpuTimeSource source) { m_cpu_time_source = std::move(source); }
    /// CPU time `process` has used (RUSAGE_SELF, times(), CLOCK_PROCESS_CPUTIME_ID).
    [[nodiscard]] Usage process_cpu(Process<P>& process) {
        if (m_cpu_time_source.process) {
            if (auto used = m_cpu_time_source.process(process.pid())) return *used;
        }
        return process.usage();
    }
    /// CPU time `thread` has used (RUSAGE_THREAD, CLOCK_THREAD_CPUTIME_ID).
    [[nodiscard]] Usage thread_cpu(Thread<P>& thread) {
        if (m_cpu_time_source.thread) {
            if (auto used = m_cpu_time_source.thread(thread.process().pid(), thread.tid())) return *used;
        }
        return Usage{thread.user_ns.load(), thread.system_ns.load()};
    }
    /// Before `process` exits: its final CPU time from the host (what its parent's wait and
    /// RUSAGE_CHILDREN then count), replacing the shim's accounting.
    void record_final_cpu(Process<P>& process) {
        if (!m_cpu_time_source.process) return;
        const auto used = m_cpu_time_source.process(process.pid());
        if (used) record_final_cpu(process, *used);
    }
    /// `process`'s final CPU time `used`, as its host measured it (for a process that a signal
    /// killed, which never reached exit_group), replacing the shim's accounting. Call it before
    /// the process becomes a zombie its parent can reap.
    void record_final_cpu(Process<P>& process, const Usage& used) {
        process.state().with_lock([&](auto& st) {
            st.exited_threads = used;
            for (const auto& thread : st.threads) thread->user_ns.store(0), thread->system_ns.store(0);
        });
    }
    [[nodiscard]] const LimitObserver& limit_observer() const noexcept { return m_limit_observer; }

    /// The signals thread `tid` of box process `pid` blocks and those its process ignores (bit
    /// N-1 for signal N), for a runtime whose guests change them natively (litebox-run:
    /// rt_sigprocmask and rt_sigaction run on the host); nullopt falls back to the shim's books.
    /// Set before any guest runs.
    struct SignalDisposition {
        std::uint64_t blocked = 0;
        std::uint64_t ignored = 0;
    };
    using SignalDispositionSource = std::function<std::optional<SignalDisposition>(int pid, int tid)>;
    void set_signal_disposition_source(SignalDispositionSource source) { m_signal_disposition = std::move(source); }
    /// Whether `thread` blocks `signal` or its process ignores it (SIG_IGN): Linux's is_ignored
    /// in the terminal's job control. When the runtime's source cannot tell, the answer is yes
    /// (the shim's books do not know a native mask: a signal raised on a thread that blocks it
    /// would leave the call's restart answer without a signal to take).
    [[nodiscard]] bool blocks_or_ignores(Thread<P>& thread, int signal) {
        if (signal < 1 || signal > 64) return false;
        const std::uint64_t bit = std::uint64_t{1} << (signal - 1);
        if (m_signal_disposition) {
            const auto d = m_signal_disposition(thread.process().pid(), thread.tid());
            return !d || ((d->blocked | d->ignored) & bit) != 0;
        }
        if (thread.signals().with_lock([&](const auto& ts) { return (ts.blocked & bit) != 0; })) return true;
        return thread.process().signals().with_lock(
            [&](const auto& sig) { return sig.actions[static_cast<std::size_t>(signal - 1)].handler == abi::sig_ign; });
    }

private:
    /// The instant the guest's monotonic clock reads 0 (ShimConfig::monotonic_is_platform_clock).
    static Instant boot_instant(Instant now, bool platform_clock) {
        if constexpr (std::is_default_constructible_v<Instant>) {
            if (platform_clock) return Instant{};
        }
        return now;
    }

    LiteBox<P>* m_box;
    ShimConfig m_config;
    LimitObserver m_limit_observer;
    CpuTimeSource m_cpu_time_source;
    SignalDispositionSource m_signal_disposition;
    ProcessTable<P> m_tasks;
    Tracer<P> m_tracer;
    Instant m_boot;
    TimerTable<P> m_timers;
    std::shared_ptr<fs::Vfs<P>> m_own_vfs;
    fs::Vfs<P>* m_vfs;
    std::shared_ptr<fs::Tmpfs<P>> m_memfd_fs;
    fs::Location<P> m_memfd_root;
    sync::Mutex<P, Uts> m_uts;
    sync::Mutex<P, std::shared_ptr<SysvIpc<P>>> m_sysv_ipc;
    sync::Mutex<P, TerminalSettings> m_terminal;
    std::shared_ptr<ProcFs<P>> m_procfs;
    std::shared_ptr<fs::FileSystem<P>> m_sysfs;  // null when not mounted
    std::shared_ptr<ipc::PtyTable<P>> m_ptys;
    fs::PtyDevices<P> m_pty_devices;
    MapsSource m_maps_source;
    std::array<fs::Location<P>, 3> m_stdio{};  // the devfs stdio devices /dev/std* linked away
    std::array<bool, 3> m_stdio_linked{};  // a link made where there was no device
    bool m_dev_fd_linked = false;

    /// Makes /dev/ptmx and /dev/pts when the namespace has a /dev (never fails the kernel).
    void install_ptys() {
        m_ptys = ipc::PtyTable<P>::create(m_config.max_ptys);
        m_ptys->set_signal_sink([this](int target, int signal) {
            if (target > 0) {
                if (auto process = m_tasks.find_process(target)) m_tasks.post_to_process(*process, signal);
                return;
            }
            for (const int pid : m_tasks.group_members(-target))
                if (auto process = m_tasks.find_process(pid)) m_tasks.post_to_process(*process, signal);
        });
        // A session leader's exit takes its controlling terminal from the session and sends the
        // terminal's foreground group SIGHUP (Linux's disassociate_ctty for a pty: no SIGCONT).
        m_tasks.set_session_leader_exit([this](int session) {
            const auto pair = m_ptys->controlling(session);
            int group = 0;
            if (!pair || !pair->release_session(session, group) || group <= 0) return;
            for (const int pid : m_tasks.group_members(group))  // not the leader itself, which is on its way out
                if (pid != session) m_ptys->signal(pid, ipc::pty_signals::sighup);
        });
        try {
            if (auto made = fs::install_pty_devices(*m_vfs, platform(), m_ptys)) m_pty_devices = std::move(*made);
        } catch (const std::bad_alloc&) {
        }
    }
    static constexpr const char* stdio_names[] = {"stdin", "stdout", "stderr"};
    /// ShimConfig::link_dev_stdio: only character devices are replaced and only missing names are
    /// made, so a root file system with its own links keeps them.
    void link_dev_stdio() {
        const auto root = fs::Credentials::root();
        auto dev = m_vfs->resolve_directory(root, m_vfs->root(), "/dev");
        if (!dev) return;
        for (int i = 0; i < 3; ++i) {
            const std::string target = "/proc/self/fd/" + std::to_string(i);
            auto where = m_vfs->resolve(root, *dev, stdio_names[i], fs::at_flags::symlink_nofollow);
            if (!where) {
                m_stdio_linked[i] = where.error() == Errno::noent && m_vfs->symlink(root, target, *dev, stdio_names[i]).has_value();
                continue;
            }
            if (where->inode->type() != fd::mode::char_device) continue;
            auto st = where->inode->getattr();
            if (!st) continue;
            if (!m_vfs->unlink(root, *dev, stdio_names[i])) continue;
            bool linked = false;
            try {
                linked = m_vfs->symlink(root, target, *dev, stdio_names[i]).has_value();
            } catch (const std::bad_alloc&) {
            }
            if (!linked) {  // put the device back
                (void)m_vfs->mknod(root, *dev, stdio_names[i], st->mode, st->represented_device);
                continue;
            }
            m_stdio[i] = std::move(*where);
        }
        if (!m_vfs->resolve(root, *dev, "fd", fs::at_flags::symlink_nofollow))
            m_dev_fd_linked = m_vfs->symlink(root, "/proc/self/fd", *dev, "fd").has_value();
    }
    void unlink_dev_stdio() noexcept {
        try {
            const auto root = fs::Credentials::root();
            auto dev = m_vfs->resolve_directory(root, m_vfs->root(), "/dev");
            if (!dev) return;
            // Only the links this kernel made, still as it made them (a guest may have changed them).
            const auto ours = [&](const char* name, const std::string& body) {
                auto text = m_vfs->readlink(root, *dev, name);
                return text && *text == body;
            };
            for (int i = 0; i < 3; ++i) {
                if (!ours(stdio_names[i], "/proc/self/fd/" + std::to_string(i))) continue;
                if (m_stdio_linked[i]) (void)m_vfs->unlink(root, *dev, stdio_names[i]);
                if (!m_stdio[i].valid()) continue;
                auto st = m_stdio[i].inode->getattr();
                if (st && m_vfs->unlink(root, *dev, stdio_names[i])) (void)m_vfs->mknod(root, *dev, stdio_names[i], st->mode, st->represented_device);
            }
            if (m_dev_fd_linked && ours("fd", "/proc/self/fd")) (void)m_vfs->unlink(root, *dev, "fd");
        } catch (...) {
        }
    }
};

template <typename P>
class ThreadContext {
public:
    ThreadContext(Kernel<P>& kernel, std::shared_ptr<Process<P>> process, std::shared_ptr<Thread<P>> thread) noexcept
        : m_kernel(&kernel), m_process(std::move(process)), m_thread(std::move(thread)) {}
    ThreadContext(const ThreadContext&) = delete;
    ThreadContext& operator=(const ThreadContext&) = delete;

    [[nodiscard]] Kernel<P>& kernel() const noexcept { return *m_kernel; }
    [[nodiscard]] const P& platform() const noexcept { return m_kernel->platform(); }
    [[nodiscard]] Process<P>& process() const noexcept { return *m_process; }
    [[nodiscard]] Thread<P>& thread() const noexcept { return *m_thread; }
    [[nodiscard]] const std::shared_ptr<Process<P>>& shared_process() const noexcept { return m_process; }
    [[nodiscard]] const std::shared_ptr<Thread<P>>& shared_thread() const noexcept { return m_thread; }
    [[nodiscard]] int pid() const noexcept { return m_process->pid(); }
    [[nodiscard]] int tid() const noexcept { return m_thread->tid(); }
    /// The process's descriptor table. The context holds the table it returns until the process's
    /// table changes (Process::unshare_files, by any of its threads), so the reference stays valid
    /// for the rest of a syscall even if another thread unshares meanwhile.
    [[nodiscard]] fd::DescriptorTable<P>& files() const noexcept {
        const std::uint64_t generation = m_process->files_generation();
        if (!m_files || generation != m_files_generation) {
            m_files = m_process->files();
            m_files_generation = generation;
        }
        return *m_files;
    }
    /// The context for a blocking wait of this thread (interruptible through its Waiter).
    [[nodiscard]] event::WaitContext<P> wait_context(std::optional<typename P::Instant> deadline = std::nullopt) const {
        return event::WaitContext<P>(platform(), &m_thread->waiter(), deadline);
    }

    /// The bounce buffer for guest I/O (io_chunk_size bytes, allocated on first use).
    [[nodiscard]] std::span<std::byte> io_buffer() {
        if (m_io_buffer.empty()) m_io_buffer.resize(io_chunk_size);
        return m_io_buffer;
    }

    // ---- runtime interface ------------------------------------------------------------------
    /// What the runtime must do after the last dispatch (monostate: nothing).
    [[nodiscard]] RuntimeRequest<P> take_request() {
        RuntimeRequest<P> out(std::move(m_request));
        m_request.template emplace<std::monostate>();
        return out;
    }
    void set_request(RuntimeRequest<P> request) { m_request = std::move(request); }
    /// The next signal to deliver to this thread and its disposition, removed from the pending sets.
    std::optional<std::pair<int, abi::kernel_sigaction>> dequeue_signal() { return m_kernel->tasks().dequeue_signal(*m_thread); }
    /// Adds CPU time the runtime measured (getrusage, times, CPU-time clocks).
    void account(platform::Duration user, platform::Duration system) {
        m_thread->user_ns.fetch_add(user.count(), std::memory_order_relaxed);
        m_thread->system_ns.fetch_add(system.count(), std::memory_order_relaxed);
    }

private:
    Kernel<P>* m_kernel;
    std::shared_ptr<Process<P>> m_process;
    std::shared_ptr<Thread<P>> m_thread;
    std::vector<std::byte> m_io_buffer;
    RuntimeRequest<P> m_request;
    mutable std::shared_ptr<fd::DescriptorTable<P>> m_files;  // see files()
    mutable std::uint64_t m_files_generation = 0;
};

/// The object of kind T behind `descriptor`, as `cast` finds it in the open file (nullptr: another
/// kind): EBADF without a descriptor, EINVAL for another kind. `keep` holds the file meanwhile.
template <typename T, typename P, typename Cast>
Result<T*> descriptor_object(ThreadContext<P>& t, std::int32_t descriptor, std::shared_ptr<fd::OpenFile<P>>& keep, Cast cast) {
    LITEBOX_TRY_ASSIGN(keep, t.files().get(descriptor));
    T* object = cast(*keep);
    if (object == nullptr) return Errno::inval;
    return object;
}

/// Default resource limits of the first process (Linux's usual defaults; NOFILE from the config).
inline std::array<abi::rlimit, abi::rlimit_count> default_limits(const ShimConfig& config) {
    std::array<abi::rlimit, abi::rlimit_count> limits{};
    for (auto& l : limits) l = abi::rlimit{abi::rlim_infinity, abi::rlim_infinity};
    limits[abi::rlimit_core] = {0, abi::rlim_infinity};
    limits[abi::rlimit_stack] = {8u << 20, abi::rlim_infinity};
    limits[abi::rlimit_nproc] = {config.max_tasks, config.max_tasks};
    limits[abi::rlimit_nofile] = {config.nofile_soft, config.nofile_hard};
    limits[abi::rlimit_memlock] = {8u << 20, 8u << 20};
    limits[abi::rlimit_as] = {config.max_address_space, config.max_address_space};
    limits[abi::rlimit_sigpending] = {config.max_tasks, config.max_tasks};
    limits[abi::rlimit_msgqueue] = {819200, 819200};
    limits[abi::rlimit_nice] = {0, 0};
    limits[abi::rlimit_rtprio] = {0, 0};
    return limits;
}

template <typename P>
Result<std::unique_ptr<ThreadContext<P>>> Kernel<P>::create_init(InitSpec spec) {
    const auto limits = default_limits(m_config);
    LITEBOX_TRY_ASSIGN(auto created, m_tasks.create_init(Credentials::of(m_config.initial_uid, m_config.initial_gid), limits,
                                                         static_cast<std::size_t>(m_config.nofile_soft), m_vfs->root()));
    // POSIX record locks belong to the descriptor table (fork copies get their own owner).
    created.process->files()->set_observer(m_vfs->locks().new_owner());
    created.process->state().with_lock([&](auto& st) {
        st.exe = std::move(spec.exe);
        st.argv = std::move(spec.argv);
        st.environ = std::move(spec.environ);
    });
    return std::make_unique<ThreadContext<P>>(*this, std::move(created.process), std::move(created.thread));
}

template <typename P>
void Kernel<P>::complete_exec(ThreadContext<P>& context, const ExecRequest& exec) {
    Process<P>& process = context.process();
    std::vector<std::shared_ptr<Thread<P>>> others;
    process.state().with_lock([&](auto& st) {
        st.exe = exec.path;
        st.argv = exec.argv;
        st.environ = exec.envp;
        for (auto& t : st.threads)
            if (t.get() != &context.thread()) others.push_back(t);
    });
    context.thread().name().with_lock([&](std::string& n) { n = comm_of_path(exec.invoked_as.empty() ? exec.path : exec.invoked_as); });
    for (auto& t : others) {
        (void)m_tasks.exit_thread(*t, 0);
        t->kill();
    }
    process.unshare_files();  // a table shared through CLONE_FILES stays with the other processes
    context.files().close_all_on_exec();
    m_timers.exec(context.shared_process());  // POSIX timers die with the old image; ITIMER_REAL stays
    process.signals().with_lock([](auto& sig) {
        for (auto& action : sig.actions)
            if (action.handler != abi::sig_ign) action = abi::kernel_sigaction{};
    });
    m_tasks.mark_exec(process.pid());
}

}  // namespace litebox::shim::linux_abi

#include "procfs.hpp"  // install_procfs (it needs the complete Kernel)
#include "sysfs.hpp"   // install_sysfs, likewise
