// ProcFs<P>: the guest's /proc — a read-only fs::FileSystem generated from the shim's process
// table. Only box processes exist in it; nothing of the host is visible.
//
// Contract:
// - Tree: /proc/self (symlink to the caller's pid), /proc/mounts (-> self/mounts), cpuinfo,
//   meminfo (ShimConfig::total_memory_bytes), uptime (Kernel::uptime, the platform clock), loadavg,
//   stat, vmstat (free pages as meminfo, no paging or swap), sysvipc/{msg,sem,shm} (the box's System V
//   IPC objects, Linux's format), filesystems, version (ShimConfig release/version), sys/kernel/{hostname,ostype,osrelease,
//   pid_max}, sys/kernel/random/uuid (only with a CrngProvider: a fresh UUID per open),
//   sys/vm/overcommit_memory ("0"), sys/fs/file-max (fd::max_descriptor_limit),
//   sys/fs/inotify/{max_user_instances,max_user_watches,max_queued_events} (ShimConfig), net/{dev,route}
//   (the box's interfaces, net_interfaces.hpp; a directory where Linux has a link to self/net), and for every box
//   process /proc/<pid>/{exe,cwd,root,fd/,fdinfo/,cmdline,environ,status,stat,comm,mounts,
//   mountinfo,limits,statm,oom_score_adj,cgroup}, task/<tid>/{stat,status,comm} for each live
//   thread, and
//   /proc/<pid>/maps when the runtime set Kernel::set_maps_source (the shim has no address spaces
//   of its own; without a source the entry does not exist).
// - "self" is resolved per caller without thread-locals: the shim passes the calling process's
//   pid in fs::Credentials::pid, and the VFS reads links through Inode::readlink_as(caller).
// - Contents are generated when a file is first read after it was looked up: every open gets its
//   own snapshot (each lookup makes a fresh inode), so reads at offsets are consistent.
// - Permissions: files 0444 (environ and maps 0400: Linux lets only a ptrace-capable reader see
//   them), directories 0555 (fd/ and fdinfo/ 0500, as on Linux),
//   owned by the process's effective ids under /proc/<pid>; exe, cwd, root and fd/N can only be
//   read by root or the same effective uid (EACCES). The file system is read-only: opening for
//   writing, chmod, creating or removing anything fail with EROFS (for every caller; truncate(2)
//   checks write permission first: EACCES for non-root).
// - /proc/<pid>/fd/N reads as the path the file was opened by (via its directory's current path;
//   " (deleted)" once unlinked), "pipe:[ino]", "socket:[ino]", "anon_inode:NAME" for the objects
//   Linux names so (OpenFile::anonymous_name: [eventfd], [timerfd], [eventpoll], [pidfd],
//   [signalfd], inotify), "anon_inode:[ino]" (other anonymous objects) or, for a
//   host stream the runtime opened with Kernel::open_stdio, "host:[ino]". Following fd/N is
//   Linux's "magic link" jump (fs::Inode::jump_as), not a walk of that text: it leads to the
//   object itself -- a file even after a rename or unlink, a directory, a device, a new end of an
//   anonymous pipe (opened at once in any mode, as Linux's pipefs) -- with the same check as
//   reading the link; sockets and anonymous objects cannot be opened (ENXIO) but stat follows the
//   link to them and reports what fstat of the descriptor does (their type, inode and device).
// - A process that exits makes reads of files already opened under its directory fail with ESRCH.
// - The Kernel must outlive guest syscalls; when it is destroyed it unmounts /proc and detaches
//   the procfs (a later lookup then fails with ENOENT).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "../../fs/backend.hpp"
#include "../../fs/vfs.hpp"
#include "../../ipc/detail/anon_inode.hpp"
#include "kernel.hpp"

namespace litebox::shim::linux_abi {

/// f_type of procfs (PROC_SUPER_MAGIC).
inline constexpr std::uint64_t proc_super_magic = 0x9fa0;

namespace procfs_detail {
/// Where /proc/<pid>/fd/N leads for a pipe, a socket or an anonymous-inode object: a file system
/// of no files whose device is the one those objects report (ipc::anonymous_device), so that
/// stat through the link gives what fstat of the descriptor gives.
template <typename P>
class ObjectFs final : public fs::FileSystem<P> {
public:
    ObjectFs() noexcept { this->assign_device(ipc::anonymous_device); }
    typename fs::Inode<P>::Ptr root() override { return nullptr; }
    Result<fs::StatFs> statfs() override {
        fs::StatFs s;
        s.type = 0x50495045;  // PIPEFS_MAGIC, as fstatfs of such a descriptor reports
        return s;
    }
    [[nodiscard]] std::string_view type_name() const noexcept override { return "pipefs"; }
};

/// What every procfs inode shares: the kernel it shows (nullptr once detached) and the mount of
/// the objects that /proc/<pid>/fd/N reaches outside any file system.
template <typename P>
struct Source {
    std::atomic<Kernel<P>*> kernel{nullptr};
    std::shared_ptr<fs::Mount<P>> objects = std::make_shared<fs::Mount<P>>(fs::Mount<P>{std::make_shared<ObjectFs<P>>(), nullptr, nullptr, 0});
    [[nodiscard]] Kernel<P>* get() const noexcept { return kernel.load(std::memory_order_acquire); }
};
template <typename P>
typename fs::Inode<P>::Ptr make_root(std::shared_ptr<Source<P>> source);
}  // namespace procfs_detail

template <typename P>
class ProcFs final : public fs::FileSystem<P> {
public:
    explicit ProcFs(Kernel<P>& kernel) : m_source(std::make_shared<procfs_detail::Source<P>>()) {
        m_source->kernel.store(&kernel, std::memory_order_release);
        m_root = procfs_detail::make_root<P>(m_source);
    }
    typename fs::Inode<P>::Ptr root() override { return m_root; }
    Result<fs::StatFs> statfs() override {
        fs::StatFs s;
        s.type = proc_super_magic;
        s.block_size = s.fragment_size = 4096;
        s.flags = 1;  // ST_RDONLY
        return s;
    }
    [[nodiscard]] std::string_view type_name() const noexcept override { return "proc"; }
    [[nodiscard]] bool read_only() const noexcept override { return true; }
    /// Cuts the file system off its kernel: every later generation fails with ENOENT.
    void detach() noexcept { m_source->kernel.store(nullptr, std::memory_order_release); }

private:
    std::shared_ptr<procfs_detail::Source<P>> m_source;
    typename fs::Inode<P>::Ptr m_root;
};

/// Creates a ProcFs for `kernel` and mounts it on /proc of the kernel's namespace (making the
/// directory, mode 0555, when it does not exist, unless the root is a host directory: hostfs).
/// Root credentials; errors from mkdir/mount.
template <typename P>
Result<std::shared_ptr<ProcFs<P>>> install_procfs(Kernel<P>& kernel) {
    const fs::Credentials root = fs::Credentials::root();
    fs::Vfs<P>& vfs = kernel.vfs();
    const auto at = vfs.root();
    // The mount point is made only in a box-owned root: never as a new directory of a host tree.
    if (at.mount->fs->type_name() != "hostfs") {
        if (auto made = vfs.mkdir(root, at, "proc", 0555); !made && made.error() != Errno::exist) return made.error();
    }
    auto procfs = std::make_shared<ProcFs<P>>(kernel);
    LITEBOX_TRY(vfs.mount(root, at, "/proc", procfs, fs::mount_flags::no_suid | fs::mount_flags::no_dev | fs::mount_flags::no_exec));
    return procfs;
}

/// The Kernel's teardown: unmounts /proc when it is still this procfs, then detaches it.
template <typename P>
void detach_procfs(Kernel<P>& kernel, ProcFs<P>& procfs) noexcept {
    const fs::Credentials root = fs::Credentials::root();
    fs::Vfs<P>& vfs = kernel.vfs();
    if (auto where = vfs.resolve(root, vfs.root(), "/proc"); where && where->mount->fs.get() == &procfs) {
        (void)vfs.unmount(root, vfs.root(), "/proc");
    }
    procfs.detach();
}

}  // namespace litebox::shim::linux_abi

#include "detail/procfs_content.hpp"
#include "detail/procfs_nodes.hpp"
