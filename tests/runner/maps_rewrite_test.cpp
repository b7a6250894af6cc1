// litebox-run's /proc/PID/maps rewriting (examples/litebox-run/maps.hpp): only box names and box
// file identities leave it.
#include <sys/sysmacros.h>

#include <algorithm>

#include <catch2/catch.hpp>

#include "../../examples/litebox-run/maps.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using litebox_run::box_maps;
using litebox_run::MappedName;

namespace {
constexpr std::size_t unlimited = 1u << 20;

std::optional<MappedName> registry(std::uint64_t device, std::uint64_t inode) {
    if (device == ::makedev(0, 1) && inode == 4242) return MappedName{"/bin/busybox", ::makedev(0, 0x23), 13};
    if (device == ::makedev(8, 1) && inode == 77) return MappedName{"/usr/lib/libc.so.6", ::makedev(0, 1), 900};
    if (device == ::makedev(0, 1) && inode == 5150) return MappedName{"/tmp/a\n7f00-7f01 r-xp 0 00:00 0 /fake", ::makedev(0, 1), 31};
    return std::nullopt;
}
}  // namespace

TEST_CASE("maps: registered files get box names, others read as anonymous", "[runner][maps]") {
    const std::string host =
        "00400000-00401000 r--p 00000000 00:01 4242                               /memfd:litebox-guest (deleted)\n"
        "7f0000000000-7f0000001000 r-xp 00002000 08:01 77                         /srv/host/root/usr/lib/libc.so.6\n"
        "7f0000001000-7f0000002000 r--p 00000000 08:01 78                         /etc/host-secret\n"
        "7f0000002000-7f0000003000 rw-s 00000000 00:01 999                        /memfd:other (deleted)\n"
        "01000000-01021000 rw-p 00000000 00:00 0                                  [heap]\n"
        "7f0000003000-7f0000004000 rw-p 00000000 00:00 0                          [anon:guest arena]\n"
        "7f0000004000-7f0000005000 rw-s 00000000 00:01 5                          /dev/zero (deleted)\n"
        "7f0000005000-7f0000006000 rw-p 00000000 00:00 0                          [some-host-thing]\n"
        "7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]\n"
        "this is not a maps line\n"
        "7f0000006000-7f0000007000 rw-p 00000000 00:00 0 \n";
    const std::string out = box_maps(host, registry, unlimited).value_or("(too long)");
    const std::string expected =
        "00400000-00401000 r--p 00000000 00:23 13                                 /bin/busybox\n"
        "7f0000000000-7f0000001000 r-xp 00002000 00:01 900                        /usr/lib/libc.so.6\n"
        "7f0000001000-7f0000002000 r--p 00000000 00:00 0 \n"
        "7f0000002000-7f0000003000 rw-s 00000000 00:00 0 \n"
        "01000000-01021000 rw-p 00000000 00:00 0                                  [heap]\n"
        "7f0000003000-7f0000004000 rw-p 00000000 00:00 0                          [anon:guest arena]\n"
        "7f0000004000-7f0000005000 rw-s 00000000 00:00 0                          /dev/zero (deleted)\n"
        "7f0000005000-7f0000006000 rw-p 00000000 00:00 0 \n"
        "7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]\n"
        "7f0000006000-7f0000007000 rw-p 00000000 00:00 0 \n";
    CHECK(out == expected);
    CHECK(out.find("memfd") == std::string::npos);
    CHECK(out.find("host") == std::string::npos);
}

TEST_CASE("maps: hostile or truncated text never escapes its fields", "[runner][maps]") {
    CHECK(box_maps("", registry, unlimited)->empty());
    CHECK(box_maps("00400000-00401000 r--p 00000000 00:01", registry, unlimited)->empty());          // cut short
    CHECK(box_maps("00400000-00401000 r--p zz 00:01 4242 /x\n", registry, unlimited)->empty());       // not hex
    CHECK(box_maps("00400000 r--p 00000000 00:01 4242 /x\n", registry, unlimited)->empty());          // no range
    CHECK(box_maps("00400000-00401000 r--p 00000000 0001 4242 /x\n", registry, unlimited)->empty());  // no colon
    CHECK(box_maps("00400000-00401000 r--p 00000000 00:01 99999999999999999999999 /x\n", registry, unlimited)->empty());
    // Without a trailing newline the last line still counts.
    CHECK(box_maps("00400000-00401000 r--p 00000000 00:01 4242 /memfd:x", registry, unlimited) ==
          "00400000-00401000 r--p 00000000 00:23 13                                 /bin/busybox\n");
}

TEST_CASE("maps: a newline in a box path cannot forge a line; the output is bounded", "[runner][maps]") {
    const std::string line = "7f0000000000-7f0000001000 r--p 00000000 00:01 5150 /memfd:litebox-mapped (deleted)\n";
    const auto out = box_maps(line, registry, unlimited);
    REQUIRE(out.has_value());
    CHECK(*out == "7f0000000000-7f0000001000 r--p 00000000 00:01 31                         /tmp/a\\0127f00-7f01 r-xp 0 00:00 0 /fake\n");
    CHECK(std::count(out->begin(), out->end(), '\n') == 1);
    // Box paths may be far longer than the host names they replace: the limit is on the result.
    std::string many;
    for (int i = 0; i < 100; ++i) many += line;
    CHECK(box_maps(many, registry, out->size() * 100).has_value());
    CHECK_FALSE(box_maps(many, registry, out->size() * 100 - 1).has_value());
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
