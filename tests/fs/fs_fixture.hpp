// A reusable file-system test fixture: a Vfs over a root file system made by a factory (tmpfs by
// default; the overlay and tar tests pass their own), root and unprivileged credentials, and
// short helpers that turn Results into plain values for assertions.
#pragma once

#include <litebox/fs/tmpfs.hpp>
#include <litebox/fs/vfs.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace litebox::test {

template <typename P>
class FsFixture {
public:
    using Vfs = fs::Vfs<P>;
    using Loc = fs::Location<P>;
    using FilePtr = std::shared_ptr<fd::OpenFile<P>>;
    using RootFactory = std::function<std::shared_ptr<fs::FileSystem<P>>(const P&)>;

    static std::shared_ptr<fs::FileSystem<P>> make_tmpfs(const P& platform) {
        return fs::Tmpfs<P>::create(platform, fs::TmpfsLimits{}, 0755);
    }

    explicit FsFixture(RootFactory factory = &FsFixture::make_tmpfs)
        : vfs(std::make_unique<Vfs>(platform, factory(platform))), cwd(vfs->root()) {
        root.umask = 022;
        user = fs::Credentials::user(1000, 1000, {100});
        user.umask = 022;
        other = fs::Credentials::user(2000, 2000);
        other.umask = 022;
    }

    P platform;
    std::unique_ptr<Vfs> vfs;
    fs::Credentials root = fs::Credentials::root();
    fs::Credentials user;   // uid 1000, gid 1000, supplementary group 100
    fs::Credentials other;  // uid 2000, gid 2000
    Loc cwd;

    // ---- helpers (root credentials unless given) ---------------------------------------------
    Result<FilePtr> open(std::string_view path, std::uint32_t flags, std::uint32_t mode = 0644) {
        return vfs->open(root, cwd, path, flags, mode);
    }
    Result<void> write_file(std::string_view path, std::string_view data, std::uint32_t mode = 0644) {
        return write_file_as(root, path, data, mode);
    }
    Result<void> write_file_as(const fs::Credentials& creds, std::string_view path, std::string_view data,
                               std::uint32_t mode = 0644) {
        LITEBOX_TRY_ASSIGN(FilePtr f, vfs->open(creds, cwd, path,
                                                fd::open_flags::write_only | fd::open_flags::create | fd::open_flags::truncate, mode));
        auto bytes = std::as_bytes(std::span(data.data(), data.size()));
        while (!bytes.empty()) {
            LITEBOX_TRY_ASSIGN(std::size_t n, f->write(bytes));
            bytes = bytes.subspan(n);
        }
        return ok();
    }
    Result<std::string> read_file(std::string_view path) { return read_file_as(root, path); }
    Result<std::string> read_file_as(const fs::Credentials& creds, std::string_view path) {
        LITEBOX_TRY_ASSIGN(FilePtr f, vfs->open(creds, cwd, path, fd::open_flags::read_only));
        std::string out;
        std::byte buffer[4096];
        for (;;) {
            LITEBOX_TRY_ASSIGN(std::size_t n, f->read(buffer));
            if (n == 0) break;
            out.append(reinterpret_cast<const char*>(buffer), n);
        }
        return out;
    }
    Result<void> mkdir(std::string_view path, std::uint32_t mode = 0755) { return vfs->mkdir(root, cwd, path, mode); }
    Result<fd::Stat> stat(std::string_view path, std::uint32_t flags = 0) { return vfs->stat(root, cwd, path, flags); }
    Result<fd::Stat> lstat(std::string_view path) { return vfs->stat(root, cwd, path, fs::at_flags::symlink_nofollow); }
    /// The names in a directory (without "." and ".."), sorted.
    Result<std::vector<std::string>> list(std::string_view path) {
        LITEBOX_TRY_ASSIGN(FilePtr dir, vfs->open(root, cwd, path, fd::open_flags::read_only | fd::open_flags::directory));
        return list_open(*dir);
    }
    static Result<std::vector<std::string>> list_open(fd::OpenFile<P>& dir) {
        struct Collect final : fd::DirectorySink {
            std::vector<std::string> names;
            bool add(const fd::DirectoryEntry& e) override {
                if (e.name != "." && e.name != "..") names.emplace_back(e.name);
                return true;
            }
        } collect;
        LITEBOX_TRY(dir.read_directory(collect));
        std::sort(collect.names.begin(), collect.names.end());
        return collect.names;
    }
};

/// An error name for Catch's messages.
inline std::string errno_text(Errno e) { return e == Errno{} ? std::string("success") : std::string(errno_name(e)); }

/// The errno of a failed Result, or Errno{} (0) on success: REQUIRE(err(op()) == Errno::noent).
template <typename R>
Errno err(const R& result) {
    return result.has_value() ? Errno{} : result.error();
}

}  // namespace litebox::test

namespace Catch {
template <>
struct StringMaker<litebox::Errno> {
    static std::string convert(litebox::Errno e) { return litebox::test::errno_text(e); }
};
}  // namespace Catch
