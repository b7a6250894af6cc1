// A tiny LiteBox consumer, built by every consumer project (find_package, add_subdirectory,
// FetchContent, pkg-config). It binds the portable StdPlatform into a LiteBox, takes a
// sync::Mutex from two threads, reads the platform clock and logs one line through the box.
// It exits 0 only if all of that worked.
#include <litebox/litebox.hpp>
#include <litebox/platform/std/platform.hpp>

#include <cstdio>
#include <thread>

int main() {
    using Platform = litebox::platform::StdPlatform;
    Platform platform;
    litebox::LiteBox<Platform> box(platform);
    if (&box.platform() != &platform) {
        std::puts("consumer: the box is not bound to the platform");
        return 1;
    }

    constexpr int increments = 10000;
    litebox::sync::Mutex<Platform, int> counter(0);
    const auto start = box.now();
    auto work = [&counter] {
        for (int i = 0; i < increments; ++i) counter.with_lock([](int& value) { ++value; });
    };
    std::thread other(work);
    work();
    other.join();
    const int total = counter.with_lock([](const int& value) { return value; });
    const auto elapsed = box.now().checked_duration_since(start);

    if (total != 2 * increments || !elapsed) {
        std::printf("consumer: FAILED (counter=%d, clock %s)\n", total, elapsed ? "ok" : "went backwards");
        return 1;
    }
    box.log("litebox consumer: ok (counter={})", total);
    return 0;
}
