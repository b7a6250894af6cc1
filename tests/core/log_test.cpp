#include <catch2/catch.hpp>
#include <litebox/box.hpp>
#include <litebox/log.hpp>

#include "support/test_platform.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

TEST_CASE("log formats into one bounded line", "[core][log]") {
    litebox::test::TestPlatform platform;
    litebox::log(platform, "open({:?}) = {}", "/etc/passwd", -2);
    litebox::LiteBox box(platform);
    box.log("{} + {} = {}", 1, 2, 3);
    const std::string huge(5000, 'x');
    litebox::log(platform, "{}", huge);
    const auto lines = platform.log_lines();
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "open(\"/etc/passwd\") = -2");
    CHECK(lines[1] == "1 + 2 = 3");
    CHECK(lines[2].size() == litebox::log_buffer_size);
    CHECK(lines[2].substr(lines[2].size() - 3) == "...");
}

TEST_CASE("log_runtime never throws on a malformed format", "[core][log]") {
    litebox::test::TestPlatform platform;
    litebox::log_runtime(platform, "{} and {", 1);
    litebox::log_runtime(platform, "{:d}", std::string("not a number"));
    litebox::log_runtime(platform, "{} {}", 1);  // too few arguments
    litebox::log_runtime(platform, "fine {}", 42);
    const auto lines = platform.log_lines();
    REQUIRE(lines.size() == 4);
    CHECK(lines[0] == "<malformed log format>");
    CHECK(lines[1] == "<malformed log format>");
    CHECK(lines[2] == "<malformed log format>");
    CHECK(lines[3] == "fine 42");
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
