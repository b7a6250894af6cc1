// File-system syscalls through the shim onto the VFS (tmpfs root).
#include <chrono>
#include <thread>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;
namespace of = litebox::fd::open_flags;

namespace {
std::string read_text(ShimFixture<>& f, int fd, std::size_t max = 256) {
    const auto buf = f.mem.allocate(max);
    const auto n = f.call(lx::nr::read, fd, buf, max);
    REQUIRE(n >= 0);
    const auto bytes = f.mem.bytes(buf, static_cast<std::size_t>(n));
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}
std::int64_t write_text(ShimFixture<>& f, int fd, std::string_view text) {
    return f.call(lx::nr::write, fd, f.mem.put_string(text), text.size());
}
}  // namespace

TEST_CASE("open, write, read back, close", "[shim][file]") {
    ShimFixture<> f;
    const auto path = f.mem.put_string("/hello.txt");
    const auto fd = f.call(lx::nr::open, path, of::create | of::read_write | of::close_on_exec, 0640);
    REQUIRE(fd == 0);
    CHECK(f.init->files().close_on_exec(0).value());
    CHECK(write_text(f, 0, "hello") == 5);
    CHECK(f.call(lx::nr::lseek, 0, 0, 0) == 0);
    CHECK(read_text(f, 0) == "hello");
    CHECK(f.call(lx::nr::close, 0) == 0);
    const auto st = f.mem.allocate(sizeof(lx::abi::stat));
    CHECK(f.call(lx::nr::stat, path, st) == 0);
    const auto s = f.mem.get<lx::abi::stat>(st);
    CHECK(s.st_size == 5);
    CHECK(s.st_mode == (litebox::fd::mode::regular | 0640));  // umask 022 leaves 0640
    CHECK(s.st_uid == 1000);

    CHECK(f.call(lx::nr::open, path, of::create | of::exclusive | of::write_only, 0600) == err(Errno::exist));
    CHECK(f.call(lx::nr::open, f.mem.put_string("/missing"), of::read_only) == err(Errno::noent));
    CHECK(f.call(lx::nr::open, f.mem.put_string(""), of::read_only) == err(Errno::noent));
    CHECK(f.call(lx::nr::open, f.mem.hole(), of::read_only) == err(Errno::fault));
    CHECK(f.call(lx::nr::open, f.mem.put_string(std::string(5000, 'a')), of::read_only) == err(Errno::nametoolong));
    CHECK(f.call(lx::nr::creat, f.mem.put_string("/created"), 0600) == 0);
    CHECK(f.call(lx::nr::read, 0, f.mem.allocate(4), 4) == err(Errno::badf));  // creat opens write-only
    CHECK(f.call(lx::nr::open, f.mem.put_string("/hello.txt/x"), of::read_only) == err(Errno::notdir));
}

TEST_CASE("FIONREAD on a regular file: the bytes past the offset (as Linux's file_ioctl)", "[shim][file]") {
    ShimFixture<> f;
    const auto fd = f.call(lx::nr::open, f.mem.put_string("/ten"), of::create | of::read_write, 0600);
    REQUIRE(fd >= 0);
    CHECK(write_text(f, static_cast<int>(fd), "0123456789") == 10);
    const auto count = f.mem.allocate(4);
    const auto readable = [&] {
        REQUIRE(f.call(lx::nr::ioctl, fd, lx::abi::fionread, count) == 0);
        return f.mem.get<std::int32_t>(count);
    };
    CHECK(readable() == 0);  // the offset is at the end
    CHECK(f.call(lx::nr::lseek, fd, 3, 0) == 3);
    CHECK(readable() == 7);
    CHECK(f.call(lx::nr::lseek, fd, 15, 0) == 15);
    CHECK(readable() == -5);
    const auto dir = f.call(lx::nr::open, f.mem.put_string("/"), of::read_only | of::directory);
    REQUIRE(dir >= 0);
    CHECK(f.call(lx::nr::ioctl, dir, lx::abi::fionread, count) == err(Errno::notty));
}

TEST_CASE("openat resolves relative to its directory descriptor", "[shim][file]") {
    ShimFixture<> f;
    CHECK(f.call(lx::nr::mkdir, f.mem.put_string("/d"), 0755) == 0);
    const auto dir = f.call(lx::nr::open, f.mem.put_string("/d"), of::read_only | of::directory);
    REQUIRE(dir >= 0);
    const auto fd = f.call(lx::nr::openat, dir, f.mem.put_string("inner"), of::create | of::write_only, 0644);
    REQUIRE(fd >= 0);
    CHECK(f.call(lx::nr::access, f.mem.put_string("/d/inner"), 0) == 0);
    CHECK(f.call(lx::nr::openat, 99, f.mem.put_string("inner"), of::read_only) == err(Errno::badf));
    CHECK(f.call(lx::nr::openat, 99, f.mem.put_string("/d/inner"), of::read_only) >= 0);  // absolute: dirfd ignored
    CHECK(f.call(lx::nr::openat, fd, f.mem.put_string("x"), of::read_only) == err(Errno::notdir));
    CHECK(f.call(lx::nr::openat, lx::abi::at_fdcwd, f.mem.put_string("d/inner"), of::read_only) >= 0);

    const auto how = f.mem.allocate(32);
    f.mem.put(how, lx::abi::open_how{of::read_only, 0, 0});
    CHECK(f.call(lx::nr::openat2, dir, f.mem.put_string("inner"), how, 24) >= 0);
    CHECK(f.call(lx::nr::openat2, dir, f.mem.put_string("inner"), how, 16) == err(Errno::inval));
    f.mem.put<std::uint64_t>(how + 24, 1);
    CHECK(f.call(lx::nr::openat2, dir, f.mem.put_string("inner"), how, 32) == err(Errno::toobig));
    f.mem.put(how, lx::abi::open_how{of::read_only, 0644, 0});
    CHECK(f.call(lx::nr::openat2, dir, f.mem.put_string("inner"), how, 24) == err(Errno::inval));
    f.mem.put(how, lx::abi::open_how{of::read_only, 0, 0x8});
    CHECK(f.call(lx::nr::openat2, dir, f.mem.put_string("inner"), how, 24) == err(Errno::inval));
    f.mem.put(how, lx::abi::open_how{0x80000000ull << 8, 0, 0});
    CHECK(f.call(lx::nr::openat2, dir, f.mem.put_string("inner"), how, 24) == err(Errno::inval));
    CHECK(f.call(lx::nr::openat2, dir, f.mem.put_string("inner"), f.mem.hole(), 24) == err(Errno::fault));
}

TEST_CASE("stat, lstat, newfstatat, statx and statfs", "[shim][file]") {
    ShimFixture<> f;
    const int fd = static_cast<int>(f.call(lx::nr::open, f.mem.put_string("/file"), of::create | of::read_write, 0600));
    write_text(f, fd, "0123456789");
    CHECK(f.call(lx::nr::symlink, f.mem.put_string("/file"), f.mem.put_string("/link")) == 0);
    const auto st = f.mem.allocate(sizeof(lx::abi::stat));
    CHECK(f.call(lx::nr::lstat, f.mem.put_string("/link"), st) == 0);
    CHECK((f.mem.get<lx::abi::stat>(st).st_mode & litebox::fd::mode::type_mask) == litebox::fd::mode::symlink);
    CHECK(f.call(lx::nr::newfstatat, lx::abi::at_fdcwd, f.mem.put_string("/link"), st, 0) == 0);
    CHECK(f.mem.get<lx::abi::stat>(st).st_size == 10);
    CHECK(f.call(lx::nr::newfstatat, fd, f.mem.put_string(""), st, lx::abi::at_empty_path) == 0);
    CHECK(f.mem.get<lx::abi::stat>(st).st_size == 10);
    CHECK(f.call(lx::nr::newfstatat, fd, f.mem.put_string(""), st, 0) == err(Errno::noent));
    CHECK(f.call(lx::nr::newfstatat, lx::abi::at_fdcwd, f.mem.put_string("/file"), st, 0x8000) == err(Errno::inval));
    CHECK(f.call(lx::nr::stat, f.mem.put_string("/file"), f.mem.hole()) == err(Errno::fault));
    CHECK(f.call(lx::nr::stat, f.mem.put_string("/nope"), st) == err(Errno::noent));

    const auto sx = f.mem.allocate(sizeof(lx::abi::statx));
    CHECK(f.call(lx::nr::statx, lx::abi::at_fdcwd, f.mem.put_string("/file"), 0, 0x7ff, sx) == 0);
    const auto x = f.mem.get<lx::abi::statx>(sx);
    CHECK(x.stx_size == 10);
    CHECK(x.stx_mode == (litebox::fd::mode::regular | 0600));
    CHECK((x.stx_mask & 0x7ff) == 0x7ff);
    CHECK(f.call(lx::nr::statx, lx::abi::at_fdcwd, f.mem.put_string("/file"), 0x6000, 0x7ff, sx) == err(Errno::inval));
    CHECK(f.call(lx::nr::statx, lx::abi::at_fdcwd, f.mem.put_string("/file"), 0, 0x80000000u, sx) == err(Errno::inval));

    const auto sf = f.mem.allocate(sizeof(lx::abi::statfs));
    CHECK(f.call(lx::nr::statfs, f.mem.put_string("/"), sf) == 0);
    CHECK(f.mem.get<lx::abi::statfs>(sf).f_type == 0x01021994);
    CHECK(f.call(lx::nr::fstatfs, fd, sf) == 0);
    CHECK(f.call(lx::nr::fstatfs, 77, sf) == err(Errno::badf));
    CHECK(f.call(lx::nr::statfs, f.mem.put_string("/nope"), sf) == err(Errno::noent));
}

TEST_CASE("namespace changes: mkdir, rename, link, symlink, readlink, unlink, rmdir", "[shim][file]") {
    ShimFixture<> f;
    CHECK(f.call(lx::nr::mkdir, f.mem.put_string("/a"), 0755) == 0);
    CHECK(f.call(lx::nr::mkdir, f.mem.put_string("/a"), 0755) == err(Errno::exist));
    CHECK(f.call(lx::nr::mkdirat, lx::abi::at_fdcwd, f.mem.put_string("/a/b"), 0755) == 0);
    CHECK(f.call(lx::nr::mknod, f.mem.put_string("/a/fifo"), litebox::fd::mode::fifo | 0600, 0) == 0);
    CHECK(f.call(lx::nr::mknodat, lx::abi::at_fdcwd, f.mem.put_string("/a/plain"), 0600, 0) == 0);
    CHECK(f.call(lx::nr::rename, f.mem.put_string("/a/plain"), f.mem.put_string("/a/renamed")) == 0);
    CHECK(f.call(lx::nr::renameat, lx::abi::at_fdcwd, f.mem.put_string("/a/renamed"), lx::abi::at_fdcwd, f.mem.put_string("/a/r2")) == 0);
    CHECK(f.call(lx::nr::renameat2, lx::abi::at_fdcwd, f.mem.put_string("/a/r2"), lx::abi::at_fdcwd, f.mem.put_string("/a/fifo"), 1) ==
          err(Errno::exist));
    CHECK(f.call(lx::nr::link, f.mem.put_string("/a/r2"), f.mem.put_string("/a/hard")) == 0);
    CHECK(f.call(lx::nr::linkat, lx::abi::at_fdcwd, f.mem.put_string("/a/r2"), lx::abi::at_fdcwd, f.mem.put_string("/a/h2"), 0x1) ==
          err(Errno::inval));
    CHECK(f.call(lx::nr::symlinkat, f.mem.put_string("r2"), lx::abi::at_fdcwd, f.mem.put_string("/a/sym")) == 0);
    const auto buf = f.mem.allocate(64);
    CHECK(f.call(lx::nr::readlink, f.mem.put_string("/a/sym"), buf, 64) == 2);
    CHECK(f.mem.get<char>(buf) == 'r');
    CHECK(f.call(lx::nr::readlink, f.mem.put_string("/a/sym"), buf, 1) == 1);
    CHECK(f.call(lx::nr::readlink, f.mem.put_string("/a/sym"), buf, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::readlink, f.mem.put_string("/a/r2"), buf, 64) == err(Errno::inval));
    CHECK(f.call(lx::nr::readlinkat, lx::abi::at_fdcwd, f.mem.put_string("/a/sym"), f.mem.hole(), 64) == err(Errno::fault));
    CHECK(f.call(lx::nr::rmdir, f.mem.put_string("/a")) == err(Errno::notempty));
    CHECK(f.call(lx::nr::unlink, f.mem.put_string("/a/b")) == err(Errno::isdir));
    CHECK(f.call(lx::nr::unlinkat, lx::abi::at_fdcwd, f.mem.put_string("/a/b"), lx::abi::at_removedir) == 0);
    CHECK(f.call(lx::nr::unlinkat, lx::abi::at_fdcwd, f.mem.put_string("/a/sym"), 0x1) == err(Errno::inval));
    for (const char* name : {"/a/sym", "/a/r2", "/a/hard", "/a/fifo"}) CHECK(f.call(lx::nr::unlink, f.mem.put_string(name)) == 0);
    CHECK(f.call(lx::nr::rmdir, f.mem.put_string("/a")) == 0);
    CHECK(f.call(lx::nr::rmdir, f.mem.hole()) == err(Errno::fault));
}

TEST_CASE("getdents64 lists a directory in linux_dirent64 records", "[shim][file]") {
    ShimFixture<> f;
    CHECK(f.call(lx::nr::mkdir, f.mem.put_string("/dir"), 0755) == 0);
    for (const char* name : {"/dir/alpha", "/dir/beta", "/dir/gamma"})
        CHECK(f.call(lx::nr::open, f.mem.put_string(name), of::create | of::write_only, 0600) >= 0);
    const auto dir = f.call(lx::nr::open, f.mem.put_string("/dir"), of::read_only | of::directory);
    REQUIRE(dir >= 0);
    const auto buf = f.mem.allocate(4096);
    CHECK(f.call(lx::nr::getdents64, dir, buf, 10) == err(Errno::inval));  // not even one record fits
    std::vector<std::string> names;
    for (;;) {
        const auto n = f.call(lx::nr::getdents64, dir, buf, 48);  // small buffer: several calls
        REQUIRE(n >= 0);
        if (n == 0) break;
        for (std::int64_t at = 0; at < n;) {
            const auto head = f.mem.get<lx::abi::linux_dirent64_head>(buf + static_cast<std::uintptr_t>(at));
            CHECK(head.d_reclen % 8 == 0);
            const auto bytes = f.mem.bytes(buf + static_cast<std::uintptr_t>(at) + 19, head.d_reclen - 19);
            names.emplace_back(reinterpret_cast<const char*>(bytes.data()));
            at += head.d_reclen;
        }
    }
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{".", "..", "alpha", "beta", "gamma"});
    CHECK(f.call(lx::nr::getdents64, dir, f.mem.hole(), 4096) == 0);  // at the end: nothing to copy
    const auto file = f.call(lx::nr::open, f.mem.put_string("/dir/alpha"), of::read_only);
    CHECK(f.call(lx::nr::getdents64, file, buf, 4096) == err(Errno::notdir));
    CHECK(f.call(lx::nr::getdents64, 99, buf, 4096) == err(Errno::badf));
}

TEST_CASE("getcwd, chdir and fchdir", "[shim][file]") {
    ShimFixture<> f;
    const auto buf = f.mem.allocate(64);
    CHECK(f.call(lx::nr::getcwd, buf, 64) == 2);
    CHECK(f.call(lx::nr::mkdir, f.mem.put_string("/work"), 0755) == 0);
    CHECK(f.call(lx::nr::chdir, f.mem.put_string("work")) == 0);
    CHECK(f.call(lx::nr::getcwd, buf, 64) == 6);
    CHECK(std::string(reinterpret_cast<const char*>(f.mem.bytes(buf, 6).data())) == "/work");
    CHECK(f.call(lx::nr::getcwd, buf, 5) == err(Errno::range));
    CHECK(f.call(lx::nr::getcwd, f.mem.hole(), 64) == err(Errno::fault));
    CHECK(f.call(lx::nr::open, f.mem.put_string("rel"), of::create | of::write_only, 0600) >= 0);
    CHECK(f.call(lx::nr::access, f.mem.put_string("/work/rel"), 0) == 0);
    CHECK(f.call(lx::nr::chdir, f.mem.put_string("/work/rel")) == err(Errno::notdir));
    CHECK(f.call(lx::nr::chdir, f.mem.put_string("/none")) == err(Errno::noent));
    const auto root = f.call(lx::nr::open, f.mem.put_string("/"), of::read_only | of::directory);
    CHECK(f.call(lx::nr::fchdir, root) == 0);
    CHECK(f.call(lx::nr::getcwd, buf, 64) == 2);
    CHECK(f.call(lx::nr::fchdir, 99) == err(Errno::badf));
    auto child = f.fork(*f.init);
    CHECK(f.call_on(*child, lx::nr::chdir, f.mem.put_string("/work")) == 0);
    CHECK(f.call(lx::nr::getcwd, buf, 64) == 2);  // the parent's cwd is its own
}

TEST_CASE("permissions: chmod, chown, access, umask", "[shim][file]") {
    ShimFixture<> f;
    const auto path = f.mem.put_string("/secret");
    const auto fd = f.call(lx::nr::open, path, of::create | of::write_only, 0644);
    CHECK(f.call(lx::nr::access, path, 4) == 0);
    CHECK(f.call(lx::nr::chmod, path, 0200) == 0);
    CHECK(f.call(lx::nr::access, path, 4) == err(Errno::acces));
    CHECK(f.call(lx::nr::open, path, of::read_only) == err(Errno::acces));
    CHECK(f.call(lx::nr::fchmod, fd, 0600) == 0);
    CHECK(f.call(lx::nr::faccessat, lx::abi::at_fdcwd, path, 4) == 0);
    CHECK(f.call(lx::nr::faccessat2, lx::abi::at_fdcwd, path, 4, lx::abi::at_eaccess) == 0);
    CHECK(f.call(lx::nr::faccessat2, lx::abi::at_fdcwd, path, 4, 0x4) == err(Errno::inval));
    CHECK(f.call(lx::nr::access, path, 8) == err(Errno::inval));
    CHECK(f.call(lx::nr::fchmodat, lx::abi::at_fdcwd, path, 0644) == 0);
    CHECK(f.call(lx::nr::chown, path, 0, -1) == err(Errno::perm));  // giving a file away needs privilege
    CHECK(f.call(lx::nr::chown, path, -1, 1000) == 0);
    CHECK(f.call(lx::nr::fchown, fd, -1, -1) == 0);
    CHECK(f.call(lx::nr::lchown, path, 1000, 1000) == 0);
    CHECK(f.call(lx::nr::fchownat, lx::abi::at_fdcwd, path, 1000, 1000, 0x2) == err(Errno::inval));
    CHECK(f.call(lx::nr::umask, 077) == 022);
    CHECK(f.call(lx::nr::mkdir, f.mem.put_string("/private"), 0777) == 0);
    const auto st = f.mem.allocate(sizeof(lx::abi::stat));
    CHECK(f.call(lx::nr::stat, f.mem.put_string("/private"), st) == 0);
    CHECK((f.mem.get<lx::abi::stat>(st).st_mode & 0777) == 0700);
}

TEST_CASE("truncate, ftruncate, fallocate, fsync and utimensat", "[shim][file]") {
    ShimFixture<> f;
    const auto path = f.mem.put_string("/data");
    const int fd = static_cast<int>(f.call(lx::nr::open, path, of::create | of::read_write, 0644));
    const auto st = f.mem.allocate(sizeof(lx::abi::stat));
    const auto size = [&] {
        REQUIRE(f.call(lx::nr::fstat, fd, st) == 0);
        return f.mem.get<lx::abi::stat>(st).st_size;
    };
    CHECK(f.call(lx::nr::ftruncate, fd, 100) == 0);
    CHECK(size() == 100);
    CHECK(f.call(lx::nr::truncate, path, 10) == 0);
    CHECK(size() == 10);
    CHECK(f.call(lx::nr::truncate, path, -1) == err(Errno::inval));
    CHECK(f.call(lx::nr::ftruncate, fd, -1) == err(Errno::inval));
    const int ro = static_cast<int>(f.call(lx::nr::open, path, of::read_only));
    CHECK(f.call(lx::nr::ftruncate, ro, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::fallocate, fd, 0, 0, 4096) == 0);
    CHECK(size() == 4096);
    CHECK(f.call(lx::nr::fallocate, fd, 0, 0, 10) == 0);  // never shrinks
    CHECK(size() == 4096);
    CHECK(f.call(lx::nr::fallocate, fd, 1, 0, 10) == err(Errno::opnotsupp));
    CHECK(f.call(lx::nr::fallocate, fd, 0, -1, 10) == err(Errno::inval));
    CHECK(f.call(lx::nr::fallocate, ro, 0, 0, 10) == err(Errno::badf));
    CHECK(f.call(lx::nr::fsync, fd) == 0);
    CHECK(f.call(lx::nr::fdatasync, fd) == 0);
    CHECK(f.call(lx::nr::fsync, 88) == err(Errno::badf));
    CHECK(f.call(lx::nr::sync) == 0);
    CHECK(f.call(lx::nr::syncfs, fd) == 0);

    const auto times = f.mem.allocate(32);
    f.mem.put(times, lx::abi::timespec{100, 5});
    f.mem.put(times + 16, lx::abi::timespec{200, 7});
    CHECK(f.call(lx::nr::utimensat, lx::abi::at_fdcwd, path, times, 0) == 0);
    REQUIRE(f.call(lx::nr::stat, path, st) == 0);
    CHECK(f.mem.get<lx::abi::stat>(st).st_atime_sec == 100);
    CHECK(f.mem.get<lx::abi::stat>(st).st_mtime_sec == 200);
    CHECK(f.mem.get<lx::abi::stat>(st).st_mtime_nsec == 7);
    f.mem.put(times + 16, lx::abi::timespec{300, litebox::fs::utime_omit});
    CHECK(f.call(lx::nr::utimensat, fd, 0, times, 0) == 0);  // NULL path: the descriptor itself
    REQUIRE(f.call(lx::nr::stat, path, st) == 0);
    CHECK(f.mem.get<lx::abi::stat>(st).st_mtime_sec == 200);
    f.mem.put(times, lx::abi::timespec{1, 2'000'000'000});
    CHECK(f.call(lx::nr::utimensat, lx::abi::at_fdcwd, path, times, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::utimensat, lx::abi::at_fdcwd, path, f.mem.hole(), 0) == err(Errno::fault));
    CHECK(f.call(lx::nr::utimensat, lx::abi::at_fdcwd, path, 0, 0) == 0);
    CHECK(f.call(lx::nr::utimensat, lx::abi::at_fdcwd, path, 0, 0x4) == err(Errno::inval));
}

TEST_CASE("flock and fcntl record locks", "[shim][file]") {
    ShimFixture<> f;
    const auto path = f.mem.put_string("/lockfile");
    const auto a = f.call(lx::nr::open, path, of::create | of::read_write, 0644);
    const auto b = f.call(lx::nr::open, path, of::read_write);
    constexpr int lock_sh = 1, lock_ex = 2, lock_nb = 4, lock_un = 8;
    CHECK(f.call(lx::nr::flock, a, lock_ex) == 0);
    CHECK(f.call(lx::nr::flock, b, lock_sh | lock_nb) == err(Errno::again));
    CHECK(f.call(lx::nr::flock, a, lock_un) == 0);
    CHECK(f.call(lx::nr::flock, b, lock_sh | lock_nb) == 0);
    CHECK(f.call(lx::nr::flock, b, 16) == err(Errno::inval));
    CHECK(f.call(lx::nr::flock, 77, lock_sh) == err(Errno::badf));
    CHECK(f.call(lx::nr::flock, b, lock_un) == 0);

    auto child = f.fork(*f.init);
    const auto fl = f.mem.allocate(sizeof(lx::abi::flock));
    f.mem.put(fl, lx::abi::flock{1, 0, 0, 10, 0});  // F_WRLCK, SEEK_SET, [0, 10)
    CHECK(f.call(lx::nr::fcntl, a, lx::abi::f_setlk, fl) == 0);
    CHECK(f.call_on(*child, lx::nr::fcntl, a, lx::abi::f_setlk, fl) == err(Errno::again));
    CHECK(f.call_on(*child, lx::nr::fcntl, a, lx::abi::f_getlk, fl) == 0);
    CHECK(f.mem.get<lx::abi::flock>(fl).l_pid == 1);
    CHECK(f.mem.get<lx::abi::flock>(fl).l_len == 10);
    f.mem.put(fl, lx::abi::flock{1, 0, 20, 5, 0});
    CHECK(f.call_on(*child, lx::nr::fcntl, a, lx::abi::f_setlk, fl) == 0);  // disjoint range
    CHECK(f.call(lx::nr::close, b) == 0);  // closing any descriptor of the file drops pid 1's locks
    f.mem.put(fl, lx::abi::flock{1, 0, 0, 10, 0});
    CHECK(f.call_on(*child, lx::nr::fcntl, a, lx::abi::f_setlk, fl) == 0);
    f.mem.put(fl, lx::abi::flock{7, 0, 0, 10, 0});
    CHECK(f.call(lx::nr::fcntl, a, lx::abi::f_setlk, fl) == err(Errno::inval));
    CHECK(f.call(lx::nr::fcntl, a, lx::abi::f_setlk, f.mem.hole()) == err(Errno::fault));
    f.call_on(*child, lx::nr::exit_group, 0);  // exit drops the child's locks
    f.mem.put(fl, lx::abi::flock{1, 0, 0, 0, 0});
    CHECK(f.call(lx::nr::fcntl, a, lx::abi::f_setlk, fl) == 0);
}

TEST_CASE("flock locks are apart from fcntl locks and belong to the open file description", "[shim][file][flock]") {
    ShimFixture<> f;
    constexpr int lock_sh = 1, lock_ex = 2, lock_nb = 4, lock_un = 8;
    const auto path = f.mem.put_string("/flocked");
    const auto a = f.call(lx::nr::open, path, of::create | of::read_write, 0644);
    const auto b = f.call(lx::nr::open, path, of::read_write);
    REQUIRE(a >= 0);
    REQUIRE(b >= 0);
    auto child = f.fork(*f.init);  // shares a's and b's descriptions

    // An fcntl write lock of pid 1 does not stop a flock of another process, nor the other way round.
    const auto fl = f.mem.allocate(sizeof(lx::abi::flock));
    f.mem.put(fl, lx::abi::flock{1, 0, 0, 0, 0});  // F_WRLCK over the whole file
    CHECK(f.call(lx::nr::fcntl, a, lx::abi::f_setlk, fl) == 0);
    const auto c = f.call_on(*child, lx::nr::open, path, of::read_write);
    REQUIRE(c >= 0);
    CHECK(f.call_on(*child, lx::nr::flock, c, lock_ex | lock_nb) == 0);
    CHECK(f.call_on(*child, lx::nr::fcntl, c, lx::abi::f_setlk, fl) == err(Errno::again));  // the record lock still holds
    CHECK(f.call(lx::nr::flock, b, lock_sh | lock_nb) == err(Errno::again));               // c's flock holds too
    f.mem.put(fl, lx::abi::flock{2, 0, 0, 0, 0});  // F_UNLCK
    CHECK(f.call(lx::nr::fcntl, a, lx::abi::f_setlk, fl) == 0);
    f.mem.put(fl, lx::abi::flock{1, 0, 0, 0, 0});
    CHECK(f.call_on(*child, lx::nr::fcntl, c, lx::abi::f_setlk, fl) == 0);  // fcntl lock while holding flock
    CHECK(f.call_on(*child, lx::nr::close, c) == 0);  // the last descriptor of c's description: its flock goes
    CHECK(f.call(lx::nr::flock, b, lock_ex | lock_nb) == 0);
    CHECK(f.call(lx::nr::flock, b, lock_un) == 0);

    // Shared by dup and fork: the lock goes with the last descriptor of the description.
    CHECK(f.call(lx::nr::flock, a, lock_ex) == 0);
    CHECK(f.call_on(*child, lx::nr::flock, a, lock_ex | lock_nb) == 0);  // the same description
    const auto a2 = f.call(lx::nr::dup, a);
    REQUIRE(a2 >= 0);
    CHECK(f.call(lx::nr::close, a) == 0);
    CHECK(f.call(lx::nr::flock, b, lock_sh | lock_nb) == err(Errno::again));
    CHECK(f.call(lx::nr::close, a2) == 0);
    CHECK(f.call(lx::nr::flock, b, lock_sh | lock_nb) == err(Errno::again));  // the child still has a
    f.call_on(*child, lx::nr::exit_group, 0);  // exit closes it
    CHECK(f.call(lx::nr::flock, b, lock_sh | lock_nb) == 0);

    // Conversion: shared holders; a failed LOCK_NB upgrade drops the shared lock (Linux).
    const auto d = f.call(lx::nr::open, path, of::read_only);
    REQUIRE(d >= 0);
    CHECK(f.call(lx::nr::flock, d, lock_sh | lock_nb) == 0);
    CHECK(f.call(lx::nr::flock, b, lock_sh | lock_nb) == 0);   // two shared holders
    CHECK(f.call(lx::nr::flock, b, lock_ex | lock_nb) == err(Errno::again));
    CHECK(f.call(lx::nr::flock, d, lock_ex | lock_nb) == 0);   // b's attempt dropped its shared lock: d upgrades
    CHECK(f.call(lx::nr::flock, d, lock_ex | lock_nb) == 0);   // already held
    CHECK(f.call(lx::nr::flock, d, lock_sh | lock_nb) == 0);   // downgrade
    CHECK(f.call(lx::nr::flock, b, lock_sh | lock_nb) == 0);
    CHECK(f.call(lx::nr::flock, b, lock_un) == 0);
    CHECK(f.call(lx::nr::flock, b, lock_un) == 0);              // nothing held: still 0
    CHECK(f.call(lx::nr::flock, b, lock_sh | lock_ex) == err(Errno::inval));
    const auto o_path = f.call(lx::nr::open, path, of::path);
    REQUIRE(o_path >= 0);
    CHECK(f.call(lx::nr::flock, o_path, lock_sh) == err(Errno::badf));

    // A blocking flock waits for the holder's unlock, and a signal interrupts it.
    std::int64_t waited = 1;
    std::thread blocked([&] { waited = f.call(lx::nr::flock, b, lock_ex); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(waited == 1);
    CHECK(f.call(lx::nr::flock, d, lock_un) == 0);
    blocked.join();
    CHECK(waited == 0);
    CHECK(f.call(lx::nr::flock, d, lock_sh | lock_nb) == err(Errno::again));
    std::thread interrupted([&] { waited = f.call(lx::nr::flock, d, lock_sh); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    f.shim.tasks().post_to_thread(f.init->thread(), lx::abi::sigusr1);
    interrupted.join();
    CHECK(waited == err(Errno::intr));
    CHECK(f.shim.vfs().flocks().count() == 1);
}

TEST_CASE("sendfile and copy_file_range", "[shim][file]") {
    ShimFixture<> f;
    const auto src = f.call(lx::nr::open, f.mem.put_string("/src"), of::create | of::read_write, 0644);
    write_text(f, static_cast<int>(src), "abcdefghij");
    const auto dst = f.call(lx::nr::open, f.mem.put_string("/dst"), of::create | of::read_write, 0644);
    const auto off = f.mem.allocate(8);
    f.mem.put<std::int64_t>(off, 2);
    CHECK(f.call(lx::nr::sendfile, dst, src, off, 5) == 5);
    CHECK(f.mem.get<std::int64_t>(off) == 7);
    CHECK(f.call(lx::nr::lseek, dst, 0, 0) == 0);
    CHECK(read_text(f, static_cast<int>(dst)) == "cdefg");
    CHECK(f.call(lx::nr::lseek, src, 0, 0) == 0);
    CHECK(f.call(lx::nr::sendfile, dst, src, 0, 100) == 10);
    f.mem.put<std::int64_t>(off, -1);
    CHECK(f.call(lx::nr::sendfile, dst, src, off, 5) == err(Errno::inval));
    CHECK(f.call(lx::nr::sendfile, dst, src, f.mem.hole(), 5) == err(Errno::fault));
    CHECK(f.call(lx::nr::sendfile, dst, 99, 0, 5) == err(Errno::badf));

    const auto in_off = f.mem.allocate(8), out_off = f.mem.allocate(8);
    f.mem.put<std::int64_t>(in_off, 0);
    f.mem.put<std::int64_t>(out_off, 100);
    CHECK(f.call(lx::nr::copy_file_range, src, in_off, dst, out_off, 4, 0) == 4);
    CHECK(f.mem.get<std::int64_t>(out_off) == 104);
    CHECK(f.call(lx::nr::copy_file_range, src, in_off, dst, out_off, 4, 1) == err(Errno::inval));
    f.mem.put<std::int64_t>(out_off, 2);
    f.mem.put<std::int64_t>(in_off, 0);
    CHECK(f.call(lx::nr::copy_file_range, src, in_off, src, out_off, 4, 0) == err(Errno::inval));  // overlap
    const auto dir = f.call(lx::nr::open, f.mem.put_string("/"), of::read_only | of::directory);
    CHECK(f.call(lx::nr::copy_file_range, dir, 0, dst, 0, 4, 0) == err(Errno::isdir));
}

TEST_CASE("by default the guest sees the box's namespace: /tmp and /dev", "[shim][file]") {
    ShimFixture<> f(lx::ShimConfig{}, true);
    CHECK(&f.shim.vfs() == &f.box.fs());
    CHECK(f.call(lx::nr::open, f.mem.put_string("/x"), of::create | of::write_only, 0600) == err(Errno::acces));  // root-owned /
    const auto fd = f.call(lx::nr::open, f.mem.put_string("/tmp/x"), of::create | of::write_only, 0600);
    CHECK(fd >= 0);
    const auto null = f.call(lx::nr::open, f.mem.put_string("/dev/null"), of::read_write);
    REQUIRE(null >= 0);
    CHECK(f.call(lx::nr::write, null, f.mem.put_string("gone"), 4) == 4);
    CHECK(f.call(lx::nr::read, null, f.mem.allocate(4), 4) == 0);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
