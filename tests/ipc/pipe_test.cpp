#include <catch2/catch.hpp>
#include <litebox/event/blocking.hpp>
#include <litebox/ipc/pipe.hpp>

#include <atomic>
#include <numeric>
#include <thread>
#include <vector>

#include "ipc_support.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox;
using litebox::test::read_string;
using litebox::test::write_string;
namespace ev = litebox::fd::events;

TEMPLATE_LIST_TEST_CASE("pipe: data, end of file and broken pipe", "[ipc][pipe]", litebox::test::AllPlatforms) {
    using P = TestType;
    auto ends = ipc::make_pipe<P>(0);
    REQUIRE(ends.has_value());
    auto& r = *ends->read;
    auto& w = *ends->write;

    CHECK(r.poll(ev::in | ev::out) == 0);
    CHECK((w.poll(ev::out) & ev::out) != 0);
    REQUIRE(read_string(r).error() == Errno::again);

    REQUIRE(write_string(w, "hello").value() == 5);
    CHECK((r.poll(ev::in) & ev::in) != 0);
    REQUIRE(read_string(r, 3).value() == "hel");
    REQUIRE(read_string(r).value() == "lo");

    // Wrong direction: EBADF. Zero-length transfers: 0.
    CHECK(write_string(r, "x").error() == Errno::badf);
    CHECK(read_string(w).error() == Errno::badf);
    CHECK(write_string(w, "").value() == 0);

    SECTION("the last writer closes: readers drain, then get 0 and HUP") {
        REQUIRE(write_string(w, "tail").value() == 4);
        ends->write.reset();
        CHECK((r.poll(ev::in) & (ev::in | ev::hup)) == (ev::in | ev::hup));
        CHECK(read_string(r).value() == "tail");
        CHECK(read_string(r).value().empty());
        CHECK((r.poll(ev::in) & ev::hup) != 0);
    }
    SECTION("the last reader closes: writers get EPIPE and ERR") {
        ends->read.reset();
        CHECK(write_string(w, "x").error() == Errno::pipe);
        CHECK((w.poll(ev::out) & ev::err) != 0);
    }
}

TEST_CASE("pipe: writes up to PIPE_BUF are atomic, larger ones partial", "[ipc][pipe]") {
    using P = litebox::test::TestPlatform;
    auto ends = ipc::make_pipe<P>(0).value();
    const std::size_t capacity = ipc::pipe_of(*ends.write)->capacity();
    REQUIRE(capacity == ipc::default_pipe_capacity);
    std::vector<std::byte> fill(capacity - 100, std::byte{1});
    REQUIRE(ends.write->write(fill).value() == fill.size());
    CHECK((ends.write->poll(ev::out) & ev::out) == 0);  // fewer than PIPE_BUF bytes free

    std::vector<std::byte> small(200, std::byte{2});
    CHECK(ends.write->write(small).error() == Errno::again);
    std::vector<std::byte> large(ipc::pipe_buf + 1, std::byte{3});
    CHECK(ends.write->write(large).value() == 100);
    CHECK(ends.write->write(large).error() == Errno::again);
    CHECK(ipc::pipe_of(*ends.read)->bytes_queued() == capacity);

    std::vector<std::byte> out(capacity);
    REQUIRE(ends.read->read(out).value() == capacity);
    CHECK(out[capacity - 101] == std::byte{1});
    CHECK(out[capacity - 100] == std::byte{3});
    CHECK(out[capacity - 1] == std::byte{3});
}

TEST_CASE("pipe: F_SETPIPE_SZ rounds to pages, honours the maximum and queued data", "[ipc][pipe]") {
    using P = litebox::test::TestPlatform;
    auto ends = ipc::make_pipe<P>(0, ipc::PipeLimits{ipc::default_pipe_capacity, 256 * 1024}).value();
    auto* pipe = ipc::pipe_of(*ends.read);
    REQUIRE(pipe != nullptr);
    CHECK(pipe->set_capacity(1).value() == 4096);
    CHECK(pipe->set_capacity(5000).value() == 8192);
    CHECK(pipe->set_capacity(256 * 1024).value() == 256 * 1024);
    CHECK(pipe->set_capacity(256 * 1024 + 1).error() == Errno::perm);
    CHECK(pipe->set_capacity(std::uint64_t{1} << 40).error() == Errno::inval);

    std::vector<std::byte> data(10000);
    std::iota(reinterpret_cast<unsigned char*>(data.data()), reinterpret_cast<unsigned char*>(data.data() + data.size()),
              static_cast<unsigned char>(0));
    REQUIRE(ends.write->write(data).value() == data.size());
    CHECK(pipe->set_capacity(4096).error() == Errno::busy);
    CHECK(pipe->set_capacity(16384).value() == 16384);  // re-lays out the queued bytes
    CHECK(pipe->bytes_queued() == 10000);
    std::vector<std::byte> out(20000);
    REQUIRE(ends.read->read(out).value() == 10000);
    CHECK(std::equal(data.begin(), data.end(), out.begin()));
    CHECK(ipc::pipe_of(*ends.write)->capacity() == 16384);
}

TEST_CASE("pipe: flags", "[ipc][pipe]") {
    using P = litebox::test::TestPlatform;
    CHECK(ipc::make_pipe<P>(fd::open_flags::direct).error() == Errno::inval);
    auto ends = ipc::make_pipe<P>(ipc::pipe_flags::nonblock | ipc::pipe_flags::close_on_exec).value();
    CHECK(ends.read->nonblocking());
    CHECK(ends.write->nonblocking());
    CHECK((ends.read->status_flags() & fd::open_flags::close_on_exec) == 0);
    CHECK(ends.read->readable());
    CHECK_FALSE(ends.read->writable());
    auto st = ends.read->stat().value();
    CHECK((st.mode & fd::mode::type_mask) == fd::mode::fifo);
    CHECK(st.inode == ends.write->stat().value().inode);
}

TEMPLATE_LIST_TEST_CASE("pipe: a blocked reader wakes when a writer writes", "[ipc][pipe]", litebox::test::RealTimePlatforms) {
    using P = TestType;
    P platform;
    auto ends = ipc::make_pipe<P>(0).value();
    std::string got;
    std::thread reader([&] {
        event::WaitContext<P> ctx(platform);
        got = [&]() -> std::string {
            std::array<std::byte, 64> buf{};
            auto n = event::read(ctx, *ends.read, buf);
            if (!n) return std::string(errno_name(n.error()));
            return std::string(reinterpret_cast<const char*>(buf.data()), *n);
        }();
    });
    REQUIRE(litebox::test::eventually([&] { return ends.read->pollee()->subscribers() > 0; }));
    REQUIRE(write_string(*ends.write, "wake up").value() == 7);
    reader.join();
    CHECK(got == "wake up");
}

TEST_CASE("pipe: blocked reader on the virtual clock: woken by a write, or timed out exactly", "[ipc][pipe]") {
    using P = litebox::test::TestPlatform;
    P platform;
    auto& clock = litebox::test::VirtualClock::instance();
    auto ends = ipc::make_pipe<P>(0).value();

    SECTION("a write wakes it before the deadline, without advancing the clock") {
        Result<std::size_t> result = Errno::inval;
        std::thread reader([&] {
            event::WaitContext<P> ctx(platform, nullptr, event::deadline_after(platform, std::chrono::seconds(10)));
            std::array<std::byte, 16> buf{};
            result = event::read(ctx, *ends.read, buf);
        });
        clock.wait_for_timed_sleepers(1);
        REQUIRE(write_string(*ends.write, "abc").value() == 3);
        reader.join();
        CHECK(result.value() == 3);
    }
    SECTION("the deadline passes") {
        const auto start = platform.now();
        Result<std::size_t> result = std::size_t{0};
        std::atomic<bool> done{false};
        std::thread reader([&] {
            event::WaitContext<P> ctx(platform, nullptr, event::deadline_after(platform, std::chrono::milliseconds(250)));
            std::array<std::byte, 16> buf{};
            result = event::read(ctx, *ends.read, buf);
            done = true;
        });
        clock.wait_for_timed_sleepers(1);
        clock.advance(std::chrono::milliseconds(249));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        CHECK_FALSE(done.load());  // a millisecond early: still asleep
        clock.advance(std::chrono::milliseconds(1));
        reader.join();
        CHECK(result.error() == Errno::timedout);
        CHECK(platform.now().checked_duration_since(start).value() == std::chrono::milliseconds(250));
    }
}

TEMPLATE_LIST_TEST_CASE("pipe: an interrupted wait returns EINTR", "[ipc][pipe]", litebox::test::AllPlatforms) {
    using P = TestType;
    P platform;
    auto ends = ipc::make_pipe<P>(0).value();
    event::Waiter<P> waiter;
    Result<std::size_t> result = std::size_t{0};
    std::thread reader([&] {
        event::WaitContext<P> ctx(platform, &waiter);
        std::array<std::byte, 16> buf{};
        result = event::read(ctx, *ends.read, buf);
    });
    REQUIRE(litebox::test::eventually([&] { return ends.read->pollee()->subscribers() > 0; }));
    waiter.interrupt();
    reader.join();
    CHECK(result.error() == Errno::intr);
    CHECK(ends.read->pollee()->subscribers() == 0);

    // The interrupt is sticky until the shim clears it; then waits work again.
    event::WaitContext<P> ctx(platform, &waiter);
    REQUIRE(write_string(*ends.write, "x").value() == 1);
    std::array<std::byte, 16> buf{};
    CHECK(event::read(ctx, *ends.read, buf).value() == 1);  // data ready: no wait, no EINTR
    CHECK(event::read(ctx, *ends.read, buf).error() == Errno::intr);
    waiter.clear_interrupt();
    REQUIRE(write_string(*ends.write, "y").value() == 1);
    CHECK(event::read(ctx, *ends.read, buf).value() == 1);
}

TEMPLATE_LIST_TEST_CASE("pipe: a blocking write larger than the capacity streams through", "[ipc][pipe]", litebox::test::RealTimePlatforms) {
    using P = TestType;
    P platform;
    auto ends = ipc::make_pipe<P>(0).value();
    std::vector<std::byte> data(300 * 1024);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 7 + i / 251);
    std::vector<std::byte> received;
    std::thread reader([&] {
        event::WaitContext<P> ctx(platform);
        std::vector<std::byte> buf(10000);
        for (;;) {
            auto n = event::read(ctx, *ends.read, buf);
            if (!n || *n == 0) break;
            received.insert(received.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
        }
    });
    event::WaitContext<P> ctx(platform);
    CHECK(event::write(ctx, *ends.write, data).value() == data.size());
    ends.write.reset();
    reader.join();
    CHECK(received == data);
}

TEMPLATE_LIST_TEST_CASE("fifo: open rendezvous", "[ipc][pipe][fifo]", litebox::test::AllPlatforms) {
    using P = TestType;
    P platform;
    auto fifo = ipc::Pipe<P>::create();
    event::WaitContext<P> ctx(platform);
    const auto rd = fd::open_flags::read_only;
    const auto wr = fd::open_flags::write_only;
    const auto nb = fd::open_flags::nonblock;

    SECTION("O_NONBLOCK: a reader opens alone, a writer without a reader gets ENXIO") {
        CHECK(fifo->open_fifo(ctx, wr | nb).error() == Errno::nxio);
        auto reader = fifo->open_fifo(ctx, rd | nb).value();
        CHECK(reader->poll(ev::in) == 0);  // no HUP before any writer came
        CHECK(read_string(*reader).value().empty());
        auto writer = fifo->open_fifo(ctx, wr | nb).value();
        REQUIRE(write_string(*writer, "fifo").value() == 4);
        CHECK(read_string(*reader).value() == "fifo");
        writer.reset();
        CHECK((reader->poll(ev::in) & ev::hup) != 0);
    }
    SECTION("O_RDWR never blocks and counts as both") {
        auto both = fifo->open_fifo(ctx, fd::open_flags::read_write).value();
        CHECK(fifo->readers() == 1);
        CHECK(fifo->writers() == 1);
        REQUIRE(write_string(*both, "self").value() == 4);
        CHECK(read_string(*both).value() == "self");
        CHECK(fifo->open_fifo(ctx, wr | nb).has_value());
    }
    SECTION("an invalid access mode") { CHECK(fifo->open_fifo(ctx, fd::open_flags::access_mode).error() == Errno::inval); }
    SECTION("the buffer is dropped with the last end") {
        auto both = fifo->open_fifo(ctx, fd::open_flags::read_write).value();
        REQUIRE(write_string(*both, "gone").value() == 4);
        both.reset();
        CHECK(fifo->bytes_queued() == 0);
    }
}

TEMPLATE_LIST_TEST_CASE("fifo: blocking opens wait for the partner", "[ipc][pipe][fifo]", litebox::test::AllPlatforms) {
    using P = TestType;
    P platform;
    auto fifo = ipc::Pipe<P>::create();
    event::WaitContext<P> ctx(platform);

    SECTION("a reader waits for a writer") {
        Result<std::shared_ptr<fd::OpenFile<P>>> reader = Errno::inval;
        std::thread t([&] { reader = fifo->open_fifo(ctx, fd::open_flags::read_only); });
        REQUIRE(litebox::test::eventually([&] { return fifo->readers() == 1; }));
        auto writer = fifo->open_fifo(ctx, fd::open_flags::write_only).value();  // a reader exists: no wait
        t.join();
        REQUIRE(reader.has_value());
        REQUIRE(write_string(*writer, "hi").value() == 2);
        CHECK(read_string(**reader).value() == "hi");
    }
    SECTION("a writer waits for a reader") {
        Result<std::shared_ptr<fd::OpenFile<P>>> writer = Errno::inval;
        std::thread t([&] { writer = fifo->open_fifo(ctx, fd::open_flags::write_only); });
        REQUIRE(litebox::test::eventually([&] { return fifo->writers() == 1; }));
        auto reader = fifo->open_fifo(ctx, fd::open_flags::read_only | fd::open_flags::nonblock).value();
        t.join();
        REQUIRE(writer.has_value());
    }
    SECTION("an interrupted open leaves no end behind") {
        event::Waiter<P> waiter;
        event::WaitContext<P> interruptible(platform, &waiter);
        Result<std::shared_ptr<fd::OpenFile<P>>> reader = Errno::inval;
        std::thread t([&] { reader = fifo->open_fifo(interruptible, fd::open_flags::read_only); });
        REQUIRE(litebox::test::eventually([&] { return fifo->readers() == 1; }));
        waiter.interrupt();
        t.join();
        CHECK(reader.error() == Errno::intr);
        CHECK(fifo->readers() == 0);
    }
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
