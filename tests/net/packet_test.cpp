// Wire formats: handcrafted packets, checksums, truncation and sequence arithmetic.
#include <catch2/catch.hpp>
#include <litebox/net/packet.hpp>

#include <vector>

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::net;

namespace {
std::vector<std::byte> bytes(std::initializer_list<unsigned> values) {
    std::vector<std::byte> out;
    for (unsigned v : values) out.push_back(std::byte(v));
    return out;
}
// A slow, obviously-correct RFC 1071 sum over big-endian 16-bit words.
std::uint16_t naive_checksum(const std::vector<std::byte>& data) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < data.size(); i += 2) {
        std::uint32_t word = std::to_integer<std::uint32_t>(data[i]) << 8;
        if (i + 1 < data.size()) word |= std::to_integer<std::uint32_t>(data[i + 1]);
        sum += word;
    }
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}
std::uint16_t stored_as_be(std::uint16_t memory_order) {
    std::byte b[2];
    std::memcpy(b, &memory_order, 2);
    return load_be16(b);
}
}  // namespace

TEST_CASE("net: checksum matches RFC 1071 for every length and split", "[net][packet]") {
    std::vector<std::byte> data;
    std::uint32_t x = 12345;
    for (int i = 0; i < 301; ++i) {
        x = x * 1103515245u + 12345u;
        data.push_back(std::byte(x >> 16));
    }
    for (std::size_t n = 0; n <= data.size(); n += 7) {
        std::vector<std::byte> part(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
        CHECK(stored_as_be(internet_checksum(part)) == naive_checksum(part));
        // The same bytes added in two spans split at an odd point give the same sum.
        for (std::size_t split : {std::size_t{0}, n / 3, n / 2 + 1}) {
            if (split > n) continue;
            Checksum c;
            c.add(std::span<const std::byte>(part).first(split));
            c.add(std::span<const std::byte>(part).subspan(split));
            CHECK(c.finish() == internet_checksum(part));
        }
    }
}

TEST_CASE("net: parse a known IPv4 header", "[net][packet]") {
    // 192.168.0.1 -> 192.168.0.199, UDP, checksum 0xb861 (the classic textbook example).
    auto packet = bytes({0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61 + 0, 0xc0, 0xa8, 0x00,
                         0x01, 0xc0, 0xa8, 0x00, 0xc7});
    // Recompute the checksum for total length 0x1c (the textbook header has 0x73).
    packet[10] = packet[11] = std::byte{0};
    const auto sum = naive_checksum(packet);
    store_be16(packet.data() + 10, sum);
    for (int i = 0; i < 8; ++i) packet.push_back(std::byte(i));
    auto ip = parse_ipv4(packet);
    REQUIRE(ip);
    CHECK(ip->source == Ipv4Address(192, 168, 0, 1));
    CHECK(ip->destination == Ipv4Address(192, 168, 0, 199));
    CHECK(ip->protocol == 17);
    CHECK(ip->ttl == 64);
    CHECK_FALSE(ip->fragment);
    CHECK(ip->payload.size() == 8);

    SECTION("a wrong header checksum is rejected") {
        packet[10] ^= std::byte{1};
        CHECK_FALSE(parse_ipv4(packet));
    }
    SECTION("a total length beyond the buffer is rejected") {
        store_be16(packet.data() + 2, 29);
        store_be16(packet.data() + 10, 0);
        auto copy = packet;
        copy.resize(20);
        store_be16(packet.data() + 10, naive_checksum(copy));
        CHECK_FALSE(parse_ipv4(packet));
    }
    SECTION("a fragment is flagged") {
        store_be16(packet.data() + 6, 0x2000);
        store_be16(packet.data() + 10, 0);
        auto copy = packet;
        copy.resize(20);
        store_be16(packet.data() + 10, naive_checksum(copy));
        auto frag = parse_ipv4(packet);
        REQUIRE(frag);
        CHECK(frag->fragment);
    }
    SECTION("options are skipped") {
        std::vector<std::byte> with_options(packet.begin(), packet.begin() + 20);
        with_options[0] = std::byte{0x46};
        for (int i = 0; i < 4; ++i) with_options.push_back(std::byte{1});  // NOPs
        for (int i = 0; i < 8; ++i) with_options.push_back(std::byte(i));
        store_be16(with_options.data() + 2, 32);
        store_be16(with_options.data() + 10, 0);
        std::vector<std::byte> header(with_options.begin(), with_options.begin() + 24);
        store_be16(with_options.data() + 10, naive_checksum(header));
        auto parsed = parse_ipv4(with_options);
        REQUIRE(parsed);
        CHECK(parsed->header_length == 24);
        CHECK(parsed->payload.size() == 8);
        CHECK(std::to_integer<int>(parsed->payload[3]) == 3);
    }
    SECTION("every truncation is rejected without reading past the end") {
        for (std::size_t n = 0; n < packet.size(); ++n) {
            std::vector<std::byte> cut(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(n));
            CHECK_FALSE(parse_ipv4(cut));
        }
    }
}

TEST_CASE("net: TCP header with options round-trips and checksums", "[net][packet]") {
    const Ipv4Address a(10, 0, 2, 15), b(10, 0, 2, 2);
    TcpHeaderFields f;
    f.source_port = 40000;
    f.destination_port = 80;
    f.sequence = 0xfffffff0u;
    f.acknowledgment = 7;
    f.flags = tcp_flags::syn | tcp_flags::ack;
    f.window = 65535;
    f.mss = 1460;
    f.window_scale = 7;
    const std::size_t header = tcp_header_length(f);
    CHECK(header == 28);
    std::vector<std::byte> seg(header + 3);
    seg[header] = std::byte{'a'};
    seg[header + 1] = std::byte{'b'};
    seg[header + 2] = std::byte{'c'};
    write_tcp_header(seg.data(), f, a, b, 3);

    // Independent check of the checksum with the pseudo-header.
    std::vector<std::byte> pseudo = bytes({10, 0, 2, 15, 10, 0, 2, 2, 0, 6, 0, static_cast<unsigned>(seg.size())});
    pseudo.insert(pseudo.end(), seg.begin(), seg.end());
    CHECK(naive_checksum(pseudo) == 0);

    auto s = parse_tcp(seg, a, b);
    REQUIRE(s);
    CHECK(s->source_port == 40000);
    CHECK(s->destination_port == 80);
    CHECK(s->sequence == 0xfffffff0u);
    CHECK(s->acknowledgment == 7);
    CHECK(s->has(tcp_flags::syn));
    CHECK(s->has(tcp_flags::ack));
    CHECK(s->options.mss == std::optional<std::uint16_t>(1460));
    CHECK(s->options.window_scale == std::optional<std::uint8_t>(7));
    CHECK(s->payload.size() == 3);
    CHECK(s->sequence_length() == 4);

    SECTION("a wrong address in the pseudo-header fails the checksum") { CHECK_FALSE(parse_tcp(seg, a, Ipv4Address(10, 0, 2, 3))); }
    SECTION("a flipped payload bit fails the checksum") {
        seg.back() ^= std::byte{0x10};
        CHECK_FALSE(parse_tcp(seg, a, b));
    }
    SECTION("a data offset beyond the segment is rejected") {
        seg[12] = std::byte{0xf0};
        CHECK_FALSE(parse_tcp(seg, a, b));
    }
    SECTION("every truncation is rejected") {
        for (std::size_t n = 0; n < seg.size(); ++n) {
            std::vector<std::byte> cut(seg.begin(), seg.begin() + static_cast<std::ptrdiff_t>(n));
            CHECK_FALSE(parse_tcp(cut, a, b));
        }
    }
}

TEST_CASE("net: TCP option parsing tolerates garbage", "[net][packet]") {
    // MSS, NOP, window scale 20 (clamped to 14), SACK-permitted, timestamps, then a truncated option.
    auto opts = bytes({2, 4, 0x05, 0xb4, 1, 3, 3, 20, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 5, 40});
    auto o = parse_tcp_options(opts);
    CHECK(o.mss == std::optional<std::uint16_t>(1460));
    CHECK(o.window_scale == std::optional<std::uint8_t>(14));
    CHECK(o.sack_permitted);
    CHECK(o.timestamp_value == std::optional<std::uint32_t>(1));
    CHECK(o.timestamp_echo == std::optional<std::uint32_t>(2));
    // Zero-length option must not loop forever.
    auto bad = bytes({2, 0, 2, 4});
    auto o2 = parse_tcp_options(bad);
    CHECK_FALSE(o2.mss);
    // A wrong-length MSS is ignored.
    auto wrong = bytes({2, 3, 5, 1, 1, 1});
    CHECK_FALSE(parse_tcp_options(wrong).mss);
}

TEST_CASE("net: UDP and ICMP round-trip", "[net][packet]") {
    const Ipv4Address a(127, 0, 0, 1), b(127, 0, 0, 2);
    std::vector<std::byte> d(udp_header_size + 5, std::byte{'x'});
    write_udp_header(d.data(), 5353, 53, a, b, 5);
    auto u = parse_udp(d, a, b);
    REQUIRE(u);
    CHECK(u->source_port == 5353);
    CHECK(u->destination_port == 53);
    CHECK(u->payload.size() == 5);
    CHECK_FALSE(parse_udp(d, a, Ipv4Address(127, 0, 0, 3)));
    // A zero checksum means "none".
    d[6] = d[7] = std::byte{0};
    CHECK(parse_udp(d, a, Ipv4Address(127, 0, 0, 3)));
    // A length field larger than the data is rejected.
    store_be16(d.data() + 4, 200);
    CHECK_FALSE(parse_udp(d, a, b));

    std::vector<std::byte> m(icmp_header_size + 4, std::byte{7});
    write_icmp_header(m.data(), icmp::echo_request, 0, 0x12340001, 4);
    auto i = parse_icmp(m);
    REQUIRE(i);
    CHECK(i->type == icmp::echo_request);
    CHECK(i->rest == 0x12340001);
    m[9] ^= std::byte{1};
    CHECK_FALSE(parse_icmp(m));
}

TEST_CASE("net: sequence arithmetic wraps modulo 2^32", "[net][packet]") {
    STATIC_REQUIRE(seq_lt(0xfffffff0u, 0x10u));
    STATIC_REQUIRE(seq_gt(0x10u, 0xfffffff0u));
    STATIC_REQUIRE(seq_diff(0x10u, 0xfffffff0u) == 0x20);
    STATIC_REQUIRE(seq_le(5u, 5u));
    STATIC_REQUIRE(seq_in(0u, 0xffffff00u, 0x100u));
    STATIC_REQUIRE_FALSE(seq_in(0x100u, 0xffffff00u, 0x100u));
    STATIC_REQUIRE(seq_max(0xffffffffu, 1u) == 1u);
}

TEST_CASE("net: address parsing", "[net][packet]") {
    CHECK(Ipv4Address::parse("10.0.2.15") == Ipv4Address(10, 0, 2, 15));
    CHECK(Ipv4Address::parse("255.255.255.255") == Ipv4Address::broadcast());
    CHECK_FALSE(Ipv4Address::parse("256.0.0.1"));
    CHECK_FALSE(Ipv4Address::parse("1.2.3"));
    CHECK_FALSE(Ipv4Address::parse("1.2.3.4.5"));
    CHECK_FALSE(Ipv4Address::parse("1..3.4"));
    CHECK_FALSE(Ipv4Address::parse("0001.2.3.4"));
    CHECK(Ipv4Address(10, 0, 2, 15).to_string() == "10.0.2.15");
    CHECK(Ipv4Address(10, 0, 2, 15).same_subnet(Ipv4Address(10, 0, 2, 2), 24));
    CHECK_FALSE(Ipv4Address(10, 0, 3, 15).same_subnet(Ipv4Address(10, 0, 2, 2), 24));
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
