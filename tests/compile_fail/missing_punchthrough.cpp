// EXPECT: PunchthroughProvider: missing member types `using Punchthrough = ...; using PunchthroughToken = ...;`
#include "_platform_base.hpp"
struct Platform : litebox::platform::HostMemoryPointers, litebox::platform::NoNetwork, cf::Log, cf::Clock {
    using RawMutex = litebox::platform::std_platform::StdRawMutex;
};
int main() {
    Platform p;
    litebox::LiteBox box(p);
}
