// UnixSocket<P>: an AF_UNIX socket (stream, datagram or seqpacket) — an open file description.
//
// Contract (Linux's semantics; differences are noted):
// - Naming: bind() takes an abstract name (or an unnamed address: autobind to a free five-hex-
//   digit abstract name); bind_path() binds a path through the file system (see namespace.hpp).
//   A socket binds once (EINVAL after). getsockname = local_address(), getpeername =
//   peer_address() (ENOTCONN without a peer).
// - Connections (stream, seqpacket): listen() needs a bound socket (EINVAL) and caps the backlog
//   at UnixLimits::max_backlog; a listener holds up to backlog + 1 pending connections. connect()
//   completes at once when the listener has room (the data sent before accept() is kept), else it
//   is EAGAIN, or waits for an accept() when blocking. ECONNREFUSED when nothing listens at the
//   endpoint, EPROTOTYPE for a listener of another type, EISCONN when connected, EINVAL when
//   listening. accept() returns a new connected socket (EINVAL when not listening).
// - Datagrams: connect() sets the default destination (disconnect() clears it); send without a
//   destination on an unconnected socket is ENOTCONN; to a socket connected to a third socket,
//   EPERM; to a closed one, ECONNREFUSED; a message larger than SO_SNDBUF - 32 is EMSGSIZE. A
//   receiver's queue is bounded in bytes by its SO_RCVBUF and, unless it is connected back to the
//   sender, in messages by UnixLimits::max_datagram_queue (then EAGAIN, or the sender blocks).
// - send/receive: the try_ forms never block (EAGAIN); the others block unless the description is
//   non-blocking or MSG_DONTWAIT is given, and a blocking stream send goes on until everything is
//   sent. MSG_PEEK leaves data queued (files are duplicated), MSG_WAITALL makes a blocking stream
//   receive fill the buffer (unless EOF, an error or SCM_RIGHTS ends it first). MSG_OOB is
//   EOPNOTSUPP. Errno::pipe tells the shim to raise SIGPIPE unless MSG_NOSIGNAL.
// - SCM_RIGHTS: open files travel by reference (a file stays alive while in flight, also after
//   the sender closed it); at most max_rights_per_message per message (ETOOMANYREFS beyond the
//   box's in-flight limit). SO_PEERCRED: the peer's credentials at connect()/socketpair() time.
// - Differences from Linux: SO_SNDBUF bounds the bytes queued at the peer (Linux accounts skb
//   memory), no unix garbage collector (reference cycles of in-flight sockets are bounded by the
//   in-flight limit and dropped at box teardown), no autobind on connect with SO_PASSCRED.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../../error.hpp"
#include "../../event/blocking.hpp"
#include "../../event/pollee.hpp"
#include "../../event/waiter.hpp"
#include "../../fd/open_file.hpp"
#include "../../sync/mutex.hpp"
#include "../detail/anon_inode.hpp"
#include "detail/connection.hpp"
#include "namespace.hpp"
#include "types.hpp"

namespace litebox::ipc {

/// What a send carries besides its bytes.
template <typename P>
struct SendExtras {
    std::vector<FilePtr<P>> rights;                   // SCM_RIGHTS (cleared once sent)
    std::shared_ptr<UnixEndpoint<P>> destination;     // sendto: the resolved address
};

template <typename P>
class UnixSocket final : public fd::OpenFile<P>, public std::enable_shared_from_this<UnixSocket<P>> {
    struct Tag {};

public:
    using Namespace = UnixNamespace<P>;
    using Endpoint = UnixEndpoint<P>;

    UnixSocket(Tag, std::shared_ptr<Namespace> ns, SocketType type, std::uint32_t status_flags, const PeerCredentials& owner);
    ~UnixSocket() override;

    /// socket(AF_UNIX, type, 0): `flags` may hold SOCK_NONBLOCK (SOCK_CLOEXEC is the shim's).
    static Result<std::shared_ptr<UnixSocket>> create(std::shared_ptr<Namespace> ns, SocketType type, std::uint32_t flags,
                                                      const PeerCredentials& owner);
    /// socketpair(AF_UNIX, type, 0): two connected sockets whose peer credentials are `owner`.
    static Result<std::pair<std::shared_ptr<UnixSocket>, std::shared_ptr<UnixSocket>>> create_pair(
        std::shared_ptr<Namespace> ns, SocketType type, std::uint32_t flags, const PeerCredentials& owner);

    [[nodiscard]] SocketType type() const noexcept { return m_type; }

    // ---- names -----------------------------------------------------------------------------
    /// bind(2) to an abstract name, or autobind for an unnamed address. A path address is EINVAL
    /// here: paths go through bind_path.
    Result<void> bind(const UnixAddress& address);
    /// bind(2) to a path: creates this socket's endpoint and calls `attach(endpoint)` (a callable
    /// returning Result<void>), in which the file system creates the socket inode (EADDRINUSE if
    /// the path exists) and stores the endpoint in it. Runs with this socket's lock held: attach
    /// must not call back into this socket.
    template <typename Attach>
    Result<void> bind_path(std::string path, Attach&& attach);
    [[nodiscard]] UnixAddress local_address();
    [[nodiscard]] Result<UnixAddress> peer_address();

    // ---- connections -----------------------------------------------------------------------
    Result<void> listen(int backlog);
    Result<void> try_connect(const std::shared_ptr<Endpoint>& to);
    Result<void> connect(const event::WaitContext<P>& ctx, const std::shared_ptr<Endpoint>& to);
    /// connect(2) with AF_UNSPEC on a datagram socket: forget the default destination.
    Result<void> disconnect();
    /// accept4(2): `flags` may hold SOCK_NONBLOCK for the new socket (SOCK_CLOEXEC is the shim's).
    Result<FilePtr<P>> try_accept(std::uint32_t flags = 0);
    Result<FilePtr<P>> accept(const event::WaitContext<P>& ctx, std::uint32_t flags = 0);
    Result<void> shutdown(ShutdownHow how);

    // ---- data ------------------------------------------------------------------------------
    Result<std::size_t> try_send(std::span<const std::byte> data, std::uint32_t flags, SendExtras<P>& extras);
    Result<std::size_t> send(const event::WaitContext<P>& ctx, std::span<const std::byte> data, std::uint32_t flags,
                             SendExtras<P> extras = {});
    Result<Received<P>> try_receive(std::span<std::byte> out, std::uint32_t flags);
    Result<Received<P>> receive(const event::WaitContext<P>& ctx, std::span<std::byte> out, std::uint32_t flags);

    // ---- options and ioctls ----------------------------------------------------------------
    /// SO_PEERCRED (no_peer_credentials without a peer).
    [[nodiscard]] PeerCredentials peer_credentials();
    /// SO_ERROR: the pending error (cleared), or nullopt.
    std::optional<Errno> take_error();
    /// SO_SNDBUF / SO_RCVBUF: setting doubles the value like Linux, within
    /// [min_socket_buffer, UnixLimits::max_buffer].
    [[nodiscard]] std::size_t send_buffer();
    void set_send_buffer(std::size_t requested);
    [[nodiscard]] std::size_t receive_buffer();
    void set_receive_buffer(std::size_t requested);
    /// SO_PASSCRED: receives report the sender's credentials.
    [[nodiscard]] bool pass_credentials();
    void set_pass_credentials(bool on);
    /// SO_ACCEPTCONN.
    [[nodiscard]] bool listening();
    /// FIONREAD / SIOCINQ: bytes queued (datagram: the next message's size); EINVAL if listening.
    Result<std::size_t> bytes_readable();
    /// SIOCOUTQ: bytes sent that the peer has not read (0 for datagrams).
    [[nodiscard]] std::size_t bytes_unsent();

    // ---- OpenFile --------------------------------------------------------------------------
    Result<std::size_t> read(std::span<std::byte> out) override {
        LITEBOX_TRY_ASSIGN(Received<P> r, try_receive(out, 0));
        return r.bytes;
    }
    Result<std::size_t> write(std::span<const std::byte> in) override {
        SendExtras<P> none;
        return try_send(in, 0, none);
    }
    Result<fd::Stat> stat() override { return detail::anonymous_stat(m_inode, fd::mode::socket | 0777); }
    fd::Events poll(fd::Events interest) override;
    event::Pollee<P>* pollee() noexcept override { return &m_pollee; }

private:
    enum class Phase : std::uint8_t { idle, connecting, connected, listening };
    struct Pending {
        std::shared_ptr<detail::Connection<P>> connection;
        UnixAddress client_address;
        PeerCredentials client_credentials;
    };
    struct State {
        Phase phase = Phase::idle;
        std::shared_ptr<Endpoint> binding;
        UnixAddress local;
        // stream / seqpacket, connected
        std::shared_ptr<detail::Connection<P>> connection;
        int side = 0;
        UnixAddress peer_address;
        std::optional<PeerCredentials> peer_credentials;
        // listening
        std::deque<Pending> backlog;
        std::size_t backlog_limit = 0;
        // datagram
        std::weak_ptr<UnixSocket> datagram_peer;
        bool datagram_connected = false;
        std::deque<detail::Message<P>> queue;
        std::size_t queue_charge = 0;
        // not connected (datagram, idle stream) shutdown flags
        bool receive_shut = false;
        bool send_shut = false;
        // sockets to notify (OUT) when this one's queue or backlog has room again
        std::vector<std::weak_ptr<UnixSocket>> space_waiters;
        std::size_t send_buffer = 0;
        std::size_t receive_buffer = 0;
        bool pass_credentials = false;
    };
    /// Sockets registered to be woken when a queue has room (beyond it everyone is woken).
    static constexpr std::size_t max_space_waiters = 1024;

    [[nodiscard]] bool connection_oriented() const noexcept { return m_type != SocketType::datagram; }
    /// Registers `waiter` in s.space_waiters; returns sockets to wake now if the list overflowed.
    static std::vector<std::weak_ptr<UnixSocket>> add_space_waiter(State& s, std::weak_ptr<UnixSocket> waiter);
    static void wake_space_waiters(std::vector<std::weak_ptr<UnixSocket>> waiters);
    Result<void> bind_endpoint(State& s, const UnixAddress& address);

    // Called on the listener by a connecting socket.
    struct Accepted {
        UnixAddress listener_address;
        PeerCredentials listener_credentials;
    };
    Result<Accepted> enqueue_connection(Pending pending, std::weak_ptr<UnixSocket> connector);
    // Called on a datagram receiver by a sender.
    Result<void> deliver(detail::Message<P>& message, UnixSocket& sender);
    Result<std::size_t> send_datagram(std::span<const std::byte> data, SendExtras<P>& extras);
    Result<Received<P>> receive_datagram(std::span<std::byte> out, bool peek);

    const std::shared_ptr<Namespace> m_ns;
    const SocketType m_type;
    const PeerCredentials m_owner;
    const std::uint64_t m_inode;
    sync::Mutex<P, State> m_state;
    event::Pollee<P> m_pollee{event::owner_of(this)};
};

/// socket(AF_UNIX, type | flags, protocol) as the shim receives it: type is SOCK_STREAM,
/// SOCK_DGRAM or SOCK_SEQPACKET (else ESOCKTNOSUPPORT), flags SOCK_NONBLOCK | SOCK_CLOEXEC (else
/// EINVAL), protocol 0 (else EPROTONOSUPPORT).
template <typename P>
Result<std::shared_ptr<fd::OpenFile<P>>> make_unix_socket(std::shared_ptr<UnixNamespace<P>> ns, std::uint32_t type_and_flags,
                                                         int protocol, const PeerCredentials& owner);

/// socketpair(AF_UNIX, type | flags, protocol): the same checks as make_unix_socket.
template <typename P>
Result<std::pair<std::shared_ptr<fd::OpenFile<P>>, std::shared_ptr<fd::OpenFile<P>>>> make_unix_socketpair(
    std::shared_ptr<UnixNamespace<P>> ns, std::uint32_t type_and_flags, int protocol, const PeerCredentials& owner);

/// The UnixSocket behind a file, or nullptr (socket calls on other files: ENOTSOCK).
template <typename P>
UnixSocket<P>* unix_socket_of(fd::OpenFile<P>& file) noexcept {
    return event::owner_as<UnixSocket<P>>(file);
}

}  // namespace litebox::ipc

#include "detail/socket_impl.hpp"
