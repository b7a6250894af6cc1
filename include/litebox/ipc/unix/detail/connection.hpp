// Connection<P>: the shared state of one connected stream or seqpacket socket pair — two inboxes,
// each side's shutdown flags and pending error, under one lock. Side 0 is the connecting socket
// (or socketpair's first), side 1 the accepted one (or socketpair's second).
//
// Contract (Linux's unix stream/seqpacket semantics):
// - send queues into the peer's inbox, bounded by the sender's SO_SNDBUF (each queued message is
//   also charged message_overhead). Stream sends take what fits (at least one byte) or EAGAIN;
//   seqpacket sends are whole records (EMSGSIZE when one can never fit). Sending after either side
//   shut the direction down is EPIPE; a pending error (ECONNRESET) is reported first, once.
// - Stream receives copy across queued sends but stop before a send that carries SCM_RIGHTS and
//   right after one (the files arrive with their first byte). Seqpacket receives return one
//   record, truncated (MSG_TRUNC) when the buffer is short. With nothing queued: the pending error
//   once, then 0 after shutdown/close of the direction, else EAGAIN.
// - close(side) shuts both directions for both sides; unread data in the closing side's inbox (or
//   a never-accepted connection) gives the peer ECONNRESET, as on Linux.
// - Files in queued messages are released outside the lock.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "../../../error.hpp"
#include "../../../event/pollee.hpp"
#include "../../../sync/mutex.hpp"
#include "../../detail/bytes.hpp"
#include "../types.hpp"
#include "rights.hpp"

namespace litebox::ipc::detail {

/// One queued send (stream) or record (seqpacket), or one datagram.
template <typename P>
struct Message {
    Bytes bytes;
    std::size_t offset = 0;                        // bytes already read (streams)
    std::unique_ptr<RightsBundle<P>> rights;       // SCM_RIGHTS, or null
    PeerCredentials credentials;                   // the sender's (SCM_CREDENTIALS)
    UnixAddress source;                            // the sender's address (datagrams)
    [[nodiscard]] std::size_t remaining() const noexcept { return bytes.size() - offset; }
};

template <typename P>
class Connection {
public:
    explicit Connection(bool seqpacket) : m_seqpacket(seqpacket) {}
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Connects a socket to `side`: its Pollee's notifier and its SO_SNDBUF.
    void attach(int side, event::Notifier<P> notifier, std::size_t send_limit) {
        m_sides.with_lock([&](Sides& s) {
            s[index(side)].notifier = std::move(notifier);
            s[index(side)].send_limit = send_limit;
        });
    }
    void set_send_limit(int side, std::size_t limit) {
        m_sides.with_lock([&](Sides& s) { s[index(side)].send_limit = limit; });
    }

    /// Queues `data` from `side` to its peer. On success the rights move into the queue.
    Result<std::size_t> send(int side, std::span<const std::byte> data, std::unique_ptr<RightsBundle<P>>& rights,
                             const PeerCredentials& credentials) {
        event::NotifyList<P> notes;  // delivered after the lock is released
        return m_sides.with_lock([&](Sides& s) -> Result<std::size_t> {
            Side& self = s[index(side)];
            Side& peer = s[index(1 - side)];
            if (self.error) return std::exchange(self.error, std::nullopt).value();
            if (self.send_shut || peer.receive_shut) return Errno::pipe;
            const std::size_t limit = self.send_limit;
            std::size_t n = data.size();
            if (m_seqpacket) {
                if (n + message_overhead > limit) return Errno::msgsize;
                if (peer.charge > 0 && peer.charge + n + message_overhead > limit) return Errno::again;
            } else {
                if (n == 0) return std::size_t{0};
                if (peer.charge >= limit) return Errno::again;
                const std::size_t room = limit - peer.charge;
                Message<P>* tail = peer.inbox.empty() ? nullptr : &peer.inbox.back();
                if (tail != nullptr && !tail->rights && !rights && tail->credentials == credentials) {
                    n = std::min(n, room);  // appended to the last send: no new message
                    tail->bytes.append(data.first(n));
                    peer.bytes += n;
                    peer.charge += n;
                    notes.add(peer.notifier, fd::events::in | fd::events::rdnorm);
                    return n;
                }
                if (room <= message_overhead) return Errno::again;
                n = std::min(n, room - message_overhead);
            }
            Message<P> message;
            message.bytes = std::move(peer.spare);  // a recycled buffer, if any
            message.bytes.assign(data.first(n));
            message.rights = std::move(rights);
            message.credentials = credentials;
            peer.inbox.push_back(std::move(message));
            peer.bytes += n;
            peer.charge += n + message_overhead;
            notes.add(peer.notifier, fd::events::in | fd::events::rdnorm);
            return n;
        });
    }

    /// Receives into `out` on `side` (see the contract above).
    Result<Received<P>> receive(int side, std::span<std::byte> out, bool peek, bool want_credentials) {
        event::NotifyList<P> notes;  // delivered after the lock is released
        std::vector<Message<P>> consumed;  // destroyed after the lock is released
        Result<Received<P>> result = m_sides.with_lock([&](Sides& s) -> Result<Received<P>> {
            Side& self = s[index(side)];
            Received<P> r;
            if (self.inbox.empty()) {
                if (self.error) return std::exchange(self.error, std::nullopt).value();
                if (self.receive_shut) return r;
                return Errno::again;
            }
            if (m_seqpacket) {
                Message<P>& front = self.inbox.front();
                r.message_length = front.bytes.size();
                r.bytes = std::min(out.size(), front.bytes.size());
                if (r.bytes > 0) std::memcpy(out.data(), front.bytes.data(), r.bytes);
                if (r.bytes < front.bytes.size()) r.flags |= msg_flags::trunc;
                if (want_credentials) r.credentials = front.credentials;
                if (front.rights) r.rights = peek ? front.rights->copy() : front.rights->take();
                if (!peek) {
                    self.bytes -= front.bytes.size();
                    self.charge -= front.bytes.size() + message_overhead;
                    recycle(self, std::move(front.bytes));
                    consumed.push_back(std::move(front));
                    self.inbox.pop_front();
                }
            } else {
                std::size_t copied = 0;
                std::size_t index_in_queue = 0;
                while (index_in_queue < self.inbox.size() && copied < out.size()) {
                    Message<P>& m = self.inbox[index_in_queue];
                    if (copied > 0 && m.rights) break;  // files start a new read
                    if (copied == 0 && want_credentials) r.credentials = m.credentials;
                    const std::size_t n = std::min(m.remaining(), out.size() - copied);
                    std::memcpy(out.data() + copied, m.bytes.data() + m.offset, n);
                    copied += n;
                    const bool had_rights = m.rights != nullptr;
                    if (had_rights) r.rights = peek ? m.rights->copy() : m.rights->take();
                    if (peek) {
                        ++index_in_queue;
                    } else {
                        m.offset += n;
                        self.bytes -= n;
                        self.charge -= n;
                        if (had_rights) m.rights.reset();
                        if (m.remaining() == 0) {
                            self.charge -= message_overhead;
                            recycle(self, std::move(m.bytes));
                            consumed.push_back(std::move(m));
                            self.inbox.pop_front();
                        }
                    }
                    if (had_rights) break;
                }
                r.bytes = r.message_length = copied;
            }
            if (!peek) notes.add(s[index(1 - side)].notifier, fd::events::out | fd::events::wrnorm);
            return r;
        });
        return result;
    }

    void shutdown(int side, bool read, bool write) {
        event::NotifyList<P> notes;  // delivered after the lock is released
        m_sides.with_lock([&](Sides& s) {
            Side& self = s[index(side)];
            Side& peer = s[index(1 - side)];
            if (read) {
                self.receive_shut = true;
                peer.send_shut = true;
            }
            if (write) {
                self.send_shut = true;
                peer.receive_shut = true;
            }
            notes.add(self.notifier, changed_on_shutdown);
            notes.add(peer.notifier, changed_on_shutdown);
        });
    }

    /// The socket on `side` is gone. `never_accepted`: a pending connection dropped by its
    /// listener (the client gets ECONNRESET).
    void close(int side, bool never_accepted) {
        event::NotifyList<P> notes;  // delivered after the lock is released
        std::deque<Message<P>> dropped;  // released after the lock
        m_sides.with_lock([&](Sides& s) {
            Side& self = s[index(side)];
            Side& peer = s[index(1 - side)];
            self.receive_shut = self.send_shut = true;
            peer.receive_shut = peer.send_shut = true;
            if (!self.inbox.empty() || never_accepted) peer.error = Errno::connreset;
            dropped = std::move(self.inbox);
            self.inbox.clear();
            self.bytes = self.charge = 0;
            self.notifier = {};
            notes.add(peer.notifier, changed_on_shutdown);
        });
    }

    /// Readiness of `side`, as Linux's unix_poll computes it.
    [[nodiscard]] fd::Events poll(int side) {
        return m_sides.with_lock([&](const Sides& s) {
            const Side& self = s[index(side)];
            const Side& peer = s[index(1 - side)];
            fd::Events ev = 0;
            if (self.error) ev |= fd::events::err;
            if (self.receive_shut && self.send_shut) ev |= fd::events::hup;
            if (self.receive_shut) ev |= fd::events::rdhup | fd::events::in | fd::events::rdnorm;
            if (!self.inbox.empty()) ev |= fd::events::in | fd::events::rdnorm;
            if (peer.charge * 4 <= self.send_limit) ev |= fd::events::out | fd::events::wrnorm;
            return ev;
        });
    }

    /// SO_ERROR: the pending error, cleared.
    std::optional<Errno> take_error(int side) {
        return m_sides.with_lock([&](Sides& s) { return std::exchange(s[index(side)].error, std::nullopt); });
    }
    /// SIOCINQ: unread bytes queued for `side`.
    [[nodiscard]] std::size_t queued(int side) {
        return m_sides.with_lock([&](const Sides& s) { return s[index(side)].bytes; });
    }
    /// SIOCOUTQ: bytes `side` sent that its peer has not read.
    [[nodiscard]] std::size_t unsent(int side) {
        return m_sides.with_lock([&](const Sides& s) { return s[index(1 - side)].bytes; });
    }

private:
    static constexpr fd::Events changed_on_shutdown = fd::events::in | fd::events::rdnorm | fd::events::out |
                                                      fd::events::wrnorm | fd::events::hup | fd::events::rdhup |
                                                      fd::events::err;
    struct Side {
        std::deque<Message<P>> inbox;  // what the peer sent to this side
        std::size_t bytes = 0;         // unread payload bytes in the inbox
        std::size_t charge = 0;        // bytes + message_overhead per queued message
        std::size_t send_limit = min_socket_buffer;
        bool receive_shut = false;     // RCV_SHUTDOWN
        bool send_shut = false;        // SEND_SHUTDOWN
        std::optional<Errno> error;    // pending SO_ERROR
        event::Notifier<P> notifier;
        Bytes spare;                   // one consumed message buffer, kept for the next send
    };
    using Sides = std::array<Side, 2>;
    static std::size_t index(int side) noexcept { return side == 0 ? 0 : 1; }
    /// Keeps the larger of a consumed buffer and the spare (bounded: at most one per inbox, no
    /// larger than the sender's buffer limit).
    static void recycle(Side& side, Bytes bytes) noexcept {
        if (bytes.capacity() > side.spare.capacity() && bytes.capacity() <= side.send_limit + side.send_limit) {
            bytes.clear();
            side.spare = std::move(bytes);
        }
    }

    const bool m_seqpacket;
    sync::Mutex<P, Sides> m_sides;
};

}  // namespace litebox::ipc::detail
