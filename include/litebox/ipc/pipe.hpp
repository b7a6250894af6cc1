// Pipes and FIFOs.
//
// A Pipe<P> is the shared buffer (Linux's pipe_inode_info); each PipeEnd<P> is an open file
// description of it with its own Pollee. make_pipe() returns the two ends of pipe2(2). A FIFO (a
// named pipe in tmpfs) is the same Pipe attached to the inode: the inode keeps a weak reference,
// Pipe::open_fifo() makes an end with Linux's open rendezvous, and the Pipe lives while any end is
// open (so its data is dropped when the last end closes, as on Linux).
//
// Contract (Linux's):
// - Capacity defaults to 64 KiB; set_capacity (F_SETPIPE_SZ) rounds up to a power-of-two number
//   of pages, fails with EPERM above the configured maximum and EBUSY below the bytes queued.
// - A write of at most PIPE_BUF (4096) bytes is atomic: all of it or EAGAIN. A larger write takes
//   what fits (at least one byte) or EAGAIN. Writing with no reader fails with Errno::pipe (the
//   shim raises SIGPIPE). A zero-length read or write returns 0.
// - Read returns what is queued, 0 (end of file) when empty and no writer is left, else EAGAIN.
// - poll: the read side is IN when bytes are queued and HUP when the last writer has gone; the
//   write side is OUT when at least PIPE_BUF bytes are free and ERR when no reader is left.
// - FIFO open: O_RDONLY blocks until a writer opens (unless O_NONBLOCK), O_WRONLY blocks until a
//   reader opens (O_NONBLOCK: ENXIO without a reader), O_RDWR never blocks. A wait can be
//   interrupted (EINTR) and then leaves no end behind.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../event/blocking.hpp"
#include "../event/pollee.hpp"
#include "../event/waiter.hpp"
#include "../fd/open_file.hpp"
#include "../sync/mutex.hpp"
#include "detail/anon_inode.hpp"
#include "detail/byte_ring.hpp"

namespace litebox::ipc {

/// PIPE_BUF: writes up to this size are atomic.
inline constexpr std::size_t pipe_buf = 4096;
/// The unit F_SETPIPE_SZ rounds to.
inline constexpr std::size_t pipe_page_size = 4096;
/// Capacity of a new pipe (Linux's 16 pages).
inline constexpr std::size_t default_pipe_capacity = 64 * 1024;
/// The largest capacity F_SETPIPE_SZ grants by default (/proc/sys/fs/pipe-max-size).
inline constexpr std::size_t default_max_pipe_capacity = 1024 * 1024;

/// Per-box pipe limits.
struct PipeLimits {
    std::size_t capacity = default_pipe_capacity;          // of every new pipe
    std::size_t max_capacity = default_max_pipe_capacity;  // F_SETPIPE_SZ upper bound
};

/// pipe2(2) flags.
namespace pipe_flags {
inline constexpr std::uint32_t nonblock = fd::open_flags::nonblock;
inline constexpr std::uint32_t close_on_exec = fd::open_flags::close_on_exec;
/// O_DIRECT ("packet mode") is not supported: EINVAL.
inline constexpr std::uint32_t valid = nonblock | close_on_exec;
}  // namespace pipe_flags

template <typename P>
class PipeEnd;

template <typename P>
class Pipe : public std::enable_shared_from_this<Pipe<P>> {
    struct Tag {};

public:
    using FilePtr = std::shared_ptr<fd::OpenFile<P>>;
    /// What fstat reports for a FIFO end (the inode's stat); empty: an anonymous pipe's.
    using StatFunction = std::function<Result<fd::Stat>()>;

    Pipe(Tag, PipeLimits limits) : m_max_capacity(limits.max_capacity), m_inode(detail::allocate_anonymous_inode()) {
        m_state.with_lock([&](State& s) { s.capacity = std::clamp(limits.capacity, pipe_page_size, std::max(limits.max_capacity, pipe_page_size)); });
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;

    /// A new pipe with no ends (for FIFOs: attach it to the inode, then open_fifo()).
    static std::shared_ptr<Pipe> create(PipeLimits limits = {}) { return std::make_shared<Pipe>(Tag{}, limits); }

    /// open(2) of a FIFO: `flags` are the open flags (access mode, O_NONBLOCK; others ignored).
    /// An anonymous pipe (make_pipe), reopened through /proc/<pid>/fd, opens at once in every mode,
    /// as Linux does for pipefs inodes: no rendezvous.
    Result<FilePtr> open_fifo(const event::WaitContext<P>& ctx, std::uint32_t flags, StatFunction stat = {});

    /// FIONREAD: bytes queued.
    [[nodiscard]] std::size_t bytes_queued() const {
        return m_state.with_lock([](const State& s) { return s.ring.size(); });
    }
    /// Whether make_pipe made it (pipe2) rather than a FIFO's open.
    [[nodiscard]] bool anonymous() const noexcept { return m_anonymous; }
    /// For make_pipe, before the pipe is shared.
    void mark_anonymous() noexcept { m_anonymous = true; }
    /// F_GETPIPE_SZ.
    [[nodiscard]] std::size_t capacity() const {
        return m_state.with_lock([](const State& s) { return s.capacity; });
    }
    /// F_SETPIPE_SZ: returns the new capacity.
    Result<std::size_t> set_capacity(std::uint64_t requested);

    // ---- splice(2), tee(2), vmsplice(2) --------------------------------------------------------
    /// Offers a copy of up to buffer.size() queued bytes (in `buffer`) to `sink` under the pipe's
    /// lock, and removes only the bytes `sink` returns as taken: nothing is lost when the sink takes
    /// part or fails. 0 when empty with no writer left, EAGAIN when empty; the sink's error when it
    /// took nothing. `sink` must not use this pipe.
    template <typename Sink>
    Result<std::size_t> drain_to(std::span<std::byte> buffer, Sink&& sink) {
        event::NotifyList<P> notes;  // delivered after the lock is released
        return m_state.with_lock([&](State& s) -> Result<std::size_t> {
            if (s.ring.empty()) {
                if (s.writers == 0) return std::size_t{0};
                return Errno::again;
            }
            const std::size_t n = s.ring.pop(buffer, true);
            LITEBOX_TRY_ASSIGN(const std::size_t taken, sink(std::span<const std::byte>(buffer.first(n))));
            s.ring.drop(std::min(taken, n));
            if (taken != 0) notify_ends(s, notes, fd::events::out | fd::events::wrnorm);
            return std::min(taken, n);
        });
    }
    /// Lets `source` read into the first min(buffer.size(), free space) bytes of `buffer` under the
    /// pipe's lock and queues what it read (no racing writer can take the space meanwhile). EPIPE
    /// without a reader, EAGAIN when full; the source's error. `source` must not use this pipe.
    template <typename Source>
    Result<std::size_t> fill_from(std::span<std::byte> buffer, Source&& source) {
        event::NotifyList<P> notes;  // delivered after the lock is released
        return m_state.with_lock([&](State& s) -> Result<std::size_t> {
            if (s.readers == 0) return Errno::pipe;
            const std::size_t free = s.capacity - s.ring.size();
            if (free == 0) return Errno::again;
            const auto room = buffer.first(std::min(buffer.size(), free));
            LITEBOX_TRY_ASSIGN(const std::size_t got, source(room));
            const std::size_t n = std::min(got, room.size());
            s.ring.push(room.first(n), s.capacity);
            if (n != 0) notify_ends(s, notes, fd::events::in | fd::events::rdnorm);
            return n;
        });
    }
    /// Moves up to buffer.size() bytes from `from` to `to` under both locks (taken in address
    /// order); with `copy` (tee) `from` keeps them. EPIPE when `to` has no reader, then 0 when
    /// `from` is empty with no writer, EAGAIN when `from` is empty or `to` is full. `from` and `to`
    /// must be different pipes.
    static Result<std::size_t> transfer(Pipe& from, Pipe& to, std::span<std::byte> buffer, bool copy) {
        event::NotifyList<P> notes;  // delivered after the locks are released
        auto first = std::less<>{}(&from, &to) ? from.m_state.lock() : to.m_state.lock();
        auto second = std::less<>{}(&from, &to) ? to.m_state.lock() : from.m_state.lock();
        State& in = std::less<>{}(&from, &to) ? *first : *second;
        State& out = std::less<>{}(&from, &to) ? *second : *first;
        if (out.readers == 0) return Errno::pipe;
        if (in.ring.empty() && in.writers == 0) return std::size_t{0};
        const std::size_t n = std::min({buffer.size(), in.ring.size(), out.capacity - out.ring.size()});
        if (n == 0) return Errno::again;
        (void)in.ring.pop(buffer.first(n), copy);
        out.ring.push(buffer.first(n), out.capacity);
        if (!copy) notify_ends(in, notes, fd::events::out | fd::events::wrnorm);
        notify_ends(out, notes, fd::events::in | fd::events::rdnorm);
        return n;
    }

    [[nodiscard]] std::size_t readers() const {
        return m_state.with_lock([](const State& s) { return s.readers; });
    }
    [[nodiscard]] std::size_t writers() const {
        return m_state.with_lock([](const State& s) { return s.writers; });
    }

private:
    friend class PipeEnd<P>;

    struct State {
        detail::ByteRing ring;
        std::size_t capacity = default_pipe_capacity;
        std::size_t readers = 0;
        std::size_t writers = 0;
        std::uint64_t reader_opens = 0;  // Linux's r_counter / w_counter: FIFO rendezvous
        std::uint64_t writer_opens = 0;
        std::vector<PipeEnd<P>*> ends;  // every open end (bounded by open descriptions)
    };
    struct Counters {
        std::size_t readers, writers;
        std::uint64_t reader_opens, writer_opens;
    };

    // Called with the lock held: records that `events` may have changed for every end; `notes`
    // delivers after the lock is released.
    static void notify_ends(const State& s, event::NotifyList<P>& notes, fd::Events events);

    Counters attach(PipeEnd<P>* end, bool reads, bool writes) {
        event::NotifyList<P> notes;  // delivered after the lock is released
        return m_state.with_lock([&](State& s) {
            s.ends.push_back(end);
            if (reads) {
                ++s.readers;
                ++s.reader_opens;
            }
            if (writes) {
                ++s.writers;
                ++s.writer_opens;
            }
            notify_ends(s, notes, fd::events::in | fd::events::out);  // wakes FIFO openers waiting for a partner
            return Counters{s.readers, s.writers, s.reader_opens, s.writer_opens};
        });
    }

    void detach(PipeEnd<P>* end, bool reads, bool writes) {
        event::NotifyList<P> notes;  // delivered after the lock is released
        m_state.with_lock([&](State& s) {
            s.ends.erase(std::remove(s.ends.begin(), s.ends.end(), end), s.ends.end());
            if (reads) --s.readers;
            if (writes) --s.writers;
            if (s.readers == 0 && s.writers == 0) {  // the last end: Linux frees the buffer
                s.ring.clear();
                s.ring.relayout(0);
            }
            fd::Events changed = 0;
            if (reads && s.readers == 0) changed |= fd::events::err | fd::events::out;
            if (writes && s.writers == 0) changed |= fd::events::hup | fd::events::in;
            if (changed != 0) notify_ends(s, notes, changed);
        });
    }

    [[nodiscard]] Counters counters() const {
        return m_state.with_lock([](const State& s) { return Counters{s.readers, s.writers, s.reader_opens, s.writer_opens}; });
    }

    Result<std::size_t> read(std::span<std::byte> out) {
        if (out.empty()) return std::size_t{0};
        event::NotifyList<P> notes;  // delivered after the lock is released
        return m_state.with_lock([&](State& s) -> Result<std::size_t> {
            if (s.ring.empty()) {
                if (s.writers == 0) return std::size_t{0};
                return Errno::again;
            }
            const std::size_t n = s.ring.pop(out);
            notify_ends(s, notes, fd::events::out | fd::events::wrnorm);
            return n;
        });
    }

    Result<std::size_t> write(std::span<const std::byte> in) {
        if (in.empty()) return std::size_t{0};
        event::NotifyList<P> notes;  // delivered after the lock is released
        return m_state.with_lock([&](State& s) -> Result<std::size_t> {
            if (s.readers == 0) return Errno::pipe;
            const std::size_t free = s.capacity - s.ring.size();
            std::size_t n = in.size();
            if (n <= pipe_buf) {
                if (free < n) return Errno::again;  // atomic: all or nothing
            } else {
                if (free == 0) return Errno::again;
                n = std::min(n, free);
            }
            s.ring.push(in.first(n), s.capacity);
            notify_ends(s, notes, fd::events::in | fd::events::rdnorm);
            return n;
        });
    }

    fd::Events poll_end(bool reads, bool writes, std::uint64_t hup_version) const {
        return m_state.with_lock([&](const State& s) {
            fd::Events ev = 0;
            if (reads) {
                if (!s.ring.empty()) ev |= fd::events::in | fd::events::rdnorm;
                if (s.writers == 0 && s.writer_opens != hup_version) ev |= fd::events::hup;
            }
            if (writes) {
                if (s.capacity - s.ring.size() >= std::min(pipe_buf, s.capacity)) ev |= fd::events::out | fd::events::wrnorm;
                if (s.readers == 0) ev |= fd::events::err;
            }
            return ev;
        });
    }

    mutable sync::Mutex<P, State> m_state;
    const std::size_t m_max_capacity;
    const std::uint64_t m_inode;
    bool m_anonymous = false;  // set by make_pipe before the pipe is shared
};

/// One open end of a pipe or FIFO. Read/write follow its access mode (EBADF otherwise).
template <typename P>
class PipeEnd final : public fd::OpenFile<P> {
    struct Tag {};

public:
    PipeEnd(Tag, std::shared_ptr<Pipe<P>> pipe, std::uint32_t status_flags, typename Pipe<P>::StatFunction stat)
        : fd::OpenFile<P>(status_flags), m_pipe(std::move(pipe)), m_stat(std::move(stat)),
          m_reads(this->readable()), m_writes(this->writable()) {
        m_counters_at_open = m_pipe->attach(this, m_reads, m_writes);
    }
    ~PipeEnd() override { m_pipe->detach(this, m_reads, m_writes); }

    /// Creates an end. For anonymous pipes `hup_version` is 0; see Pipe::open_fifo.
    static std::shared_ptr<PipeEnd> make(std::shared_ptr<Pipe<P>> pipe, std::uint32_t status_flags,
                                         typename Pipe<P>::StatFunction stat = {}) {
        return std::make_shared<PipeEnd>(Tag{}, std::move(pipe), status_flags, std::move(stat));
    }

    Result<std::size_t> read(std::span<std::byte> out) override {
        if (!m_reads) return Errno::badf;
        return m_pipe->read(out);
    }
    Result<std::size_t> write(std::span<const std::byte> in) override {
        if (!m_writes) return Errno::badf;
        return m_pipe->write(in);
    }
    Result<fd::Stat> stat() override {
        if (m_stat) return m_stat();
        return detail::anonymous_stat(m_pipe->m_inode, fd::mode::fifo | 0600);
    }
    fd::Events poll(fd::Events /*interest*/) override { return m_pipe->poll_end(m_reads, m_writes, m_hup_version); }
    event::Pollee<P>* pollee() noexcept override { return &m_pollee; }

    [[nodiscard]] Pipe<P>& pipe() const noexcept { return *m_pipe; }

private:
    friend class Pipe<P>;
    event::Pollee<P> m_pollee{event::owner_of(this)};  // constructed before attach() can notify it
    std::shared_ptr<Pipe<P>> m_pipe;
    typename Pipe<P>::StatFunction m_stat;
    const bool m_reads;
    const bool m_writes;
    typename Pipe<P>::Counters m_counters_at_open{};
    // Linux's f_version: HUP is reported only once writer_opens differs from it (a non-blocking
    // FIFO reader that has not seen a writer yet gets no HUP). Set before the end is shared.
    std::uint64_t m_hup_version = 0;
};

template <typename P>
void Pipe<P>::notify_ends(const State& s, event::NotifyList<P>& notes, fd::Events events) {
    // Readers care about in/hup, writers about out/err: skip ends that cannot be affected (a
    // reader that was just woken must not be made to take its own Pollee's lock again).
    constexpr fd::Events reader_events = fd::events::in | fd::events::rdnorm | fd::events::hup;
    constexpr fd::Events writer_events = fd::events::out | fd::events::wrnorm | fd::events::err;
    for (PipeEnd<P>* end : s.ends) {
        const fd::Events relevant = (end->m_reads ? reader_events : 0) | (end->m_writes ? writer_events : 0);
        if ((events & relevant) != 0) notes.add(end->m_pollee, events);
    }
}

template <typename P>
Result<std::size_t> Pipe<P>::set_capacity(std::uint64_t requested) {
    if (requested > (std::uint64_t{1} << 31)) return Errno::inval;
    std::uint64_t size = std::max<std::uint64_t>(requested, pipe_page_size);
    std::uint64_t rounded = pipe_page_size;
    while (rounded < size) rounded <<= 1;
    if (rounded > m_max_capacity) return Errno::perm;
    event::NotifyList<P> notes;
    return m_state.with_lock([&](State& s) -> Result<std::size_t> {
        const auto capacity = static_cast<std::size_t>(rounded);
        if (capacity < s.ring.size()) return Errno::busy;
        if (capacity != s.capacity) {
            if (!s.ring.empty()) s.ring.relayout(capacity);
            else s.ring.relayout(0);  // allocated again, at the new size, on the next write
            s.capacity = capacity;
            notify_ends(s, notes, fd::events::out | fd::events::wrnorm);
        }
        return capacity;
    });
}

template <typename P>
Result<typename Pipe<P>::FilePtr> Pipe<P>::open_fifo(const event::WaitContext<P>& ctx, std::uint32_t flags, StatFunction stat) {
    const std::uint32_t mode = flags & fd::open_flags::access_mode;
    const bool nonblock = (flags & fd::open_flags::nonblock) != 0;
    const std::uint32_t status = flags & ~(fd::open_flags::create | fd::open_flags::exclusive | fd::open_flags::no_ctty |
                                           fd::open_flags::truncate | fd::open_flags::close_on_exec);
    auto self = this->weak_from_this().lock();  // (shared_from_this could throw)
    if (!self) return Errno::inval;             // not owned by a shared_ptr: use Pipe::create
    if (m_anonymous) {
        if (mode != fd::open_flags::read_only && mode != fd::open_flags::write_only && mode != fd::open_flags::read_write)
            return Errno::inval;
        return FilePtr(PipeEnd<P>::make(self, status, std::move(stat)));
    }
    // A caller that is already interrupted and would have to wait for a partner fails before it
    // registers an end, so that the attempt wakes nobody (a runtime probes calls this way).
    if (!nonblock && ctx.waiter != nullptr && ctx.waiter->interrupt_pending()) {
        const Counters now = counters();
        if ((mode == fd::open_flags::read_only && now.writers == 0) || (mode == fd::open_flags::write_only && now.readers == 0))
            return Errno::intr;
    }
    if (mode == fd::open_flags::read_only) {
        auto end = PipeEnd<P>::make(self, status, std::move(stat));
        const Counters at_open = end->m_counters_at_open;
        if (at_open.writers == 0) {
            if (nonblock) {
                end->m_hup_version = at_open.writer_opens;
            } else {
                LITEBOX_TRY(event::wait_until_ready(ctx, end->pollee(), fd::events::in, false, [&]() -> Result<void> {
                    if (counters().writer_opens != at_open.writer_opens) return ok();
                    return Errno::again;
                }));
            }
        }
        return FilePtr(std::move(end));
    }
    if (mode == fd::open_flags::write_only) {
        if (nonblock && readers() == 0) return Errno::nxio;
        auto end = PipeEnd<P>::make(self, status, std::move(stat));
        const Counters at_open = end->m_counters_at_open;
        if (at_open.readers == 0) {
            if (nonblock) return Errno::nxio;  // the last reader left between the check and attach
            LITEBOX_TRY(event::wait_until_ready(ctx, end->pollee(), fd::events::out, false, [&]() -> Result<void> {
                if (counters().reader_opens != at_open.reader_opens) return ok();
                return Errno::again;
            }));
        }
        return FilePtr(std::move(end));
    }
    if (mode == fd::open_flags::read_write) return FilePtr(PipeEnd<P>::make(self, status, std::move(stat)));
    return Errno::inval;
}

/// The two ends of a new pipe: read end first, as pipe2(2) fills fds[0] and fds[1].
template <typename P>
struct PipeEnds {
    std::shared_ptr<fd::OpenFile<P>> read;
    std::shared_ptr<fd::OpenFile<P>> write;
};

/// pipe2(2): `flags` may hold O_NONBLOCK (set on both ends) and O_CLOEXEC (for the shim's
/// descriptor table); anything else is EINVAL.
template <typename P>
Result<PipeEnds<P>> make_pipe(std::uint32_t flags = 0, PipeLimits limits = {}) {
    if ((flags & ~pipe_flags::valid) != 0) return Errno::inval;
    const std::uint32_t nonblock = flags & pipe_flags::nonblock;
    auto pipe = Pipe<P>::create(limits);
    pipe->mark_anonymous();
    PipeEnds<P> ends;
    ends.read = PipeEnd<P>::make(pipe, fd::open_flags::read_only | nonblock);
    ends.write = PipeEnd<P>::make(pipe, fd::open_flags::write_only | nonblock);
    return ends;
}

/// The Pipe behind a file, or nullptr when it is not a pipe or FIFO end (F_GETPIPE_SZ: EBADF).
template <typename P>
Pipe<P>* pipe_of(fd::OpenFile<P>& file) noexcept {
    auto* end = event::owner_as<PipeEnd<P>>(file);
    return end != nullptr ? &end->pipe() : nullptr;
}

}  // namespace litebox::ipc
