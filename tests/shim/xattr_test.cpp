// Extended attributes through the shim (xattr.hpp, fs/xattr.hpp) on a tmpfs root.
#include <string>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;
namespace of = litebox::fd::open_flags;

namespace {
constexpr int xattr_create = 1, xattr_replace = 2;

struct Xattrs {
    ShimFixture<>& f;
    lx::ThreadContext<GuestMemoryPlatform>* c = nullptr;
    lx::ThreadContext<GuestMemoryPlatform>& ctx() { return c ? *c : *f.init; }

    std::int64_t set(std::string_view path, std::string_view name, std::string_view value, int flags = 0) {
        return f.call_on(ctx(), lx::nr::setxattr, f.mem.put_string(path), f.mem.put_string(name), f.mem.put_string(value), value.size(),
                         flags);
    }
    /// The value (or "errno N"), read with a buffer of `size` bytes.
    std::string get(std::uint64_t nr, std::uint64_t target, std::string_view name, std::size_t size = 256) {
        const auto buf = f.mem.allocate(size + 1);
        const auto n = f.call_on(ctx(), nr, target, f.mem.put_string(name), buf, size);
        if (n < 0) return "errno " + std::to_string(-n);
        const auto bytes = f.mem.bytes(buf, static_cast<std::size_t>(n));
        return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    std::string get(std::string_view path, std::string_view name, std::size_t size = 256) {
        return get(lx::nr::getxattr, f.mem.put_string(path), name, size);
    }
    std::string list(std::uint64_t nr, std::uint64_t target, std::size_t size = 256) {
        const auto buf = f.mem.allocate(size + 1);
        const auto n = f.call_on(ctx(), nr, target, buf, size);
        if (n < 0) return "errno " + std::to_string(-n);
        const auto bytes = f.mem.bytes(buf, static_cast<std::size_t>(n));
        return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    std::string list(std::string_view path, std::size_t size = 256) { return list(lx::nr::listxattr, f.mem.put_string(path), size); }
};

std::string errno_text(Errno e) { return "errno " + std::to_string(litebox::errno_number(e)); }

void create_file(ShimFixture<>& f, lx::ThreadContext<GuestMemoryPlatform>& c, std::string_view path, std::uint32_t mode) {
    const auto fd = f.call_on(c, lx::nr::open, f.mem.put_string(path), of::create | of::write_only, mode);
    REQUIRE(fd >= 0);
    REQUIRE(f.call_on(c, lx::nr::close, fd) == 0);
}
}  // namespace

TEST_CASE("xattr: set, get, list and remove with Linux's sizes and flags", "[shim][xattr]") {
    ShimFixture<> f;
    Xattrs x{f};
    create_file(f, *f.init, "/file", 0644);
    CHECK(x.list("/file") == "");
    CHECK(x.set("/file", "user.colour", "blue") == 0);
    CHECK(x.get("/file", "user.colour") == "blue");
    // size 0: the needed size, nothing copied (the buffer may be null)
    CHECK(f.call(lx::nr::getxattr, f.mem.put_string("/file"), f.mem.put_string("user.colour"), 0, 0) == 4);
    CHECK(x.get("/file", "user.colour", 3) == errno_text(Errno::range));
    CHECK(x.get("/file", "user.missing") == errno_text(Errno::nodata));

    CHECK(x.set("/file", "user.colour", "red", xattr_create) == err(Errno::exist));
    CHECK(x.set("/file", "user.shape", "round", xattr_replace) == err(Errno::nodata));
    CHECK(x.set("/file", "user.colour", "red", xattr_replace) == 0);
    CHECK(x.set("/file", "user.shape", "round", xattr_create) == 0);
    CHECK(x.set("/file", "user.shape", "x", 4) == err(Errno::inval));
    CHECK(x.set("/file", "user.empty", "") == 0);
    CHECK(x.get("/file", "user.empty") == "");
    CHECK(x.get("/file", "user.colour") == "red");

    using namespace std::string_literals;
    CHECK(x.list("/file") == "user.colour\0user.empty\0user.shape\0"s);
    CHECK(f.call(lx::nr::listxattr, f.mem.put_string("/file"), 0, 0) == 34);
    CHECK(x.list("/file", 10) == errno_text(Errno::range));

    // Names: empty or over XATTR_NAME_MAX is ERANGE; bad pointers EFAULT; values over XATTR_SIZE_MAX E2BIG.
    CHECK(x.set("/file", "", "v") == err(Errno::range));
    CHECK(x.set("/file", "user." + std::string(250, 'n'), "v") == 0);  // 255 bytes
    CHECK(x.set("/file", "user." + std::string(251, 'n'), "v") == err(Errno::range));
    CHECK(x.get("/file", "user." + std::string(251, 'n')) == errno_text(Errno::range));
    CHECK(f.call(lx::nr::setxattr, f.mem.put_string("/file"), f.mem.hole(), 0, 0, 0) == err(Errno::fault));
    CHECK(f.call(lx::nr::setxattr, f.mem.put_string("/file"), f.mem.put_string("user.v"), f.mem.hole(), 4, 0) == err(Errno::fault));
    CHECK(f.call(lx::nr::setxattr, f.mem.put_string("/file"), f.mem.put_string("user.v"), f.mem.hole(), 65537, 0) == err(Errno::toobig));
    CHECK(f.call(lx::nr::getxattr, f.mem.put_string("/file"), f.mem.put_string("user.colour"), f.mem.hole(), 16) == err(Errno::fault));
    CHECK(x.get("/missing", "user.colour") == errno_text(Errno::noent));

    // Namespaces: a bare prefix is EINVAL, unknown ones and system.* EOPNOTSUPP; trusted.* and
    // security.* writes need CAP_SYS_ADMIN (this caller is uid 1000).
    CHECK(x.set("/file", "user.", "v") == err(Errno::inval));
    CHECK(x.set("/file", "other.name", "v") == err(Errno::opnotsupp));
    CHECK(x.get("/file", "system.posix_acl_access") == errno_text(Errno::opnotsupp));
    CHECK(x.set("/file", "trusted.t", "v") == err(Errno::perm));
    CHECK(x.get("/file", "trusted.t") == errno_text(Errno::nodata));
    CHECK(x.set("/file", "security.s", "v") == err(Errno::perm));
    CHECK(x.get("/file", "security.s") == errno_text(Errno::nodata));

    CHECK(f.call(lx::nr::removexattr, f.mem.put_string("/file"), f.mem.put_string("user.colour")) == 0);
    CHECK(f.call(lx::nr::removexattr, f.mem.put_string("/file"), f.mem.put_string("user.colour")) == err(Errno::nodata));
    CHECK(x.get("/file", "user.colour") == errno_text(Errno::nodata));
    CHECK(f.call(lx::nr::removexattr, f.mem.put_string("/file"), f.mem.put_string("security.s")) == err(Errno::perm));
}

TEST_CASE("xattr: path forms follow symlinks, l- forms do not, f- forms use the descriptor", "[shim][xattr]") {
    ShimFixture<> f;
    Xattrs x{f};
    using namespace std::string_literals;
    CHECK(f.call(lx::nr::mkdir, f.mem.put_string("/dir"), 0755) == 0);
    create_file(f, *f.init, "/dir/file", 0644);
    CHECK(f.call(lx::nr::symlink, f.mem.put_string("/dir/file"), f.mem.put_string("/link")) == 0);
    CHECK(x.set("/link", "user.via", "link") == 0);
    CHECK(x.get("/dir/file", "user.via") == "link");
    CHECK(x.get(lx::nr::lgetxattr, f.mem.put_string("/link"), "user.via") == errno_text(Errno::nodata));
    CHECK(f.call(lx::nr::lsetxattr, f.mem.put_string("/link"), f.mem.put_string("user.x"), f.mem.put_string("v"), 1, 0) ==
          err(Errno::perm));  // user.* only on regular files and directories
    CHECK(x.list(lx::nr::llistxattr, f.mem.put_string("/link")) == "");
    CHECK(x.list(lx::nr::listxattr, f.mem.put_string("/link")) == "user.via\0"s);
    CHECK(f.call(lx::nr::lremovexattr, f.mem.put_string("/link"), f.mem.put_string("user.via")) == err(Errno::perm));
    CHECK(x.set("/dir", "user.d", "directory") == 0);
    CHECK(x.get("/dir", "user.d") == "directory");

    // Descriptors: a read-only descriptor may set (the inode's write permission counts); O_PATH: EBADF.
    const auto fd = f.call(lx::nr::open, f.mem.put_string("/dir/file"), of::read_only);
    REQUIRE(fd >= 0);
    CHECK(f.call(lx::nr::fsetxattr, fd, f.mem.put_string("user.fd"), f.mem.put_string("yes"), 3, 0) == 0);
    CHECK(x.get(lx::nr::fgetxattr, static_cast<std::uint64_t>(fd), "user.fd") == "yes");
    CHECK(x.list(lx::nr::flistxattr, static_cast<std::uint64_t>(fd)) == "user.fd\0user.via\0"s);
    CHECK(f.call(lx::nr::fremovexattr, fd, f.mem.put_string("user.fd")) == 0);
    CHECK(x.get(lx::nr::fgetxattr, static_cast<std::uint64_t>(fd), "user.fd") == errno_text(Errno::nodata));
    const auto path_fd = f.call(lx::nr::open, f.mem.put_string("/dir/file"), of::path);
    REQUIRE(path_fd >= 0);
    CHECK(x.get(lx::nr::fgetxattr, static_cast<std::uint64_t>(path_fd), "user.via") == errno_text(Errno::badf));
    CHECK(f.call(lx::nr::fsetxattr, path_fd, f.mem.put_string("user.fd"), f.mem.put_string("yes"), 3, 0) == err(Errno::badf));
    CHECK(x.list(lx::nr::flistxattr, static_cast<std::uint64_t>(path_fd)) == errno_text(Errno::badf));
    CHECK(x.get(lx::nr::fgetxattr, 999, "user.via") == errno_text(Errno::badf));

    // Pipes live outside the VFS: no extended attributes (EOPNOTSUPP, which libc and coreutils accept).
    const auto pipe_fds = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::pipe, pipe_fds) == 0);
    const auto read_end = f.mem.get<std::int32_t>(pipe_fds);
    CHECK(x.get(lx::nr::fgetxattr, static_cast<std::uint64_t>(read_end), "user.via") == errno_text(Errno::opnotsupp));

    // A file system without extended attributes (procfs): EOPNOTSUPP to read, an empty list, EROFS to write.
    CHECK(x.get("/proc/1/stat", "user.x") == errno_text(Errno::opnotsupp));
    CHECK(x.list("/proc/1/stat") == "");
    CHECK(x.set("/proc/1/stat", "user.x", "v") == err(Errno::rofs));
}

TEST_CASE("xattr: permissions as for reading and writing the file; trusted.* for root only", "[shim][xattr]") {
    lx::ShimConfig root_config;
    root_config.initial_uid = 0;
    root_config.initial_gid = 0;
    ShimFixture<> f(root_config);
    Xattrs x{f};
    using namespace std::string_literals;
    create_file(f, *f.init, "/shared", 0644);
    create_file(f, *f.init, "/secret", 0600);
    CHECK(x.set("/shared", "user.u", "1") == 0);
    CHECK(x.set("/shared", "trusted.t", "2") == 0);
    CHECK(x.set("/shared", "security.s", "3") == 0);
    CHECK(x.set("/secret", "user.u", "4") == 0);
    CHECK(x.list("/shared") == "security.s\0trusted.t\0user.u\0"s);
    CHECK(x.get("/shared", "trusted.t") == "2");

    auto other = f.fork(*f.init);
    REQUIRE(f.call_on(*other, lx::nr::setuid, 2000) == 0);
    Xattrs y{f, other.get()};
    CHECK(y.get("/shared", "user.u") == "1");
    CHECK(y.set("/shared", "user.u", "mine") == err(Errno::acces));  // no write permission
    CHECK(f.call_on(*other, lx::nr::removexattr, f.mem.put_string("/shared"), f.mem.put_string("user.u")) == err(Errno::acces));
    CHECK(y.get("/shared", "trusted.t") == errno_text(Errno::nodata));
    CHECK(y.get("/shared", "security.s") == "3");  // anyone reads security.*
    CHECK(y.list("/shared") == "security.s\0user.u\0"s);
    CHECK(y.get("/secret", "user.u") == errno_text(Errno::acces));  // no read permission
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
