// File attributes: access/faccessat/faccessat2, chmod family, chown family, truncate/ftruncate,
// fallocate (mode 0), fsync/fdatasync/sync/syncfs, utimensat. Growing a regular file past
// RLIMIT_FSIZE is EFBIG with SIGXFSZ (file_size_limit.hpp).
#pragma once

#include <limits>

#include "file_size_limit.hpp"
#include "fs_common.hpp"

namespace litebox::shim::linux_abi {

namespace attr_detail {
template <typename P>
SyscallResult access_at(ThreadContext<P>& t, std::int32_t dirfd, std::uintptr_t address, std::uint32_t mode, std::uint32_t flags) {
    if ((mode & ~7u) != 0 || (flags & ~(abi::at_eaccess | abi::at_symlink_nofollow | abi::at_empty_path)) != 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(auto path, path_argument(t, dirfd, address));
    LITEBOX_TRY(t.kernel().vfs().access(fs_credentials(t), path.base, path.path, mode, flags));
    return 0;
}
/// The location behind a descriptor, for f*() calls (EBADF; objects outside the VFS: EINVAL).
template <typename P>
Result<fs::Location<P>> descriptor_location(ThreadContext<P>& t, std::int32_t descriptor) {
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(descriptor));
    auto where = fs::Vfs<P>::location_of(*file);
    if (!where.has_value()) return Errno::inval;
    return where;
}
/// The same with the file kept (its origin tells inotify the directory it was opened in).
template <typename P>
struct DescriptorTarget {
    typename fd::DescriptorTable<P>::FilePtr file;
    fs::Location<P> where;
    [[nodiscard]] fs::NamedIn<P> via() const noexcept { return fs::Vfs<P>::file_named_in(*file); }
};
template <typename P>
Result<DescriptorTarget<P>> descriptor_target(ThreadContext<P>& t, std::int32_t descriptor) {
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(descriptor));
    auto where = fs::Vfs<P>::location_of(*file);
    if (!where.has_value()) return Errno::inval;
    return DescriptorTarget<P>{std::move(file), std::move(*where)};
}
template <typename P>
SyscallResult chmod_at(ThreadContext<P>& t, std::int32_t dirfd, std::uintptr_t address, std::uint32_t mode, std::uint32_t flags) {
    LITEBOX_TRY_ASSIGN(auto path, path_argument(t, dirfd, address));
    LITEBOX_TRY(t.kernel().vfs().chmod(fs_credentials(t), path.base, path.path, mode & 07777, flags));
    return 0;
}
template <typename P>
SyscallResult chown_at(ThreadContext<P>& t, std::int32_t dirfd, std::uintptr_t address, std::uint32_t uid, std::uint32_t gid,
                       std::uint32_t flags) {
    if ((flags & ~(abi::at_symlink_nofollow | abi::at_empty_path)) != 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(auto path, path_argument(t, dirfd, address));
    LITEBOX_TRY(t.kernel().vfs().chown(fs_credentials(t), path.base, path.path, uid, gid, flags));
    return 0;
}
}  // namespace attr_detail

template <typename P>
SyscallResult sys_access(ThreadContext<P>& t, const SyscallRequest& r) { return attr_detail::access_at(t, abi::at_fdcwd, r.ptr(0), r.u32(1), 0); }
template <typename P>
SyscallResult sys_faccessat(ThreadContext<P>& t, const SyscallRequest& r) { return attr_detail::access_at(t, r.i32(0), r.ptr(1), r.u32(2), 0); }
template <typename P>
SyscallResult sys_faccessat2(ThreadContext<P>& t, const SyscallRequest& r) {
    return attr_detail::access_at(t, r.i32(0), r.ptr(1), r.u32(2), r.u32(3));
}

template <typename P>
SyscallResult sys_chmod(ThreadContext<P>& t, const SyscallRequest& r) { return attr_detail::chmod_at(t, abi::at_fdcwd, r.ptr(0), r.u32(1), 0); }
template <typename P>
SyscallResult sys_fchmodat(ThreadContext<P>& t, const SyscallRequest& r) { return attr_detail::chmod_at(t, r.i32(0), r.ptr(1), r.u32(2), 0); }
template <typename P>
SyscallResult sys_fchmod(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(const auto target, attr_detail::descriptor_target(t, r.i32(0)));
    LITEBOX_TRY(t.kernel().vfs().chmod(fs_credentials(t), target.where, r.u32(1) & 07777, target.via()));
    return 0;
}
template <typename P>
SyscallResult sys_chown(ThreadContext<P>& t, const SyscallRequest& r) {
    return attr_detail::chown_at(t, abi::at_fdcwd, r.ptr(0), r.u32(1), r.u32(2), 0);
}
template <typename P>
SyscallResult sys_lchown(ThreadContext<P>& t, const SyscallRequest& r) {
    return attr_detail::chown_at(t, abi::at_fdcwd, r.ptr(0), r.u32(1), r.u32(2), abi::at_symlink_nofollow);
}
template <typename P>
SyscallResult sys_fchownat(ThreadContext<P>& t, const SyscallRequest& r) {
    return attr_detail::chown_at(t, r.i32(0), r.ptr(1), r.u32(2), r.u32(3), r.u32(4));
}
template <typename P>
SyscallResult sys_fchown(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(const auto target, attr_detail::descriptor_target(t, r.i32(0)));
    LITEBOX_TRY(t.kernel().vfs().chown(fs_credentials(t), target.where, r.u32(1), r.u32(2), target.via()));
    return 0;
}

template <typename P>
SyscallResult sys_truncate(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int64_t length = r.i64(1);
    LITEBOX_TRY_ASSIGN(auto path, path_argument(t, abi::at_fdcwd, r.ptr(0)));
    if (length < 0) return Errno::inval;
    const fs::Credentials credentials = fs_credentials(t);
    if (static_cast<std::uint64_t>(length) > file_size_limit(t)) {
        // Growing past RLIMIT_FSIZE: EFBIG, but only for a call that would otherwise be allowed.
        const Result<fd::Stat> s = t.kernel().vfs().stat(credentials, path.base, path.path);
        if (s.has_value() && fs::is_regular(s->mode) && s->size < length) {
            LITEBOX_TRY(t.kernel().vfs().access(credentials, path.base, path.path, 2, abi::at_eaccess));  // W_OK
            LITEBOX_TRY(limit_new_size(t, s->size, static_cast<std::uint64_t>(length)));
        }
    }
    LITEBOX_TRY(t.kernel().vfs().truncate(credentials, path.base, path.path, static_cast<std::uint64_t>(length)));
    return 0;
}
template <typename P>
SyscallResult sys_ftruncate(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int64_t length = r.i64(1);
    if (length < 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(r.i32(0)));
    if (!file->writable()) return Errno::inval;
    if (static_cast<std::uint64_t>(length) > file_size_limit(t)) {
        const Result<fd::Stat> s = file->stat();
        if (s.has_value() && fs::is_regular(s->mode)) LITEBOX_TRY(limit_new_size(t, s->size, static_cast<std::uint64_t>(length)));
    }
    LITEBOX_TRY(file->truncate(static_cast<std::uint64_t>(length)));
    return 0;
}
/// fallocate mode 0: extends the file to offset + length (tmpfs allocates on write anyway).
template <typename P>
SyscallResult sys_fallocate(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t mode = r.i32(1);
    const std::int64_t offset = r.i64(2), length = r.i64(3);
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(r.i32(0)));
    if (offset < 0 || length <= 0) return Errno::inval;
    if (!file->writable()) return Errno::badf;
    if (mode != 0) {
        t.kernel().unsupported(r.number, "modes other than 0");
        return Errno::opnotsupp;
    }
    if (length > INT64_MAX - offset) return Errno::fbig;
    LITEBOX_TRY_ASSIGN(const fd::Stat s, file->stat());
    if ((s.mode & fd::mode::type_mask) == fd::mode::fifo) return Errno::spipe;
    if ((s.mode & fd::mode::type_mask) == fd::mode::directory) return Errno::isdir;
    if ((s.mode & fd::mode::type_mask) != fd::mode::regular) return Errno::nodev;
    if (offset + length > s.size) {
        LITEBOX_TRY(limit_new_size(t, s.size, static_cast<std::uint64_t>(offset + length)));
        LITEBOX_TRY(file->truncate(static_cast<std::uint64_t>(offset + length)));  // reports IN_MODIFY
    } else if (const auto* handle = dynamic_cast<const fs::FileHandle<P>*>(file.get())) {
        handle->notify(fs::in_event::modify);  // Linux reports every fallocate
    }
    return 0;
}

template <typename P>
SyscallResult sys_fsync(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(r.i32(0)));
    LITEBOX_TRY(file->sync());
    return 0;
}
template <typename P>
SyscallResult sys_fdatasync(ThreadContext<P>& t, const SyscallRequest& r) { return sys_fsync(t, r); }
template <typename P>
SyscallResult sys_sync(ThreadContext<P>&, const SyscallRequest&) { return 0; }
/// fadvise64: advice only (the box keeps every file in memory or reads through); checked like Linux.
template <typename P>
SyscallResult sys_fadvise64(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(r.i32(0)));
    const std::int32_t advice = r.i32(3);
    if (advice < 0 || advice > 5) return Errno::inval;  // POSIX_FADV_NORMAL .. POSIX_FADV_NOREUSE
    LITEBOX_TRY_ASSIGN(const auto st, file->stat());
    if ((st.mode & fd::mode::type_mask) == fd::mode::fifo || (st.mode & fd::mode::type_mask) == fd::mode::socket) return Errno::spipe;
    return 0;
}
/// readahead: a hint (every box file is in memory or read through). EBADF for a descriptor not
/// open for reading, EINVAL for anything but a regular file or a negative count, as Linux.
template <typename P>
SyscallResult sys_readahead(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(r.i32(0)));
    if (!file->readable()) return Errno::badf;
    LITEBOX_TRY_ASSIGN(const auto st, file->stat());
    if ((st.mode & fd::mode::type_mask) != fd::mode::regular) return Errno::inval;
    if (r.i64(2) < 0) return Errno::inval;
    return 0;
}
/// sync_file_range: the box has no dirty pages to start or wait for, so valid requests are done.
/// Checked in Linux's order: the descriptor (EBADF), the flags and the range (EINVAL: unknown
/// flags, a negative offset or length, an end past the largest offset), the file type (ESPIPE
/// for anything but regular files, directories and links).
template <typename P>
SyscallResult sys_sync_file_range(ThreadContext<P>& t, const SyscallRequest& r) {
    constexpr std::uint32_t wait_before = 1, write = 2, wait_after = 4;
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(r.i32(0)));
    const std::int64_t offset = r.i64(1), length = r.i64(2);
    if ((r.u32(3) & ~(wait_before | write | wait_after)) != 0) return Errno::inval;
    if (offset < 0 || length < 0 || offset > std::numeric_limits<std::int64_t>::max() - length) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const auto st, file->stat());
    const auto type = st.mode & fd::mode::type_mask;
    if (type != fd::mode::regular && type != fd::mode::directory && type != fd::mode::symlink && type != fd::mode::block_device)
        return Errno::spipe;
    return 0;
}
template <typename P>
SyscallResult sys_syncfs(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY(t.files().get(r.i32(0)));
    return 0;
}

/// utimensat: NULL times means "now" for both; UTIME_NOW/UTIME_OMIT are honoured; a NULL path
/// names dirfd itself.
template <typename P>
SyscallResult sys_utimensat(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t dirfd = r.i32(0);
    const std::uintptr_t path_address = r.ptr(1), times_address = r.ptr(2);
    const std::uint32_t flags = r.u32(3);
    if ((flags & ~(abi::at_symlink_nofollow | abi::at_empty_path)) != 0) return Errno::inval;
    fs::Timespec times[2] = {{0, fs::utime_now}, {0, fs::utime_now}};
    if (times_address != 0) {
        LITEBOX_TRY_ASSIGN(const auto pair, Guest<P>::template read_array<abi::timespec>(times_address, 2));
        for (int i = 0; i < 2; ++i) {
            const auto& ts = pair[static_cast<std::size_t>(i)];
            const bool special = ts.tv_nsec == fs::utime_now || ts.tv_nsec == fs::utime_omit;
            if (!special && (ts.tv_nsec < 0 || ts.tv_nsec >= 1'000'000'000)) return Errno::inval;
            times[i] = fs::Timespec{ts.tv_sec, ts.tv_nsec};
        }
    }
    if (path_address == 0) {
        if (dirfd == abi::at_fdcwd) return Errno::fault;
        LITEBOX_TRY_ASSIGN(const auto target, attr_detail::descriptor_target(t, dirfd));
        LITEBOX_TRY(t.kernel().vfs().utimens(fs_credentials(t), target.where, times[0], times[1], target.via()));
        return 0;
    }
    LITEBOX_TRY_ASSIGN(auto path, path_argument(t, dirfd, path_address));
    LITEBOX_TRY(t.kernel().vfs().utimens(fs_credentials(t), path.base, path.path, times[0], times[1], flags));
    return 0;
}

}  // namespace litebox::shim::linux_abi
