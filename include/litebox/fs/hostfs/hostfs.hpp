// HostFs<P>: a directory of the host, mounted through the platform's HostFsRequest punchthrough.
//
// Contract (beyond backend.hpp's):
// - Every host access is one punchthrough request naming the operation and a path relative to the
//   host directory (see operations.hpp); the platform's policy decides. A request the platform
//   refuses (no token) fails with EACCES; the host's own errors are passed through. A platform
//   without the operation cannot instantiate HostFs (a compile-time error), and one that denies
//   everything (the minimal and std platforms) makes every lookup fail with EACCES.
// - A read-only mount (create(..., read_only = true)) makes read_only() true, so the VFS fails every
//   change with EROFS before asking; the policy refuses writes as well.
// - The host is authoritative: every lookup re-reads the host entry (an entry replaced on the host
//   gets a new Inode). Inode numbers and owners are the host's; a new file is owned by whoever runs
//   the box (the NewNode owner is not applied). Symlinks are never followed by the host: the VFS
//   reads them and resolves their targets inside the box.
// - readdir cookies are stable per directory Inode: each name gets the next number the first time
//   it is listed, so entries that stay are reported once while others come and go.
// - An open file stays the file it was: when a regular file whose Inode is in use (an open
//   description holds it) is unlinked or replaced by a rename in the box, the inode first asks the
//   platform to hold the host file (HostOp::hold), and from then on reads, writes, truncation,
//   attribute changes and stat go to the held file instead of the path -- as on Linux, where the
//   descriptor keeps the unlinked file. A held file cannot be linked again (ENOENT) or mapped by
//   the host (host_file() is EOPNOTSUPP, so a runtime copies its bytes). At most max_held files of
//   a mount are held at once (create(); hostfs_max_held by default). Every request by path on an
//   existing file names the inode the box knows, so a file that is not held -- past the limit, or
//   replaced on the host -- fails with ESTALE (or ENOENT) instead of reaching whatever file took
//   its name.
// - Limits: each read or write request moves at most hostfs_max_transfer bytes; a listing holds at
//   most hostfs_max_entries names (EOVERFLOW beyond).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../platform/concepts.hpp"
#include "../../platform/punchthrough.hpp"
#include "../../sync/mutex.hpp"
#include "../backend.hpp"
#include "operations.hpp"

namespace litebox::fs {

/// Largest read or write of one host request.
inline constexpr std::size_t hostfs_max_transfer = 1u << 20;
/// Files of one mount that the box holds at once after unlinking or replacing them while they are
/// open (HostOp::hold): each keeps one host descriptor.
inline constexpr std::size_t hostfs_max_held = 256;
/// Largest host directory listing (names per directory).
inline constexpr std::size_t hostfs_max_entries = hostfs::max_listing;

template <typename P>
concept HostFsPlatform = platform::RawMutexProvider<P> && platform::SupportsPunchthrough<P, hostfs::HostFsRequest>;

namespace detail {

template <typename P>
class HostInode;

template <typename P>
struct HostShared {
    HostShared(const P& p, bool ro, std::size_t held) : platform(p), read_only(ro), max_held(held) {}
    const P& platform;
    const bool read_only;
    const std::size_t max_held;             // files held at once (HostOp::hold)
    std::atomic<std::size_t> held_count{0};
    /// Live inodes by path; also guards every HostInode's path and cookie table.
    struct State {
        std::map<std::string, std::weak_ptr<HostInode<P>>, std::less<>> by_path;
    };
    sync::Mutex<P, State> state;

    /// Asks the platform; a refusal is EACCES.
    Result<hostfs::HostFsReply> request(hostfs::HostFsRequest r) const {
        auto outcome = platform::request_punchthrough(platform, std::move(r));
        if (!outcome) return Errno::acces;
        if (outcome->has_value()) return std::move(outcome->value());
        const auto& error = outcome->error();
        if (error.kind() == platform::PunchthroughErrorKind::failure && error.failure()) return *error.failure();
        return error.kind() == platform::PunchthroughErrorKind::unimplemented ? Errno::nosys : Errno::opnotsupp;
    }
};

inline std::string host_join(std::string_view dir, std::string_view name) {
    if (dir.empty()) return std::string(name);
    std::string out(dir);
    out += '/';
    out += name;
    return out;
}

template <typename P>
class HostInode final : public Inode<P> {
public:
    using Ptr = typename Inode<P>::Ptr;
    using Shared = HostShared<P>;

    HostInode(std::shared_ptr<Shared> shared, std::string path, const Stat& st)
        : Inode<P>(st.inode, st.mode), m_shared(std::move(shared)), m_path(std::move(path)) {
        if (is_fifo(st.mode)) m_attachment = std::make_unique<Attachment<P>>();
    }
    HostInode(const HostInode&) = delete;
    HostInode& operator=(const HostInode&) = delete;
    ~HostInode() override {
        if (m_held) m_shared->held_count.fetch_sub(1, std::memory_order_relaxed);
    }

    /// The inode for `path`: re-reads the host entry, reuses the live Inode if it is still the same.
    static Result<Ptr> get(const std::shared_ptr<Shared>& shared, const std::string& path) {
        hostfs::HostFsRequest r;
        r.op = hostfs::HostOp::lstat;
        r.path = path;
        LITEBOX_TRY_ASSIGN(const hostfs::HostFsReply reply, shared->request(std::move(r)));
        return shared->state.with_lock([&](typename Shared::State& s) -> Ptr {
            auto& slot = s.by_path[path];
            if (auto live = slot.lock()) {
                if (live->ino() == reply.stat.inode && live->type() == (reply.stat.mode & fd::mode::type_mask)) return live;
            }
            auto made = std::make_shared<HostInode>(shared, path, reply.stat);
            slot = made;
            return made;
        });
    }

    Result<Stat> getattr() override {
        LITEBOX_TRY_ASSIGN(auto r, request(hostfs::HostOp::lstat));
        LITEBOX_TRY_ASSIGN(hostfs::HostFsReply reply, m_shared->request(std::move(r)));
        reply.stat.device = 0;
        return reply.stat;
    }
    Result<void> setattr(const AttrChange& change) override {
        if (change.mode) {
            LITEBOX_TRY_ASSIGN(auto r, request(hostfs::HostOp::chmod));
            r.mode = *change.mode & fd::mode::permissions;
            LITEBOX_TRY(m_shared->request(std::move(r)));
        }
        if (change.uid || change.gid) {
            LITEBOX_TRY_ASSIGN(auto r, request(hostfs::HostOp::chown));
            if (change.uid) r.uid = *change.uid;
            if (change.gid) r.gid = *change.gid;
            LITEBOX_TRY(m_shared->request(std::move(r)));
        }
        if (change.access_time || change.modify_time) {
            LITEBOX_TRY_ASSIGN(auto r, request(hostfs::HostOp::utimens));
            if (change.access_time) r.atime = *change.access_time;
            if (change.modify_time) r.mtime = *change.modify_time;
            LITEBOX_TRY(m_shared->request(std::move(r)));
        }
        return ok();
    }

    // ---- directories -------------------------------------------------------------------------
    Result<Ptr> lookup(std::string_view name) override {
        if (!this->is_directory()) return Errno::notdir;
        if (stale()) return Errno::noent;  // a removed directory has no entries
        const std::string dir = path();
        if (name == "..") {
            const auto slash = dir.rfind('/');
            return get(m_shared, slash == std::string::npos ? std::string() : dir.substr(0, slash));
        }
        return get(m_shared, host_join(dir, name));
    }
    Result<Ptr> create(std::string_view name, const NewNode& node) override {
        if (!is_regular(node.mode) && !is_fifo(node.mode)) return Errno::perm;  // no devices or sockets on the host
        auto r = child_request(hostfs::HostOp::create, name);
        r.mode = node.mode;
        return make_child(std::move(r));
    }
    Result<Ptr> mkdir(std::string_view name, const NewNode& node) override {
        auto r = child_request(hostfs::HostOp::mkdir, name);
        r.mode = node.mode & fd::mode::permissions;
        return make_child(std::move(r));
    }
    Result<Ptr> symlink(std::string_view name, std::string_view target, const NewNode& /*node*/) override {
        auto r = child_request(hostfs::HostOp::symlink, name);
        r.path2.assign(target);
        return make_child(std::move(r));
    }
    Result<void> link(std::string_view name, const Ptr& target) override {
        auto* t = dynamic_cast<HostInode*>(target.get());
        if (!t || t->m_shared != m_shared) return Errno::xdev;
        if (t->held() || t->stale() || stale()) return Errno::noent;  // Linux: no new link to a file without one
        LITEBOX_TRY_ASSIGN(auto r, t->request(hostfs::HostOp::link));
        r.path2 = host_join(path(), name);
        LITEBOX_TRY(m_shared->request(std::move(r)));
        return ok();
    }
    Result<void> unlink(std::string_view name) override { return remove(hostfs::HostOp::unlink, name); }
    Result<void> rmdir(std::string_view name) override { return remove(hostfs::HostOp::rmdir, name); }
    Result<void> rename(std::string_view old_name, Inode<P>& new_dir, std::string_view new_name, std::uint32_t flags) override {
        auto* nd = dynamic_cast<HostInode*>(&new_dir);
        if (!nd || nd->m_shared != m_shared) return Errno::xdev;
        if (stale() || nd->stale()) return Errno::noent;
        const std::string from = host_join(path(), old_name);
        const std::string to = host_join(nd->path(), new_name);
        auto r = child_request(hostfs::HostOp::rename, old_name);
        r.path2 = to;
        r.flags = flags;
        Victim victim = (flags & rename_flags::exchange) == 0 && from != to ? hold_if_in_use(to) : Victim{};
        if (auto done = m_shared->request(std::move(r)); !done) {
            release(victim);
            return done.error();
        }
        // Live inodes below the old name now live below the new one (and an exchange swaps).
        m_shared->state.with_lock([&](typename Shared::State& s) {
            orphan(s, to, victim);
            const bool exchange = (flags & rename_flags::exchange) != 0;
            std::vector<std::pair<std::string, std::weak_ptr<HostInode>>> moved;
            for (auto it = s.by_path.begin(); it != s.by_path.end();) {
                const std::string& key = it->first;
                const auto under = [&](const std::string& base) {
                    return key == base || (key.size() > base.size() && key.compare(0, base.size(), base) == 0 && key[base.size()] == '/');
                };
                std::string renamed;
                if (under(from)) renamed = to + key.substr(from.size());
                else if (under(to)) renamed = exchange ? from + key.substr(to.size()) : std::string();
                else {
                    ++it;
                    continue;
                }
                if (!renamed.empty()) {
                    if (auto live = it->second.lock()) live->m_path = renamed;
                    moved.emplace_back(std::move(renamed), std::move(it->second));
                }
                it = s.by_path.erase(it);
            }
            for (auto& [key, node] : moved) s.by_path.insert_or_assign(std::move(key), std::move(node));
        });
        return ok();
    }
    Result<void> readdir(std::uint64_t cookie, fd::DirectorySink& sink) override;

    // ---- symlinks and data -------------------------------------------------------------------
    Result<std::string> readlink() override {
        if (!this->is_symlink()) return Errno::inval;
        LITEBOX_TRY_ASSIGN(auto r, request(hostfs::HostOp::readlink));
        LITEBOX_TRY_ASSIGN(hostfs::HostFsReply reply, m_shared->request(std::move(r)));
        return std::move(reply.text);
    }
    Result<std::size_t> read(std::span<std::byte> out, std::uint64_t offset) override {
        if (this->is_directory()) return Errno::isdir;
        LITEBOX_TRY_ASSIGN(auto r, request(hostfs::HostOp::read));
        r.offset = offset;
        r.out = out.first(std::min(out.size(), hostfs_max_transfer));
        LITEBOX_TRY_ASSIGN(const hostfs::HostFsReply reply, m_shared->request(std::move(r)));
        return reply.count;
    }
    Result<std::size_t> write(std::span<const std::byte> in, std::uint64_t offset) override {
        if (this->is_directory()) return Errno::isdir;
        std::size_t done = 0;
        while (done < in.size()) {
            LITEBOX_TRY_ASSIGN(auto r, request(hostfs::HostOp::write));
            r.offset = offset + done;
            r.in = in.subspan(done, std::min(in.size() - done, hostfs_max_transfer));
            LITEBOX_TRY_ASSIGN(const hostfs::HostFsReply reply, m_shared->request(std::move(r)));
            if (reply.count == 0) return Errno::io;
            done += reply.count;
        }
        return done;
    }
    Result<void> truncate(std::uint64_t length) override {
        LITEBOX_TRY_ASSIGN(auto r, request(hostfs::HostOp::truncate));
        r.offset = length;
        LITEBOX_TRY(m_shared->request(std::move(r)));
        return ok();
    }

    Result<std::shared_ptr<const hostfs::HostFileHandle>> host_file() override {
        if (!is_regular(this->type())) return Errno::acces;
        if (held()) return Errno::opnotsupp;
        LITEBOX_TRY_ASSIGN(auto r, request(hostfs::HostOp::open_read));
        LITEBOX_TRY_ASSIGN(hostfs::HostFsReply reply, m_shared->request(std::move(r)));
        if (!reply.file) return Errno::opnotsupp;
        return std::move(reply.file);
    }

    Attachment<P>* attachment() noexcept override { return m_attachment.get(); }

    [[nodiscard]] std::string path() const {
        return m_shared->state.with_lock([&](typename Shared::State&) { return m_path; });
    }

private:
    /// The request for `op` on this inode: its held file, or its path -- with, for an operation on
    /// the file itself, the inode the host must find there. ESTALE for a file that lost its way
    /// to the host (unlinked or replaced without being held), ENOENT for a removed directory.
    Result<hostfs::HostFsRequest> request(hostfs::HostOp op) const {
        const bool on_file = hostfs::host_op_takes_file(op) || op == hostfs::HostOp::open_read;
        hostfs::HostFsRequest r;
        r.op = op;
        bool stale = false;
        m_shared->state.with_lock([&](typename Shared::State&) {
            r.path = m_path;
            if (hostfs::host_op_takes_file(op)) r.file = m_held;
            stale = m_stale;
        });
        if (r.file || !on_file) return r;
        // Stale: never by path, where another file or directory may now be, even one with the
        // same inode number (the host reuses them). A removed directory is gone (ENOENT), a file
        // unreachable (ESTALE).
        if (stale) return this->is_directory() ? Errno::noent : Errno::stale;
        r.inode = this->ino();  // by path, the host checks that the name still leads to this file
        return r;
    }
    [[nodiscard]] bool stale() const {
        return m_shared->state.with_lock([&](typename Shared::State&) { return m_stale; });
    }
    [[nodiscard]] bool held() const {
        return m_shared->state.with_lock([&](typename Shared::State&) { return m_held != nullptr; });
    }

    /// The live inode at `where` (if any), and whether hold_if_in_use held it just now.
    struct Victim {
        std::shared_ptr<HostInode> node;
        bool held_now = false;
    };
    /// Before `where` is unlinked or replaced: a regular file in use there keeps its host file.
    /// "In use" is any live Inode (the Vfs holds the victim while it unlinks, so in practice every
    /// regular file: one more host open per unlink, closed when the last holder lets go). At most
    /// max_held files of the mount are held at once; past that, or if the host refuses, the file
    /// stays known by path and inode, and its operations fail with ESTALE or ENOENT once the name
    /// is gone -- never reaching another file.
    Victim hold_if_in_use(const std::string& where) {
        Victim victim;
        victim.node = m_shared->state.with_lock([&](typename Shared::State& s) -> std::shared_ptr<HostInode> {
            const auto it = s.by_path.find(where);
            return it == s.by_path.end() ? nullptr : it->second.lock();
        });
        const auto& live = victim.node;
        // use_count 1: only this lookup holds it, nobody can use the file afterwards.
        if (!live || !is_regular(live->type()) || live.use_count() <= 1 || live->held()) return victim;
        if (m_shared->held_count.fetch_add(1, std::memory_order_relaxed) >= m_shared->max_held) {
            m_shared->held_count.fetch_sub(1, std::memory_order_relaxed);
            return victim;
        }
        hostfs::HostFsRequest r;
        r.op = hostfs::HostOp::hold;
        r.path = where;
        r.inode = live->ino();
        auto reply = m_shared->request(std::move(r));
        const bool stored = reply && reply->file && m_shared->state.with_lock([&](typename Shared::State&) {
            if (live->m_held) return false;
            live->m_held = std::move(reply->file);
            return true;
        });
        if (!stored) m_shared->held_count.fetch_sub(1, std::memory_order_relaxed);
        victim.held_now = stored;
        return victim;
    }
    /// The unlink or rename failed: a file held for it goes back to its name.
    /// (Unless another unlink or rename that succeeded meanwhile relies on the hold.)
    void release(Victim& victim) {
        if (!victim.held_now) return;
        std::shared_ptr<const hostfs::HostFileHandle> dropped;  // closed outside the lock
        m_shared->state.with_lock([&](typename Shared::State&) {
            if (!victim.node->m_gone) dropped = std::move(victim.node->m_held);
        });
        if (dropped) m_shared->held_count.fetch_sub(1, std::memory_order_relaxed);
    }
    /// After `where` was unlinked or replaced (before its entry goes), if the victim is still the
    /// inode there: a held file keeps its hold for good (m_gone); a regular file or directory that
    /// is not held has lost its way to the host (m_stale: ESTALE for a file; for a directory
    /// ENOENT for anything below it and an empty listing, as Linux treats a removed one) ...
    static void orphan(typename Shared::State& s, const std::string& where, const Victim& victim) {
        if (!victim.node) return;
        const auto it = s.by_path.find(where);
        if (it == s.by_path.end() || it->second.lock() != victim.node) return;  // moved meanwhile
        auto& node = *victim.node;
        if (node.m_held) node.m_gone = true;
        else if (is_regular(node.type()) || node.is_directory()) node.m_stale = true;
    }
    /// ... and the entry goes, but not an inode made for a new file at that name meanwhile.
    static void forget(typename Shared::State& s, const std::string& where, const Victim& victim) {
        const auto it = s.by_path.find(where);
        if (it == s.by_path.end()) return;
        const auto current = it->second.lock();
        if (!current || current == victim.node) s.by_path.erase(it);
    }

    hostfs::HostFsRequest child_request(hostfs::HostOp op, std::string_view name) const {
        hostfs::HostFsRequest r;
        r.op = op;
        r.path = host_join(path(), name);
        return r;
    }
    Result<Ptr> make_child(hostfs::HostFsRequest r) {
        if (stale()) return Errno::noent;  // nothing can be made in a removed directory
        std::string where = r.path;
        LITEBOX_TRY(m_shared->request(std::move(r)));
        return get(m_shared, where);
    }
    Result<void> remove(hostfs::HostOp op, std::string_view name) {
        if (stale()) return Errno::noent;
        auto r = child_request(op, name);
        const std::string where = r.path;
        Victim victim = hold_if_in_use(where);  // holds regular files only
        if (auto done = m_shared->request(std::move(r)); !done) {
            release(victim);
            return done.error();
        }
        m_shared->state.with_lock([&](typename Shared::State& s) {
            orphan(s, where, victim);
            forget(s, where, victim);
        });
        return ok();
    }

    std::shared_ptr<Shared> m_shared;
    std::string m_path;  // guarded by m_shared->state
    std::shared_ptr<const hostfs::HostFileHandle> m_held;  // guarded by m_shared->state
    bool m_stale = false;  // guarded by m_shared->state: unlinked or replaced without being held
    bool m_gone = false;   // guarded by m_shared->state: unlinked or replaced while held
    std::unique_ptr<Attachment<P>> m_attachment;
    struct Cookies {
        std::map<std::string, std::uint64_t, std::less<>> by_name;
        std::uint64_t next = 1;
    };
    sync::Mutex<P, Cookies> m_cookies;
};

template <typename P>
Result<void> HostInode<P>::readdir(std::uint64_t cookie, fd::DirectorySink& sink) {
    if (!this->is_directory()) return Errno::notdir;
    if (stale()) return ok();  // a removed directory lists nothing (the Vfs adds . and ..)
    LITEBOX_TRY_ASSIGN(auto r, request(hostfs::HostOp::readdir));
    LITEBOX_TRY_ASSIGN(hostfs::HostFsReply reply, m_shared->request(std::move(r)));
    if (reply.entries.size() > hostfs_max_entries) return Errno::overflow;
    // Number new names, then list in number order from the cookie.
    struct Numbered {
        std::uint64_t position;
        const hostfs::HostDirEntry* entry;
    };
    std::vector<Numbered> listing;
    listing.reserve(reply.entries.size());
    LITEBOX_TRY(m_cookies.with_lock([&](Cookies& c) -> Result<void> {
        for (const auto& e : reply.entries) {
            auto it = c.by_name.find(e.name);
            if (it == c.by_name.end()) {
                if (c.by_name.size() >= hostfs_max_entries * 2) return Errno::overflow;
                it = c.by_name.emplace(e.name, c.next++).first;
            }
            listing.push_back(Numbered{it->second, &e});
        }
        return ok();
    }));
    std::sort(listing.begin(), listing.end(), [](const Numbered& a, const Numbered& b) { return a.position < b.position; });
    for (const auto& n : listing) {
        if (n.position < cookie) continue;
        if (!sink.add(fd::DirectoryEntry{n.entry->name, n.entry->inode, n.entry->type, n.position + 1})) break;
    }
    return ok();
}

}  // namespace detail

template <HostFsPlatform P>
class HostFs final : public FileSystem<P> {
public:
    /// Mounts the platform's host directory. Fails with the platform's answer to the first lstat
    /// of the directory (EACCES when it refuses). The platform must outlive the file system.
    static Result<std::shared_ptr<HostFs>> create(const P& platform, bool read_only, std::size_t max_held = hostfs_max_held) {
        auto shared = std::make_shared<detail::HostShared<P>>(platform, read_only, max_held);
        LITEBOX_TRY_ASSIGN(auto root, detail::HostInode<P>::get(shared, std::string()));
        if (!root->is_directory()) return Errno::notdir;
        return std::shared_ptr<HostFs>(new HostFs(std::move(shared), std::move(root)));
    }

    typename Inode<P>::Ptr root() override { return m_root; }
    Result<StatFs> statfs() override {
        hostfs::HostFsRequest r;
        r.op = hostfs::HostOp::statfs;
        LITEBOX_TRY_ASSIGN(hostfs::HostFsReply reply, m_shared->request(std::move(r)));
        reply.statfs.fsid = this->device();
        if (m_shared->read_only) reply.statfs.flags |= 1;  // ST_RDONLY
        return reply.statfs;
    }
    [[nodiscard]] std::string_view type_name() const noexcept override { return "hostfs"; }
    [[nodiscard]] bool read_only() const noexcept override { return m_shared->read_only; }

private:
    HostFs(std::shared_ptr<detail::HostShared<P>> shared, typename Inode<P>::Ptr root)
        : m_shared(std::move(shared)), m_root(std::move(root)) {}

    std::shared_ptr<detail::HostShared<P>> m_shared;
    typename Inode<P>::Ptr m_root;
};

}  // namespace litebox::fs
