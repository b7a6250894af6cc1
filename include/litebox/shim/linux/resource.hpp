// Resource limits and usage: getrlimit, setrlimit, prlimit64, getrusage, times. RLIMIT_NOFILE is
// enforced through the descriptor table; RLIMIT_FSIZE by the writes to regular files
// (file_size_limit.hpp); RLIMIT_AS never rises above ShimConfig::max_address_space;
// the other limits are recorded and reported, and a runtime with real guest address spaces is told
// of every change (Kernel::set_limit_observer) to apply the ones the host enforces.
#pragma once

#include "kernel.hpp"
#include "wait.hpp"

namespace litebox::shim::linux_abi {

namespace resource_detail {
template <typename P>
Result<abi::rlimit> exchange_limit(ThreadContext<P>& t, std::int32_t pid, std::uint32_t resource, const std::optional<abi::rlimit>& next) {
    if (resource >= static_cast<std::uint32_t>(abi::rlimit_count)) return Errno::inval;
    if (next && next->rlim_cur > next->rlim_max) return Errno::inval;
    std::shared_ptr<Process<P>> target = pid == 0 || pid == t.pid() ? t.shared_process() : t.kernel().tasks().find_process(pid);
    if (!target || pid < 0) return Errno::srch;
    const Credentials mine = t.process().credentials();
    if (target.get() != &t.process()) {
        const Credentials theirs = target->credentials();
        const bool same_user = mine.ruid == theirs.ruid && mine.ruid == theirs.euid && mine.ruid == theirs.suid &&
                               mine.rgid == theirs.rgid && mine.rgid == theirs.egid && mine.rgid == theirs.sgid;
        if (!mine.privileged() && !same_user) return Errno::perm;
    }
    if (next && resource == abi::rlimit_nofile && next->rlim_max > fd::max_descriptor_limit) return Errno::perm;
    if (next && resource == abi::rlimit_as && next->rlim_max > t.kernel().config().max_address_space) return Errno::perm;
    Result<abi::rlimit> old = target->state().with_lock([&](auto& st) -> Result<abi::rlimit> {
        const abi::rlimit previous = st.limits[resource];
        if (next) {
            if (next->rlim_max > previous.rlim_max && !mine.privileged()) return Errno::perm;
            st.limits[resource] = *next;
        }
        return previous;
    });
    if (old.has_value() && next && resource == abi::rlimit_nofile)
        (void)target->files()->set_limit(static_cast<std::size_t>(std::min<std::uint64_t>(next->rlim_cur, fd::max_descriptor_limit)));
    if (old.has_value() && next && t.kernel().limit_observer()) t.kernel().limit_observer()(target->pid(), resource, *next);
    return old;
}

}  // namespace resource_detail

template <typename P>
SyscallResult sys_getrlimit(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t resource = r.u32(0);
    const std::uintptr_t address = r.ptr(1);
    LITEBOX_TRY_ASSIGN(const abi::rlimit old, resource_detail::exchange_limit(t, 0, resource, std::nullopt));
    LITEBOX_TRY(Guest<P>::write(address, old));
    return 0;
}

template <typename P>
SyscallResult sys_setrlimit(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t resource = r.u32(0);
    LITEBOX_TRY_ASSIGN(const abi::rlimit next, Guest<P>::template read<abi::rlimit>(r.ptr(1)));
    LITEBOX_TRY(resource_detail::exchange_limit(t, 0, resource, next));
    return 0;
}

template <typename P>
SyscallResult sys_prlimit64(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t pid = r.i32(0);
    const std::uint32_t resource = r.u32(1);
    const std::uintptr_t new_address = r.ptr(2), old_address = r.ptr(3);
    std::optional<abi::rlimit> next;
    if (new_address != 0) {
        LITEBOX_TRY_ASSIGN(next, Guest<P>::template read<abi::rlimit>(new_address));
    }
    LITEBOX_TRY_ASSIGN(const abi::rlimit old, resource_detail::exchange_limit(t, pid, resource, next));
    LITEBOX_TRY(Guest<P>::write_optional(old_address, old));
    return 0;
}

template <typename P>
SyscallResult sys_getrusage(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t who = r.i32(0);
    const std::uintptr_t address = r.ptr(1);
    Usage usage;
    if (who == abi::rusage_self) usage = t.kernel().process_cpu(t.process());
    else if (who == abi::rusage_children) usage = t.process().state().with_lock([](auto& st) { return st.reaped_children; });
    else if (who == abi::rusage_thread) usage = t.kernel().thread_cpu(t.thread());
    else return Errno::inval;
    LITEBOX_TRY(Guest<P>::write(address, wait_detail::to_rusage(usage)));
    return 0;
}

template <typename P>
SyscallResult sys_times(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t address = r.ptr(0);
    constexpr std::int64_t ns_per_tick = 1'000'000'000 / abi::clock_ticks_per_second;
    const Usage self = t.kernel().process_cpu(t.process());
    const Usage children = t.process().state().with_lock([](auto& st) { return st.reaped_children; });
    const abi::tms out{self.user_ns / ns_per_tick, self.system_ns / ns_per_tick, children.user_ns / ns_per_tick,
                       children.system_ns / ns_per_tick};
    LITEBOX_TRY(Guest<P>::write_optional(address, out));
    return t.kernel().uptime().count() / ns_per_tick;
}

}  // namespace litebox::shim::linux_abi
