// devpts: the box's pseudo-terminals in the file system. install_pty_devices() makes /dev/ptmx
// (character device 5:2, mode 0666: each open creates a pair of a PtyTable and returns its master)
// and mounts a PtsFs on /dev/pts: a directory listing the live slaves as /dev/pts/N (character
// device 136:N, mode 0620, owned by the pair's owner), each openable by path while its master is
// open and the pair unlocked (EIO while locked, as Linux).
#pragma once

#include <charconv>
#include <memory>
#include <string>
#include <string_view>

#include "../ipc/pty.hpp"
#include "backend.hpp"
#include "detail/clock.hpp"
#include "vfs.hpp"

namespace litebox::fs {

namespace devpts_detail {

/// devpts's f_type (DEVPTS_SUPER_MAGIC).
inline constexpr std::uint64_t devpts_magic = 0x1cd1;

/// The index a /dev/pts name stands for (decimal, no sign, no leading zero).
inline std::optional<unsigned> parse_index(std::string_view name) noexcept {
    if (name.empty() || name.size() > 9 || (name.size() > 1 && name[0] == '0')) return std::nullopt;
    unsigned value = 0;
    const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), value);
    if (error != std::errc{} || end != name.data() + name.size()) return std::nullopt;
    return value;
}

template <platform::RawMutexProvider P>
class SlaveNode final : public Inode<P> {
public:
    SlaveNode(std::shared_ptr<ipc::PtyTable<P>> table, unsigned index)
        : Inode<P>(index + 3, fd::mode::char_device), m_table(std::move(table)), m_index(index) {}

    Result<Stat> getattr() override {
        auto pair = m_table->find(m_index);
        if (!pair) return Errno::noent;
        const auto owner = pair->owner();
        Stat st;
        st.inode = this->ino();
        st.mode = fd::mode::char_device | owner.mode;
        st.link_count = 1;
        st.uid = owner.uid;
        st.gid = owner.gid;
        st.represented_device = make_device(ipc::pty_slave_major, m_index);
        st.block_size = 1024;
        st.access_time = st.modify_time = st.change_time = pair->created();
        return st;
    }
    Result<Ownership> ownership() override {
        auto pair = m_table->find(m_index);
        if (!pair) return Errno::noent;
        const auto owner = pair->owner();
        return Ownership{fd::mode::char_device | owner.mode, owner.uid, owner.gid};
    }
    /// chmod (the Vfs checked the caller); chown is refused (EPERM), as only root may give a
    /// terminal away and no guest needs to.
    Result<void> setattr(const AttrChange& change) override {
        auto pair = m_table->find(m_index);
        if (!pair) return Errno::noent;
        if (change.uid || change.gid) {
            const auto owner = pair->owner();
            if ((change.uid && *change.uid != owner.uid) || (change.gid && *change.gid != owner.gid)) return Errno::perm;
        }
        if (change.mode) pair->set_mode(*change.mode);
        return ok();
    }

private:
    std::shared_ptr<ipc::PtyTable<P>> m_table;
    unsigned m_index;
};

template <platform::RawMutexProvider P>
class RootNode final : public Inode<P> {
public:
    explicit RootNode(std::shared_ptr<ipc::PtyTable<P>> table) : Inode<P>(1, fd::mode::directory), m_table(std::move(table)) {}

    Result<Stat> getattr() override {
        Stat st;
        st.inode = 1;
        st.mode = fd::mode::directory | 0755;
        st.link_count = 2;
        return st;
    }
    Result<typename Inode<P>::Ptr> lookup(std::string_view name) override {
        const auto index = parse_index(name);
        if (!index || !m_table->find(*index)) return Errno::noent;
        return typename Inode<P>::Ptr(std::make_shared<SlaveNode<P>>(m_table, *index));
    }
    Result<void> readdir(std::uint64_t cookie, fd::DirectorySink& sink) override {
        for (const unsigned index : m_table->indices()) {
            const std::uint64_t key = std::uint64_t{index} + 1;
            if (key < cookie) continue;
            const std::string name = std::to_string(index);
            if (!sink.add(fd::DirectoryEntry{name, std::uint64_t{index} + 3, fd::dirent_type::char_device, key + 1})) break;
        }
        return ok();
    }

private:
    std::shared_ptr<ipc::PtyTable<P>> m_table;
};

}  // namespace devpts_detail

/// The /dev/pts file system of one PtyTable.
template <platform::RawMutexProvider P>
class PtsFs final : public FileSystem<P> {
public:
    explicit PtsFs(std::shared_ptr<ipc::PtyTable<P>> table)
        : m_table(table), m_root(std::make_shared<devpts_detail::RootNode<P>>(std::move(table))) {}
    typename Inode<P>::Ptr root() override { return m_root; }
    Result<StatFs> statfs() override {
        StatFs s;
        s.type = devpts_detail::devpts_magic;
        s.block_size = 4096;
        s.files = m_table->max_ptys();
        s.files_free = s.files - std::min<std::uint64_t>(s.files, m_table->indices().size());
        return s;
    }
    [[nodiscard]] std::string_view type_name() const noexcept override { return "devpts"; }

private:
    std::shared_ptr<ipc::PtyTable<P>> m_table;
    typename Inode<P>::Ptr m_root;
};

/// What install_pty_devices did, for remove_pty_devices.
template <platform::RawMutexProvider P>
struct PtyDevices {
    std::shared_ptr<PtsFs<P>> pts;
    bool made_ptmx = false;
    bool made_pts_directory = false;
    bool made_tty = false;
    bool registered_tty = false;
};

/// Makes /dev/ptmx and mounts /dev/pts (both under `dev`, a directory; root credentials) and
/// registers the openers for `table`'s devices with `vfs`. EEXIST when another table's openers
/// are registered already.
template <platform::RawMutexProvider P>
    requires platform::TimeProvider<P>
Result<PtyDevices<P>> install_pty_devices(Vfs<P>& vfs, const P& platform, std::shared_ptr<ipc::PtyTable<P>> table,
                                          std::string_view dev = "/dev") {
    const auto root = Credentials::root();
    LITEBOX_TRY_ASSIGN(auto directory, vfs.resolve_directory(root, vfs.root(), dev));
    const std::uint64_t ptmx_device = make_device(ipc::ptmx_major, ipc::ptmx_minor);
    std::weak_ptr<ipc::PtyTable<P>> weak = table;
    LITEBOX_TRY(vfs.register_device(ptmx_device, [weak, &platform](const Location<P>& where, std::uint32_t flags)
                                                      -> Result<typename Vfs<P>::FilePtr> {
        auto owner = weak.lock();
        if (!owner) return Errno::nodev;
        LITEBOX_TRY_ASSIGN(auto pair, owner->allocate(detail::wall_clock_now(platform)));
        return typename Vfs<P>::FilePtr(std::make_shared<ipc::PtyMaster<P>>(where, flags, std::move(pair)));
    }));
    if (auto r = vfs.register_device_major(ipc::pty_slave_major, [weak](const Location<P>& where, std::uint32_t flags)
                                                                      -> Result<typename Vfs<P>::FilePtr> {
            auto owner = weak.lock();
            if (!owner) return Errno::nodev;
            LITEBOX_TRY_ASSIGN(const Stat st, where.inode->getattr());
            auto pair = owner->find(device_minor(st.represented_device));
            if (!pair) return Errno::io;
            LITEBOX_TRY_ASSIGN(auto slave, ipc::PtySlave<P>::make(where, flags, std::move(pair)));
            return typename Vfs<P>::FilePtr(std::move(slave));
        });
        !r) {
        vfs.unregister_device(ptmx_device);
        return r.error();
    }
    PtyDevices<P> made;
    // /dev/tty (5:0) exists on Linux whatever the console: without the platform's stdio devices it
    // opens nothing (ENXIO), and the shim turns it into a session's pty.
    const std::uint64_t tty_device = make_device(5, 0);
    made.registered_tty = vfs.register_device(tty_device, [](const Location<P>&, std::uint32_t) -> Result<typename Vfs<P>::FilePtr> {
        return Errno::nxio;
    }).has_value();
    if (!vfs.stat(root, directory, "tty", at_flags::symlink_nofollow))
        made.made_tty = vfs.mknod(root, directory, "tty", fd::mode::char_device | 0666, tty_device).has_value();
    if (made.made_tty) (void)vfs.chmod(root, directory, "tty", 0666);  // past the umask
    if (!vfs.stat(root, directory, "ptmx", at_flags::symlink_nofollow)) {
        made.made_ptmx = vfs.mknod(root, directory, "ptmx", fd::mode::char_device | 0666, ptmx_device).has_value();
        if (made.made_ptmx) (void)vfs.chmod(root, directory, "ptmx", 0666);  // past the umask
    }
    if (auto r = vfs.mkdir(root, directory, "pts", 0755); r) made.made_pts_directory = true;
    made.pts = std::make_shared<PtsFs<P>>(std::move(table));
    if (auto mounted = vfs.mount(root, directory, "pts", made.pts, mount_flags::no_suid | mount_flags::no_exec); !mounted) {
        made.pts.reset();
    }
    return made;
}

/// Undoes install_pty_devices (what it made, while it is still as it made it).
template <platform::RawMutexProvider P>
void remove_pty_devices(Vfs<P>& vfs, const PtyDevices<P>& made, std::string_view dev = "/dev") noexcept {
    try {
        const auto root = Credentials::root();
        vfs.unregister_device(make_device(ipc::ptmx_major, ipc::ptmx_minor));
        vfs.unregister_device_major(ipc::pty_slave_major);
        if (made.registered_tty) vfs.unregister_device(make_device(5, 0));
        auto directory = vfs.resolve_directory(root, vfs.root(), dev);
        if (!directory) return;
        if (made.pts) {
            if (auto where = vfs.resolve(root, *directory, "pts"); where && where->mount->fs.get() == made.pts.get())
                (void)vfs.unmount(root, *directory, "pts");
        }
        if (made.made_pts_directory) (void)vfs.rmdir(root, *directory, "pts");
        if (made.made_ptmx) (void)vfs.unlink(root, *directory, "ptmx");
        if (made.made_tty) (void)vfs.unlink(root, *directory, "tty");
    } catch (...) {
    }
}

}  // namespace litebox::fs
