// The guest's seccomp filter: which system calls run natively, which are refused with an errno,
// and which are served by the supervisor (SECCOMP_RET_USER_NOTIF). A raw classic-BPF program, built
// here without libseccomp: the policy is one readable table, the program is ~200 instructions, and
// the runner has no run-time dependency beyond the kernel (libseccomp 2.5 also predates several
// syscall numbers used below).
//
// Policy (x86-64 only):
//   * Any other architecture (i386 `int 0x80`, ...) and the x32 ABI (nr with bit 30) fail with
//     ENOSYS before anything else, as on a kernel built without IA32/x32 emulation.
//   * Native: calls that only touch the calling process's own address space, threads, or signal
//     state: anonymous mmap (MAP_ANONYMOUS set; a file-backed mmap is served), munmap, mprotect,
//     brk, madvise (advice < 100: MADV_HWPOISON/SOFT_OFFLINE are refused), mremap, msync, mincore,
//     pkey_*, futex family, set_robust_list, rt_sig{procmask,action,return,pending,suspend,
//     timedwait}, sigaltstack, arch_prctl (FS/GS only), set_tid_address (stopped for the tracer
//     under FilterOptions::traced_clone), sched_yield, restart_syscall. Optionally (FilterOptions)
//     the pid queries and clone/fork. exit (one thread) is served so that the supervisor forgets
//     the thread id before the kernel can reuse it; the supervisor then lets the kernel end the
//     thread (see Supervisor).
//   * Refused with an errno: calls that reach other processes, the kernel's global state or host
//     objects no box can own (ptrace, process_vm_*, bpf, perf_event_open, io_uring_*, userfaultfd,
//     mount family, unshare, setns, keys, handles, kexec, modules, seccomp, personality other than
//     the query and PER_LINUX, ...).
//   * Stopped for the tracer (FilterOptions::traced_clone): clone, fork, vfork, set_tid_address,
//     shmat and shmdt (rewritten into an mmap of the segment's memfd, served, and a munmap).
//   * Everything else -- including every call that names a path, a descriptor, another process,
//     a clock, or a number this table does not know yet -- is served by the supervisor.
#pragma once

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "../../error.hpp"

namespace litebox::platform::linux_platform::seccomp {

/// What the filter does with one system call.
enum class Disposition : std::uint8_t {
    served,   // SECCOMP_RET_USER_NOTIF: the supervisor answers
    native,   // SECCOMP_RET_ALLOW (possibly only for some argument values, see the table comment)
    refused,  // SECCOMP_RET_ERRNO
    traced,   // SECCOMP_RET_TRACE: the supervisor's ptrace tracer sees the call at its entry
};

/// Choices a runtime makes about the filter.
struct FilterOptions {
    /// getpid/gettid/getppid run natively and report host ids. Off by default: the box decides
    /// process ids, and the calls are rare enough that serving them costs nothing measurable.
    bool native_pid_queries = false;
    /// clone/fork/vfork run natively (namespace flags and CLONE_UNTRACED refused with EPERM).
    /// Only for a supervisor that tracks new processes by other means (ptrace events); by default
    /// they are served so that the box sees every new process. clone3 always fails with ENOSYS
    /// (its arguments live in guest memory; C libraries fall back to clone).
    bool native_clone = false;
    /// clone/fork/vfork stop at their entry for the supervisor's ptrace tracer (SECCOMP_RET_TRACE;
    /// namespace flags and CLONE_UNTRACED refused with EPERM first). The tracer registers the
    /// new task with the box before it runs and rewrites the parent's return value to the box's
    /// id (seccomp_tracer.hpp). Without a tracer attached the calls fail with ENOSYS, as Linux
    /// does for RET_TRACE. Takes precedence over native_clone. set_tid_address stops the same way:
    /// the kernel records the address (and clears it at the thread's exit) but the tracer makes
    /// the returned id the box's, which the C library keeps as the thread's id. shmat and shmdt
    /// stop too: the tracer turns them into an mmap of the segment's file (served like any file
    /// mapping) and a munmap.
    bool traced_clone = false;
};

/// One row of the fixed part of the policy.
struct FilterRule {
    int nr;
    Disposition disposition;
    Errno error;  // for refused rows
    std::string_view name;
};

namespace detail {
// Syscall numbers newer than the build machine's headers.
inline constexpr int nr_futex_wake = 454, nr_futex_wait = 455, nr_futex_requeue = 456;
inline constexpr int nr_statmount = 457, nr_listmount = 458;
inline constexpr int nr_x32_bit = 0x40000000;
}  // namespace detail

/// The fixed rows (argument-dependent rules -- mmap, madvise, arch_prctl, clone -- are in
/// build_filter). Rows are checked in order; the first match wins.
inline constexpr FilterRule filter_rules[] = {
    // ---- native: the process's own memory -------------------------------------------------------
    {SYS_munmap, Disposition::native, Errno{}, "munmap"},
    {SYS_mprotect, Disposition::native, Errno{}, "mprotect"},
    {SYS_brk, Disposition::native, Errno{}, "brk"},
    {SYS_mremap, Disposition::native, Errno{}, "mremap"},
    {SYS_msync, Disposition::native, Errno{}, "msync"},
    {SYS_mincore, Disposition::native, Errno{}, "mincore"},
    {SYS_pkey_mprotect, Disposition::native, Errno{}, "pkey_mprotect"},
    {SYS_pkey_alloc, Disposition::native, Errno{}, "pkey_alloc"},
    {SYS_pkey_free, Disposition::native, Errno{}, "pkey_free"},
    // ---- native: the process's own threads and signal state ------------------------------------
    {SYS_futex, Disposition::native, Errno{}, "futex"},
    {SYS_futex_waitv, Disposition::native, Errno{}, "futex_waitv"},
    {detail::nr_futex_wake, Disposition::native, Errno{}, "futex_wake"},
    {detail::nr_futex_wait, Disposition::native, Errno{}, "futex_wait"},
    {detail::nr_futex_requeue, Disposition::native, Errno{}, "futex_requeue"},
    {SYS_set_robust_list, Disposition::native, Errno{}, "set_robust_list"},
    {SYS_set_tid_address, Disposition::native, Errno{}, "set_tid_address"},
    // rseq would publish the host CPU number to the guest (glibc's sched_getcpu reads it), where
    // the box has one CPU: ENOSYS makes the C library ask getcpu, which the box answers.
    {SYS_rseq, Disposition::refused, Errno::nosys, "rseq"},
    {SYS_sched_yield, Disposition::native, Errno{}, "sched_yield"},
    {SYS_restart_syscall, Disposition::native, Errno{}, "restart_syscall"},
    {SYS_rt_sigprocmask, Disposition::native, Errno{}, "rt_sigprocmask"},
    {SYS_rt_sigaction, Disposition::native, Errno{}, "rt_sigaction"},
    {SYS_rt_sigreturn, Disposition::native, Errno{}, "rt_sigreturn"},
    {SYS_rt_sigpending, Disposition::native, Errno{}, "rt_sigpending"},
    {SYS_pause, Disposition::native, Errno{}, "pause"},  // rt_sigsuspend with the current mask
    {SYS_rt_sigsuspend, Disposition::native, Errno{}, "rt_sigsuspend"},
    {SYS_rt_sigtimedwait, Disposition::native, Errno{}, "rt_sigtimedwait"},
    {SYS_sigaltstack, Disposition::native, Errno{}, "sigaltstack"},
    // ---- refused: other processes, the kernel, the host ----------------------------------------
    {SYS_ptrace, Disposition::refused, Errno::perm, "ptrace"},
    {SYS_process_vm_readv, Disposition::refused, Errno::perm, "process_vm_readv"},
    {SYS_process_vm_writev, Disposition::refused, Errno::perm, "process_vm_writev"},
    {SYS_process_madvise, Disposition::refused, Errno::perm, "process_madvise"},
    {SYS_process_mrelease, Disposition::refused, Errno::perm, "process_mrelease"},
    {SYS_pidfd_getfd, Disposition::refused, Errno::perm, "pidfd_getfd"},
    {SYS_kcmp, Disposition::refused, Errno::perm, "kcmp"},
    {SYS_get_robust_list, Disposition::refused, Errno::perm, "get_robust_list"},
    {SYS_move_pages, Disposition::refused, Errno::perm, "move_pages"},
    {SYS_migrate_pages, Disposition::refused, Errno::perm, "migrate_pages"},
    {SYS_bpf, Disposition::refused, Errno::perm, "bpf"},
    {SYS_perf_event_open, Disposition::refused, Errno::perm, "perf_event_open"},
    {SYS_io_uring_setup, Disposition::refused, Errno::nosys, "io_uring_setup"},
    {SYS_io_uring_enter, Disposition::refused, Errno::nosys, "io_uring_enter"},
    {SYS_io_uring_register, Disposition::refused, Errno::nosys, "io_uring_register"},
    {SYS_userfaultfd, Disposition::refused, Errno::perm, "userfaultfd"},
    {SYS_mount, Disposition::refused, Errno::perm, "mount"},
    {SYS_umount2, Disposition::refused, Errno::perm, "umount2"},
    {SYS_pivot_root, Disposition::refused, Errno::perm, "pivot_root"},
    {SYS_open_tree, Disposition::refused, Errno::perm, "open_tree"},
    {SYS_move_mount, Disposition::refused, Errno::perm, "move_mount"},
    {SYS_fsopen, Disposition::refused, Errno::perm, "fsopen"},
    {SYS_fsconfig, Disposition::refused, Errno::perm, "fsconfig"},
    {SYS_fsmount, Disposition::refused, Errno::perm, "fsmount"},
    {SYS_fspick, Disposition::refused, Errno::perm, "fspick"},
    {SYS_mount_setattr, Disposition::refused, Errno::perm, "mount_setattr"},
    {detail::nr_statmount, Disposition::refused, Errno::perm, "statmount"},
    {detail::nr_listmount, Disposition::refused, Errno::perm, "listmount"},
    {SYS_unshare, Disposition::refused, Errno::perm, "unshare"},
    {SYS_setns, Disposition::refused, Errno::perm, "setns"},
    {SYS_keyctl, Disposition::refused, Errno::perm, "keyctl"},
    {SYS_add_key, Disposition::refused, Errno::perm, "add_key"},
    {SYS_request_key, Disposition::refused, Errno::perm, "request_key"},
    {SYS_open_by_handle_at, Disposition::refused, Errno::perm, "open_by_handle_at"},
    {SYS_name_to_handle_at, Disposition::refused, Errno::perm, "name_to_handle_at"},
    {SYS_kexec_load, Disposition::refused, Errno::perm, "kexec_load"},
    {SYS_kexec_file_load, Disposition::refused, Errno::perm, "kexec_file_load"},
    {SYS_init_module, Disposition::refused, Errno::perm, "init_module"},
    {SYS_finit_module, Disposition::refused, Errno::perm, "finit_module"},
    {SYS_delete_module, Disposition::refused, Errno::perm, "delete_module"},
    {SYS_seccomp, Disposition::refused, Errno::perm, "seccomp"},
    {SYS_modify_ldt, Disposition::refused, Errno::perm, "modify_ldt"},
    {SYS_iopl, Disposition::refused, Errno::perm, "iopl"},
    {SYS_ioperm, Disposition::refused, Errno::perm, "ioperm"},
    {SYS_swapon, Disposition::refused, Errno::perm, "swapon"},
    {SYS_swapoff, Disposition::refused, Errno::perm, "swapoff"},
    {SYS_reboot, Disposition::refused, Errno::perm, "reboot"},
    {SYS_acct, Disposition::refused, Errno::perm, "acct"},
    {SYS_quotactl, Disposition::refused, Errno::perm, "quotactl"},
    {SYS_syslog, Disposition::refused, Errno::perm, "syslog"},
    {SYS_vhangup, Disposition::refused, Errno::perm, "vhangup"},
    {SYS_settimeofday, Disposition::refused, Errno::perm, "settimeofday"},
    {SYS_clock_settime, Disposition::refused, Errno::perm, "clock_settime"},
    {SYS_adjtimex, Disposition::refused, Errno::perm, "adjtimex"},
    {SYS_clock_adjtime, Disposition::refused, Errno::perm, "clock_adjtime"},
    {SYS_fanotify_init, Disposition::refused, Errno::perm, "fanotify_init"},
    {SYS_lookup_dcookie, Disposition::refused, Errno::perm, "lookup_dcookie"},
    {SYS_uselib, Disposition::refused, Errno::perm, "uselib"},
    {SYS__sysctl, Disposition::refused, Errno::perm, "_sysctl"},
    {SYS_memfd_secret, Disposition::refused, Errno::nosys, "memfd_secret"},
    {SYS_clone3, Disposition::refused, Errno::nosys, "clone3"},
};

/// CLONE_* bits a guest may never pass: new namespaces, and CLONE_UNTRACED (which would hide a new
/// process from a supervisor that tracks processes with ptrace).
inline constexpr std::uint32_t forbidden_clone_flags = 0x00020000u /*NEWNS*/ | 0x02000000u /*NEWCGROUP*/ |
                                                       0x04000000u /*NEWUTS*/ | 0x08000000u /*NEWIPC*/ |
                                                       0x10000000u /*NEWUSER*/ | 0x20000000u /*NEWPID*/ |
                                                       0x40000000u /*NEWNET*/ | 0x00800000u /*UNTRACED*/;

/// madvise advice values at or above this are refused (MADV_HWPOISON = 100, MADV_SOFT_OFFLINE).
inline constexpr std::uint32_t first_refused_madvise = 100;

/// The disposition of a call by number alone, for documentation and tests. Argument-dependent
/// calls report their most permissive case (mmap: native for anonymous mappings only).
inline Disposition disposition_of(int nr, const FilterOptions& options) noexcept {
    if (nr < 0 || (nr & detail::nr_x32_bit) != 0) return Disposition::refused;
    if (nr == SYS_mmap || nr == SYS_madvise || nr == SYS_arch_prctl) return Disposition::native;
    if (nr == SYS_personality) return Disposition::served;  // the query and PER_LINUX only
    if (options.traced_clone && (nr == SYS_clone || nr == SYS_fork || nr == SYS_vfork || nr == SYS_set_tid_address ||
                                 nr == SYS_shmat || nr == SYS_shmdt))
        return Disposition::traced;
    if (options.native_clone && (nr == SYS_clone || nr == SYS_fork || nr == SYS_vfork)) return Disposition::native;
    if (options.native_pid_queries && (nr == SYS_getpid || nr == SYS_gettid || nr == SYS_getppid))
        return Disposition::native;
    for (const auto& rule : filter_rules)
        if (rule.nr == nr) return rule.disposition;
    return Disposition::served;
}

namespace detail {
class BpfBuilder {
public:
    void stmt(std::uint16_t code, std::uint32_t k) { m_program.push_back(sock_filter{code, 0, 0, k}); }
    void jump(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
        m_program.push_back(sock_filter{code, jt, jf, k});
    }
    void load_nr() { stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)); }
    /// Loads the low 32 bits of argument i (little-endian).
    void load_arg_low(int i) {
        stmt(BPF_LD | BPF_W | BPF_ABS,
             static_cast<std::uint32_t>(offsetof(struct seccomp_data, args) + 8 * static_cast<std::size_t>(i)));
    }
    void ret(std::uint32_t action) { stmt(BPF_RET | BPF_K, action); }
    /// if (A == k) return action;  (A is left unchanged)
    void if_equal_return(std::uint32_t k, std::uint32_t action) {
        jump(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 1);
        ret(action);
    }
    std::vector<sock_filter> take() { return std::move(m_program); }

private:
    std::vector<sock_filter> m_program;
};
inline constexpr std::uint32_t ret_errno(Errno e) {
    return SECCOMP_RET_ERRNO | (static_cast<std::uint32_t>(errno_number(e)) & SECCOMP_RET_DATA);
}
}  // namespace detail

/// Builds the filter program (install it with SECCOMP_SET_MODE_FILTER). The accumulator holds the
/// syscall number between blocks; each argument-checking block either returns or falls through
/// with the number reloaded.
inline std::vector<sock_filter> build_filter(const FilterOptions& options) {
    using detail::ret_errno;
    detail::BpfBuilder b;
    constexpr std::uint32_t allow = SECCOMP_RET_ALLOW;
    constexpr std::uint32_t notify = SECCOMP_RET_USER_NOTIF;

    // Architecture: only native x86-64 calls get past this point.
    b.stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    b.jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    b.ret(ret_errno(Errno::nosys));
    b.load_nr();
    // x32 numbers share AUDIT_ARCH_X86_64; they have bit 30 set.
    b.jump(BPF_JMP | BPF_JGE | BPF_K, static_cast<std::uint32_t>(detail::nr_x32_bit), 0, 1);
    b.ret(ret_errno(Errno::nosys));

    // mmap: native only for anonymous mappings; a file-backed mapping is served.
    b.jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 4);
    b.load_arg_low(3);
    b.jump(BPF_JMP | BPF_JSET | BPF_K, MAP_ANONYMOUS, 0, 1);
    b.ret(allow);
    b.ret(notify);

    // madvise: native except for the advice values that act on physical memory.
    b.jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_madvise, 0, 4);
    b.load_arg_low(2);
    b.jump(BPF_JMP | BPF_JGE | BPF_K, first_refused_madvise, 0, 1);
    b.ret(ret_errno(Errno::perm));
    b.ret(allow);

    // arch_prctl: native for the FS/GS base (TLS); anything else (CPUID faulting, mapping a vDSO)
    // is served so the box decides.
    b.jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_arch_prctl, 0, 7);
    b.load_arg_low(0);
    b.jump(BPF_JMP | BPF_JEQ | BPF_K, 0x1001 /*ARCH_SET_GS*/, 3, 0);
    b.jump(BPF_JMP | BPF_JEQ | BPF_K, 0x1002 /*ARCH_SET_FS*/, 2, 0);
    b.jump(BPF_JMP | BPF_JEQ | BPF_K, 0x1003 /*ARCH_GET_FS*/, 1, 0);
    b.jump(BPF_JMP | BPF_JEQ | BPF_K, 0x1004 /*ARCH_GET_GS*/, 0, 1);
    b.ret(allow);
    b.ret(notify);

    // personality: the query (0xffffffff) and PER_LINUX (0) are served -- glibc, util-linux and
    // Python ask; every other persona (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, ...) is refused. The
    // argument is an unsigned int: only its low 32 bits count, as in the kernel.
    b.jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_personality, 0, 5);
    b.load_arg_low(0);
    b.jump(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 2, 0);
    b.jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
    b.ret(ret_errno(Errno::perm));
    b.ret(notify);

    if (options.native_clone || options.traced_clone) {
        // After a tracer's rewrite the filter runs again and RET_TRACE then means "allow"; the
        // flags are checked again on that pass too.
        const std::uint32_t action = options.traced_clone ? SECCOMP_RET_TRACE : allow;
        b.load_nr();
        b.jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 4);
        b.load_arg_low(0);
        b.jump(BPF_JMP | BPF_JSET | BPF_K, forbidden_clone_flags, 0, 1);
        b.ret(ret_errno(Errno::perm));
        b.ret(action);
        b.load_nr();
        b.if_equal_return(SYS_fork, action);
        b.if_equal_return(SYS_vfork, action);
        if (options.traced_clone) {
            b.if_equal_return(SYS_set_tid_address, SECCOMP_RET_TRACE);
            b.if_equal_return(SYS_shmat, SECCOMP_RET_TRACE);
            b.if_equal_return(SYS_shmdt, SECCOMP_RET_TRACE);
        }
    }
    b.load_nr();
    if (options.native_pid_queries) {
        b.if_equal_return(SYS_getpid, allow);
        b.if_equal_return(SYS_gettid, allow);
        b.if_equal_return(SYS_getppid, allow);
    }
    for (const auto& rule : filter_rules) {
        const std::uint32_t action = rule.disposition == Disposition::native ? allow : ret_errno(rule.error);
        b.if_equal_return(static_cast<std::uint32_t>(rule.nr), action);
    }
    b.ret(notify);
    return b.take();
}

}  // namespace litebox::platform::linux_platform::seccomp
