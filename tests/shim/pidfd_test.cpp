// pidfd_open, pidfd_send_signal and waitid(P_PIDFD) through raw syscalls.
#include <cstdint>
#include <thread>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;

std::uint64_t pending_of(lx::Process<GuestMemoryPlatform>& process) {
    return process.signals().with_lock([](auto& s) { return s.shared_pending; });
}

TEST_CASE("a pidfd is readable once its process exits and waitid(P_PIDFD) reaps it", "[shim][pidfd]") {
    ShimFixture<> f;
    auto child = f.fork(*f.init);
    const auto fd = f.call(lx::nr::pidfd_open, 2, 0);
    REQUIRE(fd >= 0);
    CHECK(f.call(lx::nr::fcntl, fd, 1 /*F_GETFD*/) == 1);  // always close-on-exec
    const lx::abi::pollfd p{static_cast<std::int32_t>(fd), 1, 0};
    const auto pollfd = f.mem.allocate(sizeof p);
    f.mem.put(pollfd, p);
    CHECK(f.call(lx::nr::poll, pollfd, 1, 0) == 0);
    const auto buffer = f.mem.allocate(8);
    CHECK(f.call(lx::nr::read, fd, buffer, 8) == err(Errno::inval));

    // A poll that waits is woken by the exit.
    std::int64_t polled = -1;
    std::thread waiter([&] { polled = f.call(lx::nr::poll, pollfd, 1, 5000); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    f.call_on(*child, lx::nr::exit_group, 7);
    waiter.join();
    CHECK(polled == 1);

    CHECK(f.call(lx::nr::pidfd_send_signal, fd, lx::abi::sigterm, 0, 0) == 0);  // a zombie takes a signal
    const auto info = f.mem.allocate(sizeof(lx::abi::siginfo));
    CHECK(f.call(lx::nr::waitid, lx::abi::p_pidfd, fd, info, lx::abi::wexited, 0) == 0);
    const auto got = f.mem.get<lx::abi::siginfo>(info);
    CHECK(got.pid == 2);
    CHECK(got.code == lx::abi::cld_exited);
    CHECK(got.status == 7);
    CHECK(f.call(lx::nr::waitid, lx::abi::p_pidfd, fd, info, lx::abi::wexited, 0) == err(Errno::child));
    CHECK(f.call(lx::nr::pidfd_send_signal, fd, lx::abi::sigterm, 0, 0) == err(Errno::srch));

    // A new process with the old pid is not the pidfd's.
    auto again = f.fork(*f.init);
    if (again->process().pid() == 2) CHECK(f.call(lx::nr::pidfd_send_signal, fd, lx::abi::sigterm, 0, 0) == err(Errno::srch));
    CHECK(pending_of(again->process()) == 0);
}

TEST_CASE("pidfd_send_signal signals the process; a nonblocking pidfd's waitid is EAGAIN", "[shim][pidfd]") {
    ShimFixture<> f;
    auto child = f.fork(*f.init);
    const auto fd = f.call(lx::nr::pidfd_open, 2, 04000 /*PIDFD_NONBLOCK*/);
    REQUIRE(fd >= 0);
    const auto info = f.mem.allocate(sizeof(lx::abi::siginfo));
    CHECK(f.call(lx::nr::waitid, lx::abi::p_pidfd, fd, info, lx::abi::wexited, 0) == err(Errno::again));
    CHECK(f.call(lx::nr::waitid, lx::abi::p_pidfd, fd, info, lx::abi::wexited | lx::abi::wnohang, 0) == 0);
    CHECK(f.call(lx::nr::pidfd_send_signal, fd, lx::abi::sigusr1, 0, 0) == 0);
    CHECK((pending_of(child->process()) & (1ULL << (lx::abi::sigusr1 - 1))) != 0);

    // Flags: PIDFD_SIGNAL_THREAD, _THREAD_GROUP, _PROCESS_GROUP alone; anything else EINVAL.
    CHECK(f.call(lx::nr::pidfd_send_signal, fd, 0, 0, 3) == err(Errno::inval));
    CHECK(f.call(lx::nr::pidfd_send_signal, fd, 0, 0, 8) == err(Errno::inval));
    for (const std::uint64_t flags : {1u, 2u, 4u}) CHECK(f.call(lx::nr::pidfd_send_signal, fd, 0, 0, flags) == 0);

    // A siginfo must name the signal sent, and may claim SI_USER (0) only for the caller itself.
    lx::abi::siginfo si{};
    si.signo = lx::abi::sigusr2;
    si.code = -1;  // SI_QUEUE
    const auto address = f.mem.allocate(sizeof si);
    f.mem.put(address, si);
    CHECK(f.call(lx::nr::pidfd_send_signal, fd, lx::abi::sigusr1, address, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::pidfd_send_signal, fd, lx::abi::sigusr2, address, 0) == 0);
    si.code = 0;
    f.mem.put(address, si);
    CHECK(f.call(lx::nr::pidfd_send_signal, fd, lx::abi::sigusr2, address, 0) == err(Errno::perm));

    // Errors of pidfd_open, and descriptors that are not pidfds.
    CHECK(f.call(lx::nr::pidfd_open, 2, 1) == err(Errno::inval));
    CHECK(f.call(lx::nr::pidfd_open, 0, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::pidfd_open, 4242, 0) == err(Errno::srch));
    const auto pipe = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::pipe2, pipe, 0) == 0);
    const auto not_pidfd = f.mem.get<std::int32_t>(pipe);
    CHECK(f.call(lx::nr::pidfd_send_signal, not_pidfd, 0, 0, 0) == err(Errno::badf));
    CHECK(f.call(lx::nr::pidfd_send_signal, 999, 0, 0, 0) == err(Errno::badf));
    CHECK(f.call(lx::nr::waitid, lx::abi::p_pidfd, not_pidfd, info, lx::abi::wexited, 0) == err(Errno::badf));
    f.call_on(*child, lx::nr::exit_group, 0);
    CHECK(f.call(lx::nr::waitid, lx::abi::p_pidfd, fd, info, lx::abi::wexited, 0) == 0);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
