// FutexTable: wait/wake on a guest word, EAGAIN when the word differs, timeouts (virtual and real),
// bitsets, requeue, and the race between a wake and a waiter that is timing out (no lost wake-up,
// no use of a returned waiter: run under ASan/TSan).
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <chrono>
#include <optional>
#include <random>
#include <thread>
#include <tuple>
#include <vector>

#include "../../examples/minimal_platform/minimal_platform.hpp"
#include "support/platforms.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

namespace lp = litebox::platform;
using litebox::Errno;
using litebox::Result;
using litebox::sync::FutexTable;
using litebox::test::TestPlatform;
using namespace std::chrono_literals;

namespace {

using SyncPlatforms = std::tuple<lp::StdPlatform, lp::LinuxPlatform, TestPlatform, minimal::SecureMinimalPlatform>;
using RealTimeSyncPlatforms = std::tuple<lp::StdPlatform, lp::LinuxPlatform, minimal::SecureMinimalPlatform>;
constexpr std::uint32_t any = FutexTable<TestPlatform>::match_any;

template <typename F>
bool eventually(F&& done, std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(100us);
    }
    return true;
}

/// A guest futex word and the check a shim would pass: "the word still holds `expected`".
struct Word {
    std::atomic<std::uint32_t> value{0};
    auto holds(std::uint32_t expected) {
        return [this, expected] { return Result<bool>(value.load(std::memory_order_acquire) == expected); };
    }
};

/// One waiter thread: waits on `key` and records the result.
template <typename P>
struct WaiterThread {
    std::optional<Result<void>> result;
    std::atomic<bool> done{false};
    std::thread thread;

    template <typename Check>
    void start(FutexTable<P>& table, const P& platform, std::uint64_t key, std::uint32_t bitset, Check check,
               std::optional<typename P::Instant> deadline = std::nullopt) {
        thread = std::thread([this, &table, &platform, key, bitset, check, deadline] {
            result = table.wait(platform, key, bitset, check, deadline);
            done = true;
        });
    }
    void join() { thread.join(); }
    [[nodiscard]] bool woken_ok() const { return result && result->has_value(); }
};

}  // namespace

TEMPLATE_LIST_TEST_CASE("FutexTable: EAGAIN when the word differs, errors from the check, EINVAL for bitset 0", "[sync][futex]", SyncPlatforms) {
    TestType platform;
    FutexTable<TestType> table;
    Word word;
    word.value = 3;
    auto differs = table.wait(platform, 1, any, word.holds(2));
    REQUIRE_FALSE(differs.has_value());
    CHECK(differs.error() == Errno::again);
    auto fault = table.wait(platform, 1, any, [] { return Result<bool>(Errno::fault); });
    REQUIRE_FALSE(fault.has_value());
    CHECK(fault.error() == Errno::fault);
    auto no_bits = table.wait(platform, 1, 0, word.holds(3));
    REQUIRE_FALSE(no_bits.has_value());
    CHECK(no_bits.error() == Errno::inval);
    CHECK(table.waiter_count(1) == 0u);
    CHECK(table.wake(1, any, 10) == 0u);
    CHECK(table.wake(1, any, 0) == 0u);
}

TEMPLATE_LIST_TEST_CASE("FutexTable: wait, then wake", "[sync][futex]", SyncPlatforms) {
    TestType platform;
    FutexTable<TestType> table;
    Word word;
    WaiterThread<TestType> waiter;
    waiter.start(table, platform, 42, any, word.holds(0));
    REQUIRE(eventually([&] { return table.waiter_count(42) == 1; }));
    CHECK(table.wake(43, any, 1) == 0u);  // another key wakes nobody
    CHECK(table.waiter_count(42) == 1u);
    word.value = 1;
    CHECK(table.wake(42, any, 5) == 1u);
    waiter.join();
    CHECK(waiter.woken_ok());
    CHECK(table.waiter_count(42) == 0u);
}

TEMPLATE_LIST_TEST_CASE("FutexTable: wake counts and FIFO order", "[sync][futex]", SyncPlatforms) {
    TestType platform;
    FutexTable<TestType> table;
    Word word;
    constexpr int waiters = 3;
    std::vector<WaiterThread<TestType>> threads(waiters);
    for (int i = 0; i < waiters; ++i) {
        threads[static_cast<std::size_t>(i)].start(table, platform, 7, any, word.holds(0));
        REQUIRE(eventually([&] { return table.waiter_count(7) == static_cast<std::size_t>(i + 1); }));
    }
    CHECK(table.wake(7, any, 1) == 1u);
    threads[0].join();  // the first to wait is the first woken
    CHECK(threads[0].woken_ok());
    CHECK(table.waiter_count(7) == 2u);
    CHECK(table.wake(7, any, 10) == 2u);
    threads[1].join();
    threads[2].join();
    CHECK(threads[1].woken_ok());
    CHECK(threads[2].woken_ok());
}

TEMPLATE_LIST_TEST_CASE("FutexTable: bitsets select the waiters a wake reaches", "[sync][futex]", SyncPlatforms) {
    TestType platform;
    FutexTable<TestType> table;
    Word word;
    WaiterThread<TestType> low;
    WaiterThread<TestType> high;
    low.start(table, platform, 9, 0b01, word.holds(0));
    high.start(table, platform, 9, 0b10, word.holds(0));
    REQUIRE(eventually([&] { return table.waiter_count(9) == 2; }));
    CHECK(table.wake(9, 0b100, 10) == 0u);  // intersects neither
    CHECK(table.wake(9, 0b10, 10) == 1u);
    high.join();
    CHECK(high.woken_ok());
    CHECK_FALSE(low.done.load());
    CHECK(table.waiter_count(9) == 1u);
    CHECK(table.wake(9, 0b11, 10) == 1u);
    low.join();
    CHECK(low.woken_ok());
}

TEMPLATE_LIST_TEST_CASE("FutexTable: requeue wakes some and moves the rest", "[sync][futex]", SyncPlatforms) {
    TestType platform;
    FutexTable<TestType> table;
    Word word;
    constexpr std::uint64_t from = 100;
    constexpr std::uint64_t to = 200;
    std::vector<WaiterThread<TestType>> threads(4);
    for (std::size_t i = 0; i < threads.size(); ++i) {
        threads[i].start(table, platform, from, any, word.holds(0));
        REQUIRE(eventually([&] { return table.waiter_count(from) == i + 1; }));
    }
    // Wake 1, move 2, leave 1: returns woken + moved.
    CHECK(table.requeue(from, to, 1, 2) == 3u);
    threads[0].join();
    CHECK(threads[0].woken_ok());
    CHECK(table.waiter_count(from) == 1u);
    CHECK(table.waiter_count(to) == 2u);
    // Moved waiters answer to the new key only.
    CHECK(table.wake(to, any, 10) == 2u);
    threads[1].join();
    threads[2].join();
    CHECK(threads[1].woken_ok());
    CHECK(threads[2].woken_ok());
    CHECK_FALSE(threads[3].done.load());
    CHECK(table.wake(from, any, 10) == 1u);
    threads[3].join();
    CHECK(threads[3].woken_ok());
}

TEST_CASE("FutexTable: a requeued waiter times out from its new queue", "[sync][futex]") {
    auto& clock = litebox::test::VirtualClock::instance();
    REQUIRE(clock.timed_sleepers() == 0u);
    TestPlatform platform;
    FutexTable<TestPlatform> table;
    Word word;
    WaiterThread<TestPlatform> waiter;
    waiter.start(table, platform, 1, any, word.holds(0), platform.now().checked_add(10ms));
    clock.wait_for_timed_sleepers(1);
    CHECK(table.requeue(1, 2, 0, 1) == 1u);
    CHECK(table.waiter_count(2) == 1u);
    TestPlatform::advance(10ms);
    waiter.join();
    REQUIRE(waiter.result.has_value());
    REQUIRE_FALSE(waiter.result->has_value());
    CHECK(waiter.result->error() == Errno::timedout);
    CHECK(table.waiter_count(1) == 0u);
    CHECK(table.waiter_count(2) == 0u);
}

TEST_CASE("FutexTable: timeout on the virtual clock", "[sync][futex]") {
    auto& clock = litebox::test::VirtualClock::instance();
    REQUIRE(clock.timed_sleepers() == 0u);
    TestPlatform platform;
    FutexTable<TestPlatform> table;
    Word word;
    WaiterThread<TestPlatform> waiter;
    const auto start = platform.now();
    waiter.start(table, platform, 5, any, word.holds(0), start.checked_add(50ms));
    clock.wait_for_timed_sleepers(1);
    TestPlatform::advance(49ms);
    CHECK(clock.timed_sleepers() == 1u);
    CHECK_FALSE(waiter.done.load());
    CHECK(table.waiter_count(5) == 1u);
    TestPlatform::advance(1ms);
    waiter.join();
    REQUIRE(waiter.result.has_value());
    REQUIRE_FALSE(waiter.result->has_value());
    CHECK(waiter.result->error() == Errno::timedout);
    CHECK(table.waiter_count(5) == 0u);
    CHECK(platform.now().checked_duration_since(start) == std::optional<lp::Duration>(50ms));
    // A deadline already passed: no sleep at all.
    auto past = table.wait(platform, 5, any, word.holds(0), start);
    REQUIRE_FALSE(past.has_value());
    CHECK(past.error() == Errno::timedout);
}

TEMPLATE_LIST_TEST_CASE("FutexTable: timeout in real time", "[sync][futex]", RealTimeSyncPlatforms) {
    TestType platform;
    FutexTable<TestType> table;
    Word word;
    const auto start = platform.now();
    auto result = table.wait(platform, 5, any, word.holds(0), start.checked_add(20ms));
    const auto waited = platform.now().checked_duration_since(start);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error() == Errno::timedout);
    REQUIRE(waited.has_value());
    CHECK(*waited >= 20ms);
    CHECK(table.waiter_count(5) == 0u);
}

TEMPLATE_LIST_TEST_CASE("FutexTable: a wake racing a timeout is never lost or double-counted", "[sync][futex]", RealTimeSyncPlatforms) {
    // Each round, a waiter with a very short deadline and a waker race. Whatever happens, the wake
    // reports exactly the waiters that then return ok(); a waiter that timed out was not counted.
    // The waiter's queue node lives on its stack: ASan/TSan catch any touch after it returned.
    TestType platform;
    FutexTable<TestType> table;
    Word word;
    std::mt19937 random(12345);
    constexpr int rounds = 300;
    std::size_t woken_by_wake = 0;
    int returned_ok = 0;
    int timed_out = 0;
    int played = 0;
    const auto time_budget = std::chrono::steady_clock::now() + 20s;
    for (int round = 0; round < rounds && std::chrono::steady_clock::now() < time_budget; ++round, ++played) {
        const auto timeout = std::chrono::microseconds(random() % 200);
        const auto delay = std::chrono::microseconds(random() % 200);
        WaiterThread<TestType> waiter;
        waiter.start(table, platform, 77, any, word.holds(0), platform.now().checked_add(timeout));
        std::this_thread::sleep_for(delay);
        woken_by_wake += table.wake(77, any, 1);
        waiter.join();
        REQUIRE(waiter.result.has_value());
        if (waiter.result->has_value()) ++returned_ok;
        else if (waiter.result->error() == Errno::timedout) ++timed_out;
    }
    CHECK(woken_by_wake == static_cast<std::size_t>(returned_ok));
    CHECK(table.waiter_count(77) == 0u);
    INFO("woken " << returned_ok << ", timed out " << timed_out);
    CHECK(played > 0);
    CHECK(returned_ok + timed_out == played);
}

TEST_CASE("FutexTable: a wake racing a virtual-clock timeout is never lost or double-counted", "[sync][futex]") {
    auto& clock = litebox::test::VirtualClock::instance();
    REQUIRE(clock.timed_sleepers() == 0u);
    TestPlatform platform;
    FutexTable<TestPlatform> table;
    Word word;
    constexpr int rounds = 200;
    std::size_t woken_by_wake = 0;
    int returned_ok = 0;
    int timed_out = 0;
    for (int round = 0; round < rounds; ++round) {
        WaiterThread<TestPlatform> waiter;
        waiter.start(table, platform, 78, any, word.holds(0), platform.now().checked_add(1ms));
        clock.wait_for_timed_sleepers(1);
        // The clock passes the deadline while the wake runs on another thread.
        std::thread advancer([] { TestPlatform::advance(1ms); });
        woken_by_wake += table.wake(78, any, 1);
        advancer.join();
        waiter.join();
        REQUIRE(waiter.result.has_value());
        if (waiter.result->has_value()) ++returned_ok;
        else if (waiter.result->error() == Errno::timedout) ++timed_out;
    }
    CHECK(woken_by_wake == static_cast<std::size_t>(returned_ok));
    CHECK(returned_ok + timed_out == rounds);
    CHECK(table.waiter_count(78) == 0u);
}

namespace {
/// TestPlatform whose now() can stop the calling thread once the virtual clock reaches a point:
/// lets a test run a wake() at the exact moment a waiter has seen its deadline pass but has not
/// yet left the queue.
struct Pause {
    std::mutex mutex;
    std::condition_variable changed;
    std::optional<lp::MonotonicInstant> at;
    bool reached = false;
    bool resume = false;
};
struct PausingPlatform : TestPlatform {
    static inline Pause pause;

    Instant now() const {
        const Instant t = TestPlatform::now();
        std::unique_lock lock(pause.mutex);
        if (pause.at && t >= *pause.at) {
            pause.at.reset();
            pause.reached = true;
            pause.changed.notify_all();
            pause.changed.wait(lock, [] { return pause.resume; });
        }
        return t;
    }
    static void arm(lp::MonotonicInstant at) {
        std::lock_guard lock(pause.mutex);
        pause.at = at;
        pause.reached = false;
        pause.resume = false;
    }
    static void wait_until_paused() {
        std::unique_lock lock(pause.mutex);
        pause.changed.wait(lock, [] { return pause.reached; });
    }
    static void resume() {
        std::lock_guard lock(pause.mutex);
        pause.resume = true;
        pause.changed.notify_all();
    }
};
}  // namespace

TEST_CASE("FutexTable: a wake between the deadline check and leaving the queue counts as a wake", "[sync][futex]") {
    auto& clock = litebox::test::VirtualClock::instance();
    REQUIRE(clock.timed_sleepers() == 0u);
    PausingPlatform platform;
    FutexTable<PausingPlatform> table;
    Word word;
    const auto deadline = *platform.now().checked_add(10ms);
    PausingPlatform::arm(deadline);
    WaiterThread<PausingPlatform> waiter;
    waiter.start(table, platform, 11, any, word.holds(0), deadline);
    clock.wait_for_timed_sleepers(1);
    TestPlatform::advance(10ms);
    // The waiter timed out in the raw mutex, saw no wake, and read the clock: it is now past its
    // deadline but still queued. A wake here must reach it, and it must report being woken.
    PausingPlatform::wait_until_paused();
    CHECK(table.waiter_count(11) == 1u);
    const std::size_t woken = table.wake(11, any, 1);
    PausingPlatform::resume();
    waiter.join();
    CHECK(woken == 1u);
    REQUIRE(waiter.result.has_value());
    CHECK(waiter.result->has_value());
    CHECK(table.waiter_count(11) == 0u);
}

TEST_CASE("FutexTable: a waiter that left the queue on timeout is not counted by a later wake", "[sync][futex]") {
    auto& clock = litebox::test::VirtualClock::instance();
    REQUIRE(clock.timed_sleepers() == 0u);
    TestPlatform platform;
    FutexTable<TestPlatform> table;
    Word word;
    WaiterThread<TestPlatform> first;
    WaiterThread<TestPlatform> second;
    first.start(table, platform, 12, any, word.holds(0), platform.now().checked_add(5ms));
    REQUIRE(eventually([&] { return table.waiter_count(12) == 1; }));
    second.start(table, platform, 12, any, word.holds(0));  // no deadline
    REQUIRE(eventually([&] { return table.waiter_count(12) == 2; }));
    clock.wait_for_timed_sleepers(1);
    TestPlatform::advance(5ms);
    first.join();
    REQUIRE(first.result.has_value());
    REQUIRE_FALSE(first.result->has_value());
    CHECK(first.result->error() == Errno::timedout);
    // The queue is intact: the remaining waiter is still reachable, and only it is counted.
    CHECK(table.waiter_count(12) == 1u);
    CHECK(table.wake(12, any, 10) == 1u);
    second.join();
    CHECK(second.woken_ok());
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
