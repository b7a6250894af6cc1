// Shared decoding for the file-system families: the caller's fs credentials, the base location of
// a *at() call, paths, and the conversions from fs types to the ABI's stat, statx and statfs.
#pragma once

#include <string>
#include <string_view>

#include "../../fs/vfs.hpp"
#include "kernel.hpp"
#include "stat.hpp"

namespace litebox::shim::linux_abi {

/// The process's identity as the file system sees it (umask included).
template <typename P>
fs::Credentials fs_credentials(ThreadContext<P>& t) {
    fs::Credentials c;
    t.process().state().with_lock([&](auto& st) {
        const Credentials& id = st.credentials;
        c.uid = id.ruid, c.gid = id.rgid, c.euid = id.euid, c.egid = id.egid, c.fsuid = id.fsuid, c.fsgid = id.fsgid;
        c.groups = id.groups;
    });
    c.umask = t.process().fs().with_lock([](FsContext<P>& f) { return f.umask; });
    c.pid = t.pid();  // procfs's "self"
    return c;
}

template <typename P>
fs::Location<P> current_directory(ThreadContext<P>& t) {
    return t.process().fs().with_lock([](FsContext<P>& f) { return f.cwd; });
}

/// The base for a *at() path: the root for absolute paths (dirfd is then ignored, as on Linux),
/// the cwd for AT_FDCWD, otherwise the location of the open file `dirfd` (EBADF, ENOTDIR).
template <typename P>
Result<fs::Location<P>> at_base(ThreadContext<P>& t, std::int32_t dirfd, std::string_view path) {
    if (!path.empty() && path.front() == '/') return t.kernel().vfs().root();
    if (dirfd == abi::at_fdcwd) return current_directory(t);
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(dirfd));
    return fs::Vfs<P>::location_of(*file);
}

/// A path argument with its base: reads the string once, then resolves the base.
template <typename P>
struct PathArgument {
    std::string path;
    fs::Location<P> base;
};
template <typename P>
Result<PathArgument<P>> path_argument(ThreadContext<P>& t, std::int32_t dirfd, std::uintptr_t address) {
    LITEBOX_TRY_ASSIGN(std::string path, Guest<P>::read_path(address));
    LITEBOX_TRY_ASSIGN(auto base, at_base(t, dirfd, path));
    return PathArgument<P>{std::move(path), std::move(base)};
}

/// fd::Stat -> struct statx (the basic stats; no birth time).
inline abi::statx to_abi_statx(const fd::Stat& s) noexcept {
    constexpr std::uint32_t basic_stats = 0x7ff;  // STATX_BASIC_STATS
    abi::statx out{};
    out.stx_mask = basic_stats;
    out.stx_blksize = static_cast<std::uint32_t>(s.block_size);
    out.stx_nlink = static_cast<std::uint32_t>(s.link_count);
    out.stx_uid = s.uid;
    out.stx_gid = s.gid;
    out.stx_mode = static_cast<std::uint16_t>(s.mode);
    out.stx_ino = s.inode;
    out.stx_size = static_cast<std::uint64_t>(s.size);
    out.stx_blocks = static_cast<std::uint64_t>(s.blocks);
    out.stx_atime = {s.access_time.seconds, static_cast<std::uint32_t>(s.access_time.nanoseconds), 0};
    out.stx_mtime = {s.modify_time.seconds, static_cast<std::uint32_t>(s.modify_time.nanoseconds), 0};
    out.stx_ctime = {s.change_time.seconds, static_cast<std::uint32_t>(s.change_time.nanoseconds), 0};
    out.stx_rdev_major = fs::device_major(s.represented_device);
    out.stx_rdev_minor = fs::device_minor(s.represented_device);
    out.stx_dev_major = fs::device_major(s.device);
    out.stx_dev_minor = fs::device_minor(s.device);
    return out;
}

inline abi::statfs to_abi_statfs(const fs::StatFs& s) noexcept {
    abi::statfs out{};
    out.f_type = static_cast<std::int64_t>(s.type);
    out.f_bsize = static_cast<std::int64_t>(s.block_size);
    out.f_blocks = s.blocks;
    out.f_bfree = s.blocks_free;
    out.f_bavail = s.blocks_available;
    out.f_files = s.files;
    out.f_ffree = s.files_free;
    out.f_fsid[0] = static_cast<std::int32_t>(s.fsid & 0xffffffffu);
    out.f_fsid[1] = static_cast<std::int32_t>(s.fsid >> 32);
    out.f_namelen = static_cast<std::int64_t>(s.name_max);
    out.f_frsize = static_cast<std::int64_t>(s.fragment_size);
    out.f_flags = static_cast<std::int64_t>(s.flags);
    return out;
}

}  // namespace litebox::shim::linux_abi
