// OverlayFs (tmpfs upper over a tar lower) through the VFS: copy-up triggers, permission checks
// before copy-up, whiteouts, opaque directories, merged readdir, inode numbers, documented EXDEV.
#include <litebox/fs/overlay/overlayfs.hpp>
#include <litebox/fs/tar/tarfs.hpp>

#include <map>
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

std::vector<std::byte> lower_image() {
    TarWriter w;
    HeaderSpec root_dir;
    root_dir.name = "./";
    root_dir.type = '5';
    root_dir.mode = 0755;
    root_dir.uid = 0;
    root_dir.gid = 0;
    w.header(root_dir);
    const auto add = [&](const std::string& name, char type, std::uint32_t mode, std::uint32_t uid, std::string data = {},
                         std::string link = {}) {
        HeaderSpec h;
        h.name = name;
        h.type = type;
        h.mode = mode;
        h.uid = uid;
        h.gid = uid;
        h.mtime = 1'600'000'000;
        h.linkname = std::move(link);
        h.size = data.size();
        w.header(h);
        w.data(data);
    };
    add("etc/", '5', 0755, 0);
    add("etc/config", '0', 0644, 0, "key=value\n");
    add("etc/suid", '0', 04755, 0, "elf");
    add("etc/link", '2', 0777, 0, {}, "config");
    add("home/", '5', 0755, 0);
    add("home/user/", '5', 0700, 1000);
    add("home/user/doc", '0', 0600, 1000, "user data");
    add("dir/", '5', 0755, 0);
    for (int i = 0; i < 20; ++i) add("dir/f" + std::to_string(100 + i), '0', 0644, 0, "content " + std::to_string(i));
    add("dir/sub/", '5', 0755, 0);
    add("dir/sub/deep", '0', 0644, 0, "deep");
    add("big", '0', 0644, 0, std::string(200000, 'z'));
    add("hard1", '0', 0644, 0, "shared");
    add("hard2", '1', 0644, 0, {}, "hard1");
    add("fifo", '6', 0666, 0);
    w.end();
    return std::move(w.bytes());
}

struct OverlayParts {
    std::shared_ptr<fs::Tmpfs<P>> upper;
    std::shared_ptr<fs::TarFs<P>> lower;
    std::shared_ptr<fs::OverlayFs<P>> overlay;
};
OverlayParts* g_parts = nullptr;

std::shared_ptr<fs::FileSystem<P>> make_overlay(const P& platform) {
    auto lower = fs::TarFs<P>::create(lower_image());
    REQUIRE(lower);
    auto upper = fs::Tmpfs<P>::create(platform, fs::TmpfsLimits{}, 0755);
    auto overlay = fs::OverlayFs<P>::create(platform, upper, *lower);
    REQUIRE(overlay);
    g_parts->upper = upper;
    g_parts->lower = *lower;
    g_parts->overlay = *overlay;
    return *overlay;
}

struct OverlayFixture : OverlayParts {
    Fixture f;
    OverlayFixture() : OverlayParts(), f((g_parts = this, &make_overlay)) {}
    std::uint64_t copy_ups() const { return overlay->copy_ups(); }
    /// The lower's own view of a file (to prove it never changes).
    std::string lower_contents(std::string_view path) const {
        auto id = lower->archive().lookup_path(path);
        REQUIRE(id);
        const auto d = lower->archive().data(*id);
        return std::string(reinterpret_cast<const char*>(d.data()), d.size());
    }
};

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

}  // namespace

TEST_CASE("overlay: reads come from the lower until something changes", "[fs][overlay]") {
    OverlayFixture o;
    auto& f = o.f;
    CHECK(*f.read_file("/etc/config") == "key=value\n");
    CHECK(*f.read_file("/etc/link") == "key=value\n");
    CHECK(f.stat("/etc/config")->uid == 0);
    CHECK(*f.list("/") == std::vector<std::string>{"big", "dir", "etc", "fifo", "hard1", "hard2", "home"});
    CHECK(o.copy_ups() == 0);
    CHECK(o.upper->inodes_used() == 1);  // only the upper root
    const auto st = f.vfs->statfs(f.root, f.cwd, "/");
    CHECK(st->type == fs::fs_magic::overlay);
}

TEST_CASE("overlay: copy-up on write keeps metadata, the lower never changes", "[fs][overlay]") {
    OverlayFixture o;
    auto& f = o.f;
    const auto before = *f.stat("/etc/config");
    auto reader = f.open("/etc/config", of::read_only);  // opened before the copy-up
    REQUIRE(reader);
    auto writer = f.open("/etc/config", of::write_only);
    REQUIRE(writer);
    CHECK(o.copy_ups() == 2);  // /etc, then /etc/config (at open for writing)
    REQUIRE(*(*writer)->pwrite(bytes_of("KEY"), 0) == 3);
    const auto after = *f.stat("/etc/config");
    CHECK(after.inode == before.inode);  // the inode number survives the copy-up
    CHECK(after.mode == before.mode);
    CHECK(after.uid == before.uid);
    CHECK(after.size == before.size);
    CHECK(*f.read_file("/etc/config") == "KEY=value\n");
    std::array<std::byte, 32> buffer{};
    const auto n = *(*reader)->read(buffer);  // the earlier reader sees the new data too
    CHECK(std::string(reinterpret_cast<const char*>(buffer.data()), n) == "KEY=value\n");
    CHECK(o.lower_contents("etc/config") == "key=value\n");
    // Untouched siblings stay in the lower.
    CHECK(o.copy_ups() == 2);
    CHECK(f.stat("/etc")->mode == (fd::mode::directory | 0755));
}

TEST_CASE("overlay: O_TRUNC copies no data; big files keep their contents", "[fs][overlay]") {
    OverlayFixture o;
    auto& f = o.f;
    REQUIRE(f.open("/big", of::write_only | of::truncate));
    CHECK(f.stat("/big")->size == 0);
    CHECK(o.upper->bytes_used() == 0);
    CHECK(o.lower_contents("big").size() == 200000);

    OverlayFixture o2;
    auto file = o2.f.open("/big", of::read_write);
    REQUIRE(file);
    REQUIRE(*(*file)->pwrite(bytes_of("A"), 199999) == 1);
    const auto contents = *o2.f.read_file("/big");
    CHECK(contents.size() == 200000);
    CHECK(contents.substr(0, 5) == "zzzzz");
    CHECK(contents.back() == 'A');
}

TEST_CASE("overlay: chmod, chown, utimens and xattrs copy up", "[fs][overlay]") {
    OverlayFixture o;
    auto& f = o.f;
    REQUIRE(f.vfs->chmod(f.root, f.cwd, "/etc/config", 0600));
    CHECK(o.copy_ups() == 2);
    CHECK(f.stat("/etc/config")->mode == (fd::mode::regular | 0600));
    REQUIRE(f.vfs->chown(f.root, f.cwd, "/dir/f100", 7, 8));
    CHECK(f.stat("/dir/f100")->uid == 7);
    CHECK(*f.read_file("/dir/f100") == "content 0");
    REQUIRE(f.vfs->utimens(f.root, f.cwd, "/dir/f101", {5, 0}, {6, 0}));
    CHECK(f.stat("/dir/f101")->modify_time.seconds == 6);
    // Copy-up keeps the lower mtime when nothing else changes it.
    REQUIRE(f.vfs->chmod(f.root, f.cwd, "/dir/f102", 0640));
    CHECK(f.stat("/dir/f102")->modify_time.seconds == 1'600'000'000);
    // A symlink copies up with its target (lchown).
    REQUIRE(f.vfs->chown(f.root, f.cwd, "/etc/link", 3, 3, fs::at_flags::symlink_nofollow));
    CHECK(f.lstat("/etc/link")->uid == 3);
    CHECK(*f.vfs->readlink(f.root, f.cwd, "/etc/link") == "config");
    // The set-uid bit survives a copy-up by root.
    REQUIRE(f.vfs->utimens(f.root, f.cwd, "/etc/suid", {1, 0}, {1, 0}));
    CHECK(f.stat("/etc/suid")->mode == (fd::mode::regular | 04755));
}

TEST_CASE("overlay: permissions are checked on the lower entry before any copy-up", "[fs][overlay][permission]") {
    OverlayFixture o;
    auto& f = o.f;
    // The user may not write root's 0644 file, chmod it, or create in root's directories.
    CHECK(err(f.vfs->open(f.user, f.cwd, "/etc/config", of::write_only)) == Errno::acces);
    CHECK(err(f.vfs->open(f.user, f.cwd, "/etc/config", of::read_only | of::truncate)) == Errno::acces);
    CHECK(err(f.vfs->chmod(f.user, f.cwd, "/etc/config", 0777)) == Errno::perm);
    CHECK(err(f.vfs->chown(f.user, f.cwd, "/etc/config", 1000, 1000)) == Errno::perm);
    CHECK(err(f.vfs->utimens(f.user, f.cwd, "/etc/config", {1, 0}, {1, 0})) == Errno::perm);
    CHECK(err(f.vfs->open(f.user, f.cwd, "/etc/new", of::write_only | of::create, 0644)) == Errno::acces);
    CHECK(err(f.vfs->unlink(f.user, f.cwd, "/etc/config")) == Errno::acces);
    CHECK(err(f.vfs->rename(f.user, f.cwd, "/etc/config", f.cwd, "/etc/c2")) == Errno::acces);
    CHECK(err(f.read_file_as(f.other, "/home/user/doc")) == Errno::acces);
    CHECK(err(f.vfs->truncate(f.user, f.cwd, "/etc/config", 0)) == Errno::acces);
    CHECK(o.copy_ups() == 0);
    CHECK(o.upper->inodes_used() == 1);
    // The owner may.
    REQUIRE(f.write_file_as(f.user, "/home/user/doc", "mine"));
    CHECK(*f.read_file_as(f.user, "/home/user/doc") == "mine");
    CHECK(f.stat("/home/user")->mode == (fd::mode::directory | 0700));  // the copied-up parent keeps its mode
    CHECK(f.stat("/home/user")->uid == 1000);
}

TEST_CASE("overlay: whiteouts hide deleted lower entries", "[fs][overlay]") {
    OverlayFixture o;
    auto& f = o.f;
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/dir/f100"));
    CHECK(err(f.stat("/dir/f100")) == Errno::noent);
    CHECK(err(f.vfs->unlink(f.root, f.cwd, "/dir/f100")) == Errno::noent);
    auto names = *f.list("/dir");
    CHECK(std::find(names.begin(), names.end(), "f100") == names.end());
    CHECK(names.size() == 20);  // 19 files and sub
    CHECK(o.lower_contents("dir/f100") == "content 0");
    // Deleting a copied-up entry also leaves a whiteout.
    REQUIRE(f.write_file("/dir/f101", "changed"));
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/dir/f101"));
    CHECK(err(f.stat("/dir/f101")) == Errno::noent);
    // A new file over a whiteout is a new, empty file.
    REQUIRE(f.open("/dir/f100", of::write_only | of::create));
    CHECK(f.stat("/dir/f100")->size == 0);
    CHECK(*f.read_file("/dir/f100") == "");
    // An upper-only file leaves nothing behind.
    REQUIRE(f.write_file("/dir/new", "n"));
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/dir/new"));
    CHECK(err(f.stat("/dir/new")) == Errno::noent);
    // rmdir needs the merged view to be empty.
    CHECK(err(f.vfs->rmdir(f.root, f.cwd, "/dir/sub")) == Errno::notempty);
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/dir/sub/deep"));
    REQUIRE(f.vfs->rmdir(f.root, f.cwd, "/dir/sub"));
    CHECK(err(f.stat("/dir/sub")) == Errno::noent);
}

TEST_CASE("overlay: rmdir then mkdir of a lower directory is opaque", "[fs][overlay]") {
    OverlayFixture o;
    auto& f = o.f;
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/dir/sub/deep"));
    REQUIRE(f.vfs->rmdir(f.root, f.cwd, "/dir/sub"));
    REQUIRE(f.mkdir("/dir/sub", 0700));
    CHECK(f.list("/dir/sub")->empty());
    CHECK(err(f.stat("/dir/sub/deep")) == Errno::noent);
    CHECK(f.stat("/dir/sub")->mode == (fd::mode::directory | 0700));
    REQUIRE(f.write_file("/dir/sub/fresh", "f"));
    CHECK(*f.list("/dir/sub") == std::vector<std::string>{"fresh"});
    // A file replacing a lower directory hides its contents too.
    OverlayFixture o2;
    auto& g = o2.f;
    REQUIRE(g.vfs->unlink(g.root, g.cwd, "/dir/sub/deep"));
    REQUIRE(g.vfs->rmdir(g.root, g.cwd, "/dir/sub"));
    REQUIRE(g.write_file("/dir/sub", "now a file"));
    CHECK(err(g.stat("/dir/sub/deep")) == Errno::notdir);
    CHECK(*g.read_file("/dir/sub") == "now a file");
}

TEST_CASE("overlay: readdir merges, shadows and stays correct across copy-ups", "[fs][overlay][readdir]") {
    OverlayFixture o;
    auto& f = o.f;
    REQUIRE(f.write_file("/dir/f105", "shadowing"));  // copy-up of one entry
    REQUIRE(f.write_file("/dir/zz-new", "upper only"));
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/dir/f110"));
    auto names = *f.list("/dir");
    std::set<std::string> unique(names.begin(), names.end());
    CHECK(unique.size() == names.size());
    CHECK(names.size() == 21);  // 20 - 1 + 1 + sub
    CHECK(unique.count("f105") == 1);
    CHECK(unique.count("zz-new") == 1);
    CHECK(unique.count("f110") == 0);

    // One entry per getdents call; between calls, copy up listed and unlisted entries and add
    // new ones. Every entry that exists throughout is reported exactly once.
    auto dir = f.open("/dir", of::read_only | of::directory);
    REQUIRE(dir);
    struct One final : fd::DirectorySink {
        std::vector<std::string> seen;
        std::map<std::string, std::uint64_t> inodes;
        bool full = false;
        bool add(const fd::DirectoryEntry& e) override {
            if (full) return false;
            full = true;
            seen.emplace_back(e.name);
            inodes[std::string(e.name)] = e.inode;
            return true;
        }
    } one;
    int round = 0;
    for (;;) {
        one.full = false;
        REQUIRE((*dir)->read_directory(one));
        if (!one.full) break;
        ++round;
        const std::string target = "/dir/f1" + std::to_string(10 + round % 10);
        (void)f.vfs->chmod(f.root, f.cwd, target, 0600);  // copy-up (f110 is gone: ENOENT is fine)
        (void)f.vfs->chmod(f.root, f.cwd, "/dir/f1" + std::to_string(19 - round % 10), 0640);
        if (round % 3 == 0) REQUIRE(f.write_file("/dir/added" + std::to_string(round), "a"));
    }
    std::map<std::string, int> counts;
    for (const auto& n : one.seen) ++counts[n];
    for (const auto& n : names) {
        INFO("entry " << n);
        CHECK(counts[n] == 1);
    }
    for (const auto& [n, c] : counts) CHECK(c == 1);
    // getdents inode numbers match stat's.
    for (const auto& n : names) CHECK(one.inodes[n] == f.lstat("/dir/" + n)->inode);
}

TEST_CASE("overlay: inode numbers are unique and stable", "[fs][overlay]") {
    OverlayFixture o;
    auto& f = o.f;
    std::set<std::uint64_t> inodes;
    for (const char* p : {"/", "/etc", "/etc/config", "/etc/suid", "/dir", "/dir/f100", "/dir/sub", "/big", "/hard1"})
        CHECK(inodes.insert(f.lstat(p)->inode).second);
    CHECK(f.stat("/hard2")->inode == f.stat("/hard1")->inode);
    REQUIRE(f.write_file("/upper-file", "u"));
    REQUIRE(f.mkdir("/upper-dir"));
    CHECK(inodes.insert(f.stat("/upper-file")->inode).second);
    CHECK(inodes.insert(f.stat("/upper-dir")->inode).second);
    const auto before = f.stat("/dir/f100")->inode;
    REQUIRE(f.write_file("/dir/f100", "w"));
    CHECK(f.stat("/dir/f100")->inode == before);
    REQUIRE(f.vfs->rename(f.root, f.cwd, "/dir/f100", f.cwd, "/etc/moved"));
    CHECK(f.stat("/etc/moved")->inode == before);
    CHECK(err(f.stat("/dir/f100")) == Errno::noent);
}

TEST_CASE("overlay: rename rules", "[fs][overlay][rename]") {
    OverlayFixture o;
    auto& f = o.f;
    // Files of lower origin move (copied up first); the old name is whited out.
    REQUIRE(f.vfs->rename(f.root, f.cwd, "/etc/config", f.cwd, "/home/config"));
    CHECK(*f.read_file("/home/config") == "key=value\n");
    CHECK(err(f.stat("/etc/config")) == Errno::noent);
    // Over a lower file: the target's lower entry stays hidden.
    REQUIRE(f.vfs->rename(f.root, f.cwd, "/home/config", f.cwd, "/dir/f100"));
    CHECK(*f.read_file("/dir/f100") == "key=value\n");
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/dir/f100"));
    CHECK(err(f.stat("/dir/f100")) == Errno::noent);  // not the lower f100 again
    // Directories with lower content: EXDEV (documented, as overlayfs without redirect_dir).
    CHECK(err(f.vfs->rename(f.root, f.cwd, "/dir/sub", f.cwd, "/sub2")) == Errno::xdev);
    CHECK(err(f.vfs->rename(f.root, f.cwd, "/home/user", f.cwd, "/home/u2")) == Errno::xdev);
    // Upper-only directories move, over an empty lower directory too.
    REQUIRE(f.mkdir("/newdir"));
    REQUIRE(f.write_file("/newdir/inside", "i"));
    REQUIRE(f.vfs->rename(f.root, f.cwd, "/newdir", f.cwd, "/moved"));
    CHECK(*f.read_file("/moved/inside") == "i");
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/dir/sub/deep"));
    REQUIRE(f.vfs->rename(f.root, f.cwd, "/moved", f.cwd, "/dir/sub"));
    CHECK(*f.list("/dir/sub") == std::vector<std::string>{"inside"});
    CHECK(*f.list("/") == std::vector<std::string>{"big", "dir", "etc", "fifo", "hard1", "hard2", "home"});
    // Type rules and flags on lower entries.
    CHECK(err(f.vfs->rename(f.root, f.cwd, "/big", f.cwd, "/etc")) == Errno::isdir);
    CHECK(err(f.vfs->rename(f.root, f.cwd, "/big", f.cwd, "/hard1", fs::rename_flags::no_replace)) == Errno::exist);
    CHECK(err(f.vfs->rename(f.root, f.cwd, "/big", f.cwd, "/nothing", fs::rename_flags::exchange)) == Errno::noent);
    CHECK(err(f.vfs->rename(f.root, f.cwd, "/big", f.cwd, "/dir", fs::rename_flags::exchange)) == Errno::xdev);
    REQUIRE(f.vfs->rename(f.root, f.cwd, "/etc/suid", f.cwd, "/etc/link", fs::rename_flags::exchange));
    CHECK(*f.read_file("/etc/link") == "elf");
    CHECK(err(f.read_file("/etc/suid")) == Errno::noent);  // now the symlink to "config", which moved away
    CHECK(f.lstat("/etc/suid")->mode == (fd::mode::symlink | 0777));
    CHECK(f.lstat("/etc/link")->mode == (fd::mode::regular | 04755));
}

TEST_CASE("overlay: hard links copy up their target", "[fs][overlay]") {
    OverlayFixture o;
    auto& f = o.f;
    REQUIRE(f.vfs->link(f.root, f.cwd, "/etc/config", f.cwd, "/etc/config.link"));
    CHECK(f.stat("/etc/config")->link_count == 2);
    CHECK(f.stat("/etc/config.link")->inode == f.stat("/etc/config")->inode);
    REQUIRE(f.write_file("/etc/config.link", "through the link"));
    CHECK(*f.read_file("/etc/config") == "through the link");
    // Lower hard links: a copy-up breaks them (documented, as overlayfs without index=on).
    REQUIRE(f.write_file("/hard1", "changed"));
    CHECK(*f.read_file("/hard2") == "shared");
    CHECK(err(f.vfs->link(f.root, f.cwd, "/etc", f.cwd, "/etc2")) == Errno::perm);
}

TEST_CASE("overlay: FIFOs of lower origin have an attachment slot", "[fs][overlay]") {
    OverlayFixture o;
    auto fifo = o.f.vfs->resolve(o.f.root, o.f.cwd, "/fifo");
    REQUIRE(fifo);
    CHECK(fifo->inode->attachment() != nullptr);
    auto slot = fifo->inode->attachment();
    REQUIRE(o.f.vfs->chmod(o.f.root, o.f.cwd, "/fifo", 0600));  // copy-up keeps the same slot
    CHECK(fifo->inode->attachment() == slot);
    REQUIRE(o.f.vfs->mknod(o.f.root, o.f.cwd, "/newfifo", fd::mode::fifo | 0600));
    auto created = o.f.vfs->resolve(o.f.root, o.f.cwd, "/newfifo");
    CHECK(created->inode->attachment() != nullptr);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
