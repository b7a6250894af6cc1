// inotify(7) for the box's namespace: InotifyHub<P> (one per Vfs: which instance watches which
// inode, and the box-wide limits) and Inotify<P> (one inotify instance: an open file whose read(2)
// returns struct inotify_event records).
//
// Contract:
// - A watch names an inode by (st_dev, st_ino) of the location it was added for (mounts crossed,
//   so a mount point's watch sees the mounted root). The same inode added twice to one instance
//   gives the same watch descriptor; watch descriptors start at 1 and are not reused.
// - Events come from the Vfs (namespace and attribute changes, opens) and from its open files
//   (reads, writes, truncation, closes): every change made inside the box through any descriptor
//   or path is seen, whichever process made it. Changes a host makes under a host mount are not.
// - Each event is delivered to the watches of the object itself (no name) and, for events that
//   Linux reports on children, first to the watches of the directory it was reached through (with
//   the name it has there). Events of a directory carry IN_ISDIR. An event identical to the last
//   unread one of an instance is merged with it. Past max_queued_events unread events, one
//   IN_Q_OVERFLOW (wd -1) is queued and further events are dropped until the queue drains.
// - IN_IGNORED follows inotify_rm_watch, IN_DELETE_SELF (the watch goes away with the inode) and
//   the first event of an IN_ONESHOT watch.
// - Locks: an instance's lock may be held while taking the hub's; the hub never holds its lock
//   while it calls into an instance. Neither is held while a Pollee is notified.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../event/pollee.hpp"
#include "../fd/open_file.hpp"
#include "../ipc/detail/anon_inode.hpp"
#include "../sync/mutex.hpp"
#include "location.hpp"

namespace litebox::fs {

/// inotify event and flag bits (<sys/inotify.h>).
namespace in_event {
inline constexpr std::uint32_t access = 0x00000001;
inline constexpr std::uint32_t modify = 0x00000002;
inline constexpr std::uint32_t attrib = 0x00000004;
inline constexpr std::uint32_t close_write = 0x00000008;
inline constexpr std::uint32_t close_nowrite = 0x00000010;
inline constexpr std::uint32_t open = 0x00000020;
inline constexpr std::uint32_t moved_from = 0x00000040;
inline constexpr std::uint32_t moved_to = 0x00000080;
inline constexpr std::uint32_t create = 0x00000100;
inline constexpr std::uint32_t delete_child = 0x00000200;  // IN_DELETE
inline constexpr std::uint32_t delete_self = 0x00000400;
inline constexpr std::uint32_t move_self = 0x00000800;
inline constexpr std::uint32_t all_events = 0x00000fff;
inline constexpr std::uint32_t unmount = 0x00002000;
inline constexpr std::uint32_t q_overflow = 0x00004000;
inline constexpr std::uint32_t ignored = 0x00008000;
inline constexpr std::uint32_t only_dir = 0x01000000;
inline constexpr std::uint32_t dont_follow = 0x02000000;
inline constexpr std::uint32_t excl_unlink = 0x04000000;
inline constexpr std::uint32_t mask_create = 0x10000000;
inline constexpr std::uint32_t mask_add = 0x20000000;
inline constexpr std::uint32_t is_dir = 0x40000000;
inline constexpr std::uint32_t oneshot = 0x80000000;
/// The bits a watch can use.
inline constexpr std::uint32_t valid_add = all_events | only_dir | dont_follow | excl_unlink | mask_create | mask_add | oneshot;
/// Every bit inotify_add_watch accepts (Linux's ALL_INOTIFY_BITS; the others are EINVAL).
inline constexpr std::uint32_t known = valid_add | unmount | q_overflow | ignored | is_dir;
/// What a watch remembers besides its events.
inline constexpr std::uint32_t watch_flags = excl_unlink | oneshot;
/// Events Linux also reports to the watch of the parent directory (with the child's name).
inline constexpr std::uint32_t on_child = access | modify | attrib | close_write | close_nowrite | open | moved_from | moved_to |
                                          create | delete_child;
}  // namespace in_event

/// inotify_init1 flags.
namespace in_init {
inline constexpr std::uint32_t nonblock = fd::open_flags::nonblock;
inline constexpr std::uint32_t close_on_exec = fd::open_flags::close_on_exec;
}  // namespace in_init

/// Box-wide limits (Linux's are per user: /proc/sys/fs/inotify/*).
struct InotifyLimits {
    std::size_t max_instances = 128;        // inotify_init beyond: EMFILE
    std::size_t max_watches = 8192;         // inotify_add_watch beyond: ENOSPC
    std::size_t max_queued_events = 16384;  // per instance; beyond: one IN_Q_OVERFLOW
};

/// An inode as a watch names it.
struct WatchKey {
    std::uint64_t device = 0;
    std::uint64_t ino = 0;
    friend auto operator<=>(const WatchKey&, const WatchKey&) = default;
};

template <platform::RawMutexProvider P>
WatchKey watch_key(const Location<P>& where) noexcept {
    return WatchKey{where.device(), where.inode ? where.inode->ino() : 0};
}

/// The directory an object was reached through and its name there.
template <platform::RawMutexProvider P>
struct NamedIn {
    const Location<P>* directory = nullptr;
    std::string_view name;
};

template <platform::RawMutexProvider P>
class Inotify;

template <platform::RawMutexProvider P>
class InotifyHub {
public:
    InotifyHub() = default;
    InotifyHub(const InotifyHub&) = delete;
    InotifyHub& operator=(const InotifyHub&) = delete;

    void set_limits(const InotifyLimits& limits) {
        m_state.with_lock([&](State& s) { s.limits = limits; });
    }
    [[nodiscard]] InotifyLimits limits() const {
        return m_state.with_lock([](const State& s) { return s.limits; });
    }
    /// False while no instance watches anything: the event hooks cost one load then.
    [[nodiscard]] bool active() const noexcept { return m_watch_count.load(std::memory_order_acquire) != 0; }
    [[nodiscard]] std::size_t watch_count() const noexcept { return m_watch_count.load(std::memory_order_relaxed); }
    [[nodiscard]] std::size_t instance_count() const {
        return m_state.with_lock([](const State& s) { return s.instances; });
    }
    /// A cookie that ties an IN_MOVED_FROM to its IN_MOVED_TO (never 0).
    std::uint32_t next_cookie() noexcept {
        std::uint32_t c = m_cookie.fetch_add(1, std::memory_order_relaxed);
        if (c == 0) c = m_cookie.fetch_add(1, std::memory_order_relaxed);
        return c;
    }

    // ---- the event hooks -------------------------------------------------------------------
    /// `mask` happened to `self`, reached through `parent` (optional). IN_ISDIR is added for a
    /// directory. `unlinked`: the object has no name any more (for IN_EXCL_UNLINK).
    void object_event(const Location<P>& self, const NamedIn<P>& parent, std::uint32_t mask, bool unlinked = false) {
        if (!active() || !self.inode) return;
        if (self.inode->is_directory()) mask |= in_event::is_dir;
        // The parent's watches first, as Linux's fsnotify_handle_event does.
        if (parent.directory != nullptr && parent.directory->inode && (mask & in_event::on_child) != 0 && !parent.name.empty())
            deliver(watch_key(*parent.directory), mask, 0, parent.name, unlinked);
        deliver(watch_key(self), mask, 0, {}, false);
    }
    /// A name in `dir` changed (IN_CREATE, IN_DELETE, IN_MOVED_FROM/TO, with IN_ISDIR as needed).
    void child_event(const Location<P>& dir, std::string_view name, std::uint32_t mask, std::uint32_t cookie = 0) {
        if (!active() || !dir.inode) return;
        deliver(watch_key(dir), mask, cookie, name, false);
    }
    /// An event of the object only: IN_MOVE_SELF, or IN_ATTRIB for a changed link count (Linux
    /// sets IN_ISDIR on neither).
    void self_event(const Location<P>& self, std::uint32_t mask) {
        if (!active() || !self.inode) return;
        deliver(watch_key(self), mask, 0, {}, false);
    }
    /// The object lost its last name. Linux reports IN_DELETE_SELF when the inode goes away, which
    /// is at once unless something still holds it (an open file, a working directory): then at
    /// the last close of a description of it (FileHandle's destructor calls last_close()).
    /// `where` must be the caller's only reference besides the holders.
    void unlinked(const Location<P>& where) {
        if (!active() || !where.inode) return;
        if (where.inode.use_count() <= 1) return removed(where);
        m_state.with_lock([&](State& s) {
            if (s.index.contains(watch_key(where))) s.pending.insert(watch_key(where));
        });
    }
    /// A description of `where` is being destroyed (it holds one reference to the inode).
    void last_close(const Location<P>& where) {
        if (!active() || !where.inode || where.inode.use_count() > 1) return;
        const bool pending = m_state.with_lock([&](State& s) { return s.pending.erase(watch_key(where)) != 0; });
        if (pending) removed(where);
    }
    /// The object is gone (its last name removed): IN_DELETE_SELF and IN_IGNORED to every watch
    /// of it, which go away.
    void removed(const Location<P>& self) {
        if (!active() || !self.inode) return;
        std::vector<std::pair<std::shared_ptr<Inotify<P>>, int>> targets;
        m_state.with_lock([&](State& s) {
            auto it = s.index.find(watch_key(self));
            if (it == s.index.end()) return;
            for (auto& e : it->second)
                if (auto inst = e.instance.lock()) targets.emplace_back(std::move(inst), e.wd);
            m_watch_count.fetch_sub(it->second.size(), std::memory_order_acq_rel);
            s.index.erase(it);
            s.pending.erase(watch_key(self));
        });
        for (auto& [inst, wd] : targets) inst->deliver_removed(wd);
    }

    // ---- for instances ---------------------------------------------------------------------
    Result<void> add_instance() {
        return m_state.with_lock([](State& s) -> Result<void> {
            if (s.instances >= s.limits.max_instances) return Errno::mfile;
            ++s.instances;
            return ok();
        });
    }
    void remove_instance() noexcept {
        m_state.with_lock([](State& s) {
            if (s.instances > 0) --s.instances;
        });
    }
    /// Registers watch `wd` of `instance` on `key` (ENOSPC past max_watches).
    Result<void> attach(const WatchKey& key, const std::weak_ptr<Inotify<P>>& instance, int wd) {
        return m_state.with_lock([&](State& s) -> Result<void> {
            if (m_watch_count.load(std::memory_order_relaxed) >= s.limits.max_watches) return Errno::nospc;
            s.index[key].push_back(Entry{instance, wd});
            m_watch_count.fetch_add(1, std::memory_order_acq_rel);
            return ok();
        });
    }
    /// Removes watch `wd` of `instance` from `key` (nothing if it is not there any more).
    void detach(const WatchKey& key, const Inotify<P>* instance, int wd) noexcept {
        m_state.with_lock([&](State& s) {
            auto it = s.index.find(key);
            if (it == s.index.end()) return;
            auto& v = it->second;
            const auto before = v.size();
            std::erase_if(v, [&](const Entry& e) { return e.wd == wd && (e.instance.expired() || e.instance.lock().get() == instance); });
            m_watch_count.fetch_sub(before - v.size(), std::memory_order_acq_rel);
            if (v.empty()) {
                s.index.erase(it);
                s.pending.erase(key);
            }
        });
    }
    [[nodiscard]] std::size_t max_queued_events() const {
        return m_state.with_lock([](const State& s) { return s.limits.max_queued_events; });
    }

private:
    struct Entry {
        std::weak_ptr<Inotify<P>> instance;
        int wd = 0;
    };
    struct State {
        InotifyLimits limits;
        std::size_t instances = 0;
        std::map<WatchKey, std::vector<Entry>> index;
        std::set<WatchKey> pending;  // unlinked, still open: IN_DELETE_SELF at the last close
    };

    void deliver(const WatchKey& key, std::uint32_t mask, std::uint32_t cookie, std::string_view name, bool unlinked);

    mutable sync::Mutex<P, State> m_state;
    std::atomic<std::size_t> m_watch_count{0};
    std::atomic<std::uint32_t> m_cookie{1};
};

/// One inotify instance.
template <platform::RawMutexProvider P>
class Inotify final : public fd::OpenFile<P>, public std::enable_shared_from_this<Inotify<P>> {
public:
    /// Use create().
    Inotify(std::shared_ptr<InotifyHub<P>> hub, std::uint32_t flags)
        : fd::OpenFile<P>(fd::open_flags::read_only | (flags & in_init::nonblock)), m_hub(std::move(hub)),
          m_max_queued(m_hub->max_queued_events()), m_inode(ipc::detail::allocate_anonymous_inode()) {}
    ~Inotify() override {
        auto watches = m_state.with_lock([](State& s) { return std::move(s.watches); });
        for (const auto& [wd, w] : watches) m_hub->detach(w.key, this, wd);
        m_hub->remove_instance();
    }

    /// inotify_init1 (flags already checked): EMFILE past the instance limit.
    static Result<std::shared_ptr<Inotify>> create(const std::shared_ptr<InotifyHub<P>>& hub, std::uint32_t flags) {
        LITEBOX_TRY(hub->add_instance());
        return std::make_shared<Inotify>(hub, flags);
    }

    /// inotify_add_watch on a resolved location; `mask` checked by the caller (some event bit set,
    /// no unknown bits, not both IN_MASK_ADD and IN_MASK_CREATE).
    Result<int> add_watch(const Location<P>& where, std::uint32_t mask) {
        const WatchKey key = watch_key(where);
        const std::uint32_t kept = mask & (in_event::all_events | in_event::watch_flags);
        auto guard = m_state.lock();
        State& s = *guard;
        if (auto it = s.by_key.find(key); it != s.by_key.end()) {
            if (mask & in_event::mask_create) return Errno::exist;
            Watch& w = s.watches.at(it->second);
            w.mask = (mask & in_event::mask_add) ? (w.mask | kept) : kept;
            return it->second;
        }
        if (s.next_wd <= 0) return Errno::nospc;  // 2^31 watches added: Linux's idr is full too
        const int wd = s.next_wd;
        LITEBOX_TRY(m_hub->attach(key, this->weak_from_this(), wd));
        ++s.next_wd;
        s.watches.emplace(wd, Watch{key, kept});
        s.by_key.emplace(key, wd);
        return wd;
    }
    /// inotify_rm_watch: queues IN_IGNORED; EINVAL for an unknown wd.
    Result<void> remove_watch(int wd) {
        WatchKey key;
        LITEBOX_TRY(m_state.with_lock([&](State& s) -> Result<void> {
            auto it = s.watches.find(wd);
            if (it == s.watches.end()) return Errno::inval;
            key = it->second.key;
            s.by_key.erase(key);
            s.watches.erase(it);
            queue(s, wd, in_event::ignored, 0, {});
            return ok();
        }));
        m_hub->detach(key, this, wd);
        m_pollee.notify(fd::events::in | fd::events::rdnorm);
        return ok();
    }

    // ---- delivery (the hub) ------------------------------------------------------------------
    /// One event for watch `wd` (if it still exists and wants it).
    void deliver(int wd, std::uint32_t mask, std::uint32_t cookie, std::string_view name, bool unlinked) {
        std::optional<WatchKey> drop;
        const bool queued = m_state.with_lock([&](State& s) {
            auto it = s.watches.find(wd);
            if (it == s.watches.end()) return false;
            const Watch w = it->second;
            if ((mask & w.mask & in_event::all_events) == 0) return false;
            if (unlinked && !name.empty() && (w.mask & in_event::excl_unlink)) return false;
            queue(s, wd, (mask & (w.mask | in_event::is_dir)) & ~in_event::watch_flags, cookie, name);
            if (w.mask & in_event::oneshot) {
                drop = w.key;
                s.by_key.erase(w.key);
                s.watches.erase(it);
                queue(s, wd, in_event::ignored, 0, {});
            }
            return true;
        });
        if (drop) m_hub->detach(*drop, this, wd);
        if (queued) m_pollee.notify(fd::events::in | fd::events::rdnorm);
    }
    /// The watched inode is gone (the hub already forgot the watch).
    void deliver_removed(int wd) {
        const bool queued = m_state.with_lock([&](State& s) {
            auto it = s.watches.find(wd);
            if (it == s.watches.end()) return false;
            if (it->second.mask & in_event::delete_self) queue(s, wd, in_event::delete_self, 0, {});
            s.by_key.erase(it->second.key);
            s.watches.erase(it);
            queue(s, wd, in_event::ignored, 0, {});
            return true;
        });
        if (queued) m_pollee.notify(fd::events::in | fd::events::rdnorm);
    }

    // ---- the open file -----------------------------------------------------------------------
    /// Whole events from the front of the queue: EINVAL when the first does not fit, EAGAIN when
    /// there is none.
    Result<std::size_t> read(std::span<std::byte> out) override {
        return m_state.with_lock([&](State& s) -> Result<std::size_t> {
            if (s.queue.empty()) return Errno::again;
            std::size_t done = 0;
            while (!s.queue.empty()) {
                const Event& e = s.queue.front();
                const std::size_t size = record_size(e);
                if (size > out.size() - done) {
                    if (done == 0) return Errno::inval;
                    break;
                }
                encode(e, out.subspan(done, size));
                done += size;
                s.queued_bytes -= size;
                s.queue.pop_front();
            }
            return done;
        });
    }
    Result<std::size_t> write(std::span<const std::byte>) override { return Errno::inval; }
    Result<fd::Stat> stat() override { return ipc::detail::anonymous_stat(m_inode, 0600); }
    [[nodiscard]] std::string_view anonymous_name() const noexcept override { return "inotify"; }
    fd::Events poll(fd::Events /*interest*/) override {
        return m_state.with_lock([](const State& s) { return s.queue.empty() ? fd::Events{0} : (fd::events::in | fd::events::rdnorm); });
    }
    event::Pollee<P>* pollee() noexcept override { return &m_pollee; }

    /// FIONREAD: bytes of every queued event.
    [[nodiscard]] std::size_t bytes_queued() const {
        return m_state.with_lock([](const State& s) { return s.queued_bytes; });
    }
    /// The watches as /proc/<pid>/fdinfo lists them: wd, key, mask (events and flags).
    struct WatchInfo {
        int wd;
        WatchKey key;
        std::uint32_t mask;
    };
    [[nodiscard]] std::vector<WatchInfo> watches() const {
        return m_state.with_lock([](const State& s) {
            std::vector<WatchInfo> out;
            for (const auto& [wd, w] : s.watches) out.push_back(WatchInfo{wd, w.key, w.mask});
            return out;
        });
    }

    /// Size of struct inotify_event without its name.
    static constexpr std::size_t header_size = 16;

private:
    struct Watch {
        WatchKey key;
        std::uint32_t mask = 0;  // events and watch_flags
    };
    struct Event {
        int wd = 0;
        std::uint32_t mask = 0;
        std::uint32_t cookie = 0;
        std::string name;
        friend bool operator==(const Event&, const Event&) = default;
    };
    struct State {
        std::map<int, Watch> watches;
        std::map<WatchKey, int> by_key;
        int next_wd = 1;
        std::deque<Event> queue;
        std::size_t queued_bytes = 0;
    };

    /// The name field's length: the name, a NUL and padding to a multiple of 16 (0 without a name).
    static std::size_t name_field(const Event& e) noexcept {
        return e.name.empty() ? 0 : (e.name.size() + 1 + header_size - 1) / header_size * header_size;
    }
    static std::size_t record_size(const Event& e) noexcept { return header_size + name_field(e); }
    static void encode(const Event& e, std::span<std::byte> out) noexcept {
        std::memset(out.data(), 0, out.size());
        const std::int32_t wd = e.wd;
        const std::uint32_t len = static_cast<std::uint32_t>(name_field(e));
        std::memcpy(out.data(), &wd, 4);
        std::memcpy(out.data() + 4, &e.mask, 4);
        std::memcpy(out.data() + 8, &e.cookie, 4);
        std::memcpy(out.data() + 12, &len, 4);
        if (!e.name.empty()) std::memcpy(out.data() + header_size, e.name.data(), e.name.size());
    }

    void queue(State& s, int wd, std::uint32_t mask, std::uint32_t cookie, std::string_view name) {
        Event e{wd, mask, cookie, std::string(name)};
        if (!s.queue.empty() && s.queue.back() == e) return;  // merged with the last unread one
        if (s.queue.size() >= m_max_queued) {
            if (!s.queue.empty() && s.queue.back().mask == in_event::q_overflow) return;
            e = Event{-1, in_event::q_overflow, 0, {}};
        }
        s.queued_bytes += record_size(e);
        s.queue.push_back(std::move(e));
    }

    std::shared_ptr<InotifyHub<P>> m_hub;
    const std::size_t m_max_queued;  // the hub's limit when the instance was made
    mutable sync::Mutex<P, State> m_state;
    event::Pollee<P> m_pollee{event::owner_of(this)};
    const std::uint64_t m_inode;
};

template <platform::RawMutexProvider P>
void InotifyHub<P>::deliver(const WatchKey& key, std::uint32_t mask, std::uint32_t cookie, std::string_view name, bool unlinked) {
    std::vector<std::pair<std::shared_ptr<Inotify<P>>, int>> targets;
    m_state.with_lock([&](State& s) {
        auto it = s.index.find(key);
        if (it == s.index.end()) return;
        for (auto& e : it->second)
            if (auto inst = e.instance.lock()) targets.emplace_back(std::move(inst), e.wd);
    });
    for (auto& [inst, wd] : targets) inst->deliver(wd, mask, cookie, name, unlinked);
}

/// The Inotify behind a file, or nullptr.
template <platform::RawMutexProvider P>
Inotify<P>* inotify_of(fd::OpenFile<P>& file) noexcept {
    return event::owner_as<Inotify<P>>(file);
}

}  // namespace litebox::fs
