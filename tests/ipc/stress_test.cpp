// A bounded stress test: threads ping-pong tokens through pipes, unix stream sockets, datagram
// sockets, eventfds and epoll/poll waits. Every blocking call carries a generous deadline, so a
// lost wake-up fails the test (Errno::timedout) instead of hanging it.
#include <catch2/catch.hpp>
#include <litebox/event/blocking.hpp>
#include <litebox/event/epoll.hpp>
#include <litebox/event/poll.hpp>
#include <litebox/ipc/eventfd.hpp>
#include <litebox/ipc/pipe.hpp>
#include <litebox/ipc/unix/socket.hpp>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "ipc_support.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox;
using std::chrono::seconds;

namespace {
/// Round trips per ping-pong pair (kept small: the machine is shared; raise it locally).
constexpr int rounds = 1500;
/// A deadline no healthy wait comes near.
constexpr auto patience = seconds(30);

template <typename P>
event::WaitContext<P> patient(const P& platform) {
    return event::WaitContext<P>(platform, nullptr, event::deadline_after(platform, patience));
}

/// Reads exactly one u64 (the channels carry nothing else, so no torn values).
template <typename P>
Result<std::uint64_t> read_token(const P& platform, fd::OpenFile<P>& file) {
    std::array<std::byte, 8> buf{};
    std::size_t done = 0;
    while (done < buf.size()) {
        LITEBOX_TRY_ASSIGN(const std::size_t n, event::read(patient(platform), file, std::span(buf).subspan(done)));
        if (n == 0) return Errno::pipe;
        done += n;
    }
    std::uint64_t v = 0;
    std::memcpy(&v, buf.data(), 8);
    return v;
}

template <typename P>
Result<void> write_token(const P& platform, fd::OpenFile<P>& file, std::uint64_t v) {
    std::array<std::byte, 8> buf{};
    std::memcpy(buf.data(), &v, 8);
    LITEBOX_TRY_ASSIGN(const std::size_t n, event::write(patient(platform), file, buf));
    if (n != 8) return Errno::io;
    return ok();
}

/// Two threads bounce a counter through (a_out -> b_in) and (b_out -> a_in).
template <typename P>
void ping_pong(const P& platform, fd::OpenFile<P>& a_out, fd::OpenFile<P>& b_in, fd::OpenFile<P>& b_out,
               fd::OpenFile<P>& a_in, std::atomic<int>& failures) {
    std::thread echo([&] {
        for (int i = 0; i < rounds; ++i) {
            auto v = read_token(platform, b_in);
            if (!v || !write_token(platform, b_out, *v + 1).has_value()) {
                ++failures;
                return;
            }
        }
    });
    for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(rounds); ++i) {
        if (!write_token(platform, a_out, 2 * i).has_value()) {
            ++failures;
            break;
        }
        auto v = read_token(platform, a_in);
        if (!v || *v != 2 * i + 1) {
            ++failures;
            break;
        }
    }
    echo.join();
}
}  // namespace

TEMPLATE_LIST_TEST_CASE("stress: ping-pong through pipes, sockets, eventfds and epoll", "[ipc][stress]",
                        litebox::test::RealTimePlatforms) {
    using P = TestType;
    P platform;
    std::atomic<int> failures{0};
    auto ns = ipc::UnixNamespace<P>::create();
    std::vector<std::thread> threads;

    // Two pipe pairs and two unix stream pairs, ping-ponging at the same time.
    std::vector<ipc::PipeEnds<P>> pipes;
    for (int i = 0; i < 4; ++i) pipes.push_back(ipc::make_pipe<P>(0).value());
    std::vector<std::pair<std::shared_ptr<fd::OpenFile<P>>, std::shared_ptr<fd::OpenFile<P>>>> sockets;
    for (int i = 0; i < 2; ++i) sockets.push_back(ipc::make_unix_socketpair<P>(ns, 1, 0, ipc::PeerCredentials{}).value());
    for (int i = 0; i < 2; ++i) {
        threads.emplace_back([&, i] {
            ping_pong(platform, *pipes[2 * i].write, *pipes[2 * i].read, *pipes[2 * i + 1].write, *pipes[2 * i + 1].read, failures);
        });
        threads.emplace_back([&, i] {
            auto& [x, y] = sockets[static_cast<std::size_t>(i)];
            ping_pong(platform, *x, *y, *y, *x, failures);
        });
    }

    // An eventfd relay driven by an epoll waiter: the producer adds 1 and waits for the
    // consumer's acknowledgement on a second eventfd.
    auto request = ipc::make_eventfd<P>(0, ipc::eventfd_flags::nonblock).value();
    auto reply = ipc::make_eventfd<P>(0, 0).value();
    auto ep = event::Epoll<P>::create();
    REQUIRE(ep->ctl(event::EpollOp::add, 0, request, {fd::events::in | event::epoll_flags::edge_triggered, 1}).has_value());
    threads.emplace_back([&] {
        int seen = 0;
        while (seen < rounds && failures == 0) {
            std::array<event::EpollEvent, 1> out{};
            auto n = ep->wait(patient(platform), out);
            if (!n || *n != 1) {
                ++failures;
                return;
            }
            // Edge-triggered: drain everything.
            while (auto v = static_cast<ipc::EventFd<P>&>(*request).take()) {
                seen += static_cast<int>(*v);
                if (!static_cast<ipc::EventFd<P>&>(*reply).add(*v).has_value()) ++failures;
            }
        }
    });
    threads.emplace_back([&] {
        for (int i = 0; i < rounds; ++i) {
            if (!static_cast<ipc::EventFd<P>&>(*request).add(1).has_value()) ++failures;
            auto ack = event::blocking(patient(platform), *reply, fd::events::in,
                                       [&] { return static_cast<ipc::EventFd<P>&>(*reply).take(); });
            if (!ack) {
                ++failures;
                return;
            }
        }
    });

    // Many datagram senders, one receiver polling with poll_files; datagrams are never lost.
    constexpr int senders = 3;
    constexpr int per_sender = rounds / 2;
    auto receiver = ipc::UnixSocket<P>::create(ns, ipc::SocketType::datagram, 0, ipc::PeerCredentials{}).value();
    REQUIRE(receiver->bind(ipc::UnixAddress::abstract("sink")).has_value());
    receiver->set_receive_buffer(4096);  // small: senders block on a full queue
    auto sink = ns->lookup_abstract("sink").value();
    std::atomic<long> received_sum{0};
    threads.emplace_back([&] {
        long sum = 0;
        for (int got = 0; got < senders * per_sender;) {
            std::array<event::PollRequest<P>, 1> req{{{receiver.get(), fd::events::in}}};
            auto n = event::poll_files(patient(platform), std::span(req));
            if (!n || *n != 1) {
                ++failures;
                return;
            }
            std::array<std::byte, 8> buf{};
            while (auto r = receiver->try_receive(buf, 0)) {
                std::uint64_t v = 0;
                std::memcpy(&v, buf.data(), 8);
                sum += static_cast<long>(v);
                ++got;
            }
        }
        received_sum = sum;
    });
    for (int s = 0; s < senders; ++s) {
        threads.emplace_back([&] {
            auto sock = ipc::UnixSocket<P>::create(ns, ipc::SocketType::datagram, 0, ipc::PeerCredentials{}).value();
            for (int i = 1; i <= per_sender; ++i) {
                std::array<std::byte, 8> buf{};
                const std::uint64_t v = static_cast<std::uint64_t>(i);
                std::memcpy(buf.data(), &v, 8);
                ipc::SendExtras<P> extras;
                extras.destination = sink;
                if (!sock->send(patient(platform), buf, 0, std::move(extras)).has_value()) {
                    ++failures;
                    return;
                }
            }
        });
    }

    for (auto& t : threads) t.join();
    CHECK(failures == 0);
    CHECK(received_sum == static_cast<long>(senders) * per_sender * (per_sender + 1) / 2);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
