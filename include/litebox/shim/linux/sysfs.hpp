// The guest's /sys: a small read-only tree that describes the box's virtual CPUs, so that a
// program counting processors through sysfs (glibc's get_nprocs and sysconf(_SC_NPROCESSORS_ONLN)
// read /sys/devices/system/cpu/online; Python's os.cpu_count uses them) agrees with
// sched_getaffinity and /proc/cpuinfo, and nothing of the host's sysfs shows even when the root
// is a host directory (--rootfs-dir /). gVisor's sysfs does the same.
//
// Contract:
// - Tree: /sys/devices/system/cpu/{online,possible,present} ("0\n", or "0-N\n" for
//   ShimConfig::cpus = N + 1), .../offline ("\n"), and the directories .../cpu0 to .../cpuN;
//   /sys/fs/ and /sys/kernel/ exist and are empty. Files 0444 and directories
//   0555, owned by root; the mount is read-only, nosuid, nodev and noexec (writes fail with EROFS).
//   It is a tmpfs underneath (statfs and /proc/mounts say "tmpfs", not "sysfs").
// - Mounted by the Kernel when ShimConfig::mount_sysfs is set (the mount point is made only in a
//   box-owned root, never as a new directory of a host tree: with a host root that has no /sys
//   nothing is mounted); unmounted when the Kernel is destroyed, if still mounted there.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "../../fs/backend.hpp"
#include "../../fs/tmpfs.hpp"
#include "../../fs/vfs.hpp"
#include "kernel.hpp"

namespace litebox::shim::linux_abi {

namespace sysfs_detail {

/// Largest tmpfs the tree needs (a few directories and short files).
inline constexpr std::uint64_t sysfs_max_bytes = 64 * 1024;
inline constexpr std::uint64_t sysfs_max_inodes = 128;  // 64 CPU directories at most

template <typename P>
Result<typename fs::Inode<P>::Ptr> add_dir(fs::Inode<P>& parent, std::string_view name) {
    return parent.mkdir(name, fs::NewNode{fd::mode::directory | 0555, 0, 0, 0});
}

template <typename P>
Result<void> add_file(fs::Inode<P>& parent, std::string_view name, std::string_view text) {
    LITEBOX_TRY_ASSIGN(auto file, parent.create(name, fs::NewNode{fd::mode::regular | 0444, 0, 0, 0}));
    LITEBOX_TRY_ASSIGN(const std::size_t written, file->write(std::as_bytes(std::span(text.data(), text.size())), 0));
    if (written != text.size()) return Errno::nospc;
    return ok();
}

/// The tree, built through the inodes of a fresh tmpfs (not through a Vfs of its own: the first
/// Vfs to mount a file system gives it its device number, and that must be the kernel's).
template <typename P>
Result<std::shared_ptr<fs::Tmpfs<P>>> build(const P& platform, std::uint32_t cpus) {
    fs::TmpfsLimits limits;
    limits.max_bytes = sysfs_max_bytes;
    limits.max_inodes = sysfs_max_inodes;
    auto tree = fs::Tmpfs<P>::create(platform, limits, 0555);
    auto root = tree->root();
    LITEBOX_TRY_ASSIGN(auto devices, add_dir<P>(*root, "devices"));
    LITEBOX_TRY(add_dir<P>(*root, "fs"));
    LITEBOX_TRY(add_dir<P>(*root, "kernel"));
    LITEBOX_TRY_ASSIGN(auto system, add_dir<P>(*devices, "system"));
    LITEBOX_TRY_ASSIGN(auto cpu, add_dir<P>(*system, "cpu"));
    for (std::uint32_t n = 0; n < cpus; ++n) LITEBOX_TRY(add_dir<P>(*cpu, "cpu" + std::to_string(n)));
    const std::string range = cpus == 1 ? "0\n" : "0-" + std::to_string(cpus - 1) + "\n";
    LITEBOX_TRY(add_file<P>(*cpu, "online", range));
    LITEBOX_TRY(add_file<P>(*cpu, "possible", range));
    LITEBOX_TRY(add_file<P>(*cpu, "present", range));
    LITEBOX_TRY(add_file<P>(*cpu, "offline", "\n"));
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
    LITEBOX_TRY_ASSIGN(auto tree, sysfs_detail::build(kernel.platform(), kernel.cpu_count()));
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
