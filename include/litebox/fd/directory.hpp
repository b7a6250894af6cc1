// Directory entries as getdents64 reports them, and the sink that file systems and directory open
// files fill. Shared by the fs backends (inode-level readdir) and by fd::OpenFile::read_directory.
//
// Contract for a DirectorySink: add() either consumes the entry and returns true, or returns false
// (the caller's buffer is full) and leaves the entry unconsumed; a producer stops at the first false
// and resumes later from that entry's cookie. add() must not call back into the producer.
#pragma once

#include <cstdint>
#include <string_view>

namespace litebox::fd {

/// d_type values (DT_*).
namespace dirent_type {
inline constexpr std::uint8_t unknown = 0;
inline constexpr std::uint8_t fifo = 1;
inline constexpr std::uint8_t char_device = 2;
inline constexpr std::uint8_t directory = 4;
inline constexpr std::uint8_t block_device = 6;
inline constexpr std::uint8_t regular = 8;
inline constexpr std::uint8_t symlink = 10;
inline constexpr std::uint8_t socket = 12;

/// The d_type for an st_mode.
constexpr std::uint8_t from_mode(std::uint32_t mode) noexcept { return static_cast<std::uint8_t>((mode >> 12) & 017); }
}  // namespace dirent_type

/// One directory entry. `next` is the position (cookie) just after this entry: resuming a read
/// from `next` continues with the following entry (getdents64's d_off).
struct DirectoryEntry {
    std::string_view name;
    std::uint64_t inode = 0;
    std::uint8_t type = dirent_type::unknown;
    std::uint64_t next = 0;
};

class DirectorySink {
public:
    virtual ~DirectorySink() = default;
    /// Consumes `entry` (true) or refuses it because the destination is full (false).
    virtual bool add(const DirectoryEntry& entry) = 0;
};

}  // namespace litebox::fd
