// Metadata syscalls: fstat (descriptor-only forms; the path forms arrive with the VFS).
#pragma once

#include "kernel.hpp"

namespace litebox::shim::linux_abi {

/// fd::Stat (ABI-independent) -> struct stat.
inline abi::stat to_abi_stat(const fd::Stat& s) noexcept {
    abi::stat out{};
    out.st_dev = s.device;
    out.st_ino = s.inode;
    out.st_nlink = s.link_count;
    out.st_mode = s.mode;
    out.st_uid = s.uid;
    out.st_gid = s.gid;
    out.st_rdev = s.represented_device;
    out.st_size = s.size;
    out.st_blksize = s.block_size;
    out.st_blocks = s.blocks;
    out.st_atime_sec = s.access_time.seconds;
    out.st_atime_nsec = static_cast<std::uint64_t>(s.access_time.nanoseconds);
    out.st_mtime_sec = s.modify_time.seconds;
    out.st_mtime_nsec = static_cast<std::uint64_t>(s.modify_time.nanoseconds);
    out.st_ctime_sec = s.change_time.seconds;
    out.st_ctime_nsec = static_cast<std::uint64_t>(s.change_time.nanoseconds);
    return out;
}

template <typename P>
SyscallResult sys_fstat(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t descriptor = r.i32(0);
    const std::uintptr_t address = r.ptr(1);
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(descriptor));
    LITEBOX_TRY_ASSIGN(const fd::Stat status, file->stat());
    LITEBOX_TRY(Guest<P>::write(address, to_abi_stat(status)));
    return 0;
}

}  // namespace litebox::shim::linux_abi
