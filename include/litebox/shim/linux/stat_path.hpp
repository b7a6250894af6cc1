// Metadata by path: stat, lstat, newfstatat, statx, statfs, fstatfs.
#pragma once

#include "fs_common.hpp"

namespace litebox::shim::linux_abi {

namespace stat_detail {
/// stat of `path` under `dirfd`, or of `dirfd` itself for an empty path with AT_EMPTY_PATH.
template <typename P>
Result<fd::Stat> stat_at(ThreadContext<P>& t, std::int32_t dirfd, std::uintptr_t path_address, std::uint32_t flags) {
    LITEBOX_TRY_ASSIGN(std::string path, Guest<P>::read_path(path_address));
    if (path.empty() && (flags & abi::at_empty_path) != 0) {
        if (dirfd == abi::at_fdcwd) return current_directory(t).stat();
        LITEBOX_TRY_ASSIGN(auto file, t.files().get(dirfd));
        return file->stat();
    }
    LITEBOX_TRY_ASSIGN(auto base, at_base(t, dirfd, path));
    return t.kernel().vfs().stat(fs_credentials(t), base, path, flags & (abi::at_symlink_nofollow | abi::at_empty_path));
}
}  // namespace stat_detail

template <typename P>
SyscallResult sys_stat(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(const fd::Stat s, stat_detail::stat_at(t, abi::at_fdcwd, r.ptr(0), 0));
    LITEBOX_TRY(Guest<P>::write(r.ptr(1), to_abi_stat(s)));
    return 0;
}
template <typename P>
SyscallResult sys_lstat(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(const fd::Stat s, stat_detail::stat_at(t, abi::at_fdcwd, r.ptr(0), abi::at_symlink_nofollow));
    LITEBOX_TRY(Guest<P>::write(r.ptr(1), to_abi_stat(s)));
    return 0;
}
template <typename P>
SyscallResult sys_newfstatat(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t flags = r.u32(3);
    if ((flags & ~(abi::at_symlink_nofollow | abi::at_no_automount | abi::at_empty_path)) != 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const fd::Stat s, stat_detail::stat_at(t, r.i32(0), r.ptr(1), flags));
    LITEBOX_TRY(Guest<P>::write(r.ptr(2), to_abi_stat(s)));
    return 0;
}

template <typename P>
SyscallResult sys_statx(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t flags = r.u32(2), mask = r.u32(3);
    constexpr std::uint32_t statx_reserved = 0x80000000u;
    if ((flags & ~(abi::at_symlink_nofollow | abi::at_no_automount | abi::at_empty_path | abi::at_statx_sync_type)) != 0 ||
        (flags & abi::at_statx_sync_type) == abi::at_statx_sync_type || (mask & statx_reserved) != 0)
        return Errno::inval;
    LITEBOX_TRY_ASSIGN(const fd::Stat s, stat_detail::stat_at(t, r.i32(0), r.ptr(1), flags));
    LITEBOX_TRY(Guest<P>::write(r.ptr(4), to_abi_statx(s)));
    return 0;
}

template <typename P>
SyscallResult sys_statfs(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(auto path, path_argument(t, abi::at_fdcwd, r.ptr(0)));
    LITEBOX_TRY_ASSIGN(const fs::StatFs s, t.kernel().vfs().statfs(fs_credentials(t), path.base, path.path));
    LITEBOX_TRY(Guest<P>::write(r.ptr(1), to_abi_statfs(s)));
    return 0;
}
template <typename P>
SyscallResult sys_fstatfs(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(r.i32(0)));
    auto where = fs::Vfs<P>::location_of(*file);
    fs::StatFs s;
    if (where.has_value()) {
        LITEBOX_TRY_ASSIGN(s, fs::Vfs<P>::statfs(*where));
    } else {
        s.type = 0x50495045;  // PIPEFS_MAGIC: pipes, sockets and other anonymous objects
    }
    LITEBOX_TRY(Guest<P>::write(r.ptr(1), to_abi_statfs(s)));
    return 0;
}

}  // namespace litebox::shim::linux_abi
