// Directories: getdents64, getcwd, chdir, fchdir.
#pragma once

#include <vector>

#include "fs_common.hpp"

namespace litebox::shim::linux_abi {

namespace dir_detail {
/// Packs entries as linux_dirent64 records into a bounded buffer.
class DirentPacker final : public fd::DirectorySink {
public:
    explicit DirentPacker(std::size_t capacity) { m_buffer.reserve(capacity), m_capacity = capacity; }
    bool add(const fd::DirectoryEntry& entry) override {
        const std::size_t length = (abi::dirent64_name_offset + entry.name.size() + 1 + 7) & ~std::size_t{7};
        if (m_buffer.size() + length > m_capacity) {
            m_refused = true;
            return false;
        }
        const std::size_t at = m_buffer.size();
        m_buffer.resize(at + length, std::byte{0});
        const abi::linux_dirent64_head head{entry.inode, static_cast<std::int64_t>(entry.next), static_cast<std::uint16_t>(length),
                                            entry.type};
        std::memcpy(m_buffer.data() + at, &head, abi::dirent64_name_offset);
        std::memcpy(m_buffer.data() + at + abi::dirent64_name_offset, entry.name.data(), entry.name.size());
        return true;
    }
    [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return m_buffer; }
    [[nodiscard]] bool refused() const noexcept { return m_refused; }

private:
    std::vector<std::byte> m_buffer;
    std::size_t m_capacity = 0;
    bool m_refused = false;
};
}  // namespace dir_detail

/// getdents64: at most min(count, io_chunk_size) bytes per call; EINVAL when not even one entry fits.
template <typename P>
SyscallResult sys_getdents64(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t address = r.ptr(1);
    const std::uint64_t count = r.u64(2);
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(r.i32(0)));
    if (!user_range_ok(address, count)) return Errno::fault;
    dir_detail::DirentPacker packer(static_cast<std::size_t>(std::min<std::uint64_t>(count, io_chunk_size)));
    LITEBOX_TRY(file->read_directory(packer));
    if (packer.bytes().empty() && packer.refused()) return Errno::inval;
    LITEBOX_TRY(Guest<P>::write_bytes(address, packer.bytes()));
    return static_cast<std::int64_t>(packer.bytes().size());
}

template <typename P>
SyscallResult sys_getcwd(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t address = r.ptr(0);
    const std::uint64_t size = r.u64(1);
    LITEBOX_TRY_ASSIGN(const std::string path, t.kernel().vfs().path_of(current_directory(t)));
    if (size < path.size() + 1) return Errno::range;
    LITEBOX_TRY(Guest<P>::write_bytes(address, std::as_bytes(std::span<const char>(path.c_str(), path.size() + 1))));
    return static_cast<std::int64_t>(path.size() + 1);
}

template <typename P>
SyscallResult sys_chdir(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(auto path, path_argument(t, abi::at_fdcwd, r.ptr(0)));
    LITEBOX_TRY_ASSIGN(auto where, t.kernel().vfs().resolve_directory(fs_credentials(t), path.base, path.path));
    t.process().fs().with_lock([&](FsContext<P>& f) { f.cwd = std::move(where); });
    return 0;
}

template <typename P>
SyscallResult sys_fchdir(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(r.i32(0)));
    LITEBOX_TRY_ASSIGN(auto base, fs::Vfs<P>::location_of(*file));
    LITEBOX_TRY_ASSIGN(auto where, t.kernel().vfs().resolve_directory(fs_credentials(t), base, "."));
    t.process().fs().with_lock([&](FsContext<P>& f) { f.cwd = std::move(where); });
    return 0;
}

}  // namespace litebox::shim::linux_abi
