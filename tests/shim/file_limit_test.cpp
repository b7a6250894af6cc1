// sendfile's input rules (copy.hpp), through raw syscalls.
#include <string>

#include "shim_fixture.hpp"

using namespace litebox::test;
using litebox::Errno;
namespace of = litebox::fd::open_flags;

namespace {
struct Calls {
    ShimFixture<>& f;

    std::pair<std::int64_t, std::int64_t> pipe() {
        const auto fds = f.mem.allocate(8);
        REQUIRE(f.call(lx::nr::pipe2, fds, of::nonblock) == 0);
        return {f.mem.get<std::int32_t>(fds), f.mem.get<std::int32_t>(fds + 4)};
    }
    std::pair<std::int64_t, std::int64_t> socketpair() {
        const auto fds = f.mem.allocate(8);
        REQUIRE(f.call(lx::nr::socketpair, 1 /*AF_UNIX*/, 1 /*SOCK_STREAM*/ | of::nonblock, 0, fds) == 0);
        return {f.mem.get<std::int32_t>(fds), f.mem.get<std::int32_t>(fds + 4)};
    }
    std::int64_t open(std::string_view path, std::uint32_t flags = of::create | of::read_write) {
        const auto fd = f.call(lx::nr::open, f.mem.put_string(path), flags, 0600);
        REQUIRE(fd >= 0);
        return fd;
    }
    std::int64_t write(std::int64_t fd, std::string_view text) { return f.call(lx::nr::write, fd, f.mem.put_string(text), text.size()); }
    std::string read(std::int64_t fd, std::size_t max = 512) {
        const auto buf = f.mem.allocate(max);
        const auto n = f.call(lx::nr::read, fd, buf, max);
        if (n < 0) return "errno " + std::to_string(-n);
        const auto bytes = f.mem.bytes(buf, static_cast<std::size_t>(n));
        return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    std::uintptr_t offset(std::int64_t value) {
        const auto at = f.mem.allocate(8);
        f.mem.put<std::int64_t>(at, value);
        return at;
    }
    std::int64_t position(std::int64_t fd) { return f.call(lx::nr::lseek, fd, 0, 1 /*SEEK_CUR*/); }
    std::int64_t size(std::int64_t fd) {
        const auto st = f.mem.allocate(sizeof(lx::abi::stat));
        REQUIRE(f.call(lx::nr::fstat, fd, st) == 0);
        return f.mem.get<lx::abi::stat>(st).st_size;
    }
};
}  // namespace

TEST_CASE("sendfile from a pipe, FIFO, socket, directory or /dev/null is EINVAL and takes nothing", "[shim][file]") {
    ShimFixture<> f(lx::ShimConfig{}, true);  // the box's namespace: /tmp and /dev
    Calls c{f};
    const auto dst = c.open("/tmp/dst");
    const auto [pr, pw] = c.pipe();
    REQUIRE(c.write(pw, "hello") == 5);
    CHECK(f.call(lx::nr::sendfile, dst, pr, 0, 5) == err(Errno::inval));
    CHECK(f.call(lx::nr::sendfile, dst, pr, 0, 0) == err(Errno::inval));            // before the count, as Linux
    CHECK(f.call(lx::nr::sendfile, dst, pr, c.offset(0), 5) == err(Errno::spipe));  // no pread
    CHECK(f.call(lx::nr::sendfile, dst, pr, c.offset(-1), 5) == err(Errno::spipe));
    const auto [qr, qw] = c.pipe();
    CHECK(f.call(lx::nr::sendfile, qw, pr, 0, 5) == err(Errno::inval));  // pipe into pipe too
    CHECK(c.read(pr) == "hello");  // nothing was taken from the pipe
    CHECK(c.size(dst) == 0);

    REQUIRE(f.call(lx::nr::mknod, f.mem.put_string("/tmp/fifo"), litebox::fd::mode::fifo | 0600, 0) == 0);
    const auto fifo = c.open("/tmp/fifo", of::read_write | of::nonblock);
    REQUIRE(c.write(fifo, "fifo") == 4);
    CHECK(f.call(lx::nr::sendfile, dst, fifo, 0, 4) == err(Errno::inval));
    CHECK(c.read(fifo) == "fifo");

    const auto [sa, sb] = c.socketpair();
    REQUIRE(c.write(sb, "sock") == 4);
    CHECK(f.call(lx::nr::sendfile, dst, sa, 0, 4) == err(Errno::inval));             // a socket needs positions...
    CHECK(f.call(lx::nr::sendfile, qw, sa, c.offset(0), 4) == err(Errno::spipe));
    CHECK(f.call(lx::nr::sendfile, qw, sa, 0, 64) == 4);                             // ...except into a pipe
    CHECK(c.read(qr) == "sock");

    const auto dir = c.open("/tmp", of::read_only | of::directory);
    CHECK(f.call(lx::nr::sendfile, dst, dir, 0, 4) == err(Errno::inval));
    const auto null = c.open("/dev/null", of::read_only);
    CHECK(f.call(lx::nr::sendfile, dst, null, 0, 4) == err(Errno::inval));
    CHECK(f.call(lx::nr::sendfile, qw, null, 0, 4) == err(Errno::inval));
    const auto event = f.call(lx::nr::eventfd2, 1, 0);
    REQUIRE(event >= 0);
    CHECK(f.call(lx::nr::sendfile, dst, event, 0, 8) == err(Errno::inval));
    CHECK(c.size(dst) == 0);

    // /dev/zero has what sendfile needs, into a file or a pipe.
    const auto zero = c.open("/dev/zero", of::read_only);
    CHECK(f.call(lx::nr::sendfile, dst, zero, 0, 5) == 5);
    CHECK(c.size(dst) == 5);
    CHECK(f.call(lx::nr::sendfile, qw, zero, c.offset(0), 3) == 3);
    CHECK(c.read(qr) == std::string(3, '\0'));
    CHECK(f.call(lx::nr::sendfile, dst, zero, 0, 0) == 0);
}

TEST_CASE("sendfile into a pipe takes from the file only what the pipe holds", "[shim][file]") {
    ShimFixture<> f;
    Calls c{f};
    const auto src = c.open("/src");
    const std::string text(100000, 'x');  // more than a pipe holds
    REQUIRE(f.call(lx::nr::pwrite64, src, f.mem.put_string(text), text.size(), 0) == std::int64_t(text.size()));
    const auto [pr, pw] = c.pipe();
    const auto moved = f.call(lx::nr::sendfile, pw, src, 0, text.size());
    REQUIRE(moved > 0);
    CHECK(moved < std::int64_t(text.size()));
    CHECK(c.position(src) == moved);  // the input's offset advanced by what the pipe took
    CHECK(f.call(lx::nr::sendfile, pw, src, 0, 1) == err(Errno::again));  // full, O_NONBLOCK
    CHECK(c.position(src) == moved);
    const auto off = c.offset(7);
    CHECK(f.call(lx::nr::sendfile, pw, src, off, 1) == err(Errno::again));
    CHECK(f.mem.get<std::int64_t>(off) == 7);
}

TEST_CASE("sendfile and copy_file_range keep the input's bytes the output did not take", "[shim][file]") {
    ShimFixture<> f;
    Calls c{f};
    const auto src = c.open("/src");
    REQUIRE(c.write(src, "abcdefghij") == 10);
    auto sink = std::make_shared<MemoryFile<litebox::test::GuestMemoryPlatform>>();
    const int out = f.install(*f.init, sink);

    // The output fails at once (a full file): the input's offset does not move.
    sink->write_limit = 0;
    sink->write_error = Errno::nospc;
    REQUIRE(f.call(lx::nr::lseek, src, 2, 0) == 2);
    CHECK(f.call(lx::nr::sendfile, out, src, 0, 8) == err(Errno::nospc));
    CHECK(c.position(src) == 2);
    const auto off = c.offset(3);
    CHECK(f.call(lx::nr::sendfile, out, src, off, 8) == err(Errno::nospc));
    CHECK(f.mem.get<std::int64_t>(off) == 3);
    sink->write_error = Errno::perm;  // a sealed memfd
    CHECK(f.call(lx::nr::sendfile, out, src, 0, 8) == err(Errno::perm));
    CHECK(c.position(src) == 2);

    // It takes part: the input moves by that much only.
    sink->write_limit = 3;
    CHECK(f.call(lx::nr::sendfile, out, src, 0, 8) == 3);
    CHECK(c.position(src) == 5);
    CHECK(f.call(lx::nr::sendfile, out, src, off, 8) == 3);
    CHECK(f.mem.get<std::int64_t>(off) == 6);
    CHECK(sink->text() == "cdedef");
    CHECK(c.read(src) == "fghij");  // from offset 5

    // Hostile counts: the end of the read must fit in an off_t (Linux's rw_verify_area).
    sink->write_limit = SIZE_MAX;
    CHECK(f.call(lx::nr::sendfile, out, src, 0, SIZE_MAX) == err(Errno::inval));
    CHECK(f.call(lx::nr::sendfile, out, src, 0, std::uint64_t(INT64_MAX)) == err(Errno::inval));  // from offset 10
    CHECK(c.position(src) == 10);
    const auto one = c.offset(1);
    CHECK(f.call(lx::nr::sendfile, out, src, one, std::uint64_t(INT64_MAX)) == err(Errno::inval));
    CHECK(f.call(lx::nr::sendfile, out, src, one, std::uint64_t(INT64_MAX) - 1) == 9);
    CHECK(f.mem.get<std::int64_t>(one) == 10);
}
