// Time syscalls from the platform's TimeProvider: clock_gettime, clock_getres, gettimeofday,
// time, nanosleep, clock_nanosleep. The guest's monotonic and boot clocks count from the box's
// start; the real-time clock is the platform's wall clock. Sleeps park the thread through the
// core sync primitives and are interruptible (EINTR, with the remaining time for relative sleeps).
#pragma once

#include "kernel.hpp"

namespace litebox::shim::linux_abi {

/// What clock_getres reports for the *_COARSE clocks (a 250 Hz tick, as on common kernels).
inline constexpr std::int64_t coarse_clock_resolution_ns = 4'000'000;

namespace time_detail {
inline constexpr std::int64_t ns_per_second = 1'000'000'000;

enum class ClockKind { wall, monotonic, process_cpu, thread_cpu };

inline Result<ClockKind> classify(std::int32_t clock) noexcept {
    switch (clock) {
    case abi::clock_realtime: case abi::clock_realtime_coarse: case abi::clock_realtime_alarm: case abi::clock_tai:
        return ClockKind::wall;
    case abi::clock_monotonic: case abi::clock_monotonic_raw: case abi::clock_monotonic_coarse: case abi::clock_boottime:
    case abi::clock_boottime_alarm:
        return ClockKind::monotonic;
    case abi::clock_process_cputime_id: return ClockKind::process_cpu;
    case abi::clock_thread_cputime_id: return ClockKind::thread_cpu;
    default: return Errno::inval;
    }
}

/// Nanoseconds on `kind` now.
template <typename P>
std::int64_t read_clock(ThreadContext<P>& t, ClockKind kind) {
    switch (kind) {
    case ClockKind::wall: {
        const auto since = t.platform().current_time().duration_since(P::SystemTime::unix_epoch());
        return since.has_value() ? since.value().count() : -since.backwards_by().count();
    }
    case ClockKind::monotonic: return t.kernel().uptime().count();
    case ClockKind::thread_cpu: {
        const Usage used = t.kernel().thread_cpu(t.thread());
        return used.user_ns + used.system_ns;
    }
    case ClockKind::process_cpu: {
        const Usage used = t.kernel().process_cpu(t.process());
        return used.user_ns + used.system_ns;
    }
    }
    return 0;
}

inline abi::timespec to_timespec(std::int64_t ns) noexcept {
    std::int64_t seconds = ns / ns_per_second, rest = ns % ns_per_second;
    if (rest < 0) rest += ns_per_second, --seconds;
    return abi::timespec{seconds, rest};
}
inline bool valid(const abi::timespec& ts) noexcept { return ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < ns_per_second; }
inline std::int64_t to_ns_saturating(const abi::timespec& ts) noexcept {
    if (ts.tv_sec > (INT64_MAX - ts.tv_nsec) / ns_per_second) return INT64_MAX;
    return ts.tv_sec * ns_per_second + ts.tv_nsec;
}

/// Sleeps the calling thread for `ns` (INT64_MAX: forever). EINTR with the time left in `left`.
template <typename P>
Result<void> sleep_for(ThreadContext<P>& t, std::int64_t ns, std::int64_t& left) {
    const auto start = t.platform().now();
    const auto deadline = ns == INT64_MAX ? std::nullopt : start.checked_add(platform::Duration{ns});
    for (;;) {
        const std::uint32_t token = t.thread().waiter().prepare();
        const auto now = t.platform().now();
        if (deadline && now >= *deadline) return ok();
        const Result<void> slept = t.thread().interrupted() ? Result<void>(Errno::intr) : t.thread().waiter().sleep(t.platform(), token, deadline);
        if (!slept.has_value() && slept.error() == Errno::intr) {
            left = deadline ? deadline->checked_duration_since(t.platform().now()).value_or(platform::Duration{0}).count() : INT64_MAX;
            return Errno::intr;
        }
    }
}
}  // namespace time_detail

template <typename P>
SyscallResult sys_clock_gettime(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t clock = r.i32(0);
    const std::uintptr_t address = r.ptr(1);
    auto kind = time_detail::classify(clock);
    if (!kind.has_value()) {
        if (clock < 0) t.kernel().unsupported(r.number, "CPU clocks of other processes");
        return kind.error();
    }
    LITEBOX_TRY(Guest<P>::write(address, time_detail::to_timespec(time_detail::read_clock(t, *kind))));
    return 0;
}

template <typename P>
SyscallResult sys_clock_getres(ThreadContext<P>&, const SyscallRequest& r) {
    const std::int32_t clock = r.i32(0);
    const std::uintptr_t address = r.ptr(1);
    LITEBOX_TRY(time_detail::classify(clock));
    const bool coarse = clock == abi::clock_realtime_coarse || clock == abi::clock_monotonic_coarse;
    LITEBOX_TRY(Guest<P>::write_optional(address, abi::timespec{0, coarse ? coarse_clock_resolution_ns : 1}));
    return 0;
}

template <typename P>
SyscallResult sys_gettimeofday(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t tv = r.ptr(0), tz = r.ptr(1);
    const abi::timespec now = time_detail::to_timespec(time_detail::read_clock(t, time_detail::ClockKind::wall));
    LITEBOX_TRY(Guest<P>::write_optional(tv, abi::timeval{now.tv_sec, now.tv_nsec / 1000}));
    LITEBOX_TRY(Guest<P>::write_optional(tz, abi::timezone{0, 0}));
    return 0;
}

template <typename P>
SyscallResult sys_time(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t address = r.ptr(0);
    const std::int64_t seconds = time_detail::to_timespec(time_detail::read_clock(t, time_detail::ClockKind::wall)).tv_sec;
    LITEBOX_TRY(Guest<P>::write_optional(address, seconds));
    return seconds;
}

template <typename P>
SyscallResult sys_nanosleep(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t request_address = r.ptr(0), remain_address = r.ptr(1);
    LITEBOX_TRY_ASSIGN(const abi::timespec request, Guest<P>::template read<abi::timespec>(request_address));
    if (!time_detail::valid(request)) return Errno::inval;
    std::int64_t left = 0;
    auto slept = time_detail::sleep_for(t, time_detail::to_ns_saturating(request), left);
    if (!slept.has_value() && remain_address != 0) LITEBOX_TRY(Guest<P>::write(remain_address, time_detail::to_timespec(left)));
    LITEBOX_TRY(slept);
    return 0;
}

template <typename P>
SyscallResult sys_clock_nanosleep(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t clock = r.i32(0), flags = r.i32(1);
    const std::uintptr_t request_address = r.ptr(2), remain_address = r.ptr(3);
    LITEBOX_TRY_ASSIGN(const auto kind, time_detail::classify(clock));
    if (kind == time_detail::ClockKind::thread_cpu) return Errno::inval;
    if (kind == time_detail::ClockKind::process_cpu) {
        t.kernel().unsupported(r.number, "sleeping on CLOCK_PROCESS_CPUTIME_ID");
        return Errno::inval;
    }
    LITEBOX_TRY_ASSIGN(const abi::timespec request, Guest<P>::template read<abi::timespec>(request_address));
    if (!time_detail::valid(request)) return Errno::inval;
    const bool absolute = (flags & abi::timer_abstime) != 0;
    std::int64_t ns = time_detail::to_ns_saturating(request);
    if (absolute) {
        const std::int64_t now = time_detail::read_clock(t, kind);
        if (ns <= now) return 0;
        ns -= now;
    }
    std::int64_t left = 0;
    auto slept = time_detail::sleep_for(t, ns, left);
    if (!slept.has_value() && !absolute && remain_address != 0)
        LITEBOX_TRY(Guest<P>::write(remain_address, time_detail::to_timespec(left)));
    LITEBOX_TRY(slept);
    return 0;
}

}  // namespace litebox::shim::linux_abi
