// RwLock: readers run concurrently, writers exclusively, and a waiting writer holds back new
// readers (writer preference). The preference test uses a platform whose raw mutex counts the
// threads that went to sleep, so that it knows (rather than guesses) when a thread is waiting.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "../../examples/minimal_platform/minimal_platform.hpp"
#include "support/platforms.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

namespace lp = litebox::platform;
using litebox::sync::RwLock;
using litebox::test::TestPlatform;
using namespace std::chrono_literals;

namespace {

using SyncPlatforms = std::tuple<lp::StdPlatform, lp::LinuxPlatform, TestPlatform, minimal::SecureMinimalPlatform>;

template <typename F>
bool eventually(F&& done, std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(100us);
    }
    return true;
}

/// Base's platform, with a raw mutex that counts the threads currently inside block().
template <typename Base>
struct Observed : Base {
    static inline std::atomic<int> sleeping{0};

    class RawMutex {
    public:
        RawMutex() = default;
        RawMutex(const RawMutex&) = delete;
        RawMutex& operator=(const RawMutex&) = delete;
        std::atomic<std::uint32_t>& underlying_atomic() noexcept { return m_inner.underlying_atomic(); }
        lp::WaitOutcome block(std::uint32_t expected) noexcept {
            ++sleeping;
            const auto outcome = m_inner.block(expected);
            --sleeping;
            return outcome;
        }
        lp::WaitOutcome block_or_timeout(std::uint32_t expected, lp::Duration timeout) noexcept {
            ++sleeping;
            const auto outcome = m_inner.block_or_timeout(expected, timeout);
            --sleeping;
            return outcome;
        }
        std::size_t wake_many(std::size_t n) noexcept { return m_inner.wake_many(n); }
        bool wake_one() noexcept { return m_inner.wake_one(); }
        std::size_t wake_all() noexcept { return m_inner.wake_all(); }

    private:
        typename Base::RawMutex m_inner;
    };
};
using ObservedPlatforms = std::tuple<Observed<lp::StdPlatform>, Observed<lp::LinuxPlatform>, Observed<minimal::SecureMinimalPlatform>>;

}  // namespace

TEMPLATE_LIST_TEST_CASE("RwLock: readers hold the lock at the same time", "[sync][rwlock]", SyncPlatforms) {
    RwLock<TestType, int> lock(5);
    constexpr int readers = 3;
    std::atomic<int> inside{0};
    std::atomic<int> met{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < readers; ++i) {
        threads.emplace_back([&] {
            lock.with_read([&](const int& v) {
                ++inside;
                // Only possible if all readers are inside together.
                if (eventually([&] { return inside.load() == readers; }, 5s) && v == 5) ++met;
            });
        });
    }
    for (auto& t : threads) t.join();
    CHECK(met.load() == readers);
}

TEMPLATE_LIST_TEST_CASE("RwLock: writers are exclusive", "[sync][rwlock]", SyncPlatforms) {
    struct Pair {
        std::uint64_t a = 0;
        std::uint64_t b = 0;  // a writer keeps b == a; a reader that sees a != b saw a writer's work
    };
    RwLock<TestType, Pair> lock;
    std::atomic<int> writers_inside{0};
    std::atomic<int> readers_inside{0};
    std::atomic<int> violations{0};
    constexpr int threads_count = 4;
    constexpr int rounds = 2'000;
    std::vector<std::thread> threads;
    for (int t = 0; t < threads_count; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < rounds; ++i) {
                if ((i + t) % 3 == 0) {
                    lock.with_write([&](Pair& p) {
                        if (++writers_inside != 1 || readers_inside.load() != 0) ++violations;
                        ++p.a;
                        ++p.b;
                        --writers_inside;
                    });
                } else {
                    lock.with_read([&](const Pair& p) {
                        ++readers_inside;
                        if (writers_inside.load() != 0 || p.a != p.b) ++violations;
                        --readers_inside;
                    });
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    std::uint64_t expected_writes = 0;
    for (int t = 0; t < threads_count; ++t)
        for (int i = 0; i < rounds; ++i) expected_writes += ((i + t) % 3 == 0) ? 1 : 0;
    CHECK(violations.load() == 0);
    const auto final_pair = lock.with_read([](const Pair& p) { return p; });
    CHECK(final_pair.a == expected_writes);
    CHECK(final_pair.b == expected_writes);
}

TEMPLATE_LIST_TEST_CASE("RwLock: a waiting writer blocks new readers (writer preference)", "[sync][rwlock]", ObservedPlatforms) {
    TestType::sleeping = 0;
    RwLock<TestType, int> lock(0);
    std::mutex order_mutex;
    std::vector<std::string> order;
    auto note = [&](std::string what) {
        std::lock_guard guard(order_mutex);
        order.push_back(std::move(what));
    };
    std::atomic<bool> release_first{false};
    std::atomic<bool> first_inside{false};
    std::atomic<bool> second_reader_entered{false};

    std::thread first_reader([&] {
        lock.with_read([&](const int&) {
            first_inside = true;
            note("reader 1 in");
            while (!release_first.load()) std::this_thread::sleep_for(100us);
            note("reader 1 out");
        });
    });
    REQUIRE(eventually([&] { return first_inside.load(); }));

    std::thread writer([&] { lock.with_write([&](int& v) { v = 1; note("writer"); }); });
    // The writer registers itself as waiting before it sleeps on the lock's condition.
    const bool writer_waits = eventually([&] { return TestType::sleeping.load() >= 1; });
    CHECK(writer_waits);

    std::thread second_reader([&] {
        lock.with_read([&](const int& v) {
            second_reader_entered = true;
            note(v == 1 ? "reader 2 after the write" : "reader 2 before the write");
        });
    });
    // The second reader must go to sleep too, although only readers hold the lock.
    const bool reader_waits = eventually([&] { return TestType::sleeping.load() >= 2 || second_reader_entered.load(); });
    CHECK(reader_waits);
    CHECK_FALSE(second_reader_entered.load());

    release_first = true;
    first_reader.join();
    writer.join();
    second_reader.join();
    CHECK(order == std::vector<std::string>{"reader 1 in", "reader 1 out", "writer", "reader 2 after the write"});
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
