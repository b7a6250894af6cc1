// EXPECT: TimeProvider: missing `Instant now() const`
#include "_platform_base.hpp"
struct Platform : litebox::platform::HostMemoryPointers, litebox::platform::DenyAllPunchthrough,
                  litebox::platform::NoNetwork, cf::Log {
    using RawMutex = litebox::platform::std_platform::StdRawMutex;
    using Instant = litebox::platform::MonotonicInstant;
    using SystemTime = litebox::platform::UnixTime;
    SystemTime current_time() const { return {}; }
};
int main() {
    Platform p;
    litebox::LiteBox box(p);
}
