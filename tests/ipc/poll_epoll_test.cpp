#include <catch2/catch.hpp>
#include <litebox/event/epoll.hpp>
#include <litebox/event/poll.hpp>
#include <litebox/event/timerfd.hpp>
#include <litebox/ipc/eventfd.hpp>
#include <litebox/ipc/pipe.hpp>

#include <atomic>
#include <thread>

#include "ipc_support.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox;
using litebox::test::read_string;
using litebox::test::write_string;
namespace ev = litebox::fd::events;
using event::EpollEvent;
using event::EpollOp;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {
/// A regular-file stand-in: always ready, no Pollee.
template <typename P>
class PlainFile final : public fd::OpenFile<P> {
public:
    PlainFile() : fd::OpenFile<P>(fd::open_flags::read_write) {}
    Result<fd::Stat> stat() override { return fd::Stat{}; }
};

template <typename P>
event::WaitContext<P> now_only(const P& platform) {
    return event::WaitContext<P>(platform, nullptr, platform.now());
}
}  // namespace

TEST_CASE("poll: reports ready files, POLLNVAL for closed ones, always-ready files", "[ipc][poll]") {
    using P = litebox::test::TestPlatform;
    P platform;
    auto a = ipc::make_pipe<P>(0).value();
    PlainFile<P> plain;
    std::array<event::PollRequest<P>, 4> req{{
        {a.read.get(), ev::in},
        {a.write.get(), ev::out},
        {nullptr, ev::in},
        {&plain, ev::in},
    }};
    CHECK(event::poll_files(now_only(platform), std::span(req)).value() == 3);
    CHECK(req[0].revents == 0);
    CHECK(req[1].revents == ev::out);
    CHECK(req[2].revents == ev::nval);
    CHECK(req[3].revents == ev::in);

    std::array<event::PollRequest<P>, 1> only_read{{{a.read.get(), ev::in}}};
    CHECK(event::poll_files(now_only(platform), std::span(only_read)).value() == 0);
    a.write.reset();  // HUP is reported without being asked for
    only_read[0].events = 0;
    CHECK(event::poll_files(now_only(platform), std::span(only_read)).value() == 1);
    CHECK(only_read[0].revents == ev::hup);
}

TEST_CASE("poll: with a timeout returns 0 after exactly the timeout on the virtual clock", "[ipc][poll]") {
    using P = litebox::test::TestPlatform;
    P platform;
    auto& clock = litebox::test::VirtualClock::instance();
    auto a = ipc::make_pipe<P>(0).value();
    std::array<event::PollRequest<P>, 1> req{{{a.read.get(), ev::in}}};
    const auto start = platform.now();
    std::atomic<bool> done{false};
    Result<std::size_t> result = Errno::inval;
    std::thread poller([&] {
        result = event::poll_files(event::WaitContext<P>(platform, nullptr, event::deadline_after(platform, milliseconds(1500))), std::span(req));
        done = true;
    });
    clock.wait_for_timed_sleepers(1);
    clock.advance(milliseconds(1499));
    std::this_thread::sleep_for(milliseconds(20));
    CHECK_FALSE(done.load());
    clock.advance(milliseconds(1));
    poller.join();
    CHECK(result.value() == 0);
    CHECK(platform.now().checked_duration_since(start).value() == milliseconds(1500));
}

TEMPLATE_LIST_TEST_CASE("poll: wakes when one of several files becomes ready, or EINTR", "[ipc][poll]", litebox::test::AllPlatforms) {
    using P = TestType;
    P platform;
    auto a = ipc::make_pipe<P>(0).value();
    auto b = ipc::make_pipe<P>(0).value();
    auto efd = ipc::make_eventfd<P>(0, 0).value();
    std::array<event::PollRequest<P>, 3> req{{{a.read.get(), ev::in}, {b.read.get(), ev::in}, {efd.get(), ev::in}}};
    event::Waiter<P> waiter;
    Result<std::size_t> result = Errno::inval;
    std::thread poller([&] { result = event::poll_files(event::WaitContext<P>(platform, &waiter), std::span(req)); });
    REQUIRE(litebox::test::eventually([&] { return efd->pollee()->subscribers() > 0; }));
    SECTION("a write to the second pipe") {
        REQUIRE(write_string(*b.write, "x").has_value());
        poller.join();
        CHECK(result.value() == 1);
        CHECK(req[1].revents == ev::in);
        CHECK(a.read->pollee()->subscribers() == 0);  // all subscriptions are gone
    }
    SECTION("an interrupt") {
        waiter.interrupt();
        poller.join();
        CHECK(result.error() == Errno::intr);
    }
}

TEST_CASE("poll: a timerfd in the set wakes the poller at its expiry", "[ipc][poll][timerfd]") {
    using P = litebox::test::TestPlatform;
    P platform;
    auto& clock = litebox::test::VirtualClock::instance();
    auto a = ipc::make_pipe<P>(0).value();
    auto tfd = event::make_timerfd(platform, 1, 0).value();
    REQUIRE(event::timerfd_of(*tfd)->settime(0, event::TimerSpec{{}, {0, 300'000'000}}).has_value());
    std::array<event::PollRequest<P>, 2> req{{{a.read.get(), ev::in}, {tfd.get(), ev::in}}};
    const auto start = platform.now();
    Result<std::size_t> result = Errno::inval;
    std::thread poller([&] { result = event::poll_files(event::WaitContext<P>(platform), std::span(req)); });
    clock.wait_for_timed_sleepers(1);
    clock.advance(milliseconds(300));
    poller.join();
    CHECK(result.value() == 1);
    CHECK(req[1].revents == ev::in);
    CHECK(platform.now().checked_duration_since(start).value() == milliseconds(300));
}

TEST_CASE("epoll: ctl errors", "[ipc][epoll]") {
    using P = litebox::test::TestPlatform;
    auto file = event::make_epoll<P>(0).value();
    auto* ep = event::epoll_of(*file);
    REQUIRE(ep != nullptr);
    auto pipe = ipc::make_pipe<P>(0).value();
    auto plain = std::make_shared<PlainFile<P>>();

    CHECK(event::make_epoll<P>(1).error() == Errno::inval);
    CHECK(ep->ctl(EpollOp::add, 3, pipe.read, {ev::in, 1}).has_value());
    CHECK(ep->ctl(EpollOp::add, 3, pipe.read, {ev::in, 1}).error() == Errno::exist);
    CHECK(ep->ctl(EpollOp::add, 4, pipe.read, {ev::in, 1}).has_value());  // another fd, same file
    CHECK(ep->ctl(EpollOp::mod, 5, pipe.read, {ev::in, 1}).error() == Errno::noent);
    CHECK(ep->ctl(EpollOp::del, 5, pipe.read).error() == Errno::noent);
    CHECK(ep->ctl(EpollOp::add, 6, plain).error() == Errno::perm);
    CHECK(ep->ctl(EpollOp::add, 7, file).error() == Errno::inval);
    CHECK(ep->ctl(EpollOp::add, 8, nullptr).error() == Errno::badf);
    CHECK(ep->ctl(static_cast<EpollOp>(9), 3, pipe.read).error() == Errno::inval);
    // EPOLLEXCLUSIVE: accepted on ADD with plain bits, EINVAL otherwise.
    CHECK(ep->ctl(EpollOp::add, 9, pipe.write, {ev::out | event::epoll_flags::exclusive, 0}).has_value());
    CHECK(ep->ctl(EpollOp::mod, 9, pipe.write, {ev::out, 0}).error() == Errno::inval);
    CHECK(ep->ctl(EpollOp::mod, 3, pipe.read, {ev::in | event::epoll_flags::exclusive, 0}).error() == Errno::inval);
    CHECK(ep->ctl(EpollOp::add, 10, pipe.write, {ev::out | event::epoll_flags::exclusive | event::epoll_flags::one_shot, 0}).error() == Errno::inval);
    CHECK(ep->ctl(EpollOp::add, 10, pipe.write, {ev::pri | event::epoll_flags::exclusive, 0}).error() == Errno::inval);
    CHECK(ep->watch_count() == 3);
    CHECK(ep->ctl(EpollOp::del, 3, pipe.read).has_value());
    CHECK(ep->watch_count() == 2);

    std::array<EpollEvent, 1> out{};
    P platform;
    CHECK(ep->wait(now_only(platform), std::span<EpollEvent>()).error() == Errno::inval);
    (void)out;
}

TEST_CASE("epoll: level-triggered entries are reported while ready", "[ipc][epoll]") {
    using P = litebox::test::TestPlatform;
    P platform;
    auto ep = event::Epoll<P>::create();
    auto pipe = ipc::make_pipe<P>(0).value();
    REQUIRE(ep->ctl(EpollOp::add, 3, pipe.read, {ev::in, 33}).has_value());
    REQUIRE(ep->ctl(EpollOp::add, 4, pipe.write, {ev::out, 44}).has_value());
    std::array<EpollEvent, 4> out{};
    REQUIRE(ep->wait(now_only(platform), out).value() == 1);
    CHECK(out[0] == EpollEvent{ev::out, 44});
    REQUIRE(write_string(*pipe.write, "data").has_value());
    for (int round = 0; round < 3; ++round) {
        const auto n = ep->wait(now_only(platform), out).value();
        REQUIRE(n == 2);
        CHECK(((out[0] == EpollEvent{ev::in, 33} && out[1] == EpollEvent{ev::out, 44}) ||
               (out[1] == EpollEvent{ev::in, 33} && out[0] == EpollEvent{ev::out, 44})));
    }
    REQUIRE(read_string(*pipe.read).value() == "data");
    REQUIRE(ep->wait(now_only(platform), out).value() == 1);
    CHECK(out[0].data == 44);
    CHECK((ep->poll(ev::in) & ev::in) != 0);

    // maxevents smaller than the ready count: the rest stays for the next call.
    REQUIRE(write_string(*pipe.write, "more").has_value());
    std::array<EpollEvent, 1> one{};
    REQUIRE(ep->wait(now_only(platform), one).value() == 1);
    const auto first = one[0].data;
    REQUIRE(ep->wait(now_only(platform), one).value() == 1);
    CHECK(one[0].data != first);
}

TEST_CASE("epoll: edge-triggered entries are reported once per change", "[ipc][epoll]") {
    using P = litebox::test::TestPlatform;
    P platform;
    auto ep = event::Epoll<P>::create();
    auto pipe = ipc::make_pipe<P>(0).value();
    REQUIRE(ep->ctl(EpollOp::add, 3, pipe.read, {ev::in | event::epoll_flags::edge_triggered, 3}).has_value());
    std::array<EpollEvent, 4> out{};
    CHECK(ep->wait(now_only(platform), out).value() == 0);
    REQUIRE(write_string(*pipe.write, "a").has_value());
    CHECK(ep->wait(now_only(platform), out).value() == 1);
    CHECK(out[0] == EpollEvent{ev::in, 3});
    CHECK(ep->wait(now_only(platform), out).value() == 0);  // still readable, but no new change
    REQUIRE(write_string(*pipe.write, "b").has_value());     // a new change
    CHECK(ep->wait(now_only(platform), out).value() == 1);
    CHECK(ep->wait(now_only(platform), out).value() == 0);
    REQUIRE(read_string(*pipe.read).value() == "ab");
    CHECK(ep->wait(now_only(platform), out).value() == 0);  // a read is no IN event
    // MOD re-checks readiness like Linux (and reports a ready file once).
    REQUIRE(write_string(*pipe.write, "c").has_value());
    CHECK(ep->wait(now_only(platform), out).value() == 1);
    REQUIRE(ep->ctl(EpollOp::mod, 3, pipe.read, {ev::in | event::epoll_flags::edge_triggered, 4}).has_value());
    CHECK(ep->wait(now_only(platform), out).value() == 1);
    CHECK(out[0].data == 4);
    CHECK(ep->wait(now_only(platform), out).value() == 0);
}

TEST_CASE("epoll: EPOLLONESHOT disables the entry until MOD", "[ipc][epoll]") {
    using P = litebox::test::TestPlatform;
    P platform;
    auto ep = event::Epoll<P>::create();
    auto efd = ipc::make_eventfd<P>(1, 0).value();
    REQUIRE(ep->ctl(EpollOp::add, 3, efd, {ev::in | event::epoll_flags::one_shot, 7}).has_value());
    std::array<EpollEvent, 4> out{};
    CHECK(ep->wait(now_only(platform), out).value() == 1);
    CHECK(ep->wait(now_only(platform), out).value() == 0);
    REQUIRE(static_cast<ipc::EventFd<P>&>(*efd).add(1).has_value());
    CHECK(ep->wait(now_only(platform), out).value() == 0);
    REQUIRE(ep->ctl(EpollOp::mod, 3, efd, {ev::in | event::epoll_flags::one_shot, 8}).has_value());
    CHECK(ep->wait(now_only(platform), out).value() == 1);
    CHECK(out[0].data == 8);
}

TEST_CASE("epoll: a released file disappears but a dup'ed one stays", "[ipc][epoll]") {
    using P = litebox::test::TestPlatform;
    P platform;
    auto ep = event::Epoll<P>::create();
    auto a = ipc::make_pipe<P>(0).value();
    auto b = ipc::make_pipe<P>(0).value();
    REQUIRE(ep->ctl(EpollOp::add, 3, a.read, {ev::in, 3}).has_value());
    REQUIRE(ep->ctl(EpollOp::add, 5, b.read, {ev::in, 5}).has_value());
    REQUIRE(write_string(*a.write, "x").has_value());
    std::array<EpollEvent, 4> out{};
    REQUIRE(ep->wait(now_only(platform), out).value() == 1);  // queued on the ready list

    auto dup = b.read;  // "fd 6 = dup(5)"; then close(5): the description lives on
    b.read.reset();
    a.read.reset();  // the last reference: released
    CHECK(ep->watch_count() == 1);
    CHECK(ep->wait(now_only(platform), out).value() == 0);
    REQUIRE(write_string(*b.write, "y").has_value());
    REQUIRE(ep->wait(now_only(platform), out).value() == 1);
    CHECK(out[0].data == 5);
    // A new file under the old fd number is a new entry.
    auto c = ipc::make_pipe<P>(0).value();
    CHECK(ep->ctl(EpollOp::add, 3, c.read, {ev::in, 30}).has_value());
}

TEST_CASE("epoll: nesting, loops and depth", "[ipc][epoll]") {
    using P = litebox::test::TestPlatform;
    P platform;
    auto outer = event::Epoll<P>::create();
    auto inner = event::Epoll<P>::create();
    auto pipe = ipc::make_pipe<P>(0).value();
    REQUIRE(inner->ctl(EpollOp::add, 3, pipe.read, {ev::in, 3}).has_value());
    REQUIRE(outer->ctl(EpollOp::add, 4, inner, {ev::in, 4}).has_value());
    CHECK(inner->ctl(EpollOp::add, 5, outer, {ev::in, 5}).error() == Errno::loop);

    std::array<EpollEvent, 4> out{};
    CHECK(outer->wait(now_only(platform), out).value() == 0);
    REQUIRE(write_string(*pipe.write, "x").has_value());
    REQUIRE(outer->wait(now_only(platform), out).value() == 1);
    CHECK(out[0] == EpollEvent{ev::in, 4});
    REQUIRE(inner->wait(now_only(platform), out).value() == 1);
    CHECK(out[0] == EpollEvent{ev::in, 3});

    // A chain deeper than max_epoll_nesting is refused.
    std::vector<std::shared_ptr<event::Epoll<P>>> chain{event::Epoll<P>::create()};
    Result<void> added = ok();
    for (int i = 0; i < 8 && added.has_value(); ++i) {
        auto next = event::Epoll<P>::create();
        added = next->ctl(EpollOp::add, i, chain.back(), {ev::in, 0});
        chain.push_back(next);
    }
    CHECK(added.error() == Errno::loop);
    CHECK(chain.size() == static_cast<std::size_t>(event::max_epoll_nesting) + 2);
}

TEMPLATE_LIST_TEST_CASE("epoll: a blocked wait wakes on readiness, times out, or is interrupted", "[ipc][epoll]", litebox::test::AllPlatforms) {
    using P = TestType;
    P platform;
    auto ep = event::Epoll<P>::create();
    auto efd = ipc::make_eventfd<P>(0, 0).value();
    REQUIRE(ep->ctl(EpollOp::add, 3, efd, {ev::in, 9}).has_value());
    event::Waiter<P> waiter;
    std::array<EpollEvent, 2> out{};
    Result<std::size_t> result = Errno::inval;
    std::thread t([&] { result = ep->wait(event::WaitContext<P>(platform, &waiter), out); });
    REQUIRE(litebox::test::eventually([&] { return ep->pollee()->subscribers() > 0; }));
    SECTION("readiness") {
        REQUIRE(static_cast<ipc::EventFd<P>&>(*efd).add(1).has_value());
        t.join();
        CHECK(result.value() == 1);
        CHECK(out[0] == EpollEvent{ev::in, 9});
    }
    SECTION("interrupt") {
        waiter.interrupt();
        t.join();
        CHECK(result.error() == Errno::intr);
    }
}

TEST_CASE("epoll: timeout on the virtual clock, and a timerfd inside nested epolls", "[ipc][epoll][timerfd]") {
    using P = litebox::test::TestPlatform;
    P platform;
    auto& clock = litebox::test::VirtualClock::instance();
    auto outer = event::Epoll<P>::create();
    auto inner = event::Epoll<P>::create();
    auto tfd = event::make_timerfd(platform, 1, 0).value();
    REQUIRE(inner->ctl(EpollOp::add, 3, tfd, {ev::in | event::epoll_flags::edge_triggered, 3}).has_value());
    REQUIRE(outer->ctl(EpollOp::add, 4, inner, {ev::in, 4}).has_value());
    std::array<EpollEvent, 2> out{};

    SECTION("no timer armed: the wait times out exactly") {
        const auto start = platform.now();
        Result<std::size_t> result = Errno::inval;
        std::thread t([&] { result = outer->wait(event::WaitContext<P>(platform, nullptr, event::deadline_after(platform, milliseconds(700))), out); });
        clock.wait_for_timed_sleepers(1);
        clock.advance(milliseconds(700));
        t.join();
        CHECK(result.value() == 0);
        CHECK(platform.now().checked_duration_since(start).value() == milliseconds(700));
    }
    SECTION("an interval timer wakes the outer wait at each expiry") {
        REQUIRE(event::timerfd_of(*tfd)->settime(0, event::TimerSpec{{0, 200'000'000}, {0, 200'000'000}}).has_value());
        for (int i = 0; i < 3; ++i) {
            const auto start = platform.now();
            Result<std::size_t> result = Errno::inval;
            std::thread t([&] { result = outer->wait(event::WaitContext<P>(platform), out); });
            clock.wait_for_timed_sleepers(1);
            clock.advance(milliseconds(200));
            t.join();
            REQUIRE(result.value() == 1);
            CHECK(out[0].data == 4);
            CHECK(platform.now().checked_duration_since(start).value() == milliseconds(200));
            std::array<EpollEvent, 2> inner_out{};
            REQUIRE(inner->wait(now_only(platform), inner_out).value() == 1);  // ET: once per expiry
            CHECK(inner->wait(now_only(platform), inner_out).value() == 0);
        }
    }
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
