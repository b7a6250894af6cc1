// The guest's /sys: a small read-only tree that describes the box's one virtual CPU, so that a
// program counting processors through sysfs (glibc's get_nprocs and sysconf(_SC_NPROCESSORS_ONLN)
// read /sys/devices/system/cpu/online; Python's os.cpu_count uses them) agrees with
// sched_getaffinity and /proc/cpuinfo, and nothing of the host's sysfs shows even when the root
// is a host directory (--rootfs-dir /). gVisor's sysfs does the same.
//
// Contract:
// - Tree: /sys/devices/system/cpu/{online,possible,present} ("0\n"), .../offline ("\n"), and the
//   directory .../cpu0; /sys/fs/ and /sys/kernel/ exist and are empty. Files 0444 and directories
//   0555, owned by root; the mount is read-only, nosuid, nodev and noexec (writes fail with EROFS).
//   It is a tmpfs underneath (statfs and /proc/mounts say "tmpfs", not "sysfs").
// - Mounted by the Kernel when ShimConfig::mount_sysfs is set (the mount point is made only in a
//   box-owned root, never as a new directory of a host tree: with a host root that has no /sys
//   nothing is mounted); unmounted when the Kernel is destroyed, if still mounted there.
#pragma once

#include <memory>
#include <string_view>

#include "../../fs/backend.hpp"
#include "../../fs/tmpfs.hpp"
#include "../../fs/vfs.hpp"
#include "kernel.hpp"

namespace litebox::shim::linux_abi {

namespace sysfs_detail {

/// Largest tmpfs the tree needs (a few directories and short files).
inline constexpr std::uint64_t sysfs_max_bytes = 64 * 1024;
inline constexpr std::uint64_t sysfs_max_inodes = 64;

template <typename P>
Result<void> add_file(fs::Vfs<P>& vfs, std::string_view path, std::string_view text) {
    const fs::Credentials root = fs::Credentials::root();
    LITEBOX_TRY_ASSIGN(auto file, vfs.open(root, vfs.root(), path, fd::open_flags::write_only | fd::open_flags::create | fd::open_flags::exclusive, 0444));
    LITEBOX_TRY_ASSIGN(const std::size_t written, file->write(std::as_bytes(std::span(text.data(), text.size()))));
    if (written != text.size()) return Errno::nospc;
    return ok();
}

/// The tree, built in a private namespace over a fresh tmpfs.
template <typename P>
Result<std::shared_ptr<fs::Tmpfs<P>>> build(const P& platform) {
    fs::TmpfsLimits limits;
    limits.max_bytes = sysfs_max_bytes;
    limits.max_inodes = sysfs_max_inodes;
    auto tree = fs::Tmpfs<P>::create(platform, limits, 0555);
    fs::Vfs<P> vfs(platform, tree);
    const fs::Credentials root = fs::Credentials::root();
    for (std::string_view dir : {"/devices", "/devices/system", "/devices/system/cpu", "/devices/system/cpu/cpu0", "/fs", "/kernel"})
        LITEBOX_TRY(vfs.mkdir(root, vfs.root(), dir, 0555));
    LITEBOX_TRY(add_file(vfs, "/devices/system/cpu/online", "0\n"));
    LITEBOX_TRY(add_file(vfs, "/devices/system/cpu/possible", "0\n"));
    LITEBOX_TRY(add_file(vfs, "/devices/system/cpu/present", "0\n"));
    LITEBOX_TRY(add_file(vfs, "/devices/system/cpu/offline", "\n"));
    return tree;
}

}  // namespace sysfs_detail

/// Builds the box's sysfs and mounts it read-only at /sys of `kernel`'s namespace. Returns the
/// mounted file system, or nullptr when a host root has no /sys (nothing to cover, and the shim
/// never makes directories in a host tree).
template <typename P>
Result<std::shared_ptr<fs::FileSystem<P>>> install_sysfs(Kernel<P>& kernel) {
    const fs::Credentials root = fs::Credentials::root();
    fs::Vfs<P>& vfs = kernel.vfs();
    const auto at = vfs.root();
    if (at.mount->fs->type_name() != "hostfs") {
        if (auto made = vfs.mkdir(root, at, "sys", 0555); !made && made.error() != Errno::exist) return made.error();
    } else if (auto existing = vfs.stat(root, at, "/sys"); !existing || !fs::is_directory(existing->mode)) {
        return std::shared_ptr<fs::FileSystem<P>>();
    }
    LITEBOX_TRY_ASSIGN(auto tree, sysfs_detail::build(kernel.platform()));
    std::shared_ptr<fs::FileSystem<P>> mounted = std::move(tree);
    namespace mf = fs::mount_flags;
    LITEBOX_TRY(vfs.mount(root, at, "/sys", mounted, mf::read_only | mf::no_suid | mf::no_dev | mf::no_exec));
    return mounted;
}

/// The Kernel's teardown: unmounts /sys when it is still `sysfs`.
template <typename P>
void detach_sysfs(Kernel<P>& kernel, const fs::FileSystem<P>& sysfs) noexcept {
    const fs::Credentials root = fs::Credentials::root();
    fs::Vfs<P>& vfs = kernel.vfs();
    if (auto where = vfs.resolve(root, vfs.root(), "/sys"); where && where->mount->fs.get() == &sysfs) {
        (void)vfs.unmount(root, vfs.root(), "/sys");
    }
}

}  // namespace litebox::shim::linux_abi
