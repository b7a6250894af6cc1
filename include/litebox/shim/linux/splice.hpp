// splice, tee and vmsplice: bounded copies through the box's pipe objects (no page sharing).
//
// Linux's rules: one end of a splice must be a pipe or FIFO (EINVAL otherwise), an offset on a
// pipe end is ESPIPE, the other end's offset needs a seekable file (EINVAL), splicing into an
// O_APPEND file is EINVAL, a pipe into itself is EINVAL; tee needs two different pipes. A call
// waits (interruptibly) only before its first byte: for data in the input pipe or room in the
// output pipe unless SPLICE_F_NONBLOCK or the pipe end's O_NONBLOCK (for a pipe-to-pipe splice or
// tee, either end's), and for the other end as its own O_NONBLOCK says. EPIPE posts SIGPIPE. One
// call moves at most ShimConfig::max_splice_bytes, in bounce-buffer chunks under the pipe's lock,
// so no byte taken from one end is lost when the other takes fewer. tee copies at most one chunk.
// Writes into a regular file are held to RLIMIT_FSIZE (file_size_limit.hpp).
#pragma once

#include <algorithm>
#include <optional>

#include "../../event/blocking.hpp"
#include "../../ipc/pipe.hpp"
#include "file_size_limit.hpp"
#include "io.hpp"

namespace litebox::shim::linux_abi {

namespace splice_detail {
enum class Side { input, output };

/// Waits until `file` is ready for `events` (or reports an error or a hang-up); EAGAIN at once when
/// `nonblocking` or when the object has nothing to wait on.
template <typename P>
Result<void> wait_for(ThreadContext<P>& t, fd::OpenFile<P>& file, fd::Events events, bool nonblocking) {
    if (nonblocking) return Errno::again;
    return event::wait_until_ready(t.wait_context(), file.pollee(), events, false, [&]() -> Result<void> {
        if ((file.poll(events) & (events | fd::events::err | fd::events::hup)) != 0) return ok();
        return Errno::again;
    });
}

/// Moves up to `count` bytes (at most max_splice_bytes) by calling `chunk(buffer, blocked)` on
/// bounce-buffer pieces until one moves less than offered. Before the first byte, an EAGAIN from
/// the chunk (which names the side it waited for in `blocked`) waits for that side unless it is
/// non-blocking; after it, any error ends the call with the count so far.
template <typename P, typename Chunk>
SyscallResult move(ThreadContext<P>& t, std::uint64_t count, fd::OpenFile<P>& in, bool in_nonblocking, fd::OpenFile<P>& out,
                   bool out_nonblocking, Chunk&& chunk) {
    count = std::min({count, abi::max_rw_count, t.kernel().config().max_splice_bytes});
    const auto buffer = t.io_buffer();
    std::uint64_t done = 0;
    while (done < count) {
        const auto piece = buffer.first(static_cast<std::size_t>(std::min<std::uint64_t>(count - done, buffer.size())));
        Side blocked = Side::input;
        const Result<std::size_t> moved = chunk(piece, blocked);
        if (!moved.has_value()) {
            if (moved.error() == Errno::again && done == 0) {
                if (blocked == Side::input) LITEBOX_TRY(wait_for(t, in, fd::events::in, in_nonblocking));
                else LITEBOX_TRY(wait_for(t, out, fd::events::out, out_nonblocking));
                continue;
            }
            if (moved.error() == Errno::pipe) t.kernel().tasks().post_to_thread(t.thread(), abi::sigpipe);
            if (done != 0) break;
            return moved.error();
        }
        done += *moved;
        if (*moved < piece.size()) break;
    }
    return static_cast<std::int64_t>(done);
}

/// The offset argument of the end that is not a pipe: nothing for a null pointer; EINVAL for a
/// negative one, one whose end would pass the largest offset, or a file without positions.
template <typename P>
Result<std::optional<std::uint64_t>> file_offset(std::uintptr_t address, fd::OpenFile<P>& file, std::uint64_t length) {
    if (address == 0) return std::optional<std::uint64_t>{};
    LITEBOX_TRY_ASSIGN(const std::int64_t value, Guest<P>::template read<std::int64_t>(address));
    if (value < 0 || length > static_cast<std::uint64_t>(INT64_MAX - value)) return Errno::inval;
    if (!file.seek(0, fd::Whence::current).has_value()) return Errno::inval;  // no pread/pwrite (a socket)
    return std::optional<std::uint64_t>{static_cast<std::uint64_t>(value)};
}

/// Runs `body(offset)` with the offset argument at `address` (file_offset), then writes the
/// advanced offset back.
template <typename P, typename Body>
SyscallResult at_offset(std::uintptr_t address, fd::OpenFile<P>& file, std::uint64_t length, Body&& body) {
    LITEBOX_TRY_ASSIGN(auto offset, file_offset<P>(address, file, length));
    LITEBOX_TRY_ASSIGN(const std::int64_t done, body(offset));
    if (offset) LITEBOX_TRY(Guest<P>::write(address, static_cast<std::int64_t>(*offset)));
    return done;
}

/// One read or write of the end that is not a pipe (`io(offset)`): an EAGAIN names `side` as the
/// one to wait for; a positional transfer advances `offset`.
template <typename Io>
Result<std::size_t> file_step(std::optional<std::uint64_t>& offset, Side& blocked, Side side, Io&& io) {
    Result<std::size_t> n = io();
    if (!n.has_value() && n.error() == Errno::again) blocked = side;
    if (n.has_value() && offset) *offset += *n;
    return n;
}

/// File, device or socket `in` -> pipe `out` (whose pipe is `out_pipe`): up to `length` bytes,
/// read at `offset` (advanced) when it is set. Used by splice and by sendfile into a pipe.
template <typename P>
SyscallResult file_to_pipe(ThreadContext<P>& t, fd::OpenFile<P>& in, std::optional<std::uint64_t>& offset, fd::OpenFile<P>& out,
                           ipc::Pipe<P>& out_pipe, std::uint64_t length, bool nonblock) {
    return splice_detail::move(t, length, in, in.nonblocking(), out, nonblock || out.nonblocking(),
                               [&](std::span<std::byte> piece, Side& blocked) {
        blocked = Side::output;  // a full pipe, unless the source has nothing yet
        return out_pipe.fill_from(piece, [&](std::span<std::byte> room) {
            return file_step(offset, blocked, Side::input, [&] { return offset ? in.pread(room, *offset) : in.read(room); });
        });
    });
}
}  // namespace splice_detail

template <typename P>
SyscallResult sys_splice(ThreadContext<P>& t, const SyscallRequest& r) {
    using splice_detail::Side;
    const std::uintptr_t in_address = r.ptr(1), out_address = r.ptr(3);
    const std::uint64_t length = r.u64(4);
    const std::uint32_t flags = r.u32(5);
    if (length == 0) return 0;
    if ((flags & ~abi::splice_f_all) != 0) {
        t.kernel().unsupported(r.number, "unknown flags");
        return Errno::inval;
    }
    LITEBOX_TRY_ASSIGN(auto in, t.files().get(r.i32(0)));
    LITEBOX_TRY_ASSIGN(auto out, t.files().get(r.i32(2)));
    auto* in_pipe = ipc::pipe_of(*in);
    auto* out_pipe = ipc::pipe_of(*out);
    if ((in_pipe != nullptr && in_address != 0) || (out_pipe != nullptr && out_address != 0)) return Errno::spipe;
    if (!in->readable() || !out->writable()) return Errno::badf;
    const bool nonblock = (flags & abi::splice_f_nonblock) != 0;
    if (in_pipe != nullptr && out_pipe != nullptr) {
        if (in_pipe == out_pipe) return Errno::inval;
        const bool either = nonblock || in->nonblocking() || out->nonblocking();
        return splice_detail::move(t, length, *in, either, *out, either, [&](std::span<std::byte> piece, Side& blocked) {
            auto moved = ipc::Pipe<P>::transfer(*in_pipe, *out_pipe, piece, false);
            if (!moved.has_value() && in_pipe->bytes_queued() != 0) blocked = Side::output;
            return moved;
        });
    }
    if (in_pipe != nullptr) {  // pipe -> file or socket
        if ((out->status_flags() & fd::open_flags::append) != 0) return Errno::inval;
        return splice_detail::at_offset(out_address, *out, length, [&](std::optional<std::uint64_t>& offset) {
            return splice_detail::move(t, length, *in, nonblock || in->nonblocking(), *out, out->nonblocking(),
                                       [&](std::span<std::byte> piece, Side& blocked) {
                return in_pipe->drain_to(piece, [&](std::span<const std::byte> data) -> Result<std::size_t> {
                    LITEBOX_TRY_ASSIGN(const std::uint64_t allowed, limit_write(t, *out, offset, data.size()));
                    const auto part = data.first(static_cast<std::size_t>(allowed));
                    return splice_detail::file_step(offset, blocked, Side::output,
                                                    [&] { return offset ? out->pwrite(part, *offset) : out->write(part); });
                });
            });
        });
    }
    if (out_pipe != nullptr) {  // file or socket -> pipe
        return splice_detail::at_offset(in_address, *in, length, [&](std::optional<std::uint64_t>& offset) {
            return splice_detail::file_to_pipe(t, *in, offset, *out, *out_pipe, length, nonblock);
        });
    }
    return Errno::inval;
}

template <typename P>
SyscallResult sys_tee(ThreadContext<P>& t, const SyscallRequest& r) {
    using splice_detail::Side;
    const std::uint64_t length = r.u64(2);
    const std::uint32_t flags = r.u32(3);
    if ((flags & ~abi::splice_f_all) != 0) {
        t.kernel().unsupported(r.number, "unknown flags");
        return Errno::inval;
    }
    if (length == 0) return 0;
    LITEBOX_TRY_ASSIGN(auto in, t.files().get(r.i32(0)));
    LITEBOX_TRY_ASSIGN(auto out, t.files().get(r.i32(1)));
    if (!in->readable() || !out->writable()) return Errno::badf;
    auto* in_pipe = ipc::pipe_of(*in);
    auto* out_pipe = ipc::pipe_of(*out);
    if (in_pipe == nullptr || out_pipe == nullptr || in_pipe == out_pipe) return Errno::inval;
    const bool nonblock = (flags & abi::splice_f_nonblock) != 0 || in->nonblocking() || out->nonblocking();
    // One chunk: the input keeps its bytes, so a second chunk would copy the same ones again.
    const std::uint64_t count = std::min<std::uint64_t>(length, t.io_buffer().size());
    return splice_detail::move(t, count, *in, nonblock, *out, nonblock, [&](std::span<std::byte> piece, Side& blocked) {
        auto copied = ipc::Pipe<P>::transfer(*in_pipe, *out_pipe, piece, true);
        if (!copied.has_value() && in_pipe->bytes_queued() != 0) blocked = Side::output;
        return copied;
    });
}

/// vmsplice: guest memory into a pipe through a writable end, or out of a pipe through an end
/// that is only readable (as Linux picks the direction); copies, never page gifts.
template <typename P>
SyscallResult sys_vmsplice(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t flags = r.u32(3);
    if ((flags & ~abi::splice_f_all) != 0) {
        t.kernel().unsupported(r.number, "unknown flags");
        return Errno::inval;
    }
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(r.i32(0)));
    const bool to_pipe = file->writable();
    if (!to_pipe && !file->readable()) return Errno::badf;
    LITEBOX_TRY_ASSIGN(auto segments, iovec_segments<P>(r.ptr(1), r.u64(2)));
    std::uint64_t budget = t.kernel().config().max_splice_bytes, total = 0;
    for (auto& s : segments) {
        s.length = std::min(s.length, budget);
        budget -= s.length;
        total += s.length;
    }
    if (total == 0) return 0;
    if (ipc::pipe_of(*file) == nullptr) return Errno::badf;
    const bool nonblock = (flags & abi::splice_f_nonblock) != 0;
    if (to_pipe) {
        return transfer_from_guest(t, segments, [&](std::span<const std::byte> chunk, std::uint64_t so_far) -> Result<std::size_t> {
            if (so_far != 0) return file->write(chunk);
            return event::blocking(t.wait_context(), *file, fd::events::out, [&] { return file->write(chunk); }, nonblock);
        });
    }
    return transfer_to_guest(t, segments, [&](std::span<std::byte> chunk, std::uint64_t so_far) -> Result<std::size_t> {
        if (so_far != 0) return file->read(chunk);
        return event::blocking(t.wait_context(), *file, fd::events::in, [&] { return file->read(chunk); }, nonblock);
    });
}

}  // namespace litebox::shim::linux_abi
