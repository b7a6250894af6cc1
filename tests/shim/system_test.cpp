// uname, sethostname, sysinfo, getrandom, umask, resource limits and usage.
#include <tuple>
#include <vector>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;

TEST_CASE("uname reports an honest, configurable identity", "[shim][system]") {
    lx::ShimConfig config;
    config.hostname = "sandbox-7";
    config.release = "6.6.0-box";
    config.initial_uid = 0;
    ShimFixture<> f(config);
    const auto uts = f.mem.allocate(sizeof(lx::abi::utsname));
    CHECK(f.call(lx::nr::uname, uts) == 0);
    auto u = f.mem.get<lx::abi::utsname>(uts);
    CHECK(std::string(u.sysname) == "Linux");
    CHECK(std::string(u.nodename) == "sandbox-7");
    CHECK(std::string(u.release) == "6.6.0-box");
    CHECK(std::string(u.machine) == "x86_64");
    CHECK(f.call(lx::nr::uname, f.mem.hole()) == err(Errno::fault));

    const auto name = f.mem.put_string("renamed-host");
    CHECK(f.call(lx::nr::sethostname, name, 7) == 0);
    CHECK(f.call(lx::nr::uname, uts) == 0);
    CHECK(std::string(f.mem.get<lx::abi::utsname>(uts).nodename) == "renamed");
    CHECK(f.call(lx::nr::sethostname, name, 65) == err(Errno::inval));
    CHECK(f.call(lx::nr::sethostname, name, -1) == err(Errno::inval));
    CHECK(f.call(lx::nr::sethostname, f.mem.hole(), 4) == err(Errno::fault));
}

TEST_CASE("sysinfo reports the box's uptime, memory and tasks", "[shim][system]") {
    lx::ShimConfig config;
    config.total_memory_bytes = 256u << 20;
    ShimFixture<> f(config);
    auto child = f.fork(*f.init);
    TestPlatform::advance(std::chrono::seconds(3));
    const auto info = f.mem.allocate(sizeof(lx::abi::sysinfo));
    CHECK(f.call(lx::nr::sysinfo, info) == 0);
    const auto s = f.mem.get<lx::abi::sysinfo>(info);
    CHECK(s.uptime == 3);
    CHECK(s.totalram == 256u << 20);
    CHECK(s.procs == 2);
    CHECK(s.mem_unit == 1);
    CHECK(f.call(lx::nr::sysinfo, f.mem.hole()) == err(Errno::fault));
}

TEST_CASE("getrandom fills guest memory from the platform's CSPRNG", "[shim][system]") {
    ShimFixture<> f;
    const auto buffer = f.mem.allocate(100);
    CHECK(f.call(lx::nr::getrandom, buffer, 100, 0) == 100);
    const auto bytes = f.mem.bytes(buffer, 100);
    CHECK(std::count(bytes.begin(), bytes.end(), std::byte{0}) < 10);
    CHECK(f.call(lx::nr::getrandom, buffer, 0, lx::abi::grnd_nonblock) == 0);
    CHECK(f.call(lx::nr::getrandom, buffer, 10, 0x8) == err(Errno::inval));
    CHECK(f.call(lx::nr::getrandom, buffer, 10, lx::abi::grnd_random | lx::abi::grnd_insecure) == err(Errno::inval));
    CHECK(f.call(lx::nr::getrandom, f.mem.hole(), 10, 0) == err(Errno::fault));
    CHECK(f.call(lx::nr::getrandom, 0x7ffffffff000ull - 4, 100, 0) == err(Errno::fault));
    // A fault after the first chunk returns the bytes written so far.
    (void)f.mem.allocate(2 * lx::io_chunk_size, 4096);
    const auto edge = f.mem.hole() - lx::io_chunk_size;
    CHECK(f.call(lx::nr::getrandom, edge, lx::io_chunk_size + 100, 0) == static_cast<std::int64_t>(lx::io_chunk_size));
}

TEST_CASE("getrandom is ENOSYS without a CrngProvider", "[shim][system]") {
    ShimFixture<GuestMemoryPlatformWithoutCrng> f;
    CHECK(f.call(lx::nr::getrandom, f.mem.allocate(8), 8, 0) == err(Errno::nosys));
}

TEST_CASE("umask is shared with CLONE_FS and copied by fork", "[shim][system]") {
    ShimFixture<> f;
    CHECK(f.call(lx::nr::umask, 077) == 022);
    CHECK(f.call(lx::nr::umask, 01777) == 077);
    CHECK(f.call(lx::nr::umask, 022) == 0777);
    auto child = f.fork(*f.init);
    CHECK(f.call_on(*child, lx::nr::umask, 0) == 022);
    CHECK(f.call(lx::nr::umask, 022) == 022);  // the parent's is separate
}

TEST_CASE("getrlimit, setrlimit and prlimit64", "[shim][resource]") {
    ShimFixture<> f;
    const auto lim = f.mem.allocate(16), old = f.mem.allocate(16);
    CHECK(f.call(lx::nr::getrlimit, lx::abi::rlimit_nofile, lim) == 0);
    CHECK(f.mem.get<lx::abi::rlimit>(lim).rlim_cur == 1024);
    CHECK(f.mem.get<lx::abi::rlimit>(lim).rlim_max == 4096);
    CHECK(f.call(lx::nr::getrlimit, 16, lim) == err(Errno::inval));
    CHECK(f.call(lx::nr::getrlimit, lx::abi::rlimit_nofile, f.mem.hole()) == err(Errno::fault));

    f.mem.put(lim, lx::abi::rlimit{4, 8});
    CHECK(f.call(lx::nr::setrlimit, lx::abi::rlimit_nofile, lim) == 0);
    for (int i = 0; i < 4; ++i) (void)f.init->files().insert(std::make_shared<MemoryFile<GuestMemoryPlatform>>(), false);
    CHECK(f.init->files().insert(std::make_shared<MemoryFile<GuestMemoryPlatform>>(), false).error() == Errno::mfile);
    CHECK(f.call(lx::nr::dup, 0) == err(Errno::mfile));
    f.mem.put(lim, lx::abi::rlimit{4, 9});
    CHECK(f.call(lx::nr::setrlimit, lx::abi::rlimit_nofile, lim) == err(Errno::perm));  // raising the hard limit
    f.mem.put(lim, lx::abi::rlimit{9, 8});
    CHECK(f.call(lx::nr::setrlimit, lx::abi::rlimit_nofile, lim) == err(Errno::inval));
    CHECK(f.call(lx::nr::setrlimit, lx::abi::rlimit_nofile, f.mem.hole()) == err(Errno::fault));

    f.mem.put(lim, lx::abi::rlimit{0, 0});
    CHECK(f.call(lx::nr::prlimit64, 0, lx::abi::rlimit_core, lim, old) == 0);
    CHECK(f.mem.get<lx::abi::rlimit>(old).rlim_max == lx::abi::rlim_infinity);
    CHECK(f.call(lx::nr::prlimit64, 0, lx::abi::rlimit_core, 0, old) == 0);
    CHECK(f.mem.get<lx::abi::rlimit>(old).rlim_max == 0);
    f.mem.put(lim, lx::abi::rlimit{1u << 20, 1u << 20});
    CHECK(f.call(lx::nr::prlimit64, 0, lx::abi::rlimit_core, lim, old) == err(Errno::perm));
    auto child = f.fork(*f.init);
    CHECK(f.call(lx::nr::prlimit64, 2, lx::abi::rlimit_nofile, 0, old) == 0);
    CHECK(f.mem.get<lx::abi::rlimit>(old).rlim_cur == 4);  // inherited
    CHECK(f.call(lx::nr::prlimit64, 99, lx::abi::rlimit_nofile, 0, old) == err(Errno::srch));
    CHECK(f.call(lx::nr::prlimit64, 0, 77, 0, old) == err(Errno::inval));
}

TEST_CASE("prlimit64 on another user's process needs privilege", "[shim][resource]") {
    lx::ShimConfig config;
    config.initial_uid = 0;
    ShimFixture<> f(config);
    auto child = f.fork(*f.init);
    CHECK(f.call_on(*child, lx::nr::setuid, 1000) == 0);
    const auto old = f.mem.allocate(16);
    CHECK(f.call_on(*child, lx::nr::prlimit64, 1, lx::abi::rlimit_nofile, 0, old) == err(Errno::perm));
    CHECK(f.call(lx::nr::prlimit64, 2, lx::abi::rlimit_nofile, 0, old) == 0);
}

TEST_CASE("RLIMIT_AS stays under the box's ceiling; the runtime hears of every change", "[shim][resource]") {
    lx::ShimConfig config;
    config.initial_uid = 0;  // privileged in the box: may raise hard limits, but not past the ceiling
    config.max_address_space = 64u << 20;
    ShimFixture<> f(config);
    std::vector<std::tuple<int, std::uint32_t, lx::abi::rlimit>> seen;
    f.shim.set_limit_observer([&](int pid, std::uint32_t resource, const lx::abi::rlimit& limit) { seen.emplace_back(pid, resource, limit); });
    const auto lim = f.mem.allocate(16);
    CHECK(f.call(lx::nr::getrlimit, lx::abi::rlimit_as, lim) == 0);
    CHECK(f.mem.get<lx::abi::rlimit>(lim).rlim_cur == 64u << 20);
    CHECK(f.mem.get<lx::abi::rlimit>(lim).rlim_max == 64u << 20);
    f.mem.put(lim, lx::abi::rlimit{lx::abi::rlim_infinity, lx::abi::rlim_infinity});
    CHECK(f.call(lx::nr::setrlimit, lx::abi::rlimit_as, lim) == err(Errno::perm));
    CHECK(seen.empty());  // refused: nothing to apply
    f.mem.put(lim, lx::abi::rlimit{16u << 20, 32u << 20});
    CHECK(f.call(lx::nr::setrlimit, lx::abi::rlimit_as, lim) == 0);
    f.mem.put(lim, lx::abi::rlimit{32u << 20, 64u << 20});
    CHECK(f.call(lx::nr::setrlimit, lx::abi::rlimit_as, lim) == 0);  // root may raise it again, to the ceiling
    auto child = f.fork(*f.init);
    f.mem.put(lim, lx::abi::rlimit{1u << 20, lx::abi::rlim_infinity});
    CHECK(f.call(lx::nr::prlimit64, child->pid(), lx::abi::rlimit_cpu, lim, 0) == 0);
    CHECK(f.call(lx::nr::prlimit64, child->pid(), lx::abi::rlimit_cpu, 0, lim) == 0);  // a read changes nothing
    REQUIRE(seen.size() == 3);
    CHECK(std::get<0>(seen[0]) == 1);
    CHECK(std::get<1>(seen[0]) == static_cast<std::uint32_t>(lx::abi::rlimit_as));
    CHECK(std::get<2>(seen[0]).rlim_cur == 16u << 20);
    CHECK(std::get<2>(seen[0]).rlim_max == 32u << 20);
    CHECK(std::get<2>(seen[1]).rlim_max == 64u << 20);
    CHECK(std::get<0>(seen[2]) == child->pid());
    CHECK(std::get<1>(seen[2]) == static_cast<std::uint32_t>(lx::abi::rlimit_cpu));
    CHECK(std::get<2>(seen[2]).rlim_cur == 1u << 20);
}

TEST_CASE("getrusage and times report what the runtime accounted", "[shim][resource]") {
    ShimFixture<> f;
    f.init->account(std::chrono::milliseconds(1500), std::chrono::milliseconds(250));
    const auto usage = f.mem.allocate(sizeof(lx::abi::rusage));
    CHECK(f.call(lx::nr::getrusage, lx::abi::rusage_self, usage) == 0);
    auto u = f.mem.get<lx::abi::rusage>(usage);
    CHECK(u.ru_utime.tv_sec == 1);
    CHECK(u.ru_utime.tv_usec == 500000);
    CHECK(u.ru_stime.tv_usec == 250000);
    CHECK(f.call(lx::nr::getrusage, lx::abi::rusage_thread, usage) == 0);
    CHECK(f.call(lx::nr::getrusage, 5, usage) == err(Errno::inval));
    CHECK(f.call(lx::nr::getrusage, lx::abi::rusage_self, f.mem.hole()) == err(Errno::fault));

    auto child = f.fork(*f.init);
    child->account(std::chrono::seconds(2), std::chrono::seconds(0));
    f.call_on(*child, lx::nr::exit_group, 0);
    CHECK(f.call(lx::nr::wait4, 2, 0, 0, 0) == 2);
    CHECK(f.call(lx::nr::getrusage, lx::abi::rusage_children, usage) == 0);
    CHECK(f.mem.get<lx::abi::rusage>(usage).ru_utime.tv_sec == 2);

    const auto tms = f.mem.allocate(sizeof(lx::abi::tms));
    TestPlatform::advance(std::chrono::seconds(1));
    CHECK(f.call(lx::nr::times, tms) >= 100);
    const auto t = f.mem.get<lx::abi::tms>(tms);
    CHECK(t.tms_utime == 150);
    CHECK(t.tms_stime == 25);
    CHECK(t.tms_cutime == 200);
    CHECK(f.call(lx::nr::times, 0) >= 100);
    CHECK(f.call(lx::nr::times, f.mem.hole()) == err(Errno::fault));
}

TEST_CASE("prctl names the thread and answers the common queries", "[shim][system]") {
    ShimFixture<> f;
    const auto out = f.mem.allocate(16);
    // Before PR_SET_NAME the name is the program's (InitSpec exe "/bin/init").
    CHECK(f.call(lx::nr::prctl, 16, out) == 0);
    CHECK(std::string(reinterpret_cast<const char*>(f.mem.bytes(out, 16).data())) == "init");
    CHECK(f.call(lx::nr::prctl, 15, f.mem.put_string("worker")) == 0);
    CHECK(f.call(lx::nr::prctl, 16, out) == 0);
    CHECK(std::string(reinterpret_cast<const char*>(f.mem.bytes(out, 16).data())) == "worker");
    // Longer names are cut to 15 bytes, as TASK_COMM_LEN.
    CHECK(f.call(lx::nr::prctl, 15, f.mem.put_string("a-much-longer-thread-name")) == 0);
    CHECK(f.call(lx::nr::prctl, 16, out) == 0);
    CHECK(std::string(reinterpret_cast<const char*>(f.mem.bytes(out, 16).data())) == "a-much-longer-t");
    CHECK(f.call(lx::nr::prctl, 15, f.mem.hole()) == err(Errno::fault));
    CHECK(f.call(lx::nr::prctl, 16, f.mem.hole()) == err(Errno::fault));
    // Parent-death signal: recorded and reported; out of range is EINVAL.
    CHECK(f.call(lx::nr::prctl, 1, 9) == 0);
    CHECK(f.call(lx::nr::prctl, 2, out) == 0);
    CHECK(f.mem.get<std::int32_t>(out) == 9);
    CHECK(f.call(lx::nr::prctl, 1, 65) == err(Errno::inval));
    CHECK(f.call(lx::nr::prctl, 3) == 1);
    CHECK(f.call(lx::nr::prctl, 4, 2) == err(Errno::inval));
    CHECK(f.call(lx::nr::prctl, 38, 1, 0, 0, 0) == 0);
    CHECK(f.call(lx::nr::prctl, 38, 2, 0, 0, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::prctl, 39) == 1);
    CHECK(f.call(lx::nr::prctl, 0x59616d61 /*PR_SET_PTRACER*/, 0) == err(Errno::inval));
}

TEST_CASE("fadvise64 checks its arguments like Linux and otherwise succeeds", "[shim][system]") {
    ShimFixture<> f;
    const auto fd = f.call(lx::nr::openat, -100 /*AT_FDCWD*/, f.mem.put_string("/advised"), 0102 /*O_CREAT|O_RDWR*/, 0644);
    REQUIRE(fd >= 0);
    CHECK(f.call(lx::nr::fadvise64, fd, 0, 0, 2 /*POSIX_FADV_SEQUENTIAL*/) == 0);
    CHECK(f.call(lx::nr::fadvise64, fd, 0, 0, 6) == err(Errno::inval));
    CHECK(f.call(lx::nr::fadvise64, 999, 0, 0, 0) == err(Errno::badf));
    const auto fds = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::pipe2, fds, 0) == 0);
    CHECK(f.call(lx::nr::fadvise64, f.mem.get<std::int32_t>(fds), 0, 0, 0) == err(Errno::spipe));
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
