#include <catch2/catch.hpp>
#include <litebox/error.hpp>

#include <memory>
#include <string>

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using litebox::Errno;
using litebox::Result;

namespace {
Result<int> parse_positive(int v) {
    if (v <= 0) return Errno::inval;
    return v;
}
Result<int> doubled(int v) {
    LITEBOX_TRY_ASSIGN(const int x, parse_positive(v));
    return 2 * x;
}
Result<void> check(int v) {
    LITEBOX_TRY(parse_positive(v));
    return litebox::ok();
}
}  // namespace

TEST_CASE("Errno values are Linux's", "[core][error]") {
    STATIC_REQUIRE(litebox::errno_number(Errno::perm) == 1);
    STATIC_REQUIRE(litebox::errno_number(Errno::noent) == 2);
    STATIC_REQUIRE(litebox::errno_number(Errno::again) == 11);
    STATIC_REQUIRE(litebox::errno_number(Errno::nosys) == 38);
    STATIC_REQUIRE(litebox::errno_number(Errno::loop) == 40);
    STATIC_REQUIRE(litebox::errno_number(Errno::opnotsupp) == 95);
    STATIC_REQUIRE(litebox::errno_number(Errno::timedout) == 110);
    STATIC_REQUIRE(litebox::errno_wouldblock == Errno::again);
    CHECK(litebox::errno_name(Errno::nametoolong) == "ENAMETOOLONG");
    CHECK(litebox::errno_message(Errno::noent) == "No such file or directory");
    Errno e = Errno::perm;
    CHECK(litebox::errno_from_number(13, e));
    CHECK(e == Errno::acces);
    CHECK_FALSE(litebox::errno_from_number(41, e));  // 41 is unused on Linux
    CHECK(e == Errno::acces);
}

TEST_CASE("Result holds a value or an errno", "[core][error]") {
    Result<int> good = 5;
    REQUIRE(good.has_value());
    CHECK(*good == 5);
    Result<int> bad = Errno::badf;
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error() == Errno::badf);
    CHECK(bad.value_or(7) == 7);

    Result<std::string> text = std::string("hello");
    Result<std::string> copy = text;
    CHECK(*copy == "hello");
    copy = Errno::io;
    CHECK(copy.error() == Errno::io);
    copy = text;
    CHECK(copy->size() == 5);

    Result<std::unique_ptr<int>> owned = std::make_unique<int>(3);
    Result<std::unique_ptr<int>> moved = std::move(owned);
    CHECK(**moved == 3);

    auto mapped = good.transform([](int v) { return v + 1; });
    CHECK(*mapped == 6);
    auto chained = bad.and_then([](int v) -> Result<int> { return v; });
    CHECK(chained.error() == Errno::badf);
}

TEST_CASE("LITEBOX_TRY propagates the first error", "[core][error]") {
    CHECK(*doubled(4) == 8);
    CHECK(doubled(-1).error() == Errno::inval);
    CHECK(check(1).has_value());
    CHECK(check(0).error() == Errno::inval);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
