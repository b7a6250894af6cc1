// memfd_create and file seals (fcntl F_ADD_SEALS / F_GET_SEALS).
//
// A memfd is a regular file of the kernel's internal memfd tmpfs (Kernel::memfd_fs: its own
// quotas, a device number, no path) opened read-write: read, write, lseek, ftruncate, fstat,
// fallocate and mmap treat it as any box file, and /proc/<pid>/fd shows "/memfd:NAME (deleted)".
// Seals live in the inode (tmpfs enforces them on write, truncate and fallocate); without
// MFD_ALLOW_SEALING the file starts sealed with F_SEAL_SEAL, as on Linux.
#pragma once

#include <string>

#include "../../fs/file.hpp"
#include "../../fs/vfs.hpp"
#include "kernel.hpp"

namespace litebox::shim::linux_abi {

template <typename P>
SyscallResult sys_memfd_create(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t flags = r.u32(1);
    if ((flags & abi::mfd_hugetlb) != 0) {
        t.kernel().unsupported(r.number, "MFD_HUGETLB (no huge pages in the box)");
        return Errno::inval;
    }
    if ((flags & ~(abi::mfd_cloexec | abi::mfd_allow_sealing)) != 0) {
        t.kernel().unsupported(r.number, "flags other than MFD_CLOEXEC, MFD_ALLOW_SEALING");
        return Errno::inval;
    }
    auto name = Guest<P>::read_string(r.ptr(0), abi::mfd_name_max + 1);
    if (!name) return name.error() == Errno::nametoolong ? Errno::inval : name.error();
    auto& kernel = t.kernel();
    const fs::NewNode node{fd::mode::regular | 0777, t.process().credential(&Credentials::fsuid),
                           t.process().credential(&Credentials::fsgid), 0};
    const std::uint32_t seals = (flags & abi::mfd_allow_sealing) != 0 ? 0 : fs::seal::seal;
    LITEBOX_TRY_ASSIGN(auto inode, kernel.memfd_fs().create_anonymous(node, seals));
    const auto& root = kernel.memfd_root();
    auto file = std::make_shared<fs::RegularFile<P>>(fs::Location<P>{root.mount, std::move(inode)},
                                                     fd::open_flags::read_write | fd::open_flags::large_file);
    file->set_origin(root, "memfd:" + *name);  // what /proc/<pid>/fd shows (procfs_content.hpp)
    LITEBOX_TRY_ASSIGN(const int descriptor, t.files().insert(std::move(file), (flags & abi::mfd_cloexec) != 0));
    return descriptor;
}

namespace memfd_detail {
/// fcntl F_GET_SEALS / F_ADD_SEALS, in Linux's order of checks (memfd_fcntl): EBADF on O_PATH, EINVAL for a file
/// that cannot be sealed (only tmpfs files can), EPERM to add seals through a read-only
/// description or once F_SEAL_SEAL is set.
template <typename P>
SyscallResult file_seals(fd::OpenFile<P>& file, int command, std::uint64_t argument) {
    if ((file.status_flags() & fd::open_flags::path) != 0) return Errno::badf;
    auto where = fs::Vfs<P>::location_of(file);
    if (command == abi::f_get_seals) {
        if (!where) return Errno::inval;
        LITEBOX_TRY_ASSIGN(const std::uint32_t seals, where->inode->seals());
        return seals;
    }
    // fcntl passes the seals as an unsigned int (Linux's do_fcntl): the high bits are dropped.
    const auto seals = static_cast<std::uint32_t>(argument);
    if (!file.writable()) return Errno::perm;
    if ((seals & ~std::uint32_t{fs::seal::all}) != 0 || !where) return Errno::inval;
    LITEBOX_TRY(where->inode->add_seals(seals));
    return 0;
}
}  // namespace memfd_detail

}  // namespace litebox::shim::linux_abi
