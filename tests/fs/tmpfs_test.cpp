// tmpfs: sparse files, quotas, link counts, inode numbers, timestamps, stable readdir cookies.
#include "fs_fixture.hpp"

#include <set>

#include "support/platforms.hpp"
#include "support/test_platform.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox;
using litebox::test::err;
using litebox::test::TestPlatform;
using Fixture = litebox::test::FsFixture<TestPlatform>;
namespace of = litebox::fd::open_flags;

namespace {
std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }
bool detail_before(const fd::Timespec& a, const fd::Timespec& b) { return fs::detail::time_before(a, b); }
}  // namespace

TEST_CASE("tmpfs: a huge ftruncate allocates nothing; holes read as zeros", "[fs][tmpfs]") {
    TestPlatform platform;
    auto tmpfs = fs::Tmpfs<TestPlatform>::create(platform);
    fs::Vfs<TestPlatform> vfs(platform, tmpfs);
    const auto root = fs::Credentials::root();
    auto file = vfs.open(root, vfs.root(), "/sparse", of::read_write | of::create, 0644);
    REQUIRE(file);
    const auto before = tmpfs->bytes_used();
    REQUIRE((*file)->truncate(1ULL << 40));  // 1 TiB
    CHECK(tmpfs->bytes_used() == before);
    auto st = (*file)->stat();
    CHECK(st->size == (1LL << 40));
    CHECK(st->blocks == 0);
    REQUIRE((*file)->pwrite(bytes("hello"), (1ULL << 39) + 4094));  // straddles two pages
    st = (*file)->stat();
    CHECK(st->blocks == 16);  // two 4 KiB pages
    CHECK(tmpfs->bytes_used() == before + 8192);
    std::array<std::byte, 16> buffer{};
    buffer.fill(std::byte{0x55});
    CHECK(*(*file)->pread(buffer, 12345) == 16);
    for (auto b : buffer) CHECK(b == std::byte{0});
    CHECK(*(*file)->pread(std::span(buffer).first(5), (1ULL << 39) + 4094) == 5);
    CHECK(std::memcmp(buffer.data(), "hello", 5) == 0);
    // SEEK_DATA / SEEK_HOLE see the pages.
    CHECK(*(*file)->seek(0, fd::Whence::data) == (1ULL << 39));
    CHECK(*(*file)->seek(1ULL << 39, fd::Whence::hole) == (1ULL << 39) + 8192);
    CHECK(err((*file)->seek(1LL << 40, fd::Whence::data)) == Errno::nxio);
    // Shrinking frees pages and zeroes the tail of the last one.
    REQUIRE((*file)->truncate((1ULL << 39) + 4095));
    CHECK(tmpfs->bytes_used() == before + 4096);
    REQUIRE((*file)->truncate((1ULL << 39) + 4096));
    CHECK(*(*file)->pread(std::span(buffer).first(2), (1ULL << 39) + 4094) == 2);
    CHECK(buffer[0] == std::byte{'h'});
    CHECK(buffer[1] == std::byte{0});
    CHECK(err((*file)->truncate(fs::max_file_size + 1)) == Errno::fbig);
    CHECK(err((*file)->pwrite(bytes("x"), fs::max_file_size)) == Errno::fbig);
}

TEST_CASE("tmpfs: byte and inode quotas fail with ENOSPC and change nothing", "[fs][tmpfs]") {
    TestPlatform platform;
    fs::TmpfsLimits limits;
    limits.max_bytes = 4 * 4096;
    limits.max_inodes = 4;  // the root and three more
    auto tmpfs = fs::Tmpfs<TestPlatform>::create(platform, limits);
    fs::Vfs<TestPlatform> vfs(platform, tmpfs);
    const auto root = fs::Credentials::root();
    auto file = vfs.open(root, vfs.root(), "/f", of::read_write | of::create, 0644);
    REQUIRE(file);
    std::vector<std::byte> big(5 * 4096, std::byte{1});
    CHECK(err((*file)->write(big)) == Errno::nospc);
    CHECK((*file)->stat()->size == 0);
    CHECK(tmpfs->bytes_used() == 0);
    CHECK(*(*file)->write(std::span(big).first(4 * 4096)) == 4 * 4096);
    CHECK(err((*file)->pwrite(std::span(big).first(1), 5 * 4096)) == Errno::nospc);
    CHECK(*(*file)->pwrite(std::span(big).first(1), 0) == 1);  // rewriting a stored page is free
    REQUIRE(vfs.mkdir(root, vfs.root(), "/d", 0755));
    CHECK(err(vfs.symlink(root, "t", vfs.root(), "/s")) == Errno::nospc);  // no byte left for the target
    REQUIRE(vfs.mknod(root, vfs.root(), "/fifo", fd::mode::fifo | 0600));
    CHECK(tmpfs->inodes_used() == 4);
    CHECK(err(vfs.mkdir(root, vfs.root(), "/e", 0755)) == Errno::nospc);
    auto totals = vfs.statfs(root, vfs.root(), "/");
    REQUIRE(totals);
    CHECK(totals->type == fs::fs_magic::tmpfs);
    CHECK(totals->blocks == 4);
    CHECK(totals->blocks_free == 0);
    CHECK(totals->files == 4);
    CHECK(totals->files_free == 0);
    // Unlinking frees only when the last reference goes.
    REQUIRE(vfs.unlink(root, vfs.root(), "/f"));
    CHECK(tmpfs->bytes_used() == 4 * 4096);
    CHECK((*file)->stat()->link_count == 0);
    file->reset();
    CHECK(tmpfs->bytes_used() == 0);
    CHECK(tmpfs->inodes_used() == 3);
}

TEST_CASE("tmpfs: link counts, inode numbers and device ids", "[fs][tmpfs]") {
    Fixture f;
    REQUIRE(f.mkdir("/d"));
    CHECK(f.stat("/d")->link_count == 2);
    CHECK(f.stat("/")->link_count == 3);
    REQUIRE(f.mkdir("/d/e"));
    CHECK(f.stat("/d")->link_count == 3);
    REQUIRE(f.write_file("/d/x", "1"));
    REQUIRE(f.vfs->link(f.root, f.cwd, "/d/x", f.cwd, "/d/y"));
    CHECK(f.stat("/d/x")->link_count == 2);
    CHECK(f.stat("/d/x")->inode == f.stat("/d/y")->inode);
    REQUIRE(f.vfs->rename(f.root, f.cwd, "/d/e", f.cwd, "/e"));
    CHECK(f.stat("/d")->link_count == 2);
    CHECK(f.stat("/")->link_count == 4);
    std::set<std::uint64_t> inodes;
    for (const char* p : {"/", "/d", "/e", "/d/x"}) inodes.insert(f.stat(p)->inode);
    CHECK(inodes.size() == 4);
    // A second tmpfs mounted somewhere has its own device id.
    REQUIRE(f.vfs->mount(f.root, f.cwd, "/e", fs::Tmpfs<TestPlatform>::create(f.platform)));
    CHECK(f.stat("/e")->device != f.stat("/d")->device);
    CHECK(f.stat("/d")->device == f.stat("/")->device);
    CHECK(f.stat("/d")->device != 0);
}

TEST_CASE("tmpfs: timestamps come from the platform clock", "[fs][tmpfs]") {
    Fixture f;
    REQUIRE(f.mkdir("/t"));
    REQUIRE(f.write_file("/t/f", "a"));
    const auto created = *f.stat("/t/f");
    CHECK(created.modify_time.seconds > 1'700'000'000);
    CHECK(created.modify_time == created.change_time);
    TestPlatform::advance(std::chrono::seconds(5));
    REQUIRE(f.write_file("/t/f", "b"));  // O_TRUNC + write
    const auto written = *f.stat("/t/f");
    CHECK(written.modify_time.seconds == created.modify_time.seconds + 5);
    CHECK(written.access_time == created.access_time);
    TestPlatform::advance(std::chrono::seconds(1));
    REQUIRE(f.read_file("/t/f"));
    CHECK(f.stat("/t/f")->access_time.seconds == written.modify_time.seconds + 1);  // relatime
    const auto dir_before = *f.stat("/t");
    TestPlatform::advance(std::chrono::seconds(1));
    REQUIRE(f.vfs->unlink(f.root, f.cwd, "/t/f"));
    CHECK(f.stat("/t")->modify_time.seconds == written.modify_time.seconds + 2);
    CHECK(detail_before(dir_before.modify_time, f.stat("/t")->modify_time));
    // utimensat: explicit, UTIME_NOW and UTIME_OMIT.
    REQUIRE(f.write_file("/t/g", ""));
    REQUIRE(f.vfs->utimens(f.root, f.cwd, "/t/g", fd::Timespec{100, 5}, fd::Timespec{200, 7}));
    auto st = *f.stat("/t/g");
    CHECK(st.access_time == fd::Timespec{100, 5});
    CHECK(st.modify_time == fd::Timespec{200, 7});
    REQUIRE(f.vfs->utimens(f.root, f.cwd, "/t/g", fd::Timespec{0, fs::utime_omit}, fd::Timespec{0, fs::utime_now}));
    st = *f.stat("/t/g");
    CHECK(st.access_time == fd::Timespec{100, 5});
    CHECK(st.modify_time.seconds > 1'700'000'000);
    CHECK(err(f.vfs->utimens(f.root, f.cwd, "/t/g", fd::Timespec{0, 1'000'000'000}, fd::Timespec{0, 0})) == Errno::inval);
}

TEST_CASE("tmpfs: readdir cookies stay valid while entries come and go", "[fs][tmpfs][readdir]") {
    Fixture f;
    REQUIRE(f.mkdir("/r"));
    for (int i = 0; i < 100; ++i) REQUIRE(f.write_file("/r/keep" + std::to_string(i), ""));
    auto dir = f.open("/r", of::read_only | of::directory);
    REQUIRE(dir);
    // Read a few entries at a time; between reads, add and remove other entries.
    struct Some final : fd::DirectorySink {
        std::vector<std::string> names;
        std::size_t room = 7;
        bool add(const fd::DirectoryEntry& e) override {
            if (room == 0) return false;
            --room;
            names.emplace_back(e.name);
            return true;
        }
    };
    std::multiset<std::string> seen;
    int round = 0;
    for (;;) {
        Some some;
        REQUIRE((*dir)->read_directory(some));
        if (some.names.empty()) break;
        for (auto& n : some.names) seen.insert(n);
        if (round < 10) {  // entries added late are legitimately seen, so stop adding at some point
            REQUIRE(f.write_file("/r/temp" + std::to_string(round), ""));
            if (round > 0) REQUIRE(f.vfs->unlink(f.root, f.cwd, "/r/temp" + std::to_string(round - 1)));
            if (round == 3) REQUIRE(f.vfs->unlink(f.root, f.cwd, "/r/keep99"));
            if (round == 4) REQUIRE(f.write_file("/r/keep99", ""));
        }
        ++round;
        REQUIRE(round < 1000);
    }
    for (int i = 0; i < 99; ++i) CHECK(seen.count("keep" + std::to_string(i)) == 1);
    CHECK(seen.count(".") == 1);
    CHECK(seen.count("..") == 1);
    // telldir/seekdir: a saved position resumes at the same entry.
    REQUIRE((*dir)->seek(0, fd::Whence::set));
    Some first;
    first.room = 10;
    REQUIRE((*dir)->read_directory(first));
    const auto pos = *(*dir)->seek(0, fd::Whence::current);
    Some next1;
    next1.room = 1;
    REQUIRE((*dir)->read_directory(next1));
    REQUIRE((*dir)->seek(static_cast<std::int64_t>(pos), fd::Whence::set));
    Some next2;
    next2.room = 1;
    REQUIRE((*dir)->read_directory(next2));
    CHECK(next1.names == next2.names);
    CHECK(err((*dir)->seek(0, fd::Whence::end)) == Errno::inval);
    std::byte b[1];
    CHECK(err((*dir)->read(b)) == Errno::isdir);
}

TEST_CASE("tmpfs: extended attributes", "[fs][tmpfs]") {
    TestPlatform platform;
    fs::TmpfsLimits limits;
    limits.max_xattr_bytes = 64;
    auto tmpfs = fs::Tmpfs<TestPlatform>::create(platform, limits);
    auto root = tmpfs->root();
    auto value = bytes("value");
    REQUIRE(root->setxattr("user.a", value, 0));
    CHECK(root->getxattr("user.a")->size() == 5);
    CHECK(err(root->setxattr("user.a", value, 1)) == Errno::exist);
    CHECK(err(root->setxattr("user.b", value, 2)) == Errno::nodata);
    CHECK(err(root->getxattr("user.b")) == Errno::nodata);
    std::vector<std::byte> large(100);
    CHECK(err(root->setxattr("user.c", large, 0)) == Errno::nospc);
    CHECK(root->listxattr()->size() == 1);
    REQUIRE(root->removexattr("user.a"));
    CHECK(err(root->removexattr("user.a")) == Errno::nodata);
    CHECK(tmpfs->bytes_used() == 0);
}

TEMPLATE_LIST_TEST_CASE("tmpfs: basic file round trip on every platform", "[fs][tmpfs]", litebox::test::AllPlatforms) {
    litebox::test::FsFixture<TestType> f;
    REQUIRE(f.mkdir("/home"));
    REQUIRE(f.write_file("/home/a.txt", "hello world"));
    CHECK(*f.read_file("/home/a.txt") == "hello world");
    CHECK(*f.list("/home") == std::vector<std::string>{"a.txt"});
}

namespace {
/// An in-memory SharedStore that records what the file system asks of it; `bytes` stands in for
/// a host mapping that a guest writes directly.
struct FakeStore final : fs::SharedStore {
    std::vector<std::byte> bytes;
    std::uint32_t seals = 0;
    bool fail_writes = false;
    bool busy = false;  // a writable mapping exists: seal::write fails
    Result<std::size_t> read(std::span<std::byte> out, std::uint64_t offset) const override {
        if (offset >= bytes.size()) return std::size_t{0};
        const auto n = std::min<std::size_t>(out.size(), bytes.size() - static_cast<std::size_t>(offset));
        std::memcpy(out.data(), bytes.data() + offset, n);
        return n;
    }
    Result<void> write(std::span<const std::byte> in, std::uint64_t offset) override {
        if (fail_writes) return Errno::io;
        if (offset + in.size() > bytes.size()) bytes.resize(static_cast<std::size_t>(offset + in.size()));
        std::memcpy(bytes.data() + offset, in.data(), in.size());
        return ok();
    }
    Result<void> resize(std::uint64_t size) override {
        bytes.resize(static_cast<std::size_t>(size));
        return ok();
    }
    Result<void> add_seals(std::uint32_t s) override {
        if (busy && (s & fs::seal::write) != 0) return Errno::busy;
        seals |= s;
        return ok();
    }
};

typename fs::Inode<TestPlatform>::Ptr inode_of(fd::OpenFile<TestPlatform>& file) {
    auto* regular = dynamic_cast<fs::RegularFile<TestPlatform>*>(&file);
    return regular != nullptr ? regular->location().inode : nullptr;
}
}  // namespace

TEST_CASE("tmpfs: a file's bytes move into a SharedStore, which then serves every access", "[fs][tmpfs][shared]") {
    TestPlatform platform;
    fs::TmpfsLimits limits;
    limits.max_bytes = 8 * 4096;
    auto tmpfs = fs::Tmpfs<TestPlatform>::create(platform, limits);
    fs::Vfs<TestPlatform> vfs(platform, tmpfs);
    const auto root = fs::Credentials::root();
    auto file = vfs.open(root, vfs.root(), "/f", of::read_write | of::create, 0644);
    REQUIRE(file);
    REQUIRE((*file)->pwrite(bytes("hello"), 0));
    REQUIRE((*file)->pwrite(bytes("x"), 3 * 4096 + 10));  // a hole of two pages
    CHECK(tmpfs->bytes_used() == 2 * 4096);
    auto inode = inode_of(**file);
    REQUIRE(inode);

    CHECK(err(inode->shared_store({})) == Errno::nodata);  // none yet, and none made without a factory
    auto store = std::make_shared<FakeStore>();
    int made = 0;
    const fs::SharedStoreFactory factory = [&]() -> Result<std::shared_ptr<fs::SharedStore>> {
        ++made;
        return std::shared_ptr<fs::SharedStore>(store);
    };
    auto shared = inode->shared_store(factory);
    REQUIRE(shared);
    CHECK(shared->get() == store.get());
    REQUIRE(store->bytes.size() == 3 * 4096 + 11);
    CHECK(std::memcmp(store->bytes.data(), "hello", 5) == 0);
    CHECK(store->bytes[4096] == std::byte{0});
    CHECK(store->bytes[3 * 4096 + 10] == std::byte{'x'});
    CHECK(store->seals == 0);                          // a file made by name carries no seals to the host
    CHECK(tmpfs->bytes_used() == 4 * 4096);            // charged by size: a mapping may touch every page
    CHECK((*file)->stat()->blocks == 4 * 4096 / 512);
    CHECK(inode->shared_store(factory)->get() == store.get());
    CHECK(made == 1);

    // The box's writes land in the store; the store's bytes (a guest's mapping) are what reads see.
    REQUIRE((*file)->pwrite(bytes("EL"), 1));
    CHECK(std::memcmp(store->bytes.data(), "hELlo", 5) == 0);
    std::memcpy(store->bytes.data() + 4096, "mapped", 6);
    std::array<std::byte, 6> out{};
    CHECK(*(*file)->pread(out, 4096) == 6);
    CHECK(std::memcmp(out.data(), "mapped", 6) == 0);
    CHECK(*(*file)->seek(0, fd::Whence::hole) == 3 * 4096 + 11);
    CHECK(*(*file)->seek(5, fd::Whence::data) == 5);

    // Growth is charged against the quota; a failed store write leaves size and charge alone.
    CHECK(err((*file)->truncate(9 * 4096)) == Errno::nospc);
    CHECK((*file)->stat()->size == 3 * 4096 + 11);
    REQUIRE((*file)->truncate(8 * 4096));
    CHECK(store->bytes.size() == 8 * 4096);
    CHECK(tmpfs->bytes_used() == 8 * 4096);
    CHECK(err((*file)->pwrite(bytes("y"), 8 * 4096)) == Errno::nospc);
    REQUIRE((*file)->truncate(4096 + 1));
    CHECK(tmpfs->bytes_used() == 2 * 4096);
    store->fail_writes = true;
    CHECK(err((*file)->pwrite(bytes("zz"), 3 * 4096)) == Errno::io);
    CHECK((*file)->stat()->size == 4096 + 1);
    CHECK(store->bytes.size() == 4096 + 1);
    CHECK(tmpfs->bytes_used() == 2 * 4096);
    store->fail_writes = false;

    // The charge goes when the file does.
    file->reset();
    shared->reset();
    inode.reset();
    REQUIRE(vfs.unlink(root, vfs.root(), "/f"));
    CHECK(tmpfs->bytes_used() == 0);
}

TEST_CASE("tmpfs: a memfd's seals reach its SharedStore; the quota bounds the move", "[fs][tmpfs][shared]") {
    TestPlatform platform;
    fs::TmpfsLimits limits;
    limits.max_bytes = 4 * 4096;
    auto tmpfs = fs::Tmpfs<TestPlatform>::create(platform, limits);
    auto made = tmpfs->create_anonymous(fs::NewNode{fd::mode::regular | 0600, 0, 0, 0}, 0);
    REQUIRE(made);
    const auto inode = *made;
    REQUIRE(inode->truncate(4096));
    REQUIRE(inode->add_seals(fs::seal::grow));
    auto store = std::make_shared<FakeStore>();
    const fs::SharedStoreFactory factory = [&]() -> Result<std::shared_ptr<fs::SharedStore>> { return std::shared_ptr<fs::SharedStore>(store); };
    REQUIRE(inode->shared_store(factory));
    CHECK(store->seals == fs::seal::grow);
    store->busy = true;  // a writable mapping: Linux refuses F_SEAL_WRITE with EBUSY
    CHECK(err(inode->add_seals(fs::seal::write)) == Errno::busy);
    CHECK(*inode->seals() == fs::seal::grow);
    store->busy = false;
    REQUIRE(inode->add_seals(fs::seal::write | fs::seal::seal));
    CHECK(store->seals == (fs::seal::grow | fs::seal::write | fs::seal::seal));
    CHECK(err(inode->write(bytes("no"), 0)) == Errno::perm);

    // A sparse file larger than the quota cannot move: its store would be charged its whole size.
    auto sparse = tmpfs->create_anonymous(fs::NewNode{fd::mode::regular | 0600, 0, 0, 0});
    REQUIRE(sparse);
    REQUIRE((*sparse)->truncate(64 * 4096));
    int calls = 0;
    const fs::SharedStoreFactory counting = [&]() -> Result<std::shared_ptr<fs::SharedStore>> {
        ++calls;
        return std::shared_ptr<fs::SharedStore>(std::make_shared<FakeStore>());
    };
    CHECK(err((*sparse)->shared_store(counting)) == Errno::nospc);
    CHECK(calls == 0);
    // Nor do other kinds of inode have one.
    CHECK(err(tmpfs->root()->shared_store(counting)) == Errno::opnotsupp);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
