// A raw syscall as a guest thread issued it (number + six registers), the typed result handlers
// return, and the configuration and limits of a Linux shim.
//
// Contract: decoding happens once, at the top of a handler, through the accessors here; they
// truncate exactly as the kernel does (an `int` argument uses the low 32 bits of its register).
// A handler returns SyscallResult (a value or an Errno); only LinuxShim::dispatch turns it into
// the negative-errno integer of the ABI.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "../../error.hpp"

namespace litebox::shim::linux_abi {

/// One syscall: rax and rdi, rsi, rdx, r10, r8, r9.
struct SyscallRequest {
    std::uint64_t number = 0;
    std::array<std::uint64_t, 6> args{};

    /// An `int` argument (fd, flags, pid...): the low 32 bits, signed.
    [[nodiscard]] constexpr std::int32_t i32(std::size_t i) const noexcept {
        return static_cast<std::int32_t>(static_cast<std::uint32_t>(args[i]));
    }
    /// An `unsigned int` argument.
    [[nodiscard]] constexpr std::uint32_t u32(std::size_t i) const noexcept { return static_cast<std::uint32_t>(args[i]); }
    /// A `long` / `off_t` / `ssize_t` argument.
    [[nodiscard]] constexpr std::int64_t i64(std::size_t i) const noexcept { return static_cast<std::int64_t>(args[i]); }
    /// A `size_t` / `unsigned long` argument.
    [[nodiscard]] constexpr std::uint64_t u64(std::size_t i) const noexcept { return args[i]; }
    /// A guest address.
    [[nodiscard]] constexpr std::uintptr_t ptr(std::size_t i) const noexcept { return static_cast<std::uintptr_t>(args[i]); }
};

/// What a handler returns: the syscall's non-negative value, or an Errno.
using SyscallResult = Result<std::int64_t>;

/// Limits of the box's System V IPC (sysv_ipc.hpp; Linux's names in the comments, shown by
/// semctl/msgctl IPC_INFO). ENOSPC when a new set, semaphore or queue would pass them.
struct SysvIpcLimits {
    std::size_t sem_sets = 128;                  // SEMMNI
    std::size_t sems_per_set = 32000;            // SEMMSL
    std::size_t sems_total = 65536;              // SEMMNS: semaphores in all sets
    std::size_t ops_per_call = 500;              // SEMOPM (E2BIG beyond)
    std::size_t msg_queues = 32;                 // MSGMNI
    std::size_t msg_max = 8192;                  // MSGMAX: bytes of one message (EINVAL beyond)
    std::size_t msg_queue_bytes = 16384;         // MSGMNB: a new queue's msg_qbytes
    std::size_t msg_queue_bytes_max = 1u << 20;  // the most msg_qbytes IPC_SET may set, privileged or not
    std::size_t msg_queue_messages = 16384;      // messages in one queue (Linux: as many as msg_qbytes)
    std::size_t shm_segments = 128;              // SHMMNI
    std::uint64_t shm_segment_bytes = 256u << 20;  // SHMMAX: the largest segment (EINVAL beyond)
    std::uint64_t shm_total_bytes = 256u << 20;    // SHMALL (in bytes here): all segments, in whole pages
};

/// Limits and identity of one Linux shim instance. Every guest-growable resource has a limit.
struct ShimConfig {
    /// Box-wide limit on processes plus threads (pids and tids in use, zombies included).
    std::size_t max_tasks = 512;
    /// Largest pid/tid handed out; ids cycle below it like /proc/sys/kernel/pid_max.
    std::int32_t pid_max = 32768;
    /// uname: nodename (sethostname can change it), release and version strings.
    std::string hostname = "litebox";
    std::string release = "6.1.0-litebox";
    std::string version = "#1 SMP LiteBox";
    std::string domainname = "(none)";
    /// What sysinfo and /proc/meminfo report as the box's memory.
    std::uint64_t total_memory_bytes = 1ull << 30;
    /// How many CPUs the box shows (1 to 64; other values are clamped): sched_getaffinity's mask,
    /// /proc/cpuinfo, /proc/stat and /sys/devices/system/cpu, which nproc, get_nprocs and
    /// os.cpu_count read to size their work. Where guest threads really run is the platform's
    /// business; litebox-run shows the host CPUs it may use.
    std::uint32_t cpus = 1;
    /// Credentials of the first process.
    std::uint32_t initial_uid = 1000;
    std::uint32_t initial_gid = 1000;
    /// Initial RLIMIT_NOFILE (soft, hard).
    std::uint64_t nofile_soft = 1024;
    std::uint64_t nofile_hard = 4096;
    /// The box's ceiling on RLIMIT_AS (bytes; ~0: none): the first process starts with it as both
    /// limits, and no process may raise its hard limit above it, privileged or not (as a
    /// container's limit binds its root). Only a runtime whose guests own real address spaces can
    /// enforce it (Kernel::set_limit_observer); litebox-run applies it to every guest process.
    std::uint64_t max_address_space = ~std::uint64_t{0};
    /// The guest's CLOCK_MONOTONIC and CLOCK_BOOTTIME read the platform's clock itself -- the time
    /// since its Instant{} origin (for MonotonicInstant on Linux: the host's CLOCK_MONOTONIC) --
    /// instead of counting from the box's start. A runtime whose guests let the host kernel
    /// interpret monotonic deadlines (litebox-run: futex runs natively, and glibc passes it
    /// absolute CLOCK_MONOTONIC deadlines computed from the served clock_gettime) needs the two
    /// clocks to agree. The box's uptime (/proc/uptime, sysinfo, start times) then counts from
    /// that origin too. Ignored for platforms whose Instant has no default origin.
    bool monotonic_is_platform_clock = false;
    /// Bytes of argv plus environ execve accepts (ARG_MAX-like).
    std::size_t max_exec_strings_bytes = 2u << 20;
    /// Print every syscall strace-style through the platform's debug log.
    bool trace = false;
    /// Log each distinct unsupported request ("litebox shim: unsupported ...") once through the
    /// debug log even without `trace` (with it, they are always logged). Either way they are
    /// counted (Tracer::note_count).
    bool log_unsupported = true;
    /// Mount the read-only procfs (procfs.hpp) at /proc of the guest's namespace when the shim is
    /// created (the directory is made if missing; a failure is logged, not fatal).
    bool mount_procfs = true;
    /// With procfs: /dev/stdin, /dev/stdout, /dev/stderr become links to /proc/self/fd/0..2 and
    /// /dev/fd to /proc/self/fd, as on Linux, so they follow each process's descriptors (the devfs
    /// stdio devices they replace stay reachable through Kernel::open_stdio). Put back when the
    /// shim goes away.
    bool link_dev_stdio = true;
    /// Mount the read-only box sysfs (sysfs.hpp: one virtual CPU) at /sys likewise; with a host
    /// root, only where the host tree has a /sys to cover.
    bool mount_sysfs = true;
    /// POSIX timers (timer_create) one process may hold at once (EAGAIN beyond).
    std::size_t max_posix_timers = 256;
    /// memfd_create's files live in an internal tmpfs of their own (no path reaches it, like
    /// Linux's shm_mnt) with these quotas: bytes stored in all memfds of the box (ENOSPC beyond)
    /// and memfds alive at once (ENOSPC beyond; a memfd lives while a descriptor holds it).
    std::uint64_t memfd_max_bytes = 256ull << 20;
    std::uint64_t memfd_max_files = 4096;
    /// Bytes one splice, tee or vmsplice call moves at most (Linux moves at most a pipe's worth,
    /// 1 MiB at the largest by default); the caller gets a short count and calls again.
    std::uint64_t max_splice_bytes = 1u << 20;
    /// Pseudo-terminal pairs (/dev/ptmx opens) alive at once in the box (ENOSPC beyond, like
    /// Linux's /proc/sys/kernel/pty/max); each holds at most a few tens of KiB of queues.
    std::size_t max_ptys = 64;
    /// inotify (fs/inotify.hpp), for the whole box (Linux counts per user; its defaults): instances
    /// alive at once (inotify_init beyond: EMFILE), watches of all instances (inotify_add_watch
    /// beyond: ENOSPC), and unread events per instance (beyond: one IN_Q_OVERFLOW, the rest
    /// dropped). Shown read-only in /proc/sys/fs/inotify.
    std::size_t max_inotify_instances = 128;
    std::size_t max_inotify_watches = 8192;
    std::size_t max_inotify_queued_events = 16384;
    /// System V semaphores and message queues of the box.
    SysvIpcLimits sysv;
};

/// Bytes one bounce-buffer chunk moves between guest memory and a file (read/write and friends).
inline constexpr std::size_t io_chunk_size = 64 * 1024;
/// Largest syscall number the dispatch table covers (numbers at or above it are ENOSYS).
inline constexpr std::size_t syscall_table_size = 512;
/// Distinct "unsupported" reasons remembered for trace-once (beyond it, they are no longer logged).
inline constexpr std::size_t max_unsupported_notes = 1024;

}  // namespace litebox::shim::linux_abi
