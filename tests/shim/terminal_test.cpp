// Terminal ioctls (terminal.hpp) on devfs's stdio devices, with a fake host terminal.
#include <cstring>
#include <optional>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;
namespace of = litebox::fd::open_flags;

namespace {

/// Guest memory plus a fake host terminal on the standard streams (StdioProvider, and
/// TerminalProvider when WithSize).
template <bool WithSize>
class FakeTerminalPlatform : public GuestMemoryPlatform {
public:
    litebox::Result<std::size_t> stdio_read(std::span<std::byte>) const { return std::size_t{0}; }
    litebox::Result<std::size_t> stdio_write(litebox::platform::StdioStream, std::span<const std::byte> out) const { return out.size(); }
    bool stdio_is_terminal(litebox::platform::StdioStream) const { return terminal; }
    std::optional<litebox::platform::WindowSize> terminal_window_size(litebox::platform::StdioStream) const requires WithSize {
        return litebox::platform::WindowSize{40, 120};
    }
    bool terminal = true;
};
using SizedTerminal = FakeTerminalPlatform<true>;
using UnsizedTerminal = FakeTerminalPlatform<false>;
static_assert(litebox::platform::TerminalProvider<SizedTerminal>);
static_assert(litebox::platform::StdioProvider<UnsizedTerminal> && !litebox::platform::TerminalProvider<UnsizedTerminal>);
static_assert(!litebox::platform::StdioProvider<GuestMemoryPlatform>);

namespace td = lx::terminal_detail;

}  // namespace

TEST_CASE("terminal ioctls on /dev/tty of a terminal", "[shim][terminal]") {
    ShimFixture<SizedTerminal> f({}, true);
    const auto tty = f.call(lx::nr::open, f.mem.put_string("/dev/tty"), of::read_write);
    REQUIRE(tty >= 0);
    const auto termios = f.mem.allocate(sizeof(td::kernel_termios));
    REQUIRE(f.call(lx::nr::ioctl, tty, lx::abi::tcgets, termios) == 0);
    auto t = f.mem.get<td::kernel_termios>(termios);
    CHECK(t.c_lflag == 0x8a3b);       // ICANON | ECHO | ...
    CHECK(t.c_cc[0] == 3);            // VINTR ^C
    CHECK(t.c_cc[6] == 1);            // VMIN
    t.c_lflag &= ~std::uint32_t{0x2 | 0x8};  // raw-ish: no ICANON, no ECHO
    f.mem.put(termios, t);
    REQUIRE(f.call(lx::nr::ioctl, tty, lx::abi::tcsetsw, termios) == 0);
    const auto again = f.mem.allocate(sizeof(td::kernel_termios));
    // The settings belong to the box's terminal: another stdio device sees them.
    // (/dev/stdout is a link to /proc/self/fd/1; the device behind it is the kernel's open_stdio.)
    auto stdout_device = f.shim.open_stdio(1, of::write_only);
    REQUIRE(stdout_device.has_value());
    const auto out = static_cast<std::int64_t>(*f.init->files().insert(std::move(*stdout_device), false));
    REQUIRE(out >= 0);
    REQUIRE(f.call(lx::nr::ioctl, out, lx::abi::tcgets, again) == 0);
    CHECK(f.mem.get<td::kernel_termios>(again).c_lflag == (0x8a3b & ~0xau));

    const auto ws = f.mem.allocate(sizeof(td::kernel_winsize));
    REQUIRE(f.call(lx::nr::ioctl, tty, lx::abi::tiocgwinsz, ws) == 0);
    CHECK(f.mem.get<td::kernel_winsize>(ws).ws_row == 40);
    CHECK(f.mem.get<td::kernel_winsize>(ws).ws_col == 120);
    f.mem.put(ws, td::kernel_winsize{25, 80, 0, 0});
    REQUIRE(f.call(lx::nr::ioctl, tty, lx::abi::tiocswinsz, ws) == 0);
    f.mem.put(ws, td::kernel_winsize{});
    REQUIRE(f.call(lx::nr::ioctl, out, lx::abi::tiocgwinsz, ws) == 0);
    CHECK(f.mem.get<td::kernel_winsize>(ws).ws_row == 25);
    CHECK(f.mem.get<td::kernel_winsize>(ws).ws_col == 80);

    const auto group = f.mem.allocate(4);
    REQUIRE(f.call(lx::nr::ioctl, tty, lx::abi::tiocgpgrp, group) == 0);
    CHECK(f.mem.get<std::int32_t>(group) == 1);
    auto child = f.fork(*f.init);
    REQUIRE(f.call_on(*child, lx::nr::setpgid, 0, 0) == 0);
    f.mem.put<std::int32_t>(group, 2);
    CHECK(f.call(lx::nr::ioctl, tty, lx::abi::tiocspgrp, group) == 0);
    f.mem.put<std::int32_t>(group, 0);
    REQUIRE(f.call(lx::nr::ioctl, tty, lx::abi::tiocgpgrp, group) == 0);
    CHECK(f.mem.get<std::int32_t>(group) == 2);
    // pid 1 is in the background now, in an orphaned group (it has no parent): changing the
    // terminal is EIO (ENOTTY for TIOCSPGRP), as Linux's job control -- unless it ignores
    // SIGTTOU, as a shell does to take the terminal back.
    f.mem.put<std::int32_t>(group, 1);
    CHECK(f.call(lx::nr::ioctl, tty, lx::abi::tiocspgrp, group) == err(Errno::notty));
    CHECK(f.call(lx::nr::ioctl, tty, lx::abi::tcsets, termios) == err(Errno::io));
    const auto ignore = f.mem.allocate(sizeof(lx::abi::kernel_sigaction));
    f.mem.put(ignore, lx::abi::kernel_sigaction{lx::abi::sig_ign, 0, 0, 0});
    REQUIRE(f.call(lx::nr::rt_sigaction, lx::abi::sigttou, ignore, 0, 8) == 0);
    f.mem.put<std::int32_t>(group, 77);
    CHECK(f.call(lx::nr::ioctl, tty, lx::abi::tiocspgrp, group) == err(Errno::perm));
    f.mem.put<std::int32_t>(group, -1);
    CHECK(f.call(lx::nr::ioctl, tty, lx::abi::tiocspgrp, group) == err(Errno::inval));
    f.mem.put<std::int32_t>(group, 1);
    CHECK(f.call(lx::nr::ioctl, tty, lx::abi::tiocspgrp, group) == 0);
    // A read by the background child (a group of its own whose parent, pid 1, is in the session):
    // SIGTTIN and EINTR.
    const auto byte = f.mem.allocate(1);
    CHECK(f.call_on(*child, lx::nr::read, tty, byte, 1) == err(Errno::intr));
    auto signal = child->dequeue_signal();
    REQUIRE(signal.has_value());
    CHECK(signal->first == lx::abi::sigttin);
    // A write: through, unless TOSTOP is set (the emulated settings').
    const auto text = f.mem.put_string("x");
    CHECK(f.call_on(*child, lx::nr::write, tty, text, 1) == 1);
    REQUIRE(f.call(lx::nr::ioctl, tty, lx::abi::tcgets, termios) == 0);
    auto settings = f.mem.get<td::kernel_termios>(termios);
    settings.c_lflag |= 0400;  // TOSTOP
    f.mem.put(termios, settings);
    REQUIRE(f.call(lx::nr::ioctl, tty, lx::abi::tcsets, termios) == 0);
    CHECK(f.call_on(*child, lx::nr::write, tty, text, 1) == err(Errno::intr));
    signal = child->dequeue_signal();
    REQUIRE(signal.has_value());
    CHECK(signal->first == lx::abi::sigttou);
    CHECK(f.call(lx::nr::write, tty, text, 1) == 1);  // the foreground group writes
    // Another session: the console is not its controlling terminal (ENOTTY), and its groups are
    // not the console session's (EPERM).
    auto other = f.fork(*f.init);  // 3
    REQUIRE(f.call_on(*other, lx::nr::setsid) == 3);
    CHECK(f.call_on(*other, lx::nr::ioctl, tty, lx::abi::tiocgpgrp, group) == err(Errno::notty));
    CHECK(f.call_on(*other, lx::nr::ioctl, tty, lx::abi::tiocspgrp, group) == err(Errno::notty));
    CHECK(f.call_on(*other, lx::nr::write, tty, text, 1) == 1);  // TOSTOP, but no job control there
    f.mem.put<std::int32_t>(group, 3);
    CHECK(f.call(lx::nr::ioctl, tty, lx::abi::tiocspgrp, group) == err(Errno::perm));
    // Bad pointers.
    CHECK(f.call(lx::nr::ioctl, tty, lx::abi::tcgets, f.mem.hole()) == err(Errno::fault));
    CHECK(f.call(lx::nr::ioctl, tty, lx::abi::tcsets, f.mem.hole()) == err(Errno::fault));
    CHECK(f.call(lx::nr::ioctl, tty, lx::abi::tiocgwinsz, f.mem.hole()) == err(Errno::fault));
}

TEST_CASE("terminal ioctls: ENOTTY for files, pipes and non-terminal streams", "[shim][terminal]") {
    ShimFixture<UnsizedTerminal> f({}, true);
    const auto buf = f.mem.allocate(64);
    const auto tty = f.call(lx::nr::open, f.mem.put_string("/dev/tty"), of::read_write);
    REQUIRE(tty >= 0);
    // Without TerminalProvider the size is unknown: zeros.
    f.mem.put(buf, td::kernel_winsize{9, 9, 9, 9});
    REQUIRE(f.call(lx::nr::ioctl, tty, lx::abi::tiocgwinsz, buf) == 0);
    CHECK(f.mem.get<td::kernel_winsize>(buf).ws_row == 0);
    CHECK(f.mem.get<td::kernel_winsize>(buf).ws_col == 0);

    const auto file = f.call(lx::nr::open, f.mem.put_string("/tmp/f"), of::create | of::read_write, 0600);
    REQUIRE(file >= 0);
    const auto fds = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::pipe2, fds, 0) == 0);
    const auto null = f.call(lx::nr::open, f.mem.put_string("/dev/null"), of::read_write);
    for (const auto descriptor : {file, static_cast<std::int64_t>(f.mem.get<std::int32_t>(fds)), null}) {
        for (const auto request : {lx::abi::tcgets, lx::abi::tcsets, lx::abi::tiocgwinsz, lx::abi::tiocswinsz, lx::abi::tiocgpgrp,
                                   lx::abi::tiocspgrp})
            CHECK(f.call(lx::nr::ioctl, descriptor, request, buf) == err(Errno::notty));
    }
    f.platform.terminal = false;  // the host stream is redirected
    CHECK(f.call(lx::nr::ioctl, tty, lx::abi::tcgets, buf) == err(Errno::notty));
    CHECK(f.call(lx::nr::ioctl, 99, lx::abi::tcgets, buf) == err(Errno::badf));
}

TEST_CASE("terminal ioctls without a StdioProvider: ENOTTY", "[shim][terminal]") {
    ShimFixture<> f;
    const auto file = f.call(lx::nr::open, f.mem.put_string("/f"), of::create | of::read_write, 0600);
    REQUIRE(file >= 0);
    CHECK(f.call(lx::nr::ioctl, file, lx::abi::tcgets, f.mem.allocate(64)) == err(Errno::notty));
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
