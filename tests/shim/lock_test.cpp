// fcntl record locks through the shim: POSIX locks go on every route by which the process lets go
// of a descriptor of the file (dup2/dup3, close_range, close-on-exec at exec, exit, a kill), OFD
// locks with their open file description, and F_SETLKW waits interruptibly.
#include <atomic>
#include <chrono>
#include <thread>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;
namespace of = litebox::fd::open_flags;
using P = GuestMemoryPlatform;

namespace {
constexpr short wrlck = 1, unlck = 2;
constexpr int f_ofd_setlk = 37, f_ofd_setlkw = 38;

/// A file "/locked" open twice in init (a, b), a forked child that probes the lock with c, and a
/// struct flock in guest memory describing a write lock over the whole file.
struct LockFixture {
    LockFixture() {
        path = f.mem.put_string("/locked");
        a = f.call(lx::nr::open, path, of::create | of::read_write, 0644);
        b = f.call(lx::nr::open, path, of::read_write);
        REQUIRE(a >= 0);
        REQUIRE(b >= 0);
        child = f.fork(*f.init);
        c = f.call_on(*child, lx::nr::open, path, of::read_write);
        REQUIRE(c >= 0);
        fl = f.mem.allocate(sizeof(lx::abi::flock));
    }
    /// init takes a write lock over the whole file through `descriptor` (F_SETLK or `command`).
    void lock_in_init(std::int64_t descriptor, int command = lx::abi::f_setlk) {
        f.mem.put(fl, lx::abi::flock{wrlck, 0, 0, 0, 0});
        REQUIRE(f.call(lx::nr::fcntl, descriptor, command, fl) == 0);
        REQUIRE_FALSE(child_can_lock());
    }
    /// Whether the child could take (and then drops) the write lock.
    bool child_can_lock() {
        f.mem.put(fl, lx::abi::flock{wrlck, 0, 0, 0, 0});
        const auto got = f.call_on(*child, lx::nr::fcntl, c, lx::abi::f_setlk, fl);
        if (got != 0) {
            CHECK(got == err(Errno::again));
            return false;
        }
        f.mem.put(fl, lx::abi::flock{unlck, 0, 0, 0, 0});
        CHECK(f.call_on(*child, lx::nr::fcntl, c, lx::abi::f_setlk, fl) == 0);
        return true;
    }

    ShimFixture<> f;
    std::uint64_t path = 0, fl = 0;
    std::int64_t a = -1, b = -1, c = -1;
    std::unique_ptr<ShimFixture<>::Context> child;
};
}  // namespace

TEST_CASE("record locks: close of any descriptor of the file releases the process's locks", "[shim][locks]") {
    LockFixture l;
    l.lock_in_init(l.a);
    CHECK(l.f.call(lx::nr::close, l.b) == 0);  // a still open: the locks go anyway (POSIX)
    CHECK(l.child_can_lock());
    // The child's own descriptors of the file are its own business (fork: separate owners).
    l.lock_in_init(l.a);
    CHECK(l.f.call_on(*l.child, lx::nr::close, l.a) == 0);
    CHECK_FALSE(l.child_can_lock());
}

TEST_CASE("record locks: dup2 and dup3 over a descriptor of the locked file release them", "[shim][locks]") {
    LockFixture l;
    const auto other = l.f.call(lx::nr::open, l.f.mem.put_string("/other"), of::create | of::read_write, 0644);
    REQUIRE(other >= 0);
    l.lock_in_init(l.a);
    CHECK(l.f.call(lx::nr::dup2, l.a, l.a) == l.a);  // onto itself: nothing is closed
    CHECK_FALSE(l.child_can_lock());
    CHECK(l.f.call(lx::nr::dup2, other, l.b) == l.b);  // b referred to the locked file
    CHECK(l.child_can_lock());
    l.lock_in_init(l.a);
    CHECK(l.f.call(lx::nr::dup3, other, l.a, of::close_on_exec) == l.a);
    CHECK(l.child_can_lock());
}

TEST_CASE("record locks: close_range releases them, CLOSE_RANGE_CLOEXEC does not", "[shim][locks]") {
    LockFixture l;
    l.lock_in_init(l.a);
    CHECK(l.f.call(lx::nr::close_range, l.b, l.b, lx::abi::close_range_cloexec) == 0);
    CHECK_FALSE(l.child_can_lock());
    CHECK(l.f.call(lx::nr::close_range, l.b, ~0u, 0) == 0);
    CHECK(l.child_can_lock());
}

TEST_CASE("record locks: close-on-exec descriptors closed at execve release them", "[shim][locks]") {
    LockFixture l;
    REQUIRE(l.f.call(lx::nr::fcntl, l.b, lx::abi::f_setfd, lx::abi::fd_cloexec) == 0);
    l.lock_in_init(l.a);
    l.f.shim.complete_exec(*l.f.init, lx::ExecRequest{"/bin/next", {"next"}, {}});
    CHECK(l.f.init->files().get(static_cast<int>(l.b)).error() == Errno::badf);
    CHECK(l.child_can_lock());  // a stays open, and still the locks went
}

TEST_CASE("record locks: exit, the last thread's exit and a kill release them; threads share them", "[shim][locks]") {
    LockFixture l;
    // exit_group.
    auto second = l.f.fork(*l.f.init);
    l.f.mem.put(l.fl, lx::abi::flock{wrlck, 0, 0, 0, 0});
    REQUIRE(l.f.call_on(*second, lx::nr::fcntl, l.a, lx::abi::f_setlk, l.fl) == 0);
    CHECK_FALSE(l.child_can_lock());
    l.f.call_on(*second, lx::nr::exit_group, 0);
    CHECK(l.child_can_lock());

    // Killed by a signal (what litebox-run does when a guest process dies without exit_group).
    auto killed = l.f.fork(*l.f.init);
    l.f.mem.put(l.fl, lx::abi::flock{wrlck, 0, 0, 0, 0});
    REQUIRE(l.f.call_on(*killed, lx::nr::fcntl, l.a, lx::abi::f_setlk, l.fl) == 0);
    CHECK_FALSE(l.child_can_lock());
    l.f.shim.tasks().exit_group(killed->process(), lx::abi::sigkill);
    CHECK(l.child_can_lock());

    // A thread's lock belongs to the process: closing a descriptor in the other thread drops it,
    // and the locks stay until the last thread exits.
    auto process = l.f.fork(*l.f.init);
    constexpr std::uint64_t thread_flags =
        lx::abi::clone_vm | lx::abi::clone_fs | lx::abi::clone_files | lx::abi::clone_sighand | lx::abi::clone_thread;
    REQUIRE(l.f.call_on(*process, lx::nr::clone, thread_flags, 0x7000, 0, 0, 0) > 0);
    auto thread = std::move(std::get<lx::CloneRequest<P>>(process->take_request()).child);
    l.f.mem.put(l.fl, lx::abi::flock{wrlck, 0, 0, 0, 0});
    REQUIRE(l.f.call_on(*thread, lx::nr::fcntl, l.a, lx::abi::f_setlk, l.fl) == 0);
    REQUIRE(l.f.call_on(*process, lx::nr::fcntl, l.b, lx::abi::f_setlk, l.fl) == 0);  // the same owner
    CHECK(l.f.call_on(*process, lx::nr::close, l.b) == 0);
    CHECK(l.child_can_lock());
    l.f.mem.put(l.fl, lx::abi::flock{wrlck, 0, 0, 0, 0});
    REQUIRE(l.f.call_on(*thread, lx::nr::fcntl, l.a, lx::abi::f_setlk, l.fl) == 0);
    CHECK(l.f.call_on(*thread, lx::nr::exit, 0) == 0);
    CHECK_FALSE(l.child_can_lock());  // one thread left
    CHECK(l.f.call_on(*process, lx::nr::exit, 0) == 0);
    CHECK(l.child_can_lock());
}

TEST_CASE("record locks: processes sharing a descriptor table (CLONE_FILES) share the owner, as on Linux", "[shim][locks]") {
    LockFixture l;
    REQUIRE(l.f.call(lx::nr::clone, lx::abi::clone_files | lx::abi::sigchld, 0, 0, 0, 0) > 0);
    auto sibling = std::move(std::get<lx::CloneRequest<P>>(l.f.init->take_request()).child);
    l.f.mem.put(l.fl, lx::abi::flock{wrlck, 0, 0, 0, 0});
    REQUIRE(l.f.call_on(*sibling, lx::nr::fcntl, l.a, lx::abi::f_setlk, l.fl) == 0);
    REQUIRE(l.f.call(lx::nr::fcntl, l.b, lx::abi::f_setlk, l.fl) == 0);  // no conflict: one owner
    l.f.call_on(*sibling, lx::nr::exit_group, 0);
    CHECK_FALSE(l.child_can_lock());  // the table lives on in init, and so do its locks
    CHECK(l.f.call(lx::nr::close, l.b) == 0);
    CHECK(l.child_can_lock());
}

TEST_CASE("record locks: OFD locks go with the last reference to the description, by any route", "[shim][locks]") {
    LockFixture l;
    const auto other = l.f.call(lx::nr::open, l.f.mem.put_string("/other"), of::create | of::read_write, 0644);
    REQUIRE(other >= 0);
    l.lock_in_init(l.b, f_ofd_setlk);
    CHECK(l.f.call(lx::nr::close, l.a) == 0);  // another description: an OFD lock stays
    CHECK_FALSE(l.child_can_lock());
    const auto copy = l.f.call(lx::nr::dup, l.b);
    REQUIRE(copy >= 0);
    CHECK(l.f.call(lx::nr::dup2, other, l.b) == l.b);  // the description lives on in `copy` (and in the child)
    CHECK_FALSE(l.child_can_lock());
    CHECK(l.f.call(lx::nr::dup2, other, copy) == copy);
    CHECK_FALSE(l.child_can_lock());  // the forked child still holds b's description
    CHECK(l.f.call_on(*l.child, lx::nr::close, l.b) == 0);
    CHECK(l.child_can_lock());
}

TEST_CASE("record locks: F_SETLKW waits for the holder, and a signal interrupts it with EINTR", "[shim][locks]") {
    LockFixture l;
    for (const int command : {static_cast<int>(lx::abi::f_setlkw), f_ofd_setlkw}) {
        CAPTURE(command);
        l.f.mem.put(l.fl, lx::abi::flock{wrlck, 0, 0, 0, 0});
        REQUIRE(l.f.call_on(*l.child, lx::nr::fcntl, l.c, lx::abi::f_setlk, l.fl) == 0);
        const auto request = l.f.mem.allocate(sizeof(lx::abi::flock));
        l.f.mem.put(request, lx::abi::flock{wrlck, 0, 0, 0, 0});
        std::atomic<std::int64_t> waited{1};
        std::thread blocked([&] { waited = l.f.call(lx::nr::fcntl, l.a, command, request); });
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        CHECK(waited.load() == 1);
        l.f.shim.tasks().post_to_thread(l.f.init->thread(), lx::abi::sigusr1);
        blocked.join();
        CHECK(waited.load() == err(Errno::intr));
        while (l.f.init->dequeue_signal()) {
        }
        // Without a signal, the wait ends when the holder lets go.
        waited = 1;
        std::thread waits([&] { waited = l.f.call(lx::nr::fcntl, l.a, command, request); });
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        CHECK(waited.load() == 1);
        l.f.mem.put(l.fl, lx::abi::flock{unlck, 0, 0, 0, 0});
        REQUIRE(l.f.call_on(*l.child, lx::nr::fcntl, l.c, lx::abi::f_setlk, l.fl) == 0);
        waits.join();
        CHECK(waited.load() == 0);
        CHECK_FALSE(l.child_can_lock());
        l.f.mem.put(request, lx::abi::flock{unlck, 0, 0, 0, 0});
        REQUIRE(l.f.call(lx::nr::fcntl, l.a, command == f_ofd_setlkw ? f_ofd_setlk : lx::abi::f_setlk, request) == 0);
        CHECK(l.child_can_lock());
    }
}

TEST_CASE("record locks: F_SETLKW still detects a deadlock", "[shim][locks]") {
    LockFixture l;
    // init holds [0, 9]; the child holds [10, 19] and waits for init's range; init asking for the
    // child's range would wait for a waiter of its own: EDEADLK.
    l.f.mem.put(l.fl, lx::abi::flock{wrlck, 0, 0, 10, 0});
    REQUIRE(l.f.call(lx::nr::fcntl, l.a, lx::abi::f_setlk, l.fl) == 0);
    const auto child_range = l.f.mem.allocate(sizeof(lx::abi::flock));
    l.f.mem.put(child_range, lx::abi::flock{wrlck, 0, 10, 10, 0});
    REQUIRE(l.f.call_on(*l.child, lx::nr::fcntl, l.c, lx::abi::f_setlk, child_range) == 0);
    const auto wanted = l.f.mem.allocate(sizeof(lx::abi::flock));
    l.f.mem.put(wanted, lx::abi::flock{wrlck, 0, 0, 10, 0});
    std::atomic<std::int64_t> waited{1};
    std::thread blocked([&] { waited = l.f.call_on(*l.child, lx::nr::fcntl, l.c, lx::abi::f_setlkw, wanted); });
    const auto child_owner = std::dynamic_pointer_cast<litebox::fs::RecordLocks<P>::Owner>(l.child->files().observer());
    REQUIRE(child_owner);
    while (!l.f.shim.vfs().locks().is_waiting(child_owner->id())) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    CHECK(l.f.call(lx::nr::fcntl, l.a, lx::abi::f_setlkw, child_range) == err(Errno::deadlk));
    CHECK(l.f.call(lx::nr::close, l.a) == 0);  // init lets go: the child gets its lock
    blocked.join();
    CHECK(waited.load() == 0);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
