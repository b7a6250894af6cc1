// EXPECT: RawMutex is missing `litebox::platform::WaitOutcome block_or_timeout(std::uint32_t expected, litebox::platform::Duration timeout)`
#include "_platform_base.hpp"
struct HalfMutex {
    HalfMutex() = default;
    HalfMutex(const HalfMutex&) = delete;
    std::atomic<std::uint32_t>& underlying_atomic() { return value; }
    std::size_t wake_many(std::size_t) { return 0; }
    bool wake_one() { return false; }
    std::size_t wake_all() { return 0; }
    cf::WaitOutcome block(std::uint32_t) { return cf::WaitOutcome::unblocked; }
    std::atomic<std::uint32_t> value{0};
};
struct Platform : litebox::platform::HostMemoryPointers, litebox::platform::DenyAllPunchthrough,
                  litebox::platform::NoNetwork, cf::Log, cf::Clock {
    using RawMutex = HalfMutex;
};
int main() {
    Platform p;
    litebox::LiteBox box(p);
}
