// In-box copies between descriptors: sendfile and copy_file_range, chunked through the thread's
// bounded buffer (at most max_rw_count bytes per call).
#pragma once

#include "fs_common.hpp"

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
        Result<std::size_t> put = out_offset ? out.pwrite(data, *out_offset) : out.write(data);
        if (!put.has_value()) {
            if (put.error() == Errno::pipe) t.kernel().tasks().post_to_thread(t.thread(), abi::sigpipe);
            if (done != 0) break;
            return put.error();
        }
        if (in_offset) *in_offset += *put;
        else if (*put < *got) (void)in.seek(static_cast<std::int64_t>(*put) - static_cast<std::int64_t>(*got), fd::Whence::current);
        if (out_offset) *out_offset += *put;
        done += *put;
        if (*put < *got || *got < chunk.size()) break;
    }
    return static_cast<std::int64_t>(done);
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
    LITEBOX_TRY_ASSIGN(auto out, t.files().get(r.i32(0)));
    LITEBOX_TRY_ASSIGN(auto in, t.files().get(r.i32(1)));
    if (!in->readable() || !out->writable()) return Errno::badf;
    if ((out->status_flags() & fd::open_flags::append) != 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(auto in_offset, copy_detail::read_offset<P>(offset_address));
    std::optional<std::uint64_t> out_offset;
    LITEBOX_TRY_ASSIGN(const std::int64_t done, copy_detail::copy(t, *in, in_offset, *out, out_offset, r.u64(3)));
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
