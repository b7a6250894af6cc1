// Opening files: open, openat, openat2, creat. The VFS opens; the descriptor (with its
// close-on-exec flag) goes into the process's table.
#pragma once

#include "fs_common.hpp"
#include "pty.hpp"

namespace litebox::shim::linux_abi {

namespace open_detail {
/// Linux's VALID_OPEN_FLAGS: other bits are ignored by open/openat and refused by openat2.
inline constexpr std::uint32_t valid_flags = 03 | 0100 | 0200 | 0400 | 01000 | 02000 | 04000 | 010000 | 020000 | 040000 | 0100000 |
                                             0200000 | 0400000 | 01000000 | 02000000 | 04000000 | 010000000 | 020000000;

template <typename P>
SyscallResult open_at(ThreadContext<P>& t, std::int32_t dirfd, std::uintptr_t path_address, std::uint32_t flags, std::uint32_t mode) {
    LITEBOX_TRY_ASSIGN(auto path, path_argument(t, dirfd, path_address));
    const bool creating = (flags & fd::open_flags::create) != 0 || (flags & fd::open_flags::tmpfile) == fd::open_flags::tmpfile;
    const bool close_on_exec = (flags & fd::open_flags::close_on_exec) != 0;
    const auto wait = t.wait_context();  // opening a FIFO waits for its partner
    const std::uint32_t open_flags = (flags & valid_flags & ~fd::open_flags::close_on_exec) | fd::open_flags::large_file;
    auto opened = t.kernel().vfs().open(fs_credentials(t), path.base, path.path, open_flags, creating ? (mode & 07777) : 0, &wait);
    if (!opened.has_value() && opened.error() == Errno::nxio) {  // /dev/tty without a console: a session's pty?
        if (auto tty = pty_open_tty(t, path.base, path.path, open_flags)) opened = std::move(tty);
    }
    if (!opened && opened.error() == Errno::opnotsupp && (flags & fd::open_flags::tmpfile) == fd::open_flags::tmpfile)
        t.kernel().unsupported(nr::openat, "O_TMPFILE on a file system without unnamed files (host directory, overlay)");
    LITEBOX_TRY_ASSIGN(auto file, std::move(opened));
    LITEBOX_TRY_ASSIGN(file, pty_after_open(t, std::move(file), flags));
    LITEBOX_TRY_ASSIGN(const int descriptor, t.files().insert(std::move(file), close_on_exec));
    return descriptor;
}
}  // namespace open_detail

template <typename P>
SyscallResult sys_open(ThreadContext<P>& t, const SyscallRequest& r) {
    return open_detail::open_at(t, abi::at_fdcwd, r.ptr(0), r.u32(1), r.u32(2));
}
template <typename P>
SyscallResult sys_openat(ThreadContext<P>& t, const SyscallRequest& r) {
    return open_detail::open_at(t, r.i32(0), r.ptr(1), r.u32(2), r.u32(3));
}
template <typename P>
SyscallResult sys_creat(ThreadContext<P>& t, const SyscallRequest& r) {
    return open_detail::open_at(t, abi::at_fdcwd, r.ptr(0), fd::open_flags::create | fd::open_flags::write_only | fd::open_flags::truncate,
                                r.u32(1));
}

/// openat2: struct open_how is copied in (a larger struct must be zero beyond what we know: E2BIG);
/// unknown flags, a mode without O_CREAT/O_TMPFILE and RESOLVE_* restrictions are refused.
template <typename P>
SyscallResult sys_openat2(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t dirfd = r.i32(0);
    const std::uintptr_t path_address = r.ptr(1), how_address = r.ptr(2);
    const std::uint64_t size = r.u64(3);
    constexpr std::uint64_t page = 4096;
    if (size < sizeof(abi::open_how) || size > page) return size > page ? Errno::toobig : Errno::inval;
    LITEBOX_TRY_ASSIGN(const abi::open_how how, Guest<P>::template read<abi::open_how>(how_address));
    if (size > sizeof(abi::open_how)) {
        LITEBOX_TRY_ASSIGN(const auto rest, Guest<P>::template read_array<std::uint8_t>(how_address + sizeof(abi::open_how),
                                                                                       static_cast<std::size_t>(size - sizeof(abi::open_how))));
        for (const auto b : rest)
            if (b != 0) return Errno::toobig;
    }
    if ((how.flags & ~std::uint64_t{open_detail::valid_flags}) != 0 || (how.mode & ~std::uint64_t{07777}) != 0) return Errno::inval;
    const auto flags = static_cast<std::uint32_t>(how.flags);
    const bool creating = (flags & fd::open_flags::create) != 0 || (flags & fd::open_flags::tmpfile) == fd::open_flags::tmpfile;
    if (!creating && how.mode != 0) return Errno::inval;
    constexpr std::uint64_t resolve_no_magiclinks = 0x02;
    if ((how.resolve & ~resolve_no_magiclinks) != 0) {
        t.kernel().unsupported(r.number, "RESOLVE_* restrictions");
        return Errno::inval;
    }
    return open_detail::open_at(t, dirfd, path_address, flags, static_cast<std::uint32_t>(how.mode));
}

}  // namespace litebox::shim::linux_abi
