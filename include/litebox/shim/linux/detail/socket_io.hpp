// What the socket syscalls hand to a family (AF_UNIX in socket_unix.hpp, AF_INET in
// socket_inet.hpp): a send or receive decoded once from sendto/sendmsg/recvfrom/recvmsg, and the
// helpers that move payload bytes between guest segments and the family's buffers.
//
// Contract: a message (datagram, seqpacket) moves whole: it is gathered into one buffer (the
// thread's bounce buffer, or an allocation of at most max_message_bytes; EMSGSIZE beyond) and
// sent with one call. A stream moves chunk by chunk through the bounce buffer. A guest fault
// after some bytes moved ends the call with the count so far.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "../../../error.hpp"
#include "../../../fd/open_file.hpp"
#include "../io.hpp"
#include "../kernel.hpp"
#include "socket_abi.hpp"

namespace litebox::shim::linux_abi::socket_detail {

/// Largest message (datagram or seqpacket record) the shim copies in or out in one call; larger
/// sends fail with EMSGSIZE, larger receive buffers are used up to this size.
inline constexpr std::size_t max_message_bytes = 4u << 20;

/// sendto / sendmsg, decoded.
struct SendRequest {
    std::vector<Segment> segments;
    std::uint64_t total = 0;
    std::uint32_t flags = 0;
    std::optional<SocketAddress> to;  // set when the guest gave a non-empty address
    ControlIn control;
    std::uint64_t syscall = 0;  // the call's number, for trace lines
};

/// recvfrom / recvmsg, decoded (MSG_CMSG_CLOEXEC already taken out of `flags`).
struct ReceiveRequest {
    std::vector<Segment> segments;
    std::uint64_t total = 0;
    std::uint32_t flags = 0;
};

/// What a family's receive returns to the syscall layer.
template <typename P>
struct ReceiveReply {
    std::int64_t value = 0;                           // the syscall's return value
    std::uint32_t flags = 0;                          // MSG_TRUNC
    SocketAddress from;                               // length 0: no address
    std::vector<std::shared_ptr<fd::OpenFile<P>>> rights;  // SCM_RIGHTS, to install
    std::optional<ipc::PeerCredentials> credentials;  // SCM_CREDENTIALS
};

inline std::uint64_t total_of(const std::vector<Segment>& segments) noexcept {
    std::uint64_t total = 0;
    for (const auto& s : segments) total += s.length;
    return total;
}

/// Copies guest bytes [offset, offset + out.size()) of the segments' concatenation into `out`.
template <typename P>
Result<void> gather(const std::vector<Segment>& segments, std::uint64_t offset, std::span<std::byte> out) {
    std::size_t filled = 0;
    for (const auto& s : segments) {
        if (filled == out.size()) break;
        if (offset >= s.length) {
            offset -= s.length;
            continue;
        }
        const std::size_t piece = static_cast<std::size_t>(std::min<std::uint64_t>(s.length - offset, out.size() - filled));
        LITEBOX_TRY(Guest<P>::read_bytes(s.address + offset, out.subspan(filled, piece)));
        filled += piece;
        offset = 0;
    }
    return ok();
}

/// Copies `in` to guest bytes [offset, offset + in.size()) of the segments' concatenation.
template <typename P>
Result<void> scatter(const std::vector<Segment>& segments, std::uint64_t offset, std::span<const std::byte> in) {
    std::size_t copied = 0;
    for (const auto& s : segments) {
        if (copied == in.size()) break;
        if (offset >= s.length) {
            offset -= s.length;
            continue;
        }
        const std::size_t piece = static_cast<std::size_t>(std::min<std::uint64_t>(s.length - offset, in.size() - copied));
        LITEBOX_TRY(Guest<P>::write_bytes(s.address + offset, in.subspan(copied, piece)));
        copied += piece;
        offset = 0;
    }
    return ok();
}

/// A buffer for one whole message of `size` bytes: the bounce buffer when it fits, else an
/// allocation (callers bound `size` by max_message_bytes first).
struct MessageBuffer {
    std::vector<std::byte> owned;
    std::span<std::byte> bytes;
};
template <typename P>
MessageBuffer message_buffer(ThreadContext<P>& t, std::size_t size) {
    MessageBuffer b;
    const auto bounce = t.io_buffer();
    if (size <= bounce.size()) {
        b.bytes = bounce.first(size);
    } else {
        b.owned.resize(size);
        b.bytes = b.owned;
    }
    return b;
}

/// Sends a whole message: gathers it, then `send(span<const byte>)` once.
template <typename P, typename Send>
SyscallResult send_message(ThreadContext<P>& t, const SendRequest& request, Send&& send) {
    if (request.total > max_message_bytes) return Errno::msgsize;
    auto buffer = message_buffer(t, static_cast<std::size_t>(request.total));
    LITEBOX_TRY(gather<P>(request.segments, 0, buffer.bytes));
    LITEBOX_TRY_ASSIGN(const std::size_t sent, send(std::span<const std::byte>(buffer.bytes)));
    return static_cast<std::int64_t>(sent);
}

/// Sends a stream chunk by chunk: `send(span<const byte>, bool first)` per chunk until every
/// byte went or a chunk went short; an error or fault after progress returns the count so far.
template <typename P, typename Send>
SyscallResult send_stream(ThreadContext<P>& t, const SendRequest& request, Send&& send) {
    const auto bounce = t.io_buffer();
    std::uint64_t done = 0;
    do {
        const auto chunk = bounce.first(static_cast<std::size_t>(std::min<std::uint64_t>(request.total - done, bounce.size())));
        if (auto copied = gather<P>(request.segments, done, chunk); !copied.has_value()) {
            if (done != 0) break;
            return copied.error();
        }
        Result<std::size_t> sent = send(std::span<const std::byte>(chunk), done == 0);
        if (!sent.has_value()) {
            if (done != 0) break;
            return sent.error();
        }
        done += *sent;
        if (*sent < chunk.size()) break;
    } while (done < request.total);
    return static_cast<std::int64_t>(done);
}

}  // namespace litebox::shim::linux_abi::socket_detail
