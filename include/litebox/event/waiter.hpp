// Waiter<P>: what one thread sleeps on while it waits for readiness, and the handle another thread
// uses to interrupt that wait (the shim delivers signals through it: the wait returns EINTR).
//
// Contract: a Waiter belongs to one thread (the shim keeps one per guest thread); only that thread
// calls prepare() and sleep(). wake() and interrupt() may be called from any thread at any time,
// also while no wait is in progress. The protocol is
//     token = prepare();  /* re-check the condition */  sleep(platform, token, deadline);
// and sleep returns at once if wake() happened after prepare(), so no wake-up is lost. sleep may
// also return spuriously (ok()); callers loop. An interrupt is sticky: every sleep fails with
// Errno::intr until clear_interrupt() (the shim clears it once it has delivered the signal).
// Sleeping uses only the platform's RawMutex; deadlines are on the platform's monotonic clock.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "../error.hpp"
#include "../platform/concepts.hpp"
#include "pollee.hpp"

namespace litebox::event {

template <typename P>
class Waiter final : public Observer<P> {
public:
    using Instant = typename P::Instant;

    Waiter() : m_wake(std::make_shared<detail::WakeWord<P>>()) {}
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;

    /// Interrupts the current (or the next) wait of the owning thread: it returns Errno::intr.
    void interrupt() noexcept {
        m_interrupted.store(true, std::memory_order_seq_cst);
        wake();
    }
    /// True after interrupt() (until clear_interrupt()) or while sleeping is forbidden.
    [[nodiscard]] bool interrupt_pending() const noexcept {
        return m_interrupted.load(std::memory_order_seq_cst) || m_sleep_forbidden.load(std::memory_order_seq_cst);
    }
    void clear_interrupt() noexcept { m_interrupted.store(false, std::memory_order_seq_cst); }
    /// While forbidden, every wait fails at once with Errno::intr, as after interrupt(), and
    /// clear_interrupt() does not lift it. For a runtime that serves a call on a thread that must
    /// never sleep and redoes the call elsewhere on EINTR: the call itself may clear interrupts (a
    /// temporary signal mask recomputes the thread's interrupt state), which must not let it sleep.
    void forbid_sleep(bool forbidden) noexcept { m_sleep_forbidden.store(forbidden, std::memory_order_seq_cst); }
    /// True while forbid_sleep(true) is in effect: the call will be redone where it may sleep, so
    /// it should not have effects it cannot take back before it would wait.
    [[nodiscard]] bool sleep_forbidden() const noexcept { return m_sleep_forbidden.load(std::memory_order_seq_cst); }

    /// Starts a wait: returns the token to pass to sleep().
    [[nodiscard]] std::uint32_t prepare() const noexcept {
        return word().load(std::memory_order_acquire) & ~sleeping_bit;
    }

    /// Sleeps until wake() or interrupt() (after prepare() returned `token`), or until `deadline`
    /// (nullopt: no deadline). Returns ok() when woken (possibly spuriously), Errno::intr when
    /// interrupted, Errno::timedout when the platform clock has reached the deadline.
    Result<void> sleep(const P& platform, std::uint32_t token, std::optional<Instant> deadline) noexcept {
        if (interrupt_pending()) return Errno::intr;
        std::optional<platform::Duration> remaining;
        if (deadline) {
            remaining = deadline->checked_duration_since(platform.now());
            if (!remaining || *remaining <= platform::Duration{0}) return Errno::timedout;
        }
        auto& w = word();
        std::uint32_t expected = token;
        if (!w.compare_exchange_strong(expected, token | sleeping_bit, std::memory_order_acq_rel)) return ok();
        if (interrupt_pending()) {
            w.fetch_and(~sleeping_bit, std::memory_order_acq_rel);
            return Errno::intr;
        }
        if (remaining) (void)m_wake->word.block_or_timeout(token | sleeping_bit, *remaining);
        else (void)m_wake->word.block(token | sleeping_bit);
        w.fetch_and(~sleeping_bit, std::memory_order_acq_rel);
        if (interrupt_pending()) return Errno::intr;
        return ok();
    }

    /// True while the owning thread sleeps in sleep() (a snapshot: /proc's 'S').
    [[nodiscard]] bool sleeping() const noexcept { return (word().load(std::memory_order_acquire) & sleeping_bit) != 0; }

    /// Ends the current sleep (or makes the next sleep with an older token return at once).
    void wake() noexcept {
        if (mark()) (void)m_wake->word.wake_all();
    }

    // Observer: any notification of a subscribed Pollee wakes the sleeper; the Pollee does the
    // (system-call) wake-up after releasing its lock.
    detail::WakeWordPtr<P> on_events(Events /*events*/) noexcept override { return mark() ? m_wake : nullptr; }
    detail::WakeWordPtr<P> on_close() noexcept override { return mark() ? m_wake : nullptr; }

private:
    static constexpr std::uint32_t sleeping_bit = 1;

    /// Advances the wake sequence; true when the owner may be asleep (it needs a wake-up).
    bool mark() noexcept { return (word().fetch_add(2, std::memory_order_acq_rel) & sleeping_bit) != 0; }
    std::atomic<std::uint32_t>& word() const noexcept { return m_wake->word.underlying_atomic(); }

    const detail::WakeWordPtr<P> m_wake;  // (wake sequence << 1) | sleeping
    std::atomic<bool> m_interrupted{false};
    std::atomic<bool> m_sleep_forbidden{false};
};

/// How a blocking operation may wait: the platform (for its clock), the caller's Waiter (nullptr:
/// the wait cannot be interrupted; a private Waiter is used), and an optional deadline on the
/// platform's monotonic clock (nullopt: wait forever).
template <typename P>
struct WaitContext {
    const P* platform = nullptr;
    Waiter<P>* waiter = nullptr;
    std::optional<typename P::Instant> deadline;

    WaitContext(const P& p, Waiter<P>* w = nullptr, std::optional<typename P::Instant> d = std::nullopt)
        : platform(&p), waiter(w), deadline(d) {}
};

/// The deadline `timeout` from now on the platform clock; nullopt (forever) on overflow.
template <typename P>
std::optional<typename P::Instant> deadline_after(const P& platform, platform::Duration timeout) {
    if (timeout < platform::Duration{0}) timeout = platform::Duration{0};
    return platform.now().checked_add(timeout);
}

/// The earlier of two optional deadlines (nullopt means never).
template <typename I>
std::optional<I> earlier(const std::optional<I>& a, const std::optional<I>& b) {
    if (!a) return b;
    if (!b) return a;
    return *b < *a ? b : a;
}

}  // namespace litebox::event
