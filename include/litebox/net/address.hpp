// IPv4 addresses, endpoints and the socket constants of the north API (Linux values).
//
// Contract: Ipv4Address holds an address in host byte order; to_bytes()/from_bytes() convert to
// and from the network byte order of packets and sockaddr_in. parse() accepts only the dotted quad
// "a.b.c.d" with each part 0..255 and returns nullopt for anything else. IPv6 is not implemented
// yet (AF_INET6 sockets fail with EAFNOSUPPORT).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace litebox::net {

class Ipv4Address {
public:
    constexpr Ipv4Address() noexcept = default;
    constexpr explicit Ipv4Address(std::uint32_t host_order) noexcept : m_value(host_order) {}
    constexpr Ipv4Address(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept
        : m_value((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d) {}

    static constexpr Ipv4Address any() noexcept { return Ipv4Address{}; }
    static constexpr Ipv4Address loopback() noexcept { return Ipv4Address{127, 0, 0, 1}; }
    static constexpr Ipv4Address broadcast() noexcept { return Ipv4Address{0xffffffffu}; }

    [[nodiscard]] constexpr std::uint32_t value() const noexcept { return m_value; }
    [[nodiscard]] constexpr bool is_any() const noexcept { return m_value == 0; }
    [[nodiscard]] constexpr bool is_loopback() const noexcept { return (m_value >> 24) == 127; }
    [[nodiscard]] constexpr bool is_multicast() const noexcept { return (m_value >> 28) == 0xe; }
    [[nodiscard]] constexpr bool is_broadcast() const noexcept { return m_value == 0xffffffffu; }

    /// Network byte order.
    [[nodiscard]] constexpr std::array<std::uint8_t, 4> to_bytes() const noexcept {
        return {static_cast<std::uint8_t>(m_value >> 24), static_cast<std::uint8_t>(m_value >> 16),
                static_cast<std::uint8_t>(m_value >> 8), static_cast<std::uint8_t>(m_value)};
    }
    static constexpr Ipv4Address from_bytes(const std::array<std::uint8_t, 4>& b) noexcept {
        return Ipv4Address{b[0], b[1], b[2], b[3]};
    }

    /// "a.b.c.d" (no leading '+', no empty parts, at most three digits per part).
    static constexpr std::optional<Ipv4Address> parse(std::string_view text) noexcept {
        std::uint32_t result = 0;
        int parts = 0;
        std::size_t i = 0;
        while (parts < 4) {
            std::uint32_t part = 0;
            int digits = 0;
            while (i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 4) {
                part = part * 10 + static_cast<std::uint32_t>(text[i] - '0');
                ++i;
                ++digits;
            }
            if (digits == 0 || digits > 3 || part > 255) return std::nullopt;
            result = (result << 8) | part;
            ++parts;
            if (parts < 4) {
                if (i >= text.size() || text[i] != '.') return std::nullopt;
                ++i;
            }
        }
        if (i != text.size()) return std::nullopt;
        return Ipv4Address{result};
    }

    [[nodiscard]] std::string to_string() const {
        const auto b = to_bytes();
        std::string out;
        for (int i = 0; i < 4; ++i) {
            if (i != 0) out += '.';
            out += std::to_string(b[static_cast<std::size_t>(i)]);
        }
        return out;
    }

    /// True when both addresses share the first `prefix` bits.
    [[nodiscard]] constexpr bool same_subnet(Ipv4Address other, unsigned prefix) const noexcept {
        if (prefix == 0) return true;
        if (prefix >= 32) return m_value == other.m_value;
        const std::uint32_t mask = ~std::uint32_t{0} << (32 - prefix);
        return (m_value & mask) == (other.m_value & mask);
    }

    friend constexpr auto operator<=>(Ipv4Address, Ipv4Address) noexcept = default;

private:
    std::uint32_t m_value = 0;
};

/// An IPv4 address and a port (host byte order): what sockaddr_in holds.
struct Endpoint {
    Ipv4Address address;
    std::uint16_t port = 0;
    friend constexpr auto operator<=>(const Endpoint&, const Endpoint&) noexcept = default;
};

/// Socket constants as Linux numbers them; the shim passes these through unchanged.
namespace af {
inline constexpr int unspec = 0;
inline constexpr int unix_ = 1;
inline constexpr int inet = 2;
inline constexpr int inet6 = 10;
}  // namespace af

enum class SocketType : int { stream = 1, datagram = 2, raw = 3 };

namespace ipproto {
inline constexpr int ip = 0;
inline constexpr int icmp = 1;
inline constexpr int tcp = 6;
inline constexpr int udp = 17;
}  // namespace ipproto

/// socket(2) type flags.
namespace sock_flags {
inline constexpr int nonblock = 04000;
inline constexpr int close_on_exec = 02000000;
inline constexpr int type_mask = 0xf;
}  // namespace sock_flags

/// Option levels and names for setsockopt/getsockopt.
namespace sol {
inline constexpr int socket = 1;
inline constexpr int ip = 0;
inline constexpr int tcp = 6;
}  // namespace sol
namespace so {
inline constexpr int debug = 1;
inline constexpr int reuseaddr = 2;
inline constexpr int type = 3;
inline constexpr int error = 4;
inline constexpr int dontroute = 5;
inline constexpr int broadcast = 6;
inline constexpr int sndbuf = 7;
inline constexpr int rcvbuf = 8;
inline constexpr int keepalive = 9;
inline constexpr int oobinline = 10;
inline constexpr int linger = 13;
inline constexpr int reuseport = 15;
inline constexpr int rcvlowat = 18;
inline constexpr int sndlowat = 19;
inline constexpr int rcvtimeo = 20;
inline constexpr int sndtimeo = 21;
inline constexpr int acceptconn = 30;
inline constexpr int protocol = 38;
inline constexpr int domain = 39;
}  // namespace so
/// SOL_IP options.
namespace ip_opt {
inline constexpr int recverr = 11;  // IP_RECVERR
}  // namespace ip_opt
namespace tcp_opt {
inline constexpr int nodelay = 1;
inline constexpr int maxseg = 2;
inline constexpr int keepidle = 4;
inline constexpr int keepintvl = 5;
inline constexpr int keepcnt = 6;
}  // namespace tcp_opt

/// send/recv flags.
namespace msg {
inline constexpr int oob = 0x1;
inline constexpr int peek = 0x2;
inline constexpr int dontroute = 0x4;
inline constexpr int trunc = 0x20;
inline constexpr int dontwait = 0x40;
inline constexpr int eor = 0x80;
inline constexpr int waitall = 0x100;
inline constexpr int nosignal = 0x4000;
inline constexpr int more = 0x8000;
}  // namespace msg

enum class ShutdownHow : int { read = 0, write = 1, both = 2 };

}  // namespace litebox::net
