// RecordLocks<P>: POSIX advisory record locks (fcntl F_GETLK / F_SETLK / F_SETLKW, lockf) and
// open file description (OFD) locks (F_OFD_SETLK ...).
//
// Contract: locks belong to an owner id and cover an inclusive byte range [start, end] of one inode
// (end = lock_to_eof for "to end of file and beyond"). A read lock conflicts with another owner's
// write lock; a write lock conflicts with any other owner's lock; an owner's own locks never
// conflict and are replaced, split and merged as on Linux. set() without a WaitContext (F_SETLK)
// fails with EAGAIN on conflict; with one (F_SETLKW) it sleeps on the caller's Waiter until the
// conflict goes (no busy loop: every change notifies), fails with EINTR when the Waiter is
// interrupted (a signal), and with EDEADLK when waiting would close a cycle of owners waiting for
// each other. At most max_locks ranges exist at once (ENOLCK beyond).
//
// Owners and their lifetime, as on Linux:
// - POSIX locks belong to an Owner (new_owner()), which the caller attaches to a descriptor table
//   as its CloseObserver (Linux: the files_struct owns them). Whenever the table drops a
//   descriptor of a file, by any route (close, close_range, dup2 over it, close-on-exec at exec,
//   the table going away at exit), the owner's locks on that inode go, even if another descriptor
//   of the file stays open. A fork copy of the table gets a new Owner (the child does not inherit
//   locks); threads, which share the table, share the owner. The Owner's destruction drops
//   whatever it still holds.
// - OFD locks belong to the open file description (description_owner()): they go when the last
//   reference to the description goes, through the FileHandle's DescriptionObserver.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../event/blocking.hpp"
#include "../fd/table.hpp"
#include "../sync/mutex.hpp"
#include "backend.hpp"
#include "file.hpp"

namespace litebox::fs {

/// l_type values.
namespace lock_type {
inline constexpr short read = 0;    // F_RDLCK
inline constexpr short write = 1;   // F_WRLCK
inline constexpr short unlock = 2;  // F_UNLCK
}  // namespace lock_type

inline constexpr std::uint64_t lock_to_eof = ~0ULL;
/// Default limit on the number of lock ranges in one namespace.
inline constexpr std::size_t default_max_record_locks = 4096;

struct RecordLock {
    short type = lock_type::unlock;
    std::uint64_t start = 0;
    std::uint64_t end = lock_to_eof;  // inclusive
    std::uint64_t owner = 0;
    std::int32_t pid = 0;  // reported by F_GETLK
};

/// Converts l_whence/l_start/l_len into an inclusive range (EINVAL for a negative start or an
/// overflow, as fcntl does). whence: 0 SEEK_SET, 1 SEEK_CUR (from `offset`), 2 SEEK_END (from `size`).
inline Result<std::pair<std::uint64_t, std::uint64_t>> lock_range(int whence, std::int64_t start, std::int64_t length,
                                                                  std::uint64_t offset, std::uint64_t size) {
    std::int64_t base = 0;
    if (whence == 1) base = static_cast<std::int64_t>(offset);
    else if (whence == 2) base = static_cast<std::int64_t>(size);
    else if (whence != 0) return Errno::inval;
    std::int64_t from = 0;
    if (__builtin_add_overflow(base, start, &from)) return Errno::overflow;
    if (length == 0) {
        if (from < 0) return Errno::inval;
        return std::pair{static_cast<std::uint64_t>(from), lock_to_eof};
    }
    std::int64_t last = 0;
    if (length > 0) {
        if (__builtin_add_overflow(from, length - 1, &last)) return Errno::overflow;
        if (from < 0) return Errno::inval;
        return std::pair{static_cast<std::uint64_t>(from), static_cast<std::uint64_t>(last)};
    }
    // Negative length: [from + length, from - 1].
    std::int64_t first = 0;
    if (__builtin_add_overflow(from, length, &first) || first < 0) return Errno::inval;
    return std::pair{static_cast<std::uint64_t>(first), static_cast<std::uint64_t>(from - 1)};
}

template <platform::RawMutexProvider P>
class RecordLocks {
    struct Core;

public:
    using InodePtr = typename Inode<P>::Ptr;

    /// A POSIX lock owner: attach it to a descriptor table (see the contract at the top).
    class Owner final : public fd::CloseObserver<P> {
    public:
        Owner(std::shared_ptr<Core> core, std::uint64_t id) noexcept : m_core(std::move(core)), m_id(id) {}
        ~Owner() override { m_core->release_owner(m_id); }
        Owner(const Owner&) = delete;
        Owner& operator=(const Owner&) = delete;

        /// The owner id to put in RecordLock::owner.
        [[nodiscard]] std::uint64_t id() const noexcept { return m_id; }
        void descriptor_closed(fd::OpenFile<P>& file) noexcept override {
            if (const auto* handle = dynamic_cast<const FileHandle<P>*>(&file)) m_core->release(handle->location().inode.get(), m_id);
        }
        std::shared_ptr<fd::CloseObserver<P>> observer_for_copy() override { return Core::new_owner(m_core); }

    private:
        std::shared_ptr<Core> m_core;
        const std::uint64_t m_id;
    };

    explicit RecordLocks(std::size_t max_locks = default_max_record_locks) : m_core(std::make_shared<Core>(max_locks)) {}
    RecordLocks(const RecordLocks&) = delete;
    RecordLocks& operator=(const RecordLocks&) = delete;

    /// A new POSIX lock owner (ids count up from 1; OFD owners have the top bit set).
    [[nodiscard]] std::shared_ptr<Owner> new_owner() { return Core::new_owner(m_core); }
    /// The owner id of `description`'s OFD locks.
    [[nodiscard]] static std::uint64_t description_owner(const FileHandle<P>& description) noexcept {
        return description_owner_of(static_cast<const void*>(&description));
    }

    /// F_GETLK: the first conflicting lock of another owner, or `request` with type unlock.
    Result<RecordLock> test(const InodePtr& inode, const RecordLock& request) {
        if (!valid(request) || request.type == lock_type::unlock) return Errno::inval;
        return m_core->state.with_lock([&](State& s) -> Result<RecordLock> {
            if (const RecordLock* c = conflict(s, inode.get(), request)) return *c;
            RecordLock none = request;
            none.type = lock_type::unlock;
            return none;
        });
    }

    /// F_SETLK: sets `request` (type unlock removes the range) or fails with EAGAIN on conflict.
    Result<void> set(const InodePtr& inode, const RecordLock& request) { return set(inode, request, nullptr, nullptr); }
    /// F_SETLKW: waits on `wait_context` while another owner's lock conflicts (see the contract).
    Result<void> set(const InodePtr& inode, const RecordLock& request, const event::WaitContext<P>& wait_context) {
        return set(inode, request, &wait_context, nullptr);
    }
    /// F_OFD_SETLK(W): as set(), and `description` (whose OFD owner the request names) drops its
    /// locks when it is destroyed.
    Result<void> set(const InodePtr& inode, const RecordLock& request, const event::WaitContext<P>* wait_context,
                     FileHandle<P>* description) {
        if (!valid(request)) return Errno::inval;
        if (request.type == lock_type::unlock) {
            InodePtr keep;  // released after the lock
            m_core->state.with_lock([&](State& s) { remove_range(s, inode.get(), request.owner, request.start, request.end, &keep); });
            m_core->changed.notify(fd::events::in);
            return ok();
        }
        std::optional<typename Waiting::iterator> edge;  // this call's entry in the wait-for graph
        const auto attempt = [&]() -> Result<void> {
            return m_core->state.with_lock([&](State& s) -> Result<void> {
                if (edge) s.waiting.erase(*std::exchange(edge, std::nullopt));
                if (const RecordLock* c = conflict(s, inode.get(), request)) {
                    if (wait_context == nullptr) return Errno::again;
                    if (waits_for(s, c->owner, request.owner)) return Errno::deadlk;
                    edge = s.waiting.emplace(request.owner, c->owner);
                    return Errno::again;
                }
                LITEBOX_TRY(add(s, inode, request));
                if (description != nullptr) description->observe_with(LockTable::record, m_core);
                return ok();
            });
        };
        Result<void> result = wait_context != nullptr
                                  ? event::wait_until_ready(*wait_context, &m_core->changed, fd::events::in, false, attempt)
                                  : attempt();
        if (edge) m_core->state.with_lock([&](State& s) { s.waiting.erase(*edge); });
        if (result.has_value()) m_core->changed.notify(fd::events::in);  // a downgrade or a shrunk range may unblock others
        if (!result.has_value() && result.error() == Errno::timedout) return Errno::intr;  // no deadline is ever given
        return result;
    }

    /// Drops every lock `owner` holds on `inode` (close of a descriptor of it).
    void release(const Inode<P>* inode, std::uint64_t owner) { m_core->release(inode, owner); }
    /// Drops every lock of `owner`, on every inode.
    void release_owner(std::uint64_t owner) { m_core->release_owner(owner); }
    /// True while `owner` waits in F_SETLKW.
    [[nodiscard]] bool is_waiting(std::uint64_t owner) {
        return m_core->state.with_lock([&](State& s) { return s.waiting.count(owner) != 0; });
    }
    /// Number of lock ranges held (all inodes).
    [[nodiscard]] std::size_t count() {
        return m_core->state.with_lock([](State& s) { return s.count; });
    }

private:
    static constexpr std::uint64_t description_owner_bit = std::uint64_t{1} << 63;
    static std::uint64_t description_owner_of(const void* description) noexcept {
        return description_owner_bit | static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(description));
    }

    struct Entry {
        InodePtr inode;  // keeps a locked inode alive
        std::vector<RecordLock> locks;
    };
    using Waiting = std::multimap<std::uint64_t, std::uint64_t>;  // waiting owner -> owner it waits for
    struct State {
        std::map<const Inode<P>*, Entry> inodes;
        Waiting waiting;
        std::size_t count = 0;
        std::uint64_t next_owner = 1;
    };
    struct Core final : DescriptionObserver<P> {
        explicit Core(std::size_t max) : max_locks(max) {}
        static std::shared_ptr<Owner> new_owner(const std::shared_ptr<Core>& core) {
            const std::uint64_t id = core->state.with_lock([](State& s) { return s.next_owner++; });
            return std::make_shared<Owner>(core, id);
        }
        void release(const Inode<P>* inode, std::uint64_t owner) noexcept {
            InodePtr keep;  // released after the lock
            const bool removed = state.with_lock([&](State& s) { return remove_range(s, inode, owner, 0, lock_to_eof, &keep); });
            if (removed) changed.notify(fd::events::in);
        }
        void release_owner(std::uint64_t owner) noexcept {
            std::vector<InodePtr> keep;
            bool removed = false;
            state.with_lock([&](State& s) {
                std::vector<const Inode<P>*> inodes;
                for (const auto& [inode, entry] : s.inodes) inodes.push_back(inode);
                for (const Inode<P>* inode : inodes) {
                    InodePtr one;
                    removed = remove_range(s, inode, owner, 0, lock_to_eof, &one) || removed;
                    if (one) keep.push_back(std::move(one));
                }
            });
            if (removed) changed.notify(fd::events::in);
        }
        void description_closed(const Inode<P>* inode, const void* description) noexcept override {
            release(inode, description_owner_of(description));
        }
        const std::size_t max_locks;
        sync::Mutex<P, State> state;
        event::Pollee<P> changed;  // notified whenever locks go or change
    };

    static bool valid(const RecordLock& r) noexcept {
        return r.start <= r.end && (r.type == lock_type::read || r.type == lock_type::write || r.type == lock_type::unlock);
    }
    static bool overlaps(const RecordLock& a, std::uint64_t start, std::uint64_t end) noexcept {
        return a.start <= end && start <= a.end;
    }
    static const RecordLock* conflict(State& s, const Inode<P>* inode, const RecordLock& request) {
        const auto it = s.inodes.find(inode);
        if (it == s.inodes.end()) return nullptr;
        for (const RecordLock& l : it->second.locks) {
            if (l.owner == request.owner || !overlaps(l, request.start, request.end)) continue;
            if (l.type == lock_type::write || request.type == lock_type::write) return &l;
        }
        return nullptr;
    }
    /// Deadlock detection: true when `from` (an owner the caller would wait for) already waits,
    /// directly or through other waiting owners, for `target` (the caller).
    static bool waits_for(const State& s, std::uint64_t from, std::uint64_t target) {
        std::vector<std::uint64_t> pending{from};
        std::set<std::uint64_t> seen;
        while (!pending.empty()) {
            const std::uint64_t owner = pending.back();
            pending.pop_back();
            if (owner == target) return true;
            if (!seen.insert(owner).second) continue;
            const auto [first, last] = s.waiting.equal_range(owner);
            for (auto it = first; it != last; ++it) pending.push_back(it->second);
        }
        return false;
    }
    /// Replaces the owner's locks in the request's range with the request, merging neighbours.
    Result<void> add(State& s, const InodePtr& inode, const RecordLock& request) {
        remove_range(s, inode.get(), request.owner, request.start, request.end);
        if (s.count >= m_core->max_locks) return Errno::nolck;
        Entry& entry = s.inodes[inode.get()];
        if (!entry.inode) entry.inode = inode;
        RecordLock added = request;
        // Merge with adjacent or overlapping locks of the same owner and type.
        for (auto it = entry.locks.begin(); it != entry.locks.end();) {
            const bool touches = (it->end != lock_to_eof && it->end + 1 == added.start) ||
                                 (added.end != lock_to_eof && added.end + 1 == it->start);
            if (it->owner == added.owner && it->type == added.type && touches) {
                added.start = std::min(added.start, it->start);
                added.end = std::max(added.end, it->end);
                it = entry.locks.erase(it);
                --s.count;
            } else {
                ++it;
            }
        }
        entry.locks.push_back(added);
        ++s.count;
        return ok();
    }
    /// Removes [start, end] from owner's locks on inode, splitting where needed; true if any went.
    static bool remove_range(State& s, const Inode<P>* inode, std::uint64_t owner, std::uint64_t start, std::uint64_t end,
                             InodePtr* released = nullptr) {
        const auto it = s.inodes.find(inode);
        if (it == s.inodes.end()) return false;
        auto& locks = it->second.locks;
        std::vector<RecordLock> kept;
        bool removed = false;
        for (const RecordLock& l : locks) {
            if (l.owner != owner || !overlaps(l, start, end)) {
                kept.push_back(l);
                continue;
            }
            removed = true;
            if (l.start < start) {
                RecordLock left = l;
                left.end = start - 1;
                kept.push_back(left);
            }
            if (end != lock_to_eof && l.end > end) {
                RecordLock right = l;
                right.start = end + 1;
                kept.push_back(right);
            }
        }
        s.count = s.count - locks.size() + kept.size();
        locks = std::move(kept);
        if (locks.empty()) {
            if (released) *released = std::move(it->second.inode);
            s.inodes.erase(it);
        }
        return removed;
    }

    std::shared_ptr<Core> m_core;
};

}  // namespace litebox::fs
