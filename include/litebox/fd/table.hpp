// DescriptorTable<P>: a process's file descriptors — small integers naming shared OpenFiles.
//
// Contract: new descriptors are the lowest free number (at or above a floor); a table never holds
// more than its limit (EMFILE beyond it, EBADF for numbers at or above it in dup2). Each slot has its
// own close-on-exec flag; the OpenFile (offset, status flags) is shared between dup'ed slots and
// between a table and its fork clone(). All operations are thread-safe (threads of one process
// share a table). An OpenFile is released outside the table lock, so its destructor may block or
// take other locks.
//
// Every route by which a descriptor leaves a table (close, close_range, dup2/dup3 over an open
// descriptor, close-on-exec at execve, the table's destruction) reports the file to the table's
// CloseObserver, if it has one: the one place where per-table state tied to descriptors (POSIX
// record locks, which Linux keeps per files_struct) is cleaned up.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../sync/mutex.hpp"
#include "open_file.hpp"

namespace litebox::fd {

/// Default limit on open descriptors per table (RLIMIT_NOFILE's usual soft limit).
inline constexpr std::size_t default_descriptor_limit = 1024;
/// The largest limit a table accepts (Linux's fs.nr_open default).
inline constexpr std::size_t max_descriptor_limit = 1u << 20;

/// Told about every open file a DescriptorTable lets go of.
///
/// Contract: descriptor_closed(file) runs once for each descriptor that leaves the table, by any
/// route, after the table's lock is released (it may take other locks and use the table) and
/// before the table drops its reference to the file. It must not fail or throw. observer_for_copy
/// gives the observer of a fork copy of the table (DescriptorTable::clone): nullptr for none.
template <typename P>
class CloseObserver {
public:
    virtual ~CloseObserver() = default;
    virtual void descriptor_closed(OpenFile<P>& file) noexcept = 0;
    virtual std::shared_ptr<CloseObserver> observer_for_copy() = 0;
};

template <platform::RawMutexProvider P>
class DescriptorTable {
public:
    using FilePtr = std::shared_ptr<OpenFile<P>>;
    using ObserverPtr = std::shared_ptr<CloseObserver<P>>;

    explicit DescriptorTable(std::size_t limit = default_descriptor_limit) {
        m_state.with_lock([&](State& s) { s.limit = std::min(limit, max_descriptor_limit); });
    }
    /// Reports the descriptors still open to the observer (the files go with the table).
    ~DescriptorTable() {
        std::vector<FilePtr> released;
        ObserverPtr observer;
        m_state.with_lock([&](State& s) {
            for (Slot& slot : s.slots)
                if (slot.file) released.push_back(std::move(slot.file));
            observer = std::move(s.observer);
        });
        report(observer, released);
    }
    DescriptorTable(const DescriptorTable&) = delete;
    DescriptorTable& operator=(const DescriptorTable&) = delete;

    /// The observer told about every closed descriptor (see CloseObserver); replaces any earlier one.
    void set_observer(ObserverPtr observer) {
        m_state.with_lock([&](State& s) { s.observer = std::move(observer); });
    }
    [[nodiscard]] ObserverPtr observer() const {
        return m_state.with_lock([](const State& s) { return s.observer; });
    }

    /// Installs `file` at the lowest free descriptor >= `lowest`. EMFILE when none is free below
    /// the limit, EINVAL when `lowest` is negative or not below the limit.
    Result<int> insert(FilePtr file, bool close_on_exec, int lowest = 0) {
        if (!file) return Errno::badf;
        return m_state.with_lock([&](State& s) -> Result<int> {
            if (lowest < 0 || static_cast<std::size_t>(lowest) >= s.limit) return Errno::inval;
            for (std::size_t fd = static_cast<std::size_t>(lowest); fd < s.limit; ++fd) {
                if (fd >= s.slots.size()) s.slots.resize(fd + 1);
                if (!s.slots[fd].file) {
                    s.slots[fd] = Slot{std::move(file), close_on_exec};
                    return static_cast<int>(fd);
                }
            }
            return Errno::mfile;
        });
    }

    /// The open file behind `fd`, or EBADF.
    [[nodiscard]] Result<FilePtr> get(int fd) const {
        return m_state.with_lock([&](const State& s) -> Result<FilePtr> {
            const Slot* slot = s.find(fd);
            if (!slot) return Errno::badf;
            return slot->file;
        });
    }

    /// Closes `fd` (EBADF if it is not open). The file is released after the lock is dropped.
    Result<void> close(int fd) {
        FilePtr released;
        ObserverPtr observer;
        {
            auto s = m_state.lock();
            Slot* slot = s->find(fd);
            if (!slot) return Errno::badf;
            released = std::move(slot->file);
            slot->close_on_exec = false;
            observer = s->observer;
        }
        report(observer, released);
        return ok();
    }

    /// close_range(2) without flags: closes every open descriptor in [first, last].
    void close_range(unsigned first, unsigned last) {
        std::vector<FilePtr> released;
        ObserverPtr observer;
        {
            auto s = m_state.lock();
            for (std::size_t fd = first; fd <= last && fd < s->slots.size(); ++fd) {
                if (s->slots[fd].file) {
                    released.push_back(std::move(s->slots[fd].file));
                    s->slots[fd].close_on_exec = false;
                }
            }
            observer = s->observer;
        }
        report(observer, released);
    }

    /// F_DUPFD / F_DUPFD_CLOEXEC / dup: the lowest free descriptor >= lowest, sharing the file.
    Result<int> duplicate(int fd, int lowest = 0, bool close_on_exec = false) {
        LITEBOX_TRY_ASSIGN(FilePtr file, get(fd));
        return insert(std::move(file), close_on_exec, lowest);
    }

    /// dup2 (allow_same = true) and dup3 (allow_same = false: EINVAL when old == new). Closes
    /// whatever `new_fd` held; EBADF when `old_fd` is not open or `new_fd` is out of range.
    Result<int> duplicate_to(int old_fd, int new_fd, bool close_on_exec, bool allow_same) {
        FilePtr released;
        ObserverPtr observer;
        {
            auto s = m_state.lock();
            const Slot* from = s->find(old_fd);
            if (!from) return Errno::badf;
            if (new_fd < 0 || static_cast<std::size_t>(new_fd) >= s->limit) return Errno::badf;
            if (old_fd == new_fd) {
                if (!allow_same) return Errno::inval;
                return new_fd;
            }
            FilePtr file = from->file;
            if (static_cast<std::size_t>(new_fd) >= s->slots.size()) s->slots.resize(static_cast<std::size_t>(new_fd) + 1);
            released = std::exchange(s->slots[static_cast<std::size_t>(new_fd)].file, std::move(file));
            s->slots[static_cast<std::size_t>(new_fd)].close_on_exec = close_on_exec;
            observer = s->observer;
        }
        report(observer, released);
        return new_fd;
    }

    [[nodiscard]] Result<bool> close_on_exec(int fd) const {
        return m_state.with_lock([&](const State& s) -> Result<bool> {
            const Slot* slot = s.find(fd);
            if (!slot) return Errno::badf;
            return slot->close_on_exec;
        });
    }
    Result<void> set_close_on_exec(int fd, bool value) {
        return m_state.with_lock([&](State& s) -> Result<void> {
            Slot* slot = s.find(fd);
            if (!slot) return Errno::badf;
            slot->close_on_exec = value;
            return ok();
        });
    }

    /// execve: closes every descriptor marked close-on-exec.
    void close_all_on_exec() {
        std::vector<FilePtr> released;  // reported and destroyed after the lock is dropped
        ObserverPtr observer;
        {
            auto s = m_state.lock();
            for (Slot& slot : s->slots) {
                if (slot.file && slot.close_on_exec) {
                    released.push_back(std::move(slot.file));
                    slot.close_on_exec = false;
                }
            }
            observer = s->observer;
        }
        report(observer, released);
    }

    /// fork: a new table with the same descriptors, sharing every open file; its observer is
    /// the current observer's observer_for_copy().
    [[nodiscard]] std::unique_ptr<DescriptorTable> clone() const {
        auto copy = std::make_unique<DescriptorTable>(limit());
        ObserverPtr observer = this->observer();
        if (observer) copy->set_observer(observer->observer_for_copy());
        m_state.with_lock([&](const State& s) {
            copy->m_state.with_lock([&](State& c) { c.slots = s.slots; });
        });
        return copy;
    }

    [[nodiscard]] std::size_t limit() const {
        return m_state.with_lock([](const State& s) { return s.limit; });
    }
    /// RLIMIT_NOFILE: descriptors already open above a lowered limit stay open (as on Linux).
    Result<void> set_limit(std::size_t limit) {
        if (limit > max_descriptor_limit) return Errno::perm;
        m_state.with_lock([&](State& s) { s.limit = limit; });
        return ok();
    }

    /// Number of open descriptors.
    [[nodiscard]] std::size_t count() const {
        return m_state.with_lock([](const State& s) {
            return static_cast<std::size_t>(std::count_if(s.slots.begin(), s.slots.end(), [](const Slot& slot) { return slot.file != nullptr; }));
        });
    }

    /// Calls f(fd, file, close_on_exec) for every open descriptor in increasing order, on a
    /// snapshot taken under the lock (f runs without it).
    template <typename F>
    void for_each(F&& f) const {
        auto snapshot = m_state.with_lock([](const State& s) { return s.slots; });
        for (std::size_t fd = 0; fd < snapshot.size(); ++fd) {
            if (snapshot[fd].file) f(static_cast<int>(fd), snapshot[fd].file, snapshot[fd].close_on_exec);
        }
    }

private:
    struct Slot {
        FilePtr file;
        bool close_on_exec = false;
    };
    struct State {
        std::vector<Slot> slots;
        std::size_t limit = default_descriptor_limit;
        ObserverPtr observer;
        Slot* find(int fd) {
            if (fd < 0 || static_cast<std::size_t>(fd) >= slots.size() || !slots[static_cast<std::size_t>(fd)].file) return nullptr;
            return &slots[static_cast<std::size_t>(fd)];
        }
        const Slot* find(int fd) const { return const_cast<State*>(this)->find(fd); }
    };

    /// Tells `observer` about each released file (outside the lock), then drops them.
    static void report(const ObserverPtr& observer, std::vector<FilePtr>& released) noexcept {
        for (FilePtr& file : released) report(observer, file);
        released.clear();
    }
    /// The same for one file (close, dup2: no vector on the common path); null: nothing closed.
    static void report(const ObserverPtr& observer, FilePtr& released) noexcept {
        if (observer && released) observer->descriptor_closed(*released);
        released.reset();
    }

    mutable sync::Mutex<P, State> m_state;
};

}  // namespace litebox::fd
