// Out-of-line definitions of UnixSocket<P> (see ipc/unix/socket.hpp for the contract).
//
// Locking: a socket's state lock may be held while taking its Connection's lock, the unix
// namespace's lock, or the in-flight registry's lock, never another socket's lock. Operations
// that touch two sockets (connect, datagram send, accept's wake-ups) lock them one after the
// other, and drop every temporary reference to another socket outside all locks (dropping the
// last reference closes that socket, which takes its own locks).
#pragma once

#include <algorithm>
#include <cstring>

#include "../socket.hpp"

namespace litebox::ipc {

namespace detail {
template <typename T>
bool same_owner(const std::weak_ptr<T>& a, const std::weak_ptr<T>& b) noexcept {
    return !a.owner_before(b) && !b.owner_before(a);
}
inline std::size_t clamp_buffer(std::size_t requested, std::size_t minimum, std::size_t maximum) noexcept {
    const std::size_t half_max = maximum / 2;
    const std::size_t doubled = (requested > half_max ? half_max : requested) * 2;
    return doubled < minimum ? minimum : doubled;
}
}  // namespace detail

template <typename P>
UnixSocket<P>::UnixSocket(Tag, std::shared_ptr<Namespace> ns, SocketType type, std::uint32_t status_flags,
                          const PeerCredentials& owner)
    : fd::OpenFile<P>(status_flags), m_ns(std::move(ns)), m_type(type), m_owner(owner),
      m_inode(detail::allocate_anonymous_inode()) {
    m_state.with_lock([&](State& s) { s.send_buffer = s.receive_buffer = m_ns->limits().default_buffer; });
}

template <typename P>
UnixSocket<P>::~UnixSocket() {
    State s;
    m_state.with_lock([&](State& state) { std::swap(s, state); });
    if (s.binding && s.binding->address().kind == UnixAddress::Kind::abstract) {
        m_ns->unbind_abstract(s.binding->address().name, s.binding.get());
    }
    if (s.connection) s.connection->close(s.side, false);
    for (Pending& pending : s.backlog) pending.connection->close(1, true);
    wake_space_waiters(std::move(s.space_waiters));  // blocked senders and connectors retry and fail
    // `s` (queued datagrams and their files) is released here, outside every lock.
}

template <typename P>
Result<std::shared_ptr<UnixSocket<P>>> UnixSocket<P>::create(std::shared_ptr<Namespace> ns, SocketType type,
                                                             std::uint32_t flags, const PeerCredentials& owner) {
    if (!ns) return Errno::inval;
    if (type != SocketType::stream && type != SocketType::datagram && type != SocketType::seqpacket)
        return Errno::socktnosupport;
    const std::uint32_t status = fd::open_flags::read_write | (flags & socket_flags::nonblock);
    return std::make_shared<UnixSocket>(Tag{}, std::move(ns), type, status, owner);
}

template <typename P>
Result<std::pair<std::shared_ptr<UnixSocket<P>>, std::shared_ptr<UnixSocket<P>>>> UnixSocket<P>::create_pair(
    std::shared_ptr<Namespace> ns, SocketType type, std::uint32_t flags, const PeerCredentials& owner) {
    LITEBOX_TRY_ASSIGN(auto a, create(ns, type, flags, owner));
    LITEBOX_TRY_ASSIGN(auto b, create(ns, type, flags, owner));
    if (type == SocketType::datagram) {
        a->m_state.with_lock([&](State& s) {
            s.datagram_peer = b;
            s.datagram_connected = true;
        });
        b->m_state.with_lock([&](State& s) {
            s.datagram_peer = a;
            s.datagram_connected = true;
        });
    } else {
        auto connection = std::make_shared<detail::Connection<P>>(type == SocketType::seqpacket);
        int side = 0;
        for (UnixSocket* socket : {a.get(), b.get()}) {
            const std::size_t limit = socket->m_state.with_lock([&](State& s) {
                s.phase = Phase::connected;
                s.connection = connection;
                s.side = side;
                s.peer_credentials = owner;
                return s.send_buffer;
            });
            connection->attach(side, socket->m_pollee.notifier(), limit);
            ++side;
        }
    }
    return std::pair{std::move(a), std::move(b)};
}

// ---- names -------------------------------------------------------------------------------------

template <typename P>
Result<void> UnixSocket<P>::bind_endpoint(State& s, const UnixAddress& address) {
    auto endpoint = Endpoint::make(address, this->weak_from_this());
    LITEBOX_TRY(m_ns->bind_abstract(endpoint));
    s.binding = std::move(endpoint);
    s.local = address;
    return ok();
}

template <typename P>
Result<void> UnixSocket<P>::bind(const UnixAddress& address) {
    if (address.kind == UnixAddress::Kind::path) return Errno::inval;
    if (address.kind == UnixAddress::Kind::abstract && address.name.size() >= unix_path_max) return Errno::inval;
    return m_state.with_lock([&](State& s) -> Result<void> {
        if (s.binding) return Errno::inval;
        if (address.kind == UnixAddress::Kind::abstract) return bind_endpoint(s, address);
        // Autobind: a free name can be taken by a racing bind between the pick and the bind.
        for (int attempt = 0; attempt < 16; ++attempt) {
            LITEBOX_TRY_ASSIGN(std::string name, m_ns->free_autobind_name());
            Result<void> bound = bind_endpoint(s, UnixAddress::abstract(std::move(name)));
            if (bound.has_value() || bound.error() != Errno::addrinuse) return bound;
        }
        return Errno::addrinuse;
    });
}

template <typename P>
template <typename Attach>
Result<void> UnixSocket<P>::bind_path(std::string path, Attach&& attach) {
    if (path.empty() || path.size() >= unix_path_max) return Errno::inval;
    return m_state.with_lock([&](State& s) -> Result<void> {
        if (s.binding) return Errno::inval;
        UnixAddress address = UnixAddress::path(std::move(path));
        auto endpoint = Endpoint::make(address, this->weak_from_this());
        LITEBOX_TRY(std::forward<Attach>(attach)(std::as_const(endpoint)));
        s.binding = std::move(endpoint);
        s.local = std::move(address);
        return ok();
    });
}

template <typename P>
UnixAddress UnixSocket<P>::local_address() {
    return m_state.with_lock([](const State& s) { return s.local; });
}

template <typename P>
Result<UnixAddress> UnixSocket<P>::peer_address() {
    return m_state.with_lock([&](const State& s) -> Result<UnixAddress> {
        if (connection_oriented() ? s.phase != Phase::connected : !s.datagram_connected) return Errno::notconn;
        return s.peer_address;
    });
}

// ---- connections -------------------------------------------------------------------------------

template <typename P>
Result<void> UnixSocket<P>::listen(int backlog) {
    if (!connection_oriented()) return Errno::opnotsupp;
    std::vector<std::weak_ptr<UnixSocket>> waiters;
    Result<void> result = m_state.with_lock([&](State& s) -> Result<void> {
        if (!s.binding) return Errno::inval;
        if (s.phase == Phase::connected || s.phase == Phase::connecting) return Errno::inval;
        const auto max = m_ns->limits().max_backlog;
        s.backlog_limit = backlog < 0 || static_cast<std::size_t>(backlog) > max ? max : static_cast<std::size_t>(backlog);
        s.phase = Phase::listening;
        waiters = std::move(s.space_waiters);  // a larger backlog may admit blocked connectors
        s.space_waiters.clear();
        return ok();
    });
    wake_space_waiters(std::move(waiters));
    return result;
}

template <typename P>
auto UnixSocket<P>::enqueue_connection(Pending pending, std::weak_ptr<UnixSocket> connector) -> Result<Accepted> {
    std::vector<std::weak_ptr<UnixSocket>> overflow;
    Result<Accepted> result = m_state.with_lock([&](State& s) -> Result<Accepted> {
        if (s.phase != Phase::listening) return Errno::connrefused;
        if (s.backlog.size() > s.backlog_limit) {
            overflow = add_space_waiter(s, std::move(connector));
            return Errno::again;
        }
        s.backlog.push_back(std::move(pending));
        return Accepted{s.local, m_owner};
    });
    wake_space_waiters(std::move(overflow));
    if (result.has_value()) m_pollee.notify(fd::events::in | fd::events::rdnorm);
    return result;
}

template <typename P>
Result<void> UnixSocket<P>::try_connect(const std::shared_ptr<Endpoint>& to) {
    if (!to) return Errno::connrefused;
    std::shared_ptr<UnixSocket> target = to->socket();  // released outside our locks
    if (!target) return Errno::connrefused;
    if (target->m_type != m_type) return Errno::prototype;

    if (!connection_oriented()) {
        // Linux's unix_may_send: the target must not be connected to a third socket.
        const bool allowed = target->m_state.with_lock([&](State& t) {
            return !t.datagram_connected || detail::same_owner(t.datagram_peer, this->weak_from_this()) ||
                   target.get() == this;
        });
        if (!allowed) return Errno::perm;
        const UnixAddress target_address = target->local_address();
        m_state.with_lock([&](State& s) {
            s.datagram_peer = target;
            s.datagram_connected = true;
            s.peer_address = target_address;
        });
        m_pollee.notify(fd::events::out | fd::events::wrnorm);
        return ok();
    }

    LITEBOX_TRY_ASSIGN(const auto mine, m_state.with_lock([&](State& s) -> Result<std::pair<UnixAddress, std::size_t>> {
        if (s.phase == Phase::listening) return Errno::inval;
        if (s.phase == Phase::connected) return Errno::isconn;
        if (s.phase == Phase::connecting) return Errno::already;
        s.phase = Phase::connecting;
        return std::pair{s.local, s.send_buffer};
    }));
    auto connection = std::make_shared<detail::Connection<P>>(m_type == SocketType::seqpacket);
    connection->attach(0, m_pollee.notifier(), mine.second);
    Result<Accepted> accepted = target->enqueue_connection(Pending{connection, mine.first, m_owner}, this->weak_from_this());
    m_state.with_lock([&](State& s) {
        if (!accepted.has_value()) {
            s.phase = Phase::idle;
            return;
        }
        s.phase = Phase::connected;
        s.connection = connection;
        s.side = 0;
        s.peer_address = accepted->listener_address;
        s.peer_credentials = accepted->listener_credentials;
    });
    if (!accepted.has_value()) return accepted.error();
    m_pollee.notify(fd::events::out | fd::events::wrnorm);
    return ok();
}

template <typename P>
Result<void> UnixSocket<P>::connect(const event::WaitContext<P>& ctx, const std::shared_ptr<Endpoint>& to) {
    return event::blocking(ctx, *this, fd::events::out, [&] { return try_connect(to); });
}

template <typename P>
Result<void> UnixSocket<P>::disconnect() {
    if (connection_oriented()) return Errno::opnotsupp;  // Linux disconnects streams only for TCP
    m_state.with_lock([](State& s) {
        s.datagram_peer.reset();
        s.datagram_connected = false;
        s.peer_address = UnixAddress{};
    });
    return ok();
}

template <typename P>
Result<FilePtr<P>> UnixSocket<P>::try_accept(std::uint32_t flags) {
    if (!connection_oriented()) return Errno::opnotsupp;
    std::vector<std::weak_ptr<UnixSocket>> waiters;
    UnixAddress local;
    LITEBOX_TRY_ASSIGN(Pending pending, m_state.with_lock([&](State& s) -> Result<Pending> {
        if (s.phase != Phase::listening) return Errno::inval;
        if (s.backlog.empty()) return Errno::again;
        Pending p = std::move(s.backlog.front());
        s.backlog.pop_front();
        waiters = std::move(s.space_waiters);
        s.space_waiters.clear();
        local = s.local;
        return p;
    }));
    wake_space_waiters(std::move(waiters));
    auto socket = std::make_shared<UnixSocket>(Tag{}, m_ns, m_type,
                                               fd::open_flags::read_write | (flags & socket_flags::nonblock), m_owner);
    const std::size_t limit = socket->m_state.with_lock([&](State& s) {
        s.phase = Phase::connected;
        s.connection = pending.connection;
        s.side = 1;
        s.local = std::move(local);
        s.peer_address = std::move(pending.client_address);
        s.peer_credentials = pending.client_credentials;
        return s.send_buffer;
    });
    pending.connection->attach(1, socket->m_pollee.notifier(), limit);
    return FilePtr<P>(std::move(socket));
}

template <typename P>
Result<FilePtr<P>> UnixSocket<P>::accept(const event::WaitContext<P>& ctx, std::uint32_t flags) {
    return event::blocking(ctx, *this, fd::events::in, [&] { return try_accept(flags); });
}

template <typename P>
Result<void> UnixSocket<P>::shutdown(ShutdownHow how) {
    const bool read = how == ShutdownHow::read || how == ShutdownHow::both;
    const bool write = how == ShutdownHow::write || how == ShutdownHow::both;
    if (!read && !write) return Errno::inval;
    auto connection = m_state.with_lock([&](State& s) {
        if (s.phase == Phase::connected) return std::pair{s.connection, s.side};
        s.receive_shut = s.receive_shut || read;
        s.send_shut = s.send_shut || write;
        return std::pair{std::shared_ptr<detail::Connection<P>>(), 0};
    });
    if (connection.first) {
        connection.first->shutdown(connection.second, read, write);
    } else {
        m_pollee.notify(fd::events::in | fd::events::out | fd::events::hup | fd::events::rdhup);
    }
    return ok();
}

// ---- data --------------------------------------------------------------------------------------

template <typename P>
Result<std::size_t> UnixSocket<P>::try_send(std::span<const std::byte> data, std::uint32_t flags, SendExtras<P>& extras) {
    if ((flags & msg_flags::oob) != 0) return Errno::opnotsupp;
    if (extras.rights.size() > max_rights_per_message) return Errno::inval;
    if (!connection_oriented()) return send_datagram(data, extras);

    struct Link {
        std::shared_ptr<detail::Connection<P>> connection;
        int side = 0;
    };
    LITEBOX_TRY_ASSIGN(Link link, m_state.with_lock([&](State& s) -> Result<Link> {
        if (extras.destination) return s.phase == Phase::connected ? Errno::isconn : Errno::opnotsupp;
        if (s.phase != Phase::connected) return s.send_shut ? Errno::pipe : Errno::notconn;
        return Link{s.connection, s.side};
    }));
    std::unique_ptr<detail::RightsBundle<P>> bundle;
    if (!extras.rights.empty()) {
        LITEBOX_TRY_ASSIGN(bundle, m_ns->in_flight_registry()->make_bundle(extras.rights));
    }
    LITEBOX_TRY_ASSIGN(const std::size_t sent, link.connection->send(link.side, data, bundle, m_owner));
    if (!bundle) extras.rights.clear();  // the files are in flight now
    return sent;
}

template <typename P>
Result<std::size_t> UnixSocket<P>::send(const event::WaitContext<P>& ctx, std::span<const std::byte> data, std::uint32_t flags,
                                       SendExtras<P> extras) {
    const bool dont_wait = (flags & msg_flags::dontwait) != 0;
    auto attempt_at = [&](std::size_t done) {
        return event::blocking(ctx, *this, fd::events::out, [&] { return try_send(data.subspan(done), flags, extras); }, dont_wait);
    };
    if (m_type != SocketType::stream) return attempt_at(0);
    std::size_t done = 0;
    for (;;) {
        Result<std::size_t> step = attempt_at(done);
        if (!step.has_value()) {
            if (done > 0) return done;
            return step.error();
        }
        done += *step;
        if (done >= data.size() || *step == 0 || dont_wait || this->nonblocking()) return done;
    }
}

template <typename P>
Result<Received<P>> UnixSocket<P>::try_receive(std::span<std::byte> out, std::uint32_t flags) {
    if ((flags & msg_flags::oob) != 0) return Errno::opnotsupp;
    const bool peek = (flags & msg_flags::peek) != 0;
    if (!connection_oriented()) return receive_datagram(out, peek);
    struct Link {
        std::shared_ptr<detail::Connection<P>> connection;
        int side = 0;
        bool credentials = false;
        UnixAddress peer;
    };
    LITEBOX_TRY_ASSIGN(Link link, m_state.with_lock([&](State& s) -> Result<Link> {
        if (s.phase != Phase::connected) return m_type == SocketType::seqpacket ? Errno::notconn : Errno::inval;
        return Link{s.connection, s.side, s.pass_credentials, s.peer_address};
    }));
    LITEBOX_TRY_ASSIGN(Received<P> received, link.connection->receive(link.side, out, peek, link.credentials));
    received.source = std::move(link.peer);
    return received;
}

template <typename P>
Result<Received<P>> UnixSocket<P>::receive(const event::WaitContext<P>& ctx, std::span<std::byte> out, std::uint32_t flags) {
    const bool dont_wait = (flags & msg_flags::dontwait) != 0;
    auto attempt = [&](std::span<std::byte> buffer) {
        return event::blocking(ctx, *this, fd::events::in, [&] { return try_receive(buffer, flags); }, dont_wait);
    };
    const bool wait_all = (flags & msg_flags::waitall) != 0 && (flags & msg_flags::peek) == 0 &&
                          m_type == SocketType::stream && !dont_wait && !this->nonblocking();
    if (!wait_all) return attempt(out);
    Received<P> total;
    for (;;) {
        Result<Received<P>> step = attempt(out.subspan(total.bytes));
        if (!step.has_value()) {
            if (total.bytes > 0) return total;
            return step.error();
        }
        if (total.bytes == 0) total.credentials = step->credentials;
        total.source = std::move(step->source);
        total.bytes += step->bytes;
        total.message_length = total.bytes;
        const bool got_rights = !step->rights.empty();
        for (auto& f : step->rights) total.rights.push_back(std::move(f));
        if (step->bytes == 0 || got_rights || total.bytes >= out.size()) return total;
    }
}

template <typename P>
Result<void> UnixSocket<P>::deliver(detail::Message<P>& message, UnixSocket& sender) {
    std::vector<std::weak_ptr<UnixSocket>> overflow;
    Result<void> result = m_state.with_lock([&](State& s) -> Result<void> {
        const bool connected_to_sender = detail::same_owner(s.datagram_peer, sender.weak_from_this());
        if (s.datagram_connected && !connected_to_sender) return Errno::perm;
        if (s.receive_shut) return Errno::pipe;
        const std::size_t charge = message.bytes.size() + message_overhead;
        const bool over_bytes = !s.queue.empty() && s.queue_charge + charge > s.receive_buffer;
        const bool over_count = !connected_to_sender && s.queue.size() >= m_ns->limits().max_datagram_queue;
        if (over_bytes || over_count) {
            overflow = add_space_waiter(s, sender.weak_from_this());
            return Errno::again;
        }
        s.queue_charge += charge;
        s.queue.push_back(std::move(message));
        return ok();
    });
    wake_space_waiters(std::move(overflow));
    if (result.has_value()) m_pollee.notify(fd::events::in | fd::events::rdnorm);
    return result;
}

template <typename P>
Result<std::size_t> UnixSocket<P>::send_datagram(std::span<const std::byte> data, SendExtras<P>& extras) {
    std::shared_ptr<UnixSocket> target;  // released outside every lock
    LITEBOX_TRY_ASSIGN(UnixAddress source, m_state.with_lock([&](State& s) -> Result<UnixAddress> {
        if (s.send_shut) return Errno::pipe;
        if (data.size() + 32 > s.send_buffer) return Errno::msgsize;
        if (!extras.destination) {
            if (!s.datagram_connected) return Errno::notconn;
            target = s.datagram_peer.lock();
        }
        return s.local;
    }));
    if (extras.destination) target = extras.destination->socket();
    if (!target) return Errno::connrefused;
    if (target->m_type != SocketType::datagram) return Errno::prototype;
    detail::Message<P> message;
    message.bytes.assign(data);
    message.credentials = m_owner;
    message.source = std::move(source);
    if (!extras.rights.empty()) {
        LITEBOX_TRY_ASSIGN(message.rights, m_ns->in_flight_registry()->make_bundle(extras.rights));
    }
    LITEBOX_TRY(target->deliver(message, *this));
    extras.rights.clear();
    return data.size();
}

template <typename P>
Result<Received<P>> UnixSocket<P>::receive_datagram(std::span<std::byte> out, bool peek) {
    std::vector<std::weak_ptr<UnixSocket>> waiters;
    std::optional<detail::Message<P>> consumed;  // released after the lock
    Result<Received<P>> result = m_state.with_lock([&](State& s) -> Result<Received<P>> {
        Received<P> r;
        if (s.queue.empty()) {
            if (s.receive_shut) return r;
            return Errno::again;
        }
        detail::Message<P>& front = s.queue.front();
        r.message_length = front.bytes.size();
        r.bytes = std::min(out.size(), front.bytes.size());
        if (r.bytes > 0) std::memcpy(out.data(), front.bytes.data(), r.bytes);
        if (r.bytes < front.bytes.size()) r.flags |= msg_flags::trunc;
        r.source = front.source;
        if (s.pass_credentials) r.credentials = front.credentials;
        if (front.rights) r.rights = peek ? front.rights->copy() : front.rights->take();
        if (!peek) {
            s.queue_charge -= front.bytes.size() + message_overhead;
            consumed = std::move(front);
            s.queue.pop_front();
            waiters = std::move(s.space_waiters);
            s.space_waiters.clear();
        }
        return r;
    });
    wake_space_waiters(std::move(waiters));
    return result;
}

// ---- readiness, options ------------------------------------------------------------------------

template <typename P>
fd::Events UnixSocket<P>::poll(fd::Events /*interest*/) {
    struct Snapshot {
        Phase phase;
        std::shared_ptr<detail::Connection<P>> connection;
        int side;
        fd::Events events;
        std::shared_ptr<UnixSocket> peer;
    };
    Snapshot snap = m_state.with_lock([&](State& s) {
        Snapshot out{s.phase, s.connection, s.side, 0, nullptr};
        if (s.receive_shut) out.events |= fd::events::rdhup | fd::events::in | fd::events::rdnorm;
        if (s.receive_shut && s.send_shut) out.events |= fd::events::hup;
        if (!connection_oriented()) {
            if (!s.queue.empty()) out.events |= fd::events::in | fd::events::rdnorm;
            if (s.datagram_connected) out.peer = s.datagram_peer.lock();
        } else if (s.phase == Phase::listening) {
            out.events = s.backlog.empty() ? fd::Events{0} : (fd::events::in | fd::events::rdnorm);
        } else if (s.phase != Phase::connected) {
            out.events |= fd::events::hup | fd::events::out | fd::events::wrnorm;  // Linux: TCP_CLOSE
        }
        return out;
    });
    if (snap.phase == Phase::connected && snap.connection) return snap.connection->poll(snap.side);
    if (connection_oriented()) return snap.events;
    // Datagram: writable unless the connected peer's queue is full (then ask it to wake us).
    bool writable = true;
    if (snap.peer && snap.peer.get() != this) {
        std::vector<std::weak_ptr<UnixSocket>> overflow;
        writable = snap.peer->m_state.with_lock([&](State& r) {
            const bool mutual = detail::same_owner(r.datagram_peer, this->weak_from_this());
            const bool full = (!r.queue.empty() && r.queue_charge + message_overhead > r.receive_buffer) ||
                              (!mutual && r.queue.size() >= m_ns->limits().max_datagram_queue);
            if (full) overflow = add_space_waiter(r, this->weak_from_this());
            return !full;
        });
        wake_space_waiters(std::move(overflow));
    }
    if (writable) snap.events |= fd::events::out | fd::events::wrnorm;
    return snap.events;
}

template <typename P>
auto UnixSocket<P>::add_space_waiter(State& s, std::weak_ptr<UnixSocket> waiter) -> std::vector<std::weak_ptr<UnixSocket>> {
    for (const auto& w : s.space_waiters) {
        if (detail::same_owner(w, waiter)) return {};
    }
    std::vector<std::weak_ptr<UnixSocket>> overflow;
    if (s.space_waiters.size() >= max_space_waiters) {
        std::erase_if(s.space_waiters, [](const auto& w) { return w.expired(); });
        if (s.space_waiters.size() >= max_space_waiters) {
            overflow = std::move(s.space_waiters);  // wake them all (spuriously): nobody is lost
            s.space_waiters.clear();
        }
    }
    s.space_waiters.push_back(std::move(waiter));
    return overflow;
}

template <typename P>
void UnixSocket<P>::wake_space_waiters(std::vector<std::weak_ptr<UnixSocket>> waiters) {
    for (const auto& w : waiters) {
        if (auto socket = w.lock()) socket->m_pollee.notify(fd::events::out | fd::events::wrnorm);
    }
}

template <typename P>
PeerCredentials UnixSocket<P>::peer_credentials() {
    return m_state.with_lock([](const State& s) { return s.peer_credentials.value_or(no_peer_credentials); });
}

template <typename P>
std::optional<Errno> UnixSocket<P>::take_error() {
    auto connection = m_state.with_lock([](const State& s) { return std::pair{s.connection, s.side}; });
    if (connection.first) return connection.first->take_error(connection.second);
    return std::nullopt;
}

template <typename P>
std::size_t UnixSocket<P>::send_buffer() {
    return m_state.with_lock([](const State& s) { return s.send_buffer; });
}

template <typename P>
void UnixSocket<P>::set_send_buffer(std::size_t requested) {
    const std::size_t value = detail::clamp_buffer(requested, min_socket_buffer, m_ns->limits().max_buffer);
    auto connection = m_state.with_lock([&](State& s) {
        s.send_buffer = value;
        return std::pair{s.connection, s.side};
    });
    if (connection.first) connection.first->set_send_limit(connection.second, value);
    m_pollee.notify(fd::events::out | fd::events::wrnorm);
}

template <typename P>
std::size_t UnixSocket<P>::receive_buffer() {
    return m_state.with_lock([](const State& s) { return s.receive_buffer; });
}

template <typename P>
void UnixSocket<P>::set_receive_buffer(std::size_t requested) {
    const std::size_t value = detail::clamp_buffer(requested, min_socket_buffer / 2, m_ns->limits().max_buffer);
    std::vector<std::weak_ptr<UnixSocket>> waiters;
    m_state.with_lock([&](State& s) {
        s.receive_buffer = value;
        waiters = std::move(s.space_waiters);
        s.space_waiters.clear();
    });
    wake_space_waiters(std::move(waiters));
}

template <typename P>
bool UnixSocket<P>::pass_credentials() {
    return m_state.with_lock([](const State& s) { return s.pass_credentials; });
}

template <typename P>
void UnixSocket<P>::set_pass_credentials(bool on) {
    m_state.with_lock([&](State& s) { s.pass_credentials = on; });
}

template <typename P>
bool UnixSocket<P>::listening() {
    return m_state.with_lock([](const State& s) { return s.phase == Phase::listening; });
}

template <typename P>
Result<std::size_t> UnixSocket<P>::bytes_readable() {
    auto snapshot = m_state.with_lock([&](const State& s) -> Result<std::pair<std::shared_ptr<detail::Connection<P>>, std::size_t>> {
        if (s.phase == Phase::listening) return Errno::inval;
        if (!connection_oriented()) return std::pair{nullptr, s.queue.empty() ? std::size_t{0} : s.queue.front().bytes.size()};
        return std::pair{s.connection, static_cast<std::size_t>(s.side)};
    });
    if (!snapshot.has_value()) return snapshot.error();
    if (!connection_oriented()) return snapshot->second;
    if (!snapshot->first) return std::size_t{0};
    return snapshot->first->queued(static_cast<int>(snapshot->second));
}

template <typename P>
std::size_t UnixSocket<P>::bytes_unsent() {
    auto connection = m_state.with_lock([](const State& s) { return std::pair{s.connection, s.side}; });
    return connection.first ? connection.first->unsent(connection.second) : 0;
}

// ---- factories ---------------------------------------------------------------------------------

namespace detail {
inline Result<SocketType> decode_socket_type(std::uint32_t type_and_flags, int protocol) {
    if ((type_and_flags & ~(socket_flags::type_mask | socket_flags::nonblock | socket_flags::close_on_exec)) != 0)
        return Errno::inval;
    const auto type = static_cast<SocketType>(type_and_flags & socket_flags::type_mask);
    if (type != SocketType::stream && type != SocketType::datagram && type != SocketType::seqpacket)
        return Errno::socktnosupport;
    if (protocol != 0) return Errno::protonosupport;
    return type;
}
}  // namespace detail

template <typename P>
Result<std::shared_ptr<fd::OpenFile<P>>> make_unix_socket(std::shared_ptr<UnixNamespace<P>> ns, std::uint32_t type_and_flags,
                                                         int protocol, const PeerCredentials& owner) {
    LITEBOX_TRY_ASSIGN(const SocketType type, detail::decode_socket_type(type_and_flags, protocol));
    LITEBOX_TRY_ASSIGN(auto socket, UnixSocket<P>::create(std::move(ns), type, type_and_flags, owner));
    return std::shared_ptr<fd::OpenFile<P>>(std::move(socket));
}

template <typename P>
Result<std::pair<std::shared_ptr<fd::OpenFile<P>>, std::shared_ptr<fd::OpenFile<P>>>> make_unix_socketpair(
    std::shared_ptr<UnixNamespace<P>> ns, std::uint32_t type_and_flags, int protocol, const PeerCredentials& owner) {
    LITEBOX_TRY_ASSIGN(const SocketType type, detail::decode_socket_type(type_and_flags, protocol));
    LITEBOX_TRY_ASSIGN(auto pair, UnixSocket<P>::create_pair(std::move(ns), type, type_and_flags, owner));
    return std::pair{std::shared_ptr<fd::OpenFile<P>>(std::move(pair.first)), std::shared_ptr<fd::OpenFile<P>>(std::move(pair.second))};
}

}  // namespace litebox::ipc
