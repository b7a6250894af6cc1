// IPC benchmarks on the Linux platform, each against the host kernel's equivalent:
//   - pipe round trip between two threads (1 byte each way): LiteBox pipes vs pipe(2)
//   - pipe throughput with 64 KiB writes: LiteBox pipes vs pipe(2)
//   - unix stream throughput with 64 KiB writes: LiteBox socketpair vs socketpair(2)
//   - epoll_wait with 1000 registered eventfds of which one is ready: LiteBox epoll vs epoll(7)
// Run: bench/run.sh (LITEBOX_BENCH_FILTER=... to select); throughput cases report time per
// 64 KiB write (and bytes_per_second), so box/host < 1 means LiteBox is faster everywhere.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <litebox/event/blocking.hpp>
#include <litebox/event/epoll.hpp>
#include <litebox/ipc/eventfd.hpp>
#include <litebox/ipc/pipe.hpp>
#include <litebox/ipc/unix/socket.hpp>
#include <litebox/platform/linux/platform.hpp>

#include <array>
#include <cstddef>
#include <thread>
#include <vector>

namespace {

using LP = litebox::platform::LinuxPlatform;
using litebox::event::WaitContext;
namespace event = litebox::event;
namespace ipc = litebox::ipc;

constexpr std::size_t chunk_size = 64 * 1024;

// ---- host helpers ------------------------------------------------------------------------------

bool host_write_all(int fd, const void* data, std::size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd, p, size);
        if (n <= 0) return false;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// ---- pipe round trip ---------------------------------------------------------------------------

void BM_PipeRoundTrip_Box(benchmark::State& state) {
    LP platform;
    auto there = ipc::make_pipe<LP>(0).value();
    auto back = ipc::make_pipe<LP>(0).value();
    std::thread echo([&] {
        WaitContext<LP> ctx(platform);
        std::array<std::byte, 1> buf{};
        for (;;) {
            auto n = event::read(ctx, *there.read, buf);
            if (!n || *n == 0) break;
            (void)event::write(ctx, *back.write, std::span(buf).first(*n));
        }
    });
    WaitContext<LP> ctx(platform);
    std::array<std::byte, 1> byte{std::byte{1}};
    for (auto _ : state) {
        (void)event::write(ctx, *there.write, byte);
        (void)event::read(ctx, *back.read, byte);
    }
    there.write.reset();  // end of file for the echo thread
    echo.join();
}

void BM_PipeRoundTrip_Host(benchmark::State& state) {
    int there[2];
    int back[2];
    if (::pipe(there) != 0 || ::pipe(back) != 0) {
        state.SkipWithError("pipe failed");
        return;
    }
    std::thread echo([&] {
        char c;
        while (::read(there[0], &c, 1) == 1) (void)!::write(back[1], &c, 1);
    });
    char c = 1;
    for (auto _ : state) {
        (void)!::write(there[1], &c, 1);
        (void)!::read(back[0], &c, 1);
    }
    ::close(there[1]);
    echo.join();
    ::close(there[0]);
    ::close(back[0]);
    ::close(back[1]);
}

// ---- throughput (pipes and unix stream sockets) --------------------------------------------------

template <typename Make>
void box_throughput(benchmark::State& state, Make make) {
    LP platform;
    auto ends = make();
    auto writer = std::move(ends.first);
    auto reader = std::move(ends.second);
    std::thread drain([&, r = reader] {
        WaitContext<LP> ctx(platform);
        std::vector<std::byte> buf(chunk_size);
        for (;;) {
            auto n = event::read(ctx, *r, buf);
            if (!n || *n == 0) break;
        }
    });
    reader.reset();
    WaitContext<LP> ctx(platform);
    std::vector<std::byte> chunk(chunk_size, std::byte{0x5a});
    for (auto _ : state) {
        if (event::write(ctx, *writer, chunk).value_or(0) != chunk_size) state.SkipWithError("short write");
    }
    writer.reset();
    drain.join();
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(chunk_size));
}

void host_throughput(benchmark::State& state, int write_fd, int read_fd) {
    std::thread drain([&] {
        std::vector<char> buf(chunk_size);
        while (::read(read_fd, buf.data(), buf.size()) > 0) {
        }
    });
    std::vector<char> chunk(chunk_size, 0x5a);
    for (auto _ : state) {
        if (!host_write_all(write_fd, chunk.data(), chunk.size())) state.SkipWithError("write failed");
    }
    ::close(write_fd);
    drain.join();
    ::close(read_fd);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(chunk_size));
}

void BM_PipeThroughput_Box(benchmark::State& state) {
    box_throughput(state, [] {
        auto ends = ipc::make_pipe<LP>(0).value();
        return std::pair{ends.write, ends.read};
    });
}

void BM_PipeThroughput_Host(benchmark::State& state) {
    int fds[2];
    if (::pipe(fds) != 0) {
        state.SkipWithError("pipe failed");
        return;
    }
    host_throughput(state, fds[1], fds[0]);
}

void BM_UnixStreamThroughput_Box(benchmark::State& state) {
    auto ns = ipc::UnixNamespace<LP>::create();
    box_throughput(state, [&] { return ipc::make_unix_socketpair<LP>(ns, 1 /*SOCK_STREAM*/, 0, ipc::PeerCredentials{}).value(); });
}

void BM_UnixStreamThroughput_Host(benchmark::State& state) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        state.SkipWithError("socketpair failed");
        return;
    }
    host_throughput(state, fds[0], fds[1]);
}

// ---- epoll_wait with 1000 registered, one ready ------------------------------------------------

constexpr int registered = 1000;

void BM_EpollWait1000OneReady_Box(benchmark::State& state) {
    LP platform;
    auto ep = event::Epoll<LP>::create();
    std::vector<std::shared_ptr<litebox::fd::OpenFile<LP>>> files;
    for (int i = 0; i < registered; ++i) {
        files.push_back(ipc::make_eventfd<LP>(i == registered / 2 ? 1 : 0, 0).value());
        (void)ep->ctl(event::EpollOp::add, i, files.back(), {litebox::fd::events::in, static_cast<std::uint64_t>(i)});
    }
    std::array<event::EpollEvent, 64> out{};
    for (auto _ : state) {
        const WaitContext<LP> ctx(platform, nullptr, platform.now());  // timeout 0
        auto n = ep->wait(ctx, out);
        if (n.value_or(0) != 1) state.SkipWithError("expected one ready entry");
        benchmark::DoNotOptimize(out);
    }
}

void BM_EpollWait1000OneReady_Host(benchmark::State& state) {
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<int> fds;
    for (int i = 0; i < registered; ++i) {
        fds.push_back(::eventfd(i == registered / 2 ? 1 : 0, EFD_CLOEXEC));
        struct epoll_event ev {};
        ev.events = EPOLLIN;
        ev.data.u64 = static_cast<std::uint64_t>(i);
        ::epoll_ctl(ep, EPOLL_CTL_ADD, fds.back(), &ev);
    }
    std::array<struct epoll_event, 64> out{};
    for (auto _ : state) {
        if (::epoll_wait(ep, out.data(), static_cast<int>(out.size()), 0) != 1) state.SkipWithError("expected one ready fd");
        benchmark::DoNotOptimize(out);
    }
    for (int fd : fds) ::close(fd);
    ::close(ep);
}

}  // namespace

// Names follow bench/ratios.py: "<case>/box" and "<case>/host" are compared.
BENCHMARK(BM_PipeRoundTrip_Box)->Name("pipe_round_trip_2_threads/box")->UseRealTime();
BENCHMARK(BM_PipeRoundTrip_Host)->Name("pipe_round_trip_2_threads/host")->UseRealTime();
BENCHMARK(BM_PipeThroughput_Box)->Name("pipe_64KiB_writes_2_threads/box")->UseRealTime();
BENCHMARK(BM_PipeThroughput_Host)->Name("pipe_64KiB_writes_2_threads/host")->UseRealTime();
BENCHMARK(BM_UnixStreamThroughput_Box)->Name("unix_stream_64KiB_writes_2_threads/box")->UseRealTime();
BENCHMARK(BM_UnixStreamThroughput_Host)->Name("unix_stream_64KiB_writes_2_threads/host")->UseRealTime();
BENCHMARK(BM_EpollWait1000OneReady_Box)->Name("epoll_wait_1000_registered_1_ready/box");
BENCHMARK(BM_EpollWait1000OneReady_Host)->Name("epoll_wait_1000_registered_1_ready/host");

BENCHMARK_MAIN();
