// Plain types shared by every descriptor-table object: Linux open flags, file types and modes,
// poll events, timestamps and the stat record. Values are Linux x86-64's.
#pragma once

#include <cstdint>

namespace litebox::fd {

/// open(2) flags (octal, as in <asm-generic/fcntl.h>).
namespace open_flags {
inline constexpr std::uint32_t read_only = 00;
inline constexpr std::uint32_t write_only = 01;
inline constexpr std::uint32_t read_write = 02;
inline constexpr std::uint32_t access_mode = 03;
inline constexpr std::uint32_t create = 0100;
inline constexpr std::uint32_t exclusive = 0200;
inline constexpr std::uint32_t no_ctty = 0400;
inline constexpr std::uint32_t truncate = 01000;
inline constexpr std::uint32_t append = 02000;
inline constexpr std::uint32_t nonblock = 04000;
inline constexpr std::uint32_t dsync = 010000;
inline constexpr std::uint32_t async = 020000;
inline constexpr std::uint32_t direct = 040000;
inline constexpr std::uint32_t large_file = 0100000;
inline constexpr std::uint32_t directory = 0200000;
inline constexpr std::uint32_t no_follow = 0400000;
inline constexpr std::uint32_t no_atime = 01000000;
inline constexpr std::uint32_t close_on_exec = 02000000;
inline constexpr std::uint32_t sync = 04010000;
inline constexpr std::uint32_t path = 010000000;
inline constexpr std::uint32_t tmpfile = 020200000;
/// The flags F_SETFL may change (Linux ignores the others).
inline constexpr std::uint32_t settable = append | async | direct | no_atime | nonblock;
}  // namespace open_flags

/// st_mode file-type bits (S_IFMT and friends) and permission bits.
namespace mode {
inline constexpr std::uint32_t type_mask = 0170000;
inline constexpr std::uint32_t socket = 0140000;
inline constexpr std::uint32_t symlink = 0120000;
inline constexpr std::uint32_t regular = 0100000;
inline constexpr std::uint32_t block_device = 0060000;
inline constexpr std::uint32_t directory = 0040000;
inline constexpr std::uint32_t char_device = 0020000;
inline constexpr std::uint32_t fifo = 0010000;
inline constexpr std::uint32_t set_uid = 04000;
inline constexpr std::uint32_t set_gid = 02000;
inline constexpr std::uint32_t sticky = 01000;
inline constexpr std::uint32_t permissions = 07777;
}  // namespace mode

/// poll(2)/epoll event bits.
using Events = std::uint32_t;
namespace events {
inline constexpr Events in = 0x001;
inline constexpr Events pri = 0x002;
inline constexpr Events out = 0x004;
inline constexpr Events err = 0x008;
inline constexpr Events hup = 0x010;
inline constexpr Events nval = 0x020;
inline constexpr Events rdnorm = 0x040;
inline constexpr Events rdband = 0x080;
inline constexpr Events wrnorm = 0x100;
inline constexpr Events wrband = 0x200;
inline constexpr Events msg = 0x400;
inline constexpr Events rdhup = 0x2000;
/// Always reported by poll even when not asked for.
inline constexpr Events always = err | hup | nval;
}  // namespace events

/// A point in time as struct timespec holds it.
struct Timespec {
    std::int64_t seconds = 0;
    std::int64_t nanoseconds = 0;
    friend constexpr bool operator==(const Timespec&, const Timespec&) = default;
};

/// What stat(2) reports, independent of any ABI layout (the shim converts).
struct Stat {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::uint32_t mode = 0;  // type | permissions
    std::uint64_t link_count = 0;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint64_t represented_device = 0;  // st_rdev
    std::int64_t size = 0;
    std::int64_t block_size = 4096;
    std::int64_t blocks = 0;  // 512-byte units actually allocated
    Timespec access_time;
    Timespec modify_time;
    Timespec change_time;
};

}  // namespace litebox::fd
