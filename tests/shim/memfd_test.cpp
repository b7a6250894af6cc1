// memfd_create and file seals (memfd.hpp), through raw syscalls.
#include <string>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;
namespace of = litebox::fd::open_flags;
namespace seal = litebox::fs::seal;

namespace {
struct Memfd {
    ShimFixture<>& f;

    std::int64_t create(std::string_view name, std::uint32_t flags) { return f.call(lx::nr::memfd_create, f.mem.put_string(name), flags); }
    std::int64_t write(std::int64_t fd, std::string_view text) { return f.call(lx::nr::write, fd, f.mem.put_string(text), text.size()); }
    std::int64_t pwrite(std::int64_t fd, std::size_t size, std::uint64_t offset) {
        return f.call(lx::nr::pwrite64, fd, f.mem.put_string(std::string(size, 'x')), size, offset);
    }
    std::string read_at(std::int64_t fd, std::uint64_t offset, std::size_t max = 64) {
        const auto buf = f.mem.allocate(max);
        const auto n = f.call(lx::nr::pread64, fd, buf, max, offset);
        if (n < 0) return "errno " + std::to_string(-n);
        const auto bytes = f.mem.bytes(buf, static_cast<std::size_t>(n));
        return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    lx::abi::stat fstat(std::int64_t fd) {
        const auto st = f.mem.allocate(sizeof(lx::abi::stat));
        REQUIRE(f.call(lx::nr::fstat, fd, st) == 0);
        return f.mem.get<lx::abi::stat>(st);
    }
    std::string readlink(std::string_view path) {
        const auto buf = f.mem.allocate(512);
        const auto n = f.call(lx::nr::readlink, f.mem.put_string(path), buf, 512);
        if (n < 0) return "errno " + std::to_string(-n);
        const auto bytes = f.mem.bytes(buf, static_cast<std::size_t>(n));
        return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    std::int64_t get_seals(std::int64_t fd) { return f.call(lx::nr::fcntl, fd, lx::abi::f_get_seals, 0); }
    std::int64_t add_seals(std::int64_t fd, std::uint64_t seals) { return f.call(lx::nr::fcntl, fd, lx::abi::f_add_seals, seals); }
};
}  // namespace

TEST_CASE("memfd_create: an anonymous read-write regular file", "[shim][memfd]") {
    ShimFixture<> f;
    Memfd m{f};
    const auto fd = m.create("buffer", 0);
    REQUIRE(fd >= 0);
    CHECK_FALSE(f.init->files().close_on_exec(static_cast<int>(fd)).value());
    CHECK(f.call(lx::nr::fcntl, fd, lx::abi::f_getfl, 0) == (of::read_write | of::large_file));
    auto st = m.fstat(fd);
    CHECK(st.st_mode == (litebox::fd::mode::regular | 0777));
    CHECK(st.st_size == 0);
    CHECK(st.st_nlink == 0);  // as Linux's shmem_file_setup leaves it
    CHECK(st.st_uid == 1000);
    CHECK(st.st_dev != 0);

    CHECK(m.write(fd, "hello memfd") == 11);
    CHECK(f.call(lx::nr::lseek, fd, 0, 1) == 11);
    CHECK(m.read_at(fd, 6) == "memfd");
    CHECK(f.call(lx::nr::ftruncate, fd, 5) == 0);
    CHECK(m.read_at(fd, 0) == "hello");
    CHECK(f.call(lx::nr::fallocate, fd, 0, 0, 8192) == 0);
    CHECK(m.fstat(fd).st_size == 8192);
    const auto sfs = f.mem.allocate(sizeof(lx::abi::statfs));
    REQUIRE(f.call(lx::nr::fstatfs, fd, sfs) == 0);
    CHECK(f.mem.get<lx::abi::statfs>(sfs).f_type == static_cast<std::int64_t>(litebox::fs::fs_magic::tmpfs));

    // /proc names it as Linux does, and reopening it there reaches the same file.
    const auto link = "/proc/self/fd/" + std::to_string(fd);
    CHECK(m.readlink(link) == "/memfd:buffer (deleted)");
    const auto again = f.call(lx::nr::open, f.mem.put_string(link), of::read_only);
    REQUIRE(again >= 0);
    CHECK(m.read_at(again, 0) == m.read_at(fd, 0));
    CHECK(m.readlink("/proc/self/fd/" + std::to_string(again)) == "/memfd:buffer (deleted)");
    CHECK(m.fstat(again).st_ino == st.st_ino);

    const auto second = m.create("", lx::abi::mfd_cloexec);
    REQUIRE(second >= 0);
    CHECK(f.init->files().close_on_exec(static_cast<int>(second)).value());
    CHECK(m.fstat(second).st_ino != st.st_ino);
    CHECK(m.readlink("/proc/self/fd/" + std::to_string(second)) == "/memfd: (deleted)");
}

TEST_CASE("memfd_create: flags and the name are checked as Linux does", "[shim][memfd]") {
    ShimFixture<> f;
    Memfd m{f};
    CHECK(m.create("x", lx::abi::mfd_hugetlb) == err(Errno::inval));
    CHECK(m.create("x", 0x8) == err(Errno::inval));  // MFD_NOEXEC_SEAL: Linux 6.3, after the release the box reports
    CHECK(m.create("x", 0x80000000u) == err(Errno::inval));
    CHECK(m.create(std::string(lx::abi::mfd_name_max, 'n'), 0) >= 0);
    CHECK(m.create(std::string(lx::abi::mfd_name_max + 1, 'n'), 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::memfd_create, 0, 0) == err(Errno::fault));
    CHECK(f.call(lx::nr::memfd_create, f.mem.hole(), 0) == err(Errno::fault));
}

TEST_CASE("memfd seals: F_SEAL_SEAL without MFD_ALLOW_SEALING, each seal enforced", "[shim][memfd]") {
    ShimFixture<> f;
    Memfd m{f};
    const auto unsealable = m.create("plain", 0);
    REQUIRE(unsealable >= 0);
    CHECK(m.get_seals(unsealable) == seal::seal);
    CHECK(m.add_seals(unsealable, seal::write) == err(Errno::perm));

    const auto fd = m.create("sealed", lx::abi::mfd_allow_sealing);
    REQUIRE(fd >= 0);
    CHECK(m.get_seals(fd) == 0);
    CHECK(m.add_seals(fd, 0x20) == err(Errno::inval));         // F_SEAL_EXEC: Linux 6.3
    // fcntl hands F_ADD_SEALS an unsigned int, as Linux: the high bits are dropped.
    CHECK(m.add_seals(fd, 1ull << 32) == 0);
    CHECK(m.get_seals(fd) == 0);
    CHECK(m.add_seals(fd, (1ull << 32) | 0x20) == err(Errno::inval));
    CHECK(m.pwrite(fd, 5000, 0) == 5000);

    CHECK(m.add_seals(fd, seal::shrink) == 0);
    CHECK(f.call(lx::nr::ftruncate, fd, 100) == err(Errno::perm));
    CHECK(f.call(lx::nr::ftruncate, fd, 6000) == 0);

    CHECK(m.add_seals(fd, seal::grow) == 0);
    CHECK(m.get_seals(fd) == (seal::shrink | seal::grow));
    CHECK(f.call(lx::nr::ftruncate, fd, 7000) == err(Errno::perm));
    CHECK(f.call(lx::nr::fallocate, fd, 0, 6000, 1) == err(Errno::perm));
    CHECK(f.call(lx::nr::fallocate, fd, 0, 0, 6000) == 0);  // within the size
    CHECK(m.pwrite(fd, 100, 5900) == 100);                   // ends at the size
    // A write past the size stores the pages wholly below it (Linux refuses page by page).
    CHECK(m.pwrite(fd, 3000, 4000) == 96);
    CHECK(m.pwrite(fd, 2000, 4096) == err(Errno::perm));
    CHECK(m.pwrite(fd, 10, 4096) == 10);
    CHECK(m.fstat(fd).st_size == 6000);

    CHECK(m.add_seals(fd, seal::write) == 0);
    CHECK(m.pwrite(fd, 1, 0) == err(Errno::perm));
    CHECK(m.write(fd, "x") == err(Errno::perm));
    CHECK(m.pwrite(fd, 0, 0) == 0);
    CHECK(m.read_at(fd, 0, 3) == "xxx");

    // A description opened read-only cannot add seals; the seals belong to the file.
    const auto reader = f.call(lx::nr::open, f.mem.put_string("/proc/self/fd/" + std::to_string(fd)), of::read_only);
    REQUIRE(reader >= 0);
    CHECK(m.add_seals(reader, seal::seal) == err(Errno::perm));
    CHECK(m.get_seals(reader) == (seal::shrink | seal::grow | seal::write));

    CHECK(m.add_seals(fd, seal::seal) == 0);
    CHECK(m.add_seals(fd, seal::future_write) == err(Errno::perm));
    CHECK(m.add_seals(fd, 0) == err(Errno::perm));
}

TEST_CASE("memfd seals: F_SEAL_FUTURE_WRITE refuses writes; other files", "[shim][memfd]") {
    ShimFixture<> f;
    Memfd m{f};
    const auto fd = m.create("future", lx::abi::mfd_allow_sealing);
    REQUIRE(fd >= 0);
    CHECK(m.write(fd, "abc") == 3);
    CHECK(m.add_seals(fd, seal::future_write) == 0);
    CHECK(m.write(fd, "d") == err(Errno::perm));
    CHECK(f.call(lx::nr::ftruncate, fd, 1) == 0);  // only the size seals stop truncation

    // A tmpfs file made by name is a shmem file that starts sealed; other objects have no seals.
    const auto file = f.call(lx::nr::open, f.mem.put_string("/file"), of::create | of::read_write, 0600);
    REQUIRE(file >= 0);
    CHECK(m.get_seals(file) == seal::seal);
    CHECK(m.add_seals(file, seal::write) == err(Errno::perm));
    const auto fds = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::pipe, fds) == 0);
    const auto pipe_read = f.mem.get<std::int32_t>(fds);
    CHECK(m.get_seals(pipe_read) == err(Errno::inval));
    CHECK(m.add_seals(f.mem.get<std::int32_t>(fds + 4), seal::write) == err(Errno::inval));
    CHECK(m.add_seals(pipe_read, seal::write) == err(Errno::perm));  // read-only end: EPERM first, as Linux
    const auto path_fd = f.call(lx::nr::open, f.mem.put_string("/file"), of::path);
    CHECK(m.get_seals(path_fd) == err(Errno::badf));
}

TEST_CASE("memfd: the box's memfd quotas bound bytes and files", "[shim][memfd]") {
    lx::ShimConfig config;
    config.memfd_max_bytes = 2 * 4096;
    config.memfd_max_files = 2;
    ShimFixture<> f(config);
    Memfd m{f};
    const auto a = m.create("a", 0);
    REQUIRE(a >= 0);
    CHECK(m.pwrite(a, 3 * 4096, 0) == err(Errno::nospc));
    CHECK(m.pwrite(a, 2 * 4096, 0) == 2 * 4096);
    const auto b = m.create("b", 0);
    REQUIRE(b >= 0);
    CHECK(m.pwrite(b, 1, 0) == err(Errno::nospc));
    CHECK(m.create("c", 0) == err(Errno::nospc));
    CHECK(f.call(lx::nr::close, a) == 0);  // the last reference: its pages and inode go back
    CHECK(m.pwrite(b, 4096, 0) == 4096);
    CHECK(m.create("c", 0) >= 0);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
