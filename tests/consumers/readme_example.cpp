#include <litebox/litebox.hpp>
#include <litebox/platform/std/platform.hpp>  // StdRawMutex, a portable raw mutex

#include <chrono>
#include <cstdio>

// The host side: everything LiteBox may ask of the host is a member of this one type.
struct MyPlatform : litebox::platform::HostMemoryPointers,   // guest pointers = host pointers
                    litebox::platform::DenyAllPunchthrough,  // no extra host operations
                    litebox::platform::NoNetwork {           // no packets in or out
    using RawMutex = litebox::platform::std_platform::StdRawMutex;
    using Instant = litebox::platform::MonotonicInstant;
    using SystemTime = litebox::platform::UnixTime;

    Instant now() const noexcept {
        auto t = std::chrono::steady_clock::now().time_since_epoch();
        return Instant::from_nanoseconds(std::chrono::duration_cast<std::chrono::nanoseconds>(t).count());
    }
    SystemTime current_time() const noexcept {
        auto t = std::chrono::system_clock::now().time_since_epoch();
        return SystemTime::from_nanoseconds_since_epoch(std::chrono::duration_cast<std::chrono::nanoseconds>(t).count());
    }
    void debug_log_print(std::string_view line) const noexcept {
        std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
    }
};

int main() {
    MyPlatform platform;  // must outlive the box
    litebox::LiteBox<MyPlatform> box(platform);
    litebox::sync::Mutex<MyPlatform, int> hits(0);
    hits.with_lock([](int& n) { ++n; });
    box.log("bound a platform; hits = {}", hits.with_lock([](int& n) { return n; }));
}
