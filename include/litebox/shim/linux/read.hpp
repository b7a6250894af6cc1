// Data syscalls on descriptors: read, write, readv, writev, pread64, pwrite64, preadv, pwritev,
// preadv2, pwritev2, lseek. Reads and writes at the file offset block (interruptibly) through the event layer unless
// the description is non-blocking: a read waits for the first chunk only, a write goes on until
// every byte is accepted (Linux's pipe and stream semantics). A write to a regular file is held to
// RLIMIT_FSIZE (file_size_limit.hpp).
#pragma once

#include "../../event/blocking.hpp"
#include "../../ipc/pty.hpp"
#include "file_size_limit.hpp"
#include "io.hpp"
#include "pty.hpp"
#include "terminal.hpp"
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
/// Reads into `segments`, at the file offset (offset < 0) or at `offset`. `nowait`: never wait
/// (preadv2's RWF_NOWAIT: EAGAIN instead).
template <typename P>
SyscallResult read_segments(ThreadContext<P>& t, std::int32_t descriptor, Result<std::vector<Segment>> segments, std::int64_t offset,
                            bool nowait = false) {
    LITEBOX_TRY_ASSIGN(auto file, readable_file(t, descriptor));
    LITEBOX_TRY(segments);
    if (offset < 0) {
        if (auto* slave = ipc::pty_slave_of(*file); slave != nullptr) {
            if (!slave->pair().hung_up()) LITEBOX_TRY(tty_job_control(t, slave->pair(), abi::sigttin));
        } else {
            LITEBOX_TRY(console_job_control(t, *file, abi::sigttin, false));
        }
    }
    return transfer_to_guest(t, *segments, [&](std::span<std::byte> chunk, std::uint64_t so_far) -> Result<std::size_t> {
        if (offset >= 0) return file->pread(chunk, static_cast<std::uint64_t>(offset) + so_far);
        if (so_far == 0 && !nowait) return first_read(t, *file, chunk);
        return file->read(chunk);
    });
}
template <typename P>
SyscallResult write_segments(ThreadContext<P>& t, std::int32_t descriptor, Result<std::vector<Segment>> segments, std::int64_t offset,
                             bool nowait = false) {
    LITEBOX_TRY_ASSIGN(auto file, writable_file(t, descriptor));
    LITEBOX_TRY(segments);
    if (offset < 0) {
        if (auto* slave = ipc::pty_slave_of(*file); slave != nullptr) {
            if (!slave->pair().hung_up() && (slave->pair().termios().lflag & ipc::termios_bits::tostop) != 0)
                LITEBOX_TRY(tty_job_control(t, slave->pair(), abi::sigttou));
        } else {
            LITEBOX_TRY(console_job_control(t, *file, abi::sigttou, true));
        }
    }
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
        if (nowait) return file->write(chunk);
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

// preadv2 / pwritev2: preadv/pwritev with flags, and offset -1 for the file offset. RWF_HIPRI
// (polling a block device) is accepted and means nothing here; RWF_DSYNC and RWF_SYNC sync the
// file after a write (ignored by reads, as Linux); RWF_APPEND writes at the end of the file (a
// positional write leaves the file offset alone; at the file offset, the offset moves past the
// data); RWF_NOWAIT never waits: regular files and directories never do, pipes and sockets
// answer EAGAIN instead of waiting, other kinds (terminals, devices) are EOPNOTSUPP. Later flags
// (RWF_NOAPPEND, RWF_ATOMIC, RWF_DONTCACHE) and unknown bits are EOPNOTSUPP (traced).
namespace read_detail {
inline constexpr std::uint64_t rwf_hipri = 1, rwf_dsync = 2, rwf_sync = 4, rwf_nowait = 8, rwf_append = 0x10;
inline constexpr std::uint64_t rwf_known = rwf_hipri | rwf_dsync | rwf_sync | rwf_nowait | rwf_append;

/// The checks both calls share, after the descriptor and the vector: the offset (-1 or at least
/// 0; a pipe or socket cannot take one), the flags.
template <typename P>
Result<void> check_rw2(ThreadContext<P>& t, fd::OpenFile<P>& file, std::int64_t offset, std::uint64_t flags, std::uint64_t number) {
    if (offset < -1) return Errno::inval;
    if ((flags & ~rwf_known) != 0) {
        t.kernel().unsupported(number, "RWF_ flags other than HIPRI, DSYNC, SYNC, NOWAIT and APPEND");
        return Errno::opnotsupp;
    }
    LITEBOX_TRY_ASSIGN(const auto st, file.stat());
    const auto type = st.mode & fd::mode::type_mask;
    const bool stream = type == fd::mode::fifo || type == fd::mode::socket;
    if (offset >= 0 && stream) return Errno::spipe;
    if ((flags & rwf_nowait) != 0 && !stream && type != fd::mode::regular && type != fd::mode::directory) return Errno::opnotsupp;
    return ok();
}
}  // namespace read_detail

template <typename P>
SyscallResult sys_preadv2(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int64_t offset = r.i64(3);
    const std::uint64_t flags = r.u64(5);
    LITEBOX_TRY_ASSIGN(auto file, read_detail::readable_file(t, r.i32(0)));
    auto segments = iovec_segments<P>(r.ptr(1), r.u64(2));
    LITEBOX_TRY(segments);
    LITEBOX_TRY(read_detail::check_rw2(t, *file, offset, flags, r.number));
    return read_detail::read_segments(t, r.i32(0), std::move(segments), offset, (flags & read_detail::rwf_nowait) != 0);
}
template <typename P>
SyscallResult sys_pwritev2(ThreadContext<P>& t, const SyscallRequest& r) {
    std::int64_t offset = r.i64(3);
    const std::uint64_t flags = r.u64(5);
    LITEBOX_TRY_ASSIGN(auto file, read_detail::writable_file(t, r.i32(0)));
    auto segments = iovec_segments<P>(r.ptr(1), r.u64(2));
    LITEBOX_TRY(segments);
    LITEBOX_TRY(read_detail::check_rw2(t, *file, offset, flags, r.number));
    if ((flags & read_detail::rwf_append) != 0) {
        LITEBOX_TRY_ASSIGN(const auto st, file->stat());
        if ((st.mode & fd::mode::type_mask) == fd::mode::regular) {
            if (offset >= 0) offset = st.size;
            else LITEBOX_TRY(file->seek(0, fd::Whence::end));
        }
    }
    LITEBOX_TRY_ASSIGN(const std::int64_t written,
                       read_detail::write_segments(t, r.i32(0), std::move(segments), offset, (flags & read_detail::rwf_nowait) != 0));
    if ((flags & (read_detail::rwf_dsync | read_detail::rwf_sync)) != 0 && written > 0) LITEBOX_TRY(file->sync());
    return written;
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
