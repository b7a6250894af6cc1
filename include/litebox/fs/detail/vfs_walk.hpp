// Path resolution for Vfs<P> (included at the end of vfs.hpp).
//
// A Walker lives for one operation. It owns the bodies of the symlinks it follows (the string_views
// it hands out point into them or into the caller's path) and counts links against max_symlinks.
// parent() walks every component but the last; final() then looks the last one up and, when asked,
// follows a final symlink by walking its body from the link's directory.
#pragma once

#include "../vfs.hpp"  // for standalone header checks; vfs.hpp includes this file at its end

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace litebox::fs {

template <platform::RawMutexProvider P>
class Vfs<P>::Walker {
public:
    Walker(const Vfs& vfs, const Credentials& creds) : m_vfs(vfs), m_creds(creds) {}

    /// Resolves `path` from `start` up to its last component.
    Result<Parent> parent(const Loc& start, std::string_view path) {
        if (path.empty()) return Errno::noent;
        if (path.size() >= path_max) return Errno::nametoolong;
        Loc cur = path.front() == '/' ? m_vfs.root() : start;
        if (!cur.valid()) return Errno::badf;
        if (!cur.is_directory()) return Errno::notdir;
        // A stack of unread path text: the caller's path at the bottom, link bodies above it (at
        // most one frame per followed link, so it never exceeds max_symlinks + 1 frames).
        Frames pending;
        pending.push_back(path);
        for (;;) {
            std::string_view& top = pending.back();
            while (!top.empty() && top.front() == '/') top.remove_prefix(1);
            if (top.empty()) {
                pending.pop_back();
                if (pending.empty()) return Parent{cur, {}, LastKind::root, true};
                continue;
            }
            const std::size_t slash = top.find('/');
            const std::string_view name = top.substr(0, slash);
            top.remove_prefix(slash == std::string_view::npos ? top.size() : slash);
            const bool rest_is_slashes = top.find_first_not_of('/') == std::string_view::npos;
            // Like Linux's link_path_walk: search permission on the directory before each
            // component, the last one included (so a parent walk checks its result too).
            LITEBOX_TRY(m_vfs.may_search(m_creds, cur));
            if (pending.size() == 1 && rest_is_slashes) {
                const LastKind kind = name == "." ? LastKind::dot : name == ".." ? LastKind::dotdot : LastKind::normal;
                return Parent{cur, name, kind, !top.empty()};
            }
            LITEBOX_TRY_ASSIGN(Loc next, m_vfs.lookup_component(m_creds, cur, name, true));
            if (next.inode->is_symlink()) {
                LITEBOX_TRY_ASSIGN(std::optional<Loc> jump, take_jump(next));
                if (jump) {
                    if (!jump->is_directory()) return Errno::notdir;
                    cur = std::move(*jump);
                    continue;
                }
                LITEBOX_TRY_ASSIGN(std::string_view body, take_link(next));
                if (body.front() == '/') cur = m_vfs.root();
                if (top.empty()) pending.pop_back();  // nothing left in this frame
                pending.push_back(body);
                continue;
            }
            if (!next.is_directory()) return Errno::notdir;
            cur = std::move(next);
        }
    }

    /// The location of the last component. follow: follow a final symlink; directory: it must be
    /// one (a trailing slash implies both).
    Result<Loc> final(Parent p, bool follow, bool directory) {
        m_final_jumped = false;
        for (;;) {
            // A trailing slash forces following and binds the link's target too.
            follow = follow || p.trailing_slash;
            directory = directory || p.trailing_slash;
            if (p.kind == LastKind::root) return p.dir;
            LITEBOX_TRY_ASSIGN(Loc child, m_vfs.lookup_component(m_creds, p.dir, p.last, true));
            if (child.inode->is_symlink() && follow) {
                LITEBOX_TRY_ASSIGN(std::optional<Loc> jump, take_jump(child));
                if (jump) {
                    if (directory && !jump->is_directory()) return Errno::notdir;
                    m_final_jumped = true;
                    return std::move(*jump);
                }
                LITEBOX_TRY_ASSIGN(p, follow_link(p.dir, child));
                continue;
            }
            if (directory && !child.is_directory()) return Errno::notdir;
            // The name the object was found by, after any symbolic links: the open file's origin.
            m_final_origin.reset();
            if (p.kind == LastKind::normal) m_final_origin = JumpOrigin{p.dir, std::string(p.last)};
            return child;
        }
    }

    /// Walks the body of the symlink at `link` (found in `dir`) up to its last component.
    Result<Parent> follow_link(const Loc& dir, const Loc& link) {
        LITEBOX_TRY_ASSIGN(std::string_view body, take_link(link));
        return parent(dir, body);
    }

    /// A magic link's destination (counted as one followed link), or empty for an ordinary link.
    /// Remembers where the object was opened by name (jump_origin()).
    Result<std::optional<Loc>> take_jump(const Loc& link) {
        LITEBOX_TRY_ASSIGN(auto jump, link.inode->jump_as(m_creds));
        if (!jump) return std::optional<Loc>{};
        if (!jump->inode) return Errno::noent;
        if (++m_links > max_symlinks) return Errno::loop;
        m_jump_origin.reset();
        if (jump->origin_mount && jump->origin_directory)
            m_jump_origin = JumpOrigin{Loc{std::move(jump->origin_mount), std::move(jump->origin_directory)}, std::move(jump->origin_name)};
        return std::optional<Loc>(Loc{jump->mount ? std::move(jump->mount) : link.mount, std::move(jump->inode)});
    }
    /// Whether the last final() ended with a magic link's jump, and the jumped object's origin.
    struct JumpOrigin {
        Loc directory;
        std::string name;
    };
    [[nodiscard]] bool final_jumped() const noexcept { return m_final_jumped; }
    [[nodiscard]] const std::optional<JumpOrigin>& jump_origin() const noexcept { return m_jump_origin; }
    /// The directory and name the last final() found its object by (symbolic links followed);
    /// empty for "/", "." and "..".
    [[nodiscard]] const std::optional<JumpOrigin>& final_origin() const noexcept { return m_final_origin; }

    Result<Loc> resolve(const Loc& start, std::string_view path, bool follow, bool directory) {
        LITEBOX_TRY_ASSIGN(Parent p, parent(start, path));
        return final(std::move(p), follow, directory);
    }

private:
    /// A fixed-capacity stack of path frames (no allocation on the lookup path).
    class Frames {
    public:
        void push_back(std::string_view v) noexcept { m_items[m_size++] = v; }
        void pop_back() noexcept { --m_size; }
        std::string_view& back() noexcept { return m_items[m_size - 1]; }
        [[nodiscard]] std::size_t size() const noexcept { return m_size; }
        [[nodiscard]] bool empty() const noexcept { return m_size == 0; }

    private:
        std::array<std::string_view, max_symlinks + 2> m_items{};
        std::size_t m_size = 0;
    };

    /// Counts one link and returns its body (owned by the walker). ELOOP past max_symlinks, ENOENT
    /// for an empty body.
    Result<std::string_view> take_link(const Loc& link) {
        if (++m_links > max_symlinks) return Errno::loop;
        LITEBOX_TRY_ASSIGN(std::string body, link.inode->readlink_as(m_creds));
        if (body.empty()) return Errno::noent;
        if (body.size() >= path_max) return Errno::nametoolong;
        m_bodies.push_back(std::make_unique<std::string>(std::move(body)));
        return std::string_view(*m_bodies.back());
    }

    const Vfs& m_vfs;
    const Credentials& m_creds;
    int m_links = 0;
    std::vector<std::unique_ptr<std::string>> m_bodies;
    bool m_final_jumped = false;
    std::optional<JumpOrigin> m_jump_origin;
    std::optional<JumpOrigin> m_final_origin;
};

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::may_search(const Credentials& creds, const Loc& dir) const {
    LITEBOX_TRY_ASSIGN(const Ownership owner, dir.inode->ownership());
    return check_permission(creds, owner, access_mode::execute);
}

template <platform::RawMutexProvider P>
Result<Location<P>> Vfs<P>::lookup_component(const Credentials& creds, const Loc& dir, std::string_view name,
                                             bool searched) const {
    if (!dir.is_directory()) return Errno::notdir;
    if (!searched) LITEBOX_TRY(may_search(creds, dir));
    if (name == ".") return dir;
    if (name == "..") {
        if (dir == m_root || dir == root()) return root();
        Loc at = dir;
        while (at.mount->parent && at.inode == at.mount->fs->root()) {
            at = Loc{at.mount->parent, at.mount->mountpoint};
            if (at == m_root) return root();
        }
        LITEBOX_TRY_ASSIGN(auto up, at.inode->lookup(".."));
        return cross_mounts(Loc{at.mount, std::move(up)});
    }
    if (name.size() > name_max) return Errno::nametoolong;
    LITEBOX_TRY_ASSIGN(auto child, dir.inode->lookup(name));
    return cross_mounts(Loc{dir.mount, std::move(child)});
}

template <platform::RawMutexProvider P>
Location<P> Vfs<P>::cross_mounts(Loc where) const {
    while (where.inode->m_mounts.load(std::memory_order_acquire) != 0) {
        auto next = m_mounts.with_lock([&](MountTable& t) -> std::shared_ptr<Mount<P>> {
            const auto it = t.by_point.find(MountKey{where.mount.get(), where.inode.get()});
            if (it == t.by_point.end() || it->second.empty()) return nullptr;
            return it->second.back();
        });
        if (!next) break;
        auto root = next->fs->root();
        where = Loc{std::move(next), std::move(root)};
    }
    return where;
}

template <platform::RawMutexProvider P>
Result<Location<P>> Vfs<P>::resolve(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t at_flags) {
    if (path.empty() && (at_flags & at_flags::empty_path)) {
        if (!at.valid()) return Errno::badf;
        return at;
    }
    Walker walker(*this, creds);
    return walker.resolve(at, path, (at_flags & at_flags::symlink_nofollow) == 0, false);
}

template <platform::RawMutexProvider P>
Result<typename Vfs<P>::Named> Vfs<P>::resolve_named(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t at_flags) {
    Named found;
    if (path.empty() && (at_flags & at_flags::empty_path)) {
        if (!at.valid()) return Errno::badf;
        found.where = at;
        return found;
    }
    Walker walker(*this, creds);
    LITEBOX_TRY_ASSIGN(found.where, walker.resolve(at, path, (at_flags & at_flags::symlink_nofollow) == 0, false));
    const auto& origin = walker.final_jumped() ? walker.jump_origin() : walker.final_origin();
    if (origin) {
        found.directory = origin->directory;
        found.name = origin->name;
    }
    return found;
}

template <platform::RawMutexProvider P>
Result<Location<P>> Vfs<P>::resolve_directory(const Credentials& creds, const Loc& at, std::string_view path) {
    Walker walker(*this, creds);
    LITEBOX_TRY_ASSIGN(Loc dir, walker.resolve(at, path, true, true));
    LITEBOX_TRY(may_search(creds, dir));
    return dir;
}

template <platform::RawMutexProvider P>
Result<std::string> Vfs<P>::path_of(const Loc& where) {
    if (!where.valid()) return Errno::badf;
    if (!where.is_directory()) return Errno::notdir;
    // Climb with ".." and find each level's name in its parent by inode number.
    // A directory whose entry in its parent carries another inode number than the directory
    // itself (a host directory that is a mount point on the host: the entry has the covered
    // inode's number) is found by looking its name up and comparing where it leads (mounts
    // crossed) with the location itself; only subdirectories are tried, at most path_of_lookups.
    static constexpr std::size_t path_of_lookups = 4096;
    struct Finder final : fd::DirectorySink {
        std::uint64_t ino = 0;
        std::string found;
        std::vector<std::string> directories;
        bool add(const fd::DirectoryEntry& e) override {
            if (e.inode == ino && found.empty()) found.assign(e.name);
            if (found.empty() && directories.size() < path_of_lookups &&
                (e.type == fd::dirent_type::directory || e.type == fd::dirent_type::unknown) && e.name != "." && e.name != "..")
                directories.emplace_back(e.name);
            return true;
        }
    };
    std::vector<std::string> names;
    Loc at = where;
    const Loc top = root();
    for (std::size_t depth = 0; !(at == top) && !(at == m_root); ++depth) {
        if (depth > path_max) return Errno::nametoolong;
        LITEBOX_TRY_ASSIGN(const Stat st, at.inode->getattr());
        if (st.link_count == 0) return Errno::noent;
        Loc child_side = at;  // the mount root is found by its mount point's inode in the parent
        while (child_side.mount->parent && child_side.inode == child_side.mount->fs->root()) {
            child_side = Loc{child_side.mount->parent, child_side.mount->mountpoint};
        }
        if (child_side == m_root) break;
        LITEBOX_TRY_ASSIGN(auto up, child_side.inode->lookup(".."));
        Finder finder;
        finder.ino = child_side.inode->ino();
        LITEBOX_TRY(up->readdir(0, finder));
        for (std::size_t i = 0; finder.found.empty() && i < finder.directories.size(); ++i) {
            auto candidate = up->lookup(finder.directories[i]);
            if (candidate && cross_mounts(Loc{child_side.mount, std::move(*candidate)}) == at) finder.found = std::move(finder.directories[i]);
        }
        if (finder.found.empty()) return Errno::noent;
        names.push_back(std::move(finder.found));
        at = cross_mounts(Loc{child_side.mount, std::move(up)});
    }
    std::string out;
    for (auto it = names.rbegin(); it != names.rend(); ++it) {
        out += '/';
        out += *it;
    }
    if (out.empty()) out = "/";
    if (out.size() >= path_max) return Errno::nametoolong;
    return out;
}

}  // namespace litebox::fs
