// Mutex lock/unlock: litebox::sync::Mutex on the Linux platform (futex raw mutex) against
// std::mutex, uncontended (1 thread) and contended (2 threads), in the same run.
//
// Benchmark names are "<case>/box" and "<case>/host" so that bench/run.sh can pair them and print
// the ratio box/host. Each iteration is one lock + one (empty-ish) critical section + one unlock.
#include <benchmark/benchmark.h>

#include <litebox/platform/linux/platform.hpp>
#include <litebox/sync/mutex.hpp>

#include <cstdint>
#include <mutex>

namespace {

using Platform = litebox::platform::LinuxPlatform;

// One shared lock per kind, so that the threads of a ->Threads(2) run contend on it.
litebox::sync::Mutex<Platform, std::uint64_t> g_box_mutex(0);
std::mutex g_host_mutex;
std::uint64_t g_host_value = 0;

void box_lock_unlock(benchmark::State& state) {
    for (auto _ : state) {
        auto guard = g_box_mutex.lock();
        ++*guard;
        benchmark::DoNotOptimize(*guard);
    }
}

void host_lock_unlock(benchmark::State& state) {
    for (auto _ : state) {
        std::lock_guard guard(g_host_mutex);
        ++g_host_value;
        benchmark::DoNotOptimize(g_host_value);
    }
}

}  // namespace

BENCHMARK(box_lock_unlock)->Name("mutex_uncontended/box");
BENCHMARK(host_lock_unlock)->Name("mutex_uncontended/host");
BENCHMARK(box_lock_unlock)->Name("mutex_contended_2_threads/box")->Threads(2)->UseRealTime();
BENCHMARK(host_lock_unlock)->Name("mutex_contended_2_threads/host")->Threads(2)->UseRealTime();

BENCHMARK_MAIN();
