// PagePool: tmpfs pages from slabs -- reuse before growth, a bounded host footprint, slabs
// returned when empty.
#include <catch2/catch.hpp>

#include <cstring>
#include <set>
#include <vector>

#include <litebox/fs/detail/page_pool.hpp>
#include <litebox/platform/linux/platform.hpp>

#include "support/test_platform.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using litebox::test::TestPlatform;
using litebox::platform::LinuxPlatform;
using Pool = litebox::fs::detail::PagePool<TestPlatform>;  // slabs from operator new
using LinuxPool = litebox::fs::detail::PagePool<LinuxPlatform>;  // slabs from map_pages

static_assert(!litebox::platform::PageMemoryProvider<TestPlatform>);
static_assert(litebox::platform::PageMemoryProvider<LinuxPlatform>);
using litebox::fs::detail::pool_huge_slab_bytes;
using litebox::fs::detail::pool_page_size;

namespace {
template <typename AnyPool>
std::vector<std::byte*> take(AnyPool& pool, std::size_t n) {
    std::vector<std::byte*> pages;
    for (std::size_t i = 0; i < n; ++i) {
        std::byte* p = pool.allocate();
        REQUIRE(p != nullptr);
        pages.push_back(p);
    }
    return pages;
}
}  // namespace

TEST_CASE("page pool: pages are distinct, page aligned and writable", "[fs][tmpfs][pool]") {
    TestPlatform host;
    Pool pool(host);
    auto pages = take(pool, 1500);  // spans several slabs, the last ones 2 MiB
    std::set<std::byte*> distinct(pages.begin(), pages.end());
    CHECK(distinct.size() == pages.size());
    for (std::size_t i = 0; i < pages.size(); ++i) {
        CHECK(reinterpret_cast<std::uintptr_t>(pages[i]) % pool_page_size == 0);
        std::memset(pages[i], static_cast<int>(i & 0xff), pool_page_size);
    }
    for (std::size_t i = 0; i < pages.size(); ++i) {  // no two pages overlap
        CHECK(pages[i][0] == static_cast<std::byte>(i & 0xff));
        CHECK(pages[i][pool_page_size - 1] == static_cast<std::byte>(i & 0xff));
    }
    CHECK(pool.usage().live_pages == 1500);
    for (auto* p : pages) pool.release(p);
    CHECK(pool.usage().live_pages == 0);
}

TEST_CASE("page pool: the mapped total stays within the live pages plus one 2 MiB slab", "[fs][tmpfs][pool]") {
    TestPlatform host;
    for (std::size_t n : {1u, 17u, 300u, 1000u, 5000u}) {
        Pool fresh(host);
        auto pages = take(fresh, n);
        const auto u = fresh.usage();
        CHECK(u.mapped_bytes >= n * pool_page_size);
        CHECK(u.mapped_bytes <= n * pool_page_size + pool_huge_slab_bytes);
        for (auto* p : pages) fresh.release(p);
    }
}

TEST_CASE("page pool: freed pages are reused before any slab is mapped", "[fs][tmpfs][pool]") {
    TestPlatform host;
    Pool pool(host);
    auto pages = take(pool, 4000);
    const auto before = pool.usage();
    // Free every other page (fragmenting every slab), then allocate as many again.
    std::vector<std::byte*> kept;
    for (std::size_t i = 0; i < pages.size(); ++i) {
        if (i % 2 == 0) pool.release(pages[i]);
        else kept.push_back(pages[i]);
    }
    auto again = take(pool, 2000);
    const auto after = pool.usage();
    CHECK(after.mapped_bytes == before.mapped_bytes);
    CHECK(after.slabs == before.slabs);
    CHECK(after.live_pages == 4000);
    std::set<std::byte*> all(kept.begin(), kept.end());
    all.insert(again.begin(), again.end());
    CHECK(all.size() == 4000);  // a reused page is never handed out twice
    for (auto* p : kept) pool.release(p);
    for (auto* p : again) pool.release(p);
}

TEST_CASE("page pool: empty slabs go back to the host, all but a spare", "[fs][tmpfs][pool]") {
    TestPlatform host;
    Pool pool(host);
    auto pages = take(pool, 3000);
    CHECK(pool.usage().slabs > 2);
    for (auto* p : pages) pool.release(p);
    const auto u = pool.usage();
    CHECK(u.live_pages == 0);
    CHECK(u.slabs <= 2);  // the slab in use and one spare
    CHECK(u.mapped_bytes <= 2 * pool_huge_slab_bytes);
    // A create/delete cycle reuses the kept slab instead of mapping one each time.
    for (int i = 0; i < 100; ++i) {
        std::byte* p = pool.allocate();
        REQUIRE(p != nullptr);
        pool.release(p);
        CHECK(pool.usage().mapped_bytes == u.mapped_bytes);
    }
}

TEST_CASE("page pool: a pointer it did not hand out is ignored", "[fs][tmpfs][pool]") {
    TestPlatform host;
    Pool pool(host);
    std::byte* p = pool.allocate();
    REQUIRE(p != nullptr);
    pool.release(nullptr);
    pool.release(p + 1);  // inside a slab but not a page start
    std::byte outside[16];
    pool.release(outside);
    CHECK(pool.usage().live_pages == 1);
    pool.release(p);
    CHECK(pool.usage().live_pages == 0);
    pool.release(p);  // a second release of an idle slab's page changes nothing
    CHECK(pool.usage().live_pages == 0);
}

TEST_CASE("page pool: the Linux platform's slabs (2 MiB ones aligned for huge pages)", "[fs][tmpfs][pool]") {
    LinuxPlatform host;
    CHECK(host.map_pages(0) == nullptr);
    CHECK(host.map_pages(4095) == nullptr);
    std::byte* huge = host.map_pages(pool_huge_slab_bytes);
    REQUIRE(huge != nullptr);
    CHECK(reinterpret_cast<std::uintptr_t>(huge) % pool_huge_slab_bytes == 0);
    std::memset(huge, 0x5a, pool_huge_slab_bytes);  // all of it is mapped read-write
    CHECK(huge[pool_huge_slab_bytes - 1] == std::byte{0x5a});
    host.unmap_pages(huge, pool_huge_slab_bytes);
    std::byte* small = host.map_pages(8192);
    REQUIRE(small != nullptr);
    CHECK(reinterpret_cast<std::uintptr_t>(small) % pool_page_size == 0);
    host.unmap_pages(small, 8192);

    LinuxPool pool(host);
    auto pages = take(pool, 3000);
    for (std::size_t i = 0; i < pages.size(); ++i) std::memset(pages[i], static_cast<int>(i & 0xff), pool_page_size);
    for (std::size_t i = 0; i < pages.size(); ++i) CHECK(pages[i][100] == static_cast<std::byte>(i & 0xff));
    CHECK(pool.usage().mapped_bytes <= pages.size() * pool_page_size + pool_huge_slab_bytes);
    for (auto* p : pages) pool.release(p);
    CHECK(pool.usage().slabs <= 2);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
