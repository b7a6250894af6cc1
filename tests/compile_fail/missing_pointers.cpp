// EXPECT: RawPointerProvider: missing member templates `template <class T> using ConstPtr = ...;`
#include "_platform_base.hpp"
struct Platform : litebox::platform::DenyAllPunchthrough, litebox::platform::NoNetwork, cf::Log, cf::Clock {
    using RawMutex = litebox::platform::std_platform::StdRawMutex;
};
int main() {
    Platform p;
    litebox::LiteBox box(p);
}
