// FutexTable<P>: wait-on-address for guest futexes, built only on the platform's RawMutex.
//
// Contract: wait(key, bitset, check, deadline) runs `check()` under the bucket lock — it re-reads
// the guest word and says whether it still holds the expected value — and sleeps only if it does,
// so that a wake() issued after the guest changed the word is never lost. wait returns ok() when
// woken, Errno::again when check() said the value differed, Errno::timedout at the deadline, or the
// error check() returned (e.g. Errno::fault). wake(key, bitset, n) wakes up to n waiters whose
// bitsets intersect and returns how many. requeue moves waiters between keys (FUTEX_REQUEUE).
// Keys are opaque 64-bit values chosen by the shim (e.g. address-space id mixed with address).
// The number of waiters is bounded by the number of threads blocked in wait().
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "../error.hpp"
#include "raw_lock.hpp"

namespace litebox::sync {

template <platform::RawMutexProvider P>
class FutexTable {
public:
    /// Number of hash buckets (each with its own lock).
    static constexpr std::size_t bucket_count = 64;
    static constexpr std::uint32_t match_any = 0xffffffffu;

    FutexTable() = default;
    FutexTable(const FutexTable&) = delete;
    FutexTable& operator=(const FutexTable&) = delete;

    /// Blocks the caller on `key`. `check` is `Result<bool>()`: true to sleep, false for EAGAIN.
    /// `deadline` is on the platform's monotonic clock; nullopt waits forever.
    template <typename Check>
        requires platform::TimeProvider<P>
    Result<void> wait(const P& platform, std::uint64_t key, std::uint32_t bitset, Check&& check,
                      std::optional<typename P::Instant> deadline = std::nullopt) {
        if (bitset == 0) return Errno::inval;
        Waiter self;
        self.key.store(key, std::memory_order_relaxed);
        self.bitset = bitset;
        Bucket& bucket = bucket_for(key);
        {
            bucket.lock.lock();
            Result<bool> still = check();
            if (!still.has_value() || !*still) {
                bucket.lock.unlock();
                if (!still.has_value()) return still.error();
                return Errno::again;
            }
            bucket.push_back(&self);
            bucket.lock.unlock();
        }
        for (;;) {
            if (self.woken.underlying_atomic().load(std::memory_order_acquire) != 0) {
                // The waker still holds our (final) bucket's lock while it touches `self`; pass
                // through that lock so that `self` outlives its last access.
                Bucket& last = bucket_for(self.key.load(std::memory_order_relaxed));
                last.lock.lock();
                last.lock.unlock();
                return ok();
            }
            if (!deadline) {
                (void)self.woken.block(0);
                continue;
            }
            const auto remaining = deadline->checked_duration_since(platform.now());
            if (remaining && *remaining > platform::Duration{0}) {
                (void)self.woken.block_or_timeout(0, *remaining);
                continue;
            }
            // Timed out: leave the queue, unless a waker dequeued us first (then we were woken).
            Bucket& current = lock_own_bucket(self);
            const bool was_woken = self.woken.underlying_atomic().load(std::memory_order_acquire) != 0;
            if (!was_woken) current.remove(&self);
            current.lock.unlock();
            if (was_woken) return ok();
            return Errno::timedout;
        }
    }

    /// Wakes up to `count` waiters on `key` whose bitset intersects `bitset`.
    std::size_t wake(std::uint64_t key, std::uint32_t bitset, std::size_t count) noexcept {
        if (count == 0) return 0;
        Bucket& bucket = bucket_for(key);
        std::size_t woken = 0;
        bucket.lock.lock();
        for (Waiter* w = bucket.head; w && woken < count;) {
            Waiter* next = w->next;
            if (w->key.load(std::memory_order_relaxed) == key && (w->bitset & bitset) != 0) {
                bucket.remove(w);
                signal(w);
                ++woken;
            }
            w = next;
        }
        bucket.lock.unlock();
        return woken;
    }

    /// Wakes up to `wake_count` waiters on `from` and moves up to `requeue_count` others to `to`.
    /// Returns the number woken plus the number moved (as FUTEX_CMP_REQUEUE does).
    std::size_t requeue(std::uint64_t from, std::uint64_t to, std::size_t wake_count, std::size_t requeue_count) noexcept {
        Bucket& a = bucket_for(from);
        Bucket& b = bucket_for(to);
        lock_pair(a, b);
        std::size_t woken = 0;
        std::size_t moved = 0;
        for (Waiter* w = a.head; w;) {
            Waiter* next = w->next;
            if (w->key.load(std::memory_order_relaxed) == from) {
                if (woken < wake_count) {
                    a.remove(w);
                    signal(w);
                    ++woken;
                } else if (moved < requeue_count) {
                    a.remove(w);
                    w->key.store(to, std::memory_order_relaxed);
                    b.push_back(w);
                    ++moved;
                } else {
                    break;
                }
            }
            w = next;
        }
        unlock_pair(a, b);
        return woken + moved;
    }

    /// Number of threads currently queued on `key` (for tests and diagnostics).
    std::size_t waiter_count(std::uint64_t key) noexcept {
        Bucket& bucket = bucket_for(key);
        bucket.lock.lock();
        std::size_t n = 0;
        for (Waiter* w = bucket.head; w; w = w->next) n += (w->key.load(std::memory_order_relaxed) == key) ? 1 : 0;
        bucket.lock.unlock();
        return n;
    }

private:
    struct Waiter {
        std::atomic<std::uint64_t> key{0};  // changed only with its bucket(s) locked (requeue)
        std::uint32_t bitset = match_any;
        Waiter* prev = nullptr;
        Waiter* next = nullptr;
        typename P::RawMutex woken;  // 0 while queued; 1 once a waker dequeued it
    };
    struct Bucket {
        RawLock<P> lock;
        Waiter* head = nullptr;
        Waiter* tail = nullptr;
        void push_back(Waiter* w) noexcept {
            w->next = nullptr;
            w->prev = tail;
            if (tail) tail->next = w;
            else head = w;
            tail = w;
        }
        void remove(Waiter* w) noexcept {
            if (w->prev) w->prev->next = w->next;
            else head = w->next;
            if (w->next) w->next->prev = w->prev;
            else tail = w->prev;
            w->prev = w->next = nullptr;
        }
    };

    static void signal(Waiter* w) noexcept {
        // Called with the waiter's bucket locked. The waiter passes through that lock before it
        // returns, so `w` stays alive until the caller unlocks the bucket.
        w->woken.underlying_atomic().store(1, std::memory_order_release);
        (void)w->woken.wake_one();
    }

    /// Locks the bucket that currently holds `w`; requeue may move it while we wait for the lock.
    Bucket& lock_own_bucket(Waiter& w) noexcept {
        for (;;) {
            const std::uint64_t key = w.key.load(std::memory_order_relaxed);
            Bucket& bucket = bucket_for(key);
            bucket.lock.lock();
            if (w.key.load(std::memory_order_relaxed) == key) return bucket;
            bucket.lock.unlock();
        }
    }

    Bucket& bucket_for(std::uint64_t key) noexcept {
        std::uint64_t h = key * 0x9e3779b97f4a7c15ull;
        return m_buckets[static_cast<std::size_t>(h >> 58) % bucket_count];
    }
    static void lock_pair(Bucket& a, Bucket& b) noexcept {
        if (&a == &b) { a.lock.lock(); return; }
        if (&a < &b) { a.lock.lock(); b.lock.lock(); }
        else { b.lock.lock(); a.lock.lock(); }
    }
    static void unlock_pair(Bucket& a, Bucket& b) noexcept {
        a.lock.unlock();
        if (&a != &b) b.lock.unlock();
    }

    std::array<Bucket, bucket_count> m_buckets{};
};

}  // namespace litebox::sync
