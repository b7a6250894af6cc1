// Pseudo-terminals: a PtyPair<P> is one master/slave pair with its line discipline
// (detail/line_discipline.hpp); PtyMaster<P> and PtySlave<P> are open file descriptions of its two
// sides; a PtyTable<P> numbers the pairs of a box (/dev/pts/N), bounds how many exist and carries
// the signals the terminal raises to the process model (the shim). fs/devpts.hpp puts them in
// the file system (/dev/ptmx, /dev/pts).
//
// Contract (Linux's pty driver and N_TTY):
// - Bytes written to the master go through the input side of the line discipline and are read
//   from the slave; bytes written to the slave go through output processing (OPOST) and are read
//   from the master, together with the echo.
// - Master read: what is queued; EIO when it is empty and every slave description was closed
//   after one had been opened; else EAGAIN. Master write: takes what the input queue accepts.
// - Closing the master hangs the pair up: slave reads return 0, slave writes and terminal ioctls
//   fail with EIO, poll reports IN|OUT|ERR|HUP; /dev/pts/N disappears; the controlling session (if
//   any) is told (PtyTable's hangup sink: SIGHUP and SIGCONT to its leader).
// - Slave read (canonical): one line, or 0 for a lone EOF; (non-canonical) at least
//   min(VMIN, count) bytes unless O_NONBLOCK; VMIN = VTIME = 0 returns 0 at once when empty.
//   VTIME timeouts belong to the caller (read_timeout()), which then calls read_available().
// - Signal characters (ISIG) and window-size changes (SIGWINCH) go to the foreground process
//   group through the table's signal sink, after the pair's lock is released.
// - Every queue is bounded (pty_input_capacity, pty_output_capacity) and a table holds at most
//   its max_ptys pairs (ENOSPC beyond, as Linux's /proc/sys/kernel/pty/max).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../event/pollee.hpp"
#include "../fd/open_file.hpp"
#include "../fs/file.hpp"
#include "../fs/location.hpp"
#include "../platform/concepts.hpp"
#include "../sync/mutex.hpp"
#include "detail/line_discipline.hpp"

namespace litebox::ipc {

/// Default number of pseudo-terminal pairs a box may hold at once.
inline constexpr std::size_t default_max_ptys = 64;
/// Major device number of the slaves (/dev/pts/N is 136:N) and the number of /dev/ptmx (5:2).
inline constexpr std::uint32_t pty_slave_major = 136;
inline constexpr std::uint32_t ptmx_major = 5, ptmx_minor = 2;

struct PtyWindowSize {
    std::uint16_t rows = 0;
    std::uint16_t columns = 0;
    std::uint16_t xpixel = 0;
    std::uint16_t ypixel = 0;
    friend constexpr bool operator==(const PtyWindowSize&, const PtyWindowSize&) = default;
};

template <typename P>
class PtyTable;
template <typename P>
class PtyMaster;
template <typename P>
class PtySlave;

namespace pty_signals {
inline constexpr int sighup = 1, sigcont = 18, sigwinch = 28;
}

template <typename P>
class PtyPair : public std::enable_shared_from_this<PtyPair<P>> {
    struct Tag {};

public:
    PtyPair(Tag, unsigned index, std::weak_ptr<PtyTable<P>> table, fd::Timespec created)
        : m_index(index), m_table(std::move(table)), m_created(created) {}
    PtyPair(const PtyPair&) = delete;
    PtyPair& operator=(const PtyPair&) = delete;

    [[nodiscard]] unsigned index() const noexcept { return m_index; }
    [[nodiscard]] fd::Timespec created() const noexcept { return m_created; }

    // ---- terminal state ----------------------------------------------------------------------
    [[nodiscard]] Termios termios() const {
        return m_state.with_lock([](const State& s) { return s.ld.termios(); });
    }
    /// TCSETS (TCSETSF: flush_input first).
    void set_termios(const Termios& termios, bool flush_input) {
        event::NotifyList<P> notes;
        m_state.with_lock([&](State& s) {
            if (flush_input) s.ld.flush_input();
            s.ld.set_termios(termios);
            notify(s, notes, all_ready);
        });
    }
    [[nodiscard]] PtyWindowSize window() const {
        return m_state.with_lock([](const State& s) { return s.window; });
    }
    /// TIOCSWINSZ: a change sends SIGWINCH to the foreground group.
    void set_window(const PtyWindowSize& size) {
        const int group = m_state.with_lock([&](State& s) {
            if (s.window == size) return 0;
            s.window = size;
            return s.foreground_group;
        });
        if (group > 0) signal_group(group, pty_signals::sigwinch);
    }
    [[nodiscard]] int foreground_group() const {
        return m_state.with_lock([](const State& s) { return s.foreground_group; });
    }
    void set_foreground_group(int group) {
        m_state.with_lock([&](State& s) { s.foreground_group = group; });
    }
    /// The session this slave is the controlling terminal of (0: none).
    [[nodiscard]] int session() const {
        return m_state.with_lock([](const State& s) { return s.session; });
    }
    /// Makes it the controlling terminal of `session` with `group` in the foreground (0, 0: none).
    void set_session(int session, int group) {
        m_state.with_lock([&](State& s) {
            s.session = session;
            s.foreground_group = group;
        });
    }
    /// Takes the terminal from `session` (TIOCNOTTY by its leader): true if it was its terminal;
    /// `group` is the foreground group it had.
    bool release_session(int session, int& group) {
        return m_state.with_lock([&](State& s) {
            if (s.session != session || session == 0) return false;
            group = s.foreground_group;
            s.session = 0;
            s.foreground_group = 0;
            return true;
        });
    }
    /// TIOCSPTLCK / TIOCGPTLCK: a locked slave cannot be opened (EIO).
    void set_locked(bool locked) {
        m_state.with_lock([&](State& s) { s.locked = locked; });
    }
    [[nodiscard]] bool locked() const {
        return m_state.with_lock([](const State& s) { return s.locked; });
    }
    /// The master was closed.
    [[nodiscard]] bool hung_up() const {
        return m_state.with_lock([](const State& s) { return s.hung_up; });
    }
    /// The owner /dev/pts/N shows (the opener of /dev/ptmx), mode 0620.
    void set_owner(std::uint32_t uid, std::uint32_t gid) {
        m_state.with_lock([&](State& s) {
            s.uid = uid;
            s.gid = gid;
        });
    }
    struct Owner {
        std::uint32_t uid, gid, mode;
    };
    [[nodiscard]] Owner owner() const {
        return m_state.with_lock([](const State& s) { return Owner{s.uid, s.gid, s.mode}; });
    }
    void set_mode(std::uint32_t mode) {
        m_state.with_lock([&](State& s) { s.mode = mode & 07777; });
    }

    /// FIONREAD on the slave (bytes it can read) or the master (bytes the slave wrote).
    [[nodiscard]] std::size_t slave_readable() const {
        return m_state.with_lock([](const State& s) { return s.ld.queued(); });
    }
    [[nodiscard]] std::size_t master_readable() const {
        return m_state.with_lock([](const State& s) { return s.ld.output_queued(); });
    }
    /// TCFLSH and friends: discard the slave's input and/or output (the master's readable bytes).
    void flush(bool input, bool output) {
        event::NotifyList<P> notes;
        m_state.with_lock([&](State& s) {
            if (input) s.ld.flush_input();
            if (output) s.ld.flush_output();
            notify(s, notes, all_ready);
        });
    }
    /// For the caller's VTIME handling: the slave's VMIN and VTIME when non-canonical.
    struct ReadTiming {
        bool canonical;
        std::uint8_t min, time;  // VTIME in tenths of a second
    };
    [[nodiscard]] ReadTiming read_timing() const {
        return m_state.with_lock([](const State& s) {
            const Termios& t = s.ld.termios();
            return ReadTiming{s.ld.canonical(), t.cc[termios_bits::vmin], t.cc[termios_bits::vtime]};
        });
    }

private:
    friend class PtyMaster<P>;
    friend class PtySlave<P>;
    friend class PtyTable<P>;
    static constexpr fd::Events all_ready = fd::events::in | fd::events::rdnorm | fd::events::out | fd::events::wrnorm |
                                            fd::events::hup | fd::events::err;

    struct State {
        detail::LineDiscipline ld;
        PtyWindowSize window;
        int foreground_group = 0;
        int session = 0;
        bool locked = true;        // Linux locks a new pair until unlockpt
        bool hung_up = false;      // the master is closed
        bool other_closed = false; // every slave description closed after one was opened
        std::size_t slaves = 0;
        std::uint32_t uid = 0, gid = 0, mode = 0620;
        PtyMaster<P>* master = nullptr;
        std::vector<PtySlave<P>*> slave_ends;
    };

    static std::shared_ptr<PtyPair> make(unsigned index, std::weak_ptr<PtyTable<P>> table, fd::Timespec created) {
        return std::make_shared<PtyPair>(Tag{}, index, std::move(table), created);
    }

    // Called with the lock held; notifications are delivered after it is released.
    static void notify(const State& s, event::NotifyList<P>& notes, fd::Events events);
    void signal_group(int group, int signal);
    void hangup_session(int session);

    // ---- master side -------------------------------------------------------------------------
    void attach_master(PtyMaster<P>* master) {
        m_state.with_lock([&](State& s) { s.master = master; });
    }
    void detach_master();
    Result<std::size_t> master_read(std::span<std::byte> out) {
        if (out.empty()) return std::size_t{0};
        event::NotifyList<P> notes;
        return m_state.with_lock([&](State& s) -> Result<std::size_t> {
            if (s.ld.output_queued() == 0) return s.other_closed ? Result<std::size_t>(Errno::io) : Result<std::size_t>(Errno::again);
            const std::size_t n = s.ld.read_output(out);
            notify(s, notes, fd::events::out | fd::events::wrnorm);
            return n;
        });
    }
    Result<std::size_t> master_write(std::span<const std::byte> in) {
        if (in.empty()) return std::size_t{0};
        std::vector<int> signals;
        int group = 0;
        event::NotifyList<P> notes;
        auto written = m_state.with_lock([&](State& s) -> Result<std::size_t> {
            const std::size_t n = s.ld.receive(in, signals);
            group = s.foreground_group;
            if (n == 0 && signals.empty()) return Errno::again;
            notify(s, notes, all_ready);
            return n;
        });
        notes.fire();
        if (group > 0)
            for (const int signal : signals) signal_group(group, signal);
        return written;
    }
    fd::Events master_poll() const {
        return m_state.with_lock([](const State& s) {
            fd::Events ev = 0;
            if (s.ld.output_queued() != 0) ev |= fd::events::in | fd::events::rdnorm;
            if (s.ld.input_room() != 0) ev |= fd::events::out | fd::events::wrnorm;
            if (s.other_closed) ev |= fd::events::hup;
            return ev;
        });
    }

    // ---- slave side --------------------------------------------------------------------------
    Result<void> attach_slave(PtySlave<P>* slave) {
        return m_state.with_lock([&](State& s) -> Result<void> {
            if (s.hung_up || s.locked) return Errno::io;
            s.slave_ends.push_back(slave);
            ++s.slaves;
            s.other_closed = false;
            return ok();
        });
    }
    void detach_slave(PtySlave<P>* slave) {
        event::NotifyList<P> notes;
        m_state.with_lock([&](State& s) {
            s.slave_ends.erase(std::remove(s.slave_ends.begin(), s.slave_ends.end(), slave), s.slave_ends.end());
            if (--s.slaves == 0) {
                s.other_closed = true;
                notify(s, notes, fd::events::hup | fd::events::in);
            }
        });
    }
    /// `available`: return whatever is queued (O_NONBLOCK, or after a VTIME timeout).
    Result<std::size_t> slave_read(std::span<std::byte> out, bool available) {
        event::NotifyList<P> notes;
        return m_state.with_lock([&](State& s) -> Result<std::size_t> {
            if (s.hung_up) return std::size_t{0};
            if (out.empty()) return std::size_t{0};
            const Termios& t = s.ld.termios();
            if (!s.ld.has_input()) {
                if (!s.ld.canonical() && t.cc[termios_bits::vmin] == 0 && (t.cc[termios_bits::vtime] == 0 || available))
                    return std::size_t{0};
                return Errno::again;
            }
            if (!s.ld.canonical() && !available) {
                const std::size_t wanted = std::min<std::size_t>(t.cc[termios_bits::vmin], out.size());
                if (s.ld.queued() < wanted) return Errno::again;
            }
            const std::size_t n = s.ld.read(out);
            notify(s, notes, all_ready);
            return n;
        });
    }
    Result<std::size_t> slave_write(std::span<const std::byte> in) {
        event::NotifyList<P> notes;
        return m_state.with_lock([&](State& s) -> Result<std::size_t> {
            if (s.hung_up) return Errno::io;
            if (in.empty()) return std::size_t{0};
            if (s.ld.output_stopped()) return Errno::again;
            const std::size_t n = s.ld.transmit(in);
            if (n == 0) return Errno::again;
            notify(s, notes, fd::events::in | fd::events::rdnorm);
            return n;
        });
    }
    fd::Events slave_poll() const {
        return m_state.with_lock([](const State& s) {
            if (s.hung_up) return all_ready;
            fd::Events ev = 0;
            const Termios& t = s.ld.termios();
            std::size_t needed = 1;
            if (!s.ld.canonical() && t.cc[termios_bits::vtime] == 0 && t.cc[termios_bits::vmin] > 1) needed = t.cc[termios_bits::vmin];
            if (s.ld.has_input() && (s.ld.canonical() || s.ld.queued() >= needed)) ev |= fd::events::in | fd::events::rdnorm;
            if (s.ld.output_room() != 0 && !s.ld.output_stopped()) ev |= fd::events::out | fd::events::wrnorm;
            return ev;
        });
    }

    const unsigned m_index;
    const std::weak_ptr<PtyTable<P>> m_table;
    const fd::Timespec m_created;
    mutable sync::Mutex<P, State> m_state;
};

/// The master side (/dev/ptmx). Closing the last descriptor of it hangs the pair up.
template <typename P>
class PtyMaster final : public fd::OpenFile<P>, public fs::FileHandle<P> {
public:
    PtyMaster(fs::Location<P> where, std::uint32_t flags, std::shared_ptr<PtyPair<P>> pair)
        : fd::OpenFile<P>(flags), fs::FileHandle<P>(std::move(where)), m_pair(std::move(pair)) {
        m_pair->attach_master(this);
    }
    ~PtyMaster() override { m_pair->detach_master(); }

    Result<std::size_t> read(std::span<std::byte> out) override { return m_pair->master_read(out); }
    Result<std::size_t> write(std::span<const std::byte> in) override { return m_pair->master_write(in); }
    Result<fd::Stat> stat() override { return this->m_location.stat(); }
    fd::Events poll(fd::Events) override { return m_pair->master_poll(); }
    event::Pollee<P>* pollee() noexcept override { return &m_pollee; }
    [[nodiscard]] PtyPair<P>& pair() const noexcept { return *m_pair; }
    [[nodiscard]] const std::shared_ptr<PtyPair<P>>& shared_pair() const noexcept { return m_pair; }

private:
    friend class PtyPair<P>;
    event::Pollee<P> m_pollee{event::owner_of(this)};
    std::shared_ptr<PtyPair<P>> m_pair;
};

/// A slave side (/dev/pts/N). make() fails with EIO while the pair is locked or hung up.
template <typename P>
class PtySlave final : public fd::OpenFile<P>, public fs::FileHandle<P> {
    struct Tag {};

public:
    PtySlave(Tag, fs::Location<P> where, std::uint32_t flags, std::shared_ptr<PtyPair<P>> pair)
        : fd::OpenFile<P>(flags), fs::FileHandle<P>(std::move(where)), m_pair(std::move(pair)) {}
    ~PtySlave() override {
        if (m_attached) m_pair->detach_slave(this);
    }
    static Result<std::shared_ptr<PtySlave>> make(fs::Location<P> where, std::uint32_t flags, std::shared_ptr<PtyPair<P>> pair) {
        auto slave = std::make_shared<PtySlave>(Tag{}, std::move(where), flags, std::move(pair));
        LITEBOX_TRY(slave->m_pair->attach_slave(slave.get()));
        slave->m_attached = true;
        return slave;
    }

    Result<std::size_t> read(std::span<std::byte> out) override { return m_pair->slave_read(out, this->nonblocking()); }
    /// After a VTIME timeout: whatever is queued (0 when nothing).
    Result<std::size_t> read_available(std::span<std::byte> out) { return m_pair->slave_read(out, true); }
    Result<std::size_t> write(std::span<const std::byte> in) override { return m_pair->slave_write(in); }
    Result<fd::Stat> stat() override { return this->m_location.stat(); }
    fd::Events poll(fd::Events) override { return m_pair->slave_poll(); }
    event::Pollee<P>* pollee() noexcept override { return &m_pollee; }
    [[nodiscard]] PtyPair<P>& pair() const noexcept { return *m_pair; }
    [[nodiscard]] const std::shared_ptr<PtyPair<P>>& shared_pair() const noexcept { return m_pair; }

private:
    friend class PtyPair<P>;
    event::Pollee<P> m_pollee{event::owner_of(this)};
    std::shared_ptr<PtyPair<P>> m_pair;
    bool m_attached = false;
};

/// The pairs of one box, by index.
template <typename P>
class PtyTable : public std::enable_shared_from_this<PtyTable<P>> {
    struct Tag {};

public:
    /// Receives the signals the terminals raise: `target` > 0 is a process (a session leader on
    /// hangup), < 0 a process group (-group), as kill(2) takes them.
    using SignalSink = std::function<void(int target, int signal)>;

    PtyTable(Tag, std::size_t max_ptys) : m_max(max_ptys) {}
    static std::shared_ptr<PtyTable> create(std::size_t max_ptys = default_max_ptys) {
        return std::make_shared<PtyTable>(Tag{}, max_ptys);
    }

    [[nodiscard]] std::size_t max_ptys() const noexcept { return m_max; }
    /// A new pair with the lowest free index (locked, owned by root). ENOSPC at max_ptys.
    Result<std::shared_ptr<PtyPair<P>>> allocate(fd::Timespec now = {}) {
        return m_state.with_lock([&](State& s) -> Result<std::shared_ptr<PtyPair<P>>> {
            std::erase_if(s.pairs, [](const auto& entry) { return entry.second.expired(); });  // a master never made
            if (s.pairs.size() >= m_max) return Errno::nospc;
            unsigned index = 0;
            for (const auto& [taken, pair] : s.pairs) {
                if (taken != index) break;
                ++index;
            }
            auto pair = PtyPair<P>::make(index, this->weak_from_this(), now);
            s.pairs.emplace(index, pair);
            return pair;
        });
    }
    /// The live pair with `index` (its master open), or null.
    [[nodiscard]] std::shared_ptr<PtyPair<P>> find(unsigned index) const {
        return m_state.with_lock([&](const State& s) -> std::shared_ptr<PtyPair<P>> {
            const auto it = s.pairs.find(index);
            return it == s.pairs.end() ? nullptr : it->second.lock();
        });
    }
    /// Indices of the live pairs, ascending.
    [[nodiscard]] std::vector<unsigned> indices() const {
        return m_state.with_lock([](const State& s) {
            std::vector<unsigned> out;
            for (const auto& [index, pair] : s.pairs) out.push_back(index);
            return out;
        });
    }
    /// The live pair that is the controlling terminal of `session`, or null.
    [[nodiscard]] std::shared_ptr<PtyPair<P>> controlling(int session) const {
        if (session <= 0) return nullptr;
        std::vector<std::shared_ptr<PtyPair<P>>> live;
        m_state.with_lock([&](const State& s) {
            for (const auto& [index, weak] : s.pairs)
                if (auto pair = weak.lock()) live.push_back(std::move(pair));
        });
        for (auto& pair : live)
            if (pair->session() == session) return pair;
        return nullptr;
    }
    void set_signal_sink(SignalSink sink) {
        m_state.with_lock([&](State& s) { s.sink = std::move(sink); });
    }
    /// Sends through the sink (nothing without one).
    void signal(int target, int signal) {
        SignalSink sink = m_state.with_lock([](const State& s) { return s.sink; });
        if (sink) sink(target, signal);
    }

private:
    friend class PtyPair<P>;
    void release(unsigned index) {
        m_state.with_lock([&](State& s) { s.pairs.erase(index); });
    }
    struct State {
        std::map<unsigned, std::weak_ptr<PtyPair<P>>> pairs;
        SignalSink sink;
    };
    const std::size_t m_max;
    mutable sync::Mutex<P, State> m_state;
};

// ---- out-of-line members ---------------------------------------------------------------------

template <typename P>
void PtyPair<P>::notify(const State& s, event::NotifyList<P>& notes, fd::Events events) {
    if (s.master) notes.add(s.master->m_pollee, events);
    for (PtySlave<P>* slave : s.slave_ends) notes.add(slave->m_pollee, events);
}

template <typename P>
void PtyPair<P>::signal_group(int group, int signal) {
    if (auto table = m_table.lock()) table->signal(-group, signal);
}

template <typename P>
void PtyPair<P>::hangup_session(int session) {
    if (auto table = m_table.lock()) {
        table->signal(session, pty_signals::sighup);
        table->signal(session, pty_signals::sigcont);
    }
}

template <typename P>
void PtyPair<P>::detach_master() {
    int session = 0;
    {
        event::NotifyList<P> notes;
        m_state.with_lock([&](State& s) {
            s.master = nullptr;
            s.hung_up = true;
            session = s.session;
            s.session = 0;
            s.foreground_group = 0;
            s.ld.flush_input();
            s.ld.release_output();
            notify(s, notes, all_ready);
        });
    }
    if (auto table = m_table.lock()) table->release(m_index);
    if (session > 0) hangup_session(session);
}

/// The pair behind a master or slave description, or null.
template <typename P>
PtyPair<P>* pty_pair_of(fd::OpenFile<P>& file) noexcept {
    if (auto* master = event::owner_as<PtyMaster<P>>(file)) return &master->pair();
    if (auto* slave = event::owner_as<PtySlave<P>>(file)) return &slave->pair();
    return nullptr;
}
template <typename P>
PtyMaster<P>* pty_master_of(fd::OpenFile<P>& file) noexcept {
    return event::owner_as<PtyMaster<P>>(file);
}
template <typename P>
PtySlave<P>* pty_slave_of(fd::OpenFile<P>& file) noexcept {
    return event::owner_as<PtySlave<P>>(file);
}

}  // namespace litebox::ipc
