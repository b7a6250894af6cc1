// SecureMinimalPlatform: the seed article's "deny-all" platform, made real in C++.
//
// Everything the library may ask of the host is in this one struct, written out member by member
// (only the guest-pointer types come from a library mix-in, litebox::platform::HostMemoryPointers):
//
//   RawMutexProvider     a parking lot on std::mutex + std::condition_variable (real, timed waits)
//   IPInterfaceProvider  no network: sending fails with ENETUNREACH, receiving would block (EAGAIN)
//   TimeProvider         std::chrono::steady_clock and std::chrono::system_clock
//   PunchthroughProvider two named operations are understood, every request is denied and logged
//   DebugLogProvider     one line on stderr
//   RawPointerProvider   guest memory is this process's memory (HostMemoryPointers)
//
// docs/writing-a-platform.md walks through this file.
#pragma once

#include <litebox/litebox.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace minimal {

namespace lp = litebox::platform;

// ---- RawMutexProvider -------------------------------------------------------------------------
//
// A raw mutex is a 32-bit atomic that threads can sleep on ("futex-like"). Sleepers park in a
// process-wide table of buckets, chosen by the raw mutex's address. Each sleeper queues a node on
// its own stack; a wake dequeues nodes for that address in FIFO order, so wake counts are exact.
// Wakers never touch the raw mutex object itself, only the bucket: a thread may destroy a raw
// mutex as soon as it stopped using it, even while another thread is still inside wake_one().
namespace parking {

struct Sleeper {
    const void* address = nullptr;
    std::condition_variable wakeup;
    bool woken = false;  // guarded by the bucket's mutex
    Sleeper* previous = nullptr;
    Sleeper* next = nullptr;
};

struct Bucket {
    std::mutex mutex;
    Sleeper* head = nullptr;
    Sleeper* tail = nullptr;

    void enqueue(Sleeper& s) noexcept {
        s.previous = tail;
        s.next = nullptr;
        if (tail) tail->next = &s;
        else head = &s;
        tail = &s;
    }
    void unlink(Sleeper& s) noexcept {
        if (s.previous) s.previous->next = s.next;
        else head = s.next;
        if (s.next) s.next->previous = s.previous;
        else tail = s.previous;
        s.previous = s.next = nullptr;
    }
};

inline constexpr std::size_t bucket_count = 128;

inline Bucket& bucket_for(const void* address) noexcept {
    static std::array<Bucket, bucket_count> buckets;
    const auto key = reinterpret_cast<std::uintptr_t>(address);
    return buckets[static_cast<std::size_t>((key >> 2) * 0x9e3779b97f4a7c15ull >> 57) % bucket_count];
}

}  // namespace parking

class ParkingRawMutex {
public:
    ParkingRawMutex() noexcept = default;  // holds 0, no sleepers
    ParkingRawMutex(const ParkingRawMutex&) = delete;
    ParkingRawMutex& operator=(const ParkingRawMutex&) = delete;

    std::atomic<std::uint32_t>& underlying_atomic() noexcept { return m_value; }

    lp::WaitOutcome block(std::uint32_t expected) noexcept {
        auto& bucket = parking::bucket_for(this);
        std::unique_lock lock(bucket.mutex);
        // Checked under the bucket lock: a waker changes the value first and then takes this lock
        // to wake, so it either finds us queued or we see its new value. No wake-up is lost.
        if (m_value.load(std::memory_order_acquire) != expected) return lp::WaitOutcome::immediately_woken;
        parking::Sleeper self;
        self.address = this;
        bucket.enqueue(self);
        self.wakeup.wait(lock, [&] { return self.woken; });
        return lp::WaitOutcome::unblocked;  // the waker already dequeued us
    }

    lp::WaitOutcome block_or_timeout(std::uint32_t expected, lp::Duration timeout) noexcept {
        using Clock = std::chrono::steady_clock;
        const auto start = Clock::now();
        auto& bucket = parking::bucket_for(this);
        std::unique_lock lock(bucket.mutex);
        if (m_value.load(std::memory_order_acquire) != expected) return lp::WaitOutcome::immediately_woken;
        if (timeout <= lp::Duration{0}) return lp::WaitOutcome::timed_out;
        // A timeout too large to add to the clock is "forever".
        const bool forever = timeout > std::chrono::duration_cast<lp::Duration>(Clock::time_point::max() - start);
        parking::Sleeper self;
        self.address = this;
        bucket.enqueue(self);
        if (forever) {
            self.wakeup.wait(lock, [&] { return self.woken; });
            return lp::WaitOutcome::unblocked;
        }
        const auto deadline = start + std::chrono::duration_cast<Clock::duration>(timeout);
        if (self.wakeup.wait_until(lock, deadline, [&] { return self.woken; })) return lp::WaitOutcome::unblocked;
        bucket.unlink(self);  // still queued: nobody woke us
        return lp::WaitOutcome::timed_out;
    }

    std::size_t wake_many(std::size_t n) noexcept {
        auto& bucket = parking::bucket_for(this);
        std::lock_guard lock(bucket.mutex);
        std::size_t woken = 0;
        for (parking::Sleeper* s = bucket.head; s != nullptr && woken < n;) {
            parking::Sleeper* next = s->next;
            if (s->address == this) {
                bucket.unlink(*s);
                s->woken = true;
                s->wakeup.notify_one();  // under the lock: the sleeper cannot return (and free s) yet
                ++woken;
            }
            s = next;
        }
        return woken;  // exact
    }
    bool wake_one() noexcept { return wake_many(1) == 1; }
    std::size_t wake_all() noexcept { return wake_many(std::numeric_limits<std::size_t>::max()); }

private:
    std::atomic<std::uint32_t> m_value{0};
};

// ---- PunchthroughProvider: the named extra host operations this platform understands ----------
//
// Declaring them lets the library (or an embedder) ask for them by type; the platform's policy,
// get_punchthrough_token_for, then decides. This one says no to everything.
struct ReadHostFile {
    using Success = std::string;       // the file's contents
    using Failure = litebox::Errno;    // what the host said
    static constexpr std::string_view name = "read-host-file";
    std::string path;
};
struct GetHostEnvironment {
    using Success = std::string;
    using Failure = litebox::Errno;
    static constexpr std::string_view name = "get-host-environment";
    std::string variable;
};

// ---- the platform -----------------------------------------------------------------------------

struct SecureMinimalPlatform : lp::HostMemoryPointers {  // RawPointerProvider: in-process memory
    // RawMutexProvider
    using RawMutex = ParkingRawMutex;

    // IPInterfaceProvider: no network at all.
    litebox::Result<void> send_ip_packet(std::span<const std::byte> /*packet*/) const noexcept {
        return litebox::Errno::netunreach;
    }
    litebox::Result<std::size_t> receive_ip_packet(std::span<std::byte> /*buffer*/) const noexcept {
        return litebox::Errno::again;  // nothing is ever waiting
    }

    // TimeProvider: the host's monotonic and wall clocks.
    using Instant = lp::MonotonicInstant;
    using SystemTime = lp::UnixTime;
    Instant now() const noexcept {
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch()).count();
        return Instant::from_nanoseconds(ns < 0 ? 0 : static_cast<std::uint64_t>(ns));
    }
    SystemTime current_time() const noexcept {
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
        return SystemTime::from_nanoseconds_since_epoch(static_cast<std::int64_t>(ns));
    }

    // PunchthroughProvider: two operations are known; no request ever gets a token.
    using Punchthrough = lp::EitherPunchthrough<ReadHostFile, GetHostEnvironment>;
    struct PunchthroughToken {  // never handed out; the type must still say what execute() returns
        lp::PunchthroughResult<Punchthrough::Success, Punchthrough::Failure> execute() && {
            return lp::PunchthroughError<Punchthrough::Failure>::unsupported();
        }
    };
    std::optional<PunchthroughToken> get_punchthrough_token_for(Punchthrough request) const {
        // The audit point: every extra host operation anyone asks for is decided (and logged) here.
        std::string line = "punchthrough denied: ";
        line += request.operation_name();
        debug_log_print(line);
        return std::nullopt;
    }

    // DebugLogProvider: one line on stderr.
    void debug_log_print(std::string_view message) const noexcept {
        std::fwrite(message.data(), 1, message.size(), stderr);
        std::fputc('\n', stderr);
    }
};

static_assert(lp::Provider<SecureMinimalPlatform>);

}  // namespace minimal
