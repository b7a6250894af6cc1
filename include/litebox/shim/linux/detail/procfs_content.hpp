// The text of procfs files (procfs.hpp), generated from the kernel's process table. Every
// function returns the whole file; ESRCH when the process is gone.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <array>
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
    int tid = 0;  ///< the thread shown: the leader (== pid) for /proc/<pid>, else /proc/<pid>/task/<tid>
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
    std::array<abi::rlimit, abi::rlimit_count> limits{};
};

/// `tid` 0 (or the pid): the process as /proc/<pid> shows it (times of all its threads, the
/// leader's name, mask and sleep); another tid of the process: that thread alone, as
/// /proc/<pid>/task/<tid> shows it (ESRCH when the process has no such live thread).
template <typename P>
Result<ProcessSnapshot> snapshot(Kernel<P>& kernel, int pid, int tid = 0) {
    auto process = kernel.tasks().find_process(pid);
    if (!process) return Errno::srch;
    const bool one_thread = tid != 0;
    if (tid == 0) tid = pid;
    ProcessSnapshot s;
    s.pid = pid;
    s.tid = tid;
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
        s.limits = st.limits;
        if (!one_thread) {
            s.user_ns = st.exited_threads.user_ns;
            s.system_ns = st.exited_threads.system_ns;
        }
        s.children_user_ns = st.reaped_children.user_ns;
        s.children_system_ns = st.reaped_children.system_ns;
        threads = st.threads;
    });
    bool found = false;
    for (const auto& t : threads) {
        if (one_thread && t->tid() != tid) continue;
        s.user_ns += t->user_ns.load(std::memory_order_relaxed);
        s.system_ns += t->system_ns.load(std::memory_order_relaxed);
        if (t->tid() == tid) {
            found = true;
            s.comm = t->name().with_lock([](const std::string& n) { return n; });
            s.sleeping = t->waiter().sleeping();
            t->signals().with_lock([&](auto& sig) {
                s.blocked = sig.blocked;
                s.pending = sig.pending;
            });
        }
    }
    if (one_thread && !found) return Errno::srch;
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
                   s.umask, state_name(state), s.pid, s.tid, s.ppid);
    fmt::format_to(it, "Uid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t{}\nGroups:\t", c.ruid, c.euid, c.suid, c.fsuid, c.rgid,
                   c.egid, c.sgid, c.fsgid, s.descriptor_limit);
    for (const auto g : c.groups) fmt::format_to(it, "{} ", g);
    fmt::format_to(it, "\nNSpid:\t{}\nNSpgid:\t{}\nNSsid:\t{}\nThreads:\t{}\n", s.tid, s.pgid, s.sid, s.threads);
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
    fmt::format_to(it, "{} ({}) {} {} {} {} 0 -1 0 0 0 0 0 ", s.tid, comm_of(s), state_of(s), s.ppid, s.pgid, s.sid);
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
    if (const auto name = file.anonymous_name(); !name.empty()) return "anon_inode:" + std::string(name);
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
    std::string text = fmt::format("pos:\t{}\nflags:\t{:07o}\nmnt_id:\t{}\nino:\t{}\n", position, flags, fs::device_minor(st.device), st.inode);
    text += mutable_file.fdinfo_lines();
    if (const auto* instance = fs::inotify_of(mutable_file)) {
        // Linux's lines without the file handle (sdev in the kernel's internal encoding).
        for (const auto& w : instance->watches()) {
            const std::uint64_t sdev = (std::uint64_t{fs::device_major(w.key.device)} << 20) | fs::device_minor(w.key.device);
            fmt::format_to(std::back_inserter(text), "inotify wd:{:x} ino:{:x} sdev:{:x} mask:{:x} ignored_mask:0\n", w.wd, w.key.ino, sdev,
                           w.mask);
        }
    }
    return text;
}

/// One mount as /proc/<pid>/mounts and mountinfo show it.
struct MountLine {
    std::string path;
    std::string_view type;
    bool read_only;
    std::uint32_t flags;
    std::uint64_t device;         // st_dev of the mounted file system (its minor is the mount id)
    std::uint64_t parent_device;  // the parent mount's (the root mount: its own)
};

/// The box's mounts reachable from its root, parents before children (shorter paths first), then
/// by name: the order of /proc/<pid>/mounts and of mountinfo, which list the same mounts.
template <typename P>
std::vector<MountLine> mount_lines(Kernel<P>& kernel) {
    std::vector<MountLine> lines;
    for (const auto& root : kernel.vfs().mount_roots()) {
        auto path = kernel.vfs().path_of(root);
        if (!path) continue;  // not reachable from the box root (hidden or detached)
        const auto& m = *root.mount;
        const std::uint64_t device = m.fs->device();
        lines.push_back(MountLine{std::move(*path), m.fs->type_name(), m.read_only(), m.flags, device,
                                  m.parent ? m.parent->fs->device() : device});
    }
    // (std::sort: stable_sort would pull in operator new(nothrow), which the audit allow-list does
    // not have.)
    std::sort(lines.begin(), lines.end(), [](const MountLine& a, const MountLine& b) {
        return a.path.size() != b.path.size() ? a.path.size() < b.path.size() : a.path < b.path;
    });
    return lines;
}

/// "rw" or "ro", then the per-mount flags (the same in mounts and mountinfo).
inline std::string mount_options(const MountLine& l) {
    return fmt::format("{}{}{}{}", l.read_only ? "ro" : "rw", (l.flags & fs::mount_flags::no_suid) ? ",nosuid" : "",
                       (l.flags & fs::mount_flags::no_dev) ? ",nodev" : "", (l.flags & fs::mount_flags::no_exec) ? ",noexec" : "");
}

/// /proc/mounts: "type path type options 0 0", one line per mount.
template <typename P>
std::string mounts_text(Kernel<P>& kernel) {
    std::string out;
    auto it = std::back_inserter(out);
    for (const auto& l : mount_lines(kernel)) fmt::format_to(it, "{} {} {} {} 0 0\n", l.type, l.path, l.type, mount_options(l));
    return out;
}

/// /proc/<pid>/mountinfo (Linux's show_mountinfo): "id parent major:minor root mountpoint options
/// - type source superoptions", the same mounts in the same order as mounts_text. The mount id is
/// the minor of the file system's device, as fdinfo's mnt_id; the root mount is its own parent
/// (proc(5): "the root of the mount tree"). Every mount shows its file system's root ("/"), the
/// type as its source (as mounts does), no optional fields (nothing is shared), and "ro"/"rw" as
/// the super options.
template <typename P>
std::string mountinfo_text(Kernel<P>& kernel) {
    std::string out;
    auto it = std::back_inserter(out);
    for (const auto& l : mount_lines(kernel)) {
        fmt::format_to(it, "{} {} {}:{} / {} {} - {} {} {}\n", fs::device_minor(l.device), fs::device_minor(l.parent_device),
                       fs::device_major(l.device), fs::device_minor(l.device), l.path, mount_options(l), l.type, l.type,
                       l.read_only ? "ro" : "rw");
    }
    return out;
}

/// /proc/<pid>/limits, as Linux's proc_pid_limits prints it: names and units of fs/proc/base.c,
/// "%-25s %-20s %-20s %-10s\n" for the header and for each limit (a limit without a unit ends
/// after the hard limit's column and its space), RLIM_INFINITY as "unlimited".
inline std::string limits_text(const ProcessSnapshot& s) {
    struct Name {
        std::string_view name;
        std::string_view unit;  // empty: none (the line ends after the hard limit's column)
    };
    static constexpr std::array<Name, abi::rlimit_count> names = {{
        {"Max cpu time", "seconds"},
        {"Max file size", "bytes"},
        {"Max data size", "bytes"},
        {"Max stack size", "bytes"},
        {"Max core file size", "bytes"},
        {"Max resident set", "bytes"},
        {"Max processes", "processes"},
        {"Max open files", "files"},
        {"Max locked memory", "bytes"},
        {"Max address space", "bytes"},
        {"Max file locks", "locks"},
        {"Max pending signals", "signals"},
        {"Max msgqueue size", "bytes"},
        {"Max nice priority", ""},
        {"Max realtime priority", ""},
        {"Max realtime timeout", "us"},
    }};
    const auto value = [](std::uint64_t v) { return v == abi::rlim_infinity ? std::string("unlimited") : std::to_string(v); };
    std::string out = fmt::format("{:<25} {:<20} {:<20} {:<10}\n", "Limit", "Soft Limit", "Hard Limit", "Units");
    auto it = std::back_inserter(out);
    for (std::size_t i = 0; i < names.size(); ++i) {
        fmt::format_to(it, "{:<25} {:<20} {:<20} ", names[i].name, value(s.limits[i].rlim_cur), value(s.limits[i].rlim_max));
        if (names[i].unit.empty()) out.push_back('\n');
        else fmt::format_to(it, "{:<10}\n", names[i].unit);
    }
    return out;
}

/// /proc/<pid>/statm: "size resident shared text lib data dt" in pages. The shim keeps no memory
/// accounting of its own (guest memory belongs to the runtime), and /proc/<pid>/status reports no
/// Vm* lines; statm agrees with it by reporting 0 for every field rather than any host number.
inline std::string statm_text() { return "0 0 0 0 0 0 0\n"; }

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

/// /proc/vmstat in the model meminfo and stat give: every page free, no block device or swap, so
/// nothing paged in or out (the counters vmstat(8) reads; the box keeps no others).
template <typename P>
std::string vmstat_text(Kernel<P>& kernel) {
    return fmt::format("nr_free_pages {}\npgpgin 0\npgpgout 0\npswpin 0\npswpout 0\n", kernel.config().total_memory_bytes / 4096);
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

/// /proc/version: "Linux version RELEASE (litebox) VERSION", from the box's uname (ShimConfig).
inline std::string version_text(const ShimConfig& config) { return fmt::format("Linux version {} (litebox) {}\n", config.release, config.version); }

/// /proc/sys/kernel/random/uuid: a fresh version-4 UUID from 16 random bytes, as Linux's
/// generate_random_uuid sets the version and variant bits, printed as "%pU" does (lower case).
inline std::string uuid_text(std::array<std::uint8_t, 16> b) {
    b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
    std::string out;
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        fmt::format_to(std::back_inserter(out), "{:02x}", b[i]);
    }
    out.push_back('\n');
    return out;
}

inline std::string filesystems_text() {
    return "nodev\ttmpfs\nnodev\tdevfs\nnodev\tproc\nnodev\toverlay\n\ttar\nnodev\thostfs\n";
}

}  // namespace litebox::shim::linux_abi::procfs_detail
