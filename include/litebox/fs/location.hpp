// Location<P>: a place in the box's tree — an inode together with the mount it was reached
// through (Linux's struct path). Mount<P>: one mounted file-system instance.
//
// Contract: a Location keeps its mount and inode alive (shared ownership), so a working directory
// or an open directory stays usable after it is unlinked or unmounted. Mounts are immutable once
// created; the Vfs's mount table decides which mounts are visible.
#pragma once

#include <cstdint>
#include <memory>

#include "backend.hpp"

namespace litebox::fs {

/// mount(2) flags that the Vfs honours.
namespace mount_flags {
inline constexpr std::uint32_t read_only = 1;  // MS_RDONLY
inline constexpr std::uint32_t no_suid = 2;    // MS_NOSUID
inline constexpr std::uint32_t no_dev = 4;     // MS_NODEV
inline constexpr std::uint32_t no_exec = 8;    // MS_NOEXEC
inline constexpr std::uint32_t supported = read_only | no_suid | no_dev | no_exec;
}  // namespace mount_flags

template <platform::RawMutexProvider P>
struct Mount {
    std::shared_ptr<FileSystem<P>> fs;
    std::shared_ptr<Mount> parent;                 // nullptr for the box's root mount
    typename Inode<P>::Ptr mountpoint;             // the covered directory, in parent
    std::uint32_t flags = 0;                       // mount_flags

    [[nodiscard]] bool read_only() const noexcept { return (flags & mount_flags::read_only) != 0 || fs->read_only(); }
};

template <platform::RawMutexProvider P>
struct Location {
    std::shared_ptr<Mount<P>> mount;
    typename Inode<P>::Ptr inode;

    [[nodiscard]] bool valid() const noexcept { return mount && inode; }
    [[nodiscard]] bool is_directory() const noexcept { return inode && inode->is_directory(); }
    /// The st_dev of this location's inode.
    [[nodiscard]] std::uint64_t device() const noexcept { return mount ? mount->fs->device() : 0; }
    /// getattr with st_dev filled in.
    [[nodiscard]] Result<Stat> stat() const {
        LITEBOX_TRY_ASSIGN(Stat st, inode->getattr());
        st.device = device();
        return st;
    }
    /// The location of "..": climbs out of mount roots, then asks the backend. The box root (the
    /// root mount's root) is its own parent.
    [[nodiscard]] Result<Location> parent() const {
        Location at = *this;
        while (at.mount->parent && at.inode == at.mount->fs->root()) at = Location{at.mount->parent, at.mount->mountpoint};
        LITEBOX_TRY_ASSIGN(auto up, at.inode->lookup(".."));
        return Location{at.mount, std::move(up)};
    }
    friend bool operator==(const Location& a, const Location& b) noexcept { return a.mount == b.mount && a.inode == b.inode; }
};

}  // namespace litebox::fs
