// Descriptor syscalls over an in-memory OpenFile: read/write families, lseek, close, dup, fcntl,
// ioctl, fstat.
#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;
using P = GuestMemoryPlatform;
using File = MemoryFile<P>;

namespace {
std::string text_at(GuestAddressSpace& mem, std::uintptr_t address, std::size_t n) {
    const auto bytes = mem.bytes(address, n);
    return std::string(reinterpret_cast<const char*>(bytes.data()), n);
}
std::uintptr_t iovecs(GuestAddressSpace& mem, std::initializer_list<std::pair<std::uintptr_t, std::uint64_t>> list) {
    const auto at = mem.allocate(16 * list.size());
    std::size_t i = 0;
    for (const auto& [base, length] : list) mem.put(at + 16 * i++, lx::abi::iovec{base, length});
    return at;
}
}  // namespace

TEST_CASE("read and write move bytes between guest memory and the file", "[shim][io]") {
    ShimFixture<> f;
    auto file = std::make_shared<File>(litebox::fd::open_flags::read_write, "hello world");
    const int fd = f.install(*f.init, file);
    const auto buf = f.mem.allocate(64);
    CHECK(f.call(lx::nr::read, fd, buf, 5) == 5);
    CHECK(text_at(f.mem, buf, 5) == "hello");
    CHECK(f.call(lx::nr::read, fd, buf, 64) == 6);
    CHECK(text_at(f.mem, buf, 6) == " world");
    CHECK(f.call(lx::nr::read, fd, buf, 64) == 0);
    CHECK(f.call(lx::nr::read, fd, buf, 0) == 0);
    const auto msg = f.mem.put_string("!!");
    CHECK(f.call(lx::nr::write, fd, msg, 2) == 2);
    CHECK(file->text() == "hello world!!");

    CHECK(f.call(lx::nr::read, 77, buf, 5) == err(Errno::badf));
    CHECK(f.call(lx::nr::read, -1, buf, 5) == err(Errno::badf));
    CHECK(f.call(lx::nr::write, 77, buf, 5) == err(Errno::badf));
    CHECK(f.call(lx::nr::read, fd, f.mem.hole(), 5) == 0);  // at end of file nothing is copied (as on Linux)
    CHECK(f.call(lx::nr::lseek, fd, 0, 0) == 0);
    CHECK(f.call(lx::nr::read, fd, f.mem.hole(), 5) == err(Errno::fault));
    CHECK(f.call(lx::nr::write, fd, f.mem.hole(), 5) == err(Errno::fault));
    CHECK(f.call(lx::nr::read, fd, buf, ~0ull) == err(Errno::fault));  // buf + count overflows user space
    CHECK(f.call(lx::nr::read, fd, 0, 5) == err(Errno::fault));

    const int read_only = f.install(*f.init, std::make_shared<File>(litebox::fd::open_flags::read_only, "x"));
    const int write_only = f.install(*f.init, std::make_shared<File>(litebox::fd::open_flags::write_only));
    CHECK(f.call(lx::nr::write, read_only, msg, 2) == err(Errno::badf));
    CHECK(f.call(lx::nr::read, write_only, buf, 2) == err(Errno::badf));
}

TEST_CASE("large transfers go through the bounded buffer in chunks", "[shim][io]") {
    ShimFixture<> f;
    auto file = std::make_shared<File>();
    const int fd = f.install(*f.init, file);
    const std::size_t size = 3 * lx::io_chunk_size + 123;
    const auto buf = f.mem.allocate(size);
    for (std::size_t i = 0; i < size; i += 997) f.mem.put<std::uint8_t>(buf + i, static_cast<std::uint8_t>(i));
    CHECK(f.call(lx::nr::write, fd, buf, size) == static_cast<std::int64_t>(size));
    CHECK(file->text().size() == size);
    const auto back = f.mem.allocate(size);
    CHECK(f.call(lx::nr::pread64, fd, back, size, 0) == static_cast<std::int64_t>(size));
    CHECK(f.mem.bytes(back, size) == f.mem.bytes(buf, size));

    // A blocking write goes on until every byte is accepted; a non-blocking one stops short.
    file->write_limit = 10;
    CHECK(f.call(lx::nr::write, fd, buf, 100) == 100);
    REQUIRE(file->set_status_flags(litebox::fd::open_flags::nonblock).has_value());
    CHECK(f.call(lx::nr::write, fd, buf, 100) == 10);
    REQUIRE(file->set_status_flags(0).has_value());
    // A fault in a later chunk returns what was transferred.
    (void)f.mem.allocate(2 * lx::io_chunk_size, 4096);
    const auto edge = f.mem.hole() - lx::io_chunk_size;
    file->write_limit = SIZE_MAX;
    CHECK(f.call(lx::nr::write, fd, edge, lx::io_chunk_size + 10) == static_cast<std::int64_t>(lx::io_chunk_size));
    CHECK(f.call(lx::nr::pread64, fd, edge, lx::io_chunk_size + 10, 0) == static_cast<std::int64_t>(lx::io_chunk_size));
}

TEST_CASE("EAGAIN and EPIPE from the file; EPIPE posts SIGPIPE", "[shim][io]") {
    ShimFixture<> f;
    auto file = std::make_shared<File>();
    const int fd = f.install(*f.init, file);
    const auto msg = f.mem.put_string("data");
    file->write_limit = 0;
    CHECK(f.call(lx::nr::write, fd, msg, 4) == err(Errno::again));
    CHECK(!f.init->dequeue_signal());
    file->write_error = Errno::pipe;
    CHECK(f.call(lx::nr::write, fd, msg, 4) == err(Errno::pipe));
    // SIGPIPE's default action is not "ignore": it is pending for the runtime.
    auto signal = f.init->dequeue_signal();
    REQUIRE(signal);
    CHECK(signal->first == lx::abi::sigpipe);
}

TEST_CASE("readv, writev, preadv, pwritev scatter and gather", "[shim][io]") {
    ShimFixture<> f;
    auto file = std::make_shared<File>(litebox::fd::open_flags::read_write, "abcdefghij");
    const int fd = f.install(*f.init, file);
    const auto a = f.mem.allocate(3), b = f.mem.allocate(4);
    const auto vec = iovecs(f.mem, {{a, 3}, {0, 0}, {b, 4}});
    CHECK(f.call(lx::nr::readv, fd, vec, 3) == 7);
    CHECK(text_at(f.mem, a, 3) == "abc");
    CHECK(text_at(f.mem, b, 4) == "defg");
    CHECK(f.call(lx::nr::preadv, fd, vec, 3, 6, 0) == 4);
    CHECK(text_at(f.mem, a, 3) == "ghi");
    CHECK(text_at(f.mem, b, 1) == "j");
    CHECK(f.call(lx::nr::writev, fd, vec, 3) == 7);  // at offset 7
    CHECK(file->text() == "abcdefgghijefg");
    CHECK(f.call(lx::nr::pwritev, fd, vec, 1, 0, 0) == 3);
    CHECK(file->text().substr(0, 3) == "ghi");

    CHECK(f.call(lx::nr::readv, fd, vec, 1025) == err(Errno::inval));
    CHECK(f.call(lx::nr::readv, fd, f.mem.hole(), 1) == err(Errno::fault));
    CHECK(f.call(lx::nr::writev, fd, iovecs(f.mem, {{a, 3}, {f.mem.hole(), 4}}), 2) == 3);  // partial, as Linux
    CHECK(f.call(lx::nr::writev, fd, iovecs(f.mem, {{f.mem.hole(), 4}, {a, 3}}), 2) == err(Errno::fault));
    CHECK(f.call(lx::nr::writev, fd, iovecs(f.mem, {{a, 3}, {0x7ffffffff000ull, 4}}), 2) == err(Errno::fault));
    CHECK(f.call(lx::nr::writev, fd, iovecs(f.mem, {{a, 1ull << 63}}), 1) == err(Errno::inval));
    CHECK(f.call(lx::nr::readv, 55, vec, 1) == err(Errno::badf));
    CHECK(f.call(lx::nr::preadv, fd, vec, 1, -1, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::pwritev, fd, vec, 1, -5, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::readv, fd, vec, 0) == 0);
}

TEST_CASE("pread64, pwrite64 and lseek", "[shim][io]") {
    ShimFixture<> f;
    auto file = std::make_shared<File>(litebox::fd::open_flags::read_write, "0123456789");
    const int fd = f.install(*f.init, file);
    const auto buf = f.mem.allocate(16);
    CHECK(f.call(lx::nr::pread64, fd, buf, 3, 4) == 3);
    CHECK(text_at(f.mem, buf, 3) == "456");
    CHECK(f.call(lx::nr::lseek, fd, 0, 1) == 0);  // pread left the offset alone
    CHECK(f.call(lx::nr::pwrite64, fd, f.mem.put_string("xy"), 2, 8) == 2);
    CHECK(file->text() == "01234567xy");
    CHECK(f.call(lx::nr::pread64, fd, buf, 3, -1) == err(Errno::inval));
    CHECK(f.call(lx::nr::pwrite64, fd, buf, 3, -1) == err(Errno::inval));
    CHECK(f.call(lx::nr::lseek, fd, -2, 2) == 8);
    CHECK(f.call(lx::nr::read, fd, buf, 16) == 2);
    CHECK(f.call(lx::nr::lseek, fd, 3, 0) == 3);
    CHECK(f.call(lx::nr::lseek, fd, -10, 1) == err(Errno::inval));
    CHECK(f.call(lx::nr::lseek, fd, 0, 5) == err(Errno::inval));
    CHECK(f.call(lx::nr::lseek, 42, 0, 0) == err(Errno::badf));
    // The default OpenFile (a pipe-like object) cannot seek or pread.
    struct Stream : litebox::fd::OpenFile<P> {
        Stream() : litebox::fd::OpenFile<P>(litebox::fd::open_flags::read_write) {}
        litebox::Result<litebox::fd::Stat> stat() override { return litebox::fd::Stat{}; }
    };
    const auto stream = f.init->files().insert(std::make_shared<Stream>(), false);
    REQUIRE(stream.has_value());
    CHECK(f.call(lx::nr::lseek, *stream, 0, 0) == err(Errno::spipe));
    CHECK(f.call(lx::nr::pread64, *stream, buf, 1, 0) == err(Errno::spipe));
    CHECK(f.call(lx::nr::read, *stream, buf, 1) == err(Errno::inval));
}

TEST_CASE("close, close_range, dup, dup2, dup3", "[shim][fd]") {
    ShimFixture<> f;
    const int fd = f.install(*f.init, std::make_shared<File>());
    CHECK(fd == 0);
    CHECK(f.call(lx::nr::dup, fd) == 1);
    CHECK(f.call(lx::nr::dup, 9) == err(Errno::badf));
    CHECK(f.call(lx::nr::dup2, fd, 10) == 10);
    CHECK(f.call(lx::nr::dup2, fd, fd) == fd);
    CHECK(f.call(lx::nr::dup2, 5, 6) == err(Errno::badf));
    CHECK(f.call(lx::nr::dup2, fd, 1 << 20) == err(Errno::badf));
    CHECK(f.call(lx::nr::dup3, fd, 11, litebox::fd::open_flags::close_on_exec) == 11);
    CHECK(f.init->files().close_on_exec(11).value());
    CHECK(f.call(lx::nr::dup3, fd, fd, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::dup3, fd, 12, 1) == err(Errno::inval));
    CHECK(f.call(lx::nr::close, 10) == 0);
    CHECK(f.call(lx::nr::close, 10) == err(Errno::badf));
    CHECK(f.call(lx::nr::close_range, 1, 20, lx::abi::close_range_cloexec) == 0);
    CHECK(f.init->files().close_on_exec(1).value());
    CHECK(!f.init->files().close_on_exec(0).value());
    CHECK(f.call(lx::nr::close_range, 1, ~0u, 0) == 0);
    CHECK(f.init->files().count() == 1);
    CHECK(f.call(lx::nr::close_range, 5, 4, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::close_range, 0, 4, 0x10) == err(Errno::inval));
    CHECK(f.call(lx::nr::close_range, 0, 4, lx::abi::close_range_unshare) == 0);  // not shared: fine

}

TEST_CASE("close_range with CLOSE_RANGE_UNSHARE copies a table shared through CLONE_FILES", "[shim][fd]") {
    ShimFixture<> f;
    for (int i = 0; i < 4; ++i) (void)f.install(*f.init, std::make_shared<File>());
    const auto child_pid = f.call(lx::nr::clone, lx::abi::clone_files | lx::abi::sigchld, 0, 0, 0, 0);
    REQUIRE(child_pid == 2);
    auto child = std::move(std::get<lx::CloneRequest<P>>(f.init->take_request()).child);
    CHECK(&child->files() == &f.init->files());
    auto& shared = f.init->files();

    // The caller gets its own copy with [2, 3] closed; the other process keeps every descriptor.
    CHECK(f.call(lx::nr::close_range, 2, 3, lx::abi::close_range_unshare) == 0);
    CHECK(&f.init->files() != &child->files());
    CHECK(&child->files() == &shared);
    CHECK(f.init->files().count() == 2);
    CHECK(child->files().count() == 4);
    CHECK(f.call(lx::nr::dup2, 0, 3) == 3);
    CHECK(child->files().get(3).has_value());
    CHECK(f.call_on(*child, lx::nr::close, 1) == 0);
    CHECK(f.init->files().get(1).has_value());  // no longer shared

    // With CLOSE_RANGE_CLOEXEC, the copy is marked and the shared table is left alone.
    auto grandchild_call = f.call_on(*child, lx::nr::clone, lx::abi::clone_files | lx::abi::sigchld, 0, 0, 0, 0);
    REQUIRE(grandchild_call > 0);
    auto grandchild = std::move(std::get<lx::CloneRequest<P>>(child->take_request()).child);
    CHECK(f.call_on(*child, lx::nr::close_range, 0, ~0u, lx::abi::close_range_unshare | lx::abi::close_range_cloexec) == 0);
    CHECK(child->files().close_on_exec(0).value());
    CHECK_FALSE(grandchild->files().close_on_exec(0).value());
    CHECK(grandchild->files().count() == 3);

    // Not shared: nothing is copied.
    auto& own = f.init->files();
    CHECK(f.call(lx::nr::close_range, 3, 3, lx::abi::close_range_unshare) == 0);
    CHECK(&f.init->files() == &own);
    CHECK_FALSE(own.get(3).has_value());
}

TEST_CASE("fcntl descriptor and status flags", "[shim][fd]") {
    ShimFixture<> f;
    auto file = std::make_shared<File>(litebox::fd::open_flags::read_write | litebox::fd::open_flags::append);
    const int fd = f.install(*f.init, file);
    CHECK(f.call(lx::nr::fcntl, fd, lx::abi::f_dupfd, 5) == 5);
    CHECK(f.call(lx::nr::fcntl, fd, lx::abi::f_dupfd_cloexec, 5) == 6);
    CHECK(f.call(lx::nr::fcntl, 6, lx::abi::f_getfd) == lx::abi::fd_cloexec);
    CHECK(f.call(lx::nr::fcntl, 6, lx::abi::f_setfd, 0) == 0);
    CHECK(f.call(lx::nr::fcntl, 6, lx::abi::f_getfd) == 0);
    CHECK(f.call(lx::nr::fcntl, fd, lx::abi::f_dupfd, 1024) == err(Errno::inval));
    CHECK(f.call(lx::nr::fcntl, fd, lx::abi::f_dupfd, -1) == err(Errno::inval));
    CHECK(f.call(lx::nr::fcntl, fd, lx::abi::f_getfl) == (litebox::fd::open_flags::read_write | litebox::fd::open_flags::append));
    CHECK(f.call(lx::nr::fcntl, fd, lx::abi::f_setfl, litebox::fd::open_flags::nonblock | litebox::fd::open_flags::write_only) == 0);
    CHECK(f.call(lx::nr::fcntl, 5, lx::abi::f_getfl) == (litebox::fd::open_flags::read_write | litebox::fd::open_flags::nonblock));
    CHECK(f.call(lx::nr::fcntl, 99, lx::abi::f_getfl) == err(Errno::badf));
    CHECK(f.call(lx::nr::fcntl, fd, 12345) == err(Errno::inval));
}

TEST_CASE("ioctl: FIOCLEX, FIONCLEX, FIONBIO, and ENOTTY for terminals", "[shim][fd]") {
    ShimFixture<> f;
    auto file = std::make_shared<File>();
    const int fd = f.install(*f.init, file);
    CHECK(f.call(lx::nr::ioctl, fd, lx::abi::fioclex, 0) == 0);
    CHECK(f.init->files().close_on_exec(fd).value());
    CHECK(f.call(lx::nr::ioctl, fd, lx::abi::fionclex, 0) == 0);
    CHECK(!f.init->files().close_on_exec(fd).value());
    const auto on = f.mem.allocate(4);
    f.mem.put<std::int32_t>(on, 1);
    CHECK(f.call(lx::nr::ioctl, fd, lx::abi::fionbio, on) == 0);
    CHECK(file->nonblocking());
    f.mem.put<std::int32_t>(on, 0);
    CHECK(f.call(lx::nr::ioctl, fd, lx::abi::fionbio, on) == 0);
    CHECK(!file->nonblocking());
    CHECK(f.call(lx::nr::ioctl, fd, lx::abi::fionbio, f.mem.hole()) == err(Errno::fault));
    CHECK(f.call(lx::nr::ioctl, fd, lx::abi::tcgets, on) == err(Errno::notty));
    CHECK(f.call(lx::nr::ioctl, fd, 0xdead, on) == err(Errno::notty));
    CHECK(f.call(lx::nr::ioctl, 44, lx::abi::fioclex, 0) == err(Errno::badf));
}

TEST_CASE("fstat writes struct stat", "[shim][fd]") {
    ShimFixture<> f;
    const int fd = f.install(*f.init, std::make_shared<File>(litebox::fd::open_flags::read_only, "12345"));
    const auto st = f.mem.allocate(sizeof(lx::abi::stat));
    CHECK(f.call(lx::nr::fstat, fd, st) == 0);
    const auto s = f.mem.get<lx::abi::stat>(st);
    CHECK(s.st_ino == 42);
    CHECK(s.st_mode == (litebox::fd::mode::regular | 0644));
    CHECK(s.st_size == 5);
    CHECK(s.st_mtime_sec == 1234);
    CHECK(s.st_mtime_nsec == 5678);
    CHECK(f.call(lx::nr::fstat, fd, f.mem.hole()) == err(Errno::fault));
    CHECK(f.call(lx::nr::fstat, 9, st) == err(Errno::badf));
}

TEST_CASE("fork shares open file descriptions; exit closes the descriptors", "[shim][fd]") {
    ShimFixture<> f;
    auto file = std::make_shared<File>(litebox::fd::open_flags::read_write, "abcdef");
    const int fd = f.install(*f.init, file);
    auto child = f.fork(*f.init);
    const auto buf = f.mem.allocate(8);
    CHECK(f.call_on(*child, lx::nr::read, fd, buf, 2) == 2);
    CHECK(f.call(lx::nr::read, fd, buf, 2) == 2);
    CHECK(text_at(f.mem, buf, 2) == "cd");  // shared offset
    CHECK(f.call_on(*child, lx::nr::close, fd) == 0);
    CHECK(f.call(lx::nr::read, fd, buf, 2) == 2);  // the parent's slot is separate
    auto other = f.fork(*f.init);
    CHECK(file.use_count() == 3);
    f.call_on(*other, lx::nr::exit_group, 0);
    CHECK(file.use_count() == 2);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
