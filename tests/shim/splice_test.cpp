// splice, tee and vmsplice (splice.hpp), through raw syscalls.
#include <chrono>
#include <string>
#include <thread>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;
namespace of = litebox::fd::open_flags;

namespace {
constexpr std::uint32_t nonblock = lx::abi::splice_f_nonblock;

struct Splice {
    ShimFixture<>& f;

    std::pair<std::int64_t, std::int64_t> pipe(std::uint32_t flags = 0) {
        const auto fds = f.mem.allocate(8);
        REQUIRE(f.call(lx::nr::pipe2, fds, flags) == 0);
        return {f.mem.get<std::int32_t>(fds), f.mem.get<std::int32_t>(fds + 4)};
    }
    std::int64_t file(std::string_view path, std::string_view content, std::uint32_t flags = of::read_write) {
        const auto fd = f.call(lx::nr::open, f.mem.put_string(path), of::create | flags, 0600);
        REQUIRE(fd >= 0);
        if (!content.empty()) REQUIRE(f.call(lx::nr::pwrite64, fd, f.mem.put_string(content), content.size(), 0) == std::int64_t(content.size()));
        return fd;
    }
    std::int64_t write(std::int64_t fd, std::string_view text) { return f.call(lx::nr::write, fd, f.mem.put_string(text), text.size()); }
    std::string read(std::int64_t fd, std::size_t max = 256) {
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
    std::int64_t splice(std::int64_t in, std::uintptr_t in_offset, std::int64_t out, std::uintptr_t out_offset, std::uint64_t length,
                        std::uint32_t flags = 0) {
        return f.call(lx::nr::splice, in, in_offset, out, out_offset, length, flags);
    }
};
}  // namespace

TEST_CASE("splice: file to pipe to file, with and without offsets", "[shim][splice]") {
    ShimFixture<> f;
    Splice s{f};
    const auto [r, w] = s.pipe();
    const auto src = s.file("/src", "0123456789abcdef");
    const auto dst = s.file("/dst", "");

    // From the file offset (which moves), then from an explicit offset (written back; the file
    // offset stays).
    CHECK(s.splice(src, 0, w, 0, 4) == 4);
    CHECK(f.call(lx::nr::lseek, src, 0, 1) == 4);
    const auto at = s.offset(10);
    CHECK(s.splice(src, at, w, 0, 100) == 6);  // to the end of the file
    CHECK(f.mem.get<std::int64_t>(at) == 16);
    CHECK(f.call(lx::nr::lseek, src, 0, 1) == 4);
    CHECK(s.splice(src, at, w, 0, 100) == 0);  // end of file

    // Pipe to file: at the file offset, then at an explicit offset.
    CHECK(s.splice(r, 0, dst, 0, 3) == 3);
    const auto out_at = s.offset(100);
    CHECK(s.splice(r, 0, dst, out_at, 100) == 7);
    CHECK(f.mem.get<std::int64_t>(out_at) == 107);
    CHECK(f.call(lx::nr::lseek, dst, 0, 1) == 3);
    const auto buf = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::pread64, dst, buf, 8, 100) == 7);
    CHECK(std::string(reinterpret_cast<const char*>(f.mem.bytes(buf, 7).data()), 7) == "3abcdef");
    REQUIRE(f.call(lx::nr::pread64, dst, buf, 3, 0) == 3);
    CHECK(std::string(reinterpret_cast<const char*>(f.mem.bytes(buf, 3).data()), 3) == "012");

    // An empty pipe: EAGAIN without waiting; 0 once no writer is left.
    CHECK(s.splice(r, 0, dst, 0, 10, nonblock) == err(Errno::again));
    CHECK(f.call(lx::nr::close, w) == 0);
    CHECK(s.splice(r, 0, dst, 0, 10) == 0);
}

TEST_CASE("splice: Linux's argument checks", "[shim][splice]") {
    ShimFixture<> f;
    Splice s{f};
    const auto [r, w] = s.pipe();
    const auto [r2, w2] = s.pipe();
    const auto file = s.file("/f", "data");
    const auto other = s.file("/g", "");
    CHECK(s.splice(77, 0, 78, 0, 0) == 0);  // a zero length is checked first
    CHECK(s.splice(file, 0, w, 0, 4, 0x10) == err(Errno::inval));
    CHECK(s.splice(77, 0, w, 0, 4) == err(Errno::badf));
    CHECK(s.splice(r, s.offset(0), file, 0, 4) == err(Errno::spipe));
    CHECK(s.splice(file, 0, w, s.offset(0), 4) == err(Errno::spipe));
    CHECK(s.splice(file, 0, other, 0, 4) == err(Errno::inval));  // no pipe
    CHECK(s.splice(r, 0, w, 0, 4) == err(Errno::inval));         // a pipe into itself
    CHECK(s.splice(w, 0, file, 0, 4) == err(Errno::badf));       // the write end as input
    CHECK(s.splice(file, s.offset(-1), w, 0, 4) == err(Errno::inval));
    CHECK(s.splice(file, s.offset(INT64_MAX - 2), w, 0, 4) == err(Errno::inval));
    CHECK(s.splice(file, f.mem.hole(), w, 0, 4) == err(Errno::fault));
    const auto appending = f.call(lx::nr::open, f.mem.put_string("/g"), of::write_only | of::append);
    REQUIRE(s.write(w, "x") == 1);
    CHECK(s.splice(r, 0, appending, 0, 4) == err(Errno::inval));
    const auto pair = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::socketpair, 1 /*AF_UNIX*/, 1 /*SOCK_STREAM*/, 0, pair) == 0);
    CHECK(s.splice(r, 0, f.mem.get<std::int32_t>(pair), s.offset(0), 4) == err(Errno::inval));  // a socket has no offsets

    // No reader left: EPIPE and SIGPIPE.
    CHECK(f.call(lx::nr::close, r2) == 0);
    CHECK(s.splice(r, 0, w2, 0, 4) == err(Errno::pipe));
    const auto signal = f.init->dequeue_signal();
    REQUIRE(signal);
    CHECK(signal->first == lx::abi::sigpipe);
}

TEST_CASE("splice: pipe to pipe, sockets, and the per-call bound", "[shim][splice]") {
    lx::ShimConfig config;
    config.max_splice_bytes = 5;
    ShimFixture<> f(config);
    Splice s{f};
    const auto [r1, w1] = s.pipe();
    const auto [r2, w2] = s.pipe();
    REQUIRE(s.write(w1, "hello world") == 11);
    CHECK(s.splice(r1, 0, w2, 0, 100) == 5);  // the configured bound
    CHECK(s.splice(r1, 0, w2, 0, 100) == 5);
    CHECK(s.read(r2) == "hello worl");
    CHECK(s.read(r1) == "d");

    // Socket -> pipe -> socket.
    const auto pair = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::socketpair, 1 /*AF_UNIX*/, 1 /*SOCK_STREAM*/, 0, pair) == 0);
    const auto a = f.mem.get<std::int32_t>(pair), b = f.mem.get<std::int32_t>(pair + 4);
    REQUIRE(s.write(a, "ping") == 4);
    CHECK(s.splice(b, 0, w1, 0, 100) == 4);
    CHECK(s.splice(r1, 0, b, 0, 100) == 4);
    CHECK(s.read(a) == "ping");
    REQUIRE(f.call(lx::nr::fcntl, b, lx::abi::f_setfl, of::nonblock) == 0);
    CHECK(s.splice(b, 0, w1, 0, 100) == err(Errno::again));  // an empty non-blocking socket
}

TEST_CASE("splice: waits for data in the pipe, and EAGAIN with a full pipe", "[shim][splice]") {
    ShimFixture<> f;
    Splice s{f};
    const auto [r, w] = s.pipe();
    const auto dst = s.file("/dst", "");
    auto writer = f.init->files().get(static_cast<int>(w)).value();
    std::thread later([writer] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        const char text[] = "late";
        (void)writer->write(std::as_bytes(std::span(text, 4)));
    });
    CHECK(s.splice(r, 0, dst, 0, 100) == 4);
    later.join();

    // A full output pipe: EAGAIN with SPLICE_F_NONBLOCK or the pipe's O_NONBLOCK.
    const auto [r2, w2] = s.pipe(of::nonblock);
    const auto big = s.file("/big", std::string(70000, 'b'));
    CHECK(s.splice(big, 0, w2, 0, 100000) == 65536);  // one pipe's worth
    CHECK(s.splice(big, 0, w2, 0, 100) == err(Errno::again));
    CHECK(f.call(lx::nr::lseek, big, 0, 1) == 65536);  // nothing taken from the file
    (void)r2;
}

TEST_CASE("tee copies between two pipes and leaves the input", "[shim][splice]") {
    ShimFixture<> f;
    Splice s{f};
    const auto [r1, w1] = s.pipe();
    const auto [r2, w2] = s.pipe();
    const auto file = s.file("/f", "");
    CHECK(f.call(lx::nr::tee, r1, w2, 10, 0x40) == err(Errno::inval));
    CHECK(f.call(lx::nr::tee, r1, w2, 0, 0) == 0);
    CHECK(f.call(lx::nr::tee, r1, w2, 10, nonblock) == err(Errno::again));
    REQUIRE(s.write(w1, "duplicate me") == 12);
    CHECK(f.call(lx::nr::tee, r1, w2, 9, 0) == 9);
    CHECK(s.read(r2) == "duplicate");
    CHECK(s.read(r1) == "duplicate me");
    CHECK(f.call(lx::nr::tee, r1, file, 10, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::tee, r1, w1, 10, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::tee, w1, w2, 10, 0) == err(Errno::badf));
}

TEST_CASE("vmsplice copies guest memory into a pipe and out of one", "[shim][splice]") {
    ShimFixture<> f;
    Splice s{f};
    const auto [r, w] = s.pipe();
    const auto iov = f.mem.allocate(32);
    const auto a = f.mem.put_string("gather "), b = f.mem.put_string("me");
    f.mem.put<std::uint64_t>(iov, a);
    f.mem.put<std::uint64_t>(iov + 8, 7);
    f.mem.put<std::uint64_t>(iov + 16, b);
    f.mem.put<std::uint64_t>(iov + 24, 2);
    CHECK(f.call(lx::nr::vmsplice, w, iov, 2, 0) == 9);
    const auto out = f.mem.allocate(16);
    f.mem.put<std::uint64_t>(iov, out);
    f.mem.put<std::uint64_t>(iov + 8, 16);
    CHECK(f.call(lx::nr::vmsplice, r, iov, 1, 0) == 9);
    CHECK(std::string(reinterpret_cast<const char*>(f.mem.bytes(out, 9).data()), 9) == "gather me");
    CHECK(f.call(lx::nr::vmsplice, r, iov, 1, nonblock) == err(Errno::again));
    CHECK(f.call(lx::nr::vmsplice, r, iov, 0, 0) == 0);
    CHECK(f.call(lx::nr::vmsplice, r, iov, 1, 0x20) == err(Errno::inval));
    CHECK(f.call(lx::nr::vmsplice, s.file("/f", ""), iov, 1, 0) == err(Errno::badf));
    CHECK(f.call(lx::nr::vmsplice, 99, iov, 1, 0) == err(Errno::badf));
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
