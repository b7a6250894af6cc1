// alarm, setitimer/getitimer and the POSIX timers on the virtual clock of the test platform. The
// timers fire when the test calls TimerTable::fire_due() (a runtime runs drive() on a thread).
#include <thread>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;
using namespace std::chrono_literals;

namespace {

using Context = lx::ThreadContext<GuestMemoryPlatform>;

std::uint64_t process_pending(Context& c) {
    return c.process().signals().with_lock([](auto& s) { return s.shared_pending; });
}
std::uint64_t thread_pending(Context& c) {
    return c.thread().signals().with_lock([](auto& s) { return s.pending; });
}
void clear_pending(Context& c) {
    while (c.dequeue_signal()) {
    }
}
constexpr std::int64_t us(std::int64_t seconds, std::int64_t micro) { return seconds * 1'000'000 + micro; }
std::int64_t micros(const lx::abi::timeval& tv) { return us(tv.tv_sec, tv.tv_usec); }
std::int64_t nanos(const lx::abi::timespec& ts) { return ts.tv_sec * 1'000'000'000 + ts.tv_nsec; }

}  // namespace

TEST_CASE("alarm: remaining seconds rounded as Linux, SIGALRM on expiry", "[shim][timers]") {
    ShimFixture<> f;
    CHECK(f.call(lx::nr::alarm, 5) == 0);
    TestPlatform::advance(2400ms);
    CHECK(f.call(lx::nr::alarm, 7) == 3);  // 2.6 s left: rounded to the nearest second
    TestPlatform::advance(800ms);
    CHECK(f.call(lx::nr::alarm, 1) == 6);  // 6.2 s left
    TestPlatform::advance(999'999'500ns);
    CHECK(f.call(lx::nr::alarm, 0) == 1);  // 500 ns left: never 0 while pending
    CHECK(f.call(lx::nr::alarm, 0) == 0);

    CHECK(f.call(lx::nr::alarm, 2) == 0);
    TestPlatform::advance(1s);
    CHECK(f.shim.timers().fire_due() == 0);
    CHECK(process_pending(*f.init) == 0);
    TestPlatform::advance(1s);
    CHECK(f.shim.timers().fire_due() == 1);
    CHECK(process_pending(*f.init) == lx::signal_bit(lx::abi::sigalrm));
    CHECK(f.shim.timers().fire_due() == 0);  // one-shot
    CHECK(f.call(lx::nr::alarm, 0) == 0);
}

TEST_CASE("setitimer/getitimer ITIMER_REAL: old values, interval reload, invalid input", "[shim][timers]") {
    ShimFixture<> f;
    const auto next = f.mem.allocate(sizeof(lx::abi::itimerval)), old = f.mem.allocate(sizeof(lx::abi::itimerval));
    f.mem.put(next, lx::abi::itimerval{{1, 0}, {0, 500'000}});
    f.mem.put(old, lx::abi::itimerval{{9, 9}, {9, 9}});
    CHECK(f.call(lx::nr::setitimer, lx::abi::itimer_real, next, old) == 0);
    CHECK(micros(f.mem.get<lx::abi::itimerval>(old).it_value) == 0);
    CHECK(micros(f.mem.get<lx::abi::itimerval>(old).it_interval) == 0);
    CHECK(f.call(lx::nr::getitimer, lx::abi::itimer_real, old) == 0);
    CHECK(micros(f.mem.get<lx::abi::itimerval>(old).it_value) == 500'000);
    CHECK(micros(f.mem.get<lx::abi::itimerval>(old).it_interval) == 1'000'000);

    TestPlatform::advance(500ms);
    CHECK(f.shim.timers().fire_due() == 1);
    clear_pending(*f.init);
    CHECK(f.call(lx::nr::getitimer, lx::abi::itimer_real, old) == 0);
    CHECK(micros(f.mem.get<lx::abi::itimerval>(old).it_value) == 1'000'000);  // reloaded
    TestPlatform::advance(3500ms);  // three more expiries, one signal
    CHECK(f.shim.timers().fire_due() == 1);
    CHECK(process_pending(*f.init) == lx::signal_bit(lx::abi::sigalrm));
    CHECK(f.call(lx::nr::getitimer, lx::abi::itimer_real, old) == 0);
    CHECK(micros(f.mem.get<lx::abi::itimerval>(old).it_value) == 500'000);  // on the grid

    // Disarming returns the old setting; alarm sees the same timer.
    f.mem.put(next, lx::abi::itimerval{{0, 0}, {0, 0}});
    CHECK(f.call(lx::nr::setitimer, lx::abi::itimer_real, next, old) == 0);
    CHECK(micros(f.mem.get<lx::abi::itimerval>(old).it_value) == 500'000);
    CHECK(micros(f.mem.get<lx::abi::itimerval>(old).it_interval) == 1'000'000);
    CHECK(f.call(lx::nr::getitimer, lx::abi::itimer_real, old) == 0);
    CHECK(micros(f.mem.get<lx::abi::itimerval>(old).it_value) == 0);
    CHECK(micros(f.mem.get<lx::abi::itimerval>(old).it_interval) == 0);
    CHECK(f.call(lx::nr::alarm, 3) == 0);
    CHECK(f.call(lx::nr::getitimer, lx::abi::itimer_real, old) == 0);
    CHECK(micros(f.mem.get<lx::abi::itimerval>(old).it_value) == 3'000'000);
    CHECK(f.call(lx::nr::setitimer, lx::abi::itimer_real, 0, old) == 0);  // null: disarm
    CHECK(micros(f.mem.get<lx::abi::itimerval>(old).it_value) == 3'000'000);
    CHECK(f.call(lx::nr::alarm, 0) == 0);

    // Invalid values, which and pointers.
    for (const lx::abi::timeval bad : {lx::abi::timeval{0, 1'000'000}, lx::abi::timeval{0, -1}, lx::abi::timeval{-1, 0}}) {
        f.mem.put(next, lx::abi::itimerval{{0, 0}, bad});
        CHECK(f.call(lx::nr::setitimer, lx::abi::itimer_real, next, 0) == err(Errno::inval));
        f.mem.put(next, lx::abi::itimerval{bad, {1, 0}});
        CHECK(f.call(lx::nr::setitimer, lx::abi::itimer_real, next, 0) == err(Errno::inval));
    }
    CHECK(f.call(lx::nr::alarm, 0) == 0);  // none of them armed anything
    f.mem.put(next, lx::abi::itimerval{{0, 0}, {1, 0}});
    CHECK(f.call(lx::nr::setitimer, 3, next, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::setitimer, -1, next, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::getitimer, 3, old) == err(Errno::inval));
    CHECK(f.call(lx::nr::setitimer, lx::abi::itimer_real, f.mem.hole(), 0) == err(Errno::fault));
    CHECK(f.call(lx::nr::getitimer, lx::abi::itimer_real, f.mem.hole()) == err(Errno::fault));
    CHECK(f.call(lx::nr::getitimer, lx::abi::itimer_real, 0) == err(Errno::fault));
    // Huge values saturate instead of overflowing.
    f.mem.put(next, lx::abi::itimerval{{INT64_MAX, 999'999}, {INT64_MAX, 999'999}});
    CHECK(f.call(lx::nr::setitimer, lx::abi::itimer_real, next, 0) == 0);
    TestPlatform::advance(1s);
    CHECK(f.shim.timers().fire_due() == 0);
    CHECK(f.call(lx::nr::alarm, 0) > 0);  // still armed (the unsigned seconds wrap, as on Linux)

    // CPU-time timers: reported disarmed, can be disarmed, cannot be armed.
    CHECK(f.call(lx::nr::getitimer, lx::abi::itimer_virtual, old) == 0);
    CHECK(micros(f.mem.get<lx::abi::itimerval>(old).it_value) == 0);
    f.mem.put(next, lx::abi::itimerval{{0, 0}, {0, 0}});
    CHECK(f.call(lx::nr::setitimer, lx::abi::itimer_prof, next, old) == 0);
    f.mem.put(next, lx::abi::itimerval{{0, 0}, {1, 0}});
    CHECK(f.call(lx::nr::setitimer, lx::abi::itimer_virtual, next, old) == err(Errno::inval));
}

TEST_CASE("POSIX timers: create, settime, gettime, overrun, delete", "[shim][timers]") {
    ShimFixture<> f;
    std::vector<lx::TimerSignal> sent;
    f.shim.timers().set_signal_sink([&](auto&, auto*, const lx::TimerSignal& s) { sent.push_back(s); });
    const auto id = f.mem.allocate(4), spec = f.mem.allocate(sizeof(lx::abi::itimerspec)),
               old = f.mem.allocate(sizeof(lx::abi::itimerspec));
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_monotonic, 0, id) == 0);
    CHECK(f.mem.get<std::int32_t>(id) == 0);
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_realtime, 0, id) == 0);
    CHECK(f.mem.get<std::int32_t>(id) == 1);

    f.mem.put(spec, lx::abi::itimerspec{{0, 100'000'000}, {1, 0}});
    f.mem.put(old, lx::abi::itimerspec{{7, 7}, {7, 7}});
    CHECK(f.call(lx::nr::timer_settime, 0, 0, spec, old) == 0);
    CHECK(nanos(f.mem.get<lx::abi::itimerspec>(old).it_value) == 0);
    CHECK(nanos(f.mem.get<lx::abi::itimerspec>(old).it_interval) == 0);
    TestPlatform::advance(400ms);
    CHECK(f.call(lx::nr::timer_gettime, 0, old) == 0);
    CHECK(nanos(f.mem.get<lx::abi::itimerspec>(old).it_value) == 600'000'000);
    CHECK(nanos(f.mem.get<lx::abi::itimerspec>(old).it_interval) == 100'000'000);
    TestPlatform::advance(600ms);
    CHECK(f.shim.timers().fire_due() == 1);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].signo == lx::abi::sigalrm);  // no sigevent: SIGALRM with the id as si_value
    CHECK(sent[0].code == lx::abi::si_timer);
    CHECK(sent[0].timer_id == 0);
    CHECK(sent[0].value == 0);
    CHECK(sent[0].overrun == 0);
    CHECK(f.call(lx::nr::timer_getoverrun, 0) == 0);
    TestPlatform::advance(350ms);  // expiries at 1.1, 1.2, 1.3 s: one signal, two overruns
    CHECK(f.shim.timers().fire_due() == 1);
    REQUIRE(sent.size() == 2);
    CHECK(sent[1].overrun == 2);
    CHECK(f.call(lx::nr::timer_getoverrun, 0) == 2);
    CHECK(f.call(lx::nr::timer_gettime, 0, old) == 0);
    CHECK(nanos(f.mem.get<lx::abi::itimerspec>(old).it_value) == 50'000'000);

    // Re-arming returns the old setting; the other timer never fired.
    f.mem.put(spec, lx::abi::itimerspec{{0, 0}, {0, 0}});
    CHECK(f.call(lx::nr::timer_settime, 0, 0, spec, old) == 0);
    CHECK(nanos(f.mem.get<lx::abi::itimerspec>(old).it_value) == 50'000'000);
    CHECK(nanos(f.mem.get<lx::abi::itimerspec>(old).it_interval) == 100'000'000);
    TestPlatform::advance(1s);
    CHECK(f.shim.timers().fire_due() == 0);

    // TIMER_ABSTIME on the wall clock, a sigevent with its own signal and value.
    const auto ts = f.mem.allocate(sizeof(lx::abi::timespec));
    REQUIRE(f.call(lx::nr::clock_gettime, lx::abi::clock_realtime, ts) == 0);
    const std::int64_t wall = nanos(f.mem.get<lx::abi::timespec>(ts));
    f.mem.put(spec, lx::abi::itimerspec{{0, 0}, {(wall + 2'000'000'000) / 1'000'000'000, (wall + 2'000'000'000) % 1'000'000'000}});
    CHECK(f.call(lx::nr::timer_settime, 1, lx::abi::timer_abstime, spec, 0) == 0);
    CHECK(f.call(lx::nr::timer_gettime, 1, old) == 0);
    CHECK(nanos(f.mem.get<lx::abi::itimerspec>(old).it_value) == 2'000'000'000);
    TestPlatform::advance(2s);
    CHECK(f.shim.timers().fire_due() == 1);
    CHECK(sent.back().timer_id == 1);
    CHECK(sent.back().value == 1);
    CHECK(f.call(lx::nr::timer_gettime, 1, old) == 0);
    CHECK(nanos(f.mem.get<lx::abi::itimerspec>(old).it_value) == 0);  // one-shot: disarmed
    // An absolute time in the past fires at once.
    f.mem.put(spec, lx::abi::itimerspec{{0, 0}, {1, 0}});
    CHECK(f.call(lx::nr::timer_settime, 1, lx::abi::timer_abstime, spec, 0) == 0);
    CHECK(f.shim.timers().fire_due() == 1);

    const auto event = f.mem.allocate(sizeof(lx::abi::sigevent));
    f.mem.put(event, lx::abi::sigevent{0xfeedULL, lx::abi::sigusr1, lx::abi::sigev_signal, 0, {}});
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_boottime, event, id) == 0);
    const std::int32_t third = f.mem.get<std::int32_t>(id);
    CHECK(third == 2);
    f.mem.put(spec, lx::abi::itimerspec{{0, 0}, {0, 1}});
    CHECK(f.call(lx::nr::timer_settime, third, 0, spec, 0) == 0);
    TestPlatform::advance(1ms);
    CHECK(f.shim.timers().fire_due() == 1);
    CHECK(sent.back().signo == lx::abi::sigusr1);
    CHECK(sent.back().value == 0xfeed);
    CHECK(sent.back().timer_id == third);

    // SIGEV_NONE: expires, sends nothing.
    f.mem.put(event, lx::abi::sigevent{0, 0, lx::abi::sigev_none, 0, {}});
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_monotonic, event, id) == 0);
    const std::int32_t quiet = f.mem.get<std::int32_t>(id);
    f.mem.put(spec, lx::abi::itimerspec{{0, 0}, {1, 0}});
    CHECK(f.call(lx::nr::timer_settime, quiet, 0, spec, 0) == 0);
    const auto before = sent.size();
    TestPlatform::advance(2s);
    CHECK(f.shim.timers().fire_due() == 0);
    CHECK(sent.size() == before);
    CHECK(f.call(lx::nr::timer_gettime, quiet, old) == 0);
    CHECK(nanos(f.mem.get<lx::abi::itimerspec>(old).it_value) == 0);

    // Delete: the id is gone.
    CHECK(f.call(lx::nr::timer_delete, 0) == 0);
    CHECK(f.call(lx::nr::timer_delete, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::timer_gettime, 0, old) == err(Errno::inval));
    CHECK(f.call(lx::nr::timer_getoverrun, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::timer_settime, 0, 0, spec, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_monotonic, 0, id) == 0);
    CHECK(f.mem.get<std::int32_t>(id) == 4);  // ids are not reused at once
}

TEST_CASE("POSIX timers: signals reach the shim's books, SIGEV_THREAD_ID a thread", "[shim][timers]") {
    ShimFixture<> f;
    const auto id = f.mem.allocate(4), spec = f.mem.allocate(sizeof(lx::abi::itimerspec)),
               event = f.mem.allocate(sizeof(lx::abi::sigevent));
    f.mem.put(event, lx::abi::sigevent{0, lx::abi::sigusr2, lx::abi::sigev_thread_id, 1, {}});
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_monotonic, event, id) == 0);
    f.mem.put(spec, lx::abi::itimerspec{{0, 0}, {1, 0}});
    CHECK(f.call(lx::nr::timer_settime, f.mem.get<std::int32_t>(id), 0, spec, 0) == 0);
    TestPlatform::advance(1s);
    CHECK(f.shim.timers().fire_due() == 1);
    CHECK(thread_pending(*f.init) == lx::signal_bit(lx::abi::sigusr2));
    CHECK(process_pending(*f.init) == 0);
    CHECK(f.init->thread().interrupted());

    // A thread of another process, or no thread: EINVAL.
    auto child = f.fork(*f.init);
    f.mem.put(event, lx::abi::sigevent{0, lx::abi::sigusr2, lx::abi::sigev_thread_id, child->tid(), {}});
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_monotonic, event, id) == err(Errno::inval));
    f.mem.put(event, lx::abi::sigevent{0, lx::abi::sigusr2, lx::abi::sigev_thread_id, 999, {}});
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_monotonic, event, id) == err(Errno::inval));
}

TEST_CASE("POSIX timers: hostile arguments and the per-process limit", "[shim][timers]") {
    lx::ShimConfig config;
    config.max_posix_timers = 3;
    ShimFixture<> f(config);
    const auto id = f.mem.allocate(4), spec = f.mem.allocate(sizeof(lx::abi::itimerspec)),
               event = f.mem.allocate(sizeof(lx::abi::sigevent));
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_process_cputime_id, 0, id) == err(Errno::inval));
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_thread_cputime_id, 0, id) == err(Errno::inval));
    CHECK(f.call(lx::nr::timer_create, 99, 0, id) == err(Errno::inval));
    CHECK(f.call(lx::nr::timer_create, -6, 0, id) == err(Errno::inval));
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_monotonic_raw, 0, id) == err(Errno::opnotsupp));
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_realtime_coarse, 0, id) == err(Errno::opnotsupp));
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_boottime_alarm, 0, id) == err(Errno::perm));
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_monotonic, f.mem.hole(), id) == err(Errno::fault));
    for (const lx::abi::sigevent bad : {lx::abi::sigevent{0, 0, lx::abi::sigev_signal, 0, {}},
                                        lx::abi::sigevent{0, 65, lx::abi::sigev_signal, 0, {}},
                                        lx::abi::sigevent{0, -1, lx::abi::sigev_thread, 0, {}},
                                        lx::abi::sigevent{0, lx::abi::sigusr1, 3, 0, {}},
                                        lx::abi::sigevent{0, lx::abi::sigusr1, -1, 0, {}}}) {
        f.mem.put(event, bad);
        CHECK(f.call(lx::nr::timer_create, lx::abi::clock_monotonic, event, id) == err(Errno::inval));
    }
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_monotonic, 0, f.mem.hole()) == err(Errno::fault));
    CHECK(f.shim.timers().posix_count(f.init->shared_process()) == 0);  // nothing left behind

    // The timer whose id could not be written took id 0 (as on Linux); the next ones are 1, 2, 3.
    for (int i = 0; i < 3; ++i) {
        CHECK(f.call(lx::nr::timer_create, lx::abi::clock_monotonic, 0, id) == 0);
        CHECK(f.mem.get<std::int32_t>(id) == i + 1);
    }
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_monotonic, 0, id) == err(Errno::again));
    CHECK(f.call(lx::nr::timer_delete, 2) == 0);
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_monotonic, 0, id) == 0);
    CHECK(f.mem.get<std::int32_t>(id) == 4);
    CHECK(f.call(lx::nr::timer_gettime, 0, spec) == err(Errno::inval));

    for (const lx::abi::timespec bad : {lx::abi::timespec{0, 1'000'000'000}, lx::abi::timespec{0, -1}, lx::abi::timespec{-1, 0}}) {
        f.mem.put(spec, lx::abi::itimerspec{{0, 0}, bad});
        CHECK(f.call(lx::nr::timer_settime, 1, 0, spec, 0) == err(Errno::inval));
        f.mem.put(spec, lx::abi::itimerspec{bad, {1, 0}});
        CHECK(f.call(lx::nr::timer_settime, 1, 0, spec, 0) == err(Errno::inval));
    }
    CHECK(f.call(lx::nr::timer_settime, 1, 0, 0, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::timer_gettime, 1, spec) == 0);
    CHECK(nanos(f.mem.get<lx::abi::itimerspec>(spec).it_value) == 0);  // no invalid setting armed it
    CHECK(f.call(lx::nr::timer_settime, 1, 0, f.mem.hole(), 0) == err(Errno::fault));
    CHECK(f.call(lx::nr::timer_gettime, 1, f.mem.hole()) == err(Errno::fault));
    CHECK(f.call(lx::nr::timer_gettime, -1, spec) == err(Errno::inval));
    CHECK(f.call(lx::nr::timer_getoverrun, INT32_MAX) == err(Errno::inval));
    CHECK(f.call(lx::nr::timer_delete, 77) == err(Errno::inval));
    // Huge relative values and a 1 ns interval: no overflow, and no firing storm.
    f.mem.put(spec, lx::abi::itimerspec{{0, 1}, {INT64_MAX, 999'999'999}});
    CHECK(f.call(lx::nr::timer_settime, 1, 0, spec, 0) == 0);
    TestPlatform::advance(1s);
    CHECK(f.shim.timers().fire_due() == 0);
    f.mem.put(spec, lx::abi::itimerspec{{0, 1}, {0, 1}});
    CHECK(f.call(lx::nr::timer_settime, 1, 0, spec, 0) == 0);
    TestPlatform::advance(1us);
    CHECK(f.shim.timers().fire_due() == 1);
    CHECK(f.shim.timers().fire_due() == 0);  // the next signal waits for the gap
    TestPlatform::advance(std::chrono::nanoseconds(lx::min_timer_signal_gap_ns));
    CHECK(f.shim.timers().fire_due() == 1);
    CHECK(f.call(lx::nr::timer_getoverrun, 1) >= lx::min_timer_signal_gap_ns - 1);
}

TEST_CASE("timers: fork's child has none, execve keeps ITIMER_REAL only", "[shim][timers]") {
    ShimFixture<> f;
    const auto id = f.mem.allocate(4), spec = f.mem.allocate(sizeof(lx::abi::itimerspec)),
               value = f.mem.allocate(sizeof(lx::abi::itimerval));
    CHECK(f.call(lx::nr::alarm, 10) == 0);
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_monotonic, 0, id) == 0);
    f.mem.put(spec, lx::abi::itimerspec{{0, 0}, {5, 0}});
    CHECK(f.call(lx::nr::timer_settime, 0, 0, spec, 0) == 0);

    auto child = f.fork(*f.init);
    CHECK(f.call_on(*child, lx::nr::getitimer, lx::abi::itimer_real, value) == 0);
    CHECK(micros(f.mem.get<lx::abi::itimerval>(value).it_value) == 0);
    CHECK(f.call_on(*child, lx::nr::timer_gettime, 0, spec) == err(Errno::inval));
    CHECK(f.call_on(*child, lx::nr::alarm, 0) == 0);
    CHECK(f.call_on(*child, lx::nr::timer_create, lx::abi::clock_monotonic, 0, id) == 0);
    CHECK(f.mem.get<std::int32_t>(id) == 0);  // the child's own ids
    TestPlatform::advance(5s);
    CHECK(f.shim.timers().fire_due() == 1);  // the parent's POSIX timer only
    CHECK(process_pending(*f.init) == lx::signal_bit(lx::abi::sigalrm));
    CHECK(process_pending(*child) == 0);

    f.mem.put(spec, lx::abi::itimerspec{{0, 0}, {5, 0}});
    CHECK(f.call(lx::nr::timer_settime, 0, 0, spec, 0) == 0);
    f.shim.complete_exec(*f.init, lx::ExecRequest{"/bin/next", {"next"}, {}});
    CHECK(f.call(lx::nr::timer_gettime, 0, spec) == err(Errno::inval));
    CHECK(f.call(lx::nr::getitimer, lx::abi::itimer_real, value) == 0);
    CHECK(micros(f.mem.get<lx::abi::itimerval>(value).it_value) == 5'000'000);
    CHECK(f.call(lx::nr::timer_create, lx::abi::clock_monotonic, 0, id) == 0);
}

TEST_CASE("timers: drive() fires on time from its own thread", "[shim][timers]") {
    ShimFixture<> f;
    auto& timers = f.shim.timers();
    const auto sleepers = VirtualClock::instance().timed_sleepers();
    std::thread driver([&] { timers.drive(); });
    CHECK(f.call(lx::nr::alarm, 3) == 0);
    VirtualClock::instance().wait_for_timed_sleepers(sleepers + 1);  // the driver sleeps until the alarm
    TestPlatform::advance(2s);
    std::this_thread::sleep_for(20ms);
    CHECK(process_pending(*f.init) == 0);
    TestPlatform::advance(1s);
    for (int i = 0; i < 500 && process_pending(*f.init) == 0; ++i) std::this_thread::sleep_for(10ms);
    CHECK(process_pending(*f.init) == lx::signal_bit(lx::abi::sigalrm));
    timers.stop();
    driver.join();
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
