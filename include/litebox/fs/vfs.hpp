// Vfs<P>: the box's file-system namespace — a mount table over backends, Linux path resolution,
// permission checks and every path operation of the north API.
//
// Contract:
// - Every operation takes the caller's Credentials and a base Location `at` for relative paths (the
//   process's working directory for AT_FDCWD, or the directory a dirfd names; see location_of).
//   Absolute paths start at the box root. No path ever leads above the box root: ".." at the root
//   stays there, and symlink targets (relative or absolute) are resolved inside the box.
// - Resolution follows Linux: repeated slashes collapse; "." and ".."; symlinks in the middle of a
//   path are always followed, a final symlink per operation (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW...);
//   at most max_symlinks (40) links per resolution, then ELOOP; a trailing slash requires a
//   directory (and follows a final symlink); a path of path_max (4096) bytes or more, or a
//   component longer than name_max (255), fails with ENAMETOOLONG; an empty path fails with
//   ENOENT unless AT_EMPTY_PATH. Search (x) permission is checked on every directory walked.
// - Errors are Linux's errnos, in Linux's order of checks where the order is observable.
// - All members are thread-safe. Hooks (FIFO opener, device openers) are called without any Vfs
//   lock held and may block.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../event/waiter.hpp"
#include "../fd/open_file.hpp"
#include "../platform/concepts.hpp"
#include "../sync/mutex.hpp"
#include "backend.hpp"
#include "file.hpp"
#include "flock.hpp"
#include "inotify.hpp"
#include "location.hpp"
#include "locks.hpp"
#include "permission.hpp"
#include "types.hpp"

namespace litebox::fs {

/// chown's "leave unchanged" id ((uid_t)-1).
inline constexpr std::uint32_t no_change = 0xffffffffu;
/// Default limit on the number of mounts in one Vfs.
inline constexpr std::size_t default_max_mounts = 1024;

template <platform::RawMutexProvider P>
class Vfs {
    // The platform's clock (TimeProvider) is required where it is used (timestamps); LiteBox<P>
    // reports a missing one through diagnose.hpp, so there is no second static_assert here.
public:
    using InodePtr = typename Inode<P>::Ptr;
    using FilePtr = std::shared_ptr<fd::OpenFile<P>>;
    using Loc = Location<P>;
    /// Opens an end of the FIFO attached to `slot` (creating the pipe if none is), blocking as
    /// open(2) of a FIFO does. `wait` is the caller's context for a blocking open (nullptr: wait
    /// uninterruptibly on the platform clock). Installed by the IPC layer (ipc/fifo.hpp).
    using FifoOpener = std::function<Result<FilePtr>(Attachment<P>& slot, std::uint32_t flags, const event::WaitContext<P>* wait)>;
    /// Opens a character device (registered by st_rdev) reached at `where`.
    using DeviceOpener = std::function<Result<FilePtr>(const Loc& where, std::uint32_t flags)>;

    /// A namespace whose root is the root directory of `root_fs`. The platform must outlive it.
    Vfs(const P& platform, std::shared_ptr<FileSystem<P>> root_fs, std::size_t max_mounts = default_max_mounts);
    Vfs(const Vfs&) = delete;
    Vfs& operator=(const Vfs&) = delete;

    [[nodiscard]] const P& platform() const noexcept { return m_platform; }
    /// The box root (what "/" names, including whatever is mounted over it).
    [[nodiscard]] Loc root() const { return cross_mounts(m_root); }

    // ---- mounts ------------------------------------------------------------------------------
    /// Mounts `fs` on the directory `path` (root only: EPERM otherwise). flags: mount_flags.
    Result<void> mount(const Credentials& creds, const Loc& at, std::string_view path, std::shared_ptr<FileSystem<P>> fs,
                       std::uint32_t flags = 0);
    /// Unmounts the file system whose root `path` names (EINVAL if it is not a mount root, EBUSY
    /// for the box root or a mount with mounts below it).
    Result<void> unmount(const Credentials& creds, const Loc& at, std::string_view path);
    /// Gives `fs` a device number of this namespace without mounting it (an internal instance whose
    /// files are reached only through descriptors, like memfd_create's); returns it.
    std::uint64_t assign_device(FileSystem<P>& fs);
    /// The root location of every mount (the box's root mount first, then the others in no
    /// particular order; hidden ones under a stacked mount included). For /proc/mounts.
    [[nodiscard]] std::vector<Loc> mount_roots() const;

    // ---- resolution --------------------------------------------------------------------------
    /// The location `path` names. at_flags: symlink_nofollow, empty_path.
    Result<Loc> resolve(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t at_flags = 0);
    /// A resolved object and the directory and name it was found by (none for "/", "." and "..",
    /// or with empty_path), for the inotify watches of that directory.
    struct Named {
        Loc where;
        std::optional<Loc> directory;
        std::string name;
        [[nodiscard]] NamedIn<P> via() const noexcept { return directory ? NamedIn<P>{&*directory, name} : NamedIn<P>{}; }
    };
    /// resolve() that also tells where the object was found.
    Result<Named> resolve_named(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t at_flags = 0);
    /// chdir/chroot: a directory the caller may search (ENOTDIR, EACCES).
    Result<Loc> resolve_directory(const Credentials& creds, const Loc& at, std::string_view path);
    /// getcwd: the absolute path of a directory location (ENOENT once it has been removed).
    Result<std::string> path_of(const Loc& where);
    /// The location of an open file or directory of this Vfs (for dirfds, fchdir, fchmod...).
    /// ENOTDIR for objects that have none (pipes, sockets).
    static Result<Loc> location_of(const fd::OpenFile<P>& file);

    // ---- opening -----------------------------------------------------------------------------
    /// open/openat: flags are fd::open_flags (O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY,
    /// O_NOFOLLOW, O_PATH, ...); mode is used with O_CREAT (umask applied). O_CLOEXEC belongs to the
    /// descriptor, not to the open file: the caller passes it to DescriptorTable::insert. `wait`:
    /// how the caller may block (opening a FIFO waits for its partner unless O_NONBLOCK).
    Result<FilePtr> open(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t flags,
                         std::uint32_t mode = 0, const event::WaitContext<P>* wait = nullptr);
    /// O_TMPFILE: an unnamed regular file in the directory `path` names (open's helper).
    Result<FilePtr> open_unnamed(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t flags, std::uint32_t mode,
                                 const event::WaitContext<P>* wait);
    /// Opens an already-resolved location (O_CREAT and O_EXCL are ignored).
    Result<FilePtr> open_location(const Credentials& creds, const Loc& where, std::uint32_t flags);

    // ---- metadata ----------------------------------------------------------------------------
    /// stat/lstat/fstatat. at_flags: symlink_nofollow, empty_path.
    Result<Stat> stat(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t at_flags = 0);
    /// access/faccessat. mode: access_mode bits. at_flags: eaccess, symlink_nofollow, empty_path.
    Result<void> access(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t mode,
                        std::uint32_t at_flags = 0);
    /// readlink/readlinkat (with empty_path: the symlink `at` names itself).
    Result<std::string> readlink(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t at_flags = 0);
    Result<void> chmod(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t mode,
                       std::uint32_t at_flags = 0);
    /// The location forms (fchmod, fchown, futimens) take the directory and name the object was
    /// opened by, if known, for the inotify watches of that directory (file_named_in()).
    Result<void> chmod(const Credentials& creds, const Loc& where, std::uint32_t mode, const NamedIn<P>& via = {});
    /// uid/gid no_change leave that id unchanged.
    Result<void> chown(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t uid, std::uint32_t gid,
                       std::uint32_t at_flags = 0);
    Result<void> chown(const Credentials& creds, const Loc& where, std::uint32_t uid, std::uint32_t gid, const NamedIn<P>& via = {});
    /// utimensat: nanoseconds utime_now / utime_omit are honoured; both utime_now is "times = NULL".
    Result<void> utimens(const Credentials& creds, const Loc& at, std::string_view path, Timespec atime, Timespec mtime,
                         std::uint32_t at_flags = 0);
    Result<void> utimens(const Credentials& creds, const Loc& where, Timespec atime, Timespec mtime, const NamedIn<P>& via = {});
    /// truncate(2) by path (write permission, EISDIR, EINVAL for non-regular files).
    Result<void> truncate(const Credentials& creds, const Loc& at, std::string_view path, std::uint64_t length);
    Result<StatFs> statfs(const Credentials& creds, const Loc& at, std::string_view path);
    static Result<StatFs> statfs(const Loc& where);

    // ---- namespace changes -------------------------------------------------------------------
    Result<void> mkdir(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t mode);
    /// mknod/mknodat: regular files, FIFOs, sockets and (root only) character/block devices.
    Result<void> mknod(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t mode,
                       std::uint64_t device = 0);
    Result<void> symlink(const Credentials& creds, std::string_view target, const Loc& at, std::string_view path);
    /// linkat. at_flags: symlink_follow, empty_path.
    Result<void> link(const Credentials& creds, const Loc& old_at, std::string_view old_path, const Loc& new_at,
                      std::string_view new_path, std::uint32_t at_flags = 0);
    /// unlinkat. at_flags: remove_dir (then it is rmdir).
    Result<void> unlink(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t at_flags = 0);
    Result<void> rmdir(const Credentials& creds, const Loc& at, std::string_view path);
    /// renameat2. flags: rename_flags (no_replace, exchange).
    Result<void> rename(const Credentials& creds, const Loc& old_at, std::string_view old_path, const Loc& new_at,
                        std::string_view new_path, std::uint32_t flags = 0);

    // ---- IPC and device hooks ----------------------------------------------------------------
    /// Installs the FIFO opener (until then, opening a FIFO fails with ENXIO).
    void set_fifo_opener(FifoOpener opener);
    /// Registers the opener for character devices with st_rdev `device` (EEXIST if taken).
    Result<void> register_device(std::uint64_t device, DeviceOpener opener);
    /// Registers the opener for every character device of `major` that has no opener of its own
    /// (devpts's slaves, major 136). EEXIST if taken.
    Result<void> register_device_major(std::uint32_t major, DeviceOpener opener);
    /// Removes an opener registered by register_device / register_device_major (no-op if none).
    void unregister_device(std::uint64_t device) noexcept;
    void unregister_device_major(std::uint32_t major) noexcept;
    /// bind(2) of a unix socket to `path`: creates a socket inode (mode 0777 & ~umask) and attaches
    /// `endpoint` to it. EADDRINUSE when the name exists.
    Result<void> bind_socket(const Credentials& creds, const Loc& at, std::string_view path, std::shared_ptr<void> endpoint);
    /// connect(2) to a unix socket path: the attached endpoint. Needs write permission on the
    /// socket inode; ECONNREFUSED when the path is not a socket or nothing is bound to it.
    Result<std::shared_ptr<void>> connect_socket(const Credentials& creds, const Loc& at, std::string_view path);

    /// The inotify watches of this namespace (inotify.hpp): every operation above and every file it
    /// opens report their events there.
    [[nodiscard]] const std::shared_ptr<InotifyHub<P>>& inotify_hub() const noexcept { return m_inotify; }
    /// Where an open file was opened by name (for the location forms above), or nothing.
    static NamedIn<P> file_named_in(const fd::OpenFile<P>& file) noexcept {
        if (const auto* handle = dynamic_cast<const FileHandle<P>*>(&file))
            if (const auto& origin = handle->origin()) return NamedIn<P>{&origin->directory, origin->name};
        return {};
    }

    /// Advisory record locks (fcntl F_SETLK/F_SETLKW/F_GETLK) of every inode in this namespace.
    [[nodiscard]] RecordLocks<P>& locks() noexcept { return m_locks; }
    /// flock(2) locks of every inode in this namespace (apart from the record locks, as on Linux).
    [[nodiscard]] FlockLocks<P>& flocks() noexcept { return m_flocks; }

private:
    enum class LastKind { normal, dot, dotdot, root };
    /// A path resolved up to (not including) its last component.
    struct Parent {
        Loc dir;
        std::string_view last;
        LastKind kind = LastKind::normal;
        bool trailing_slash = false;
    };
    class Walker;
    friend class Walker;
    Result<FilePtr> open_named(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t flags, std::uint32_t mode,
                               const event::WaitContext<P>* wait, bool& created_now);
    /// A file just opened: it reports to the hub from now on; IN_MODIFY (O_TRUNC), IN_OPEN.
    void opened(const FilePtr& file, bool created, std::uint32_t flags);
    Result<void> do_chmod(const Credentials& creds, const Loc& where, std::uint32_t mode);
    Result<void> do_chown(const Credentials& creds, const Loc& where, std::uint32_t uid, std::uint32_t gid);
    Result<void> do_utimens(const Credentials& creds, const Loc& where, Timespec atime, Timespec mtime, std::uint32_t& mask);

    Result<void> may_search(const Credentials& creds, const Loc& dir) const;
    /// One step of a walk; `searched` when the caller already checked search permission on dir.
    Result<Loc> lookup_component(const Credentials& creds, const Loc& dir, std::string_view name, bool searched = false) const;
    [[nodiscard]] Loc cross_mounts(Loc where) const;
    Result<FilePtr> open_resolved(const Credentials& creds, const Loc& where, std::uint32_t flags, bool created,
                                  const event::WaitContext<P>* wait = nullptr);
    Result<void> create_node(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t mode,
                             std::uint64_t device, std::string_view symlink_target, std::shared_ptr<void> endpoint);
    Result<void> remove(const Credentials& creds, const Loc& at, std::string_view path, bool directory);
    Result<NewNode> new_node(const Credentials& creds, const Loc& dir, std::uint32_t mode) const;
    [[nodiscard]] Timespec now() const;

    struct MountKey {
        const Mount<P>* mount;
        const Inode<P>* inode;
        friend bool operator<(const MountKey& a, const MountKey& b) noexcept {
            return a.mount != b.mount ? std::less<>{}(a.mount, b.mount) : std::less<>{}(a.inode, b.inode);
        }
    };
    struct MountTable {
        std::map<MountKey, std::vector<std::shared_ptr<Mount<P>>>> by_point;  // stacked: back() is visible
        std::size_t count = 0;
        std::uint32_t next_minor = 1;
    };
    struct Hooks {
        FifoOpener fifo;
        std::map<std::uint64_t, DeviceOpener> devices;
    };

    const P& m_platform;
    const std::size_t m_max_mounts;
    Loc m_root;
    mutable sync::Mutex<P, MountTable> m_mounts;
    mutable sync::Mutex<P, Hooks> m_hooks;
    sync::Mutex<P, int> m_rename_lock;  // serialises cross-directory renames (the subtree check)
    RecordLocks<P> m_locks;
    FlockLocks<P> m_flocks;
    std::shared_ptr<InotifyHub<P>> m_inotify = std::make_shared<InotifyHub<P>>();
};

}  // namespace litebox::fs

#include "detail/vfs_walk.hpp"
#include "detail/vfs_ops.hpp"
#include "detail/vfs_open.hpp"
