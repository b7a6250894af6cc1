// Engine: the protocol machinery of one box's stack (IPv4, ICMP, UDP, TCP, the loopback interface
// and the port table). It is platform-independent and single-threaded: net::Stack<P> holds it in a
// Mutex and calls it with the time converted to nanoseconds since the stack's creation.
//
// Contract: input() accepts any bytes (a malformed packet is counted and dropped); every queue
// the engine keeps is bounded by Limits; output for the platform accumulates in transmit_queue()
// until the caller takes it; loopback packets are processed by process_loopback() (the socket
// layer calls it after each operation, so 127.0.0.1 needs no driver thread).
// Definitions live in engine_ip.hpp, tcp_input.hpp, tcp_output.hpp and sockets.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "../../error.hpp"
#include "../config.hpp"
#include "../packet.hpp"
#include "state.hpp"

namespace litebox::net::detail {

/// The 4-tuple that names a TCP connection.
struct ConnectionKey {
    std::uint32_t local_address = 0;
    std::uint32_t remote_address = 0;
    std::uint16_t local_port = 0;
    std::uint16_t remote_port = 0;
    friend bool operator==(const ConnectionKey&, const ConnectionKey&) = default;
};
struct ConnectionKeyHash {
    std::size_t operator()(const ConnectionKey& k) const noexcept {
        std::uint64_t h = (std::uint64_t{k.local_address} << 32 | k.remote_address) * 0x9e3779b97f4a7c15ull;
        h ^= (std::uint64_t{k.local_port} << 16 | k.remote_port) + 0x632be59bd9b4e019ull + (h << 6) + (h >> 2);
        return static_cast<std::size_t>(h ^ (h >> 29));
    }
};

/// A routing decision.
struct Route {
    bool loopback = false;
    Ipv4Address source;
    std::size_t mtu = 0;
};

class Engine {
public:
    Engine(const StackConfig& config, std::uint64_t seed) : m_config(config), m_seed(seed) {}
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;
    ~Engine() { shutdown_all(); }

    // ---- configuration ------------------------------------------------------------------------
    [[nodiscard]] const StackConfig& config() const noexcept { return m_config; }
    Result<void> configure_interface(const std::optional<InterfaceConfig>& interface);
    [[nodiscard]] const Stats& stats() const noexcept { return m_stats; }

    // ---- driving (engine_ip.hpp) ---------------------------------------------------------------
    /// Takes one packet; `from_loopback` is true for the loopback interface.
    void input(std::span<const std::byte> packet, Time now, bool from_loopback);
    /// Runs every timer that is due at `now`.
    void run_timers(Time now);
    /// Processes queued loopback packets (and the ACKs they cause) until none is left.
    void process_loopback(Time now);
    /// Sends the ACKs that received data made pending (the end of an input batch).
    void flush_acks(Time now);
    /// The earliest timer deadline (never: none).
    [[nodiscard]] Time next_deadline() const;
    /// Packets for the platform, oldest first. The caller pops what it sent.
    std::deque<std::vector<std::byte>>& transmit_queue() noexcept { return m_transmit; }
    /// Returns a sent packet's storage for reuse.
    void recycle(std::vector<std::byte>&& buffer);
    /// Starts a new poll round (resets per-poll budgets).
    void begin_round() noexcept { m_icmp_budget = m_config.limits.max_icmp_per_poll; }

    // ---- sockets (sockets.hpp) ------------------------------------------------------------------
    Result<std::shared_ptr<Tcb>> tcp_create();
    Result<std::shared_ptr<UdpSocket>> udp_create();
    Result<void> bind(SocketCommon& socket, Endpoint endpoint);
    Result<void> tcp_listen(Tcb& t, int backlog);
    Result<std::shared_ptr<Tcb>> tcp_accept(Tcb& listener);
    Result<void> tcp_connect(Tcb& t, Endpoint remote, Time now);  // t must be owned by a shared_ptr
    /// After connect returned EINPROGRESS: Errno::again while in progress, ok() once connected,
    /// the error (taken from SO_ERROR) if it failed.
    Result<void> tcp_connect_status(Tcb& t);
    Result<std::size_t> tcp_send(Tcb& t, std::span<const std::byte> data, Time now);
    Result<std::size_t> tcp_receive(Tcb& t, std::span<std::byte> out, bool peek, Time now);
    Result<void> tcp_shutdown(Tcb& t, ShutdownHow how, Time now);
    /// The guest closed its last descriptor.
    void tcp_close(Tcb& t, Time now);
    [[nodiscard]] fd::Events tcp_poll(const Tcb& t) const;
    void tcp_set_buffer_limits(Tcb& t, std::optional<std::size_t> send, std::optional<std::size_t> receive, Time now);
    void tcp_options_changed(Tcb& t, Time now);

    Result<void> udp_connect(UdpSocket& u, std::optional<Endpoint> remote);
    Result<std::size_t> udp_send(UdpSocket& u, std::span<const std::byte> data, std::optional<Endpoint> to);
    /// Returns the datagram's full length (MSG_TRUNC semantics are the caller's).
    Result<std::size_t> udp_receive(UdpSocket& u, std::span<std::byte> out, bool peek, Endpoint* from);
    Result<void> udp_shutdown(UdpSocket& u, ShutdownHow how);
    void udp_close(UdpSocket& u);
    [[nodiscard]] fd::Events udp_poll(const UdpSocket& u) const;

    /// Clamps and doubles a SO_SNDBUF/SO_RCVBUF request as Linux does.
    [[nodiscard]] std::size_t buffer_size_for(std::size_t requested) const noexcept {
        const auto& l = m_config.limits;
        const std::size_t doubled = requested > l.max_socket_buffer ? l.max_socket_buffer : requested * 2;
        return std::clamp(doubled, l.min_socket_buffer, l.max_socket_buffer);
    }
    [[nodiscard]] std::size_t socket_count() const noexcept { return m_sockets; }
    [[nodiscard]] std::size_t connection_count() const noexcept { return m_connections.size(); }

private:
    // ---- IP layer (engine_ip.hpp) -----------------------------------------------------------------
    [[nodiscard]] bool is_local_address(Ipv4Address a) const noexcept;
    [[nodiscard]] Result<Route> route(Ipv4Address destination) const;
    /// A packet buffer with room for `payload` bytes after a 20-byte IPv4 header.
    std::vector<std::byte> take_buffer(std::size_t payload);
    /// Writes the IPv4 header into `packet` and queues it on the route's interface.
    void emit(std::vector<std::byte>&& packet, const Route& route, Ipv4Address destination, std::uint8_t protocol);
    void icmp_input(const Ipv4Packet& ip, bool from_loopback);
    void icmp_send_error(const Ipv4Packet& offending, std::uint8_t type, std::uint8_t code);
    void udp_input(const Ipv4Packet& ip);
    std::uint32_t isn(const ConnectionKey& key, Time now) const noexcept;

    // ---- port table (sockets.hpp) -----------------------------------------------------------------
    using PortTable = std::unordered_map<std::uint16_t, std::vector<SocketCommon*>>;
    PortTable& ports(SocketType type) noexcept { return type == SocketType::stream ? m_tcp_ports : m_udp_ports; }
    [[nodiscard]] bool port_conflict(const SocketCommon& socket, Endpoint endpoint, bool for_listen) const;
    Result<void> register_port(SocketCommon& socket, Endpoint endpoint);
    Result<std::uint16_t> pick_ephemeral(SocketCommon& socket, Ipv4Address address);
    void unregister_port(SocketCommon& socket);
    void maybe_release(SocketCommon& socket);
    Tcb* find_listener(Ipv4Address address, std::uint16_t port);
    UdpSocket* find_udp(Ipv4Address destination, std::uint16_t port, Endpoint from);

    // ---- TCP (tcp_input.hpp, tcp_output.hpp) ------------------------------------------------
    static ConnectionKey key_of(const Tcb& t) noexcept {
        return {t.local.address.value(), t.remote.address.value(), t.local.port, t.remote.port};
    }
    void tcp_input(const Ipv4Packet& ip, const TcpSegment& seg, Time now, bool from_loopback);
    void tcp_listen_input(Tcb& listener, const Ipv4Packet& ip, const TcpSegment& seg, Time now);
    void tcp_syn_sent_input(Tcb& t, const TcpSegment& seg, Time now);
    bool tcp_ack_input(Tcb& t, const TcpSegment& seg, Time now);
    void tcp_data_input(Tcb& t, Seq seq, std::span<const std::byte> payload, bool fin, Time now);
    void tcp_fin_input(Tcb& t, Time now);
    void tcp_update_window(Tcb& t, const TcpSegment& seg);
    void tcp_rtt_sample(Tcb& t, std::uint64_t sample);
    void tcp_established(Tcb& t, Time now);
    void tcp_enter_time_wait(Tcb& t, Time now);

    void tcp_output(Tcb& t, Time now);
    /// Sends one segment: `length` data bytes from sequence `seq` (inside the send buffer).
    void tcp_transmit(Tcb& t, Seq seq, std::uint8_t flags, std::size_t length, Time now);
    void tcp_send_ack(Tcb& t, Time now) { tcp_transmit(t, t.snd_nxt, tcp_flags::ack, 0, now); }
    void tcp_challenge_ack(Tcb& t, Time now) {
        ++m_stats.tcp_challenge_acks;
        tcp_send_ack(t, now);
    }
    /// Retransmits the first unacknowledged segment without moving snd_nxt.
    void tcp_retransmit_first(Tcb& t, Time now);
    void tcp_reset_reply(const Ipv4Packet& ip, const TcpSegment& seg);
    void tcp_send_reset(Tcb& t, Time now);
    void tcp_timers(Tcb& t, Time now);
    [[nodiscard]] std::uint64_t tcp_current_rto(const Tcb& t) const noexcept;
    std::uint16_t tcp_window_field(Tcb& t, bool syn);
    void tcp_window_update_if_needed(Tcb& t, std::size_t old_window, Time now);
    /// Ends a connection: error (if any) for the guest, out of the table, timers off.
    void tcp_drop(Tcb& t, std::optional<Errno> error);
    void tcp_remove(Tcb& t);
    void tcp_abort_children(Tcb& listener, Time now);
    [[nodiscard]] std::uint64_t ns(platform::Duration d) const noexcept {
        return d.count() <= 0 ? 0 : static_cast<std::uint64_t>(d.count());
    }
    void shutdown_all();

    StackConfig m_config;
    std::uint64_t m_seed;
    Stats m_stats;
    // Declared before every container of sockets: destroyed last.
    PortTable m_tcp_ports;
    PortTable m_udp_ports;
    std::unordered_map<ConnectionKey, std::shared_ptr<Tcb>, ConnectionKeyHash> m_connections;
    std::vector<Tcb*> m_ack_pending;
    std::deque<std::vector<std::byte>> m_transmit;
    std::deque<std::vector<std::byte>> m_loopback;
    std::vector<std::vector<std::byte>> m_spare_buffers;
    std::size_t m_sockets = 0;
    std::size_t m_time_wait = 0;
    std::size_t m_icmp_budget = 0;
    std::uint16_t m_next_ephemeral = 0;
    std::uint16_t m_ip_id = 0;
    bool m_in_loopback = false;
};

}  // namespace litebox::net::detail
