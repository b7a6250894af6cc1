// Dispatch overhead of the Linux shim itself: decode + north-API call + encode, for getpid, a
// 64-byte read from a tmpfs file (pread64, so that every iteration reads the same bytes) and
// fstat, on the Linux platform whose guest memory is this process's memory (HostMemoryPointers).
// The runtime's transport (seccomp trap, supervisor round trip) is not included.
//
// Names follow bench/run.sh's "<case>/box" and "<case>/host" pairing: the host side is the native
// syscall on this machine, for scale (target: the shim's overhead below ~150 ns per call).
#include <benchmark/benchmark.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <litebox/platform/linux/platform.hpp>
#include <litebox/shim/linux/shim.hpp>

#include <array>
#include <cstdint>
#include <memory>

namespace {

namespace lx = litebox::shim::linux_abi;
using Platform = litebox::platform::LinuxPlatform;

struct Guest {
    Platform platform;
    litebox::LiteBox<Platform> box{platform};
    lx::LinuxShim<Platform> shim{box};
    std::unique_ptr<lx::ThreadContext<Platform>> thread;
    int fd = -1;
    alignas(64) std::array<char, 64> buffer{};
    lx::abi::stat status{};

    Guest() {
        thread = std::move(*shim.create_init());
        const char path[] = "/tmp/bench";
        fd = static_cast<int>(call(lx::nr::openat, static_cast<std::uint64_t>(lx::abi::at_fdcwd), ptr(path), 0102, 0644));  // O_RDWR|O_CREAT
        std::array<char, 4096> data{};
        data.fill('x');
        call(lx::nr::write, fd, ptr(data.data()), data.size());
    }
    template <typename T>
    static std::uint64_t ptr(T* p) {
        return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p));
    }
    template <typename... Args>
    std::int64_t call(std::uint64_t number, Args... args) {
        return shim.dispatch(*thread, lx::SyscallRequest{number, {static_cast<std::uint64_t>(args)...}});
    }
};

Guest& guest() {
    static Guest g;
    return g;
}

void getpid_box(benchmark::State& state) {
    Guest& g = guest();
    for (auto _ : state) benchmark::DoNotOptimize(g.call(lx::nr::getpid));
}
void getpid_host(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(::syscall(SYS_getppid));
}
void read64_box(benchmark::State& state) {
    Guest& g = guest();
    const auto buffer = Guest::ptr(g.buffer.data());
    for (auto _ : state) benchmark::DoNotOptimize(g.call(lx::nr::pread64, g.fd, buffer, 64, 0));
    if (g.call(lx::nr::pread64, g.fd, buffer, 64, 0) != 64) state.SkipWithError("pread64 failed");
}
void read64_host(benchmark::State& state) {
    char path[] = "/dev/shm/litebox-shim-bench-XXXXXX";
    const int fd = ::mkstemp(path);
    std::array<char, 4096> data{};
    (void)!::write(fd, data.data(), data.size());
    std::array<char, 64> buffer{};
    for (auto _ : state) benchmark::DoNotOptimize(::pread(fd, buffer.data(), 64, 0));
    ::close(fd);
    ::unlink(path);
}
void fstat_box(benchmark::State& state) {
    Guest& g = guest();
    const auto status = Guest::ptr(&g.status);
    for (auto _ : state) benchmark::DoNotOptimize(g.call(lx::nr::fstat, g.fd, status));
    if (g.status.st_size != 4096) state.SkipWithError("fstat failed");
}
void fstat_host(benchmark::State& state) {
    struct ::stat st {};
    for (auto _ : state) benchmark::DoNotOptimize(::fstat(0, &st));
}

}  // namespace

BENCHMARK(getpid_box)->Name("shim_getpid/box");
BENCHMARK(getpid_host)->Name("shim_getpid/host");
BENCHMARK(read64_box)->Name("shim_read64/box");
BENCHMARK(read64_host)->Name("shim_read64/host");
BENCHMARK(fstat_box)->Name("shim_fstat/box");
BENCHMARK(fstat_host)->Name("shim_fstat/host");

BENCHMARK_MAIN();
