// RecordLocks<P>: POSIX advisory record locks (fcntl F_GETLK / F_SETLK / F_SETLKW).
//
// Contract: locks belong to an owner id (the caller's process id: POSIX locks are per process) and
// cover an inclusive byte range [start, end] of one inode (end = lock_to_eof for "to end of file
// and beyond"). A read lock conflicts with another owner's write lock; a write lock conflicts with
// any other owner's lock; an owner's own locks never conflict and are replaced, split and merged as
// on Linux. F_SETLK fails with EAGAIN on conflict; F_SETLKW waits (through sync::Condvar) and fails
// with EDEADLK when waiting would close a cycle of owners, or EINTR after interrupt(owner). The
// caller releases an owner's locks on an inode when the owner closes any descriptor of it
// (release) and all of them when the process exits (release_owner). At most max_locks ranges exist
// at once (ENOLCK beyond).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../sync/condvar.hpp"
#include "../sync/mutex.hpp"
#include "backend.hpp"

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
public:
    using InodePtr = typename Inode<P>::Ptr;

    explicit RecordLocks(std::size_t max_locks = default_max_record_locks) : m_max_locks(max_locks) {}
    RecordLocks(const RecordLocks&) = delete;
    RecordLocks& operator=(const RecordLocks&) = delete;

    /// F_GETLK: the first conflicting lock of another owner, or `request` with type unlock.
    Result<RecordLock> test(const InodePtr& inode, const RecordLock& request) {
        if (!valid(request) || request.type == lock_type::unlock) return Errno::inval;
        return m_state.with_lock([&](State& s) -> Result<RecordLock> {
            if (const RecordLock* c = conflict(s, inode.get(), request)) return *c;
            RecordLock none = request;
            none.type = lock_type::unlock;
            return none;
        });
    }

    /// F_SETLK (wait = false) / F_SETLKW (wait = true); type unlock removes the range.
    Result<void> set(const InodePtr& inode, const RecordLock& request, bool wait) {
        if (!valid(request)) return Errno::inval;
        auto guard = m_state.lock();
        if (request.type == lock_type::unlock) {
            remove_range(*guard, inode.get(), request.owner, request.start, request.end);
            m_changed.notify_all();
            return ok();
        }
        for (;;) {
            const RecordLock* c = conflict(*guard, inode.get(), request);
            if (!c) break;
            if (!wait) return Errno::again;
            // Deadlock detection: follow the chain of owners each blocked owner waits for.
            std::uint64_t blocker = c->owner;
            for (std::size_t hops = 0; hops <= guard->waiting.size(); ++hops) {
                if (blocker == request.owner) return Errno::deadlk;
                const auto next = guard->waiting.find(blocker);
                if (next == guard->waiting.end()) break;
                blocker = next->second;
            }
            guard->waiting[request.owner] = c->owner;
            m_changed.wait(guard);
            guard->waiting.erase(request.owner);
            if (guard->interrupted.erase(request.owner) != 0) return Errno::intr;
        }
        // Replace the owner's locks in the range with the new one, then merge neighbours.
        State& s = *guard;
        remove_range(s, inode.get(), request.owner, request.start, request.end);
        if (s.count >= m_max_locks) return Errno::nolck;
        auto& locks = s.inodes[inode.get()].locks;
        if (!s.inodes[inode.get()].inode) s.inodes[inode.get()].inode = inode;
        RecordLock added = request;
        // Merge with adjacent or overlapping locks of the same owner and type.
        for (auto it = locks.begin(); it != locks.end();) {
            const bool touches = (it->end != lock_to_eof && it->end + 1 == added.start) ||
                                 (added.end != lock_to_eof && added.end + 1 == it->start);
            if (it->owner == added.owner && it->type == added.type && touches) {
                added.start = std::min(added.start, it->start);
                added.end = std::max(added.end, it->end);
                it = locks.erase(it);
                --s.count;
            } else {
                ++it;
            }
        }
        locks.push_back(added);
        ++s.count;
        m_changed.notify_all();
        return ok();
    }

    /// Drops every lock `owner` holds on `inode` (close of a descriptor of it).
    void release(const Inode<P>* inode, std::uint64_t owner) {
        InodePtr keep;  // released after the lock
        auto guard = m_state.lock();
        remove_range(*guard, inode, owner, 0, lock_to_eof, &keep);
        m_changed.notify_all();
    }
    /// Drops every lock of `owner` (process exit).
    void release_owner(std::uint64_t owner) {
        std::vector<InodePtr> keep;
        auto guard = m_state.lock();
        std::vector<const Inode<P>*> inodes;
        for (const auto& [inode, entry] : guard->inodes) inodes.push_back(inode);
        for (const Inode<P>* inode : inodes) {
            InodePtr one;
            remove_range(*guard, inode, owner, 0, lock_to_eof, &one);
            if (one) keep.push_back(std::move(one));
        }
        m_changed.notify_all();
    }
    /// Makes a waiting F_SETLKW of `owner` fail with EINTR (signal delivery).
    void interrupt(std::uint64_t owner) {
        m_state.with_lock([&](State& s) {
            if (s.waiting.count(owner) != 0) s.interrupted.insert(owner);
        });
        m_changed.notify_all();
    }
    /// True while `owner` waits in F_SETLKW.
    [[nodiscard]] bool is_waiting(std::uint64_t owner) {
        return m_state.with_lock([&](State& s) { return s.waiting.count(owner) != 0; });
    }
    /// Number of lock ranges held (all inodes).
    [[nodiscard]] std::size_t count() {
        return m_state.with_lock([](State& s) { return s.count; });
    }

private:
    struct Entry {
        InodePtr inode;  // keeps a locked inode alive
        std::vector<RecordLock> locks;
    };
    struct State {
        std::map<const Inode<P>*, Entry> inodes;
        std::map<std::uint64_t, std::uint64_t> waiting;  // owner -> owner it waits for
        std::set<std::uint64_t> interrupted;
        std::size_t count = 0;
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
    /// Removes [start, end] from owner's locks on inode, splitting where needed.
    static void remove_range(State& s, const Inode<P>* inode, std::uint64_t owner, std::uint64_t start, std::uint64_t end,
                             InodePtr* released = nullptr) {
        const auto it = s.inodes.find(inode);
        if (it == s.inodes.end()) return;
        auto& locks = it->second.locks;
        std::vector<RecordLock> kept;
        for (const RecordLock& l : locks) {
            if (l.owner != owner || !overlaps(l, start, end)) {
                kept.push_back(l);
                continue;
            }
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
    }

    const std::size_t m_max_locks;
    sync::Mutex<P, State> m_state;
    sync::Condvar<P> m_changed;
};

}  // namespace litebox::fs
