// TimerTable<P> firing and driving (see timer_table.hpp).
#pragma once

#include <utility>

#include "../timer_table.hpp"

namespace litebox::shim::linux_abi {

template <typename P>
    requires platform::TimeProvider<P> && platform::RawMutexProvider<P>
std::size_t TimerTable<P>::fire_due() {
    struct Fire {
        std::weak_ptr<Process<P>> process;
        std::weak_ptr<Thread<P>> thread;
        bool to_thread = false;
        TimerSignal signal;
    };
    constexpr std::int64_t max_ns = std::numeric_limits<std::int64_t>::max();
    const std::int64_t now_monotonic = clock_ns(TimerClock::monotonic), now_wall = clock_ns(TimerClock::wall);
    std::vector<Fire> fires;
    m_state.with_lock([&](State& s) {
        for (auto it = s.processes.begin(); it != s.processes.end();) {
            Entry& e = it->second;
            if (e.process.expired()) {
                it = s.processes.erase(it);
                continue;
            }
            const auto expire = [&](Timer& timer, bool posix) {
                const std::int64_t now = timer.clock == TimerClock::wall ? now_wall : now_monotonic;
                if (!timer.armed || now < timer.next) return;
                std::uint64_t periods = 1;
                if (timer.interval <= 0) {
                    timer.armed = false;
                } else {
                    periods = static_cast<std::uint64_t>((now - timer.next) / timer.interval) + 1;
                    if (periods > static_cast<std::uint64_t>((max_ns - timer.next) / timer.interval)) {
                        timer.armed = false;  // the next expiry is beyond the end of time
                    } else {
                        timer.next += static_cast<std::int64_t>(periods) * timer.interval;
                        // Keep the signal gap: grid points before now + gap become overruns.
                        if (timer.next - now < min_timer_signal_gap_ns) {
                            const std::int64_t short_by = min_timer_signal_gap_ns - (timer.next - now);
                            const std::int64_t skip = (short_by + timer.interval - 1) / timer.interval;
                            if (timer.next > max_ns - skip * timer.interval) {
                                timer.armed = false;
                            } else {
                                timer.next += skip * timer.interval;
                                timer.skipped += static_cast<std::uint64_t>(skip);
                            }
                        }
                    }
                }
                const std::uint64_t missed = periods - 1 + std::exchange(timer.skipped, 0);
                const int overrun = missed > static_cast<std::uint64_t>(std::numeric_limits<int>::max())
                                        ? std::numeric_limits<int>::max() : static_cast<int>(missed);
                if (posix) timer.overrun_last = overrun;
                if (posix && !timer.notify.signal) return;
                Fire fire{e.process, timer.thread, posix && timer.notify.thread_id != 0, {}};
                fire.signal = posix ? TimerSignal{timer.notify.signo, abi::si_timer, timer.id, overrun, timer.notify.value}
                                    : TimerSignal{abi::sigalrm, abi::si_kernel, 0, 0, 0};
                fires.push_back(std::move(fire));
            };
            expire(e.real, false);
            for (auto& [id, timer] : e.posix) expire(timer, true);
            ++it;
        }
    });
    std::size_t sent = 0;
    for (Fire& fire : fires) {
        const ProcessPtr process = fire.process.lock();
        if (!process) continue;
        const bool exiting = process->state().with_lock([](auto& st) { return st.exit_status.has_value(); });
        if (exiting) continue;
        std::shared_ptr<Thread<P>> thread;
        if (fire.to_thread) {
            thread = fire.thread.lock();
            if (!thread || thread->killed()) continue;  // the target thread is gone
        }
        deliver(*process, thread.get(), fire.signal);
        ++sent;
    }
    return sent;
}

template <typename P>
    requires platform::TimeProvider<P> && platform::RawMutexProvider<P>
void TimerTable<P>::deliver(Process<P>& process, Thread<P>* thread, const TimerSignal& signal) {
    if (m_sink) m_sink(process, thread, signal);
}

template <typename P>
    requires platform::TimeProvider<P> && platform::RawMutexProvider<P>
std::optional<typename P::Instant> TimerTable<P>::next_deadline() {
    std::optional<std::int64_t> monotonic, wall;
    m_state.with_lock([&](State& s) {
        const auto consider = [&](const Timer& timer) {
            if (!timer.armed) return;
            auto& earliest = timer.clock == TimerClock::wall ? wall : monotonic;
            if (!earliest || timer.next < *earliest) earliest = timer.next;
        };
        for (auto& [pid, e] : s.processes) {
            consider(e.real);
            for (auto& [id, timer] : e.posix) consider(timer);
        }
    });
    std::optional<Instant> deadline;
    if (monotonic) deadline = m_boot.checked_add(platform::Duration{*monotonic});
    if (wall) {
        // A wall-clock expiry is slept for as a distance; a clock step is seen at the next wake.
        const std::int64_t delta = *wall - clock_ns(TimerClock::wall);
        const auto at = m_platform->now().checked_add(platform::Duration{delta > 0 ? delta : 0});
        if (at && (!deadline || *at < *deadline)) deadline = at;
    }
    return deadline;
}

template <typename P>
    requires platform::TimeProvider<P> && platform::RawMutexProvider<P>
void TimerTable<P>::drive() {
    while (!m_stopped.load(std::memory_order_acquire)) {
        const std::uint32_t token = m_driver.prepare();
        (void)fire_due();
        if (m_stopped.load(std::memory_order_acquire)) break;
        (void)m_driver.sleep(*m_platform, token, next_deadline());
    }
}

}  // namespace litebox::shim::linux_abi
