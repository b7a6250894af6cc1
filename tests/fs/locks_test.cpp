// Advisory record locks: conflicts, replacement and splitting, F_GETLK, blocking F_SETLKW,
// deadlock detection and interruption.
#include "fs_fixture.hpp"

#include <atomic>
#include <thread>

#include "support/platforms.hpp"
#include "support/test_platform.hpp"

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
    REQUIRE(locks.set(inode, lock(lt::read, 0, 99, 1), false));
    REQUIRE(locks.set(inode, lock(lt::read, 50, 149, 2), false));  // shared reads
    CHECK(err(locks.set(inode, lock(lt::write, 120, 130, 3), false)) == Errno::again);
    auto probe = locks.test(inode, lock(lt::write, 0, fs::lock_to_eof, 3));
    REQUIRE(probe);
    CHECK(probe->type == lt::read);
    CHECK(probe->owner == 1);
    CHECK(locks.test(inode, lock(lt::read, 0, 10, 3))->type == lt::unlock);
    // Owner 1 unlocks the middle of its range: two pieces remain.
    REQUIRE(locks.set(inode, lock(lt::unlock, 10, 19, 1), false));
    CHECK(locks.count() == 3);
    CHECK(locks.set(inode, lock(lt::write, 10, 19, 3), false));
    // An owner's own locks never conflict; upgrading replaces them.
    REQUIRE(locks.set(inode, lock(lt::write, 150, 200, 2), false));
    REQUIRE(locks.set(inode, lock(lt::write, 201, 300, 2), false));  // merges with the previous one
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
    REQUIRE(locks.set(inode, lock(lt::write, 0, 9, 1), false));
    REQUIRE(locks.set(inode, lock(lt::write, 20, 29, 2), false));
    std::atomic<bool> acquired{false};
    std::thread waiter([&] {
        auto r = locks.set(inode, lock(lt::write, 20, 25, 1), true);  // owner 1 waits for owner 2
        acquired = r.has_value();
    });
    // Owner 2 asking for owner 1's range would close the cycle.
    while (!locks.is_waiting(1)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    CHECK(err(locks.set(inode, lock(lt::write, 0, 5, 2), true)) == Errno::deadlk);
    CHECK_FALSE(acquired.load());
    REQUIRE(locks.set(inode, lock(lt::unlock, 0, fs::lock_to_eof, 2), false));
    waiter.join();
    CHECK(acquired.load());
    // Interruption.
    std::atomic<int> outcome{-1};
    std::thread blocked([&] {
        auto r = locks.set(inode, lock(lt::read, 0, 0, 3), true);
        outcome = r ? 0 : static_cast<int>(r.error());
    });
    while (!locks.is_waiting(3)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    while (outcome.load() == -1) {
        locks.interrupt(3);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    blocked.join();
    CHECK(outcome.load() == static_cast<int>(Errno::intr));
}
