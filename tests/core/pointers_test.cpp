#include <catch2/catch.hpp>
#include <litebox/platform/trivial.hpp>

#include <array>
#include <cstdint>

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

namespace lp = litebox::platform;
using litebox::Errno;

TEST_CASE("Host pointers read and write in-process memory", "[core][pointers]") {
    std::array<std::uint32_t, 4> words{1, 2, 3, 4};
    lp::HostMutPtr<std::uint32_t> p(words.data());
    CHECK(p.address() == reinterpret_cast<std::uintptr_t>(words.data()));
    CHECK(lp::HostConstPtr<std::uint32_t>(p.address()).address() == p.address());
    CHECK(*p.read_at_offset(2) == 3);
    REQUIRE(p.write_at_offset(1, 20).has_value());
    CHECK(words[1] == 20);
    const std::array<std::uint32_t, 2> in{7, 8};
    REQUIRE(p.copy_from(2, in).has_value());
    CHECK(words[2] == 7);
    CHECK(words[3] == 8);
    auto owned = p.to_owned_slice(4);
    REQUIRE(owned.has_value());
    CHECK(*owned == std::vector<std::uint32_t>{1, 20, 7, 8});
    std::array<std::uint32_t, 2> out{};
    REQUIRE(p.read_into(1, out).has_value());
    CHECK(out[0] == 20);

    const char text[] = "hello\0world";
    lp::HostConstPtr<char> s(text);
    CHECK(*s.to_cstring(64) == "hello");
    CHECK(s.to_cstring(5).error() == Errno::nametoolong);
    CHECK(*s.to_cstring(6) == "hello");
}

TEST_CASE("Host pointers reject null, misaligned and overflowing accesses", "[core][pointers]") {
    CHECK(lp::HostConstPtr<std::uint32_t>(std::uintptr_t{0}).read_at_offset(0).error() == Errno::fault);
    CHECK(lp::HostConstPtr<char>(std::uintptr_t{0}).to_cstring(10).error() == Errno::fault);
    std::array<std::uint32_t, 2> words{};
    const auto misaligned = reinterpret_cast<std::uintptr_t>(words.data()) + 1;
    CHECK(lp::HostConstPtr<std::uint32_t>(misaligned).read_at_offset(0).error() == Errno::fault);
    CHECK(lp::HostMutPtr<std::uint32_t>(misaligned).write_at_offset(0, 1).error() == Errno::fault);
    lp::HostConstPtr<std::uint32_t> p(words.data());
    CHECK(p.read_at_offset(SIZE_MAX / 2).error() == Errno::fault);   // offset * 4 overflows
    CHECK(p.to_owned_slice(SIZE_MAX / 4 + 1).error() == Errno::fault);
    const lp::HostConstPtr<std::uint8_t> high(UINTPTR_MAX - 2);
    CHECK(high.read_at_offset(5).error() == Errno::fault);           // address wraps
    std::array<std::uint8_t, 8> sink{};
    CHECK(high.read_into(0, sink).error() == Errno::fault);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
