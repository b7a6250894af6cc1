// devfs: the box's /dev — a tmpfs with character-device nodes whose openers the Vfs's device
// registry holds: /dev/null, /dev/zero, /dev/full always; /dev/random and /dev/urandom when the
// platform satisfies CrngProvider; /dev/tty, /dev/stdin, /dev/stdout and /dev/stderr when it
// satisfies StdioProvider. A platform without a capability simply has no node for it.
//
// Contract of the devices (Linux's): null reads end of file and swallows writes; zero reads zeros
// and swallows writes; full reads zeros and fails writes with ENOSPC; random/urandom read the
// platform's CSPRNG and accept (ignore) writes; stdio devices read the host's standard input and
// write its standard output or error (they may block, as a terminal does). Seeking the memory
// devices always yields offset 0; seeking stdio devices fails with ESPIPE.
#pragma once

#include <cstring>
#include <memory>
#include <span>

#include "../fd/open_file.hpp"
#include "../platform/concepts.hpp"
#include "file.hpp"
#include "tmpfs.hpp"
#include "vfs.hpp"

namespace litebox::fs {

/// Device numbers (st_rdev) of the devfs nodes.
namespace devices {
inline constexpr std::uint64_t null = make_device(1, 3);
inline constexpr std::uint64_t zero = make_device(1, 5);
inline constexpr std::uint64_t full = make_device(1, 7);
inline constexpr std::uint64_t random = make_device(1, 8);
inline constexpr std::uint64_t urandom = make_device(1, 9);
inline constexpr std::uint64_t tty = make_device(5, 0);
/// LiteBox's own numbers (major 240, "local/experimental use") for the standard streams, which
/// Linux exposes through /proc/self/fd instead.
inline constexpr std::uint64_t stdin_stream = make_device(240, 0);
inline constexpr std::uint64_t stdout_stream = make_device(240, 1);
inline constexpr std::uint64_t stderr_stream = make_device(240, 2);
}  // namespace devices

/// Default byte and inode quota of the /dev tmpfs (device nodes and whatever a guest adds).
inline constexpr std::uint64_t default_devfs_max_bytes = 1ULL << 20;
inline constexpr std::uint64_t default_devfs_max_inodes = 256;

namespace detail {

enum class MemoryDevice { null, zero, full, random };

template <platform::RawMutexProvider P>
class MemoryDeviceFile final : public fd::OpenFile<P>, public FileHandle<P> {
public:
    MemoryDeviceFile(Location<P> where, std::uint32_t flags, MemoryDevice kind, const P& platform)
        : fd::OpenFile<P>(flags), FileHandle<P>(std::move(where)), m_kind(kind), m_platform(platform) {}

    Result<std::size_t> read(std::span<std::byte> out) override {
        if (!this->readable()) return Errno::badf;
        return fill(out);
    }
    Result<std::size_t> write(std::span<const std::byte> in) override {
        if (!this->writable()) return Errno::badf;
        if (m_kind == MemoryDevice::full && !in.empty()) return Errno::nospc;
        return in.size();
    }
    Result<std::size_t> pread(std::span<std::byte> out, std::uint64_t) override { return read(out); }
    Result<std::size_t> pwrite(std::span<const std::byte> in, std::uint64_t) override { return write(in); }
    Result<std::uint64_t> seek(std::int64_t, fd::Whence) override { return std::uint64_t{0}; }
    Result<Stat> stat() override { return this->m_location.stat(); }

private:
    Result<std::size_t> fill(std::span<std::byte> out) {
        switch (m_kind) {
            case MemoryDevice::null:
                return std::size_t{0};
            case MemoryDevice::random:
                if constexpr (platform::CrngProvider<P>) {
                    LITEBOX_TRY(m_platform.fill_random_bytes(out));
                    return out.size();
                } else {
                    return Errno::nodev;
                }
            default:
                if (!out.empty()) std::memset(out.data(), 0, out.size());
                return out.size();
        }
    }

    MemoryDevice m_kind;
    const P& m_platform;
};

template <platform::RawMutexProvider P>
    requires platform::StdioProvider<P>
class StdioDeviceFile final : public fd::OpenFile<P>, public FileHandle<P> {
public:
    /// in: the stream reads come from (stdin or none); out: the stream writes go to.
    StdioDeviceFile(Location<P> where, std::uint32_t flags, bool can_read, platform::StdioStream out, const P& platform)
        : fd::OpenFile<P>(flags), FileHandle<P>(std::move(where)), m_can_read(can_read), m_out(out), m_platform(platform) {}

    Result<std::size_t> read(std::span<std::byte> out) override {
        if (!this->readable()) return Errno::badf;
        if (!m_can_read) return Errno::inval;
        return m_platform.stdio_read(out);
    }
    Result<std::size_t> write(std::span<const std::byte> in) override {
        if (!this->writable()) return Errno::badf;
        if (in.empty()) return std::size_t{0};
        return m_platform.stdio_write(m_out, in);
    }
    Result<Stat> stat() override { return this->m_location.stat(); }
    /// The host stream terminal requests (ioctl) are about: standard input for the readable
    /// devices (/dev/tty, /dev/stdin), else the stream written to.
    [[nodiscard]] platform::StdioStream terminal_stream() const noexcept {
        return m_can_read ? platform::StdioStream::in : m_out;
    }

private:
    bool m_can_read;
    platform::StdioStream m_out;
    const P& m_platform;
};

}  // namespace detail

/// Mounts a devfs at `path` (a directory that exists; root credentials), registers its device
/// openers with `vfs`, and mounts a separate tmpfs (shm_limits, mode 1777) on <path>/shm.
/// The platform must outlive the Vfs and every device file.
template <platform::RawMutexProvider P>
    requires platform::TimeProvider<P>
Result<void> install_devfs(Vfs<P>& vfs, const P& platform, const Credentials& creds, const Location<P>& at,
                           std::string_view path = "/dev", TmpfsLimits shm_limits = {}) {
    TmpfsLimits limits;
    limits.max_bytes = default_devfs_max_bytes;
    limits.max_inodes = default_devfs_max_inodes;
    auto devfs = Tmpfs<P>::create(platform, limits, 0755);
    auto root = devfs->root();
    const auto node = [&](std::string_view name, std::uint64_t device, std::uint32_t perm) -> Result<void> {
        LITEBOX_TRY(root->create(name, NewNode{fd::mode::char_device | perm, 0, 0, device}));
        return ok();
    };
    const auto memory = [&](std::uint64_t device, detail::MemoryDevice kind) {
        return vfs.register_device(device, [kind, &platform](const Location<P>& where, std::uint32_t flags) -> Result<std::shared_ptr<fd::OpenFile<P>>> {
            return std::shared_ptr<fd::OpenFile<P>>(std::make_shared<detail::MemoryDeviceFile<P>>(where, flags, kind, platform));
        });
    };
    const auto registered = [](Result<void> r) { return r || r.error() == Errno::exist; };  // a second install shares openers

    LITEBOX_TRY(node("null", devices::null, 0666));
    LITEBOX_TRY(node("zero", devices::zero, 0666));
    LITEBOX_TRY(node("full", devices::full, 0666));
    if (!registered(memory(devices::null, detail::MemoryDevice::null))) return Errno::exist;
    if (!registered(memory(devices::zero, detail::MemoryDevice::zero))) return Errno::exist;
    if (!registered(memory(devices::full, detail::MemoryDevice::full))) return Errno::exist;
    if constexpr (platform::CrngProvider<P>) {
        LITEBOX_TRY(node("random", devices::random, 0666));
        LITEBOX_TRY(node("urandom", devices::urandom, 0666));
        if (!registered(memory(devices::random, detail::MemoryDevice::random))) return Errno::exist;
        if (!registered(memory(devices::urandom, detail::MemoryDevice::random))) return Errno::exist;
    }
    if constexpr (platform::StdioProvider<P>) {
        struct Stream {
            const char* name;
            std::uint64_t device;
            bool can_read;
            platform::StdioStream out;
        };
        constexpr Stream streams[] = {
            {"tty", devices::tty, true, platform::StdioStream::out},
            {"stdin", devices::stdin_stream, true, platform::StdioStream::out},
            {"stdout", devices::stdout_stream, false, platform::StdioStream::out},
            {"stderr", devices::stderr_stream, false, platform::StdioStream::err},
        };
        for (const Stream& s : streams) {
            LITEBOX_TRY(node(s.name, s.device, 0666));
            const bool done = registered(vfs.register_device(
                s.device, [s, &platform](const Location<P>& where, std::uint32_t flags) -> Result<std::shared_ptr<fd::OpenFile<P>>> {
                    return std::shared_ptr<fd::OpenFile<P>>(
                        std::make_shared<detail::StdioDeviceFile<P>>(where, flags, s.can_read, s.out, platform));
                }));
            if (!done) return Errno::exist;
        }
    }
    LITEBOX_TRY(root->mkdir("shm", NewNode{fd::mode::directory | 0755, 0, 0, 0}));
    LITEBOX_TRY(vfs.mount(creds, at, path, std::move(devfs)));
    // /dev/shm is a tmpfs of its own (POSIX shared memory), as on Linux.
    LITEBOX_TRY_ASSIGN(auto dev, vfs.resolve_directory(creds, at, path));
    return vfs.mount(creds, dev, "shm", Tmpfs<P>::create(platform, shm_limits, 01777));
}

}  // namespace litebox::fs
