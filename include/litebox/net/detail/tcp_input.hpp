// Engine, TCP input side (RFC 9293 3.10.7): demultiplexing, LISTEN and SYN-SENT processing, the
// sequence and RST/SYN/ACK checks with RFC 5961 challenge ACKs, ACK processing with RTT
// estimation (RFC 6298) and NewReno congestion control (RFC 5681/6582), in-order and bounded
// out-of-order data, FIN processing and the state transitions, including simultaneous open and
// close and TIME-WAIT.
#pragma once

#include "engine.hpp"

namespace litebox::net::detail {

inline void Engine::tcp_input(const Ipv4Packet& ip, const TcpSegment& seg, Time now, bool /*from_loopback*/) {
    const ConnectionKey key{ip.destination.value(), ip.source.value(), seg.destination_port, seg.source_port};
    const auto it = m_connections.find(key);
    if (it == m_connections.end()) {
        if (Tcb* listener = find_listener(ip.destination, seg.destination_port)) {
            tcp_listen_input(*listener, ip, seg, now);
            return;
        }
        ++m_stats.dropped_no_socket;
        tcp_reset_reply(ip, seg);
        return;
    }
    const std::shared_ptr<Tcb> keep = it->second;  // stays alive even if the segment removes it
    Tcb& t = *keep;
    if (t.keepalive && (t.state == TcpState::established || t.state == TcpState::close_wait)) {
        t.keepalive_sent = 0;
        const std::uint64_t idle =
            t.keepalive_idle_s ? std::uint64_t{*t.keepalive_idle_s} * 1'000'000'000ull : ns(m_config.tcp.keepalive_idle);
        t.keepalive_at = add_time(now, idle);
    }
    if (t.state == TcpState::syn_sent) {
        tcp_syn_sent_input(t, seg, now);
        return;
    }

    // A retransmitted SYN while we are SYN-RECEIVED: send the SYN-ACK again.
    if (t.state == TcpState::syn_received && seg.has(tcp_flags::syn) && !seg.has(tcp_flags::ack) &&
        seg.sequence == t.irs) {
        t.snd_nxt = t.iss;
        tcp_output(t, now);
        return;
    }

    // 1. Sequence number check.
    const std::uint32_t window = t.receive_window();
    const std::uint32_t length = seg.sequence_length();
    bool acceptable;
    if (length == 0)
        acceptable = window == 0 ? seg.sequence == t.rcv_nxt : seq_in(seg.sequence, t.rcv_nxt, t.rcv_nxt + window);
    else
        acceptable = window != 0 && (seq_in(seg.sequence, t.rcv_nxt, t.rcv_nxt + window) ||
                                     seq_in(seg.sequence + length - 1, t.rcv_nxt, t.rcv_nxt + window));
    std::span<const std::byte> payload = seg.payload;
    bool fin = seg.has(tcp_flags::fin);
    Seq seq = seg.sequence;
    if (!acceptable && window == 0 && seg.sequence == t.rcv_nxt) {
        // Zero window: the ACK, RST and window information still count; the data does not.
        acceptable = true;
        payload = {};
        fin = false;
    }
    if (!acceptable) {
        if (!seg.has(tcp_flags::rst)) {
            if (t.state == TcpState::time_wait && fin) t.close_at = add_time(now, ns(m_config.tcp.time_wait));
            tcp_send_ack(t, now);
        }
        return;
    }
    // Trim to the window: what precedes rcv_nxt was received already, what follows the window
    // does not fit.
    if (seg.has(tcp_flags::syn)) ++seq;  // the SYN itself is not data
    if (seq_lt(seq, t.rcv_nxt)) {
        const std::uint32_t skip = t.rcv_nxt - seq;
        if (skip >= payload.size()) {
            if (skip > payload.size()) fin = false;  // that FIN, too, was received already
            payload = payload.subspan(payload.size());
        } else {
            payload = payload.subspan(skip);
        }
        seq = t.rcv_nxt;
    }
    const Seq right = t.rcv_nxt + window;
    if (seq_gt(seq + static_cast<Seq>(payload.size()), right)) {
        payload = payload.first(seq_gt(right, seq) ? static_cast<std::size_t>(right - seq) : 0);
        fin = false;
    }

    // 2. RST (RFC 5961 3.2): only an exact match resets; any other in-window RST is challenged.
    if (seg.has(tcp_flags::rst)) {
        if (seg.sequence != t.rcv_nxt) {
            tcp_challenge_ack(t, now);
            return;
        }
        switch (t.state) {
            case TcpState::syn_received:
                if (t.parent != nullptr) {
                    tcp_drop(t, std::nullopt);  // a passive open goes back to LISTEN: forget it
                    return;
                }
                tcp_drop(t, Errno::connrefused);
                return;
            case TcpState::closing:
            case TcpState::last_ack:
            case TcpState::time_wait:
                tcp_drop(t, std::nullopt);
                return;
            default:
                tcp_drop(t, Errno::connreset);
                return;
        }
    }
    // 3. SYN in a synchronized state (RFC 5961 4.2): challenge ACK.
    if (seg.has(tcp_flags::syn)) {
        tcp_challenge_ack(t, now);
        return;
    }
    // 4. ACK.
    if (!seg.has(tcp_flags::ack)) return;
    if (t.state == TcpState::syn_received) {
        if (!(seq_lt(t.snd_una, seg.acknowledgment) && seq_le(seg.acknowledgment, t.snd_max))) {
            tcp_reset_reply(ip, seg);
            return;
        }
        if (t.parent != nullptr && t.parent->accept_queue.size() > t.parent->backlog) {
            ++m_stats.dropped_syn;  // accept queue full: ignore the ACK, the SYN-ACK is retransmitted
            return;
        }
        t.snd_wnd = static_cast<std::uint32_t>(seg.window) << t.snd_wscale;
        t.max_snd_wnd = std::max(t.max_snd_wnd, t.snd_wnd);
        t.snd_wl1 = seg.sequence;
        t.snd_wl2 = seg.acknowledgment;
        tcp_established(t, now);
    }
    if (!tcp_ack_input(t, seg, now)) return;
    if (t.fin_acked()) {
        switch (t.state) {
            case TcpState::fin_wait_1:
                t.state = TcpState::fin_wait_2;
                if (t.orphan) t.close_at = add_time(now, ns(m_config.tcp.fin_wait_2_timeout));
                t.notify(fd::events::out | fd::events::hup);
                break;
            case TcpState::closing:
                tcp_enter_time_wait(t, now);
                return;
            case TcpState::last_ack:
                tcp_drop(t, std::nullopt);
                return;
            default:
                break;
        }
    }
    if (t.state == TcpState::time_wait) {
        if (seg.has(tcp_flags::fin)) {  // the peer retransmitted its FIN: our ACK was lost
            t.close_at = add_time(now, ns(m_config.tcp.time_wait));
            tcp_send_ack(t, now);
        }
        return;
    }
    // 5. Data and 6. FIN.
    if (!payload.empty() || fin) tcp_data_input(t, seq, payload, fin, now);
}

inline void Engine::tcp_listen_input(Tcb& listener, const Ipv4Packet& ip, const TcpSegment& seg, Time now) {
    if (seg.has(tcp_flags::rst)) return;
    if (seg.has(tcp_flags::ack)) {
        tcp_reset_reply(ip, seg);
        return;
    }
    if (!seg.has(tcp_flags::syn)) return;
    const auto& limits = m_config.limits;
    if (listener.half_open >= limits.max_syn_backlog || listener.accept_queue.size() > listener.backlog ||
        m_connections.size() >= limits.max_connections || ip.source.is_broadcast() || ip.source.is_multicast()) {
        ++m_stats.dropped_syn;
        return;
    }
    const auto r = route(ip.source);
    if (!r) return;
    auto child = std::make_shared<Tcb>();
    Tcb& c = *child;
    c.local = Endpoint{ip.destination, seg.destination_port};
    c.remote = Endpoint{ip.source, seg.source_port};
    c.reuse_address = listener.reuse_address;
    c.nodelay = listener.nodelay;
    c.keepalive = listener.keepalive;
    c.keepalive_idle_s = listener.keepalive_idle_s;
    c.keepalive_interval_s = listener.keepalive_interval_s;
    c.keepalive_count = listener.keepalive_count;
    c.linger = listener.linger;
    c.linger_seconds = listener.linger_seconds;
    c.send_limit = listener.send_limit;
    c.receive_limit = listener.receive_limit;
    c.send_buffer.set_limit(c.send_limit);
    c.receive_buffer.set_limit(c.receive_limit);
    c.loopback = r->loopback;
    c.mtu = r->mtu;
    c.rcv_mss = static_cast<std::uint32_t>(r->mtu - ipv4_header_size - tcp_header_size);
    c.mss = std::min<std::uint32_t>(c.rcv_mss, seg.options.mss.value_or(536));
    if (c.mss < 64) c.mss = 64;
    if (seg.options.window_scale) {
        c.snd_wscale = *seg.options.window_scale;
        std::uint8_t shift = 0;
        while (shift < tcp_max_window_scale && (std::size_t{65535} << shift) < m_config.limits.max_socket_buffer) ++shift;
        c.rcv_wscale = shift;
    }
    c.irs = seg.sequence;
    c.rcv_nxt = seg.sequence + 1;
    c.rcv_adv = c.rcv_nxt;
    c.snd_wnd = seg.window;  // never scaled in a SYN
    c.max_snd_wnd = c.snd_wnd;
    c.snd_wl1 = seg.sequence;
    c.iss = isn(key_of(c), now);
    c.snd_una = c.snd_nxt = c.snd_max = c.iss;
    c.snd_buf_seq = c.iss + 1;
    c.rto = ns(m_config.tcp.rto_initial);
    c.cwnd = m_config.tcp.initial_window_segments * c.mss;
    c.state = TcpState::syn_received;
    c.parent = &listener;
    // A child shares its listener's port: it joins the table without the bind checks.
    ports(SocketType::stream)[c.local.port].push_back(&c);
    c.bound = true;
    c.has_handle = false;
    c.in_table = true;
    m_connections.emplace(key_of(c), child);
    ++listener.half_open;
    tcp_output(c, now);
}

inline void Engine::tcp_syn_sent_input(Tcb& t, const TcpSegment& seg, Time now) {
    const bool ack = seg.has(tcp_flags::ack);
    if (ack && (seq_le(seg.acknowledgment, t.iss) || seq_gt(seg.acknowledgment, t.snd_max))) {
        if (!seg.has(tcp_flags::rst)) {
            // RST for an unacceptable ACK (RFC 9293 3.10.7.3).
            tcp_transmit(t, seg.acknowledgment, tcp_flags::rst, 0, now);
        }
        return;
    }
    if (seg.has(tcp_flags::rst)) {
        if (ack) tcp_drop(t, Errno::connrefused);
        return;
    }
    if (!seg.has(tcp_flags::syn)) return;
    t.irs = seg.sequence;
    t.rcv_nxt = seg.sequence + 1;
    t.rcv_adv = t.rcv_nxt;
    t.mss = std::min<std::uint32_t>(t.rcv_mss, seg.options.mss.value_or(536));
    if (t.mss < 64) t.mss = 64;
    t.cwnd = m_config.tcp.initial_window_segments * t.mss;
    if (seg.options.window_scale) {
        t.snd_wscale = *seg.options.window_scale;
    } else {
        t.snd_wscale = 0;
        t.rcv_wscale = 0;  // the peer does not scale: neither do we (RFC 7323 1.3)
    }
    t.snd_wnd = seg.window;
    t.max_snd_wnd = t.snd_wnd;
    t.snd_wl1 = seg.sequence;
    t.snd_wl2 = seg.acknowledgment;
    if (ack) {
        if (t.rtt_timing && seq_ge(seg.acknowledgment, t.rtt_seq) && t.retries == 0) tcp_rtt_sample(t, now - t.rtt_start);
        t.rtt_timing = false;
        t.snd_una = seg.acknowledgment;
        t.rexmt_at = never;
        t.backoff = 0;
        t.retries = 0;
        tcp_established(t, now);
        t.ack_pending = true;
        tcp_output(t, now);
        return;
    }
    // Simultaneous open: SYN-RECEIVED, and our SYN goes out again as a SYN-ACK.
    t.state = TcpState::syn_received;
    t.snd_nxt = t.iss;
    t.rexmt_at = never;
    tcp_output(t, now);
}

inline void Engine::tcp_established(Tcb& t, Time now) {
    t.state = TcpState::established;
    t.was_connected = true;
    if (t.keepalive) {
        const std::uint64_t idle =
            t.keepalive_idle_s ? std::uint64_t{*t.keepalive_idle_s} * 1'000'000'000ull : ns(m_config.tcp.keepalive_idle);
        t.keepalive_at = add_time(now, idle);
    }
    if (t.parent != nullptr) {
        Tcb& listener = *t.parent;
        if (listener.half_open > 0) --listener.half_open;
        const auto it = m_connections.find(key_of(t));
        if (it != m_connections.end()) listener.accept_queue.push_back(it->second);
        listener.notify(fd::events::in | fd::events::rdnorm);
    }
    t.notify(fd::events::out | fd::events::wrnorm);
}

inline void Engine::tcp_rtt_sample(Tcb& t, std::uint64_t r) {
    // RFC 6298 (2.2)/(2.3), in nanoseconds, with a 1 ms clock granularity G.
    constexpr std::uint64_t granularity = 1'000'000;
    if (!t.rtt_valid) {
        t.srtt = r;
        t.rttvar = r / 2;
        t.rtt_valid = true;
    } else {
        const std::uint64_t delta = t.srtt > r ? t.srtt - r : r - t.srtt;
        t.rttvar = (3 * t.rttvar + delta) / 4;
        t.srtt = (7 * t.srtt + r) / 8;
    }
    t.rto = std::clamp(t.srtt + std::max(granularity, 4 * t.rttvar), ns(m_config.tcp.rto_min), ns(m_config.tcp.rto_max));
}

inline void Engine::tcp_update_window(Tcb& t, const TcpSegment& seg) {
    if (seq_lt(t.snd_wl1, seg.sequence) || (t.snd_wl1 == seg.sequence && seq_le(t.snd_wl2, seg.acknowledgment))) {
        t.snd_wnd = static_cast<std::uint32_t>(seg.window) << t.snd_wscale;
        t.snd_wl1 = seg.sequence;
        t.snd_wl2 = seg.acknowledgment;
        t.max_snd_wnd = std::max(t.max_snd_wnd, t.snd_wnd);
        if (t.snd_wnd > 0) {
            t.persist_at = never;
            t.persist_backoff = 0;
        }
    }
}

inline bool Engine::tcp_ack_input(Tcb& t, const TcpSegment& seg, Time now) {
    const Seq ack = seg.acknowledgment;
    if (seq_gt(ack, t.snd_max)) {  // acknowledges something never sent
        tcp_send_ack(t, now);
        return false;
    }
    // RFC 5961 5.2: an ACK far below snd_una is an injection attempt.
    if (seq_lt(ack, t.snd_una - std::max<std::uint32_t>(t.max_snd_wnd, 65535))) {
        tcp_challenge_ack(t, now);
        return false;
    }
    if (seq_le(ack, t.snd_una)) {
        const std::uint32_t scaled = static_cast<std::uint32_t>(seg.window) << t.snd_wscale;
        const bool duplicate = ack == t.snd_una && seg.payload.empty() && !seg.has(tcp_flags::fin) &&
                               scaled == t.snd_wnd && t.snd_una != t.snd_max;
        tcp_update_window(t, seg);
        if (duplicate) {
            ++t.dupacks;
            if (!t.fast_recovery && t.dupacks == m_config.tcp.duplicate_ack_threshold) {
                // Fast retransmit, then NewReno fast recovery (RFC 6582 3.2).
                t.ssthresh = std::max(t.flight() / 2, 2 * t.mss);
                t.recover = t.snd_max;
                t.fast_recovery = true;
                ++m_stats.tcp_fast_retransmits;
                tcp_retransmit_first(t, now);
                t.cwnd = t.ssthresh + 3 * t.mss;
            } else if (t.fast_recovery) {
                t.cwnd += t.mss;  // each further duplicate means a segment left the network
                tcp_output(t, now);
            }
        } else if (t.snd_wnd > 0) {
            tcp_output(t, now);  // a window update may let data go
        }
        return true;
    }
    // New data acknowledged.
    const std::uint32_t acked = ack - t.snd_una;
    if (t.rtt_timing && seq_ge(ack, t.rtt_seq)) {
        tcp_rtt_sample(t, now - t.rtt_start);
        t.rtt_timing = false;
    }
    t.backoff = 0;
    t.retries = 0;
    if (seq_gt(ack, t.snd_buf_seq)) {
        const std::size_t data = std::min<std::size_t>(ack - t.snd_buf_seq, t.send_buffer.size());
        t.send_buffer.pop(data);
        t.snd_buf_seq += static_cast<Seq>(data);
    }
    t.snd_una = ack;
    if (seq_lt(t.snd_nxt, t.snd_una)) t.snd_nxt = t.snd_una;
    constexpr std::uint32_t cwnd_cap = 1u << 30;
    if (t.fast_recovery) {
        if (seq_ge(ack, t.recover)) {  // full acknowledgment: leave fast recovery
            t.fast_recovery = false;
            t.dupacks = 0;
            t.cwnd = std::min(t.ssthresh, std::max(t.flight(), t.mss) + t.mss);
        } else {  // partial acknowledgment: retransmit the next hole, deflate
            tcp_retransmit_first(t, now);
            t.cwnd = (t.cwnd > acked ? t.cwnd - acked : 0) + (acked >= t.mss ? t.mss : 0);
            if (t.cwnd < t.mss) t.cwnd = t.mss;
        }
    } else {
        t.dupacks = 0;
        if (t.cwnd < t.ssthresh) {
            t.cwnd = std::min(cwnd_cap, t.cwnd + acked);  // slow start, byte counting (RFC 3465)
        } else {
            const std::uint64_t grow = std::max<std::uint64_t>(1, std::uint64_t{t.mss} * std::min(acked, t.cwnd) / t.cwnd);
            t.cwnd = static_cast<std::uint32_t>(std::min<std::uint64_t>(cwnd_cap, t.cwnd + grow));
        }
    }
    tcp_update_window(t, seg);
    if (t.snd_una == t.snd_max) t.rexmt_at = never;
    else if (!t.fast_recovery) t.rexmt_at = add_time(now, tcp_current_rto(t));
    t.notify(fd::events::out | fd::events::wrnorm);
    tcp_output(t, now);
    return true;
}

inline void Engine::tcp_data_input(Tcb& t, Seq seq, std::span<const std::byte> payload, bool fin, Time now) {
    if (t.state != TcpState::established && t.state != TcpState::fin_wait_1 && t.state != TcpState::fin_wait_2) {
        return;  // CLOSE-WAIT and later: the peer already sent its FIN; ignore
    }
    if (t.orphan && !payload.empty()) {
        // Data for a closed socket cannot be delivered: reset (as Linux does).
        tcp_send_reset(t, now);
        tcp_drop(t, std::nullopt);
        return;
    }
    if (seq != t.rcv_nxt) {
        // Out of order: keep it (bounded) and send a duplicate ACK at once.
        ++m_stats.tcp_out_of_order;
        if (fin) t.out_of_order_fin = seq + static_cast<Seq>(payload.size());
        if (!payload.empty()) {
            bool covered = false;
            for (const auto& s : t.out_of_order)
                if (seq_le(s.sequence, seq) &&
                    seq_ge(s.sequence + static_cast<Seq>(s.data.size()), seq + static_cast<Seq>(payload.size())))
                    covered = true;
            if (!covered) {
                if (t.out_of_order.size() >= m_config.limits.max_out_of_order_segments ||
                    t.out_of_order_bytes + payload.size() > t.receive_buffer.free()) {
                    ++m_stats.dropped_queue_full;
                } else {
                    OutOfOrderSegment s;
                    s.sequence = seq;
                    s.data.assign(payload.begin(), payload.end());
                    t.out_of_order_bytes += s.data.size();
                    t.out_of_order.push_back(std::move(s));
                }
            }
        }
        tcp_send_ack(t, now);
        return;
    }
    const std::size_t stored = t.receive_buffer.push(payload);
    t.rcv_nxt += static_cast<Seq>(stored);
    t.unacked_bytes += static_cast<std::uint32_t>(stored);
    if (stored < payload.size()) fin = false;  // cannot happen within the window; be safe
    // Pull in what the out-of-order queue now continues.
    bool progressed = !t.out_of_order.empty();
    bool filled_hole = false;
    while (progressed) {
        progressed = false;
        for (std::size_t i = 0; i < t.out_of_order.size(); ++i) {
            auto& s = t.out_of_order[i];
            const Seq end = s.sequence + static_cast<Seq>(s.data.size());
            if (seq_gt(s.sequence, t.rcv_nxt)) continue;
            if (seq_gt(end, t.rcv_nxt)) {
                const std::size_t skip = t.rcv_nxt - s.sequence;
                const std::size_t n = t.receive_buffer.push(std::span<const std::byte>(s.data).subspan(skip));
                t.rcv_nxt += static_cast<Seq>(n);
                filled_hole = true;
            }
            t.out_of_order_bytes -= s.data.size();
            t.out_of_order.erase(t.out_of_order.begin() + static_cast<std::ptrdiff_t>(i));
            progressed = true;
            break;
        }
    }
    if (t.out_of_order_fin && *t.out_of_order_fin == t.rcv_nxt) fin = true;
    if (stored > 0 || filled_hole) t.notify(fd::events::in | fd::events::rdnorm);
    if (fin) {
        tcp_fin_input(t, now);
        return;
    }
    if (filled_hole || t.unacked_bytes >= 2 * t.rcv_mss) {
        t.ack_pending = true;
        tcp_output(t, now);
    } else if (!t.ack_pending) {
        t.ack_pending = true;
        m_ack_pending.push_back(&t);
    }
}

inline void Engine::tcp_fin_input(Tcb& t, Time now) {
    t.rcv_nxt += 1;
    t.fin_received = true;
    t.out_of_order.clear();
    t.out_of_order_bytes = 0;
    t.out_of_order_fin.reset();
    switch (t.state) {
        case TcpState::established:
            t.state = TcpState::close_wait;
            break;
        case TcpState::fin_wait_1:
            if (t.fin_acked()) {
                tcp_enter_time_wait(t, now);
            } else {
                t.state = TcpState::closing;
            }
            break;
        case TcpState::fin_wait_2:
            tcp_enter_time_wait(t, now);
            break;
        default:
            break;
    }
    t.notify(fd::events::in | fd::events::rdnorm | fd::events::rdhup | fd::events::hup);
    t.ack_pending = true;
    tcp_output(t, now);
}

inline void Engine::tcp_enter_time_wait(Tcb& t, Time now) {
    t.rexmt_at = never;
    t.persist_at = never;
    t.keepalive_at = never;
    if (m_time_wait >= m_config.limits.max_time_wait) {
        if (t.ack_pending) tcp_send_ack(t, now);
        tcp_drop(t, std::nullopt);
        return;
    }
    t.state = TcpState::time_wait;
    ++m_time_wait;
    t.close_at = add_time(now, ns(m_config.tcp.time_wait));
    t.notify(fd::events::hup | fd::events::in);
}

inline void Engine::tcp_drop(Tcb& t, std::optional<Errno> error) {
    if (error) t.error = error;
    if (t.state == TcpState::time_wait && m_time_wait > 0) --m_time_wait;
    tcp_remove(t);
}

inline void Engine::tcp_remove(Tcb& t) {
    if (t.state == TcpState::syn_received && t.parent != nullptr && t.parent->half_open > 0) --t.parent->half_open;
    const bool was_listen = t.state == TcpState::listen;
    t.state = TcpState::closed;
    t.shut_read = true;
    t.shut_write = true;
    t.rexmt_at = t.persist_at = t.keepalive_at = t.close_at = never;
    t.out_of_order.clear();
    t.out_of_order_bytes = 0;
    t.send_buffer.clear();
    t.send_buffer.shrink_if_empty();
    std::erase(m_ack_pending, &t);
    if (!was_listen && t.parent != nullptr) {
        // A child that never reached the accept queue is forgotten by its listener.
        auto& q = t.parent->accept_queue;
        const bool queued = std::any_of(q.begin(), q.end(), [&](const auto& c) { return c.get() == &t; });
        if (!queued) t.parent = nullptr;
    }
    t.notify(fd::events::in | fd::events::out | fd::events::err | fd::events::hup | fd::events::rdhup);
    if (t.in_table) {
        t.in_table = false;
        const auto it = m_connections.find(key_of(t));
        std::shared_ptr<Tcb> keep;  // released after the table entry, not during
        if (it != m_connections.end()) {
            keep = it->second;
            m_connections.erase(it);
        }
        if (t.parent == nullptr) maybe_release(t);
    } else {
        maybe_release(t);
    }
}

}  // namespace litebox::net::detail
