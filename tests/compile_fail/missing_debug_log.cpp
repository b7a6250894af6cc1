// EXPECT: DebugLogProvider: missing `void debug_log_print(std::string_view message) const`
#include "_platform_base.hpp"
struct Platform : litebox::platform::HostMemoryPointers, litebox::platform::DenyAllPunchthrough,
                  litebox::platform::NoNetwork, cf::Clock {
    using RawMutex = litebox::platform::std_platform::StdRawMutex;
};
int main() {
    Platform p;
    litebox::LiteBox box(p);
}
