// Pipes, eventfd, timerfd, epoll, poll and select through the shim.
#include <thread>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;
using namespace std::chrono_literals;

namespace {
std::pair<int, int> make_pipe(ShimFixture<>& f, std::uint32_t flags = 0) {
    const auto fds = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::pipe2, fds, flags) == 0);
    return {f.mem.get<std::int32_t>(fds), f.mem.get<std::int32_t>(fds + 4)};
}
}  // namespace

TEST_CASE("pipe: data, EOF, EAGAIN, EPIPE and SIGPIPE", "[shim][ipc]") {
    ShimFixture<> f;
    const auto fds = f.mem.allocate(8);
    CHECK(f.call(lx::nr::pipe, fds) == 0);
    const int r = f.mem.get<std::int32_t>(fds), w = f.mem.get<std::int32_t>(fds + 4);
    CHECK(f.call(lx::nr::write, w, f.mem.put_string("ping"), 4) == 4);
    const auto fionread = f.mem.allocate(4);
    CHECK(f.call(lx::nr::ioctl, r, lx::abi::fionread, fionread) == 0);
    CHECK(f.mem.get<std::int32_t>(fionread) == 4);
    const auto buf = f.mem.allocate(16);
    CHECK(f.call(lx::nr::read, r, buf, 16) == 4);
    CHECK(f.call(lx::nr::fcntl, r, lx::abi::f_getpipe_sz) == 65536);
    CHECK(f.call(lx::nr::fcntl, r, lx::abi::f_setpipe_sz, 8192) == 8192);
    CHECK(f.call(lx::nr::fcntl, buf == 0 ? 0 : 99, lx::abi::f_getpipe_sz) == err(Errno::badf));
    CHECK(f.call(lx::nr::lseek, r, 0, 0) == err(Errno::spipe));
    CHECK(f.call(lx::nr::fcntl, r, lx::abi::f_setfl, litebox::fd::open_flags::nonblock) == 0);
    CHECK(f.call(lx::nr::read, r, buf, 16) == err(Errno::again));
    CHECK(f.call(lx::nr::close, w) == 0);
    CHECK(f.call(lx::nr::read, r, buf, 16) == 0);  // EOF once the writer is gone
    auto [r2, w2] = make_pipe(f, litebox::fd::open_flags::close_on_exec);
    CHECK(f.init->files().close_on_exec(w2).value());
    CHECK(f.call(lx::nr::close, r2) == 0);
    CHECK(f.call(lx::nr::write, w2, buf, 1) == err(Errno::pipe));
    auto signal = f.init->dequeue_signal();
    REQUIRE(signal);
    CHECK(signal->first == lx::abi::sigpipe);

    CHECK(f.call(lx::nr::pipe2, fds, 0x1) == err(Errno::inval));
    CHECK(f.call(lx::nr::pipe2, fds, litebox::fd::open_flags::direct) == err(Errno::inval));
    const auto before = f.init->files().count();
    CHECK(f.call(lx::nr::pipe2, f.mem.hole(), 0) == err(Errno::fault));
    CHECK(f.init->files().count() == before);  // nothing leaked
}

TEST_CASE("a blocking pipe read waits for a writer and is interrupted by a signal", "[shim][ipc]") {
    ShimFixture<> f;
    const auto pipe_fds = make_pipe(f);  // not a structured binding: lambdas capture r (clang 14)
    const int r = pipe_fds.first;
    const int w = pipe_fds.second;
    auto child = f.fork(*f.init);
    const auto buf = f.mem.allocate(16);
    std::int64_t got = 0;
    std::thread reader([&] { got = f.call_on(*child, lx::nr::read, r, buf, 16); });
    std::this_thread::sleep_for(20ms);
    CHECK(f.call(lx::nr::write, w, f.mem.put_string("late"), 4) == 4);
    reader.join();
    CHECK(got == 4);

    std::thread interrupted([&] { got = f.call_on(*child, lx::nr::read, r, buf, 16); });
    std::this_thread::sleep_for(20ms);
    CHECK(f.call(lx::nr::kill, 2, lx::abi::sigusr1) == 0);
    interrupted.join();
    CHECK(got == err(Errno::intr));
}

TEST_CASE("eventfd counts", "[shim][ipc]") {
    ShimFixture<> f;
    const auto fd = f.call(lx::nr::eventfd2, 3, litebox::fd::open_flags::nonblock);
    REQUIRE(fd >= 0);
    const auto value = f.mem.allocate(8);
    CHECK(f.call(lx::nr::read, fd, value, 8) == 8);
    CHECK(f.mem.get<std::uint64_t>(value) == 3);
    CHECK(f.call(lx::nr::read, fd, value, 8) == err(Errno::again));
    f.mem.put<std::uint64_t>(value, 5);
    CHECK(f.call(lx::nr::write, fd, value, 8) == 8);
    CHECK(f.call(lx::nr::read, fd, value, 4) == err(Errno::inval));
    CHECK(f.call(lx::nr::eventfd2, 0, 0x10) == err(Errno::inval));
    CHECK(f.call(lx::nr::eventfd, 1) >= 0);
}

TEST_CASE("timerfd expires on the box's monotonic clock", "[shim][ipc]") {
    ShimFixture<> f;
    const auto fd = f.call(lx::nr::timerfd_create, lx::abi::clock_monotonic, litebox::fd::open_flags::nonblock);
    REQUIRE(fd >= 0);
    const auto spec = f.mem.allocate(sizeof(lx::abi::itimerspec)), old = f.mem.allocate(sizeof(lx::abi::itimerspec));
    f.mem.put(spec, lx::abi::itimerspec{{0, 0}, {2, 0}});
    CHECK(f.call(lx::nr::timerfd_settime, fd, 0, spec, old) == 0);
    CHECK(f.call(lx::nr::timerfd_gettime, fd, old) == 0);
    CHECK(f.mem.get<lx::abi::itimerspec>(old).it_value.tv_sec == 2);
    const auto ticks = f.mem.allocate(8);
    CHECK(f.call(lx::nr::read, fd, ticks, 8) == err(Errno::again));
    TestPlatform::advance(2s);
    CHECK(f.call(lx::nr::read, fd, ticks, 8) == 8);
    CHECK(f.mem.get<std::uint64_t>(ticks) == 1);
    CHECK(f.call(lx::nr::timerfd_create, 77, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::timerfd_settime, fd, 0, f.mem.hole(), 0) == err(Errno::fault));
    const auto pipe_fd = make_pipe(f).first;
    CHECK(f.call(lx::nr::timerfd_gettime, pipe_fd, old) == err(Errno::inval));
    f.mem.put(spec, lx::abi::itimerspec{{0, 0}, {0, 2'000'000'000}});
    CHECK(f.call(lx::nr::timerfd_settime, fd, 0, spec, 0) == err(Errno::inval));
}

TEST_CASE("epoll reports readiness", "[shim][ipc]") {
    ShimFixture<> f;
    auto [r, w] = make_pipe(f);
    const auto ep = f.call(lx::nr::epoll_create1, litebox::fd::open_flags::close_on_exec);
    REQUIRE(ep >= 0);
    const auto ev = f.mem.allocate(12);
    f.mem.put(ev, lx::abi::epoll_event{litebox::fd::events::in, 0xabcdef});
    CHECK(f.call(lx::nr::epoll_ctl, ep, 1, r, ev) == 0);
    CHECK(f.call(lx::nr::epoll_ctl, ep, 1, r, ev) == err(Errno::exist));
    CHECK(f.call(lx::nr::epoll_ctl, ep, 1, ep, ev) == err(Errno::inval));
    CHECK(f.call(lx::nr::epoll_ctl, ep, 9, r, ev) == err(Errno::inval));
    CHECK(f.call(lx::nr::epoll_ctl, r, 1, w, ev) == err(Errno::inval));
    CHECK(f.call(lx::nr::epoll_ctl, ep, 1, 99, ev) == err(Errno::badf));
    CHECK(f.call(lx::nr::epoll_ctl, ep, 1, w, f.mem.hole()) == err(Errno::fault));
    const auto out = f.mem.allocate(12 * 4);
    CHECK(f.call(lx::nr::epoll_wait, ep, out, 4, 0) == 0);
    CHECK(f.call(lx::nr::write, w, f.mem.put_string("x"), 1) == 1);
    CHECK(f.call(lx::nr::epoll_wait, ep, out, 4, -1) == 1);
    CHECK(std::uint64_t{f.mem.get<lx::abi::epoll_event>(out).data} == 0xabcdef);
    CHECK(f.call(lx::nr::epoll_pwait, ep, out, 4, 0, 0, 8) == 1);
    CHECK(f.call(lx::nr::epoll_wait, ep, out, 0, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::epoll_wait, ep, f.mem.hole(), 4, 0) == err(Errno::fault));
    CHECK(f.call(lx::nr::epoll_create, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::epoll_create1, 1) == err(Errno::inval));
    CHECK(f.call(lx::nr::epoll_ctl, ep, 2, r, 0) == 0);
    CHECK(f.call(lx::nr::epoll_wait, ep, out, 4, 0) == 0);
}

TEST_CASE("poll, ppoll, select and pselect6", "[shim][ipc]") {
    ShimFixture<> f;
    const auto pipe_fds = make_pipe(f);  // not a structured binding: lambdas capture r (clang 14)
    const int r = pipe_fds.first;
    const int w = pipe_fds.second;
    const auto fds = f.mem.allocate(24);
    f.mem.put(fds, lx::abi::pollfd{r, static_cast<std::int16_t>(litebox::fd::events::in), 0});
    f.mem.put(fds + 8, lx::abi::pollfd{-1, static_cast<std::int16_t>(litebox::fd::events::in), 0});
    f.mem.put(fds + 16, lx::abi::pollfd{55, static_cast<std::int16_t>(litebox::fd::events::in), 0});
    CHECK(f.call(lx::nr::poll, fds, 3, 0) == 1);  // only the closed descriptor: POLLNVAL
    CHECK(f.mem.get<lx::abi::pollfd>(fds + 16).revents == litebox::fd::events::nval);
    CHECK(f.mem.get<lx::abi::pollfd>(fds + 8).revents == 0);
    CHECK(f.call(lx::nr::write, w, f.mem.put_string("y"), 1) == 1);
    CHECK(f.call(lx::nr::poll, fds, 1, -1) == 1);
    CHECK(f.mem.get<lx::abi::pollfd>(fds).revents == litebox::fd::events::in);
    CHECK(f.call(lx::nr::poll, f.mem.hole(), 1, 0) == err(Errno::fault));
    CHECK(f.call(lx::nr::poll, fds, 5000, 0) == err(Errno::inval));

    const auto ts = f.mem.allocate(16);
    f.mem.put(ts, lx::abi::timespec{5, 0});
    CHECK(f.call(lx::nr::ppoll, fds, 1, ts, 0, 8) == 1);
    f.mem.put(ts, lx::abi::timespec{0, -1});
    CHECK(f.call(lx::nr::ppoll, fds, 1, ts, 0, 8) == err(Errno::inval));
    const auto mask = f.mem.allocate(8);
    CHECK(f.call(lx::nr::ppoll, fds, 1, 0, mask, 4) == err(Errno::inval));

    const auto readfds = f.mem.allocate(8), writefds = f.mem.allocate(8);
    f.mem.put<std::uint64_t>(readfds, 1ull << r);
    f.mem.put<std::uint64_t>(writefds, 1ull << w);
    const auto tv = f.mem.allocate(16);
    f.mem.put(tv, lx::abi::timeval{1, 0});
    CHECK(f.call(lx::nr::select, w + 1, readfds, writefds, 0, tv) == 2);
    CHECK(f.mem.get<std::uint64_t>(readfds) == 1ull << r);
    f.mem.put<std::uint64_t>(readfds, 1ull << 40);
    CHECK(f.call(lx::nr::select, 41, readfds, 0, 0, tv) == err(Errno::badf));
    CHECK(f.call(lx::nr::select, -1, readfds, 0, 0, tv) == err(Errno::inval));
    f.mem.put(tv, lx::abi::timeval{0, 2'000'000});
    CHECK(f.call(lx::nr::select, 1, readfds, 0, 0, tv) == err(Errno::inval));

    const auto buf = f.mem.allocate(4);
    CHECK(f.call(lx::nr::read, r, buf, 4) == 1);  // drain: nothing readable now
    f.mem.put<std::uint64_t>(readfds, 1ull << r);
    f.mem.put(ts, lx::abi::timespec{3, 0});
    const auto sleepers = VirtualClock::instance().timed_sleepers();
    std::int64_t result = -1;
    std::thread waiter([&] { result = f.call(lx::nr::pselect6, r + 1, readfds, 0, 0, ts, 0); });
    VirtualClock::instance().wait_for_timed_sleepers(sleepers + 1);
    TestPlatform::advance(3s);
    waiter.join();
    CHECK(result == 0);  // timed out
    CHECK(f.mem.get<std::uint64_t>(readfds) == 0);
    CHECK(f.mem.get<lx::abi::timespec>(ts).tv_sec == 0);
}

TEST_CASE("a FIFO made with mknod opens with Linux's rendezvous", "[shim][ipc]") {
    ShimFixture<> f;
    const auto path = f.mem.put_string("/fifo");
    REQUIRE(f.call(lx::nr::mknodat, -100 /*AT_FDCWD*/, path, 0010644 /*S_IFIFO|0644*/, 0) == 0);
    // O_NONBLOCK: a writer without a reader is ENXIO, a reader opens at once.
    CHECK(f.call(lx::nr::openat, -100, path, 01 | 04000 /*O_WRONLY|O_NONBLOCK*/) == err(Errno::nxio));
    const auto early_reader = f.call(lx::nr::openat, -100, path, 04000 /*O_RDONLY|O_NONBLOCK*/);
    REQUIRE(early_reader >= 0);
    CHECK(f.call(lx::nr::close, early_reader) == 0);

    // A blocking reader waits for a writer; the data goes through.
    auto child = f.fork(*f.init);
    std::int64_t reader = -1;
    std::thread opener([&] { reader = f.call_on(*child, lx::nr::openat, -100, path, 0 /*O_RDONLY*/); });
    std::this_thread::sleep_for(20ms);
    const auto writer = f.call(lx::nr::openat, -100, path, 01 /*O_WRONLY*/);
    opener.join();
    REQUIRE(writer >= 0);
    REQUIRE(reader >= 0);
    CHECK(f.call(lx::nr::write, writer, f.mem.put_string("via fifo"), 8) == 8);
    const auto buf = f.mem.allocate(16);
    CHECK(f.call_on(*child, lx::nr::read, reader, buf, 16) == 8);
    CHECK(f.call(lx::nr::close, writer) == 0);
    CHECK(f.call_on(*child, lx::nr::read, reader, buf, 16) == 0);  // end of file after the writer left

    CHECK(f.call_on(*child, lx::nr::close, reader) == 0);

    // A blocking open interrupted by a signal fails with EINTR and leaves no end behind.
    std::int64_t interrupted = 0;
    std::thread blocked([&] { interrupted = f.call_on(*child, lx::nr::openat, -100, path, 01 /*O_WRONLY*/); });
    std::this_thread::sleep_for(20ms);
    CHECK(f.call(lx::nr::kill, 2, lx::abi::sigusr1) == 0);
    blocked.join();
    CHECK(interrupted == err(Errno::intr));
    CHECK(f.call(lx::nr::openat, -100, path, 01 | 04000) == err(Errno::nxio));  // still no reader
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
