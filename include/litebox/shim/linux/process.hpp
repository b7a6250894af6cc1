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

/// The process of the thread a sched_* call names (0: the caller). ESRCH for a negative or unknown
/// id.
template <typename P>
Result<std::shared_ptr<Process<P>>> sched_target(ThreadContext<P>& t, std::int32_t tid) {
    if (tid < 0) return Errno::srch;
    if (tid == 0 || tid == t.tid()) return t.shared_process();
    auto process = t.kernel().tasks().process_of_thread(tid);
    if (!process) return Errno::srch;
    return process;
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
    const Credentials mine = t.process().credentials();
    if (&target->process() != &t.process() && !mine.privileged()) {
        const Credentials theirs = target->process().credentials();
        if (mine.euid != theirs.euid && mine.euid != theirs.ruid) return Errno::perm;
    }
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

template <typename P>
SyscallResult sys_sched_getscheduler(ThreadContext<P>& t, const SyscallRequest& r) {
    if (r.i32(0) < 0) return Errno::inval;  // as Linux (the affinity calls say ESRCH)
    LITEBOX_TRY(process_detail::sched_target(t, r.i32(0)));
    return abi::sched_other;
}

template <typename P>
SyscallResult sys_sched_getparam(ThreadContext<P>& t, const SyscallRequest& r) {
    if (r.ptr(1) == 0 || r.i32(0) < 0) return Errno::inval;
    LITEBOX_TRY(process_detail::sched_target(t, r.i32(0)));
    const std::int32_t priority = 0;
    LITEBOX_TRY(Guest<P>::write(r.ptr(1), priority));
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
}  // namespace process_detail

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
