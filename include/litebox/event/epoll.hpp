// Epoll<P>: epoll(7) — an open file that watches other open files.
//
// Contract (Linux's):
// - ctl(ADD) watches (file, fd) for `events`; EEXIST if that pair is watched, EPERM for a file
//   whose readiness never changes (no Pollee: regular files, directories), EINVAL for the epoll
//   itself, ELOOP for an epoll that would (transitively) watch itself or nest deeper than
//   max_epoll_nesting, ENOSPC beyond the watch limit. MOD/DEL: ENOENT if not watched. EPOLLERR
//   and EPOLLHUP are always watched. EPOLLEXCLUSIVE is accepted on ADD (and acts like a plain
//   watch: every waiter wakes), EINVAL with MOD, EPOLLONESHOT, an epoll target or other bits.
// - wait() returns up to out.size() ready entries as {events, data}: level-triggered entries are
//   reported while ready; EPOLLET entries once per notified change; EPOLLONESHOT entries once,
//   until MOD re-arms them. It returns 0 when ctx.deadline passes, Errno::intr when interrupted.
// - A watched file is keyed by (open file, fd). When the open file description is released (its
//   last reference dropped) its entry disappears, as on Linux; closing one descriptor of a file
//   that is still open elsewhere (dup) leaves the entry in place.
// - The epoll itself is pollable (IN while some entry is ready), so epolls nest.
// Internals: entries hold weak references to their files and subscribe to their Pollees; a
// notification moves an entry to the ready list. Lock order: topology lock (nested ADD only) ->
// interest lock -> watched files' locks -> their Pollee locks -> ready lock (leaf); this epoll's
// own Pollee is notified after the ready lock is released.
#pragma once

#include <algorithm>
#include <climits>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../fd/open_file.hpp"
#include "../ipc/detail/anon_inode.hpp"
#include "../sync/mutex.hpp"
#include "blocking.hpp"
#include "pollee.hpp"
#include "waiter.hpp"

namespace litebox::event {

/// epoll_create1 and epoll_ctl flag bits.
namespace epoll_flags {
inline constexpr std::uint32_t close_on_exec = fd::open_flags::close_on_exec;  // epoll_create1
inline constexpr Events exclusive = 1u << 28;
inline constexpr Events wakeup = 1u << 29;
inline constexpr Events one_shot = 1u << 30;
inline constexpr Events edge_triggered = 1u << 31;
inline constexpr Events all = exclusive | wakeup | one_shot | edge_triggered;
/// The only bits allowed together with EPOLLEXCLUSIVE.
inline constexpr Events exclusive_ok = fd::events::in | fd::events::out | fd::events::err | fd::events::hup | wakeup |
                                       edge_triggered | exclusive;
}  // namespace epoll_flags

enum class EpollOp : int { add = 1, del = 2, mod = 3 };

/// struct epoll_event without its ABI packing.
struct EpollEvent {
    Events events = 0;
    std::uint64_t data = 0;
    friend constexpr bool operator==(const EpollEvent&, const EpollEvent&) = default;
};

/// EP_MAX_NESTS: how deep epolls may nest below one another.
inline constexpr int max_epoll_nesting = 4;
/// Watches per epoll instance (Linux bounds them per user by max_user_watches).
inline constexpr std::size_t default_max_epoll_watches = 65536;
/// The largest maxevents epoll_wait accepts (INT_MAX / sizeof(struct epoll_event)).
inline constexpr std::size_t max_epoll_events = INT_MAX / 12;

template <typename P>
class Epoll final : public fd::OpenFile<P>, public DeadlineSource<P> {
    struct Tag {};

public:
    using FilePtr = std::shared_ptr<fd::OpenFile<P>>;

    Epoll(Tag, std::size_t max_watches)
        : fd::OpenFile<P>(fd::open_flags::read_write), m_max_watches(max_watches), m_pollee(this, owner_of(this)),
          m_inode(ipc::detail::allocate_anonymous_inode()) {}
    ~Epoll() override;

    static std::shared_ptr<Epoll> create(std::size_t max_watches = default_max_epoll_watches) {
        return std::make_shared<Epoll>(Tag{}, max_watches);
    }

    /// epoll_ctl(2). `file` is the open file behind `fd` (the shim looked it up: EBADF if none).
    Result<void> ctl(EpollOp op, int fd, const FilePtr& file, EpollEvent event = {});

    /// epoll_wait(2): fills `out` from the front; returns how many entries it filled.
    Result<std::size_t> wait(const WaitContext<P>& ctx, std::span<EpollEvent> out);

    /// Number of watched (file, fd) pairs, not counting those whose file is already released.
    [[nodiscard]] std::size_t watch_count();

    Result<fd::Stat> stat() override { return ipc::detail::anonymous_stat(m_inode, 0600); }
    [[nodiscard]] std::string_view anonymous_name() const noexcept override { return "[eventpoll]"; }
    fd::Events poll(fd::Events interest) override;
    Pollee<P>* pollee() noexcept override { return &m_pollee; }
    std::optional<typename P::Instant> next_deadline() override;

private:
    struct Key {
        const fd::OpenFile<P>* file;
        int fd;
        friend auto operator<=>(const Key&, const Key&) = default;
    };

    class Entry final : public Observer<P>, public std::enable_shared_from_this<Entry> {
    public:
        Entry(Epoll* owner, Key key, const FilePtr& file) : owner(owner), key(key), file(file) {}
        detail::WakeWordPtr<P> on_events(Events events) noexcept override {
            owner->entry_event(*this, events);
            return nullptr;
        }
        detail::WakeWordPtr<P> on_close() noexcept override {
            owner->entry_closed(*this);
            return nullptr;
        }

        Epoll* const owner;
        const Key key;
        const std::weak_ptr<fd::OpenFile<P>> file;
        Subscription<P> subscription;
        bool timed = false;  // set before the entry is shared
        // Guarded by the owner's ready lock:
        Events events = 0;  // interest, always with err|hup, without flag bits
        Events flags = 0;   // epoll_flags bits
        std::uint64_t data = 0;
        std::uint64_t event_count = 0;  // relevant notifications so far
        bool in_ready = false;
        bool disabled = false;  // EPOLLONESHOT fired
        bool removed = false;   // EPOLL_CTL_DEL or epoll closed
        bool dead = false;      // the file was released
    };
    using EntryPtr = std::shared_ptr<Entry>;

    struct Interest {
        std::map<Key, EntryPtr> entries;
        std::vector<EntryPtr> timed;  // entries whose file's readiness also depends on the clock
    };
    struct Ready {
        std::deque<EntryPtr> list;
        std::vector<std::weak_ptr<Entry>> dead;  // to erase from the interest map
    };

    static sync::RawLock<P>& topology_lock() {
        static sync::RawLock<P> lock;  // serializes ADDs of epolls into epolls (loop checks)
        return lock;
    }

    void entry_event(Entry& entry, Events events) noexcept;
    void entry_closed(Entry& entry) noexcept;
    /// Erases entries whose files were released (interest lock held by the caller).
    void purge_dead(Interest& interest);
    /// Puts `entry` on the ready list if its file is ready now (interest lock held).
    void check_now(Entry& entry, fd::OpenFile<P>& file);
    std::size_t harvest(std::span<EpollEvent> out);
    void poll_timed();
    [[nodiscard]] bool has_timed();
    std::vector<std::shared_ptr<Epoll>> child_epolls();
    /// ELOOP when adding `target` below this epoll would close a cycle or nest too deep.
    Result<void> check_nesting(Epoll& target);

    const std::size_t m_max_watches;
    sync::Mutex<P, Interest> m_interest;
    sync::Mutex<P, Ready> m_ready;
    Pollee<P> m_pollee;
    const std::uint64_t m_inode;
};

/// epoll_create1(2): `flags` may hold only EPOLL_CLOEXEC (for the shim's descriptor table).
template <typename P>
Result<std::shared_ptr<fd::OpenFile<P>>> make_epoll(std::uint32_t flags = 0,
                                                   std::size_t max_watches = default_max_epoll_watches) {
    if ((flags & ~epoll_flags::close_on_exec) != 0) return Errno::inval;
    return std::shared_ptr<fd::OpenFile<P>>(Epoll<P>::create(max_watches));
}

/// The Epoll behind a file, or nullptr (epoll_ctl/epoll_wait on another file: EINVAL).
template <typename P>
Epoll<P>* epoll_of(fd::OpenFile<P>& file) noexcept {
    return owner_as<Epoll<P>>(file);
}

}  // namespace litebox::event

#include "detail/epoll_impl.hpp"
