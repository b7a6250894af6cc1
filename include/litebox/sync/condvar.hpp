// Condvar<P>: a condition variable over Mutex<P, T>, built on the platform's RawMutex; timed waits
// are measured with the platform's TimeProvider.
//
// Contract: wait() atomically releases the guard's lock and sleeps until notified (or
// spuriously), then re-acquires the lock before returning. The predicate forms loop until the
// predicate holds (or, for the timed forms, until the deadline passes, then return the predicate's
// last value). notify_one/notify_all never block. A notification that happens after a waiter has
// released the lock is never lost.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

#include "mutex.hpp"

namespace litebox::sync {

template <platform::RawMutexProvider P>
class Condvar {
public:
    Condvar() = default;
    Condvar(const Condvar&) = delete;
    Condvar& operator=(const Condvar&) = delete;

    template <typename T>
    void wait(MutexGuard<P, T>& guard) noexcept {
        m_waiters.fetch_add(1, std::memory_order_seq_cst);
        const std::uint32_t seq = m_seq.underlying_atomic().load(std::memory_order_seq_cst);
        guard.raw_lock().unlock();
        (void)m_seq.block(seq);
        m_waiters.fetch_sub(1, std::memory_order_relaxed);
        guard.raw_lock().lock_contended();
    }

    template <typename T, typename Pred>
    void wait(MutexGuard<P, T>& guard, Pred&& pred) {
        while (!pred(*guard)) wait(guard);
    }

    /// Sleeps at most `timeout` (a single wait; may return early). Returns true if it timed out.
    template <typename T>
    bool wait_for_once(MutexGuard<P, T>& guard, platform::Duration timeout) noexcept {
        if (timeout <= platform::Duration{0}) return true;
        m_waiters.fetch_add(1, std::memory_order_seq_cst);
        const std::uint32_t seq = m_seq.underlying_atomic().load(std::memory_order_seq_cst);
        guard.raw_lock().unlock();
        const auto outcome = m_seq.block_or_timeout(seq, timeout);
        m_waiters.fetch_sub(1, std::memory_order_relaxed);
        guard.raw_lock().lock_contended();
        return outcome == platform::WaitOutcome::timed_out;
    }

    /// Waits until pred(value) holds or the platform clock reaches `deadline`. Returns pred's value.
    template <typename T, typename Pred>
        requires platform::TimeProvider<P>
    bool wait_until(const P& platform, MutexGuard<P, T>& guard, typename P::Instant deadline, Pred&& pred) {
        while (!pred(*guard)) {
            const auto remaining = deadline.checked_duration_since(platform.now());
            if (!remaining || *remaining <= platform::Duration{0}) return pred(*guard);
            (void)wait_for_once(guard, *remaining);
        }
        return true;
    }

    /// Waits until pred(value) holds or `timeout` has elapsed on the platform clock.
    template <typename T, typename Pred>
        requires platform::TimeProvider<P>
    bool wait_for(const P& platform, MutexGuard<P, T>& guard, platform::Duration timeout, Pred&& pred) {
        const auto deadline = platform.now().checked_add(timeout);
        if (!deadline) {  // effectively infinite
            wait(guard, pred);
            return true;
        }
        return wait_until(platform, guard, *deadline, std::forward<Pred>(pred));
    }

    // A notification bumps the sequence and asks the platform to wake sleepers only when a wait is
    // in progress: a waiter counts itself (under the lock) before it reads the sequence, and both
    // sides use sequentially consistent operations, so a notifier that sees no waiter comes before
    // that waiter's read of the sequence, and the waiter's block() returns at once.
    void notify_one() noexcept {
        m_seq.underlying_atomic().fetch_add(1, std::memory_order_seq_cst);
        if (m_waiters.load(std::memory_order_seq_cst) != 0) (void)m_seq.wake_one();
    }
    void notify_all() noexcept {
        m_seq.underlying_atomic().fetch_add(1, std::memory_order_seq_cst);
        if (m_waiters.load(std::memory_order_seq_cst) != 0) (void)m_seq.wake_all();
    }

private:
    typename P::RawMutex m_seq;
    std::atomic<std::uint32_t> m_waiters{0};  // threads between counting themselves and waking up
};

}  // namespace litebox::sync
