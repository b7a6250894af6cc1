// OverlayFs internals: the per-instance state and the overlay inode.
//
// Locking: the instance lock (OverlayShared::state) guards every node's Data, reachable only
// through data(OverlayState&); an OverlayState& exists only inside that lock. The lock is taken
// before any upper or lower backend call that must be atomic with the overlay's bookkeeping, and
// never while a backend calls back (backends never call the overlay). Node destructors take no
// lock. Directory nodes are held strongly by their parent (they carry the whiteout marks), other
// nodes weakly; a child holds its parent weakly.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../../sync/mutex.hpp"
#include "../../backend.hpp"
#include "../../detail/clock.hpp"

namespace litebox::fs::detail {

/// What the overlay remembers about one name of a directory.
struct OverlayMark {
    enum class Kind : std::uint8_t {
        whiteout,  // the lower entry is deleted; there is no upper entry
        copied,    // the upper entry is the copy-up of the lower entry of the same name
        replaced,  // the upper entry hides an unrelated lower entry (ino: the upper entry's number)
        origin,    // no lower entry; the upper entry keeps an inode number from elsewhere (rename)
    };
    Kind kind = Kind::whiteout;
    std::uint64_t ino = 0;       // copied, replaced, origin: the overlay inode number of the entry
    bool lower_origin = false;   // the entry came from the lower (at this or another name)
};

/// Counters guarded by the instance lock (besides every node's Data).
struct OverlayState {
    std::uint64_t copy_ups = 0;
};

/// Cookies of upper entries in a merged listing start here; lower cookies stay below.
inline constexpr std::uint64_t overlay_upper_cookie_base = std::uint64_t{1} << 61;
/// Bytes copied per step of a copy-up.
inline constexpr std::size_t overlay_copy_chunk = 64 * 1024;

constexpr std::uint64_t overlay_upper_ino(std::uint64_t ino) noexcept { return ino << 1; }
constexpr std::uint64_t overlay_lower_ino(std::uint64_t ino) noexcept { return (ino << 1) | 1; }

template <platform::RawMutexProvider P>
struct OverlayShared {
    OverlayShared(const P& p, std::shared_ptr<FileSystem<P>> u, std::shared_ptr<FileSystem<P>> l)
        : platform(p), upper(std::move(u)), lower(std::move(l)) {}
    const P& platform;
    const std::shared_ptr<FileSystem<P>> upper;
    const std::shared_ptr<FileSystem<P>> lower;
    sync::Mutex<P, OverlayState> state;
};

template <platform::RawMutexProvider P>
class OverlayNode final : public Inode<P> {
public:
    using Ptr = typename Inode<P>::Ptr;
    using Shared = OverlayShared<P>;
    using NodePtr = std::shared_ptr<OverlayNode>;

    struct Private {};
    OverlayNode(Private, std::shared_ptr<Shared> shared, std::uint64_t ino, std::uint32_t type)
        : Inode<P>(ino, type), m_shared(std::move(shared)) {}

    static NodePtr make_root(const std::shared_ptr<Shared>& shared, Ptr upper_root, Ptr lower_root) {
        auto root = std::make_shared<OverlayNode>(Private{}, shared, overlay_lower_ino(lower_root->ino()), fd::mode::directory);
        root->m_self = root;
        shared->state.with_lock([&](OverlayState& s) {
            Data& d = root->data(s);
            d.upper = std::move(upper_root);
            d.lower = std::move(lower_root);
        });
        return root;
    }

    // ---- attributes --------------------------------------------------------------------------
    Result<Stat> getattr() override {
        Ptr backing;
        bool merged = false;
        {
            auto guard = m_shared->state.lock();
            Data& d = data(*guard);
            backing = d.upper ? d.upper : d.lower;
            merged = d.upper && lower_visible(*guard);
        }
        LITEBOX_TRY_ASSIGN(Stat st, backing->getattr());
        st.inode = this->ino();
        if (merged) st.link_count = 1;  // as overlayfs: subdirectories of a merged directory are not counted
        return st;
    }
    Result<Ownership> ownership() override { return current()->ownership(); }
    Result<void> setattr(const AttrChange& change) override {
        LITEBOX_TRY_ASSIGN(const Ptr upper, copied_up(false));
        return upper->setattr(change);
    }
    Result<void> prepare_write(bool truncating) override {
        if (!this->is_regular()) return ok();
        LITEBOX_TRY(copied_up(truncating));
        return ok();
    }

    // ---- directories -------------------------------------------------------------------------
    Result<Ptr> lookup(std::string_view name) override {
        auto guard = m_shared->state.lock();
        LITEBOX_TRY_ASSIGN(NodePtr child, child_locked(*guard, name));
        return Ptr(std::move(child));
    }
    Result<Ptr> create(std::string_view name, const NewNode& node) override {
        return add_entry(name, [&](Inode<P>& upper_dir) { return upper_dir.create(name, node); });
    }
    Result<Ptr> mkdir(std::string_view name, const NewNode& node) override {
        return add_entry(name, [&](Inode<P>& upper_dir) { return upper_dir.mkdir(name, node); });
    }
    Result<Ptr> symlink(std::string_view name, std::string_view target, const NewNode& node) override {
        return add_entry(name, [&](Inode<P>& upper_dir) { return upper_dir.symlink(name, target, node); });
    }
    /// O_TMPFILE: the directory is copied up and the upper layer makes the unnamed file (EOPNOTSUPP
    /// where it cannot); link() later names it like any upper file.
    Result<Ptr> create_unnamed(const NewNode& node, bool linkable) override;
    Result<void> link(std::string_view name, const Ptr& target) override;
    Result<void> unlink(std::string_view name) override { return remove(name, false); }
    Result<void> rmdir(std::string_view name) override { return remove(name, true); }
    Result<void> rename(std::string_view old_name, Inode<P>& new_dir, std::string_view new_name,
                        std::uint32_t flags) override;
    Result<void> readdir(std::uint64_t cookie, fd::DirectorySink& sink) override;

    // ---- symlinks and data -------------------------------------------------------------------
    Result<std::string> readlink() override { return current()->readlink(); }
    Result<std::size_t> read(std::span<std::byte> out, std::uint64_t offset) override { return current()->read(out, offset); }
    Result<std::shared_ptr<const hostfs::HostFileHandle>> host_file() override { return current()->host_file(); }
    Result<std::span<const std::byte>> immutable_contents() override { return current()->immutable_contents(); }
    Result<std::shared_ptr<SharedStore>> shared_store(const SharedStoreFactory& factory) override {
        if (!factory) return current()->shared_store(factory);
        LITEBOX_TRY_ASSIGN(const Ptr upper, copied_up(false));  // the store will be written
        return upper->shared_store(factory);
    }
    Result<std::size_t> write(std::span<const std::byte> in, std::uint64_t offset) override {
        LITEBOX_TRY_ASSIGN(const Ptr upper, copied_up(false));
        return upper->write(in, offset);
    }
    Result<AppendResult> append(std::span<const std::byte> in) override {
        LITEBOX_TRY_ASSIGN(const Ptr upper, copied_up(false));
        return upper->append(in);
    }
    Result<void> truncate(std::uint64_t length) override {
        LITEBOX_TRY_ASSIGN(const Ptr upper, copied_up(length == 0));
        return upper->truncate(length);
    }
    Result<std::uint64_t> seek_data(std::uint64_t offset, bool hole) override { return current()->seek_data(offset, hole); }
    Result<void> sync() override { return current()->sync(); }

    // ---- extended attributes -----------------------------------------------------------------
    Result<std::vector<std::byte>> getxattr(std::string_view name) override { return current()->getxattr(name); }
    Result<void> setxattr(std::string_view name, std::span<const std::byte> value, int flags) override {
        LITEBOX_TRY_ASSIGN(const Ptr upper, copied_up(false));
        return upper->setxattr(name, value, flags);
    }
    Result<std::vector<std::string>> listxattr() override { return current()->listxattr(); }
    Result<void> removexattr(std::string_view name) override {
        LITEBOX_TRY_ASSIGN(const Ptr upper, copied_up(false));
        return upper->removexattr(name);
    }

    /// FIFOs and sockets: created in the overlay, the upper's slot (it lives with the upper inode);
    /// of lower origin, a slot of the overlay node (a copy-up must not split a FIFO's rendezvous).
    Attachment<P>* attachment() noexcept override {
        if (!is_fifo(this->type()) && !is_socket(this->type())) return nullptr;
        auto guard = m_shared->state.lock();
        Data& d = data(*guard);
        if (!d.lower_origin && d.upper) return d.upper->attachment();
        if (!m_attachment) m_attachment = std::make_unique<Attachment<P>>();
        return m_attachment.get();
    }

private:
    struct Data {
        Ptr upper;                     // the upper inode, once there is one
        Ptr lower;                     // the lower inode (directories: the one merged in)
        bool lower_origin = false;     // the entry came from the lower (copied up or not)
        bool opaque = false;           // directories: the lower is not merged
        bool removed = false;          // unlinked (or rmdir'ed) name: no copy-up, no new entries
        std::weak_ptr<OverlayNode> parent;
        std::string name;
        std::map<std::string, OverlayMark, std::less<>> marks;            // directories
        std::map<std::string, NodePtr, std::less<>> child_dirs;           // directories: strong
        std::map<std::string, std::weak_ptr<OverlayNode>, std::less<>> child_others;  // weak
    };

    Data& data(OverlayState& /*proof of the lock*/) noexcept { return m_data; }
    NodePtr self() const { return m_self.lock(); }

    /// The inode that currently backs this one (upper if copied up, else lower).
    Ptr current() {
        auto guard = m_shared->state.lock();
        Data& d = data(*guard);
        return d.upper ? d.upper : d.lower;
    }

    /// Copies this node up (if needed) and returns its upper inode.
    Result<Ptr> copied_up(bool skip_data) {
        auto guard = m_shared->state.lock();
        LITEBOX_TRY(copy_up(*guard, skip_data));
        return data(*guard).upper;
    }

    Result<NodePtr> child_locked(OverlayState& s, std::string_view name);
    [[nodiscard]] bool lower_visible(OverlayState& s) { return data(s).lower && !data(s).opaque && this->is_directory(); }
    /// True when the lower has an entry `name` that the view must keep hidden once `child` is gone.
    bool lower_has(OverlayState& s, std::string_view name, const NodePtr& child);
    Result<void> copy_up(OverlayState& s, bool skip_data);
    Result<Ptr> copy_up_entry(OverlayState& s, Inode<P>& upper_dir, const Stat& st, bool skip_data);
    Result<void> copy_contents(Inode<P>& from, Inode<P>& to, std::uint64_t size);
    Result<bool> is_empty(OverlayState& s);
    void forget_child(OverlayState& s, std::string_view name);
    void remember_child(OverlayState& s, std::string_view name, const NodePtr& child);
    /// Records what the view must know after the upper entry `upper` (overlay number `ino`) was put
    /// at `name` by link or rename.
    void set_mark_for_placed(OverlayState& s, std::string_view name, bool lower_had, std::uint64_t ino, bool lower_origin,
                             const Ptr& upper);
    NodePtr make_node(std::uint64_t ino, std::uint32_t type) const {
        auto node = std::make_shared<OverlayNode>(Private{}, m_shared, ino, type);
        node->m_self = node;
        return node;
    }
    Result<void> touch_upper(OverlayState& s);

    template <typename Make>
    Result<Ptr> add_entry(std::string_view name, Make&& make);
    Result<void> remove(std::string_view name, bool directory);

    std::shared_ptr<Shared> m_shared;
    std::weak_ptr<OverlayNode> m_self;
    Data m_data;
    std::unique_ptr<Attachment<P>> m_attachment;  // guarded by the instance lock
};

}  // namespace litebox::fs::detail

#include "overlay_node_impl.hpp"
