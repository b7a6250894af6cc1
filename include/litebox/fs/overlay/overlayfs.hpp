// OverlayFs<P>: a writable upper file system (usually a Tmpfs) over a read-only lower one (a TarFs,
// or any backend), as Linux's overlayfs presents them.
//
// Contract (beyond backend.hpp's):
// - The view: a name shows the upper entry if there is one, else the lower entry, unless the name
//   is whited out. Directories present in both are merged; an opaque directory shows only its
//   upper entries; a merged directory reports st_nlink 1, as overlayfs does (find(1) then does
//   not rely on the count). The lower file system is never written; it must not change while mounted. The
//   upper must start empty: whiteouts, opaque flags and copy-up origins live in the overlay's
//   memory (nothing the guest can forge or see, unlike overlayfs's xattrs and 0/0 devices).
// - Copy-up: before an entry of lower origin is changed — written, truncated, opened for writing
//   (Inode::prepare_write), chmod/chown/utimens (setattr), extended attributes set or removed,
//   hard-linked, renamed — it is copied to the upper with its type, mode (set-id bits included),
//   owner, times, symlink target, device number, extended attributes and contents (holes stay
//   holes; truncation to 0 copies no data). Its parent directories are copied up first. Permission
//   checks happen in the VFS before the backend is called, so they always see the entry as it was
//   in the lower (the copy-up never runs for a caller who may not make the change).
// - Deleting an entry of lower origin leaves a whiteout; creating a name over a whiteout replaces
//   it, and a directory created there is opaque (rmdir then mkdir of a lower directory does not
//   resurrect its old entries).
// - readdir merges: lower entries first (cookies are the lower's, below 2^61), then upper entries
//   (2^61 + the upper's cookie). Whiteouts hide lower entries, upper entries shadow lower ones, an
//   entry copied up during a listing is still reported once (in the lower part).
// - Inode numbers: (lower ino << 1) | 1 for entries of lower origin (kept across copy-up and
//   rename), upper ino << 1 for entries created in the overlay; unique per mount while the
//   backends' numbers stay below 2^63.
// - Known differences from Linux overlayfs (documented behaviour, not bugs):
//   * renaming a directory that has lower content fails with EXDEV (overlayfs without
//     redirect_dir does the same; `mv` then copies);
//   * copy-up breaks hard links between lower entries (overlayfs without index=on does the same);
//   * a lower file that is unlinked while open and only then written fails with ESTALE (the VFS
//     copies up at open for writing, so this needs a file opened read-only and written through
//     another path — not reachable through open(2)).
// - One lock per instance guards the overlay's state; it is held while calling into the upper and
//   lower backends (never the other way round), and released before file data is read or written.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

#include "../../platform/concepts.hpp"
#include "../backend.hpp"
#include "detail/overlay_node.hpp"

namespace litebox::fs {

template <platform::RawMutexProvider P>
    requires platform::TimeProvider<P>
class OverlayFs final : public FileSystem<P> {
    using Node = detail::OverlayNode<P>;
    using Shared = detail::OverlayShared<P>;

public:
    /// An overlay of `upper` (writable, empty) over `lower`. EINVAL when upper is read-only or
    /// either is missing. The platform must outlive the overlay and every inode of it.
    static Result<std::shared_ptr<OverlayFs>> create(const P& platform, std::shared_ptr<FileSystem<P>> upper,
                                                     std::shared_ptr<FileSystem<P>> lower) {
        if (!upper || !lower || upper->read_only()) return Errno::inval;
        auto shared = std::make_shared<Shared>(platform, upper, lower);
        auto root = Node::make_root(shared, upper->root(), lower->root());
        return std::shared_ptr<OverlayFs>(new OverlayFs(std::move(shared), std::move(root)));
    }

    typename Inode<P>::Ptr root() override { return m_root; }

    /// The upper's totals (that is where writes go), with overlayfs's magic.
    Result<StatFs> statfs() override {
        LITEBOX_TRY_ASSIGN(StatFs s, m_shared->upper->statfs());
        s.type = fs_magic::overlay;
        s.fsid = this->device();
        return s;
    }

    [[nodiscard]] std::string_view type_name() const noexcept override { return "overlay"; }

    /// How many entries have been copied up so far (for tests and diagnostics).
    [[nodiscard]] std::uint64_t copy_ups() const {
        return m_shared->state.with_lock([](detail::OverlayState& s) { return s.copy_ups; });
    }

private:
    OverlayFs(std::shared_ptr<Shared> shared, std::shared_ptr<Node> root) : m_shared(std::move(shared)), m_root(std::move(root)) {}

    std::shared_ptr<Shared> m_shared;
    std::shared_ptr<Node> m_root;
};

}  // namespace litebox::fs
