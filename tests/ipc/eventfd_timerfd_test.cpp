#include <catch2/catch.hpp>
#include <litebox/event/blocking.hpp>
#include <litebox/event/timerfd.hpp>
#include <litebox/ipc/eventfd.hpp>

#include <cstring>
#include <thread>

#include "ipc_support.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox;
namespace ev = litebox::fd::events;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {
template <typename P>
Result<std::uint64_t> read_u64(fd::OpenFile<P>& file) {
    std::array<std::byte, 8> buf{};
    LITEBOX_TRY(file.read(buf));
    std::uint64_t v = 0;
    std::memcpy(&v, buf.data(), 8);
    return v;
}
template <typename P>
Result<std::size_t> write_u64(fd::OpenFile<P>& file, std::uint64_t v) {
    std::array<std::byte, 8> buf{};
    std::memcpy(buf.data(), &v, 8);
    return file.write(buf);
}
}  // namespace

TEST_CASE("eventfd: counter mode", "[ipc][eventfd]") {
    using P = litebox::test::TestPlatform;
    auto efd = ipc::make_eventfd<P>(3, 0).value();
    CHECK(efd->poll(ev::in | ev::out) == (ev::in | ev::rdnorm | ev::out | ev::wrnorm));
    CHECK(read_u64(*efd).value() == 3);
    CHECK(read_u64(*efd).error() == Errno::again);
    CHECK(efd->poll(ev::in) == (ev::out | ev::wrnorm));
    CHECK(write_u64(*efd, 5).value() == 8);
    CHECK(write_u64(*efd, 6).value() == 8);
    CHECK(read_u64(*efd).value() == 11);

    // Buffers shorter than 8 bytes: EINVAL; longer ones use 8 bytes.
    std::array<std::byte, 7> shortbuf{};
    CHECK(efd->read(shortbuf).error() == Errno::inval);
    CHECK(efd->write(shortbuf).error() == Errno::inval);
    std::array<std::byte, 16> longbuf{};
    longbuf[0] = std::byte{1};
    CHECK(efd->write(longbuf).value() == 8);
    CHECK(efd->read(longbuf).value() == 8);

    // Overflow rules.
    CHECK(write_u64(*efd, ~std::uint64_t{0}).error() == Errno::inval);
    CHECK(write_u64(*efd, ipc::eventfd_max).value() == 8);
    CHECK(efd->poll(ev::out) == (ev::in | ev::rdnorm));  // full: not writable
    CHECK(write_u64(*efd, 1).error() == Errno::again);
    CHECK(write_u64(*efd, 0).value() == 8);  // adding 0 always fits
    CHECK(read_u64(*efd).value() == ipc::eventfd_max);
}

TEST_CASE("eventfd: semaphore mode and flags", "[ipc][eventfd]") {
    using P = litebox::test::TestPlatform;
    auto efd = ipc::make_eventfd<P>(2, ipc::eventfd_flags::semaphore | ipc::eventfd_flags::nonblock).value();
    CHECK(efd->nonblocking());
    CHECK(read_u64(*efd).value() == 1);
    CHECK(read_u64(*efd).value() == 1);
    CHECK(read_u64(*efd).error() == Errno::again);
    CHECK(ipc::make_eventfd<P>(0, 0x10).error() == Errno::inval);
    CHECK(ipc::make_eventfd<P>(0, ipc::eventfd_flags::close_on_exec).has_value());
    CHECK((efd->stat().value().mode & fd::mode::type_mask) == 0);  // an anonymous inode
}

TEMPLATE_LIST_TEST_CASE("eventfd: a blocked reader and a blocked writer wake", "[ipc][eventfd]", litebox::test::AllPlatforms) {
    using P = TestType;
    P platform;
    auto efd = ipc::make_eventfd<P>(0, 0).value();
    event::WaitContext<P> ctx(platform);
    Result<std::uint64_t> got = Errno::inval;
    std::thread reader([&] {
        got = event::blocking(ctx, *efd, ev::in, [&] { return read_u64(*efd); });
    });
    REQUIRE(litebox::test::eventually([&] { return efd->pollee()->subscribers() > 0; }));
    REQUIRE(write_u64(*efd, 42).has_value());
    reader.join();
    CHECK(got.value() == 42);

    REQUIRE(write_u64(*efd, ipc::eventfd_max).has_value());
    Result<std::size_t> wrote = Errno::inval;
    std::thread writer([&] { wrote = event::write(ctx, *efd, std::as_bytes(std::span<const std::uint64_t, 1>(&ipc::eventfd_max, 1))); });
    REQUIRE(litebox::test::eventually([&] { return efd->pollee()->subscribers() > 0; }));
    CHECK(read_u64(*efd).value() == ipc::eventfd_max);
    writer.join();
    CHECK(wrote.value() == 8);
    CHECK(read_u64(*efd).value() == ipc::eventfd_max);
}

TEST_CASE("timerfd: one-shot and interval timers on the virtual clock", "[ipc][timerfd]") {
    using P = litebox::test::TestPlatform;
    P platform;
    auto file = event::make_timerfd(platform, 1 /*CLOCK_MONOTONIC*/, event::timerfd_flags::nonblock).value();
    auto* timer = event::timerfd_of(*file);
    REQUIRE(timer != nullptr);
    CHECK(read_u64(*file).error() == Errno::again);
    CHECK(timer->gettime() == event::TimerSpec{});

    SECTION("relative one-shot") {
        auto old = timer->settime(0, event::TimerSpec{{}, {0, 500'000'000}});
        CHECK(old.value() == event::TimerSpec{});
        CHECK(timer->gettime().value == fd::Timespec{0, 500'000'000});
        CHECK(file->poll(ev::in) == 0);
        platform.advance(milliseconds(499));
        CHECK(file->poll(ev::in) == 0);
        CHECK(timer->gettime().value == fd::Timespec{0, 1'000'000});
        platform.advance(milliseconds(1));
        CHECK((file->poll(ev::in) & ev::in) != 0);
        platform.advance(seconds(5));
        CHECK(read_u64(*file).value() == 1);
        CHECK(read_u64(*file).error() == Errno::again);
        CHECK(timer->gettime() == event::TimerSpec{});  // disarmed
    }
    SECTION("interval timer counts missed expirations") {
        REQUIRE(timer->settime(0, event::TimerSpec{{0, 100'000'000}, {1, 0}}).has_value());
        platform.advance(milliseconds(1350));  // expiries at 1.0, 1.1, 1.2, 1.3
        CHECK(read_u64(*file).value() == 4);
        CHECK(timer->gettime().value == fd::Timespec{0, 50'000'000});
        platform.advance(milliseconds(50));
        CHECK(read_u64(*file).value() == 1);
        // Disarm: the old setting is returned.
        auto old = timer->settime(0, event::TimerSpec{}).value();
        CHECK(old.interval == fd::Timespec{0, 100'000'000});
        platform.advance(seconds(1));
        CHECK(read_u64(*file).error() == Errno::again);
    }
    SECTION("absolute time on CLOCK_MONOTONIC") {
        const auto now_ns = static_cast<std::int64_t>(platform.now().nanoseconds());
        REQUIRE(timer->settime(event::timerfd_flags::absolute,
                               event::TimerSpec{{}, {(now_ns + 2'000'000'000) / 1'000'000'000, (now_ns + 2'000'000'000) % 1'000'000'000}})
                    .has_value());
        platform.advance(milliseconds(1999));
        CHECK(read_u64(*file).error() == Errno::again);
        platform.advance(milliseconds(1));
        CHECK(read_u64(*file).value() == 1);
        // An absolute time in the past expires at once.
        REQUIRE(timer->settime(event::timerfd_flags::absolute, event::TimerSpec{{}, {0, 1}}).has_value());
        CHECK(read_u64(*file).value() == 1);
    }
    SECTION("invalid arguments") {
        CHECK(timer->settime(4, event::TimerSpec{}).error() == Errno::inval);
        CHECK(timer->settime(0, event::TimerSpec{{}, {0, 1'000'000'000}}).error() == Errno::inval);
        CHECK(timer->settime(0, event::TimerSpec{{}, {-1, 0}}).error() == Errno::inval);
        std::array<std::byte, 4> small{};
        CHECK(file->read(small).error() == Errno::inval);
        CHECK(event::make_timerfd(platform, 2, 0).error() == Errno::inval);
        CHECK(event::make_timerfd(platform, 8, 0).error() == Errno::perm);
        CHECK(event::make_timerfd(platform, 1, 1).error() == Errno::inval);
    }
}

TEST_CASE("timerfd: CLOCK_REALTIME follows the wall clock", "[ipc][timerfd]") {
    using P = litebox::test::TestPlatform;
    P platform;
    auto file = event::make_timerfd(platform, 0 /*CLOCK_REALTIME*/, 0).value();
    auto* timer = event::timerfd_of(*file);
    const auto wall = platform.current_time().nanoseconds_since_epoch() + 3'000'000'000;
    REQUIRE(timer->settime(event::timerfd_flags::absolute, event::TimerSpec{{}, {wall / 1'000'000'000, wall % 1'000'000'000}}).has_value());
    CHECK(timer->gettime().value == fd::Timespec{3, 0});
    platform.advance(seconds(3));
    CHECK(read_u64(*file).value() == 1);
}

TEST_CASE("timerfd: a blocking read sleeps exactly until the expiry", "[ipc][timerfd]") {
    using P = litebox::test::TestPlatform;
    P platform;
    auto& clock = litebox::test::VirtualClock::instance();
    auto file = event::make_timerfd(platform, 1, 0).value();
    auto* timer = event::timerfd_of(*file);
    REQUIRE(timer->settime(0, event::TimerSpec{{}, {2, 0}}).has_value());
    const auto start = platform.now();
    Result<std::uint64_t> got = Errno::inval;
    std::thread reader([&] {
        event::WaitContext<P> ctx(platform);
        got = event::blocking(ctx, *file, ev::in, [&] { return read_u64(*file); });
    });
    clock.wait_for_timed_sleepers(1);
    clock.advance(seconds(2));
    reader.join();
    CHECK(got.value() == 1);
    CHECK(platform.now().checked_duration_since(start).value() == seconds(2));
}

TEST_CASE("timerfd: re-arming wakes a sleeper so that it sleeps to the new deadline", "[ipc][timerfd]") {
    using P = litebox::test::TestPlatform;
    P platform;
    auto& clock = litebox::test::VirtualClock::instance();
    auto file = event::make_timerfd(platform, 1, 0).value();
    auto* timer = event::timerfd_of(*file);
    REQUIRE(timer->settime(0, event::TimerSpec{{}, {100, 0}}).has_value());
    Result<std::uint64_t> got = Errno::inval;
    std::thread reader([&] {
        event::WaitContext<P> ctx(platform);
        got = event::blocking(ctx, *file, ev::in, [&] { return read_u64(*file); });
    });
    clock.wait_for_timed_sleepers(1);
    REQUIRE(timer->settime(0, event::TimerSpec{{}, {1, 0}}).has_value());
    // The sleeper wakes, recomputes, sleeps again with the 1 s deadline.
    REQUIRE(litebox::test::eventually([&] { return clock.timed_sleepers() == 1; }));
    clock.advance(seconds(1));
    reader.join();
    CHECK(got.value() == 1);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
