// Process identity syscalls: pids and tids, process groups and sessions, set_tid_address; and the
// scheduler's view of the box: ShimConfig::cpus virtual CPUs (as /proc/cpuinfo and /sys say), a
// recorded affinity mask per thread, every task under SCHED_OTHER at priority 0.
#pragma once

#include <algorithm>
#include <span>
#include <utility>

#include "kernel.hpp"

namespace litebox::shim::linux_abi {

template <typename P>
SyscallResult sys_getpid(ThreadContext<P>& t, const SyscallRequest&) {
    return t.pid();
}
template <typename P>
SyscallResult sys_gettid(ThreadContext<P>& t, const SyscallRequest&) {
    return t.tid();
}
template <typename P>
SyscallResult sys_getppid(ThreadContext<P>& t, const SyscallRequest&) {
    return t.kernel().tasks().parent_of(t.pid());
}

template <typename P>
SyscallResult sys_getpgid(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t pid = r.i32(0);
    if (pid < 0) return Errno::srch;
    LITEBOX_TRY_ASSIGN(const int group, t.kernel().tasks().process_group_of(pid == 0 ? t.pid() : pid));
    return group;
}
template <typename P>
SyscallResult sys_getpgrp(ThreadContext<P>& t, const SyscallRequest&) {
    LITEBOX_TRY_ASSIGN(const int group, t.kernel().tasks().process_group_of(t.pid()));
    return group;
}
template <typename P>
SyscallResult sys_setpgid(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t pid = r.i32(0), pgid = r.i32(1);
    if (pid < 0) return Errno::srch;
    LITEBOX_TRY(t.kernel().tasks().set_process_group(t.process(), pid, pgid));
    return 0;
}
template <typename P>
SyscallResult sys_getsid(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t pid = r.i32(0);
    if (pid < 0) return Errno::srch;
    LITEBOX_TRY_ASSIGN(const int session, t.kernel().tasks().session_of(pid == 0 ? t.pid() : pid));
    return session;
}
template <typename P>
SyscallResult sys_setsid(ThreadContext<P>& t, const SyscallRequest&) {
    LITEBOX_TRY_ASSIGN(const int session, t.kernel().tasks().create_session(t.process()));
    return session;
}

/// Records the word the runtime clears and futex-wakes when this thread exits.
template <typename P>
SyscallResult sys_set_tid_address(ThreadContext<P>& t, const SyscallRequest& r) {
    t.thread().clear_child_tid.store(r.ptr(0), std::memory_order_relaxed);
    return t.tid();
}

template <typename P>
SyscallResult sys_sched_yield(ThreadContext<P>&, const SyscallRequest&) {
    return 0;
}

namespace process_detail {
/// The affinity calls copy one long (Linux copies cpumask_size() bytes, a whole number of longs
/// covering nr_cpu_ids; the box has at most 64 CPUs).
inline constexpr std::uint32_t cpu_mask_bytes = sizeof(std::uint64_t);

/// The thread a sched_*affinity call names (0: the caller). ESRCH for a negative or unknown id.
template <typename P>
Result<std::shared_ptr<Thread<P>>> affinity_target(ThreadContext<P>& t, std::int32_t tid) {
    if (tid < 0) return Errno::srch;
    if (tid == 0 || tid == t.tid()) return t.shared_thread();
    auto thread = t.kernel().tasks().find_thread(tid);
    if (!thread) return Errno::srch;
    return thread;
}

/// Whether the caller may change `target`'s scheduling or affinity: its own, the same user's, or
/// CAP_SYS_NICE (box root), as Linux's check_same_owner.
template <typename P>
bool may_reschedule(ThreadContext<P>& t, const Thread<P>& target) {
    const Credentials mine = t.process().credentials();
    if (&target.process() == &t.process() || mine.privileged()) return true;
    const Credentials theirs = target.process().credentials();
    return mine.euid == theirs.euid || mine.euid == theirs.ruid;
}
}  // namespace process_detail

/// Linux's order: the length (an unsigned int) first, then the thread, then the copy.
template <typename P>
SyscallResult sys_sched_getaffinity(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t length = r.u32(1);
    constexpr std::uint32_t size = process_detail::cpu_mask_bytes;
    if (length < size || (length & (size - 1)) != 0) return Errno::inval;  // as Linux (nr_cpu_ids <= 64)
    LITEBOX_TRY_ASSIGN(const auto target, process_detail::affinity_target(t, r.i32(0)));
    const std::uint64_t all = t.kernel().cpu_mask();
    const std::uint64_t mask = target->affinity.load(std::memory_order_relaxed) & all;
    LITEBOX_TRY(Guest<P>::write(r.ptr(2), mask != 0 ? mask : all));
    return static_cast<std::int64_t>(size);
}

/// Records the mask's box CPUs as the thread's affinity (sched_getaffinity reports it; where the
/// thread runs is the platform's business); EINVAL if it names no CPU of the box, EPERM for another
/// user's thread. Linux's order: the mask is copied first (the
/// bytes beyond `length` count as zero), then the thread, the permission and the mask's content.
template <typename P>
SyscallResult sys_sched_setaffinity(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t length = r.u32(1);
    std::uint64_t mask = 0;
    if (length != 0) {
        const std::size_t copied = std::min<std::size_t>(length, sizeof mask);
        LITEBOX_TRY(Guest<P>::read_bytes(r.ptr(2), std::as_writable_bytes(std::span<std::uint64_t, 1>(&mask, 1)).first(copied)));
    }
    LITEBOX_TRY_ASSIGN(const auto target, process_detail::affinity_target(t, r.i32(0)));
    if (!process_detail::may_reschedule(t, *target)) return Errno::perm;
    const std::uint64_t kept = mask & t.kernel().cpu_mask();
    if (kept == 0) return Errno::inval;
    target->affinity.store(kept, std::memory_order_relaxed);
    return 0;
}

/// getcpu: CPU 0, NUMA node 0 (either pointer may be null).
template <typename P>
SyscallResult sys_getcpu(ThreadContext<P>&, const SyscallRequest& r) {
    const std::uint32_t zero = 0;
    LITEBOX_TRY(Guest<P>::write_optional(r.ptr(0), zero));
    LITEBOX_TRY(Guest<P>::write_optional(r.ptr(1), zero));
    return 0;
}

namespace process_detail {
/// The priority range of a policy, as Linux: 1..99 for SCHED_FIFO and SCHED_RR, 0 for the others.
inline Result<std::pair<int, int>> priority_range(std::int32_t policy) {
    switch (policy) {
    case abi::sched_fifo:
    case abi::sched_rr: return std::pair{1, 99};
    case abi::sched_other:
    case abi::sched_batch:
    case abi::sched_idle:
    case abi::sched_deadline: return std::pair{0, 0};
    default: return Errno::inval;
    }
}

/// A policy without SCHED_RESET_ON_FORK.
constexpr int policy_base(int policy) noexcept { return policy & ~abi::sched_reset_on_fork; }

/// The thread a sched_* call names (0: the caller): EINVAL for a negative id (Linux checks it
/// first), ESRCH for an unknown one.
template <typename P>
Result<std::shared_ptr<Thread<P>>> sched_thread(ThreadContext<P>& t, std::int32_t tid) {
    if (tid < 0) return Errno::inval;
    return affinity_target(t, tid);
}

/// Linux's checks (__sched_setscheduler) of a new policy (with SCHED_RESET_ON_FORK in `policy`)
/// and priority for `target`: the priority range of the policy (EINVAL); then, unprivileged, a
/// real-time priority above the target's RLIMIT_RTPRIO only if it does not rise, no
/// SCHED_DEADLINE, no clearing of a reset-on-fork flag, and only the caller's user's threads (EPERM).
template <typename P>
Result<void> check_scheduling(ThreadContext<P>& t, Thread<P>& target, int policy, int priority) {
    const int base = policy_base(policy);
    LITEBOX_TRY_ASSIGN(const auto range, priority_range(base));
    if (priority < range.first || priority > range.second) return Errno::inval;
    if (!t.process().credentials().privileged()) {
        const auto old = target.scheduling();
        if (base == abi::sched_deadline) return Errno::perm;
        if (base == abi::sched_fifo || base == abi::sched_rr) {
            const auto rtprio = target.process().limit(abi::rlimit_rtprio).rlim_cur;
            const int old_base = policy_base(old.policy);
            const bool was_rt = old_base == abi::sched_fifo || old_base == abi::sched_rr;
            if (static_cast<std::uint64_t>(priority) > rtprio && (!was_rt || priority > old.priority)) return Errno::perm;
        }
        if ((old.policy & abi::sched_reset_on_fork) != 0 && (policy & abi::sched_reset_on_fork) == 0) return Errno::perm;
    }
    if (!may_reschedule(t, target)) return Errno::perm;
    return ok();
}
template <typename P>
Result<void> set_scheduling(ThreadContext<P>& t, Thread<P>& target, int policy, int priority) {
    LITEBOX_TRY(check_scheduling(t, target, policy, priority));
    target.set_scheduling({policy, priority});
    return ok();
}

/// sched_setscheduler's work; `policy` -1: sched_setparam (the policy unchanged). Linux's order:
/// the arguments, the copy of the priority, the thread, then set_scheduling's checks.
template <typename P>
SyscallResult setscheduler(ThreadContext<P>& t, std::int32_t tid, std::int32_t policy, std::uintptr_t param) {
    if (param == 0 || tid < 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const std::int32_t priority, Guest<P>::template read<std::int32_t>(param));
    LITEBOX_TRY_ASSIGN(const auto target, sched_thread(t, tid));
    const int next = policy == -1 ? target->scheduling().policy : policy;
    LITEBOX_TRY(set_scheduling(t, *target, next, priority));
    return 0;
}

/// struct sched_attr (sched_setattr, sched_getattr), SCHED_ATTR_SIZE_VER1.
struct SchedAttr {
    std::uint32_t size;
    std::uint32_t policy;
    std::uint64_t flags;
    std::int32_t nice;
    std::uint32_t priority;
    std::uint64_t runtime, deadline, period;
    std::uint32_t util_min, util_max;
};
static_assert(sizeof(SchedAttr) == abi::sched_attr_size_ver1);
}  // namespace process_detail

/// sched_getscheduler: the recorded policy, SCHED_RESET_ON_FORK included.
template <typename P>
SyscallResult sys_sched_getscheduler(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(const auto target, process_detail::sched_thread(t, r.i32(0)));
    return target->scheduling().policy;
}

template <typename P>
SyscallResult sys_sched_getparam(ThreadContext<P>& t, const SyscallRequest& r) {
    if (r.ptr(1) == 0 || r.i32(0) < 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const auto target, process_detail::sched_thread(t, r.i32(0)));
    const std::int32_t priority = target->scheduling().priority;
    LITEBOX_TRY(Guest<P>::write(r.ptr(1), priority));
    return 0;
}

/// sched_setscheduler: SCHED_DEADLINE only through sched_setattr (EINVAL).
template <typename P>
SyscallResult sys_sched_setscheduler(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t policy = r.i32(1);
    if (policy < 0 || process_detail::policy_base(policy) == abi::sched_deadline) return Errno::inval;
    return process_detail::setscheduler(t, r.i32(0), policy, r.ptr(2));
}
template <typename P>
SyscallResult sys_sched_setparam(ThreadContext<P>& t, const SyscallRequest& r) {
    return process_detail::setscheduler(t, r.i32(0), -1, r.ptr(1));
}

/// sched_rr_get_interval: SCHED_RR's quantum, Linux's default 100 ms; 0 for the other policies
/// (what this host's EEVDF reports for SCHED_OTHER, and SCHED_FIFO's answer).
template <typename P>
SyscallResult sys_sched_rr_get_interval(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(const auto target, process_detail::sched_thread(t, r.i32(0)));
    const int policy = process_detail::policy_base(target->scheduling().policy);
    const abi::timespec interval{0, policy == abi::sched_rr ? 100'000'000 : 0};
    LITEBOX_TRY(Guest<P>::write(r.ptr(1), interval));
    return 0;
}

/// sched_setattr: the policy, priority and reset-on-fork flag as sched_setscheduler (SCHED_DEADLINE
/// too, for box root, after Linux's parameter checks; recorded only), and the nice value of a
/// SCHED_OTHER/BATCH attr as setpriority would set it (the box keeps it per process). A size
/// other than 0 or 48..4096 is E2BIG, with the box's size written back; bytes past the box's
/// struct must be zero (E2BIG).
template <typename P>
SyscallResult sys_sched_setattr(ThreadContext<P>& t, const SyscallRequest& r) {
    using process_detail::SchedAttr;
    const std::int32_t tid = r.i32(0);
    const std::uintptr_t address = r.ptr(1);
    if (address == 0 || tid < 0 || r.u32(2) != 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(std::uint32_t size, Guest<P>::template read<std::uint32_t>(address));
    const auto too_big = [&] {  // Linux writes the size it knows back
        (void)Guest<P>::write(address, static_cast<std::uint32_t>(sizeof(SchedAttr)));
        return Errno::toobig;
    };
    if (size == 0) size = abi::sched_attr_size_ver0;
    if (size < abi::sched_attr_size_ver0 || size > 4096) return too_big();
    SchedAttr attr{};
    const std::size_t known = std::min<std::size_t>(size, sizeof attr);
    LITEBOX_TRY(Guest<P>::read_bytes(address, std::as_writable_bytes(std::span<SchedAttr, 1>(&attr, 1)).first(known)));
    if (size > sizeof attr) {
        LITEBOX_TRY_ASSIGN(const auto tail, Guest<P>::template read_array<std::uint8_t>(address + sizeof attr, size - sizeof attr));
        if (std::any_of(tail.begin(), tail.end(), [](std::uint8_t byte) { return byte != 0; })) return too_big();
    }
    constexpr std::uint64_t known_flags = abi::sched_flag_reset_on_fork | abi::sched_flag_keep_policy | abi::sched_flag_keep_params |
                                          abi::sched_flag_util_clamp_min | abi::sched_flag_util_clamp_max;
    if ((attr.flags & ~known_flags) != 0) return Errno::inval;
    if ((attr.flags & (abi::sched_flag_util_clamp_min | abi::sched_flag_util_clamp_max)) != 0 &&
        (size < abi::sched_attr_size_ver1 || attr.util_min > 1024 || attr.util_max > 1024 ||
         ((attr.flags & abi::sched_flag_util_clamp_min) != 0 && (attr.flags & abi::sched_flag_util_clamp_max) != 0 &&
          attr.util_min > attr.util_max)))
        return Errno::inval;
    LITEBOX_TRY_ASSIGN(const auto target, process_detail::sched_thread(t, tid));
    const auto current = target->scheduling();
    int policy = static_cast<int>(attr.policy);
    if ((attr.flags & abi::sched_flag_keep_policy) != 0) {
        policy = current.policy;  // with its reset-on-fork flag
    } else if (attr.policy > static_cast<std::uint32_t>(abi::sched_deadline)) {
        return Errno::inval;
    }
    int priority = static_cast<int>(attr.priority);
    if ((attr.flags & abi::sched_flag_keep_params) != 0) priority = current.priority;
    if (policy == abi::sched_deadline) {
        // Linux's __checkparam_dl: a runtime of at least 1024 ns, runtime <= deadline <= period.
        const std::uint64_t period = attr.period != 0 ? attr.period : attr.deadline;
        if (attr.deadline == 0 || attr.runtime < 1024 || attr.runtime > attr.deadline || attr.deadline > period ||
            (attr.deadline & (1ULL << 63)) != 0 || (period & (1ULL << 63)) != 0)
            return Errno::inval;
    }
    if ((attr.flags & abi::sched_flag_reset_on_fork) != 0) policy |= abi::sched_reset_on_fork;
    // Every check before any change: a refused call leaves the thread as it was.
    LITEBOX_TRY(process_detail::check_scheduling(t, *target, policy, priority));
    const int base = process_detail::policy_base(policy);
    const bool fair = base == abi::sched_other || base == abi::sched_batch;
    const int nice = std::clamp(attr.nice, -20, 19);
    if (fair && !t.process().credentials().privileged()) {
        const int old_nice = target->process().state().with_lock([](auto& st) { return st.nice; });
        const auto nice_limit = target->process().limit(abi::rlimit_nice).rlim_cur;
        if (nice < old_nice && static_cast<std::uint64_t>(20 - nice) > nice_limit) return Errno::perm;
    }
    target->set_scheduling({policy, priority});
    if (fair) target->process().state().with_lock([&](auto& st) { st.nice = nice; });
    return 0;
}

/// sched_getattr: what sched_setattr recorded, `size` bytes at most (48 to 4096, else EINVAL), with
/// sched_attr.size set to the bytes written; utilization clamps are reported as 0..1024.
template <typename P>
SyscallResult sys_sched_getattr(ThreadContext<P>& t, const SyscallRequest& r) {
    using process_detail::SchedAttr;
    const std::int32_t tid = r.i32(0);
    const std::uintptr_t address = r.ptr(1);
    const std::uint32_t size = r.u32(2);
    if (address == 0 || tid < 0 || r.u32(3) != 0 || size < abi::sched_attr_size_ver0 || size > 4096) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const auto target, process_detail::sched_thread(t, tid));
    const auto current = target->scheduling();
    const int policy = current.policy;
    SchedAttr attr{};
    attr.size = static_cast<std::uint32_t>(std::min<std::size_t>(size, sizeof attr));
    const int base = process_detail::policy_base(policy);
    attr.policy = static_cast<std::uint32_t>(base);
    attr.flags = (policy & abi::sched_reset_on_fork) != 0 ? abi::sched_flag_reset_on_fork : 0;
    if (base == abi::sched_other || base == abi::sched_batch || base == abi::sched_idle)
        attr.nice = target->process().state().with_lock([](auto& st) { return st.nice; });
    attr.priority = static_cast<std::uint32_t>(current.priority);
    attr.util_max = 1024;
    LITEBOX_TRY(Guest<P>::write_bytes(address, std::as_bytes(std::span<const SchedAttr, 1>(&attr, 1)).first(attr.size)));
    return 0;
}

template <typename P>
SyscallResult sys_sched_get_priority_max(ThreadContext<P>&, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(const auto range, process_detail::priority_range(r.i32(0)));
    return range.second;
}
template <typename P>
SyscallResult sys_sched_get_priority_min(ThreadContext<P>&, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(const auto range, process_detail::priority_range(r.i32(0)));
    return range.first;
}

}  // namespace litebox::shim::linux_abi
