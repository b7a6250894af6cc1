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
// - Limits: each read or write request moves at most hostfs_max_transfer bytes; a listing holds at
//   most hostfs_max_entries names (EOVERFLOW beyond).
#pragma once

#include <algorithm>
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
/// Largest host directory listing (names per directory).
inline constexpr std::size_t hostfs_max_entries = hostfs::max_listing;

template <typename P>
concept HostFsPlatform = platform::RawMutexProvider<P> && platform::SupportsPunchthrough<P, hostfs::HostFsRequest>;

namespace detail {

template <typename P>
class HostInode;

template <typename P>
struct HostShared {
    HostShared(const P& p, bool ro) : platform(p), read_only(ro) {}
    const P& platform;
    const bool read_only;
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
        auto r = request(hostfs::HostOp::lstat);
        LITEBOX_TRY_ASSIGN(hostfs::HostFsReply reply, m_shared->request(std::move(r)));
        reply.stat.device = 0;
        return reply.stat;
    }
    Result<void> setattr(const AttrChange& change) override {
        if (change.mode) {
            auto r = request(hostfs::HostOp::chmod);
            r.mode = *change.mode & fd::mode::permissions;
            LITEBOX_TRY(m_shared->request(std::move(r)));
        }
        if (change.uid || change.gid) {
            auto r = request(hostfs::HostOp::chown);
            if (change.uid) r.uid = *change.uid;
            if (change.gid) r.gid = *change.gid;
            LITEBOX_TRY(m_shared->request(std::move(r)));
        }
        if (change.access_time || change.modify_time) {
            auto r = request(hostfs::HostOp::utimens);
            if (change.access_time) r.atime = *change.access_time;
            if (change.modify_time) r.mtime = *change.modify_time;
            LITEBOX_TRY(m_shared->request(std::move(r)));
        }
        return ok();
    }

    // ---- directories -------------------------------------------------------------------------
    Result<Ptr> lookup(std::string_view name) override {
        if (!this->is_directory()) return Errno::notdir;
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
        auto r = t->request(hostfs::HostOp::link);
        r.path2 = host_join(path(), name);
        LITEBOX_TRY(m_shared->request(std::move(r)));
        return ok();
    }
    Result<void> unlink(std::string_view name) override { return remove(hostfs::HostOp::unlink, name); }
    Result<void> rmdir(std::string_view name) override { return remove(hostfs::HostOp::rmdir, name); }
    Result<void> rename(std::string_view old_name, Inode<P>& new_dir, std::string_view new_name, std::uint32_t flags) override {
        auto* nd = dynamic_cast<HostInode*>(&new_dir);
        if (!nd || nd->m_shared != m_shared) return Errno::xdev;
        const std::string from = host_join(path(), old_name);
        const std::string to = host_join(nd->path(), new_name);
        auto r = child_request(hostfs::HostOp::rename, old_name);
        r.path2 = to;
        r.flags = flags;
        LITEBOX_TRY(m_shared->request(std::move(r)));
        // Live inodes below the old name now live below the new one (and an exchange swaps).
        m_shared->state.with_lock([&](typename Shared::State& s) {
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
        LITEBOX_TRY_ASSIGN(hostfs::HostFsReply reply, m_shared->request(request(hostfs::HostOp::readlink)));
        return std::move(reply.text);
    }
    Result<std::size_t> read(std::span<std::byte> out, std::uint64_t offset) override {
        if (this->is_directory()) return Errno::isdir;
        auto r = request(hostfs::HostOp::read);
        r.offset = offset;
        r.out = out.first(std::min(out.size(), hostfs_max_transfer));
        LITEBOX_TRY_ASSIGN(const hostfs::HostFsReply reply, m_shared->request(std::move(r)));
        return reply.count;
    }
    Result<std::size_t> write(std::span<const std::byte> in, std::uint64_t offset) override {
        if (this->is_directory()) return Errno::isdir;
        std::size_t done = 0;
        while (done < in.size()) {
            auto r = request(hostfs::HostOp::write);
            r.offset = offset + done;
            r.in = in.subspan(done, std::min(in.size() - done, hostfs_max_transfer));
            LITEBOX_TRY_ASSIGN(const hostfs::HostFsReply reply, m_shared->request(std::move(r)));
            if (reply.count == 0) return Errno::io;
            done += reply.count;
        }
        return done;
    }
    Result<void> truncate(std::uint64_t length) override {
        auto r = request(hostfs::HostOp::truncate);
        r.offset = length;
        LITEBOX_TRY(m_shared->request(std::move(r)));
        return ok();
    }

    Result<std::shared_ptr<const hostfs::HostFileHandle>> host_file() override {
        if (!is_regular(this->type())) return Errno::acces;
        LITEBOX_TRY_ASSIGN(hostfs::HostFsReply reply, m_shared->request(request(hostfs::HostOp::open_read)));
        if (!reply.file) return Errno::opnotsupp;
        return std::move(reply.file);
    }

    Attachment<P>* attachment() noexcept override { return m_attachment.get(); }

    [[nodiscard]] std::string path() const {
        return m_shared->state.with_lock([&](typename Shared::State&) { return m_path; });
    }

private:
    hostfs::HostFsRequest request(hostfs::HostOp op) const {
        hostfs::HostFsRequest r;
        r.op = op;
        r.path = path();
        return r;
    }
    hostfs::HostFsRequest child_request(hostfs::HostOp op, std::string_view name) const {
        hostfs::HostFsRequest r;
        r.op = op;
        r.path = host_join(path(), name);
        return r;
    }
    Result<Ptr> make_child(hostfs::HostFsRequest r) {
        std::string where = r.path;
        LITEBOX_TRY(m_shared->request(std::move(r)));
        return get(m_shared, where);
    }
    Result<void> remove(hostfs::HostOp op, std::string_view name) {
        auto r = child_request(op, name);
        const std::string where = r.path;
        LITEBOX_TRY(m_shared->request(std::move(r)));
        m_shared->state.with_lock([&](typename Shared::State& s) { s.by_path.erase(where); });
        return ok();
    }

    std::shared_ptr<Shared> m_shared;
    std::string m_path;  // guarded by m_shared->state
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
    LITEBOX_TRY_ASSIGN(hostfs::HostFsReply reply, m_shared->request(request(hostfs::HostOp::readdir)));
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
    static Result<std::shared_ptr<HostFs>> create(const P& platform, bool read_only) {
        auto shared = std::make_shared<detail::HostShared<P>>(platform, read_only);
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
