// Tmpfs<P>: the in-memory file system — files, directories, symlinks, hard links, FIFOs, sockets
// and device nodes, with sparse files and byte and inode quotas.
//
// Contract (beyond backend.hpp's): file data lives in pages of tmpfs_page_size bytes allocated on
// first write; holes (from truncate or writes past the end) use no storage and read as zeros, and
// st_blocks counts only stored pages. The byte quota counts stored pages, symlink targets and
// extended attributes; the inode quota counts live inodes (an unlinked file still open counts until
// it is released). Exceeding either fails with ENOSPC and changes nothing. A file asked for a
// SharedStore (Inode::shared_store: a runtime's writable shared mapping) moves its bytes there for
// good; from then on reads, writes, truncation and seals go to the store, st_blocks and the quota
// count its whole size, and SEEK_HOLE finds no holes. Lookup by name is
// O(log n); readdir resumes in O(log n) from a stable per-directory cookie. Timestamps come from the
// platform's current_time(). One lock per instance guards all of its state. Pages come from the
// instance's PagePool (detail/page_pool.hpp: slabs from the platform's PageMemoryProvider when it
// has one); when the host has no memory left a write stores what it could and reports that short
// count, or fails with ENOMEM having stored nothing.
#pragma once

#include <cstdint>
#include <memory>

#include "../platform/concepts.hpp"
#include "backend.hpp"
#include "detail/tmpfs_node.hpp"

namespace litebox::fs {

/// Default byte quota of a tmpfs instance.
inline constexpr std::uint64_t default_tmpfs_max_bytes = 256ULL << 20;
/// Default inode quota of a tmpfs instance.
inline constexpr std::uint64_t default_tmpfs_max_inodes = 1ULL << 16;
/// Default largest total size of one inode's extended attributes (XATTR_SIZE_MAX).
inline constexpr std::size_t default_tmpfs_max_xattr_bytes = 64 * 1024;
/// Default link-count limit (EMLINK beyond it).
inline constexpr std::uint64_t default_tmpfs_max_links = 65000;

/// The named, configurable limits of one tmpfs instance.
struct TmpfsLimits {
    std::uint64_t max_bytes = default_tmpfs_max_bytes;
    std::uint64_t max_inodes = default_tmpfs_max_inodes;
    std::size_t max_xattr_bytes = default_tmpfs_max_xattr_bytes;
    std::uint64_t max_links = default_tmpfs_max_links;
};

template <platform::RawMutexProvider P>
    requires platform::TimeProvider<P>
class Tmpfs final : public FileSystem<P> {
    using Node = detail::TmpfsNode<P>;
    using Shared = detail::TmpfsShared<P>;

public:
    /// A new, empty instance whose root directory has `root_mode` permissions and owner uid/gid.
    /// The platform must outlive the instance and every inode of it.
    static std::shared_ptr<Tmpfs> create(const P& platform, TmpfsLimits limits = {}, std::uint32_t root_mode = 01777,
                                         std::uint32_t root_uid = 0, std::uint32_t root_gid = 0) {
        auto shared = std::make_shared<Shared>(platform, detail::TmpfsQuota{limits.max_bytes, limits.max_inodes,
                                                                            limits.max_xattr_bytes, limits.max_links});
        auto root = Node::make_root(shared, NewNode{fd::mode::directory | (root_mode & fd::mode::permissions), root_uid, root_gid, 0});
        return std::shared_ptr<Tmpfs>(new Tmpfs(std::move(shared), std::move(root)));
    }

    typename Inode<P>::Ptr root() override { return m_root; }

    Result<StatFs> statfs() override {
        return m_shared->state.with_lock([&](detail::TmpfsCounters& c) {
            StatFs s;
            s.type = fs_magic::tmpfs;
            s.block_size = detail::tmpfs_page_size;
            s.fragment_size = detail::tmpfs_page_size;
            s.blocks = m_shared->quota.max_bytes / detail::tmpfs_page_size;
            const std::uint64_t used_blocks = (c.bytes_used + detail::tmpfs_page_size - 1) / detail::tmpfs_page_size;
            s.blocks_free = s.blocks > used_blocks ? s.blocks - used_blocks : 0;
            s.blocks_available = s.blocks_free;
            s.files = m_shared->quota.max_inodes;
            s.files_free = s.files > c.inodes_used ? s.files - c.inodes_used : 0;
            s.fsid = this->device();
            return s;
        });
    }

    [[nodiscard]] std::string_view type_name() const noexcept override { return "tmpfs"; }

    /// A new regular file with no name in the tree (memfd_create's): reached only through the
    /// returned inode, charged to the quotas like any file until its last reference goes. Its link
    /// count is 0 (as Linux shows a memfd's), so it can never be linked. `seals`: its first seals (a file made by name
    /// starts with seal::seal and so can never be sealed, as on Linux). ENOSPC past the inode quota.
    Result<typename Inode<P>::Ptr> create_anonymous(const NewNode& node, std::uint32_t seals = seal::seal) {
        LITEBOX_TRY_ASSIGN(auto file, Node::make_anonymous(m_shared, node, seals));
        return typename Inode<P>::Ptr(std::move(file));
    }

    /// Bytes charged to the quota (stored pages, symlink targets, xattrs).
    [[nodiscard]] std::uint64_t bytes_used() const {
        return m_shared->state.with_lock([](detail::TmpfsCounters& c) { return c.bytes_used; });
    }
    /// Live inodes, the root included.
    [[nodiscard]] std::uint64_t inodes_used() const {
        return m_shared->state.with_lock([](detail::TmpfsCounters& c) { return c.inodes_used; });
    }

private:
    Tmpfs(std::shared_ptr<Shared> shared, std::shared_ptr<Node> root) : m_shared(std::move(shared)), m_root(std::move(root)) {}

    std::shared_ptr<Shared> m_shared;
    std::shared_ptr<Node> m_root;
};

}  // namespace litebox::fs
