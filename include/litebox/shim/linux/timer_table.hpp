// TimerTable<P>: the box's signal-sending timers -- each process's ITIMER_REAL (alarm, setitimer)
// and its POSIX timers (timer_create) -- and what fires them.
//
// Contract:
// - Values are nanoseconds on the timer's clock: the guest's CLOCK_MONOTONIC (the box's uptime;
//   ITIMER_REAL and CLOCK_MONOTONIC/BOOTTIME timers) or the wall clock (CLOCK_REALTIME/TAI).
//   An armed timer expires when its clock reaches `next`; with an interval it is reloaded on the
//   same grid (next += k * interval), and expirations the driver did not fire one by one are the
//   overrun of the signal it sends (timer_getoverrun, si_overrun).
// - Nothing fires by itself (the core has no threads): fire_due() sends what is due, and a
//   runtime runs drive() on a thread of its own, which sleeps until the earliest expiry (woken
//   when a timer is armed) and fires. A thread-less runtime or a test calls fire_due().
// - Signals go through the sink (set_signal_sink); by default they are posted to the shim's
//   signal books (ProcessTable::post_to_process / post_to_thread). The sink runs on the firing
//   thread without this table's lock; it must not call back into the table.
// - Timers belong to a process: fork's child has none (a new process), execve deletes the POSIX
//   timers and keeps ITIMER_REAL, and a process that exited (or whose pid came back for another
//   process) has none. Only a process that armed or created a timer has an entry (one per pid:
//   at most pid_max; fire_due drops those of processes that are gone). A driver never fires one timer more often than every
//   `min_timer_signal_gap_ns`: a guest cannot make it spin with a 1 ns interval.
// - Lock order: this table's lock is taken alone (never with process or signal locks held by it).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "../../error.hpp"
#include "../../event/waiter.hpp"
#include "../../platform/concepts.hpp"
#include "../../sync/mutex.hpp"
#include "constants.hpp"
#include "task.hpp"

namespace litebox::shim::linux_abi {

/// The shortest time between two signals of one periodic timer (0.1 ms); expirations in between
/// count as overruns.
inline constexpr std::int64_t min_timer_signal_gap_ns = 100'000;

/// A timer's clock: the guest's monotonic clock or the wall clock.
enum class TimerClock { monotonic, wall };

/// How a POSIX timer notifies (struct sigevent, checked by the caller).
struct TimerNotify {
    bool signal = true;     // false: SIGEV_NONE
    int signo = abi::sigalrm;
    std::uint64_t value = 0;  // sigev_value (si_value)
    int thread_id = 0;        // SIGEV_THREAD_ID: the target thread (0: the process)
    bool value_is_id = false; // no sigevent given: si_value is the timer's id
};

/// What one expiry sends.
struct TimerSignal {
    int signo = 0;
    int code = abi::si_kernel;  // SI_KERNEL (ITIMER_REAL) or SI_TIMER (POSIX timer)
    int timer_id = 0;
    int overrun = 0;
    std::uint64_t value = 0;
};

/// A timer's setting in nanoseconds (value: time to the next expiry, 0 when disarmed).
struct TimerSetting {
    std::int64_t value = 0;
    std::int64_t interval = 0;
};

template <typename P>
    requires platform::TimeProvider<P> && platform::RawMutexProvider<P>
class TimerTable {
public:
    using Instant = typename P::Instant;
    using ProcessPtr = std::shared_ptr<Process<P>>;
    /// Delivers one expiry to `process` (or to `thread` of it when not null).
    using SignalSink = std::function<void(Process<P>& process, Thread<P>* thread, const TimerSignal& signal)>;

    TimerTable(const P& platform, Instant boot, std::size_t max_posix_timers) noexcept
        : m_platform(&platform), m_boot(boot), m_max_posix(max_posix_timers) {}
    TimerTable(const TimerTable&) = delete;
    TimerTable& operator=(const TimerTable&) = delete;

    /// Set before any timer can fire (the runtime's, or the shim's default).
    void set_signal_sink(SignalSink sink) { m_sink = std::move(sink); }

    /// setitimer(ITIMER_REAL) / alarm: arms (value > 0) or disarms; returns the old setting.
    TimerSetting set_real(const ProcessPtr& process, std::int64_t value, std::int64_t interval) {
        const std::int64_t now = clock_ns(TimerClock::monotonic);
        const TimerSetting old = m_state.with_lock([&](State& s) {
            if (value <= 0 && existing(s, process) == nullptr) return TimerSetting{};  // nothing to disarm
            Timer& timer = entry(s, process).real;
            const TimerSetting previous = timer.setting(now, true);
            timer.arm(value > 0, saturating_add(now, value), value > 0 ? interval : 0);
            return previous;
        });
        if (value > 0) m_driver.wake();
        return old;
    }
    /// getitimer(ITIMER_REAL).
    TimerSetting get_real(const ProcessPtr& process) {
        const std::int64_t now = clock_ns(TimerClock::monotonic);
        return m_state.with_lock([&](State& s) {
            const Entry* e = existing(s, process);
            return e != nullptr ? e->real.setting(now, true) : TimerSetting{};
        });
    }

    /// timer_create: the new timer's id, or EAGAIN beyond the per-process limit.
    Result<int> create(const ProcessPtr& process, TimerClock clock, const TimerNotify& notify, std::weak_ptr<Thread<P>> thread) {
        return m_state.with_lock([&](State& s) -> Result<int> {
            Entry& e = entry(s, process);
            if (e.posix.size() >= m_max_posix) return Errno::again;
            int id = e.next_id;
            while (e.posix.contains(id)) id = id == std::numeric_limits<int>::max() ? 0 : id + 1;
            e.next_id = id == std::numeric_limits<int>::max() ? 0 : id + 1;
            Timer timer;
            timer.clock = clock;
            timer.notify = notify;
            timer.thread = std::move(thread);
            timer.id = id;
            if (notify.value_is_id) timer.notify.value = static_cast<std::uint64_t>(id);
            e.posix.emplace(id, std::move(timer));
            return id;
        });
    }
    /// timer_settime: `value` relative, or absolute on the timer's clock; returns the old setting.
    Result<TimerSetting> settime(const ProcessPtr& process, int id, bool absolute, std::int64_t value, std::int64_t interval) {
        LITEBOX_TRY_ASSIGN(const TimerClock clock, clock_of(process, id));
        const std::int64_t now = clock_ns(clock);
        LITEBOX_TRY_ASSIGN(const TimerSetting old, m_state.with_lock([&](State& s) -> Result<TimerSetting> {
            Timer* timer = find(s, process, id);
            if (timer == nullptr) return Errno::inval;
            const TimerSetting previous = timer->setting(now, false);
            timer->arm(value > 0, absolute ? value : saturating_add(now, value), interval);
            timer->overrun_last = 0;
            return previous;
        }));
        if (value > 0) m_driver.wake();
        return old;
    }
    /// timer_gettime.
    Result<TimerSetting> gettime(const ProcessPtr& process, int id) {
        LITEBOX_TRY_ASSIGN(const TimerClock clock, clock_of(process, id));
        const std::int64_t now = clock_ns(clock);
        return m_state.with_lock([&](State& s) -> Result<TimerSetting> {
            Timer* timer = find(s, process, id);
            if (timer == nullptr) return Errno::inval;
            return timer->setting(now, false);
        });
    }
    /// timer_getoverrun: the overrun of the timer's last signal.
    Result<int> overrun(const ProcessPtr& process, int id) {
        return m_state.with_lock([&](State& s) -> Result<int> {
            Timer* timer = find(s, process, id);
            if (timer == nullptr) return Errno::inval;
            return timer->overrun_last;
        });
    }
    /// timer_delete.
    Result<void> remove(const ProcessPtr& process, int id) {
        return m_state.with_lock([&](State& s) -> Result<void> {
            Entry* e = existing(s, process);
            if (e == nullptr || e->posix.erase(id) == 0) return Errno::inval;
            return ok();
        });
    }
    /// execve: the POSIX timers are deleted; ITIMER_REAL keeps running.
    void exec(const ProcessPtr& process) {
        m_state.with_lock([&](State& s) {
            if (Entry* e = existing(s, process)) e->posix.clear();
        });
    }
    /// Number of POSIX timers `process` holds.
    [[nodiscard]] std::size_t posix_count(const ProcessPtr& process) {
        return m_state.with_lock([&](State& s) {
            const Entry* e = existing(s, process);
            return e != nullptr ? e->posix.size() : std::size_t{0};
        });
    }

    /// Sends the signals of every timer that expired; returns how many were sent.
    std::size_t fire_due();
    /// The platform instant of the earliest armed expiry (nullopt: none).
    std::optional<Instant> next_deadline();
    /// A runtime's timer thread: fires timers on time until stop().
    void drive();
    void stop() noexcept {
        m_stopped.store(true, std::memory_order_release);
        m_driver.wake();
    }

private:
    struct Timer {
        TimerClock clock = TimerClock::monotonic;
        bool armed = false;
        std::int64_t next = 0;      // clock value of the next expiry
        std::int64_t interval = 0;  // 0: one-shot
        TimerNotify notify;
        std::weak_ptr<Thread<P>> thread;  // SIGEV_THREAD_ID target
        int id = 0;
        int overrun_last = 0;
        std::uint64_t skipped = 0;  // expirations passed over to keep the signal gap

        void arm(bool on, std::int64_t at, std::int64_t every) noexcept {
            armed = on;
            next = at;
            interval = every;
        }
        /// Linux reports an armed timer that is due as still 1 us (ITIMER_REAL) or 1 ns away.
        [[nodiscard]] TimerSetting setting(std::int64_t now, bool itimer) const noexcept {
            TimerSetting s{0, interval};
            if (armed) s.value = next - now > 0 ? next - now : (itimer ? 1000 : 1);
            return s;
        }
    };
    struct Entry {
        std::weak_ptr<Process<P>> process;
        Timer real;
        std::map<int, Timer> posix;
        int next_id = 0;
    };
    struct State {
        std::map<int, Entry> processes;  // by pid
    };

    /// The entry of `process`, fresh when its pid was another process's.
    static Entry& entry(State& s, const ProcessPtr& process) {
        Entry& e = s.processes[process->pid()];
        if (e.process.lock() != process) {
            e = Entry{};
            e.process = process;
        }
        return e;
    }
    /// The entry of `process` if it has one (never one of a previous holder of its pid).
    static Entry* existing(State& s, const ProcessPtr& process) {
        auto it = s.processes.find(process->pid());
        return it == s.processes.end() || it->second.process.lock() != process ? nullptr : &it->second;
    }
    static Timer* find(State& s, const ProcessPtr& process, int id) {
        Entry* e = existing(s, process);
        if (e == nullptr) return nullptr;
        auto timer = e->posix.find(id);
        return timer == e->posix.end() ? nullptr : &timer->second;
    }
    Result<TimerClock> clock_of(const ProcessPtr& process, int id) {
        return m_state.with_lock([&](State& s) -> Result<TimerClock> {
            Timer* timer = find(s, process, id);
            if (timer == nullptr) return Errno::inval;
            return timer->clock;
        });
    }
    static std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
        if (b > 0 && a > std::numeric_limits<std::int64_t>::max() - b) return std::numeric_limits<std::int64_t>::max();
        return a + b;
    }
    [[nodiscard]] std::int64_t clock_ns(TimerClock clock) const {
        if (clock == TimerClock::wall) {
            const auto since = m_platform->current_time().duration_since(P::SystemTime::unix_epoch());
            return since.has_value() ? since.value().count() : -since.backwards_by().count();
        }
        return m_platform->now().checked_duration_since(m_boot).value_or(platform::Duration{0}).count();
    }
    void deliver(Process<P>& process, Thread<P>* thread, const TimerSignal& signal);

    const P* m_platform;
    const Instant m_boot;
    const std::size_t m_max_posix;
    sync::Mutex<P, State> m_state;
    SignalSink m_sink;
    event::Waiter<P> m_driver;
    std::atomic<bool> m_stopped{false};
};

}  // namespace litebox::shim::linux_abi

#include "detail/timer_table_impl.hpp"
