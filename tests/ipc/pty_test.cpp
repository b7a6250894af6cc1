// Pseudo-terminal pairs (ipc/pty.hpp) and their line discipline, without the shim.
#include <catch2/catch.hpp>
#include <litebox/event/blocking.hpp>
#include <litebox/ipc/pty.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ipc_support.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox;
using litebox::test::read_string;
using litebox::test::write_string;
namespace ev = litebox::fd::events;
namespace tb = litebox::ipc::termios_bits;

namespace {

std::string receive(ipc::detail::LineDiscipline& ld, std::string_view in, std::vector<int>* signals = nullptr) {
    std::vector<int> ignored;
    const std::size_t n = ld.receive(test::as_bytes(in), signals ? *signals : ignored);
    return std::to_string(n);
}
std::string read_line(ipc::detail::LineDiscipline& ld, std::size_t max = 4096) {
    std::string out(max, '\0');
    out.resize(ld.read(std::as_writable_bytes(std::span<char>(out.data(), out.size()))));
    return out;
}
std::string output(ipc::detail::LineDiscipline& ld) {
    std::string out(ld.output_queued(), '\0');
    out.resize(ld.read_output(std::as_writable_bytes(std::span<char>(out.data(), out.size()))));
    return out;
}

/// A pair opened as /dev/ptmx and /dev/pts/N would be (no file system: invalid locations).
template <typename P>
struct OpenPair {
    std::vector<std::pair<int, int>> signals;  // first: the sink may still record while the rest goes
    std::shared_ptr<ipc::PtyTable<P>> table = ipc::PtyTable<P>::create(4);
    std::shared_ptr<ipc::PtyPair<P>> pair;
    std::shared_ptr<ipc::PtyMaster<P>> master;
    std::shared_ptr<ipc::PtySlave<P>> slave;

    OpenPair() {
        table->set_signal_sink([this](int target, int signal) { signals.emplace_back(target, signal); });
        pair = table->allocate().value();
        master = std::make_shared<ipc::PtyMaster<P>>(fs::Location<P>{}, fd::open_flags::read_write, pair);
        pair->set_locked(false);
        slave = ipc::PtySlave<P>::make(fs::Location<P>{}, fd::open_flags::read_write, pair).value();
    }
};

}  // namespace

TEST_CASE("pty line discipline: canonical editing and echo", "[ipc][pty]") {
    ipc::detail::LineDiscipline ld;
    CHECK(receive(ld, "abc\x7f" "d") == "5");
    CHECK(!ld.has_input());  // no line yet
    CHECK(receive(ld, "\r") == "1");  // ICRNL
    REQUIRE(ld.has_input());
    CHECK(ld.queued() == 4);
    CHECK(read_line(ld) == "abd\n");
    // The echo, as Linux's: the erase as backspace-space-backspace, CR NL for the newline.
    CHECK(output(ld) == "abc\b \bd\r\n");

    SECTION("VKILL with ECHOKE erases the line visibly; VWERASE a word") {
        receive(ld, "one two\x17" "2\x15" "x\n");
        CHECK(read_line(ld) == "x\n");
        CHECK(output(ld) == "one two\b \b\b \b\b \b2\b \b\b \b\b \b\b \b\b \bx\r\n");
    }
    SECTION("VEOF ends a line without being returned; alone it reads as 0") {
        receive(ld, "ab\x04\x04");
        CHECK(read_line(ld) == "ab");
        REQUIRE(ld.has_input());
        CHECK(read_line(ld).empty());
        CHECK(!ld.has_input());
        CHECK(output(ld) == "ab");
    }
    SECTION("a read smaller than the line leaves the rest of it") {
        receive(ld, "hello\nworld\n");
        CHECK(read_line(ld, 3) == "hel");
        CHECK(read_line(ld) == "lo\n");
        CHECK(read_line(ld) == "world\n");
    }
    SECTION("ECHOCTL shows control characters as ^X; without ECHO nothing is echoed") {
        receive(ld, "\x01\n");
        CHECK(output(ld) == "^A\r\n");
        auto t = ld.termios();
        t.lflag &= ~tb::echo;
        ld.set_termios(t);
        receive(ld, "secret\n");
        CHECK(output(ld).empty());
        t.lflag |= tb::echonl;
        ld.set_termios(t);
        receive(ld, "x\n");
        CHECK(output(ld) == "\r\n");
    }
    SECTION("a line stops at 4095 characters; the newline still ends it") {
        const std::string longer(5000, 'a');
        receive(ld, longer);
        receive(ld, "\n");
        REQUIRE(ld.has_input());
        CHECK(ld.readable() == ipc::canonical_line_max + 1);
    }
}

TEST_CASE("pty line discipline: signals, raw mode, CR/NL maps, output processing", "[ipc][pty]") {
    ipc::detail::LineDiscipline ld;
    std::vector<int> signals;
    receive(ld, "pending");
    ld.transmit(test::as_bytes("unread output"));
    receive(ld, "\x03", &signals);
    CHECK(signals == std::vector<int>{tb::sigint});
    CHECK(ld.queued() == 0);
    CHECK(!ld.has_input());
    CHECK(output(ld) == "^C");  // both queues flushed, then the echo
    receive(ld, "\x1c\x1a", &signals);
    CHECK(signals == std::vector<int>{tb::sigint, tb::sigquit, tb::sigtstp});
    output(ld);

    auto raw = ld.termios();
    raw.lflag &= ~(tb::icanon | tb::echo | tb::isig);
    raw.iflag &= ~tb::icrnl;
    raw.oflag &= ~tb::opost;
    ld.set_termios(raw);
    signals.clear();
    receive(ld, "\x03\r\x7f", &signals);
    CHECK(signals.empty());
    CHECK(read_line(ld) == "\x03\r\x7f");
    ld.transmit(test::as_bytes("a\nb"));
    CHECK(output(ld) == "a\nb");

    raw.oflag |= tb::opost | tb::onlcr;
    raw.iflag |= tb::igncr;
    ld.set_termios(raw);
    receive(ld, "x\ry");
    CHECK(read_line(ld) == "xy");
    ld.transmit(test::as_bytes("1\n2"));
    CHECK(output(ld) == "1\r\n2");

    SECTION("switching to canonical mode makes what is queued a line") {
        receive(ld, "abc");
        ld.set_termios(ipc::default_termios);
        REQUIRE(ld.has_input());
        CHECK(read_line(ld) == "abc");
    }
    SECTION("switching to raw mode makes the line being edited readable") {
        ld.set_termios(ipc::default_termios);
        receive(ld, "partial");
        CHECK(!ld.has_input());
        ld.set_termios(raw);
        CHECK(read_line(ld) == "partial");
    }
    SECTION("the raw input queue is bounded") {
        const std::string many(ipc::pty_input_capacity + 10, 'z');
        std::vector<int> none;
        CHECK(ld.receive(test::as_bytes(many), none) == ipc::pty_input_capacity);
    }
    SECTION("IXON: ^S stops output, ^Q starts it") {
        raw.iflag |= tb::ixon;
        ld.set_termios(raw);
        receive(ld, "\x13");
        CHECK(ld.output_stopped());
        receive(ld, "\x11");
        CHECK(!ld.output_stopped());
        CHECK(ld.queued() == 0);
    }
}

TEMPLATE_LIST_TEST_CASE("pty pair: master and slave", "[ipc][pty]", litebox::test::AllPlatforms) {
    using P = TestType;
    OpenPair<P> p;
    auto& master = *p.master;
    auto& slave = *p.slave;
    CHECK(p.pair->index() == 0);
    CHECK((master.poll(ev::in | ev::out) & ev::in) == 0);
    CHECK(read_string(master).error() == Errno::again);
    CHECK(read_string(slave).error() == Errno::again);
    CHECK((slave.poll(ev::in) & ev::in) == 0);

    REQUIRE(write_string(master, "abc\x7f" "d\n").value() == 6);
    CHECK((slave.poll(ev::in) & ev::in) != 0);
    CHECK(read_string(slave).value() == "abd\n");
    REQUIRE(write_string(slave, "out\n").value() == 4);
    CHECK((master.poll(ev::in) & ev::in) != 0);
    CHECK(read_string(master).value() == "abc\b \bd\r\nout\r\n");

    SECTION("^C raises SIGINT in the foreground group") {
        p.pair->set_session(7, 9);
        REQUIRE(write_string(master, "\x03").value() == 1);
        REQUIRE(p.signals.size() == 1);
        CHECK(p.signals[0] == std::pair{-9, tb::sigint});
        ipc::PtyWindowSize size{24, 80, 0, 0};
        p.pair->set_window(size);
        p.pair->set_window(size);  // no change: no signal
        CHECK(p.signals.size() == 2);
        CHECK(p.signals[1] == std::pair{-9, 28});
    }
    SECTION("closing the master hangs the slave up and tells the session leader") {
        p.pair->set_session(7, 9);
        REQUIRE(write_string(master, "queued\n").value() == 7);
        p.master.reset();
        CHECK(p.table->find(0) == nullptr);
        CHECK(read_string(slave).value().empty());
        CHECK(write_string(slave, "x").error() == Errno::io);
        CHECK((slave.poll(ev::in) & (ev::in | ev::out | ev::hup | ev::err)) == (ev::in | ev::out | ev::hup | ev::err));
        CHECK(p.signals == std::vector<std::pair<int, int>>{{7, 1}, {7, 18}});
        CHECK(p.pair->session() == 0);
    }
    SECTION("closing every slave: the master drains, then reads EIO; writes still go in") {
        REQUIRE(write_string(slave, "tail").value() == 4);
        p.slave.reset();
        CHECK((master.poll(ev::in) & (ev::in | ev::hup)) == (ev::in | ev::hup));
        CHECK(read_string(master).value() == "tail");
        CHECK(read_string(master).error() == Errno::io);
        CHECK(write_string(master, "x\n").value() == 2);
        // Opening a slave again ends the hangup.
        auto again = ipc::PtySlave<P>::make(fs::Location<P>{}, fd::open_flags::read_write, p.pair);
        REQUIRE(again.has_value());
        CHECK(read_string(master).value() == "x\r\n");  // the echo
        CHECK(read_string(master).error() == Errno::again);
    }
    SECTION("a locked pair refuses slaves; the table is bounded and reuses indices") {
        auto second = p.table->allocate().value();
        CHECK(second->index() == 1);
        CHECK(second->locked());
        CHECK(ipc::PtySlave<P>::make(fs::Location<P>{}, fd::open_flags::read_write, second).error() == Errno::io);
        auto third = p.table->allocate().value();
        auto fourth = p.table->allocate().value();
        CHECK(p.table->allocate().error() == Errno::nospc);
        {
            ipc::PtyMaster<P> closing(fs::Location<P>{}, fd::open_flags::read_write, third);
        }
        CHECK(p.table->indices() == std::vector<unsigned>{0, 1, 3});
        CHECK(p.table->allocate().value()->index() == 2);
    }
    SECTION("non-canonical VMIN: a blocking read waits for VMIN bytes, a non-blocking one does not") {
        auto t = p.pair->termios();
        t.lflag &= ~tb::icanon;
        t.cc[tb::vmin] = 3;
        t.cc[tb::vtime] = 0;
        p.pair->set_termios(t, false);
        REQUIRE(write_string(master, "ab").value() == 2);
        CHECK(read_string(slave).error() == Errno::again);
        CHECK((slave.poll(ev::in) & ev::in) == 0);
        REQUIRE(write_string(master, "c").value() == 1);
        CHECK((slave.poll(ev::in) & ev::in) != 0);
        CHECK(read_string(slave).value() == "abc");
        REQUIRE(write_string(master, "d").value() == 1);
        CHECK(slave.read_available(std::as_writable_bytes(std::span<char>(std::string(8, 0).data(), 8))).value() == 1);
        t.cc[tb::vmin] = 0;
        p.pair->set_termios(t, false);
        CHECK(read_string(slave).value().empty());  // VMIN = VTIME = 0: 0 at once
    }
    SECTION("TCSETSF flushes input; flush() drops either queue") {
        REQUIRE(write_string(master, "line\n").value() == 5);
        p.pair->set_termios(p.pair->termios(), true);
        CHECK(p.pair->slave_readable() == 0);
        REQUIRE(write_string(slave, "x").value() == 1);
        p.pair->flush(false, true);
        CHECK(p.pair->master_readable() == 0);
    }
}

TEMPLATE_LIST_TEST_CASE("pty pair: a blocked slave reader wakes for a line", "[ipc][pty]", litebox::test::RealTimePlatforms) {
    using P = TestType;
    P platform;
    OpenPair<P> p;
    std::atomic<bool> done{false};
    std::string got;
    std::thread reader([&] {
        std::string buffer(64, '\0');
        const event::WaitContext<P> ctx(platform, nullptr, std::nullopt);
        auto n = event::read(ctx, *p.slave, std::as_writable_bytes(std::span<char>(buffer.data(), buffer.size())));
        if (n) got = buffer.substr(0, *n);
        done = true;
    });
    REQUIRE(write_string(*p.master, "par").value() == 3);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(!done.load());  // no line yet
    REQUIRE(write_string(*p.master, "tial\n").value() == 5);
    reader.join();
    CHECK(got == "partial\n");
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
