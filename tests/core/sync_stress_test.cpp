// A bounded stress test: several threads mix Mutex, RwLock, Condvar and FutexTable operations at
// random for a fixed number of iterations (or until a time budget runs out, whichever is first),
// then the books must balance exactly. Real-time platforms only (timed waits need a running clock).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <deque>
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
using namespace std::chrono_literals;

namespace {
using RealTimeSyncPlatforms = std::tuple<lp::StdPlatform, lp::LinuxPlatform, minimal::SecureMinimalPlatform>;
}  // namespace

TEMPLATE_LIST_TEST_CASE("Sync stress: mixed primitives, books balance", "[sync][stress]", RealTimeSyncPlatforms) {
    using P = TestType;
    P platform;
    constexpr int threads_count = 4;
    constexpr int iterations = 3'000;
    const auto budget_end = std::chrono::steady_clock::now() + 3s;

    struct Pair {
        std::uint64_t a = 0;
        std::uint64_t b = 0;
    };
    litebox::sync::Mutex<P, std::uint64_t> counter(0);
    litebox::sync::RwLock<P, Pair> pair;
    litebox::sync::Mutex<P, std::deque<int>> queue;
    litebox::sync::Condvar<P> not_empty;
    litebox::sync::FutexTable<P> futexes;
    std::atomic<std::uint32_t> semaphore{0};  // a guest futex word: available tokens
    constexpr std::uint64_t semaphore_key = 0x5e3a;

    std::atomic<std::uint64_t> increments{0}, writes{0}, torn_reads{0}, pushed{0}, popped{0}, posted{0}, taken{0};

    auto take_token = [&]() -> bool {
        for (int attempt = 0; attempt < 3; ++attempt) {
            std::uint32_t v = semaphore.load(std::memory_order_acquire);
            while (v > 0) {
                if (semaphore.compare_exchange_weak(v, v - 1, std::memory_order_acq_rel)) return true;
            }
            (void)futexes.wait(platform, semaphore_key, litebox::sync::FutexTable<P>::match_any,
                               [&] { return litebox::Result<bool>(semaphore.load(std::memory_order_acquire) == 0); },
                               platform.now().checked_add(1ms));
        }
        return false;
    };

    std::vector<std::thread> threads;
    for (int t = 0; t < threads_count; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937 random(static_cast<std::uint32_t>(1000 + t));
            for (int i = 0; i < iterations && std::chrono::steady_clock::now() < budget_end; ++i) {
                switch (random() % 7) {
                    case 0:
                        counter.with_lock([](std::uint64_t& c) { ++c; });
                        ++increments;
                        break;
                    case 1:
                        pair.with_write([](Pair& p) {
                            ++p.a;
                            ++p.b;
                        });
                        ++writes;
                        break;
                    case 2:
                        pair.with_read([&](const Pair& p) {
                            if (p.a != p.b) ++torn_reads;
                        });
                        break;
                    case 3:
                        queue.with_lock([&](std::deque<int>& q) { q.push_back(i); });
                        ++pushed;
                        not_empty.notify_one();
                        break;
                    case 4: {
                        auto guard = queue.lock();
                        if (not_empty.wait_for(platform, guard, 1ms, [](std::deque<int>& q) { return !q.empty(); })) {
                            guard->pop_front();
                            ++popped;
                        }
                        break;
                    }
                    case 5:
                        semaphore.fetch_add(1, std::memory_order_release);
                        ++posted;
                        (void)futexes.wake(semaphore_key, litebox::sync::FutexTable<P>::match_any, 1);
                        break;
                    default:
                        if (take_token()) ++taken;
                        break;
                }
            }
        });
    }
    for (auto& th : threads) th.join();

    INFO("increments " << increments << ", writes " << writes << ", pushed " << pushed << ", posted " << posted);
    CHECK(counter.with_lock([](std::uint64_t& c) { return c; }) == increments.load());
    const auto final_pair = pair.with_read([](const Pair& p) { return p; });
    CHECK(final_pair.a == writes.load());
    CHECK(final_pair.b == writes.load());
    CHECK(torn_reads.load() == 0u);
    CHECK(queue.with_lock([](std::deque<int>& q) { return q.size(); }) + popped.load() == pushed.load());
    CHECK(semaphore.load() + taken.load() == posted.load());
    CHECK(futexes.waiter_count(semaphore_key) == 0u);
    CHECK(increments.load() > 0u);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
