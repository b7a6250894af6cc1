// getpriority / setpriority: the nice value (-20..19) of box processes, kept in Process::State
// (inherited by fork, kept over exec, shown in /proc/<pid>/stat).
//
// Semantics follow kernel/sys.c: `which` PRIO_PROCESS (who 0: the caller, else a box pid or tid:
// the nice value is per process here, so a tid names its process), PRIO_PGRP (who 0: the
// caller's group) and PRIO_USER (who 0: the caller's real uid; processes whose real uid matches);
// other `which` values EINVAL, nothing matched ESRCH. The raw getpriority returns 20 - nice
// (1..40) for the highest priority matched, as the kernel ABI does (libc converts). setpriority
// clamps to -20..19; a target must have the caller's effective uid as its real or effective uid
// (EPERM otherwise); lowering a nice value needs CAP_SYS_NICE (box root: effective uid 0, see
// Credentials) or an RLIMIT_NICE soft limit of at least 20 - nice (EACCES otherwise). Of several
// targets, as Linux, the last failure is returned, or 0 if any target changed and none failed.
// The value is bookkeeping: the host scheduling priority of the guest is not changed.
#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "kernel.hpp"

namespace litebox::shim::linux_abi {

namespace priority_detail {
inline constexpr int prio_process = 0, prio_pgrp = 1, prio_user = 2;
inline constexpr int min_nice = -20, max_nice = 19;

/// The box processes `which`/`who` names (empty: none; EINVAL for an unknown `which`).
template <typename P>
Result<std::vector<std::shared_ptr<Process<P>>>> targets(ThreadContext<P>& t, int which, int who) {
    std::vector<std::shared_ptr<Process<P>>> out;
    auto& tasks = t.kernel().tasks();
    switch (which) {
    case prio_process: {
        if (who == 0) {
            out.push_back(t.shared_process());
        } else if (who > 0) {
            auto process = tasks.process_of_thread(who);
            if (process) out.push_back(std::move(process));
        }
        return out;
    }
    case prio_pgrp: {
        int group = who;
        if (who == 0) {
            LITEBOX_TRY_ASSIGN(group, tasks.process_group_of(t.pid()));
        }
        if (group <= 0) return out;
        for (const int pid : tasks.process_ids()) {
            const auto of = tasks.process_group_of(pid);
            if (!of.has_value() || *of != group) continue;
            if (auto process = tasks.find_process(pid)) out.push_back(std::move(process));
        }
        return out;
    }
    case prio_user: {
        const std::uint32_t uid = who == 0 ? t.process().credential(&Credentials::ruid) : static_cast<std::uint32_t>(who);
        for (const int pid : tasks.process_ids()) {
            auto process = tasks.find_process(pid);
            if (process && process->credential(&Credentials::ruid) == uid) out.push_back(std::move(process));
        }
        return out;
    }
    default: return Errno::inval;
    }
}
}  // namespace priority_detail

template <typename P>
SyscallResult sys_getpriority(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(const auto found, priority_detail::targets(t, r.i32(0), r.i32(1)));
    if (found.empty()) return Errno::srch;
    int highest = 0;  // 20 - nice: 1..40
    for (const auto& process : found) highest = std::max(highest, 20 - process->state().with_lock([](auto& st) { return st.nice; }));
    return highest;
}

template <typename P>
SyscallResult sys_setpriority(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(const auto found, priority_detail::targets(t, r.i32(0), r.i32(1)));
    const int nice = std::clamp(r.i32(2), priority_detail::min_nice, priority_detail::max_nice);
    const Credentials caller = t.process().credentials();
    Errno error = Errno::srch;
    bool changed = false;
    for (const auto& process : found) {
        const auto outcome = process->state().with_lock([&](auto& st) -> Result<void> {
            if (st.credentials.ruid != caller.euid && st.credentials.euid != caller.euid && !caller.privileged()) return Errno::perm;
            const auto nice_limit = st.limits[static_cast<std::size_t>(abi::rlimit_nice)].rlim_cur;
            if (nice < st.nice && static_cast<std::uint64_t>(20 - nice) > nice_limit && !caller.privileged()) return Errno::acces;
            st.nice = nice;
            return ok();
        });
        if (!outcome.has_value()) error = outcome.error();
        else changed = true;
    }
    if (error == Errno::srch && changed) return 0;
    return error;
}

// ioprio_get / ioprio_set: the I/O priority (class << 13 | hint << 3 | level), stored per box
// process (kept over fork and exec; bookkeeping, the host's I/O scheduling is not changed).
// `which` IOPRIO_WHO_PROCESS / PGRP / USER (1..3) name targets as getpriority's `which` 0..2.
// Checks as Linux 6.x: class NONE with a level is EINVAL, an unknown class EINVAL, class RT needs
// privilege (EPERM); the value is kept as 16 bits. A process that never set one reads 0 (NONE,
// as Linux 6.x); of several targets ioprio_get answers the best (lowest class, then level).
namespace priority_detail {
inline constexpr std::uint32_t ioprio_class_none = 0, ioprio_class_rt = 1, ioprio_class_idle = 3;
inline constexpr int ioprio_class(std::uint32_t value) noexcept { return static_cast<int>((value >> 13) & 7); }
inline constexpr int ioprio_level(std::uint32_t value) noexcept { return static_cast<int>(value & 7); }
/// Orders I/O priorities, best first: NONE counts as best-effort, the level breaks ties.
inline constexpr int ioprio_rank(std::uint32_t value) noexcept {
    const int cls = ioprio_class(value) == static_cast<int>(ioprio_class_none) ? 2 : ioprio_class(value);
    return cls * 8 + (ioprio_class(value) == static_cast<int>(ioprio_class_none) ? 4 : ioprio_level(value));
}
}  // namespace priority_detail

template <typename P>
SyscallResult sys_ioprio_get(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t which = r.i32(0);
    if (which < 1 || which > 3) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const auto found, priority_detail::targets(t, which - 1, r.i32(1)));
    if (found.empty()) return Errno::srch;
    std::optional<std::uint32_t> best;
    for (const auto& process : found) {
        const std::uint32_t value = process->state().with_lock([](auto& st) { return st.ioprio; });
        if (!best || priority_detail::ioprio_rank(value) < priority_detail::ioprio_rank(*best)) best = value;
    }
    return static_cast<std::int64_t>(*best);
}

template <typename P>
SyscallResult sys_ioprio_set(ThreadContext<P>& t, const SyscallRequest& r) {
    namespace pd = priority_detail;
    const std::int32_t which = r.i32(0);
    const std::uint32_t value = r.u32(2) & 0xffffu;
    const Credentials caller = t.process().credentials();
    switch (static_cast<std::uint32_t>(pd::ioprio_class(value))) {
    case pd::ioprio_class_none:
        if (pd::ioprio_level(value) != 0) return Errno::inval;
        break;
    case pd::ioprio_class_rt:
        if (!caller.privileged()) return Errno::perm;
        break;
    case 2:  // best-effort
    case pd::ioprio_class_idle: break;
    default: return Errno::inval;
    }
    if (which < 1 || which > 3) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const auto found, pd::targets(t, which - 1, r.i32(1)));
    Errno error = Errno::srch;
    bool changed = false;
    for (const auto& process : found) {
        const auto outcome = process->state().with_lock([&](auto& st) -> Result<void> {
            if (st.credentials.ruid != caller.euid && st.credentials.euid != caller.euid && !caller.privileged()) return Errno::perm;
            st.ioprio = value;
            return ok();
        });
        if (!outcome.has_value()) error = outcome.error();
        else changed = true;
    }
    if (error == Errno::srch && changed) return 0;
    return error;
}

}  // namespace litebox::shim::linux_abi
