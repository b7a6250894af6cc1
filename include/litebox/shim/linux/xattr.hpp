// Extended attributes: setxattr, getxattr, listxattr, removexattr and their l- (the link itself)
// and f- (a descriptor; O_PATH descriptors EBADF, as Linux) forms, on fs/xattr.hpp's rules.
//
// Decoding, in Linux's order: flags (EINVAL), the name (EFAULT; empty or longer than
// XATTR_NAME_MAX: ERANGE), the value size (over XATTR_SIZE_MAX: E2BIG) and the value are copied
// in once, then the file is found. getxattr/listxattr with size 0 return the needed size; a
// smaller buffer is ERANGE (E2BIG when the buffer is already the largest allowed). Objects outside
// the VFS (pipes, sockets) have no extended attributes: EOPNOTSUPP.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "../../fs/xattr.hpp"
#include "fs_common.hpp"

namespace litebox::shim::linux_abi {

namespace xattr_detail {
/// Which file a call names: a path that follows a final symlink, one that does not, or a descriptor.
enum class Target { follow, no_follow, descriptor };

/// The attribute name: ERANGE when empty or longer than XATTR_NAME_MAX.
template <typename P>
Result<std::string> read_name(std::uintptr_t address) {
    auto name = Guest<P>::read_string(address, fs::xattr_name_max + 1);
    if (!name.has_value()) return name.error() == Errno::nametoolong ? Errno::range : name.error();
    if (name->empty()) return Errno::range;
    return name;
}

/// The location argument 0 names.
template <typename P>
Result<fs::Location<P>> target(ThreadContext<P>& t, const SyscallRequest& r, Target kind) {
    if (kind == Target::descriptor) {
        LITEBOX_TRY_ASSIGN(auto file, t.files().get(r.i32(0)));
        if ((file->status_flags() & fd::open_flags::path) != 0) return Errno::badf;
        auto where = fs::Vfs<P>::location_of(*file);
        if (!where.has_value()) return Errno::opnotsupp;
        return where;
    }
    LITEBOX_TRY_ASSIGN(auto path, path_argument(t, abi::at_fdcwd, r.ptr(0)));
    return t.kernel().vfs().resolve(fs_credentials(t), path.base, path.path, kind == Target::no_follow ? abi::at_symlink_nofollow : 0);
}

/// The same with where it was found (for inotify's IN_ATTRIB after a change); the file is kept
/// alive in `keep` for the descriptor form.
template <typename P>
Result<typename fs::Vfs<P>::Named> named_target(ThreadContext<P>& t, const SyscallRequest& r, Target kind,
                                                std::shared_ptr<fd::OpenFile<P>>& keep) {
    typename fs::Vfs<P>::Named found;
    if (kind == Target::descriptor) {
        LITEBOX_TRY_ASSIGN(keep, t.files().get(r.i32(0)));
        if ((keep->status_flags() & fd::open_flags::path) != 0) return Errno::badf;
        auto where = fs::Vfs<P>::location_of(*keep);
        if (!where.has_value()) return Errno::opnotsupp;
        found.where = std::move(*where);
        const fs::NamedIn<P> via = fs::Vfs<P>::file_named_in(*keep);
        if (via.directory != nullptr) {
            found.directory = *via.directory;
            found.name = std::string(via.name);
        }
        return found;
    }
    LITEBOX_TRY_ASSIGN(auto path, path_argument(t, abi::at_fdcwd, r.ptr(0)));
    return t.kernel().vfs().resolve_named(fs_credentials(t), path.base, path.path, kind == Target::no_follow ? abi::at_symlink_nofollow : 0);
}

template <typename P>
SyscallResult set(ThreadContext<P>& t, const SyscallRequest& r, Target kind) {
    const std::uint64_t size = r.u64(3);
    const int flags = r.i32(4);
    if ((flags & ~(fs::xattr_flags::create | fs::xattr_flags::replace)) != 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const std::string name, read_name<P>(r.ptr(1)));
    if (size > fs::xattr_size_max) return Errno::toobig;
    std::vector<std::byte> value(static_cast<std::size_t>(size));
    LITEBOX_TRY(Guest<P>::read_bytes(r.ptr(2), value));
    std::shared_ptr<fd::OpenFile<P>> keep;
    LITEBOX_TRY_ASSIGN(const auto found, named_target(t, r, kind, keep));
    LITEBOX_TRY(fs::set_xattr(fs_credentials(t), found.where, name, value, flags));
    t.kernel().vfs().inotify_hub()->object_event(found.where, found.via(), fs::in_event::attrib);
    return 0;
}

template <typename P>
SyscallResult get(ThreadContext<P>& t, const SyscallRequest& r, Target kind) {
    const std::uint64_t size = std::min<std::uint64_t>(r.u64(3), fs::xattr_size_max);
    LITEBOX_TRY_ASSIGN(const std::string name, read_name<P>(r.ptr(1)));
    LITEBOX_TRY_ASSIGN(const auto where, target(t, r, kind));
    LITEBOX_TRY_ASSIGN(const auto value, fs::get_xattr(fs_credentials(t), where, name));
    if (size == 0) return static_cast<std::int64_t>(value.size());
    if (value.size() > size) return size >= fs::xattr_size_max ? Errno::toobig : Errno::range;
    LITEBOX_TRY(Guest<P>::write_bytes(r.ptr(2), value));
    return static_cast<std::int64_t>(value.size());
}

template <typename P>
SyscallResult list(ThreadContext<P>& t, const SyscallRequest& r, Target kind) {
    const std::uint64_t size = std::min<std::uint64_t>(r.u64(2), fs::xattr_list_max);
    LITEBOX_TRY_ASSIGN(const auto where, target(t, r, kind));
    LITEBOX_TRY_ASSIGN(const auto names, fs::list_xattr(fs_credentials(t), where));
    std::string joined;
    for (const auto& n : names) {
        joined += n;
        joined.push_back('\0');
    }
    if (size == 0) return static_cast<std::int64_t>(joined.size());
    if (joined.size() > size) return size >= fs::xattr_list_max ? Errno::toobig : Errno::range;
    LITEBOX_TRY(Guest<P>::write_bytes(r.ptr(1), std::as_bytes(std::span<const char>(joined))));
    return static_cast<std::int64_t>(joined.size());
}

template <typename P>
SyscallResult remove(ThreadContext<P>& t, const SyscallRequest& r, Target kind) {
    LITEBOX_TRY_ASSIGN(const std::string name, read_name<P>(r.ptr(1)));
    std::shared_ptr<fd::OpenFile<P>> keep;
    LITEBOX_TRY_ASSIGN(const auto found, named_target(t, r, kind, keep));
    LITEBOX_TRY(fs::remove_xattr(fs_credentials(t), found.where, name));
    t.kernel().vfs().inotify_hub()->object_event(found.where, found.via(), fs::in_event::attrib);
    return 0;
}
}  // namespace xattr_detail

template <typename P>
SyscallResult sys_setxattr(ThreadContext<P>& t, const SyscallRequest& r) { return xattr_detail::set(t, r, xattr_detail::Target::follow); }
template <typename P>
SyscallResult sys_lsetxattr(ThreadContext<P>& t, const SyscallRequest& r) { return xattr_detail::set(t, r, xattr_detail::Target::no_follow); }
template <typename P>
SyscallResult sys_fsetxattr(ThreadContext<P>& t, const SyscallRequest& r) { return xattr_detail::set(t, r, xattr_detail::Target::descriptor); }
template <typename P>
SyscallResult sys_getxattr(ThreadContext<P>& t, const SyscallRequest& r) { return xattr_detail::get(t, r, xattr_detail::Target::follow); }
template <typename P>
SyscallResult sys_lgetxattr(ThreadContext<P>& t, const SyscallRequest& r) { return xattr_detail::get(t, r, xattr_detail::Target::no_follow); }
template <typename P>
SyscallResult sys_fgetxattr(ThreadContext<P>& t, const SyscallRequest& r) { return xattr_detail::get(t, r, xattr_detail::Target::descriptor); }
template <typename P>
SyscallResult sys_listxattr(ThreadContext<P>& t, const SyscallRequest& r) { return xattr_detail::list(t, r, xattr_detail::Target::follow); }
template <typename P>
SyscallResult sys_llistxattr(ThreadContext<P>& t, const SyscallRequest& r) { return xattr_detail::list(t, r, xattr_detail::Target::no_follow); }
template <typename P>
SyscallResult sys_flistxattr(ThreadContext<P>& t, const SyscallRequest& r) { return xattr_detail::list(t, r, xattr_detail::Target::descriptor); }
template <typename P>
SyscallResult sys_removexattr(ThreadContext<P>& t, const SyscallRequest& r) { return xattr_detail::remove(t, r, xattr_detail::Target::follow); }
template <typename P>
SyscallResult sys_lremovexattr(ThreadContext<P>& t, const SyscallRequest& r) {
    return xattr_detail::remove(t, r, xattr_detail::Target::no_follow);
}
template <typename P>
SyscallResult sys_fremovexattr(ThreadContext<P>& t, const SyscallRequest& r) {
    return xattr_detail::remove(t, r, xattr_detail::Target::descriptor);
}

}  // namespace litebox::shim::linux_abi
