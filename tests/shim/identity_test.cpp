// Identity syscalls with Linux's permission rules.
#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;

namespace {
lx::ShimConfig root() {
    lx::ShimConfig config;
    config.initial_uid = 0;
    config.initial_gid = 0;
    return config;
}
std::array<std::uint32_t, 3> resuid(ShimFixture<>& f, bool group = false) {
    const auto a = f.mem.allocate(12);
    REQUIRE(f.call(group ? lx::nr::getresgid : lx::nr::getresuid, a, a + 4, a + 8) == 0);
    return {f.mem.get<std::uint32_t>(a), f.mem.get<std::uint32_t>(a + 4), f.mem.get<std::uint32_t>(a + 8)};
}
}  // namespace

TEST_CASE("get*id report the configured identity", "[shim][identity]") {
    ShimFixture<> f;
    CHECK(f.call(lx::nr::getuid) == 1000);
    CHECK(f.call(lx::nr::geteuid) == 1000);
    CHECK(f.call(lx::nr::getgid) == 1000);
    CHECK(f.call(lx::nr::getegid) == 1000);
    CHECK(resuid(f) == std::array<std::uint32_t, 3>{1000, 1000, 1000});
    CHECK(f.call(lx::nr::getresuid, f.mem.hole(), 0, 0) == err(Errno::fault));
    CHECK(f.call(lx::nr::getresgid, f.mem.allocate(4), f.mem.hole(), 0) == err(Errno::fault));
}

TEST_CASE("an unprivileged process may only move between its own ids", "[shim][identity]") {
    ShimFixture<> f;
    CHECK(f.call(lx::nr::setuid, 0) == err(Errno::perm));
    CHECK(f.call(lx::nr::setuid, 1000) == 0);
    CHECK(f.call(lx::nr::setuid, -1) == err(Errno::inval));
    CHECK(f.call(lx::nr::setgid, 0) == err(Errno::perm));
    CHECK(f.call(lx::nr::setreuid, 0, -1) == err(Errno::perm));
    CHECK(f.call(lx::nr::setreuid, -1, 0) == err(Errno::perm));
    CHECK(f.call(lx::nr::setresuid, 5, -1, -1) == err(Errno::perm));
    CHECK(f.call(lx::nr::setresgid, -1, -1, 5) == err(Errno::perm));
    CHECK(f.call(lx::nr::setgroups, 0, 0) == err(Errno::perm));
    CHECK(f.call(lx::nr::sethostname, f.mem.put_string("x"), 1) == err(Errno::perm));
}

TEST_CASE("root changes ids like Linux: setuid, setreuid, setresuid and back", "[shim][identity]") {
    ShimFixture<> f(root());
    CHECK(f.call(lx::nr::setresuid, 1000, 2000, 0) == 0);  // saved uid 0 keeps the way back
    CHECK(resuid(f) == std::array<std::uint32_t, 3>{1000, 2000, 0});
    CHECK(f.call(lx::nr::geteuid) == 2000);
    CHECK(f.call(lx::nr::setresuid, -1, 0, -1) == 0);       // back to root through the saved id
    CHECK(f.call(lx::nr::setreuid, 1000, 1001) == 0);       // ruid set: saved = new euid
    CHECK(resuid(f) == std::array<std::uint32_t, 3>{1000, 1001, 1001});
    CHECK(f.call(lx::nr::setreuid, -1, 1000) == 0);         // euid back to ruid: saved unchanged
    CHECK(resuid(f) == std::array<std::uint32_t, 3>{1000, 1000, 1001});
    CHECK(f.call(lx::nr::setuid, 1001) == 0);               // unprivileged: to the saved id
    CHECK(resuid(f) == std::array<std::uint32_t, 3>{1000, 1001, 1001});
    CHECK(f.call(lx::nr::setuid, 0) == err(Errno::perm));

    ShimFixture<> g(root());
    CHECK(g.call(lx::nr::setuid, 1234) == 0);               // privileged setuid sets all three
    CHECK(resuid(g) == std::array<std::uint32_t, 3>{1234, 1234, 1234});
    CHECK(g.call(lx::nr::setuid, 0) == err(Errno::perm));
}

TEST_CASE("gid changes and supplementary groups", "[shim][identity]") {
    ShimFixture<> f(root());
    CHECK(f.call(lx::nr::setgid, 50) == 0);
    CHECK(resuid(f, true) == std::array<std::uint32_t, 3>{50, 50, 50});
    CHECK(f.call(lx::nr::setregid, 60, 70) == 0);
    CHECK(resuid(f, true) == std::array<std::uint32_t, 3>{60, 70, 70});
    CHECK(f.call(lx::nr::setresgid, 1, 2, 3) == 0);
    CHECK(resuid(f, true) == std::array<std::uint32_t, 3>{1, 2, 3});

    const auto list = f.mem.allocate(16);
    f.mem.put<std::uint32_t>(list, 30);
    f.mem.put<std::uint32_t>(list + 4, 10);
    f.mem.put<std::uint32_t>(list + 8, 20);
    CHECK(f.call(lx::nr::setgroups, 3, list) == 0);
    CHECK(f.call(lx::nr::getgroups, 0, 0) == 3);
    const auto out = f.mem.allocate(16);
    CHECK(f.call(lx::nr::getgroups, 2, out) == err(Errno::inval));
    CHECK(f.call(lx::nr::getgroups, 4, out) == 3);
    CHECK(f.mem.get<std::uint32_t>(out) == 10);  // sorted, as Linux keeps them
    CHECK(f.mem.get<std::uint32_t>(out + 8) == 30);
    CHECK(f.call(lx::nr::getgroups, -1, out) == err(Errno::inval));
    CHECK(f.call(lx::nr::getgroups, 3, f.mem.hole()) == err(Errno::fault));
    CHECK(f.call(lx::nr::setgroups, 65537, list) == err(Errno::inval));
    CHECK(f.call(lx::nr::setgroups, 2, f.mem.hole()) == err(Errno::fault));
    CHECK(f.call(lx::nr::setgroups, 0, 0) == 0);
    CHECK(f.call(lx::nr::getgroups, 0, 0) == 0);
}

TEST_CASE("credentials are per process and inherited by fork", "[shim][identity]") {
    ShimFixture<> f(root());
    auto child = f.fork(*f.init);
    CHECK(f.call_on(*child, lx::nr::setuid, 77) == 0);
    CHECK(f.call_on(*child, lx::nr::getuid) == 77);
    CHECK(f.call(lx::nr::getuid) == 0);
    auto grandchild = f.fork(*child);
    CHECK(f.call_on(*grandchild, lx::nr::geteuid) == 77);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
