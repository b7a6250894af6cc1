// The host-directory punchthrough: one operation type, HostFsRequest, that names a host file
// operation and the path it touches, relative to the host directory the platform's policy serves.
//
// Contract for platforms that list HostFsRequest in their Punchthrough set:
// - Paths are relative ("" is the host directory itself, "a/b" below it); the HostFs backend never
//   sends an absolute path, a "." or ".." component, or an empty component. A policy must still
//   refuse them (no token) and must make sure, on the host side, that nothing outside the
//   directory is reached: not through "..", not through symlinks (absolute or relative), not
//   through /proc magic links — e.g. by resolving with openat2(RESOLVE_BENEATH |
//   RESOLVE_NO_MAGICLINKS) from a descriptor of the directory.
// - Operations act on the named entry itself and never follow a final symlink (lstat semantics);
//   the box resolves symlinks itself, inside the box.
// - Write operations (is_write()) must be refused by a read-only policy.
// - execute() reports the host's errno as the Failure; a refusal discovered while executing (an
//   escape attempt) fails with EACCES.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../../error.hpp"
#include "../../fd/types.hpp"
#include "../types.hpp"

namespace litebox::fs::hostfs {

/// Most names one readdir request returns (a policy stops listing past it; HostFs fails with
/// EOVERFLOW).
inline constexpr std::size_t max_listing = 1u << 16;

/// Each host operation a HostFs may ask for.
enum class HostOp : std::uint8_t {
    lstat,     // path → stat
    readdir,   // path → entries
    read,      // path, offset, out → count
    write,     // path, offset, in → count
    truncate,  // path, length
    create,    // path (new regular file or FIFO, exclusive), mode
    mkdir,     // path, mode
    symlink,   // path, target (path2)
    link,      // path (existing) → path2 (new)
    unlink,    // path
    rmdir,     // path
    rename,    // path → path2, flags (rename_flags)
    readlink,  // path → text
    chmod,     // path, mode
    chown,     // path, uid, gid (no_change = 0xffffffff leaves one)
    utimens,   // path, atime, mtime (utime_omit honoured)
    statfs,    // → statfs
    open_read, // path (a regular file) → a host descriptor open read-only (HostFileHandle), for
               // runtimes whose host kernel maps the file (litebox-run's file-backed mmap)
    hold,      // path (a regular file) → a host descriptor (HostFileHandle) and its stat, kept by the
               // box so that an open file goes on working once its name is unlinked or replaced:
               // later requests name it in HostFsRequest::file instead of a path
};

constexpr std::string_view host_op_name(HostOp op) noexcept {
    switch (op) {
        case HostOp::lstat: return "lstat";
        case HostOp::readdir: return "readdir";
        case HostOp::read: return "read";
        case HostOp::write: return "write";
        case HostOp::truncate: return "truncate";
        case HostOp::create: return "create";
        case HostOp::mkdir: return "mkdir";
        case HostOp::symlink: return "symlink";
        case HostOp::link: return "link";
        case HostOp::unlink: return "unlink";
        case HostOp::rmdir: return "rmdir";
        case HostOp::rename: return "rename";
        case HostOp::readlink: return "readlink";
        case HostOp::chmod: return "chmod";
        case HostOp::chown: return "chown";
        case HostOp::utimens: return "utimens";
        case HostOp::statfs: return "statfs";
        case HostOp::open_read: return "open_read";
        case HostOp::hold: return "hold";
    }
    return "?";
}

/// True for operations that change the host.
constexpr bool host_op_writes(HostOp op) noexcept {
    switch (op) {
        case HostOp::lstat:
        case HostOp::readdir:
        case HostOp::read:
        case HostOp::readlink:
        case HostOp::statfs:
        case HostOp::open_read: return false;
        default: return true;
    }
}

/// One entry of a host directory listing.
struct HostDirEntry {
    std::string name;
    std::uint64_t inode = 0;
    std::uint8_t type = fd::dirent_type::unknown;
};

/// A host file the platform opened (HostOp::open_read: read-only, for the host kernel to map;
/// HostOp::hold: for later requests); closed when the last reference goes. The descriptor is
/// never for the guest to use.
class HostFileHandle {
public:
    HostFileHandle() = default;
    HostFileHandle(const HostFileHandle&) = delete;
    HostFileHandle& operator=(const HostFileHandle&) = delete;
    virtual ~HostFileHandle() = default;
    /// The platform's descriptor (POSIX platforms), valid while the handle lives.
    [[nodiscard]] virtual int descriptor() const noexcept = 0;
};

/// What an executed request returns (the fields its operation fills).
struct HostFsReply {
    Stat stat;                         // lstat, hold
    StatFs statfs;                     // statfs
    std::vector<HostDirEntry> entries; // readdir
    std::string text;                  // readlink
    std::size_t count = 0;             // read, write
    std::shared_ptr<const HostFileHandle> file;  // open_read, hold
};

/// Operations that may name a held file (HostFsRequest::file) instead of a path.
constexpr bool host_op_takes_file(HostOp op) noexcept {
    switch (op) {
        case HostOp::lstat:
        case HostOp::read:
        case HostOp::write:
        case HostOp::truncate:
        case HostOp::chmod:
        case HostOp::chown:
        case HostOp::utimens: return true;
        default: return false;
    }
}

/// The punchthrough operation. Buffers are the caller's and live until execute() returns.
struct HostFsRequest {
    using Success = HostFsReply;
    using Failure = Errno;
    static constexpr std::string_view name = "hostfs";

    HostOp op = HostOp::lstat;
    std::string path;
    std::string path2;
    std::uint64_t offset = 0;  // read, write; truncate: the length
    std::span<std::byte> out;
    std::span<const std::byte> in;
    std::uint32_t mode = 0;    // create (type bits: regular or fifo), mkdir, chmod
    std::uint32_t uid = 0xffffffffu;
    std::uint32_t gid = 0xffffffffu;
    std::uint32_t flags = 0;   // rename
    Timespec atime{0, utime_omit};
    Timespec mtime{0, utime_omit};
    /// A file of HostOp::hold: the operation (host_op_takes_file) acts on it, not on `path` (which
    /// only names it in audit lines). A policy refuses a handle it did not make.
    std::shared_ptr<const HostFileHandle> file;
    /// For an operation by path on an existing file (host_op_takes_file, open_read, hold): the
    /// host inode number the box knows the file by; if `path` now names another file, the
    /// operation fails with ESTALE instead of acting on it. 0: any.
    std::uint64_t inode = 0;

    [[nodiscard]] bool is_write() const noexcept { return host_op_writes(op); }
    /// "lstat a/b", "rename a -> b": for audit lines.
    [[nodiscard]] std::string describe() const {
        std::string s(host_op_name(op));
        s += " '";
        s += path;
        s += "'";
        if (file) s += " (held)";
        if (op == HostOp::rename || op == HostOp::link) {
            s += " -> '";
            s += path2;
            s += "'";
        }
        return s;
    }
};

/// Lexical validity of a request's paths: relative, no ".", ".." or empty components, no NUL,
/// shorter than path_max. A policy refuses anything else.
inline bool host_path_is_clean(std::string_view path) noexcept {
    if (path.empty()) return true;
    if (path.size() >= path_max || path.front() == '/' || path.back() == '/') return false;
    std::size_t start = 0;
    while (start <= path.size()) {
        auto slash = path.find('/', start);
        if (slash == std::string_view::npos) slash = path.size();
        const auto part = path.substr(start, slash - start);
        if (part.empty() || part == "." || part == ".." || part.find('\0') != std::string_view::npos) return false;
        start = slash + 1;
    }
    return true;
}

}  // namespace litebox::fs::hostfs
