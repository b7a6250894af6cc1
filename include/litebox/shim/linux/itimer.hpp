// Signal timers: alarm, setitimer, getitimer (ITIMER_REAL) and the POSIX timers timer_create,
// timer_settime, timer_gettime, timer_getoverrun, timer_delete, on the box's TimerTable
// (timer_table.hpp: what fires them and where the signals go).
// ITIMER_VIRTUAL and ITIMER_PROF count CPU time, which the box does not see while the guest runs
// native code: getitimer reports them disarmed, setitimer may disarm them, and arming one is
// EINVAL (traced) rather than a timer that would never fire.
#pragma once

#include "kernel.hpp"

namespace litebox::shim::linux_abi {

namespace itimer_detail {
inline constexpr std::int64_t ns_per_second = 1'000'000'000;
inline constexpr std::int64_t ns_per_microsecond = 1'000;

/// A valid timeval (0 <= tv_usec < 1e6, tv_sec >= 0) in nanoseconds (saturating), or EINVAL.
inline Result<std::int64_t> to_ns(const abi::timeval& tv) noexcept {
    if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1'000'000) return Errno::inval;
    const std::int64_t rest = tv.tv_usec * ns_per_microsecond;
    if (tv.tv_sec > (INT64_MAX - rest) / ns_per_second) return INT64_MAX;
    return tv.tv_sec * ns_per_second + rest;
}
/// A valid timespec (0 <= tv_nsec < 1e9, tv_sec >= 0) in nanoseconds (saturating), or EINVAL.
inline Result<std::int64_t> to_ns(const abi::timespec& ts) noexcept {
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= ns_per_second) return Errno::inval;
    if (ts.tv_sec > (INT64_MAX - ts.tv_nsec) / ns_per_second) return INT64_MAX;
    return ts.tv_sec * ns_per_second + ts.tv_nsec;
}
inline abi::timeval to_timeval(std::int64_t ns) noexcept {
    return abi::timeval{ns / ns_per_second, (ns % ns_per_second) / ns_per_microsecond};
}
inline abi::timespec to_timespec(std::int64_t ns) noexcept { return abi::timespec{ns / ns_per_second, ns % ns_per_second}; }
inline abi::itimerval to_itimerval(const TimerSetting& s) noexcept { return abi::itimerval{to_timeval(s.interval), to_timeval(s.value)}; }
inline abi::itimerspec to_itimerspec(const TimerSetting& s) noexcept {
    return abi::itimerspec{to_timespec(s.interval), to_timespec(s.value)};
}

/// timer_create's clock: Linux's answer for each id.
template <typename P>
Result<TimerClock> timer_clock(ThreadContext<P>& t, std::uint64_t number, std::int32_t clock) {
    switch (clock) {
    case abi::clock_realtime: case abi::clock_tai: return TimerClock::wall;
    case abi::clock_monotonic: case abi::clock_boottime: return TimerClock::monotonic;
    case abi::clock_monotonic_raw: case abi::clock_realtime_coarse: case abi::clock_monotonic_coarse:
        return Errno::opnotsupp;  // no timers on these clocks in Linux either
    case abi::clock_realtime_alarm: case abi::clock_boottime_alarm:
        if (!t.process().credentials().privileged()) return Errno::perm;  // needs CAP_WAKE_ALARM
        return Errno::opnotsupp;                                            // and a wake-up RTC
    case abi::clock_process_cputime_id: case abi::clock_thread_cputime_id:
        t.kernel().unsupported(number, "CPU-time timers");
        return Errno::inval;
    default:
        if (clock < 0) t.kernel().unsupported(number, "CPU-time timers of other tasks");
        return Errno::inval;
    }
}
}  // namespace itimer_detail

template <typename P>
SyscallResult sys_alarm(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t seconds = r.u32(0);
    const TimerSetting old = t.kernel().timers().set_real(t.shared_process(), std::int64_t{seconds} * itimer_detail::ns_per_second, 0);
    // Linux rounds to the nearest second, and never answers 0 for an alarm still pending.
    std::int64_t left = old.value / itimer_detail::ns_per_second;
    const std::int64_t rest = old.value % itimer_detail::ns_per_second;
    if ((left == 0 && rest != 0) || rest >= itimer_detail::ns_per_second / 2) ++left;
    return static_cast<std::uint32_t>(left);  // alarm returns an unsigned int
}

template <typename P>
SyscallResult sys_setitimer(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t which = r.i32(0);
    const std::uintptr_t new_address = r.ptr(1), old_address = r.ptr(2);
    abi::itimerval next{};  // a null new value disarms (a Linux misfeature, kept)
    if (new_address != 0) {
        LITEBOX_TRY_ASSIGN(next, Guest<P>::template read<abi::itimerval>(new_address));
    }
    LITEBOX_TRY_ASSIGN(const std::int64_t value, itimer_detail::to_ns(next.it_value));
    LITEBOX_TRY_ASSIGN(const std::int64_t interval, itimer_detail::to_ns(next.it_interval));
    TimerSetting old;
    if (which == abi::itimer_real) {
        old = t.kernel().timers().set_real(t.shared_process(), value, interval);
    } else if (which == abi::itimer_virtual || which == abi::itimer_prof) {
        if (value != 0) {
            t.kernel().unsupported(r.number, "ITIMER_VIRTUAL and ITIMER_PROF (CPU time)");
            return Errno::inval;
        }
    } else {
        return Errno::inval;
    }
    LITEBOX_TRY(Guest<P>::write_optional(old_address, itimer_detail::to_itimerval(old)));
    return 0;
}

template <typename P>
SyscallResult sys_getitimer(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t which = r.i32(0);
    TimerSetting current;
    if (which == abi::itimer_real) current = t.kernel().timers().get_real(t.shared_process());
    else if (which != abi::itimer_virtual && which != abi::itimer_prof) return Errno::inval;
    LITEBOX_TRY(Guest<P>::write(r.ptr(1), itimer_detail::to_itimerval(current)));
    return 0;
}

template <typename P>
SyscallResult sys_timer_create(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t event_address = r.ptr(1), id_address = r.ptr(2);
    LITEBOX_TRY_ASSIGN(const TimerClock clock, itimer_detail::timer_clock(t, r.number, r.i32(0)));
    TimerNotify notify;
    std::weak_ptr<Thread<P>> target;
    if (event_address == 0) {
        notify.value_is_id = true;  // SIGEV_SIGNAL, SIGALRM, si_value = the timer id
    } else {
        LITEBOX_TRY_ASSIGN(const abi::sigevent event, Guest<P>::template read<abi::sigevent>(event_address));
        switch (event.sigev_notify) {
        case abi::sigev_none: notify.signal = false; break;
        case abi::sigev_thread_id: {
            auto thread = t.kernel().tasks().find_thread(event.sigev_notify_thread_id);
            if (!thread || &thread->process() != &t.process()) return Errno::inval;
            notify.thread_id = thread->tid();
            target = thread;
            [[fallthrough]];
        }
        case abi::sigev_signal: case abi::sigev_thread:
            if (!valid_signal(event.sigev_signo)) return Errno::inval;
            break;
        default: return Errno::inval;
        }
        if (notify.signal) notify.signo = event.sigev_signo;
        notify.value = event.sigev_value;
    }
    LITEBOX_TRY_ASSIGN(const int id, t.kernel().timers().create(t.shared_process(), clock, notify, std::move(target)));
    if (auto written = Guest<P>::write(id_address, std::int32_t{id}); !written) {
        (void)t.kernel().timers().remove(t.shared_process(), id);
        return written.error();
    }
    return 0;
}

template <typename P>
SyscallResult sys_timer_settime(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t id = r.i32(0), flags = r.i32(1);
    const std::uintptr_t new_address = r.ptr(2), old_address = r.ptr(3);
    if (new_address == 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const abi::itimerspec spec, Guest<P>::template read<abi::itimerspec>(new_address));
    LITEBOX_TRY_ASSIGN(const std::int64_t value, itimer_detail::to_ns(spec.it_value));
    LITEBOX_TRY_ASSIGN(const std::int64_t interval, itimer_detail::to_ns(spec.it_interval));
    const bool absolute = (flags & abi::timer_abstime) != 0;  // Linux ignores the other bits
    LITEBOX_TRY_ASSIGN(const TimerSetting old, t.kernel().timers().settime(t.shared_process(), id, absolute, value, interval));
    LITEBOX_TRY(Guest<P>::write_optional(old_address, itimer_detail::to_itimerspec(old)));
    return 0;
}

template <typename P>
SyscallResult sys_timer_gettime(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(const TimerSetting current, t.kernel().timers().gettime(t.shared_process(), r.i32(0)));
    LITEBOX_TRY(Guest<P>::write(r.ptr(1), itimer_detail::to_itimerspec(current)));
    return 0;
}

template <typename P>
SyscallResult sys_timer_getoverrun(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(const int overrun, t.kernel().timers().overrun(t.shared_process(), r.i32(0)));
    return overrun;
}

template <typename P>
SyscallResult sys_timer_delete(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY(t.kernel().timers().remove(t.shared_process(), r.i32(0)));
    return 0;
}

}  // namespace litebox::shim::linux_abi
