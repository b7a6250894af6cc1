// Plain types of the unix-domain socket API: socket types and flags, message flags, addresses,
// credentials and the configurable limits. Values are Linux x86-64's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../../fd/open_file.hpp"

namespace litebox::ipc {

/// socket(2) types a unix socket can have (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET).
enum class SocketType : int { stream = 1, datagram = 2, seqpacket = 5 };

/// Flags or'ed into socket(2)'s / socketpair(2)'s type and accept4(2)'s flags.
namespace socket_flags {
inline constexpr std::uint32_t nonblock = fd::open_flags::nonblock;            // SOCK_NONBLOCK
inline constexpr std::uint32_t close_on_exec = fd::open_flags::close_on_exec;  // SOCK_CLOEXEC
inline constexpr std::uint32_t type_mask = 0xf;
}  // namespace socket_flags

/// send/recv flags (MSG_*).
namespace msg_flags {
inline constexpr std::uint32_t oob = 0x1;
inline constexpr std::uint32_t peek = 0x2;
inline constexpr std::uint32_t ctrunc = 0x8;
inline constexpr std::uint32_t trunc = 0x20;
inline constexpr std::uint32_t dontwait = 0x40;
inline constexpr std::uint32_t eor = 0x80;
inline constexpr std::uint32_t waitall = 0x100;
inline constexpr std::uint32_t nosignal = 0x4000;
inline constexpr std::uint32_t cmsg_cloexec = 0x40000000;
}  // namespace msg_flags

/// shutdown(2)'s `how`.
enum class ShutdownHow : int { read = 0, write = 1, both = 2 };

/// struct ucred: what SO_PEERCRED and SCM_CREDENTIALS report. The shim fills it from the calling
/// process (pid, effective uid and gid) when it creates a socket.
struct PeerCredentials {
    std::int32_t pid = 0;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    friend constexpr bool operator==(const PeerCredentials&, const PeerCredentials&) = default;
};
/// What SO_PEERCRED reports for a socket without a peer (Linux: pid 0, uid and gid -1).
inline constexpr PeerCredentials no_peer_credentials{0, 0xffffffffu, 0xffffffffu};

/// sizeof(sun_path): paths are shorter, abstract names (after the leading NUL) at most 107 bytes.
inline constexpr std::size_t unix_path_max = 108;

/// A unix socket address as getsockname/getpeername/recvfrom report it.
struct UnixAddress {
    enum class Kind : std::uint8_t { unnamed, path, abstract };
    Kind kind = Kind::unnamed;
    std::string name;  // the path, or the abstract name without its leading NUL (may hold NULs)

    static UnixAddress unnamed() { return {}; }
    static UnixAddress path(std::string p) { return UnixAddress{Kind::path, std::move(p)}; }
    static UnixAddress abstract(std::string n) { return UnixAddress{Kind::abstract, std::move(n)}; }
    friend bool operator==(const UnixAddress&, const UnixAddress&) = default;
};

/// Per-box limits of the unix socket layer. Every queue is bounded by one of these.
struct UnixLimits {
    /// SO_SNDBUF / SO_RCVBUF of a new socket (net.core.wmem_default).
    std::size_t default_buffer = 212992;
    /// The largest SO_SNDBUF / SO_RCVBUF a socket can be given (after Linux's doubling).
    std::size_t max_buffer = 4 * 1024 * 1024;
    /// listen(2)'s backlog is capped here (SOMAXCONN).
    std::size_t max_backlog = 4096;
    /// Datagrams queued at a socket that is not connected back to the sender (Linux: 10 by
    /// default, 512 under systemd; sockets connected to each other are bounded by bytes only).
    std::size_t max_datagram_queue = 512;
    /// Abstract names bound at once in the box.
    std::size_t max_abstract_names = 65536;
    /// Files in flight in SCM_RIGHTS messages in the box at once (ETOOMANYREFS beyond it).
    std::size_t max_in_flight_files = 4096;
};

/// SCM_MAX_FD: descriptors in one SCM_RIGHTS message.
inline constexpr std::size_t max_rights_per_message = 253;
/// The smallest SO_SNDBUF / SO_RCVBUF (Linux's SOCK_MIN_SNDBUF).
inline constexpr std::size_t min_socket_buffer = 4608;
/// Bytes each queued message is charged besides its payload (bounds the number of messages).
inline constexpr std::size_t message_overhead = 256;

template <typename P>
using FilePtr = std::shared_ptr<fd::OpenFile<P>>;

/// What a receive returns besides the bytes it copied.
template <typename P>
struct Received {
    std::size_t bytes = 0;           // copied into the caller's buffer
    std::size_t message_length = 0;  // datagram / seqpacket: the whole message's length
    std::uint32_t flags = 0;         // msg_flags::trunc when the message did not fit
    UnixAddress source;              // the sender's address (datagrams; else the peer's)
    std::vector<FilePtr<P>> rights;  // SCM_RIGHTS: the shim installs them (MSG_CMSG_CLOEXEC) and
                                     // drops what does not fit the control buffer (MSG_CTRUNC)
    std::optional<PeerCredentials> credentials;  // SCM_CREDENTIALS, when SO_PASSCRED is set
};

}  // namespace litebox::ipc
