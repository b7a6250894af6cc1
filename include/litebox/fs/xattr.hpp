// Extended attributes of a location with Linux's namespace and permission rules (fs/xattr.c and
// the capability checks of security/commoncap.c), on top of the Inode's getxattr/setxattr/
// listxattr/removexattr.
//
// Contract:
// - Names carry their namespace prefix. "user.", "trusted." and "security." are known; a known
//   prefix alone is EINVAL; "system." (POSIX ACLs) and any other prefix EOPNOTSUPP — after the
//   permission check, as Linux orders them.
// - user.*: only regular files and directories (others: ENODATA to read, EPERM to write); reading
//   needs read permission, writing needs write permission (EACCES), and in a sticky directory
//   the owner or root. trusted.*: CAP_SYS_ADMIN (effective uid 0 in the box), else ENODATA to
//   read and EPERM to write; listing hides trusted.* names from others. security.*: anyone reads,
//   writing and removing need CAP_SYS_ADMIN (EPERM).
// - Writes on a read-only mount: EROFS. A backend without extended attributes answers
//   EOPNOTSUPP (and an empty list).
// - Sizes (XATTR_NAME_MAX, XATTR_SIZE_MAX) are the caller's to check: the syscall layer decodes them.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../error.hpp"
#include "location.hpp"
#include "permission.hpp"
#include "types.hpp"

namespace litebox::fs {

/// Longest attribute name (XATTR_NAME_MAX), largest value (XATTR_SIZE_MAX) and largest list
/// (XATTR_LIST_MAX) of the syscalls.
inline constexpr std::size_t xattr_name_max = 255;
inline constexpr std::size_t xattr_size_max = 65536;
inline constexpr std::size_t xattr_list_max = 65536;

/// setxattr flags.
namespace xattr_flags {
inline constexpr int create = 1;   // XATTR_CREATE
inline constexpr int replace = 2;  // XATTR_REPLACE
}  // namespace xattr_flags

namespace xattr_detail {
enum class Space { user, trusted, security, other };

inline Space space_of(std::string_view name) noexcept {
    if (name.starts_with("user.")) return Space::user;
    if (name.starts_with("trusted.")) return Space::trusted;
    if (name.starts_with("security.")) return Space::security;
    return Space::other;
}
/// The handler lookup: EINVAL for a bare known prefix, EOPNOTSUPP for an unsupported namespace.
inline Result<void> check_name(std::string_view name) {
    for (std::string_view prefix : {std::string_view("user."), std::string_view("trusted."), std::string_view("security.")}) {
        if (name.starts_with(prefix)) return name.size() == prefix.size() ? Result<void>(Errno::inval) : ok();
    }
    return Errno::opnotsupp;
}
inline bool admin(const Credentials& creds) noexcept { return creds.euid == 0; }

/// xattr_permission() plus the capability checks of security.* writes.
template <platform::RawMutexProvider P>
Result<void> permission(const Credentials& creds, const Location<P>& where, std::string_view name, bool write) {
    if (!where.valid()) return Errno::badf;
    if (write && where.mount->read_only()) return Errno::rofs;
    LITEBOX_TRY_ASSIGN(const Ownership owner, where.inode->ownership());
    switch (space_of(name)) {
    case Space::security:
        if (write && !admin(creds)) return Errno::perm;
        return ok();
    case Space::trusted:
        if (!admin(creds)) return write ? Errno::perm : Errno::nodata;
        return ok();
    case Space::user:
        if (!is_regular(owner.mode) && !is_directory(owner.mode)) return write ? Errno::perm : Errno::nodata;
        if (write && is_directory(owner.mode) && (owner.mode & fd::mode::sticky) != 0 && !is_owner_or_root(creds, owner))
            return Errno::perm;
        break;
    case Space::other:
        if (name.starts_with("system.")) return ok();  // left to the file system: unsupported here
        break;
    }
    return check_permission(creds, owner, write ? access_mode::write : access_mode::read);
}
}  // namespace xattr_detail

/// getxattr: the value of `name` (ENODATA when there is none).
template <platform::RawMutexProvider P>
Result<std::vector<std::byte>> get_xattr(const Credentials& creds, const Location<P>& where, std::string_view name) {
    LITEBOX_TRY(xattr_detail::permission(creds, where, name, false));
    LITEBOX_TRY(xattr_detail::check_name(name));
    return where.inode->getxattr(name);
}

/// setxattr with xattr_flags (EINVAL for others): EEXIST / ENODATA for create / replace.
template <platform::RawMutexProvider P>
Result<void> set_xattr(const Credentials& creds, const Location<P>& where, std::string_view name, std::span<const std::byte> value,
                       int flags) {
    if ((flags & ~(xattr_flags::create | xattr_flags::replace)) != 0) return Errno::inval;
    LITEBOX_TRY(xattr_detail::permission(creds, where, name, true));
    LITEBOX_TRY(xattr_detail::check_name(name));
    return where.inode->setxattr(name, value, flags);
}

/// listxattr: the names `creds` may see (trusted.* only for CAP_SYS_ADMIN).
template <platform::RawMutexProvider P>
Result<std::vector<std::string>> list_xattr(const Credentials& creds, const Location<P>& where) {
    if (!where.valid()) return Errno::badf;
    LITEBOX_TRY_ASSIGN(std::vector<std::string> names, where.inode->listxattr());
    if (!xattr_detail::admin(creds)) {
        std::erase_if(names, [](const std::string& n) { return xattr_detail::space_of(n) == xattr_detail::Space::trusted; });
    }
    return names;
}

/// removexattr: ENODATA when there is no such attribute.
template <platform::RawMutexProvider P>
Result<void> remove_xattr(const Credentials& creds, const Location<P>& where, std::string_view name) {
    LITEBOX_TRY(xattr_detail::permission(creds, where, name, true));
    LITEBOX_TRY(xattr_detail::check_name(name));
    return where.inode->removexattr(name);
}

}  // namespace litebox::fs
