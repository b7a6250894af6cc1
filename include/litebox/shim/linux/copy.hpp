// In-box copies between descriptors: sendfile and copy_file_range, chunked through the thread's
// bounded buffer (at most max_rw_count bytes per call).
//
// sendfile reads only what Linux 6.x lets it read (the input needs a splice_read and, unless the
// output is a pipe, positions): a regular file; /dev/zero, /dev/full, /dev/random, /dev/urandom;
// a socket only into a pipe. A pipe, FIFO, directory, /dev/null, terminal, eventfd and the like
// is EINVAL (ESPIPE first when an offset is given for a pipe or socket), and so is a count whose
// end would pass the largest offset. Into a pipe it moves like
// splice (splice_detail::file_to_pipe). Otherwise no input byte is lost when the output takes
// fewer or fails: an input read at its file offset is moved back by what was not written, an
// explicit offset advances only by what was written. Writes into regular files are held to
// RLIMIT_FSIZE (file_size_limit.hpp).
#pragma once

#include "file_size_limit.hpp"
#include "fs_common.hpp"
#include "splice.hpp"

namespace litebox::shim::linux_abi {

namespace copy_detail {
/// Moves up to `count` bytes; `in_offset`/`out_offset` (when set) are positional and advanced.
template <typename P>
SyscallResult copy(ThreadContext<P>& t, fd::OpenFile<P>& in, std::optional<std::uint64_t>& in_offset, fd::OpenFile<P>& out,
                   std::optional<std::uint64_t>& out_offset, std::uint64_t count) {
    count = std::min(count, abi::max_rw_count);
    const auto buffer = t.io_buffer();
    std::uint64_t done = 0;
    while (done < count) {
        const auto chunk = buffer.first(static_cast<std::size_t>(std::min<std::uint64_t>(count - done, buffer.size())));
        Result<std::size_t> got = in_offset ? in.pread(chunk, *in_offset) : in.read(chunk);
        if (!got.has_value()) {
            if (done != 0) break;
            return got.error();
        }
        if (*got == 0) break;
        const auto data = std::span<const std::byte>(chunk.first(*got));
        const Result<std::uint64_t> allowed = limit_write(t, out, out_offset, data.size());
        Result<std::size_t> put = !allowed.has_value() ? Result<std::size_t>(allowed.error())
                                  : out_offset        ? out.pwrite(data.first(static_cast<std::size_t>(*allowed)), *out_offset)
                                                      : out.write(data.first(static_cast<std::size_t>(*allowed)));
        const std::size_t taken = put.has_value() ? std::min(*put, *got) : 0;
        // The input keeps what the output did not take: at the file offset, it moves back.
        if (in_offset) *in_offset += taken;
        else if (taken < *got) (void)in.seek(static_cast<std::int64_t>(taken) - static_cast<std::int64_t>(*got), fd::Whence::current);
        if (!put.has_value()) {
            if (put.error() == Errno::pipe) t.kernel().tasks().post_to_thread(t.thread(), abi::sigpipe);
            if (done != 0) break;
            return put.error();
        }
        if (out_offset) *out_offset += taken;
        done += taken;
        if (taken < *got || *got < chunk.size()) break;
    }
    return static_cast<std::int64_t>(done);
}

/// Whether sendfile may read from a file with this status (see the top of this file).
inline bool sendfile_source(const fd::Stat& s, bool into_pipe) {
    switch (s.mode & fd::mode::type_mask) {
    case fd::mode::regular:
        return true;
    case fd::mode::socket:
        return into_pipe;
    case fd::mode::char_device:
        return s.represented_device == fs::devices::zero || s.represented_device == fs::devices::full ||
               s.represented_device == fs::devices::random || s.represented_device == fs::devices::urandom;
    default:
        return false;
    }
}

template <typename P>
Result<std::optional<std::uint64_t>> read_offset(std::uintptr_t address) {
    if (address == 0) return std::optional<std::uint64_t>{};
    LITEBOX_TRY_ASSIGN(const std::int64_t value, Guest<P>::template read<std::int64_t>(address));
    if (value < 0) return Errno::inval;
    return std::optional<std::uint64_t>{static_cast<std::uint64_t>(value)};
}
}  // namespace copy_detail

template <typename P>
SyscallResult sys_sendfile(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t offset_address = r.ptr(2);
    std::optional<std::int64_t> offset_argument;
    if (offset_address != 0) {
        LITEBOX_TRY_ASSIGN(offset_argument, Guest<P>::template read<std::int64_t>(offset_address));
    }
    LITEBOX_TRY_ASSIGN(auto out, t.files().get(r.i32(0)));
    LITEBOX_TRY_ASSIGN(auto in, t.files().get(r.i32(1)));
    if (!in->readable() || !out->writable()) return Errno::badf;
    LITEBOX_TRY_ASSIGN(const fd::Stat in_stat, in->stat());
    const bool in_is_pipe = ipc::pipe_of(*in) != nullptr || fs::is_fifo(in_stat.mode);
    if (offset_argument && (in_is_pipe || fs::is_socket(in_stat.mode))) return Errno::spipe;  // no pread
    if (offset_argument && *offset_argument < 0) return Errno::inval;
    auto* out_pipe = ipc::pipe_of(*out);
    if (in_is_pipe || !copy_detail::sendfile_source(in_stat, out_pipe != nullptr)) return Errno::inval;
    std::optional<std::uint64_t> in_offset;
    if (offset_argument) in_offset = static_cast<std::uint64_t>(*offset_argument);
    // Linux's rw_verify_area: the count, and the end of the read, must fit in an loff_t.
    const std::uint64_t count = r.u64(3);
    const std::uint64_t start = in_offset.value_or(in->seek(0, fd::Whence::current).value_or(0));
    if (count > static_cast<std::uint64_t>(INT64_MAX) || start > static_cast<std::uint64_t>(INT64_MAX) - count) return Errno::inval;
    std::int64_t done = 0;
    if (out_pipe != nullptr) {
        LITEBOX_TRY_ASSIGN(done, splice_detail::file_to_pipe(t, *in, in_offset, *out, *out_pipe, count, false));
    } else {
        if ((out->status_flags() & fd::open_flags::append) != 0) return Errno::inval;
        std::optional<std::uint64_t> out_offset;
        LITEBOX_TRY_ASSIGN(done, copy_detail::copy(t, *in, in_offset, *out, out_offset, count));
    }
    if (offset_address != 0) LITEBOX_TRY(Guest<P>::write(offset_address, static_cast<std::int64_t>(*in_offset)));
    return done;
}

template <typename P>
SyscallResult sys_copy_file_range(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t in_address = r.ptr(1), out_address = r.ptr(3);
    if (r.u32(5) != 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(auto in, t.files().get(r.i32(0)));
    LITEBOX_TRY_ASSIGN(auto out, t.files().get(r.i32(2)));
    if (!in->readable() || !out->writable() || (out->status_flags() & fd::open_flags::append) != 0) return Errno::badf;
    LITEBOX_TRY_ASSIGN(const fd::Stat in_stat, in->stat());
    LITEBOX_TRY_ASSIGN(const fd::Stat out_stat, out->stat());
    if (fs::is_directory(in_stat.mode) || fs::is_directory(out_stat.mode)) return Errno::isdir;
    if (!fs::is_regular(in_stat.mode) || !fs::is_regular(out_stat.mode)) return Errno::inval;
    LITEBOX_TRY_ASSIGN(auto in_offset, copy_detail::read_offset<P>(in_address));
    LITEBOX_TRY_ASSIGN(auto out_offset, copy_detail::read_offset<P>(out_address));
    const std::uint64_t length = std::min(r.u64(4), abi::max_rw_count);
    if (in_stat.inode == out_stat.inode && in_stat.device == out_stat.device) {
        const std::uint64_t a = in_offset.value_or(in->seek(0, fd::Whence::current).value_or(0));
        const std::uint64_t b = out_offset.value_or(out->seek(0, fd::Whence::current).value_or(0));
        if (a < b + length && b < a + length) return Errno::inval;
    }
    LITEBOX_TRY_ASSIGN(const std::int64_t done, copy_detail::copy(t, *in, in_offset, *out, out_offset, length));
    if (in_address != 0) LITEBOX_TRY(Guest<P>::write(in_address, static_cast<std::int64_t>(*in_offset)));
    if (out_address != 0) LITEBOX_TRY(Guest<P>::write(out_address, static_cast<std::int64_t>(*out_offset)));
    return done;
}

}  // namespace litebox::shim::linux_abi
