// HostFs over the Linux host-directory punchthrough: a host temp directory mounted read-write and
// read-only, escapes through ".." and symlinks refused (openat2 and the component walk), audit
// lines for grants and denials, and platforms without the policy denying everything.
#include <litebox/fs/hostfs/hostfs.hpp>
#include <litebox/fs/overlay/overlayfs.hpp>
#include <litebox/fs/tmpfs.hpp>
#include <litebox/platform/linux/hostfs.hpp>
#include <litebox/platform/std/platform.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "fs/fs_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox;
using litebox::test::err;
namespace lp = litebox::platform;
namespace stdfs = std::filesystem;
namespace of = litebox::fd::open_flags;
using litebox::fs::hostfs::HostFsRequest;
using litebox::fs::hostfs::HostOp;

namespace {

std::shared_ptr<const lp::HostDirectoryPolicy> g_policy;

/// The Linux platform with the policy the current test installed.
struct HostPlatform : lp::LinuxHostFsPlatform {
    HostPlatform() : lp::LinuxHostFsPlatform(g_policy) {}
};
using Fixture = litebox::test::FsFixture<HostPlatform>;

struct AuditLog {
    std::mutex mutex;
    std::vector<std::string> lines;
    lp::HostDirectoryPolicy::Audit callback() {
        return [this](std::string_view line) {
            std::lock_guard lock(mutex);
            lines.emplace_back(line);
        };
    }
    bool contains(std::string_view text) {
        std::lock_guard lock(mutex);
        for (const auto& l : lines)
            if (l.find(text) != std::string::npos) return true;
        return false;
    }
};

struct HostDir {
    stdfs::path outer;  // holds a "secret" next to the shared directory
    stdfs::path path;
    HostDir() {
        std::string tmpl = (stdfs::temp_directory_path() / "litebox-hostfs-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        outer = tmpl;
        path = outer / "shared";
        stdfs::create_directories(path / "sub");
        std::ofstream(outer / "secret") << "outside";
        std::ofstream(path / "hello.txt") << "hello host";
        std::ofstream(path / "sub" / "inner") << "inner";
        stdfs::create_symlink("/etc", path / "abs-etc");
        stdfs::create_symlink("../", path / "up");
        stdfs::create_symlink("../secret", path / "secret-link");
        stdfs::create_symlink("hello.txt", path / "rel-link");
    }
    ~HostDir() {
        std::error_code ec;
        stdfs::remove_all(outer, ec);
    }
    [[nodiscard]] std::string read(const stdfs::path& p) const {
        std::ifstream in(path / p);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
};

/// A fixture (tmpfs root) with the host directory mounted at /host.
struct Mounted {
    AuditLog audit;
    HostDir host;
    std::unique_ptr<Fixture> f;
    Mounted(bool read_only, bool use_openat2 = true, std::size_t max_held = fs::hostfs_max_held) {
        auto policy = lp::HostDirectoryPolicy::open(host.path.string(), read_only, audit.callback(), use_openat2);
        REQUIRE(policy);
        g_policy = *policy;
        f = std::make_unique<Fixture>();
        g_policy.reset();
        REQUIRE(f->mkdir("/host"));
        REQUIRE(f->mkdir("/etc"));
        REQUIRE(f->write_file("/etc/passwd", "box passwd"));
        auto hostfs = fs::HostFs<HostPlatform>::create(f->platform, read_only, max_held);
        REQUIRE(hostfs);
        REQUIRE(f->vfs->mount(f->root, f->cwd, "/host", *hostfs));
    }
    /// A raw request as the backend would send it.
    std::optional<lp::PunchthroughResult<fs::hostfs::HostFsReply, Errno>> ask(HostOp op, std::string path) {
        HostFsRequest r;
        r.op = op;
        r.path = std::move(path);
        return lp::request_punchthrough(f->platform, std::move(r));
    }
};

Errno failure_of(const std::optional<lp::PunchthroughResult<fs::hostfs::HostFsReply, Errno>>& r) {
    if (!r) return Errno::perm;  // stands for "no token"
    if (r->has_value()) return Errno{};
    return r->error().failure().value_or(Errno::nosys);
}

}  // namespace

TEST_CASE("hostfs: platforms without the policy deny", "[fs][hostfs]") {
    STATIC_REQUIRE_FALSE(lp::SupportsPunchthrough<lp::StdPlatform, HostFsRequest>);
    STATIC_REQUIRE_FALSE(lp::SupportsPunchthrough<lp::LinuxPlatform, HostFsRequest>);
    STATIC_REQUIRE(lp::SupportsPunchthrough<lp::LinuxHostFsPlatform, HostFsRequest>);
    STATIC_REQUIRE(lp::Provider<lp::LinuxHostFsPlatform>);
    lp::LinuxHostFsPlatform no_policy;
    CHECK(err(fs::HostFs<lp::LinuxHostFsPlatform>::create(no_policy, false)) == Errno::acces);
    HostFsRequest r;
    r.op = HostOp::lstat;
    CHECK_FALSE(lp::request_punchthrough(no_policy, r).has_value());
}

TEST_CASE("hostfs: a read-write host directory", "[fs][hostfs]") {
    const bool openat2 = GENERATE(true, false);
    INFO("openat2 " << openat2);
    Mounted m(false, openat2);
    auto& f = *m.f;
    CHECK(*f.read_file("/host/hello.txt") == "hello host");
    CHECK(*f.read_file("/host/sub/inner") == "inner");
    CHECK(*f.read_file("/host/rel-link") == "hello host");
    CHECK(*f.vfs->readlink(f.root, f.cwd, "/host/abs-etc") == "/etc");
    CHECK(*f.list("/host") == std::vector<std::string>{"abs-etc", "hello.txt", "rel-link", "secret-link", "sub", "up"});
    struct stat st {};
    REQUIRE(::lstat((m.host.path / "hello.txt").c_str(), &st) == 0);
    const auto box_st = f.stat("/host/hello.txt");
    CHECK(box_st->inode == st.st_ino);
    CHECK(box_st->size == 10);
    CHECK(box_st->mode == st.st_mode);

    REQUIRE(f.write_file("/host/new.txt", "written by the box"));
    CHECK(m.host.read("new.txt") == "written by the box");
    REQUIRE(f.mkdir("/host/made", 0750));
    CHECK(stdfs::is_directory(m.host.path / "made"));
    REQUIRE(f.vfs->rename(f.root, f.cwd, "/host/new.txt", f.cwd, "/host/made/moved.txt"));
    CHECK(m.host.read("made/moved.txt") == "written by the box");
    CHECK(*f.read_file("/host/made/moved.txt") == "written by the box");
    REQUIRE(f.vfs->symlink(f.root, "moved.txt", f.cwd, "/host/made/ln"));
    CHECK(stdfs::read_symlink(m.host.path / "made/ln") == "moved.txt");
    REQUIRE(f.vfs->chmod(f.root, f.cwd, "/host/made/moved.txt", 0600));
    REQUIRE(::stat((m.host.path / "made/moved.txt").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    REQUIRE(f.vfs->utimens(f.root, f.cwd, "/host/made/moved.txt", {100, 0}, {200, 5}));
    REQUIRE(::stat((m.host.path / "made/moved.txt").c_str(), &st) == 0);
    CHECK(st.st_mtim.tv_sec == 200);
    CHECK(f.stat("/host/made/moved.txt")->modify_time == fd::Timespec{200, 5});
    REQUIRE(f.vfs->truncate(f.root, f.cwd, "/host/made/moved.txt", 7));
    CHECK(m.host.read("made/moved.txt") == "written");
    REQUIRE(f.vfs->link(f.root, f.cwd, "/host/made/moved.txt", f.cwd, "/host/hard"));
    CHECK(f.stat("/host/hard")->link_count == 2);
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/host/hard"));
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/host/made/ln"));
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/host/made/moved.txt"));
    REQUIRE(f.vfs->rmdir(f.root, f.cwd, "/host/made"));
    CHECK_FALSE(stdfs::exists(m.host.path / "made"));
    CHECK(err(f.mkdir("/host/sub")) == Errno::exist);
    CHECK(err(f.vfs->rmdir(f.root, f.cwd, "/host/sub")) == Errno::notempty);
    // Changes made on the host are seen at once.
    std::ofstream(m.host.path / "late") << "late";
    CHECK(*f.read_file("/host/late") == "late");
    stdfs::remove(m.host.path / "late");
    CHECK(err(f.stat("/host/late")) == Errno::noent);
    CHECK(m.audit.contains("hostfs grant lstat 'hello.txt'"));
    CHECK(m.audit.contains("hostfs grant rename 'new.txt' -> 'made/moved.txt'"));
}

TEST_CASE("hostfs: a read-only host directory", "[fs][hostfs]") {
    Mounted m(true);
    auto& f = *m.f;
    CHECK(*f.read_file("/host/hello.txt") == "hello host");
    CHECK(err(f.write_file("/host/hello.txt", "x")) == Errno::rofs);
    CHECK(err(f.write_file("/host/new", "x")) == Errno::rofs);
    CHECK(err(f.mkdir("/host/d")) == Errno::rofs);
    CHECK(err(f.vfs->unlink(f.root, f.cwd, "/host/hello.txt")) == Errno::rofs);
    CHECK(err(f.vfs->chmod(f.root, f.cwd, "/host/hello.txt", 0600)) == Errno::rofs);
    CHECK(m.host.read("hello.txt") == "hello host");
    CHECK_FALSE(stdfs::exists(m.host.path / "new"));
    CHECK((f.vfs->statfs(f.root, f.cwd, "/host")->flags & 1) == 1);
    // The policy refuses writes even when asked directly.
    CHECK(failure_of(m.ask(HostOp::unlink, "hello.txt")) == Errno::perm);
    CHECK(m.audit.contains("hostfs deny unlink 'hello.txt' (read-only)"));
    CHECK(stdfs::exists(m.host.path / "hello.txt"));
}

TEST_CASE("hostfs: '..' and symlinks never leave the host directory", "[fs][hostfs][security]") {
    const bool openat2 = GENERATE(true, false);
    INFO("openat2 " << openat2);
    Mounted m(false, openat2);
    auto& f = *m.f;
    // Through the box: symlinks resolve inside the box, never on the host.
    CHECK(*f.read_file("/host/abs-etc/passwd") == "box passwd");
    CHECK(*f.read_file("/host/up/etc/passwd") == "box passwd");  // "../" from /host is the box root
    CHECK(err(f.read_file("/host/secret-link")) == Errno::noent);  // box /secret does not exist
    CHECK(err(f.stat("/host/../secret")) == Errno::noent);

    // Asked directly (as a compromised backend would): unclean paths get no token...
    CHECK(failure_of(m.ask(HostOp::lstat, "../secret")) == Errno::perm);
    CHECK(failure_of(m.ask(HostOp::lstat, "/etc/passwd")) == Errno::perm);
    CHECK(failure_of(m.ask(HostOp::read, "sub/../../secret")) == Errno::perm);
    CHECK(m.audit.contains("hostfs deny lstat '../secret' (path outside the host directory)"));
    // ...and symlinks on the host are refused while resolving.
    CHECK(failure_of(m.ask(HostOp::lstat, "abs-etc/passwd")) == Errno::acces);
    CHECK(failure_of(m.ask(HostOp::lstat, "up/secret")) == Errno::acces);
    std::array<std::byte, 64> buffer{};
    HostFsRequest read;
    read.op = HostOp::read;
    read.path = "secret-link";
    read.out = buffer;
    auto escaped = lp::request_punchthrough(f.platform, read);
    REQUIRE(escaped);
    CHECK_FALSE(escaped->has_value());  // the final symlink is not followed (ELOOP)
    read.path = "up/secret";
    CHECK(failure_of(lp::request_punchthrough(f.platform, read)) == Errno::acces);
    CHECK(m.audit.contains("hostfs deny lstat 'abs-etc/passwd' (escapes the host directory)"));
    CHECK(m.audit.contains("hostfs deny read 'up/secret' (escapes the host directory)"));
    // chmod through a final symlink must not reach its target.
    HostFsRequest chmod;
    chmod.op = HostOp::chmod;
    chmod.path = "secret-link";
    chmod.mode = 0777;
    CHECK(failure_of(lp::request_punchthrough(f.platform, chmod)) == Errno::opnotsupp);
    struct stat st {};
    REQUIRE(::stat((m.host.outer / "secret").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) != 0777);

    // A directory swapped for a symlink on the host after the box looked it up.
    auto sub = f.vfs->resolve(f.root, f.cwd, "/host/sub");
    REQUIRE(sub);
    stdfs::rename(m.host.path / "sub", m.host.path / "sub-moved");
    stdfs::create_symlink(m.host.outer, m.host.path / "sub");
    CHECK(err(sub->inode->lookup("secret")) == Errno::acces);
    CHECK(err(f.read_file("/host/sub/secret")) == Errno::noent);  // the box follows "sub" inside the box
}

TEST_CASE("hostfs: a regular file's host descriptor for mappings (open_read)", "[fs][hostfs]") {
    const bool openat2 = GENERATE(true, false);
    INFO("openat2 " << openat2);
    Mounted m(/*read_only=*/true, openat2);
    auto& f = *m.f;
    // Through the inode of an open box file: the host file's bytes, read-only.
    auto file = f.open("/host/hello.txt", of::read_only);
    REQUIRE(file);
    auto* regular = dynamic_cast<fs::RegularFile<HostPlatform>*>(file->get());
    REQUIRE(regular != nullptr);
    auto host = regular->location().inode->host_file();
    REQUIRE(host);
    const int descriptor = (*host)->descriptor();
    char bytes[32] = {};
    CHECK(::pread(descriptor, bytes, sizeof bytes, 0) == 10);
    CHECK(std::string(bytes) == "hello host");
    CHECK((::fcntl(descriptor, F_GETFL) & O_ACCMODE) == O_RDONLY);
    CHECK(::write(descriptor, "x", 1) < 0);
    CHECK(m.audit.contains("hostfs grant open_read 'hello.txt'"));
    // A read-only policy grants it (it writes nothing); escapes and non-regular files fail.
    CHECK(failure_of(m.ask(HostOp::open_read, "sub")) == Errno::acces);
    CHECK(failure_of(m.ask(HostOp::open_read, "secret-link")) != Errno{});  // the final symlink is not followed
    CHECK(failure_of(m.ask(HostOp::open_read, "up/secret")) != Errno{});
    CHECK(failure_of(m.ask(HostOp::open_read, "../secret")) == Errno::perm);
    REQUIRE(::mkfifo((m.host.path / "fifo").c_str(), 0600) == 0);
    CHECK(failure_of(m.ask(HostOp::open_read, "fifo")) == Errno::acces);  // and without blocking
    // Files whose bytes live in the box have no host file.
    auto boxed = f.open("/etc/passwd", of::read_only);
    REQUIRE(boxed);
    auto* box_regular = dynamic_cast<fs::RegularFile<HostPlatform>*>(boxed->get());
    REQUIRE(box_regular != nullptr);
    CHECK(err(box_regular->location().inode->host_file()) == Errno::opnotsupp);
}

TEST_CASE("hostfs: under an overlay, the host file maps only until the file is copied up", "[fs][hostfs]") {
    Mounted m(/*read_only=*/true);
    auto& f = *m.f;
    auto lower = fs::HostFs<HostPlatform>::create(f.platform, true);
    REQUIRE(lower);
    auto upper = fs::Tmpfs<HostPlatform>::create(f.platform, fs::TmpfsLimits{}, 0755);
    auto overlay = fs::OverlayFs<HostPlatform>::create(f.platform, upper, *lower);
    REQUIRE(overlay);
    REQUIRE(f.mkdir("/ov"));
    REQUIRE(f.vfs->mount(f.root, f.cwd, "/ov", *overlay));
    const auto host_file_of = [&](const char* path) {
        auto file = f.open(path, of::read_only);
        REQUIRE(file);
        auto* regular = dynamic_cast<fs::RegularFile<HostPlatform>*>(file->get());
        REQUIRE(regular != nullptr);
        return regular->location().inode->host_file();
    };
    CHECK(host_file_of("/ov/hello.txt").has_value());
    auto early = f.open("/ov/hello.txt", of::read_only);  // open before the copy-up
    REQUIRE(early);
    REQUIRE(f.write_file("/ov/hello.txt", "changed in the box"));
    CHECK(err(host_file_of("/ov/hello.txt")) == Errno::opnotsupp);
    auto* early_regular = dynamic_cast<fs::RegularFile<HostPlatform>*>(early->get());
    REQUIRE(early_regular != nullptr);
    CHECK(err(early_regular->location().inode->host_file()) == Errno::opnotsupp);  // the upper layer holds it now
    CHECK(*f.read_file("/ov/hello.txt") == "changed in the box");
    CHECK(m.host.read("hello.txt") == "hello host");
}

TEST_CASE("hostfs: an open file stays its file after unlink or a rename over it", "[fs][hostfs]") {
    const bool openat2 = GENERATE(true, false);
    INFO("openat2 " << openat2);
    Mounted m(/*read_only=*/false, openat2);
    auto& f = *m.f;
    const auto bytes = [](std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); };
    const auto text_at = [](fd::OpenFile<HostPlatform>& file, std::uint64_t offset) {
        char buffer[64] = {};
        auto n = file.pread(std::as_writable_bytes(std::span(buffer)), offset);
        REQUIRE(n);
        return std::string(buffer, *n);
    };
    // The temp-file pattern: create, unlink, then write and read back through the descriptor.
    auto temp = f.open("/host/temp", of::read_write | of::create, 0600);
    REQUIRE(temp);
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/host/temp"));
    CHECK_FALSE(stdfs::exists(m.host.path / "temp"));
    REQUIRE(*(*temp)->pwrite(bytes("kept after unlink"), 0) == 17);
    CHECK(text_at(**temp, 0) == "kept after unlink");
    auto st = (*temp)->stat();
    REQUIRE(st);
    CHECK(st->size == 17);
    CHECK(st->link_count == 0);
    REQUIRE((*temp)->truncate(4));
    CHECK(text_at(**temp, 0) == "kept");
    CHECK(m.audit.contains("hostfs grant hold 'temp'"));
    CHECK(m.audit.contains("hostfs grant write 'temp' (held)"));
    // A new file under the old name is another file: neither sees the other's bytes.
    REQUIRE(f.write_file("/host/temp", "the new temp"));
    CHECK(text_at(**temp, 0) == "kept");
    CHECK(m.host.read("temp") == "the new temp");
    auto temp_location = dynamic_cast<fs::RegularFile<HostPlatform>*>(temp->get())->location();
    CHECK(err(temp_location.inode->host_file()) == Errno::opnotsupp);  // a runtime copies the bytes instead
    // linkat(fd, "", ..., AT_EMPTY_PATH) of the unlinked file: ENOENT, as on Linux.
    CHECK(err(f.vfs->link(f.root, temp_location, "", f.cwd, "/host/relinked", fs::at_flags::empty_path)) == Errno::noent);
    CHECK_FALSE(stdfs::exists(m.host.path / "relinked"));

    // A rename over an open file: the reader keeps the old contents.
    std::ofstream(m.host.path / "config") << "old config";
    auto reader = f.open("/host/config", of::read_only);
    REQUIRE(reader);
    REQUIRE(f.write_file("/host/config.new", "new config"));
    REQUIRE(f.vfs->rename(f.root, f.cwd, "/host/config.new", f.cwd, "/host/config"));
    CHECK(text_at(**reader, 0) == "old config");
    CHECK(*f.read_file("/host/config") == "new config");

    // A file nobody has open keeps no host descriptor; one with another link stays shared with
    // that link.
    const auto open_descriptors = [] {
        return std::distance(stdfs::directory_iterator("/proc/self/fd"), stdfs::directory_iterator{});
    };
    REQUIRE(f.write_file("/host/unused", "x"));
    const auto before = open_descriptors();
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/host/unused"));
    CHECK(open_descriptors() == before);
    auto linked = f.open("/host/hello.txt", of::read_write);
    REQUIRE(linked);
    REQUIRE(f.vfs->link(f.root, f.cwd, "/host/hello.txt", f.cwd, "/host/other-name"));
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/host/hello.txt"));
    REQUIRE(*(*linked)->pwrite(bytes("HELLO"), 0) == 5);
    CHECK(m.host.read("other-name") == "HELLO host");
}

TEST_CASE("hostfs: a removed directory stays removed for those who hold it", "[fs][hostfs]") {
    Mounted m(/*read_only=*/false);
    auto& f = *m.f;
    REQUIRE(f.mkdir("/host/gone"));
    auto dir = f.open("/host/gone", of::read_only | of::directory);
    REQUIRE(dir);
    const auto* handle = dynamic_cast<const fs::FileHandle<HostPlatform>*>(dir->get());
    REQUIRE(handle != nullptr);
    const auto at = handle->location();
    REQUIRE(f.vfs->rmdir(f.root, f.cwd, "/host/gone"));
    REQUIRE(f.mkdir("/host/gone"));  // a new directory takes the name
    // Linux: nothing can be made in, found in or listed from the removed one.
    CHECK(err(f.vfs->open(f.root, at, "made", of::create | of::write_only, 0600)) == Errno::noent);
    CHECK(err(f.vfs->mkdir(f.root, at, "sub", 0700)) == Errno::noent);
    CHECK(f.list_open(**dir)->empty());
    CHECK(stdfs::is_empty(m.host.path / "gone"));
}

TEST_CASE("hostfs: past the held-file limit an unlinked file fails, never reaching its name's next file", "[fs][hostfs]") {
    Mounted m(/*read_only=*/false, true, /*max_held=*/1);
    auto& f = *m.f;
    const auto bytes = [](std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); };
    auto first = f.open("/host/one", of::read_write | of::create, 0600);
    auto second = f.open("/host/two", of::read_write | of::create, 0600);
    REQUIRE(first);
    REQUIRE(second);
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/host/one"));
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/host/two"));
    CHECK(*(*first)->pwrite(bytes("held"), 0) == 4);
    CHECK(err((*second)->pwrite(bytes("lost"), 0)) == Errno::stale);  // no host file to reach
    REQUIRE(f.write_file("/host/two", "a new file"));
    CHECK(err((*second)->pwrite(bytes("lost"), 0)) == Errno::stale);
    CHECK(err((*second)->stat()) == Errno::stale);
    CHECK(m.host.read("two") == "a new file");
    // The slot is free again once the held file is closed.
    first->reset();
    auto third = f.open("/host/three", of::read_write | of::create, 0600);
    REQUIRE(third);
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/host/three"));
    CHECK(*(*third)->pwrite(bytes("held"), 0) == 4);
}

TEST_CASE("hostfs: a policy acts only on the files it holds", "[fs][hostfs][security]") {
    Mounted m(/*read_only=*/false);
    Mounted other(/*read_only=*/false);
    auto held = m.ask(HostOp::hold, "hello.txt");
    REQUIRE(held);
    REQUIRE(held->has_value());
    auto file = held->value().file;
    REQUIRE(file);
    CHECK(failure_of(m.ask(HostOp::hold, "sub")) == Errno::isdir);  // regular files only
    REQUIRE(::mkfifo((m.host.path / "fifo").c_str(), 0600) == 0);
    CHECK(failure_of(m.ask(HostOp::hold, "fifo")) == Errno::acces);
    CHECK(failure_of(m.ask(HostOp::hold, "../secret")) == Errno::perm);
    // Another policy's file, a file of open_read, or an operation that takes no file: refused.
    const auto with_file = [](Mounted& on, HostOp op, std::shared_ptr<const fs::hostfs::HostFileHandle> handle) {
        HostFsRequest r;
        r.op = op;
        r.path = "hello.txt";
        r.file = std::move(handle);
        return failure_of(lp::request_punchthrough(on.f->platform, std::move(r)));
    };
    CHECK(with_file(m, HostOp::lstat, file) == Errno{});
    CHECK(with_file(other, HostOp::lstat, file) == Errno::perm);
    CHECK(other.audit.contains("hostfs deny lstat 'hello.txt' (held) (not a file this directory holds)"));
    CHECK(with_file(m, HostOp::unlink, file) == Errno::perm);
    auto mapped = m.ask(HostOp::open_read, "hello.txt");
    REQUIRE(mapped);
    REQUIRE(mapped->has_value());
    CHECK(with_file(m, HostOp::write, mapped->value().file) == Errno::perm);
    // A read-only policy holds nothing.
    Mounted ro(/*read_only=*/true);
    CHECK(failure_of(ro.ask(HostOp::hold, "hello.txt")) == Errno::perm);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
