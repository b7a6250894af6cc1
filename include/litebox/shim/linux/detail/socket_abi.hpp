// Socket ABI decoding for the shim's socket family: socket addresses copied in and out with
// Linux's length rules (move_addr_to_kernel / move_addr_to_user), AF_UNIX and AF_INET address
// conversion, and the control messages of sendmsg/recvmsg (SCM_RIGHTS, SCM_CREDENTIALS).
//
// Contract: everything here works on bytes already copied in from the guest (or to be copied out
// once); decoding never reads guest memory twice. Malformed input is an errno (EINVAL, EFAULT,
// EAFNOSUPPORT), never an abort.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../../../error.hpp"
#include "../../../ipc/unix/types.hpp"
#include "../../../net/address.hpp"
#include "../abi.hpp"
#include "../guest_memory.hpp"

namespace litebox::shim::linux_abi::socket_detail {

// ---- constants (Linux x86-64 numbering) --------------------------------------------------------
inline constexpr int af_unspec = 0;
inline constexpr int af_unix = 1;
inline constexpr int af_inet = 2;
inline constexpr int af_inet6 = 10;
/// AF_MAX: families at or above it are EAFNOSUPPORT without further checks.
inline constexpr int af_max = 46;
/// SOCK_MAX: socket types at or above it are EINVAL.
inline constexpr int sock_max = 11;
inline constexpr int sock_dgram = 2;
inline constexpr int sock_raw = 3;
inline constexpr int sol_socket = 1;
inline constexpr int scm_rights = 1;
inline constexpr int scm_credentials = 2;
inline constexpr int so_passcred = 16;
inline constexpr int so_peercred = 17;
/// Control bytes sendmsg accepts (net.core.optmem_max); ENOBUFS beyond.
inline constexpr std::size_t max_control_bytes = 20480;
/// Option bytes setsockopt copies in (every option the shim knows is smaller).
inline constexpr std::size_t max_option_bytes = 256;

constexpr std::size_t cmsg_align(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }
constexpr std::size_t cmsg_len(std::size_t data) noexcept { return sizeof(abi::cmsghdr) + data; }
constexpr std::size_t cmsg_space(std::size_t data) noexcept { return sizeof(abi::cmsghdr) + cmsg_align(data); }

// ---- addresses ---------------------------------------------------------------------------------
/// A socket address as copied in or to be copied out: at most sizeof(sockaddr_storage) bytes.
struct SocketAddress {
    std::array<std::byte, abi::sockaddr_storage_size> bytes{};
    std::size_t length = 0;

    /// sa_family, or -1 when the address is shorter than the family field.
    [[nodiscard]] int family() const noexcept {
        if (length < 2) return -1;
        std::uint16_t f = 0;
        std::memcpy(&f, bytes.data(), 2);
        return f;
    }
    [[nodiscard]] std::span<const std::byte> view() const noexcept { return std::span<const std::byte>(bytes).first(length); }
};

/// move_addr_to_kernel: EINVAL for a negative length or one above sockaddr_storage; a zero
/// length copies nothing (the address may be null).
template <typename P>
Result<SocketAddress> read_address(std::uintptr_t address, std::int64_t length) {
    if (length < 0 || static_cast<std::uint64_t>(length) > abi::sockaddr_storage_size) return Errno::inval;
    SocketAddress a;
    a.length = static_cast<std::size_t>(length);
    LITEBOX_TRY(Guest<P>::read_bytes(address, std::span<std::byte>(a.bytes).first(a.length)));
    return a;
}

/// move_addr_to_user: reads the guest's room from `length_address` (EINVAL if negative), writes
/// that much of `full` to `address` (truncating) and the full length back.
template <typename P>
Result<void> write_address(std::uintptr_t address, std::uintptr_t length_address, const SocketAddress& full) {
    LITEBOX_TRY_ASSIGN(const std::int32_t room, Guest<P>::template read<std::int32_t>(length_address));
    if (room < 0) return Errno::inval;
    const std::size_t n = std::min(static_cast<std::size_t>(room), full.length);
    LITEBOX_TRY(Guest<P>::write_bytes(address, full.view().first(n)));
    return Guest<P>::write(length_address, static_cast<std::int32_t>(full.length));
}

/// struct sockaddr_un as Linux reports `a`: family only (2 bytes) for an unnamed socket, or no
/// bytes at all when `unnamed_is_empty` (recvfrom from an unnamed sender); family + path + NUL;
/// family + NUL + abstract name.
inline SocketAddress encode_unix(const ipc::UnixAddress& a, bool unnamed_is_empty = false) {
    SocketAddress out;
    if (a.kind == ipc::UnixAddress::Kind::unnamed && unnamed_is_empty) return out;
    const std::uint16_t family = af_unix;
    std::memcpy(out.bytes.data(), &family, 2);
    out.length = 2;
    const std::size_t room = sizeof(abi::sockaddr_un) - 2;
    if (a.kind == ipc::UnixAddress::Kind::path) {
        const std::size_t n = std::min(a.name.size(), room - 1);
        std::memcpy(out.bytes.data() + 2, a.name.data(), n);
        out.length = 2 + n + 1;  // the NUL is already there
    } else if (a.kind == ipc::UnixAddress::Kind::abstract) {
        const std::size_t n = std::min(a.name.size(), room - 1);
        std::memcpy(out.bytes.data() + 3, a.name.data(), n);
        out.length = 3 + n;
    }
    return out;
}

/// unix_validate_addr + unix_mkname: EINVAL unless 2 < length <= sizeof(sockaddr_un) and the
/// family is AF_UNIX. A path ends at its first NUL (or at the length); a leading NUL makes the
/// rest an abstract name (NULs included).
inline Result<ipc::UnixAddress> decode_unix(const SocketAddress& a) {
    if (a.length <= 2 || a.length > sizeof(abi::sockaddr_un) || a.family() != af_unix) return Errno::inval;
    const char* path = reinterpret_cast<const char*>(a.bytes.data() + 2);
    const std::size_t n = a.length - 2;
    if (path[0] == '\0') return ipc::UnixAddress::abstract(std::string(path + 1, n - 1));
    return ipc::UnixAddress::path(std::string(path, static_cast<std::size_t>(std::find(path, path + n, '\0') - path)));
}

/// struct sockaddr_in of an endpoint (network byte order inside).
inline SocketAddress encode_inet(const net::Endpoint& e) {
    SocketAddress out;
    const std::uint16_t family = af_inet;
    std::memcpy(out.bytes.data(), &family, 2);
    out.bytes[2] = static_cast<std::byte>(e.port >> 8);
    out.bytes[3] = static_cast<std::byte>(e.port & 0xff);
    const auto b = e.address.to_bytes();
    for (std::size_t i = 0; i < 4; ++i) out.bytes[4 + i] = static_cast<std::byte>(b[i]);
    out.length = sizeof(abi::sockaddr_in);
    return out;
}

/// An AF_INET address: EINVAL when shorter than sockaddr_in, EAFNOSUPPORT for another family
/// (AF_UNSPEC with `unspec_is_any`: bind's tolerance of AF_UNSPEC for INADDR_ANY).
inline Result<net::Endpoint> decode_inet(const SocketAddress& a, bool unspec_is_any = false) {
    if (a.length < sizeof(abi::sockaddr_in)) return Errno::inval;
    const auto u8 = [&](std::size_t i) { return std::to_integer<std::uint8_t>(a.bytes[i]); };
    net::Endpoint e;
    e.port = static_cast<std::uint16_t>((u8(2) << 8) | u8(3));
    e.address = net::Ipv4Address::from_bytes({u8(4), u8(5), u8(6), u8(7)});
    if (a.family() == af_inet) return e;
    if (unspec_is_any && a.family() == af_unspec && e.address.is_any()) return e;
    return Errno::afnosupport;
}

// ---- control messages --------------------------------------------------------------------------
/// What sendmsg's control buffer asks for.
struct ControlIn {
    std::vector<std::int32_t> rights;        // SCM_RIGHTS descriptors, in order
    std::optional<abi::ucred> credentials;   // SCM_CREDENTIALS
    bool other_socket_level = false;         // another SOL_SOCKET message (EINVAL for AF_UNIX)
};

/// __scm_send's walk: EINVAL for a header whose cmsg_len is short or runs past the buffer, for
/// more than SCM_MAX_FD descriptors, or a malformed SCM_CREDENTIALS. Other levels are skipped.
inline Result<ControlIn> parse_control(std::span<const std::byte> control) {
    ControlIn in;
    std::size_t offset = 0;
    while (control.size() >= offset + sizeof(abi::cmsghdr)) {
        abi::cmsghdr h;
        std::memcpy(&h, control.data() + offset, sizeof h);
        if (h.cmsg_len < sizeof(abi::cmsghdr) || h.cmsg_len > control.size() - offset) return Errno::inval;
        const auto data = control.subspan(offset + sizeof h, static_cast<std::size_t>(h.cmsg_len) - sizeof h);
        if (h.cmsg_level == sol_socket) {
            if (h.cmsg_type == scm_rights) {
                const std::size_t n = data.size() / sizeof(std::int32_t);
                if (in.rights.size() + n > ipc::max_rights_per_message) return Errno::inval;
                for (std::size_t i = 0; i < n; ++i) {
                    std::int32_t fd = 0;
                    std::memcpy(&fd, data.data() + i * sizeof fd, sizeof fd);
                    in.rights.push_back(fd);
                }
            } else if (h.cmsg_type == scm_credentials) {
                if (h.cmsg_len != cmsg_len(sizeof(abi::ucred))) return Errno::inval;
                abi::ucred c;
                std::memcpy(&c, data.data(), sizeof c);
                in.credentials = c;
            } else {
                in.other_socket_level = true;
            }
        }
        offset += cmsg_align(static_cast<std::size_t>(h.cmsg_len));
    }
    return in;
}

/// recvmsg's control buffer, filled within `room` bytes as put_cmsg / scm_detach_fds do.
class ControlOut {
public:
    explicit ControlOut(std::size_t room) : m_room(room) {}

    /// Appends one message; MSG_CTRUNC (and a cut message) when it does not fit.
    void put(int level, int type, std::span<const std::byte> data) {
        const std::size_t left = m_room - m_bytes.size();
        if (left < sizeof(abi::cmsghdr)) {
            m_flags |= ipc::msg_flags::ctrunc;
            return;
        }
        std::size_t length = cmsg_len(data.size());
        if (left < length) {
            m_flags |= ipc::msg_flags::ctrunc;
            length = left;
        }
        const abi::cmsghdr h{length, level, type};
        const std::size_t start = m_bytes.size();
        m_bytes.resize(start + std::min(cmsg_space(data.size()), left));
        std::memcpy(m_bytes.data() + start, &h, sizeof h);
        std::memcpy(m_bytes.data() + start + sizeof h, data.data(), length - sizeof h);
    }
    /// How many SCM_RIGHTS descriptors still fit.
    [[nodiscard]] std::size_t rights_room() const noexcept {
        const std::size_t left = m_room - m_bytes.size();
        return left > sizeof(abi::cmsghdr) ? (left - sizeof(abi::cmsghdr)) / sizeof(std::int32_t) : 0;
    }
    void truncated() noexcept { m_flags |= ipc::msg_flags::ctrunc; }

    [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return m_bytes; }
    [[nodiscard]] std::uint32_t flags() const noexcept { return m_flags; }

private:
    std::size_t m_room;
    std::vector<std::byte> m_bytes;
    std::uint32_t m_flags = 0;
};

}  // namespace litebox::shim::linux_abi::socket_detail
