// Advisory locks: flock and fcntl's record locks (F_GETLK, F_SETLK, F_SETLKW and the OFD forms).
// POSIX locks belong to the descriptor table's lock owner (fs::RecordLocks::Owner, the table's
// CloseObserver: Linux's files_struct), so threads share them, a fork child does not inherit
// them, and they go whenever the table drops a descriptor of the file by whatever route (close,
// close_range, dup2/dup3, close-on-exec, exit). Processes sharing one table (clone with
// CLONE_FILES but not CLONE_THREAD) share its owner, as on Linux: their locks never conflict, a
// close in either drops the owner's locks on the file, and the locks outlive the first one's exit
// (F_GETLK reports the pid that set the lock). OFD locks belong to the open file description and
// go with its last reference. Both live in the VFS's RecordLocks; flock locks belong to the open
// file description too but live in their own table (the VFS's FlockLocks), so they never
// conflict with fcntl locks, as on Linux. F_SETLKW waits interruptibly on the thread's Waiter
// (EINTR; litebox-run turns it into a restart under SA_RESTART, as Linux does).
#pragma once

#include "fs_common.hpp"

namespace litebox::shim::linux_abi {

namespace lock_detail {
inline constexpr int f_ofd_getlk = 36;
inline constexpr int f_ofd_setlk = 37;
inline constexpr int f_ofd_setlkw = 38;

/// F_GETLK / F_SETLK / F_SETLKW and the OFD variants for `file`, open as `descriptor`.
template <typename P>
SyscallResult record_lock(ThreadContext<P>& t, int descriptor, const std::shared_ptr<fd::OpenFile<P>>& file, int command,
                          std::uintptr_t address) {
    LITEBOX_TRY_ASSIGN(abi::flock request, Guest<P>::template read<abi::flock>(address));
    auto* description = dynamic_cast<fs::FileHandle<P>*>(file.get());
    if (description == nullptr) return Errno::inval;  // pipes and sockets: Linux's EINVAL for record locks
    const bool ofd = command == f_ofd_getlk || command == f_ofd_setlk || command == f_ofd_setlkw;
    if (ofd && request.l_pid != 0) return Errno::inval;
    if (request.l_type != fs::lock_type::read && request.l_type != fs::lock_type::write && request.l_type != fs::lock_type::unlock)
        return Errno::inval;
    const auto owner = std::dynamic_pointer_cast<typename fs::RecordLocks<P>::Owner>(t.files().observer());
    if (!ofd && !owner) return Errno::nolck;  // a table without a lock owner (not made by the kernel)
    LITEBOX_TRY_ASSIGN(const fd::Stat status, file->stat());
    const std::uint64_t offset = request.l_whence == 1 ? file->seek(0, fd::Whence::current).value_or(0) : 0;
    LITEBOX_TRY_ASSIGN(const auto range, fs::lock_range(request.l_whence, request.l_start, request.l_len, offset,
                                                        static_cast<std::uint64_t>(status.size)));
    fs::RecordLock lock{request.l_type, range.first, range.second, ofd ? fs::RecordLocks<P>::description_owner(*description) : owner->id(),
                        ofd ? -1 : t.pid()};
    const auto& inode = description->location().inode;
    auto& locks = t.kernel().vfs().locks();
    if (command == abi::f_getlk || command == f_ofd_getlk) {
        LITEBOX_TRY_ASSIGN(const fs::RecordLock found, locks.test(inode, lock));
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
    const bool wait = command == abi::f_setlkw || command == f_ofd_setlkw;
    const auto wait_context = t.wait_context();
    LITEBOX_TRY(locks.set(inode, lock, wait ? &wait_context : nullptr, ofd ? description : nullptr));
    // A close of the descriptor that raced with the wait released the owner's locks before this
    // one was set: drop it again, as Linux does (the descriptor no longer names the file).
    if (!ofd && lock.type != fs::lock_type::unlock) {
        auto now = t.files().get(descriptor);
        if (!now.has_value() || now->get() != file.get()) {
            lock.type = fs::lock_type::unlock;
            (void)locks.set(inode, lock);
            return Errno::badf;
        }
    }
    return 0;
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
