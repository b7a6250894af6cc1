// Tmpfs internals: the shared per-instance state (the one lock, counters, quotas) and the inode.
//
// Locking: every node's data is reachable only through data(TmpfsCounters&), and a TmpfsCounters&
// exists only inside the instance lock. Nodes whose last reference may drop while the lock is held
// are moved into a Graveyard declared before the guard, so they are destroyed after unlocking (a
// node's destructor takes the lock to return its storage to the quota).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../sync/mutex.hpp"
#include "../backend.hpp"
#include "clock.hpp"
#include "page_pool.hpp"

namespace litebox::fs::detail {

inline constexpr std::uint64_t tmpfs_page_size = pool_page_size;
/// Linux's BOGO_DIRENT_SIZE: a tmpfs directory's st_size grows by this per entry.
inline constexpr std::int64_t tmpfs_dirent_size = 20;

struct TmpfsQuota {
    std::uint64_t max_bytes;
    std::uint64_t max_inodes;
    std::size_t max_xattr_bytes;
    std::uint64_t max_links;
};

/// The state guarded by an instance's lock (besides every node's data).
struct TmpfsCounters {
    std::uint64_t bytes_used = 0;
    std::uint64_t inodes_used = 0;
    std::uint64_t next_ino = 1;
};

template <platform::RawMutexProvider P>
struct TmpfsShared {
    TmpfsShared(const P& p, TmpfsQuota q) : platform(p), quota(q), pages(p) {}
    const P& platform;
    const TmpfsQuota quota;
    sync::Mutex<P, TmpfsCounters> state;
    PagePool<P> pages;  // file data; outlives every node (each holds this struct)

    [[nodiscard]] fd::Timespec now() const { return wall_clock_now(platform); }
};

template <platform::RawMutexProvider P>
class TmpfsNode final : public Inode<P> {
public:
    using Ptr = typename Inode<P>::Ptr;
    using Shared = TmpfsShared<P>;
    using Graveyard = std::vector<std::shared_ptr<TmpfsNode>>;

    /// The root directory of a new instance (charged one inode).
    static std::shared_ptr<TmpfsNode> make_root(const std::shared_ptr<Shared>& shared, const NewNode& node) {
        auto guard = shared->state.lock();
        guard->inodes_used = 1;
        auto root = std::make_shared<TmpfsNode>(Private{}, shared, guard->next_ino++, node, shared->now());
        root->m_data.nlink = 2;
        root->m_self = root;
        return root;
    }

    /// A regular file with no directory entry (Tmpfs::create_anonymous), charged one inode.
    static Result<std::shared_ptr<TmpfsNode>> make_anonymous(const std::shared_ptr<Shared>& shared, const NewNode& node,
                                                             std::uint32_t seals, bool linkable = false) {
        if (!fs::is_regular(node.mode)) return Errno::inval;
        const auto now = shared->now();
        auto guard = shared->state.lock();
        if (guard->inodes_used >= shared->quota.max_inodes) return Errno::nospc;
        auto file = std::make_shared<TmpfsNode>(Private{}, shared, guard->next_ino++, node, now);
        file->m_self = file;
        file->m_data.nlink = 0;  // unlinked from the start
        file->m_data.seals = seals & seal::all;
        file->m_data.linkable = linkable;
        ++guard->inodes_used;
        return file;
    }

    struct Private {};
    TmpfsNode(Private, std::shared_ptr<Shared> shared, std::uint64_t ino, const NewNode& node, fd::Timespec now)
        : Inode<P>(ino, node.mode), m_shared(std::move(shared)) {
        m_data.perm = node.mode & fd::mode::permissions;
        m_data.uid = node.uid;
        m_data.gid = node.gid;
        m_data.rdev = node.device;
        m_data.atime = m_data.mtime = m_data.ctime = now;
        m_data.nlink = 1;
        if (is_fifo(node.mode) || is_socket(node.mode)) m_attachment = std::make_unique<Attachment<P>>();
    }

    ~TmpfsNode() override {
        Graveyard children;
        {
            auto guard = m_shared->state.lock();
            guard->bytes_used -= std::min(guard->bytes_used, charged_bytes());
            if (guard->inodes_used > 0) --guard->inodes_used;
            take_children(m_data, children);
        }
        // Release the subtree iteratively (a deep tree must not recurse through destructors):
        // a child nobody else holds gives up its own children before it is destroyed.
        while (!children.empty()) {
            std::shared_ptr<TmpfsNode> child = std::move(children.back());
            children.pop_back();
            if (child.use_count() == 1) {
                auto guard = m_shared->state.lock();
                take_children(child->data(*guard), children);
            }
            child.reset();
        }
    }

    // ---- attributes --------------------------------------------------------------------------
    Result<Stat> getattr() override {
        return m_shared->state.with_lock([&](TmpfsCounters& c) -> Result<Stat> {
            const Data& d = data(c);
            Stat st;
            st.inode = this->ino();
            st.mode = this->type() | d.perm;
            st.link_count = d.nlink;
            st.uid = d.uid;
            st.gid = d.gid;
            st.represented_device = d.rdev;
            st.block_size = static_cast<std::int64_t>(tmpfs_page_size);
            if (this->is_directory()) {
                st.size = static_cast<std::int64_t>(d.entries.size() + 2) * tmpfs_dirent_size;
            } else if (this->is_symlink()) {
                st.size = static_cast<std::int64_t>(d.target.size());
            } else {
                st.size = static_cast<std::int64_t>(d.size);
            }
            st.blocks = static_cast<std::int64_t>(stored_bytes(d) / 512);
            st.access_time = d.atime;
            st.modify_time = d.mtime;
            st.change_time = d.ctime;
            return st;
        });
    }

    Result<Ownership> ownership() override {
        return m_shared->state.with_lock([&](TmpfsCounters& c) -> Result<Ownership> {
            const Data& d = data(c);
            return Ownership{this->type() | d.perm, d.uid, d.gid};
        });
    }

    Result<void> setattr(const AttrChange& change) override {
        const auto now = m_shared->now();
        return m_shared->state.with_lock([&](TmpfsCounters& c) -> Result<void> {
            Data& d = data(c);
            if (change.mode) d.perm = *change.mode & fd::mode::permissions;
            if (change.uid) d.uid = *change.uid;
            if (change.gid) d.gid = *change.gid;
            if (change.access_time) d.atime = *change.access_time;
            if (change.modify_time) d.mtime = *change.modify_time;
            d.ctime = now;
            return ok();
        });
    }

    // ---- directories -------------------------------------------------------------------------
    Result<Ptr> lookup(std::string_view name) override {
        return m_shared->state.with_lock([&](TmpfsCounters& c) -> Result<Ptr> {
            Data& d = data(c);
            if (name == "..") {
                if (auto parent = d.parent.lock()) return Ptr(std::move(parent));
                return Ptr(this->shared_from_node());
            }
            if (d.removed) return Errno::noent;
            const auto it = d.entries.find(name);
            if (it == d.entries.end()) return Errno::noent;
            return Ptr(it->second.node);
        });
    }

    Result<Ptr> create(std::string_view name, const NewNode& node) override {
        if (is_directory(node.mode) || is_symlink(node.mode)) return Errno::inval;
        return add_child(name, node, {});
    }
    Result<Ptr> mkdir(std::string_view name, const NewNode& node) override {
        NewNode dir = node;
        dir.mode = fd::mode::directory | (node.mode & fd::mode::permissions);
        return add_child(name, dir, {});
    }
    Result<Ptr> symlink(std::string_view name, std::string_view target, const NewNode& node) override {
        NewNode link = node;
        link.mode = fd::mode::symlink | 0777;
        return add_child(name, link, target);
    }

    Result<void> link(std::string_view name, const Ptr& target) override {
        auto* node = dynamic_cast<TmpfsNode*>(target.get());
        if (!node || node->m_shared != m_shared) return Errno::xdev;
        if (node->is_directory()) return Errno::perm;
        const auto now = m_shared->now();
        return m_shared->state.with_lock([&](TmpfsCounters& c) -> Result<void> {
            Data& d = data(c);
            Data& t = node->data(c);
            if (d.removed) return Errno::noent;
            if (t.nlink == 0 && !t.linkable) return Errno::noent;
            if (t.nlink >= m_shared->quota.max_links) return Errno::mlink;
            if (d.entries.find(name) != d.entries.end()) return Errno::exist;
            insert_entry(d, name, std::static_pointer_cast<TmpfsNode>(target));
            ++t.nlink;
            t.linkable = false;  // an unnamed file is named once; unlinked again, it stays gone
            t.ctime = now;
            d.mtime = d.ctime = now;
            return ok();
        });
    }

    Result<Ptr> create_unnamed(const NewNode& node, bool linkable) override {
        if (!this->is_directory()) return Errno::notdir;
        if (m_shared->state.with_lock([&](TmpfsCounters& c) { return data(c).removed; })) return Errno::noent;
        LITEBOX_TRY_ASSIGN(auto file, make_anonymous(m_shared, node, seal::seal, linkable));
        return Ptr(std::move(file));
    }

    Result<void> unlink(std::string_view name) override { return remove_child(name, false); }
    Result<void> rmdir(std::string_view name) override { return remove_child(name, true); }

    Result<void> rename(std::string_view old_name, Inode<P>& new_dir_base, std::string_view new_name,
                        std::uint32_t flags) override;

    Result<void> readdir(std::uint64_t cookie, fd::DirectorySink& sink) override {
        return m_shared->state.with_lock([&](TmpfsCounters& c) -> Result<void> {
            Data& d = data(c);
            for (auto it = d.by_cookie.lower_bound(std::max<std::uint64_t>(cookie, 1)); it != d.by_cookie.end(); ++it) {
                const auto& entry = *it->second;
                const fd::DirectoryEntry out{entry.first, entry.second.node->ino(), fd::dirent_type::from_mode(entry.second.node->type()),
                                             it->first + 1};
                if (!sink.add(out)) break;
            }
            return ok();
        });
    }

    // ---- symlinks ----------------------------------------------------------------------------
    Result<std::string> readlink() override {
        if (!this->is_symlink()) return Errno::inval;
        return m_shared->state.with_lock([&](TmpfsCounters& c) -> Result<std::string> { return data(c).target; });
    }

    // ---- regular files -----------------------------------------------------------------------
    Result<std::size_t> read(std::span<std::byte> out, std::uint64_t offset) override;
    Result<std::size_t> write(std::span<const std::byte> in, std::uint64_t offset) override {
        if (!this->is_regular()) return Errno::inval;
        const auto now = m_shared->now();
        return m_shared->state.with_lock([&](TmpfsCounters& c) -> Result<std::size_t> { return write_locked(c, in, offset, now); });
    }
    Result<AppendResult> append(std::span<const std::byte> in) override {
        if (!this->is_regular()) return Errno::inval;
        const auto now = m_shared->now();
        return m_shared->state.with_lock([&](TmpfsCounters& c) -> Result<AppendResult> {
            const std::uint64_t end = data(c).size;
            LITEBOX_TRY_ASSIGN(const std::size_t n, write_locked(c, in, end, now));
            return AppendResult{n, end + n};
        });
    }
    Result<void> truncate(std::uint64_t length) override;
    Result<std::uint64_t> seek_data(std::uint64_t offset, bool hole) override;
    Result<std::uint32_t> seals() override {
        if (!this->is_regular()) return Errno::inval;
        return m_shared->state.with_lock([&](TmpfsCounters& c) { return data(c).seals; });
    }
    Result<void> add_seals(std::uint32_t seals) override {
        if (!this->is_regular()) return Errno::inval;
        return m_shared->state.with_lock([&](TmpfsCounters& c) -> Result<void> {
            Data& d = data(c);
            if ((d.seals & seal::seal) != 0) return Errno::perm;
            // The host object enforces the seals on guest mappings (and refuses seal::write while
            // one is writable, as Linux does).
            if (d.store) LITEBOX_TRY(d.store->add_seals(seals & seal::all));
            d.seals |= seals & seal::all;
            return ok();
        });
    }
    Result<std::shared_ptr<SharedStore>> shared_store(const SharedStoreFactory& factory) override;

    // ---- extended attributes -----------------------------------------------------------------
    Result<std::vector<std::byte>> getxattr(std::string_view name) override {
        return m_shared->state.with_lock([&](TmpfsCounters& c) -> Result<std::vector<std::byte>> {
            const Data& d = data(c);
            const auto it = d.xattrs.find(name);
            if (it == d.xattrs.end()) return Errno::nodata;
            return it->second;
        });
    }
    Result<void> setxattr(std::string_view name, std::span<const std::byte> value, int flags) override;
    Result<std::vector<std::string>> listxattr() override {
        return m_shared->state.with_lock([&](TmpfsCounters& c) -> Result<std::vector<std::string>> {
            std::vector<std::string> names;
            for (const auto& [name, value] : data(c).xattrs) names.push_back(name);
            return names;
        });
    }
    Result<void> removexattr(std::string_view name) override {
        const auto now = m_shared->now();
        return m_shared->state.with_lock([&](TmpfsCounters& c) -> Result<void> {
            Data& d = data(c);
            const auto it = d.xattrs.find(name);
            if (it == d.xattrs.end()) return Errno::nodata;
            const std::uint64_t bytes = it->first.size() + it->second.size();
            d.xattr_bytes -= bytes;
            c.bytes_used -= std::min(c.bytes_used, bytes);
            d.xattrs.erase(it);
            d.ctime = now;
            return ok();
        });
    }

    Attachment<P>* attachment() noexcept override { return m_attachment.get(); }

private:
    struct Entry {
        std::shared_ptr<TmpfsNode> node;
        std::uint64_t cookie = 0;
    };
    using EntryMap = std::map<std::string, Entry, std::less<>>;

    struct Data {
        std::uint32_t perm = 0;
        std::uint32_t uid = 0;
        std::uint32_t gid = 0;
        std::uint64_t nlink = 1;
        std::uint64_t rdev = 0;
        fd::Timespec atime, mtime, ctime;
        std::map<std::string, std::vector<std::byte>, std::less<>> xattrs;
        std::uint64_t xattr_bytes = 0;
        // directories
        EntryMap entries;
        std::map<std::uint64_t, typename EntryMap::iterator> by_cookie;
        std::uint64_t next_cookie = 1;
        std::weak_ptr<TmpfsNode> parent;
        bool removed = false;
        bool linkable = false;  // an O_TMPFILE file without O_EXCL, not named yet
        // regular files
        std::map<std::uint64_t, PoolPage<P>> pages;  // empty once the bytes live in `store`
        std::shared_ptr<SharedStore> store;          // see Inode::shared_store
        std::uint64_t size = 0;
        std::uint32_t seals = seal::seal;  // a file made by name can never be sealed (as Linux's shmem)
        // symlinks
        std::string target;
    };

    /// The node's data; the argument proves that the instance lock is held.
    Data& data(TmpfsCounters& /*locked*/) noexcept { return m_data; }

    std::shared_ptr<TmpfsNode> shared_from_node() {
        // Inodes are always owned by shared_ptr; the VFS holds one while calling us.
        return m_self.lock();
    }

    /// Copies the file's bytes at `offset` into `out` (within the size; holes read as zeros).
    static void copy_pages(const Data& d, std::span<std::byte> out, std::uint64_t offset) noexcept {
        std::size_t done = 0;
        auto page = d.pages.lower_bound(offset / tmpfs_page_size);
        while (done < out.size()) {
            const std::uint64_t pos = offset + done;
            const std::uint64_t index = pos / tmpfs_page_size;
            const std::size_t in_page = static_cast<std::size_t>(pos % tmpfs_page_size);
            const std::size_t chunk = std::min<std::size_t>(out.size() - done, tmpfs_page_size - in_page);
            while (page != d.pages.end() && page->first < index) ++page;
            if (page != d.pages.end() && page->first == index) {
                std::memcpy(out.data() + done, page->second.get() + in_page, chunk);
            } else {
                std::memset(out.data() + done, 0, chunk);
            }
            done += chunk;
        }
    }
    /// Whole pages covering `size` bytes, in bytes (what a SharedStore of that size is charged).
    static std::uint64_t whole_pages(std::uint64_t size) noexcept {
        return (size / tmpfs_page_size + (size % tmpfs_page_size != 0 ? 1 : 0)) * tmpfs_page_size;
    }
    /// The bytes of file data charged to the quota: stored pages, or the store's whole size.
    static std::uint64_t stored_bytes(const Data& d) noexcept {
        return d.store ? whole_pages(d.size) : d.pages.size() * tmpfs_page_size;
    }
    std::uint64_t charged_bytes() const noexcept { return stored_bytes(m_data) + m_data.target.size() + m_data.xattr_bytes; }
    /// Charges the growth of a store-backed file from `old_size` to `new_size` (ENOSPC beyond the
    /// quota), or releases what a shrink frees.
    Result<void> recharge_store(TmpfsCounters& c, std::uint64_t old_size, std::uint64_t new_size) const {
        const std::uint64_t before = whole_pages(old_size), after = whole_pages(new_size);
        if (after > before) {
            if (after - before > m_shared->quota.max_bytes - std::min(m_shared->quota.max_bytes, c.bytes_used)) return Errno::nospc;
            c.bytes_used += after - before;
        } else {
            c.bytes_used -= std::min(c.bytes_used, before - after);
        }
        return ok();
    }

    static void insert_entry(Data& d, std::string_view name, std::shared_ptr<TmpfsNode> node) {
        const std::uint64_t cookie = d.next_cookie++;
        auto [it, inserted] = d.entries.emplace(std::string(name), Entry{std::move(node), cookie});
        d.by_cookie.emplace(cookie, it);
    }
    static void take_children(Data& d, Graveyard& out) {
        for (auto& [name, entry] : d.entries) out.push_back(std::move(entry.node));
        d.by_cookie.clear();
        d.entries.clear();
    }
    /// Removes the entry at `it`, moving its node reference into `graveyard`.
    static void erase_entry(Data& d, typename EntryMap::iterator it, Graveyard& graveyard) {
        d.by_cookie.erase(it->second.cookie);
        graveyard.push_back(std::move(it->second.node));
        d.entries.erase(it);
    }

    Result<Ptr> add_child(std::string_view name, const NewNode& node, std::string_view symlink_target);
    Result<void> remove_child(std::string_view name, bool directory);
    Result<std::size_t> write_locked(TmpfsCounters& c, std::span<const std::byte> in, std::uint64_t offset, fd::Timespec now);

    std::shared_ptr<Shared> m_shared;
    std::weak_ptr<TmpfsNode> m_self;
    std::unique_ptr<Attachment<P>> m_attachment;
    Data m_data;                       // guarded by m_shared->state
};

}  // namespace litebox::fs::detail

#include "tmpfs_node_impl.hpp"
