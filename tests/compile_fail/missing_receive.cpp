// EXPECT: IPInterfaceProvider: missing `litebox::Result<std::size_t> receive_ip_packet(std::span<std::byte> buffer) const`
#include "_platform_base.hpp"
struct Platform : litebox::platform::HostMemoryPointers, litebox::platform::DenyAllPunchthrough,
                  cf::Log, cf::Clock {
    using RawMutex = litebox::platform::std_platform::StdRawMutex;
    litebox::Result<void> send_ip_packet(std::span<const std::byte>) const { return litebox::Errno::netunreach; }
};
int main() {
    Platform p;
    litebox::LiteBox box(p);
}
