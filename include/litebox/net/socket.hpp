// Socket<P>: an AF_INET stream or datagram socket as an open file description.
//
// Contract (what the shim relies on):
// - Every operation here is a non-blocking attempt with Linux's errnos: where Linux would block
//   it fails with Errno::again (connect: Errno::inprogress, then connect_status() reports
//   Errno::again until the handshake ends). net/blocking.hpp turns them into blocking calls by
//   waiting on pollee(); poll() reports the Linux poll bits (in, out, err, hup, rdhup).
// - read/write are recv/send without flags. Errno::pipe from a send means "raise SIGPIPE unless
//   MSG_NOSIGNAL" — the shim does that, not the socket.
// - Options take and return the raw bytes of the guest's optval (ints, struct linger, struct
//   timeval), as the shim copies them; short buffers fail with EINVAL like Linux.
// - Destroying the socket (last descriptor closed) closes it: a graceful FIN, or a RST with
//   SO_LINGER {1, 0} or unread data; the connection then finishes inside the stack.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>

#include "../event/pollee.hpp"
#include "../fd/open_file.hpp"
#include "../ipc/detail/anon_inode.hpp"
#include "detail/stack_core.hpp"

namespace litebox::net {

template <typename P>
class Socket final : public fd::OpenFile<P> {
public:
    using Core = detail::StackCore<P>;

    Socket(std::shared_ptr<Core> core, std::shared_ptr<detail::SocketCommon> state, std::uint32_t status_flags)
        : fd::OpenFile<P>(status_flags | fd::open_flags::read_write), m_core(std::move(core)), m_state(std::move(state)) {
        auto sink = std::make_shared<Sink>(m_pollee.notifier());
        m_core->inspect([&](detail::Engine&) { m_state->sink = std::move(sink); });
    }
    ~Socket() override {
        m_core->with_engine([&](detail::Engine& e, detail::Time now) {
            if (auto* t = tcb()) e.tcp_close(*t, now);
            else e.udp_close(*udp());
            return 0;
        });
    }

    [[nodiscard]] SocketType type() const noexcept { return m_state->type; }
    [[nodiscard]] int protocol() const noexcept { return type() == SocketType::stream ? ipproto::tcp : ipproto::udp; }

    /// The uid that created the socket (the shim's caller): SO_REUSEPORT shares a port only among
    /// one owner's sockets.
    void set_owner(std::uint32_t uid) {
        m_core->with_engine([&](detail::Engine&, detail::Time) {
            m_state->owner_uid = uid;
            return 0;
        });
    }

    // ---- BSD socket operations (non-blocking attempts) ----------------------------------------
    Result<void> bind(Endpoint endpoint) {
        return m_core->with_engine([&](detail::Engine& e, detail::Time) { return e.bind(*m_state, endpoint); });
    }
    Result<void> listen(int backlog) {
        if (type() != SocketType::stream) return Errno::opnotsupp;
        return m_core->with_engine([&](detail::Engine& e, detail::Time) { return e.tcp_listen(*tcb(), backlog); });
    }
    /// accept4: `flags` may hold O_NONBLOCK / O_CLOEXEC (sock_flags); the peer goes to `peer`.
    Result<std::shared_ptr<Socket>> accept(Endpoint* peer = nullptr, int flags = 0) {
        if (type() != SocketType::stream) return Errno::opnotsupp;
        if ((flags & ~(sock_flags::nonblock | sock_flags::close_on_exec)) != 0) return Errno::inval;
        auto child = m_core->with_engine([&](detail::Engine& e, detail::Time) { return e.tcp_accept(*tcb()); });
        if (!child) return child.error();
        if (peer != nullptr) *peer = (*child)->remote;
        const std::uint32_t status = (flags & sock_flags::nonblock) != 0 ? fd::open_flags::nonblock : 0;
        return std::make_shared<Socket>(m_core, std::move(*child), status);
    }
    /// connect; nullopt is AF_UNSPEC (dissolves a UDP association). A stream socket returns
    /// Errno::inprogress (or an immediate error); follow with connect_status().
    Result<void> connect(std::optional<Endpoint> remote) {
        if (auto* t = tcb()) {
            if (!remote) return Errno::afnosupport;
            return m_core->with_engine([&](detail::Engine& e, detail::Time now) { return e.tcp_connect(*t, *remote, now); });
        }
        return m_core->with_engine([&](detail::Engine& e, detail::Time) { return e.udp_connect(*udp(), remote); });
    }
    /// After Errno::inprogress: Errno::again while connecting, ok() when connected, else the error.
    Result<void> connect_status() {
        if (auto* t = tcb()) return m_core->with_engine([&](detail::Engine& e, detail::Time) { return e.tcp_connect_status(*t); });
        return ok();
    }
    /// send/sendto. `to` is ignored by connected stream sockets (EISCONN is not raised, as Linux).
    Result<std::size_t> send_to(std::span<const std::byte> data, int flags = 0, std::optional<Endpoint> to = std::nullopt) {
        if ((flags & msg::oob) != 0) return Errno::opnotsupp;
        if (auto* t = tcb())
            return m_core->with_engine([&](detail::Engine& e, detail::Time now) { return e.tcp_send(*t, data, now); });
        return m_core->with_engine([&](detail::Engine& e, detail::Time) { return e.udp_send(*udp(), data, to); });
    }
    /// recv/recvfrom. For datagrams the result is the bytes copied, or with MSG_TRUNC the whole
    /// datagram's length; `truncated` tells whether the datagram was longer than `out`.
    Result<std::size_t> receive_from(std::span<std::byte> out, int flags = 0, Endpoint* from = nullptr, bool* truncated = nullptr) {
        if ((flags & msg::oob) != 0) return Errno::inval;
        const bool peek = (flags & msg::peek) != 0;
        if (truncated != nullptr) *truncated = false;
        if (auto* t = tcb()) {
            auto n = m_core->with_engine([&](detail::Engine& e, detail::Time now) { return e.tcp_receive(*t, out, peek, now); });
            if (n && from != nullptr) *from = t->remote;
            return n;
        }
        auto n = m_core->with_engine([&](detail::Engine& e, detail::Time) { return e.udp_receive(*udp(), out, peek, from); });
        if (!n) return n;
        if (truncated != nullptr) *truncated = *n > out.size();
        if ((flags & msg::trunc) != 0) return *n;
        return std::min(*n, out.size());
    }
    Result<void> shutdown(ShutdownHow how) {
        if (auto* t = tcb()) return m_core->with_engine([&](detail::Engine& e, detail::Time now) { return e.tcp_shutdown(*t, how, now); });
        return m_core->with_engine([&](detail::Engine& e, detail::Time) { return e.udp_shutdown(*udp(), how); });
    }
    /// FIONREAD / SIOCINQ: the bytes a read would return now (TCP: the receive queue; UDP: the
    /// next datagram's payload, 0 if none); EINVAL on a listening socket, as Linux.
    Result<std::size_t> bytes_readable() {
        return m_core->with_engine([&](detail::Engine&, detail::Time) -> Result<std::size_t> {
            if (auto* t = tcb()) {
                if (t->state == detail::TcpState::listen) return Errno::inval;
                return t->receive_buffer.size();
            }
            return udp()->queue.empty() ? std::size_t{0} : udp()->queue.front().data.size();
        });
    }
    /// getsockname: 0.0.0.0:0 before bind, like Linux.
    Result<Endpoint> local_endpoint() {
        return m_core->with_engine([&](detail::Engine&, detail::Time) { return m_state->bound || m_state->local.port != 0 ? m_state->local : Endpoint{}; });
    }
    /// getpeername: ENOTCONN unless connected.
    Result<Endpoint> peer_endpoint() {
        return m_core->with_engine([&](detail::Engine&, detail::Time) -> Result<Endpoint> {
            if (auto* t = tcb()) {
                if (t->state == detail::TcpState::established || t->state == detail::TcpState::close_wait ||
                    t->state == detail::TcpState::fin_wait_1 || t->state == detail::TcpState::fin_wait_2 ||
                    t->state == detail::TcpState::closing || t->state == detail::TcpState::last_ack ||
                    t->state == detail::TcpState::time_wait)
                    return t->remote;
                return Errno::notconn;
            }
            if (!udp()->connected) return Errno::notconn;
            return udp()->remote;
        });
    }
    Result<void> set_option(int level, int name, std::span<const std::byte> value);
    /// Writes the option into `out` (truncated to its size, as Linux) and returns the full length.
    Result<std::size_t> get_option(int level, int name, std::span<std::byte> out);

    /// SO_RCVTIMEO / SO_SNDTIMEO (nullopt: block forever); used by net/blocking.hpp.
    [[nodiscard]] std::optional<platform::Duration> receive_timeout() const noexcept { return m_receive_timeout; }
    [[nodiscard]] std::optional<platform::Duration> send_timeout() const noexcept { return m_send_timeout; }

    // ---- OpenFile ----------------------------------------------------------------------------
    Result<std::size_t> read(std::span<std::byte> out) override { return receive_from(out); }
    Result<std::size_t> write(std::span<const std::byte> in) override { return send_to(in); }
    Result<fd::Stat> stat() override {
        fd::Stat s;
        s.device = ipc::anonymous_device;  // as every socket, pipe and anonymous object of the box
        s.mode = fd::mode::socket | 0777;
        s.inode = reinterpret_cast<std::uintptr_t>(m_state.get()) >> 4;
        s.link_count = 1;
        s.block_size = 4096;
        return s;
    }
    fd::Events poll(fd::Events /*interest*/) override {
        return m_core->with_engine([&](detail::Engine& e, detail::Time) {
            if (auto* t = tcb()) return e.tcp_poll(*t);
            return e.udp_poll(*udp());
        });
    }
    event::Pollee<P>* pollee() noexcept override { return &m_pollee; }

private:
    struct Sink final : detail::EventSink {
        explicit Sink(event::Notifier<P> n) : notifier(std::move(n)) {}
        void notify(fd::Events events) noexcept override { notifier.notify(events); }
        event::Notifier<P> notifier;
    };
    detail::Tcb* tcb() const noexcept {
        return m_state->type == SocketType::stream ? static_cast<detail::Tcb*>(m_state.get()) : nullptr;
    }
    detail::UdpSocket* udp() const noexcept { return static_cast<detail::UdpSocket*>(m_state.get()); }

    std::shared_ptr<Core> m_core;
    std::shared_ptr<detail::SocketCommon> m_state;
    event::Pollee<P> m_pollee;
    std::optional<platform::Duration> m_receive_timeout;
    std::optional<platform::Duration> m_send_timeout;
    bool m_keepalive = false;  // SO_KEEPALIVE as set (UDP sockets accept and ignore it, as Linux)
};

}  // namespace litebox::net

#include "detail/socket_options.hpp"
