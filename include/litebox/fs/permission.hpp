// Linux permission checks (generic_permission without ACLs or capabilities beyond root).
//
// Contract: check_permission(creds, owner, mask) decides whether `creds` may access an inode with
// `owner` (mode/uid/gid) for `mask` (access_mode bits). The class is chosen once — owner, else a
// group match (fsgid or a supplementary group), else other — and only that class's bits count.
// fsuid 0 may read and write anything and search any directory, but may execute a non-directory
// only when at least one x bit is set.
#pragma once

#include <cstdint>

#include "../error.hpp"
#include "backend.hpp"
#include "types.hpp"

namespace litebox::fs {

/// Which ids a check uses: the fs ids (normal operations) or the real ids (access/faccessat).
enum class IdSet { filesystem, real };

inline Result<void> check_permission(const Credentials& creds, const Ownership& owner, std::uint32_t mask, IdSet ids = IdSet::filesystem) {
    mask &= 7;
    const std::uint32_t uid = ids == IdSet::real ? creds.uid : creds.fsuid;
    const std::uint32_t gid = ids == IdSet::real ? creds.gid : creds.fsgid;
    if (uid == 0) {
        if ((mask & access_mode::execute) && !is_directory(owner.mode) && (owner.mode & 0111) == 0) return Errno::acces;
        return ok();
    }
    std::uint32_t bits;
    if (uid == owner.uid) {
        bits = (owner.mode >> 6) & 7;
    } else if (gid == owner.gid || creds.in_group(owner.gid)) {
        bits = (owner.mode >> 3) & 7;
    } else {
        bits = owner.mode & 7;
    }
    if ((mask & ~bits) != 0) return Errno::acces;
    return ok();
}

/// True when `creds` owns the inode or is root (the test for chmod, utimes with explicit times...).
inline bool is_owner_or_root(const Credentials& creds, const Ownership& owner) noexcept {
    return creds.fsuid == 0 || creds.fsuid == owner.uid;
}

/// The sticky-directory rule: in a sticky directory only the file's owner, the directory's owner
/// or root may remove or rename an entry.
inline Result<void> check_sticky(const Credentials& creds, const Ownership& dir, const Ownership& victim) {
    if ((dir.mode & fd::mode::sticky) == 0) return ok();
    if (creds.fsuid == 0 || creds.fsuid == dir.uid || creds.fsuid == victim.uid) return ok();
    return Errno::perm;
}

}  // namespace litebox::fs
