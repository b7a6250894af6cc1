// Engine, socket layer: the port table (bind rules, SO_REUSEADDR, SO_REUSEPORT, ephemeral ports)
// and the BSD-socket operations on TCP and UDP sockets with Linux's errnos.
//
// SO_REUSEPORT: sockets of one owner (uid) that all set it before bind may bind the same address
// and port, and several such TCP sockets may listen. There is no load balancing: a new connection
// goes to the first of the group's listeners (bound first) for that address, a datagram to the
// first bound of the equally specific UDP sockets; when that socket closes, the next one takes
// over.
#pragma once

#include "engine.hpp"

namespace litebox::net::detail {

// ---- port table ---------------------------------------------------------------------------------

inline bool Engine::port_conflict(const SocketCommon& s, Endpoint ep, bool for_listen) const {
    const auto& table = s.type == SocketType::stream ? m_tcp_ports : m_udp_ports;
    const auto it = table.find(ep.port);
    if (it == table.end()) return false;
    for (const SocketCommon* e : it->second) {
        if (e == &s) continue;
        const bool overlap = e->local.address.is_any() || ep.address.is_any() || e->local.address == ep.address;
        if (!overlap) continue;
        // SO_REUSEPORT: sockets of one user that all set it share the address (listeners too).
        if (s.reuse_port && e->reuse_port && s.owner_uid == e->owner_uid) continue;
        if (s.type == SocketType::datagram) {
            if (s.reuse_address && e->reuse_address) continue;
            return true;
        }
        const auto& other = static_cast<const Tcb&>(*e);
        if (for_listen) {
            if (other.state == TcpState::listen) return true;
            continue;
        }
        if (s.reuse_address && (other.state == TcpState::time_wait || (e->reuse_address && other.state != TcpState::listen)))
            continue;
        return true;
    }
    return false;
}

inline Result<std::uint16_t> Engine::pick_ephemeral(SocketCommon& s, Ipv4Address address) {
    const auto& l = m_config.limits;
    if (l.ephemeral_last < l.ephemeral_first || l.ephemeral_first == 0) return Errno::addrnotavail;
    const std::uint32_t count = std::uint32_t{l.ephemeral_last} - l.ephemeral_first + 1;
    if (m_next_ephemeral == 0) m_next_ephemeral = static_cast<std::uint16_t>(m_seed % count);
    auto& table = ports(s.type);
    for (std::uint32_t i = 0; i < count; ++i) {
        const auto port = static_cast<std::uint16_t>(l.ephemeral_first + (m_next_ephemeral + i) % count);
        const auto it = table.find(port);
        if (it != table.end() && !it->second.empty()) continue;
        if (port_conflict(s, Endpoint{address, port}, false)) continue;
        m_next_ephemeral = static_cast<std::uint16_t>((m_next_ephemeral + i + 1) % count);
        return port;
    }
    return Errno::addrnotavail;
}

inline Result<void> Engine::register_port(SocketCommon& s, Endpoint ep) {
    if (ep.port == 0) {
        LITEBOX_TRY_ASSIGN(ep.port, pick_ephemeral(s, ep.address));
    } else if (port_conflict(s, ep, false)) {
        return Errno::addrinuse;
    }
    ports(s.type)[ep.port].push_back(&s);
    s.local = ep;
    s.bound = true;
    return ok();
}

inline void Engine::unregister_port(SocketCommon& s) {
    if (!s.bound) return;
    auto& table = ports(s.type);
    const auto it = table.find(s.local.port);
    if (it != table.end()) {
        std::erase(it->second, &s);
        if (it->second.empty()) table.erase(it);
    }
    s.bound = false;
}

inline void Engine::maybe_release(SocketCommon& s) {
    if (s.bound && (s.orphan || !s.has_handle)) unregister_port(s);
}

inline Tcb* Engine::find_listener(Ipv4Address address, std::uint16_t port) {
    const auto it = m_tcp_ports.find(port);
    if (it == m_tcp_ports.end()) return nullptr;
    Tcb* wildcard = nullptr;
    for (SocketCommon* s : it->second) {
        auto* t = static_cast<Tcb*>(s);
        if (t->state != TcpState::listen) continue;
        if (t->local.address == address) return t;
        if (t->local.address.is_any() && wildcard == nullptr) wildcard = t;  // SO_REUSEPORT: the first listener
    }
    return wildcard;
}

inline UdpSocket* Engine::find_udp(Ipv4Address destination, std::uint16_t port, Endpoint from) {
    const auto it = m_udp_ports.find(port);
    if (it == m_udp_ports.end()) return nullptr;
    UdpSocket* best = nullptr;
    int best_score = -1;
    for (SocketCommon* s : it->second) {
        auto* u = static_cast<UdpSocket*>(s);
        int score = 0;
        if (!u->local.address.is_any()) {
            if (u->local.address != destination) continue;
            score += 1;
        }
        if (u->connected) {
            if (u->remote != from) continue;
            score += 2;
        }
        if (score > best_score) {
            best = u;
            best_score = score;
        }
    }
    return best;
}

// ---- creation and binding -----------------------------------------------------------------------

inline Result<std::shared_ptr<Tcb>> Engine::tcp_create() {
    if (m_sockets >= m_config.limits.max_sockets) return Errno::nfile;
    auto t = std::make_shared<Tcb>();
    t->send_limit = m_config.limits.default_send_buffer;
    t->receive_limit = m_config.limits.default_receive_buffer;
    t->send_buffer.set_limit(t->send_limit);
    t->receive_buffer.set_limit(t->receive_limit);
    t->rto = ns(m_config.tcp.rto_initial);
    ++m_sockets;
    return t;
}

inline Result<std::shared_ptr<UdpSocket>> Engine::udp_create() {
    if (m_sockets >= m_config.limits.max_sockets) return Errno::nfile;
    auto u = std::make_shared<UdpSocket>();
    u->send_limit = m_config.limits.default_send_buffer;
    u->receive_limit = m_config.limits.default_receive_buffer;
    ++m_sockets;
    return u;
}

inline Result<void> Engine::bind(SocketCommon& s, Endpoint ep) {
    if (s.bound) return Errno::inval;
    if (s.type == SocketType::stream && static_cast<Tcb&>(s).state != TcpState::closed) return Errno::inval;
    if (!ep.address.is_any() && !is_local_address(ep.address) &&
        !(s.type == SocketType::datagram && ep.address.is_broadcast()))
        return Errno::addrnotavail;
    return register_port(s, ep);
}

// ---- TCP ------------------------------------------------------------------------------------------

inline Result<void> Engine::tcp_listen(Tcb& t, int backlog) {
    const std::size_t max = m_config.limits.max_listen_backlog;
    const std::size_t clamped = backlog < 0 || static_cast<std::size_t>(backlog) > max ? max : static_cast<std::size_t>(backlog);
    if (t.state == TcpState::listen) {
        t.backlog = clamped;
        return ok();
    }
    if (t.state != TcpState::closed || t.was_connected) return Errno::inval;
    if (!t.bound) LITEBOX_TRY(register_port(t, Endpoint{Ipv4Address::any(), 0}));
    if (port_conflict(t, t.local, true)) return Errno::addrinuse;
    t.backlog = clamped;
    t.state = TcpState::listen;
    return ok();
}

inline Result<std::shared_ptr<Tcb>> Engine::tcp_accept(Tcb& listener) {
    if (listener.state != TcpState::listen) return Errno::inval;
    if (listener.accept_queue.empty()) return Errno::again;
    if (m_sockets >= m_config.limits.max_sockets) return Errno::nfile;
    std::shared_ptr<Tcb> child = std::move(listener.accept_queue.front());
    listener.accept_queue.pop_front();
    child->parent = nullptr;
    child->has_handle = true;
    ++m_sockets;
    return child;
}

inline Result<void> Engine::tcp_connect(Tcb& t, Endpoint remote, Time now) {
    switch (t.state) {
        case TcpState::listen:
            return Errno::isconn;
        case TcpState::syn_sent:
        case TcpState::syn_received:
            return Errno::already;
        case TcpState::closed:
            if (t.was_connected) return Errno::isconn;
            break;
        default:
            return Errno::isconn;
    }
    if (remote.address.is_any()) remote.address = Ipv4Address::loopback();
    if (remote.address.is_broadcast() || remote.address.is_multicast()) return Errno::netunreach;
    LITEBOX_TRY_ASSIGN(const Route r, route(remote.address));
    if (m_connections.size() >= m_config.limits.max_connections) return Errno::nobufs;
    t.error.reset();
    const bool was_bound = t.bound;
    if (!t.bound) {
        LITEBOX_TRY(register_port(t, Endpoint{r.source, 0}));
    } else if (t.local.address.is_any()) {
        t.local.address = r.source;
    }
    t.remote = remote;
    if (m_connections.contains(key_of(t))) {
        if (!was_bound) unregister_port(t);
        return Errno::addrnotavail;
    }
    t.loopback = r.loopback;
    t.mtu = r.mtu;
    t.rcv_mss = static_cast<std::uint32_t>(r.mtu - ipv4_header_size - tcp_header_size);
    t.mss = std::min<std::uint32_t>(536, t.rcv_mss);
    std::uint8_t shift = 0;
    while (shift < tcp_max_window_scale && (std::size_t{65535} << shift) < m_config.limits.max_socket_buffer) ++shift;
    t.rcv_wscale = shift;
    t.snd_wscale = 0;
    t.iss = isn(key_of(t), now);
    t.snd_una = t.snd_nxt = t.snd_max = t.iss;
    t.snd_buf_seq = t.iss + 1;
    t.rto = ns(m_config.tcp.rto_initial);
    t.backoff = 0;
    t.retries = 0;
    t.cwnd = m_config.tcp.initial_window_segments * t.mss;
    t.state = TcpState::syn_sent;
    t.in_table = true;
    t.shut_read = t.shut_write = false;
    m_connections.emplace(key_of(t), std::static_pointer_cast<Tcb>(t.weak_from_this().lock()));
    tcp_output(t, now);
    return Errno::inprogress;
}

inline Result<void> Engine::tcp_connect_status(Tcb& t) {
    switch (t.state) {
        case TcpState::syn_sent:
        case TcpState::syn_received:
            return Errno::again;
        case TcpState::listen:
            return Errno::inval;
        default:
            break;
    }
    if (!t.was_connected) {
        if (auto e = t.take_error()) return *e;
        return Errno::connrefused;
    }
    t.connect_reported = true;
    return ok();
}

inline Result<std::size_t> Engine::tcp_send(Tcb& t, std::span<const std::byte> data, Time now) {
    if (auto e = t.take_error()) return *e;
    if (t.state == TcpState::syn_sent || t.state == TcpState::syn_received) return Errno::again;
    if (t.shut_write || t.fin_queued || (t.state != TcpState::established && t.state != TcpState::close_wait))
        return Errno::pipe;
    if (data.empty()) return std::size_t{0};
    const std::size_t n = t.send_buffer.push(data);
    if (n == 0) return Errno::again;
    tcp_output(t, now);
    return n;
}

inline Result<std::size_t> Engine::tcp_receive(Tcb& t, std::span<std::byte> out, bool peek, Time now) {
    if (t.state == TcpState::listen) return Errno::notconn;
    if (!t.receive_buffer.empty()) {
        const std::size_t n = std::min(out.size(), t.receive_buffer.size());
        t.receive_buffer.copy_out(0, out.first(n));
        if (!peek) {
            const std::size_t old_free = std::max<std::size_t>(t.receive_window(), 0);
            t.receive_buffer.pop(n);
            tcp_window_update_if_needed(t, old_free, now);
        }
        return n;
    }
    if (auto e = t.take_error()) return *e;
    if (t.fin_received || t.shut_read) return std::size_t{0};
    if (t.state == TcpState::closed) {
        if (t.was_connected) return std::size_t{0};
        return Errno::notconn;
    }
    if (out.empty()) return std::size_t{0};
    return Errno::again;
}

inline Result<void> Engine::tcp_shutdown(Tcb& t, ShutdownHow how, Time now) {
    const bool read = how == ShutdownHow::read || how == ShutdownHow::both;
    const bool write = how == ShutdownHow::write || how == ShutdownHow::both;
    switch (t.state) {
        case TcpState::listen:
            if (read) {
                tcp_abort_children(t, now);
                t.state = TcpState::closed;
                t.notify(fd::events::in | fd::events::hup);
            }
            return ok();
        case TcpState::closed:
            return Errno::notconn;
        case TcpState::syn_sent:
            tcp_drop(t, std::nullopt);
            return ok();
        default:
            break;
    }
    if (read) {
        t.shut_read = true;
        t.notify(fd::events::in | fd::events::rdhup);
    }
    if (write && !t.fin_queued) {
        t.shut_write = true;
        t.fin_queued = true;
        if (t.state == TcpState::established || t.state == TcpState::syn_received) t.state = TcpState::fin_wait_1;
        else if (t.state == TcpState::close_wait) t.state = TcpState::last_ack;
        tcp_output(t, now);
        t.notify(fd::events::out | fd::events::hup);
    }
    return ok();
}

inline void Engine::tcp_abort_children(Tcb& listener, Time now) {
    std::vector<std::shared_ptr<Tcb>> children(listener.accept_queue.begin(), listener.accept_queue.end());
    listener.accept_queue.clear();
    for (auto& [key, c] : m_connections)
        if (c->parent == &listener) children.push_back(c);
    for (auto& c : children) {
        c->parent = nullptr;
        c->has_handle = false;
        c->orphan = true;
        tcp_send_reset(*c, now);
        tcp_drop(*c, std::nullopt);
        maybe_release(*c);
    }
    listener.half_open = 0;
}

inline void Engine::tcp_close(Tcb& t, Time now) {
    if (t.has_handle && m_sockets > 0) --m_sockets;
    t.has_handle = false;
    t.orphan = true;
    t.sink.reset();
    switch (t.state) {
        case TcpState::listen:
            tcp_abort_children(t, now);
            t.state = TcpState::closed;
            maybe_release(t);
            return;
        case TcpState::closed:
            maybe_release(t);
            return;
        case TcpState::syn_sent:
            tcp_drop(t, std::nullopt);
            return;
        default:
            break;
    }
    const bool abortive = (t.linger && t.linger_seconds == 0) || !t.receive_buffer.empty();
    if (abortive && t.state != TcpState::time_wait) {
        // SO_LINGER 0, or unread data (RFC 2525 2.17, as Linux): reset instead of FIN.
        tcp_send_reset(t, now);
        tcp_drop(t, std::nullopt);
        return;
    }
    t.shut_read = true;
    switch (t.state) {
        case TcpState::syn_received:
        case TcpState::established:
            t.shut_write = true;
            t.fin_queued = true;
            t.state = TcpState::fin_wait_1;
            tcp_output(t, now);
            break;
        case TcpState::close_wait:
            t.shut_write = true;
            t.fin_queued = true;
            t.state = TcpState::last_ack;
            tcp_output(t, now);
            break;
        case TcpState::fin_wait_2:
            t.close_at = add_time(now, ns(m_config.tcp.fin_wait_2_timeout));
            break;
        default:
            break;
    }
}

inline fd::Events Engine::tcp_poll(const Tcb& t) const {
    using namespace fd::events;
    if (t.state == TcpState::listen) return t.accept_queue.empty() ? 0 : (in | rdnorm);
    fd::Events ev = 0;
    const bool connecting = t.state == TcpState::syn_sent || t.state == TcpState::syn_received;
    if ((t.shut_read && t.shut_write) || t.state == TcpState::closed) ev |= hup;
    if (t.shut_read || t.fin_received) ev |= in | rdnorm | rdhup;
    if (!connecting) {
        if (!t.receive_buffer.empty()) ev |= in | rdnorm;
        if (t.shut_write || t.state == TcpState::closed) {
            ev |= out | wrnorm;
        } else {
            // Writable when at least a third of the buffer is free (Linux wakes writers at
            // half of what is queued; this is the same idea with a fixed low-water mark).
            const std::size_t free = t.send_buffer.free();
            if (free > 0 && free >= t.send_buffer.limit() / 3) ev |= out | wrnorm;
        }
    }
    if (t.error) ev |= err;
    return ev;
}

inline void Engine::tcp_set_buffer_limits(Tcb& t, std::optional<std::size_t> send, std::optional<std::size_t> receive,
                                          Time now) {
    if (send) {
        t.send_limit = *send;
        t.send_buffer.set_limit(*send);
        t.notify(fd::events::out);
    }
    if (receive) {
        const std::size_t old_free = t.receive_window();
        t.receive_limit = *receive;
        t.receive_buffer.set_limit(*receive);
        tcp_window_update_if_needed(t, old_free, now);
    }
}

inline void Engine::tcp_options_changed(Tcb& t, Time now) {
    if (t.keepalive && (t.state == TcpState::established || t.state == TcpState::close_wait)) {
        const std::uint64_t idle =
            t.keepalive_idle_s ? std::uint64_t{*t.keepalive_idle_s} * 1'000'000'000ull : ns(m_config.tcp.keepalive_idle);
        t.keepalive_at = add_time(now, idle);
    }
    if (!t.keepalive) t.keepalive_at = never;
    if (t.nodelay && t.synchronized()) tcp_output(t, now);
}

// ---- UDP ------------------------------------------------------------------------------------------

inline Result<void> Engine::udp_connect(UdpSocket& u, std::optional<Endpoint> remote) {
    if (!remote) {  // AF_UNSPEC: dissolve the association
        u.connected = false;
        u.remote = Endpoint{};
        return ok();
    }
    if (remote->address.is_any()) remote->address = Ipv4Address::loopback();
    if (remote->port == 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const Route r, route(remote->address));
    if (remote->address.is_broadcast() && !u.broadcast) return Errno::acces;
    if (!u.bound) LITEBOX_TRY(register_port(u, Endpoint{r.source, 0}));
    u.remote = *remote;
    u.connected = true;
    u.error.reset();
    return ok();
}

inline Result<std::size_t> Engine::udp_send(UdpSocket& u, std::span<const std::byte> data, std::optional<Endpoint> to) {
    if (auto e = u.take_error()) return *e;
    if (u.shut_write) return Errno::pipe;
    Endpoint destination;
    if (to) destination = *to;
    else if (u.connected) destination = u.remote;
    else return Errno::destaddrreq;
    if (destination.address.is_any()) destination.address = Ipv4Address::loopback();
    if (destination.port == 0) return Errno::inval;
    constexpr std::size_t max_payload = ipv4_max_packet - ipv4_header_size - udp_header_size;
    if (data.size() > max_payload) return Errno::msgsize;
    LITEBOX_TRY_ASSIGN(Route r, route(destination.address));
    if (destination.address.is_broadcast() && !u.broadcast) return Errno::acces;
    // This stack does not fragment: a datagram must fit the route's MTU.
    if (data.size() + ipv4_header_size + udp_header_size > r.mtu) return Errno::msgsize;
    if (!u.bound) LITEBOX_TRY(register_port(u, Endpoint{Ipv4Address::any(), 0}));
    if (!u.local.address.is_any() && !u.local.address.is_broadcast()) r.source = u.local.address;
    auto packet = take_buffer(udp_header_size + data.size());
    std::byte* udp = packet.data() + ipv4_header_size;
    if (!data.empty()) std::memcpy(udp + udp_header_size, data.data(), data.size());
    write_udp_header(udp, u.local.port, destination.port, r.source, destination.address, data.size());
    emit(std::move(packet), r, destination.address, ipproto::udp);
    return data.size();
}

inline Result<std::size_t> Engine::udp_receive(UdpSocket& u, std::span<std::byte> out, bool peek, Endpoint* from) {
    if (u.queue.empty()) {
        if (auto e = u.take_error()) return *e;
        if (u.shut_read) return std::size_t{0};
        return Errno::again;
    }
    Datagram& d = u.queue.front();
    const std::size_t n = std::min(out.size(), d.data.size());
    if (n > 0) std::memcpy(out.data(), d.data.data(), n);
    if (from != nullptr) *from = d.from;
    const std::size_t length = d.data.size();
    if (!peek) {
        u.queued_bytes -= length;
        u.queue.pop_front();
    }
    return length;
}

inline Result<void> Engine::udp_shutdown(UdpSocket& u, ShutdownHow how) {
    if (!u.connected) return Errno::notconn;
    if (how != ShutdownHow::write) u.shut_read = true;
    if (how != ShutdownHow::read) u.shut_write = true;
    u.notify(fd::events::in | fd::events::out | fd::events::hup);
    return ok();
}

inline void Engine::udp_close(UdpSocket& u) {
    if (u.has_handle && m_sockets > 0) --m_sockets;
    u.has_handle = false;
    u.orphan = true;
    u.sink.reset();
    u.queue.clear();
    u.queued_bytes = 0;
    maybe_release(u);
}

inline fd::Events Engine::udp_poll(const UdpSocket& u) const {
    using namespace fd::events;
    fd::Events ev = out | wrnorm;
    if (!u.queue.empty() || u.shut_read) ev |= in | rdnorm;
    if (u.shut_read && u.shut_write) ev |= hup;
    if (u.error) ev |= err;
    return ev;
}

}  // namespace litebox::net::detail
