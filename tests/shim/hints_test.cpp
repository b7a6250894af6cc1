// capget/capset, personality, ioprio_get/ioprio_set, the mlock family, readahead,
// sync_file_range, preadv2/pwritev2 flags.
#include <cstring>
#include <string>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;

namespace {
constexpr std::uint32_t cap_v1 = 0x19980330, cap_v3 = 0x20080522;
struct CapHeader {
    std::uint32_t version;
    std::int32_t pid;
};
struct CapData {
    std::uint32_t effective, permitted, inheritable;
};
lx::ShimConfig root_config() {
    lx::ShimConfig config;
    config.initial_uid = config.initial_gid = 0;
    return config;
}
}  // namespace

TEST_CASE("capget reports the uid model: root has every capability, others none", "[shim][capability]") {
    ShimFixture<> f(root_config());
    const auto header = f.mem.allocate(sizeof(CapHeader)), data = f.mem.allocate(2 * sizeof(CapData));
    f.mem.put(header, CapHeader{cap_v3, 0});
    REQUIRE(f.call(lx::nr::capget, header, data) == 0);
    auto low = f.mem.get<CapData>(data);
    auto high = f.mem.get<CapData>(data + sizeof(CapData));
    CHECK(low.effective == 0xffffffffu);
    CHECK(low.permitted == 0xffffffffu);
    CHECK(high.effective == 0x1ffu);  // up to CAP_CHECKPOINT_RESTORE (40)
    CHECK(low.inheritable == 0);
    // An unknown version: the preferred one is written back; EINVAL, or 0 with NULL data.
    f.mem.put(header, CapHeader{0x1234, 0});
    CHECK(f.call(lx::nr::capget, header, data) == err(Errno::inval));
    CHECK(f.mem.get<CapHeader>(header).version == cap_v3);
    f.mem.put(header, CapHeader{0x1234, 0});
    CHECK(f.call(lx::nr::capget, header, 0) == 0);
    CHECK(f.mem.get<CapHeader>(header).version == cap_v3);
    f.mem.put(header, CapHeader{cap_v3, -1});
    CHECK(f.call(lx::nr::capget, header, data) == err(Errno::inval));
    f.mem.put(header, CapHeader{cap_v3, 4242});
    CHECK(f.call(lx::nr::capget, header, data) == err(Errno::srch));
    CHECK(f.call(lx::nr::capget, f.mem.hole(), data) == err(Errno::fault));
    // capset: the current sets are a no-op; lowering is refused (not modelled); raising EPERM.
    f.mem.put(header, CapHeader{cap_v3, 0});
    REQUIRE(f.call(lx::nr::capget, header, data) == 0);
    CHECK(f.call(lx::nr::capset, header, data) == 0);
    f.mem.put(data, CapData{0, 0xffffffffu, 0});
    CHECK(f.call(lx::nr::capset, header, data) == err(Errno::perm));
    // A root process that switched its euid away: nothing effective, all permitted.
    auto child = f.fork(*f.init);
    REQUIRE(f.call_on(*child, lx::nr::setresuid, -1, 1000, -1) == 0);
    f.mem.put(header, CapHeader{cap_v1, 0});
    REQUIRE(f.call_on(*child, lx::nr::capget, header, data) == 0);
    low = f.mem.get<CapData>(data);
    CHECK(low.effective == 0);
    CHECK(low.permitted == 0xffffffffu);
    // Another uid: nothing at all, and raising is EPERM.
    ShimFixture<> user;
    const auto h2 = user.mem.allocate(sizeof(CapHeader)), d2 = user.mem.allocate(2 * sizeof(CapData));
    user.mem.put(h2, CapHeader{cap_v3, 0});
    REQUIRE(user.call(lx::nr::capget, h2, d2) == 0);
    CHECK(user.mem.get<CapData>(d2).permitted == 0);
    user.mem.put(d2, CapData{1, 1, 0});
    CHECK(user.call(lx::nr::capset, h2, d2) == err(Errno::perm));
    user.mem.put(d2, CapData{0, 0, 0});
    user.mem.put(d2 + sizeof(CapData), CapData{0, 0, 0});
    CHECK(user.call(lx::nr::capset, h2, d2) == 0);
}

TEST_CASE("personality answers the query and PER_LINUX only", "[shim][capability]") {
    ShimFixture<> f;
    CHECK(f.call(lx::nr::personality, 0xffffffffu) == 0);
    CHECK(f.call(lx::nr::personality, 0) == 0);
    CHECK(f.call(lx::nr::personality, 0x1ffffffffull) == 0);  // an unsigned int: high bits ignored
    CHECK(f.call(lx::nr::personality, 0x0040000 /*ADDR_NO_RANDOMIZE*/) == err(Errno::perm));
}

TEST_CASE("ioprio_set and ioprio_get store a validated value per process", "[shim][priority]") {
    ShimFixture<> f;
    CHECK(f.call(lx::nr::ioprio_get, 1, 0) == 0);  // never set: class NONE
    const std::uint32_t be7 = (2u << 13) | 7, idle = 3u << 13;
    CHECK(f.call(lx::nr::ioprio_set, 1, 0, be7) == 0);
    CHECK(f.call(lx::nr::ioprio_get, 1, 0) == be7);
    auto child = f.fork(*f.init);
    CHECK(f.call_on(*child, lx::nr::ioprio_get, 1, 0) == be7);  // inherited
    CHECK(f.call_on(*child, lx::nr::ioprio_set, 1, 0, idle) == 0);
    CHECK(f.call(lx::nr::ioprio_get, 1, child->pid()) == idle);
    CHECK(f.call(lx::nr::ioprio_get, 1, 0) == be7);
    CHECK(f.call(lx::nr::ioprio_get, 2, 0) == be7);  // the group: the best of both
    CHECK(f.call(lx::nr::ioprio_set, 1, 0, 1u << 13) == err(Errno::perm));      // RT: privilege
    CHECK(f.call(lx::nr::ioprio_set, 1, 0, 3) == err(Errno::inval));            // NONE with a level
    CHECK(f.call(lx::nr::ioprio_set, 1, 0, 4u << 13) == err(Errno::inval));     // unknown class
    CHECK(f.call(lx::nr::ioprio_set, 9, 0, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::ioprio_get, 9, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::ioprio_get, 1, 99999) == err(Errno::srch));
    CHECK(f.call(lx::nr::ioprio_set, 1, 0, 0x10000u | be7) == 0);  // kept as 16 bits
    CHECK(f.call(lx::nr::ioprio_get, 1, 0) == be7);
    ShimFixture<> root(root_config());
    CHECK(root.call(lx::nr::ioprio_set, 1, 0, (1u << 13) | 2) == 0);
}

TEST_CASE("the mlock family checks flags, ranges and RLIMIT_MEMLOCK without locking", "[shim][memlock]") {
    ShimFixture<> f;  // uid 1000, RLIMIT_MEMLOCK 8 MiB
    CHECK(f.call(lx::nr::mlock, 0x10000, 4096) == 0);
    CHECK(f.call(lx::nr::mlock, 0x10000, 0) == 0);
    CHECK(f.call(lx::nr::mlock, 0x10000, 16u << 20) == err(Errno::nomem));  // over the limit
    CHECK(f.call(lx::nr::munlock, 0x10000, 16u << 20) == 0);
    CHECK(f.call(lx::nr::munlock, 0x7fff00000000ull, -4096ll) == err(Errno::inval));  // wraps
    CHECK(f.call(lx::nr::mlock2, 0x10000, 4096, 1 /*MLOCK_ONFAULT*/) == 0);
    CHECK(f.call(lx::nr::mlock2, 0x10000, 4096, 2) == err(Errno::inval));
    CHECK(f.call(lx::nr::mlockall, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::mlockall, 4) == err(Errno::inval));  // MCL_ONFAULT alone
    CHECK(f.call(lx::nr::mlockall, 8 | 1) == err(Errno::inval));
    CHECK(f.call(lx::nr::mlockall, 2) == 0);
    CHECK(f.call(lx::nr::munlockall) == 0);
    const auto lim = f.mem.allocate(16);
    f.mem.put(lim, lx::abi::rlimit{0, 0});
    REQUIRE(f.call(lx::nr::setrlimit, lx::abi::rlimit_memlock, lim) == 0);
    CHECK(f.call(lx::nr::mlock, 0x10000, 4096) == err(Errno::perm));
    CHECK(f.call(lx::nr::mlockall, 1) == err(Errno::perm));
    CHECK(f.call(lx::nr::munlock, 0x10000, 4096) == 0);
    // Box root has CAP_IPC_LOCK: no limit. With the runtime's maps, unmapped pages are ENOMEM.
    ShimFixture<> root(root_config());
    CHECK(root.call(lx::nr::mlock, 0x10000, 1ull << 40) == 0);
    CHECK(root.call(lx::nr::mlock, 0x7fff00000000ull, -4096ll) == err(Errno::inval));
    root.shim.set_maps_source([](int) -> litebox::Result<std::string> {
        return std::string("00400000-00402000 r-xp 00000000 00:00 0 /bin/x\n00402000-00403000 rw-p 00000000 00:00 0\n");
    });
    CHECK(root.call(lx::nr::mlock, 0x400010, 0x2ff0) == 0);
    CHECK(root.call(lx::nr::mlock, 0x400000, 0x4000) == err(Errno::nomem));
    CHECK(root.call(lx::nr::munlock, 0x10000, 4096) == err(Errno::nomem));
}

TEST_CASE("readahead and sync_file_range check like Linux and otherwise succeed", "[shim][system]") {
    ShimFixture<> f;
    const auto fd = f.call(lx::nr::openat, -100, f.mem.put_string("/data"), 0102 /*O_CREAT|O_RDWR*/, 0644);
    REQUIRE(fd >= 0);
    const auto write_only = f.call(lx::nr::openat, -100, f.mem.put_string("/data"), 01 /*O_WRONLY*/);
    REQUIRE(write_only >= 0);
    const auto fds = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::pipe2, fds, 0) == 0);
    const auto pipe_read = f.mem.get<std::int32_t>(fds);
    CHECK(f.call(lx::nr::readahead, fd, 0, 100) == 0);
    CHECK(f.call(lx::nr::readahead, fd, -1, 100) == 0);
    CHECK(f.call(lx::nr::readahead, fd, 0, -1) == err(Errno::inval));
    CHECK(f.call(lx::nr::readahead, write_only, 0, 100) == err(Errno::badf));
    CHECK(f.call(lx::nr::readahead, pipe_read, 0, 100) == err(Errno::inval));
    CHECK(f.call(lx::nr::readahead, 999, 0, 100) == err(Errno::badf));

    CHECK(f.call(lx::nr::sync_file_range, fd, 0, 100, 7) == 0);
    CHECK(f.call(lx::nr::sync_file_range, fd, 0, 100, 8) == err(Errno::inval));
    CHECK(f.call(lx::nr::sync_file_range, 999, 0, 100, 8) == err(Errno::badf));
    CHECK(f.call(lx::nr::sync_file_range, fd, -1, 100, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::sync_file_range, fd, 0, -1, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::sync_file_range, fd, 0x7fffffffffffffffll, 100, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::sync_file_range, pipe_read, 0, 1, 2) == err(Errno::spipe));
    CHECK(f.call(lx::nr::sync_file_range, pipe_read, 0, 1, 8) == err(Errno::inval));
}

TEST_CASE("preadv2 and pwritev2: offset -1, RWF_APPEND, RWF_NOWAIT, unknown flags", "[shim][io]") {
    ShimFixture<> f;
    const auto fd = f.call(lx::nr::openat, -100, f.mem.put_string("/v2"), 0102 /*O_CREAT|O_RDWR*/, 0644);
    REQUIRE(fd >= 0);
    const auto text = f.mem.put_string("abcdef");
    const auto iov = f.mem.allocate(16);
    f.mem.put(iov, lx::abi::iovec{text, 3});
    CHECK(f.call(lx::nr::pwritev2, fd, iov, 1, -1, 0, 0) == 3);                  // at the offset: "abc"
    CHECK(f.call(lx::nr::lseek, fd, 0, 1 /*SEEK_CUR*/) == 3);
    CHECK(f.call(lx::nr::pwritev2, fd, iov, 1, 0, 0, 0x10 /*RWF_APPEND*/) == 3);  // at the end, offset kept
    CHECK(f.call(lx::nr::lseek, fd, 0, 1) == 3);
    CHECK(f.call(lx::nr::pwritev2, fd, iov, 1, -1, 0, 0x10 | 0x4 /*APPEND|SYNC*/) == 3);
    CHECK(f.call(lx::nr::lseek, fd, 0, 1) == 9);
    CHECK(f.call(lx::nr::pwritev2, fd, iov, 1, 0, 0, 0x1 | 0x2 /*HIPRI|DSYNC*/) == 3);
    const auto buffer = f.mem.allocate(16);
    f.mem.put(iov, lx::abi::iovec{buffer, 16});
    CHECK(f.call(lx::nr::preadv2, fd, iov, 1, 0, 0, 0x8 /*RWF_NOWAIT*/) == 9);
    char got[10] = {};
    std::memcpy(got, f.mem.bytes(buffer, 9).data(), 9);
    CHECK(std::string(got) == "abcabcabc");
    CHECK(f.call(lx::nr::preadv2, fd, iov, 1, -2, 0, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::preadv2, fd, iov, 1, 0, 0, 0x100) == err(Errno::opnotsupp));
    CHECK(f.call(lx::nr::pwritev2, fd, iov, 1, 0, 0, 0x20 /*RWF_NOAPPEND*/) == err(Errno::opnotsupp));
    CHECK(f.call(lx::nr::preadv2, 999, iov, 1, 0, 0, 0) == err(Errno::badf));
    // A pipe: no offset (ESPIPE); RWF_NOWAIT on an empty pipe is EAGAIN instead of a wait.
    const auto fds = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::pipe2, fds, 0) == 0);
    const auto pipe_read = f.mem.get<std::int32_t>(fds);
    CHECK(f.call(lx::nr::preadv2, pipe_read, iov, 1, 0, 0, 0) == err(Errno::spipe));
    CHECK(f.call(lx::nr::preadv2, pipe_read, iov, 1, -1, 0, 0x8) == err(Errno::again));
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
