// LiteBox<P>: the only door to the north API. Nothing of the library OS can be reached before a
// platform type is bound here.
//
// Lifetime rule: a LiteBox keeps a reference to its platform; the platform object must outlive the
// box (and every descriptor, thread or callback that still uses the box). A platform instance may
// serve several boxes at once; each box owns its own state (descriptors, file systems, network).
#pragma once

#include <memory>

#include "fd/table.hpp"
#include "fs/devfs.hpp"
#include "fs/tmpfs.hpp"
#include "fs/vfs.hpp"
#include "ipc/fifo.hpp"
#include "ipc/unix/namespace.hpp"
#include "log.hpp"
#include "net/stack.hpp"
#include "platform/concepts.hpp"
#include "platform/diagnose.hpp"

namespace litebox {

template <typename P>
class LiteBox {
    static_assert(platform::diagnose_provider<P>());

public:
    using Platform = P;

    /// A box whose root is a fresh tmpfs (with the given limits) holding /tmp (mode 1777) and a
    /// devfs mounted on /dev.
    explicit LiteBox(P& platform, fs::TmpfsLimits root_limits = {})
        : LiteBox(platform, fs::Tmpfs<P>::create(platform, root_limits, 0755)) {
        const auto creds = fs::Credentials::root();
        (void)m_fs->mkdir(creds, m_fs->root(), "/tmp", 01777);
        (void)m_fs->chmod(creds, m_fs->root(), "/tmp", 01777);  // past the umask
        (void)m_fs->mkdir(creds, m_fs->root(), "/dev", 0755);
        (void)fs::install_devfs(*m_fs, platform, creds, m_fs->root(), "/dev");
    }
    /// A box whose root is `root_fs` (a tar image, an overlay...). A devfs is mounted on /dev when
    /// the root has that directory.
    LiteBox(P& platform, std::shared_ptr<fs::FileSystem<P>> root_fs)
        : m_platform(&platform), m_fs(std::make_unique<fs::Vfs<P>>(platform, std::move(root_fs))) {
        const auto creds = fs::Credentials::root();
        auto dev = m_fs->stat(creds, m_fs->root(), "/dev");
        if (dev && fs::is_directory(dev->mode)) (void)fs::install_devfs(*m_fs, platform, creds, m_fs->root(), "/dev");
        ipc::install_fifo_opener(*m_fs, platform);
    }
    LiteBox(const LiteBox&) = delete;
    LiteBox& operator=(const LiteBox&) = delete;
    /// Drops every file still in flight in unix socket messages (breaks SCM_RIGHTS cycles).
    ~LiteBox() { m_unix_namespace->release_in_flight(); }

    /// The bound platform.
    [[nodiscard]] P& platform() const noexcept { return *m_platform; }

    /// The box's TCP/IP stack (loopback only until net().configure_interface()); see net/stack.hpp
    /// for how a runtime drives it with poll().
    [[nodiscard]] net::Stack<P>& net() noexcept { return m_net; }

    /// The platform's monotonic clock.
    [[nodiscard]] auto now() const noexcept { return m_platform->now(); }

    /// Logs one formatted line through the platform.
    template <typename... Args>
    void log(fmt::format_string<Args...> format, Args&&... args) const noexcept {
        litebox::log(*m_platform, format, std::forward<Args>(args)...);
    }

    /// The box's file-system namespace (mount table, path operations, record locks).
    [[nodiscard]] fs::Vfs<P>& fs() noexcept { return *m_fs; }
    /// The descriptor table of the box's initial process.
    [[nodiscard]] fd::DescriptorTable<P>& descriptors() noexcept { return m_descriptors; }
    /// The box's unix socket namespace: abstract names, limits, SCM_RIGHTS accounting.
    [[nodiscard]] const std::shared_ptr<ipc::UnixNamespace<P>>& unix_namespace() const noexcept { return m_unix_namespace; }

private:
    P* m_platform;
    std::unique_ptr<fs::Vfs<P>> m_fs;
    fd::DescriptorTable<P> m_descriptors;
    std::shared_ptr<ipc::UnixNamespace<P>> m_unix_namespace = ipc::UnixNamespace<P>::create();
    net::Stack<P> m_net{*m_platform};
};

}  // namespace litebox
