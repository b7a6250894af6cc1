// net::Stack<P>: the TCP/IP stack of one LiteBox, running over the platform's raw IP interface.
//
// Contract:
// - No global state: every box owns one Stack; two boxes in a process have independent stacks
//   (their own port tables, connections and timers).
// - The loopback interface (127.0.0.0/8, and the box's own interface address) is always there
//   and needs no driver: each socket call processes the loopback traffic it causes before it
//   returns. Only the external interface needs driving.
// - Driving: the raw IP interface has no callback, so the runtime calls poll(), which takes in
//   what receive_ip_packet has (at most Limits::max_packets_per_poll packets), runs the timers
//   that are due, sends what is queued, and returns the next deadline (nullopt: no timer armed;
//   a deadline at or before now: call again at once, more packets are waiting). A runtime loops:
//
//       for (;;) {
//           auto deadline = stack.poll();
//           wait until the platform's packet source is readable, or until `deadline`,
//           or until the WakeupHook fires;
//       }
//
//   The WakeupHook (set_wakeup_hook) fires when a socket call arms a timer earlier than the
//   deadline poll() last returned (a first retransmission timer, a keep-alive), so that the
//   runtime never busy-loops and never oversleeps a timer. Socket calls hand their packets to
//   send_ip_packet themselves; poll() is needed only for input and timers.
// - Every timer runs on the platform's TimeProvider, so a virtual clock makes them deterministic.
// - IPv4 only for now (IPv6 may come later); fragments are dropped, not reassembled; a datagram
//   larger than the route's MTU fails with EMSGSIZE. Without a CrngProvider the initial sequence
//   numbers are derived from the clocks (RFC 6528 hashing with a weak key).
#pragma once

#include <memory>
#include <optional>

#include "../platform/concepts.hpp"
#include "config.hpp"
#include "detail/stack_core.hpp"
#include "socket.hpp"

namespace litebox::net {

template <typename P>
class Stack {
public:
    using Instant = typename P::Instant;

    explicit Stack(P& platform, const StackConfig& config = {})
        : m_core(std::make_shared<detail::StackCore<P>>(platform, config)) {
        if (config.interface) (void)configure_interface(config.interface);
    }
    Stack(const Stack&) = delete;
    Stack& operator=(const Stack&) = delete;

    /// Sets (or with nullopt removes) the external interface. EINVAL for an unusable address,
    /// prefix, MTU (576..65535) or a gateway outside the subnet.
    Result<void> configure_interface(const std::optional<InterfaceConfig>& interface) {
        return m_core->inspect([&](detail::Engine& e) { return e.configure_interface(interface); });
    }
    [[nodiscard]] std::optional<InterfaceConfig> interface() const {
        return m_core->inspect([&](detail::Engine& e) { return e.config().interface; });
    }
    [[nodiscard]] std::size_t loopback_mtu() const {
        return m_core->inspect([&](detail::Engine& e) { return e.config().loopback_mtu; });
    }

    /// Drives the stack once (see the contract above). Returns the next timer deadline.
    std::optional<Instant> poll() { return m_core->poll(); }

    /// Installs (or with nullptr removes) the hook that tells the runtime about earlier deadlines.
    void set_wakeup_hook(WakeupHook* hook) { m_core->set_wakeup(hook); }

    /// socket(2) for AF_INET: SOCK_STREAM (protocol 0 or IPPROTO_TCP) or SOCK_DGRAM (0 or
    /// IPPROTO_UDP), with SOCK_NONBLOCK / SOCK_CLOEXEC in `type`. Other domains: EAFNOSUPPORT;
    /// other types: ESOCKTNOSUPPORT/EPROTONOSUPPORT; beyond Limits::max_sockets: ENFILE.
    Result<std::shared_ptr<Socket<P>>> socket(int domain, int type, int protocol) {
        if (domain != af::inet) return Errno::afnosupport;
        if ((type & ~(sock_flags::type_mask | sock_flags::nonblock | sock_flags::close_on_exec)) != 0) return Errno::inval;
        const int kind = type & sock_flags::type_mask;
        const std::uint32_t status = (type & sock_flags::nonblock) != 0 ? fd::open_flags::nonblock : 0;
        std::shared_ptr<detail::SocketCommon> state;
        if (kind == static_cast<int>(SocketType::stream)) {
            if (protocol != 0 && protocol != ipproto::tcp) return Errno::protonosupport;
            auto t = m_core->inspect([](detail::Engine& e) { return e.tcp_create(); });
            if (!t) return t.error();
            state = std::move(*t);
        } else if (kind == static_cast<int>(SocketType::datagram)) {
            if (protocol != 0 && protocol != ipproto::udp) return Errno::protonosupport;
            auto u = m_core->inspect([](detail::Engine& e) { return e.udp_create(); });
            if (!u) return u.error();
            state = std::move(*u);
        } else if (kind == static_cast<int>(SocketType::raw)) {
            return Errno::protonosupport;
        } else {
            return Errno::socktnosupport;
        }
        return std::make_shared<Socket<P>>(m_core, std::move(state), status);
    }

    [[nodiscard]] Stats stats() const {
        return m_core->inspect([](detail::Engine& e) { return e.stats(); });
    }
    /// Connections in the table (half-open, established, closing and TIME-WAIT).
    [[nodiscard]] std::size_t connection_count() const {
        return m_core->inspect([](detail::Engine& e) { return e.connection_count(); });
    }
    [[nodiscard]] std::size_t socket_count() const {
        return m_core->inspect([](detail::Engine& e) { return e.socket_count(); });
    }
    [[nodiscard]] const P& platform() const noexcept { return m_core->platform(); }

private:
    std::shared_ptr<detail::StackCore<P>> m_core;
};

}  // namespace litebox::net
