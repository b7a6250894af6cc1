// tar::Archive against archives written by the host's GNU tar (gnu, pax, ustar and v7 formats):
// every entry of a real directory tree must come back with its type, contents, mode, owner, mtime,
// link target and hard-link identity.
#include <catch2/catch.hpp>
#include <litebox/fs/tar/archive.hpp>

#include <sys/stat.h>
#include <sys/types.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

namespace fs = std::filesystem;
using litebox::fs::tar::Archive;
using litebox::fs::tar::NodeType;
using litebox::fs::tar::ParseError;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "litebox-tar-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void write_file(const fs::path& p, const std::string& contents, mode_t mode) {
    std::ofstream(p, std::ios::binary) << contents;
    REQUIRE(::chmod(p.c_str(), mode) == 0);
}

void set_mtime(const fs::path& p, std::int64_t seconds, long nanoseconds) {
    const struct timespec times[2] = {{static_cast<time_t>(seconds), nanoseconds},
                                      {static_cast<time_t>(seconds), nanoseconds}};
    REQUIRE(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

std::vector<std::byte> read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> out(chars.size());
    std::memcpy(out.data(), chars.data(), chars.size());
    return out;
}

/// Populates a tree that every format can hold (`long_names` only for gnu and pax; v7 has no fifos).
void populate(const fs::path& root, bool long_names, bool fifo) {
    fs::create_directories(root / "dir/sub");
    fs::create_directories(root / "empty");
    write_file(root / "dir/sub/file.txt", "hello from the host\n", 0640);
    std::string big;
    for (int i = 0; i < 20000; ++i) big += static_cast<char>('a' + i % 26);
    write_file(root / "dir/big.bin", big, 0755);
    write_file(root / "dir/setuid", "s", 04711);
    REQUIRE(::symlink("sub/file.txt", (root / "dir/link").c_str()) == 0);
    REQUIRE(::symlink("/etc/passwd", (root / "abs-link").c_str()) == 0);
    REQUIRE(::link((root / "dir/sub/file.txt").c_str(), (root / "dir/hard").c_str()) == 0);
    if (fifo) REQUIRE(::mkfifo((root / "fifo").c_str(), 0600) == 0);
    REQUIRE(::chmod((root / "empty").c_str(), 0700) == 0);
    if (long_names) {
        const fs::path deep = root / std::string(150, 'x') / std::string(120, 'y');
        fs::create_directories(deep);
        write_file(deep / (std::string(200, 'z') + ".txt"), "deep", 0600);
        REQUIRE(::symlink(std::string(180, 't').c_str(), (root / "long-target").c_str()) == 0);
    }
    set_mtime(root / "dir/sub/file.txt", 1'600'000'000, 123'456'789);
}

/// Compares every host entry under `root` with the archive node of the same path.
void compare_tree(const fs::path& root, const Archive& a, bool nanoseconds) {
    std::size_t checked = 0;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
        const fs::path host = it->path();
        const std::string rel = host.lexically_relative(root).string();
        INFO("entry " << rel);
        struct stat st {};
        REQUIRE(::lstat(host.c_str(), &st) == 0);
        auto id = a.lookup_path(rel);
        REQUIRE(id.has_value());
        const auto& n = a.node(*id);
        CHECK(n.permissions == (st.st_mode & 07777));
        CHECK(n.uid == st.st_uid);
        CHECK(n.gid == st.st_gid);
        CHECK(n.mtime_seconds == st.st_mtim.tv_sec);
        if (nanoseconds) CHECK(n.mtime_nanoseconds == static_cast<std::uint32_t>(st.st_mtim.tv_nsec));
        CHECK(n.link_count == st.st_nlink);
        switch (st.st_mode & S_IFMT) {
            case S_IFREG: {
                REQUIRE(n.type == NodeType::regular);
                const auto host_data = read_all(host);
                const auto data = a.data(*id);
                REQUIRE(data.size() == host_data.size());
                CHECK(std::equal(data.begin(), data.end(), host_data.begin()));
                break;
            }
            case S_IFDIR: CHECK(n.type == NodeType::directory); break;
            case S_IFLNK: {
                REQUIRE(n.type == NodeType::symlink);
                CHECK(n.link_target == fs::read_symlink(host).string());
                break;
            }
            case S_IFIFO: CHECK(n.type == NodeType::fifo); break;
            default: FAIL("unexpected host file type");
        }
        ++checked;
    }
    CHECK(checked >= 9);
    // Hard links are one node.
    CHECK(a.lookup_path("dir/hard").value() == a.lookup_path("dir/sub/file.txt").value());
}

}  // namespace

TEST_CASE("tar: archives written by the host's GNU tar", "[fs][tar][host]") {
    const auto format = GENERATE(as<std::string>{}, "gnu", "pax", "ustar", "v7");
    const bool long_names = format == "gnu" || format == "pax";
    INFO("format " << format);
    TempDir tmp;
    const fs::path root = tmp.path / "root";
    fs::create_directories(root);
    populate(root, long_names, format != "v7");
    const fs::path archive = tmp.path / "out.tar";
    const std::string command = "tar -C '" + root.string() + "' --format=" + format + " -cf '" + archive.string() +
                                "' . 2>'" + (tmp.path / "tar.err").string() + "'";
    REQUIRE(std::system(command.c_str()) == 0);
    const auto bytes = read_all(archive);
    ParseError why;
    auto parsed = Archive::parse(bytes, {}, &why);
    INFO("reason " << why.reason);
    REQUIRE(parsed.has_value());
    compare_tree(root, *parsed, format == "pax");
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
