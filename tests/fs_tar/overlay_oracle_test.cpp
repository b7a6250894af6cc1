// The overlay against the host kernel: a tree that lives in the overlay's tar lower is created on a
// host tmpfs directory with the same modes and sizes, then the same operations run on both and
// every outcome (errno, or mode/nlink/size) must match. Documented differences (EXDEV for lower
// directory renames, hard links of lower origin) are left out here and tested in overlay_test.cpp.
#include <litebox/fs/overlay/overlayfs.hpp>
#include <litebox/fs/tar/tarfs.hpp>

#include "fs/oracle.hpp"
#include "support/test_platform.hpp"
#include "tar_writer.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox;
using namespace litebox::test;
using litebox::test::tar::HeaderSpec;
using litebox::test::tar::TarWriter;
using P = litebox::test::TestPlatform;
namespace of = litebox::fd::open_flags;
using Op = OracleOp;

namespace {

struct Item {
    Item(char t, std::string p, std::uint32_t m, std::size_t s = 0, std::string tg = {})
        : type(t), path(std::move(p)), mode(m), size(s), target(std::move(tg)) {}
    char type;  // '5' directory, '0' file, '2' symlink
    std::string path;
    std::uint32_t mode = 0;
    std::size_t size = 0;
    std::string target;
};

const std::vector<Item>& tree() {
    static const std::vector<Item> items = {
        {'5', "lower", 0755},         {'0', "lower/f", 0644, 10},   {'0', "lower/ro", 0444, 3},
        {'0', "lower/x", 0755, 5},    {'5', "lower/d", 0755},       {'0', "lower/d/a", 0644, 1},
        {'0', "lower/d/b", 0600, 2},  {'5', "lower/d/s", 0700},     {'0', "lower/d/s/c", 0644, 3},
        {'5', "lower/e", 0755},       {'5', "lower/g", 0755},       {'0', "lower/g/y", 0640, 1},
        {'2', "lower/ln", 0777, 0, "f"}, {'2', "lower/dln", 0777, 0, "d"}, {'2', "lower/dangling", 0777, 0, "nothing"},
    };
    return items;
}

std::vector<std::byte> tree_archive() {
    TarWriter w;
    for (const auto& item : tree()) {
        HeaderSpec h;
        h.name = item.path;
        h.type = item.type;
        h.mode = item.mode;
        h.uid = 0;
        h.gid = 0;
        h.linkname = item.target;
        h.size = item.size;
        w.header(h);
        if (item.size) w.data(std::string(item.size, 'x'));
    }
    w.end();
    return std::move(w.bytes());
}

std::vector<OracleStep> host_setup() {
    std::vector<OracleStep> steps;
    for (const auto& item : tree()) {
        switch (item.type) {
            case '5':
                steps.emplace_back(Op::mkdir, item.path, "", 0, item.mode);
                steps.emplace_back(Op::chmod, item.path, "", 0, item.mode);
                break;
            case '0':
                steps.emplace_back(Op::create, item.path, "", of::create | of::write_only, 0600);
                steps.emplace_back(Op::truncate, item.path, "", 0, 0644, item.size);
                steps.emplace_back(Op::chmod, item.path, "", 0, item.mode);
                break;
            default: steps.emplace_back(Op::symlink, item.path, item.target); break;
        }
    }
    return steps;
}

/// The same step with its paths reached from /o (the box's oracle directory) as "../lower/...".
OracleStep in_box(OracleStep s) {
    s.path = "../" + s.path;
    if (s.op == Op::link || s.op == Op::rename) s.path2 = "../" + s.path2;
    return s;
}

std::shared_ptr<fs::FileSystem<P>> make_overlay(const P& platform) {
    auto lower = fs::TarFs<P>::create(tree_archive());
    REQUIRE(lower);
    auto overlay = fs::OverlayFs<P>::create(platform, fs::Tmpfs<P>::create(platform, fs::TmpfsLimits{}, 0755), *lower);
    REQUIRE(overlay);
    return *overlay;
}

void compare(const std::vector<OracleStep>& steps) {
    auto setup = host_setup();
    std::vector<OracleStep> host_steps = setup;
    host_steps.insert(host_steps.end(), steps.begin(), steps.end());
    const auto host_all = run_on_host(host_steps);
    REQUIRE(host_all.size() == host_steps.size());
    for (std::size_t i = 0; i < setup.size(); ++i) REQUIRE(host_all[i] == "ok");
    const std::vector<Outcome> host(host_all.begin() + static_cast<std::ptrdiff_t>(setup.size()), host_all.end());

    FsFixture<P> f(&make_overlay);
    std::vector<OracleStep> box_steps;
    for (const auto& s : steps) box_steps.push_back(in_box(s));
    const auto box = run_in_box(f, box_steps, "/o");
    REQUIRE(box.size() == steps.size());
    for (std::size_t i = 0; i < steps.size(); ++i) {
        INFO("step " << i << ": op " << static_cast<int>(steps[i].op) << " '" << steps[i].path << "' '" << steps[i].path2 << "'");
        CHECK(box[i] == host[i]);
    }
}

constexpr std::uint32_t kCreate = of::create | of::write_only;

}  // namespace

TEST_CASE("overlay oracle: lookups and copy-ups", "[fs][overlay][oracle]") {
    compare({
        {Op::stat, "lower/f"}, {Op::lstat, "lower/ln"}, {Op::stat, "lower/ln"}, {Op::readlink, "lower/ln"},
        {Op::stat, "lower/dln/s/c"}, {Op::stat, "lower/dangling"}, {Op::lstat, "lower/dangling"},
        {Op::stat, "lower/d/s"}, {Op::stat, "lower/e"},
        {Op::chmod, "lower/f", "", 0, 0600}, {Op::stat, "lower/f"},
        {Op::open, "lower/f", "", of::write_only | of::truncate}, {Op::stat, "lower/f"},
        {Op::truncate, "lower/x", "", 0, 0, 100}, {Op::stat, "lower/x"},
        {Op::open, "lower/d", "", of::write_only}, {Op::truncate, "lower/dangling", "", 0, 0, 1},
        {Op::access, "lower/ro", "", 2}, {Op::access, "lower/x", "", 1},
        {Op::open, "lower/ro", "", kCreate | of::exclusive},
    });
}

TEST_CASE("overlay oracle: whiteouts and opaque directories", "[fs][overlay][oracle]") {
    compare({
        {Op::unlink, "lower/d/a"}, {Op::stat, "lower/d/a"}, {Op::unlink, "lower/d/a"},
        {Op::create, "lower/d/a", "", kCreate | of::exclusive}, {Op::stat, "lower/d/a"},
        {Op::rmdir, "lower/d"}, {Op::rmdir, "lower/d/s"}, {Op::unlink, "lower/d/s/c"}, {Op::rmdir, "lower/d/s"},
        {Op::stat, "lower/d/s"}, {Op::mkdir, "lower/d/s", "", 0, 0700}, {Op::stat, "lower/d/s/c"}, {Op::stat, "lower/d/s"},
        {Op::rmdir, "lower/e"}, {Op::stat, "lower/e"}, {Op::mkdir, "lower/e", "", 0, 0700}, {Op::stat, "lower/e"},
        {Op::rmdir, "lower/g"}, {Op::unlink, "lower/g/y"}, {Op::rmdir, "lower/g"}, {Op::stat, "lower/g"},
        {Op::create, "lower/g", "", kCreate}, {Op::stat, "lower/g"}, {Op::stat, "lower/g/y"},
        {Op::unlink, "lower/dln"}, {Op::lstat, "lower/dln"}, {Op::stat, "lower/d/b"},
        {Op::unlink, "lower/d"}, {Op::rmdir, "lower/f"},
    });
}

TEST_CASE("overlay oracle: renames and links", "[fs][overlay][oracle]") {
    compare({
        {Op::rename, "lower/ro", "lower/ro2"}, {Op::stat, "lower/ro"}, {Op::stat, "lower/ro2"},
        {Op::rename, "lower/ro2", "lower/x"}, {Op::stat, "lower/x"},
        {Op::rename, "lower/f", "lower/d/b"}, {Op::stat, "lower/d/b"}, {Op::stat, "lower/f"},
        {Op::rename, "lower/d/b", "lower/g/y", 1},
        {Op::rename, "lower/d/b", "lower/g/y", 2}, {Op::stat, "lower/d/b"}, {Op::stat, "lower/g/y"},
        {Op::rename, "lower/x", "lower/d"}, {Op::rename, "lower/x", "lower/nothing/x"},
        {Op::link, "lower/x", "lower/x2"}, {Op::stat, "lower/x"}, {Op::stat, "lower/x2"},
        {Op::symlink, "lower/newln", "x2"}, {Op::stat, "lower/newln"},
        {Op::mkdir, "lower/newdir"}, {Op::create, "lower/newdir/z", "", kCreate},
        {Op::rename, "lower/newdir", "lower/g"}, {Op::rename, "lower/newdir", "lower/e"},
        {Op::stat, "lower/e/z"}, {Op::stat, "lower/newdir"},
        {Op::rename, "lower/e/z", "lower/ln"}, {Op::lstat, "lower/ln"},
        {Op::rename, "lower/x2", "lower/x2"}, {Op::rename, "lower/x2", "lower/x"}, {Op::stat, "lower/x"},
        {Op::link, "lower/dangling", "lower/dl2"}, {Op::lstat, "lower/dl2"},
        {Op::link, "lower/d", "lower/d2"},
    });
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
