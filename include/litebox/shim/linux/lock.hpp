// Advisory locks: flock and fcntl's record locks (F_GETLK, F_SETLK, F_SETLKW and the OFD forms).
// POSIX locks belong to the process (owner = pid) and OFD locks to the open file description, both
// in the VFS's RecordLocks; flock locks belong to the open file description too but live in their
// own table (the VFS's FlockLocks), so they never conflict with fcntl locks, as on Linux.
#pragma once

#include "fs_common.hpp"

namespace litebox::shim::linux_abi {

namespace lock_detail {
inline constexpr int f_ofd_getlk = 36;
inline constexpr int f_ofd_setlk = 37;
inline constexpr int f_ofd_setlkw = 38;
inline constexpr std::uint64_t description_owner_bit = std::uint64_t{1} << 63;

template <typename P>
std::uint64_t description_owner(const fd::OpenFile<P>& file) noexcept {
    return description_owner_bit | static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(&file));
}

/// F_GETLK / F_SETLK / F_SETLKW and the OFD variants for `file`.
template <typename P>
SyscallResult record_lock(ThreadContext<P>& t, const std::shared_ptr<fd::OpenFile<P>>& file, int command, std::uintptr_t address) {
    LITEBOX_TRY_ASSIGN(abi::flock request, Guest<P>::template read<abi::flock>(address));
    auto where = fs::Vfs<P>::location_of(*file);
    if (!where.has_value()) return Errno::inval;
    const bool ofd = command == f_ofd_getlk || command == f_ofd_setlk || command == f_ofd_setlkw;
    if (ofd && request.l_pid != 0) return Errno::inval;
    if (request.l_type != fs::lock_type::read && request.l_type != fs::lock_type::write && request.l_type != fs::lock_type::unlock)
        return Errno::inval;
    LITEBOX_TRY_ASSIGN(const fd::Stat status, file->stat());
    const std::uint64_t offset = request.l_whence == 1 ? file->seek(0, fd::Whence::current).value_or(0) : 0;
    LITEBOX_TRY_ASSIGN(const auto range, fs::lock_range(request.l_whence, request.l_start, request.l_len, offset,
                                                        static_cast<std::uint64_t>(status.size)));
    fs::RecordLock lock{request.l_type, range.first, range.second, ofd ? description_owner(*file) : static_cast<std::uint64_t>(t.pid()),
                        ofd ? -1 : t.pid()};
    auto& locks = t.kernel().vfs().locks();
    if (command == abi::f_getlk || command == f_ofd_getlk) {
        LITEBOX_TRY_ASSIGN(const fs::RecordLock found, locks.test(where->inode, lock));
        request.l_type = found.type;
        if (found.type != fs::lock_type::unlock) {
            request.l_whence = 0;
            request.l_start = static_cast<std::int64_t>(found.start);
            request.l_len = found.end == fs::lock_to_eof ? 0 : static_cast<std::int64_t>(found.end - found.start + 1);
            request.l_pid = found.pid;
        }
        LITEBOX_TRY(Guest<P>::write(address, request));
        return 0;
    }
    if (lock.type == fs::lock_type::read && !file->readable()) return Errno::badf;
    if (lock.type == fs::lock_type::write && !file->writable()) return Errno::badf;
    LITEBOX_TRY(locks.set(where->inode, lock, command == abi::f_setlkw || command == f_ofd_setlkw));
    return 0;
}

/// close(): POSIX locks of this process on the inode go; OFD locks go with the last descriptor
/// (flock locks go when the description itself is destroyed: fs::FlockLocks).
template <typename P>
void release_on_close(ThreadContext<P>& t, const std::shared_ptr<fd::OpenFile<P>>& file, bool last_reference) {
    auto where = fs::Vfs<P>::location_of(*file);
    if (!where.has_value()) return;
    t.kernel().vfs().locks().release(where->inode.get(), static_cast<std::uint64_t>(t.pid()));
    if (last_reference) t.kernel().vfs().locks().release(where->inode.get(), description_owner(*file));
}
}  // namespace lock_detail

/// flock(2): LOCK_SH, LOCK_EX, LOCK_UN, with LOCK_NB; a blocking request waits interruptibly
/// (EINTR) on the thread's Waiter. O_PATH descriptors: EBADF. Pipes and sockets are not in the VFS:
/// the call succeeds without locking anything.
template <typename P>
SyscallResult sys_flock(ThreadContext<P>& t, const SyscallRequest& r) {
    constexpr std::int32_t lock_sh = 1, lock_ex = 2, lock_nb = 4, lock_un = 8;
    const std::int32_t operation = r.i32(1);
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(r.i32(0)));
    const std::int32_t kind = operation & ~lock_nb;
    if (kind != lock_sh && kind != lock_ex && kind != lock_un) return Errno::inval;
    if ((file->status_flags() & fd::open_flags::path) != 0) return Errno::badf;
    auto* description = dynamic_cast<fs::FileHandle<P>*>(file.get());
    if (description == nullptr) return 0;  // pipes and sockets: nothing to lock against
    const auto& inode = description->location().inode;
    auto& flocks = t.kernel().vfs().flocks();
    if (kind == lock_un) {
        flocks.unlock(inode.get(), *description);
        return 0;
    }
    LITEBOX_TRY(flocks.lock(inode, *description, kind == lock_ex, t.wait_context(), (operation & lock_nb) == 0));
    return 0;
}

}  // namespace litebox::shim::linux_abi
