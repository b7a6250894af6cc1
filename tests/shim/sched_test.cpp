// Scheduling policies through raw syscalls: recorded per thread, inherited, and Linux's checks.
#include <cstdint>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;

/// A box whose first process is root (CAP_SYS_NICE); the fixture's default is uid 1000.
lx::ShimConfig as_root() {
    lx::ShimConfig config;
    config.initial_uid = config.initial_gid = 0;
    return config;
}

TEST_CASE("sched_setscheduler records the policy, fork inherits it unless SCHED_RESET_ON_FORK", "[shim][sched]") {
    ShimFixture<> f(as_root());
    const auto param = f.mem.allocate(4);
    f.mem.put<std::int32_t>(param, 10);
    CHECK(f.call(lx::nr::sched_getscheduler, 0) == lx::abi::sched_other);
    CHECK(f.call(lx::nr::sched_setscheduler, 0, lx::abi::sched_rr, param) == 0);  // box root: CAP_SYS_NICE
    CHECK(f.call(lx::nr::sched_getscheduler, 0) == lx::abi::sched_rr);
    f.mem.put<std::int32_t>(param, 0);
    CHECK(f.call(lx::nr::sched_getparam, 0, param) == 0);
    CHECK(f.mem.get<std::int32_t>(param) == 10);

    auto child = f.fork(*f.init);
    CHECK(f.call_on(*child, lx::nr::sched_getscheduler, 0) == lx::abi::sched_rr);
    f.mem.put<std::int32_t>(param, 4);
    CHECK(f.call(lx::nr::sched_setscheduler, 0, lx::abi::sched_fifo | lx::abi::sched_reset_on_fork, param) == 0);
    CHECK(f.call(lx::nr::sched_getscheduler, 0) == (lx::abi::sched_fifo | lx::abi::sched_reset_on_fork));
    auto reset = f.fork(*f.init);
    CHECK(f.call_on(*reset, lx::nr::sched_getscheduler, 0) == lx::abi::sched_other);
    CHECK(f.call_on(*reset, lx::nr::sched_getparam, 0, param) == 0);
    CHECK(f.mem.get<std::int32_t>(param) == 0);
    // The parent can look at a child's thread, and change it (same user).
    CHECK(f.call(lx::nr::sched_getscheduler, child->pid()) == lx::abi::sched_rr);

    const auto interval = f.mem.allocate(sizeof(lx::abi::timespec));
    CHECK(f.call(lx::nr::sched_rr_get_interval, child->pid(), interval) == 0);
    CHECK(f.mem.get<lx::abi::timespec>(interval).tv_nsec == 100'000'000);
    CHECK(f.call(lx::nr::sched_rr_get_interval, reset->pid(), interval) == 0);
    CHECK(f.mem.get<lx::abi::timespec>(interval).tv_nsec == 0);

    // Errors: the range of the policy, unknown policies, SCHED_DEADLINE only through sched_setattr.
    f.mem.put<std::int32_t>(param, 100);
    CHECK(f.call(lx::nr::sched_setscheduler, 0, lx::abi::sched_fifo, param) == err(Errno::inval));
    f.mem.put<std::int32_t>(param, 1);
    CHECK(f.call(lx::nr::sched_setscheduler, 0, lx::abi::sched_batch, param) == err(Errno::inval));
    CHECK(f.call(lx::nr::sched_setscheduler, 0, 4, param) == err(Errno::inval));
    CHECK(f.call(lx::nr::sched_setscheduler, 0, lx::abi::sched_deadline, param) == err(Errno::inval));
    CHECK(f.call(lx::nr::sched_setscheduler, 0, lx::abi::sched_other, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::sched_setscheduler, 4242, lx::abi::sched_fifo, param) == err(Errno::srch));
    CHECK(f.call(lx::nr::sched_getscheduler, -1) == err(Errno::inval));
}

TEST_CASE("an unprivileged thread needs RLIMIT_RTPRIO, keeps reset-on-fork and changes only its user's threads", "[shim][sched]") {
    ShimFixture<> f(as_root());
    auto other = f.fork(*f.init);  // stays root
    auto user = f.fork(*f.init);
    REQUIRE(f.call_on(*user, lx::nr::setresuid, 1000, 1000, 1000) == 0);
    const auto param = f.mem.allocate(4);
    f.mem.put<std::int32_t>(param, 1);
    CHECK(f.call_on(*user, lx::nr::sched_setscheduler, 0, lx::abi::sched_fifo, param) == err(Errno::perm));
    f.mem.put<std::int32_t>(param, 0);
    CHECK(f.call_on(*user, lx::nr::sched_setscheduler, 0, lx::abi::sched_idle | lx::abi::sched_reset_on_fork, param) == 0);
    CHECK(f.call_on(*user, lx::nr::sched_setscheduler, 0, lx::abi::sched_batch, param) == err(Errno::perm));  // would clear the flag
    CHECK(f.call_on(*user, lx::nr::sched_setscheduler, other->pid(), lx::abi::sched_batch, param) == err(Errno::perm));
    CHECK(f.call_on(*user, lx::nr::sched_getscheduler, other->pid()) == lx::abi::sched_other);  // looking is allowed

    // sched_setattr: SCHED_DEADLINE needs privilege; the parameters are checked first for root.
    struct Attr {
        std::uint32_t size, policy;
        std::uint64_t flags;
        std::int32_t nice;
        std::uint32_t priority;
        std::uint64_t runtime, deadline, period;
    } attr{48, lx::abi::sched_deadline, 0, 0, 0, 10'000, 20'000, 30'000};
    const auto address = f.mem.allocate(sizeof attr);
    f.mem.put(address, attr);
    CHECK(f.call_on(*user, lx::nr::sched_setattr, 0, address, 0) == err(Errno::perm));
    CHECK(f.call(lx::nr::sched_setattr, 0, address, 0) == 0);
    CHECK(f.call(lx::nr::sched_getscheduler, 0) == lx::abi::sched_deadline);
    attr.runtime = 40'000;  // more than the deadline
    f.mem.put(address, attr);
    CHECK(f.call(lx::nr::sched_setattr, 0, address, 0) == err(Errno::inval));
    attr.size = 20;
    f.mem.put(address, attr);
    CHECK(f.call(lx::nr::sched_setattr, 0, address, 0) == err(Errno::toobig));
    CHECK(f.mem.get<std::uint32_t>(address) == 56);  // the box's size, written back
    const auto out = f.mem.allocate(64);
    CHECK(f.call(lx::nr::sched_getattr, 0, out, 64, 0) == 0);
    CHECK(f.mem.get<std::uint32_t>(out) == 56);
    CHECK(f.mem.get<std::uint32_t>(out + 4) == lx::abi::sched_deadline);
    CHECK(f.call(lx::nr::sched_getattr, 0, out, 40, 0) == err(Errno::inval));
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
