// Vfs<P> operations other than open (included at the end of vfs.hpp). The order of checks follows
// Linux's fs/namei.c and fs/open.c wherever a test can observe it.
#pragma once

#include "../vfs.hpp"  // for standalone header checks; vfs.hpp includes this file at its end

#include "clock.hpp"

namespace litebox::fs {

namespace detail {
/// A non-directory's link count before an unlink or a rename over it, read only while inotify
/// watches exist: the removal took its last name if it had one. (Asking after the removal does
/// not work for a host file, which is reached by path: the path is gone, or names the file that
/// was renamed over it.)
struct LinksBefore {
    std::optional<std::uint64_t> count;
    template <typename Hub, typename Loc>
    static LinksBefore of(const Hub& hub, const Loc& where) {
        LinksBefore links;
        if (hub.active() && !where.is_directory())
            if (auto st = where.inode->getattr()) links.count = st->link_count;
        return links;
    }
    template <typename Loc>
    [[nodiscard]] bool last_gone(const Loc& where) const {
        if (count) return *count <= 1;
        auto st = where.inode->getattr();
        return !st || st->link_count == 0;
    }
};
}  // namespace detail

template <platform::RawMutexProvider P>
Vfs<P>::Vfs(const P& platform, std::shared_ptr<FileSystem<P>> root_fs, std::size_t max_mounts)
    : m_platform(platform), m_max_mounts(max_mounts) {
    auto mount = std::make_shared<Mount<P>>();
    mount->fs = std::move(root_fs);
    m_mounts.with_lock([&](MountTable& t) {
        mount->fs->assign_device(make_device(0, t.next_minor++));
        t.count = 1;
    });
    auto inode = mount->fs->root();
    m_root = Loc{std::move(mount), std::move(inode)};
}

template <platform::RawMutexProvider P>
std::uint64_t Vfs<P>::assign_device(FileSystem<P>& fs) {
    return m_mounts.with_lock([&](MountTable& t) {
        if (fs.device() != 0) return fs.device();
        return fs.assign_device(make_device(0, t.next_minor++));
    });
}

template <platform::RawMutexProvider P>
Timespec Vfs<P>::now() const {
    return detail::wall_clock_now(m_platform);
}

// ---- mounts ----------------------------------------------------------------------------------

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::mount(const Credentials& creds, const Loc& at, std::string_view path, std::shared_ptr<FileSystem<P>> fs,
                           std::uint32_t flags) {
    if (creds.euid != 0) return Errno::perm;
    if (!fs || (flags & ~mount_flags::supported) != 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(Loc target, resolve_directory(creds, at, path));
    auto mount = std::make_shared<Mount<P>>();
    mount->fs = std::move(fs);
    mount->parent = target.mount;
    mount->mountpoint = target.inode;
    mount->flags = flags;
    return m_mounts.with_lock([&](MountTable& t) -> Result<void> {
        if (t.count >= m_max_mounts) return Errno::nospc;
        mount->fs->assign_device(make_device(0, t.next_minor++));
        t.by_point[MountKey{target.mount.get(), target.inode.get()}].push_back(std::move(mount));
        ++t.count;
        target.inode->m_mounts.fetch_add(1, std::memory_order_acq_rel);
        return ok();
    });
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::unmount(const Credentials& creds, const Loc& at, std::string_view path) {
    if (creds.euid != 0) return Errno::perm;
    LITEBOX_TRY_ASSIGN(Loc where, resolve(creds, at, path));
    if (where.inode != where.mount->fs->root()) return Errno::inval;
    if (!where.mount->parent) return Errno::busy;
    std::shared_ptr<Mount<P>> released;  // dropped after the lock
    return m_mounts.with_lock([&](MountTable& t) -> Result<void> {
        for (const auto& [key, stack] : t.by_point) {
            if (key.mount == where.mount.get() && !stack.empty()) return Errno::busy;
        }
        const auto it = t.by_point.find(MountKey{where.mount->parent.get(), where.mount->mountpoint.get()});
        if (it == t.by_point.end() || it->second.empty() || it->second.back() != where.mount) return Errno::inval;
        released = std::move(it->second.back());
        it->second.pop_back();
        if (it->second.empty()) t.by_point.erase(it);
        --t.count;
        released->mountpoint->m_mounts.fetch_sub(1, std::memory_order_acq_rel);
        return ok();
    });
}

template <platform::RawMutexProvider P>
std::vector<Location<P>> Vfs<P>::mount_roots() const {
    std::vector<Loc> roots{Loc{m_root.mount, m_root.mount->fs->root()}};
    m_mounts.with_lock([&](const MountTable& t) {
        for (const auto& [key, stack] : t.by_point)
            for (const auto& mount : stack) roots.push_back(Loc{mount, mount->fs->root()});
    });
    return roots;
}

template <platform::RawMutexProvider P>
Result<Location<P>> Vfs<P>::location_of(const fd::OpenFile<P>& file) {
    const auto* handle = dynamic_cast<const FileHandle<P>*>(&file);
    if (!handle) return Errno::notdir;
    return handle->location();
}

// ---- metadata --------------------------------------------------------------------------------

template <platform::RawMutexProvider P>
Result<Stat> Vfs<P>::stat(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t at_flags) {
    if ((at_flags & ~(at_flags::symlink_nofollow | at_flags::empty_path | at_flags::no_automount)) != 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(Loc where, resolve(creds, at, path, at_flags));
    return where.stat();
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::access(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t mode,
                            std::uint32_t at_flags) {
    if ((mode & ~7u) != 0) return Errno::inval;
    if ((at_flags & ~(at_flags::eaccess | at_flags::symlink_nofollow | at_flags::empty_path)) != 0) return Errno::inval;
    Credentials real = creds;
    if ((at_flags & at_flags::eaccess) == 0) {
        real.fsuid = creds.uid;
        real.fsgid = creds.gid;
    }
    LITEBOX_TRY_ASSIGN(Loc where, resolve(real, at, path, at_flags & (at_flags::symlink_nofollow | at_flags::empty_path)));
    if (mode == access_mode::exists) return ok();
    LITEBOX_TRY_ASSIGN(const Ownership owner, where.inode->ownership());
    if ((mode & access_mode::write) && where.mount->read_only() &&
        (is_regular(owner.mode) || is_directory(owner.mode) || is_symlink(owner.mode))) {
        return Errno::rofs;
    }
    return check_permission(real, owner, mode);
}

template <platform::RawMutexProvider P>
Result<std::string> Vfs<P>::readlink(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t at_flags) {
    LITEBOX_TRY_ASSIGN(Loc where, resolve(creds, at, path, at_flags::symlink_nofollow | (at_flags & at_flags::empty_path)));
    if (!where.inode->is_symlink()) return path.empty() ? Errno::noent : Errno::inval;
    return where.inode->readlink_as(creds);
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::chmod(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t mode,
                           std::uint32_t at_flags) {
    if ((at_flags & ~(at_flags::symlink_nofollow | at_flags::empty_path)) != 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const Named found, resolve_named(creds, at, path, at_flags));
    if (found.where.inode->is_symlink()) return Errno::opnotsupp;
    return chmod(creds, found.where, mode, found.via());
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::chmod(const Credentials& creds, const Loc& where, std::uint32_t mode, const NamedIn<P>& via) {
    LITEBOX_TRY(do_chmod(creds, where, mode));
    m_inotify->object_event(where, via, in_event::attrib);
    return ok();
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::do_chmod(const Credentials& creds, const Loc& where, std::uint32_t mode) {
    if (!where.valid()) return Errno::badf;
    LITEBOX_TRY_ASSIGN(const Ownership owner, where.inode->ownership());
    if (where.mount->read_only()) return Errno::rofs;
    if (!is_owner_or_root(creds, owner)) return Errno::perm;
    mode &= fd::mode::permissions;
    // An unprivileged caller outside the file's group cannot set its set-group-ID bit.
    if (creds.fsuid != 0 && !is_directory(owner.mode) && !creds.in_group(owner.gid)) mode &= ~fd::mode::set_gid;
    AttrChange change;
    change.mode = mode;
    return where.inode->setattr(change);
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::chown(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t uid,
                           std::uint32_t gid, std::uint32_t at_flags) {
    if ((at_flags & ~(at_flags::symlink_nofollow | at_flags::empty_path)) != 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const Named found, resolve_named(creds, at, path, at_flags));
    return chown(creds, found.where, uid, gid, found.via());
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::chown(const Credentials& creds, const Loc& where, std::uint32_t uid, std::uint32_t gid, const NamedIn<P>& via) {
    LITEBOX_TRY(do_chown(creds, where, uid, gid));
    m_inotify->object_event(where, via, in_event::attrib);
    return ok();
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::do_chown(const Credentials& creds, const Loc& where, std::uint32_t uid, std::uint32_t gid) {
    if (!where.valid()) return Errno::badf;
    LITEBOX_TRY_ASSIGN(const Ownership owner, where.inode->ownership());
    if (where.mount->read_only()) return Errno::rofs;
    if (creds.fsuid != 0) {
        // An unprivileged owner may only give the file to one of its own groups.
        if (uid != no_change && uid != owner.uid) return Errno::perm;
        if (gid != no_change && gid != owner.gid && (creds.fsuid != owner.uid || !creds.in_group(gid))) return Errno::perm;
        if ((uid != no_change || gid != no_change) && creds.fsuid != owner.uid) return Errno::perm;
    }
    AttrChange change;
    if (uid != no_change) change.uid = uid;
    if (gid != no_change) change.gid = gid;
    if (!is_directory(owner.mode) && !is_symlink(owner.mode)) {
        std::uint32_t mode = owner.mode & fd::mode::permissions;
        mode &= ~fd::mode::set_uid;
        if (mode & 0010) mode &= ~fd::mode::set_gid;
        if (mode != (owner.mode & fd::mode::permissions)) change.mode = mode;
    }
    return where.inode->setattr(change);
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::utimens(const Credentials& creds, const Loc& at, std::string_view path, Timespec atime, Timespec mtime,
                             std::uint32_t at_flags) {
    if ((at_flags & ~(at_flags::symlink_nofollow | at_flags::empty_path)) != 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const Named found, resolve_named(creds, at, path, at_flags));
    return utimens(creds, found.where, atime, mtime, found.via());
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::utimens(const Credentials& creds, const Loc& where, Timespec atime, Timespec mtime, const NamedIn<P>& via) {
    std::uint32_t mask = 0;
    LITEBOX_TRY(do_utimens(creds, where, atime, mtime, mask));
    if (mask != 0) m_inotify->object_event(where, via, mask);
    return ok();
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::do_utimens(const Credentials& creds, const Loc& where, Timespec atime, Timespec mtime, std::uint32_t& mask) {
    if (!where.valid()) return Errno::badf;
    const auto valid = [](const Timespec& t) {
        return t.nanoseconds == utime_now || t.nanoseconds == utime_omit || (t.nanoseconds >= 0 && t.nanoseconds < 1'000'000'000);
    };
    if (!valid(atime) || !valid(mtime)) return Errno::inval;
    if (atime.nanoseconds == utime_omit && mtime.nanoseconds == utime_omit) return ok();
    LITEBOX_TRY_ASSIGN(const Ownership owner, where.inode->ownership());
    if (where.mount->read_only()) return Errno::rofs;
    const bool only_now = (atime.nanoseconds == utime_now || atime.nanoseconds == utime_omit) &&
                          (mtime.nanoseconds == utime_now || mtime.nanoseconds == utime_omit);
    if (!is_owner_or_root(creds, owner)) {
        if (!only_now) return Errno::perm;
        LITEBOX_TRY(check_permission(creds, owner, access_mode::write));
    }
    const Timespec current = now();
    AttrChange change;
    if (atime.nanoseconds != utime_omit) change.access_time = atime.nanoseconds == utime_now ? current : atime;
    if (mtime.nanoseconds != utime_omit) change.modify_time = mtime.nanoseconds == utime_now ? current : mtime;
    LITEBOX_TRY(where.inode->setattr(change));
    // Linux's fsnotify_change: both times are a utime call (IN_ATTRIB); one alone is an access
    // or a modification.
    mask = change.access_time && change.modify_time ? in_event::attrib : change.access_time ? in_event::access : in_event::modify;
    return ok();
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::truncate(const Credentials& creds, const Loc& at, std::string_view path, std::uint64_t length) {
    LITEBOX_TRY_ASSIGN(const Named found, resolve_named(creds, at, path, 0));
    const Loc& where = found.where;
    if (where.is_directory()) return Errno::isdir;
    if (!where.inode->is_regular()) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const Ownership owner, where.inode->ownership());
    LITEBOX_TRY(check_permission(creds, owner, access_mode::write));
    if (where.mount->read_only()) return Errno::rofs;
    if (length > max_file_size) return Errno::fbig;
    LITEBOX_TRY(where.inode->truncate(length));
    m_inotify->object_event(where, found.via(), in_event::modify);
    return ok();
}

template <platform::RawMutexProvider P>
Result<StatFs> Vfs<P>::statfs(const Credentials& creds, const Loc& at, std::string_view path) {
    LITEBOX_TRY_ASSIGN(Loc where, resolve(creds, at, path));
    return statfs(where);
}

template <platform::RawMutexProvider P>
Result<StatFs> Vfs<P>::statfs(const Loc& where) {
    if (!where.valid()) return Errno::badf;
    LITEBOX_TRY_ASSIGN(StatFs s, where.mount->fs->statfs());
    if (where.mount->read_only()) s.flags |= 1;
    if (where.mount->flags & mount_flags::no_suid) s.flags |= 2;
    if (where.mount->flags & mount_flags::no_dev) s.flags |= 4;
    if (where.mount->flags & mount_flags::no_exec) s.flags |= 8;
    if (s.fsid == 0) s.fsid = where.mount->fs->device();
    return s;
}

// ---- namespace changes -----------------------------------------------------------------------

template <platform::RawMutexProvider P>
Result<NewNode> Vfs<P>::new_node(const Credentials& creds, const Loc& dir, std::uint32_t mode) const {
    LITEBOX_TRY_ASSIGN(const Ownership parent, dir.inode->ownership());
    NewNode node;
    node.mode = mode;
    node.uid = creds.fsuid;
    node.gid = creds.fsgid;
    if (parent.mode & fd::mode::set_gid) {
        node.gid = parent.gid;
        if (is_directory(mode)) node.mode |= fd::mode::set_gid;
    } else if (!is_directory(mode) && (mode & fd::mode::set_gid) && (mode & 0010) && creds.fsuid != 0 &&
               !creds.in_group(node.gid)) {
        node.mode &= ~fd::mode::set_gid;
    }
    return node;
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::create_node(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t mode,
                                 std::uint64_t device, std::string_view symlink_target, std::shared_ptr<void> endpoint) {
    Walker walker(*this, creds);
    LITEBOX_TRY_ASSIGN(Parent p, walker.parent(at, path));
    const bool directory = is_directory(mode);
    if (p.kind != LastKind::normal) return endpoint ? Errno::addrinuse : Errno::exist;
    auto existing = lookup_component(creds, p.dir, p.last, true);
    if (existing) return endpoint ? Errno::addrinuse : Errno::exist;
    if (existing.error() != Errno::noent) return existing.error();
    if (p.trailing_slash && !directory) return Errno::noent;
    if (p.dir.mount->read_only()) return Errno::rofs;
    LITEBOX_TRY_ASSIGN(const Ownership dir_owner, p.dir.inode->ownership());
    LITEBOX_TRY(check_permission(creds, dir_owner, access_mode::write | access_mode::execute));
    LITEBOX_TRY_ASSIGN(NewNode node, new_node(creds, p.dir, mode));
    node.device = device;
    if (directory) {
        LITEBOX_TRY(p.dir.inode->mkdir(p.last, node));
    } else if (is_symlink(mode)) {
        LITEBOX_TRY(p.dir.inode->symlink(p.last, symlink_target, node));
    } else {
        LITEBOX_TRY_ASSIGN(auto created, p.dir.inode->create(p.last, node));
        if (endpoint) {
            Attachment<P>* slot = created->attachment();
            if (!slot || !slot->try_attach(endpoint)) {
                (void)p.dir.inode->unlink(p.last);
                return Errno::addrinuse;
            }
        }
    }
    m_inotify->child_event(p.dir, p.last, in_event::create | (directory ? in_event::is_dir : 0u));
    return ok();
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::mkdir(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t mode) {
    return create_node(creds, at, path, fd::mode::directory | (mode & 07777 & ~creds.umask), 0, {}, nullptr);
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::mknod(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t mode,
                           std::uint64_t device) {
    std::uint32_t type = mode & fd::mode::type_mask;
    if (type == 0) type = fd::mode::regular;
    if (type == fd::mode::directory || type == fd::mode::symlink) return Errno::inval;
    if (type != fd::mode::regular && type != fd::mode::fifo && type != fd::mode::socket && type != fd::mode::char_device &&
        type != fd::mode::block_device) {
        return Errno::inval;
    }
    if ((type == fd::mode::char_device || type == fd::mode::block_device) && creds.euid != 0) return Errno::perm;
    return create_node(creds, at, path, type | (mode & 07777 & ~creds.umask), device, {}, nullptr);
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::symlink(const Credentials& creds, std::string_view target, const Loc& at, std::string_view path) {
    if (target.empty()) return Errno::noent;
    if (target.size() >= path_max) return Errno::nametoolong;
    return create_node(creds, at, path, fd::mode::symlink | 0777, 0, target, nullptr);
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::link(const Credentials& creds, const Loc& old_at, std::string_view old_path, const Loc& new_at,
                          std::string_view new_path, std::uint32_t at_flags) {
    if ((at_flags & ~(at_flags::symlink_follow | at_flags::empty_path)) != 0) return Errno::inval;
    if (old_path.empty() && (at_flags & at_flags::empty_path) && creds.euid != 0) return Errno::noent;
    const std::uint32_t resolve_flags = ((at_flags & at_flags::symlink_follow) ? 0 : at_flags::symlink_nofollow) |
                                        (at_flags & at_flags::empty_path);
    LITEBOX_TRY_ASSIGN(Loc source, resolve(creds, old_at, old_path, resolve_flags));
    Walker walker(*this, creds);
    LITEBOX_TRY_ASSIGN(Parent p, walker.parent(new_at, new_path));
    if (p.kind != LastKind::normal) return Errno::exist;
    auto existing = lookup_component(creds, p.dir, p.last, true);
    if (existing) return Errno::exist;
    if (existing.error() != Errno::noent) return existing.error();
    if (p.trailing_slash) return Errno::noent;
    if (p.dir.mount->read_only()) return Errno::rofs;
    if (source.mount != p.dir.mount) return Errno::xdev;
    // Protected hard links (fs.protected_hardlinks = 1): someone who does not own the source may
    // link it only if it is a regular, non-set-ID file they may read and write.
    LITEBOX_TRY_ASSIGN(const Ownership source_owner, source.inode->ownership());
    if (creds.fsuid != 0 && creds.fsuid != source_owner.uid) {
        const bool set_id = (source_owner.mode & fd::mode::set_uid) ||
                            (source_owner.mode & (fd::mode::set_gid | 0010)) == (fd::mode::set_gid | 0010);
        if (!is_regular(source_owner.mode) || set_id ||
            !check_permission(creds, source_owner, access_mode::read | access_mode::write)) {
            return Errno::perm;
        }
    }
    LITEBOX_TRY_ASSIGN(const Ownership dir_owner, p.dir.inode->ownership());
    LITEBOX_TRY(check_permission(creds, dir_owner, access_mode::write | access_mode::execute));
    if (source.is_directory()) return Errno::perm;
    LITEBOX_TRY(p.dir.inode->link(p.last, source.inode));
    m_inotify->self_event(source, in_event::attrib);  // the link count (fsnotify_link)
    m_inotify->child_event(p.dir, p.last, in_event::create);
    return ok();
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::unlink(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t at_flags) {
    if ((at_flags & ~at_flags::remove_dir) != 0) return Errno::inval;
    return remove(creds, at, path, (at_flags & at_flags::remove_dir) != 0);
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::rmdir(const Credentials& creds, const Loc& at, std::string_view path) {
    return remove(creds, at, path, true);
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::remove(const Credentials& creds, const Loc& at, std::string_view path, bool directory) {
    Walker walker(*this, creds);
    LITEBOX_TRY_ASSIGN(Parent p, walker.parent(at, path));
    if (directory) {
        if (p.kind == LastKind::dot) return Errno::inval;
        if (p.kind == LastKind::dotdot) return Errno::notempty;
        if (p.kind == LastKind::root) return Errno::busy;
    } else if (p.kind != LastKind::normal) {
        return Errno::isdir;
    }
    if (p.dir.mount->read_only()) return Errno::rofs;
    LITEBOX_TRY_ASSIGN(Loc victim, lookup_component(creds, p.dir, p.last, true));
    if (!directory && p.trailing_slash) return victim.is_directory() ? Errno::isdir : Errno::notdir;
    LITEBOX_TRY_ASSIGN(const Ownership dir_owner, p.dir.inode->ownership());
    LITEBOX_TRY(check_permission(creds, dir_owner, access_mode::write | access_mode::execute));
    LITEBOX_TRY_ASSIGN(const Ownership victim_owner, victim.inode->ownership());
    LITEBOX_TRY(check_sticky(creds, dir_owner, victim_owner));
    if (directory && !victim.is_directory()) return Errno::notdir;
    if (!directory && victim.is_directory()) return Errno::isdir;
    if (victim.mount != p.dir.mount || victim.inode->m_mounts.load(std::memory_order_acquire) != 0) return Errno::busy;
    const auto links = detail::LinksBefore::of(*m_inotify, victim);
    LITEBOX_TRY(directory ? p.dir.inode->rmdir(p.last) : p.dir.inode->unlink(p.last));
    if (m_inotify->active()) {
        // Linux's order: the link count (unlink only), the inode (if that was its last name and
        // nothing holds it open), then the name in the parent.
        if (!directory) m_inotify->self_event(victim, in_event::attrib);
        if (directory || links.last_gone(victim)) m_inotify->unlinked(victim);
        m_inotify->child_event(p.dir, p.last, in_event::delete_child | (directory ? in_event::is_dir : 0u));
    }
    return ok();
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::rename(const Credentials& creds, const Loc& old_at, std::string_view old_path, const Loc& new_at,
                            std::string_view new_path, std::uint32_t flags) {
    if ((flags & ~(rename_flags::no_replace | rename_flags::exchange | rename_flags::whiteout)) != 0) return Errno::inval;
    if ((flags & rename_flags::exchange) && (flags & (rename_flags::no_replace | rename_flags::whiteout))) return Errno::inval;
    if (flags & rename_flags::whiteout) return Errno::inval;
    const bool exchange = (flags & rename_flags::exchange) != 0;
    Walker old_walker(*this, creds);
    LITEBOX_TRY_ASSIGN(Parent from, old_walker.parent(old_at, old_path));
    Walker new_walker(*this, creds);
    LITEBOX_TRY_ASSIGN(Parent to, new_walker.parent(new_at, new_path));
    if (from.dir.mount != to.dir.mount) return Errno::xdev;
    if (from.kind != LastKind::normal) return Errno::busy;
    if (to.kind != LastKind::normal) return (flags & rename_flags::no_replace) ? Errno::exist : Errno::busy;
    if (from.dir.mount->read_only()) return Errno::rofs;

    auto serial = m_rename_lock.lock();
    LITEBOX_TRY_ASSIGN(Loc source, lookup_component(creds, from.dir, from.last, true));
    auto target = lookup_component(creds, to.dir, to.last, true);
    if (!target && target.error() != Errno::noent) return target.error();
    if (target && (flags & rename_flags::no_replace)) return Errno::exist;
    if (exchange) {
        if (!target) return Errno::noent;
        if (!target->is_directory() && to.trailing_slash) return Errno::notdir;
    }
    if (!source.is_directory()) {
        if (from.trailing_slash) return Errno::notdir;
        if (to.trailing_slash && !exchange) return Errno::notdir;
    }
    if (source.mount != from.dir.mount || (target && target->mount != to.dir.mount)) return Errno::busy;
    // Neither may be an ancestor of the other's new parent: walk up from each parent.
    const auto is_ancestor = [](const InodePtr& candidate, InodePtr dir) -> Result<bool> {
        for (std::size_t depth = 0; depth < (1u << 20); ++depth) {
            if (dir == candidate) return true;
            LITEBOX_TRY_ASSIGN(auto up, dir->lookup(".."));
            if (up == dir) return false;
            dir = std::move(up);
        }
        return Errno::loop;
    };
    if (from.dir.inode != to.dir.inode) {
        if (source.is_directory()) {
            LITEBOX_TRY_ASSIGN(const bool inside, is_ancestor(source.inode, to.dir.inode));
            if (inside) return Errno::inval;
        }
        if (target && target->is_directory()) {
            LITEBOX_TRY_ASSIGN(const bool inside, is_ancestor(target->inode, from.dir.inode));
            if (inside) return exchange ? Errno::inval : Errno::notempty;
        }
    }
    if (target && target->inode == source.inode) return ok();
    // may_delete on the source; may_delete or may_create on the target.
    LITEBOX_TRY_ASSIGN(const Ownership from_owner, from.dir.inode->ownership());
    LITEBOX_TRY(check_permission(creds, from_owner, access_mode::write | access_mode::execute));
    LITEBOX_TRY_ASSIGN(const Ownership source_owner, source.inode->ownership());
    LITEBOX_TRY(check_sticky(creds, from_owner, source_owner));
    LITEBOX_TRY_ASSIGN(const Ownership to_owner, to.dir.inode->ownership());
    LITEBOX_TRY(check_permission(creds, to_owner, access_mode::write | access_mode::execute));
    if (target) {
        LITEBOX_TRY_ASSIGN(const Ownership target_owner, target->inode->ownership());
        LITEBOX_TRY(check_sticky(creds, to_owner, target_owner));
        if (!exchange) {
            if (source.is_directory() && !target->is_directory()) return Errno::notdir;
            if (!source.is_directory() && target->is_directory()) return Errno::isdir;
        }
    }
    // A directory that changes parent needs write permission on itself (its ".." changes).
    if (from.dir.inode != to.dir.inode) {
        if (source.is_directory()) LITEBOX_TRY(check_permission(creds, source_owner, access_mode::write));
        if (exchange && target && target->is_directory()) {
            LITEBOX_TRY_ASSIGN(const Ownership target_owner, target->inode->ownership());
            LITEBOX_TRY(check_permission(creds, target_owner, access_mode::write));
        }
    }
    if (source.inode->m_mounts.load() != 0 || (target && target->inode->m_mounts.load() != 0)) return Errno::busy;
    const auto target_links = target ? detail::LinksBefore::of(*m_inotify, *target) : detail::LinksBefore{};
    LITEBOX_TRY(from.dir.inode->rename(from.last, *to.dir.inode, to.last, flags));
    if (m_inotify->active()) {  // Linux's fsnotify_move, once per object that moved
        const auto moved = [&](const Loc& object, const Loc& old_dir, std::string_view old_name, const Loc& new_dir,
                               std::string_view new_name, const Loc* replaced) {
            const std::uint32_t dir_bit = object.is_directory() ? in_event::is_dir : 0u;
            const std::uint32_t cookie = m_inotify->next_cookie();
            m_inotify->child_event(old_dir, old_name, in_event::moved_from | dir_bit, cookie);
            m_inotify->child_event(new_dir, new_name, in_event::moved_to | dir_bit, cookie);
            if (replaced != nullptr && !replaced->is_directory()) m_inotify->self_event(*replaced, in_event::attrib);
            m_inotify->self_event(object, in_event::move_self);
        };
        if (exchange) {
            moved(source, from.dir, from.last, to.dir, to.last, nullptr);
            moved(*target, to.dir, to.last, from.dir, from.last, nullptr);
        } else {
            moved(source, from.dir, from.last, to.dir, to.last, target ? &*target : nullptr);
            if (target && (target->is_directory() || target_links.last_gone(*target))) m_inotify->unlinked(*target);
        }
    }
    return ok();
}

// ---- hooks -----------------------------------------------------------------------------------

template <platform::RawMutexProvider P>
void Vfs<P>::set_fifo_opener(FifoOpener opener) {
    m_hooks.with_lock([&](Hooks& h) { h.fifo = std::move(opener); });
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::register_device(std::uint64_t device, DeviceOpener opener) {
    if (!opener) return Errno::inval;
    return m_hooks.with_lock([&](Hooks& h) -> Result<void> {
        if (!h.devices.emplace(device, std::move(opener)).second) return Errno::exist;
        return ok();
    });
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::register_device_major(std::uint32_t major, DeviceOpener opener) {
    return register_device(detail::device_major_key(major), std::move(opener));
}

template <platform::RawMutexProvider P>
void Vfs<P>::unregister_device(std::uint64_t device) noexcept {
    m_hooks.with_lock([&](Hooks& h) { h.devices.erase(device); });
}

template <platform::RawMutexProvider P>
void Vfs<P>::unregister_device_major(std::uint32_t major) noexcept {
    unregister_device(detail::device_major_key(major));
}

template <platform::RawMutexProvider P>
Result<void> Vfs<P>::bind_socket(const Credentials& creds, const Loc& at, std::string_view path, std::shared_ptr<void> endpoint) {
    if (!endpoint) return Errno::inval;
    return create_node(creds, at, path, fd::mode::socket | (0777 & ~creds.umask), 0, {}, std::move(endpoint));
}

template <platform::RawMutexProvider P>
Result<std::shared_ptr<void>> Vfs<P>::connect_socket(const Credentials& creds, const Loc& at, std::string_view path) {
    LITEBOX_TRY_ASSIGN(Loc where, resolve(creds, at, path));
    LITEBOX_TRY_ASSIGN(const Ownership owner, where.inode->ownership());
    if (!is_socket(owner.mode)) return Errno::connrefused;
    LITEBOX_TRY(check_permission(creds, owner, access_mode::write));
    Attachment<P>* slot = where.inode->attachment();
    if (!slot) return Errno::connrefused;
    auto endpoint = slot->get();
    if (!endpoint) return Errno::connrefused;
    return endpoint;
}

}  // namespace litebox::fs
