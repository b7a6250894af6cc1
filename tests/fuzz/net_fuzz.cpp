// libFuzzer target: random packets into a box's TCP/IP stack. The input is a sequence of records
// [flags][time step][length hi][length lo][bytes...]. With flag bit 0 the harness makes the bytes
// a plausible IPv4/TCP/UDP/ICMP packet to the box (addresses, lengths, checksums fixed up, and for
// TCP sequence/acknowledgment numbers near what the stack last sent), so that the fuzzer reaches
// the TCP state machine instead of stopping at checksums. The stack has a listener, a UDP socket
// and an outgoing connection; the harness also accepts, reads, writes and closes as it goes.
// Nothing may crash, and memory use stays bounded by the stack's limits.
#include <litebox/net/stack.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "support/test_platform.hpp"

namespace {

using namespace litebox;
using namespace litebox::net;

struct FuzzWire {
    std::deque<std::vector<std::byte>> inbound;
    std::uint32_t last_seq = 0;   // sequence number of the stack's last TCP segment
    std::uint32_t last_ack = 0;   // acknowledgment number of the stack's last TCP segment
    std::uint16_t last_port = 0;  // source port of the stack's last TCP segment
    std::size_t sent = 0;
};

class FuzzPlatform : public test::TestPlatform {
public:
    explicit FuzzPlatform(FuzzWire& w) : m_wire(&w) {}
    Result<void> send_ip_packet(std::span<const std::byte> p) const {
        ++m_wire->sent;
        if (p.size() >= 40 && std::to_integer<int>(p[9]) == 6) {
            const std::size_t ihl = (std::to_integer<std::size_t>(p[0]) & 0xf) * 4;
            if (p.size() >= ihl + 20) {
                m_wire->last_port = load_be16(p.data() + ihl);
                m_wire->last_seq = load_be32(p.data() + ihl + 4);
                m_wire->last_ack = load_be32(p.data() + ihl + 8);
            }
        }
        return ok();
    }
    Result<std::size_t> receive_ip_packet(std::span<std::byte> out) const {
        if (m_wire->inbound.empty()) return Errno::again;
        auto& p = m_wire->inbound.front();
        const std::size_t n = std::min(out.size(), p.size());
        if (n > 0) std::memcpy(out.data(), p.data(), n);
        m_wire->inbound.pop_front();
        return n;
    }

private:
    FuzzWire* m_wire;
};

constexpr Ipv4Address box_address{10, 0, 0, 2};
constexpr Ipv4Address peer_address{10, 0, 0, 1};

void fix_up(std::vector<std::byte>& p, const FuzzWire& w, std::uint8_t selector) {
    if (p.size() < 20) p.resize(20);
    const std::uint8_t protocols[4] = {6, 17, 1, 6};
    const std::uint8_t protocol = protocols[selector & 3];
    const std::size_t header = 20;
    std::size_t minimum = header + (protocol == 6 ? 20 : 8);
    if (p.size() < minimum) p.resize(minimum);
    if (p.size() > 1500) p.resize(1500);
    std::byte* t = p.data() + header;
    const std::size_t length = p.size() - header;
    if (protocol == 6) {
        if ((selector & 4) != 0) store_be16(t + 2, (selector & 8) ? 80 : w.last_port);
        if ((selector & 16) != 0) {
            store_be32(t + 4, w.last_ack + static_cast<std::uint32_t>(std::to_integer<std::uint8_t>(t[4]) % 4));
            store_be32(t + 8, w.last_seq + static_cast<std::uint32_t>(std::to_integer<std::uint8_t>(t[8]) % 4));
        }
        const std::size_t offset = std::min<std::size_t>((std::to_integer<std::size_t>(t[12]) >> 4) * 4, length);
        t[12] = std::byte(static_cast<std::uint8_t>(((offset < 20 ? 20 : offset) / 4) << 4));
        t[16] = t[17] = std::byte{0};
        Checksum c;
        c.add_pseudo_header(peer_address, box_address, 6, static_cast<std::uint16_t>(length));
        c.add(std::span<const std::byte>(t, length));
        c.store(t + 16);
    } else if (protocol == 17) {
        store_be16(t + 4, static_cast<std::uint16_t>(length));
        if ((selector & 4) != 0) store_be16(t + 2, 53);
        t[6] = t[7] = std::byte{0};
        Checksum c;
        c.add_pseudo_header(peer_address, box_address, 17, static_cast<std::uint16_t>(length));
        c.add(std::span<const std::byte>(t, length));
        c.store(t + 6);
    } else {
        t[2] = t[3] = std::byte{0};
        Checksum c;
        c.add(std::span<const std::byte>(t, length));
        c.store(t + 2);
    }
    write_ipv4_header(p.data(), peer_address, box_address, protocol, length, 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzWire wire;
    FuzzPlatform platform(wire);
    StackConfig config;
    config.interface = InterfaceConfig{box_address, 24, std::nullopt, 1500};
    config.limits.max_syn_backlog = 8;
    config.limits.max_connections = 64;
    config.limits.default_receive_buffer = 16384;
    config.limits.default_send_buffer = 16384;
    Stack<FuzzPlatform> stack(platform, config);
    auto listener = *stack.socket(af::inet, static_cast<int>(SocketType::stream) | sock_flags::nonblock, 0);
    (void)listener->bind(Endpoint{Ipv4Address::any(), 80});
    (void)listener->listen(4);
    auto udp = *stack.socket(af::inet, static_cast<int>(SocketType::datagram) | sock_flags::nonblock, 0);
    (void)udp->bind(Endpoint{Ipv4Address::any(), 53});
    auto client = *stack.socket(af::inet, static_cast<int>(SocketType::stream) | sock_flags::nonblock, 0);
    (void)client->connect(Endpoint{peer_address, 8080});
    std::vector<std::shared_ptr<Socket<FuzzPlatform>>> accepted;
    std::byte buffer[2048];
    const std::byte payload[700] = {};

    std::size_t i = 0;
    while (i + 4 <= size) {
        const std::uint8_t flags = data[i];
        const std::uint8_t step = data[i + 1];
        const std::size_t length = std::min<std::size_t>((std::size_t{data[i + 2]} << 8) | data[i + 3], size - i - 4);
        std::vector<std::byte> packet(length);
        if (length > 0) std::memcpy(packet.data(), data + i + 4, length);
        i += 4 + length;
        if ((flags & 1) != 0) fix_up(packet, wire, static_cast<std::uint8_t>(flags >> 1));
        wire.inbound.push_back(std::move(packet));
        if (step & 0x80) test::TestPlatform::advance(std::chrono::milliseconds(static_cast<std::uint64_t>(step & 0x7f) * 100));
        (void)stack.poll();
        // Act like an application now and then.
        switch (step & 7) {
            case 1:
                if (auto s = listener->accept(); s && accepted.size() < 8) accepted.push_back(*s);
                break;
            case 2:
                for (auto& s : accepted) (void)s->receive_from(buffer);
                (void)client->receive_from(buffer);
                (void)udp->receive_from(buffer);
                break;
            case 3:
                for (auto& s : accepted) (void)s->send_to(payload);
                (void)client->send_to(payload);
                break;
            case 4:
                if (!accepted.empty()) accepted.pop_back();
                break;
            case 5:
                if (!accepted.empty()) (void)accepted.front()->shutdown(ShutdownHow::write);
                break;
            default:
                break;
        }
    }
    test::TestPlatform::advance(std::chrono::seconds(200));
    (void)stack.poll();
    return 0;
}
