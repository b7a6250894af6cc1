// litebox-run's runtime: the LiteBox a guest runs in (root file system, devices), the Linux shim
// that answers its system calls, and the glue between the shim's runtime protocol (kernel.hpp:
// exit / clone / exec requests, pending signals) and the seccomp supervisor (seccomp_handler.hpp:
// one handle() per trapped call, `would_block` to move a call to a waiter thread).
//
// Threads. handle() runs on the supervisor's notification thread (must not wait) or on a waiter
// thread (may wait, interruptibly). On the notification thread every call runs with the calling
// thread's Waiter pre-interrupted: a shim call that would sleep returns EINTR at once without
// having consumed anything, and handle() answers `would_block`, so the supervisor runs it again
// on a waiter. The few waits that do not go through the Waiter (F_SETLKW and flock, which use
// the lock table's condition variable; reads of the host's standard input, which block in the
// platform) and the one call that acts before it waits (connect) are sent to a waiter up front.
#pragma once

#include <dirent.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <litebox/fs/devfs.hpp>
#include <litebox/fs/overlay/overlayfs.hpp>
#include <litebox/fs/tar/tarfs.hpp>
#include <litebox/fs/tmpfs.hpp>
#include <litebox/litebox.hpp>
#include <litebox/fs/hostfs/hostfs.hpp>
#include <litebox/platform/linux/host_signalfd.hpp>
#include <litebox/platform/linux/hostfs.hpp>
#include <litebox/platform/linux/memfd_store.hpp>
#include <litebox/platform/linux/remote_memory.hpp>
#include <litebox/platform/linux/seccomp_handler.hpp>
#include <litebox/platform/linux/seccomp_launch.hpp>
#include <litebox/platform/linux/seccomp_supervisor.hpp>
#include <litebox/platform/linux/seccomp_tracer.hpp>
#include <litebox/shim/linux/shim.hpp>

#include "maps.hpp"

namespace litebox_run {

namespace lp = litebox::platform::linux_platform;
namespace sc = litebox::platform::linux_platform::seccomp;
namespace lx = litebox::shim::linux_abi;
namespace fs = litebox::fs;
using litebox::Errno;
using litebox::Result;
/// The box's IP interface for --net slirp|tun: a backend (SlirpBackend, TunBackend) behind one
/// virtual interface, so that the platform type does not depend on the choice.
class NetBackend {
public:
    virtual ~NetBackend() = default;
    virtual Result<void> send_ip_packet(std::span<const std::byte> packet) = 0;
    virtual Result<std::size_t> receive_ip_packet(std::span<std::byte> buffer) = 0;
    /// Waits for the host side (at most `timeout`) and does the backend's own work.
    virtual void service(std::optional<litebox::platform::Duration> timeout) = 0;
    /// Ends a service() wait early (installed as the stack's WakeupHook).
    virtual litebox::net::WakeupHook& wakeup_hook() = 0;
    [[nodiscard]] virtual litebox::net::InterfaceConfig interface_config() const = 0;
};

template <typename Backend>
class NetBackendOf final : public NetBackend {
public:
    template <typename... Args>
    explicit NetBackendOf(Args&&... args) : m_backend(std::forward<Args>(args)...) {}
    Result<void> send_ip_packet(std::span<const std::byte> packet) override { return m_backend.send_ip_packet(packet); }
    Result<std::size_t> receive_ip_packet(std::span<std::byte> buffer) override { return m_backend.receive_ip_packet(buffer); }
    void service(std::optional<litebox::platform::Duration> timeout) override { m_backend.service(timeout); }
    litebox::net::WakeupHook& wakeup_hook() override { return m_backend; }
    [[nodiscard]] litebox::net::InterfaceConfig interface_config() const override { return m_backend.interface_config(); }
    [[nodiscard]] Backend& backend() noexcept { return m_backend; }

private:
    Backend m_backend;
};

/// The runner's platform: Linux, guest memory in another process, and one punchthrough -- the
/// read-only host directory of --rootfs-dir (none without it: every request is denied).
class Platform : public lp::LinuxHostFsPlatform {
public:
    template <typename T>
    using ConstPtr = lp::RemoteConstPtr<T>;
    template <typename T>
    using MutPtr = lp::RemoteMutPtr<T>;
    using LinuxHostFsPlatform::LinuxHostFsPlatform;

    /// The IP interface: the backend given with --net, or none (the box has only its loopback).
    /// Set before the box's stack first runs; the backend outlives the box.
    void set_network(NetBackend* backend) noexcept { m_network = backend; }
    Result<void> send_ip_packet(std::span<const std::byte> packet) const {
        if (m_network == nullptr) return Errno::netunreach;
        auto sent = m_network->send_ip_packet(packet);
        if (sent) m_packets_sent.fetch_add(1, std::memory_order_relaxed);
        return sent;
    }
    Result<std::size_t> receive_ip_packet(std::span<std::byte> buffer) const {
        if (m_network == nullptr) return Errno::again;
        auto received = m_network->receive_ip_packet(buffer);
        if (received) m_packets_received.fetch_add(1, std::memory_order_relaxed);
        return received;
    }
    /// IP packets the box exchanged with the backend (for --audit).
    [[nodiscard]] std::uint64_t packets_sent() const noexcept { return m_packets_sent.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t packets_received() const noexcept { return m_packets_received.load(std::memory_order_relaxed); }

    /// The decision of the base platform, counted for --audit.
    std::optional<lp::HostFsToken> get_punchthrough_token_for(fs::hostfs::HostFsRequest request) const {
        auto token = LinuxHostFsPlatform::get_punchthrough_token_for(std::move(request));
        (token ? m_granted : m_denied).fetch_add(1, std::memory_order_relaxed);
        return token;
    }
    [[nodiscard]] std::uint64_t granted() const noexcept { return m_granted.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t denied() const noexcept { return m_denied.load(std::memory_order_relaxed); }

private:
    mutable std::atomic<std::uint64_t> m_granted{0};
    mutable std::atomic<std::uint64_t> m_denied{0};
    NetBackend* m_network = nullptr;
    mutable std::atomic<std::uint64_t> m_packets_sent{0};
    mutable std::atomic<std::uint64_t> m_packets_received{0};
};
using Context = lx::ThreadContext<Platform>;

/// Largest program image litebox-run loads from the box (the file is copied into a memfd).
inline constexpr std::uint64_t max_program_bytes = 512ull << 20;
/// Bytes of box files kept in memfds for file-backed mmap (shared libraries); beyond it the cache
/// starts over (mappings already made keep their memfd).
inline constexpr std::uint64_t max_mapped_image_bytes = 1ull << 30;
/// Host files kept open for file-backed mmap of host-directory files; beyond it the cache starts
/// over (mappings already made keep their file).
inline constexpr std::size_t max_cached_host_files = 512;
/// Host files (memfd images, host-directory files) whose box names /proc/<pid>/maps remembers;
/// beyond it the table starts over (older mappings then read as anonymous).
inline constexpr std::size_t max_mapped_names = 4096;
/// Bytes of the kernel's /proc/PID/maps text read for one guest, and of the box's text made from
/// it (Linux's default of 65530 mappings at ~100 bytes a line fits; long box paths may not).
inline constexpr std::size_t max_maps_bytes = 16u << 20;
/// signalfd descriptors (open file descriptions) the box may hold at once, each one a host
/// signalfd of the runner's (--limits signalfds=N); beyond it signalfd fails with EMFILE.
inline constexpr std::size_t default_max_signalfds = 128;
/// `#!` interpreter lines nest at most this deep (Linux: 4 levels of binfmt recursion).
inline constexpr int max_interpreter_depth = 4;
/// Longest `#!` line read (Linux 6.x: 256 bytes).
inline constexpr std::size_t max_shebang_line = 256;

inline std::int64_t neg(Errno e) noexcept { return -static_cast<std::int64_t>(litebox::errno_number(e)); }

/// How execveat named the program (ExecRequest): a descriptor's file, AT_SYMLINK_NOFOLLOW, and
/// whether its "/dev/fd/N" name is gone after the exec.
struct ExecSource {
    int descriptor = -1;
    bool nofollow = false;
    bool name_inaccessible = false;
};

/// A program found in the box, ready to launch.
struct LoadedProgram {
    sc::GuestImage image;
    std::string path;                // what /proc/PID/exe names (the box path of the ELF file)
    std::vector<std::string> argv;   // what the image is started with (after `#!` rewriting)
    // What /proc/PID/cmdline shows: `argv`, except for a dynamically linked program, which the
    // image starts as `interpreter --argv0 NAME PROGRAM ARGS...` -- Linux shows the program's own
    // argv there (the kernel loads the interpreter without changing it), and ps, pidof and pkill
    // read it.
    std::vector<std::string> shown_argv;
    // For an execve: the calling thread's blocked signals and its process's ignored ones, which
    // the new image keeps (LaunchOptions::blocked_signals / ignored_signals).
    std::uint64_t blocked_signals = 0;
    std::uint64_t ignored_signals = 0;
    std::vector<sc::HostLimit> limits = {};  // the box process's limits the host enforces (host_limits)
    int box_pid = 0;  // the box process the image runs as (LaunchOptions::box_tid)
    // Set when `image` is still empty (GuestImage::reserve): writes and seals it. Pass it to
    // Tracer::launch, which runs it while the trampoline is forked and confined.
    std::function<Result<void>()> stage = {};
};

/// The limits the host kernel enforces on a guest's own memory and CPU time, which the box only
/// records: the runner applies the box's values to each guest process (at launch, and whenever
/// setrlimit or prlimit64 changes one).
inline constexpr std::array<int, 4> host_enforced_limits{RLIMIT_AS, RLIMIT_DATA, RLIMIT_STACK, RLIMIT_CPU};

/// Box process `process`'s values of host_enforced_limits, for LaunchOptions::limits.
inline std::vector<sc::HostLimit> host_limits(lx::Process<Platform>& process) {
    const auto limits = process.state().with_lock([](auto& st) { return st.limits; });
    std::vector<sc::HostLimit> out;
    for (const int resource : host_enforced_limits) out.push_back(sc::HostLimit{resource, limits[resource].rlim_cur, limits[resource].rlim_max});
    return out;
}

/// Everything the runner's box is made of.
struct BoxSpec {
    bool rootfs_is_host_directory = false;  // the platform's host directory (--rootfs-dir) instead of a tar
    std::span<const std::byte> rootfs;  // a tar image (read-only lower layer of an overlay)
    std::shared_ptr<const void> rootfs_owner;
    fs::TmpfsLimits overlay_limits;     // the writable upper layer
    lx::ShimConfig shim;
    std::string workdir = "/";
};

class Runtime final : public sc::TraceEvents {
public:
    /// Starts a program image (traced, not yet served): used for the first program and execve.
    using Launcher = std::function<Result<std::unique_ptr<sc::LaunchedGuest>>(LoadedProgram&, const std::vector<std::string>& envp)>;
    /// Starts serving a launched image; `replaced_host_pid` is the host process it replaces.
    using Adopter = std::function<Result<void>(std::unique_ptr<sc::LaunchedGuest>, pid_t replaced_host_pid)>;
    /// Tells the supervisor how a host process ended (it does not reap them itself).
    using ExitRecorder = std::function<void(pid_t host_pid, int wait_status)>;
    /// Sends a signal to a host process / thread of the guest: the supervisor's
    /// signal_process_deferred (the blocked served call it interrupts is returned, to fire) and
    /// signal_thread (which interrupts at once). A non-null siginfo goes with the signal.
    using SignalProcess = std::function<Result<sc::DeferredInterrupt>(pid_t host_pid, int sig, const siginfo_t* info)>;
    using SignalThread = std::function<Result<void>(pid_t host_pid, pid_t host_tid, int sig, const siginfo_t* info)>;

    Runtime(Platform& platform, std::shared_ptr<fs::FileSystem<Platform>> root, lx::ShimConfig config)
        : m_box(platform, std::move(root)), m_shim(m_box, host_clocks(std::move(config))) {
        // A child's exit raises the host signal in the parent before the parent's wait4 can see
        // the exit (as Linux does); the parent's blocking call is interrupted after the wake-up.
        // A parent that reads SIGCHLD from a signalfd also gets Linux's siginfo for it (queue_child_exit).
        m_shim.tasks().set_child_exit_notifier([this](int parent, int sig, const auto& child) {
            const bool queued = queue_child_exit(parent, sig, child);
            auto interrupt = signal_then_interrupt(parent, sig);
            if (queued) confirm_queued(parent, sig, static_cast<bool>(interrupt));
            return interrupt;
        });
        // A child's stop or continuation (reported by the tracer) raises SIGCHLD the same way. The
        // host kernel refuses a positive si_code (CLD_STOPPED) from another process, so the
        // guest's handler sees SI_USER, as for an exit; and the guest's SA_NOCLDSTOP is not known
        // (rt_sigaction runs natively), so the signal is always sent, Linux's default.
        m_shim.tasks().set_child_stop_notifier([this](int parent, int, int, int) { return signal_then_interrupt(parent, SIGCHLD); });
        // The box's pseudo-terminals raise real host signals too: ^C, ^\, ^Z in ISIG mode and
        // SIGWINCH to the foreground group, SIGHUP/SIGCONT to a session leader on hangup. Linux
        // discards SIGTSTP for an orphaned group; the host kernel cannot know box groups.
        m_shim.ptys().set_signal_sink([this](int target, int sig) {
            if (target > 0) {
                (void)raise_in(target, sig);
                return;
            }
            for (const int pid : group_members(-target))
                if (sig != SIGTSTP || !m_shim.tasks().in_orphaned_group(pid)) (void)raise_in(pid, sig);
        });
        // An exit that orphans a group with a stopped job: SIGHUP to every member, then SIGCONT
        // (which really continues the stopped host processes), as Linux's kill_orphaned_pgrp.
        m_shim.tasks().set_orphaned_group_hangup([this](int, const std::vector<int>& members) {
            for (const int pid : members) (void)raise_in(pid, SIGHUP);
            for (const int pid : members) (void)raise_in(pid, SIGCONT);
        });
        m_shim.set_maps_source([this](int box_pid) { return maps_text(box_pid); });
        // shm_nattch: the mappings of a segment's memfd in the guests' host address spaces.
        m_shim.sysv_ipc().set_attach_counter(
            [this](const std::vector<fs::Inode<Platform>*>& files, bool holding) { return segment_mappings(files, holding); });
        // The guest's own code runs on host threads: CPU time is the host's accounting of them.
        m_shim.set_cpu_time_source({[this](int pid) { return host_process_cpu(pid); },
                                    [this](int pid, int tid) { return host_thread_cpu(pid, tid); }});
        // The terminals' job control asks whether the caller blocks or ignores SIGTTIN/SIGTTOU:
        // the host thread knows (rt_sigprocmask and rt_sigaction run natively). It waits in the
        // served call, so its state cannot change meanwhile.
        m_shim.set_signal_disposition_source([this](int pid, int tid) -> std::optional<lx::Kernel<Platform>::SignalDisposition> {
            const auto host = host_thread_of(pid, tid);
            if (!host) return std::nullopt;
            const auto state = sc::detail::signal_state(host->first, host->second);
            if (!state) return std::nullopt;
            return lx::Kernel<Platform>::SignalDisposition{state->blocked, state->ignored};
        });
        m_shim.set_limit_observer([this](int box_pid, std::uint32_t resource, const lx::abi::rlimit& limit) {
            apply_host_limit(box_pid, resource, limit);
        });
        // Timer expiries (alarm, setitimer, timer_create) raise real host signals, like kill, so
        // that they reach a guest running native code; main.cpp runs the timers' driver thread.
        m_shim.timers().set_signal_sink([this](lx::Process<Platform>& process, lx::Thread<Platform>* thread,
                                               const lx::TimerSignal& signal) { raise_timer_signal(process, thread, signal); });
    }

    /// Builds the box's root: the tar image under a tmpfs overlay, /dev (devfs) and /tmp.
    static Result<std::shared_ptr<fs::FileSystem<Platform>>> make_root(Platform& platform, const BoxSpec& spec,
                                                                       fs::tar::ParseError* error) {
        std::shared_ptr<fs::FileSystem<Platform>> lower;
        if (spec.rootfs_is_host_directory) {
            LITEBOX_TRY_ASSIGN(lower, fs::HostFs<Platform>::create(platform, /*read_only=*/true));
        } else {
            LITEBOX_TRY_ASSIGN(lower, fs::TarFs<Platform>::create(spec.rootfs, spec.rootfs_owner, {}, error));
        }
        auto upper = fs::Tmpfs<Platform>::create(platform, spec.overlay_limits, 0755);
        LITEBOX_TRY_ASSIGN(auto overlay, fs::OverlayFs<Platform>::create(platform, upper, lower));
        if (!spec.rootfs_is_host_directory) {
            // An image without /dev or /tmp gets them in the overlay, as a container runtime
            // would: the devices (and the standard streams through them) need the mount point.
            const auto root = overlay->root();
            const auto ensure = [&](std::string_view name, std::uint32_t mode) -> Result<void> {
                if (auto found = root->lookup(name)) return (*found)->is_directory() ? litebox::ok() : Result<void>(Errno::notdir);
                if (auto made = root->mkdir(name, fs::NewNode{litebox::fd::mode::directory | mode, 0, 0, 0}); !made) return made.error();
                return litebox::ok();
            };
            LITEBOX_TRY(ensure("dev", 0755));
            LITEBOX_TRY(ensure("tmp", 01777));
        }
        return std::shared_ptr<fs::FileSystem<Platform>>(std::move(overlay));
    }

    [[nodiscard]] litebox::LiteBox<Platform>& box() noexcept { return m_box; }
    [[nodiscard]] lx::LinuxShim<Platform>& shim() noexcept { return m_shim; }
    /// `settle`: Tracer::settle, called for the old image of an execve with other threads before
    /// it is killed (a stop one of them took is then known).
    void set_launcher(Launcher launcher, Adopter adopter, ExitRecorder recorder, std::function<void(pid_t)> settle = {}) {
        m_launcher = std::move(launcher);
        m_adopter = std::move(adopter);
        m_record_exit = std::move(recorder);
        m_settle = std::move(settle);
    }
    /// Signalfds the box may hold at once (--limits signalfds=N).
    void set_max_signalfds(std::size_t limit) noexcept { m_max_signalfds = limit; }
    /// `restart_answer`: whether the supervisor answered a thread's last call -ERESTARTSYS itself
    /// (Supervisor::take_restart_answer). Set before the tracer starts.
    /// Every signal they send wakes the box's signalfd waiters (wake_signalfds).
    void set_signallers(SignalProcess process, SignalThread thread, std::function<bool(pid_t host_tid)> restart_answer) {
        m_signal_process = [this, send = std::move(process)](pid_t host_pid, int sig, const siginfo_t* info) {
            auto sent = send(host_pid, sig, info);
            if (sent) wake_signalfds();
            return sent;
        };
        m_signal_thread = [this, send = std::move(thread)](pid_t host_pid, pid_t host_tid, int sig, const siginfo_t* info) {
            auto sent = send(host_pid, host_tid, sig, info);
            if (sent) wake_signalfds();
            return sent;
        };
        m_take_restart_answer = std::move(restart_answer);
    }

    /// Creates box pid 1 with standard input, output and error on the host's (devfs stdio
    /// devices) and `workdir` as its working directory.
    Result<void> create_init(const std::string& workdir) {
        LITEBOX_TRY_ASSIGN(auto init, m_shim.create_init(lx::InitSpec{}));
        const auto creds = lx::fs_credentials(*init);
        auto& vfs = m_shim.vfs();
        static constexpr std::uint32_t modes[] = {litebox::fd::open_flags::read_only, litebox::fd::open_flags::write_only,
                                                  litebox::fd::open_flags::write_only};
        for (int i = 0; i < 3; ++i) {
            LITEBOX_TRY_ASSIGN(auto file, m_shim.open_stdio(i, modes[i]));
            LITEBOX_TRY_ASSIGN(const int fd, init->files().insert(std::move(file), false));
            if (fd != i) return Errno::badf;
        }
        LITEBOX_TRY_ASSIGN(auto dir, vfs.resolve_directory(creds, vfs.root(), workdir));
        init->process().fs().with_lock([&](auto& f) { f.cwd = dir; });
        m_init = std::move(init);
        return litebox::ok();
    }
    [[nodiscard]] Context& init() noexcept { return *m_init; }

    struct Counts {
        std::uint64_t forks = 0;   // processes and threads created by clone/fork/vfork
        std::uint64_t images = 0;  // program images started (the first one and every execve)
    };
    [[nodiscard]] Counts counts() const noexcept {
        return Counts{m_forks.load(std::memory_order_relaxed), m_images.load(std::memory_order_relaxed) + 1};
    }

    /// Finds `name` for execution by `context` the way execve (with a '/') or the shell's PATH
    /// search (without) would, reads it, follows `#!`, and checks that it is a static x86-64 ELF.
    Result<LoadedProgram> load_program(Context& context, const std::string& name, std::vector<std::string> argv,
                                       const std::vector<std::string>& envp, bool search_path, ExecSource source = {}) {
        std::string path = name;
        if (search_path && name.find('/') == std::string::npos) {
            LITEBOX_TRY_ASSIGN(path, search(context, name, envp));
        }
        for (int depth = 0;; ++depth) {
            const bool from_descriptor = depth == 0 && source.descriptor >= 0;
            LITEBOX_TRY_ASSIGN(auto program, from_descriptor ? open_descriptor(context, source.descriptor)
                                                             : open_executable(context, path, depth == 0 && source.nofollow));
            // The head of the file decides (`#!`, the ELF and program headers, PT_INTERP); only a
            // program the kernel will load itself is read whole, into its memfd.
            LITEBOX_TRY_ASSIGN(auto head, read_head(*program.file, program.stat));
            const std::span<const std::byte> view(head);
            if (view.size() >= 2 && view[0] == std::byte{'#'} && view[1] == std::byte{'!'}) {
                if (depth >= max_interpreter_depth) return Errno::loop;
                // The interpreter would be given a /dev/fd name that is closed by then: Linux
                // refuses a script run from a close-on-exec descriptor with ENOENT.
                if (depth == 0 && source.name_inaccessible) return Errno::noent;
                LITEBOX_TRY_ASSIGN(auto interpreter, parse_shebang(view));
                // argv becomes: interpreter [optional-arg] path original-argv[1..]
                std::vector<std::string> rewritten;
                rewritten.push_back(interpreter.first);
                if (!interpreter.second.empty()) rewritten.push_back(interpreter.second);
                rewritten.push_back(path);
                for (std::size_t i = 1; i < argv.size(); ++i) rewritten.push_back(std::move(argv[i]));
                argv = std::move(rewritten);
                path = interpreter.first;
                continue;
            }
            if (sc::check_elf(view) == sc::ElfCheck::dynamic) {
                // The kernel must not open the interpreter by host path: the runner starts the
                // interpreter (read from the box) itself, with the program as its argument; the
                // dynamic loader then maps the program and its libraries through served calls.
                LITEBOX_TRY_ASSIGN(std::string interpreter, sc::elf_interpreter(view));
                LITEBOX_TRY_ASSIGN(auto loader_file, open_executable(context, interpreter));
                LITEBOX_TRY_ASSIGN(auto loader, file_image(*loader_file.file, loader_file.stat, "litebox-guest"));
                if (loader->check() != sc::ElfCheck::ok) return Errno::noexec;
                name_mapping(loader->fd(), exe_path(context, interpreter), loader_file.stat);
                // The loader gets the program's real path (symbolic links resolved, as /proc/PID/exe
                // shows): it takes $ORIGIN from the path it was given, where the kernel would use
                // the executable's own directory (a link such as /usr/bin/java -> .../bin/java
                // with RPATH $ORIGIN/../lib).
                // A descriptor's file: the loader opens it by its /dev/fd name while the
                // descriptor stays open, else by the file's own path (an unnamed one, e.g. a
                // memfd, cannot be reopened: ENOENT).
                std::string exe = from_descriptor ? descriptor_exe(context, source.descriptor) : exe_path(context, path);
                if (from_descriptor && source.name_inaccessible && !reachable(context, exe)) return Errno::noent;
                const std::string loader_path = from_descriptor && !source.name_inaccessible ? path : exe;
                std::vector<std::string> loader_argv{interpreter, "--argv0", argv.empty() ? path : argv[0], loader_path};
                for (std::size_t i = 1; i < argv.size(); ++i) loader_argv.push_back(argv[i]);
                LITEBOX_TRY_ASSIGN(auto image, loader->duplicate());
                return LoadedProgram{std::move(image), std::move(exe), std::move(loader_argv), std::move(argv)};
            }
            // The whole file is checked once sealed (dynamic only if the head was too short).
            LITEBOX_TRY_ASSIGN(auto prepared, prepare_image(program.file, program.stat, "litebox-guest"));
            std::string exe = from_descriptor ? descriptor_exe(context, source.descriptor) : exe_path(context, path);
            name_mapping(prepared.image.fd(), exe, program.stat);
            LoadedProgram loaded{std::move(prepared.image), std::move(exe), argv, argv};
            loaded.stage = std::move(prepared.stage);
            return loaded;
        }
    }

    /// Records that host thread `host_tid` of host process `host_pid` is box thread `context`.
    void bind(pid_t host_tid, pid_t host_pid, std::shared_ptr<Context> context) {
        std::lock_guard lock(m_mutex);
        if (host_tid == host_pid) {
            m_box_pid_host[context->pid()] = host_pid;
            m_host_process[host_pid] = context;
            open_pidfd(host_pid);
        }
        m_threads[host_tid] = std::move(context);
    }

    // ---- TraceEvents (the tracer thread) ------------------------------------------------------------
    std::int64_t on_clone_entry(pid_t /*pid*/, pid_t tid, std::uint64_t flags) override {
        const std::shared_ptr<Context> context = context_of(tid);
        if (!context) return neg(Errno::srch);
        // No guest memory on this thread: the pointer arguments are the kernel's business (the
        // tracer rewrites the ids it writes).
        const lx::SyscallRequest request{SYS_clone, {flags, 0, 0, 0, 0, 0}};
        const std::int64_t id = m_shim.dispatch(*context, request);
        auto outcome = context->take_request();
        if (id <= 0) return id < 0 ? id : neg(Errno::again);
        auto* clone = std::get_if<lx::CloneRequest<Platform>>(&outcome);
        if (clone == nullptr || !clone->child) return neg(Errno::again);
        std::lock_guard lock(m_mutex);
        m_pending_clones[tid] = std::shared_ptr<Context>(std::move(clone->child));
        return id;
    }
    void on_clone_created(pid_t tid, pid_t child, pid_t child_pid, std::int64_t /*box_id*/) override {
        std::shared_ptr<Context> context;
        {
            std::lock_guard lock(m_mutex);
            const auto it = m_pending_clones.find(tid);
            if (it == m_pending_clones.end()) return;
            context = std::move(it->second);
            m_pending_clones.erase(it);
        }
        bind(child, child_pid, std::move(context));
        m_forks.fetch_add(1, std::memory_order_relaxed);
    }
    void on_clone_failed(pid_t tid, std::int64_t /*box_id*/, int /*error*/) override {
        std::shared_ptr<Context> context;
        {
            std::lock_guard lock(m_mutex);
            const auto it = m_pending_clones.find(tid);
            if (it == m_pending_clones.end()) return;
            context = std::move(it->second);
            m_pending_clones.erase(it);
        }
        // The box's task never ran: end it (a process leaves a zombie its parent may reap).
        if (context->process().pid() == context->tid())
            m_shim.tasks().exit_group(context->process(), 0);
        else
            (void)m_shim.tasks().exit_thread(context->thread(), 0);
    }
    bool restart_unserved_call(pid_t tid, long nr) override {
        // A native call (a futex wait) ends -ERESTARTSYS by Linux's rule; so does a served call the
        // supervisor interrupted. Any other -ERESTARTSYS is a call cut off before it was received.
        if (nr != SYS_mmap && nr <= INT32_MAX && sc::disposition_of(static_cast<int>(nr), sc::FilterOptions{}) == sc::Disposition::native)
            return false;
        // So does a signalfd read the kernel ran (read_natively_from).
        if ((nr == SYS_read || nr == SYS_readv) && m_native_reads_count.load(std::memory_order_relaxed) != 0) {
            std::lock_guard lock(m_mutex);
            if (m_native_reads.contains(tid)) return false;
        }
        return !(m_take_restart_answer && m_take_restart_answer(tid));
    }
    void on_process_exit(pid_t host_pid, int wait_status, const sc::ProcessCpu& cpu) override {
        std::shared_ptr<Context> context;
        {
            std::lock_guard lock(m_mutex);
            const auto it = m_host_process.find(host_pid);
            if (it != m_host_process.end()) {
                context = it->second;
                m_host_process.erase(it);
                m_pidfds.erase(host_pid);
                const int box_pid = context->pid();
                if (const auto h = m_box_pid_host.find(box_pid); h != m_box_pid_host.end() && h->second == host_pid)
                    m_box_pid_host.erase(h);
                for (auto t = m_threads.begin(); t != m_threads.end();) {
                    if (t->second->pid() == box_pid && m_box_pid_host.find(box_pid) == m_box_pid_host.end())
                        t = m_threads.erase(t);
                    else
                        ++t;
                }
            }
        }
        if (context && m_box_pid_host_missing(context->pid())) {
            {
                std::lock_guard signal_lock(m_signalfd_mutex);
                m_queued_signals.erase(context->pid());  // signals queued for its signalfds
            }
            // Death by a signal (or an exit the shim did not see): the box's parent sees it now.
            const bool exited = context->process().state().with_lock([](auto& st) { return st.exit_status.has_value(); });
            // The box parent's host process gets its exit signal (SIGCHLD went to the runner,
            // every guest process being its host child) through the shim's child-exit notifier:
            // then, for an exit the shim saw (exit_group), or now.
            // exit_group closes its descriptors, which releases its record locks. Its CPU time
            // is the host's count at the reap, which its parent's wait and RUSAGE_CHILDREN add up
            // (exit_group recorded it for a process that made that call).
            if (!exited) {
                m_shim.record_final_cpu(context->process(), lx::Usage{cpu.user_ns, cpu.system_ns});
                m_shim.tasks().exit_group(context->process(), wait_status & 0xffff);
            }
        }
        {
            std::lock_guard stop_lock(m_stop_mutex);
            m_replaced.erase(host_pid);
        }
        if (m_record_exit) m_record_exit(host_pid, wait_status);
        // A segment removed with IPC_RMID goes once its last attachment has (this process's?).
        if (m_shim.sysv_ipc().has_destroyed()) m_shim.sysv_ipc().collect_destroyed();
    }

    // ---- System V shared memory: shmat and shmdt, rewritten by the tracer ---------------------------
    /// shmat becomes an mmap of the segment's memfd (MAP_SHARED, at the address shmat was given:
    /// MAP_FIXED with SHM_REMAP, else MAP_FIXED_NOREPLACE, whose EEXIST is shmat's EINVAL), which
    /// the filter sends back to the supervisor like any file mapping (map_segment installs the
    /// memfd). shmdt becomes a munmap of the segment's mappings from its address on, found in the
    /// host's map of the process. The box's checks (shm_attach) come first; nothing else is run.
    CallRewrite on_traced_call(pid_t pid, pid_t tid, long nr, const std::array<std::uint64_t, 6>& args) override {
        CallRewrite out;
        const std::shared_ptr<Context> context = context_of(tid);
        if (!context) {
            out.result = neg(Errno::srch);
            return out;
        }
        PendingSegmentCall pending;
        if (nr == SYS_shmat) {
            auto attach = lx::shm_attach(*context, static_cast<std::int32_t>(args[0]), args[1], static_cast<std::uint32_t>(args[2]));
            if (!attach) {
                out.result = neg(attach.error());
                return out;
            }
            constexpr std::uint64_t map_shared = 0x01, map_fixed = 0x10, map_fixed_noreplace = 0x100000;
            const std::uint64_t flags = map_shared | (attach->fixed ? (attach->replace ? map_fixed : map_fixed_noreplace) : 0);
            out.nr = SYS_mmap;
            out.args = {attach->address, attach->length, attach->prot, flags, segment_descriptor_number, 0};
            pending.segment = std::move(attach->segment);
            pending.read_only = attach->read_only;
        } else if (nr == SYS_shmdt) {
            auto found = attached_segment(pid, args[0]);
            if (!found) {
                out.result = neg(found.error());
                return out;
            }
            out.nr = SYS_munmap;
            out.args = {args[0], found->second, 0, 0, 0, 0};
            pending.segment = std::move(found->first);
        } else {
            return out;
        }
        pending.call = out.args;
        out.run = true;
        std::lock_guard lock(m_segment_mutex);
        m_segment_calls[tid] = std::move(pending);
        return out;
    }
    std::int64_t on_traced_call_exit(pid_t tid, long nr, std::int64_t result) override {
        PendingSegmentCall pending;
        {
            std::lock_guard lock(m_segment_mutex);
            const auto it = m_segment_calls.find(tid);
            if (it == m_segment_calls.end()) return result;
            pending = std::move(it->second);
            m_segment_calls.erase(it);
        }
        const std::shared_ptr<Context> context = context_of(tid);
        if (nr == SYS_shmat) {
            if (result == neg(Errno::exist)) return neg(Errno::inval);  // something is mapped there
            if (result >= 0 && context) lx::shm_attached(*context, *pending.segment);
        } else if (nr == SYS_shmdt && result == 0 && context) {
            lx::shm_detached(*context, *pending.segment);
        }
        return result;
    }

    /// The mmap an shmat of host thread `thread` became (on_traced_call): the segment's memfd --
    /// read-write, or its read-only descriptor for SHM_RDONLY, so that no mprotect can add
    /// writing -- installed at the descriptor number the rewrite chose. nullopt for any other mmap.
    std::optional<std::int64_t> map_segment(sc::GuestThread& thread, const sc::SyscallArgs& args) {
        std::shared_ptr<lx::sysv::ShmSegment<Platform>> segment;
        bool read_only = false;
        {
            std::lock_guard lock(m_segment_mutex);
            const auto it = m_segment_calls.find(thread.tid());
            if (it == m_segment_calls.end() || !std::equal(args.begin(), args.end(), it->second.call.begin())) return std::nullopt;
            segment = it->second.segment;
            read_only = it->second.read_only;
        }
        const fs::SharedStoreFactory make = []() -> Result<std::shared_ptr<fs::SharedStore>> {
            LITEBOX_TRY_ASSIGN(auto store, lp::MemfdStore::create("litebox-shm"));
            return std::shared_ptr<fs::SharedStore>(std::move(store));
        };
        auto store = segment->file->shared_store(make);
        if (!store) return neg(store.error());
        const auto* memfd = dynamic_cast<const lp::MemfdStore*>(store->get());
        if (memfd == nullptr) return neg(Errno::nodev);
        auto st = segment->file->getattr();
        if (!st) return neg(st.error());
        st->device = m_shim.memfd_fs().device();
        const int host_fd = read_only ? memfd->read_only_descriptor() : memfd->descriptor();
        // Linux names a segment's file SYSV and its key, deleted (it has no path).
        name_mapping(host_fd, fmt::format("/SYSV{:08x} (deleted)", static_cast<std::uint32_t>(segment->name_key)), *st);
        if (struct ::stat host {}; ::fstat(host_fd, &host) == 0) {
            std::lock_guard lock(m_segment_mutex);
            std::erase_if(m_segment_files, [](const auto& entry) { return entry.second.expired(); });
            m_segment_files[HostId{static_cast<std::uint64_t>(host.st_dev), static_cast<std::uint64_t>(host.st_ino)}] = segment;
        }
        if (auto mapped = install_for_map(thread, host_fd, !read_only); !mapped) return neg(mapped.error());
        return 0;  // the reply is CONTINUE: the kernel maps and answers
    }

    /// shmdt(address) in host process `host_pid`: the segment whose mapping starts at `address`
    /// (offset 0) and the length of that mapping's run of consecutive pieces (an mprotect may
    /// have split it); EINVAL if no segment is mapped there, as Linux.
    Result<std::pair<std::shared_ptr<lx::sysv::ShmSegment<Platform>>, std::uint64_t>> attached_segment(pid_t host_pid, std::uint64_t address) {
        if (address % lx::sysv::shm_page != 0) return Errno::inval;
        const std::string text = read_host_maps(host_pid, nullptr).value_or(std::string());
        std::shared_ptr<lx::sysv::ShmSegment<Platform>> segment;
        HostId file{0, 0};
        std::uint64_t end = 0, limit = 0;
        bool done = false;
        for_each_mapping(text, [&](const HostMapping& m) {
            if (done) return;
            if (segment) {  // the run goes on while the pieces follow each other in the file
                if (m.start == end && m.end <= limit && HostId{m.device, m.inode} == file && m.offset == m.start - address)
                    end = m.end;
                else
                    done = true;
                return;
            }
            if (m.start != address || m.offset != 0 || m.inode == 0) return;
            std::lock_guard lock(m_segment_mutex);
            const auto it = m_segment_files.find(HostId{m.device, m.inode});
            if (it == m_segment_files.end()) return;
            segment = it->second.lock();
            if (!segment) return;
            file = HostId{m.device, m.inode};
            end = m.end;
            limit = address + segment->pages() * lx::sysv::shm_page;
        });
        if (!segment) return Errno::inval;
        return std::pair{std::move(segment), end - address};
    }

    /// For each segment file of `files`: how many mappings of its memfd the guests' host processes
    /// have (shm_nattch) -- its lines in each one's /proc/PID/maps, so that fork, exec, exit,
    /// munmap and a split by mprotect all count as on Linux -- and an shmat under way; 0 for a
    /// segment never mapped. With `holding`, also a process that still has its memfd at
    /// segment_descriptor_number (the installed descriptor stays until replaced), which keeps a
    /// removed segment's bytes alive. Each process's map is read once; nullopt for every file if
    /// one cannot be read.
    std::vector<std::optional<std::uint64_t>> segment_mappings(const std::vector<fs::Inode<Platform>*>& files, bool holding) {
        std::vector<std::optional<std::uint64_t>> counts(files.size(), std::uint64_t{0});
        std::unordered_map<HostId, std::size_t, HostIdHash> wanted;
        for (std::size_t i = 0; i < files.size(); ++i) {
            auto store = files[i]->shared_store(fs::SharedStoreFactory{});
            if (!store) {
                if (store.error() != Errno::nodata) counts[i] = std::nullopt;
                continue;  // never mapped
            }
            const auto* memfd = dynamic_cast<const lp::MemfdStore*>(store->get());
            struct ::stat host {};
            if (memfd == nullptr || ::fstat(memfd->descriptor(), &host) != 0) {
                counts[i] = std::nullopt;
                continue;
            }
            wanted.emplace(HostId{static_cast<std::uint64_t>(host.st_dev), static_cast<std::uint64_t>(host.st_ino)}, i);
        }
        const auto unknown = [&] { return std::vector<std::optional<std::uint64_t>>(files.size()); };
        {  // an shmat under way counts (Linux counts it from its check on)
            std::lock_guard lock(m_segment_mutex);
            for (const auto& [tid, call] : m_segment_calls)
                for (std::size_t i = 0; i < files.size(); ++i)
                    if (counts[i] && call.segment->file.get() == files[i]) ++*counts[i];
        }
        if (wanted.empty()) return counts;
        std::vector<std::pair<pid_t, std::shared_ptr<lp::UniqueFd>>> processes;
        {
            std::lock_guard lock(m_mutex);
            for (const auto& [host_pid, pidfd] : m_pidfds) processes.emplace_back(host_pid, pidfd);
        }
        for (const auto& [host_pid, pidfd] : processes) {
            auto text = read_host_maps(host_pid, pidfd.get());
            if (!text) return unknown();
            for_each_mapping(*text, [&](const HostMapping& m) {
                if (const auto it = wanted.find(HostId{m.device, m.inode}); it != wanted.end() && counts[it->second]) ++*counts[it->second];
            });
            if (!holding) continue;
            const std::string held = "/proc/" + std::to_string(host_pid) + "/fd/" + std::to_string(segment_descriptor_number);
            if (struct ::stat st {}; ::stat(held.c_str(), &st) == 0) {
                const auto it = wanted.find(HostId{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)});
                if (it != wanted.end() && counts[it->second]) ++*counts[it->second];
            }
        }
        return counts;
    }
    void on_process_stop(pid_t host_pid, int sig) override {
        std::lock_guard stop_lock(m_stop_mutex);
        auto context = process_context(host_pid);
        if (!context) return pass_stop(host_pid, sig);
        m_stop_passed.erase(context->pid());  // a new image took the stop it was passed
        m_shim.tasks().report_stop(context->process(), sig);  // nothing new if the box process was stopped
    }
    void on_stop_cut_short(pid_t host_pid, int sig) override {
        std::lock_guard stop_lock(m_stop_mutex);
        pass_stop(host_pid, sig);
    }
    void on_process_continue(pid_t host_pid) override {
        std::lock_guard stop_lock(m_stop_mutex);
        auto context = process_context(host_pid);
        if (!context) {
            // The old image's stop ended (SIGCONT reached it before the box process moved on):
            // the new image, passed the stop, goes on too.
            context = replaced_by(host_pid);
            if (!context) return;
            if (auto sent = signal_box_process(context->pid(), SIGCONT)) sent->fire();
        }
        m_stop_passed.erase(context->pid());
        m_shim.tasks().report_continue(context->process());
    }
    bool job_control_stops(pid_t host_pid, int) override {
        const auto context = process_context(host_pid);
        return context && !m_shim.tasks().in_orphaned_group(context->pid());
    }
    /// Registers the first program, launched by the caller as host process `host_pid`.
    void bind_init(pid_t host_pid) {
        std::shared_ptr<Context> init(std::move(m_init));
        m_init_pid.store(init->pid(), std::memory_order_release);
        bind(host_pid, host_pid, std::move(init));
    }

    /// A signal sent to the runner (main.cpp's SignalForwarder). Guests run in a session of their
    /// own, so the runner stands for them on the host: a signal from the runner's terminal (^C,
    /// ^\, ^Z, hangup, a new window size: `from_terminal`) goes to the box terminal's foreground
    /// process group, as the terminal would send it; one from another process (kill, timeout) to
    /// the box's first process. SIGTSTP only goes to a foreground group the box would stop (not
    /// orphaned: a job of a job-control shell); false: it was not passed on -- the runner stops
    /// itself, as the program it stands for.
    bool forward_signal(int sig, bool from_terminal) {
        const int init_pid = m_init_pid.load(std::memory_order_acquire);
        if (init_pid <= 0) return false;
        std::vector<int> targets;
        if (from_terminal) {
            int group = m_shim.terminal().with_lock([](lx::TerminalSettings& s) { return s.foreground_group; });
            if (group == 0) group = m_shim.tasks().process_group_of(init_pid).value_or(0);
            if (group != 0) targets = group_members(group);
        }
        if (sig == SIGTSTP && (targets.empty() || m_shim.tasks().in_orphaned_group(targets.front()))) return false;
        if (targets.empty()) targets.push_back(init_pid);
        for (const int pid : targets) (void)raise_in(pid, sig);
        return true;
    }

    /// The temporary signal mask a served wait of host thread `tid` waits with (see
    /// Supervisor::wait_mask), or nullopt.
    std::optional<std::uint64_t> wait_mask(pid_t tid) {
        const std::shared_ptr<Context> context = context_of(tid);
        return context ? context->thread().temporary_mask() : std::nullopt;
    }

    /// The supervisor's entry point (SyscallHandlerFor<Runtime, GuestThread>).
    std::int64_t handle(sc::GuestThread& thread, int nr, const sc::SyscallArgs& args) {
        const std::shared_ptr<Context> context = context_of(thread.tid());
        if (!context) return neg(Errno::srch);  // a thread the box does not know: refuse everything
        const ServedThreadScope served(thread.tid());
        if (m_native_reads_count.load(std::memory_order_relaxed) != 0) forget_native_read(thread.tid());
        const lx::SyscallRequest request{static_cast<std::uint64_t>(nr), {args[0], args[1], args[2], args[3], args[4], args[5]}};
        switch (nr) {
            case SYS_kill: return kill(*context, static_cast<std::int32_t>(args[0]), static_cast<std::int32_t>(args[1]));
            case SYS_tkill: return tgkill(*context, -1, static_cast<std::int32_t>(args[0]), static_cast<std::int32_t>(args[1]));
            case SYS_tgkill:
                return tgkill(*context, static_cast<std::int32_t>(args[0]), static_cast<std::int32_t>(args[1]),
                              static_cast<std::int32_t>(args[2]));
            case SYS_rt_sigqueueinfo:
                return sigqueueinfo(*context, -1, static_cast<std::int32_t>(args[0]), static_cast<std::int32_t>(args[1]), args[2]);
            case SYS_rt_tgsigqueueinfo:
                return sigqueueinfo(*context, static_cast<std::int32_t>(args[0]), static_cast<std::int32_t>(args[1]),
                                    static_cast<std::int32_t>(args[2]), args[3]);
            case SYS_mmap:  // the filter lets anonymous mmap run natively
                if (auto mapped = map_segment(thread, args)) return *mapped;  // an shmat the tracer rewrote
                return map_file(thread, *context, args);
            case SYS_pidfd_send_signal: return pidfd_send_signal(*context, request);
            case SYS_signalfd: return signalfd(*context, static_cast<std::int32_t>(args[0]), args[1], args[2], 0);
            case SYS_signalfd4: return signalfd(*context, static_cast<std::int32_t>(args[0]), args[1], args[2], args[3]);
            case SYS_read:
            case SYS_readv:
                if (m_signalfds_live.load(std::memory_order_relaxed) != 0) {
                    if (auto native = read_signalfd(thread, *context, nr, args)) return *native;
                }
                break;
            default: break;
        }
        std::int64_t result;
        if (!thread.may_block()) {
            if (waits_outside_waiter(*context, nr, args)) return sc::would_block;
            auto& waiter = context->thread().waiter();
            waiter.forbid_sleep(true);  // any sleep in the shim fails at once (EINTR): redone on a waiter thread
            result = m_shim.dispatch(*context, request);
            waiter.forbid_sleep(false);
            if (result == neg(Errno::intr) && !context->thread().killed()) {
                (void)context->take_request();
                return sc::would_block;
            }
        } else {
            auto& waiter = context->thread().waiter();
            waiter.clear_interrupt();
            WaiterWaker waker(waiter);
            if (!thread.arm_interrupt(waker)) return restart_code(nr);
            context->thread().ran_with_temporary_mask.store(false, std::memory_order_relaxed);
            result = m_shim.dispatch(*context, request);
            thread.disarm_interrupt();
            // A wait with a temporary mask answers EINTR itself: the signal that ended it may be
            // one only that mask unblocks, which the host thread's own mask still blocks -- no
            // handler would run, and the kernel would restart the call for -ERESTARTNOHAND.
            if (result == neg(Errno::intr) && thread.interrupted() && !context->thread().ran_with_temporary_mask.load(std::memory_order_relaxed))
                result = restart_code(nr);
        }
        return finish(thread, *context, nr, result);
    }

private:
    /// futex runs natively, so the host kernel reads the guest's absolute CLOCK_MONOTONIC
    /// deadlines (pthread_cond_timedwait, sem_clockwait, C++ and Rust timed waits): the served
    /// clock must be the host's.
    static lx::ShimConfig host_clocks(lx::ShimConfig config) {
        config.monotonic_is_platform_clock = true;
        return config;
    }

    /// What Linux answers for a call a signal interrupted; the kernel then runs the handler and
    /// restarts the call or fails it with EINTR. -ERESTARTNOHAND (-514) for the calls Linux never
    /// restarts after a handler, whatever SA_RESTART says (waits for readiness, sleeps, pause,
    /// System V message queues; signal(7)), EINTR itself for semop (also after a stop); -ERESTARTSYS (-512, restarted under SA_RESTART) for the others.
    static constexpr std::int64_t restart_code(int nr) noexcept {
        switch (nr) {
            case SYS_poll: case SYS_ppoll: case SYS_select: case SYS_pselect6:
            case SYS_epoll_wait: case SYS_epoll_pwait: case SYS_epoll_pwait2:
            case SYS_nanosleep: case SYS_clock_nanosleep: case SYS_pause:
            case SYS_msgsnd: case SYS_msgrcv:
                return -514;
            case SYS_semop: case SYS_semtimedop:
                return -4;  // Linux's semop answers EINTR itself: not restarted even without a handler
            default: return -512;
        }
    }

    class WaiterWaker final : public sc::InterruptWaker {
    public:
        explicit WaiterWaker(litebox::event::Waiter<Platform>& waiter) noexcept : m_waiter(&waiter) {}
        void wake() noexcept override { m_waiter->interrupt(); }

    private:
        litebox::event::Waiter<Platform>* m_waiter;
    };

    /// The main thread of the box process that host process `host_pid` is (null if none).
    std::shared_ptr<Context> process_context(pid_t host_pid) {
        std::lock_guard lock(m_mutex);
        const auto it = m_host_process.find(host_pid);
        return it == m_host_process.end() ? nullptr : it->second;
    }

    std::shared_ptr<Context> context_of(pid_t tid) {
        std::lock_guard lock(m_mutex);
        const auto it = m_threads.find(tid);
        return it == m_threads.end() ? nullptr : it->second;
    }

    /// Calls that may wait without going through the thread's Waiter.
    static bool waits_outside_waiter(Context& context, int nr, const sc::SyscallArgs& args) {
        switch (nr) {
            // connect starts the handshake before it waits: run twice, the second call would
            // see its own connection in progress (EALREADY). Rare enough to always hop.
            case SYS_connect: return true;
            case SYS_read:
            case SYS_readv:
            case SYS_pread64:
            case SYS_preadv:
            case SYS_preadv2: {
                auto file = context.files().get(static_cast<std::int32_t>(args[0]));
                return file.has_value() && dynamic_cast<fs::detail::StdioDeviceFile<Platform>*>(file->get()) != nullptr;
            }
            default: return false;
        }
    }

    /// After the shim: carry out its runtime request and deliver the signals it raised.
    std::int64_t finish(sc::GuestThread& thread, Context& context, int nr, std::int64_t result) {
        auto request = context.take_request();
        if (auto* exit = std::get_if<lx::ExitRequest>(&request)) {
            if (exit->whole_process) {
                const int status = exit->wait_status;
                thread.exit_process((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f));
            } else {
                forget_thread(thread.tid());
            }
            return result;
        }
        if (auto* exec = std::get_if<lx::ExecRequest>(&request)) return execute(thread, context, *exec);
        if (std::holds_alternative<lx::CloneRequest<Platform>>(request)) return neg(Errno::nosys);  // clone is traced, never served
        // EINTR for a signal the call raised on its own thread (a background group's SIGTTIN
        // from the terminal, which the shim checked the thread does not block): Linux's
        // -ERESTARTSYS, which the kernel -- the signal now pending on the thread -- turns into a
        // restart (default action or SA_RESTART) or EINTR.
        const bool restart = context.thread().take_restart_after_signal();
        if (deliver_pending(thread, context) && restart && result == neg(Errno::intr)) result = restart_code(nr);
        return result;
    }

    /// Raises the signals the shim posted to the calling thread (SIGPIPE, a terminal's SIGTTIN)
    /// as real signals to its host thread; true if it raised any.
    bool deliver_pending(sc::GuestThread& thread, Context& context) {
        bool raised = false;
        while (auto signal = context.dequeue_signal()) {
            if (m_signal_thread && m_signal_thread(thread.pid(), thread.tid(), signal->first, nullptr)) raised = true;
        }
        return raised;
    }

    void forget_thread(pid_t tid) {
        std::lock_guard lock(m_mutex);
        m_threads.erase(tid);
    }

    std::int64_t execute(sc::GuestThread& thread, Context& context, const lx::ExecRequest& exec) {
        if (!m_launcher || !m_adopter) return neg(Errno::nosys);
        std::string path = exec.path;
        if (path == "/proc/self/exe") path = context.process().state().with_lock([](auto& st) { return st.exe; });
        auto program = load_program(context, path, exec.argv, exec.envp, false,
                                    ExecSource{exec.descriptor, exec.nofollow, exec.name_inaccessible});
        if (!program) return neg(program.error());
        std::string exe = program->path;
        // The guest's thread is stopped in this call: its signal state cannot change under us.
        if (const auto signals = sc::detail::signal_state(thread.pid(), thread.tid())) {
            program->blocked_signals = signals->blocked;
            program->ignored_signals = signals->ignored;
        }
        program->box_pid = context.pid();
        program->limits = host_limits(context.process());
        auto launched = m_launcher(*program, exec.envp);
        if (!launched) return neg(launched.error());
        const pid_t host_pid = (*launched)->pid;
        m_images.fetch_add(1, std::memory_order_relaxed);
        const bool threaded = context.process().state().with_lock([](auto& st) { return st.threads.size() > 1; });
        m_shim.complete_exec(context, lx::ExecRequest{exe, program->shown_argv, exec.envp, exec.path});
        {
            // A stop that reached the box process meanwhile stops the new image, as Linux stops
            // the process before or after the exec: one the old host process took already (another
            // of its threads did; the box process is stopped) or one still pending (the thread in
            // this call cannot take it). Under m_stop_mutex, so that the old image's stops and
            // continuations are reported before the move (and seen here) or after it (and
            // passed on: on_process_stop).
            std::lock_guard stop_lock(m_stop_mutex);
            const bool stopped = m_shim.tasks().is_stopped(context.pid());
            // Signals sent to the box process meanwhile went to the old host process, where they
            // are pending (its thread waits in this call): they move with the process, as
            // Linux keeps pending signals over execve. Under m_signal_mutex, so that every signal
            // is sent before the move (and carried) or after it (to the new process).
            std::lock_guard signal_lock(m_signal_mutex);
            std::shared_ptr<lp::UniqueFd> new_pidfd;
            {
                std::lock_guard lock(m_mutex);
                std::shared_ptr<Context> shared;
                const auto it = m_threads.find(thread.tid());
                if (it != m_threads.end()) shared = it->second;
                // The old host process's threads are gone with it; the box process lives on in the
                // new one (bound before it is served).
                for (auto t = m_threads.begin(); t != m_threads.end();) {
                    if (t->second->pid() == context.pid())
                        t = m_threads.erase(t);
                    else
                        ++t;
                }
                m_host_process.erase(thread.pid());
                m_pidfds.erase(thread.pid());
                if (shared) {
                    m_threads[host_pid] = shared;
                    m_host_process[host_pid] = shared;
                    open_pidfd(host_pid);
                    m_box_pid_host[context.pid()] = host_pid;
                    if (const auto p = m_pidfds.find(host_pid); p != m_pidfds.end()) new_pidfd = p->second;
                }
            }
            const auto carried = sc::detail::signal_state(thread.pid(), thread.tid());
            std::uint64_t pending = carried ? carried->pending : 0;
            // A stop signal sent to the box process may also wait on another thread: the
            // supervisor sends a process-directed signal to a thread blocked in a served call it
            // interrupts, and that thread may not have taken it yet (its call is interrupted only
            // after the send). Taken or not, it stops the whole process, as on Linux.
            if (threaded) pending |= pending_stop_signals(thread.pid());
            const bool stop_pending = (pending & (std::uint64_t{1} << (SIGSTOP - 1))) != 0;
            bool stop_sent = false;
            if (new_pidfd) {
                // The stop first: a SIGCONT pending with it came later (each discards the other
                // when it is sent) and ends it.
                if (stopped || stop_pending) {
                    (void)::syscall(SYS_pidfd_send_signal, new_pidfd->get(), SIGSTOP, nullptr, 0);
                    stop_sent = true;
                }
                for (int sig = 1; sig <= 64; ++sig) {
                    if (sig == SIGKILL || sig == SIGSTOP || (pending & (std::uint64_t{1} << (sig - 1))) == 0) continue;
                    (void)::syscall(SYS_pidfd_send_signal, new_pidfd->get(), sig, nullptr, 0);
                    if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) stop_sent = true;
                }
            }
            // A stop already reported stays reported; the new image's own report adds nothing.
            if (stopped && new_pidfd) m_stop_passed.insert(context.pid());
            // A stop the new image was sent here is its own: should the old image still take it
            // (another thread, before the kill), that stop is not passed on a second time -- a
            // second SIGSTOP arriving after the box's SIGCONT would stop the new image again.
            m_replaced[thread.pid()] = Replaced{context.pid(), stop_sent};
        }
        // Another thread of the old image may have taken a stop the tracer has not seen yet; the
        // kill would end it unseen. (The thread in this call cannot take one.)
        if (threaded && m_settle) m_settle(thread.pid());
        if (auto adopted = m_adopter(std::move(*launched), thread.pid()); !adopted) return neg(adopted.error());
        return 0;  // never seen: the replaced process is killed before the answer
    }

    // ---- signalfd ------------------------------------------------------------------------------------
    // A box descriptor whose object is the runner's own signalfd (lp::HostSignalFd): the guest
    // reads it natively (GuestThread::read_natively_from), the box polls it for the served thread.
    using SignalFd = lp::HostSignalFd<Platform>;

    /// Marks the calling thread as the one a served call is for (HostSignalFd::poll reads its
    /// pending signals) for the duration of handle().
    struct ServedThreadScope {
        explicit ServedThreadScope(pid_t tid) noexcept : previous(lp::served_thread_id) { lp::served_thread_id = tid; }
        ~ServedThreadScope() { lp::served_thread_id = previous; }
        ServedThreadScope(const ServedThreadScope&) = delete;
        ServedThreadScope& operator=(const ServedThreadScope&) = delete;
        pid_t previous;
    };

    /// signalfd(2) (flags 0) and signalfd4(2): a new descriptor (`fd` -1) or a new mask for the
    /// signalfd at `fd`. The mask is a kernel sigset of `size` bytes (8, else EINVAL).
    std::int64_t signalfd(Context& context, std::int32_t fd, std::uintptr_t mask_address, std::uint64_t size, std::uint64_t flags) {
        constexpr std::uint64_t valid_flags = SFD_CLOEXEC | SFD_NONBLOCK;
        if ((flags & ~valid_flags) != 0 || size != sizeof(std::uint64_t)) return neg(Errno::inval);
        auto mask = lx::Guest<Platform>::template read<std::uint64_t>(mask_address);
        if (!mask) return neg(mask.error());
        if (fd != -1) {
            auto file = context.files().get(fd);
            if (!file) return neg(file.error());
            auto* existing = dynamic_cast<SignalFd*>(file->get());
            if (existing == nullptr) return neg(Errno::inval);
            if (auto set = existing->set_mask(*mask); !set) return neg(set.error());
            return fd;
        }
        std::lock_guard create_lock(m_signalfd_create_mutex);
        if (live_signalfds() >= m_max_signalfds) {
            m_shim.unsupported(SYS_signalfd4, "more signalfds than --limits signalfds allows");
            return neg(Errno::mfile);
        }
        auto made = SignalFd::create(m_box.platform(), *mask, (flags & SFD_NONBLOCK) != 0, [this](pid_t tid) { return queued_signals(tid); });
        if (!made) return neg(made.error());
        std::shared_ptr<SignalFd> file = std::move(*made);
        auto inserted = context.files().insert(file, (flags & SFD_CLOEXEC) != 0);
        if (!inserted) return neg(inserted.error());
        {
            std::lock_guard lock(m_signalfd_mutex);
            m_signalfds.push_back(file);
            m_signalfds_live.store(m_signalfds.size(), std::memory_order_relaxed);
        }
        return *inserted;
    }

    /// read/readv of descriptor `fd`: if it is a signalfd, the kernel runs the read on the runner's
    /// signalfd installed at `fd` (the reply is CONTINUE); nullopt for any other descriptor.
    std::optional<std::int64_t> read_signalfd(sc::GuestThread& thread, Context& context, int nr, const sc::SyscallArgs& args) {
        auto file = context.files().get(static_cast<std::int32_t>(args[0]));
        if (!file) return std::nullopt;
        const auto* signal_file = dynamic_cast<const SignalFd*>(file->get());
        if (signal_file == nullptr) return std::nullopt;
        if (nr == SYS_read) {
            if (auto served = read_queued_signals(context, thread.tid(), signal_file->mask(), args[1], args[2])) return *served;
        }
        std::lock_guard install(m_install_mutex);
        {
            std::lock_guard lock(m_mutex);
            m_native_reads[thread.tid()] = NativeRead{thread.pid(), static_cast<std::int32_t>(args[0])};
            m_native_reads_count.store(m_native_reads.size(), std::memory_order_relaxed);
        }
        if (auto native = thread.read_natively_from(signal_file->host_descriptor()); !native) {
            forget_native_read(thread.tid());
            return neg(native.error());
        }
        return 0;  // not seen: the kernel answers
    }
    /// GuestThread::map_from (map_shared_from if `shared`) unless another thread of the same host
    /// process has a native signalfd read in flight at that descriptor number (it was installed
    /// for that read, which the kernel has not run yet or is running): then EAGAIN, so that the
    /// read never meets a file installed for a mapping. m_install_mutex orders the two installs.
    Result<void> install_for_map(sc::GuestThread& thread, int host_fd, bool shared) {
        std::lock_guard install(m_install_mutex);
        if (m_native_reads_count.load(std::memory_order_relaxed) != 0) {
            std::lock_guard lock(m_mutex);
            const auto number = static_cast<std::int32_t>(static_cast<std::uint32_t>(thread.call_argument(4)));  // mmap's fd
            for (const auto& [tid, read] : m_native_reads) {
                if (tid != thread.tid() && read.host_pid == thread.pid() && read.number == number) {
                    m_shim.unsupported(SYS_mmap, "a file mapped at the descriptor number of another thread's signalfd read");
                    return Errno::again;
                }
            }
        }
        return shared ? thread.map_shared_from(host_fd) : thread.map_from(host_fd);
    }

    /// The thread's earlier native read has ended (it makes a new call).
    void forget_native_read(pid_t tid) {
        std::lock_guard lock(m_mutex);
        if (m_native_reads.erase(tid) != 0) m_native_reads_count.store(m_native_reads.size(), std::memory_order_relaxed);
    }

    /// A siginfo the runtime holds for a box process's signalfds (queue_child_exit).
    struct QueuedSignal {
        signalfd_siginfo info;
        bool confirmed;  // its host signal was sent
    };

    /// SIGCHLD for a child's exit carries CLD_EXITED/KILLED/DUMPED, the child and its status; the
    /// host kernel lets no other process send those codes, so the parent's host signal says
    /// SI_USER. A parent that blocks SIGCHLD while the box has signalfds (the way such a parent
    /// reads it) gets Linux's siginfo here too, read through its signalfd before the host's plain
    /// signal (read_queued_signals). One per signal and process, as Linux keeps a standard signal.
    /// Runs under the process table's lock (ProcessTable::set_child_exit_notifier).
    template <typename ChildExit>
    bool queue_child_exit(int parent, int sig, const ChildExit& child) {
        if (sig != SIGCHLD || m_signalfds_live.load(std::memory_order_relaxed) == 0) return false;
        const auto host = host_pid_of(parent);
        if (!host) return false;
        const auto sets = lp::host_signal_sets(*host);
        if (!sets || (sets->blocked & lx::signal_bit(SIGCHLD)) == 0) return false;
        signalfd_siginfo info{};
        info.ssi_signo = SIGCHLD;
        info.ssi_code = child.code;
        info.ssi_pid = static_cast<std::uint32_t>(child.pid);
        info.ssi_uid = child.uid;
        info.ssi_status = child.status;
        std::lock_guard lock(m_signalfd_mutex);
        auto& queued = m_queued_signals[parent];
        // An unconfirmed entry (its host signal is not sent yet) is never taken for stale.
        return queued.size() < 64 && queued.emplace(SIGCHLD, QueuedSignal{info, false}).second;  // else one is queued already
    }
    /// The host signal that goes with a queued siginfo was sent (or not: the entry goes).
    void confirm_queued(int pid, int sig, bool sent) {
        std::lock_guard lock(m_signalfd_mutex);
        const auto it = m_queued_signals.find(pid);
        if (it == m_queued_signals.end()) return;
        const auto entry = it->second.find(sig);
        if (entry == it->second.end()) return;
        if (sent)
            entry->second.confirmed = true;
        else
            it->second.erase(entry);
    }

    /// The signals queued for the process of host thread `tid` (HostSignalFd's QueuedSignals).
    std::uint64_t queued_signals(pid_t tid) {
        const auto context = context_of(tid);
        if (!context) return 0;
        std::lock_guard lock(m_signalfd_mutex);
        const auto it = m_queued_signals.find(context->pid());
        if (it == m_queued_signals.end()) return 0;
        drop_consumed_signals(tid, it->second);
        std::uint64_t set = 0;
        for (const auto& [signo, info] : it->second) set |= lx::signal_bit(signo);
        return set;
    }

    /// A queued siginfo goes with the host's plain signal, sent at the same time: once the guest
    /// consumed that one another way (a handler, sigwaitinfo, a native signalfd read), the siginfo
    /// is stale and goes too. Called with m_signalfd_mutex held.
    static void drop_consumed_signals(pid_t tid, std::map<int, QueuedSignal>& queued) {
        const auto sets = lp::host_signal_sets(tid);
        const std::uint64_t pending = sets ? sets->pending() : 0;
        std::erase_if(queued, [&](const auto& entry) {
            return entry.second.confirmed && (pending & lx::signal_bit(entry.first)) == 0;
        });
    }

    /// A read(2) of a signalfd with `mask`, served from the signals queued for the caller's
    /// process (lowest signal first, as Linux dequeues): nullopt if none is queued for that mask.
    std::optional<std::int64_t> read_queued_signals(Context& context, pid_t tid, std::uint64_t mask, std::uintptr_t buffer,
                                                    std::uint64_t size) {
        std::vector<signalfd_siginfo> taken;
        {
            std::lock_guard lock(m_signalfd_mutex);
            const auto it = m_queued_signals.find(context.pid());
            if (it == m_queued_signals.end()) return std::nullopt;
            drop_consumed_signals(tid, it->second);
            const auto wanted = [&](const auto& entry) { return (mask & lx::signal_bit(entry.first)) != 0; };
            if (std::none_of(it->second.begin(), it->second.end(), wanted)) return std::nullopt;
            if (size < sizeof(signalfd_siginfo)) return neg(Errno::inval);
            for (auto entry = it->second.begin(); entry != it->second.end() && taken.size() < size / sizeof(signalfd_siginfo);) {
                if (!wanted(*entry)) {
                    ++entry;
                    continue;
                }
                taken.push_back(entry->second.info);
                entry = it->second.erase(entry);
            }
            if (it->second.empty()) m_queued_signals.erase(it);
        }
        for (std::size_t i = 0; i < taken.size(); ++i) {
            if (auto written = lx::Guest<Platform>::write(buffer + i * sizeof(signalfd_siginfo), taken[i]); !written) {
                if (i == 0) return neg(written.error());
                return static_cast<std::int64_t>(i * sizeof(signalfd_siginfo));
            }
        }
        return static_cast<std::int64_t>(taken.size() * sizeof(signalfd_siginfo));
    }

    /// Signalfds still open somewhere in the box (drops the closed ones from the list).
    std::size_t live_signalfds() {
        std::lock_guard lock(m_signalfd_mutex);
        std::erase_if(m_signalfds, [](const std::weak_ptr<SignalFd>& file) { return file.expired(); });
        m_signalfds_live.store(m_signalfds.size(), std::memory_order_relaxed);
        return m_signalfds.size();
    }

    /// A signal was just sent to a box process or thread: every signalfd's waiters re-check (the
    /// signal is pending on the host by now).
    void wake_signalfds() {
        if (m_signalfds_live.load(std::memory_order_relaxed) == 0) return;
        std::vector<std::shared_ptr<SignalFd>> files;
        {
            std::lock_guard lock(m_signalfd_mutex);
            for (const auto& weak : m_signalfds)
                if (auto file = weak.lock()) files.push_back(std::move(file));
        }
        for (const auto& file : files) file->notify_signal();
    }

    // ---- file-backed mmap ---------------------------------------------------------------------------
    /// mmap of a box file, mapped by the kernel from a host descriptor installed at the guest's
    /// descriptor number (GuestThread::map_from; the reply is CONTINUE):
    ///   * a writable MAP_SHARED mapping: the file's bytes move into a memfd that the box then reads
    ///     and writes itself (Inode::shared_store, MemfdStore), so the mapping, read() and write()
    ///     and every other process's mapping see the same bytes. Files whose bytes the box does not
    ///     hold (host directories) cannot be coherent: ENODEV, traced.
    ///   * any other mapping of a file that has such a memfd: its read-only descriptor.
    ///   * otherwise: the file's bytes in a sealed memfd (cached by file identity), or the host
    ///     file itself for a file of a host directory.
    std::int64_t map_file(sc::GuestThread& thread, Context& context, const sc::SyscallArgs& args) {
        constexpr std::uint64_t map_shared = 0x01, map_type = 0x0f, prot_write = 0x2;
        const std::uint64_t prot = args[2], flags = args[3];
        const auto fd = static_cast<std::int32_t>(args[4]);
        auto file = context.files().get(fd);
        if (!file) return neg(file.error());
        const auto& open = *file;
        if (!open->readable()) return neg(Errno::acces);
        const bool shared = (flags & map_type) == map_shared || (flags & map_type) == 0x03 /*MAP_SHARED_VALIDATE*/;
        const bool writable_shared = shared && (prot & prot_write) != 0;
        if (writable_shared && !open->writable()) return neg(Errno::acces);
        auto st = open->stat();
        if (!st) return neg(st.error());
        if (auto mapped = map_shared_store(thread, *open, *st, writable_shared)) return *mapped;
        if (auto mapped = map_zero_device(thread, *st, args, writable_shared)) return *mapped;
        if (writable_shared) {
            m_shim.unsupported(SYS_mmap, "MAP_SHARED with PROT_WRITE of a file whose bytes the box does not hold");
            return neg(Errno::nodev);
        }
        if (!fs::is_regular(st->mode)) return neg(Errno::nodev);
        if (auto host = host_file(*open, *st)) {
            // A file of a host directory (--rootfs-dir, --mount): the host file itself, opened
            // read-only through the punchthrough -- no copy of its bytes.
            name_mapping((*host)->descriptor(), *open, *st);
            if (auto mapped = install_for_map(thread, (*host)->descriptor(), false); !mapped) return neg(mapped.error());
            return 0;
        }
        auto image = file_image(*open, *st, "litebox-mapped");
        if (!image) return neg(image.error());
        name_mapping((*image)->fd(), *open, *st);
        if (auto mapped = install_for_map(thread, (*image)->fd(), false); !mapped) return neg(mapped.error());
        return 0;  // the reply is CONTINUE: the kernel maps and answers
    }

    /// mmap of /dev/zero (a character device 1:5): fresh zeroed memory, as on Linux -- private, or
    /// shared with the processes that inherit the mapping -- from a new memfd that covers the
    /// mapping's extent (sparse: pages exist once touched, like anonymous memory). nullopt for any
    /// other file.
    std::optional<std::int64_t> map_zero_device(sc::GuestThread& thread, const litebox::fd::Stat& st, const sc::SyscallArgs& args,
                                                bool writable_shared) {
        if (!fs::is_char_device(st.mode) || st.represented_device != fs::devices::zero) return std::nullopt;
        constexpr std::uint64_t page = 4096, user_space_end = 1ULL << 47;
        const std::uint64_t length = args[1], offset = args[5];
        if (length == 0 || offset % page != 0) return neg(Errno::inval);
        if (length > user_space_end || offset > user_space_end - length) return neg(Errno::nomem);
        auto memory = lp::MemfdStore::create("dev/zero");
        if (!memory) return neg(memory.error());
        if (auto sized = (*memory)->resize(offset + length); !sized) return neg(sized.error());
        auto mapped = install_for_map(thread, (*memory)->descriptor(), writable_shared);
        if (!mapped) return neg(mapped.error());
        return 0;
    }

    /// The inode behind an open regular file of the box, or null.
    static typename fs::Inode<Platform>::Ptr inode_of(litebox::fd::OpenFile<Platform>& open) {
        auto* regular = dynamic_cast<fs::RegularFile<Platform>*>(&open);
        return regular != nullptr ? regular->location().inode : nullptr;
    }
    static bool has_shared_store(litebox::fd::OpenFile<Platform>& open) {
        const auto inode = inode_of(open);
        return inode && inode->shared_store({}).has_value();
    }

    /// The mapping through the file's SharedStore (see map_file): made for a writable shared
    /// mapping, used if it exists for any other. nullopt when the file has no store and needs none,
    /// or its file system cannot hold one.
    std::optional<std::int64_t> map_shared_store(sc::GuestThread& thread, litebox::fd::OpenFile<Platform>& open,
                                                 const litebox::fd::Stat& st, bool writable_shared) {
        const auto inode = inode_of(open);
        if (!inode) return std::nullopt;
        if (writable_shared) {
            // Linux: no writable shared mapping of a memfd sealed against writes.
            if (auto seals = inode->seals(); seals && (*seals & (fs::seal::write | fs::seal::future_write)) != 0) return neg(Errno::perm);
        }
        const fs::SharedStoreFactory make = []() -> Result<std::shared_ptr<fs::SharedStore>> {
            LITEBOX_TRY_ASSIGN(auto store, lp::MemfdStore::create("litebox-shared"));
            return std::shared_ptr<fs::SharedStore>(std::move(store));
        };
        auto store = inode->shared_store(writable_shared ? make : fs::SharedStoreFactory{});
        if (!store) {
            if (store.error() == Errno::opnotsupp || store.error() == Errno::nodata) return std::nullopt;
            return neg(store.error());
        }
        const auto* memfd = dynamic_cast<const lp::MemfdStore*>(store->get());
        if (memfd == nullptr) return std::nullopt;
        const int host_fd = writable_shared ? memfd->descriptor() : memfd->read_only_descriptor();
        name_mapping(host_fd, open, st);
        auto mapped = install_for_map(thread, host_fd, writable_shared);
        if (!mapped) return neg(mapped.error());
        return 0;
    }

    /// The host file behind a box file of a host directory (Inode::host_file), cached by file
    /// identity like file_image; Errno::opnotsupp for a file whose bytes live in the box.
    Result<std::shared_ptr<const fs::hostfs::HostFileHandle>> host_file(litebox::fd::OpenFile<Platform>& file,
                                                                        const litebox::fd::Stat& st) {
        auto* regular = dynamic_cast<fs::RegularFile<Platform>*>(&file);
        if (regular == nullptr) return Errno::opnotsupp;
        const ImageKey key = ImageKey::of(st);
        {
            std::lock_guard lock(m_mutex);
            if (const auto it = m_host_files.find(key); it != m_host_files.end()) return it->second;
        }
        const auto& inode = regular->location().inode;
        if (!inode) return Errno::opnotsupp;
        LITEBOX_TRY_ASSIGN(auto host, inode->host_file());
        if (!host) return Errno::opnotsupp;
        std::lock_guard lock(m_mutex);
        if (m_host_files.size() >= max_cached_host_files) m_host_files.clear();
        m_host_files[key] = host;
        return host;
    }

    struct ImageKey {
        std::uint64_t device, inode;
        std::int64_t size, mtime_s, mtime_ns, ctime_s, ctime_ns;
        friend bool operator==(const ImageKey&, const ImageKey&) = default;
        static ImageKey of(const litebox::fd::Stat& st) noexcept {
            return {st.device, st.inode, st.size, st.modify_time.seconds, st.modify_time.nanoseconds, st.change_time.seconds,
                    st.change_time.nanoseconds};
        }
    };
    struct ImageKeyHash {
        std::size_t operator()(const ImageKey& k) const noexcept {
            return std::hash<std::uint64_t>{}(k.device * 0x9e3779b97f4a7c15ull ^ k.inode ^
                                              static_cast<std::uint64_t>(k.mtime_ns) ^ static_cast<std::uint64_t>(k.ctime_ns) << 1);
        }
    };

    /// A sealed memfd with the bytes of `file` (read through the box, no whole-file buffer),
    /// shared by every exec and mapping of the same unchanged file: the key includes the change
    /// time, which every write, truncate and utimensat moves and no guest can set back. The cache
    /// holds at most max_mapped_image_bytes.
    Result<std::shared_ptr<const sc::GuestImage>> file_image(litebox::fd::OpenFile<Platform>& file, const litebox::fd::Stat& st,
                                                             const char* name) {
        const ImageKey key = ImageKey::of(st);
        if (auto cached = cached_image(key)) return cached;
        if (st.size < 0 || static_cast<std::uint64_t>(st.size) > max_program_bytes) return Errno::nomem;
        LITEBOX_TRY_ASSIGN(auto image, sc::GuestImage::reserve(name));
        LITEBOX_TRY(write_image(image, file, st));
        auto shared = std::make_shared<const sc::GuestImage>(std::move(image));
        remember_image(key, shared, st);
        return shared;
    }

    /// A program image to launch: a duplicate of the cached image of `file`, or a new empty memfd
    /// and the `stage` that fills and seals it (and caches it if it is a program), to run while
    /// the launch forks (Tracer::launch, whose launch checks the sealed bytes).
    struct PreparedImage {
        sc::GuestImage image;
        std::function<Result<void>()> stage;
    };
    Result<PreparedImage> prepare_image(std::shared_ptr<litebox::fd::OpenFile<Platform>> file, const litebox::fd::Stat& st,
                                        const char* name) {
        const ImageKey key = ImageKey::of(st);
        // A file with a SharedStore can change through a guest's mapping without a new change
        // time: never run a cached copy of it, nor cache this one.
        const bool cacheable = !has_shared_store(*file);
        if (auto cached = cacheable ? cached_image(key) : nullptr) {
            if (cached->check() != sc::ElfCheck::ok) return Errno::noexec;
            LITEBOX_TRY_ASSIGN(auto image, cached->duplicate());
            return PreparedImage{std::move(image), {}};
        }
        if (st.size < 0 || static_cast<std::uint64_t>(st.size) > max_program_bytes) return Errno::nomem;
        LITEBOX_TRY_ASSIGN(auto reserved, sc::GuestImage::reserve(name));
        auto shared = std::make_shared<sc::GuestImage>(std::move(reserved));
        LITEBOX_TRY_ASSIGN(auto image, shared->duplicate());
        auto stage = [this, shared, file = std::move(file), st, key, cacheable]() -> Result<void> {
            LITEBOX_TRY(write_image(*shared, *file, st));
            if (cacheable && shared->check() == sc::ElfCheck::ok) remember_image(key, shared, st);
            return litebox::ok();
        };
        return PreparedImage{std::move(image), std::move(stage)};
    }

    std::shared_ptr<const sc::GuestImage> cached_image(const ImageKey& key) {
        std::lock_guard lock(m_mutex);
        const auto it = m_images_cache.find(key);
        return it != m_images_cache.end() ? it->second : nullptr;
    }
    void remember_image(const ImageKey& key, std::shared_ptr<const sc::GuestImage> image, const litebox::fd::Stat& st) {
        const auto bytes = static_cast<std::uint64_t>(st.size);
        std::lock_guard lock(m_mutex);
        if (m_images_bytes + bytes > max_mapped_image_bytes) {
            m_images_cache.clear();
            m_images_bytes = 0;
        }
        m_images_cache[key] = std::move(image);
        m_images_bytes += bytes;
    }

    /// Writes the bytes of `file` into the reserved `image` and seals it. A file of the tar image
    /// goes to the kernel in one write straight from the image's memory
    /// (Inode::immutable_contents: bytes the box never writes, kept alive by the inode held here;
    /// the sealed copy is what gets checked and run); any other file is read through the box in
    /// chunks.
    static Result<void> write_image(sc::GuestImage& image, litebox::fd::OpenFile<Platform>& file, const litebox::fd::Stat& st) {
        const auto inode = inode_of(file);
        auto contents = inode ? inode->immutable_contents() : Result<std::span<const std::byte>>(Errno::opnotsupp);
        if (contents && contents->size() == static_cast<std::uint64_t>(st.size)) {
            LITEBOX_TRY(image.fill(*contents));
        } else {
            LITEBOX_TRY(image.fill_from_reader(static_cast<std::uint64_t>(st.size),
                                               [&](std::span<std::byte> out, std::uint64_t offset) { return file.pread(out, offset); }));
        }
        return image.seal();
    }

    /// pread from offset 0 until `out` is full or the file ends; the number of bytes read.
    static Result<std::size_t> read_fully(litebox::fd::OpenFile<Platform>& file, std::span<std::byte> out) {
        std::size_t done = 0;
        while (done < out.size()) {
            LITEBOX_TRY_ASSIGN(const std::size_t n, file.pread(out.subspan(done), done));
            if (n == 0) break;
            done += n;
        }
        return done;
    }

    // ---- /proc/<pid>/maps ---------------------------------------------------------------------------
    struct HostId {
        std::uint64_t device, inode;
        friend bool operator==(const HostId&, const HostId&) = default;
    };
    struct HostIdHash {
        std::size_t operator()(const HostId& id) const noexcept { return std::hash<std::uint64_t>{}(id.device * 0x9e3779b97f4a7c15ull ^ id.inode); }
    };

    /// Records that host descriptor `host_fd`, about to be mapped by the kernel for a guest, is the
    /// box file `path` (box identity from `st`), for maps_text.
    void name_mapping(int host_fd, std::string path, const litebox::fd::Stat& st) {
        struct ::stat host {};
        if (::fstat(host_fd, &host) != 0) return;
        const HostId id{static_cast<std::uint64_t>(host.st_dev), static_cast<std::uint64_t>(host.st_ino)};
        std::lock_guard lock(m_mutex);
        const bool known = m_mapped_names.find(id) != m_mapped_names.end();
        if (m_mapped_names.size() >= max_mapped_names && !known) {
            m_mapped_names.clear();
            m_mapped_inodes.clear();
        }
        m_mapped_names[id] = MappedName{std::move(path), st.device, st.inode};
        if (!known) {
            auto& by_inode = m_mapped_inodes[id.inode];
            ++by_inode.first;
            by_inode.second = id;
        }
    }
    void name_mapping(int host_fd, litebox::fd::OpenFile<Platform>& file, const litebox::fd::Stat& st) {
        auto path = lx::procfs_detail::descriptor_link<Platform>(m_shim, file);
        if (path) name_mapping(host_fd, std::move(*path), st);
    }

    /// The host's /proc/<host_pid>/maps text (empty if the process is gone). With `pidfd` (the
    /// process's), the file is opened first and the pidfd checked afterwards: a live (or unreaped)
    /// process still owns its pid, so the text cannot be another process's. Without it the caller
    /// knows the process is alive (the tracer thread, with one of its tasks stopped).
    static Result<std::string> read_host_maps(pid_t host_pid, const lp::UniqueFd* pidfd) {
        const std::string name = "/proc/" + std::to_string(host_pid) + "/maps";
        lp::UniqueFd file(::open(name.c_str(), O_RDONLY | O_CLOEXEC));
        if (!file.valid()) return std::string();
        if (pidfd != nullptr && ::syscall(SYS_pidfd_send_signal, pidfd->get(), 0, nullptr, 0) != 0) return std::string();
        std::string raw;
        char chunk[16384];
        for (;;) {
            const ssize_t n = ::read(file.get(), chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            if (raw.size() + static_cast<std::size_t>(n) > max_maps_bytes) return Errno::nomem;
            raw.append(chunk, static_cast<std::size_t>(n));
        }
        return raw;
    }

    /// /proc/<box_pid>/maps: the kernel's map of the guest's host process, in box names
    /// (maps.hpp). The host file is opened first and the process's pidfd checked afterwards: a
    /// live (or unreaped) process still owns its pid, so the text cannot be another process's.
    Result<std::string> maps_text(int box_pid) {
        std::shared_ptr<lp::UniqueFd> pidfd;
        pid_t host_pid = 0;
        {
            std::lock_guard lock(m_mutex);
            const auto host = m_box_pid_host.find(box_pid);
            if (host == m_box_pid_host.end()) return std::string();  // not running (yet): no mappings
            host_pid = host->second;
            if (const auto it = m_pidfds.find(host_pid); it != m_pidfds.end()) pidfd = it->second;
        }
        if (!pidfd) return Errno::srch;
        LITEBOX_TRY_ASSIGN(const std::string raw, read_host_maps(host_pid, pidfd.get()));
        auto text = box_maps(
            raw,
            [&](std::uint64_t device, std::uint64_t inode) -> std::optional<MappedName> {
                std::lock_guard lock(m_mutex);
                auto it = m_mapped_names.find(HostId{device, inode});
                if (it == m_mapped_names.end()) {
                    // On overlayfs (and btrfs) the kernel's line gives the underlying file's
                    // device, not the one fstat reported: an inode recorded only once decides.
                    const auto by_inode = m_mapped_inodes.find(inode);
                    if (by_inode == m_mapped_inodes.end() || by_inode->second.first != 1) return std::nullopt;
                    it = m_mapped_names.find(by_inode->second.second);
                    if (it == m_mapped_names.end()) return std::nullopt;
                }
                return it->second;
            },
            max_maps_bytes);
        if (!text) return Errno::nomem;
        return std::move(*text);
    }

    bool m_box_pid_host_missing(int box_pid) {
        std::lock_guard lock(m_mutex);
        return m_box_pid_host.find(box_pid) == m_box_pid_host.end();
    }

    // ---- signals between box processes ----------------------------------------------------------
    std::int64_t kill(Context& context, std::int32_t pid, std::int32_t sig) {
        if (sig < 0 || sig > 64) return neg(Errno::inval);
        auto& tasks = m_shim.tasks();
        // The shim checks the target and the permission (signal 0 sends nothing).
        if (auto checked = tasks.kill(context.process(), pid, 0); !checked) return neg(checked.error());
        if (sig == 0) return 0;
        std::vector<int> targets;
        const int self = context.pid();
        if (pid > 0) {
            targets.push_back(pid);
        } else {
            int group = 0;
            if (pid == 0) {
                auto g = tasks.process_group_of(self);
                if (!g) return neg(g.error());
                group = *g;
            } else if (pid < -1) {
                group = -pid;
            }
            if (pid == -1) {
                for (const int candidate : tasks.process_ids())
                    if (candidate != 1 && candidate != self) targets.push_back(candidate);
            } else {
                targets = group_members(group);
            }
        }
        // The shim's check passes if any target may be signalled: each one is checked again (a
        // uid-1000 process's kill(-1) must not reach root's). A target whose host process is gone
        // is a zombie, which Linux lets a signal reach (and discards it).
        bool any = false;
        for (const int target : targets) {
            if (pid <= 0 && !tasks.kill(context.process(), target, 0)) continue;
            any = raise_in(target, sig) || is_zombie(target) || any;
        }
        return any ? 0 : neg(Errno::srch);
    }

    /// Whether box process `pid` has exited and waits for its parent (a zombie).
    bool is_zombie(int pid) {
        const auto process = m_shim.tasks().find_process(pid);
        return process && process->exited();
    }

    /// rt_sigqueueinfo (tgid -1: to process `id`) and rt_tgsigqueueinfo (to thread `id` of process
    /// `tgid`): the signal goes with the guest's siginfo, as Linux sends it -- si_signo set to
    /// `sig`, and a non-negative si_code (or SI_TKILL) refused with EPERM unless the target is the
    /// caller's own process (only the kernel may claim those codes; sigqueue uses SI_QUEUE).
    std::int64_t sigqueueinfo(Context& context, std::int32_t tgid, std::int32_t id, std::int32_t sig, std::uintptr_t address) {
        if (sig < 0 || sig > 64) return neg(Errno::inval);
        auto read = lx::Guest<Platform>::template read<siginfo_t>(address);
        if (!read) return neg(read.error());
        siginfo_t info = *read;
        const int target_process = tgid == -1 ? id : tgid;
        if ((info.si_code >= 0 || info.si_code == SI_TKILL) && target_process != context.pid()) return neg(Errno::perm);
        info.si_signo = sig;
        if (tgid == -1) {
            if (id <= 0) return neg(Errno::srch);
            if (auto checked = m_shim.tasks().kill(context.process(), id, 0); !checked) return neg(checked.error());
            if (sig == 0) return 0;
            return raise_in(id, sig, &info) || is_zombie(id) ? 0 : neg(Errno::srch);  // a zombie: see kill
        }
        if (tgid <= 0 || id <= 0) return neg(Errno::inval);
        if (auto checked = m_shim.tasks().kill_thread(context.process(), tgid, id, 0); !checked) return neg(checked.error());
        if (sig == 0) return 0;
        std::lock_guard signal_lock(m_signal_mutex);
        const auto target = host_thread_of(tgid, id);
        if (!target || !m_signal_thread) return neg(Errno::srch);
        if (auto sent = m_signal_thread(target->first, target->second, sig, &info); !sent) return neg(sent.error());
        return 0;
    }

    /// pidfd_send_signal: kill (or, with a siginfo, rt_sigqueueinfo) to the process the pidfd
    /// names -- the box's checks (lx::sys_pidfd_send_signal), the runtime's delivery.
    std::int64_t pidfd_send_signal(Context& context, const lx::SyscallRequest& request) {
        const auto checked = lx::checked_pidfd_signal(context, request);
        if (!checked) return neg(checked.error());
        const int pid = checked->pid, sig = checked->signal;
        const bool thread = checked->flags == lx::pidfd_signal_thread, group = checked->flags == lx::pidfd_signal_process_group;
        if (checked->info_address != 0 && !group) return sigqueueinfo(context, thread ? pid : -1, pid, sig, checked->info_address);
        if (thread) return tgkill(context, pid, pid, sig);
        if (group) {  // with or without a siginfo, each member gets the plain signal (as the box's kill)
            auto pgid = m_shim.tasks().process_group_of(pid);
            if (!pgid) return neg(pgid.error());
            auto sent = lx::signal_group(context, *pgid, [&](int member) {
                if (sig != 0) (void)raise_in(member, sig);
            });
            return sent ? 0 : neg(sent.error());
        }
        return kill(context, pid, sig);
    }

    /// The live box processes of process group `group`.
    std::vector<int> group_members(int group) { return m_shim.tasks().group_members(group); }

    /// For the shim's child notifiers: sends `sig` to box process `box_pid` now and returns what
    /// interrupts its blocked served call, for the shim to run after it woke the waiters.
    std::function<void()> signal_then_interrupt(int box_pid, int sig) {
        auto sent = signal_box_process(box_pid, sig);
        if (!sent) return {};
        return [interrupt = std::move(*sent)]() mutable { interrupt.fire(); };
    }

    std::int64_t tgkill(Context& context, std::int32_t tgid, std::int32_t tid, std::int32_t sig) {
        if (sig < 0 || sig > 64 || tid <= 0 || (tgid != -1 && tgid <= 0)) return neg(Errno::inval);
        if (auto checked = m_shim.tasks().kill_thread(context.process(), tgid, tid, 0); !checked) return neg(checked.error());
        if (sig == 0) return 0;
        // The host thread that is box thread `tid` (of process `tgid` for tgkill): the signal goes
        // to that very thread, so its handler runs there and its blocked call is the one
        // interrupted.
        {
            std::lock_guard signal_lock(m_signal_mutex);
            const auto target = host_thread_of(tgid, tid);
            if (!target || !m_signal_thread) return neg(Errno::srch);
            if (auto sent = m_signal_thread(target->first, target->second, sig, nullptr); !sent) return neg(sent.error());
        }
        if (sig == SIGCONT) {
            if (const auto process = m_shim.tasks().process_of_thread(tid)) continued(process->pid());
        }
        return 0;
    }

    /// A timer's signal: a POSIX timer's carries its siginfo (SI_TIMER, si_timerid, si_overrun,
    /// si_value: glibc's SIGEV_THREAD helper reads them); ITIMER_REAL's SIGALRM is a plain one (its
    /// SI_KERNEL code cannot be sent from user space).
    void raise_timer_signal(lx::Process<Platform>& process, lx::Thread<Platform>* thread, const lx::TimerSignal& signal) {
        siginfo_t info{};
        info.si_signo = signal.signo;
        info.si_code = signal.code;
        info.si_timerid = signal.timer_id;
        info.si_overrun = signal.overrun;
        info.si_value.sival_ptr = reinterpret_cast<void*>(static_cast<std::uintptr_t>(signal.value));
        const siginfo_t* with = signal.code == lx::abi::si_timer ? &info : nullptr;
        if (thread == nullptr) {
            (void)raise_in(process.pid(), signal.signo, with);
            return;
        }
        {
            std::lock_guard signal_lock(m_signal_mutex);
            const auto target = host_thread_of(process.pid(), thread->tid());
            if (!target || !m_signal_thread || !m_signal_thread(target->first, target->second, signal.signo, with)) return;
        }
        if (signal.signo == SIGCONT) continued(process.pid());
    }

    /// CPU time of box process `box_pid` from the host: the process's CPU clock (every thread, the
    /// exited ones included), split into user and system time as /proc/PID/stat splits it. Under
    /// m_mutex: a bound process is unreaped, so its pid is not a reused one.
    std::optional<lx::Usage> host_process_cpu(int box_pid) {
        std::lock_guard lock(m_mutex);
        const auto host = m_box_pid_host.find(box_pid);
        if (host == m_box_pid_host.end()) return std::nullopt;
        clockid_t clock{};
        struct timespec ts {};
        if (::clock_getcpuclockid(host->second, &clock) != 0 || ::clock_gettime(clock, &ts) != 0) return std::nullopt;
        const std::int64_t total = static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
        return split_cpu(total, "/proc/" + std::to_string(host->second) + "/stat");
    }
    /// CPU time of box thread `box_tid` from the host (/proc/PID/task/TID/schedstat's time on a
    /// CPU, split like host_process_cpu).
    std::optional<lx::Usage> host_thread_cpu(int box_pid, int box_tid) {
        std::lock_guard lock(m_mutex);
        const auto host = m_box_pid_host.find(box_pid);
        if (host == m_box_pid_host.end()) return std::nullopt;
        for (const auto& [host_tid, context] : m_threads) {
            if (context->tid() != box_tid || context->pid() != box_pid) continue;
            const std::string task = "/proc/" + std::to_string(host->second) + "/task/" + std::to_string(host_tid);
            char text[256];
            if (sc::detail::read_proc_file((task + "/schedstat").c_str(), text, sizeof text) <= 0) return std::nullopt;
            const long long on_cpu = std::strtoll(text, nullptr, 10);
            return split_cpu(on_cpu, task + "/stat");
        }
        return std::nullopt;
    }
    /// `total` ns split into user and system time in the ratio of utime and stime in `stat_path`
    /// (all user time when it cannot be read or both are 0).
    static lx::Usage split_cpu(std::int64_t total, const std::string& stat_path) {
        char text[1024];
        lx::Usage used{total, 0};
        if (sc::detail::read_proc_file(stat_path.c_str(), text, sizeof text) <= 0) return used;
        const char* after = std::strrchr(text, ')');
        if (after == nullptr) return used;
        // Fields from the third (state): utime and stime are the 14th and 15th.
        const char* p = after + 1;
        long long utime = 0, stime = 0;
        for (int field = 3; field <= 15 && *p != '\0'; ++field) {
            while (*p == ' ') ++p;
            const long long value = std::strtoll(p, nullptr, 10);
            if (field == 14) utime = value;
            if (field == 15) stime = value;
            while (*p != ' ' && *p != '\0') ++p;
        }
        if (utime < 0 || stime < 0 || utime + stime == 0) return used;
        used.system_ns = static_cast<std::int64_t>(static_cast<long double>(total) * stime / (utime + stime));
        used.user_ns = total - used.system_ns;
        return used;
    }

    /// The host process and host thread of box thread `tid` (in box process `tgid`, or any process
    /// when `tgid` is -1).
    std::optional<std::pair<pid_t, pid_t>> host_thread_of(int tgid, int tid) {
        std::lock_guard lock(m_mutex);
        for (const auto& [host_tid, context] : m_threads) {
            if (context->tid() != tid || (tgid > 0 && context->pid() != tgid)) continue;
            const auto host = m_box_pid_host.find(context->pid());
            if (host == m_box_pid_host.end()) continue;
            return std::pair<pid_t, pid_t>{host->second, host_tid};
        }
        return std::nullopt;
    }

    /// Applies a limit the box just changed to box process `box_pid`'s host process, if the host
    /// enforces it (host_enforced_limits): within the runner's own hard limit, like the launch.
    /// The process's pidfd is checked first under m_mutex, so the pid is not a reused one (a
    /// process is unbound under m_mutex only after it has been reaped).
    void apply_host_limit(int box_pid, std::uint32_t resource, const lx::abi::rlimit& limit) {
        if (std::find(host_enforced_limits.begin(), host_enforced_limits.end(), static_cast<int>(resource)) == host_enforced_limits.end())
            return;
        struct rlimit own {};
        if (::syscall(SYS_prlimit64, 0, resource, nullptr, &own) != 0) return;
        struct rlimit wanted {};
        wanted.rlim_max = std::min<rlim_t>(limit.rlim_max, own.rlim_max);
        wanted.rlim_cur = std::min<rlim_t>(limit.rlim_cur, wanted.rlim_max);
        std::lock_guard lock(m_mutex);
        const auto host = m_box_pid_host.find(box_pid);
        if (host == m_box_pid_host.end()) return;  // not started yet: its launch applies the box's limits
        const auto pidfd = m_pidfds.find(host->second);
        if (pidfd == m_pidfds.end() || ::syscall(SYS_pidfd_send_signal, pidfd->second->get(), 0, nullptr, 0) != 0) return;
        if (::syscall(SYS_prlimit64, host->second, resource, &wanted, nullptr) != 0)
            std::fprintf(stderr, "litebox-run: cannot apply resource limit %u to box process %d: %s\n", resource, box_pid, std::strerror(errno));
    }

    /// Called with m_mutex held, while `host_pid` is certainly ours (stopped at birth, or just
    /// launched): the descriptor keeps naming that process even after its pid is reused.
    void open_pidfd(pid_t host_pid) {
        lp::UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, host_pid, 0)));
        if (fd.valid()) m_pidfds[host_pid] = std::make_shared<lp::UniqueFd>(std::move(fd));
    }

    /// Sends `sig` to box process `box_pid`: through the supervisor (the blocked served call it
    /// would interrupt is returned, for the caller to fire), or -- for a process that has not made
    /// a served call yet -- through the pidfd taken when it was bound. nullopt: not sent.
    std::optional<sc::DeferredInterrupt> signal_box_process(int box_pid, int sig, const siginfo_t* info = nullptr) {
        std::lock_guard signal_lock(m_signal_mutex);
        const auto host = host_pid_of(box_pid);
        if (!host) return std::nullopt;
        if (m_signal_process) {
            if (auto sent = m_signal_process(*host, sig, info)) return std::move(*sent);
        }
        std::shared_ptr<lp::UniqueFd> pidfd;
        {
            std::lock_guard lock(m_mutex);
            const auto it = m_pidfds.find(*host);
            if (it != m_pidfds.end()) pidfd = it->second;
        }
        if (pidfd && ::syscall(SYS_pidfd_send_signal, pidfd->get(), sig, info, 0) == 0) {
            wake_signalfds();
            return sc::DeferredInterrupt();
        }
        return std::nullopt;
    }

    /// Sends `sig` to box process `box_pid` and interrupts its blocked served call. False: not sent.
    bool raise_in(int box_pid, int sig, const siginfo_t* info = nullptr) {
        auto sent = signal_box_process(box_pid, sig, info);
        if (!sent) return false;
        sent->fire();
        if (sig == SIGCONT) continued(box_pid);
        return true;
    }

    /// SIGCONT was sent to box process `box_pid`. Linux continues a process when SIGCONT is sent
    /// (wait's WCONTINUED is there at once): so does the box, without waiting for the tracer to see
    /// the host process go on, which can be much later under load -- an exit meanwhile would hang
    /// up a job that is no longer stopped (the orphaned-group rule). The tracer's own report then
    /// finds it running. A stop that execve passed on to a new image that has not taken it yet is
    /// discarded by the SIGCONT too.
    void continued(int box_pid) {
        std::lock_guard stop_lock(m_stop_mutex);
        m_stop_passed.erase(box_pid);
        if (const auto process = m_shim.tasks().find_process(box_pid)) m_shim.tasks().report_continue(*process);
    }

    /// A stop of `host_pid` after an execve replaced it (a thread other than the one in the execve
    /// took it, and the process stopped or was killed first): the stop is the box process's, and
    /// its new image takes it. Called with m_stop_mutex held.
    void pass_stop(pid_t host_pid, int sig) {
        if (const auto it = m_replaced.find(host_pid); it != m_replaced.end() && it->second.stop_sent)
            return;  // the switch sent the new image the stop: it reports it itself
        const auto context = replaced_by(host_pid);
        if (!context) return;
        if (auto sent = signal_box_process(context->pid(), SIGSTOP)) sent->fire();
        m_stop_passed.insert(context->pid());
        m_shim.tasks().report_stop(context->process(), sig);
    }

    /// The stop signals (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) pending on any thread of host process
    /// `pid` (each thread's own pending set and the process's).
    static std::uint64_t pending_stop_signals(pid_t pid) {
        constexpr std::uint64_t stops = (std::uint64_t{1} << (SIGSTOP - 1)) | (std::uint64_t{1} << (SIGTSTP - 1)) |
                                        (std::uint64_t{1} << (SIGTTIN - 1)) | (std::uint64_t{1} << (SIGTTOU - 1));
        char path[64];
        std::snprintf(path, sizeof path, "/proc/%d/task", static_cast<int>(pid));
        DIR* dir = ::opendir(path);
        if (dir == nullptr) return 0;
        std::uint64_t pending = 0;
        while (const dirent* entry = ::readdir(dir)) {
            char* end = nullptr;
            const long tid = std::strtol(entry->d_name, &end, 10);
            if (tid <= 0 || end == entry->d_name || *end != '\0') continue;
            if (const auto state = sc::detail::signal_state(pid, static_cast<pid_t>(tid))) pending |= state->pending & stops;
        }
        ::closedir(dir);
        return pending;
    }

    /// The box process whose old host process (replaced by an execve, not reaped yet) `host_pid`
    /// is: its main thread. Called with m_stop_mutex held.
    std::shared_ptr<Context> replaced_by(pid_t host_pid) {
        const auto it = m_replaced.find(host_pid);
        if (it == m_replaced.end()) return nullptr;
        const auto host = host_pid_of(it->second.box_pid);
        return host ? process_context(*host) : nullptr;
    }

    std::optional<pid_t> host_pid_of(int box_pid) {
        std::lock_guard lock(m_mutex);
        const auto it = m_box_pid_host.find(box_pid);
        if (it == m_box_pid_host.end()) return std::nullopt;
        return it->second;
    }

    // ---- programs ---------------------------------------------------------------------------------
    Result<std::string> search(Context& context, const std::string& name, const std::vector<std::string>& envp) {
        std::string path_list = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        for (const auto& e : envp)
            if (e.rfind("PATH=", 0) == 0) path_list = e.substr(5);
        const auto creds = lx::fs_credentials(context);
        const auto cwd = lx::current_directory(context);
        Errno last = Errno::noent;
        std::size_t start = 0;
        for (;;) {
            const std::size_t colon = path_list.find(':', start);
            std::string dir = path_list.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
            if (dir.empty()) dir = ".";
            const std::string candidate = dir + "/" + name;
            auto st = m_shim.vfs().stat(creds, cwd, candidate);
            if (st && fs::is_regular(st->mode)) {
                if (auto ok = m_shim.vfs().access(creds, cwd, candidate, 1 /*X_OK*/); ok) return candidate;
                last = Errno::acces;
            }
            if (colon == std::string::npos) break;
            start = colon + 1;
        }
        return last;
    }

    /// What /proc/PID/exe names for the program at `path`: its absolute path with every symbolic
    /// link resolved, as Linux reports (static glibc's _dl_get_origin insists on a '/' first).
    std::string exe_path(Context& context, const std::string& given) {
        const auto creds = lx::fs_credentials(context);
        const auto cwd = lx::current_directory(context);
        auto& vfs = m_shim.vfs();
        const auto join = [](const std::string& dir, const std::string& name) { return dir == "/" ? "/" + name : dir + "/" + name; };
        std::string path = given;
        for (int links = 0; links <= 40; ++links) {  // Linux's limit of followed links
            const auto slash = path.find_last_of('/');
            const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
            const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
            auto where = vfs.resolve_directory(creds, cwd, dir);
            if (!where) break;
            auto dir_path = vfs.path_of(*where);
            if (!dir_path) break;
            std::string full = join(*dir_path, name);
            auto st = vfs.stat(creds, cwd, full, fs::at_flags::symlink_nofollow);
            if (!st) break;
            if (!fs::is_symlink(st->mode)) return full;
            auto target = vfs.readlink(creds, cwd, full);
            if (!target || target->empty()) break;
            path = (*target)[0] == '/' ? *target : join(*dir_path, *target);
        }
        if (!given.empty() && given[0] == '/') return given;
        auto cwd_path = vfs.path_of(cwd);
        return cwd_path ? join(*cwd_path, given) : given;
    }

    struct ExecutableFile {
        std::shared_ptr<litebox::fd::OpenFile<Platform>> file;
        litebox::fd::Stat stat;
    };
    Result<ExecutableFile> open_executable(Context& context, const std::string& path, bool nofollow = false) {
        const auto creds = lx::fs_credentials(context);
        const auto cwd = lx::current_directory(context);
        auto& vfs = m_shim.vfs();
        LITEBOX_TRY_ASSIGN(auto st, vfs.stat(creds, cwd, path, nofollow ? fs::at_flags::symlink_nofollow : 0u));
        if (nofollow && fs::is_symlink(st.mode)) return Errno::loop;
        if (fs::is_directory(st.mode)) return Errno::acces;
        if (!fs::is_regular(st.mode)) return Errno::acces;
        LITEBOX_TRY(vfs.access(creds, cwd, path, 1 /*X_OK*/));
        if (st.size < 0 || static_cast<std::uint64_t>(st.size) > max_program_bytes) return Errno::nomem;
        LITEBOX_TRY_ASSIGN(auto file, vfs.open(creds, cwd, path, litebox::fd::open_flags::read_only));
        return ExecutableFile{std::move(file), st};
    }

    /// fexecve: the file descriptor `fd` of `context`'s process names, checked as execve checks a
    /// path (a regular file the caller may execute) and opened anew for reading, so that the
    /// guest's own open file (its offset, its access mode) is left alone.
    Result<ExecutableFile> open_descriptor(Context& context, int fd) {
        const auto creds = lx::fs_credentials(context);
        auto& vfs = m_shim.vfs();
        LITEBOX_TRY_ASSIGN(auto open, context.files().get(fd));
        auto where = fs::Vfs<Platform>::location_of(*open);
        if (!where) return Errno::acces;  // a pipe, a socket, an anonymous object
        LITEBOX_TRY_ASSIGN(auto st, vfs.stat(creds, *where, "", fs::at_flags::empty_path));
        if (!fs::is_regular(st.mode)) return Errno::acces;
        LITEBOX_TRY(vfs.access(creds, *where, "", 1 /*X_OK*/, fs::at_flags::empty_path));
        if (st.size < 0 || static_cast<std::uint64_t>(st.size) > max_program_bytes) return Errno::nomem;
        LITEBOX_TRY_ASSIGN(auto file, vfs.open_location(creds, *where, litebox::fd::open_flags::read_only));
        return ExecutableFile{std::move(file), st};
    }
    /// What /proc/PID/exe names for a program run from descriptor `fd`: the file's own path (with
    /// " (deleted)" for an unlinked one), as /proc/self/fd/N reads.
    std::string descriptor_exe(Context& context, int fd) {
        auto open = context.files().get(fd);
        if (!open) return "/dev/fd/" + std::to_string(fd);
        auto text = lx::procfs_detail::descriptor_link<Platform>(static_cast<lx::Kernel<Platform>&>(m_shim), **open);
        return text ? *text : "/dev/fd/" + std::to_string(fd);
    }
    /// Whether `path` names a file (for a loader that must open the program by name).
    bool reachable(Context& context, const std::string& path) {
        return m_shim.vfs().stat(lx::fs_credentials(context), lx::current_directory(context), path).has_value();
    }

    /// The first bytes of an executable: enough for `#!` and for the ELF and program headers of
    /// any ordinary program; the whole file when those headers reach further.
    static Result<std::vector<std::byte>> read_head(litebox::fd::OpenFile<Platform>& file, const litebox::fd::Stat& st) {
        constexpr std::size_t head_bytes = 64 * 1024;
        const auto size = static_cast<std::size_t>(st.size);
        std::vector<std::byte> bytes(std::min(size, head_bytes));
        LITEBOX_TRY_ASSIGN(std::size_t n, read_fully(file, bytes));
        bytes.resize(n);
        const auto check = sc::check_elf(bytes);
        if (n == head_bytes && size > head_bytes &&
            (check == sc::ElfCheck::truncated || (check == sc::ElfCheck::dynamic && !sc::elf_interpreter(bytes)))) {
            bytes.resize(size);
            LITEBOX_TRY_ASSIGN(n, read_fully(file, bytes));
            bytes.resize(n);
        }
        return bytes;
    }

    /// `#!interpreter [one argument]` as Linux parses it.
    static Result<std::pair<std::string, std::string>> parse_shebang(std::span<const std::byte> bytes) {
        std::string line;
        for (std::size_t i = 2; i < bytes.size() && i < max_shebang_line; ++i) {
            const char c = static_cast<char>(bytes[i]);
            if (c == '\n') break;
            line.push_back(c);
        }
        const auto blank = [](char c) { return c == ' ' || c == '\t'; };
        std::size_t i = 0;
        while (i < line.size() && blank(line[i])) ++i;
        std::size_t end = i;
        while (end < line.size() && !blank(line[end])) ++end;
        if (end == i) return Errno::noexec;
        std::string interpreter = line.substr(i, end - i);
        while (end < line.size() && blank(line[end])) ++end;
        std::string argument = line.substr(end);
        while (!argument.empty() && blank(argument.back())) argument.pop_back();
        return std::pair{std::move(interpreter), std::move(argument)};
    }

    litebox::LiteBox<Platform> m_box;
    lx::LinuxShim<Platform> m_shim;
    std::unique_ptr<Context> m_init;
    std::atomic<int> m_init_pid{0};  // box pid of the first program, once bound
    std::atomic<std::uint64_t> m_forks{0};
    std::atomic<std::uint64_t> m_images{0};
    Launcher m_launcher;
    Adopter m_adopter;
    ExitRecorder m_record_exit;
    std::function<void(pid_t)> m_settle;
    SignalProcess m_signal_process;
    SignalThread m_signal_thread;
    std::function<bool(pid_t)> m_take_restart_answer;
    std::size_t m_max_signalfds = default_max_signalfds;
    std::mutex m_signalfd_create_mutex;  // the limit check and the insertion, together
    std::mutex m_signalfd_mutex;         // guards m_signalfds
    std::vector<std::weak_ptr<lp::HostSignalFd<Platform>>> m_signalfds;  // every signalfd made, until closed
    std::atomic<std::size_t> m_signalfds_live{0};     // m_signalfds.size() (a hint for the hot paths)
    std::unordered_map<int, std::map<int, QueuedSignal>> m_queued_signals;  // box pid -> signo -> siginfo (m_signalfd_mutex)
    struct NativeRead {
        pid_t host_pid;
        std::int32_t number;  // the descriptor read
    };
    std::mutex m_install_mutex;  // a native read's install and a mapping's (install_for_map)
    std::unordered_map<pid_t, NativeRead> m_native_reads;  // host tid -> its last call, a native signalfd read (m_mutex)
    std::atomic<std::size_t> m_native_reads_count{0};

    std::mutex m_mutex;
    /// Held while a signal is addressed to a box process's host process and sent, and while
    /// execve moves a box process to a new host process (then before m_mutex).
    std::mutex m_signal_mutex;
    /// Held while a stop or continuation is reported to the process table and while execve moves
    /// a box process (then before m_signal_mutex); guards the two sets below.
    std::mutex m_stop_mutex;
    struct Replaced {
        int box_pid = 0;
        bool stop_sent = false;  // the switch sent the new image a stop (carried or already taken)
    };
    std::unordered_map<pid_t, Replaced> m_replaced;  // old host process of an execve -> its box process, until reaped
    std::unordered_set<int> m_stop_passed;      // box pids stopped before an execve, whose new image has not stopped yet
    std::unordered_map<pid_t, std::shared_ptr<Context>> m_threads;  // by host tid
    std::unordered_map<int, pid_t> m_box_pid_host;                  // box pid -> host pid
    std::unordered_map<pid_t, std::shared_ptr<Context>> m_host_process;  // host pid -> main thread
    /// An shmat or shmdt the tracer rewrote, from its entry to its exit (by host thread).
    struct PendingSegmentCall {
        std::shared_ptr<lx::sysv::ShmSegment<Platform>> segment;
        std::array<std::uint64_t, 6> call{};  // the mmap or munmap it became
        bool read_only = false;               // SHM_RDONLY
    };
    /// The descriptor number an shmat's mmap names: any number will do (the guest's real
    /// descriptor table holds only what the supervisor installs for mappings and signalfd reads,
    /// and install_for_map keeps clear of the latter).
    static constexpr std::uint64_t segment_descriptor_number = 0;
    std::mutex m_segment_mutex;  // guards the two maps below; never held with m_mutex
    std::unordered_map<pid_t, PendingSegmentCall> m_segment_calls;
    std::unordered_map<HostId, std::weak_ptr<lx::sysv::ShmSegment<Platform>>, HostIdHash> m_segment_files;  // memfd -> segment
    std::unordered_map<pid_t, std::shared_ptr<lp::UniqueFd>> m_pidfds;    // host pid -> its pidfd
    std::unordered_map<ImageKey, std::shared_ptr<const sc::GuestImage>, ImageKeyHash> m_images_cache;
    std::unordered_map<ImageKey, std::shared_ptr<const fs::hostfs::HostFileHandle>, ImageKeyHash> m_host_files;
    std::uint64_t m_images_bytes = 0;
    std::unordered_map<HostId, MappedName, HostIdHash> m_mapped_names;  // host file -> its box name
    std::unordered_map<std::uint64_t, std::pair<std::size_t, HostId>> m_mapped_inodes;  // inode -> (count, a file)
    std::unordered_map<pid_t, std::shared_ptr<Context>> m_pending_clones;  // by cloning host tid
};

}  // namespace litebox_run
