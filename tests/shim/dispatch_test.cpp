// The X-macro list, the dispatcher's edge behaviour, the tracer and docs/syscalls.md.
#include <sys/syscall.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;

TEST_CASE("the syscall list matches the host's syscall numbers", "[shim][dispatch]") {
#define CHECK_HOST_NUMBER(number, name, handler, support, format, note) CHECK(number == SYS_##name);
    LITEBOX_LINUX_SYSCALLS(CHECK_HOST_NUMBER)
#undef CHECK_HOST_NUMBER
    std::set<std::uint32_t> numbers;
    std::uint32_t previous = 0;
    for (const auto& [number, info] : lx::syscall_rows) {
        CHECK(numbers.insert(number).second);
        CHECK((number == 0 || number > previous));
        previous = number;
        CHECK(number < lx::syscall_table_size);
        CHECK(info.format.size() <= 6);
        if (info.support == lx::Support::partial) CHECK(!info.note.empty());
    }
    CHECK(lx::syscall_info(lx::nr::openat).name == "openat");
    CHECK(!lx::syscall_info(335).known());
}

TEST_CASE("unknown and unimplemented syscalls are ENOSYS and traced once", "[shim][dispatch]") {
    ShimFixture<> f;
    CHECK(f.call(335) == err(Errno::nosys));
    CHECK(f.call(335) == err(Errno::nosys));
    CHECK(f.call(~std::uint64_t{0}) == err(Errno::nosys));
    CHECK(f.call(std::uint64_t{1} << 40) == err(Errno::nosys));
    CHECK(f.call(lx::nr::io_setup, 1, 2) == err(Errno::nosys));
    CHECK(f.call(lx::nr::io_setup, 3, 4) == err(Errno::nosys));
    const auto lines = f.platform.log_lines();
    CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.find("unsupported io_setup") != std::string::npos; }) == 1);
    CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.find("syscall 335") != std::string::npos; }) == 1);
    CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.find("syscall 512") != std::string::npos; }) == 1);
}

TEST_CASE("an unsupported flag is EINVAL and traced once per reason", "[shim][dispatch]") {
    ShimFixture<> f;
    CHECK(f.call(lx::nr::clone, lx::abi::clone_newuser, 0, 0, 0, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::clone, lx::abi::clone_newuser, 0, 0, 0, 0) == err(Errno::inval));
    const auto lines = f.platform.log_lines();
    CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.find("unsupported clone: namespace flags") != std::string::npos; }) == 1);
}

TEST_CASE("trace lines are strace-style", "[shim][dispatch]") {
    lx::ShimConfig config;
    config.trace = true;
    ShimFixture<> f(config);
    const auto path = f.mem.put_string("/bin/true");
    f.call(lx::nr::getpid);
    f.call(lx::nr::close, 99);
    f.call(lx::nr::execve, path, 0, 0);
    (void)f.init->take_request();
    f.call(lx::nr::kill, 1, 0);
    f.call(lx::nr::clock_gettime, 1, f.mem.hole());
    const auto lines = f.platform.log_lines();
    REQUIRE(lines.size() >= 5);
    CHECK(lines[0] == "[pid 1] getpid() = 1");
    CHECK(lines[1] == "[pid 1] close(99) = -1 EBADF (Bad file descriptor)");
    CHECK(lines[2] == "[pid 1] execve(\"/bin/true\", NULL, NULL) = 0");
    CHECK(lines[3] == "[pid 1] kill(1, 0) = 0");
    CHECK(lines[4].find("clock_gettime(CLOCK_MONOTONIC, 0x") != std::string::npos);
    CHECK(lines[4].find(") = -1 EFAULT (Bad address)") != std::string::npos);

    f.shim.tracer().set_enabled(false);
    f.call(lx::nr::getpid);
    CHECK(f.platform.log_lines().size() == lines.size());
}

TEST_CASE("trace formatting of flags, modes, strings and signals", "[shim][dispatch]") {
    ShimFixture<> f;
    const auto path = f.mem.put_string("/etc/passwd");
    using lx::SyscallRequest;
    const auto line = [&](SyscallRequest r, litebox::Result<std::int64_t> result) { return lx::format_trace_line<GuestMemoryPlatform>(r, result); };
    CHECK(line({lx::nr::openat, {static_cast<std::uint64_t>(-100), path, 02000000, 0}}, 3) ==
          "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = 3");
    CHECK(line({lx::nr::openat, {5, path, 0101 | 01000, 0644}}, Errno::acces) ==
          "openat(5, \"/etc/passwd\", O_WRONLY|O_CREAT|O_TRUNC, 0644) = -1 EACCES (Permission denied)");
    CHECK(line({lx::nr::kill, {2, 15}}, 0) == "kill(2, SIGTERM) = 0");
    const std::string long_text(100, 'a');
    const auto long_path = f.mem.put_string(long_text);
    CHECK(line({lx::nr::chdir, {long_path}}, 0) == "chdir(\"" + std::string(64, 'a') + "\"...) = 0");
    const auto odd = f.mem.put_string("a\"b\n\x01");
    CHECK(line({lx::nr::unlink, {odd}}, 0) == "unlink(\"a\\\"b\\n\\x01\") = 0");
    CHECK(line({lx::nr::unlink, {f.mem.hole()}}, Errno::fault).rfind("unlink(0x", 0) == 0);
    CHECK(line({9999, {1, 2, 3}}, Errno::nosys) == "syscall_9999(0x1, 0x2, 0x3, ...) = -1 ENOSYS (Function not implemented)");
}

namespace {
std::string expected_docs() {
    std::size_t counts[4] = {};
    for (const auto& [number, info] : lx::syscall_rows) ++counts[static_cast<int>(info.support)];
    std::ostringstream out;
    out << "# Linux syscall coverage (x86-64)\n\n"
        << "Generated from the X-macro list in `include/litebox/shim/linux/syscalls.hpp`; "
        << "`tests/shim/dispatch_test.cpp` checks that this file matches it\n"
        << "(regenerate with `LITEBOX_UPDATE_DOCS=1 litebox_tests \"[docs]\"`).\n\n"
        << "- **supported**: implemented as Linux behaves, errnos included.\n"
        << "- **partial**: implemented; the note says what is missing.\n"
        << "- **runtime**: address-space or CPU state that the runtime handles; the shim answers ENOSYS.\n"
        << "- **ENOSYS**: not implemented (traced once, then ENOSYS).\n\n"
        << "Totals: " << counts[1] << " supported, " << counts[2] << " partial, " << counts[3] << " runtime, " << counts[0]
        << " ENOSYS.\n\n"
        << "| nr | syscall | status | notes |\n|---:|---|---|---|\n";
    constexpr const char* names[] = {"ENOSYS", "supported", "partial", "runtime"};
    for (const auto& [number, info] : lx::syscall_rows)
        out << "| " << number << " | " << info.name << " | " << names[static_cast<int>(info.support)] << " | " << info.note << " |\n";
    return out.str();
}
}  // namespace

TEST_CASE("docs/syscalls.md matches the syscall list", "[shim][docs]") {
    const auto path = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "docs" / "syscalls.md";
    const std::string expected = expected_docs();
    if (const char* update = std::getenv("LITEBOX_UPDATE_DOCS"); update && std::string(update) == "1") {
        std::ofstream(path) << expected;
    }
    std::ifstream in(path);
    REQUIRE(in.good());
    std::stringstream actual;
    actual << in.rdbuf();
    CHECK(actual.str() == expected);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
