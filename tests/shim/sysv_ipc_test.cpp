// System V semaphores, message queues and shared memory through raw syscalls: keys and ids,
// permissions, atomic semop with SEM_UNDO and waiting, msgsnd/msgrcv's selection rules, shmat's
// checks and removal while attached (the runtime's side: shm_attach, shm_attached,
// shm_detached), limits.
#include <chrono>
#include <cstdint>
#include <thread>

#include <litebox/shim/linux/sysv_ipc.hpp>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;
namespace sv = lx::sysv;

constexpr std::uint32_t creat = sv::ipc_creat, excl = sv::ipc_excl;

/// A semop of one operation.
std::uint64_t put_ops(GuestAddressSpace& mem, std::initializer_list<sv::sembuf> ops) {
    const auto address = mem.allocate(sizeof(sv::sembuf) * ops.size());
    std::size_t i = 0;
    for (const auto& op : ops) mem.put(address + i++ * sizeof(sv::sembuf), op);
    return address;
}

TEST_CASE("semget finds sets by key, semop is all or nothing, SEM_UNDO is undone at exit", "[shim][sysv]") {
    ShimFixture<> f;
    CHECK(f.call(lx::nr::semget, 77, 2, 0600) == err(Errno::noent));
    const auto id = f.call(lx::nr::semget, 77, 2, creat | 0600);
    REQUIRE(id >= 0);
    CHECK(f.call(lx::nr::semget, 77, 2, 0600) == id);
    CHECK(f.call(lx::nr::semget, 77, 1, creat) == id);  // fewer is fine
    CHECK(f.call(lx::nr::semget, 77, 3, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::semget, 77, 2, creat | excl | 0600) == err(Errno::exist));
    const auto other = f.call(lx::nr::semget, sv::ipc_private, 1, 0600);
    REQUIRE(other >= 0);
    CHECK(other != id);
    CHECK(f.call(lx::nr::semget, sv::ipc_private, 0, 0600) == err(Errno::inval));

    // Values, and an operation list that cannot complete changes nothing.
    CHECK(f.call(lx::nr::semctl, id, 0, sv::sem_setval, 3) == 0);
    CHECK(f.call(lx::nr::semctl, id, 0, sv::sem_getval, 0) == 3);
    const auto nowait = static_cast<std::int16_t>(sv::ipc_nowait);
    auto ops = put_ops(f.mem, {{0, -2, 0}, {1, -1, nowait}});
    CHECK(f.call(lx::nr::semop, id, ops, 2) == err(Errno::again));
    CHECK(f.call(lx::nr::semctl, id, 0, sv::sem_getval, 0) == 3);
    ops = put_ops(f.mem, {{0, -2, 0}, {1, 5, 0}});
    CHECK(f.call(lx::nr::semop, id, ops, 2) == 0);
    CHECK(f.call(lx::nr::semctl, id, 0, sv::sem_getval, 0) == 1);
    CHECK(f.call(lx::nr::semctl, id, 1, sv::sem_getval, 0) == 5);
    CHECK(f.call(lx::nr::semctl, id, 1, sv::sem_getpid, 0) == 1);
    ops = put_ops(f.mem, {{2, 1, 0}});
    CHECK(f.call(lx::nr::semop, id, ops, 1) == err(Errno::fbig));
    ops = put_ops(f.mem, {{0, 32767, 0}});
    CHECK(f.call(lx::nr::semop, id, ops, 1) == err(Errno::range));
    CHECK(f.call(lx::nr::semop, id, ops, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::semop, -1, 0, 1) == err(Errno::inval));  // before the operations are read
    CHECK(f.call(lx::nr::semop, id, ops, 501) == err(Errno::toobig));
    const auto all = f.mem.allocate(4);
    CHECK(f.call(lx::nr::semctl, id, 0, sv::sem_getall, all) == 0);
    CHECK(f.mem.get<std::uint16_t>(all) == 1);
    CHECK(f.mem.get<std::uint16_t>(all + 2) == 5);

    // A child takes with SEM_UNDO; its exit gives back.
    auto child = f.fork(*f.init);
    const auto undo = static_cast<std::int16_t>(sv::sem_undo);
    ops = put_ops(f.mem, {{1, -4, undo}, {0, 2, undo}});
    CHECK(f.call_on(*child, lx::nr::semop, id, ops, 2) == 0);
    CHECK(f.call(lx::nr::semctl, id, 1, sv::sem_getval, 0) == 1);
    CHECK(f.call(lx::nr::semctl, id, 0, sv::sem_getval, 0) == 3);
    f.call_on(*child, lx::nr::exit_group, 0);
    CHECK(f.call(lx::nr::semctl, id, 1, sv::sem_getval, 0) == 5);
    CHECK(f.call(lx::nr::semctl, id, 0, sv::sem_getval, 0) == 1);

    // SETVAL clears the adjustments: nothing is undone afterwards.
    auto second = f.fork(*f.init);
    ops = put_ops(f.mem, {{0, 1, undo}});
    CHECK(f.call_on(*second, lx::nr::semop, id, ops, 1) == 0);
    CHECK(f.call(lx::nr::semctl, id, 0, sv::sem_setval, 10) == 0);
    f.call_on(*second, lx::nr::exit_group, 0);
    CHECK(f.call(lx::nr::semctl, id, 0, sv::sem_getval, 0) == 10);
    CHECK(f.call(lx::nr::semctl, id, 0, sv::sem_setval, 32768) == err(Errno::range));
    CHECK(f.call(lx::nr::semctl, id, 5, sv::sem_getval, 0) == err(Errno::inval));

    // IPC_STAT, IPC_RMID; the old id is gone for good.
    const auto ds = f.mem.allocate(sizeof(sv::semid64_ds));
    CHECK(f.call(lx::nr::semctl, id, 0, sv::ipc_stat, ds) == 0);
    const auto st = f.mem.get<sv::semid64_ds>(ds);
    CHECK(st.sem_nsems == 2);
    CHECK(st.sem_perm.key == 77);
    CHECK(st.sem_perm.mode == 0600);
    CHECK(st.sem_perm.uid == 1000);
    CHECK(st.sem_otime > 0);
    CHECK(f.call(lx::nr::semctl, id, 0, sv::ipc_rmid, 0) == 0);
    CHECK(f.call(lx::nr::semctl, id, 0, sv::sem_getval, 0) == err(Errno::inval));
    const auto again = f.call(lx::nr::semget, 77, 1, creat | 0600);
    REQUIRE(again >= 0);
    CHECK(again != id);
    CHECK(f.call(lx::nr::semctl, id, 0, sv::sem_getval, 0) == err(Errno::inval));
    const auto info = f.mem.allocate(sizeof(sv::seminfo));
    CHECK(f.call(lx::nr::semctl, 0, 0, sv::sem_info, info) >= 0);
    CHECK(f.mem.get<sv::seminfo>(info).semusz == 2);  // sets in use
    CHECK(f.mem.get<sv::seminfo>(info).semaem == 2);  // semaphores in use
}

TEST_CASE("a semop waits until it can complete, is counted by GETNCNT, and sees its set removed", "[shim][sysv]") {
    ShimFixture<> f;
    const auto id = f.call(lx::nr::semget, sv::ipc_private, 1, 0600);
    REQUIRE(id >= 0);
    auto child = f.fork(*f.init);
    const auto take = put_ops(f.mem, {{0, -1, 0}});
    std::int64_t taken = -1;
    std::thread waiter([&] { taken = f.call_on(*child, lx::nr::semop, id, take, 1); });
    for (int i = 0; i < 500 && f.call(lx::nr::semctl, id, 0, sv::sem_getncnt, 0) != 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    CHECK(f.call(lx::nr::semctl, id, 0, sv::sem_getncnt, 0) == 1);
    const auto give = put_ops(f.mem, {{0, 1, 0}});
    CHECK(f.call(lx::nr::semop, id, give, 1) == 0);
    waiter.join();
    CHECK(taken == 0);
    CHECK(f.call(lx::nr::semctl, id, 0, sv::sem_getval, 0) == 0);
    CHECK(f.call(lx::nr::semctl, id, 0, sv::sem_getncnt, 0) == 0);

    // A timed wait gives up with EAGAIN; a wait for zero ends with the removal (EIDRM).
    const auto timeout = f.mem.allocate(sizeof(lx::abi::timespec));
    f.mem.put(timeout, lx::abi::timespec{0, 20'000'000});
    const auto sleepers = VirtualClock::instance().timed_sleepers();
    std::int64_t timed = -1;
    std::thread timed_waiter([&] { timed = f.call(lx::nr::semtimedop, id, take, 1, timeout); });
    VirtualClock::instance().wait_for_timed_sleepers(sleepers + 1);
    TestPlatform::advance(std::chrono::milliseconds(20));
    timed_waiter.join();
    CHECK(timed == err(Errno::again));
    f.mem.put(timeout, lx::abi::timespec{0, 2'000'000'000});
    CHECK(f.call(lx::nr::semtimedop, id, take, 1, timeout) == err(Errno::inval));
    CHECK(f.call(lx::nr::semop, id, give, 1) == 0);
    const auto zero = put_ops(f.mem, {{0, 0, 0}});
    std::int64_t waited = -1;
    std::thread zero_waiter([&] { waited = f.call_on(*child, lx::nr::semop, id, zero, 1); });
    for (int i = 0; i < 500 && f.call(lx::nr::semctl, id, 0, sv::sem_getzcnt, 0) != 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    CHECK(f.call(lx::nr::semctl, id, 0, sv::ipc_rmid, 0) == 0);
    zero_waiter.join();
    CHECK(waited == err(Errno::idrm));
}

TEST_CASE("permissions and ownership of System V objects", "[shim][sysv]") {
    lx::ShimConfig config;
    config.initial_uid = config.initial_gid = 0;
    ShimFixture<> f(config);
    auto user = f.fork(*f.init);
    REQUIRE(f.call_on(*user, lx::nr::setresgid, 1000, 1000, 1000) == 0);
    REQUIRE(f.call_on(*user, lx::nr::setresuid, 1000, 1000, 1000) == 0);
    const auto sem = f.call(lx::nr::semget, 5, 1, creat | 0640);
    const auto queue = f.call(lx::nr::msgget, 6, creat | 0604);
    REQUIRE(sem >= 0);
    REQUIRE(queue >= 0);
    CHECK(f.call_on(*user, lx::nr::semget, 5, 1, 0) == sem);  // no bits asked
    CHECK(f.call_on(*user, lx::nr::semget, 5, 1, 0400) == err(Errno::acces));
    CHECK(f.call_on(*user, lx::nr::semctl, sem, 0, sv::sem_getval, 0) == err(Errno::acces));
    CHECK(f.call_on(*user, lx::nr::semctl, sem, 0, sv::ipc_rmid, 0) == err(Errno::perm));
    const auto buffer = f.mem.allocate(64);
    f.mem.put<std::int64_t>(buffer, 1);
    CHECK(f.call_on(*user, lx::nr::msgsnd, queue, buffer, 4, sv::ipc_nowait) == err(Errno::acces));  // others: read only
    CHECK(f.call(lx::nr::msgsnd, queue, buffer, 4, 0) == 0);
    CHECK(f.call_on(*user, lx::nr::msgrcv, queue, buffer, 64, 0, 0) == 4);
    // IPC_SET hands the set to the user, who may then remove it.
    const auto ds = f.mem.allocate(sizeof(sv::semid64_ds));
    CHECK(f.call(lx::nr::semctl, sem, 0, sv::ipc_stat, ds) == 0);
    auto st = f.mem.get<sv::semid64_ds>(ds);
    st.sem_perm.uid = 1000;
    st.sem_perm.mode = 0600;
    f.mem.put(ds, st);
    CHECK(f.call(lx::nr::semctl, sem, 0, sv::ipc_set, ds) == 0);
    CHECK(f.call_on(*user, lx::nr::semctl, sem, 0, sv::sem_getval, 0) == 0);
    auto invalid = st;
    invalid.sem_perm.gid = sv::no_id;
    f.mem.put(ds, invalid);
    CHECK(f.call(lx::nr::semctl, sem, 0, sv::ipc_set, ds) == err(Errno::inval));
    CHECK(f.call_on(*user, lx::nr::semctl, sem, 0, sv::ipc_rmid, 0) == 0);
    // msg_qbytes: above the default only for root, above the box's most for nobody.
    const auto mds = f.mem.allocate(sizeof(sv::msqid64_ds));
    CHECK(f.call(lx::nr::msgctl, queue, sv::ipc_stat, mds) == 0);
    auto m = f.mem.get<sv::msqid64_ds>(mds);
    CHECK(m.msg_qbytes == 16384);
    m.msg_qbytes = 65536;
    m.msg_perm.uid = 1000;
    f.mem.put(mds, m);
    CHECK(f.call(lx::nr::msgctl, queue, sv::ipc_set, mds) == 0);
    CHECK(f.call_on(*user, lx::nr::msgctl, queue, sv::ipc_set, mds) == err(Errno::perm));
    m.msg_qbytes = 2u << 20;
    f.mem.put(mds, m);
    CHECK(f.call(lx::nr::msgctl, queue, sv::ipc_set, mds) == err(Errno::perm));
}

TEST_CASE("msgsnd and msgrcv: types, MSG_EXCEPT, lowest type, truncation, MSG_COPY, a full queue", "[shim][sysv]") {
    ShimFixture<> f;
    const auto q = f.call(lx::nr::msgget, sv::ipc_private, 0600);
    REQUIRE(q >= 0);
    const auto buffer = f.mem.allocate(16 * 1024);
    auto send = [&](std::int64_t type, std::string_view text, std::uint32_t flags = 0) {
        f.mem.put<std::int64_t>(buffer, type);
        for (std::size_t i = 0; i < text.size(); ++i) f.mem.put<char>(buffer + 8 + i, text[i]);
        return f.call(lx::nr::msgsnd, q, buffer, text.size(), flags);
    };
    auto receive = [&](std::int64_t type, std::uint32_t flags = 0, std::size_t size = 64) -> std::pair<std::int64_t, std::string> {
        const auto n = f.call(lx::nr::msgrcv, q, buffer, size, type, flags | sv::ipc_nowait);
        if (n < 0) return {n, {}};
        std::string text;
        for (std::int64_t i = 0; i < n; ++i) text += f.mem.get<char>(buffer + 8 + static_cast<std::uint64_t>(i));
        return {f.mem.get<std::int64_t>(buffer), text};
    };
    CHECK(send(0, "x") == err(Errno::inval));
    CHECK(send(1, std::string(8193, 'x')) == err(Errno::inval));
    REQUIRE(send(3, "three") == 0);
    REQUIRE(send(1, "one") == 0);
    REQUIRE(send(2, "two") == 0);
    REQUIRE(send(1, "uno") == 0);
    CHECK(receive(2) == std::pair<std::int64_t, std::string>{2, "two"});
    CHECK(receive(3, sv::msg_except) == std::pair<std::int64_t, std::string>{1, "one"});
    CHECK(receive(1, sv::msg_copy) == std::pair<std::int64_t, std::string>{1, "uno"});  // by position, left in place
    CHECK(receive(-5) == std::pair<std::int64_t, std::string>{1, "uno"});  // the lowest type first
    CHECK(receive(9).first == err(Errno::nomsg));
    CHECK(receive(0, 0, 2).first == err(Errno::toobig));
    CHECK(receive(0, sv::msg_noerror, 2) == std::pair<std::int64_t, std::string>{3, "th"});
    CHECK(receive(0).first == err(Errno::nomsg));
    CHECK(f.call(lx::nr::msgrcv, q, buffer, 64, 0, sv::msg_copy) == err(Errno::inval));  // MSG_COPY needs IPC_NOWAIT
    REQUIRE(send(4, "four") == 0);
    CHECK(receive(0, sv::msg_copy | sv::msg_noerror, 2).first == err(Errno::inval));  // no truncated copy
    CHECK(receive(0).first == 4);

    // A full queue: EAGAIN with IPC_NOWAIT; a blocked sender goes on once a receiver makes room.
    const std::string big(8192, 'b');
    REQUIRE(send(1, big) == 0);
    REQUIRE(send(1, big) == 0);
    CHECK(send(1, "x", sv::ipc_nowait) == err(Errno::again));
    auto child = f.fork(*f.init);
    const auto small = f.mem.allocate(16);
    f.mem.put<std::int64_t>(small, 7);
    std::int64_t sent = -1;
    std::thread sender([&] { sent = f.call_on(*child, lx::nr::msgsnd, q, small, 1, 0); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(sent == -1);
    CHECK(receive(1, 0, 8192).first == 1);
    sender.join();
    CHECK(sent == 0);
    const auto ds = f.mem.allocate(sizeof(sv::msqid64_ds));
    CHECK(f.call(lx::nr::msgctl, q, sv::ipc_stat, ds) == 0);
    const auto st = f.mem.get<sv::msqid64_ds>(ds);
    CHECK(st.msg_qnum == 2);
    CHECK(st.msg_cbytes == 8193);
    CHECK(st.msg_lspid == 2);
    CHECK(st.msg_lrpid == 1);
    // A receiver waiting on a removed queue: EIDRM.
    std::int64_t got = 0;
    std::thread receiver([&] { got = f.call_on(*child, lx::nr::msgrcv, q, buffer, 64, 99, 0); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(f.call(lx::nr::msgctl, q, sv::ipc_rmid, 0) == 0);
    receiver.join();
    CHECK(got == err(Errno::idrm));
    CHECK(f.call(lx::nr::msgctl, q, sv::ipc_stat, ds) == err(Errno::inval));
}

TEST_CASE("System V limits: sets, semaphores and queues are bounded (ENOSPC)", "[shim][sysv]") {
    lx::ShimConfig config;
    config.sysv.sem_sets = 2;
    config.sysv.sems_total = 10;
    config.sysv.msg_queues = 1;
    ShimFixture<> f(config);
    CHECK(f.call(lx::nr::semget, sv::ipc_private, 8, 0600) >= 0);
    CHECK(f.call(lx::nr::semget, sv::ipc_private, 3, 0600) == err(Errno::nospc));
    CHECK(f.call(lx::nr::semget, sv::ipc_private, 2, 0600) >= 0);
    CHECK(f.call(lx::nr::semget, sv::ipc_private, 1, 0600) == err(Errno::nospc));
    CHECK(f.call(lx::nr::msgget, sv::ipc_private, 0600) >= 0);
    CHECK(f.call(lx::nr::msgget, sv::ipc_private, 0600) == err(Errno::nospc));
    const auto info = f.mem.allocate(sizeof(sv::msginfo));
    CHECK(f.call(lx::nr::msgctl, 0, sv::ipc_info, info) == 0);
    CHECK(f.mem.get<sv::msginfo>(info).msgmni == 1);
    CHECK(f.mem.get<sv::msginfo>(info).msgmax == 8192);
}

TEST_CASE("shmget and shmctl: keys, sizes, IPC_STAT, attaching (the runtime's checks), removal while attached", "[shim][sysv]") {
    ShimFixture<> f;
    CHECK(f.call(lx::nr::shmget, 9, 100, 0600) == err(Errno::noent));
    const auto id = f.call(lx::nr::shmget, 9, 5000, creat | 0600);
    REQUIRE(id >= 0);
    CHECK(f.call(lx::nr::shmget, 9, 5000, 0) == id);
    CHECK(f.call(lx::nr::shmget, 9, 5001, 0) == err(Errno::inval));  // larger than the segment
    CHECK(f.call(lx::nr::shmget, 9, 10, creat | excl) == err(Errno::exist));
    CHECK(f.call(lx::nr::shmget, sv::ipc_private, 0, 0600) == err(Errno::inval));
    CHECK(f.call(lx::nr::shmget, sv::ipc_private, 4096, sv::shm_hugetlb | 0600) == err(Errno::inval));
    CHECK(f.call(lx::nr::shmat, id, 0, 0) == err(Errno::nosys));  // mapping is the runtime's
    CHECK(f.call(lx::nr::shmdt, 0) == err(Errno::nosys));

    const auto ds = f.mem.allocate(sizeof(sv::shmid64_ds));
    CHECK(f.call(lx::nr::shmctl, id, sv::ipc_stat, ds) == 0);
    auto st = f.mem.get<sv::shmid64_ds>(ds);
    CHECK(st.shm_perm.key == 9);
    CHECK(st.shm_perm.mode == 0600);
    CHECK(st.shm_perm.uid == 1000);
    CHECK(st.shm_segsz == 5000);
    CHECK(st.shm_cpid == 1);
    CHECK(st.shm_lpid == 0);
    CHECK(st.shm_nattch == 0);
    CHECK(st.shm_atime == 0);

    // shmat's checks, in Linux's order: the address, then the segment and the permission.
    CHECK(lx::shm_attach(*f.init, id, 4097, 0).error() == Errno::inval);  // unaligned, no SHM_RND
    CHECK(lx::shm_attach(*f.init, id, 0, sv::shm_remap).error() == Errno::inval);
    CHECK(lx::shm_attach(*f.init, id + 1, 0, 0).error() == Errno::inval);
    auto rounded = lx::shm_attach(*f.init, id, 0x10005, sv::shm_rnd);
    REQUIRE(rounded);
    CHECK(rounded->address == 0x10000);
    CHECK(rounded->fixed);
    CHECK_FALSE(rounded->replace);
    CHECK(rounded->length == 8192);  // whole pages
    CHECK(rounded->prot == 3);
    CHECK(lx::shm_attach(*f.init, id, 0, sv::shm_rdonly | sv::shm_exec).error() == Errno::acces);  // 0600: no x bit
    auto read_only = lx::shm_attach(*f.init, id, 0, sv::shm_rdonly);
    REQUIRE(read_only);
    CHECK(read_only->prot == 1);
    CHECK(read_only->read_only);
    CHECK_FALSE(read_only->fixed);

    // Attached twice (as the runtime reports), then removed: it stays, marked, with a private key.
    lx::shm_attached(*f.init, *rounded->segment);
    lx::shm_attached(*f.init, *read_only->segment);
    CHECK(f.call(lx::nr::shmctl, id, sv::ipc_rmid, 0) == 0);
    CHECK(f.call(lx::nr::shmctl, id, sv::ipc_stat, ds) == 0);
    st = f.mem.get<sv::shmid64_ds>(ds);
    CHECK(st.shm_nattch == 2);
    CHECK(st.shm_perm.key == 0);
    CHECK(st.shm_perm.mode == (0600 | sv::shm_dest));
    CHECK(st.shm_lpid == 1);
    CHECK(st.shm_atime != 0);
    CHECK(f.call(lx::nr::shmget, 9, 100, 0) == err(Errno::noent));  // its key is gone
    CHECK(lx::shm_attach(*f.init, id, 0, 0));                        // its id is not (Linux)
    lx::shm_detached(*f.init, *rounded->segment);
    CHECK(f.call(lx::nr::shmctl, id, sv::ipc_stat, ds) == 0);
    lx::shm_detached(*f.init, *rounded->segment);  // the last one: it goes
    CHECK(f.call(lx::nr::shmctl, id, sv::ipc_stat, ds) == err(Errno::inval));

    // IPC_SET and permissions for another user; removal with nothing attached is at once.
    const auto other = f.call(lx::nr::shmget, sv::ipc_private, 100, 0640);
    REQUIRE(other >= 0);
    CHECK(f.call(lx::nr::shmctl, other, sv::ipc_stat, ds) == 0);
    st = f.mem.get<sv::shmid64_ds>(ds);
    st.shm_perm.mode = 0400;
    f.mem.put(ds, st);
    CHECK(f.call(lx::nr::shmctl, other, sv::ipc_set, ds) == 0);
    CHECK(lx::shm_attach(*f.init, other, 0, 0).error() == Errno::acces);  // read-write needs write
    CHECK(lx::shm_attach(*f.init, other, 0, sv::shm_rdonly));
    CHECK(f.call(lx::nr::shmctl, other, sv::shm_lock, 0) == 0);
    CHECK(f.call(lx::nr::shmctl, other, sv::ipc_stat, ds) == 0);
    CHECK(f.mem.get<sv::shmid64_ds>(ds).shm_perm.mode == (0400 | sv::shm_locked));
    CHECK(f.call(lx::nr::shmctl, other, sv::ipc_rmid, 0) == 0);
    CHECK(f.call(lx::nr::shmctl, other, sv::ipc_stat, ds) == err(Errno::inval));
    CHECK(f.call(lx::nr::shmctl, other, 99, ds) == err(Errno::inval));
}

TEST_CASE("System V shared memory limits: segments, segment size and all segments together", "[shim][sysv]") {
    lx::ShimConfig config;
    config.sysv.shm_segments = 3;
    config.sysv.shm_segment_bytes = 64 * 1024;
    config.sysv.shm_total_bytes = 96 * 1024;
    ShimFixture<> f(config);
    CHECK(f.call(lx::nr::shmget, sv::ipc_private, 64 * 1024 + 1, 0600) == err(Errno::inval));
    CHECK(f.call(lx::nr::shmget, sv::ipc_private, 64 * 1024, 0600) >= 0);
    CHECK(f.call(lx::nr::shmget, sv::ipc_private, 32 * 1024 + 1, 0600) == err(Errno::nospc));  // 9 pages
    const auto small = f.call(lx::nr::shmget, sv::ipc_private, 1, 0600);  // one page
    CHECK(small >= 0);
    CHECK(f.call(lx::nr::shmget, sv::ipc_private, 1, 0600) >= 0);
    CHECK(f.call(lx::nr::shmget, sv::ipc_private, 1, 0600) == err(Errno::nospc));  // 3 segments
    CHECK(f.call(lx::nr::shmctl, small, sv::ipc_rmid, 0) == 0);
    CHECK(f.call(lx::nr::shmget, sv::ipc_private, 1, 0600) >= 0);  // room again
    const auto info = f.mem.allocate(sizeof(sv::shminfo64));
    CHECK(f.call(lx::nr::shmctl, 0, sv::ipc_info, info) == 3);  // the highest index in use (indices cycle on)
    const auto limits = f.mem.get<sv::shminfo64>(info);
    CHECK(limits.shmmni == 3);
    CHECK(limits.shmmax == 64 * 1024);
    CHECK(limits.shmall == 24);
    const auto usage = f.mem.allocate(sizeof(sv::shm_info_ds));
    CHECK(f.call(lx::nr::shmctl, 0, sv::shm_info, usage) == 3);
    CHECK(f.mem.get<sv::shm_info_ds>(usage).used_ids == 3);
    CHECK(f.mem.get<sv::shm_info_ds>(usage).shm_tot == 18);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
