// StdPlatform: a portable platform on the C++ standard library alone. Raw mutexes are parked on a
// hashed table of std::mutex + std::condition_variable (real timeouts), clocks are std::chrono,
// the log goes to stderr, every punchthrough is denied, there is no network, and guest memory is
// this process's memory.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <mutex>
#include <string_view>

#include "../concepts.hpp"
#include "../trivial.hpp"

namespace litebox::platform::std_platform {

namespace detail {
/// A parking lot: sleepers on any address wait on the bucket its address hashes to.
struct ParkingBucket {
    std::mutex mutex;
    std::condition_variable condition;
    std::size_t sleepers = 0;
};
inline constexpr std::size_t parking_bucket_count = 256;

inline ParkingBucket& parking_bucket_for(const void* address) noexcept {
    static std::array<ParkingBucket, parking_bucket_count> buckets;
    const auto key = reinterpret_cast<std::uintptr_t>(address);
    return buckets[((key >> 2) * 0x9e3779b97f4a7c15ull >> 56) % parking_bucket_count];
}
}  // namespace detail

/// A raw mutex whose sleepers park in the shared lot. Wakes notify the whole bucket (sleepers on
/// other addresses see a spurious wake-up, which the RawMutex contract allows).
class StdRawMutex {
public:
    StdRawMutex() noexcept = default;
    StdRawMutex(const StdRawMutex&) = delete;
    StdRawMutex& operator=(const StdRawMutex&) = delete;

    std::atomic<std::uint32_t>& underlying_atomic() noexcept { return m_value; }

    WaitOutcome block(std::uint32_t expected) noexcept {
        auto& bucket = detail::parking_bucket_for(this);
        std::unique_lock lock(bucket.mutex);
        if (m_value.load(std::memory_order_acquire) != expected) return WaitOutcome::immediately_woken;
        ++bucket.sleepers;
        bucket.condition.wait(lock);
        --bucket.sleepers;
        return WaitOutcome::unblocked;
    }

    WaitOutcome block_or_timeout(std::uint32_t expected, Duration timeout) noexcept {
        auto& bucket = detail::parking_bucket_for(this);
        std::unique_lock lock(bucket.mutex);
        if (m_value.load(std::memory_order_acquire) != expected) return WaitOutcome::immediately_woken;
        if (timeout <= Duration{0}) return WaitOutcome::timed_out;
        ++bucket.sleepers;
        const auto status = bucket.condition.wait_for(lock, timeout);
        --bucket.sleepers;
        return status == std::cv_status::timeout ? WaitOutcome::timed_out : WaitOutcome::unblocked;
    }

    std::size_t wake_many(std::size_t n) noexcept {
        if (n == 0) return 0;
        auto& bucket = detail::parking_bucket_for(this);
        std::lock_guard lock(bucket.mutex);
        const std::size_t sleepers = bucket.sleepers;
        if (sleepers == 0) return 0;
        bucket.condition.notify_all();
        return sleepers < n ? sleepers : n;  // an upper bound: sleepers may belong to other addresses
    }
    bool wake_one() noexcept { return wake_many(1) != 0; }
    std::size_t wake_all() noexcept { return wake_many(std::numeric_limits<std::size_t>::max()); }

private:
    std::atomic<std::uint32_t> m_value{0};
};

/// The portable platform. Stateless: any number of boxes may share one instance.
class StdPlatform : public HostMemoryPointers, public DenyAllPunchthrough, public NoNetwork {
public:
    using RawMutex = StdRawMutex;
    using Instant = MonotonicInstant;
    using SystemTime = UnixTime;

    Instant now() const noexcept {
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
        return Instant::from_nanoseconds(ns < 0 ? 0 : static_cast<std::uint64_t>(ns));
    }
    SystemTime current_time() const noexcept {
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
        return SystemTime::from_nanoseconds_since_epoch(static_cast<std::int64_t>(ns));
    }
    void debug_log_print(std::string_view message) const noexcept {
        std::fwrite(message.data(), 1, message.size(), stderr);
        std::fputc('\n', stderr);
    }
};

}  // namespace litebox::platform::std_platform

namespace litebox::platform {
using std_platform::StdPlatform;
}
