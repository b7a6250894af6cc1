// Moving data between guest buffers and open files through the thread's bounded bounce buffer
// (io_chunk_size bytes). Used by read/write and their vector and positional forms.
//
// Contract: at most max_rw_count bytes move per call; each guest segment is checked against the
// user address range before any data moves (EFAULT); a fault or an error after some bytes moved
// ends the call with the count so far (as Linux does). A short transfer from the file ends the
// call (no second read that could block). EPIPE from a write posts SIGPIPE to the thread.
#pragma once

#include <algorithm>
#include <vector>

#include "kernel.hpp"

namespace litebox::shim::linux_abi {

/// One guest buffer of a (possibly vectored) transfer.
struct Segment {
    std::uintptr_t address = 0;
    std::uint64_t length = 0;
};

namespace io_detail {
/// Validates segments and clamps their total to max_rw_count.
inline Result<std::vector<Segment>> checked_segments(std::vector<Segment> segments) {
    std::uint64_t total = 0;
    for (auto& s : segments) {
        if (!user_range_ok(s.address, s.length)) return Errno::fault;
        s.length = std::min(s.length, abi::max_rw_count - total);
        total += s.length;
    }
    return segments;
}
}  // namespace io_detail

/// Segments of an iovec array in guest memory.
template <typename P>
Result<std::vector<Segment>> iovec_segments(std::uintptr_t address, std::uint64_t count) {
    LITEBOX_TRY_ASSIGN(auto vectors, Guest<P>::read_iovecs(address, count));
    std::vector<Segment> segments;
    segments.reserve(vectors.size());
    for (const auto& v : vectors) segments.push_back(Segment{static_cast<std::uintptr_t>(v.iov_base), v.iov_len});
    return io_detail::checked_segments(std::move(segments));
}

/// A single guest buffer as segments.
inline Result<std::vector<Segment>> buffer_segments(std::uintptr_t address, std::uint64_t length) {
    return io_detail::checked_segments({Segment{address, length}});
}

/// File -> guest. `read(chunk, offset_so_far)` fills a chunk of the bounce buffer.
template <typename P, typename Read>
SyscallResult transfer_to_guest(ThreadContext<P>& t, const std::vector<Segment>& segments, Read&& read) {
    std::uint64_t total = 0;
    for (const auto& s : segments) total += s.length;
    const auto buffer = t.io_buffer();
    std::uint64_t done = 0;
    std::size_t index = 0;
    std::uint64_t within = 0;  // bytes of segments[index] already filled
    do {
        const auto chunk = buffer.first(static_cast<std::size_t>(std::min<std::uint64_t>(total - done, buffer.size())));
        Result<std::size_t> got = read(chunk, done);
        if (!got.has_value()) {
            if (done != 0) break;
            return got.error();
        }
        const std::size_t n = std::min(*got, chunk.size());
        for (std::size_t copied = 0; copied < n;) {  // scatter
            const Segment& s = segments[index];
            const std::size_t piece = static_cast<std::size_t>(std::min<std::uint64_t>(s.length - within, n - copied));
            if (auto w = Guest<P>::write_bytes(s.address + within, chunk.subspan(copied, piece)); !w.has_value())
                return done + copied != 0 ? SyscallResult(static_cast<std::int64_t>(done + copied)) : SyscallResult(w.error());
            copied += piece;
            within += piece;
            if (within == s.length) ++index, within = 0;
        }
        done += n;
        if (n < chunk.size() || n == 0) break;
    } while (done < total);
    return static_cast<std::int64_t>(done);
}

/// Guest -> file. `write(chunk, offset_so_far)` consumes a chunk of the bounce buffer.
template <typename P, typename Write>
SyscallResult transfer_from_guest(ThreadContext<P>& t, const std::vector<Segment>& segments, Write&& write) {
    std::uint64_t total = 0;
    for (const auto& s : segments) total += s.length;
    const auto buffer = t.io_buffer();
    std::uint64_t done = 0;
    std::size_t index = 0;
    std::uint64_t within = 0;
    do {
        const auto chunk = buffer.first(static_cast<std::size_t>(std::min<std::uint64_t>(total - done, buffer.size())));
        for (std::size_t filled = 0; filled < chunk.size();) {  // gather
            const Segment& s = segments[index];
            const std::size_t piece = static_cast<std::size_t>(std::min<std::uint64_t>(s.length - within, chunk.size() - filled));
            if (auto r = Guest<P>::read_bytes(s.address + within, chunk.subspan(filled, piece)); !r.has_value()) {
                if (done + filled == 0) return r.error();
                if (filled == 0) return static_cast<std::int64_t>(done);
                const auto partial = chunk.first(filled);
                Result<std::size_t> put = write(std::span<const std::byte>(partial), done);
                return static_cast<std::int64_t>(done + (put.has_value() ? *put : 0));
            }
            filled += piece;
            within += piece;
            if (within == s.length) ++index, within = 0;
        }
        Result<std::size_t> put = write(std::span<const std::byte>(chunk), done);
        if (!put.has_value()) {
            if (put.error() == Errno::pipe) t.kernel().tasks().post_to_thread(t.thread(), abi::sigpipe);
            if (done != 0) break;
            return put.error();
        }
        done += *put;
        if (*put < chunk.size()) break;
    } while (done < total);
    return static_cast<std::int64_t>(done);
}

}  // namespace litebox::shim::linux_abi
