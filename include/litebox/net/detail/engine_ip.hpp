// Engine, IP layer: interface configuration, routing, input demultiplexing, ICMP, UDP input,
// the loopback interface, timers and packet buffers.
#pragma once

#include "engine.hpp"

namespace litebox::net::detail {

inline Result<void> Engine::configure_interface(const std::optional<InterfaceConfig>& interface) {
    if (interface) {
        if (interface->prefix_length > 32 || interface->address.is_any() || interface->address.is_loopback() ||
            interface->address.is_multicast() || interface->mtu < 576 || interface->mtu > ipv4_max_packet)
            return Errno::inval;
        if (interface->gateway && !interface->gateway->same_subnet(interface->address, interface->prefix_length))
            return Errno::inval;
    }
    m_config.interface = interface;
    return ok();
}

inline bool Engine::is_local_address(Ipv4Address a) const noexcept {
    if (a.is_loopback()) return true;
    return m_config.interface && m_config.interface->address == a;
}

inline Result<Route> Engine::route(Ipv4Address destination) const {
    if (destination.is_loopback() || destination.is_any())
        return Route{true, Ipv4Address::loopback(), m_config.loopback_mtu};
    if (!m_config.interface) return Errno::netunreach;
    const auto& i = *m_config.interface;
    if (destination == i.address) return Route{true, i.address, m_config.loopback_mtu};
    if (destination.is_broadcast() || destination.same_subnet(i.address, i.prefix_length) || i.gateway)
        return Route{false, i.address, i.mtu};
    return Errno::netunreach;
}

inline std::vector<std::byte> Engine::take_buffer(std::size_t payload) {
    std::vector<std::byte> buffer;
    if (!m_spare_buffers.empty()) {
        buffer.swap(m_spare_buffers.back());
        m_spare_buffers.pop_back();
    }
    buffer.resize(ipv4_header_size + payload);
    return buffer;
}

inline void Engine::recycle(std::vector<std::byte>&& buffer) {
    constexpr std::size_t max_spare = 64;
    if (m_spare_buffers.size() < max_spare && buffer.capacity() != 0) m_spare_buffers.push_back(std::move(buffer));
}

inline void Engine::emit(std::vector<std::byte>&& packet, const Route& r, Ipv4Address destination, std::uint8_t protocol) {
    write_ipv4_header(packet.data(), r.source, destination, protocol, packet.size() - ipv4_header_size, m_ip_id++);
    auto& queue = r.loopback ? m_loopback : m_transmit;
    const std::size_t limit = r.loopback ? m_config.limits.max_loopback_queue : m_config.limits.max_transmit_queue;
    if (queue.size() >= limit) {
        ++m_stats.dropped_queue_full;
        recycle(std::move(packet));
        return;
    }
    ++m_stats.packets_sent;
    queue.push_back(std::move(packet));
}

inline void Engine::input(std::span<const std::byte> packet, Time now, bool from_loopback) {
    ++m_stats.packets_received;
    const auto ip = parse_ipv4(packet);
    if (!ip) {
        ++m_stats.dropped_malformed;
        return;
    }
    if (ip->fragment) {
        ++m_stats.dropped_fragments;
        return;
    }
    // Loopback addresses never arrive from outside (Linux drops such "martians" too).
    if (!from_loopback && (ip->source.is_loopback() || ip->destination.is_loopback())) {
        ++m_stats.dropped_martian;
        return;
    }
    const bool broadcast = ip->destination.is_broadcast() ||
                           (m_config.interface && m_config.interface->prefix_length < 31 &&
                            ip->destination.same_subnet(m_config.interface->address, m_config.interface->prefix_length) &&
                            (ip->destination.value() | (~std::uint32_t{0} << (32 - m_config.interface->prefix_length))) ==
                                ip->destination.value());
    if (!is_local_address(ip->destination) && !broadcast) {
        ++m_stats.dropped_not_for_us;
        return;
    }
    switch (ip->protocol) {
        case ipproto::tcp: {
            if (broadcast) return;
            const auto seg = parse_tcp(ip->payload, ip->source, ip->destination);
            if (!seg) {
                ++m_stats.dropped_malformed;
                return;
            }
            tcp_input(*ip, *seg, now, from_loopback);
            return;
        }
        case ipproto::udp:
            udp_input(*ip);
            return;
        case ipproto::icmp:
            icmp_input(*ip, from_loopback);
            return;
        default:
            if (!broadcast) icmp_send_error(*ip, icmp::destination_unreachable, icmp::protocol_unreachable);
            return;
    }
}

inline void Engine::icmp_send_error(const Ipv4Packet& offending, std::uint8_t type, std::uint8_t code) {
    // Never answer an ICMP error, a broadcast, or a non-unicast source (RFC 1122 3.2.2).
    if (offending.source.is_any() || offending.source.is_broadcast() || offending.source.is_multicast()) return;
    if (offending.protocol == ipproto::icmp && !offending.payload.empty()) {
        const auto t = std::to_integer<std::uint8_t>(offending.payload[0]);
        if (t != icmp::echo_request && t != icmp::echo_reply) return;
    }
    if (m_icmp_budget == 0) return;
    const auto r = route(offending.source);
    if (!r) return;
    --m_icmp_budget;
    const std::size_t quoted = std::min<std::size_t>(offending.header.size() + offending.payload.size(),
                                                     offending.header.size() + 8);
    auto packet = take_buffer(icmp_header_size + quoted);
    std::byte* body = packet.data() + ipv4_header_size + icmp_header_size;
    std::memcpy(body, offending.header.data(), offending.header.size());
    std::memcpy(body + offending.header.size(), offending.payload.data(), quoted - offending.header.size());
    write_icmp_header(packet.data() + ipv4_header_size, type, code, 0, quoted);
    ++m_stats.icmp_sent;
    emit(std::move(packet), *r, offending.source, ipproto::icmp);
}

inline void Engine::icmp_input(const Ipv4Packet& ip, bool /*from_loopback*/) {
    const auto m = parse_icmp(ip.payload);
    if (!m) {
        ++m_stats.dropped_malformed;
        return;
    }
    if (m->type == icmp::echo_request) {
        if (m_icmp_budget == 0 || ip.destination.is_broadcast()) return;
        const auto r = route(ip.source);
        if (!r) return;
        --m_icmp_budget;
        auto packet = take_buffer(icmp_header_size + m->body.size());
        std::memcpy(packet.data() + ipv4_header_size + icmp_header_size, m->body.data(), m->body.size());
        write_icmp_header(packet.data() + ipv4_header_size, icmp::echo_reply, 0, m->rest, m->body.size());
        Route reply = *r;
        reply.source = ip.destination;
        ++m_stats.icmp_sent;
        emit(std::move(packet), reply, ip.source, ipproto::icmp);
        return;
    }
    if (m->type != icmp::destination_unreachable) return;  // echo replies etc.: no ICMP sockets
    const auto q = parse_icmp_quote(m->body);
    if (!q || !is_local_address(q->source)) return;
    if (q->protocol == ipproto::tcp) {
        const auto it = m_connections.find(ConnectionKey{q->source.value(), q->destination.value(), q->source_port,
                                                         q->destination_port});
        if (it == m_connections.end()) return;
        Tcb& t = *it->second;
        // RFC 5927 4.1: the quoted sequence number must be in flight.
        if (!seq_in(q->tcp_sequence, t.snd_una, t.snd_max + 1)) return;
        if (m->code == icmp::fragmentation_needed) {
            const std::uint32_t mtu = m->rest & 0xffff;
            if (mtu >= 576 && mtu - 40 < t.mss) {
                t.mss = mtu - 40;
                t.cwnd = std::max(t.cwnd, t.mss);
            }
            return;
        }
        const bool hard = m->code == icmp::port_unreachable || m->code == icmp::protocol_unreachable;
        if (t.state == TcpState::syn_sent && hard) {
            tcp_drop(t, Errno::connrefused);
            return;
        }
        // Other errors are soft (RFC 1122 4.2.3.9): remembered in case the connection times out.
        return;
    }
    if (q->protocol == ipproto::udp && m->code == icmp::port_unreachable) {
        auto it = m_udp_ports.find(q->source_port);
        if (it == m_udp_ports.end()) return;
        for (SocketCommon* s : it->second) {
            auto* u = static_cast<UdpSocket*>(s);
            // As Linux: the error goes to a connected socket, and with IP_RECVERR to an unconnected
            // one too (glibc's resolver sets it to give up on a dead server at once). There is no
            // MSG_ERRQUEUE queue: the error is the socket's pending error only.
            const bool to_peer = u->connected && u->remote.address == q->destination && u->remote.port == q->destination_port;
            if (to_peer || (!u->connected && u->receive_errors)) {
                u->error = Errno::connrefused;
                u->notify(fd::events::err | fd::events::in | fd::events::out);
            }
        }
    }
}

inline void Engine::udp_input(const Ipv4Packet& ip) {
    const auto d = parse_udp(ip.payload, ip.source, ip.destination);
    if (!d) {
        ++m_stats.dropped_malformed;
        return;
    }
    UdpSocket* u = find_udp(ip.destination, d->destination_port, Endpoint{ip.source, d->source_port});
    if (u == nullptr) {
        ++m_stats.dropped_no_socket;
        if (!ip.destination.is_broadcast()) icmp_send_error(ip, icmp::destination_unreachable, icmp::port_unreachable);
        return;
    }
    if (u->shut_read || u->queue.size() >= m_config.limits.max_udp_datagrams ||
        u->queued_bytes + d->payload.size() > u->receive_limit) {
        ++m_stats.dropped_queue_full;
        return;
    }
    Datagram datagram;
    datagram.from = Endpoint{ip.source, d->source_port};
    datagram.data.assign(d->payload.begin(), d->payload.end());
    u->queued_bytes += datagram.data.size();
    u->queue.push_back(std::move(datagram));
    u->notify(fd::events::in | fd::events::rdnorm);
}

inline void Engine::process_loopback(Time now) {
    if (m_in_loopback) return;  // re-entered from an inner operation: the outer loop continues
    m_in_loopback = true;
    // Each round's ACKs may queue more loopback packets; the queue is bounded, and every round
    // makes progress, so this ends; a hard cap keeps one call bounded regardless.
    for (std::size_t rounds = 0; rounds < 64; ++rounds) {
        std::size_t budget = m_config.limits.max_loopback_queue;
        while (!m_loopback.empty() && budget-- > 0) {
            std::vector<std::byte> packet = std::move(m_loopback.front());
            m_loopback.pop_front();
            input(packet, now, true);
            recycle(std::move(packet));
        }
        flush_acks(now);
        if (m_loopback.empty()) break;
    }
    m_in_loopback = false;
}

inline void Engine::flush_acks(Time now) {
    // tcp_output may append to the list (not for these entries); take it first.
    std::vector<Tcb*> pending;
    pending.swap(m_ack_pending);
    for (Tcb* t : pending) {
        if (t->ack_pending) tcp_output(*t, now);
    }
    if (m_ack_pending.empty()) {
        pending.clear();
        m_ack_pending.swap(pending);  // keep the capacity
    }
}

inline void Engine::run_timers(Time now) {
    std::vector<std::shared_ptr<Tcb>> due;
    for (auto& [key, t] : m_connections) {
        if (t->rexmt_at <= now || t->persist_at <= now || t->keepalive_at <= now || t->close_at <= now) due.push_back(t);
    }
    for (auto& t : due) tcp_timers(*t, now);
}

inline Time Engine::next_deadline() const {
    Time next = never;
    if (!m_loopback.empty() || !m_ack_pending.empty()) return 0;
    for (const auto& [key, t] : m_connections)
        next = std::min({next, t->rexmt_at, t->persist_at, t->keepalive_at, t->close_at});
    return next;
}

inline std::uint32_t Engine::isn(const ConnectionKey& key, Time now) const noexcept {
    // RFC 6528: a keyed hash of the 4-tuple plus a 4-microsecond clock.
    std::uint64_t h = m_seed ^ 0x9e3779b97f4a7c15ull;
    auto mix = [&](std::uint64_t v) {
        h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
        h ^= h >> 31;
        h *= 0xbf58476d1ce4e5b9ull;
        h ^= h >> 27;
    };
    mix(key.local_address);
    mix(key.remote_address);
    mix((std::uint64_t{key.local_port} << 16) | key.remote_port);
    mix(m_seed >> 17);
    return static_cast<std::uint32_t>(h) + static_cast<std::uint32_t>(now / 4000);
}

inline void Engine::shutdown_all() {
    // The port tables hold plain pointers to sockets that the connection table may own: unbind
    // through them before dropping the connection table's references.
    for (auto* table : {&m_tcp_ports, &m_udp_ports})
        for (auto& [port, entries] : *table)
            for (SocketCommon* s : entries) s->bound = false;
    m_tcp_ports.clear();
    m_udp_ports.clear();
    for (auto& [key, t] : m_connections) {
        t->in_table = false;
        t->bound = false;
    }
    m_connections.clear();
}

}  // namespace litebox::net::detail
