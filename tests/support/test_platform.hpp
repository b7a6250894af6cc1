// TestPlatform: a deterministic platform for tests. Time is virtual: it stands still until a test
// calls VirtualClock::advance(), and timed waits (RawMutex::block_or_timeout) expire only when the
// virtual clock passes their deadline. The debug log is captured so that tests can read it.
//
// All TestPlatform instances in a process share one VirtualClock (raw mutexes cannot reach a
// platform instance, so the clock they time out against must be global).
#pragma once

#include <litebox/litebox.hpp>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace litebox::test {

class VirtualClock {
public:
    static VirtualClock& instance() {
        static VirtualClock clock;
        return clock;
    }

    platform::MonotonicInstant now() {
        std::lock_guard lock(m_mutex);
        return platform::MonotonicInstant::from_nanoseconds(m_now_ns);
    }

    /// Moves virtual time forward and wakes every timed waiter whose deadline has passed.
    void advance(platform::Duration d) {
        {
            std::lock_guard lock(m_mutex);
            m_now_ns += static_cast<std::uint64_t>(d.count());
        }
        m_changed.notify_all();
    }

    /// Blocks (in real time) until at least `n` threads sleep in a timed wait. Lets a test advance
    /// the clock only after the thread under test has started waiting.
    void wait_for_timed_sleepers(std::size_t n) {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [&] { return m_timed_sleepers >= n; });
    }

    [[nodiscard]] std::size_t timed_sleepers() {
        std::lock_guard lock(m_mutex);
        return m_timed_sleepers;
    }

private:
    friend class VirtualRawMutex;
    VirtualClock() = default;

    std::mutex m_mutex;  // guards time, sleeper counts and every VirtualRawMutex's wake sequence
    std::condition_variable m_changed;
    std::uint64_t m_now_ns = 1'000'000'000;  // start at 1 s so that "before start" is representable
    std::size_t m_timed_sleepers = 0;
};

/// A raw mutex that waits on the VirtualClock's condition variable; timeouts use virtual time.
class VirtualRawMutex {
public:
    VirtualRawMutex() = default;
    VirtualRawMutex(const VirtualRawMutex&) = delete;
    VirtualRawMutex& operator=(const VirtualRawMutex&) = delete;

    std::atomic<std::uint32_t>& underlying_atomic() noexcept { return m_value; }

    platform::WaitOutcome block(std::uint32_t expected) {
        auto& clock = VirtualClock::instance();
        std::unique_lock lock(clock.m_mutex);
        if (m_value.load(std::memory_order_acquire) != expected) return platform::WaitOutcome::immediately_woken;
        const std::uint64_t seq = m_wake_seq;
        clock.m_changed.wait(lock, [&] { return m_wake_seq != seq; });
        return platform::WaitOutcome::unblocked;
    }

    platform::WaitOutcome block_or_timeout(std::uint32_t expected, platform::Duration timeout) {
        auto& clock = VirtualClock::instance();
        std::unique_lock lock(clock.m_mutex);
        if (m_value.load(std::memory_order_acquire) != expected) return platform::WaitOutcome::immediately_woken;
        if (timeout <= platform::Duration{0}) return platform::WaitOutcome::timed_out;
        const std::uint64_t deadline = clock.m_now_ns + static_cast<std::uint64_t>(timeout.count());
        const std::uint64_t seq = m_wake_seq;
        ++clock.m_timed_sleepers;
        clock.m_changed.notify_all();  // wait_for_timed_sleepers watchers
        clock.m_changed.wait(lock, [&] { return m_wake_seq != seq || clock.m_now_ns >= deadline; });
        --clock.m_timed_sleepers;
        return m_wake_seq != seq ? platform::WaitOutcome::unblocked : platform::WaitOutcome::timed_out;
    }

    std::size_t wake_many(std::size_t n) {
        if (n == 0) return 0;
        auto& clock = VirtualClock::instance();
        {
            std::lock_guard lock(clock.m_mutex);
            ++m_wake_seq;
        }
        clock.m_changed.notify_all();
        return n;  // an upper bound, as the contract allows
    }
    bool wake_one() { return wake_many(1) != 0; }
    std::size_t wake_all() { return wake_many(SIZE_MAX); }

private:
    std::atomic<std::uint32_t> m_value{0};
    std::uint64_t m_wake_seq = 0;  // guarded by VirtualClock::m_mutex
};

/// The test platform: virtual time, captured log, in-process memory, no punchthrough, no network.
class TestPlatform : public platform::HostMemoryPointers, public platform::DenyAllPunchthrough, public platform::NoNetwork {
public:
    using RawMutex = VirtualRawMutex;
    using Instant = platform::MonotonicInstant;
    using SystemTime = platform::UnixTime;

    /// Wall-clock time at virtual instant 0: 2026-01-01T00:00:00Z.
    static constexpr std::int64_t wall_clock_base_ns = 1'767'225'600LL * 1'000'000'000LL;

    Instant now() const { return VirtualClock::instance().now(); }
    SystemTime current_time() const {
        return SystemTime::from_nanoseconds_since_epoch(wall_clock_base_ns +
                                                        static_cast<std::int64_t>(now().nanoseconds()));
    }
    void debug_log_print(std::string_view message) const {
        std::lock_guard lock(m_log_mutex);
        m_log.emplace_back(message);
    }

    [[nodiscard]] std::vector<std::string> log_lines() const {
        std::lock_guard lock(m_log_mutex);
        return m_log;
    }
    static void advance(platform::Duration d) { VirtualClock::instance().advance(d); }

private:
    mutable std::mutex m_log_mutex;
    mutable std::vector<std::string> m_log;
};

}  // namespace litebox::test
