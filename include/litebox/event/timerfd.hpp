// TimerFd<P>: timerfd_create(2) — a timer read through a file descriptor, driven by the platform
// clock without any background thread.
//
// Contract (Linux's): the timer runs on CLOCK_MONOTONIC (also CLOCK_BOOTTIME) or CLOCK_REALTIME.
// settime arms it with an initial expiry (relative, or absolute with TFD_TIMER_ABSTIME) and an
// optional interval, returns the previous setting, and resets the expiration count; a zero value
// disarms it. read needs an 8-byte buffer (EINVAL otherwise) and returns the number of
// expirations since the last read (or settime) as a u64, or EAGAIN when there are none. poll is
// IN while that number is positive. Readiness is computed from the clock whenever the timer is
// looked at (read, poll, gettime); waiters sleep until next_deadline() (the Pollee is timed), so
// blocking reads, poll and epoll wake on time. TFD_TIMER_CANCEL_ON_SET is accepted but the timer
// is never cancelled (the platform clock reports no "clock was set" events).
// CLOCK_MONOTONIC values are nanoseconds since `monotonic_origin`, the platform Instant the shim
// uses as the guest's monotonic zero.
#pragma once

#include <concepts>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>

#include "../error.hpp"
#include "../fd/open_file.hpp"
#include "../ipc/detail/anon_inode.hpp"
#include "../platform/concepts.hpp"
#include "../sync/mutex.hpp"
#include "pollee.hpp"

namespace litebox::event {

/// timerfd_create(2) flags.
namespace timerfd_flags {
inline constexpr std::uint32_t nonblock = fd::open_flags::nonblock;
inline constexpr std::uint32_t close_on_exec = fd::open_flags::close_on_exec;
inline constexpr std::uint32_t valid = nonblock | close_on_exec;
/// timerfd_settime(2) flags.
inline constexpr std::uint32_t absolute = 1;       // TFD_TIMER_ABSTIME
inline constexpr std::uint32_t cancel_on_set = 2;  // TFD_TIMER_CANCEL_ON_SET (accepted, never fires)
}  // namespace timerfd_flags

/// Linux clock ids a timerfd accepts.
enum class ClockId : int { realtime = 0, monotonic = 1, boottime = 7, realtime_alarm = 8, boottime_alarm = 9 };

/// struct itimerspec.
struct TimerSpec {
    fd::Timespec interval;
    fd::Timespec value;
    friend constexpr bool operator==(const TimerSpec&, const TimerSpec&) = default;
};

namespace detail {
inline constexpr std::int64_t nanoseconds_per_second = 1'000'000'000;
inline constexpr std::int64_t max_nanoseconds = std::numeric_limits<std::int64_t>::max();

/// A valid timespec in nanoseconds (saturating), or EINVAL.
inline Result<std::int64_t> timespec_to_ns(const fd::Timespec& ts) noexcept {
    if (ts.seconds < 0 || ts.nanoseconds < 0 || ts.nanoseconds >= nanoseconds_per_second) return Errno::inval;
    if (ts.seconds > (max_nanoseconds - ts.nanoseconds) / nanoseconds_per_second) return max_nanoseconds;
    return ts.seconds * nanoseconds_per_second + ts.nanoseconds;
}
inline fd::Timespec ns_to_timespec(std::int64_t ns) noexcept {
    if (ns <= 0) return {};
    return fd::Timespec{ns / nanoseconds_per_second, ns % nanoseconds_per_second};
}
inline std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
    if (b > 0 && a > max_nanoseconds - b) return max_nanoseconds;
    return a + b;
}
}  // namespace detail

template <typename P>
    requires platform::TimeProvider<P>
class TimerFd final : public fd::OpenFile<P>, public DeadlineSource<P> {
public:
    using Instant = typename P::Instant;

    TimerFd(const P& platform, ClockId clock, std::uint32_t flags, Instant monotonic_origin)
        : fd::OpenFile<P>(fd::open_flags::read_write | (flags & timerfd_flags::nonblock)), m_platform(&platform),
          m_clock(clock), m_realtime(clock == ClockId::realtime), m_origin(monotonic_origin), m_pollee(this, owner_of(this)),
          m_inode(ipc::detail::allocate_anonymous_inode()) {}

    /// timerfd_settime(2): returns the old setting.
    Result<TimerSpec> settime(std::uint32_t flags, const TimerSpec& spec) {
        if ((flags & ~(timerfd_flags::absolute | timerfd_flags::cancel_on_set)) != 0) return Errno::inval;
        LITEBOX_TRY_ASSIGN(const std::int64_t value, detail::timespec_to_ns(spec.value));
        LITEBOX_TRY_ASSIGN(const std::int64_t interval, detail::timespec_to_ns(spec.interval));
        const std::int64_t now = clock_ns();
        TimerSpec old = m_state.with_lock([&](State& s) {
            s.update(now);
            TimerSpec previous = s.spec(now);
            s.ticks = s.notified_ticks = 0;
            s.armed = value != 0;
            s.interval = interval;
            s.settime_flags = flags;
            if (s.armed) s.next = (flags & timerfd_flags::absolute) != 0 ? value : detail::saturating_add(now, value);
            return previous;
        });
        m_pollee.notify(deadline_changed);  // waiters recompute how long to sleep
        return old;
    }

    /// timerfd_gettime(2): time until the next expiry (0 when disarmed) and the interval.
    TimerSpec gettime() {
        const std::int64_t now = clock_ns();
        return m_state.with_lock([&](State& s) {
            s.update(now);
            return s.spec(now);
        });
    }

    Result<std::size_t> read(std::span<std::byte> out) override {
        if (out.size() < sizeof(std::uint64_t)) return Errno::inval;
        const std::int64_t now = clock_ns();
        LITEBOX_TRY_ASSIGN(const std::uint64_t ticks, m_state.with_lock([&](State& s) -> Result<std::uint64_t> {
            s.update(now);
            if (s.ticks == 0) return Errno::again;
            const std::uint64_t t = s.ticks;
            s.ticks = s.notified_ticks = 0;
            return t;
        }));
        std::memcpy(out.data(), &ticks, sizeof ticks);
        return sizeof ticks;
    }

    Result<fd::Stat> stat() override { return ipc::detail::anonymous_stat(m_inode, 0600); }
    [[nodiscard]] std::string_view anonymous_name() const noexcept override { return "[timerfd]"; }
    /// Linux's lines: clock, unread expirations, the last settime's flags (octal), and the setting.
    [[nodiscard]] std::string fdinfo_lines() override {
        const std::int64_t now = clock_ns();
        const auto [ticks, flags, spec] = m_state.with_lock([&](State& s) {
            s.update(now);
            return std::tuple{s.ticks, s.settime_flags, s.spec(now)};
        });
        const auto pair = [](const fd::Timespec& t) {
            return "(" + std::to_string(t.seconds) + ", " + std::to_string(t.nanoseconds) + ")";
        };
        return "clockid: " + std::to_string(static_cast<int>(m_clock)) + "\nticks: " + std::to_string(ticks) +
               "\nsettime flags: 0" + std::to_string(flags & 07) + "\nit_value: " + pair(spec.value) +
               "\nit_interval: " + pair(spec.interval) + "\n";
    }

    fd::Events poll(fd::Events /*interest*/) override {
        const std::int64_t now = clock_ns();
        bool fresh = false;
        const bool ready = m_state.with_lock([&](State& s) {
            s.update(now);
            fresh = s.ticks > s.notified_ticks;
            s.notified_ticks = s.ticks;
            return s.ticks > 0;
        });
        // An expiry seen for the first time is a change: tell observers (epoll, other waiters).
        if (fresh) m_pollee.notify(fd::events::in | fd::events::rdnorm);
        return ready ? (fd::events::in | fd::events::rdnorm) : fd::Events{0};
    }
    Pollee<P>* pollee() noexcept override { return &m_pollee; }

    /// The platform instant of the next expiry, or nullopt when disarmed.
    std::optional<Instant> next_deadline() override {
        const std::int64_t now = clock_ns();
        const auto next = m_state.with_lock([&](State& s) -> std::optional<std::int64_t> {
            s.update(now);
            if (!s.armed) return std::nullopt;
            return s.next;
        });
        if (!next) return std::nullopt;
        if (!m_realtime) return m_origin.checked_add(platform::Duration{*next});
        // Wall-clock timer: sleep for the wall-clock distance; a clock step is caught on re-poll.
        const std::int64_t delta = *next - now;
        return m_platform->now().checked_add(platform::Duration{delta > 0 ? delta : 0});
    }

private:
    struct State {
        bool armed = false;
        std::int64_t next = 0;       // clock value of the next expiry
        std::int64_t interval = 0;   // 0: one-shot
        std::uint64_t ticks = 0;     // expirations not yet read
        std::uint64_t notified_ticks = 0;
        std::uint32_t settime_flags = 0;

        void update(std::int64_t now) noexcept {
            if (!armed || now < next) return;
            if (interval <= 0) {
                ticks += 1;
                armed = false;
                return;
            }
            const auto periods = static_cast<std::uint64_t>((now - next) / interval) + 1;
            ticks = ticks > std::numeric_limits<std::uint64_t>::max() - periods ? std::numeric_limits<std::uint64_t>::max()
                                                                                 : ticks + periods;
            if (periods > static_cast<std::uint64_t>((detail::max_nanoseconds - next) / interval)) {
                armed = false;  // the next expiry is beyond the end of time
                return;
            }
            next += static_cast<std::int64_t>(periods) * interval;
        }
        [[nodiscard]] TimerSpec spec(std::int64_t now) const noexcept {
            TimerSpec s;
            s.interval = detail::ns_to_timespec(interval);
            if (armed) s.value = detail::ns_to_timespec(next - now > 0 ? next - now : 1);
            return s;
        }
    };

    /// The timer's clock now, in nanoseconds.
    [[nodiscard]] std::int64_t clock_ns() const {
        if (m_realtime) {
            const auto since = m_platform->current_time().duration_since(P::SystemTime::unix_epoch());
            return since.has_value() ? since.value().count() : -since.backwards_by().count();
        }
        const auto since = m_platform->now().checked_duration_since(m_origin);
        return since ? since->count() : 0;
    }

    const P* m_platform;
    const ClockId m_clock;
    const bool m_realtime;
    const Instant m_origin;
    sync::Mutex<P, State> m_state;
    Pollee<P> m_pollee;
    const std::uint64_t m_inode;
};

/// timerfd_create(2). `monotonic_origin` is the platform Instant at which the guest's
/// CLOCK_MONOTONIC reads 0. O_CLOEXEC in `flags` is for the shim's descriptor table.
template <typename P>
    requires platform::TimeProvider<P>
Result<std::shared_ptr<fd::OpenFile<P>>> make_timerfd(const P& platform, int clock, std::uint32_t flags,
                                                     typename P::Instant monotonic_origin) {
    if ((flags & ~timerfd_flags::valid) != 0) return Errno::inval;
    switch (static_cast<ClockId>(clock)) {
    case ClockId::realtime:
    case ClockId::monotonic:
    case ClockId::boottime:
        break;
    case ClockId::realtime_alarm:
    case ClockId::boottime_alarm:
        return Errno::perm;  // needs CAP_WAKE_ALARM
    default:
        return Errno::inval;
    }
    return std::shared_ptr<fd::OpenFile<P>>(
        std::make_shared<TimerFd<P>>(platform, static_cast<ClockId>(clock), flags, monotonic_origin));
}

/// timerfd_create(2) with the platform's own monotonic zero (an Instant that default-constructs
/// to its origin, such as platform::MonotonicInstant).
template <typename P>
    requires platform::TimeProvider<P> && std::default_initializable<typename P::Instant>
Result<std::shared_ptr<fd::OpenFile<P>>> make_timerfd(const P& platform, int clock, std::uint32_t flags = 0) {
    return make_timerfd(platform, clock, flags, typename P::Instant{});
}

/// The TimerFd behind a file, or nullptr (timerfd_settime on another file: EINVAL).
template <typename P>
TimerFd<P>* timerfd_of(fd::OpenFile<P>& file) noexcept {
    return owner_as<TimerFd<P>>(file);
}

}  // namespace litebox::event
