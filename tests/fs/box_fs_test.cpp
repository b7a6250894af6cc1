// The box's file system: default layout, devfs devices per platform capability, the north API an
// embedder calls without a shim.
#include <litebox/litebox.hpp>

#include "fs_fixture.hpp"
#include "support/platforms.hpp"
#include "support/test_platform.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox;
using litebox::test::err;
namespace of = litebox::fd::open_flags;

namespace {
std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }
}  // namespace

TEMPLATE_LIST_TEST_CASE("box: default root with /tmp and /dev, and the north API", "[fs][box]", litebox::test::AllPlatforms) {
    TestType platform;
    LiteBox<TestType> box(platform);
    const auto creds = fs::Credentials::root();
    auto& vfs = box.fs();
    CHECK((vfs.stat(creds, vfs.root(), "/tmp")->mode & 07777) == 01777);
    CHECK(fs::is_directory(vfs.stat(creds, vfs.root(), "/dev")->mode));
    auto file = vfs.open(creds, vfs.root(), "/tmp/x", of::create | of::read_write, 0644);
    REQUIRE(file);
    const int fd = *box.descriptors().insert(*file, false);
    auto again = box.descriptors().get(fd);
    REQUIRE(again);
    CHECK(*(*again)->write(bytes("north")) == 5);
    CHECK(vfs.stat(creds, vfs.root(), "/tmp/x")->size == 5);
    // /dev/null, /dev/zero, /dev/full.
    auto null = vfs.open(creds, vfs.root(), "/dev/null", of::read_write);
    REQUIRE(null);
    std::array<std::byte, 8> buf{};
    buf.fill(std::byte{7});
    CHECK(*(*null)->read(buf) == 0);
    CHECK(*(*null)->write(bytes("gone")) == 4);
    CHECK((*null)->stat()->represented_device == fs::devices::null);
    CHECK(fs::is_char_device((*null)->stat()->mode));
    auto zero = vfs.open(creds, vfs.root(), "/dev/zero", of::read_only);
    CHECK(*(*zero)->read(buf) == 8);
    CHECK(buf[3] == std::byte{0});
    auto full = vfs.open(creds, vfs.root(), "/dev/full", of::write_only);
    CHECK(err((*full)->write(bytes("x"))) == Errno::nospc);
    // An unprivileged user may use /dev/null too, and /dev/shm is a sticky tmp directory.
    auto user = fs::Credentials::user(1000, 1000);
    CHECK(vfs.open(user, vfs.root(), "/dev/null", of::write_only));
    CHECK((vfs.stat(user, vfs.root(), "/dev/shm")->mode & 07777) == 01777);
    // Random devices exist exactly when the platform has a CSPRNG; stdio devices with stdio.
    CHECK(vfs.stat(creds, vfs.root(), "/dev/urandom").has_value() == platform::CrngProvider<TestType>);
    CHECK(vfs.stat(creds, vfs.root(), "/dev/random").has_value() == platform::CrngProvider<TestType>);
    CHECK(vfs.stat(creds, vfs.root(), "/dev/tty").has_value() == platform::StdioProvider<TestType>);
    CHECK(vfs.stat(creds, vfs.root(), "/dev/stdout").has_value() == platform::StdioProvider<TestType>);
    if constexpr (platform::CrngProvider<TestType>) {
        auto random = vfs.open(creds, vfs.root(), "/dev/urandom", of::read_only);
        REQUIRE(random);
        std::array<std::byte, 32> a{}, b{};
        CHECK(*(*random)->read(a) == 32);
        CHECK(*(*random)->read(b) == 32);
        CHECK(a != b);
    }
    if constexpr (platform::StdioProvider<TestType>) {
        auto out = vfs.open(creds, vfs.root(), "/dev/stderr", of::write_only);
        REQUIRE(out);
        CHECK(*(*out)->write(bytes("")) == 0);
    }
}

TEST_CASE("box: a custom root file system", "[fs][box]") {
    litebox::test::TestPlatform platform;
    auto root = fs::Tmpfs<litebox::test::TestPlatform>::create(platform, fs::TmpfsLimits{}, 0755);
    REQUIRE(root->root()->mkdir("dev", fs::NewNode{fd::mode::directory | 0755, 0, 0, 0}));
    LiteBox<litebox::test::TestPlatform> box(platform, root);
    const auto creds = fs::Credentials::root();
    CHECK(box.fs().stat(creds, box.fs().root(), "/dev/null"));
    CHECK(err(box.fs().stat(creds, box.fs().root(), "/tmp")) == Errno::noent);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
