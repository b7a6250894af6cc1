// The x86-64 Linux syscall list, written once. Every row is
//   X(number, name, handler, support, "argument format", "note")
// and is expanded into the dispatch table (shim.hpp), the strace-style trace printer (trace.hpp)
// and docs/syscalls.md (checked by tests/shim/docs_test.cpp).
//
// support: supported | partial (the note says what is missing) | enosys (not implemented) |
//          runtime (address space or CPU state: the runtime handles it; the shim says ENOSYS).
// Argument format, one character per argument, for the tracer:
//   d int   u unsigned long   l signed long   x hex   f fd   F dirfd (AT_FDCWD)   s string
//   p pointer   o open flags   m octal mode   c clock id   S signal   ? unknown (raw registers)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace litebox::shim::linux_abi {

// clang-format off
#define LITEBOX_LINUX_SYSCALLS(X) \
    X(0, read, sys_read, supported, "fpu", "") \
    X(1, write, sys_write, supported, "fpu", "") \
    X(2, open, sys_open, supported, "som", "") \
    X(3, close, sys_close, supported, "f", "") \
    X(4, stat, sys_stat, supported, "sp", "") \
    X(5, fstat, sys_fstat, supported, "fp", "") \
    X(6, lstat, sys_lstat, supported, "sp", "") \
    X(7, poll, sys_poll, supported, "pud", "") \
    X(8, lseek, sys_lseek, supported, "fld", "") \
    X(9, mmap, sys_nosys, runtime, "pxxxfl", "address space and thread state: the runtime handles it") \
    X(10, mprotect, sys_nosys, runtime, "pux", "address space and thread state: the runtime handles it") \
    X(11, munmap, sys_nosys, runtime, "pu", "address space and thread state: the runtime handles it") \
    X(12, brk, sys_nosys, runtime, "p", "address space and thread state: the runtime handles it") \
    X(13, rt_sigaction, sys_rt_sigaction, partial, "Sppu", "bookkeeping; the runtime delivers") \
    X(14, rt_sigprocmask, sys_rt_sigprocmask, partial, "dppu", "bookkeeping; the runtime delivers") \
    X(15, rt_sigreturn, sys_nosys, runtime, "", "address space and thread state: the runtime handles it") \
    X(16, ioctl, sys_ioctl, partial, "fxx", "FIOCLEX, FIONCLEX, FIONBIO, FIONREAD (pipes, sockets, regular files, ptys); SIOCGIF* on sockets (the box's interfaces; SIOCSIF*: EPERM); on pty masters and slaves TCGETS, TCSETS*, TIOC[GS]WINSZ, TIOC[GS]PGRP, TIOCGPTN, TIOC[GS]PTLCK, TIOCGPTPEER, TIOCSCTTY, TIOCNOTTY, TIOCGSID, TIOCOUTQ, TCFLSH, TCXONC, TCSBRK(P) (TIOCPKT only off; a background group changing its controlling terminal gets SIGTTOU); TCGETS, TCSETS*, TIOC[GS]WINSZ, TIOC[GS]PGRP on stdio devices of a terminal (emulated termios), else ENOTTY; others ENOTTY") \
    X(17, pread64, sys_pread64, supported, "fpul", "") \
    X(18, pwrite64, sys_pwrite64, supported, "fpul", "") \
    X(19, readv, sys_readv, supported, "fpd", "") \
    X(20, writev, sys_writev, supported, "fpd", "") \
    X(21, access, sys_access, supported, "sm", "") \
    X(22, pipe, sys_pipe, supported, "p", "") \
    X(23, select, sys_select, supported, "dpppp", "") \
    X(24, sched_yield, sys_sched_yield, supported, "", "") \
    X(25, mremap, sys_nosys, runtime, "puuxp", "address space and thread state: the runtime handles it") \
    X(26, msync, sys_nosys, runtime, "?", "address space and thread state: the runtime handles it") \
    X(27, mincore, sys_nosys, runtime, "?", "address space and thread state: the runtime handles it") \
    X(28, madvise, sys_nosys, runtime, "pud", "address space and thread state: the runtime handles it") \
    X(29, shmget, sys_shmget, partial, "dux", "SHM_HUGETLB: EINVAL") \
    X(30, shmat, sys_nosys, runtime, "dpx", "maps memory: the runtime handles it (shm_attach; litebox-run maps the segment)") \
    X(31, shmctl, sys_shmctl, supported, "ddp", "") \
    X(32, dup, sys_dup, supported, "f", "") \
    X(33, dup2, sys_dup2, supported, "ff", "") \
    X(34, pause, sys_nosys, runtime, "", "waits for a signal: the runtime delivers signals, so it waits on the host") \
    X(35, nanosleep, sys_nanosleep, supported, "pp", "") \
    X(36, getitimer, sys_getitimer, partial, "dp", "ITIMER_VIRTUAL, ITIMER_PROF: always disarmed (CPU time is not seen)") \
    X(37, alarm, sys_alarm, supported, "u", "") \
    X(38, setitimer, sys_setitimer, partial, "dpp", "ITIMER_VIRTUAL, ITIMER_PROF: arming is EINVAL (CPU time is not seen); disarming works") \
    X(39, getpid, sys_getpid, supported, "", "") \
    X(40, sendfile, sys_sendfile, supported, "ffpu", "input: a regular file, /dev/zero, /dev/full, /dev/random, /dev/urandom, or a socket into a pipe (EINVAL otherwise, as Linux)") \
    X(41, socket, sys_socket, partial, "ddd", "AF_UNIX, AF_INET (TCP, UDP) and AF_NETLINK (NETLINK_ROUTE, read-only: links, addresses, routes of the box); AF_INET6 and others: EAFNOSUPPORT; SOCK_RAW: EPERM") \
    X(42, connect, sys_connect, supported, "fpd", "") \
    X(43, accept, sys_accept, supported, "fpp", "") \
    X(44, sendto, sys_sendto, supported, "fpuxpd", "") \
    X(45, recvfrom, sys_recvfrom, partial, "fpuxpp", "MSG_PEEK on a stream sees at most 64 KiB; MSG_OOB: EOPNOTSUPP") \
    X(46, sendmsg, sys_sendmsg, partial, "fpx", "SCM_RIGHTS and SCM_CREDENTIALS (AF_UNIX); other control messages: EINVAL") \
    X(47, recvmsg, sys_recvmsg, partial, "fpx", "SCM_RIGHTS, SCM_CREDENTIALS (AF_UNIX); MSG_PEEK on a stream sees at most 64 KiB") \
    X(48, shutdown, sys_shutdown, supported, "fd", "") \
    X(49, bind, sys_bind, supported, "fpd", "") \
    X(50, listen, sys_listen, supported, "fd", "") \
    X(51, getsockname, sys_getsockname, supported, "fpp", "") \
    X(52, getpeername, sys_getpeername, supported, "fpp", "") \
    X(53, socketpair, sys_socketpair, supported, "dddp", "") \
    X(54, setsockopt, sys_setsockopt, partial, "fddpd", "AF_UNIX: SO_SNDBUF, SO_RCVBUF, SO_PASSCRED; AF_INET: the stack's SOL_SOCKET and SOL_TCP options, IP_RECVERR (no MSG_ERRQUEUE); AF_NETLINK: SO_RCVBUF, SO_SNDBUF, SO_PASSCRED, SOL_NETLINK flags and memberships; others: ENOPROTOOPT") \
    X(55, getsockopt, sys_getsockopt, partial, "fddpp", "as setsockopt, plus SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ERROR, SO_ACCEPTCONN, SO_PEERCRED") \
    X(56, clone, sys_clone, partial, "xpppx", "process model only (the runtime creates the thread); namespaces: EINVAL") \
    X(57, fork, sys_fork, partial, "", "process model only (the runtime copies the address space)") \
    X(58, vfork, sys_vfork, partial, "", "process model only (the runtime copies the address space)") \
    X(59, execve, sys_execve, partial, "spp", "process model only (the runtime loads the program); a descriptor table shared through CLONE_FILES is copied first") \
    X(60, exit, sys_exit, supported, "d", "the runtime ends the thread") \
    X(61, wait4, sys_wait4, supported, "dpxp", "stops and continuations as the runtime reports them (WUNTRACED, WCONTINUED)") \
    X(62, kill, sys_kill, supported, "dS", "") \
    X(63, uname, sys_uname, supported, "p", "") \
    X(64, semget, sys_semget, supported, "ddx", "") \
    X(65, semop, sys_semop, supported, "dpu", "") \
    X(66, semctl, sys_semctl, supported, "dddx", "") \
    X(67, shmdt, sys_nosys, runtime, "p", "unmaps memory: the runtime handles it (shm_detached; litebox-run unmaps the segment)") \
    X(68, msgget, sys_msgget, supported, "dx", "") \
    X(69, msgsnd, sys_msgsnd, supported, "dpux", "") \
    X(70, msgrcv, sys_msgrcv, supported, "dpulx", "") \
    X(71, msgctl, sys_msgctl, supported, "ddp", "") \
    X(72, fcntl, sys_fcntl, partial, "fdx", "F_DUPFD(_CLOEXEC), F_GETFD/SETFD, F_GETFL/SETFL, record and OFD locks (released on every close route; F_SETLKW interruptible), F_GET/SETPIPE_SZ, F_ADD/GET_SEALS (tmpfs files and memfds)") \
    X(73, flock, sys_flock, partial, "fd", "own lock table, independent of fcntl locks (as Linux); no-op on pipes and sockets") \
    X(74, fsync, sys_fsync, supported, "f", "") \
    X(75, fdatasync, sys_fdatasync, supported, "f", "") \
    X(76, truncate, sys_truncate, supported, "sl", "") \
    X(77, ftruncate, sys_ftruncate, supported, "fl", "") \
    X(78, getdents, sys_nosys, enosys, "?", "") \
    X(79, getcwd, sys_getcwd, supported, "pu", "") \
    X(80, chdir, sys_chdir, supported, "s", "") \
    X(81, fchdir, sys_fchdir, supported, "f", "") \
    X(82, rename, sys_rename, supported, "ss", "") \
    X(83, mkdir, sys_mkdir, supported, "sm", "") \
    X(84, rmdir, sys_rmdir, supported, "s", "") \
    X(85, creat, sys_creat, supported, "sm", "") \
    X(86, link, sys_link, supported, "ss", "") \
    X(87, unlink, sys_unlink, supported, "s", "") \
    X(88, symlink, sys_symlink, supported, "ss", "") \
    X(89, readlink, sys_readlink, supported, "spu", "") \
    X(90, chmod, sys_chmod, supported, "sm", "") \
    X(91, fchmod, sys_fchmod, supported, "fm", "") \
    X(92, chown, sys_chown, supported, "sdd", "") \
    X(93, fchown, sys_fchown, supported, "fdd", "") \
    X(94, lchown, sys_lchown, supported, "sdd", "") \
    X(95, umask, sys_umask, supported, "m", "") \
    X(96, gettimeofday, sys_gettimeofday, supported, "pp", "") \
    X(97, getrlimit, sys_getrlimit, partial, "dp", "RLIMIT_NOFILE and RLIMIT_FSIZE enforced; RLIMIT_AS under a box ceiling; others recorded and passed to the runtime (litebox-run applies AS, DATA, STACK, CPU)") \
    X(98, getrusage, sys_getrusage, partial, "dp", "only CPU times the runtime accounts") \
    X(99, sysinfo, sys_sysinfo, partial, "p", "load averages are 0; memory from the box configuration") \
    X(100, times, sys_times, partial, "p", "only CPU times the runtime accounts") \
    X(101, ptrace, sys_nosys, enosys, "?", "") \
    X(102, getuid, sys_getuid, supported, "", "") \
    X(103, syslog, sys_nosys, enosys, "?", "") \
    X(104, getgid, sys_getgid, supported, "", "") \
    X(105, setuid, sys_setuid, supported, "d", "") \
    X(106, setgid, sys_setgid, supported, "d", "") \
    X(107, geteuid, sys_geteuid, supported, "", "") \
    X(108, getegid, sys_getegid, supported, "", "") \
    X(109, setpgid, sys_setpgid, supported, "dd", "") \
    X(110, getppid, sys_getppid, supported, "", "") \
    X(111, getpgrp, sys_getpgrp, supported, "", "") \
    X(112, setsid, sys_setsid, supported, "", "") \
    X(113, setreuid, sys_setreuid, supported, "dd", "") \
    X(114, setregid, sys_setregid, supported, "dd", "") \
    X(115, getgroups, sys_getgroups, supported, "dp", "") \
    X(116, setgroups, sys_setgroups, supported, "dp", "") \
    X(117, setresuid, sys_setresuid, supported, "ddd", "") \
    X(118, getresuid, sys_getresuid, supported, "ppp", "") \
    X(119, setresgid, sys_setresgid, supported, "ddd", "") \
    X(120, getresgid, sys_getresgid, supported, "ppp", "") \
    X(121, getpgid, sys_getpgid, supported, "d", "") \
    X(122, setfsuid, sys_nosys, enosys, "?", "") \
    X(123, setfsgid, sys_nosys, enosys, "?", "") \
    X(124, getsid, sys_getsid, supported, "d", "") \
    X(125, capget, sys_capget, supported, "pp", "privilege follows the uids: euid 0 has every capability (capability.hpp)") \
    X(126, capset, sys_capset, partial, "pp", "only the current sets (a no-op); lowering single capabilities is EPERM (privilege follows the uids)") \
    X(127, rt_sigpending, sys_rt_sigpending, supported, "pu", "") \
    X(128, rt_sigtimedwait, sys_nosys, runtime, "pppu", "waits for a signal: the runtime delivers signals, so it waits on the host") \
    X(129, rt_sigqueueinfo, sys_nosys, runtime, "dSp", "the runtime sends it with the guest's siginfo (litebox-run; ENOSYS in the shim)") \
    X(130, rt_sigsuspend, sys_nosys, runtime, "pu", "waits for a signal: the runtime delivers signals, so it waits on the host") \
    X(131, sigaltstack, sys_nosys, runtime, "pp", "address space and thread state: the runtime handles it") \
    X(132, utime, sys_nosys, enosys, "?", "") \
    X(133, mknod, sys_mknod, supported, "smx", "") \
    X(134, uselib, sys_nosys, enosys, "?", "") \
    X(135, personality, sys_personality, partial, "x", "the query (0xffffffff) and PER_LINUX; other personas EPERM") \
    X(136, ustat, sys_nosys, enosys, "?", "") \
    X(137, statfs, sys_statfs, supported, "sp", "") \
    X(138, fstatfs, sys_fstatfs, supported, "fp", "") \
    X(139, sysfs, sys_nosys, enosys, "?", "") \
    X(140, getpriority, sys_getpriority, partial, "dd", "nice value per process (a tid names its process); returns 20 - nice (kernel ABI)") \
    X(141, setpriority, sys_setpriority, partial, "ddd", "nice value per process, kept by fork and exec; bookkeeping only: the host priority is unchanged") \
    X(142, sched_setparam, sys_sched_setparam, partial, "dp", "recorded per thread (reported back; the platform schedules)") \
    X(143, sched_getparam, sys_sched_getparam, supported, "dp", "") \
    X(144, sched_setscheduler, sys_sched_setscheduler, partial, "ddp", "recorded per thread (reported back; the platform schedules)") \
    X(145, sched_getscheduler, sys_sched_getscheduler, supported, "d", "") \
    X(146, sched_get_priority_max, sys_sched_get_priority_max, supported, "d", "") \
    X(147, sched_get_priority_min, sys_sched_get_priority_min, supported, "d", "") \
    X(148, sched_rr_get_interval, sys_sched_rr_get_interval, partial, "dp", "100 ms for SCHED_RR, 0 otherwise") \
    X(149, mlock, sys_mlock, partial, "pu", "checked (RLIMIT_MEMLOCK per call, mapped range), host memory not locked (memlock.hpp)") \
    X(150, munlock, sys_munlock, partial, "pu", "checked, host memory not locked (memlock.hpp)") \
    X(151, mlockall, sys_mlockall, partial, "x", "checked (flags, RLIMIT_MEMLOCK), host memory not locked (memlock.hpp)") \
    X(152, munlockall, sys_munlockall, supported, "", "") \
    X(153, vhangup, sys_nosys, enosys, "?", "") \
    X(154, modify_ldt, sys_nosys, runtime, "?", "address space and thread state: the runtime handles it") \
    X(155, pivot_root, sys_nosys, enosys, "?", "") \
    X(156, _sysctl, sys_nosys, enosys, "?", "") \
    X(157, prctl, sys_prctl, partial, "dxxxx", "PR_SET/GET_NAME, PDEATHSIG (recorded), DUMPABLE, NO_NEW_PRIVS, GET_SECCOMP; others EINVAL") \
    X(158, arch_prctl, sys_nosys, runtime, "xp", "address space and thread state: the runtime handles it") \
    X(159, adjtimex, sys_nosys, enosys, "?", "") \
    X(160, setrlimit, sys_setrlimit, partial, "dp", "RLIMIT_NOFILE and RLIMIT_FSIZE enforced; RLIMIT_AS under a box ceiling; others recorded and passed to the runtime (litebox-run applies AS, DATA, STACK, CPU)") \
    X(161, chroot, sys_nosys, enosys, "?", "") \
    X(162, sync, sys_sync, supported, "", "") \
    X(163, acct, sys_nosys, enosys, "?", "") \
    X(164, settimeofday, sys_nosys, enosys, "?", "") \
    X(165, mount, sys_nosys, enosys, "?", "") \
    X(166, umount2, sys_nosys, enosys, "?", "") \
    X(167, swapon, sys_nosys, enosys, "?", "") \
    X(168, swapoff, sys_nosys, enosys, "?", "") \
    X(169, reboot, sys_nosys, enosys, "?", "") \
    X(170, sethostname, sys_sethostname, supported, "pu", "") \
    X(171, setdomainname, sys_nosys, enosys, "?", "") \
    X(172, iopl, sys_nosys, enosys, "?", "") \
    X(173, ioperm, sys_nosys, enosys, "?", "") \
    X(174, create_module, sys_nosys, enosys, "?", "") \
    X(175, init_module, sys_nosys, enosys, "?", "") \
    X(176, delete_module, sys_nosys, enosys, "?", "") \
    X(177, get_kernel_syms, sys_nosys, enosys, "?", "") \
    X(178, query_module, sys_nosys, enosys, "?", "") \
    X(179, quotactl, sys_nosys, enosys, "?", "") \
    X(180, nfsservctl, sys_nosys, enosys, "?", "") \
    X(181, getpmsg, sys_nosys, enosys, "?", "") \
    X(182, putpmsg, sys_nosys, enosys, "?", "") \
    X(183, afs_syscall, sys_nosys, enosys, "?", "") \
    X(184, tuxcall, sys_nosys, enosys, "?", "") \
    X(185, security, sys_nosys, enosys, "?", "") \
    X(186, gettid, sys_gettid, supported, "", "") \
    X(187, readahead, sys_readahead, supported, "flu", "") \
    X(188, setxattr, sys_setxattr, partial, "sspux", "user., trusted., security. (stored by tmpfs and overlays); other file systems and system.* (POSIX ACLs): EOPNOTSUPP") \
    X(189, lsetxattr, sys_lsetxattr, partial, "sspux", "user., trusted., security. (stored by tmpfs and overlays); other file systems and system.* (POSIX ACLs): EOPNOTSUPP") \
    X(190, fsetxattr, sys_fsetxattr, partial, "fspux", "user., trusted., security. (stored by tmpfs and overlays); other file systems and system.* (POSIX ACLs): EOPNOTSUPP") \
    X(191, getxattr, sys_getxattr, partial, "sspu", "user., trusted., security. (stored by tmpfs and overlays); other file systems and system.* (POSIX ACLs): EOPNOTSUPP") \
    X(192, lgetxattr, sys_lgetxattr, partial, "sspu", "user., trusted., security. (stored by tmpfs and overlays); other file systems and system.* (POSIX ACLs): EOPNOTSUPP") \
    X(193, fgetxattr, sys_fgetxattr, partial, "fspu", "user., trusted., security. (stored by tmpfs and overlays); other file systems and system.* (POSIX ACLs): EOPNOTSUPP") \
    X(194, listxattr, sys_listxattr, partial, "spu", "user., trusted., security. (stored by tmpfs and overlays); other file systems and system.* (POSIX ACLs): EOPNOTSUPP") \
    X(195, llistxattr, sys_llistxattr, partial, "spu", "user., trusted., security. (stored by tmpfs and overlays); other file systems and system.* (POSIX ACLs): EOPNOTSUPP") \
    X(196, flistxattr, sys_flistxattr, partial, "fpu", "user., trusted., security. (stored by tmpfs and overlays); other file systems and system.* (POSIX ACLs): EOPNOTSUPP") \
    X(197, removexattr, sys_removexattr, partial, "ss", "user., trusted., security. (stored by tmpfs and overlays); other file systems and system.* (POSIX ACLs): EOPNOTSUPP") \
    X(198, lremovexattr, sys_lremovexattr, partial, "ss", "user., trusted., security. (stored by tmpfs and overlays); other file systems and system.* (POSIX ACLs): EOPNOTSUPP") \
    X(199, fremovexattr, sys_fremovexattr, partial, "fs", "user., trusted., security. (stored by tmpfs and overlays); other file systems and system.* (POSIX ACLs): EOPNOTSUPP") \
    X(200, tkill, sys_tkill, supported, "dS", "") \
    X(201, time, sys_time, supported, "p", "") \
    X(202, futex, sys_nosys, runtime, "pdupdp", "address space and thread state: the runtime handles it") \
    X(203, sched_setaffinity, sys_sched_setaffinity, partial, "dup", "recorded per thread (box CPUs of the mask; EINVAL if none); where threads run is the platform's business") \
    X(204, sched_getaffinity, sys_sched_getaffinity, partial, "dup", "the thread's recorded mask of the box's ShimConfig::cpus CPUs") \
    X(205, set_thread_area, sys_nosys, enosys, "?", "") \
    X(206, io_setup, sys_nosys, enosys, "?", "") \
    X(207, io_destroy, sys_nosys, enosys, "?", "") \
    X(208, io_getevents, sys_nosys, enosys, "?", "") \
    X(209, io_submit, sys_nosys, enosys, "?", "") \
    X(210, io_cancel, sys_nosys, enosys, "?", "") \
    X(211, get_thread_area, sys_nosys, enosys, "?", "") \
    X(212, lookup_dcookie, sys_nosys, enosys, "?", "") \
    X(213, epoll_create, sys_epoll_create, supported, "d", "") \
    X(214, epoll_ctl_old, sys_nosys, enosys, "?", "") \
    X(215, epoll_wait_old, sys_nosys, enosys, "?", "") \
    X(216, remap_file_pages, sys_nosys, enosys, "?", "") \
    X(217, getdents64, sys_getdents64, supported, "fpu", "") \
    X(218, set_tid_address, sys_set_tid_address, supported, "p", "") \
    X(219, restart_syscall, sys_nosys, enosys, "?", "") \
    X(220, semtimedop, sys_semtimedop, supported, "dpup", "") \
    X(221, fadvise64, sys_fadvise64, supported, "fxxd", "") \
    X(222, timer_create, sys_timer_create, partial, "cpp", "CPU-time clocks: EINVAL") \
    X(223, timer_settime, sys_timer_settime, supported, "ddpp", "") \
    X(224, timer_gettime, sys_timer_gettime, supported, "dp", "") \
    X(225, timer_getoverrun, sys_timer_getoverrun, partial, "d", "counts the expirations the timer passed over, not those while its signal was pending") \
    X(226, timer_delete, sys_timer_delete, supported, "d", "") \
    X(227, clock_settime, sys_nosys, enosys, "?", "") \
    X(228, clock_gettime, sys_clock_gettime, partial, "cp", "CPU-time clocks report what the runtime accounts") \
    X(229, clock_getres, sys_clock_getres, supported, "cp", "") \
    X(230, clock_nanosleep, sys_clock_nanosleep, partial, "cdpp", "CPU-time clocks: EINVAL") \
    X(231, exit_group, sys_exit_group, supported, "d", "the runtime ends the threads") \
    X(232, epoll_wait, sys_epoll_wait, partial, "fpdd", "at most 1024 events per call") \
    X(233, epoll_ctl, sys_epoll_ctl, supported, "fdfp", "") \
    X(234, tgkill, sys_tgkill, supported, "ddS", "") \
    X(235, utimes, sys_nosys, enosys, "?", "") \
    X(236, vserver, sys_nosys, enosys, "?", "") \
    X(237, mbind, sys_nosys, enosys, "?", "") \
    X(238, set_mempolicy, sys_nosys, enosys, "?", "") \
    X(239, get_mempolicy, sys_nosys, enosys, "?", "") \
    X(240, mq_open, sys_nosys, enosys, "?", "") \
    X(241, mq_unlink, sys_nosys, enosys, "?", "") \
    X(242, mq_timedsend, sys_nosys, enosys, "?", "") \
    X(243, mq_timedreceive, sys_nosys, enosys, "?", "") \
    X(244, mq_notify, sys_nosys, enosys, "?", "") \
    X(245, mq_getsetattr, sys_nosys, enosys, "?", "") \
    X(246, kexec_load, sys_nosys, enosys, "?", "") \
    X(247, waitid, sys_waitid, partial, "ddpxp", "stops and continuations as the runtime reports them") \
    X(248, add_key, sys_nosys, enosys, "?", "") \
    X(249, request_key, sys_nosys, enosys, "?", "") \
    X(250, keyctl, sys_nosys, enosys, "?", "") \
    X(251, ioprio_set, sys_ioprio_set, partial, "ddx", "bookkeeping per box process; host I/O scheduling unchanged") \
    X(252, ioprio_get, sys_ioprio_get, supported, "dd", "") \
    X(253, inotify_init, sys_inotify_init, partial, "", "changes made by the host under a host mount are not seen") \
    X(254, inotify_add_watch, sys_inotify_add_watch, partial, "fsx", "changes made by the host under a host mount are not seen") \
    X(255, inotify_rm_watch, sys_inotify_rm_watch, supported, "fd", "") \
    X(256, migrate_pages, sys_nosys, enosys, "?", "") \
    X(257, openat, sys_openat, supported, "Fsom", "") \
    X(258, mkdirat, sys_mkdirat, supported, "Fsm", "") \
    X(259, mknodat, sys_mknodat, supported, "Fsmx", "") \
    X(260, fchownat, sys_fchownat, supported, "Fsddx", "") \
    X(261, futimesat, sys_nosys, enosys, "?", "") \
    X(262, newfstatat, sys_newfstatat, supported, "Fspx", "") \
    X(263, unlinkat, sys_unlinkat, supported, "Fsx", "") \
    X(264, renameat, sys_renameat, supported, "FsFs", "") \
    X(265, linkat, sys_linkat, supported, "FsFsx", "") \
    X(266, symlinkat, sys_symlinkat, supported, "sFs", "") \
    X(267, readlinkat, sys_readlinkat, supported, "Fspu", "") \
    X(268, fchmodat, sys_fchmodat, supported, "Fsm", "") \
    X(269, faccessat, sys_faccessat, supported, "Fsm", "") \
    X(270, pselect6, sys_pselect6, partial, "dppppp", "the mask is restored before the runtime delivers") \
    X(271, ppoll, sys_ppoll, partial, "puppu", "the mask is restored before the runtime delivers") \
    X(272, unshare, sys_nosys, enosys, "?", "") \
    X(273, set_robust_list, sys_nosys, runtime, "pu", "address space and thread state: the runtime handles it") \
    X(274, get_robust_list, sys_nosys, runtime, "?", "address space and thread state: the runtime handles it") \
    X(275, splice, sys_splice, partial, "fpfpux", "bounded copies through the box's pipes (at most ShimConfig::max_splice_bytes a call), no page sharing") \
    X(276, tee, sys_tee, partial, "ffux", "copies at most one 64 KiB chunk a call") \
    X(277, sync_file_range, sys_sync_file_range, supported, "fllx", "") \
    X(278, vmsplice, sys_vmsplice, partial, "fpux", "copies (SPLICE_F_GIFT is a hint); at most ShimConfig::max_splice_bytes a call") \
    X(279, move_pages, sys_nosys, enosys, "?", "") \
    X(280, utimensat, sys_utimensat, supported, "Fspx", "") \
    X(281, epoll_pwait, sys_epoll_pwait, partial, "fpddpu", "at most 1024 events per call; the mask is restored before the runtime delivers") \
    X(282, signalfd, sys_nosys, runtime, "dpu", "the runtime serves it with a host signalfd the guest reads natively (litebox-run; ENOSYS in the shim)") \
    X(283, timerfd_create, sys_timerfd_create, supported, "cx", "") \
    X(284, eventfd, sys_eventfd, supported, "u", "") \
    X(285, fallocate, sys_fallocate, partial, "fdll", "mode 0 only (other modes: EOPNOTSUPP)") \
    X(286, timerfd_settime, sys_timerfd_settime, partial, "fxpp", "TFD_TIMER_CANCEL_ON_SET accepted, never fires") \
    X(287, timerfd_gettime, sys_timerfd_gettime, supported, "fp", "") \
    X(288, accept4, sys_accept4, supported, "fppx", "") \
    X(289, signalfd4, sys_nosys, runtime, "dpux", "the runtime serves it with a host signalfd the guest reads natively (litebox-run; ENOSYS in the shim)") \
    X(290, eventfd2, sys_eventfd2, supported, "ux", "") \
    X(291, epoll_create1, sys_epoll_create1, supported, "x", "") \
    X(292, dup3, sys_dup3, supported, "ffo", "") \
    X(293, pipe2, sys_pipe2, partial, "po", "O_DIRECT (packet mode): EINVAL") \
    X(294, inotify_init1, sys_inotify_init1, partial, "x", "changes made by the host under a host mount are not seen") \
    X(295, preadv, sys_preadv, supported, "fpdl", "") \
    X(296, pwritev, sys_pwritev, supported, "fpdl", "") \
    X(297, rt_tgsigqueueinfo, sys_nosys, runtime, "ddSp", "the runtime sends it with the guest's siginfo (litebox-run; ENOSYS in the shim)") \
    X(298, perf_event_open, sys_nosys, enosys, "?", "") \
    X(299, recvmmsg, sys_recvmmsg, partial, "fpuxp", "entries after the first never wait (as MSG_WAITFORONE)") \
    X(300, fanotify_init, sys_nosys, enosys, "?", "") \
    X(301, fanotify_mark, sys_nosys, enosys, "?", "") \
    X(302, prlimit64, sys_prlimit64, partial, "ddpp", "RLIMIT_NOFILE and RLIMIT_FSIZE enforced; RLIMIT_AS under a box ceiling; others recorded and passed to the runtime (litebox-run applies AS, DATA, STACK, CPU)") \
    X(303, name_to_handle_at, sys_nosys, enosys, "?", "") \
    X(304, open_by_handle_at, sys_nosys, enosys, "?", "") \
    X(305, clock_adjtime, sys_nosys, enosys, "?", "") \
    X(306, syncfs, sys_syncfs, supported, "f", "") \
    X(307, sendmmsg, sys_sendmmsg, supported, "fpux", "") \
    X(308, setns, sys_nosys, enosys, "?", "") \
    X(309, getcpu, sys_getcpu, partial, "ppp", "always CPU 0, node 0") \
    X(310, process_vm_readv, sys_nosys, enosys, "?", "") \
    X(311, process_vm_writev, sys_nosys, enosys, "?", "") \
    X(312, kcmp, sys_nosys, enosys, "?", "") \
    X(313, finit_module, sys_nosys, enosys, "?", "") \
    X(314, sched_setattr, sys_sched_setattr, partial, "dpx", "recorded per thread; utilization clamps checked, not kept") \
    X(315, sched_getattr, sys_sched_getattr, supported, "dpux", "") \
    X(316, renameat2, sys_renameat2, supported, "FsFsx", "") \
    X(317, seccomp, sys_nosys, enosys, "?", "") \
    X(318, getrandom, sys_getrandom, supported, "pux", "ENOSYS when the platform has no CrngProvider") \
    X(319, memfd_create, sys_memfd_create, partial, "sx", "MFD_CLOEXEC, MFD_ALLOW_SEALING; seals enforced (fcntl F_ADD_SEALS); MFD_HUGETLB and others: EINVAL; own quotas (ShimConfig::memfd_max_bytes, memfd_max_files)") \
    X(320, kexec_file_load, sys_nosys, enosys, "?", "") \
    X(321, bpf, sys_nosys, enosys, "?", "") \
    X(322, execveat, sys_execveat, partial, "Fsppx", "as execve; fexecve of a descriptor (AT_EMPTY_PATH) and dirfd-relative paths; a dynamically linked program from a close-on-exec descriptor of an unnamed file is ENOENT") \
    X(323, userfaultfd, sys_nosys, enosys, "?", "") \
    X(324, membarrier, sys_nosys, runtime, "?", "address space and thread state: the runtime handles it") \
    X(325, mlock2, sys_mlock2, partial, "pux", "as mlock (MLOCK_ONFAULT accepted)") \
    X(326, copy_file_range, sys_copy_file_range, supported, "fpfpux", "") \
    X(327, preadv2, sys_preadv2, partial, "fpdllx", "RWF_HIPRI, DSYNC, SYNC, NOWAIT, APPEND; later flags EOPNOTSUPP") \
    X(328, pwritev2, sys_pwritev2, partial, "fpdllx", "RWF_HIPRI, DSYNC, SYNC, NOWAIT, APPEND; later flags EOPNOTSUPP") \
    X(329, pkey_mprotect, sys_nosys, enosys, "?", "") \
    X(330, pkey_alloc, sys_nosys, enosys, "?", "") \
    X(331, pkey_free, sys_nosys, enosys, "?", "") \
    X(332, statx, sys_statx, partial, "Fsxxp", "basic stats only (no birth time, no mount id)") \
    X(333, io_pgetevents, sys_nosys, enosys, "?", "") \
    X(334, rseq, sys_nosys, runtime, "pudx", "address space and thread state: the runtime handles it") \
    X(424, pidfd_send_signal, sys_pidfd_send_signal, partial, "fSpx", "the siginfo is checked, not delivered (litebox-run delivers it)") \
    X(425, io_uring_setup, sys_nosys, enosys, "?", "") \
    X(426, io_uring_enter, sys_nosys, enosys, "?", "") \
    X(427, io_uring_register, sys_nosys, enosys, "?", "") \
    X(428, open_tree, sys_nosys, enosys, "?", "") \
    X(429, move_mount, sys_nosys, enosys, "?", "") \
    X(430, fsopen, sys_nosys, enosys, "?", "") \
    X(431, fsconfig, sys_nosys, enosys, "?", "") \
    X(432, fsmount, sys_nosys, enosys, "?", "") \
    X(433, fspick, sys_nosys, enosys, "?", "") \
    X(434, pidfd_open, sys_pidfd_open, partial, "dx", "PIDFD_THREAD: EINVAL") \
    X(435, clone3, sys_nosys, enosys, "pu", "ENOSYS makes libc fall back to clone") \
    X(436, close_range, sys_close_range, partial, "uux", "CLOSE_RANGE_UNSHARE copies a table shared with another process for every thread of the caller's process (Linux: the calling thread)") \
    X(437, openat2, sys_openat2, partial, "Fspu", "RESOLVE_* restrictions: EINVAL") \
    X(438, pidfd_getfd, sys_nosys, enosys, "?", "") \
    X(439, faccessat2, sys_faccessat2, supported, "Fsmx", "") \
    X(440, process_madvise, sys_nosys, enosys, "?", "") \
    X(441, epoll_pwait2, sys_nosys, enosys, "?", "") \
    X(442, mount_setattr, sys_nosys, enosys, "?", "") \
    X(443, quotactl_fd, sys_nosys, enosys, "?", "") \
    X(444, landlock_create_ruleset, sys_nosys, enosys, "?", "") \
    X(445, landlock_add_rule, sys_nosys, enosys, "?", "") \
    X(446, landlock_restrict_self, sys_nosys, enosys, "?", "") \
    X(447, memfd_secret, sys_nosys, enosys, "?", "") \
    X(448, process_mrelease, sys_nosys, enosys, "?", "") \
    X(449, futex_waitv, sys_nosys, runtime, "?", "address space and thread state: the runtime handles it") \
    X(450, set_mempolicy_home_node, sys_nosys, enosys, "?", "")

// clang-format on

/// How completely the shim implements a syscall.
enum class Support : std::uint8_t { enosys, supported, partial, runtime };

/// One row of the list, for the tracer and the documentation.
struct SyscallInfo {
    std::string_view name;
    std::string_view format;
    Support support = Support::enosys;
    std::string_view note;
    [[nodiscard]] constexpr bool known() const noexcept { return !name.empty(); }
};

/// Number of rows in the list.
inline constexpr std::size_t syscall_count = 0
#define LITEBOX_COUNT_SYSCALL(nr, name, handler, support, format, note) +1
    LITEBOX_LINUX_SYSCALLS(LITEBOX_COUNT_SYSCALL)
#undef LITEBOX_COUNT_SYSCALL
    ;

/// Every row, in number order.
inline constexpr std::array<std::pair<std::uint32_t, SyscallInfo>, syscall_count> syscall_rows{{
#define LITEBOX_SYSCALL_ROW(nr, name, handler, support, format, note) {nr, SyscallInfo{#name, format, Support::support, note}},
    LITEBOX_LINUX_SYSCALLS(LITEBOX_SYSCALL_ROW)
#undef LITEBOX_SYSCALL_ROW
}};

/// The row for `number`, or an empty SyscallInfo for a number Linux does not define.
constexpr SyscallInfo syscall_info(std::uint64_t number) noexcept {
    switch (number) {
#define LITEBOX_SYSCALL_CASE(nr, name, handler, support, format, note) \
    case nr:                                                           \
        return SyscallInfo{#name, format, Support::support, note};
        LITEBOX_LINUX_SYSCALLS(LITEBOX_SYSCALL_CASE)
#undef LITEBOX_SYSCALL_CASE
    }
    return {};
}

/// Syscall numbers by name, for runtimes and tests (`nr::openat`).
namespace nr {
#define LITEBOX_SYSCALL_NUMBER(number, name, handler, support, format, note) inline constexpr std::uint64_t name = number;
LITEBOX_LINUX_SYSCALLS(LITEBOX_SYSCALL_NUMBER)
#undef LITEBOX_SYSCALL_NUMBER
}  // namespace nr

}  // namespace litebox::shim::linux_abi
