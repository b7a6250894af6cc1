// FlockLocks<P>: BSD flock(2) locks, kept apart from the POSIX record locks (locks.hpp) as Linux
// keeps them: a process holding an fcntl lock on a file can flock it too, and the other way round.
//
// Contract:
// - A lock covers a whole inode and belongs to one open file description (a FileHandle): every
//   descriptor dup'ed or inherited from it shares it. It goes with unlock(), or when the
//   description is destroyed (its last descriptor closed, whatever closed it: close, dup2, exec,
//   exit), through the FileHandle's DescriptionObserver.
// - A shared lock conflicts with another description's exclusive lock; an exclusive lock with any
//   other description's lock. Asking for the kind a description holds succeeds at once; asking
//   for the other kind first drops the held lock and then acquires (Linux: a conversion is not
//   atomic, and a failed LOCK_NB conversion leaves no lock).
// - lock() with `wait` false fails with EAGAIN (EWOULDBLOCK) on conflict; with `wait` it sleeps
//   on the caller's WaitContext (no busy loop: every unlock or release notifies) and fails with
//   EINTR when the waiter is interrupted. No deadlock detection (Linux has none for flock).
// - At most max_locks descriptions hold locks at once (ENOLCK beyond).
#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../event/blocking.hpp"
#include "../sync/mutex.hpp"
#include "backend.hpp"
#include "file.hpp"

namespace litebox::fs {

/// Default limit on the number of descriptions holding flock locks in one namespace.
inline constexpr std::size_t default_max_flocks = 4096;

template <platform::RawMutexProvider P>
class FlockLocks {
public:
    using InodePtr = typename Inode<P>::Ptr;

    explicit FlockLocks(std::size_t max_locks = default_max_flocks) : m_core(std::make_shared<Core>(max_locks)) {}
    FlockLocks(const FlockLocks&) = delete;
    FlockLocks& operator=(const FlockLocks&) = delete;

    /// LOCK_SH (exclusive false) / LOCK_EX for `description` on `inode` (see the contract).
    Result<void> lock(const InodePtr& inode, FileHandle<P>& description, bool exclusive, const event::WaitContext<P>& wait_context,
                      bool wait) {
        const void* owner = &description;
        bool dropped = false;
        Result<void> first = m_core->state.with_lock([&](State& s) -> Result<void> {
            Holder* held = find(s, inode.get(), owner);
            if (held && held->exclusive == exclusive) return ok();
            if (held) {
                remove(s, inode.get(), owner);
                dropped = true;
            }
            return Errno::again;
        });
        if (dropped) m_core->changed.notify(fd::events::in);
        if (first.has_value()) return first;
        const auto attempt = [&]() -> Result<void> {
            return m_core->state.with_lock([&](State& s) -> Result<void> {
                auto& entry = s.inodes[inode.get()];
                const bool conflict = std::any_of(entry.holders.begin(), entry.holders.end(), [&](const Holder& h) {
                    return h.description != owner && (exclusive || h.exclusive);
                });
                if (conflict) {
                    if (entry.holders.empty()) s.inodes.erase(inode.get());
                    return Errno::again;
                }
                if (s.count >= m_core->max_locks) {
                    if (entry.holders.empty()) s.inodes.erase(inode.get());
                    return Errno::nolck;
                }
                if (!entry.inode) entry.inode = inode;
                entry.holders.push_back(Holder{owner, exclusive});
                ++s.count;
                description.observe_with(LockTable::flock, m_core);
                return ok();
            });
        };
        auto result = event::wait_until_ready(wait_context, &m_core->changed, fd::events::in, !wait, attempt);
        if (!result.has_value() && result.error() == Errno::timedout) return Errno::intr;  // no deadline is ever given
        return result;
    }

    /// LOCK_UN: drops `description`'s lock on `inode`, if it holds one.
    void unlock(const Inode<P>* inode, const FileHandle<P>& description) { m_core->description_closed(inode, &description); }

    /// Number of descriptions holding a lock (all inodes).
    [[nodiscard]] std::size_t count() const {
        return m_core->state.with_lock([](State& s) { return s.count; });
    }

private:
    struct Holder {
        const void* description;
        bool exclusive;
    };
    struct Entry {
        InodePtr inode;  // keeps a locked inode alive
        std::vector<Holder> holders;
    };
    struct State {
        std::map<const Inode<P>*, Entry> inodes;
        std::size_t count = 0;
    };
    struct Core final : DescriptionObserver<P> {
        explicit Core(std::size_t max) : max_locks(max) {}
        void description_closed(const Inode<P>* inode, const void* description) noexcept override {
            InodePtr released;  // dropped after the lock
            const bool removed = state.with_lock([&](State& s) { return remove(s, inode, description, &released); });
            if (removed) changed.notify(fd::events::in);
        }
        const std::size_t max_locks;
        sync::Mutex<P, State> state;
        event::Pollee<P> changed;  // notified whenever a lock goes
    };

    static Holder* find(State& s, const Inode<P>* inode, const void* owner) {
        const auto it = s.inodes.find(inode);
        if (it == s.inodes.end()) return nullptr;
        for (Holder& h : it->second.holders)
            if (h.description == owner) return &h;
        return nullptr;
    }
    static bool remove(State& s, const Inode<P>* inode, const void* owner, InodePtr* released = nullptr) {
        const auto it = s.inodes.find(inode);
        if (it == s.inodes.end()) return false;
        auto& holders = it->second.holders;
        const auto before = holders.size();
        std::erase_if(holders, [&](const Holder& h) { return h.description == owner; });
        s.count -= before - holders.size();
        const bool removed = holders.size() != before;
        if (holders.empty()) {
            if (released) *released = std::move(it->second.inode);
            s.inodes.erase(it);
        }
        return removed;
    }

    std::shared_ptr<Core> m_core;
};

}  // namespace litebox::fs
