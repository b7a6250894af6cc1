// RawLock<P>: a plain mutual-exclusion lock built only on the platform's RawMutex (the classic
// three-state futex lock: 0 unlocked, 1 locked, 2 locked with possible sleepers).
//
// Contract: lock() returns with the lock held by the caller; unlock() may only be called by the
// holder. Not recursive. Fairness is not guaranteed (a releasing thread may re-acquire first).
#pragma once

#include <atomic>
#include <cstdint>

#include "../platform/concepts.hpp"

namespace litebox::sync {

namespace detail {
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}
/// How many times a contended lock spins before it sleeps.
inline constexpr int lock_spin_limit = 100;
}  // namespace detail

template <platform::RawMutexProvider P>
class RawLock {
public:
    RawLock() = default;
    RawLock(const RawLock&) = delete;
    RawLock& operator=(const RawLock&) = delete;

    void lock() noexcept {
        std::uint32_t expected = unlocked;
        if (atomic().compare_exchange_strong(expected, locked, std::memory_order_acquire, std::memory_order_relaxed)) return;
        lock_slow(expected);
    }

    [[nodiscard]] bool try_lock() noexcept {
        std::uint32_t expected = unlocked;
        return atomic().compare_exchange_strong(expected, locked, std::memory_order_acquire, std::memory_order_relaxed);
    }

    void unlock() noexcept {
        if (atomic().exchange(unlocked, std::memory_order_release) == contended) m_raw.wake_one();
    }

    /// Re-acquires after a condition-variable sleep: always marks the lock contended, because other
    /// sleepers may be queued behind us.
    void lock_contended() noexcept {
        while (atomic().exchange(contended, std::memory_order_acquire) != unlocked) m_raw.block(contended);
    }

private:
    static constexpr std::uint32_t unlocked = 0;
    static constexpr std::uint32_t locked = 1;
    static constexpr std::uint32_t contended = 2;

    std::atomic<std::uint32_t>& atomic() noexcept { return m_raw.underlying_atomic(); }

    void lock_slow(std::uint32_t seen) noexcept {
        for (int spin = 0; spin < detail::lock_spin_limit; ++spin) {
            if (seen == unlocked) {
                if (atomic().compare_exchange_weak(seen, locked, std::memory_order_acquire, std::memory_order_relaxed)) return;
                continue;
            }
            if (seen == contended) break;  // others already sleep: join them
            detail::cpu_relax();
            seen = atomic().load(std::memory_order_relaxed);
        }
        lock_contended();
    }

    typename P::RawMutex m_raw;
};

}  // namespace litebox::sync
