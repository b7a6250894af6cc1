// Vfs<P>::open and friends (included at the end of vfs.hpp).
#pragma once

#include "../vfs.hpp"  // for standalone header checks; vfs.hpp includes this file at its end

#include "../file.hpp"

namespace litebox::fs {

namespace detail {
/// A description opened through a magic link has the origin of the object it leads to (if any).
template <platform::RawMutexProvider P, typename Walker>
void set_jump_origin(FileHandle<P>& handle, const Walker& walker) {
    if (const auto& origin = walker.jump_origin()) handle.set_origin(origin->directory, origin->name);
}
}  // namespace detail

template <platform::RawMutexProvider P>
Result<typename Vfs<P>::FilePtr> Vfs<P>::open(const Credentials& creds, const Loc& at, std::string_view path,
                                               std::uint32_t flags, std::uint32_t mode, const event::WaitContext<P>* wait) {
    if ((flags & fd::open_flags::tmpfile & ~fd::open_flags::directory) != 0) return open_unnamed(creds, at, path, flags, mode, wait);
    bool created = false;
    LITEBOX_TRY_ASSIGN(FilePtr file, open_named(creds, at, path, flags, mode, wait, created));
    opened(file, created, flags);
    return file;
}

template <platform::RawMutexProvider P>
void Vfs<P>::opened(const FilePtr& file, bool created, std::uint32_t flags) {
    auto* handle = dynamic_cast<FileHandle<P>*>(file.get());
    if (handle == nullptr || (flags & fd::open_flags::path) != 0) return;
    if (!handle->location().inode->is_regular() && !handle->location().is_directory()) return;
    handle->set_inotify(m_inotify);
    if (!m_inotify->active()) return;
    if (created) {
        if (const auto& origin = handle->origin()) m_inotify->child_event(origin->directory, origin->name, in_event::create);
    }
    handle->notify(in_event::open);
    // O_TRUNC's IN_MODIFY follows IN_OPEN, as on Linux (the truncation is done before, but
    // reported after the open).
    if (!created && (flags & fd::open_flags::truncate) != 0 && handle->location().inode->is_regular()) handle->notify(in_event::modify);
}

template <platform::RawMutexProvider P>
Result<typename Vfs<P>::FilePtr> Vfs<P>::open_named(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t flags,
                                                     std::uint32_t mode, const event::WaitContext<P>* wait, bool& created_now) {
    namespace of = fd::open_flags;
    if (flags & of::path) flags &= of::path | of::directory | of::no_follow | of::close_on_exec;
    const bool follow = (flags & of::no_follow) == 0;
    Walker walker(*this, creds);
    if ((flags & of::create) == 0) {
        LITEBOX_TRY_ASSIGN(Parent p, walker.parent(at, path));
        LITEBOX_TRY_ASSIGN(Loc where, walker.final(std::move(p), follow, (flags & of::directory) != 0));
        LITEBOX_TRY_ASSIGN(FilePtr file, open_resolved(creds, where, flags, false, wait));
        if (auto* handle = dynamic_cast<FileHandle<P>*>(file.get())) {
            // Named by the link's target when the last component was a symbolic link. (A
            // directory's origin only tells inotify which directory it was opened in.)
            if (walker.final_jumped()) detail::set_jump_origin(*handle, walker);
            else if (const auto& origin = walker.final_origin()) handle->set_origin(origin->directory, origin->name);
        }
        return file;
    }
    LITEBOX_TRY_ASSIGN(Parent p, walker.parent(at, path));
    for (int races = 0; races < 8;) {  // symlinks are bounded by the walker's link count
        if (p.kind != LastKind::normal || p.trailing_slash) return Errno::isdir;
        auto child = lookup_component(creds, p.dir, p.last, true);
        if (child) {
            if (flags & of::exclusive) return Errno::exist;
            if (child->inode->is_symlink()) {
                if (!follow) return Errno::loop;
                LITEBOX_TRY_ASSIGN(std::optional<Loc> jump, walker.take_jump(*child));
                if (jump) {  // a magic link: the object exists, so O_CREAT only opens it
                    if (jump->is_directory()) return Errno::isdir;
                    LITEBOX_TRY_ASSIGN(FilePtr file, open_resolved(creds, *jump, flags & ~of::create, false, wait));
                    if (auto* handle = dynamic_cast<FileHandle<P>*>(file.get())) detail::set_jump_origin(*handle, walker);
                    return file;
                }
                LITEBOX_TRY_ASSIGN(p, walker.follow_link(p.dir, *child));
                continue;
            }
            if (child->is_directory()) return Errno::isdir;
            LITEBOX_TRY_ASSIGN(FilePtr file, open_resolved(creds, *child, flags, false, wait));
            if (auto* handle = dynamic_cast<FileHandle<P>*>(file.get())) handle->set_origin(p.dir, p.last);
            return file;
        }
        if (child.error() != Errno::noent) return child.error();
        if (p.dir.mount->read_only()) return Errno::rofs;
        LITEBOX_TRY_ASSIGN(const Ownership dir_owner, p.dir.inode->ownership());
        LITEBOX_TRY(check_permission(creds, dir_owner, access_mode::write | access_mode::execute));
        LITEBOX_TRY_ASSIGN(const NewNode node, new_node(creds, p.dir, fd::mode::regular | (mode & 07777 & ~creds.umask)));
        auto created = p.dir.inode->create(p.last, node);
        if (!created && created.error() == Errno::exist && (flags & of::exclusive) == 0) {  // lost a race
            ++races;
            continue;
        }
        if (!created) return created.error();
        LITEBOX_TRY_ASSIGN(FilePtr file, open_resolved(creds, Loc{p.dir.mount, std::move(*created)}, flags, true, wait));
        if (auto* handle = dynamic_cast<FileHandle<P>*>(file.get())) handle->set_origin(p.dir, p.last);
        created_now = true;
        return file;
    }
    return Errno::again;
}

template <platform::RawMutexProvider P>
Result<typename Vfs<P>::FilePtr> Vfs<P>::open_location(const Credentials& creds, const Loc& where, std::uint32_t flags) {
    if (!where.valid()) return Errno::badf;
    LITEBOX_TRY_ASSIGN(FilePtr file, open_resolved(creds, where, flags & ~(fd::open_flags::create | fd::open_flags::exclusive), false));
    opened(file, false, flags);
    return file;
}

/// O_TMPFILE, in Linux's order: the flags (EINVAL without write access, with O_CREAT or O_PATH,
/// or __O_TMPFILE without O_DIRECTORY),
/// the directory (ENOENT, ENOTDIR), a read-only mount (EROFS), write and search permission on it
/// (EACCES), then the backend (EOPNOTSUPP where it has no unnamed files). O_EXCL: never linkable.
template <platform::RawMutexProvider P>
Result<typename Vfs<P>::FilePtr> Vfs<P>::open_unnamed(const Credentials& creds, const Loc& at, std::string_view path, std::uint32_t flags,
                                                      std::uint32_t mode, const event::WaitContext<P>* wait) {
    namespace of = fd::open_flags;
    const std::uint32_t access = flags & of::access_mode;
    if ((flags & (of::create | of::path)) != 0 || (flags & of::directory) == 0 || (access != of::write_only && access != of::read_write))
        return Errno::inval;
    LITEBOX_TRY_ASSIGN(Loc dir, resolve(creds, at, path, 0));
    if (!dir.is_directory()) return Errno::notdir;
    if (dir.mount->read_only()) return Errno::rofs;
    LITEBOX_TRY_ASSIGN(const Ownership dir_owner, dir.inode->ownership());
    LITEBOX_TRY(check_permission(creds, dir_owner, access_mode::write | access_mode::execute));
    LITEBOX_TRY_ASSIGN(const NewNode node, new_node(creds, dir, fd::mode::regular | (mode & 07777 & ~creds.umask)));
    LITEBOX_TRY_ASSIGN(auto inode, dir.inode->create_unnamed(node, (flags & of::exclusive) == 0));
    const std::uint64_t ino = inode->ino();
    LITEBOX_TRY_ASSIGN(FilePtr file, open_resolved(creds, Loc{dir.mount, std::move(inode)}, flags & ~(of::tmpfile | of::exclusive), true, wait));
    // /proc/<pid>/fd names it "#<inode> (deleted)" in its directory, as Linux does.
    if (auto* handle = dynamic_cast<FileHandle<P>*>(file.get())) handle->set_origin(std::move(dir), "#" + std::to_string(ino));
    opened(file, false, flags & ~fd::open_flags::truncate);
    return file;
}

template <platform::RawMutexProvider P>
Result<typename Vfs<P>::FilePtr> Vfs<P>::open_resolved(const Credentials& creds, const Loc& where, std::uint32_t flags,
                                                        bool created, const event::WaitContext<P>* wait) {
    namespace of = fd::open_flags;
    const std::uint32_t type = where.inode->type();
    if ((flags & of::directory) && type != fd::mode::directory) return Errno::notdir;
    if (flags & of::path) return FilePtr(std::make_shared<PathFile<P>>(where, flags));
    if (type == fd::mode::symlink) return Errno::loop;

    const std::uint32_t access = flags & of::access_mode;
    const bool wants_write = access == of::write_only || access == of::read_write || access == of::access_mode ||
                             (flags & of::truncate) != 0;
    const bool wants_read = access == of::read_only || access == of::read_write || access == of::access_mode;
    if (type == fd::mode::directory && wants_write) return Errno::isdir;
    if (!created) {
        LITEBOX_TRY_ASSIGN(const Ownership owner, where.inode->ownership());
        if (wants_write && where.mount->read_only() && (type == fd::mode::regular || type == fd::mode::directory)) {
            return Errno::rofs;
        }
        const std::uint32_t mask = (wants_read ? access_mode::read : 0u) | (wants_write ? access_mode::write : 0u);
        LITEBOX_TRY(check_permission(creds, owner, mask));
    }
    switch (type) {
        case fd::mode::regular:
            if (wants_write && !created) LITEBOX_TRY(where.inode->prepare_write((flags & of::truncate) != 0));
            if (!created && (flags & of::truncate)) LITEBOX_TRY(where.inode->truncate(0));
            return FilePtr(std::make_shared<RegularFile<P>>(where, flags));
        case fd::mode::directory:
            return FilePtr(std::make_shared<DirectoryFile<P>>(where, flags));
        case fd::mode::fifo: {
            Attachment<P>* slot = where.inode->attachment();
            FifoOpener opener = m_hooks.with_lock([](Hooks& h) { return h.fifo; });
            if (!slot || !opener) return Errno::nxio;
            LITEBOX_TRY_ASSIGN(FilePtr end, opener(*slot, flags & ~of::close_on_exec, wait));
            return FilePtr(std::make_shared<FifoFile<P>>(where, flags, std::move(end)));
        }
        case fd::mode::char_device: {
            if (where.mount->flags & mount_flags::no_dev) return Errno::acces;
            LITEBOX_TRY_ASSIGN(const Stat st, where.inode->getattr());
            DeviceOpener opener = m_hooks.with_lock([&](Hooks& h) -> DeviceOpener {
                auto it = h.devices.find(st.represented_device);
                if (it == h.devices.end()) it = h.devices.find(detail::device_major_key(device_major(st.represented_device)));
                return it == h.devices.end() ? DeviceOpener{} : it->second;
            });
            if (!opener) return Errno::nxio;
            return opener(where, flags & ~of::close_on_exec);
        }
        default:  // block devices and sockets cannot be opened
            return Errno::nxio;
    }
}

}  // namespace litebox::fs
