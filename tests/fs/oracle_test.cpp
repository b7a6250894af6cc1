// Subtle cases checked against the host kernel: each scenario runs on a real tmpfs directory and in
// the box, and every step's outcome (errno or stat summary) must match.
#include "oracle.hpp"

#include "support/test_platform.hpp"

#include <cstdio>
#include <cstdlib>

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox;
using namespace litebox::test;
namespace of = litebox::fd::open_flags;
using Op = OracleOp;

namespace {
void compare(const std::vector<OracleStep>& steps) {
    FsFixture<TestPlatform> f;
    const auto host = run_on_host(steps);
    const auto box = run_in_box(f, steps);
    REQUIRE(host.size() == steps.size());
    REQUIRE(box.size() == steps.size());
    for (std::size_t i = 0; i < steps.size(); ++i) {
        INFO("step " << i << ": op " << static_cast<int>(steps[i].op) << " '" << steps[i].path << "' '" << steps[i].path2 << "'");
        CHECK(box[i] == host[i]);
        if (std::getenv("LITEBOX_ORACLE_TRACE")) std::fprintf(stderr, "%zu: %s | %s\n", i, box[i].c_str(), host[i].c_str());
    }
}
constexpr std::uint32_t kCreate = of::create | of::write_only;
}  // namespace

TEST_CASE("oracle: rename rules", "[fs][oracle]") {
    compare({
        {Op::mkdir, "d1"}, {Op::mkdir, "d2"}, {Op::mkdir, "d2/sub"}, {Op::create, "f1", "", kCreate},
        {Op::create, "f2", "", kCreate}, {Op::mkdir, "empty"},
        {Op::rename, "f1", "f2"},               // over a file
        {Op::stat, "f1"}, {Op::stat, "f2"},
        {Op::rename, "f2", "d1"},               // file over dir: EISDIR
        {Op::rename, "d1", "f2"},               // dir over file: ENOTDIR
        {Op::rename, "d1", "empty"},            // dir over empty dir
        {Op::stat, "empty"}, {Op::stat, "d1"},
        {Op::rename, "empty", "d2"},            // over non-empty: ENOTEMPTY
        {Op::rename, "d2", "d2/sub/inside"},    // into own subtree: EINVAL
        {Op::rename, "d2", "d2"},               // same: ok
        {Op::rename, "d2/sub", "d2/sub/"},      // same with slash
        {Op::rename, "f2", "f2/"},              // trailing slash on a file
        {Op::rename, "f2/", "g"},
        {Op::rename, "missing", "x"},
        {Op::rename, "f2", "missing/x"},
        {Op::rename, ".", "x"}, {Op::rename, "f2", "."}, {Op::rename, "..", "x"},
        {Op::create, "f3", "", kCreate},
        {Op::rename, "f2", "f3", 1},        // RENAME_NOREPLACE: EEXIST
        {Op::rename, "f2", "f4", 1},        // RENAME_NOREPLACE to a new name
        {Op::rename, "f4", "nothing", 2},   // RENAME_EXCHANGE with no target: ENOENT
        {Op::rename, "f4", "d2", 2},        // exchange a file and a directory
        {Op::stat, "f4"}, {Op::stat, "d2"}, {Op::stat, "d2/sub"}, {Op::stat, "f4/sub"},
        {Op::rename, "f4", "f3", 3},        // both flags: EINVAL
        {Op::link, "f3", "f3link"}, {Op::rename, "f3", "f3link"}, {Op::stat, "f3"}, {Op::stat, "f3link"},
        {Op::mkdir, "p"}, {Op::mkdir, "p/q"}, {Op::rename, "p/q", "p/.."}, {Op::rename, "p", "p/q/.."},
        {Op::rename, "p/q/..", "z"},
    });
}

TEST_CASE("oracle: trailing slashes", "[fs][oracle]") {
    compare({
        {Op::create, "file", "", kCreate}, {Op::mkdir, "dir"}, {Op::symlink, "lfile", "file"}, {Op::symlink, "ldir", "dir"},
        {Op::stat, "file/"}, {Op::stat, "dir/"}, {Op::stat, "lfile/"}, {Op::lstat, "ldir/"}, {Op::lstat, "ldir"},
        {Op::open, "file/", "", of::read_only}, {Op::open, "new/", "", kCreate}, {Op::open, "dir/", "", kCreate},
        {Op::open, "dir", "", kCreate}, {Op::open, "dir", "", of::write_only}, {Op::open, "dir", "", of::read_only | of::truncate},
        {Op::mkdir, "newdir/"}, {Op::stat, "newdir"}, {Op::mkdir, "file/"}, {Op::mkdir, "dir/"},
        {Op::unlink, "file/"}, {Op::unlink, "dir/"}, {Op::unlink, "dir"}, {Op::rmdir, "file"}, {Op::rmdir, "newdir/"},
        {Op::rmdir, "."}, {Op::rmdir, ".."}, {Op::rmdir, "dir/."}, {Op::unlink, "."}, {Op::unlink, "lfile/"},
        {Op::symlink, "s/", "file"}, {Op::symlink, "file/", "x"}, {Op::link, "file", "hard/"}, {Op::link, "file/", "hard"},
        {Op::link, "dir", "dirlink"}, {Op::mkdir, "."}, {Op::mkdir, ".."},
    });
}

TEST_CASE("oracle: symlink resolution and loops", "[fs][oracle]") {
    compare({
        {Op::symlink, "a", "b"}, {Op::symlink, "b", "a"}, {Op::stat, "a"}, {Op::lstat, "a"}, {Op::stat, "a/x"},
        {Op::open, "a", "", kCreate}, {Op::open, "a", "", kCreate | of::no_follow}, {Op::open, "a", "", kCreate | of::exclusive},
        {Op::symlink, "dangling", "target"}, {Op::open, "dangling", "", kCreate}, {Op::stat, "target"}, {Op::stat, "dangling"},
        {Op::symlink, "d2", "newtarget"}, {Op::open, "d2", "", kCreate | of::exclusive}, {Op::stat, "newtarget"},
        {Op::mkdir, "real"}, {Op::symlink, "rl", "real/../real"}, {Op::create, "rl/f", "", kCreate}, {Op::stat, "real/f"},
        {Op::readlink, "rl"}, {Op::readlink, "real"}, {Op::readlink, "missing"}, {Op::readlink, "rl/"},
        {Op::unlink, "rl/"}, {Op::unlink, "rl"}, {Op::stat, "real/f"}, {Op::open, "real/f", "", of::read_only | of::no_follow},
        {Op::symlink, "x", "self/x"}, {Op::stat, "x"}, {Op::open, "x", "", of::read_only | of::directory | of::no_follow},
    });
}

TEST_CASE("oracle: create, link, truncate and access", "[fs][oracle]") {
    compare({
        {Op::create, "f", "", kCreate | of::exclusive, 0640}, {Op::open, "f", "", kCreate | of::exclusive},
        {Op::stat, "f"}, {Op::truncate, "f", "", 0, 0, 100000}, {Op::stat, "f"}, {Op::truncate, "f", "", 0, 0, 10},
        {Op::stat, "f"}, {Op::mkdir, "d", "", 0, 0700}, {Op::truncate, "d", "", 0, 0, 1}, {Op::truncate, "none", "", 0, 0, 1},
        {Op::link, "f", "g"}, {Op::stat, "f"}, {Op::link, "f", "g"}, {Op::link, "none", "h"}, {Op::link, "d", "e"},
        {Op::unlink, "f"}, {Op::stat, "g"}, {Op::chmod, "g", "", 0, 0}, {Op::access, "g", "", 4}, {Op::access, "g", "", 1},
        {Op::chmod, "g", "", 0, 0100}, {Op::access, "g", "", 1}, {Op::access, "d", "", 7}, {Op::access, "none", "", 0},
        {Op::access, "g", "", 8},
        {Op::stat, "d"}, {Op::mkdir, "d/s"}, {Op::stat, "d"}, {Op::rmdir, "d/s"}, {Op::stat, "d"}, {Op::rmdir, "d"},
        {Op::open, "f", "", of::read_only}, {Op::open, "g", "", of::read_only | of::directory},
    });
}

TEST_CASE("oracle: permissions of an unprivileged user", "[fs][oracle][permission]") {
    const auto u = [](OracleStep s) { return as_user(std::move(s)); };
    compare({
        {Op::mkdir, "pub"}, {Op::chmod, "pub", "", 0, 0777}, {Op::mkdir, "priv", "", 0, 0700},
        {Op::create, "priv/f", "", kCreate}, {Op::create, "ro", "", kCreate, 0644}, {Op::create, "grp", "", kCreate, 0640},
        {Op::mkdir, "sticky"}, {Op::chmod, "sticky", "", 0, 01777}, {Op::create, "sticky/rootfile", "", kCreate, 0666},
        u({Op::stat, "priv/f"}), u({Op::stat, "priv"}), u({Op::open, "priv", "", of::read_only | of::directory}),
        u({Op::open, "ro", "", of::read_only}), u({Op::open, "ro", "", of::write_only}), u({Op::open, "grp", "", of::read_only}),
        u({Op::create, "mine", "", kCreate}), u({Op::create, "pub/mine", "", kCreate, 0600}), u({Op::stat, "pub/mine"}),
        u({Op::mkdir, "pub/d", "", 0, 0700}), u({Op::create, "pub/d/x", "", kCreate}), u({Op::chmod, "pub/d", "", 0, 0500}),
        u({Op::create, "pub/d/y", "", kCreate}), u({Op::unlink, "pub/d/x"}), u({Op::chmod, "pub/d", "", 0, 0700}),
        u({Op::chmod, "ro", "", 0, 0777}), u({Op::rename, "ro", "pub/ro"}), u({Op::rename, "pub/mine", "pub/mine2"}),
        u({Op::unlink, "sticky/rootfile"}), u({Op::create, "sticky/userfile", "", kCreate}), u({Op::unlink, "sticky/userfile"}),
        u({Op::access, "ro", "", 4}), u({Op::access, "ro", "", 2}), u({Op::access, "priv", "", 1}), u({Op::access, "priv/f", "", 0}),
        u({Op::truncate, "ro", "", 0, 0, 0}), u({Op::truncate, "pub/mine2", "", 0, 0, 5}), u({Op::stat, "pub/mine2"}),
        u({Op::link, "ro", "pub/rolink"}), u({Op::symlink, "pub/sl", "../priv/f"}), u({Op::stat, "pub/sl"}),
        u({Op::readlink, "pub/sl"}), u({Op::rmdir, "pub"}), u({Op::rename, "pub/d", "pub/d2"}),
        {Op::chmod, "pub/d2", "", 0, 0555}, u({Op::rename, "pub/d2", "pub/d3"}), {Op::mkdir, "pub/rootdir", "", 0, 0755},
        u({Op::rename, "pub/rootdir", "pub/moved"}), u({Op::mkdir, "pub/other"}), u({Op::rename, "pub/rootdir", "pub/other/in"}),
    });
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
