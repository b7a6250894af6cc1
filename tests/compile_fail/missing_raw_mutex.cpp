// EXPECT: RawMutexProvider: missing member type `using RawMutex = ...;`
#include "_platform_base.hpp"
struct Platform : litebox::platform::HostMemoryPointers, litebox::platform::DenyAllPunchthrough,
                  litebox::platform::NoNetwork, cf::Log, cf::Clock {};
int main() {
    Platform p;
    litebox::LiteBox box(p);
}
