// libFuzzer target for the Linux shim's dispatcher: random syscall numbers and registers, with
// guest memory (the simulated address space of GuestMemoryPlatform) full of input bytes and a few
// unmapped holes. Properties: no crash, no sanitizer report, no leak (LeakSanitizer at exit of each
// run), no unbounded allocation (libFuzzer's -rss_limit_mb / -malloc_limit_mb).
//
// Blocking calls would stall the fuzzer, so the calling thread is marked interrupted before each
// syscall: every wait in the shim then ends at once with EINTR (the non-blocking paths still run;
// flock and F_SETLKW wait on the Waiter too).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "support/guest_memory_platform.hpp"

namespace {
namespace lx = litebox::shim::linux_abi;
using Platform = litebox::test::GuestMemoryPlatform;
using Space = litebox::test::GuestAddressSpace;

/// Reads little-endian values from the input; zeros once it runs out.
struct Input {
    const std::uint8_t* data;
    std::size_t size;
    std::size_t at = 0;
    template <typename T>
    T take() {
        T value{};
        const std::size_t n = std::min(sizeof(T), size - at);
        if (n > 0) std::memcpy(&value, data + at, n);
        at += n;
        return value;
    }
    [[nodiscard]] bool done() const { return at >= size; }
};

/// Syscall numbers the fuzzer favours (implemented ones); others come from the raw input.
constexpr std::uint16_t interesting[] = {
    0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 17, 18, 19, 20, 21, 22, 23, 32, 33, 35, 39, 57, 58, 59, 60, 61, 62, 63, 72, 73, 74, 75,
    76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 102, 104, 105, 106,
    107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 124, 127, 13, 14, 132, 133, 137, 138, 160,
    162, 170, 186, 200, 201, 213, 217, 218, 228, 229, 230, 231, 232, 233, 234, 247, 257, 258, 259, 260, 262, 263, 264, 265,
    266, 267, 268, 269, 270, 271, 280, 281, 283, 284, 285, 286, 287, 290, 291, 292, 293, 295, 296, 302, 316, 318, 326, 332,
    436, 437, 439, 56};

std::uint64_t argument(Input& in) {
    const auto kind = in.take<std::uint8_t>();
    const auto raw = in.take<std::uint64_t>();
    switch (kind % 4) {
    case 0: return raw;                                    // anything
    case 1: return Space::base + raw % Space::size;       // inside guest memory
    case 2: return raw % 16;                               // small: descriptors, flags, counts
    default: return static_cast<std::uint64_t>(-static_cast<std::int64_t>(raw % 128));  // AT_FDCWD and other negatives
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Input in{data, size};
    Space& space = Space::instance();
    space.reset();
    space.fill(std::span<const std::uint8_t>(data, std::min<std::size_t>(size, 4096)));
    for (int i = 0; i < 4; ++i) {
        const auto page = in.take<std::uint8_t>();
        space.unmap(Space::base + (page % (Space::size / Space::page_size)) * Space::page_size, Space::page_size);
    }

    Platform platform;
    litebox::LiteBox<Platform> box(platform);
    lx::ShimConfig config;
    config.max_tasks = 16;
    lx::LinuxShim<Platform> shim(box, config);
    auto init = shim.create_init();
    if (!init.has_value()) __builtin_trap();
    auto& thread = **init;

    for (int calls = 0; calls < 64 && !in.done(); ++calls) {
        lx::SyscallRequest request;
        const auto selector = in.take<std::uint16_t>();
        request.number = (selector & 0x8000) != 0 ? selector & 0x3ff : interesting[selector % std::size(interesting)];
        for (auto& a : request.args) a = argument(in);
        thread.thread().set_interrupt_hint(true);
        const std::int64_t result = shim.dispatch(thread, request);
        if (result < -4095) __builtin_trap();  // an errno outside Linux's range
        (void)thread.take_request();
        while (thread.dequeue_signal()) {
        }
    }
    return 0;
}
