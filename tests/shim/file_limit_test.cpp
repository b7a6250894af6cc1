// sendfile's input rules (copy.hpp) and RLIMIT_FSIZE (file_size_limit.hpp), through raw syscalls.
#include <string>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

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
    void set_fsize(std::uint64_t soft) {
        const auto lim = f.mem.allocate(sizeof(lx::abi::rlimit));
        f.mem.put(lim, lx::abi::rlimit{soft, lx::abi::rlim_infinity});
        REQUIRE(f.call(lx::nr::setrlimit, lx::abi::rlimit_fsize, lim) == 0);
    }
    /// The signals pending for the thread, in delivery order (taken).
    std::vector<int> signals() {
        std::vector<int> out;
        while (auto s = f.init->dequeue_signal()) out.push_back(s->first);
        return out;
    }
};
const std::vector<int> none{};
const std::vector<int> xfsz{lx::abi::sigxfsz};
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

TEST_CASE("RLIMIT_FSIZE: writes stop at the soft limit; past it EFBIG and SIGXFSZ", "[shim][file][resource]") {
    ShimFixture<> f;
    Calls c{f};
    const auto g = c.open("/g");
    const std::string big(300, 'a');
    c.set_fsize(100);
    CHECK(c.write(g, big) == 100);  // straddles: cut at the limit, no signal
    CHECK(c.signals() == none);
    CHECK(c.size(g) == 100);
    CHECK(c.write(g, "b") == err(Errno::fbig));
    CHECK(c.signals() == xfsz);
    CHECK(c.write(g, "") == 0);  // nothing to write: no check
    CHECK(f.call(lx::nr::pwrite64, g, f.mem.put_string("x"), 0, 5000) == 0);
    CHECK(c.signals() == none);
    CHECK(f.call(lx::nr::pwrite64, g, f.mem.put_string("12345"), 5, 99) == 1);
    CHECK(f.call(lx::nr::pwrite64, g, f.mem.put_string("12345"), 5, 100) == err(Errno::fbig));
    CHECK(f.call(lx::nr::pwrite64, g, f.mem.put_string("12345"), 5, INT64_MAX) == err(Errno::fbig));
    CHECK(c.signals() == std::vector<int>{lx::abi::sigxfsz});  // one pending signal, however often sent
    CHECK(c.size(g) == 100);

    // writev: the vector is cut where the limit falls.
    REQUIRE(f.call(lx::nr::lseek, g, 95, 0) == 95);
    const auto vec = f.mem.allocate(32);
    f.mem.put(vec, lx::abi::iovec{f.mem.put_string("1234"), 4});
    f.mem.put(vec + 16, lx::abi::iovec{f.mem.put_string("5678"), 4});
    CHECK(f.call(lx::nr::writev, g, vec, 2) == 5);
    CHECK(f.call(lx::nr::pwritev, g, vec, 2, 98) == 2);
    CHECK(f.call(lx::nr::pwrite64, g, f.mem.put_string("z"), 1, 0) == 1);  // below the limit: fine

    // O_APPEND writes at the end of the file, wherever the offset is.
    const auto a = c.open("/g", of::write_only | of::append);
    REQUIRE(f.call(lx::nr::lseek, a, 0, 0) == 0);
    CHECK(c.write(a, "x") == err(Errno::fbig));
    CHECK(c.signals() == xfsz);

    // Pipes and sockets are not limited.
    const auto [pr, pw] = c.pipe();
    CHECK(c.write(pw, big) == 300);
    const auto [sa, sb] = c.socketpair();
    CHECK(c.write(sa, big) == 300);
    CHECK(c.signals() == none);

    // Raising the limit lets writes through again.
    c.set_fsize(lx::abi::rlim_infinity);
    CHECK(c.write(g, big) == 300);
    CHECK(c.signals() == none);
    c.set_fsize(0);
    CHECK(c.write(c.open("/h"), "") == 0);
    CHECK(c.write(c.open("/h"), "1") == err(Errno::fbig));
    CHECK(c.signals() == xfsz);
}

TEST_CASE("RLIMIT_FSIZE: truncate, ftruncate and fallocate may not grow a file past it", "[shim][file][resource]") {
    ShimFixture<> f;
    Calls c{f};
    const auto g = c.open("/g");
    REQUIRE(c.write(g, std::string(200, 'a')) == 200);
    c.set_fsize(100);
    CHECK(f.call(lx::nr::ftruncate, g, 150) == 0);  // shrinking is always allowed
    CHECK(f.call(lx::nr::ftruncate, g, 150) == 0);  // and so is keeping the size
    CHECK(f.call(lx::nr::ftruncate, g, 151) == err(Errno::fbig));
    CHECK(c.signals() == xfsz);
    CHECK(f.call(lx::nr::ftruncate, g, 50) == 0);
    CHECK(f.call(lx::nr::ftruncate, g, 100) == 0);
    CHECK(f.call(lx::nr::ftruncate, g, 101) == err(Errno::fbig));
    CHECK(f.call(lx::nr::ftruncate, g, INT64_MAX) == err(Errno::fbig));
    CHECK(c.signals() == xfsz);
    const auto path = f.mem.put_string("/g");
    CHECK(f.call(lx::nr::truncate, path, 101) == err(Errno::fbig));
    CHECK(c.signals() == xfsz);
    CHECK(f.call(lx::nr::truncate, path, 10) == 0);
    CHECK(f.call(lx::nr::truncate, f.mem.put_string("/missing"), 101) == err(Errno::noent));  // lookup first
    CHECK(c.signals() == none);
    CHECK(c.size(g) == 10);
    CHECK(f.call(lx::nr::fallocate, g, 0, 40, 60) == 0);
    CHECK(c.size(g) == 100);
    CHECK(f.call(lx::nr::fallocate, g, 0, 90, 11) == err(Errno::fbig));
    CHECK(f.call(lx::nr::fallocate, g, 0, 100, 1) == err(Errno::fbig));
    CHECK(c.signals() == xfsz);
    CHECK(f.call(lx::nr::fallocate, g, 0, 0, 50) == 0);  // inside the file
    CHECK(c.size(g) == 100);
}

TEST_CASE("RLIMIT_FSIZE holds sendfile, copy_file_range and splice into a file", "[shim][file][resource]") {
    ShimFixture<> f;
    Calls c{f};
    const auto src = c.open("/src");
    REQUIRE(c.write(src, std::string(300, 's')) == 300);
    REQUIRE(f.call(lx::nr::lseek, src, 0, 0) == 0);
    const auto g = c.open("/g");
    c.set_fsize(100);

    CHECK(f.call(lx::nr::sendfile, g, src, 0, 300) == 100);
    CHECK(c.position(src) == 100);  // the input keeps what was not written
    CHECK(f.call(lx::nr::sendfile, g, src, 0, 300) == err(Errno::fbig));
    CHECK(c.position(src) == 100);
    CHECK(c.signals() == xfsz);
    const auto off = c.offset(0);
    CHECK(f.call(lx::nr::sendfile, g, src, off, 300) == err(Errno::fbig));
    CHECK(f.mem.get<std::int64_t>(off) == 0);
    REQUIRE(f.call(lx::nr::lseek, g, 50, 0) == 50);
    CHECK(f.call(lx::nr::sendfile, g, src, off, 300) == 50);
    CHECK(f.mem.get<std::int64_t>(off) == 50);
    CHECK(c.signals() == xfsz);  // from the EFBIG above only

    const auto in_off = c.offset(0), out_off = c.offset(60);
    CHECK(f.call(lx::nr::copy_file_range, src, in_off, g, out_off, 300, 0) == 40);
    CHECK(f.mem.get<std::int64_t>(in_off) == 40);
    CHECK(f.mem.get<std::int64_t>(out_off) == 100);
    CHECK(c.signals() == none);
    CHECK(f.call(lx::nr::copy_file_range, src, in_off, g, out_off, 300, 0) == err(Errno::fbig));
    CHECK(f.mem.get<std::int64_t>(in_off) == 40);
    CHECK(c.signals() == xfsz);

    REQUIRE(f.call(lx::nr::ftruncate, g, 0) == 0);
    REQUIRE(f.call(lx::nr::lseek, g, 0, 0) == 0);
    const auto [pr, pw] = c.pipe();
    REQUIRE(c.write(pw, std::string(300, 'p')) == 300);
    CHECK(f.call(lx::nr::splice, pr, 0, g, 0, 300, 0) == 100);
    CHECK(f.call(lx::nr::splice, pr, 0, g, 0, 300, 0) == err(Errno::fbig));
    CHECK(f.call(lx::nr::splice, pr, 0, g, c.offset(100), 300, 0) == err(Errno::fbig));
    CHECK(c.signals() == xfsz);
    CHECK(c.read(pr).size() == 200);  // the pipe kept what the file did not take
    CHECK(c.size(g) == 100);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
