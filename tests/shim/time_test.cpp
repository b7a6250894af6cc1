// Time syscalls on the virtual clock of the test platform.
#include <thread>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;
using namespace std::chrono_literals;

TEST_CASE("clock_gettime reads the platform clocks", "[shim][time]") {
    ShimFixture<> f;
    const auto ts = f.mem.allocate(sizeof(lx::abi::timespec));
    CHECK(f.call(lx::nr::clock_gettime, lx::abi::clock_monotonic, ts) == 0);
    const auto before = f.mem.get<lx::abi::timespec>(ts);
    TestPlatform::advance(1500ms);
    CHECK(f.call(lx::nr::clock_gettime, lx::abi::clock_boottime, ts) == 0);
    const auto after = f.mem.get<lx::abi::timespec>(ts);
    CHECK((after.tv_sec - before.tv_sec) * 1'000'000'000 + (after.tv_nsec - before.tv_nsec) == 1'500'000'000);

    CHECK(f.call(lx::nr::clock_gettime, lx::abi::clock_realtime, ts) == 0);
    const auto wall = f.mem.get<lx::abi::timespec>(ts);
    const auto expected_ns = f.platform.current_time().nanoseconds_since_epoch();
    CHECK(wall.tv_sec == expected_ns / 1'000'000'000);
    CHECK(wall.tv_nsec == expected_ns % 1'000'000'000);

    f.init->account(3ms, 1ms);
    CHECK(f.call(lx::nr::clock_gettime, lx::abi::clock_thread_cputime_id, ts) == 0);
    CHECK(f.mem.get<lx::abi::timespec>(ts).tv_nsec == 4'000'000);
    CHECK(f.call(lx::nr::clock_gettime, lx::abi::clock_process_cputime_id, ts) == 0);
    CHECK(f.mem.get<lx::abi::timespec>(ts).tv_nsec == 4'000'000);

    CHECK(f.call(lx::nr::clock_gettime, 10, ts) == err(Errno::inval));
    CHECK(f.call(lx::nr::clock_gettime, 99, ts) == err(Errno::inval));
    CHECK(f.call(lx::nr::clock_gettime, -6, ts) == err(Errno::inval));
    CHECK(f.call(lx::nr::clock_gettime, lx::abi::clock_monotonic, f.mem.hole()) == err(Errno::fault));
    CHECK(f.call(lx::nr::clock_gettime, lx::abi::clock_monotonic, 0) == err(Errno::fault));
}

TEST_CASE("clock_getres, gettimeofday and time", "[shim][time]") {
    ShimFixture<> f;
    const auto ts = f.mem.allocate(sizeof(lx::abi::timespec));
    CHECK(f.call(lx::nr::clock_getres, lx::abi::clock_monotonic, ts) == 0);
    CHECK(f.mem.get<lx::abi::timespec>(ts).tv_nsec == 1);
    CHECK(f.call(lx::nr::clock_getres, lx::abi::clock_realtime_coarse, ts) == 0);
    CHECK(f.mem.get<lx::abi::timespec>(ts).tv_nsec == lx::coarse_clock_resolution_ns);
    CHECK(f.call(lx::nr::clock_getres, lx::abi::clock_monotonic, 0) == 0);
    CHECK(f.call(lx::nr::clock_getres, 42, ts) == err(Errno::inval));
    CHECK(f.call(lx::nr::clock_getres, lx::abi::clock_monotonic, f.mem.hole()) == err(Errno::fault));

    const auto tv = f.mem.allocate(sizeof(lx::abi::timeval)), tz = f.mem.allocate(8);
    f.mem.put<std::uint64_t>(tz, ~0ull);
    CHECK(f.call(lx::nr::gettimeofday, tv, tz) == 0);
    const auto wall_ns = f.platform.current_time().nanoseconds_since_epoch();
    CHECK(f.mem.get<lx::abi::timeval>(tv).tv_sec == wall_ns / 1'000'000'000);
    CHECK(f.mem.get<lx::abi::timeval>(tv).tv_usec == wall_ns % 1'000'000'000 / 1000);
    CHECK(f.mem.get<std::uint64_t>(tz) == 0);
    CHECK(f.call(lx::nr::gettimeofday, 0, 0) == 0);
    CHECK(f.call(lx::nr::gettimeofday, f.mem.hole(), 0) == err(Errno::fault));

    const auto t = f.mem.allocate(8);
    CHECK(f.call(lx::nr::time, 0) == wall_ns / 1'000'000'000);
    CHECK(f.call(lx::nr::time, t) == wall_ns / 1'000'000'000);
    CHECK(f.mem.get<std::int64_t>(t) == wall_ns / 1'000'000'000);
    CHECK(f.call(lx::nr::time, f.mem.hole()) == err(Errno::fault));
}

TEST_CASE("nanosleep blocks until the virtual clock passes the deadline", "[shim][time]") {
    ShimFixture<> f;
    const auto req = f.mem.allocate(sizeof(lx::abi::timespec));
    f.mem.put(req, lx::abi::timespec{2, 0});
    std::int64_t result = -1;
    std::atomic<bool> done{false};
    const auto sleepers = VirtualClock::instance().timed_sleepers();
    std::thread sleeper([&] {
        result = f.call(lx::nr::nanosleep, req, 0);
        done = true;
    });
    VirtualClock::instance().wait_for_timed_sleepers(sleepers + 1);
    TestPlatform::advance(1s);
    std::this_thread::sleep_for(10ms);
    CHECK(!done);
    TestPlatform::advance(1s);
    sleeper.join();
    CHECK(result == 0);

    f.mem.put(req, lx::abi::timespec{0, 0});
    CHECK(f.call(lx::nr::nanosleep, req, 0) == 0);
    f.mem.put(req, lx::abi::timespec{0, 1'000'000'000});
    CHECK(f.call(lx::nr::nanosleep, req, 0) == err(Errno::inval));
    f.mem.put(req, lx::abi::timespec{-1, 0});
    CHECK(f.call(lx::nr::nanosleep, req, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::nanosleep, f.mem.hole(), 0) == err(Errno::fault));
}

TEST_CASE("a signal interrupts nanosleep with the remaining time", "[shim][time]") {
    ShimFixture<> f;
    auto child = f.fork(*f.init);
    const auto req = f.mem.allocate(sizeof(lx::abi::timespec)), rem = f.mem.allocate(sizeof(lx::abi::timespec));
    f.mem.put(req, lx::abi::timespec{10, 0});
    std::int64_t result = 0;
    const auto sleepers = VirtualClock::instance().timed_sleepers();
    std::thread sleeper([&] { result = f.call_on(*child, lx::nr::nanosleep, req, rem); });
    VirtualClock::instance().wait_for_timed_sleepers(sleepers + 1);
    TestPlatform::advance(3s);
    CHECK(f.call(lx::nr::kill, 2, lx::abi::sigusr1) == 0);
    sleeper.join();
    CHECK(result == err(Errno::intr));
    CHECK(f.mem.get<lx::abi::timespec>(rem).tv_sec == 7);
    CHECK(f.mem.get<lx::abi::timespec>(rem).tv_nsec == 0);
}

TEST_CASE("clock_nanosleep: absolute deadlines and unsupported clocks", "[shim][time]") {
    ShimFixture<> f;
    const auto req = f.mem.allocate(sizeof(lx::abi::timespec));
    const auto now = f.mem.allocate(sizeof(lx::abi::timespec));
    REQUIRE(f.call(lx::nr::clock_gettime, lx::abi::clock_monotonic, now) == 0);
    f.mem.put(req, f.mem.get<lx::abi::timespec>(now));  // already passed
    CHECK(f.call(lx::nr::clock_nanosleep, lx::abi::clock_monotonic, lx::abi::timer_abstime, req, 0) == 0);
    auto deadline = f.mem.get<lx::abi::timespec>(now);
    deadline.tv_sec += 5;
    f.mem.put(req, deadline);
    std::int64_t result = -1;
    const auto sleepers = VirtualClock::instance().timed_sleepers();
    std::thread sleeper([&] { result = f.call(lx::nr::clock_nanosleep, lx::abi::clock_monotonic, lx::abi::timer_abstime, req, 0); });
    VirtualClock::instance().wait_for_timed_sleepers(sleepers + 1);
    TestPlatform::advance(5s);
    sleeper.join();
    CHECK(result == 0);
    f.mem.put(req, lx::abi::timespec{0, 10});
    CHECK(f.call(lx::nr::clock_nanosleep, lx::abi::clock_thread_cputime_id, 0, req, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::clock_nanosleep, lx::abi::clock_process_cputime_id, 0, req, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::clock_nanosleep, 77, 0, req, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::clock_nanosleep, lx::abi::clock_realtime, 0, f.mem.hole(), 0) == err(Errno::fault));
    f.mem.put(req, lx::abi::timespec{0, -1});
    CHECK(f.call(lx::nr::clock_nanosleep, lx::abi::clock_realtime, 0, req, 0) == err(Errno::inval));
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
