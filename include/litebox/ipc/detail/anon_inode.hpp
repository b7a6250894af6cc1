// Identity for objects that live in no file system (pipes, sockets, eventfds, timerfds, epoll):
// the device number they report and a process-wide counter for their inode numbers.
#pragma once

#include <atomic>
#include <cstdint>

#include "../../fd/types.hpp"

namespace litebox::ipc {

/// st_dev of pipes, sockets and anonymous-inode files (Linux reports its internal pseudo file
/// systems' devices; a single made-up minor number keeps them apart from real file systems).
inline constexpr std::uint64_t anonymous_device = 0x0d;

namespace detail {
inline std::atomic<std::uint64_t> next_anonymous_inode{1};

/// A stat record for an anonymous object with the given st_mode.
inline fd::Stat anonymous_stat(std::uint64_t inode, std::uint32_t mode) noexcept {
    fd::Stat st;
    st.device = anonymous_device;
    st.inode = inode;
    st.mode = mode;
    st.link_count = 1;
    st.block_size = 4096;
    return st;
}

inline std::uint64_t allocate_anonymous_inode() noexcept {
    return next_anonymous_inode.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace detail

}  // namespace litebox::ipc
