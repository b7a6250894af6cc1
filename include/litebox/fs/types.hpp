// Plain types of the file-system layer: limits, per-process credentials, attribute changes,
// statfs totals and the flag values of the *at family. Values are Linux x86-64's.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "../fd/directory.hpp"
#include "../fd/types.hpp"

namespace litebox::fs {

using fd::Stat;
using fd::Timespec;

// ---- limits ----------------------------------------------------------------------------------
/// PATH_MAX: a path of this many bytes or more (without the NUL) fails with ENAMETOOLONG.
inline constexpr std::size_t path_max = 4096;
/// NAME_MAX: a component longer than this fails with ENAMETOOLONG.
inline constexpr std::size_t name_max = 255;
/// MAXSYMLINKS: symlinks followed during one resolution before ELOOP.
inline constexpr int max_symlinks = 40;
/// The largest file size (MAX_LFS_FILESIZE); writes or truncation past it fail with EFBIG.
inline constexpr std::uint64_t max_file_size = 0x7fff'ffff'ffff'ffffULL;

// ---- credentials -----------------------------------------------------------------------------
/// A process's identity as the file system sees it. The caller (the shim, per process) owns it and
/// passes it to every operation. Permission checks use fsuid/fsgid and the supplementary groups;
/// access()/faccessat() without AT_EACCESS use the real uid/gid.
struct Credentials {
    std::uint32_t uid = 0;    // real
    std::uint32_t gid = 0;
    std::uint32_t euid = 0;   // effective
    std::uint32_t egid = 0;
    std::uint32_t fsuid = 0;  // file-system (follows euid unless set)
    std::uint32_t fsgid = 0;
    std::vector<std::uint32_t> groups;  // supplementary
    std::uint32_t umask = 022;
    /// The calling process as its runtime numbers it (the Linux shim's box pid), 0 when there is
    /// none. Only caller-relative backends read it (procfs's "self" link); permission checks never.
    std::int32_t pid = 0;

    /// uid 0 with every id 0.
    static Credentials root() { return Credentials{}; }
    /// An unprivileged user whose real, effective and fs ids are all `u`/`g`.
    static Credentials user(std::uint32_t u, std::uint32_t g, std::vector<std::uint32_t> supplementary = {}) {
        Credentials c;
        c.uid = c.euid = c.fsuid = u;
        c.gid = c.egid = c.fsgid = g;
        c.groups = std::move(supplementary);
        return c;
    }
    /// True when `g` is the fs group or a supplementary group.
    [[nodiscard]] bool in_group(std::uint32_t g) const noexcept {
        return g == fsgid || std::find(groups.begin(), groups.end(), g) != groups.end();
    }
};

// ---- flag values -----------------------------------------------------------------------------
/// The *at family's flags.
namespace at_flags {
inline constexpr std::uint32_t symlink_nofollow = 0x100;  // AT_SYMLINK_NOFOLLOW
inline constexpr std::uint32_t remove_dir = 0x200;        // AT_REMOVEDIR
inline constexpr std::uint32_t eaccess = 0x200;           // AT_EACCESS (faccessat only)
inline constexpr std::uint32_t symlink_follow = 0x400;    // AT_SYMLINK_FOLLOW (linkat)
inline constexpr std::uint32_t no_automount = 0x800;
inline constexpr std::uint32_t empty_path = 0x1000;       // AT_EMPTY_PATH
}  // namespace at_flags

/// access(2) modes.
namespace access_mode {
inline constexpr std::uint32_t exists = 0;  // F_OK
inline constexpr std::uint32_t execute = 1;
inline constexpr std::uint32_t write = 2;
inline constexpr std::uint32_t read = 4;
}  // namespace access_mode

/// renameat2 flags.
namespace rename_flags {
inline constexpr std::uint32_t no_replace = 1;  // RENAME_NOREPLACE
inline constexpr std::uint32_t exchange = 2;    // RENAME_EXCHANGE
inline constexpr std::uint32_t whiteout = 4;    // RENAME_WHITEOUT (not supported: EINVAL)
}  // namespace rename_flags

/// File seals (fcntl F_ADD_SEALS / F_GET_SEALS): what a sealed file refuses from then on.
namespace seal {
inline constexpr std::uint32_t seal = 0x01;          // F_SEAL_SEAL: no more seals
inline constexpr std::uint32_t shrink = 0x02;        // F_SEAL_SHRINK: no truncation below the size
inline constexpr std::uint32_t grow = 0x04;          // F_SEAL_GROW: no growth past the size
inline constexpr std::uint32_t write = 0x08;         // F_SEAL_WRITE: no change to the contents
inline constexpr std::uint32_t future_write = 0x10;  // F_SEAL_FUTURE_WRITE: as write for new writes
inline constexpr std::uint32_t all = seal | shrink | grow | write | future_write;
}  // namespace seal

/// utimensat's special nanosecond values.
inline constexpr std::int64_t utime_now = (1LL << 30) - 1;
inline constexpr std::int64_t utime_omit = (1LL << 30) - 2;

/// Device numbers as Linux encodes them in st_dev / st_rdev (new_encode_dev).
constexpr std::uint64_t make_device(std::uint32_t major, std::uint32_t minor) noexcept {
    return (static_cast<std::uint64_t>(minor) & 0xff) | (static_cast<std::uint64_t>(major) << 8) |
           ((static_cast<std::uint64_t>(minor) & ~0xffULL) << 12);
}
constexpr std::uint32_t device_major(std::uint64_t dev) noexcept { return static_cast<std::uint32_t>((dev >> 8) & 0xfff); }
constexpr std::uint32_t device_minor(std::uint64_t dev) noexcept {
    return static_cast<std::uint32_t>((dev & 0xff) | ((dev >> 12) & 0xfff00));
}
namespace detail {
/// The Vfs device-opener key that stands for a whole major (never a real st_rdev: bit 63).
constexpr std::uint64_t device_major_key(std::uint32_t major) noexcept { return (std::uint64_t{1} << 63) | major; }
}  // namespace detail

// ---- attribute changes -----------------------------------------------------------------------
/// What setattr changes; unset members stay as they are. The backend sets ctime to its current
/// time whenever it applies any change (and for nothing else). `mode` carries only permission bits
/// (07777); the file type never changes.
struct AttrChange {
    std::optional<std::uint32_t> mode;
    std::optional<std::uint32_t> uid;
    std::optional<std::uint32_t> gid;
    std::optional<Timespec> access_time;
    std::optional<Timespec> modify_time;
};

/// What statfs reports (struct statfs, ABI-independent).
struct StatFs {
    std::uint64_t type = 0;          // f_type magic, e.g. TMPFS_MAGIC 0x01021994
    std::uint64_t block_size = 4096; // f_bsize
    std::uint64_t blocks = 0;        // total, in block_size units
    std::uint64_t blocks_free = 0;
    std::uint64_t blocks_available = 0;
    std::uint64_t files = 0;         // total inodes
    std::uint64_t files_free = 0;
    std::uint64_t name_max = fs::name_max;
    std::uint64_t fragment_size = 4096;
    std::uint64_t flags = 0;         // ST_RDONLY (1), ST_NOSUID (2), ...
    std::uint64_t fsid = 0;
};

/// statfs f_type magics of the file systems LiteBox ships.
namespace fs_magic {
inline constexpr std::uint64_t tmpfs = 0x01021994;
inline constexpr std::uint64_t devfs = 0x1373;  // DEVFS_SUPER_MAGIC
inline constexpr std::uint64_t overlay = 0x794c7630;
inline constexpr std::uint64_t ramfs = 0x858458f6;
}  // namespace fs_magic

/// File-type helpers over st_mode.
constexpr bool is_directory(std::uint32_t m) noexcept { return (m & fd::mode::type_mask) == fd::mode::directory; }
constexpr bool is_regular(std::uint32_t m) noexcept { return (m & fd::mode::type_mask) == fd::mode::regular; }
constexpr bool is_symlink(std::uint32_t m) noexcept { return (m & fd::mode::type_mask) == fd::mode::symlink; }
constexpr bool is_fifo(std::uint32_t m) noexcept { return (m & fd::mode::type_mask) == fd::mode::fifo; }
constexpr bool is_socket(std::uint32_t m) noexcept { return (m & fd::mode::type_mask) == fd::mode::socket; }
constexpr bool is_char_device(std::uint32_t m) noexcept { return (m & fd::mode::type_mask) == fd::mode::char_device; }
constexpr bool is_block_device(std::uint32_t m) noexcept { return (m & fd::mode::type_mask) == fd::mode::block_device; }

}  // namespace litebox::fs
