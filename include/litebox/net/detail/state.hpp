// Internal state of the stack: byte rings, sockets, TCP control blocks. Everything here is
// reached only with the stack's lock held (see net/stack.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "../../error.hpp"
#include "../../fd/types.hpp"
#include "../address.hpp"
#include "../checksum.hpp"

namespace litebox::net::detail {

/// Stack time: nanoseconds since the stack was created (converted from the platform's Instant).
using Time = std::uint64_t;
inline constexpr Time never = std::numeric_limits<Time>::max();
inline constexpr Time add_time(Time t, std::uint64_t d) noexcept { return t > never - d ? never : t + d; }

/// A bounded FIFO of bytes; storage grows on demand up to the limit (never beyond).
class ByteRing {
public:
    explicit ByteRing(std::size_t limit = 0) : m_limit(limit) {}
    [[nodiscard]] std::size_t size() const noexcept { return m_size; }
    [[nodiscard]] bool empty() const noexcept { return m_size == 0; }
    [[nodiscard]] std::size_t limit() const noexcept { return m_limit; }
    [[nodiscard]] std::size_t free() const noexcept { return m_limit > m_size ? m_limit - m_size : 0; }
    void set_limit(std::size_t limit) noexcept { m_limit = limit; }

    /// Appends up to free() bytes; returns how many.
    std::size_t push(std::span<const std::byte> in) {
        const std::size_t n = std::min(in.size(), free());
        if (n == 0) return 0;
        reserve(m_size + n);
        const std::size_t cap = m_capacity;
        const std::size_t tail = (m_head + m_size) % cap;
        const std::size_t first = std::min(n, cap - tail);
        std::memcpy(m_buffer.get() + tail, in.data(), first);
        if (n > first) std::memcpy(m_buffer.get(), in.data() + first, n - first);
        m_size += n;
        return n;
    }
    /// Copies out.size() bytes starting `offset` bytes after the front (caller checks bounds).
    void copy_out(std::size_t offset, std::span<std::byte> out) const noexcept {
        if (out.empty()) return;
        const std::size_t cap = m_capacity;
        const std::size_t start = (m_head + offset) % cap;
        const std::size_t first = std::min(out.size(), cap - start);
        std::memcpy(out.data(), m_buffer.get() + start, first);
        if (out.size() > first) std::memcpy(out.data() + first, m_buffer.get(), out.size() - first);
    }
    void pop(std::size_t n) noexcept {
        n = std::min(n, m_size);
        m_size -= n;
        m_head = m_size == 0 ? 0 : (m_head + n) % m_capacity;
    }
    void clear() noexcept {
        m_size = 0;
        m_head = 0;
    }
    /// Releases storage when empty (a finished connection keeps no buffer).
    void shrink_if_empty() {
        if (m_size == 0 && m_capacity != 0) {
            m_buffer.reset();
            m_capacity = 0;
            m_head = 0;
        }
    }

private:
    void reserve(std::size_t needed) {
        if (needed <= m_capacity) return;
        std::size_t cap = std::max<std::size_t>(m_capacity * 2, 16384);
        cap = std::max(cap, needed);
        cap = std::min(cap, std::max(m_limit, needed));
        std::unique_ptr<std::byte[]> next(new std::byte[cap]);  // not zero-filled
        if (m_size != 0) copy_out(0, std::span<std::byte>(next.get(), m_size));
        m_buffer = std::move(next);
        m_capacity = cap;
        m_head = 0;
    }
    std::unique_ptr<std::byte[]> m_buffer;
    std::size_t m_capacity = 0;
    std::size_t m_head = 0;
    std::size_t m_size = 0;
    std::size_t m_limit;
};

/// Where a socket's readiness changes are reported (the socket file's Pollee). Called with the
/// stack lock held; must not block or take the stack lock.
class EventSink {
public:
    virtual void notify(fd::Events events) noexcept = 0;

protected:
    ~EventSink() = default;
};

enum class TcpState : std::uint8_t {
    closed,
    listen,
    syn_sent,
    syn_received,
    established,
    fin_wait_1,
    fin_wait_2,
    close_wait,
    closing,
    last_ack,
    time_wait,
};

/// What every socket has: its addresses, options and flags.
struct SocketCommon : std::enable_shared_from_this<SocketCommon> {
    explicit SocketCommon(SocketType t) : type(t) {}
    SocketCommon(const SocketCommon&) = delete;
    SocketCommon& operator=(const SocketCommon&) = delete;
    virtual ~SocketCommon() = default;

    SocketType type;
    Endpoint local;
    Endpoint remote;
    bool bound = false;          // registered in the port table
    bool reuse_address = false;  // SO_REUSEADDR
    bool reuse_port = false;     // SO_REUSEPORT
    std::uint32_t owner_uid = 0; // who created it (SO_REUSEPORT groups only one user's sockets)
    bool broadcast = false;      // SO_BROADCAST
    bool receive_errors = false; // IP_RECVERR: ICMP errors reach an unconnected UDP socket too
    bool has_handle = true;      // a guest socket refers to it (false for a not yet accepted child)
    bool orphan = false;         // the guest closed its last descriptor
    bool shut_read = false;      // shutdown(SHUT_RD) or the connection ended
    bool shut_write = false;     // shutdown(SHUT_WR)
    std::optional<Errno> error;  // SO_ERROR, reported once
    std::size_t send_limit = 0;  // SO_SNDBUF
    std::size_t receive_limit = 0;  // SO_RCVBUF
    std::shared_ptr<EventSink> sink;

    void notify(fd::Events events) const noexcept {
        if (sink) sink->notify(events);
    }
    std::optional<Errno> take_error() noexcept { return std::exchange(error, std::nullopt); }
};

/// An out-of-order TCP segment waiting for the hole before it to fill.
struct OutOfOrderSegment {
    Seq sequence = 0;
    std::vector<std::byte> data;
};

/// A TCP control block (RFC 9293 3.3.1) together with its socket.
struct Tcb final : SocketCommon {
    Tcb() : SocketCommon(SocketType::stream) {}

    TcpState state = TcpState::closed;
    bool in_table = false;       // in the connection table (state is synchronized or half-open)
    bool was_connected = false;  // reached ESTABLISHED at least once
    bool connect_reported = false;
    bool loopback = false;       // routed over the loopback interface
    bool nodelay = false;        // TCP_NODELAY
    bool keepalive = false;      // SO_KEEPALIVE
    bool linger = false;         // SO_LINGER on
    int linger_seconds = 0;
    std::optional<unsigned> keepalive_idle_s, keepalive_interval_s, keepalive_count;
    std::size_t mtu = 0;         // of the route

    // listener
    std::size_t backlog = 0;
    std::deque<std::shared_ptr<Tcb>> accept_queue;
    std::size_t half_open = 0;
    Tcb* parent = nullptr;  // the listener of a half-open or not yet accepted child

    // send sequence space
    Seq iss = 0, snd_una = 0, snd_nxt = 0, snd_max = 0, snd_wl1 = 0, snd_wl2 = 0;
    Seq snd_buf_seq = 0;           // sequence number of send_buffer's first byte
    std::uint32_t snd_wnd = 0;     // peer's window in bytes (already scaled)
    std::uint32_t max_snd_wnd = 0;
    std::uint8_t snd_wscale = 0, rcv_wscale = 0;
    std::uint32_t mss = 536;       // bytes per segment we send
    std::uint32_t rcv_mss = 536;   // what we advertised
    ByteRing send_buffer;
    bool fin_queued = false;       // the guest shut down writing: a FIN follows the buffer

    // receive sequence space
    Seq irs = 0, rcv_nxt = 0, rcv_adv = 0;  // rcv_adv: right edge of the advertised window
    ByteRing receive_buffer;
    std::vector<OutOfOrderSegment> out_of_order;
    std::size_t out_of_order_bytes = 0;
    std::optional<Seq> out_of_order_fin;
    bool fin_received = false;
    bool ack_pending = false;
    std::uint32_t unacked_bytes = 0;  // received since our last ACK

    // RTT and retransmission (RFC 6298)
    std::uint64_t srtt = 0, rttvar = 0, rto = 0;  // ns
    bool rtt_valid = false;
    bool rtt_timing = false;
    Seq rtt_seq = 0;
    Time rtt_start = 0;
    unsigned backoff = 0;
    unsigned retries = 0;

    // congestion control (RFC 5681, NewReno RFC 6582)
    std::uint32_t cwnd = 0, ssthresh = std::numeric_limits<std::uint32_t>::max() / 2;
    unsigned dupacks = 0;
    bool fast_recovery = false;
    Seq recover = 0;

    // timers (never = off)
    Time rexmt_at = never;
    Time persist_at = never;
    unsigned persist_backoff = 0;
    Time keepalive_at = never;
    unsigned keepalive_sent = 0;
    Time close_at = never;  // TIME-WAIT or orphaned FIN-WAIT-2 expiry

    [[nodiscard]] bool synchronized() const noexcept {
        return state != TcpState::closed && state != TcpState::listen && state != TcpState::syn_sent;
    }
    [[nodiscard]] Seq fin_sequence() const noexcept { return snd_buf_seq + static_cast<Seq>(send_buffer.size()); }
    [[nodiscard]] bool fin_acked() const noexcept { return fin_queued && seq_gt(snd_una, fin_sequence()); }
    [[nodiscard]] std::uint32_t flight() const noexcept { return snd_nxt - snd_una; }
    [[nodiscard]] std::uint32_t receive_window() const noexcept {
        return seq_gt(rcv_adv, rcv_nxt) ? rcv_adv - rcv_nxt : 0;
    }
};

/// A received datagram.
struct Datagram {
    Endpoint from;
    std::vector<std::byte> data;
};

/// A UDP socket.
struct UdpSocket final : SocketCommon {
    UdpSocket() : SocketCommon(SocketType::datagram) {}
    bool connected = false;
    std::deque<Datagram> queue;
    std::size_t queued_bytes = 0;
};

}  // namespace litebox::net::detail
