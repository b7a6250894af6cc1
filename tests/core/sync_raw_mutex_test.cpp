// The RawMutex contract (platform/concepts.hpp) on every platform, including the example
// platform's parking-lot raw mutex: immediate return on a differing value, timeouts (virtual time
// on TestPlatform, real time elsewhere), wake-ups that are never lost, and wake counts.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <tuple>
#include <vector>

#include "../../examples/minimal_platform/minimal_platform.hpp"
#include "support/platforms.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

namespace lp = litebox::platform;
using litebox::test::TestPlatform;
using namespace std::chrono_literals;

namespace {

/// Every platform that must satisfy the RawMutex contract.
using ContractPlatforms = std::tuple<lp::StdPlatform, lp::LinuxPlatform, TestPlatform, minimal::SecureMinimalPlatform>;
/// Platforms whose timeouts run in real time.
using RealTimeContractPlatforms = std::tuple<lp::StdPlatform, lp::LinuxPlatform, minimal::SecureMinimalPlatform>;
/// Platforms whose wake_many returns the exact number of threads it woke (the contract allows an
/// upper bound; the futex and the example's parking lot count exactly).
using ExactCountPlatforms = std::tuple<lp::LinuxPlatform, minimal::SecureMinimalPlatform>;

/// Polls `done` (real time) for up to `limit`; true once it held.
template <typename F>
bool eventually(F&& done, std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(100us);
    }
    return true;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("RawMutex: starts at 0 and returns at once on a differing value", "[sync][raw_mutex]", ContractPlatforms) {
    typename TestType::RawMutex raw;
    CHECK(raw.underlying_atomic().load() == 0u);
    raw.underlying_atomic().store(7);
    CHECK(raw.block(6) == lp::WaitOutcome::immediately_woken);
    CHECK(raw.block_or_timeout(6, 1h) == lp::WaitOutcome::immediately_woken);
    CHECK(raw.block_or_timeout(6, 0ns) == lp::WaitOutcome::immediately_woken);
    // Equal value and nothing left to wait: timed out without sleeping.
    CHECK(raw.block_or_timeout(7, 0ns) == lp::WaitOutcome::timed_out);
    CHECK(raw.block_or_timeout(7, -5ms) == lp::WaitOutcome::timed_out);
    CHECK(raw.wake_many(0) == 0u);
    CHECK(raw.underlying_atomic().load() == 7u);  // the raw mutex never changes its own value
}

TEMPLATE_LIST_TEST_CASE("RawMutex: exact wake counts with nobody asleep", "[sync][raw_mutex]", ExactCountPlatforms) {
    typename TestType::RawMutex raw;
    CHECK(raw.wake_many(5) == 0u);
    CHECK_FALSE(raw.wake_one());
    CHECK(raw.wake_all() == 0u);
}

TEMPLATE_LIST_TEST_CASE("RawMutex: block_or_timeout times out in real time", "[sync][raw_mutex]", RealTimeContractPlatforms) {
    TestType platform;
    typename TestType::RawMutex raw;
    constexpr lp::Duration timeout = 20ms;
    const auto start = platform.now();
    const auto outcome = raw.block_or_timeout(0, timeout);
    const auto waited = platform.now().checked_duration_since(start);
    CHECK(outcome == lp::WaitOutcome::timed_out);
    REQUIRE(waited.has_value());
    CHECK(*waited >= timeout);
}

TEST_CASE("RawMutex: block_or_timeout times out exactly on the virtual clock", "[sync][raw_mutex]") {
    auto& clock = litebox::test::VirtualClock::instance();
    REQUIRE(clock.timed_sleepers() == 0u);
    TestPlatform::RawMutex raw;
    std::atomic<int> outcome{-1};
    std::thread sleeper([&] { outcome = static_cast<int>(raw.block_or_timeout(0, 100ms)); });
    clock.wait_for_timed_sleepers(1);
    TestPlatform::advance(99ms);
    // The sleeper re-checks its deadline under the clock's lock on every advance; 1 ms short it
    // must still be asleep.
    CHECK(clock.timed_sleepers() == 1u);
    CHECK(outcome.load() == -1);
    TestPlatform::advance(1ms);
    sleeper.join();
    CHECK(outcome.load() == static_cast<int>(lp::WaitOutcome::timed_out));
    CHECK(clock.timed_sleepers() == 0u);
}

TEST_CASE("RawMutex: a timed sleeper woken before its deadline reports unblocked", "[sync][raw_mutex]") {
    auto& clock = litebox::test::VirtualClock::instance();
    TestPlatform platform;
    TestPlatform::RawMutex raw;
    const auto start = platform.now();
    std::atomic<int> outcome{-1};
    std::thread sleeper([&] { outcome = static_cast<int>(raw.block_or_timeout(0, 1s)); });
    clock.wait_for_timed_sleepers(1);
    raw.underlying_atomic().store(1);
    CHECK(raw.wake_one());
    sleeper.join();
    CHECK(outcome.load() == static_cast<int>(lp::WaitOutcome::unblocked));
    CHECK(platform.now() == start);  // no virtual time passed
}

TEMPLATE_LIST_TEST_CASE("RawMutex: a wake after a value change is never lost", "[sync][raw_mutex]", ContractPlatforms) {
    // The sleeper loops on the value as a futex user does; the waker changes it, then wakes. Many
    // rounds make the "wake between check and sleep" window likely to be hit.
    typename TestType::RawMutex raw;
    constexpr std::uint32_t rounds = 500;
    std::atomic<std::uint32_t> seen{0};
    std::thread sleeper([&] {
        for (std::uint32_t round = 1; round <= rounds; ++round) {
            std::uint32_t v;
            while ((v = raw.underlying_atomic().load(std::memory_order_acquire)) < round) (void)raw.block(v);
            seen.store(round, std::memory_order_release);
        }
    });
    bool all_seen = true;
    for (std::uint32_t round = 1; round <= rounds && all_seen; ++round) {
        raw.underlying_atomic().store(round, std::memory_order_release);
        (void)raw.wake_all();
        all_seen = eventually([&] { return seen.load(std::memory_order_acquire) >= round; });
    }
    CHECK(all_seen);
    if (!all_seen) {  // a lost wake-up: rescue the sleeper so that the test fails instead of hanging
        raw.underlying_atomic().store(rounds);
        while (seen.load() < rounds) {
            (void)raw.wake_all();
            std::this_thread::sleep_for(1ms);
        }
    }
    sleeper.join();
}

TEMPLATE_LIST_TEST_CASE("RawMutex: wake_many counts exactly the threads it woke", "[sync][raw_mutex]", ExactCountPlatforms) {
    // Each sleeper blocks once on the unchanged value 0 and records how it returned. The main
    // thread wakes two at a time until all are back; the counts must add up to the sleepers.
    typename TestType::RawMutex raw;
    constexpr int sleepers = 3;
    const bool timed = GENERATE(false, true);
    std::atomic<int> returned{0};
    std::atomic<int> unblocked{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < sleepers; ++i) {
        threads.emplace_back([&] {
            const auto outcome = timed ? raw.block_or_timeout(0, 60s) : raw.block(0);
            if (outcome == lp::WaitOutcome::unblocked) ++unblocked;
            ++returned;
        });
    }
    std::size_t woken = 0;
    std::size_t largest_batch = 0;
    const bool all_back = eventually([&] {
        const std::size_t batch = raw.wake_many(2);
        woken += batch;
        largest_batch = std::max(largest_batch, batch);
        return returned.load() == sleepers;
    });
    for (auto& t : threads) t.join();
    CHECK(all_back);
    CHECK(unblocked.load() == sleepers);
    CHECK(woken == static_cast<std::size_t>(sleepers));
    CHECK(largest_batch <= 2u);
    CHECK(raw.wake_all() == 0u);
}

TEMPLATE_LIST_TEST_CASE("RawMutex: wake_all releases every sleeper", "[sync][raw_mutex]", ContractPlatforms) {
    typename TestType::RawMutex raw;
    constexpr int sleepers = 4;
    std::atomic<int> returned{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < sleepers; ++i) {
        threads.emplace_back([&] {
            while (raw.underlying_atomic().load() == 0) (void)raw.block(0);
            ++returned;
        });
    }
    std::this_thread::sleep_for(5ms);  // let some of them fall asleep (either order is correct)
    raw.underlying_atomic().store(1);
    (void)raw.wake_all();
    const bool all_back = eventually([&] { return returned.load() == sleepers; });
    CHECK(all_back);
    if (!all_back) {
        while (returned.load() < sleepers) (void)raw.wake_all();
    }
    for (auto& t : threads) t.join();
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
