// Advisory record locks: conflicts, replacement and splitting, F_GETLK, blocking F_SETLKW,
// deadlock detection and interruption, owners attached to descriptor tables, OFD locks going with
// their description.
#include "fs_fixture.hpp"

#include <atomic>
#include <thread>

#include "support/platforms.hpp"
#include "support/test_platform.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox;
using litebox::test::err;
using litebox::test::TestPlatform;
namespace lt = litebox::fs::lock_type;

namespace {
fs::RecordLock lock(short type, std::uint64_t start, std::uint64_t end, std::uint64_t owner) {
    fs::RecordLock l;
    l.type = type;
    l.start = start;
    l.end = end;
    l.owner = owner;
    l.pid = static_cast<std::int32_t>(owner);
    return l;
}
}  // namespace

TEST_CASE("locks: conflicts, F_GETLK, splitting and release", "[fs][locks]") {
    litebox::test::FsFixture<TestPlatform> f;
    REQUIRE(f.write_file("/f", "data"));
    auto where = f.vfs->resolve(f.root, f.cwd, "/f");
    REQUIRE(where);
    auto& locks = f.vfs->locks();
    const auto inode = where->inode;
    REQUIRE(locks.set(inode, lock(lt::read, 0, 99, 1)));
    REQUIRE(locks.set(inode, lock(lt::read, 50, 149, 2)));  // shared reads
    CHECK(err(locks.set(inode, lock(lt::write, 120, 130, 3))) == Errno::again);
    auto probe = locks.test(inode, lock(lt::write, 0, fs::lock_to_eof, 3));
    REQUIRE(probe);
    CHECK(probe->type == lt::read);
    CHECK(probe->owner == 1);
    CHECK(locks.test(inode, lock(lt::read, 0, 10, 3))->type == lt::unlock);
    // Owner 1 unlocks the middle of its range: two pieces remain.
    REQUIRE(locks.set(inode, lock(lt::unlock, 10, 19, 1)));
    CHECK(locks.count() == 3);
    CHECK(locks.set(inode, lock(lt::write, 10, 19, 3)));
    // An owner's own locks never conflict; upgrading replaces them.
    REQUIRE(locks.set(inode, lock(lt::write, 150, 200, 2)));
    REQUIRE(locks.set(inode, lock(lt::write, 201, 300, 2)));  // merges with the previous one
    locks.release(inode.get(), 2);
    CHECK(locks.test(inode, lock(lt::write, 100, 300, 4))->type == lt::unlock);
    locks.release_owner(1);
    locks.release_owner(3);
    CHECK(locks.count() == 0);
    // Ranges from l_whence/l_start/l_len.
    CHECK((*fs::lock_range(0, 10, 0, 0, 0)).second == fs::lock_to_eof);
    CHECK((*fs::lock_range(1, -5, 5, 100, 0)) == std::pair<std::uint64_t, std::uint64_t>{95, 99});
    CHECK((*fs::lock_range(2, 0, -10, 0, 50)) == std::pair<std::uint64_t, std::uint64_t>{40, 49});
    CHECK(err(fs::lock_range(0, -1, 1, 0, 0)) == Errno::inval);
    CHECK(err(fs::lock_range(3, 0, 1, 0, 0)) == Errno::inval);
}

TEMPLATE_LIST_TEST_CASE("locks: F_SETLKW waits, detects deadlock and can be interrupted", "[fs][locks]",
                        litebox::test::RealTimePlatforms) {
    litebox::test::FsFixture<TestType> f;
    REQUIRE(f.write_file("/f", "data"));
    auto& locks = f.vfs->locks();
    const auto inode = f.vfs->resolve(f.root, f.cwd, "/f")->inode;
    REQUIRE(locks.set(inode, lock(lt::write, 0, 9, 1)));
    REQUIRE(locks.set(inode, lock(lt::write, 20, 29, 2)));
    event::Waiter<TestType> first_waiter;
    const event::WaitContext<TestType> first(f.platform, &first_waiter);
    std::atomic<bool> acquired{false};
    std::thread waiter([&] {
        auto r = locks.set(inode, lock(lt::write, 20, 25, 1), first);  // owner 1 waits for owner 2
        acquired = r.has_value();
    });
    // Owner 2 asking for owner 1's range would close the cycle.
    while (!locks.is_waiting(1)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    event::Waiter<TestType> second_waiter;
    const event::WaitContext<TestType> second(f.platform, &second_waiter);
    CHECK(err(locks.set(inode, lock(lt::write, 0, 5, 2), second)) == Errno::deadlk);
    CHECK_FALSE(acquired.load());
    REQUIRE(locks.set(inode, lock(lt::unlock, 0, fs::lock_to_eof, 2)));
    waiter.join();
    CHECK(acquired.load());
    CHECK_FALSE(locks.is_waiting(1));
    // Interruption: the waiter's interrupt (a signal) ends the wait with EINTR, once.
    std::atomic<int> outcome{-1};
    event::Waiter<TestType> third_waiter;
    const event::WaitContext<TestType> third(f.platform, &third_waiter);
    std::thread blocked([&] {
        auto r = locks.set(inode, lock(lt::read, 0, 0, 3), third);
        outcome = r ? 0 : static_cast<int>(r.error());
    });
    while (!locks.is_waiting(3)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    third_waiter.interrupt();
    blocked.join();
    CHECK(outcome.load() == static_cast<int>(Errno::intr));
    CHECK_FALSE(locks.is_waiting(3));
    CHECK(locks.count() == 2);  // owner 1's [0, 9] and [20, 25]: nothing was added for owner 3
}

TEST_CASE("locks: an owner on a descriptor table loses its locks on every close route", "[fs][locks]") {
    litebox::test::FsFixture<TestPlatform> f;
    REQUIRE(f.write_file("/f", "data"));
    REQUIRE(f.write_file("/g", "data"));
    auto& locks = f.vfs->locks();
    auto open = [&](const char* path) { return *f.vfs->open(f.root, f.cwd, path, fd::open_flags::read_write, 0); };
    const auto f_inode = f.vfs->resolve(f.root, f.cwd, "/f")->inode;
    const auto g_inode = f.vfs->resolve(f.root, f.cwd, "/g")->inode;
    auto table = std::make_unique<fd::DescriptorTable<TestPlatform>>();
    auto owner = locks.new_owner();
    const std::uint64_t id = owner->id();
    table->set_observer(owner);
    owner.reset();  // the table keeps it
    const int a = *table->insert(open("/f"), false);
    const int b = *table->insert(open("/f"), true);
    const int c = *table->insert(open("/g"), false);
    const auto relock = [&] {
        REQUIRE(locks.set(f_inode, lock(lt::write, 0, 9, id)));
        REQUIRE(locks.set(g_inode, lock(lt::write, 0, 9, id)));
    };
    const auto held = [&](const fs::Inode<TestPlatform>::Ptr& inode) {
        return locks.test(inode, lock(lt::write, 0, 0, id + 1000))->type != lt::unlock;
    };
    relock();
    REQUIRE(table->close(b));  // another descriptor of /f stays open: the locks on /f go anyway
    CHECK_FALSE(held(f_inode));
    CHECK(held(g_inode));
    const int b2 = *table->insert(open("/f"), true);
    relock();
    REQUIRE(table->duplicate_to(c, a, false, true));  // dup2 over a descriptor of /f
    CHECK_FALSE(held(f_inode));
    CHECK(held(g_inode));
    relock();
    table->close_all_on_exec();  // b2 was close-on-exec
    CHECK_FALSE(held(f_inode));
    CHECK(held(g_inode));
    REQUIRE(table->insert(open("/f"), false));
    relock();
    table->close_range(0, 2);
    CHECK_FALSE(held(f_inode));
    CHECK_FALSE(held(g_inode));
    // A fork copy has its own owner; the original's locks go with its destruction.
    REQUIRE(table->insert(open("/f"), false));
    relock();
    auto copy = table->clone();
    const auto copy_owner = std::dynamic_pointer_cast<fs::RecordLocks<TestPlatform>::Owner>(copy->observer());
    REQUIRE(copy_owner);
    CHECK(copy_owner->id() != id);
    table.reset();
    CHECK(locks.count() == 0);
    (void)b2;
}

TEST_CASE("locks: OFD locks go with the open file description", "[fs][locks]") {
    litebox::test::FsFixture<TestPlatform> f;
    REQUIRE(f.write_file("/f", "data"));
    auto& locks = f.vfs->locks();
    const auto inode = f.vfs->resolve(f.root, f.cwd, "/f")->inode;
    auto file = *f.vfs->open(f.root, f.cwd, "/f", fd::open_flags::read_write, 0);
    auto* description = dynamic_cast<fs::FileHandle<TestPlatform>*>(file.get());
    REQUIRE(description != nullptr);
    const std::uint64_t ofd = fs::RecordLocks<TestPlatform>::description_owner(*description);
    REQUIRE(locks.set(inode, lock(lt::write, 0, fs::lock_to_eof, ofd), nullptr, description));
    CHECK(err(locks.set(inode, lock(lt::read, 5, 5, 1))) == Errno::again);
    auto copy = file;  // another reference (a dup, a fork): the lock stays
    file.reset();
    CHECK(err(locks.set(inode, lock(lt::read, 5, 5, 1))) == Errno::again);
    copy.reset();
    CHECK(locks.count() == 0);
    CHECK(locks.set(inode, lock(lt::read, 5, 5, 1)));
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
