// Namespace changes by path: mkdir(at), mknod(at), rmdir, unlink(at), rename(at, at2), link(at),
// symlink(at), readlink(at). Each decodes its paths once and calls the VFS.
#pragma once

#include "fs_common.hpp"

namespace litebox::shim::linux_abi {

namespace path_detail {
template <typename P>
SyscallResult mkdir_at(ThreadContext<P>& t, std::int32_t dirfd, std::uintptr_t address, std::uint32_t mode) {
    LITEBOX_TRY_ASSIGN(auto path, path_argument(t, dirfd, address));
    LITEBOX_TRY(t.kernel().vfs().mkdir(fs_credentials(t), path.base, path.path, mode & 07777));
    return 0;
}
template <typename P>
SyscallResult mknod_at(ThreadContext<P>& t, std::int32_t dirfd, std::uintptr_t address, std::uint32_t mode, std::uint32_t device) {
    LITEBOX_TRY_ASSIGN(auto path, path_argument(t, dirfd, address));
    if ((mode & fd::mode::type_mask) == 0) mode |= fd::mode::regular;
    LITEBOX_TRY(t.kernel().vfs().mknod(fs_credentials(t), path.base, path.path, mode, device));
    return 0;
}
template <typename P>
SyscallResult unlink_at(ThreadContext<P>& t, std::int32_t dirfd, std::uintptr_t address, std::uint32_t flags) {
    if ((flags & ~abi::at_removedir) != 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(auto path, path_argument(t, dirfd, address));
    LITEBOX_TRY(t.kernel().vfs().unlink(fs_credentials(t), path.base, path.path, flags));
    return 0;
}
template <typename P>
SyscallResult rename_at(ThreadContext<P>& t, std::int32_t old_dirfd, std::uintptr_t old_address, std::int32_t new_dirfd,
                        std::uintptr_t new_address, std::uint32_t flags) {
    LITEBOX_TRY_ASSIGN(auto from, path_argument(t, old_dirfd, old_address));
    LITEBOX_TRY_ASSIGN(auto to, path_argument(t, new_dirfd, new_address));
    LITEBOX_TRY(t.kernel().vfs().rename(fs_credentials(t), from.base, from.path, to.base, to.path, flags));
    return 0;
}
template <typename P>
SyscallResult link_at(ThreadContext<P>& t, std::int32_t old_dirfd, std::uintptr_t old_address, std::int32_t new_dirfd,
                      std::uintptr_t new_address, std::uint32_t flags) {
    if ((flags & ~(abi::at_symlink_follow | abi::at_empty_path)) != 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(auto from, path_argument(t, old_dirfd, old_address));
    LITEBOX_TRY_ASSIGN(auto to, path_argument(t, new_dirfd, new_address));
    LITEBOX_TRY(t.kernel().vfs().link(fs_credentials(t), from.base, from.path, to.base, to.path, flags));
    return 0;
}
template <typename P>
SyscallResult symlink_at(ThreadContext<P>& t, std::uintptr_t target_address, std::int32_t dirfd, std::uintptr_t address) {
    LITEBOX_TRY_ASSIGN(std::string target, Guest<P>::read_path(target_address));
    LITEBOX_TRY_ASSIGN(auto path, path_argument(t, dirfd, address));
    LITEBOX_TRY(t.kernel().vfs().symlink(fs_credentials(t), target, path.base, path.path));
    return 0;
}
template <typename P>
SyscallResult readlink_at(ThreadContext<P>& t, std::int32_t dirfd, std::uintptr_t address, std::uintptr_t buffer, std::int32_t size) {
    if (size <= 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(auto path, path_argument(t, dirfd, address));
    LITEBOX_TRY_ASSIGN(const std::string target, t.kernel().vfs().readlink(fs_credentials(t), path.base, path.path,
                                                                           path.path.empty() ? abi::at_empty_path : 0));
    const std::size_t n = std::min(target.size(), static_cast<std::size_t>(size));
    LITEBOX_TRY(Guest<P>::write_bytes(buffer, std::as_bytes(std::span<const char>(target.data(), n))));
    return static_cast<std::int64_t>(n);
}
}  // namespace path_detail

template <typename P>
SyscallResult sys_mkdir(ThreadContext<P>& t, const SyscallRequest& r) { return path_detail::mkdir_at(t, abi::at_fdcwd, r.ptr(0), r.u32(1)); }
template <typename P>
SyscallResult sys_mkdirat(ThreadContext<P>& t, const SyscallRequest& r) { return path_detail::mkdir_at(t, r.i32(0), r.ptr(1), r.u32(2)); }
template <typename P>
SyscallResult sys_mknod(ThreadContext<P>& t, const SyscallRequest& r) { return path_detail::mknod_at(t, abi::at_fdcwd, r.ptr(0), r.u32(1), r.u32(2)); }
template <typename P>
SyscallResult sys_mknodat(ThreadContext<P>& t, const SyscallRequest& r) { return path_detail::mknod_at(t, r.i32(0), r.ptr(1), r.u32(2), r.u32(3)); }
template <typename P>
SyscallResult sys_rmdir(ThreadContext<P>& t, const SyscallRequest& r) { return path_detail::unlink_at(t, abi::at_fdcwd, r.ptr(0), abi::at_removedir); }
template <typename P>
SyscallResult sys_unlink(ThreadContext<P>& t, const SyscallRequest& r) { return path_detail::unlink_at(t, abi::at_fdcwd, r.ptr(0), 0); }
template <typename P>
SyscallResult sys_unlinkat(ThreadContext<P>& t, const SyscallRequest& r) { return path_detail::unlink_at(t, r.i32(0), r.ptr(1), r.u32(2)); }
template <typename P>
SyscallResult sys_rename(ThreadContext<P>& t, const SyscallRequest& r) {
    return path_detail::rename_at(t, abi::at_fdcwd, r.ptr(0), abi::at_fdcwd, r.ptr(1), 0);
}
template <typename P>
SyscallResult sys_renameat(ThreadContext<P>& t, const SyscallRequest& r) {
    return path_detail::rename_at(t, r.i32(0), r.ptr(1), r.i32(2), r.ptr(3), 0);
}
template <typename P>
SyscallResult sys_renameat2(ThreadContext<P>& t, const SyscallRequest& r) {
    return path_detail::rename_at(t, r.i32(0), r.ptr(1), r.i32(2), r.ptr(3), r.u32(4));
}
template <typename P>
SyscallResult sys_link(ThreadContext<P>& t, const SyscallRequest& r) {
    return path_detail::link_at(t, abi::at_fdcwd, r.ptr(0), abi::at_fdcwd, r.ptr(1), 0);
}
template <typename P>
SyscallResult sys_linkat(ThreadContext<P>& t, const SyscallRequest& r) {
    return path_detail::link_at(t, r.i32(0), r.ptr(1), r.i32(2), r.ptr(3), r.u32(4));
}
template <typename P>
SyscallResult sys_symlink(ThreadContext<P>& t, const SyscallRequest& r) { return path_detail::symlink_at(t, r.ptr(0), abi::at_fdcwd, r.ptr(1)); }
template <typename P>
SyscallResult sys_symlinkat(ThreadContext<P>& t, const SyscallRequest& r) { return path_detail::symlink_at(t, r.ptr(0), r.i32(1), r.ptr(2)); }
template <typename P>
SyscallResult sys_readlink(ThreadContext<P>& t, const SyscallRequest& r) {
    return path_detail::readlink_at(t, abi::at_fdcwd, r.ptr(0), r.ptr(1), r.i32(2));
}
template <typename P>
SyscallResult sys_readlinkat(ThreadContext<P>& t, const SyscallRequest& r) {
    return path_detail::readlink_at(t, r.i32(0), r.ptr(1), r.ptr(2), r.i32(3));
}

}  // namespace litebox::shim::linux_abi
