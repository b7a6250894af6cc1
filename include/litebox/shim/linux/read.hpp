// Data syscalls on descriptors: read, write, readv, writev, pread64, pwrite64, preadv, pwritev,
// lseek. Reads and writes at the file offset block (interruptibly) through the event layer unless
// the description is non-blocking: a read waits for the first chunk only, a write goes on until
// every byte is accepted (Linux's pipe and stream semantics). A write to a regular file is held to
// RLIMIT_FSIZE (file_size_limit.hpp).
#pragma once

#include "../../event/blocking.hpp"
#include "../../ipc/pty.hpp"
#include "file_size_limit.hpp"
#include "io.hpp"
#include "signal_mask.hpp"

namespace litebox::shim::linux_abi {

namespace read_detail {
template <typename P>
Result<typename fd::DescriptorTable<P>::FilePtr> readable_file(ThreadContext<P>& t, std::int32_t descriptor) {
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(descriptor));
    if (!file->readable()) return Errno::badf;
    return file;
}
template <typename P>
Result<typename fd::DescriptorTable<P>::FilePtr> writable_file(ThreadContext<P>& t, std::int32_t descriptor) {
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(descriptor));
    if (!file->writable()) return Errno::badf;
    return file;
}
/// A blocking read's first chunk. A non-canonical pty slave with VTIME set waits at most VTIME
/// tenths of a second (with VMIN > 0, counted from the first byte) and then returns what is queued.
template <typename P>
Result<std::size_t> first_read(ThreadContext<P>& t, fd::OpenFile<P>& file, std::span<std::byte> chunk) {
    auto* slave = ipc::pty_slave_of(file);
    if (slave == nullptr || file.nonblocking() || chunk.empty()) return event::read(t.wait_context(), file, chunk);
    const auto timing = slave->pair().read_timing();
    if (timing.canonical || timing.time == 0) return event::read(t.wait_context(), file, chunk);
    if (timing.min > 0) {
        LITEBOX_TRY(event::wait_until_ready(t.wait_context(), file.pollee(), fd::events::in, false, [&]() -> Result<void> {
            if (slave->pair().hung_up() || slave->pair().slave_readable() != 0) return ok();
            return Errno::again;
        }));
    }
    auto got = event::read(t.wait_context(deadline_after_ms(t.platform(), std::int32_t{timing.time} * 100)), file, chunk);
    if (!got.has_value() && got.error() == Errno::timedout) return slave->read_available(chunk);
    return got;
}
/// Reads into `segments`, at the file offset (offset < 0) or at `offset`.
template <typename P>
SyscallResult read_segments(ThreadContext<P>& t, std::int32_t descriptor, Result<std::vector<Segment>> segments, std::int64_t offset) {
    LITEBOX_TRY_ASSIGN(auto file, readable_file(t, descriptor));
    LITEBOX_TRY(segments);
    return transfer_to_guest(t, *segments, [&](std::span<std::byte> chunk, std::uint64_t so_far) -> Result<std::size_t> {
        if (offset >= 0) return file->pread(chunk, static_cast<std::uint64_t>(offset) + so_far);
        if (so_far == 0) return first_read(t, *file, chunk);
        return file->read(chunk);
    });
}
template <typename P>
SyscallResult write_segments(ThreadContext<P>& t, std::int32_t descriptor, Result<std::vector<Segment>> segments, std::int64_t offset) {
    LITEBOX_TRY_ASSIGN(auto file, writable_file(t, descriptor));
    LITEBOX_TRY(segments);
    std::uint64_t total = 0;
    for (const Segment& s : *segments) total += s.length;  // at most max_rw_count (checked_segments)
    std::optional<std::uint64_t> position;
    if (offset >= 0) position.emplace(static_cast<std::uint64_t>(offset));
    LITEBOX_TRY_ASSIGN(std::uint64_t allowed, limit_write(t, *file, position, total));
    for (Segment& s : *segments) {  // a write that straddles RLIMIT_FSIZE ends at it
        s.length = std::min(s.length, allowed);
        allowed -= s.length;
    }
    return transfer_from_guest(t, *segments, [&](std::span<const std::byte> chunk, std::uint64_t so_far) -> Result<std::size_t> {
        if (offset >= 0) return file->pwrite(chunk, static_cast<std::uint64_t>(offset) + so_far);
        return event::write(t.wait_context(), *file, chunk);
    });
}
}  // namespace read_detail

template <typename P>
SyscallResult sys_read(ThreadContext<P>& t, const SyscallRequest& r) {
    return read_detail::read_segments(t, r.i32(0), buffer_segments(r.ptr(1), r.u64(2)), -1);
}
template <typename P>
SyscallResult sys_write(ThreadContext<P>& t, const SyscallRequest& r) {
    return read_detail::write_segments(t, r.i32(0), buffer_segments(r.ptr(1), r.u64(2)), -1);
}
template <typename P>
SyscallResult sys_readv(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY(read_detail::readable_file(t, r.i32(0)));
    return read_detail::read_segments(t, r.i32(0), iovec_segments<P>(r.ptr(1), r.u64(2)), -1);
}
template <typename P>
SyscallResult sys_writev(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY(read_detail::writable_file(t, r.i32(0)));
    return read_detail::write_segments(t, r.i32(0), iovec_segments<P>(r.ptr(1), r.u64(2)), -1);
}
template <typename P>
SyscallResult sys_pread64(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int64_t offset = r.i64(3);
    if (offset < 0) return Errno::inval;
    return read_detail::read_segments(t, r.i32(0), buffer_segments(r.ptr(1), r.u64(2)), offset);
}
template <typename P>
SyscallResult sys_pwrite64(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int64_t offset = r.i64(3);
    if (offset < 0) return Errno::inval;
    return read_detail::write_segments(t, r.i32(0), buffer_segments(r.ptr(1), r.u64(2)), offset);
}
/// preadv/pwritev: on x86-64 the offset is the whole of the fourth register (pos_h is ignored).
template <typename P>
SyscallResult sys_preadv(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int64_t offset = r.i64(3);
    if (offset < 0) return Errno::inval;
    LITEBOX_TRY(read_detail::readable_file(t, r.i32(0)));
    return read_detail::read_segments(t, r.i32(0), iovec_segments<P>(r.ptr(1), r.u64(2)), offset);
}
template <typename P>
SyscallResult sys_pwritev(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int64_t offset = r.i64(3);
    if (offset < 0) return Errno::inval;
    LITEBOX_TRY(read_detail::writable_file(t, r.i32(0)));
    return read_detail::write_segments(t, r.i32(0), iovec_segments<P>(r.ptr(1), r.u64(2)), offset);
}

template <typename P>
SyscallResult sys_lseek(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t descriptor = r.i32(0);
    const std::int64_t offset = r.i64(1);
    const std::uint32_t whence = r.u32(2);
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(descriptor));
    if (whence > static_cast<std::uint32_t>(fd::Whence::hole)) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const std::uint64_t position, file->seek(offset, static_cast<fd::Whence>(whence)));
    if (position > static_cast<std::uint64_t>(INT64_MAX)) return Errno::overflow;
    return static_cast<std::int64_t>(position);
}

}  // namespace litebox::shim::linux_abi
