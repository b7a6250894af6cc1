// TarFs through the VFS: the read-only subset of the file-system behaviour (lookups, stat, readdir,
// symlinks, data) and EROFS for every change.
#include <litebox/fs/overlay/overlayfs.hpp>
#include <litebox/fs/tar/tarfs.hpp>
#include <litebox/fs/tmpfs.hpp>

#include <set>

#include "fs/fs_fixture.hpp"
#include "support/test_platform.hpp"
#include "tar_writer.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox;
using litebox::test::err;
using litebox::test::tar::HeaderSpec;
using litebox::test::tar::TarWriter;
using P = litebox::test::TestPlatform;
using Fixture = litebox::test::FsFixture<P>;
namespace of = litebox::fd::open_flags;

namespace {

/// A small root file system image.
std::vector<std::byte> sample_archive() {
    TarWriter w;
    w.dir("./", 0755);
    w.dir("etc/", 0755);
    w.file("etc/hostname", "litebox\n", 0644);
    HeaderSpec secret;
    secret.name = "etc/shadow";
    secret.mode = 0600;
    secret.uid = 0;
    secret.gid = 42;
    secret.size = 6;
    w.header(secret);
    w.data("secret");
    w.dir("bin/", 0755);
    std::string big(10000, 'b');
    w.file("bin/tool", big, 04755);
    w.hardlink("bin/tool2", "bin/tool");
    w.symlink("bin/sh", "tool");
    w.symlink("etc/abs", "/etc/hostname");
    w.symlink("escape", "../../../../etc/hostname");
    HeaderSpec null;
    null.name = "dev/null";
    null.type = '3';
    null.devmajor = 1;
    null.devminor = 3;
    null.mode = 0666;
    w.header(null);
    HeaderSpec fifo;
    fifo.name = "run/fifo";
    fifo.type = '6';
    fifo.mode = 0600;
    w.header(fifo);
    w.pax('x', {{"mtime", "1700000123.987654321"}});
    w.file("home/user/notes", "n", 0640);
    w.end();
    return std::move(w.bytes());
}

std::shared_ptr<fs::FileSystem<P>> make_tar(const P&) {
    auto made = fs::TarFs<P>::create(sample_archive());
    REQUIRE(made.has_value());
    return *made;
}

}  // namespace

TEST_CASE("tarfs: reads, stats and lists the archive", "[fs][tar][tarfs]") {
    Fixture f(&make_tar);
    CHECK(*f.read_file("/etc/hostname") == "litebox\n");
    CHECK(*f.read_file("/bin/sh") == std::string(10000, 'b'));
    CHECK(*f.read_file("/etc/abs") == "litebox\n");     // absolute symlinks resolve inside the box
    CHECK(*f.read_file("/escape") == "litebox\n");      // and never above its root
    CHECK(*f.vfs->readlink(f.root, f.cwd, "/bin/sh") == "tool");

    const auto tool = f.stat("/bin/tool");
    REQUIRE(tool);
    CHECK(tool->mode == (fd::mode::regular | 04755));
    CHECK(tool->size == 10000);
    CHECK(tool->blocks == 20);  // ceil(10000 / 512)
    CHECK(tool->link_count == 2);
    CHECK(f.stat("/bin/tool2")->inode == tool->inode);
    CHECK(tool->uid == 1000);
    CHECK(tool->device != 0);

    const auto shadow = f.stat("/etc/shadow");
    CHECK(shadow->uid == 0);
    CHECK(shadow->gid == 42);
    CHECK(shadow->mode == (fd::mode::regular | 0600));

    const auto notes = f.stat("/home/user/notes");
    CHECK(notes->modify_time.seconds == 1700000123);
    CHECK(notes->modify_time.nanoseconds == 987654321);
    CHECK(notes->access_time == notes->modify_time);
    CHECK(notes->change_time == notes->modify_time);
    CHECK(f.stat("/home/user")->mode == (fd::mode::directory | 0755));  // implied

    const auto null = f.stat("/dev/null");
    CHECK(null->mode == (fd::mode::char_device | 0666));
    CHECK(null->represented_device == fs::make_device(1, 3));
    CHECK(f.lstat("/run/fifo")->mode == (fd::mode::fifo | 0600));
    CHECK(f.lstat("/bin/sh")->mode == (fd::mode::symlink | 0777));
    CHECK(f.lstat("/bin/sh")->size == 4);
    CHECK(f.stat("/bin")->link_count == 2);
    CHECK(f.stat("/")->link_count == 2 + 5);  // etc bin dev run home

    CHECK(*f.list("/") == std::vector<std::string>{"bin", "dev", "escape", "etc", "home", "run"});
    CHECK(*f.list("/bin") == std::vector<std::string>{"sh", "tool", "tool2"});
    CHECK(f.stat("/etc/..")->inode == f.stat("/")->inode);
    CHECK(err(f.stat("/etc/missing")) == Errno::noent);
    CHECK(err(f.stat("/etc/hostname/x")) == Errno::notdir);

    // Inode numbers are unique (hard links aside).
    std::set<std::uint64_t> inodes;
    for (const char* p : {"/", "/etc", "/etc/hostname", "/etc/shadow", "/bin", "/bin/tool", "/bin/sh", "/dev/null",
                          "/run/fifo", "/home", "/home/user", "/home/user/notes"})
        CHECK(inodes.insert(f.lstat(p)->inode).second);

    // The same entry is the same inode object (locations compare by identity).
    auto a = f.vfs->resolve(f.root, f.cwd, "/etc/hostname");
    auto b = f.vfs->resolve(f.root, f.cwd, "/etc/../etc/hostname");
    CHECK(*a == *b);

    // Permissions come from the archive.
    CHECK(err(f.read_file_as(f.user, "/etc/shadow")) == Errno::acces);
    CHECK(*f.read_file_as(f.user, "/etc/hostname") == "litebox\n");

    // pread at offsets, past the end.
    auto file = f.open("/bin/tool", of::read_only);
    REQUIRE(file);
    std::array<std::byte, 16> buffer{};
    CHECK(*(*file)->pread(buffer, 9990) == 10);
    CHECK(*(*file)->pread(buffer, 10000) == 0);
    CHECK(*(*file)->seek(0, fd::Whence::end) == 10000);

    const auto st = f.vfs->statfs(f.root, f.cwd, "/");
    REQUIRE(st);
    CHECK(st->type == fs::tar_fs_magic::value);
    CHECK((st->flags & 1) == 1);
}

TEST_CASE("tarfs: a regular file's immutable contents are the archive's bytes; an overlay forwards until copy-up",
          "[fs][tar][tarfs]") {
    Fixture f(&make_tar);
    const auto contents_of = [&](const char* path) {
        auto file = f.open(path, of::read_only);
        REQUIRE(file);
        auto* regular = dynamic_cast<fs::RegularFile<P>*>(file->get());
        REQUIRE(regular != nullptr);
        return regular->location().inode->immutable_contents();
    };
    auto tool = contents_of("/bin/tool");
    REQUIRE(tool);
    CHECK(std::string(reinterpret_cast<const char*>(tool->data()), tool->size()) == std::string(10000, 'b'));
    auto hostname = contents_of("/etc/hostname");
    REQUIRE(hostname);
    CHECK(std::string(reinterpret_cast<const char*>(hostname->data()), hostname->size()) == "litebox\n");
    const auto dir = f.vfs->resolve(f.root, f.cwd, "/etc");
    REQUIRE(dir);
    CHECK(err(dir->inode->immutable_contents()) == Errno::opnotsupp);

    // Under an overlay: the lower layer's bytes until a write copies the file up.
    auto lower = fs::TarFs<P>::create(sample_archive());
    REQUIRE(lower);
    auto upper = fs::Tmpfs<P>::create(f.platform, fs::TmpfsLimits{}, 0755);
    auto overlay = fs::OverlayFs<P>::create(f.platform, upper, *lower);
    REQUIRE(overlay);
    REQUIRE(f.vfs->mount(f.root, f.cwd, "/home", *overlay));
    auto early = contents_of("/home/etc/hostname");
    REQUIRE(early);
    CHECK(early->size() == 8);
    REQUIRE(f.write_file("/home/etc/hostname", "changed\n"));
    CHECK(err(contents_of("/home/etc/hostname")) == Errno::opnotsupp);  // tmpfs bytes can change
    CHECK(std::string(reinterpret_cast<const char*>(early->data()), early->size()) == "litebox\n");  // still the archive's
}

TEST_CASE("tarfs: every change fails with EROFS", "[fs][tar][tarfs]") {
    Fixture f(&make_tar);
    CHECK(err(f.open("/etc/hostname", of::write_only)) == Errno::rofs);
    CHECK(err(f.open("/etc/hostname", of::read_write)) == Errno::rofs);
    CHECK(err(f.open("/etc/hostname", of::read_only | of::truncate)) == Errno::rofs);
    CHECK(err(f.open("/etc/new", of::write_only | of::create)) == Errno::rofs);
    CHECK(err(f.write_file("/etc/hostname", "x")) == Errno::rofs);
    CHECK(err(f.mkdir("/newdir")) == Errno::rofs);
    CHECK(err(f.vfs->unlink(f.root, f.cwd, "/etc/hostname")) == Errno::rofs);
    CHECK(err(f.vfs->rmdir(f.root, f.cwd, "/home/user")) == Errno::rofs);
    CHECK(err(f.vfs->rename(f.root, f.cwd, "/etc/hostname", f.cwd, "/etc/h2")) == Errno::rofs);
    CHECK(err(f.vfs->symlink(f.root, "x", f.cwd, "/etc/s")) == Errno::rofs);
    CHECK(err(f.vfs->link(f.root, f.cwd, "/etc/hostname", f.cwd, "/etc/l")) == Errno::rofs);
    CHECK(err(f.vfs->chmod(f.root, f.cwd, "/etc/hostname", 0600)) == Errno::rofs);
    CHECK(err(f.vfs->chown(f.root, f.cwd, "/etc/hostname", 5, 5)) == Errno::rofs);
    CHECK(err(f.vfs->utimens(f.root, f.cwd, "/etc/hostname", {1, 0}, {1, 0})) == Errno::rofs);
    CHECK(err(f.vfs->truncate(f.root, f.cwd, "/etc/hostname", 0)) == Errno::rofs);
    CHECK(err(f.vfs->mknod(f.root, f.cwd, "/run/p", fd::mode::fifo | 0600)) == Errno::rofs);
    CHECK(err(f.vfs->access(f.root, f.cwd, "/etc/hostname", fs::access_mode::write)) == Errno::rofs);
    CHECK(f.vfs->access(f.root, f.cwd, "/etc/hostname", fs::access_mode::read));
    // Nothing changed.
    CHECK(*f.read_file("/etc/hostname") == "litebox\n");
    CHECK(*f.list("/etc") == std::vector<std::string>{"abs", "hostname", "shadow"});
}

TEST_CASE("tarfs: mounted below a tmpfs, renames across are EXDEV", "[fs][tar][tarfs]") {
    Fixture f;
    REQUIRE(f.mkdir("/image"));
    REQUIRE(f.write_file("/scratch", "s"));
    auto tar = fs::TarFs<P>::create(sample_archive());
    REQUIRE(tar);
    REQUIRE(f.vfs->mount(f.root, f.cwd, "/image", *tar));
    CHECK(*f.read_file("/image/etc/hostname") == "litebox\n");
    CHECK(err(f.vfs->rename(f.root, f.cwd, "/scratch", f.cwd, "/image/scratch")) == Errno::xdev);
    CHECK(err(f.vfs->rename(f.root, f.cwd, "/image/etc/hostname", f.cwd, "/hostname")) == Errno::xdev);
    CHECK(f.stat("/image/..")->inode == f.stat("/")->inode);
    CHECK(f.stat("/image/etc/../..")->inode == f.stat("/")->inode);
}

TEST_CASE("tarfs: a malformed archive fails to mount with a reason", "[fs][tar][tarfs]") {
    TarWriter w;
    w.file("../../etc/passwd", "x");
    w.end();
    fs::tar::ParseError why;
    auto made = fs::TarFs<P>::create(w.span(), nullptr, {}, &why);
    REQUIRE_FALSE(made);
    CHECK(made.error() == Errno::inval);
    CHECK(why.reason.find("escapes") != std::string::npos);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
