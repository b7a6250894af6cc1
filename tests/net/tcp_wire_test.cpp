// TCP between two boxes over the in-process wire, on the virtual clock.
#include <catch2/catch.hpp>
#include <litebox/net/stack.hpp>

#include "net/wire.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox;
using namespace litebox::net;
using litebox::test::WiredPair;
using litebox::test::WiredPlatform;
using SocketPtr = std::shared_ptr<Socket<WiredPlatform>>;
using namespace std::chrono_literals;

namespace {
constexpr int stream = static_cast<int>(SocketType::stream);
constexpr int datagram = static_cast<int>(SocketType::datagram);

std::vector<std::byte> pattern(std::size_t n, std::uint32_t seed) {
    std::vector<std::byte> data(n);
    for (auto& b : data) {
        seed = seed * 1664525u + 1013904223u;
        b = std::byte(seed >> 24);
    }
    return data;
}
std::uint64_t fnv(const std::vector<std::byte>& data) {
    std::uint64_t h = 1469598103934665603ull;
    for (auto b : data) h = (h ^ std::to_integer<std::uint64_t>(b)) * 1099511628211ull;
    return h;
}

struct Connected {
    SocketPtr listener, client, server;
};

Connected connect_pair(WiredPair& w, std::uint16_t port = 7000) {
    Connected c;
    c.listener = *w.b.socket(af::inet, stream | sock_flags::nonblock, 0);
    REQUIRE(c.listener->bind(Endpoint{Ipv4Address::any(), port}));
    REQUIRE(c.listener->listen(8));
    c.client = *w.a.socket(af::inet, stream | sock_flags::nonblock, 0);
    CHECK(c.client->connect(Endpoint{WiredPair::address_b, port}).error() == Errno::inprogress);
    REQUIRE(w.run_until([&] {
        if (!c.server) {
            auto s = c.listener->accept();
            if (s) c.server = *s;
        }
        return c.server && c.client->connect_status().has_value();
    }));
    return c;
}

/// Moves `data` from `from` to `to`, driving the wire; returns what arrived.
std::vector<std::byte> transfer(WiredPair& w, Socket<WiredPlatform>& from, Socket<WiredPlatform>& to,
                                const std::vector<std::byte>& data, platform::Duration limit = 600s) {
    std::size_t sent = 0;
    std::vector<std::byte> received;
    std::vector<std::byte> buffer(1 << 16);
    bool closed = false;
    (void)w.run_until(
        [&] {
            while (sent < data.size()) {
                auto n = from.send_to(std::span(data).subspan(sent));
                if (!n) break;
                sent += *n;
            }
            if (sent == data.size() && !closed) {
                REQUIRE(from.shutdown(ShutdownHow::write));
                closed = true;
            }
            for (;;) {
                auto n = to.receive_from(buffer);
                if (!n || *n == 0) return n.has_value();  // 0: end of stream
                received.insert(received.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*n));
            }
        },
        limit);
    return received;
}
}  // namespace

TEST_CASE("net wire: handshake, data both ways, graceful close and TIME-WAIT", "[net][wire][tcp]") {
    WiredPair w;
    auto c = connect_pair(w);
    CHECK(c.client->peer_endpoint()->address == WiredPair::address_b);
    CHECK(c.server->peer_endpoint()->address == WiredPair::address_a);
    CHECK(c.client->local_endpoint()->address == WiredPair::address_a);

    const auto up = pattern(100000, 1);
    CHECK(transfer(w, *c.client, *c.server, up) == up);
    const auto down = pattern(50000, 2);
    CHECK(transfer(w, *c.server, *c.client, down) == down);

    c.client.reset();
    c.server.reset();
    REQUIRE(w.run_until([&] { return w.b.connection_count() == 0; }, 5s));
    // The side that closed first (the client, box A) waits 2 MSL in TIME-WAIT.
    CHECK(w.a.connection_count() == 1);
    w.run_for(59s);
    CHECK(w.a.connection_count() == 1);
    w.run_for(2s);
    CHECK(w.a.connection_count() == 0);
}

TEST_CASE("net wire: bulk transfer survives loss, duplication, reordering, corruption and delay", "[net][wire][tcp]") {
    WiredPair w(42);
    auto c = connect_pair(w);
    test::WireImpairments imp;
    imp.loss = 0.03;
    imp.duplicate = 0.03;
    imp.reorder = 0.05;
    imp.corrupt = 0.02;
    imp.delay = 10ms;
    w.wire.set_impairments(imp);
    const auto data = pattern(2 << 20, 7);
    const auto got = transfer(w, *c.client, *c.server, data);
    CHECK(got.size() == data.size());
    CHECK(fnv(got) == fnv(data));
    const auto sa = w.a.stats();
    const auto sb = w.b.stats();
    CHECK(sa.tcp_retransmits > 0);
    CHECK(sa.dropped_malformed + sb.dropped_malformed > 0);  // corrupted packets failed a checksum
    CHECK(sb.tcp_out_of_order > 0);
}

TEST_CASE("net wire: a lost segment is recovered by fast retransmit, without a timeout", "[net][wire][tcp]") {
    WiredPair w(3);
    auto c = connect_pair(w);
    w.wire.set_impairments(test::WireImpairments{0, 0, 0, 0, 5ms});
    int data_segments = 0;
    w.wire.set_filter([&](int side, std::span<const std::byte> p) {
        if (side != 0 || p.size() < 100) return true;
        return ++data_segments != 20;  // drop the 20th data segment once
    });
    const auto data = pattern(400000, 9);
    CHECK(transfer(w, *c.client, *c.server, data) == data);
    CHECK(w.a.stats().tcp_fast_retransmits >= 1);
    CHECK(w.a.stats().tcp_timeouts == 0);
}

TEST_CASE("net wire: SYN retransmissions back off exponentially, then ETIMEDOUT", "[net][wire][tcp]") {
    WiredPair w;
    std::vector<std::uint64_t> syn_times;
    w.wire.set_filter([&](int side, std::span<const std::byte>) {
        if (side == 0) syn_times.push_back(test::VirtualClock::instance().now().nanoseconds());
        return false;  // a black hole
    });
    auto client = *w.a.socket(af::inet, stream | sock_flags::nonblock, 0);
    CHECK(client->connect(Endpoint{WiredPair::address_b, 80}).error() == Errno::inprogress);
    REQUIRE(w.run_until([&] { return client->connect_status().error() != Errno::again; }, 300s));
    REQUIRE(syn_times.size() == 7);  // the SYN and 6 retries (Linux's tcp_syn_retries)
    for (std::size_t i = 1; i < syn_times.size(); ++i) {
        const std::uint64_t gap = syn_times[i] - syn_times[i - 1];
        CHECK(gap == (1'000'000'000ull << (i - 1)));  // 1 s, 2 s, 4 s, ... (RFC 6298 5.5)
    }
    // The error was reported once by connect_status; SO_ERROR is now clear.
    int err = -1;
    REQUIRE(client->get_option(sol::socket, so::error, std::as_writable_bytes(std::span(&err, 1))));
    CHECK(err == 0);
}

TEST_CASE("net wire: data retransmission timeout doubles (Karn, back-off) and gives up", "[net][wire][tcp]") {
    StackConfig config;
    config.tcp.max_retransmits = 4;
    WiredPair w(5, config);
    auto c = connect_pair(w);
    std::vector<std::uint64_t> times;
    w.wire.set_filter([&](int side, std::span<const std::byte> p) {
        if (side == 0 && p.size() > 40) times.push_back(test::VirtualClock::instance().now().nanoseconds());
        return false;
    });
    const std::byte one[1] = {std::byte{1}};
    REQUIRE(c.client->send_to(one));
    REQUIRE(w.run_until([&] { return (c.client->poll(0) & fd::events::err) != 0; }, 600s));
    REQUIRE(times.size() == 5);
    const std::uint64_t first = times[1] - times[0];
    CHECK(first >= 200'000'000ull);  // at least rto_min
    for (std::size_t i = 2; i < times.size(); ++i) CHECK(times[i] - times[i - 1] == 2 * (times[i - 1] - times[i - 2]));
    std::byte buffer[4];
    CHECK(c.client->receive_from(buffer).error() == Errno::timedout);
}

TEST_CASE("net wire: a zero window is probed and reopens", "[net][wire][tcp]") {
    WiredPair w;
    auto c = connect_pair(w);
    const int small = 4096;
    REQUIRE(c.server->set_option(sol::socket, so::rcvbuf, std::as_bytes(std::span(&small, 1))));
    REQUIRE(c.client->set_option(sol::socket, so::sndbuf, std::as_bytes(std::span(&small, 1))));
    w.wire.set_impairments(test::WireImpairments{0, 0, 0, 0, 1ms});
    const auto data = pattern(200000, 11);
    std::size_t sent = 0;
    // The receiver does not read: the sender fills the window and stops.
    w.run_until(
        [&] {
            auto n = c.client->send_to(std::span(data).subspan(sent));
            if (n) sent += *n;
            return false;
        },
        30s);
    CHECK(sent < data.size());
    const auto probes_before = w.wire.sent(0);
    w.run_for(30s);
    CHECK(w.wire.sent(0) > probes_before);  // persist timer probes went out
    CHECK(w.a.connection_count() == 1);     // and the connection stays
    // Now the receiver reads everything; the rest flows.
    std::vector<std::byte> received;
    std::vector<std::byte> buffer(8192);
    bool shut = false;
    REQUIRE(w.run_until(
        [&] {
            while (sent < data.size()) {
                auto n = c.client->send_to(std::span(data).subspan(sent));
                if (!n) break;
                sent += *n;
            }
            if (sent == data.size() && !shut) shut = c.client->shutdown(ShutdownHow::write).has_value();
            for (;;) {
                auto n = c.server->receive_from(buffer);
                if (!n) return false;
                if (*n == 0) return true;
                received.insert(received.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*n));
            }
        },
        600s));
    CHECK(received == data);
}

TEST_CASE("net wire: RST cases", "[net][wire][tcp]") {
    WiredPair w;
    SECTION("connecting to a closed port is refused") {
        auto client = *w.a.socket(af::inet, stream | sock_flags::nonblock, 0);
        CHECK(client->connect(Endpoint{WiredPair::address_b, 9}).error() == Errno::inprogress);
        REQUIRE(w.run_until([&] { return client->connect_status().error() != Errno::again; }, 5s));
        CHECK((client->poll(0) & fd::events::hup) != 0);
    }
    SECTION("SO_LINGER {1, 0} aborts with a reset the peer sees as ECONNRESET") {
        auto c = connect_pair(w);
        const int linger[2] = {1, 0};
        REQUIRE(c.client->set_option(sol::socket, so::linger, std::as_bytes(std::span(linger))));
        c.client.reset();
        CHECK(w.a.connection_count() == 0);  // no TIME-WAIT after an abort
        std::byte buffer[8];
        REQUIRE(w.run_until([&] { return c.server->receive_from(buffer).error() != Errno::again; }, 5s));
        CHECK((c.server->poll(0) & (fd::events::hup | fd::events::in)) != 0);
    }
    SECTION("closing with unread data resets the connection") {
        auto c = connect_pair(w);
        const std::byte msg[3] = {};
        REQUIRE(c.client->send_to(msg));
        REQUIRE(w.run_until([&] { return (c.server->poll(0) & fd::events::in) != 0; }, 5s));
        c.server.reset();
        std::byte buffer[8];
        REQUIRE(w.run_until([&] { return c.client->receive_from(buffer).error() == Errno::connreset; }, 5s));
        CHECK(c.client->send_to(msg).error() == Errno::pipe);
    }
    SECTION("a RST with an in-window but wrong sequence number only draws a challenge ACK (RFC 5961)") {
        auto c = connect_pair(w);
        const auto before = w.b.stats().tcp_challenge_acks;
        // Forge a RST from A to B with a sequence number 1000 bytes into B's window.
        const auto local = *c.client->local_endpoint();
        std::vector<std::byte> packet(40);
        // Find B's rcv_nxt by sending a byte and watching the ACK is not possible from outside;
        // instead, use a sequence number that is surely in the window relative to a fresh capture.
        Seq next_seq = 0;
        w.wire.set_filter([&](int side, std::span<const std::byte> p) {
            if (side == 0 && p.size() >= 40) next_seq = load_be32(p.data() + 24) + static_cast<Seq>(p.size() - 40);
            return true;
        });
        const std::byte msg[1] = {};
        REQUIRE(c.client->send_to(msg));
        w.run_for(100ms);
        w.wire.set_filter(nullptr);
        TcpHeaderFields f;
        f.source_port = local.port;
        f.destination_port = 7000;
        f.sequence = next_seq + 1000;
        f.flags = tcp_flags::rst;
        write_tcp_header(packet.data() + 20, f, WiredPair::address_a, WiredPair::address_b, 0);
        write_ipv4_header(packet.data(), WiredPair::address_a, WiredPair::address_b, 6, 20, 1);
        w.wire.send(0, packet);
        w.run_for(100ms);
        CHECK(w.b.stats().tcp_challenge_acks == before + 1);
        CHECK(w.b.connection_count() == 1);
        // The exact sequence number does reset.
        f.sequence = next_seq;
        write_tcp_header(packet.data() + 20, f, WiredPair::address_a, WiredPair::address_b, 0);
        w.wire.send(0, packet);
        w.run_for(100ms);
        CHECK(w.b.connection_count() == 0);
        std::byte buffer[4];
        auto r = c.server->receive_from(buffer);
        // The byte sent before arrived first; then the reset.
        if (r && *r == 1) r = c.server->receive_from(buffer);
        CHECK(r.error() == Errno::connreset);
    }
}

TEST_CASE("net wire: simultaneous open and simultaneous close", "[net][wire][tcp]") {
    WiredPair w;
    auto x = *w.a.socket(af::inet, stream | sock_flags::nonblock, 0);
    auto y = *w.b.socket(af::inet, stream | sock_flags::nonblock, 0);
    REQUIRE(x->bind(Endpoint{WiredPair::address_a, 5001}));
    REQUIRE(y->bind(Endpoint{WiredPair::address_b, 5002}));
    w.wire.set_impairments(test::WireImpairments{0, 0, 0, 0, 10ms});  // the SYNs cross on the wire
    CHECK(x->connect(Endpoint{WiredPair::address_b, 5002}).error() == Errno::inprogress);
    CHECK(y->connect(Endpoint{WiredPair::address_a, 5001}).error() == Errno::inprogress);
    REQUIRE(w.run_until([&] { return x->connect_status().has_value() && y->connect_status().has_value(); }, 10s));
    const std::byte hi[2] = {std::byte{'h'}, std::byte{'i'}};
    REQUIRE(x->send_to(hi));
    std::byte buffer[4];
    REQUIRE(w.run_until([&] { return y->receive_from(buffer).has_value(); }, 5s));
    // Both shut down at the same moment: FINs cross, both go through CLOSING to TIME-WAIT.
    REQUIRE(x->shutdown(ShutdownHow::write));
    REQUIRE(y->shutdown(ShutdownHow::write));
    w.run_for(1s);
    CHECK(x->receive_from(buffer).value_or(99) == 0);
    CHECK(y->receive_from(buffer).value_or(99) == 0);
    CHECK(w.a.connection_count() == 1);  // both in TIME-WAIT
    CHECK(w.b.connection_count() == 1);
    x.reset();
    y.reset();
    w.run_for(61s);
    CHECK(w.a.connection_count() == 0);
    CHECK(w.b.connection_count() == 0);
}

TEST_CASE("net wire: keep-alive detects a vanished peer", "[net][wire][tcp]") {
    WiredPair w;
    auto c = connect_pair(w);
    const int on = 1, idle = 10, interval = 5, count = 3;
    REQUIRE(c.client->set_option(sol::socket, so::keepalive, std::as_bytes(std::span(&on, 1))));
    REQUIRE(c.client->set_option(sol::tcp, tcp_opt::keepidle, std::as_bytes(std::span(&idle, 1))));
    REQUIRE(c.client->set_option(sol::tcp, tcp_opt::keepintvl, std::as_bytes(std::span(&interval, 1))));
    REQUIRE(c.client->set_option(sol::tcp, tcp_opt::keepcnt, std::as_bytes(std::span(&count, 1))));
    // With the peer answering, the connection stays up well past the idle time.
    w.run_for(60s);
    CHECK(w.a.connection_count() == 1);
    CHECK((c.client->poll(0) & fd::events::err) == 0);
    w.wire.set_cut(true);
    REQUIRE(w.run_until([&] { return (c.client->poll(0) & fd::events::err) != 0; }, 40s));
    std::byte buffer[4];
    CHECK(c.client->receive_from(buffer).error() == Errno::timedout);
}

TEST_CASE("net wire: listen backlog is real and a SYN flood stays bounded", "[net][wire][tcp]") {
    StackConfig config;
    config.limits.max_syn_backlog = 16;
    WiredPair w(9, config);
    auto listener = *w.b.socket(af::inet, stream | sock_flags::nonblock, 0);
    REQUIRE(listener->bind(Endpoint{Ipv4Address::any(), 80}));
    REQUIRE(listener->listen(2));
    // Spoofed SYNs from many ports that never complete the handshake.
    for (std::uint16_t port = 1000; port < 1500; ++port) {
        std::vector<std::byte> packet(40);
        TcpHeaderFields f;
        f.source_port = port;
        f.destination_port = 80;
        f.sequence = port * 7919u;
        f.flags = tcp_flags::syn;
        f.window = 1000;
        write_tcp_header(packet.data() + 20, f, WiredPair::address_a, WiredPair::address_b, 0);
        write_ipv4_header(packet.data(), WiredPair::address_a, WiredPair::address_b, 6, 20, port);
        w.wire.send(0, packet);
    }
    w.wire.set_filter([](int side, std::span<const std::byte>) { return side != 1; });  // drop B's SYN-ACKs' answers
    w.run_for(1s);
    CHECK(w.b.connection_count() <= 16);
    CHECK(w.b.stats().dropped_syn >= 484);
    // The half-open ones time out after the SYN-ACK retries.
    w.run_for(200s);
    CHECK(w.b.connection_count() == 0);
    w.wire.set_filter(nullptr);

    // backlog 2 admits 3 completed connections (Linux: the queue is full when it exceeds backlog).
    std::vector<SocketPtr> clients;
    for (int i = 0; i < 5; ++i) {
        clients.push_back(*w.a.socket(af::inet, stream | sock_flags::nonblock, 0));
        (void)clients.back()->connect(Endpoint{WiredPair::address_b, 80});
    }
    w.run_for(2s);
    int connected = 0;
    for (auto& s : clients)
        if (s->connect_status().has_value()) ++connected;
    CHECK(connected >= 3);
    int accepted = 0;
    while (listener->accept()) ++accepted;
    CHECK(accepted == 3);
    // The others complete once there is room (their SYN or final ACK is retried).
    w.run_for(30s);
    while (listener->accept()) ++accepted;
    CHECK(accepted == 5);
}

TEST_CASE("net wire: UDP between boxes and ICMP echo", "[net][wire][udp]") {
    WiredPair w;
    auto rx = *w.b.socket(af::inet, datagram | sock_flags::nonblock, 0);
    auto tx = *w.a.socket(af::inet, datagram | sock_flags::nonblock, 0);
    REQUIRE(rx->bind(Endpoint{Ipv4Address::any(), 53}));
    const auto payload = pattern(1400, 3);
    REQUIRE(tx->send_to(payload, 0, Endpoint{WiredPair::address_b, 53}));
    std::vector<std::byte> buffer(2000);
    Endpoint from;
    REQUIRE(w.run_until([&] { return (rx->poll(0) & fd::events::in) != 0; }, 1s));
    auto n = rx->receive_from(buffer, 0, &from);
    REQUIRE(n);
    CHECK(*n == payload.size());
    CHECK(std::equal(payload.begin(), payload.end(), buffer.begin()));
    CHECK(from.address == WiredPair::address_a);
    // Larger than the MTU: EMSGSIZE (this stack does not fragment).
    const auto big = pattern(1600, 4);
    CHECK(tx->send_to(big, 0, Endpoint{WiredPair::address_b, 53}).error() == Errno::msgsize);
    // Unroutable: no gateway configured.
    CHECK(tx->send_to(payload, 0, Endpoint{Ipv4Address(192, 0, 2, 1), 53}).error() == Errno::netunreach);

    // ICMP echo: B answers a ping from A's side of the wire.
    bool reply = false;
    w.wire.set_filter([&](int side, std::span<const std::byte> p) {
        if (side == 1 && p.size() >= 28 && std::to_integer<int>(p[9]) == 1 && std::to_integer<int>(p[20]) == 0) reply = true;
        return true;
    });
    std::vector<std::byte> ping(28 + 4);
    store_be32(ping.data() + 28, 0xabcdef01);
    write_icmp_header(ping.data() + 20, icmp::echo_request, 0, 0x00010001, 4);
    write_ipv4_header(ping.data(), WiredPair::address_a, WiredPair::address_b, 1, 12, 77);
    w.wire.send(0, ping);
    w.run_for(10ms);
    CHECK(reply);
}

TEST_CASE("net wire: two boxes have independent port spaces", "[net][wire]") {
    WiredPair w;
    auto x = *w.a.socket(af::inet, stream, 0);
    auto y = *w.b.socket(af::inet, stream, 0);
    CHECK(x->bind(Endpoint{Ipv4Address::any(), 8080}));
    CHECK(y->bind(Endpoint{Ipv4Address::any(), 8080}));
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
