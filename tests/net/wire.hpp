// An in-process wire between two LiteBox stacks, on the virtual clock, with injectable loss,
// duplication, reordering, corruption and delay (a deterministic PRNG: runs are reproducible).
// WiredPlatform is a TestPlatform whose IP interface is one end of a Wire.
#pragma once

#include <litebox/net/stack.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "../support/test_platform.hpp"

namespace litebox::test {

struct WireImpairments {
    double loss = 0;        // probability a packet is dropped
    double duplicate = 0;   // probability a packet is delivered twice
    double reorder = 0;     // probability a packet is held back by `reorder_delay`
    double corrupt = 0;     // probability one byte of the packet is flipped
    platform::Duration delay{0};
    platform::Duration reorder_delay = std::chrono::milliseconds(5);
};

class Wire {
public:
    explicit Wire(std::uint64_t seed = 1) : m_rng(seed) {}

    void set_impairments(const WireImpairments& i) {
        std::lock_guard lock(m_mutex);
        m_impairments = i;
    }
    /// Called for every packet sent from `side` before impairments; return false to drop it.
    void set_filter(std::function<bool(int side, std::span<const std::byte>)> filter) {
        std::lock_guard lock(m_mutex);
        m_filter = std::move(filter);
    }
    /// Disconnects the wire: everything sent is lost.
    void set_cut(bool cut) {
        std::lock_guard lock(m_mutex);
        m_cut = cut;
    }

    void send(int side, std::span<const std::byte> packet) {
        std::lock_guard lock(m_mutex);
        ++m_sent[side];
        if (m_cut || (m_filter && !m_filter(side, packet))) return;
        const std::uint64_t now = VirtualClock::instance().now().nanoseconds();
        const auto& imp = m_impairments;
        if (chance(imp.loss)) return;
        std::vector<std::byte> copy(packet.begin(), packet.end());
        if (chance(imp.corrupt) && !copy.empty()) copy[next() % copy.size()] ^= std::byte(1u << (next() % 8));
        std::uint64_t at = now + static_cast<std::uint64_t>(imp.delay.count());
        if (chance(imp.reorder)) at += static_cast<std::uint64_t>(imp.reorder_delay.count());
        const bool dup = chance(imp.duplicate);
        auto& queue = m_queues[1 - side];
        if (dup) queue.emplace(Key{at, m_order++}, copy);
        queue.emplace(Key{at, m_order++}, std::move(copy));
    }

    Result<std::size_t> receive(int side, std::span<std::byte> out) {
        std::lock_guard lock(m_mutex);
        const std::uint64_t now = VirtualClock::instance().now().nanoseconds();
        auto& queue = m_queues[side];
        const auto best = queue.begin();  // ordered by delivery time, then by sending order
        if (best == queue.end() || best->first.first > now) return Errno::again;
        const std::size_t n = std::min(out.size(), best->second.size());
        std::memcpy(out.data(), best->second.data(), n);
        queue.erase(best);
        ++m_delivered[side];
        return n;
    }

    /// The earliest delivery time of a queued packet (virtual ns), if any.
    std::optional<std::uint64_t> next_delivery() {
        std::lock_guard lock(m_mutex);
        std::optional<std::uint64_t> next;
        for (const auto& q : m_queues)
            if (!q.empty() && (!next || q.begin()->first.first < *next)) next = q.begin()->first.first;
        return next;
    }
    std::uint64_t sent(int side) {
        std::lock_guard lock(m_mutex);
        return m_sent[side];
    }

private:
    using Key = std::pair<std::uint64_t, std::uint64_t>;  // (delivery time, sending order)
    std::uint64_t next() {
        m_rng ^= m_rng << 13;
        m_rng ^= m_rng >> 7;
        m_rng ^= m_rng << 17;
        return m_rng;
    }
    bool chance(double p) { return p > 0 && static_cast<double>(next() % 1'000'000) < p * 1'000'000; }

    std::mutex m_mutex;
    std::uint64_t m_rng;
    WireImpairments m_impairments;
    std::function<bool(int, std::span<const std::byte>)> m_filter;
    bool m_cut = false;
    std::map<Key, std::vector<std::byte>> m_queues[2];
    std::uint64_t m_order = 0;
    std::uint64_t m_sent[2] = {0, 0};
    std::uint64_t m_delivered[2] = {0, 0};
};

/// A TestPlatform whose raw IP interface is one end of a Wire.
class WiredPlatform : public TestPlatform {
public:
    WiredPlatform(Wire& wire, int side) : m_wire(&wire), m_side(side) {}
    Result<void> send_ip_packet(std::span<const std::byte> packet) const {
        m_wire->send(m_side, packet);
        return ok();
    }
    Result<std::size_t> receive_ip_packet(std::span<std::byte> buffer) const { return m_wire->receive(m_side, buffer); }

private:
    Wire* m_wire;
    int m_side;
};

/// Two stacks joined by a wire: box A is 10.0.0.1/24, box B is 10.0.0.2/24.
struct WiredPair {
    explicit WiredPair(std::uint64_t seed = 1, net::StackConfig base = {})
        : wire(seed), platform_a(wire, 0), platform_b(wire, 1), a(platform_a, with_address(base, 1)), b(platform_b, with_address(base, 2)) {}

    static net::StackConfig with_address(net::StackConfig c, std::uint8_t host) {
        const std::size_t mtu = c.interface ? c.interface->mtu : 1500;  // a base config may set the MTU
        c.interface = net::InterfaceConfig{net::Ipv4Address(10, 0, 0, host), 24, std::nullopt, mtu};
        return c;
    }
    static constexpr net::Ipv4Address address_a{10, 0, 0, 1};
    static constexpr net::Ipv4Address address_b{10, 0, 0, 2};

    /// Drives both stacks on the virtual clock until pred() holds or `limit` of virtual time has
    /// passed. Returns pred's final value.
    template <typename Pred>
    bool run_until(Pred&& pred, platform::Duration limit = std::chrono::seconds(60)) {
        auto& clock = VirtualClock::instance();
        const std::uint64_t start = clock.now().nanoseconds();
        const std::uint64_t end = start + static_cast<std::uint64_t>(limit.count());
        for (std::size_t spins = 0; spins < 10'000'000; ++spins) {
            const auto da = a.poll();
            const auto db = b.poll();
            if (pred()) return true;
            const std::uint64_t now = clock.now().nanoseconds();
            std::uint64_t next = UINT64_MAX;
            if (da) next = std::min(next, da->nanoseconds());
            if (db) next = std::min(next, db->nanoseconds());
            if (auto w = wire.next_delivery()) next = std::min(next, *w);
            if (next <= now) continue;
            if (next == UINT64_MAX || next > end) {
                if (now < end) clock.advance(platform::Duration(static_cast<std::int64_t>(end - now)));
                a.poll();
                b.poll();
                return pred();
            }
            clock.advance(platform::Duration(static_cast<std::int64_t>(next - now)));
        }
        return pred();
    }
    /// Runs for `d` of virtual time.
    void run_for(platform::Duration d) { (void)run_until([] { return false; }, d); }

    Wire wire;
    WiredPlatform platform_a;
    WiredPlatform platform_b;
    net::Stack<WiredPlatform> a;
    net::Stack<WiredPlatform> b;
};

}  // namespace litebox::test
