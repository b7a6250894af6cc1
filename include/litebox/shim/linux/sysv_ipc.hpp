// System V semaphores and message queues (semget, semop, semtimedop, semctl, msgget, msgsnd,
// msgrcv, msgctl): one IPC namespace per box, held by the Kernel, with Linux's semantics.
//
// - Objects are found by key (IPC_PRIVATE always makes a new one) and named by an id of
//   sequence * 32768 + index, numbered as Linux numbers them (indices given out in a cycle, the
//   sequence bumped when it wraps), so a stale id of a removed object is EINVAL, not its
//   successor. Permissions are Linux's ipcperms (owner or creator, then group, then
//   others; euid 0 passes as CAP_IPC_OWNER), IPC_SET and IPC_RMID need the owner, the creator or
//   euid 0 (EPERM).
// - semop/semtimedop apply all operations or none, in order, with SEM_UNDO (undone when the
//   process exits; SETVAL/SETALL clear the adjustments), IPC_NOWAIT (EAGAIN), blocking
//   (interruptible; never restarted after a handler, as on Linux; semtimedop's timeout: EAGAIN),
//   GETNCNT/GETZCNT counting the waiters, and EIDRM for a waiter whose set is removed.
// - msgsnd/msgrcv: a queue holds at most msg_qbytes bytes and as many messages; msgrcv takes the
//   first message, the first of a type, the first not of a type (MSG_EXCEPT) or the first of the
//   lowest type up to a bound, with MSG_NOERROR (truncate) or E2BIG, and MSG_COPY (peek by
//   position). Blocking like semop.
// - Limits (ShimConfig::sysv, shown by IPC_INFO): sets, semaphores per set and in all, operations
//   per semop; queues, bytes per message, default and largest msg_qbytes (raising a queue above
//   the default needs euid 0, as CAP_SYS_RESOURCE; above the largest nobody may), messages per
//   queue -- the box's bound on what a guest can keep queued. ENOSPC when the box has no room for
//   another object.
// - Shared memory: shmget and shmctl are here; a segment's bytes are a file of the kernel's memfd
//   tmpfs (its quota counts them), created at the segment's size. Attaching maps memory, which only
//   a runtime can do: shmat and shmdt are the runtime's (litebox-run rewrites them into an mmap of
//   the segment's file and a munmap), through shm_attach, shm_attached and shm_detached here. How
//   many attachments a segment has (shm_nattch) is what the runtime's counter says (it counts the
//   host's mappings, so fork, exec, exit and munmap are all seen), or else what the runtime
//   reported. A segment removed while attached keeps its id, with SHM_DEST and a private key,
//   until its last detach (collect_destroyed).
// - Shared memory limits: segments, the largest segment and all segments together (in whole
//   pages), plus the memfd tmpfs quota.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../../event/blocking.hpp"
#include "../../fs/tmpfs.hpp"
#include "../../event/pollee.hpp"
#include "../../sync/mutex.hpp"
#include "kernel.hpp"
#include "poll.hpp"
#include "time.hpp"

namespace litebox::shim::linux_abi {

namespace sysv {

inline constexpr std::int32_t ipc_private = 0;
inline constexpr std::uint32_t ipc_creat = 01000, ipc_excl = 02000, ipc_nowait = 04000;
inline constexpr std::int32_t ipc_rmid = 0, ipc_set = 1, ipc_stat = 2, ipc_info = 3;
inline constexpr std::int32_t sem_getpid = 11, sem_getval = 12, sem_getall = 13, sem_getncnt = 14, sem_getzcnt = 15,
                              sem_setval = 16, sem_setall = 17, sem_stat = 18, sem_info = 19, sem_stat_any = 20;
inline constexpr std::int32_t msg_stat = 11, msg_info = 12, msg_stat_any = 13;
inline constexpr std::int32_t shm_lock = 11, shm_unlock = 12, shm_stat = 13, shm_info = 14, shm_stat_any = 15;
inline constexpr std::uint32_t shm_hugetlb = 04000, shm_noreserve = 010000;  // shmget
inline constexpr std::uint32_t shm_rdonly = 010000, shm_rnd = 020000, shm_remap = 040000, shm_exec = 0100000;  // shmat
inline constexpr std::uint32_t shm_dest = 01000, shm_locked = 02000;  // in shm_perm.mode
inline constexpr std::uint64_t shm_page = 4096;  // PAGE_SIZE, and SHMLBA on x86-64
inline constexpr std::uint32_t sem_undo = 0x1000;
inline constexpr std::uint32_t msg_noerror = 010000, msg_except = 020000, msg_copy = 040000;
inline constexpr int semvmx = 32767;  // largest semaphore value
inline constexpr int semaem = 32767;  // largest undo adjustment
inline constexpr std::uint32_t ipcmni = 32768;  // ids: sequence * ipcmni + index
inline constexpr std::uint32_t no_id = 0xffffffffu;  // (uid_t)-1: not a valid owner (IPC_SET: EINVAL)

/// struct ipc64_perm (x86-64).
struct ipc64_perm {
    std::int32_t key;
    std::uint32_t uid, gid, cuid, cgid;
    std::uint16_t mode;
    std::uint8_t pad1[2];
    std::uint16_t seq;
    std::uint16_t pad2;
    std::uint64_t unused1, unused2;
};
static_assert(sizeof(ipc64_perm) == 48);

struct semid64_ds {
    ipc64_perm sem_perm;
    std::int64_t sem_otime;
    std::uint64_t unused1;
    std::int64_t sem_ctime;
    std::uint64_t unused2;
    std::uint64_t sem_nsems;
    std::uint64_t unused3, unused4;
};
static_assert(sizeof(semid64_ds) == 104);

struct msqid64_ds {
    ipc64_perm msg_perm;
    std::int64_t msg_stime, msg_rtime, msg_ctime;
    std::uint64_t msg_cbytes, msg_qnum, msg_qbytes;
    std::int32_t msg_lspid, msg_lrpid;
    std::uint64_t unused4, unused5;
};
static_assert(sizeof(msqid64_ds) == 120);

struct shmid64_ds {
    ipc64_perm shm_perm;
    std::uint64_t shm_segsz;
    std::int64_t shm_atime, shm_dtime, shm_ctime;
    std::int32_t shm_cpid, shm_lpid;
    std::uint64_t shm_nattch;
    std::uint64_t unused4, unused5;
};
static_assert(sizeof(shmid64_ds) == 112);

struct shminfo64 {
    std::uint64_t shmmax, shmmin, shmmni, shmseg, shmall;
    std::uint64_t unused1, unused2, unused3, unused4;
};
static_assert(sizeof(shminfo64) == 72);

/// struct shm_info (SHM_INFO's answer; the name is the command's here).
struct shm_info_ds {
    std::int32_t used_ids;
    std::uint64_t shm_tot, shm_rss, shm_swp, swap_attempts, swap_successes;
};
static_assert(sizeof(shm_info_ds) == 48);

struct seminfo {
    std::int32_t semmap, semmni, semmns, semmnu, semmsl, semopm, semume, semusz, semvmx, semaem;
};
static_assert(sizeof(seminfo) == 40);

struct msginfo {
    std::int32_t msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql;
    std::uint16_t msgseg;
};
static_assert(sizeof(msginfo) == 32);

struct sembuf {
    std::uint16_t sem_num;
    std::int16_t sem_op;
    std::int16_t sem_flg;
};
static_assert(sizeof(sembuf) == 6);

/// The owner, creator and mode bits of one object.
struct Perm {
    std::int32_t key = 0;
    std::uint32_t uid = 0, gid = 0, cuid = 0, cgid = 0;
    std::uint32_t mode = 0;  // the low 9 bits

    /// The ABI form, for the object named `id` (its sequence number goes in `seq`).
    [[nodiscard]] ipc64_perm to_abi(std::int32_t id) const noexcept {
        const auto seq = static_cast<std::uint16_t>(static_cast<std::uint32_t>(id) / ipcmni);
        ipc64_perm p{};
        p.key = key;
        p.uid = uid;
        p.gid = gid;
        p.cuid = cuid;
        p.cgid = cgid;
        p.mode = static_cast<std::uint16_t>(mode);
        p.seq = seq;
        return p;
    }
    /// IPC_SET's change: the owner and the mode bits; EINVAL for an owner of -1.
    Result<void> update(const ipc64_perm& from) noexcept {
        if (from.uid == no_id || from.gid == no_id) return Errno::inval;
        uid = from.uid;
        gid = from.gid;
        mode = from.mode & 0777u;
        return ok();
    }
};

inline bool in_group(const Credentials& c, std::uint32_t gid) {
    return c.egid == gid || std::find(c.groups.begin(), c.groups.end(), gid) != c.groups.end();
}
/// Linux's ipcperms: `flag` holds the wanted bits in any of the three positions (0444 read,
/// 0222 write); euid 0 passes as CAP_IPC_OWNER.
inline bool permits(const Credentials& c, const Perm& p, std::uint32_t flag) {
    const std::uint32_t requested = ((flag >> 6) | (flag >> 3) | flag) & 7;
    std::uint32_t granted = p.mode;
    if (c.euid == p.cuid || c.euid == p.uid) granted >>= 6;
    else if (in_group(c, p.gid) || in_group(c, p.cgid)) granted >>= 3;
    return (requested & ~granted & 7) == 0 || c.privileged();
}
/// IPC_SET and IPC_RMID: the owner, the creator or euid 0 (CAP_SYS_ADMIN).
inline bool may_change(const Credentials& c, const Perm& p) { return c.euid == p.uid || c.euid == p.cuid || c.privileged(); }
inline constexpr std::uint32_t read_bits = 0444, write_bits = 0222;

template <typename P>
struct SemSet {
    struct Sem {
        std::uint16_t value = 0;
        std::int32_t pid = 0;
        std::uint32_t waiting_more = 0, waiting_zero = 0;  // GETNCNT, GETZCNT
    };
    Perm perm;
    std::int32_t id = 0;
    std::vector<Sem> sems;
    std::int64_t otime = 0, ctime = 0;
    bool removed = false;
    event::Pollee<P> pollee;  // notified on every change (waiters retry)
};

struct Message {
    std::int64_t type;
    std::vector<std::byte> text;
};

template <typename P>
struct MsgQueue {
    Perm perm;
    std::int32_t id = 0;
    std::deque<Message> messages;
    std::uint64_t bytes = 0, max_bytes = 0;  // msg_cbytes, msg_qbytes
    std::int32_t last_send_pid = 0, last_receive_pid = 0;
    std::int64_t stime = 0, rtime = 0, ctime = 0;
    bool removed = false;
    event::Pollee<P> pollee;
};

/// A shared memory segment: its bytes are `file`, an unnamed file of the memfd tmpfs.
template <typename P>
struct ShmSegment {
    Perm perm;
    std::int32_t id = 0;
    std::uint64_t size = 0;  // shm_segsz, as asked (mappings cover whole pages)
    typename fs::Inode<P>::Ptr file;
    std::int32_t name_key = 0;  // the key it was made with: its file's name, /SYSV%08x (IPC_RMID clears perm.key)
    std::int32_t creator_pid = 0, last_pid = 0;
    std::int64_t atime = 0, dtime = 0, ctime = 0;
    std::uint64_t attached = 0;  // as the runtime reported (shm_attached, shm_detached)
    bool destroyed = false;      // IPC_RMID while attached: SHM_DEST, the key is private
    bool locked = false;         // SHM_LOCK (the box never swaps: a flag only)

    [[nodiscard]] std::uint64_t pages() const noexcept { return size / shm_page + (size % shm_page != 0 ? 1 : 0); }
    /// The bytes its file holds (shm_rss; the box never swaps).
    [[nodiscard]] std::uint64_t resident_bytes() const {
        auto st = file->getattr();
        return st ? std::min<std::uint64_t>(static_cast<std::uint64_t>(st->blocks) * 512, pages() * shm_page) : 0;
    }
    [[nodiscard]] ipc64_perm abi_perm() const noexcept {
        ipc64_perm p = perm.to_abi(id);
        p.mode = static_cast<std::uint16_t>(p.mode | (destroyed ? shm_dest : 0) | (locked ? shm_locked : 0));
        return p;
    }
};

/// The objects of one kind, by index, with Linux's id numbering.
template <typename Object>
struct Table {
    std::map<std::uint32_t, std::shared_ptr<Object>> by_index;
    std::uint32_t sequence = 0;
    std::int64_t last_index = -1;

    std::shared_ptr<Object> find_id(std::int32_t id) const {
        if (id < 0) return nullptr;
        const auto it = by_index.find(static_cast<std::uint32_t>(id) % ipcmni);
        return it != by_index.end() && it->second->id == id ? it->second : nullptr;
    }
    std::shared_ptr<Object> find_index(std::int32_t index) const {
        if (index < 0) return nullptr;
        const auto it = by_index.find(static_cast<std::uint32_t>(index));
        return it != by_index.end() ? it->second : nullptr;
    }
    std::shared_ptr<Object> find_key(std::int32_t key) const {
        for (const auto& [index, object] : by_index)
            if (object->perm.key == key) return object;
        return nullptr;
    }
    /// Adds `object` and numbers it as Linux does: the next free index after the last one given,
    /// cycling through max(in use * 3/2, 64) indices, and the sequence number goes up each time the
    /// cycle wraps. False if `limit` objects exist.
    bool add(const std::shared_ptr<Object>& object, std::size_t limit) {
        if (by_index.size() >= limit || by_index.size() >= ipcmni) return false;
        const auto cycle = static_cast<std::int64_t>(std::min<std::size_t>(std::max<std::size_t>(by_index.size() * 3 / 2, 64), ipcmni));
        std::int64_t index = -1;
        for (std::int64_t i = last_index + 1; i < cycle && index < 0; ++i)
            if (!by_index.contains(static_cast<std::uint32_t>(i))) index = i;
        for (std::int64_t i = 0; i < cycle && index < 0; ++i)
            if (!by_index.contains(static_cast<std::uint32_t>(i))) index = i;
        if (index < 0) return false;
        if (index <= last_index) sequence = (sequence + 1) % (static_cast<std::uint32_t>(INT_MAX) / ipcmni);
        last_index = index;
        object->id = static_cast<std::int32_t>(sequence * ipcmni + static_cast<std::uint32_t>(index));
        by_index.emplace(static_cast<std::uint32_t>(index), object);
        return true;
    }
    /// The object `id` names: EINVAL if none, EACCES without the `bits` permission (read_bits,
    /// write_bits).
    Result<std::shared_ptr<Object>> checked(std::int32_t id, const Credentials& c, std::uint32_t bits) const {
        auto object = find_id(id);
        if (!object) return Errno::inval;
        if (!permits(c, object->perm, bits)) return Errno::acces;
        return object;
    }
    /// The object IPC_STAT (`by_id`) or SEM_STAT/MSG_STAT (by index) names: EINVAL if none,
    /// EACCES without read permission unless `any` (SEM_STAT_ANY, MSG_STAT_ANY).
    Result<std::shared_ptr<Object>> stat_target(bool by_id, std::int32_t id, const Credentials& c, bool any) const {
        auto object = by_id ? find_id(id) : find_index(id);
        if (!object) return Errno::inval;
        if (!any && !permits(c, object->perm, read_bits)) return Errno::acces;
        return object;
    }
    /// The object `id` names, for IPC_SET or IPC_RMID: EINVAL if none, EPERM unless the caller
    /// owns or made it (or is euid 0).
    Result<std::shared_ptr<Object>> owned(std::int32_t id, const Credentials& c) const {
        auto object = find_id(id);
        if (!object) return Errno::inval;
        if (!may_change(c, object->perm)) return Errno::perm;
        return object;
    }
    /// IPC_SET of the owner and mode bits (semctl, shmctl): the checks of `owned`, then
    /// Perm::update; the change time becomes `now`.
    Result<void> set_perm(std::int32_t id, const Credentials& c, const ipc64_perm& from, std::int64_t now) {
        LITEBOX_TRY_ASSIGN(auto object, owned(id, c));
        LITEBOX_TRY(object->perm.update(from));
        object->ctime = now;
        return ok();
    }
    void remove(const Object& object) { by_index.erase(static_cast<std::uint32_t>(object.id) % ipcmni); }
    [[nodiscard]] std::int32_t highest_index() const {
        return by_index.empty() ? 0 : static_cast<std::int32_t>(by_index.rbegin()->first);
    }
};

}  // namespace sysv

/// The box's System V IPC namespace.
template <typename P>
class SysvIpc : public std::enable_shared_from_this<SysvIpc<P>> {
public:
    using SemSet = sysv::SemSet<P>;
    using MsgQueue = sysv::MsgQueue<P>;
    using ShmSegment = sysv::ShmSegment<P>;
    /// For each of `files` (segments' files): how many mappings of it exist in the box's address
    /// spaces (shm_nattch), as a runtime that maps memory knows it; with `holding`, also what else
    /// still holds it (an attach under way, a host descriptor), which keeps a removed segment from
    /// being freed. nullopt: it cannot tell (shm_nattch then shows the reported count; a removed
    /// segment is kept). Called without the namespace's lock held, once for all the files.
    using AttachCounter = std::function<std::vector<std::optional<std::uint64_t>>(const std::vector<fs::Inode<P>*>& files, bool holding)>;

    explicit SysvIpc(SysvIpcLimits limits) : m_limits(limits) {}
    [[nodiscard]] const SysvIpcLimits& limits() const noexcept { return m_limits; }

    struct State {
        sysv::Table<SemSet> sems;
        sysv::Table<MsgQueue> queues;
        sysv::Table<ShmSegment> shms;
        std::size_t sems_in_use = 0;
        std::uint64_t shm_pages = 0;  // of all segments, lingering ones included
        /// Removed segments gone from the table whose bytes something still holds (the counter's
        /// `holding`): still charged to shm_pages (and the memfd quota) until it lets go.
        std::vector<std::shared_ptr<ShmSegment>> lingering;
        AttachCounter counter;
        /// SEM_UNDO adjustments by process (pid), then set id, then semaphore.
        std::map<std::int32_t, std::map<std::int32_t, std::vector<std::int32_t>>> undo;
        /// The exit listeners of the processes that used SEM_UNDO, by pid.
        std::map<std::int32_t, std::shared_ptr<ExitListener>> watched;
    };
    sync::Mutex<P, State>& state() noexcept { return m_state; }

    /// Applies and forgets a process's SEM_UNDO adjustments (it is exiting).
    void process_exited(std::int32_t pid) noexcept {
        std::shared_ptr<ExitListener> listener;  // released after the lock
        m_state.with_lock([&](State& s) {
            if (const auto w = s.watched.find(pid); w != s.watched.end()) {
                listener = std::move(w->second);
                s.watched.erase(w);
            }
            const auto it = s.undo.find(pid);
            if (it == s.undo.end()) return;
            for (const auto& [id, adjust] : it->second) {
                auto set = s.sems.find_id(id);
                if (!set) continue;
                for (std::size_t i = 0; i < adjust.size() && i < set->sems.size(); ++i) {
                    if (adjust[i] == 0) continue;
                    const int value = std::clamp(int{set->sems[i].value} + adjust[i], 0, sysv::semvmx);
                    set->sems[i].value = static_cast<std::uint16_t>(value);
                    set->sems[i].pid = pid;
                }
                set->pollee.notify(fd::events::in | fd::events::out);
            }
            s.undo.erase(it);
        });
    }

    /// Makes sure `process`'s undo adjustments are applied as it exits (once per process). The
    /// caller records adjustments only while the process is not tearing down (checked under the
    /// state lock), so none outlive it -- and a later process with the same pid starts clean.
    void watch_exit(const std::shared_ptr<Process<P>>& process) {
        class Listener final : public ExitListener {
        public:
            Listener(std::weak_ptr<SysvIpc> ipc, std::int32_t pid) : m_ipc(std::move(ipc)), m_pid(pid) {}
            void process_exited() noexcept override {
                if (auto ipc = m_ipc.lock()) ipc->process_exited(m_pid);
            }

        private:
            std::weak_ptr<SysvIpc> m_ipc;
            std::int32_t m_pid;
        };
        const std::int32_t pid = process->pid();
        auto listener = std::make_shared<Listener>(this->weak_from_this(), pid);
        const bool fresh = m_state.with_lock([&](State& s) { return s.watched.emplace(pid, listener).second; });
        if (fresh) process->add_teardown_listener(listener);  // runs it at once if the exit has begun
    }

    /// Installs the runtime's attachment counter (before the box's first shm call).
    void set_attach_counter(AttachCounter counter) {
        m_state.with_lock([&](State& s) { s.counter = std::move(counter); });
    }

    /// A segment's attachments: the counter's answer, else the count the runtime reported.
    std::uint64_t attachments(const std::shared_ptr<ShmSegment>& segment) {
        const AttachCounter counter = m_state.with_lock([](State& s) { return s.counter; });
        const std::optional<std::uint64_t> counted = count(counter, {segment}, false).front();
        return counted ? *counted : m_state.with_lock([&](State&) { return segment->attached; });
    }

    /// Frees the segments removed with IPC_RMID that nothing has attached any more (Linux frees
    /// one at its last detach; here also at the next shm call or process exit after it): the id
    /// goes at once, the bytes stay charged while the runtime says something still holds them.
    void collect_destroyed() {
        std::vector<std::shared_ptr<ShmSegment>> removed, lingering;
        AttachCounter counter;
        m_state.with_lock([&](State& s) {
            for (const auto& [index, segment] : s.shms.by_index)
                if (segment->destroyed) removed.push_back(segment);
            lingering = s.lingering;
            counter = s.counter;
        });
        if (removed.empty() && lingering.empty()) return;
        const auto attached = count(counter, removed, false);
        const auto held = count(counter, lingering, true);
        std::vector<std::shared_ptr<ShmSegment>> freed;  // their files are released after the lock
        m_state.with_lock([&](State& s) {
            for (std::size_t i = 0; i < removed.size(); ++i) {
                const auto& segment = removed[i];
                if (counter && !attached[i]) continue;  // unknown: kept
                if ((attached[i] ? *attached[i] : segment->attached) != 0 || s.shms.find_id(segment->id) != segment) continue;
                s.shms.remove(*segment);
                if (counter) s.lingering.push_back(segment);  // until the runtime lets go of its bytes
                else {
                    s.shm_pages -= segment->pages();
                    freed.push_back(segment);
                }
            }
            for (std::size_t i = 0; i < lingering.size(); ++i) {
                if (!held[i] || *held[i] != 0) continue;
                const auto it = std::find(s.lingering.begin(), s.lingering.end(), lingering[i]);
                if (it == s.lingering.end()) continue;
                s.shm_pages -= lingering[i]->pages();
                freed.push_back(lingering[i]);
                s.lingering.erase(it);
            }
        });
    }

    /// Whether any removed segment waits for its last detach or lingers (cheap; for a runtime's exit path).
    bool has_destroyed() {
        return m_state.with_lock([](State& s) {
            return !s.lingering.empty() ||
                   std::any_of(s.shms.by_index.begin(), s.shms.by_index.end(), [](const auto& e) { return e.second->destroyed; });
        });
    }

private:
    /// The counter's answer for `segments` (all unknown without a counter, or if it answers amiss).
    static std::vector<std::optional<std::uint64_t>> count(const AttachCounter& counter,
                                                           const std::vector<std::shared_ptr<ShmSegment>>& segments, bool holding) {
        std::vector<std::optional<std::uint64_t>> counted(segments.size());
        if (!counter || segments.empty()) return counted;
        std::vector<fs::Inode<P>*> files;
        for (const auto& segment : segments) files.push_back(segment->file.get());
        auto answer = counter(files, holding);
        if (answer.size() == segments.size()) counted = std::move(answer);
        return counted;
    }

    SysvIpcLimits m_limits;
    sync::Mutex<P, State> m_state;
};

namespace sysv_detail {

using namespace sysv;

template <typename P>
std::int64_t now_seconds(ThreadContext<P>& t) {
    return time_detail::read_clock(t, time_detail::ClockKind::wall) / time_detail::ns_per_second;
}

/// msgget/semget's lookup: the object for `key` (or a new one from `make`), after Linux's checks
/// in Linux's order; `more` checks an existing object (semget's nsems).
template <typename P, typename Object, typename Make, typename More>
Result<std::int32_t> get_object(ThreadContext<P>& t, Table<Object>& table, std::int32_t key, std::uint32_t flags, Make&& make, More&& more) {
    const auto creds = t.process().credentials();
    if (key != ipc_private) {
        if (auto existing = table.find_key(key)) {
            if ((flags & ipc_creat) && (flags & ipc_excl)) return Errno::exist;
            LITEBOX_TRY(more(*existing));
            if (!permits(creds, existing->perm, flags & 0777)) return Errno::acces;
            return existing->id;
        }
        if (!(flags & ipc_creat)) return Errno::noent;
    }
    LITEBOX_TRY_ASSIGN(std::shared_ptr<Object> object, make());
    object->perm = Perm{key, creds.euid, creds.egid, creds.euid, creds.egid, flags & 0777};
    object->ctime = now_seconds(t);
    return object->id;
}

}  // namespace sysv_detail

// ---- semaphores -------------------------------------------------------------------------------

template <typename P>
SyscallResult sys_semget(ThreadContext<P>& t, const SyscallRequest& r) {
    using namespace sysv;
    auto& ipc = t.kernel().sysv_ipc();
    const std::int32_t key = r.i32(0), nsems = r.i32(1);
    const std::uint32_t flags = r.u32(2);
    const auto& limits = ipc.limits();
    if (nsems < 0 || static_cast<std::size_t>(nsems) > limits.sems_per_set) return Errno::inval;
    return ipc.state().with_lock([&](auto& s) -> SyscallResult {
        auto make = [&]() -> Result<std::shared_ptr<SemSet<P>>> {
            if (nsems == 0) return Errno::inval;
            if (s.sems_in_use + static_cast<std::size_t>(nsems) > limits.sems_total) return Errno::nospc;
            auto set = std::make_shared<SemSet<P>>();
            set->sems.resize(static_cast<std::size_t>(nsems));
            if (!s.sems.add(set, limits.sem_sets)) return Errno::nospc;
            s.sems_in_use += static_cast<std::size_t>(nsems);
            return set;
        };
        auto more = [&](const SemSet<P>& set) -> Result<void> {
            if (static_cast<std::size_t>(nsems) > set.sems.size()) return Errno::inval;
            return ok();
        };
        LITEBOX_TRY_ASSIGN(const std::int32_t id, sysv_detail::get_object(t, s.sems, key, flags, make, more));
        return id;
    });
}

namespace sysv_detail {

/// Where a semop that cannot complete would wait.
struct Blocked {
    std::size_t sem = 0;  // the semaphore
    bool zero = false;    // for it to be zero (else to grow)
    bool nowait = false;  // that operation has IPC_NOWAIT: fail with EAGAIN instead
};
/// One attempt at a semop: all operations or none. Errno::again: it cannot complete (`blocked`
/// says where it would wait).
template <typename SemSetT>
Result<void> try_semop(SemSetT& set, std::span<const sembuf> ops, std::vector<std::int32_t>* undo, std::int32_t pid, std::int64_t now,
                       Blocked& blocked) {
    std::vector<int> values(set.sems.size());
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = set.sems[i].value;
    std::vector<int> adjust = undo != nullptr ? std::vector<int>(undo->begin(), undo->end()) : std::vector<int>();
    bool changed = false;
    for (const sembuf& op : ops) {
        int& value = values[op.sem_num];
        const int delta = op.sem_op;
        if ((delta == 0 && value != 0) || value + delta < 0) {
            blocked = Blocked{op.sem_num, delta == 0, (static_cast<std::uint16_t>(op.sem_flg) & ipc_nowait) != 0};
            return Errno::again;
        }
        value += delta;
        if (value > semvmx) return Errno::range;
        if ((static_cast<std::uint16_t>(op.sem_flg) & sem_undo) != 0 && undo != nullptr) {
            const int after = adjust[op.sem_num] - delta;
            if (after < -semaem - 1 || after > semaem) return Errno::range;
            adjust[op.sem_num] = after;
        }
        changed = changed || delta != 0;
    }
    for (const sembuf& op : ops) set.sems[op.sem_num].pid = pid;
    for (std::size_t i = 0; i < values.size(); ++i) set.sems[i].value = static_cast<std::uint16_t>(values[i]);
    if (undo != nullptr) std::copy(adjust.begin(), adjust.end(), undo->begin());
    set.otime = now;
    if (changed) set.pollee.notify(fd::events::in | fd::events::out);
    return ok();
}

}  // namespace sysv_detail

template <typename P>
SyscallResult semtimedop(ThreadContext<P>& t, std::int32_t id, std::uintptr_t ops_address, std::uint64_t count, std::uintptr_t timeout) {
    using namespace sysv;
    auto& ipc = t.kernel().sysv_ipc();
    if (count < 1 || id < 0) return Errno::inval;
    if (count > ipc.limits().ops_per_call) return Errno::toobig;
    LITEBOX_TRY_ASSIGN(const std::vector<sembuf> ops, Guest<P>::template read_array<sembuf>(ops_address, static_cast<std::size_t>(count)));
    LITEBOX_TRY_ASSIGN(const auto deadline, poll_detail::read_timeout(t, timeout));
    std::size_t highest = 0;
    bool undo = false, alter = false;
    for (const sembuf& op : ops) {
        highest = std::max<std::size_t>(highest, op.sem_num);
        undo = undo || (static_cast<std::uint16_t>(op.sem_flg) & sem_undo) != 0;
        alter = alter || op.sem_op != 0;
    }
    const auto creds = t.process().credentials();
    const std::int32_t pid = t.pid();
    auto set = ipc.state().with_lock([&](auto& s) { return s.sems.find_id(id); });
    if (!set) return Errno::inval;
    if (undo) ipc.watch_exit(t.shared_process());
    // Counted as a waiter (GETNCNT/GETZCNT) from the first wait until the call returns.
    struct Counted {
        SysvIpc<P>* ipc = nullptr;
        SemSet<P>* set = nullptr;
        std::size_t sem = 0;
        bool zero = false;
        Counted() = default;
        Counted(const Counted&) = delete;
        Counted& operator=(const Counted&) = delete;
        ~Counted() {
            if (set == nullptr) return;
            ipc->state().with_lock([&](auto&) {
                auto& s = set->sems[sem];
                (zero ? s.waiting_zero : s.waiting_more) -= 1;
            });
        }
    } counted;
    bool failed_nowait = false, checked = false;
    auto attempt = [&]() -> Result<std::int64_t> {
        return ipc.state().with_lock([&](auto& s) -> Result<std::int64_t> {
            if (!checked) {  // Linux checks once, not again after a wait
                if (highest >= set->sems.size()) return Errno::fbig;
                if (!permits(creds, set->perm, alter ? write_bits : read_bits)) return Errno::acces;
                checked = true;
            }
            if (set->removed) return Errno::idrm;
            // A process past the start of its exit has had its adjustments applied: a call of a
            // dying thread that would need one more changes nothing.
            if (undo && t.process().tearing_down()) return Errno::intr;
            std::vector<std::int32_t>* adjust = nullptr;
            if (undo) {
                auto& list = s.undo[pid][set->id];
                list.resize(set->sems.size(), 0);
                adjust = &list;
            }
            sysv_detail::Blocked blocked;
            auto done = sysv_detail::try_semop(*set, ops, adjust, pid, sysv_detail::now_seconds(t), blocked);
            if (done) return 0;
            if (done.error() != Errno::again) return done.error();
            if (blocked.nowait) {
                failed_nowait = true;  // EAGAIN at once, without waiting
                return 0;
            }
            if (counted.set == nullptr) {
                counted.ipc = &ipc;
                counted.set = set.get();
                counted.sem = blocked.sem;
                counted.zero = blocked.zero;
                auto& sem = set->sems[blocked.sem];
                (blocked.zero ? sem.waiting_zero : sem.waiting_more) += 1;
            }
            return Errno::again;
        });
    };
    auto result = event::wait_until_ready(t.wait_context(deadline), &set->pollee, fd::events::in | fd::events::out, false, attempt);
    if (!result && result.error() == Errno::timedout) return Errno::again;
    if (!result) return result.error();
    if (failed_nowait) return Errno::again;
    return *result;
}

template <typename P>
SyscallResult sys_semop(ThreadContext<P>& t, const SyscallRequest& r) {
    return semtimedop(t, r.i32(0), r.ptr(1), r.u32(2), 0);
}
template <typename P>
SyscallResult sys_semtimedop(ThreadContext<P>& t, const SyscallRequest& r) {
    return semtimedop(t, r.i32(0), r.ptr(1), r.u32(2), r.ptr(3));
}

template <typename P>
SyscallResult sys_semctl(ThreadContext<P>& t, const SyscallRequest& r) {
    using namespace sysv;
    auto& ipc = t.kernel().sysv_ipc();
    const std::int32_t id = r.i32(0), semnum = r.i32(1), cmd = r.i32(2);
    const std::uintptr_t arg = r.ptr(3);
    if (id < 0) return Errno::inval;
    const auto creds = t.process().credentials();
    const auto& limits = ipc.limits();
    switch (cmd) {
        case ipc_info:
        case sem_info: {
            seminfo info{};
            const auto [highest, sets, sems] = ipc.state().with_lock([&](auto& s) {
                return std::tuple{s.sems.highest_index(), s.sems.by_index.size(), s.sems_in_use};
            });
            info.semmni = static_cast<std::int32_t>(limits.sem_sets);
            info.semmsl = static_cast<std::int32_t>(limits.sems_per_set);
            info.semmns = static_cast<std::int32_t>(std::min<std::size_t>(limits.sems_total, INT_MAX));
            info.semopm = static_cast<std::int32_t>(limits.ops_per_call);
            info.semmap = info.semmns;
            info.semmnu = info.semmns;
            info.semume = info.semopm;
            info.semvmx = semvmx;
            info.semusz = cmd == sem_info ? static_cast<std::int32_t>(sets) : 20;
            info.semaem = cmd == sem_info ? static_cast<std::int32_t>(sems) : semaem;
            LITEBOX_TRY(Guest<P>::write(arg, info));
            return highest;
        }
        case ipc_stat:
        case sem_stat:
        case sem_stat_any: {
            auto got = ipc.state().with_lock([&](auto& s) -> Result<std::pair<semid64_ds, std::int32_t>> {
                LITEBOX_TRY_ASSIGN(const auto set, s.sems.stat_target(cmd == ipc_stat, id, creds, cmd == sem_stat_any));
                semid64_ds ds{};
                ds.sem_perm = set->perm.to_abi(set->id);
                ds.sem_otime = set->otime;
                ds.sem_ctime = set->ctime;
                ds.sem_nsems = set->sems.size();
                return std::pair{ds, set->id};
            });
            if (!got) return got.error();
            LITEBOX_TRY(Guest<P>::write(arg, got->first));
            return cmd == ipc_stat ? 0 : got->second;
        }
        case ipc_set: {
            LITEBOX_TRY_ASSIGN(const semid64_ds ds, Guest<P>::template read<semid64_ds>(arg));
            const std::int64_t now = sysv_detail::now_seconds(t);
            LITEBOX_TRY(ipc.state().with_lock([&](auto& s) { return s.sems.set_perm(id, creds, ds.sem_perm, now); }));
            return 0;
        }
        case ipc_rmid: {
            std::shared_ptr<SemSet<P>> removed;
            LITEBOX_TRY(ipc.state().with_lock([&](auto& s) -> Result<void> {
                LITEBOX_TRY_ASSIGN(auto set, s.sems.owned(id, creds));
                set->removed = true;
                s.sems.remove(*set);
                s.sems_in_use -= set->sems.size();
                for (auto& [pid, lists] : s.undo) lists.erase(set->id);
                removed = std::move(set);
                return ok();
            }));
            removed->pollee.notify(fd::events::in | fd::events::out);
            return 0;
        }
        case sem_setval: {
            const auto value = static_cast<std::int32_t>(arg);
            if (value < 0 || value > semvmx) return Errno::range;
            std::shared_ptr<SemSet<P>> changed;
            LITEBOX_TRY(ipc.state().with_lock([&](auto& s) -> Result<void> {
                auto set = s.sems.find_id(id);
                if (!set) return Errno::inval;
                if (semnum < 0 || static_cast<std::size_t>(semnum) >= set->sems.size()) return Errno::inval;
                if (!permits(creds, set->perm, write_bits)) return Errno::acces;
                for (auto& [pid, lists] : s.undo) {
                    if (auto it = lists.find(set->id); it != lists.end() && static_cast<std::size_t>(semnum) < it->second.size())
                        it->second[static_cast<std::size_t>(semnum)] = 0;
                }
                set->sems[static_cast<std::size_t>(semnum)].value = static_cast<std::uint16_t>(value);
                set->sems[static_cast<std::size_t>(semnum)].pid = t.pid();
                set->ctime = sysv_detail::now_seconds(t);
                changed = std::move(set);
                return ok();
            }));
            changed->pollee.notify(fd::events::in | fd::events::out);
            return 0;
        }
        case sem_setall: {
            // A set's size is fixed for its life: check, read the guest's values, then apply.
            std::shared_ptr<SemSet<P>> set;
            LITEBOX_TRY_ASSIGN(set, ipc.state().with_lock([&](auto& s) { return s.sems.checked(id, creds, write_bits); }));
            LITEBOX_TRY_ASSIGN(const std::vector<std::uint16_t> values, Guest<P>::template read_array<std::uint16_t>(arg, set->sems.size()));
            for (const auto v : values)
                if (v > semvmx) return Errno::range;
            LITEBOX_TRY(ipc.state().with_lock([&](auto& s) -> Result<void> {
                if (set->removed) return Errno::idrm;
                for (auto& [pid, lists] : s.undo) {
                    if (auto it = lists.find(set->id); it != lists.end()) std::fill(it->second.begin(), it->second.end(), 0);
                }
                for (std::size_t i = 0; i < values.size(); ++i) {
                    set->sems[i].value = values[i];
                    set->sems[i].pid = t.pid();
                }
                set->ctime = sysv_detail::now_seconds(t);
                return ok();
            }));
            set->pollee.notify(fd::events::in | fd::events::out);
            return 0;
        }
        case sem_getall: {
            auto values = ipc.state().with_lock([&](auto& s) -> Result<std::vector<std::uint16_t>> {
                LITEBOX_TRY_ASSIGN(const auto set, s.sems.checked(id, creds, read_bits));
                std::vector<std::uint16_t> out;
                out.reserve(set->sems.size());
                for (const auto& sem : set->sems) out.push_back(sem.value);
                return out;
            });
            if (!values) return values.error();
            LITEBOX_TRY(Guest<P>::write_bytes(arg, std::as_bytes(std::span<const std::uint16_t>(*values))));
            return 0;
        }
        case sem_getval:
        case sem_getpid:
        case sem_getncnt:
        case sem_getzcnt:
            return ipc.state().with_lock([&](auto& s) -> SyscallResult {
                LITEBOX_TRY_ASSIGN(const auto set, s.sems.checked(id, creds, read_bits));
                if (semnum < 0 || static_cast<std::size_t>(semnum) >= set->sems.size()) return Errno::inval;
                const auto& sem = set->sems[static_cast<std::size_t>(semnum)];
                switch (cmd) {
                    case sem_getval: return sem.value;
                    case sem_getpid: return sem.pid;
                    case sem_getncnt: return sem.waiting_more;
                    default: return sem.waiting_zero;
                }
            });
        default: return Errno::inval;
    }
}

// ---- message queues ---------------------------------------------------------------------------

template <typename P>
SyscallResult sys_msgget(ThreadContext<P>& t, const SyscallRequest& r) {
    using namespace sysv;
    auto& ipc = t.kernel().sysv_ipc();
    const std::int32_t key = r.i32(0);
    const std::uint32_t flags = r.u32(1);
    return ipc.state().with_lock([&](auto& s) -> SyscallResult {
        auto make = [&]() -> Result<std::shared_ptr<MsgQueue<P>>> {
            auto queue = std::make_shared<MsgQueue<P>>();
            queue->max_bytes = ipc.limits().msg_queue_bytes;
            if (!s.queues.add(queue, ipc.limits().msg_queues)) return Errno::nospc;
            return queue;
        };
        auto more = [](const MsgQueue<P>&) -> Result<void> { return ok(); };
        LITEBOX_TRY_ASSIGN(const std::int32_t id, sysv_detail::get_object(t, s.queues, key, flags, make, more));
        return id;
    });
}

template <typename P>
SyscallResult sys_msgsnd(ThreadContext<P>& t, const SyscallRequest& r) {
    using namespace sysv;
    auto& ipc = t.kernel().sysv_ipc();
    const std::int32_t id = r.i32(0);
    const std::uintptr_t address = r.ptr(1);
    const std::uint64_t size = r.u64(2);
    const std::uint32_t flags = r.u32(3);
    LITEBOX_TRY_ASSIGN(const std::int64_t type, Guest<P>::template read<std::int64_t>(address));
    if (size > ipc.limits().msg_max || static_cast<std::int64_t>(size) < 0 || id < 0) return Errno::inval;
    if (type < 1) return Errno::inval;
    Message message{type, std::vector<std::byte>(static_cast<std::size_t>(size))};
    LITEBOX_TRY(Guest<P>::read_bytes(address + sizeof(std::int64_t), message.text));
    auto queue = ipc.state().with_lock([&](auto& s) { return s.queues.find_id(id); });
    if (!queue) return Errno::inval;
    const auto creds = t.process().credentials();
    auto attempt = [&]() -> Result<std::int64_t> {
        return ipc.state().with_lock([&](auto&) -> Result<std::int64_t> {
            if (!permits(creds, queue->perm, write_bits)) return Errno::acces;
            if (queue->removed) return Errno::idrm;
            const std::uint64_t most_messages = std::min<std::uint64_t>(queue->max_bytes, ipc.limits().msg_queue_messages);
            if (queue->bytes + size > queue->max_bytes || queue->messages.size() + 1 > most_messages) return Errno::again;
            queue->bytes += size;
            queue->messages.push_back(std::move(message));
            queue->last_send_pid = t.pid();
            queue->stime = sysv_detail::now_seconds(t);
            queue->pollee.notify(fd::events::in);
            return 0;
        });
    };
    return event::wait_until_ready(t.wait_context(), &queue->pollee, fd::events::out, (flags & ipc_nowait) != 0, attempt);
}

namespace sysv_detail {
/// The message msgrcv takes: its position, or none.
inline std::optional<std::size_t> find_message(const std::deque<Message>& messages, std::int64_t type, std::uint32_t flags) {
    if ((flags & msg_copy) != 0) {
        if (type < 0 || static_cast<std::uint64_t>(type) >= messages.size()) return std::nullopt;
        return static_cast<std::size_t>(type);
    }
    std::optional<std::size_t> best;
    const std::int64_t bound = type == LLONG_MIN ? LLONG_MAX : -type;
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const std::int64_t mt = messages[i].type;
        if (type == 0) return i;
        if (type > 0) {
            if (((flags & msg_except) != 0) != (mt == type)) return i;
            continue;
        }
        if (mt <= bound && (!best || mt < messages[*best].type)) best = i;
    }
    return best;
}
}  // namespace sysv_detail

template <typename P>
SyscallResult sys_msgrcv(ThreadContext<P>& t, const SyscallRequest& r) {
    using namespace sysv;
    auto& ipc = t.kernel().sysv_ipc();
    const std::int32_t id = r.i32(0);
    const std::uintptr_t address = r.ptr(1);
    const std::uint64_t size = r.u64(2);
    const std::int64_t type = r.i64(3);
    const std::uint32_t flags = r.u32(4);
    if (id < 0 || static_cast<std::int64_t>(size) < 0) return Errno::inval;
    if ((flags & msg_copy) != 0 && ((flags & msg_except) != 0 || (flags & ipc_nowait) == 0)) return Errno::inval;
    auto queue = ipc.state().with_lock([&](auto& s) { return s.queues.find_id(id); });
    if (!queue) return Errno::inval;
    const auto creds = t.process().credentials();
    Message taken;
    auto attempt = [&]() -> Result<std::int64_t> {
        return ipc.state().with_lock([&](auto&) -> Result<std::int64_t> {
            if (!permits(creds, queue->perm, read_bits)) return Errno::acces;
            if (queue->removed) return Errno::idrm;
            const auto found = sysv_detail::find_message(queue->messages, type, flags);
            if (!found) return (flags & ipc_nowait) != 0 ? Errno::nomsg : Errno::again;
            auto& message = queue->messages[*found];
            if (size < message.text.size() && (flags & msg_noerror) == 0) return Errno::toobig;
            if (size < message.text.size() && (flags & msg_copy) != 0) return Errno::inval;  // Linux: no truncated copy
            if ((flags & msg_copy) != 0) {
                taken = message;
                return 0;
            }
            taken = std::move(message);
            queue->messages.erase(queue->messages.begin() + static_cast<std::ptrdiff_t>(*found));
            queue->bytes -= taken.text.size();
            queue->last_receive_pid = t.pid();
            queue->rtime = sysv_detail::now_seconds(t);
            queue->pollee.notify(fd::events::out);
            return 0;
        });
    };
    LITEBOX_TRY(event::wait_until_ready(t.wait_context(), &queue->pollee, fd::events::in, false, attempt));
    // As on Linux, a message taken off the queue is lost if the guest's buffer faults.
    const std::size_t n = std::min<std::size_t>(taken.text.size(), static_cast<std::size_t>(size));
    LITEBOX_TRY(Guest<P>::write(address, taken.type));
    LITEBOX_TRY(Guest<P>::write_bytes(address + sizeof(std::int64_t), std::span<const std::byte>(taken.text).first(n)));
    return static_cast<std::int64_t>(n);
}

template <typename P>
SyscallResult sys_msgctl(ThreadContext<P>& t, const SyscallRequest& r) {
    using namespace sysv;
    auto& ipc = t.kernel().sysv_ipc();
    const std::int32_t id = r.i32(0), cmd = r.i32(1);
    const std::uintptr_t arg = r.ptr(2);
    if (id < 0 || cmd < 0) return Errno::inval;
    const auto creds = t.process().credentials();
    const auto& limits = ipc.limits();
    switch (cmd) {
        case ipc_info:
        case msg_info: {
            msginfo info{};
            const auto [highest, queues, messages, bytes] = ipc.state().with_lock([&](auto& s) {
                std::size_t m = 0, b = 0;
                for (const auto& [index, q] : s.queues.by_index) {
                    m += q->messages.size();
                    b += q->bytes;
                }
                return std::tuple{s.queues.highest_index(), s.queues.by_index.size(), m, b};
            });
            const auto clamp = [](std::size_t v) { return static_cast<std::int32_t>(std::min<std::size_t>(v, INT_MAX)); };
            info.msgmax = clamp(limits.msg_max);
            info.msgmnb = clamp(limits.msg_queue_bytes);
            info.msgmni = clamp(limits.msg_queues);
            info.msgssz = 16;
            info.msgseg = 0xffff;
            if (cmd == msg_info) {
                info.msgpool = clamp(queues);
                info.msgmap = clamp(messages);
                info.msgtql = clamp(bytes);
            } else {
                info.msgpool = clamp(limits.msg_queues * limits.msg_queue_bytes / 1024);
                info.msgmap = info.msgmnb;
                info.msgtql = info.msgmnb;
            }
            LITEBOX_TRY(Guest<P>::write(arg, info));
            return highest;
        }
        case ipc_stat:
        case msg_stat:
        case msg_stat_any: {
            auto got = ipc.state().with_lock([&](auto& s) -> Result<std::pair<msqid64_ds, std::int32_t>> {
                LITEBOX_TRY_ASSIGN(const auto queue, s.queues.stat_target(cmd == ipc_stat, id, creds, cmd == msg_stat_any));
                msqid64_ds ds{};
                ds.msg_perm = queue->perm.to_abi(queue->id);
                ds.msg_stime = queue->stime;
                ds.msg_rtime = queue->rtime;
                ds.msg_ctime = queue->ctime;
                ds.msg_cbytes = queue->bytes;
                ds.msg_qnum = queue->messages.size();
                ds.msg_qbytes = queue->max_bytes;
                ds.msg_lspid = queue->last_send_pid;
                ds.msg_lrpid = queue->last_receive_pid;
                return std::pair{ds, queue->id};
            });
            if (!got) return got.error();
            LITEBOX_TRY(Guest<P>::write(arg, got->first));
            return cmd == ipc_stat ? 0 : got->second;
        }
        case ipc_set: {
            LITEBOX_TRY_ASSIGN(const msqid64_ds ds, Guest<P>::template read<msqid64_ds>(arg));
            std::shared_ptr<MsgQueue<P>> changed;
            LITEBOX_TRY(ipc.state().with_lock([&](auto& s) -> Result<void> {
                LITEBOX_TRY_ASSIGN(auto queue, s.queues.owned(id, creds));
                if (ds.msg_qbytes > limits.msg_queue_bytes && !creds.privileged()) return Errno::perm;
                if (ds.msg_qbytes > limits.msg_queue_bytes_max) {
                    t.kernel().unsupported(r.number, "msg_qbytes above the box's limit (ShimConfig::sysv.msg_queue_bytes_max)");
                    return Errno::perm;
                }
                LITEBOX_TRY(queue->perm.update(ds.msg_perm));
                queue->max_bytes = ds.msg_qbytes;
                queue->ctime = sysv_detail::now_seconds(t);
                changed = std::move(queue);
                return ok();
            }));
            changed->pollee.notify(fd::events::in | fd::events::out);
            return 0;
        }
        case ipc_rmid: {
            std::shared_ptr<MsgQueue<P>> removed;
            LITEBOX_TRY(ipc.state().with_lock([&](auto& s) -> Result<void> {
                LITEBOX_TRY_ASSIGN(auto queue, s.queues.owned(id, creds));
                queue->removed = true;
                queue->messages.clear();
                queue->bytes = 0;
                s.queues.remove(*queue);
                removed = std::move(queue);
                return ok();
            }));
            removed->pollee.notify(fd::events::in | fd::events::out);
            return 0;
        }
        default: return Errno::inval;
    }
}

// ---- shared memory ----------------------------------------------------------------------------

template <typename P>
SyscallResult sys_shmget(ThreadContext<P>& t, const SyscallRequest& r) {
    using namespace sysv;
    auto& ipc = t.kernel().sysv_ipc();
    const std::int32_t key = r.i32(0);
    const std::uint64_t size = r.u64(1);
    const std::uint32_t flags = r.u32(2);
    const auto& limits = ipc.limits();
    if ((flags & shm_hugetlb) != 0) {
        t.kernel().unsupported(r.number, "SHM_HUGETLB (no huge pages in the box)");
        return Errno::inval;
    }
    ipc.collect_destroyed();
    auto& kernel = t.kernel();
    return ipc.state().with_lock([&](auto& s) -> SyscallResult {
        auto make = [&]() -> Result<std::shared_ptr<ShmSegment<P>>> {
            if (size < 1 || size > limits.shm_segment_bytes) return Errno::inval;
            auto segment = std::make_shared<ShmSegment<P>>();
            segment->size = size;
            const std::uint64_t pages = segment->pages();
            if (s.shm_pages + pages > limits.shm_total_bytes / shm_page) return Errno::nospc;
            const auto creds = t.process().credentials();
            const fs::NewNode node{fd::mode::regular | (flags & 0777), creds.euid, creds.egid, 0};
            LITEBOX_TRY_ASSIGN(segment->file, kernel.memfd_fs().create_anonymous(node));
            LITEBOX_TRY(segment->file->truncate(size));
            segment->creator_pid = t.pid();
            segment->name_key = key;
            if (!s.shms.add(segment, limits.shm_segments)) return Errno::nospc;
            s.shm_pages += pages;
            return segment;
        };
        auto more = [&](const ShmSegment<P>& segment) -> Result<void> {
            if (segment.size < size) return Errno::inval;
            return ok();
        };
        LITEBOX_TRY_ASSIGN(const std::int32_t id, sysv_detail::get_object(t, s.shms, key, flags, make, more));
        return id;
    });
}

template <typename P>
SyscallResult sys_shmctl(ThreadContext<P>& t, const SyscallRequest& r) {
    using namespace sysv;
    auto& ipc = t.kernel().sysv_ipc();
    const std::int32_t id = r.i32(0), cmd = r.i32(1);
    const std::uintptr_t arg = r.ptr(2);
    if (id < 0 || cmd < 0) return Errno::inval;
    const auto creds = t.process().credentials();
    const auto& limits = ipc.limits();
    ipc.collect_destroyed();
    switch (cmd) {
        case ipc_info: {
            shminfo64 info{};
            info.shmmax = limits.shm_segment_bytes;
            info.shmmin = 1;
            info.shmmni = limits.shm_segments;
            info.shmseg = limits.shm_segments;
            info.shmall = limits.shm_total_bytes / shm_page;
            const std::int32_t highest = ipc.state().with_lock([](auto& s) { return s.shms.highest_index(); });
            LITEBOX_TRY(Guest<P>::write(arg, info));
            return highest;
        }
        case shm_info: {
            shm_info_ds info{};
            std::vector<std::shared_ptr<ShmSegment<P>>> segments;
            const std::int32_t highest = ipc.state().with_lock([&](auto& s) {
                for (const auto& [index, segment] : s.shms.by_index) segments.push_back(segment);
                info.shm_tot = s.shm_pages;
                return s.shms.highest_index();
            });
            info.used_ids = static_cast<std::int32_t>(segments.size());
            // Resident pages: what the segments' files hold (the box never swaps).
            for (const auto& segment : segments) info.shm_rss += segment->resident_bytes() / shm_page;
            LITEBOX_TRY(Guest<P>::write(arg, info));
            return highest;
        }
        case ipc_stat:
        case shm_stat:
        case shm_stat_any: {
            LITEBOX_TRY_ASSIGN(const auto segment, ipc.state().with_lock([&](auto& s) {
                return s.shms.stat_target(cmd == ipc_stat, id, creds, cmd == shm_stat_any);
            }));
            const std::uint64_t attached = ipc.attachments(segment);
            const shmid64_ds ds = ipc.state().with_lock([&](auto&) {
                shmid64_ds out{};
                out.shm_perm = segment->abi_perm();
                out.shm_segsz = segment->size;
                out.shm_atime = segment->atime;
                out.shm_dtime = segment->dtime;
                out.shm_ctime = segment->ctime;
                out.shm_cpid = segment->creator_pid;
                out.shm_lpid = segment->last_pid;
                out.shm_nattch = attached;
                return out;
            });
            LITEBOX_TRY(Guest<P>::write(arg, ds));
            return cmd == ipc_stat ? 0 : segment->id;
        }
        case ipc_set: {
            LITEBOX_TRY_ASSIGN(const shmid64_ds ds, Guest<P>::template read<shmid64_ds>(arg));
            const std::int64_t now = sysv_detail::now_seconds(t);
            LITEBOX_TRY(ipc.state().with_lock([&](auto& s) { return s.shms.set_perm(id, creds, ds.shm_perm, now); }));
            return 0;
        }
        case shm_lock:
        case shm_unlock:
            return ipc.state().with_lock([&](auto& s) -> SyscallResult {
                auto segment = s.shms.find_id(id);
                if (!segment) return Errno::inval;
                // Linux: CAP_IPC_LOCK, or the owner or creator (whose RLIMIT_MEMLOCK Linux
                // checks at lock time; the box never swaps, so nothing is pinned here).
                if (!may_change(creds, segment->perm)) return Errno::perm;
                segment->locked = cmd == shm_lock;
                return 0;
            });
        case ipc_rmid: {
            LITEBOX_TRY(ipc.state().with_lock([&](auto& s) -> Result<void> {
                LITEBOX_TRY_ASSIGN(auto segment, s.shms.owned(id, creds));
                segment->destroyed = true;
                segment->perm.key = ipc_private;
                return ok();
            }));
            ipc.collect_destroyed();  // at once when nothing is attached
            return 0;
        }
        default: return Errno::inval;
    }
}

/// What shmat maps, as Linux's do_shmat decides it: a shared mapping of the whole segment
/// (whole pages) at `address` (0: where the kernel likes), fixed when an address was given --
/// replacing what is there only with SHM_REMAP, else refused (EINVAL) if anything is there.
template <typename P>
struct ShmAttachment {
    std::shared_ptr<sysv::ShmSegment<P>> segment;
    std::uintptr_t address = 0;
    std::uint64_t length = 0;  // whole pages
    std::uint32_t prot = 0;    // PROT_READ 1, PROT_WRITE 2, PROT_EXEC 4
    bool fixed = false;        // an address was given
    bool replace = false;      // SHM_REMAP: MAP_FIXED (else the mapping must not replace anything)
    bool read_only = false;    // SHM_RDONLY: a read-only descriptor, so no mprotect can add writing
};

/// shmat's checks, in Linux's order (for a runtime that maps memory; nothing changes here).
template <typename P>
Result<ShmAttachment<P>> shm_attach(ThreadContext<P>& t, std::int32_t id, std::uintptr_t address, std::uint32_t flags) {
    using namespace sysv;
    if (id < 0) return Errno::inval;
    ShmAttachment<P> out;
    if (address != 0) {
        if (address % shm_page != 0) {
            if ((flags & shm_rnd) == 0) return Errno::inval;
            address -= address % shm_page;
            if (address == 0 && (flags & shm_remap) != 0) return Errno::inval;
        }
        out.fixed = true;  // even if rounded down to 0, as Linux (whose mmap then refuses page 0)
    } else if ((flags & shm_remap) != 0) {
        return Errno::inval;
    }
    out.address = address;
    out.replace = (flags & shm_remap) != 0;
    out.read_only = (flags & shm_rdonly) != 0;
    out.prot = out.read_only ? 1u : 3u;
    std::uint32_t wanted = out.read_only ? read_bits : read_bits | write_bits;
    if ((flags & shm_exec) != 0) {
        out.prot |= 4u;
        wanted |= 0111;
    }
    auto& ipc = t.kernel().sysv_ipc();
    const auto creds = t.process().credentials();
    LITEBOX_TRY_ASSIGN(out.segment, ipc.state().with_lock([&](auto& s) { return s.shms.checked(id, creds, wanted); }));
    out.length = out.segment->pages() * shm_page;
    if (out.fixed && address > ~std::uint64_t{0} - out.length) return Errno::inval;
    return out;
}

/// The runtime mapped `segment` for the calling process (shm_lpid, shm_atime; the reported count).
template <typename P>
void shm_attached(ThreadContext<P>& t, sysv::ShmSegment<P>& segment) {
    const std::int64_t now = sysv_detail::now_seconds(t);
    t.kernel().sysv_ipc().state().with_lock([&](auto&) {
        segment.last_pid = t.pid();
        segment.atime = now;
        ++segment.attached;
    });
}

/// The runtime unmapped `segment` for the calling process at its shmdt (shm_lpid, shm_dtime); a
/// segment removed with IPC_RMID goes with its last attachment.
template <typename P>
void shm_detached(ThreadContext<P>& t, sysv::ShmSegment<P>& segment) {
    const std::int64_t now = sysv_detail::now_seconds(t);
    auto& ipc = t.kernel().sysv_ipc();
    ipc.state().with_lock([&](auto&) {
        segment.last_pid = t.pid();
        segment.dtime = now;
        if (segment.attached > 0) --segment.attached;
    });
    ipc.collect_destroyed();
}

// ---- /proc/sysvipc ------------------------------------------------------------------------------

/// /proc/sysvipc/sem: one line per semaphore set of the box, in Linux's format.
template <typename P>
std::string sysvipc_sem_text(Kernel<P>& kernel) {
    std::string out = "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n";
    kernel.sysv_ipc().state().with_lock([&](auto& s) {
        for (const auto& [index, set] : s.sems.by_index)
            out += fmt::format("{:10} {:10}  {:4o} {:10} {:5} {:5} {:5} {:5} {:10} {:10}\n", set->perm.key, set->id, set->perm.mode,
                               set->sems.size(), set->perm.uid, set->perm.gid, set->perm.cuid, set->perm.cgid, set->otime, set->ctime);
    });
    return out;
}

/// /proc/sysvipc/msg: one line per message queue of the box, in Linux's format.
template <typename P>
std::string sysvipc_msg_text(Kernel<P>& kernel) {
    std::string out = "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n";
    kernel.sysv_ipc().state().with_lock([&](auto& s) {
        for (const auto& [index, q] : s.queues.by_index)
            out += fmt::format("{:10} {:10}  {:4o}  {:10} {:10} {:5} {:5} {:5} {:5} {:5} {:5} {:10} {:10} {:10}\n", q->perm.key, q->id,
                               q->perm.mode, q->bytes, q->messages.size(), q->last_send_pid, q->last_receive_pid, q->perm.uid, q->perm.gid,
                               q->perm.cuid, q->perm.cgid, q->stime, q->rtime, q->ctime);
    });
    return out;
}

/// /proc/sysvipc/shm: one line per shared memory segment of the box, in Linux's format (rss: the
/// bytes its file holds; the box never swaps).
template <typename P>
std::string sysvipc_shm_text(Kernel<P>& kernel) {
    auto& ipc = kernel.sysv_ipc();
    std::vector<std::shared_ptr<sysv::ShmSegment<P>>> segments;
    ipc.state().with_lock([&](auto& s) {
        for (const auto& [index, segment] : s.shms.by_index) segments.push_back(segment);
    });
    std::string out =
        "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime"
        "                   rss                  swap\n";
    for (const auto& segment : segments) {
        const std::uint64_t attached = ipc.attachments(segment);
        const std::uint64_t rss = segment->resident_bytes();
        ipc.state().with_lock([&](auto&) {
            const auto perm = segment->abi_perm();
            out += fmt::format("{:10} {:10}  {:4o} {:21} {:5} {:5}  {:5} {:5} {:5} {:5} {:5} {:10} {:10} {:10} {:21} {:21}\n", perm.key,
                               segment->id, perm.mode, segment->size, segment->creator_pid, segment->last_pid, attached, perm.uid,
                               perm.gid, perm.cuid, perm.cgid, segment->atime, segment->dtime, segment->ctime, rss, 0);
        });
    }
    return out;
}

}  // namespace litebox::shim::linux_abi
