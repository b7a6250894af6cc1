// RLIMIT_FSIZE, enforced as Linux's generic_write_check_limits and inode_newsize_ok do: a write to
// a regular file that starts at or past the soft limit fails with EFBIG and sends SIGXFSZ to the
// calling thread; a write that straddles the limit is cut to end at it; growing a regular file past
// it (truncate, ftruncate, fallocate) is EFBIG with SIGXFSZ. Writes of zero bytes and files that
// are not regular (pipes, sockets, devices) are not limited. Used by every path that writes to a
// file on the guest's behalf: write and its vector and positional forms, sendfile,
// copy_file_range and splice.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

#include "kernel.hpp"

namespace litebox::shim::linux_abi {

/// The calling process's RLIMIT_FSIZE soft limit (rlim_infinity when there is none).
template <typename P>
std::uint64_t file_size_limit(ThreadContext<P>& t) {
    return t.process().state().with_lock([](auto& st) { return st.limits[abi::rlimit_fsize].rlim_cur; });
}

/// EFBIG, after sending SIGXFSZ to the calling thread.
template <typename P>
Errno file_too_large(ThreadContext<P>& t) {
    t.kernel().tasks().post_to_thread(t.thread(), abi::sigxfsz);
    return Errno::fbig;
}

/// How many of `count` bytes a write to `file` may move under RLIMIT_FSIZE. `position` is where
/// the write starts: nothing for the file offset (the end of the file under O_APPEND).
template <typename P>
Result<std::uint64_t> limit_write(ThreadContext<P>& t, fd::OpenFile<P>& file, std::optional<std::uint64_t> position, std::uint64_t count) {
    if (count == 0) return count;
    const std::uint64_t limit = file_size_limit(t);
    if (limit == abi::rlim_infinity) return count;
    const Result<fd::Stat> s = file.stat();
    if (!s.has_value() || (s->mode & fd::mode::type_mask) != fd::mode::regular) return count;
    std::uint64_t at = 0;
    if (position.has_value()) {
        at = position.value();
    } else if ((file.status_flags() & fd::open_flags::append) != 0) {
        at = static_cast<std::uint64_t>(std::max<std::int64_t>(s->size, 0));
    } else {
        const Result<std::uint64_t> offset = file.seek(0, fd::Whence::current);
        if (!offset.has_value()) return count;
        at = *offset;
    }
    if (at >= limit) return file_too_large(t);
    return std::min(count, limit - at);
}

/// Growing a regular file of `current` bytes to `size` bytes under RLIMIT_FSIZE (shrinking, or
/// keeping the size, is always allowed).
template <typename P>
Result<void> limit_new_size(ThreadContext<P>& t, std::int64_t current, std::uint64_t size) {
    if (current >= 0 && size <= static_cast<std::uint64_t>(current)) return ok();
    const std::uint64_t limit = file_size_limit(t);
    if (limit != abi::rlim_infinity && size > limit) return file_too_large(t);
    return ok();
}

}  // namespace litebox::shim::linux_abi
