// Open files and operations: read/write/seek/append/truncate, O_EXCL/O_TRUNC/O_PATH, permissions,
// sticky directories, chmod/chown, mounts, FIFOs and sockets through the IPC hooks.
#include "fs_fixture.hpp"

#include <litebox/fd/table.hpp>

#include "support/test_platform.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox;
using litebox::test::err;
using litebox::test::TestPlatform;
using Fixture = litebox::test::FsFixture<TestPlatform>;
using Vfs = fs::Vfs<TestPlatform>;
namespace of = litebox::fd::open_flags;

namespace {
std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }
std::string text(std::span<const std::byte> b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }
}  // namespace

TEST_CASE("ops: read, write, seek, append and truncate through an open file", "[fs][ops]") {
    Fixture f;
    auto file = f.open("/f", of::read_write | of::create | of::exclusive, 0600);
    REQUIRE(file);
    CHECK(*(*file)->write(bytes("hello")) == 5);
    CHECK(*(*file)->seek(0, fd::Whence::current) == 5);
    CHECK(*(*file)->seek(-2, fd::Whence::end) == 3);
    std::array<std::byte, 8> buf{};
    CHECK(*(*file)->read(buf) == 2);
    CHECK(text(std::span(buf).first(2)) == "lo");
    CHECK(*(*file)->read(buf) == 0);  // end of file
    CHECK(err((*file)->seek(-10, fd::Whence::current)) == Errno::inval);
    CHECK(err((*file)->seek(-1, fd::Whence::set)) == Errno::inval);
    CHECK(*(*file)->seek(100, fd::Whence::set) == 100);  // past the end is allowed
    CHECK(*(*file)->write(bytes("!")) == 1);
    CHECK((*file)->stat()->size == 101);
    CHECK(*(*file)->pread(std::span(buf).first(3), 0) == 3);
    CHECK(*(*file)->seek(0, fd::Whence::current) == 101);  // pread leaves the offset alone
    REQUIRE((*file)->truncate(2));
    CHECK(*f.read_file("/f") == "he");
    // O_EXCL on an existing file, O_TRUNC empties it.
    CHECK(err(f.open("/f", of::read_write | of::create | of::exclusive)) == Errno::exist);
    REQUIRE(f.open("/f", of::write_only | of::truncate));
    CHECK(f.stat("/f")->size == 0);
    // O_APPEND: every write goes to the end, for both descriptions.
    auto a = f.open("/f", of::write_only | of::append);
    auto b = f.open("/f", of::write_only | of::append);
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE((*a)->write(bytes("one ")));
    REQUIRE((*b)->write(bytes("two ")));
    REQUIRE((*a)->pwrite(bytes("three"), 0));  // Linux appends even with pwrite
    CHECK(*f.read_file("/f") == "one two three");
    CHECK(*(*a)->seek(0, fd::Whence::current) == 4);  // pwrite did not move it; the write did
    // Access modes.
    auto ro = f.open("/f", of::read_only);
    REQUIRE(ro);
    CHECK(err((*ro)->write(bytes("x"))) == Errno::badf);
    CHECK(err((*ro)->truncate(0)) == Errno::inval);
    auto wo = f.open("/f", of::write_only);
    CHECK(err((*wo)->read(buf)) == Errno::badf);
    // A file unlinked while open stays usable.
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/f"));
    CHECK(*(*ro)->pread(buf, 0) == 8);
    CHECK((*ro)->stat()->link_count == 0);
}

TEST_CASE("ops: directories: mkdir, rmdir, unlink errors", "[fs][ops]") {
    Fixture f;
    REQUIRE(f.mkdir("/a"));
    CHECK(err(f.mkdir("/a")) == Errno::exist);
    CHECK(err(f.mkdir("/missing/b")) == Errno::noent);
    REQUIRE(f.write_file("/a/f", ""));
    CHECK(err(f.vfs->rmdir(f.root, f.cwd, "/a")) == Errno::notempty);
    CHECK(err(f.vfs->rmdir(f.root, f.cwd, "/a/f")) == Errno::notdir);
    CHECK(err(f.vfs->unlink(f.root, f.cwd, "/a")) == Errno::isdir);
    CHECK(err(f.vfs->rmdir(f.root, f.cwd, "/")) == Errno::busy);
    CHECK(err(f.vfs->unlink(f.root, f.cwd, "/a/nothing")) == Errno::noent);
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/a/f"));
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/a", fs::at_flags::remove_dir));
    CHECK(err(f.stat("/a")) == Errno::noent);
    CHECK(err(f.vfs->unlink(f.root, f.cwd, "/x", 0x1)) == Errno::inval);
    // mkdir applies the umask; mknod makes FIFOs and refuses devices to non-root.
    f.root.umask = 027;
    REQUIRE(f.mkdir("/m", 0777));
    CHECK((f.stat("/m")->mode & 07777) == 0750);
    REQUIRE(f.vfs->mknod(f.root, f.cwd, "/fifo", fd::mode::fifo | 0666));
    CHECK(f.stat("/fifo")->mode == (fd::mode::fifo | 0640));
    CHECK(err(f.vfs->mknod(f.user, f.cwd, "/m/dev", fd::mode::char_device | 0600, fs::make_device(1, 3))) == Errno::perm);
    CHECK(err(f.vfs->mknod(f.root, f.cwd, "/d", fd::mode::directory | 0600)) == Errno::inval);
    REQUIRE(f.vfs->mknod(f.root, f.cwd, "/null", fd::mode::char_device | 0666, fs::make_device(1, 3)));
    CHECK(f.stat("/null")->represented_device == fs::make_device(1, 3));
    CHECK(err(f.open("/null", of::read_write)) == Errno::nxio);  // no device registered
}

TEST_CASE("ops: permissions for users, groups and others", "[fs][ops][permission]") {
    Fixture f;
    REQUIRE(f.mkdir("/home", 0755));
    REQUIRE(f.vfs->mkdir(f.root, f.cwd, "/home/u", 0755));
    REQUIRE(f.vfs->chown(f.root, f.cwd, "/home/u", 1000, 1000));
    REQUIRE(f.write_file_as(f.user, "/home/u/mine", "m", 0640));
    CHECK(f.stat("/home/u/mine")->uid == 1000);
    CHECK(f.stat("/home/u/mine")->gid == 1000);
    CHECK(*f.read_file_as(f.user, "/home/u/mine") == "m");
    CHECK(err(f.read_file_as(f.other, "/home/u/mine")) == Errno::acces);
    CHECK(err(f.write_file_as(f.other, "/home/u/new", "x")) == Errno::acces);
    // Group class: the owner's bits do not fall through to the group's.
    REQUIRE(f.vfs->chmod(f.user, f.cwd, "/home/u/mine", 0060));
    CHECK(err(f.read_file_as(f.user, "/home/u/mine")) == Errno::acces);
    auto member = fs::Credentials::user(3000, 3000, {1000});
    CHECK(*f.read_file_as(member, "/home/u/mine") == "m");
    // Root reads and writes anything but executes only with some x bit.
    REQUIRE(f.vfs->chmod(f.root, f.cwd, "/home/u/mine", 0));
    CHECK(*f.read_file("/home/u/mine") == "m");
    CHECK(err(f.vfs->access(f.root, f.cwd, "/home/u/mine", fs::access_mode::execute)) == Errno::acces);
    REQUIRE(f.vfs->chmod(f.root, f.cwd, "/home/u/mine", 0001));
    CHECK(f.vfs->access(f.root, f.cwd, "/home/u/mine", fs::access_mode::execute));
    // chmod/chown rules.
    CHECK(err(f.vfs->chmod(f.other, f.cwd, "/home/u/mine", 0777)) == Errno::perm);
    CHECK(err(f.vfs->chown(f.user, f.cwd, "/home/u/mine", 2000, fs::no_change)) == Errno::perm);
    CHECK(err(f.vfs->chown(f.user, f.cwd, "/home/u/mine", fs::no_change, 2000)) == Errno::perm);
    REQUIRE(f.vfs->chown(f.user, f.cwd, "/home/u/mine", fs::no_change, 100));  // a supplementary group
    CHECK(f.stat("/home/u/mine")->gid == 100);
    REQUIRE(f.vfs->chmod(f.root, f.cwd, "/home/u/mine", 06755));
    REQUIRE(f.vfs->chown(f.root, f.cwd, "/home/u/mine", 1000, 1000));
    CHECK((f.stat("/home/u/mine")->mode & 07777) == 0755);  // chown clears set-id bits
    // access() uses the real ids unless AT_EACCESS.
    auto setuid_like = f.user;
    setuid_like.euid = setuid_like.fsuid = 0;
    REQUIRE(f.vfs->chmod(f.root, f.cwd, "/home/u/mine", 0600));
    REQUIRE(f.vfs->chown(f.root, f.cwd, "/home/u/mine", 0, 0));
    CHECK(err(f.vfs->access(setuid_like, f.cwd, "/home/u/mine", fs::access_mode::read)) == Errno::acces);
    CHECK(f.vfs->access(setuid_like, f.cwd, "/home/u/mine", fs::access_mode::read, fs::at_flags::eaccess));
    // utimes: UTIME_NOW needs write permission, explicit times need ownership.
    REQUIRE(f.vfs->chmod(f.root, f.cwd, "/home/u/mine", 0666));
    CHECK(f.vfs->utimens(f.other, f.cwd, "/home/u/mine", fd::Timespec{0, fs::utime_now}, fd::Timespec{0, fs::utime_now}));
    CHECK(err(f.vfs->utimens(f.other, f.cwd, "/home/u/mine", fd::Timespec{1, 0}, fd::Timespec{1, 0})) == Errno::perm);
    // Set-group-ID directories pass their group on.
    REQUIRE(f.mkdir("/shared", 02777));
    REQUIRE(f.vfs->chmod(f.root, f.cwd, "/shared", 02777));
    REQUIRE(f.vfs->chown(f.root, f.cwd, "/shared", 0, 555));
    REQUIRE(f.write_file_as(f.user, "/shared/x", ""));
    CHECK(f.stat("/shared/x")->gid == 555);
    REQUIRE(f.vfs->mkdir(f.user, f.cwd, "/shared/sub", 0755));
    CHECK((f.stat("/shared/sub")->mode & fd::mode::set_gid) != 0);
}

TEST_CASE("ops: sticky directories", "[fs][ops][permission]") {
    Fixture f;
    REQUIRE(f.mkdir("/tmp", 01777));
    REQUIRE(f.vfs->chmod(f.root, f.cwd, "/tmp", 01777));
    REQUIRE(f.write_file_as(f.user, "/tmp/u", "", 0666));
    REQUIRE(f.write_file_as(f.other, "/tmp/o", "", 0666));
    CHECK(err(f.vfs->unlink(f.other, f.cwd, "/tmp/u")) == Errno::perm);
    CHECK(err(f.vfs->rename(f.other, f.cwd, "/tmp/u", f.cwd, "/tmp/z")) == Errno::perm);
    CHECK(err(f.vfs->rename(f.other, f.cwd, "/tmp/o", f.cwd, "/tmp/u")) == Errno::perm);  // over another's file
    CHECK(f.vfs->unlink(f.user, f.cwd, "/tmp/u"));
    CHECK(f.vfs->unlink(f.root, f.cwd, "/tmp/o"));
}

TEST_CASE("ops: renames across mounts, into subtrees and over mount points", "[fs][ops]") {
    Fixture f;
    REQUIRE(f.mkdir("/mnt"));
    REQUIRE(f.mkdir("/other"));
    REQUIRE(f.write_file("/file", "f"));
    CHECK(err(f.vfs->mount(f.user, f.cwd, "/mnt", fs::Tmpfs<TestPlatform>::create(f.platform))) == Errno::perm);
    REQUIRE(f.vfs->mount(f.root, f.cwd, "/mnt", fs::Tmpfs<TestPlatform>::create(f.platform)));
    REQUIRE(f.write_file("/mnt/inner", "i"));
    CHECK(err(f.vfs->rename(f.root, f.cwd, "/file", f.cwd, "/mnt/file")) == Errno::xdev);
    CHECK(err(f.vfs->link(f.root, f.cwd, "/file", f.cwd, "/mnt/file")) == Errno::xdev);
    CHECK(err(f.vfs->rename(f.root, f.cwd, "/mnt", f.cwd, "/moved")) == Errno::busy);
    CHECK(err(f.vfs->rmdir(f.root, f.cwd, "/mnt")) == Errno::busy);
    CHECK(*f.vfs->path_of(*f.vfs->resolve_directory(f.root, f.cwd, "/mnt")) == "/mnt");
    CHECK(f.stat("/mnt/..")->inode == f.stat("/")->inode);
    CHECK(*f.list("/mnt") == std::vector<std::string>{"inner"});
    // Unmount: not a mount root → EINVAL; busy with a mount below → EBUSY.
    REQUIRE(f.mkdir("/mnt/deeper"));
    REQUIRE(f.vfs->mount(f.root, f.cwd, "/mnt/deeper", fs::Tmpfs<TestPlatform>::create(f.platform)));
    CHECK(err(f.vfs->unmount(f.root, f.cwd, "/other")) == Errno::inval);
    CHECK(err(f.vfs->unmount(f.root, f.cwd, "/mnt")) == Errno::busy);
    CHECK(err(f.vfs->unmount(f.root, f.cwd, "/")) == Errno::busy);
    REQUIRE(f.vfs->unmount(f.root, f.cwd, "/mnt/deeper"));
    REQUIRE(f.vfs->unmount(f.root, f.cwd, "/mnt"));
    CHECK(err(f.stat("/mnt/inner")) == Errno::noent);
    // Read-only mounts.
    REQUIRE(f.vfs->mount(f.root, f.cwd, "/other", fs::Tmpfs<TestPlatform>::create(f.platform), fs::mount_flags::read_only));
    CHECK(err(f.write_file("/other/x", "")) == Errno::rofs);
    CHECK(err(f.mkdir("/other/d")) == Errno::rofs);
    CHECK(err(f.vfs->access(f.root, f.cwd, "/other", fs::access_mode::write)) == Errno::rofs);
    CHECK(f.vfs->statfs(f.root, f.cwd, "/other")->flags & 1);
}

TEST_CASE("ops: O_PATH descriptors and location_of", "[fs][ops]") {
    Fixture f;
    REQUIRE(f.mkdir("/d", 0700));
    REQUIRE(f.write_file("/d/f", "x", 0000));
    auto path = f.vfs->open(f.root, f.cwd, "/d/f", of::path | of::read_write | of::truncate);
    REQUIRE(path);
    CHECK(f.stat("/d/f")->size == 1);  // O_TRUNC is ignored with O_PATH
    CHECK(err((*path)->truncate(0)) == Errno::badf);
    CHECK((*path)->stat()->size == 1);
    auto dir = f.vfs->open(f.root, f.cwd, "/d", of::path);
    auto where = Vfs::location_of(**dir);
    REQUIRE(where);
    CHECK(f.vfs->stat(f.root, *where, "f")->size == 1);
    fd::DescriptorTable<TestPlatform> table;
    const int fd = *table.insert(*dir, true);
    CHECK(*table.close_on_exec(fd));
}

TEST_CASE("ops: FIFOs open through the IPC hook; sockets bind and connect by path", "[fs][ops][ipc]") {
    Fixture f;
    REQUIRE(f.vfs->mknod(f.root, f.cwd, "/fifo", fd::mode::fifo | 0644));
    CHECK(err(f.open("/fifo", of::read_only | of::nonblock)) == Errno::nxio);  // no hook yet
    struct Pipe {
        int opens = 0;
    };
    struct End final : fd::OpenFile<TestPlatform> {
        explicit End(std::shared_ptr<void> p) : fd::OpenFile<TestPlatform>(0), pipe(std::move(p)) {}
        Result<fd::Stat> stat() override { return fd::Stat{}; }
        Result<std::size_t> read(std::span<std::byte>) override { return std::size_t{0}; }
        std::shared_ptr<void> pipe;
    };
    f.vfs->set_fifo_opener([](fs::Attachment<TestPlatform>& slot, std::uint32_t, const litebox::event::WaitContext<TestPlatform>*) -> Result<std::shared_ptr<fd::OpenFile<TestPlatform>>> {
        auto pipe = slot.get_or_create([] { return std::make_shared<Pipe>(); });
        static_cast<Pipe*>(pipe.get())->opens++;
        return std::shared_ptr<fd::OpenFile<TestPlatform>>(std::make_shared<End>(pipe));
    });
    auto r = f.open("/fifo", of::read_only);
    auto w = f.open("/fifo", of::write_only);
    REQUIRE(r);
    REQUIRE(w);
    auto* rw = dynamic_cast<fs::FifoFile<TestPlatform>*>(r->get());
    auto* ww = dynamic_cast<fs::FifoFile<TestPlatform>*>(w->get());
    REQUIRE(rw);
    REQUIRE(ww);
    auto* rend = dynamic_cast<End*>(rw->inner().get());
    auto* wend = dynamic_cast<End*>(ww->inner().get());
    CHECK(rend->pipe == wend->pipe);  // both ends share one pipe
    CHECK(static_cast<Pipe*>(rend->pipe.get())->opens == 2);
    CHECK(fs::is_fifo((*r)->stat()->mode));
    CHECK(err((*r)->seek(0, fd::Whence::set)) == Errno::spipe);

    auto endpoint = std::make_shared<int>(42);
    REQUIRE(f.vfs->bind_socket(f.root, f.cwd, "/sock", endpoint));
    CHECK(fs::is_socket(f.stat("/sock")->mode));
    CHECK(err(f.vfs->bind_socket(f.root, f.cwd, "/sock", endpoint)) == Errno::addrinuse);
    auto connected = f.vfs->connect_socket(f.root, f.cwd, "/sock");
    REQUIRE(connected);
    CHECK(*static_cast<int*>(connected->get()) == 42);
    CHECK(err(f.vfs->connect_socket(f.root, f.cwd, "/fifo")) == Errno::connrefused);
    CHECK(err(f.vfs->connect_socket(f.root, f.cwd, "/nothing")) == Errno::noent);
    CHECK(err(f.open("/sock", of::read_only)) == Errno::nxio);
    endpoint.reset();
    connected->reset();
    CHECK(err(f.vfs->connect_socket(f.root, f.cwd, "/sock")) == Errno::connrefused);  // socket closed
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
