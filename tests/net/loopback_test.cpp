// The loopback interface: TCP and UDP inside one box with no driver at all.
#include <catch2/catch.hpp>
#include <litebox/net/blocking.hpp>
#include <litebox/net/stack.hpp>

#include <array>
#include <numeric>
#include <thread>

#include "support/test_platform.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox;
using namespace litebox::net;
using litebox::test::TestPlatform;

namespace {
std::span<const std::byte> as_bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }
std::string text(std::span<const std::byte> b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }
}  // namespace

TEST_CASE("net: loopback TCP connect, transfer, close", "[net][loopback]") {
    TestPlatform platform;
    Stack<TestPlatform> stack(platform);
    auto server = stack.socket(af::inet, static_cast<int>(SocketType::stream), 0);
    REQUIRE(server);
    REQUIRE((*server)->bind(Endpoint{Ipv4Address::loopback(), 8080}));
    REQUIRE((*server)->listen(4));
    auto client = stack.socket(af::inet, static_cast<int>(SocketType::stream) | sock_flags::nonblock, 0);
    REQUIRE(client);
    auto c = (*client)->connect(Endpoint{Ipv4Address::loopback(), 8080});
    REQUIRE_FALSE(c);
    CHECK(c.error() == Errno::inprogress);
    CHECK((*client)->connect_status());  // loopback finishes the handshake inside the call
    Endpoint peer;
    auto accepted = (*server)->accept(&peer);
    REQUIRE(accepted);
    auto local = (*client)->local_endpoint();
    REQUIRE(local);
    CHECK(peer == *local);
    CHECK(local->port >= 32768);
    auto peer_of_client = (*client)->peer_endpoint();
    REQUIRE(peer_of_client);
    CHECK(peer_of_client->port == 8080);

    auto sent = (*client)->send_to(as_bytes("hello"));
    REQUIRE(sent);
    CHECK(*sent == 5);
    std::byte buffer[64];
    auto got = (*accepted)->receive_from(buffer, msg::peek);
    REQUIRE(got);
    CHECK(text(std::span(buffer, *got)) == "hello");
    got = (*accepted)->receive_from(buffer);
    REQUIRE(got);
    CHECK(text(std::span(buffer, *got)) == "hello");
    got = (*accepted)->receive_from(buffer);
    REQUIRE_FALSE(got);
    CHECK(got.error() == Errno::again);

    REQUIRE((*client)->shutdown(ShutdownHow::write));
    got = (*accepted)->receive_from(buffer);
    REQUIRE(got);
    CHECK(*got == 0);
    CHECK(((*accepted)->poll(fd::events::in) & fd::events::rdhup) != 0);
    REQUIRE((*accepted)->send_to(as_bytes("bye")));
    got = (*client)->receive_from(buffer);
    REQUIRE(got);
    CHECK(text(std::span(buffer, *got)) == "bye");
    accepted->reset();
    got = (*client)->receive_from(buffer);
    REQUIRE(got);
    CHECK(*got == 0);
    client->reset();
    // The side that closed first is in TIME-WAIT; after 2 MSL the table is empty.
    CHECK(stack.connection_count() == 1);
    TestPlatform::advance(std::chrono::seconds(61));
    (void)stack.poll();
    CHECK(stack.connection_count() == 0);
}

TEST_CASE("net: loopback bulk transfer with blocking calls on two threads", "[net][loopback]") {
    TestPlatform platform;
    Stack<TestPlatform> stack(platform);
    auto server = *stack.socket(af::inet, static_cast<int>(SocketType::stream), 0);
    REQUIRE(server->bind(Endpoint{Ipv4Address::any(), 0}));
    REQUIRE(server->listen(1));
    const Endpoint where{Ipv4Address::loopback(), server->local_endpoint()->port};
    std::vector<std::byte> data(3 << 20);
    std::uint32_t x = 1;
    for (auto& b : data) {
        x = x * 1664525u + 1013904223u;
        b = std::byte(x >> 24);
    }
    std::vector<std::byte> received;
    std::thread reader([&] {
        event::WaitContext<TestPlatform> ctx(platform);
        auto conn = net::accept(ctx, *server);
        REQUIRE(conn);
        std::vector<std::byte> buffer(70000);
        for (;;) {
            auto n = net::receive(ctx, **conn, buffer);
            REQUIRE(n);
            if (*n == 0) break;
            received.insert(received.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*n));
        }
    });
    {
        event::WaitContext<TestPlatform> ctx(platform);
        auto client = *stack.socket(af::inet, static_cast<int>(SocketType::stream), 0);
        REQUIRE(net::connect(ctx, *client, where));
        auto n = net::send(ctx, *client, data);
        REQUIRE(n);
        CHECK(*n == data.size());
    }
    reader.join();
    CHECK(received == data);
}

TEST_CASE("net: loopback UDP", "[net][loopback][udp]") {
    TestPlatform platform;
    Stack<TestPlatform> stack(platform);
    auto a = *stack.socket(af::inet, static_cast<int>(SocketType::datagram), 0);
    auto b = *stack.socket(af::inet, static_cast<int>(SocketType::datagram), 0);
    REQUIRE(a->bind(Endpoint{Ipv4Address::loopback(), 5000}));
    auto sent = b->send_to(as_bytes("datagram"), 0, Endpoint{Ipv4Address::loopback(), 5000});
    REQUIRE(sent);
    CHECK((a->poll(fd::events::in) & fd::events::in) != 0);
    std::byte buffer[4];
    Endpoint from;
    bool truncated = false;
    auto got = a->receive_from(buffer, 0, &from, &truncated);
    REQUIRE(got);
    CHECK(*got == 4);
    CHECK(truncated);
    CHECK(from == Endpoint{Ipv4Address::loopback(), b->local_endpoint()->port});
    CHECK(b->local_endpoint()->address == Ipv4Address::any());  // autobound, as Linux
    CHECK(a->receive_from(buffer).error() == Errno::again);
    // A datagram to a port nobody listens on: ICMP port unreachable makes a connected socket fail.
    REQUIRE(b->connect(Endpoint{Ipv4Address::loopback(), 5999}));
    REQUIRE(b->send_to(as_bytes("x")));
    auto refused = b->receive_from(buffer);
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == Errno::connrefused);
    // Unconnected, the error is reported only with IP_RECVERR (as Linux).
    auto d = *stack.socket(af::inet, static_cast<int>(SocketType::datagram), 0);
    REQUIRE(d->send_to(as_bytes("x"), 0, Endpoint{Ipv4Address::loopback(), 5999}));
    CHECK(d->receive_from(buffer).error() == Errno::again);
    const int one = 1;
    REQUIRE(d->set_option(sol::ip, ip_opt::recverr, std::as_bytes(std::span<const int>(&one, 1))));
    int reported = 0;
    REQUIRE(d->get_option(sol::ip, ip_opt::recverr, std::as_writable_bytes(std::span<int>(&reported, 1))));
    CHECK(reported == 1);
    REQUIRE(d->send_to(as_bytes("x"), 0, Endpoint{Ipv4Address::loopback(), 5999}));
    CHECK(d->receive_from(buffer).error() == Errno::connrefused);
    CHECK(d->receive_from(buffer).error() == Errno::again);  // reported once
    // Binding the same port twice fails unless both use SO_REUSEADDR.
    auto c = *stack.socket(af::inet, static_cast<int>(SocketType::datagram), 0);
    CHECK(c->bind(Endpoint{Ipv4Address::any(), 5000}).error() == Errno::addrinuse);
}

TEST_CASE("net: SO_REUSEPORT lets one owner's sockets share a port; the first gets the traffic", "[net][loopback]") {
    TestPlatform platform;
    Stack<TestPlatform> stack(platform);
    const int one = 1;
    const auto on = std::as_bytes(std::span<const int>(&one, 1));
    const auto reuse = [&](auto& s) { REQUIRE(s->set_option(sol::socket, so::reuseport, on)); };
    // UDP: both set it, same owner: both bind; the first bound receives.
    auto a = *stack.socket(af::inet, static_cast<int>(SocketType::datagram), 0);
    auto b = *stack.socket(af::inet, static_cast<int>(SocketType::datagram), 0);
    reuse(a);
    reuse(b);
    int value = 0;
    REQUIRE(b->get_option(sol::socket, so::reuseport, std::as_writable_bytes(std::span<int>(&value, 1))));
    CHECK(value == 1);
    REQUIRE(a->bind(Endpoint{Ipv4Address::any(), 6000}));
    REQUIRE(b->bind(Endpoint{Ipv4Address::any(), 6000}));
    auto sender = *stack.socket(af::inet, static_cast<int>(SocketType::datagram), 0);
    REQUIRE(sender->send_to(as_bytes("hi"), 0, Endpoint{Ipv4Address::loopback(), 6000}));
    std::array<std::byte, 16> buffer{};
    CHECK(a->receive_from(buffer).value_or(999) == 2);
    CHECK(b->receive_from(buffer).error() == Errno::again);
    // Without the option on the newcomer, or for another owner: EADDRINUSE.
    auto plain = *stack.socket(af::inet, static_cast<int>(SocketType::datagram), 0);
    CHECK(plain->bind(Endpoint{Ipv4Address::any(), 6000}).error() == Errno::addrinuse);
    auto stranger = *stack.socket(af::inet, static_cast<int>(SocketType::datagram), 0);
    stranger->set_owner(1000);
    reuse(stranger);
    CHECK(stranger->bind(Endpoint{Ipv4Address::any(), 6000}).error() == Errno::addrinuse);
    // Closing the first hands the traffic to the next.
    a.reset();
    REQUIRE(sender->send_to(as_bytes("again"), 0, Endpoint{Ipv4Address::loopback(), 6000}));
    CHECK(b->receive_from(buffer).value_or(999) == 5);

    // TCP: two listeners on one port; connections go to the first.
    auto l1 = *stack.socket(af::inet, static_cast<int>(SocketType::stream) | sock_flags::nonblock, 0);
    auto l2 = *stack.socket(af::inet, static_cast<int>(SocketType::stream) | sock_flags::nonblock, 0);
    reuse(l1);
    reuse(l2);
    REQUIRE(l1->bind(Endpoint{Ipv4Address::any(), 6001}));
    REQUIRE(l2->bind(Endpoint{Ipv4Address::any(), 6001}));
    REQUIRE(l1->listen(4));
    REQUIRE(l2->listen(4));
    auto client = *stack.socket(af::inet, static_cast<int>(SocketType::stream) | sock_flags::nonblock, 0);
    (void)client->connect(Endpoint{Ipv4Address::loopback(), 6001});
    CHECK(client->connect_status());
    CHECK(l1->accept().has_value());
    CHECK(l2->accept().error() == Errno::again);
    auto third = *stack.socket(af::inet, static_cast<int>(SocketType::stream), 0);
    CHECK(third->bind(Endpoint{Ipv4Address::any(), 6001}).error() == Errno::addrinuse);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
