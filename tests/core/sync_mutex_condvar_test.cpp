// Mutex, RawLock and Condvar on every platform: exclusion under contention, producer/consumer
// handoff, notify_all, and timed waits (exact on the virtual clock, bounded in real time).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <thread>
#include <tuple>
#include <vector>

#include "../../examples/minimal_platform/minimal_platform.hpp"
#include "support/platforms.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

namespace lp = litebox::platform;
using litebox::sync::Condvar;
using litebox::sync::Mutex;
using litebox::test::TestPlatform;
using namespace std::chrono_literals;

namespace {

using SyncPlatforms = std::tuple<lp::StdPlatform, lp::LinuxPlatform, TestPlatform, minimal::SecureMinimalPlatform>;
using RealTimeSyncPlatforms = std::tuple<lp::StdPlatform, lp::LinuxPlatform, minimal::SecureMinimalPlatform>;

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

TEMPLATE_LIST_TEST_CASE("Mutex: many threads, many increments, exact count", "[sync][mutex]", SyncPlatforms) {
    struct Counter {
        std::uint64_t value = 0;  // deliberately not atomic: only the lock protects it
        int inside = 0;
        int overlaps = 0;
    };
    Mutex<TestType, Counter> counter;
    constexpr int threads = 4;
    constexpr int increments = 20'000;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            for (int i = 0; i < increments; ++i) {
                counter.with_lock([](Counter& c) {
                    if (++c.inside != 1) ++c.overlaps;
                    ++c.value;
                    --c.inside;
                });
            }
        });
    }
    for (auto& w : workers) w.join();
    const auto final_state = counter.with_lock([](Counter& c) { return c; });
    CHECK(final_state.value == static_cast<std::uint64_t>(threads) * increments);
    CHECK(final_state.overlaps == 0);
}

TEMPLATE_LIST_TEST_CASE("RawLock: try_lock fails while held and succeeds after unlock", "[sync][mutex]", SyncPlatforms) {
    litebox::sync::RawLock<TestType> lock;
    REQUIRE(lock.try_lock());
    CHECK_FALSE(lock.try_lock());
    bool other_got_it = true;
    std::thread other([&] { other_got_it = lock.try_lock(); });
    other.join();
    CHECK_FALSE(other_got_it);
    lock.unlock();
    CHECK(lock.try_lock());
    lock.unlock();
}

TEMPLATE_LIST_TEST_CASE("Mutex: a blocked locker proceeds once the holder unlocks", "[sync][mutex]", SyncPlatforms) {
    Mutex<TestType, int> value(0);
    std::atomic<bool> acquired{false};
    std::thread other;
    {
        auto guard = value.lock();
        other = std::thread([&] {
            value.with_lock([](int& v) { v += 10; });
            acquired = true;
        });
        std::this_thread::sleep_for(5ms);
        CHECK_FALSE(acquired.load());  // it cannot get past our lock
        *guard = 1;
    }
    other.join();
    CHECK(acquired.load());
    CHECK(value.with_lock([](int& v) { return v; }) == 11);
}

TEMPLATE_LIST_TEST_CASE("Condvar: producer/consumer handoff through a bounded queue", "[sync][condvar]", SyncPlatforms) {
    struct Queue {
        std::deque<int> items;
        bool closed = false;
    };
    constexpr std::size_t capacity = 4;
    constexpr int producers = 2;
    constexpr int consumers = 2;
    constexpr int per_producer = 2'000;
    Mutex<TestType, Queue> queue;
    Condvar<TestType> not_empty;
    Condvar<TestType> not_full;
    std::vector<std::vector<int>> received(consumers);
    std::atomic<std::size_t> max_depth{0};
    std::atomic<int> finished{0};

    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back([&, p] {
            for (int i = 0; i < per_producer; ++i) {
                auto guard = queue.lock();
                not_full.wait(guard, [&](Queue& q) { return q.items.size() < capacity; });
                guard->items.push_back(p * per_producer + i);
                std::size_t depth = guard->items.size();
                std::size_t seen = max_depth.load();
                while (depth > seen && !max_depth.compare_exchange_weak(seen, depth)) {
                }
                not_empty.notify_one();
            }
        });
    }
    for (int c = 0; c < consumers; ++c) {
        threads.emplace_back([&, c] {
            for (;;) {
                auto guard = queue.lock();
                not_empty.wait(guard, [](Queue& q) { return !q.items.empty() || q.closed; });
                if (guard->items.empty()) {  // closed and drained
                    ++finished;
                    return;
                }
                received[c].push_back(guard->items.front());
                guard->items.pop_front();
                not_full.notify_one();
            }
        });
    }
    for (int p = 0; p < producers; ++p) threads[static_cast<std::size_t>(p)].join();
    queue.with_lock([](Queue& q) { q.closed = true; });
    not_empty.notify_all();
    const bool consumers_finished = eventually([&] { return finished.load() == consumers; });
    CHECK(consumers_finished);
    while (finished.load() < consumers) not_empty.notify_all();  // only if the check failed
    for (std::size_t c = producers; c < threads.size(); ++c) threads[c].join();

    // Every item arrived exactly once, and each producer's items in the order it sent them.
    std::vector<int> count(producers * per_producer, 0);
    for (const auto& list : received) {
        std::vector<int> last(producers, -1);
        for (int item : list) {
            ++count[static_cast<std::size_t>(item)];
            const int producer = item / per_producer;
            CHECK(item > last[static_cast<std::size_t>(producer)]);
            last[static_cast<std::size_t>(producer)] = item;
        }
    }
    std::size_t exactly_once = 0;
    for (int n : count) exactly_once += (n == 1) ? 1 : 0;
    CHECK(exactly_once == count.size());
    CHECK(max_depth.load() <= capacity);
}

TEMPLATE_LIST_TEST_CASE("Condvar: notify_all wakes every waiter", "[sync][condvar]", SyncPlatforms) {
    struct Gate {
        int waiting = 0;
        bool open = false;
        int passed = 0;
    };
    constexpr int waiters = 4;
    Mutex<TestType, Gate> gate;
    Condvar<TestType> opened;
    std::vector<std::thread> threads;
    for (int i = 0; i < waiters; ++i) {
        threads.emplace_back([&] {
            auto guard = gate.lock();
            ++guard->waiting;
            opened.wait(guard, [](Gate& g) { return g.open; });
            ++guard->passed;
        });
    }
    // Once a waiter has counted itself and released the lock, it is inside wait(): a single
    // notify_all must now release all of them.
    REQUIRE(eventually([&] { return gate.with_lock([](Gate& g) { return g.waiting; }) == waiters; }));
    gate.with_lock([](Gate& g) { g.open = true; });
    opened.notify_all();
    const bool all_passed = eventually([&] { return gate.with_lock([](Gate& g) { return g.passed; }) == waiters; });
    CHECK(all_passed);
    while (gate.with_lock([](Gate& g) { return g.passed; }) < waiters) opened.notify_all();  // only if the check failed
    for (auto& t : threads) t.join();
}

TEST_CASE("Condvar: a timed wait returns false after exactly the timeout on the virtual clock", "[sync][condvar]") {
    auto& clock = litebox::test::VirtualClock::instance();
    REQUIRE(clock.timed_sleepers() == 0u);
    TestPlatform platform;
    Mutex<TestPlatform, bool> flag(false);
    Condvar<TestPlatform> never;
    std::atomic<int> result{-1};
    lp::MonotonicInstant start;
    lp::MonotonicInstant end;
    std::thread waiter([&] {
        auto guard = flag.lock();
        start = platform.now();
        const bool satisfied = never.wait_for(platform, guard, 250ms, [](bool& f) { return f; });
        end = platform.now();
        result = satisfied ? 1 : 0;
    });
    clock.wait_for_timed_sleepers(1);
    TestPlatform::advance(249ms);
    CHECK(clock.timed_sleepers() == 1u);
    CHECK(result.load() == -1);
    TestPlatform::advance(1ms);
    waiter.join();
    CHECK(result.load() == 0);
    CHECK(end.checked_duration_since(start) == std::optional<lp::Duration>(250ms));
}

TEST_CASE("Condvar: a timed wait notified in time returns true without virtual time passing", "[sync][condvar]") {
    auto& clock = litebox::test::VirtualClock::instance();
    TestPlatform platform;
    Mutex<TestPlatform, bool> flag(false);
    Condvar<TestPlatform> changed;
    std::atomic<int> result{-1};
    const auto start = platform.now();
    std::thread waiter([&] {
        auto guard = flag.lock();
        result = changed.wait_for(platform, guard, 1s, [](bool& f) { return f; }) ? 1 : 0;
    });
    clock.wait_for_timed_sleepers(1);
    flag.with_lock([](bool& f) { f = true; });
    changed.notify_one();
    waiter.join();
    CHECK(result.load() == 1);
    CHECK(platform.now() == start);
}

TEST_CASE("Condvar: wait_until with a past deadline returns the predicate without sleeping", "[sync][condvar]") {
    TestPlatform platform;
    Mutex<TestPlatform, int> value(3);
    Condvar<TestPlatform> cv;
    auto guard = value.lock();
    const auto past = platform.now().checked_add(-1ms);
    REQUIRE(past.has_value());
    CHECK_FALSE(cv.wait_until(platform, guard, *past, [](int& v) { return v == 4; }));
    CHECK(cv.wait_until(platform, guard, *past, [](int& v) { return v == 3; }));
    CHECK(litebox::test::VirtualClock::instance().timed_sleepers() == 0u);
}

TEMPLATE_LIST_TEST_CASE("Condvar: a timed wait times out in real time", "[sync][condvar]", RealTimeSyncPlatforms) {
    TestType platform;
    Mutex<TestType, bool> flag(false);
    Condvar<TestType> never;
    constexpr lp::Duration timeout = 30ms;
    auto guard = flag.lock();
    const auto start = platform.now();
    const bool satisfied = never.wait_for(platform, guard, timeout, [](bool& f) { return f; });
    const auto waited = platform.now().checked_duration_since(start);
    CHECK_FALSE(satisfied);
    REQUIRE(waited.has_value());
    CHECK(*waited >= timeout);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
