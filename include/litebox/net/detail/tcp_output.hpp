// Engine, TCP output side: segment construction, the send loop (windows, Nagle, silly-window
// avoidance), retransmission, zero-window probes, keep-alive and the connection timers.
//
// ACK policy (documented choice): no delayed-ACK timer. Received data makes an ACK pending; it is
// sent at the end of the input batch (one Stack::poll(), or one loopback drain), at once after
// every second full-sized segment, and at once for out-of-order data (duplicate ACKs drive the
// peer's fast retransmit). Outgoing data segments carry the pending ACK.
#pragma once

#include "engine.hpp"

namespace litebox::net::detail {

inline std::uint64_t Engine::tcp_current_rto(const Tcb& t) const noexcept {
    const std::uint64_t max = ns(m_config.tcp.rto_max);
    std::uint64_t rto = t.rto;
    for (unsigned i = 0; i < t.backoff && rto < max; ++i) rto *= 2;
    return std::min(rto, max);
}

inline std::uint16_t Engine::tcp_window_field(Tcb& t, bool syn) {
    std::size_t window = t.receive_buffer.free();
    // Never shrink the window we already offered (RFC 9293 3.8.6.2.2).
    const std::uint32_t offered = t.receive_window();
    if (window < offered) window = offered;
    if (syn) {
        const auto field = static_cast<std::uint16_t>(std::min<std::size_t>(window, 65535));
        t.rcv_adv = t.rcv_nxt + field;
        return field;
    }
    std::size_t field = window >> t.rcv_wscale;
    if (field > 65535) field = 65535;
    const Seq edge = t.rcv_nxt + static_cast<Seq>(field << t.rcv_wscale);
    if (seq_gt(edge, t.rcv_adv)) t.rcv_adv = edge;
    return static_cast<std::uint16_t>(field);
}

inline void Engine::tcp_transmit(Tcb& t, Seq seq, std::uint8_t flags, std::size_t length, Time now) {
    const bool syn = (flags & tcp_flags::syn) != 0;
    TcpHeaderFields f;
    f.source_port = t.local.port;
    f.destination_port = t.remote.port;
    f.sequence = seq;
    f.flags = flags;
    if ((flags & tcp_flags::ack) != 0) f.acknowledgment = t.rcv_nxt;
    if ((flags & tcp_flags::rst) == 0) f.window = tcp_window_field(t, syn);
    if (syn) {
        f.mss = static_cast<std::uint16_t>(std::min<std::uint32_t>(t.rcv_mss, 65535));
        // Offer window scaling in a SYN; answer it in a SYN-ACK only if the peer offered it.
        if (t.state == TcpState::syn_sent || t.snd_wscale != 0 || t.rcv_wscale != 0) f.window_scale = t.rcv_wscale;
    }
    const std::size_t header = tcp_header_length(f);
    auto r = route(t.remote.address);
    if (!r) return;
    r->source = t.local.address;
    auto packet = take_buffer(header + length);
    std::byte* tcp = packet.data() + ipv4_header_size;
    if (length > 0) {
        const std::size_t offset = seq - t.snd_buf_seq;
        t.send_buffer.copy_out(offset, std::span<std::byte>(tcp + header, length));
    }
    write_tcp_header(tcp, f, t.local.address, t.remote.address, length);
    if ((flags & tcp_flags::ack) != 0) {
        t.ack_pending = false;
        t.unacked_bytes = 0;
    }
    if ((flags & tcp_flags::rst) != 0) ++m_stats.tcp_resets_sent;
    (void)now;
    emit(std::move(packet), *r, t.remote.address, ipproto::tcp);
}

inline void Engine::tcp_output(Tcb& t, Time now) {
    switch (t.state) {
        case TcpState::closed:
        case TcpState::listen:
            t.ack_pending = false;
            return;
        case TcpState::time_wait:
            if (t.ack_pending) tcp_send_ack(t, now);
            return;
        case TcpState::syn_sent:
        case TcpState::syn_received:
            if (t.snd_nxt == t.iss) {
                const std::uint8_t flags =
                    t.state == TcpState::syn_sent ? tcp_flags::syn : static_cast<std::uint8_t>(tcp_flags::syn | tcp_flags::ack);
                if (t.retries == 0 && !t.rtt_timing) {
                    t.rtt_timing = true;
                    t.rtt_seq = t.iss + 1;
                    t.rtt_start = now;
                }
                tcp_transmit(t, t.iss, flags, 0, now);
                t.snd_nxt = t.iss + 1;
                t.snd_max = seq_max(t.snd_max, t.snd_nxt);
                if (t.rexmt_at == never) t.rexmt_at = add_time(now, tcp_current_rto(t));
            } else if (t.ack_pending && t.state == TcpState::syn_received) {
                tcp_send_ack(t, now);
            }
            t.ack_pending = false;
            return;
        default:
            break;
    }
    bool sent = false;
    for (;;) {
        const std::size_t buffered = t.send_buffer.size();
        const std::uint32_t offset = t.snd_nxt - t.snd_buf_seq;
        if (offset > buffered) break;  // the FIN is already out
        const std::size_t available = buffered - offset;
        const std::uint32_t flight = t.flight();
        const std::uint32_t window = std::min(t.snd_wnd, t.cwnd);
        const std::size_t usable = window > flight ? window - flight : 0;
        std::size_t length = std::min<std::size_t>({available, usable, t.mss});
        bool fin = t.fin_queued && offset + length == buffered &&
                   (t.state == TcpState::fin_wait_1 || t.state == TcpState::closing || t.state == TcpState::last_ack);
        if (length > 0 && length < t.mss) {
            // Nagle (RFC 896) and sender silly-window avoidance (RFC 9293 3.8.6.2.1).
            const bool all = length == available;
            const bool allowed = (all && (t.nodelay || flight == 0 || fin)) ||
                                 (t.max_snd_wnd > 0 && length >= t.max_snd_wnd / 2);
            if (!allowed) {
                length = 0;
                fin = false;
            }
        }
        if (length == 0 && !fin) break;
        std::uint8_t flags = tcp_flags::ack;
        if (length > 0 && length == available) flags |= tcp_flags::psh;
        if (fin) flags |= tcp_flags::fin;
        const bool new_data = seq_ge(t.snd_nxt, t.snd_max);
        if (new_data && !t.rtt_timing) {
            t.rtt_timing = true;
            t.rtt_seq = t.snd_nxt + static_cast<Seq>(length) + (fin ? 1 : 0);
            t.rtt_start = now;
        }
        if (!new_data) ++m_stats.tcp_retransmits;
        tcp_transmit(t, t.snd_nxt, flags, length, now);
        t.snd_nxt += static_cast<Seq>(length) + (fin ? 1 : 0);
        t.snd_max = seq_max(t.snd_max, t.snd_nxt);
        if (t.rexmt_at == never) t.rexmt_at = add_time(now, tcp_current_rto(t));
        t.persist_at = never;
        sent = true;
        if (fin) break;
    }
    // Zero window with data waiting and nothing in flight: probe it (RFC 9293 3.8.6.1).
    const std::uint32_t offset = t.snd_nxt - t.snd_buf_seq;
    const bool waiting = offset < t.send_buffer.size();  // a FIN alone is sent regardless of the window
    if (waiting && t.snd_wnd == 0 && t.snd_nxt == t.snd_una && t.rexmt_at == never && t.persist_at == never) {
        t.persist_at = add_time(now, std::max(tcp_current_rto(t), ns(m_config.tcp.rto_min)));
        t.persist_backoff = 0;
    }
    if (!sent && t.ack_pending) tcp_send_ack(t, now);
}

inline void Engine::tcp_retransmit_first(Tcb& t, Time now) {
    if (!t.synchronized()) return;
    const std::size_t buffered = t.send_buffer.size();
    const std::uint32_t offset = t.snd_una - t.snd_buf_seq;
    if (offset > buffered) return;
    const std::size_t length = std::min<std::size_t>(buffered - offset, t.mss);
    const bool fin = t.fin_queued && offset + length == buffered && seq_gt(t.snd_max, t.fin_sequence());
    if (length == 0 && !fin) return;
    std::uint8_t flags = tcp_flags::ack;
    if (fin) flags |= tcp_flags::fin;
    ++m_stats.tcp_retransmits;
    t.rtt_timing = false;  // Karn: never time a retransmitted segment
    tcp_transmit(t, t.snd_una, flags, length, now);
    t.rexmt_at = add_time(now, tcp_current_rto(t));
}

inline void Engine::tcp_reset_reply(const Ipv4Packet& ip, const TcpSegment& seg) {
    if (seg.has(tcp_flags::rst)) return;
    auto r = route(ip.source);
    if (!r) return;
    r->source = ip.destination;
    TcpHeaderFields f;
    f.source_port = seg.destination_port;
    f.destination_port = seg.source_port;
    if (seg.has(tcp_flags::ack)) {
        f.sequence = seg.acknowledgment;
        f.flags = tcp_flags::rst;
    } else {
        f.sequence = 0;
        f.acknowledgment = seg.sequence + seg.sequence_length();
        f.flags = tcp_flags::rst | tcp_flags::ack;
    }
    auto packet = take_buffer(tcp_header_size);
    write_tcp_header(packet.data() + ipv4_header_size, f, ip.destination, ip.source, 0);
    ++m_stats.tcp_resets_sent;
    emit(std::move(packet), *r, ip.source, ipproto::tcp);
}

inline void Engine::tcp_send_reset(Tcb& t, Time now) {
    if (t.state == TcpState::closed || t.state == TcpState::listen || t.state == TcpState::syn_sent) return;
    tcp_transmit(t, t.snd_nxt, tcp_flags::rst | tcp_flags::ack, 0, now);
}

inline void Engine::tcp_window_update_if_needed(Tcb& t, std::size_t old_window, Time now) {
    if (!t.synchronized() || t.fin_received) return;
    const std::size_t now_free = t.receive_buffer.free();
    if (now_free <= old_window) return;
    const std::size_t growth = now_free - old_window;
    // Receiver silly-window avoidance: announce only a worthwhile increase (RFC 9293 3.8.6.2.2).
    const std::size_t threshold = std::min<std::size_t>(t.receive_buffer.limit() / 2, 2 * static_cast<std::size_t>(t.rcv_mss));
    if (growth >= threshold || (old_window < t.rcv_mss && now_free >= t.rcv_mss)) {
        t.ack_pending = true;
        tcp_output(t, now);
    }
}

inline void Engine::tcp_timers(Tcb& t, Time now) {
    const auto& tune = m_config.tcp;
    if (t.close_at <= now) {
        t.close_at = never;
        tcp_drop(t, std::nullopt);
        return;
    }
    if (t.rexmt_at <= now) {
        t.rexmt_at = never;
        ++m_stats.tcp_timeouts;
        const bool handshake = t.state == TcpState::syn_sent || t.state == TcpState::syn_received;
        const unsigned limit = handshake ? tune.syn_retries : tune.max_retransmits;
        if (t.retries >= limit) {
            tcp_drop(t, Errno::timedout);
            return;
        }
        ++t.retries;
        ++t.backoff;
        t.rtt_timing = false;  // Karn's algorithm
        if (handshake) {
            t.snd_nxt = t.iss;
            tcp_output(t, now);
        } else if (t.snd_una != t.snd_max) {
            // RFC 5681 (4): after a timeout, one segment; go back to snd_una.
            t.ssthresh = std::max(t.flight() / 2, 2 * t.mss);
            t.cwnd = t.mss;
            t.fast_recovery = false;
            t.dupacks = 0;
            t.recover = t.snd_max;
            t.snd_nxt = t.snd_una;
            ++m_stats.tcp_retransmits;
            tcp_output(t, now);
            if (t.rexmt_at == never) t.rexmt_at = add_time(now, tcp_current_rto(t));
        }
    }
    if (t.persist_at <= now) {
        t.persist_at = never;
        if (t.synchronized() && t.snd_wnd == 0) {
            // A window probe: an ACK with an old sequence number makes the peer answer with its
            // current window (as Linux probes).
            tcp_transmit(t, t.snd_una - 1, tcp_flags::ack, 0, now);
            ++t.persist_backoff;
            std::uint64_t interval = std::max(t.rto, ns(tune.rto_min));
            for (unsigned i = 0; i < t.persist_backoff && interval < ns(tune.rto_max); ++i) interval *= 2;
            t.persist_at = add_time(now, std::min(interval, ns(tune.rto_max)));
        } else {
            tcp_output(t, now);
        }
    }
    if (t.keepalive_at <= now) {
        t.keepalive_at = never;
        if (t.keepalive && (t.state == TcpState::established || t.state == TcpState::close_wait)) {
            const unsigned count = t.keepalive_count.value_or(tune.keepalive_probes);
            if (t.keepalive_sent >= count) {
                tcp_drop(t, Errno::timedout);
                return;
            }
            if (t.snd_una == t.snd_max) {
                tcp_transmit(t, t.snd_una - 1, tcp_flags::ack, 0, now);
                ++t.keepalive_sent;
            }
            const std::uint64_t interval =
                t.keepalive_interval_s ? std::uint64_t{*t.keepalive_interval_s} * 1'000'000'000ull : ns(tune.keepalive_interval);
            t.keepalive_at = add_time(now, interval);
        }
    }
}

}  // namespace litebox::net::detail
