#include <catch2/catch.hpp>
#include <litebox/litebox.hpp>
#include <litebox/platform/linux/platform.hpp>
#include <litebox/platform/std/platform.hpp>

#include "support/test_platform.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

namespace lp = litebox::platform;

namespace {
struct NotAMutex {
    std::atomic<std::uint32_t>& underlying_atomic();
};
struct CopyableMutex {  // has every member but can be copied: not a RawMutex
    std::atomic<std::uint32_t>& underlying_atomic();
    std::size_t wake_many(std::size_t);
    bool wake_one();
    std::size_t wake_all();
    lp::WaitOutcome block(std::uint32_t);
    lp::WaitOutcome block_or_timeout(std::uint32_t, lp::Duration);
};
struct NoTime : lp::HostMemoryPointers, lp::DenyAllPunchthrough, lp::NoNetwork {
    using RawMutex = lp::std_platform::StdRawMutex;
    void debug_log_print(std::string_view) const {}
};
struct BadPointers {
    template <typename T>
    using ConstPtr = T*;  // raw pointers are not fallible guest pointers
    template <typename T>
    using MutPtr = T*;
};
struct Stdio {
    litebox::Result<std::size_t> stdio_read(std::span<std::byte>) const;
    litebox::Result<std::size_t> stdio_write(lp::StdioStream, std::span<const std::byte>) const;
    bool stdio_is_terminal(lp::StdioStream) const;
};
}  // namespace

TEST_CASE("Provider concepts accept the shipped platforms", "[core][concepts]") {
    STATIC_REQUIRE(lp::Provider<lp::StdPlatform>);
    STATIC_REQUIRE(lp::Provider<lp::LinuxPlatform>);
    STATIC_REQUIRE(lp::Provider<litebox::test::TestPlatform>);
    STATIC_REQUIRE(lp::StdioProvider<lp::LinuxPlatform>);
    STATIC_REQUIRE(lp::CrngProvider<lp::LinuxPlatform>);
    STATIC_REQUIRE(lp::StdioProvider<Stdio>);
}

TEST_CASE("Provider concepts reject incomplete platforms", "[core][concepts]") {
    STATIC_REQUIRE_FALSE(lp::RawMutex<NotAMutex>);
    STATIC_REQUIRE_FALSE(lp::RawMutex<CopyableMutex>);
    STATIC_REQUIRE(lp::RawMutex<lp::std_platform::StdRawMutex>);
    STATIC_REQUIRE_FALSE(lp::TimeProvider<NoTime>);
    STATIC_REQUIRE_FALSE(lp::Provider<NoTime>);
    STATIC_REQUIRE(lp::RawMutexProvider<NoTime>);
    STATIC_REQUIRE(lp::DebugLogProvider<NoTime>);
    STATIC_REQUIRE(lp::PunchthroughProvider<NoTime>);
    STATIC_REQUIRE(lp::IPInterfaceProvider<NoTime>);
    STATIC_REQUIRE_FALSE(lp::RawPointerProvider<BadPointers>);
    STATIC_REQUIRE_FALSE(lp::StdioProvider<lp::StdPlatform>);
    STATIC_REQUIRE_FALSE(lp::CrngProvider<lp::StdPlatform>);
    STATIC_REQUIRE_FALSE(lp::InstantLike<int>);
    STATIC_REQUIRE(lp::InstantLike<lp::MonotonicInstant>);
    STATIC_REQUIRE(lp::SystemTimeLike<lp::UnixTime>);
    STATIC_REQUIRE_FALSE(lp::SystemTimeLike<lp::MonotonicInstant>);
}

TEST_CASE("MonotonicInstant and UnixTime arithmetic is checked", "[core][time]") {
    using namespace std::chrono_literals;
    const auto a = lp::MonotonicInstant::from_nanoseconds(100);
    const auto b = lp::MonotonicInstant::from_nanoseconds(250);
    CHECK(b.checked_duration_since(a) == std::optional<lp::Duration>(150ns));
    CHECK_FALSE(a.checked_duration_since(b).has_value());
    CHECK(a.saturating_duration_since(b) == 0ns);
    CHECK(a.checked_add(50ns) == std::optional(lp::MonotonicInstant::from_nanoseconds(150)));
    CHECK(a.checked_add(-100ns) == std::optional(lp::MonotonicInstant::from_nanoseconds(0)));
    CHECK_FALSE(a.checked_add(-101ns).has_value());
    CHECK_FALSE(lp::MonotonicInstant::from_nanoseconds(UINT64_MAX - 5).checked_add(10ns).has_value());
    CHECK(a < b);

    const auto epoch = lp::UnixTime::unix_epoch();
    const auto later = lp::UnixTime::from_nanoseconds_since_epoch(5'000);
    const auto before = lp::UnixTime::from_nanoseconds_since_epoch(-3'000);
    CHECK(later.duration_since(epoch).has_value());
    CHECK(later.duration_since(epoch).value() == 5000ns);
    const auto back = before.duration_since(later);
    CHECK_FALSE(back.has_value());
    CHECK(back.backwards_by() == 8000ns);
    const auto extreme = lp::UnixTime::from_nanoseconds_since_epoch(INT64_MAX).duration_since(
        lp::UnixTime::from_nanoseconds_since_epoch(INT64_MIN));
    CHECK(extreme.value().count() == INT64_MAX);  // clamped, not wrapped
}

TEMPLATE_TEST_CASE("Platform clocks are monotonic and the wall clock is after 2020", "[core][time]",
                   lp::StdPlatform, lp::LinuxPlatform, litebox::test::TestPlatform) {
    TestType platform;
    const auto t1 = platform.now();
    const auto t2 = platform.now();
    CHECK(t1 <= t2);
    const auto since = platform.current_time().duration_since(TestType::SystemTime::unix_epoch());
    REQUIRE(since.has_value());
    CHECK(since.value() > std::chrono::hours(24 * 365 * 50));
}

TEST_CASE("LinuxPlatform random bytes are not constant", "[core][platform]") {
    lp::LinuxPlatform platform;
    std::array<std::byte, 64> a{}, b{};
    REQUIRE(platform.fill_random_bytes(a).has_value());
    REQUIRE(platform.fill_random_bytes(b).has_value());
    CHECK(a != b);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
