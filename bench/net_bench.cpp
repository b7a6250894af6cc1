// TCP between two boxes over the in-process wire (tests/net/wire.hpp: no delay, no loss), against
// the host kernel's loopback TCP as the reference, in the same run:
//   tcp_bulk_<mtu>/box   bulk throughput A -> B, 16 MiB per iteration (bytes/s reported)
//   tcp_bulk/host        the same over 127.0.0.1 with kernel sockets
//   tcp_rr/box, /host    64-byte request, 64-byte response (one round trip per iteration)
// Both sides are driven from one thread (non-blocking sockets), so the numbers measure the stacks'
// CPU cost, not thread hand-off. The host side uses only the loopback address.
#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "../tests/net/wire.hpp"

namespace {

using namespace litebox;
using namespace litebox::net;
using litebox::test::WiredPair;
using SocketPtr = std::shared_ptr<Socket<litebox::test::WiredPlatform>>;

constexpr std::size_t bulk_bytes = 16u << 20;
constexpr std::size_t chunk = 256u << 10;
constexpr int buffer_size = 4 << 20;

struct BoxPair {
    explicit BoxPair(std::size_t mtu) : pair(1, config(mtu)) {
        listener = *pair.b.socket(af::inet, static_cast<int>(SocketType::stream) | sock_flags::nonblock, 0);
        (void)listener->bind(Endpoint{Ipv4Address::any(), 9000});
        (void)listener->listen(1);
        client = *pair.a.socket(af::inet, static_cast<int>(SocketType::stream) | sock_flags::nonblock, 0);
        const int one = 1;
        (void)client->set_option(sol::socket, so::sndbuf, std::as_bytes(std::span(&buffer_size, 1)));
        (void)client->set_option(sol::tcp, tcp_opt::nodelay, std::as_bytes(std::span(&one, 1)));
        (void)client->connect(Endpoint{WiredPair::address_b, 9000});
        (void)pair.run_until([&] {
            if (!server) {
                if (auto s = listener->accept()) server = *s;
            }
            return server && client->connect_status().has_value();
        });
        (void)server->set_option(sol::socket, so::rcvbuf, std::as_bytes(std::span(&buffer_size, 1)));
        (void)server->set_option(sol::tcp, tcp_opt::nodelay, std::as_bytes(std::span(&one, 1)));
    }
    static StackConfig config(std::size_t mtu) {
        StackConfig c;
        c.limits.max_socket_buffer = 8u << 20;
        c.interface = InterfaceConfig{Ipv4Address(10, 0, 0, 0), 24, std::nullopt, mtu};
        return c;
    }
    void drive() {
        (void)pair.a.poll();
        (void)pair.b.poll();
    }
    WiredPair pair;
    SocketPtr listener, client, server;
};

void box_bulk(benchmark::State& state) {
    BoxPair p(static_cast<std::size_t>(state.range(0)));
    if (!p.server) {
        state.SkipWithError("no connection");
        return;
    }
    std::vector<std::byte> out(chunk, std::byte{0x5a});
    std::vector<std::byte> in(chunk);
    for (auto _ : state) {
        std::size_t sent = 0, received = 0;
        while (received < bulk_bytes) {
            while (sent < bulk_bytes) {
                auto n = p.client->send_to(std::span(out).first(std::min(chunk, bulk_bytes - sent)));
                if (!n) break;
                sent += *n;
            }
            p.drive();
            for (;;) {
                auto n = p.server->receive_from(in);
                if (!n || *n == 0) break;
                received += *n;
            }
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bulk_bytes));
}

void box_rr(benchmark::State& state) {
    BoxPair p(1500);
    if (!p.server) {
        state.SkipWithError("no connection");
        return;
    }
    std::byte message[64] = {};
    std::byte in[64];
    for (auto _ : state) {
        (void)p.client->send_to(message);
        std::size_t got = 0;
        while (got < sizeof message) {
            p.drive();
            if (auto n = p.server->receive_from(std::span(in).subspan(got))) got += *n;
        }
        (void)p.server->send_to(message);
        got = 0;
        while (got < sizeof message) {
            p.drive();
            if (auto n = p.client->receive_from(std::span(in).subspan(got))) got += *n;
        }
    }
}

// ---- host kernel loopback -------------------------------------------------------------------------
struct HostPair {
    HostPair() {
        const int one = 1;
        listener = ::socket(AF_INET, SOCK_STREAM, 0);
        ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        socklen_t len = sizeof addr;
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
        ::listen(listener, 1);
        client = ::socket(AF_INET, SOCK_STREAM, 0);
        ::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        server = ::accept(listener, nullptr, nullptr);
        for (int fd : {client, server}) {
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_size, sizeof buffer_size);
            ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_size, sizeof buffer_size);
            ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        }
    }
    ~HostPair() {
        ::close(client);
        ::close(server);
        ::close(listener);
    }
    int listener = -1, client = -1, server = -1;
};

void host_bulk(benchmark::State& state) {
    HostPair p;
    std::vector<char> out(chunk, 0x5a), in(chunk);
    for (auto _ : state) {
        std::size_t sent = 0, received = 0;
        while (received < bulk_bytes) {
            while (sent < bulk_bytes) {
                const ssize_t n = ::send(p.client, out.data(), std::min(chunk, bulk_bytes - sent), MSG_NOSIGNAL);
                if (n <= 0) break;
                sent += static_cast<std::size_t>(n);
            }
            for (;;) {
                const ssize_t n = ::recv(p.server, in.data(), in.size(), 0);
                if (n <= 0) break;
                received += static_cast<std::size_t>(n);
            }
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bulk_bytes));
}

void host_rr(benchmark::State& state) {
    HostPair p;
    char message[64] = {};
    char in[64];
    for (auto _ : state) {
        (void)::send(p.client, message, sizeof message, MSG_NOSIGNAL);
        std::size_t got = 0;
        while (got < sizeof message) {
            const ssize_t n = ::recv(p.server, in + got, sizeof in - got, 0);
            if (n > 0) got += static_cast<std::size_t>(n);
        }
        (void)::send(p.server, message, sizeof message, MSG_NOSIGNAL);
        got = 0;
        while (got < sizeof message) {
            const ssize_t n = ::recv(p.client, in + got, sizeof in - got, 0);
            if (n > 0) got += static_cast<std::size_t>(n);
        }
    }
}

}  // namespace

BENCHMARK(box_bulk)->Name("tcp_bulk/box")->Arg(65535)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(host_bulk)->Name("tcp_bulk/host")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(box_bulk)->Name("tcp_bulk_mtu1500/box")->Arg(1500)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(box_rr)->Name("tcp_rr/box")->UseRealTime();
BENCHMARK(host_rr)->Name("tcp_rr/host")->UseRealTime();

BENCHMARK_MAIN();
