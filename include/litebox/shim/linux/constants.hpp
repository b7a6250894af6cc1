// x86-64 Linux constants the shim decodes (values from the kernel's uapi headers). Open flags,
// file modes and poll events live in fd/types.hpp; these are the rest.
#pragma once

#include <cstddef>
#include <cstdint>

namespace litebox::shim::linux_abi::abi {

// *at() directory descriptor and flags.
inline constexpr int at_fdcwd = -100;
inline constexpr std::uint32_t at_symlink_nofollow = 0x100;
inline constexpr std::uint32_t at_removedir = 0x200;
inline constexpr std::uint32_t at_eaccess = 0x200;
inline constexpr std::uint32_t at_symlink_follow = 0x400;
inline constexpr std::uint32_t at_no_automount = 0x800;
inline constexpr std::uint32_t at_empty_path = 0x1000;
inline constexpr std::uint32_t at_statx_sync_type = 0x6000;

// fcntl commands and descriptor flags.
inline constexpr int f_dupfd = 0;
inline constexpr int f_getfd = 1;
inline constexpr int f_setfd = 2;
inline constexpr int f_getfl = 3;
inline constexpr int f_setfl = 4;
inline constexpr int f_getlk = 5;
inline constexpr int f_setlk = 6;
inline constexpr int f_setlkw = 7;
inline constexpr int f_setown = 8;
inline constexpr int f_getown = 9;
inline constexpr int f_dupfd_cloexec = 1030;
inline constexpr int f_setpipe_sz = 1031;
inline constexpr int f_getpipe_sz = 1032;
inline constexpr int f_add_seals = 1033;
inline constexpr int f_get_seals = 1034;
inline constexpr std::uint32_t fd_cloexec = 1;

// memfd_create flags and the longest name (NAME_MAX minus "memfd:").
inline constexpr std::uint32_t mfd_cloexec = 1;
inline constexpr std::uint32_t mfd_allow_sealing = 2;
inline constexpr std::uint32_t mfd_hugetlb = 4;
inline constexpr std::size_t mfd_name_max = 249;

// ioctl requests.
inline constexpr std::uint32_t tcgets = 0x5401;
inline constexpr std::uint32_t tcsets = 0x5402;
inline constexpr std::uint32_t tcsetsw = 0x5403;
inline constexpr std::uint32_t tcsetsf = 0x5404;
inline constexpr std::uint32_t tiocgpgrp = 0x540F;
inline constexpr std::uint32_t tiocspgrp = 0x5410;
inline constexpr std::uint32_t tiocgwinsz = 0x5413;
inline constexpr std::uint32_t tiocswinsz = 0x5414;
inline constexpr std::uint32_t fionread = 0x541B;
inline constexpr std::uint32_t fionbio = 0x5421;
inline constexpr std::uint32_t fionclex = 0x5450;
inline constexpr std::uint32_t fioclex = 0x5451;

// splice, tee and vmsplice flags (SPLICE_F_MOVE and SPLICE_F_GIFT are hints, SPLICE_F_MORE a
// hint for sockets).
inline constexpr std::uint32_t splice_f_move = 0x01;
inline constexpr std::uint32_t splice_f_nonblock = 0x02;
inline constexpr std::uint32_t splice_f_more = 0x04;
inline constexpr std::uint32_t splice_f_gift = 0x08;
inline constexpr std::uint32_t splice_f_all = splice_f_move | splice_f_nonblock | splice_f_more | splice_f_gift;

// close_range flags.
inline constexpr std::uint32_t close_range_unshare = 1u << 1;
inline constexpr std::uint32_t close_range_cloexec = 1u << 2;

// Clocks.
inline constexpr int clock_realtime = 0;
inline constexpr int clock_monotonic = 1;
inline constexpr int clock_process_cputime_id = 2;
inline constexpr int clock_thread_cputime_id = 3;
inline constexpr int clock_monotonic_raw = 4;
inline constexpr int clock_realtime_coarse = 5;
inline constexpr int clock_monotonic_coarse = 6;
inline constexpr int clock_boottime = 7;
inline constexpr int clock_realtime_alarm = 8;
inline constexpr int clock_boottime_alarm = 9;
inline constexpr int clock_tai = 11;
inline constexpr int timer_abstime = 1;

// wait4 / waitid.
inline constexpr std::uint32_t wnohang = 0x00000001;
inline constexpr std::uint32_t wuntraced = 0x00000002;
inline constexpr std::uint32_t wstopped = wuntraced;
inline constexpr std::uint32_t wexited = 0x00000004;
inline constexpr std::uint32_t wcontinued = 0x00000008;
inline constexpr std::uint32_t wnowait = 0x01000000;
inline constexpr std::uint32_t wnothread = 0x20000000;
inline constexpr std::uint32_t wall = 0x40000000;
inline constexpr std::uint32_t wclone = 0x80000000;
inline constexpr int p_all = 0;
inline constexpr int p_pid = 1;
inline constexpr int p_pgid = 2;
inline constexpr int p_pidfd = 3;
inline constexpr int cld_exited = 1;
inline constexpr int cld_killed = 2;
inline constexpr int cld_dumped = 3;
inline constexpr int cld_trapped = 4;
inline constexpr int cld_stopped = 5;
inline constexpr int cld_continued = 6;

// Signals.
inline constexpr int sighup = 1;
inline constexpr int sigint = 2;
inline constexpr int sigquit = 3;
inline constexpr int sigill = 4;
inline constexpr int sigtrap = 5;
inline constexpr int sigabrt = 6;
inline constexpr int sigbus = 7;
inline constexpr int sigfpe = 8;
inline constexpr int sigkill = 9;
inline constexpr int sigusr1 = 10;
inline constexpr int sigsegv = 11;
inline constexpr int sigusr2 = 12;
inline constexpr int sigpipe = 13;
inline constexpr int sigalrm = 14;
inline constexpr int sigterm = 15;
inline constexpr int sigchld = 17;
inline constexpr int sigcont = 18;
inline constexpr int sigstop = 19;
inline constexpr int sigtstp = 20;
inline constexpr int sigttin = 21;
inline constexpr int sigttou = 22;
inline constexpr int sigurg = 23;
inline constexpr int sigxfsz = 25;
inline constexpr int sigwinch = 28;
inline constexpr int sigsys = 31;
inline constexpr int signal_count = 64;  // _NSIG: signals are 1..64
inline constexpr std::uint64_t sig_dfl = 0;
inline constexpr std::uint64_t sig_ign = 1;
inline constexpr std::uint64_t sa_nocldstop = 0x00000001;
inline constexpr std::uint64_t sa_nocldwait = 0x00000002;
inline constexpr std::uint64_t sa_siginfo = 0x00000004;
inline constexpr std::uint64_t sa_restorer = 0x04000000;
inline constexpr std::uint64_t sa_onstack = 0x08000000;
inline constexpr std::uint64_t sa_restart = 0x10000000;
inline constexpr std::uint64_t sa_nodefer = 0x40000000;
inline constexpr std::uint64_t sa_resethand = 0x80000000;
inline constexpr int sig_block = 0;
inline constexpr int sig_unblock = 1;
inline constexpr int sig_setmask = 2;
inline constexpr int si_user = 0;
inline constexpr int si_tkill = -6;
inline constexpr int si_timer = -2;     // SI_TIMER: a POSIX timer's signal
inline constexpr int si_kernel = 0x80;  // SI_KERNEL: ITIMER_REAL / alarm's SIGALRM
// setitimer(2) timers and timer_create(2) notification (struct sigevent's sigev_notify).
inline constexpr int itimer_real = 0;
inline constexpr int itimer_virtual = 1;
inline constexpr int itimer_prof = 2;
inline constexpr int sigev_signal = 0;
inline constexpr int sigev_none = 1;
inline constexpr int sigev_thread = 2;     // the C library's; to the kernel, SIGEV_SIGNAL to the process
inline constexpr int sigev_thread_id = 4;  // SIGEV_SIGNAL | SIGEV_THREAD_ID: to one thread of the process

// Resource limits.
inline constexpr int rlimit_cpu = 0;
inline constexpr int rlimit_fsize = 1;
inline constexpr int rlimit_data = 2;
inline constexpr int rlimit_stack = 3;
inline constexpr int rlimit_core = 4;
inline constexpr int rlimit_rss = 5;
inline constexpr int rlimit_nproc = 6;
inline constexpr int rlimit_nofile = 7;
inline constexpr int rlimit_memlock = 8;
inline constexpr int rlimit_as = 9;
inline constexpr int rlimit_locks = 10;
inline constexpr int rlimit_sigpending = 11;
inline constexpr int rlimit_msgqueue = 12;
inline constexpr int rlimit_nice = 13;
inline constexpr int rlimit_rtprio = 14;
inline constexpr int rlimit_rttime = 15;
inline constexpr int rlimit_count = 16;
inline constexpr std::uint64_t rlim_infinity = ~std::uint64_t{0};
inline constexpr int rusage_self = 0;
inline constexpr int rusage_children = -1;
inline constexpr int rusage_thread = 1;

// sched_setscheduler policies.
inline constexpr int sched_other = 0;
inline constexpr int sched_fifo = 1;
inline constexpr int sched_rr = 2;
inline constexpr int sched_batch = 3;
inline constexpr int sched_idle = 5;
inline constexpr int sched_deadline = 6;
inline constexpr int sched_reset_on_fork = 0x40000000;
/// sched_attr.sched_flags (sched_setattr).
inline constexpr std::uint64_t sched_flag_reset_on_fork = 0x01, sched_flag_keep_policy = 0x08, sched_flag_keep_params = 0x10,
                               sched_flag_util_clamp_min = 0x20, sched_flag_util_clamp_max = 0x40;
inline constexpr std::uint32_t sched_attr_size_ver0 = 48, sched_attr_size_ver1 = 56;

// getrandom.
inline constexpr std::uint32_t grnd_nonblock = 0x1;
inline constexpr std::uint32_t grnd_random = 0x2;
inline constexpr std::uint32_t grnd_insecure = 0x4;

// clone flags.
inline constexpr std::uint64_t csignal = 0x000000ff;
inline constexpr std::uint64_t clone_vm = 0x00000100;
inline constexpr std::uint64_t clone_fs = 0x00000200;
inline constexpr std::uint64_t clone_files = 0x00000400;
inline constexpr std::uint64_t clone_sighand = 0x00000800;
inline constexpr std::uint64_t clone_pidfd = 0x00001000;
inline constexpr std::uint64_t clone_ptrace = 0x00002000;
inline constexpr std::uint64_t clone_vfork = 0x00004000;
inline constexpr std::uint64_t clone_parent = 0x00008000;
inline constexpr std::uint64_t clone_thread = 0x00010000;
inline constexpr std::uint64_t clone_newns = 0x00020000;
inline constexpr std::uint64_t clone_sysvsem = 0x00040000;
inline constexpr std::uint64_t clone_settls = 0x00080000;
inline constexpr std::uint64_t clone_parent_settid = 0x00100000;
inline constexpr std::uint64_t clone_child_cleartid = 0x00200000;
inline constexpr std::uint64_t clone_detached = 0x00400000;
inline constexpr std::uint64_t clone_untraced = 0x00800000;
inline constexpr std::uint64_t clone_child_settid = 0x01000000;
inline constexpr std::uint64_t clone_io = 0x80000000;
inline constexpr std::uint64_t clone_newuser = 0x10000000;  // CLONE_NEWUSER
/// Namespace and cgroup flags: a box has one of each, so these are refused.
inline constexpr std::uint64_t clone_namespaces = 0x7E020000ull | 0x00000080ull;

// Miscellaneous.
inline constexpr std::uint32_t ngroups_max = 65536;
inline constexpr std::uint32_t path_max = 4096;
inline constexpr std::uint32_t iov_max = 1024;
inline constexpr std::uint32_t host_name_max = 64;
/// Linux's MAX_RW_COUNT: the most one read or write transfers (INT_MAX rounded down to a page).
inline constexpr std::uint64_t max_rw_count = 0x7ffff000;
inline constexpr std::int64_t clock_ticks_per_second = 100;  // USER_HZ

}  // namespace litebox::shim::linux_abi::abi
