// Configuration of a box's TCP/IP stack: the interface (address, prefix, gateway, MTU), the
// resource limits every guest-growable structure is bounded by, and the TCP timer tuning.
//
// Contract: nothing here is hard-coded into the stack; a default StackConfig has only the loopback
// interface (127.0.0.0/8). Every limit is enforced: when one is reached the stack drops the packet
// (counted in Stats) or fails the call with the errno Linux gives (ENOBUFS, EMFILE, EAGAIN...).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "../platform/time.hpp"
#include "address.hpp"

namespace litebox::net {

using namespace std::chrono_literals;

/// The box's one external interface, carried by the platform's IPInterfaceProvider.
struct InterfaceConfig {
    Ipv4Address address;
    unsigned prefix_length = 24;
    std::optional<Ipv4Address> gateway;  // nullopt: only the on-link subnet is reachable
    std::size_t mtu = 1500;
};

/// Named limits (defaults follow Linux where Linux has one).
struct Limits {
    /// Sockets a box may create (socket(2) fails with ENFILE beyond).
    std::size_t max_sockets = 4096;
    /// TCP connections in the table, including half-open and TIME-WAIT ones.
    std::size_t max_connections = 8192;
    /// listen(2) backlog cap (Linux's somaxconn); larger requests are clamped to it.
    std::size_t max_listen_backlog = 4096;
    /// Half-open (SYN-RECEIVED) connections per listener; more SYNs are dropped (SYN flood bound).
    std::size_t max_syn_backlog = 256;
    /// Connections in TIME-WAIT (Linux's tcp_max_tw_buckets); beyond it they close at once.
    std::size_t max_time_wait = 4096;
    /// Default and bounds of SO_SNDBUF / SO_RCVBUF (bytes; setsockopt doubles like Linux).
    std::size_t default_send_buffer = 1u << 20;
    std::size_t default_receive_buffer = 1u << 20;
    std::size_t min_socket_buffer = 4608;
    std::size_t max_socket_buffer = 16u << 20;
    /// Out-of-order TCP segments kept per connection (their bytes also stay within the window).
    std::size_t max_out_of_order_segments = 64;
    /// Datagrams queued per UDP socket (their bytes also stay within SO_RCVBUF).
    std::size_t max_udp_datagrams = 512;
    /// Packets waiting for the platform; beyond it packets are dropped (TCP retransmits).
    std::size_t max_transmit_queue = 4096;
    /// Packets waiting on the loopback interface.
    std::size_t max_loopback_queue = 16384;
    /// Packets taken from the platform in one poll() before it returns (the rest wait).
    std::size_t max_packets_per_poll = 512;
    /// ICMP errors and echo replies sent per poll (a flood of probes cannot amplify).
    std::size_t max_icmp_per_poll = 64;
    /// Ephemeral port range (Linux's ip_local_port_range).
    std::uint16_t ephemeral_first = 32768;
    std::uint16_t ephemeral_last = 60999;
};

/// TCP timers and congestion-control parameters.
struct TcpTuning {
    platform::Duration rto_initial = 1s;    // RFC 6298 (2.1)
    platform::Duration rto_min = 200ms;     // Linux's TCP_RTO_MIN (RFC 6298 allows lower than 1 s)
    platform::Duration rto_max = 120s;      // Linux's TCP_RTO_MAX
    unsigned syn_retries = 6;               // Linux's tcp_syn_retries
    unsigned max_retransmits = 15;          // Linux's tcp_retries2
    platform::Duration time_wait = 60s;     // 2 * MSL, as Linux
    platform::Duration fin_wait_2_timeout = 60s;  // orphaned FIN-WAIT-2 (Linux's tcp_fin_timeout)
    platform::Duration keepalive_idle = 7200s;
    platform::Duration keepalive_interval = 75s;
    unsigned keepalive_probes = 9;
    unsigned initial_window_segments = 10;  // RFC 6928
    unsigned duplicate_ack_threshold = 3;   // RFC 5681
};

struct StackConfig {
    std::optional<InterfaceConfig> interface;  // nullopt: loopback only
    std::size_t loopback_mtu = 65535;
    Limits limits;
    TcpTuning tcp;
};

/// Counters of what the stack received, sent and dropped (for tests and diagnostics).
struct Stats {
    std::uint64_t packets_received = 0;
    std::uint64_t packets_sent = 0;
    std::uint64_t dropped_malformed = 0;      // bad header, length or checksum
    std::uint64_t dropped_fragments = 0;      // fragments are not reassembled
    std::uint64_t dropped_not_for_us = 0;
    std::uint64_t dropped_martian = 0;        // loopback addresses arriving from the platform
    std::uint64_t dropped_no_socket = 0;
    std::uint64_t dropped_queue_full = 0;     // transmit, loopback, UDP or out-of-order queue full
    std::uint64_t dropped_syn = 0;            // SYN refused by a full backlog or connection table
    std::uint64_t tcp_retransmits = 0;
    std::uint64_t tcp_fast_retransmits = 0;
    std::uint64_t tcp_timeouts = 0;           // RTO expirations
    std::uint64_t tcp_resets_sent = 0;
    std::uint64_t tcp_challenge_acks = 0;
    std::uint64_t tcp_out_of_order = 0;
    std::uint64_t icmp_sent = 0;
};

}  // namespace litebox::net
