// O_TMPFILE: unnamed files in a tmpfs (or an overlay's upper tmpfs), named later by linkat.
#include <memory>
#include <string>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;
namespace of = litebox::fd::open_flags;

namespace {
constexpr std::int64_t at_fdcwd = -100;
constexpr std::uint32_t at_symlink_follow = 0x400, at_empty_path = 0x1000;
constexpr std::uint32_t o_tmpfile_bit = 020000000;  // __O_TMPFILE

template <typename F>
std::string readlink_of(F& f, const std::string& path) {
    const auto buf = f.mem.allocate(512);
    const auto n = f.call(lx::nr::readlink, f.mem.put_string(path), buf, 512);
    if (n < 0) return "errno " + std::to_string(-n);
    const auto bytes = f.mem.bytes(buf, static_cast<std::size_t>(n));
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}
template <typename F>
std::string read_file(F& f, const std::string& path) {
    const auto fd = f.call(lx::nr::open, f.mem.put_string(path), of::read_only);
    if (fd < 0) return "errno " + std::to_string(-fd);
    const auto buf = f.mem.allocate(256);
    const auto n = f.call(lx::nr::read, fd, buf, 256);
    f.call(lx::nr::close, fd);
    if (n < 0) return "errno " + std::to_string(-n);
    const auto bytes = f.mem.bytes(buf, static_cast<std::size_t>(n));
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

template <typename F>
void exercise(F& f) {
    REQUIRE(f.call(lx::nr::mkdir, f.mem.put_string("/work"), 0755) == 0);
    const auto fd = f.call(lx::nr::open, f.mem.put_string("/work"), of::tmpfile | of::read_write, 0640);
    REQUIRE(fd >= 0);
    const auto text = f.mem.put_string("unnamed");
    REQUIRE(f.call(lx::nr::write, fd, text, 7) == 7);
    const auto st = f.mem.allocate(sizeof(lx::abi::stat));
    REQUIRE(f.call(lx::nr::fstat, fd, st) == 0);
    CHECK(f.mem.template get<lx::abi::stat>(st).st_nlink == 0);
    CHECK((f.mem.template get<lx::abi::stat>(st).st_mode & 07777) == 0640);
    const auto link = readlink_of(f, "/proc/self/fd/" + std::to_string(fd));  // no name: "#<inode> (deleted)"
    CHECK(link.rfind("/work/#", 0) == 0);
    CHECK(link.size() > 10);
    CHECK(link.substr(link.size() - 10) == " (deleted)");
    // linkat(fd, "", AT_EMPTY_PATH) names it; it is then an ordinary file.
    REQUIRE(f.call(lx::nr::linkat, fd, f.mem.put_string(""), at_fdcwd, f.mem.put_string("/work/named"), at_empty_path) == 0);
    REQUIRE(f.call(lx::nr::stat, f.mem.put_string("/work/named"), st) == 0);
    CHECK(f.mem.template get<lx::abi::stat>(st).st_nlink == 1);
    CHECK(f.mem.template get<lx::abi::stat>(st).st_size == 7);
    CHECK(read_file(f, "/work/named") == "unnamed");
    // Unlinked again, it cannot come back (only an unnamed O_TMPFILE file is linkable, once).
    REQUIRE(f.call(lx::nr::unlink, f.mem.put_string("/work/named")) == 0);
    CHECK(f.call(lx::nr::linkat, fd, f.mem.put_string(""), at_fdcwd, f.mem.put_string("/work/again"), at_empty_path) ==
          err(Errno::noent));
    // Through /proc/self/fd/N with AT_SYMLINK_FOLLOW, as the open(2) manual shows.
    const auto second = f.call(lx::nr::openat, at_fdcwd, f.mem.put_string("/work"), of::tmpfile | of::write_only, 0600);
    REQUIRE(second >= 0);
    const auto proc_path = f.mem.put_string("/proc/self/fd/" + std::to_string(second));
    CHECK(f.call(lx::nr::linkat, at_fdcwd, proc_path, at_fdcwd, f.mem.put_string("/work/via-proc"), at_symlink_follow) == 0);
    CHECK(f.call(lx::nr::stat, f.mem.put_string("/work/via-proc"), st) == 0);
    // O_EXCL: never linkable.
    const auto excl = f.call(lx::nr::open, f.mem.put_string("/work"), of::tmpfile | of::read_write | of::exclusive, 0600);
    REQUIRE(excl >= 0);
    CHECK(f.call(lx::nr::linkat, excl, f.mem.put_string(""), at_fdcwd, f.mem.put_string("/work/excl"), at_empty_path) ==
          err(Errno::noent));
    // Errors: no write access, O_CREAT, __O_TMPFILE without O_DIRECTORY (EINVAL); not a
    // directory (ENOTDIR); missing (ENOENT).
    CHECK(f.call(lx::nr::open, f.mem.put_string("/work"), of::tmpfile | of::read_only, 0600) == err(Errno::inval));
    CHECK(f.call(lx::nr::open, f.mem.put_string("/work"), of::tmpfile | of::read_write | of::create, 0600) == err(Errno::inval));
    CHECK(f.call(lx::nr::open, f.mem.put_string("/work"), o_tmpfile_bit | of::read_write, 0600) == err(Errno::inval));
    CHECK(f.call(lx::nr::open, f.mem.put_string("/work/via-proc"), of::tmpfile | of::read_write, 0600) == err(Errno::notdir));
    CHECK(f.call(lx::nr::open, f.mem.put_string("/missing"), of::tmpfile | of::read_write, 0600) == err(Errno::noent));
}

lx::ShimConfig root_config() {
    lx::ShimConfig config;
    config.initial_uid = config.initial_gid = 0;
    return config;
}
}  // namespace

TEST_CASE("O_TMPFILE makes an unnamed tmpfs file that linkat can name once", "[shim][tmpfile]") {
    ShimFixture<> f(root_config(), true);
    exercise(f);
}

TEST_CASE("O_TMPFILE as a user: linkat AT_EMPTY_PATH needs privilege, /proc/self/fd does not", "[shim][tmpfile]") {
    ShimFixture<> f;  // uid 1000 owning a tmpfs root
    const auto fd = f.call(lx::nr::open, f.mem.put_string("/"), of::tmpfile | of::read_write, 0600);
    REQUIRE(fd >= 0);
    CHECK(f.call(lx::nr::linkat, fd, f.mem.put_string(""), at_fdcwd, f.mem.put_string("/named"), at_empty_path) == err(Errno::noent));
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
