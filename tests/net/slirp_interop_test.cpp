// Interop with a TCP stack nobody here wrote: the box's TCP talks to the host kernel's TCP through
// libslirp, in both directions, with a checksum over the data. The host side is a plain socket on
// 127.0.0.1 only (slirp maps the box's 10.0.2.2 to the host's loopback).
#ifdef LITEBOX_HAVE_SLIRP
#include <catch2/catch.hpp>
#include <litebox/net/blocking.hpp>
#include <litebox/platform/linux/net_slirp.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox;
using namespace litebox::net;
using platform::SlirpBackend;
using platform::SlirpPlatform;
using namespace std::chrono_literals;

namespace {
constexpr std::size_t transfer_size = 4u << 20;

std::vector<std::byte> pattern(std::size_t n, std::uint32_t seed) {
    std::vector<std::byte> data(n);
    for (auto& b : data) {
        seed = seed * 1664525u + 1013904223u;
        b = std::byte(seed >> 24);
    }
    return data;
}
struct Fnv {
    std::uint64_t h = 1469598103934665603ull;
    void add(const void* p, std::size_t n) {
        const auto* b = static_cast<const unsigned char*>(p);
        for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
    }
};

/// A kernel TCP socket on 127.0.0.1 with a receive/send timeout, so the test cannot hang.
int host_socket() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{20, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}
sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    return a;
}
/// Sends `data`, shuts down writing, then reads the peer's 8-byte checksum (host side).
std::uint64_t host_send_and_get_hash(int fd, const std::vector<std::byte>& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return 0;
        sent += static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    std::uint64_t hash = 0;
    std::size_t got = 0;
    while (got < sizeof hash) {
        const ssize_t n = ::recv(fd, reinterpret_cast<char*>(&hash) + got, sizeof hash - got, 0);
        if (n <= 0) return 0;
        got += static_cast<std::size_t>(n);
    }
    return hash;
}
/// Reads to end of stream, then answers with the checksum (host side).
void host_receive_and_answer(int fd) {
    Fnv f;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        f.add(buffer, static_cast<std::size_t>(n));
    }
    (void)::send(fd, &f.h, sizeof f.h, MSG_NOSIGNAL);
}

struct SlirpBox {
    SlirpBox() : platform(backend), stack(platform) {
        REQUIRE(backend.valid());
        REQUIRE(stack.configure_interface(backend.interface_config()));
        stack.set_wakeup_hook(&backend);
        driver = std::thread([this] {
            while (!stop.load()) {
                const auto deadline = stack.poll();
                std::optional<platform::Duration> wait = 100ms;
                if (deadline) wait = std::min<platform::Duration>(*wait, deadline->saturating_duration_since(platform.now()));
                backend.service(wait);
            }
        });
    }
    ~SlirpBox() {
        stop = true;
        backend.wake();
        driver.join();
        stack.set_wakeup_hook(nullptr);
    }
    event::WaitContext<SlirpPlatform> context() { return event::WaitContext<SlirpPlatform>(platform, nullptr, event::deadline_after(platform, 30s)); }

    SlirpBackend backend;
    SlirpPlatform platform;
    Stack<SlirpPlatform> stack;
    std::atomic<bool> stop{false};
    std::thread driver;
};
}  // namespace

TEST_CASE("net slirp: the box connects to a host TCP server and transfers data", "[net][slirp]") {
    const int listener = host_socket();
    auto addr = loopback(0);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    REQUIRE(::listen(listener, 1) == 0);
    std::thread server([&] {
        const int fd = ::accept(listener, nullptr, nullptr);
        if (fd < 0) return;
        host_receive_and_answer(fd);
        ::close(fd);
    });

    SlirpBox box;
    const auto ctx = box.context();
    auto s = box.stack.socket(af::inet, static_cast<int>(SocketType::stream), 0);
    REQUIRE(s);
    REQUIRE(net::connect(ctx, **s, Endpoint{Ipv4Address(10, 0, 2, 2), ntohs(addr.sin_port)}));
    const auto data = pattern(transfer_size, 5);
    auto sent = net::send(ctx, **s, data);
    REQUIRE(sent);
    CHECK(*sent == data.size());
    REQUIRE((*s)->shutdown(ShutdownHow::write));
    std::uint64_t hash = 0;
    auto got = net::receive(ctx, **s, std::as_writable_bytes(std::span(&hash, 1)), msg::waitall);
    server.join();
    ::close(listener);
    REQUIRE(got);
    CHECK(*got == sizeof hash);
    Fnv expected;
    expected.add(data.data(), data.size());
    CHECK(hash == expected.h);
}

TEST_CASE("net slirp: a host client reaches a listener in the box through a forwarded port", "[net][slirp]") {
    SlirpBox box;
    const auto ctx = box.context();
    auto listener = box.stack.socket(af::inet, static_cast<int>(SocketType::stream), 0);
    REQUIRE(listener);
    REQUIRE((*listener)->bind(Endpoint{Ipv4Address::any(), 8080}));
    REQUIRE((*listener)->listen(1));
    // A free host port on 127.0.0.1 (taken briefly from the kernel, then handed to slirp).
    const int probe = host_socket();
    auto addr = loopback(0);
    REQUIRE(::bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    ::close(probe);
    const std::uint16_t host_port = ntohs(addr.sin_port);
    REQUIRE(box.backend.add_port_forward(host_port, 8080));

    const auto data = pattern(transfer_size, 6);
    std::uint64_t client_hash = 0;
    std::thread client([&] {
        const int fd = host_socket();
        auto to = loopback(host_port);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) client_hash = host_send_and_get_hash(fd, data);
        ::close(fd);
    });
    Endpoint peer;
    auto conn = net::accept(ctx, **listener, &peer);
    REQUIRE(conn);
    CHECK(peer.address == Ipv4Address(10, 0, 2, 2));  // slirp presents the host as the gateway
    Fnv f;
    std::vector<std::byte> buffer(65536);
    std::size_t total = 0;
    for (;;) {
        auto n = net::receive(ctx, **conn, buffer);
        REQUIRE(n);
        if (*n == 0) break;
        total += *n;
        f.add(buffer.data(), *n);
    }
    CHECK(total == data.size());
    REQUIRE(net::send(ctx, **conn, std::as_bytes(std::span(&f.h, 1))));
    conn->reset();
    client.join();
    Fnv expected;
    expected.add(data.data(), data.size());
    CHECK(f.h == expected.h);
    CHECK(client_hash == expected.h);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
#endif
