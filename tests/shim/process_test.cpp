#include "shim_fixture.hpp"

using namespace litebox::test;
using litebox::Errno;

TEST_CASE("getpid, gettid and getppid of the first process", "[shim]") {
    ShimFixture<> f;
    CHECK(f.call(lx::nr::getpid) == 1);
    CHECK(f.call(lx::nr::gettid) == 1);
    CHECK(f.call(lx::nr::getppid) == 0);
}
