// Path resolution: ".", "..", slashes, symlinks, loops, trailing slashes, name limits, *at bases.
#include "fs_fixture.hpp"

#include "support/test_platform.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox;
using litebox::test::err;
using Fixture = litebox::test::FsFixture<litebox::test::TestPlatform>;
namespace of = litebox::fd::open_flags;

TEST_CASE("path: dot, dotdot and repeated slashes", "[fs][path]") {
    Fixture f;
    REQUIRE(f.mkdir("/a"));
    REQUIRE(f.mkdir("/a/b"));
    REQUIRE(f.write_file("/a/b/file", "x"));
    const auto ino = f.stat("/a/b/file")->inode;
    CHECK(f.stat("//a///b//file")->inode == ino);
    CHECK(f.stat("/a/./b/../b/./file")->inode == ino);
    CHECK(f.stat("a/b/file")->inode == ino);
    CHECK(f.stat("/../../a/b/file")->inode == ino);  // never above the root
    CHECK(f.stat("/a/b/../../..")->inode == f.stat("/")->inode);
    CHECK(f.stat("/")->inode == f.stat("/..")->inode);
    CHECK(err(f.stat("")) == Errno::noent);
    CHECK(err(f.stat("/a/missing/file")) == Errno::noent);
    CHECK(err(f.stat("/a/b/file/x")) == Errno::notdir);
    CHECK(err(f.stat("/a/b/file/")) == Errno::notdir);
    CHECK(err(f.stat("/a/b/file/.")) == Errno::notdir);
    CHECK(f.stat("/a/b/")->inode == f.stat("/a/b")->inode);
}

TEST_CASE("path: ENAMETOOLONG for PATH_MAX and NAME_MAX", "[fs][path]") {
    Fixture f;
    const std::string name255(255, 'n');
    const std::string name256(256, 'n');
    REQUIRE(f.write_file("/" + name255, "ok"));
    CHECK(f.stat("/" + name255));
    CHECK(err(f.stat("/" + name256)) == Errno::nametoolong);
    CHECK(err(f.write_file("/" + name256, "x")) == Errno::nametoolong);
    std::string long_path;
    while (long_path.size() < fs::path_max) long_path += "/.";
    long_path.resize(fs::path_max);  // 4096 bytes: too long
    CHECK(err(f.stat(long_path)) == Errno::nametoolong);
    long_path.resize(fs::path_max - 1);  // 4095 bytes: fine ("/./././" ... ending in "/" or ".")
    CHECK(f.stat(long_path));
}

TEST_CASE("path: symlinks relative and absolute stay inside the box", "[fs][path]") {
    Fixture f;
    REQUIRE(f.mkdir("/d"));
    REQUIRE(f.mkdir("/d/sub"));
    REQUIRE(f.write_file("/d/sub/t", "target"));
    REQUIRE(f.vfs->symlink(f.root, "sub/t", f.cwd, "/d/rel"));
    REQUIRE(f.vfs->symlink(f.root, "/d/sub/t", f.cwd, "/d/abs"));
    REQUIRE(f.vfs->symlink(f.root, "../../../../d/sub", f.cwd, "/d/up"));
    REQUIRE(f.vfs->symlink(f.root, "/d/sub/", f.cwd, "/d/dirslash"));
    CHECK(*f.read_file("/d/rel") == "target");
    CHECK(*f.read_file("/d/abs") == "target");
    CHECK(*f.read_file("/d/up/t") == "target");
    CHECK(*f.read_file("/d/dirslash/t") == "target");
    CHECK(f.lstat("/d/rel")->mode == (fd::mode::symlink | 0777));
    CHECK(f.lstat("/d/rel")->size == 5);
    CHECK(*f.vfs->readlink(f.root, f.cwd, "/d/abs") == "/d/sub/t");
    CHECK(err(f.vfs->readlink(f.root, f.cwd, "/d/sub/t")) == Errno::inval);
    // A trailing slash follows a final symlink and requires a directory.
    CHECK(f.stat("/d/up/")->inode == f.stat("/d/sub")->inode);
    CHECK(err(f.stat("/d/rel/")) == Errno::notdir);
    // lstat of "link/" follows.
    CHECK(fs::is_directory(f.lstat("/d/up/")->mode));
    // A dangling link.
    REQUIRE(f.vfs->symlink(f.root, "nowhere", f.cwd, "/d/dangling"));
    CHECK(err(f.stat("/d/dangling")) == Errno::noent);
    CHECK(f.lstat("/d/dangling"));
    // Empty targets are refused at creation.
    CHECK(err(f.vfs->symlink(f.root, "", f.cwd, "/d/empty")) == Errno::noent);
}

TEST_CASE("path: symlink loops and the 40-link limit", "[fs][path]") {
    Fixture f;
    REQUIRE(f.vfs->symlink(f.root, "loop2", f.cwd, "/loop1"));
    REQUIRE(f.vfs->symlink(f.root, "loop1", f.cwd, "/loop2"));
    CHECK(err(f.stat("/loop1")) == Errno::loop);
    CHECK(err(f.stat("/loop1/x")) == Errno::loop);
    CHECK(f.lstat("/loop1"));
    REQUIRE(f.vfs->symlink(f.root, "self/x", f.cwd, "/self"));
    CHECK(err(f.stat("/self")) == Errno::loop);
    // A chain of exactly 40 links resolves; 41 does not.
    REQUIRE(f.write_file("/end", "e"));
    REQUIRE(f.vfs->symlink(f.root, "end", f.cwd, "/c0"));
    for (int i = 1; i < 41; ++i) {
        REQUIRE(f.vfs->symlink(f.root, "c" + std::to_string(i - 1), f.cwd, "/c" + std::to_string(i)));
    }
    CHECK(*f.read_file("/c39") == "e");  // 40 links
    CHECK(err(f.read_file("/c40")) == Errno::loop);  // 41 links
}

TEST_CASE("path: O_NOFOLLOW, O_DIRECTORY and O_PATH on symlinks", "[fs][path]") {
    Fixture f;
    REQUIRE(f.write_file("/file", "data"));
    REQUIRE(f.mkdir("/dir"));
    REQUIRE(f.vfs->symlink(f.root, "file", f.cwd, "/lf"));
    REQUIRE(f.vfs->symlink(f.root, "dir", f.cwd, "/ld"));
    CHECK(err(f.open("/lf", of::read_only | of::no_follow)) == Errno::loop);
    CHECK(f.open("/ld/", of::read_only | of::no_follow));  // trailing slash follows
    CHECK(err(f.open("/file", of::read_only | of::directory)) == Errno::notdir);
    CHECK(f.open("/ld", of::read_only | of::directory));
    auto path = f.open("/lf", of::path | of::no_follow);
    REQUIRE(path);
    CHECK(fs::is_symlink((*path)->stat()->mode));
    std::byte b[4];
    CHECK(err((*path)->read(b)) == Errno::badf);
    // readlinkat(fd, "") on an O_PATH symlink.
    auto where = fs::Vfs<litebox::test::TestPlatform>::location_of(**path);
    REQUIRE(where);
    CHECK(*f.vfs->readlink(f.root, *where, "", fs::at_flags::empty_path) == "file");
}

TEST_CASE("path: *at operations relative to a directory and a working directory", "[fs][path]") {
    Fixture f;
    REQUIRE(f.mkdir("/w"));
    REQUIRE(f.mkdir("/w/in"));
    REQUIRE(f.write_file("/w/in/f", "at"));
    auto dir = f.open("/w/in", of::read_only | of::directory);
    REQUIRE(dir);
    auto base = fs::Vfs<litebox::test::TestPlatform>::location_of(**dir);
    REQUIRE(base);
    CHECK(f.vfs->stat(f.root, *base, "f")->size == 2);
    CHECK(f.vfs->stat(f.root, *base, "../in/f")->size == 2);
    CHECK(f.vfs->stat(f.root, *base, "/w/in/f")->size == 2);  // absolute ignores the base
    CHECK(f.vfs->stat(f.root, *base, "", fs::at_flags::empty_path)->inode == f.stat("/w/in")->inode);
    CHECK(err(f.vfs->stat(f.root, *base, "")) == Errno::noent);
    auto cwd = f.vfs->resolve_directory(f.root, f.cwd, "/w");
    REQUIRE(cwd);
    f.cwd = *cwd;
    CHECK(*f.read_file("in/f") == "at");
    CHECK(*f.vfs->path_of(f.cwd) == "/w");
    CHECK(*f.vfs->path_of(*base) == "/w/in");
    CHECK(*f.vfs->path_of(f.vfs->root()) == "/");
    // A file as base for a relative path: ENOTDIR.
    auto file = f.open("/w/in/f", of::read_only);
    REQUIRE(file);
    auto file_loc = fs::Vfs<litebox::test::TestPlatform>::location_of(**file);
    CHECK(err(f.vfs->stat(f.root, *file_loc, "x")) == Errno::notdir);
    CHECK(err(f.vfs->resolve_directory(f.root, f.cwd, "in/f")) == Errno::notdir);
    // A removed working directory: lookups fail, getcwd fails.
    REQUIRE(err(f.vfs->rmdir(f.root, f.vfs->root(), "/w/in")) == Errno::notempty);
    REQUIRE(f.vfs->unlink(f.root, f.vfs->root(), "/w/in/f"));
    REQUIRE(f.vfs->rmdir(f.root, f.vfs->root(), "/w/in"));
    CHECK(err(f.vfs->stat(f.root, *base, "f")) == Errno::noent);
    CHECK(err(f.vfs->path_of(*base)) == Errno::noent);
    CHECK(err(f.vfs->open(f.root, *base, "new", of::create | of::write_only, 0644)) == Errno::noent);
}

TEST_CASE("path: search permission on every component", "[fs][path][permission]") {
    Fixture f;
    REQUIRE(f.mkdir("/p", 0755));
    REQUIRE(f.mkdir("/p/locked", 0700));
    REQUIRE(f.write_file("/p/locked/f", "secret", 0644));
    CHECK(err(f.vfs->stat(f.user, f.cwd, "/p/locked/f")) == Errno::acces);
    CHECK(err(f.vfs->stat(f.user, f.cwd, "/p/locked/missing")) == Errno::acces);
    CHECK(f.vfs->stat(f.user, f.cwd, "/p/locked"));  // the directory itself is visible
    REQUIRE(f.vfs->chmod(f.root, f.cwd, "/p/locked", 0711));
    CHECK(f.vfs->stat(f.user, f.cwd, "/p/locked/f"));
    // Read permission on a directory without x: listing works, lookups do not.
    REQUIRE(f.vfs->chmod(f.root, f.cwd, "/p/locked", 0744));
    CHECK(err(f.vfs->stat(f.user, f.cwd, "/p/locked/f")) == Errno::acces);
    CHECK(f.vfs->open(f.user, f.cwd, "/p/locked", of::read_only | of::directory));
    // ".." also needs search permission on the directory it starts from.
    REQUIRE(f.vfs->chmod(f.root, f.cwd, "/p/locked", 0700));
    CHECK(err(f.vfs->stat(f.user, f.cwd, "/p/locked/..")) == Errno::acces);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
