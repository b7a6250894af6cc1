// The backend interface: what a file system (tmpfs, tar, overlay, devfs, a host directory) gives
// the VFS. It is inode-level: the VFS resolves paths, checks permissions, handles mounts, "." and
// symlink following, and turns inodes into open files; a backend only stores and finds things.
//
// Contract for implementers of Inode<P>:
// - Every member is thread-safe; the backend does its own locking. Members never block for long.
// - An inode's number (ino) and file type never change. Numbers are unique within one FileSystem
//   for as long as the inode lives. Inodes are shared (std::shared_ptr): an inode that is unlinked
//   while still open stays fully usable (read, write, stat with nlink 0) until the last reference
//   goes away. The backend frees its storage then.
// - Directory members are called only on directories, with `name` one component: non-empty, at most
//   name_max bytes, no '/' or NUL, never "."; only lookup() also receives "..", which returns the
//   parent directory (the file system's root returns itself). The VFS checks permissions, sticky
//   bits, read-only mounts and mount points before calling; the backend checks everything about
//   the directory's contents atomically: EEXIST, ENOENT, ENOTEMPTY, EISDIR (unlink of a directory),
//   ENOTDIR (rmdir of a non-directory), the rename type rules, and its own quotas (ENOSPC).
// - rename() is called on the old parent with the new parent from the same FileSystem (the VFS
//   returns EXDEV otherwise) and has already checked that a directory is not moved into its own
//   subtree. Rules the backend enforces: source missing → ENOENT; RENAME_NOREPLACE and target
//   exists → EEXIST; RENAME_EXCHANGE and target missing → ENOENT, else the two entries swap; a
//   directory over a non-directory → ENOTDIR; a non-directory over a directory → EISDIR; over a
//   non-empty directory → ENOTEMPTY; when source and target are the same inode, nothing happens.
// - readdir(cookie, sink) lists the entries other than "." and ".." in a stable order, starting at
//   the first entry whose position is >= cookie (cookie 0 is the start). Each entry reports the
//   cookie that resumes after it (DirectoryEntry::next), always > its own position and below 2^62.
//   An entry that exists for the whole of a listing is reported exactly once, even when other
//   entries are added or removed between calls. It stops at the sink's first refusal; it must not
//   hold a lock that the sink could need (the sink only copies).
// - read(out, offset) returns the bytes available at offset (0 at or past end of file); holes read
//   as zeros. write(in, offset) stores all of `in` or fails (ENOSPC, EFBIG past max_file_size); it
//   extends the file as needed. truncate() grows with a hole (no storage used) or shrinks.
// - Timestamps: the backend keeps atime/mtime/ctime from its own clock: a change to a file's data
//   sets mtime and ctime, a change to a directory's entries sets the directory's mtime and ctime,
//   a change of link count or attributes sets ctime.
// - getattr() reports st_dev as 0 (the VFS fills in the mount's device); st_blocks counts 512-byte
//   units actually stored.
// - Mutating members that a backend does not support keep the default, which fails with EROFS
//   (a read-only backend overrides none of them); members for a kind of inode the backend never
//   produces may keep their defaults too.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../fd/directory.hpp"
#include "../fd/types.hpp"
#include "attachment.hpp"
#include "types.hpp"

namespace litebox::fs {

namespace hostfs {
class HostFileHandle;  // hostfs/operations.hpp
}  // namespace hostfs

/// A regular file's bytes kept in memory that the host can map into several processes (on Linux a
/// memfd), so that a runtime can give guests writable shared mappings that stay coherent with the
/// box's read() and write() and with each other (see Inode::shared_store). A runtime makes one
/// with a SharedStoreFactory; the file system then keeps the file's bytes only there.
///
/// Contract: read() returns the bytes at `offset` (short only at the end of the store, which is
/// the file's size); write() stores all of `in` or fails; resize() sets the size (new bytes read as
/// zeros); add_seals() applies memfd seals (fs::seal bits) to the host object itself, failing with
/// Errno::busy for seal::write while a host mapping is writable, so that the host kernel enforces
/// them on mappings too. Called with the file system's lock held: each member is one host call or
/// a short loop of them, and never calls back into the file system.
class SharedStore {
public:
    SharedStore() = default;
    SharedStore(const SharedStore&) = delete;
    SharedStore& operator=(const SharedStore&) = delete;
    virtual ~SharedStore() = default;

    virtual Result<std::size_t> read(std::span<std::byte> out, std::uint64_t offset) const = 0;
    virtual Result<void> write(std::span<const std::byte> in, std::uint64_t offset) = 0;
    virtual Result<void> resize(std::uint64_t size) = 0;
    virtual Result<void> add_seals(std::uint32_t seals) = 0;
};

/// Makes an empty SharedStore (size 0); Errno on failure (e.g. Errno::nomem).
using SharedStoreFactory = std::function<Result<std::shared_ptr<SharedStore>>()>;

template <platform::RawMutexProvider P>
class Vfs;

/// What a new inode should look like. `mode` holds the file type and the permission bits with the
/// umask already applied; uid/gid are final (the VFS applies set-group-ID directory inheritance).
struct NewNode {
    std::uint32_t mode = 0;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint64_t device = 0;  // st_rdev for character and block devices
};

/// The fields a permission check needs; cheaper than a full getattr on the lookup path.
struct Ownership {
    std::uint32_t mode = 0;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
};

/// The outcome of an append: bytes written and the end of file after the write.
struct AppendResult {
    std::size_t written = 0;
    std::uint64_t end = 0;
};

template <platform::RawMutexProvider P>
struct Mount;

template <platform::RawMutexProvider P>
class Inode {
public:
    using Ptr = std::shared_ptr<Inode>;

    Inode(std::uint64_t ino, std::uint32_t type) noexcept : m_ino(ino), m_type(type & fd::mode::type_mask) {}
    Inode(const Inode&) = delete;
    Inode& operator=(const Inode&) = delete;
    virtual ~Inode() = default;

    [[nodiscard]] std::uint64_t ino() const noexcept { return m_ino; }
    /// The file-type bits of st_mode (fd::mode::directory, ...).
    [[nodiscard]] std::uint32_t type() const noexcept { return m_type; }
    [[nodiscard]] bool is_directory() const noexcept { return m_type == fd::mode::directory; }
    [[nodiscard]] bool is_symlink() const noexcept { return m_type == fd::mode::symlink; }
    [[nodiscard]] bool is_regular() const noexcept { return m_type == fd::mode::regular; }

    // ---- attributes --------------------------------------------------------------------------
    virtual Result<Stat> getattr() = 0;
    /// mode/uid/gid only; backends with a cheaper path than getattr() override it.
    virtual Result<Ownership> ownership() {
        LITEBOX_TRY_ASSIGN(const Stat st, getattr());
        return Ownership{st.mode, st.uid, st.gid};
    }
    virtual Result<void> setattr(const AttrChange& /*change*/) { return Errno::rofs; }

    // ---- directories -------------------------------------------------------------------------
    /// The child called `name` (or the parent for ".."); ENOENT when there is none.
    virtual Result<Ptr> lookup(std::string_view /*name*/) { return Errno::notdir; }
    /// A new regular file, FIFO, socket, character or block device (by node.mode's type).
    virtual Result<Ptr> create(std::string_view /*name*/, const NewNode& /*node*/) { return Errno::rofs; }
    virtual Result<Ptr> mkdir(std::string_view /*name*/, const NewNode& /*node*/) { return Errno::rofs; }
    virtual Result<Ptr> symlink(std::string_view /*name*/, std::string_view /*target*/, const NewNode& /*node*/) {
        return Errno::rofs;
    }
    /// O_TMPFILE: a new regular file in this directory's file system with no name (link count
    /// 0). `linkable`: link() may give it a name later (once); otherwise it can never have one.
    /// EOPNOTSUPP where the backend cannot (host directories, overlays, read-only images).
    virtual Result<Ptr> create_unnamed(const NewNode& /*node*/, bool /*linkable*/) { return Errno::opnotsupp; }
    /// A new entry for the existing non-directory `target` (of this file system); ENOENT when
    /// target's link count is already 0 (unless it is a linkable unnamed file), EMLINK past the
    /// backend's link limit.
    virtual Result<void> link(std::string_view /*name*/, const Ptr& /*target*/) { return Errno::rofs; }
    /// Removes a non-directory entry (EISDIR for a directory).
    virtual Result<void> unlink(std::string_view /*name*/) { return Errno::rofs; }
    /// Removes an empty directory entry (ENOTDIR, ENOTEMPTY).
    virtual Result<void> rmdir(std::string_view /*name*/) { return Errno::rofs; }
    /// renameat2 on entries of this directory and `new_dir` (flags: rename_flags).
    virtual Result<void> rename(std::string_view /*old_name*/, Inode& /*new_dir*/, std::string_view /*new_name*/,
                                std::uint32_t /*flags*/) {
        return Errno::rofs;
    }
    virtual Result<void> readdir(std::uint64_t /*cookie*/, fd::DirectorySink& /*sink*/) { return Errno::notdir; }

    // ---- symlinks ----------------------------------------------------------------------------
    virtual Result<std::string> readlink() { return Errno::inval; }
    /// The link body as `caller` sees it: what the VFS calls when it reads or follows a link.
    /// Backends whose links depend on the caller (procfs's "self") override it; others keep this.
    virtual Result<std::string> readlink_as(const Credentials& /*caller*/) { return readlink(); }
    /// Where following this link leads without reading its body: Linux's procfs "magic links"
    /// (/proc/<pid>/fd/N and the like) lead to the object itself, so a pipe reopens as that pipe and
    /// a renamed or unlinked file is still reached. `mount` null: the link's own mount.
    /// origin_*: where the object was opened by name, if it was (for /proc/<pid>/fd of the new
    /// description); origin_directory null when unknown.
    struct Jump {
        std::shared_ptr<Mount<P>> mount;
        Ptr inode;
        std::shared_ptr<Mount<P>> origin_mount;
        Ptr origin_directory;
        std::string origin_name;
    };
    /// Empty (every ordinary link): follow the body. The VFS counts a jump as one followed link.
    virtual Result<std::optional<Jump>> jump_as(const Credentials& /*caller*/) { return std::optional<Jump>{}; }

    // ---- regular files -----------------------------------------------------------------------
    virtual Result<std::size_t> read(std::span<std::byte> /*out*/, std::uint64_t /*offset*/) { return Errno::inval; }
    virtual Result<std::size_t> write(std::span<const std::byte> /*in*/, std::uint64_t /*offset*/) { return Errno::rofs; }
    /// Writes at the end of file atomically with respect to other appends and writes.
    virtual Result<AppendResult> append(std::span<const std::byte> in) {
        LITEBOX_TRY_ASSIGN(const Stat st, getattr());
        const auto end = static_cast<std::uint64_t>(st.size);
        LITEBOX_TRY_ASSIGN(const std::size_t n, write(in, end));
        return AppendResult{n, end + n};
    }
    virtual Result<void> truncate(std::uint64_t /*length*/) { return Errno::rofs; }
    /// Called by the VFS when a regular file is opened for writing, after the permission checks
    /// and before O_TRUNC is applied (`truncating`). Backends that prepare storage lazily (the
    /// overlay copies a lower file up) override it; `truncating` says the old data is not needed.
    virtual Result<void> prepare_write(bool /*truncating*/) { return ok(); }
    /// SEEK_DATA (hole = false) / SEEK_HOLE (hole = true) from `offset`; ENXIO at or past the end.
    /// The default treats the whole file as data.
    virtual Result<std::uint64_t> seek_data(std::uint64_t offset, bool hole) {
        LITEBOX_TRY_ASSIGN(const Stat st, getattr());
        const auto size = static_cast<std::uint64_t>(st.size);
        if (offset >= size) return Errno::nxio;
        return hole ? size : offset;
    }
    /// fsync: nothing to flush for in-memory backends.
    virtual Result<void> sync() { return ok(); }
    /// The file's seals (seal:: bits); EINVAL for a file that cannot be sealed (the default). A
    /// backend that keeps seals enforces them on write, append and truncate: EPERM for a write under
    /// seal::write or seal::future_write, growth past the size under seal::grow, shrinking under
    /// seal::shrink.
    virtual Result<std::uint32_t> seals() { return Errno::inval; }
    /// Adds `seals` (already checked to be within seal::all); EPERM once seal::seal is set.
    virtual Result<void> add_seals(std::uint32_t /*seals*/) { return Errno::inval; }

    // ---- extended attributes (names with their namespace prefix, e.g. "user.x") --------------
    virtual Result<std::vector<std::byte>> getxattr(std::string_view /*name*/) { return Errno::opnotsupp; }
    /// flags: XATTR_CREATE (1) fails with EEXIST, XATTR_REPLACE (2) with ENODATA.
    virtual Result<void> setxattr(std::string_view /*name*/, std::span<const std::byte> /*value*/, int /*flags*/) {
        return Errno::opnotsupp;
    }
    virtual Result<std::vector<std::string>> listxattr() { return std::vector<std::string>{}; }
    virtual Result<void> removexattr(std::string_view /*name*/) { return Errno::opnotsupp; }

    // ---- host mappings -----------------------------------------------------------------------
    /// A host file with exactly this regular file's bytes, opened read-only through the platform's
    /// punchthrough, for a runtime whose host kernel maps files (litebox-run's file-backed mmap);
    /// Errno::opnotsupp when the bytes live in the box (tmpfs, tar). An overlay answers for the
    /// layer that holds the file now.
    virtual Result<std::shared_ptr<const hostfs::HostFileHandle>> host_file() { return Errno::opnotsupp; }
    /// This regular file's whole contents as read-only memory that the file system itself never
    /// writes and that stays valid while a reference to this inode is held (a tar image's bytes),
    /// so that a runtime can copy a program out of it in one piece; Errno::opnotsupp for a file
    /// whose bytes the file system changes or keeps in pieces (tmpfs, host files). The memory may
    /// still belong to a host file that the host changes (a mapped tar): copy it before trusting
    /// it, as a runtime does with a program (sealed, then checked). An overlay answers for the
    /// layer that holds the file now.
    virtual Result<std::span<const std::byte>> immutable_contents() { return Errno::opnotsupp; }
    /// The SharedStore that holds this regular file's bytes. With `factory`, a file that has none
    /// yet moves its bytes into a new one (made by `factory()`) and keeps them there for the
    /// rest of its life; the store counts against the file system's quota by the file's size, since
    /// a host mapping may touch every page of it. With an empty `factory`, only an existing store is
    /// returned (Errno::nodata when there is none). Errno::opnotsupp when the backend keeps its
    /// bytes elsewhere (a host file, a tar image): a writable shared mapping of such a file cannot
    /// be coherent. An overlay answers for its upper layer only (a lower file is never written).
    virtual Result<std::shared_ptr<SharedStore>> shared_store(const SharedStoreFactory& /*factory*/) {
        return Errno::opnotsupp;
    }

    // ---- FIFOs and sockets -------------------------------------------------------------------
    /// The IPC slot of a FIFO or socket inode (see attachment.hpp); nullptr for other inodes or
    /// backends that cannot hold IPC objects (opening such a FIFO fails with ENXIO).
    virtual Attachment<P>* attachment() noexcept { return nullptr; }

private:
    friend class Vfs<P>;
    const std::uint64_t m_ino;
    const std::uint32_t m_type;
    /// How many mounts sit on this inode (maintained by the Vfs; 0 on the fast path).
    std::atomic<std::uint32_t> m_mounts{0};
};

/// A mounted (or mountable) file system instance: the source of a tree of inodes.
///
/// Contract: root() always returns the same directory inode. statfs() reports totals and limits.
/// device() is the st_dev of every inode of this instance; the Vfs assigns it when the instance is
/// first mounted (anonymous major 0), and it never changes afterwards. An instance may be mounted
/// at several places (all share its inodes and device).
template <platform::RawMutexProvider P>
class FileSystem {
public:
    FileSystem() = default;
    FileSystem(const FileSystem&) = delete;
    FileSystem& operator=(const FileSystem&) = delete;
    virtual ~FileSystem() = default;

    virtual typename Inode<P>::Ptr root() = 0;
    virtual Result<StatFs> statfs() = 0;
    /// "tmpfs", "tar", "overlay", "devfs", "hostfs" ...
    [[nodiscard]] virtual std::string_view type_name() const noexcept = 0;
    /// True when no operation can change it (then every mutation fails with EROFS).
    [[nodiscard]] virtual bool read_only() const noexcept { return false; }

    [[nodiscard]] std::uint64_t device() const noexcept { return m_device.load(std::memory_order_relaxed); }
    /// Sets the device number once (later calls change nothing); returns the number in force.
    std::uint64_t assign_device(std::uint64_t device) noexcept {
        std::uint64_t expected = 0;
        if (m_device.compare_exchange_strong(expected, device, std::memory_order_relaxed)) return device;
        return expected;
    }

private:
    std::atomic<std::uint64_t> m_device{0};
};

}  // namespace litebox::fs
