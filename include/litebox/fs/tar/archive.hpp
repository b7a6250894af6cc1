// tar::Archive: an index over a tar archive held in memory (ustar, GNU and pax dialects).
//
// Contract:
// - parse() validates the whole archive once, up front, and either returns an Archive or fails
//   with one Errno and (through the optional ParseError) a human-readable reason and the byte
//   offset of the offending header. A malformed archive never crashes, never reads outside the
//   given bytes and never allocates without bound (see Limits).
// - File data is never copied: a regular file's contents are a span into the caller's bytes, which
//   must outlive the Archive (and anything made from it).
// - The index is a tree of nodes (inodes). Each directory keeps its entries sorted by name, so a
//   lookup is a binary search; hard links are several entries naming one node. Node 0 is the root.
// - Semantics follow GNU tar's extraction: leading '/' is dropped; '.' components and repeated
//   slashes vanish; '..' is resolved lexically and rejected when it would leave the root; missing
//   parent directories are implied (mode 0755, owner 0:0, the implying entry's mtime); a later
//   entry for an existing path replaces it (a later directory entry only updates the metadata of
//   an existing directory); hard links name an entry that appeared earlier in the archive.
// - Rejections (errno — reason):
//     EINVAL  header checksum mismatch, bad numeric field, truncated header, data past the end of
//             the archive, malformed pax record, NUL inside a name, an empty name, '..' escaping
//             the root, a non-directory entry naming the root, metadata header with no entry
//     ENAMETOOLONG  a path longer than Limits::max_path_length or a component longer than
//             Limits::max_name_length (also symlink targets longer than max_path_length)
//     ENOTDIR a path going through an entry that is not a directory (a file or a symlink)
//     ENOENT  a hard link to a path that no earlier entry created
//     EPERM   a hard link to a directory
//     ENOSPC  more than Limits::max_nodes nodes (entries plus implied directories)
//     E2BIG   a pax or GNU long-name record larger than Limits::max_metadata_size
//     EOPNOTSUPP  GNU sparse files (old 'S' type or pax GNU.sparse.*), multi-volume continuations
// - Unknown type flags are read as regular files, as POSIX requires; GNU volume labels ('V') are
//   skipped; GNU dump directories ('D') are directories. uname/gname, atime/ctime and unknown pax
//   keys are ignored.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../../error.hpp"

namespace litebox::fs::tar {

namespace detail {
class ArchiveBuilder;
}

/// Bounds on what an archive may make the parser allocate. Each is a guest-growable resource.
struct Limits {
    /// Nodes in the index: entries plus implied directories (~150 bytes each).
    std::size_t max_nodes = std::size_t{1} << 20;
    /// Size of one pax extended header or GNU long name/link record.
    std::size_t max_metadata_size = 64 * 1024;
    /// PATH_MAX: longest entry name, hard-link name or symlink target.
    std::size_t max_path_length = 4096;
    /// NAME_MAX: longest path component.
    std::size_t max_name_length = 255;
};

/// Why parse() rejected an archive.
struct ParseError {
    Errno error = Errno::inval;
    std::string reason;
    /// Byte offset of the header at fault (or of the end of the archive).
    std::uint64_t offset = 0;
};

enum class NodeType : std::uint8_t { regular, directory, symlink, char_device, block_device, fifo };

using NodeId = std::uint32_t;
inline constexpr NodeId root_node = 0;

/// One name in a directory.
struct DirEntry {
    std::string name;
    NodeId node;
};

/// An inode of the archive.
struct Node {
    NodeType type = NodeType::regular;
    std::uint32_t permissions = 0;  // 07777 bits
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::int64_t mtime_seconds = 0;
    std::uint32_t mtime_nanoseconds = 0;
    std::uint32_t link_count = 0;  // names for it (directories: 2 + subdirectories); 0 if replaced
    std::uint64_t data_offset = 0;  // regular files: where the contents start in the archive
    std::uint64_t size = 0;         // regular files: content size; symlinks: target length
    std::uint32_t device_major = 0;
    std::uint32_t device_minor = 0;
    NodeId parent = root_node;       // directories: the directory that holds it ('..')
    std::string link_target;         // symlinks
    std::vector<DirEntry> entries;   // directories: sorted by name, no "." or ".."
    bool implied = false;            // a directory created only because a path went through it
};

class Archive {
public:
    /// Parses and indexes `bytes` (which must outlive the Archive). On failure, `error` (if given)
    /// receives the errno, a reason and the offset.
    static Result<Archive> parse(std::span<const std::byte> bytes, const Limits& limits = {},
                                 ParseError* error = nullptr);

    Archive(Archive&&) noexcept = default;
    Archive& operator=(Archive&&) noexcept = default;
    Archive(const Archive&) = delete;
    Archive& operator=(const Archive&) = delete;

    [[nodiscard]] std::size_t node_count() const noexcept { return m_nodes.size(); }
    [[nodiscard]] const Node& node(NodeId id) const noexcept { return m_nodes[id]; }
    [[nodiscard]] bool valid(NodeId id) const noexcept { return id < m_nodes.size(); }

    /// The entry `name` of directory `dir` (one component; "." and ".." are not entries).
    [[nodiscard]] std::optional<NodeId> lookup(NodeId dir, std::string_view name) const noexcept {
        if (!valid(dir)) return std::nullopt;
        const auto& entries = m_nodes[dir].entries;
        const auto it = std::lower_bound(entries.begin(), entries.end(), name,
                                         [](const DirEntry& e, std::string_view n) { return e.name < n; });
        if (it == entries.end() || it->name != name) return std::nullopt;
        return it->node;
    }

    /// Walks a '/'-separated path from the root without following symlinks ('.', '..' and repeated
    /// slashes allowed; '..' stops at the root). ENOENT / ENOTDIR as path resolution gives them.
    [[nodiscard]] Result<NodeId> lookup_path(std::string_view path) const;

    /// A directory's entries, sorted by name (empty for other nodes).
    [[nodiscard]] std::span<const DirEntry> entries(NodeId dir) const noexcept { return m_nodes[dir].entries; }

    /// A regular file's contents: a view into the archive bytes.
    [[nodiscard]] std::span<const std::byte> data(NodeId id) const noexcept {
        const Node& n = m_nodes[id];
        if (n.type != NodeType::regular) return {};
        return m_bytes.subspan(static_cast<std::size_t>(n.data_offset), static_cast<std::size_t>(n.size));
    }

    /// Copies up to out.size() bytes of a regular file from `offset`; 0 at or past the end.
    [[nodiscard]] std::size_t read(NodeId id, std::uint64_t offset, std::span<std::byte> out) const noexcept {
        const auto contents = data(id);
        if (offset >= contents.size()) return 0;
        const auto n = std::min<std::size_t>(out.size(), contents.size() - static_cast<std::size_t>(offset));
        std::copy_n(contents.begin() + static_cast<std::ptrdiff_t>(offset), n, out.begin());
        return n;
    }

    /// The archive bytes this index refers to.
    [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return m_bytes; }

private:
    friend class detail::ArchiveBuilder;
    Archive() = default;

    std::span<const std::byte> m_bytes;
    std::vector<Node> m_nodes;
};

}  // namespace litebox::fs::tar

#include "detail/parser.hpp"
