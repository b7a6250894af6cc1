// The text of procfs files (procfs.hpp), generated from the kernel's process table. Every
// function returns the whole file; ESRCH when the process is gone.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "../../../fs/detail/clock.hpp"
#include "../../../fs/file.hpp"
#include "../../../fs/vfs.hpp"
#include "../request.hpp"
#include "../task_table.hpp"

namespace litebox::shim::linux_abi {
template <typename P>
class Kernel;  // kernel.hpp; only used in templates here (the cycle kernel -> procfs -> here)
}

namespace litebox::shim::linux_abi::procfs_detail {

/// Clock ticks per second of the times in /proc/<pid>/stat and /proc/stat (USER_HZ).
inline constexpr std::int64_t user_hz = 100;

/// One process's state copied out under its locks.
struct ProcessSnapshot {
    int pid = 0;
    int ppid = 0;
    int pgid = 0;
    int sid = 0;
    Credentials credentials;
    std::string exe;
    std::string comm;  ///< the main thread's name (empty: the program's base name)
    std::vector<std::string> argv;
    std::vector<std::string> environ;
    std::size_t threads = 0;
    bool zombie = false;
    bool stopped = false;   // in a group-stop the runtime reported
    bool sleeping = false;  // the leader thread sleeps in a blocking call of the shim
    std::int64_t user_ns = 0;
    std::int64_t system_ns = 0;
    std::int64_t children_user_ns = 0;
    std::int64_t children_system_ns = 0;
    std::uint64_t pending = 0;         // process-wide plus the leader's
    std::uint64_t shared_pending = 0;
    std::uint64_t blocked = 0;         // the leader thread's mask
    std::uint64_t ignored = 0;
    std::uint64_t caught = 0;
    std::uint32_t umask = 0;
    std::uint64_t descriptor_limit = 0;
    int nice = 0;
};

template <typename P>
Result<ProcessSnapshot> snapshot(Kernel<P>& kernel, int pid) {
    auto process = kernel.tasks().find_process(pid);
    if (!process) return Errno::srch;
    ProcessSnapshot s;
    s.pid = pid;
    s.ppid = kernel.tasks().parent_of(pid);
    s.pgid = kernel.tasks().process_group_of(pid).value_or(0);
    s.sid = kernel.tasks().session_of(pid).value_or(0);
    std::vector<std::shared_ptr<Thread<P>>> threads;
    process->state().with_lock([&](auto& st) {
        s.credentials = st.credentials;
        s.nice = st.nice;
        s.exe = st.exe;
        s.argv = st.argv;
        s.environ = st.environ;
        s.threads = st.threads.size();
        s.zombie = st.exit_status.has_value() && st.threads.empty();
        s.user_ns = st.exited_threads.user_ns;
        s.system_ns = st.exited_threads.system_ns;
        s.children_user_ns = st.reaped_children.user_ns;
        s.children_system_ns = st.reaped_children.system_ns;
        threads = st.threads;
    });
    for (const auto& t : threads) {
        s.user_ns += t->user_ns.load(std::memory_order_relaxed);
        s.system_ns += t->system_ns.load(std::memory_order_relaxed);
        if (t->tid() == pid) {
            s.comm = t->name().with_lock([](const std::string& n) { return n; });
            s.sleeping = t->waiter().sleeping();
            t->signals().with_lock([&](auto& sig) {
                s.blocked = sig.blocked;
                s.pending = sig.pending;
            });
        }
    }
    process->signals().with_lock([&](auto& sig) {
        s.shared_pending = sig.shared_pending;
        for (std::size_t i = 0; i < sig.actions.size(); ++i) {
            const std::uint64_t bit = std::uint64_t{1} << i;
            if (sig.actions[i].handler == abi::sig_ign) s.ignored |= bit;
            else if (sig.actions[i].handler != abi::sig_dfl) s.caught |= bit;
        }
    });
    s.stopped = kernel.tasks().is_stopped(pid);
    s.umask = process->fs().with_lock([](auto& f) { return f.umask; });
    s.descriptor_limit = process->files()->limit();
    return s;
}

/// comm: the main thread's name (execve's path's base name, or what PR_SET_NAME set), else the
/// program's base name; at most 15 bytes (TASK_COMM_LEN - 1).
inline std::string comm_of(const ProcessSnapshot& s) {
    if (!s.comm.empty()) return s.comm;
    return comm_of_path(!s.exe.empty() || s.argv.empty() ? std::string_view(s.exe) : std::string_view(s.argv.front()));
}

/// The state letter (the leader thread's, as Linux shows): Z for a zombie, T for a process in a
/// group-stop (as the runtime reported it), S while the leader sleeps in a blocking call of the
/// shim, otherwise R (running guest code, or in a call that blocks outside the shim: a native
/// futex wait shows R).
inline char state_of(const ProcessSnapshot& s) noexcept { return s.zombie ? 'Z' : s.stopped ? 'T' : s.sleeping ? 'S' : 'R'; }
inline std::string_view state_name(char state) noexcept {
    switch (state) {
    case 'R': return "R (running)";
    case 'Z': return "Z (zombie)";
    case 'T': return "T (stopped)";
    default: return "S (sleeping)";
    }
}

inline std::string joined_with_nul(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        out += item;
        out.push_back('\0');
    }
    return out;
}

inline std::string status_text(const ProcessSnapshot& s) {
    const Credentials& c = s.credentials;
    std::string out;
    auto it = std::back_inserter(out);
    const char state = state_of(s);
    fmt::format_to(it, "Name:\t{}\nUmask:\t{:04o}\nState:\t{}\nTgid:\t{}\nNgid:\t0\nPid:\t{}\nPPid:\t{}\nTracerPid:\t0\n", comm_of(s),
                   s.umask, state_name(state), s.pid, s.pid, s.ppid);
    fmt::format_to(it, "Uid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t{}\nGroups:\t", c.ruid, c.euid, c.suid, c.fsuid, c.rgid,
                   c.egid, c.sgid, c.fsgid, s.descriptor_limit);
    for (const auto g : c.groups) fmt::format_to(it, "{} ", g);
    fmt::format_to(it, "\nNSpid:\t{}\nNSpgid:\t{}\nNSsid:\t{}\nThreads:\t{}\n", s.pid, s.pgid, s.sid, s.threads);
    fmt::format_to(it, "SigPnd:\t{:016x}\nShdPnd:\t{:016x}\nSigBlk:\t{:016x}\nSigIgn:\t{:016x}\nSigCgt:\t{:016x}\n", s.pending,
                   s.shared_pending, s.blocked, s.ignored, s.caught);
    return out;
}

/// The 52 fields of /proc/<pid>/stat (proc_pid_stat(5)); what the box does not know is 0.
inline std::string stat_text(const ProcessSnapshot& s) {
    std::string out;
    auto it = std::back_inserter(out);
    const auto ticks = [](std::int64_t ns) { return ns / (1'000'000'000 / user_hz); };
    // pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
    fmt::format_to(it, "{} ({}) {} {} {} {} 0 -1 0 0 0 0 0 ", s.pid, comm_of(s), state_of(s), s.ppid, s.pgid, s.sid);
    // utime stime cutime cstime priority nice num_threads itrealvalue starttime vsize rss rsslim
    fmt::format_to(it, "{} {} {} {} {} {} {} 0 0 0 0 0 ", ticks(s.user_ns), ticks(s.system_ns), ticks(s.children_user_ns),
                   ticks(s.children_system_ns), 20 + s.nice, s.nice, s.threads);
    // startcode endcode startstack kstkesp kstkeip signal blocked sigignore sigcatch wchan nswap
    // cnswap exit_signal processor rt_priority policy delayacct_blkio_ticks guest_time cguest_time
    // start_data end_data start_brk arg_start arg_end env_start env_end exit_code
    fmt::format_to(it, "0 0 0 0 0 {} {} {} {} 0 0 0 {} 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", s.pending & 0x7fffffff,
                   s.blocked & 0x7fffffff, s.ignored & 0x7fffffff, s.caught & 0x7fffffff, abi::sigchld);
    return out;
}

/// What /proc/<pid>/fd/N reads as (see procfs.hpp's contract).
template <typename P>
Result<std::string> descriptor_link(Kernel<P>& kernel, const fd::OpenFile<P>& file) {
    if (const auto* handle = dynamic_cast<const fs::FileHandle<P>*>(&file)) {
        const auto& where = handle->location();
        if (where.is_directory()) return kernel.vfs().path_of(where);
        if (const auto& origin = handle->origin()) {
            if (origin->directory == kernel.memfd_root()) return "/" + origin->name + " (deleted)";  // as Linux names a memfd
            auto directory = kernel.vfs().path_of(origin->directory);
            std::string path = directory ? *directory : std::string("(unreachable)");
            if (path.empty() || path.back() != '/') path.push_back('/');
            path += origin->name;
            const auto st = where.inode->getattr();
            if (!directory || (st && st->link_count == 0)) path += " (deleted)";
            return path;
        }
    }
    LITEBOX_TRY_ASSIGN(const fd::Stat st, const_cast<fd::OpenFile<P>&>(file).stat());
    switch (st.mode & fd::mode::type_mask) {
    case fd::mode::fifo: return fmt::format("pipe:[{}]", st.inode);
    case fd::mode::socket: return fmt::format("socket:[{}]", st.inode);
    case fd::mode::char_device: return fmt::format("host:[{}]", st.inode);  // a host stream (Kernel::open_stdio)
    default: return fmt::format("anon_inode:[{}]", st.inode);
    }
}

template <typename P>
Result<std::string> fdinfo_text(const fd::OpenFile<P>& file, bool close_on_exec) {
    auto& mutable_file = const_cast<fd::OpenFile<P>&>(file);
    std::uint64_t position = 0;
    if (auto here = mutable_file.seek(0, fd::Whence::current)) position = *here;  // pipes: 0
    LITEBOX_TRY_ASSIGN(const fd::Stat st, mutable_file.stat());
    const std::uint32_t flags = file.status_flags() | (close_on_exec ? fd::open_flags::close_on_exec : 0u);
    return fmt::format("pos:\t{}\nflags:\t{:07o}\nmnt_id:\t{}\nino:\t{}\n", position, flags, fs::device_minor(st.device), st.inode);
}

/// /proc/mounts: one line per mount, sorted by path.
template <typename P>
std::string mounts_text(Kernel<P>& kernel) {
    struct Line {
        std::string path;
        std::string_view type;
        bool read_only;
        std::uint32_t flags;
    };
    std::vector<Line> lines;
    for (const auto& root : kernel.vfs().mount_roots()) {
        auto path = kernel.vfs().path_of(root);
        if (!path) continue;  // not reachable from the box root (hidden or detached)
        lines.push_back(Line{std::move(*path), root.mount->fs->type_name(), root.mount->read_only(), root.mount->flags});
    }
    // Parents before children (shorter paths first), then by name. (std::sort: stable_sort would
    // pull in operator new(nothrow), which the audit allow-list does not have.)
    std::sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
        return a.path.size() != b.path.size() ? a.path.size() < b.path.size() : a.path < b.path;
    });
    std::string out;
    auto it = std::back_inserter(out);
    for (const auto& l : lines) {
        fmt::format_to(it, "{} {} {} {}{}{}{} 0 0\n", l.type, l.path, l.type, l.read_only ? "ro" : "rw",
                       (l.flags & fs::mount_flags::no_suid) ? ",nosuid" : "", (l.flags & fs::mount_flags::no_dev) ? ",nodev" : "",
                       (l.flags & fs::mount_flags::no_exec) ? ",noexec" : "");
    }
    return out;
}

inline std::string seconds_text(platform::Duration d) {
    const auto centis = d.count() / 10'000'000;
    return fmt::format("{}.{:02}", centis / 100, centis % 100);
}

template <typename P>
std::string uptime_text(Kernel<P>& kernel) {
    return fmt::format("{} 0.00\n", seconds_text(kernel.uptime()));
}

template <typename P>
std::string loadavg_text(Kernel<P>& kernel) {
    const auto pids = kernel.tasks().process_ids();
    return fmt::format("0.00 0.00 0.00 1/{} {}\n", kernel.tasks().tasks_in_use(), pids.empty() ? 0 : pids.back());
}

template <typename P>
std::string meminfo_text(Kernel<P>& kernel) {
    const std::uint64_t kib = kernel.config().total_memory_bytes / 1024;
    return fmt::format(
        "MemTotal:       {:8} kB\nMemFree:        {:8} kB\nMemAvailable:   {:8} kB\nBuffers:               0 kB\n"
        "Cached:                0 kB\nSwapCached:            0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n"
        "Shmem:                 0 kB\n",
        kib, kib, kib);
}

/// One paragraph per box CPU (ShimConfig::cpus), all cores of one package.
inline std::string cpuinfo_text(std::uint32_t cpus) {
    std::string text;
    for (std::uint32_t cpu = 0; cpu < cpus; ++cpu)
        fmt::format_to(std::back_inserter(text),
                       "processor\t: {}\nvendor_id\t: LiteBox\ncpu family\t: 0\nmodel\t\t: 0\nmodel name\t: LiteBox virtual CPU\n"
                       "physical id\t: 0\nsiblings\t: {}\ncore id\t\t: {}\ncpu cores\t: {}\nflags\t\t:\n\n",
                       cpu, cpus, cpu, cpus);
    return text;
}

template <typename P>
std::string stat_global_text(Kernel<P>& kernel) {
    const auto up = fs::detail::wall_clock_now(kernel.platform()).seconds - kernel.uptime().count() / 1'000'000'000;
    const auto idle = kernel.uptime().count() / (1'000'000'000 / user_hz);
    const std::uint32_t cpus = kernel.cpu_count();
    std::string text = fmt::format("cpu  0 0 0 {} 0 0 0 0 0 0\n", idle * cpus);
    for (std::uint32_t cpu = 0; cpu < cpus; ++cpu) fmt::format_to(std::back_inserter(text), "cpu{} 0 0 0 {} 0 0 0 0 0 0\n", cpu, idle);
    fmt::format_to(std::back_inserter(text), "intr 0\nctxt 0\nbtime {}\nprocesses {}\nprocs_running 1\nprocs_blocked 0\n", up,
                   kernel.tasks().process_ids().size());
    return text;
}

inline std::string filesystems_text() {
    return "nodev\ttmpfs\nnodev\tdevfs\nnodev\tproc\nnodev\toverlay\n\ttar\nnodev\thostfs\n";
}

}  // namespace litebox::shim::linux_abi::procfs_detail
