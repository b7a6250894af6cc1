// Wire formats: IPv4, ICMP, UDP and TCP headers, parsed from untrusted spans and written into
// packet buffers.
//
// Contract: every parse_* function checks each length against the span it was given before it
// reads (never trusting a length field), verifies the checksum where the protocol has one, and
// returns nullopt for anything malformed; the views it returns point into the caller's span.
// IPv4 options are skipped (ignored); fragments (MF set or a non-zero offset) are reported by
// parse_ipv4 with `fragment` set so that the stack can drop them: this stack does not reassemble.
// write_* functions assume the caller sized the buffer (they are used only by the stack itself).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "address.hpp"
#include "checksum.hpp"

namespace litebox::net {

// ---- big-endian field access -------------------------------------------------------------------
inline std::uint16_t load_be16(const std::byte* p) noexcept {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) | std::to_integer<unsigned>(p[1]));
}
inline std::uint32_t load_be32(const std::byte* p) noexcept {
    return (std::uint32_t{load_be16(p)} << 16) | load_be16(p + 2);
}
inline void store_be16(std::byte* p, std::uint16_t v) noexcept {
    p[0] = std::byte(v >> 8);
    p[1] = std::byte(v & 0xff);
}
inline void store_be32(std::byte* p, std::uint32_t v) noexcept {
    store_be16(p, static_cast<std::uint16_t>(v >> 16));
    store_be16(p + 2, static_cast<std::uint16_t>(v));
}

// ---- IPv4 -------------------------------------------------------------------------------------
inline constexpr std::size_t ipv4_header_size = 20;  // without options (we never send options)
inline constexpr std::size_t ipv4_max_packet = 65535;
inline constexpr std::uint8_t ipv4_default_ttl = 64;

struct Ipv4Packet {
    Ipv4Address source;
    Ipv4Address destination;
    std::uint8_t protocol = 0;
    std::uint8_t ttl = 0;
    std::uint16_t identification = 0;
    bool fragment = false;           // MF set or fragment offset non-zero
    std::size_t header_length = 0;   // including options
    std::span<const std::byte> header;   // the whole header (for ICMP errors that quote it)
    std::span<const std::byte> payload;  // exactly total_length - header_length bytes
};

/// Parses an IPv4 packet. Trailing bytes beyond the total length (link padding) are ignored.
inline std::optional<Ipv4Packet> parse_ipv4(std::span<const std::byte> data) noexcept {
    if (data.size() < ipv4_header_size) return std::nullopt;
    const std::byte* p = data.data();
    const unsigned version = std::to_integer<unsigned>(p[0]) >> 4;
    const std::size_t ihl = (std::to_integer<std::size_t>(p[0]) & 0xf) * 4;
    if (version != 4 || ihl < ipv4_header_size || ihl > data.size()) return std::nullopt;
    const std::size_t total = load_be16(p + 2);
    if (total < ihl || total > data.size()) return std::nullopt;
    if (internet_checksum(data.first(ihl)) != 0) return std::nullopt;
    Ipv4Packet out;
    out.identification = load_be16(p + 4);
    const std::uint16_t flags_fragment = load_be16(p + 6);
    out.fragment = (flags_fragment & 0x2000) != 0 || (flags_fragment & 0x1fff) != 0;
    out.ttl = std::to_integer<std::uint8_t>(p[8]);
    out.protocol = std::to_integer<std::uint8_t>(p[9]);
    out.source = Ipv4Address{load_be32(p + 12)};
    out.destination = Ipv4Address{load_be32(p + 16)};
    out.header_length = ihl;
    out.header = data.first(ihl);
    out.payload = data.subspan(ihl, total - ihl);
    return out;
}

/// Writes a 20-byte IPv4 header (DF set, no options) for `payload_length` bytes of payload.
inline void write_ipv4_header(std::byte* out, Ipv4Address source, Ipv4Address destination, std::uint8_t protocol,
                              std::size_t payload_length, std::uint16_t identification,
                              std::uint8_t ttl = ipv4_default_ttl) noexcept {
    out[0] = std::byte{0x45};
    out[1] = std::byte{0};
    store_be16(out + 2, static_cast<std::uint16_t>(ipv4_header_size + payload_length));
    store_be16(out + 4, identification);
    store_be16(out + 6, 0x4000);  // DF
    out[8] = std::byte{ttl};
    out[9] = std::byte{protocol};
    out[10] = out[11] = std::byte{0};
    store_be32(out + 12, source.value());
    store_be32(out + 16, destination.value());
    Checksum c;
    c.add(std::span<const std::byte>(out, ipv4_header_size));
    c.store(out + 10);
}

// ---- ICMP -------------------------------------------------------------------------------------
inline constexpr std::size_t icmp_header_size = 8;
namespace icmp {
inline constexpr std::uint8_t echo_reply = 0;
inline constexpr std::uint8_t destination_unreachable = 3;
inline constexpr std::uint8_t echo_request = 8;
inline constexpr std::uint8_t time_exceeded = 11;
// destination-unreachable codes
inline constexpr std::uint8_t net_unreachable = 0;
inline constexpr std::uint8_t host_unreachable = 1;
inline constexpr std::uint8_t protocol_unreachable = 2;
inline constexpr std::uint8_t port_unreachable = 3;
inline constexpr std::uint8_t fragmentation_needed = 4;
}  // namespace icmp

struct IcmpMessage {
    std::uint8_t type = 0;
    std::uint8_t code = 0;
    std::uint32_t rest = 0;              // identifier/sequence, or unused/next-hop MTU
    std::span<const std::byte> body;     // after the 8-byte header
};

inline std::optional<IcmpMessage> parse_icmp(std::span<const std::byte> data) noexcept {
    if (data.size() < icmp_header_size) return std::nullopt;
    if (internet_checksum(data) != 0) return std::nullopt;
    IcmpMessage m;
    m.type = std::to_integer<std::uint8_t>(data[0]);
    m.code = std::to_integer<std::uint8_t>(data[1]);
    m.rest = load_be32(data.data() + 4);
    m.body = data.subspan(icmp_header_size);
    return m;
}

/// The transport endpoints quoted in an ICMP error: the original IPv4 header plus at least the
/// first 8 bytes of its payload (ports, and the TCP sequence number).
struct IcmpQuote {
    Ipv4Address source;
    Ipv4Address destination;
    std::uint8_t protocol = 0;
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    std::uint32_t tcp_sequence = 0;
};

inline std::optional<IcmpQuote> parse_icmp_quote(std::span<const std::byte> body) noexcept {
    if (body.size() < ipv4_header_size + 8) return std::nullopt;
    const std::byte* p = body.data();
    if ((std::to_integer<unsigned>(p[0]) >> 4) != 4) return std::nullopt;
    const std::size_t ihl = (std::to_integer<std::size_t>(p[0]) & 0xf) * 4;
    if (ihl < ipv4_header_size || body.size() < ihl + 8) return std::nullopt;
    IcmpQuote q;
    q.protocol = std::to_integer<std::uint8_t>(p[9]);
    q.source = Ipv4Address{load_be32(p + 12)};
    q.destination = Ipv4Address{load_be32(p + 16)};
    q.source_port = load_be16(p + ihl);
    q.destination_port = load_be16(p + ihl + 2);
    q.tcp_sequence = load_be32(p + ihl + 4);
    return q;
}

// ---- UDP --------------------------------------------------------------------------------------
inline constexpr std::size_t udp_header_size = 8;

struct UdpDatagram {
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    std::span<const std::byte> payload;
};

/// Parses a UDP datagram carried in an IPv4 packet from `source` to `destination`. A zero
/// checksum means "not computed" (RFC 768) and is accepted.
inline std::optional<UdpDatagram> parse_udp(std::span<const std::byte> data, Ipv4Address source,
                                            Ipv4Address destination) noexcept {
    if (data.size() < udp_header_size) return std::nullopt;
    const std::size_t length = load_be16(data.data() + 4);
    if (length < udp_header_size || length > data.size()) return std::nullopt;
    const auto datagram = data.first(length);
    if (load_be16(data.data() + 6) != 0) {
        Checksum c;
        c.add_pseudo_header(source, destination, static_cast<std::uint8_t>(ipproto::udp), static_cast<std::uint16_t>(length));
        c.add(datagram);
        if (c.finish() != 0) return std::nullopt;
    }
    UdpDatagram d;
    d.source_port = load_be16(data.data());
    d.destination_port = load_be16(data.data() + 2);
    d.payload = datagram.subspan(udp_header_size);
    return d;
}

// ---- TCP --------------------------------------------------------------------------------------
inline constexpr std::size_t tcp_header_size = 20;
inline constexpr std::size_t tcp_max_header_size = 60;
namespace tcp_flags {
inline constexpr std::uint8_t fin = 0x01;
inline constexpr std::uint8_t syn = 0x02;
inline constexpr std::uint8_t rst = 0x04;
inline constexpr std::uint8_t psh = 0x08;
inline constexpr std::uint8_t ack = 0x10;
inline constexpr std::uint8_t urg = 0x20;
}  // namespace tcp_flags
/// Largest window-scale shift (RFC 7323 2.3).
inline constexpr std::uint8_t tcp_max_window_scale = 14;

struct TcpOptions {
    std::optional<std::uint16_t> mss;
    std::optional<std::uint8_t> window_scale;  // clamped to tcp_max_window_scale
    bool sack_permitted = false;                // parsed, not used: this stack does not do SACK
    std::optional<std::uint32_t> timestamp_value;  // parsed, not used
    std::optional<std::uint32_t> timestamp_echo;
};

struct TcpSegment {
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    Seq sequence = 0;
    Seq acknowledgment = 0;
    std::uint8_t flags = 0;
    std::uint16_t window = 0;
    std::uint16_t urgent = 0;
    TcpOptions options;
    std::span<const std::byte> payload;

    [[nodiscard]] bool has(std::uint8_t flag) const noexcept { return (flags & flag) != 0; }
    /// Sequence space the segment occupies: data plus one for each of SYN and FIN.
    [[nodiscard]] std::uint32_t sequence_length() const noexcept {
        return static_cast<std::uint32_t>(payload.size()) + (has(tcp_flags::syn) ? 1u : 0u) + (has(tcp_flags::fin) ? 1u : 0u);
    }
};

/// Parses TCP options; malformed option lists end parsing (what was read so far is kept).
inline TcpOptions parse_tcp_options(std::span<const std::byte> options) noexcept {
    TcpOptions out;
    std::size_t i = 0;
    while (i < options.size()) {
        const auto kind = std::to_integer<std::uint8_t>(options[i]);
        if (kind == 0) break;  // end of list
        if (kind == 1) {       // no-op
            ++i;
            continue;
        }
        if (i + 1 >= options.size()) break;
        const auto length = std::to_integer<std::size_t>(options[i + 1]);
        if (length < 2 || i + length > options.size()) break;
        const std::byte* v = options.data() + i + 2;
        switch (kind) {
            case 2:
                if (length == 4) out.mss = load_be16(v);
                break;
            case 3:
                if (length == 3) {
                    const auto shift = std::to_integer<std::uint8_t>(v[0]);
                    out.window_scale = shift > tcp_max_window_scale ? tcp_max_window_scale : shift;
                }
                break;
            case 4:
                if (length == 2) out.sack_permitted = true;
                break;
            case 8:
                if (length == 10) {
                    out.timestamp_value = load_be32(v);
                    out.timestamp_echo = load_be32(v + 4);
                }
                break;
            default:
                break;  // unknown options are skipped
        }
        i += length;
    }
    return out;
}

/// Parses and checksums a TCP segment carried from `source` to `destination`.
inline std::optional<TcpSegment> parse_tcp(std::span<const std::byte> data, Ipv4Address source,
                                           Ipv4Address destination) noexcept {
    if (data.size() < tcp_header_size || data.size() > ipv4_max_packet) return std::nullopt;
    const std::byte* p = data.data();
    const std::size_t offset = (std::to_integer<std::size_t>(p[12]) >> 4) * 4;
    if (offset < tcp_header_size || offset > data.size()) return std::nullopt;
    Checksum c;
    c.add_pseudo_header(source, destination, static_cast<std::uint8_t>(ipproto::tcp), static_cast<std::uint16_t>(data.size()));
    c.add(data);
    if (c.finish() != 0) return std::nullopt;
    TcpSegment s;
    s.source_port = load_be16(p);
    s.destination_port = load_be16(p + 2);
    s.sequence = load_be32(p + 4);
    s.acknowledgment = load_be32(p + 8);
    s.flags = static_cast<std::uint8_t>(std::to_integer<unsigned>(p[13]) & 0x3f);
    s.window = load_be16(p + 14);
    s.urgent = load_be16(p + 18);
    s.options = parse_tcp_options(data.subspan(tcp_header_size, offset - tcp_header_size));
    s.payload = data.subspan(offset);
    return s;
}

/// What the stack puts into an outgoing TCP header.
struct TcpHeaderFields {
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    Seq sequence = 0;
    Seq acknowledgment = 0;
    std::uint8_t flags = 0;
    std::uint16_t window = 0;
    std::optional<std::uint16_t> mss;           // SYN only
    std::optional<std::uint8_t> window_scale;   // SYN only
};

/// Size of the header write_tcp_header produces for these fields.
inline std::size_t tcp_header_length(const TcpHeaderFields& f) noexcept {
    std::size_t n = tcp_header_size;
    if (f.mss) n += 4;
    if (f.window_scale) n += 4;  // NOP + 3-byte option
    return n;
}

/// Writes the header at `out` (payload must follow it in the same buffer) and the checksum over
/// header and payload.
inline void write_tcp_header(std::byte* out, const TcpHeaderFields& f, Ipv4Address source, Ipv4Address destination,
                             std::size_t payload_length) noexcept {
    const std::size_t header_length = tcp_header_length(f);
    store_be16(out, f.source_port);
    store_be16(out + 2, f.destination_port);
    store_be32(out + 4, f.sequence);
    store_be32(out + 8, f.acknowledgment);
    out[12] = std::byte(static_cast<std::uint8_t>((header_length / 4) << 4));
    out[13] = std::byte{f.flags};
    store_be16(out + 14, f.window);
    out[16] = out[17] = std::byte{0};
    store_be16(out + 18, 0);
    std::byte* o = out + tcp_header_size;
    if (f.mss) {
        o[0] = std::byte{2};
        o[1] = std::byte{4};
        store_be16(o + 2, *f.mss);
        o += 4;
    }
    if (f.window_scale) {
        o[0] = std::byte{1};
        o[1] = std::byte{3};
        o[2] = std::byte{3};
        o[3] = std::byte{*f.window_scale};
    }
    const std::size_t length = header_length + payload_length;
    Checksum c;
    c.add_pseudo_header(source, destination, static_cast<std::uint8_t>(ipproto::tcp), static_cast<std::uint16_t>(length));
    c.add(std::span<const std::byte>(out, length));
    c.store(out + 16);
}

/// Writes a UDP header for `payload_length` bytes that follow it, with the checksum.
inline void write_udp_header(std::byte* out, std::uint16_t source_port, std::uint16_t destination_port,
                             Ipv4Address source, Ipv4Address destination, std::size_t payload_length) noexcept {
    const auto length = static_cast<std::uint16_t>(udp_header_size + payload_length);
    store_be16(out, source_port);
    store_be16(out + 2, destination_port);
    store_be16(out + 4, length);
    out[6] = out[7] = std::byte{0};
    Checksum c;
    c.add_pseudo_header(source, destination, static_cast<std::uint8_t>(ipproto::udp), length);
    c.add(std::span<const std::byte>(out, length));
    std::uint16_t sum = c.finish();
    if (sum == 0) sum = 0xffff;  // zero would mean "no checksum"
    std::memcpy(out + 6, &sum, 2);
}

/// Writes an ICMP header (checksum over header and the `body_length` bytes that follow).
inline void write_icmp_header(std::byte* out, std::uint8_t type, std::uint8_t code, std::uint32_t rest,
                              std::size_t body_length) noexcept {
    out[0] = std::byte{type};
    out[1] = std::byte{code};
    out[2] = out[3] = std::byte{0};
    store_be32(out + 4, rest);
    Checksum c;
    c.add(std::span<const std::byte>(out, icmp_header_size + body_length));
    c.store(out + 2);
}

}  // namespace litebox::net
