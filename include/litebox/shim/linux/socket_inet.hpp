// The AF_INET half of the socket family: each socket call on a net::Socket of the box's TCP/IP
// stack (box.net()), after the syscall layer (socket.hpp) decoded its arguments.
//
// Contract: blocking calls go through net/blocking.hpp with the thread's wait context (a signal
// ends them with EINTR; SO_RCVTIMEO / SO_SNDTIMEO end them with EAGAIN, a timed-out connect with
// EINPROGRESS). A non-blocking connect returns EINPROGRESS; SO_ERROR reports how it ended.
// Options are the stack's (net/detail/socket_options.hpp). Control messages at SOL_SOCKET are
// EINVAL (SCM_RIGHTS is AF_UNIX only); other levels are ignored.
#pragma once

#include <memory>

#include "../../net/blocking.hpp"
#include "../../net/stack.hpp"
#include "detail/socket_io.hpp"

namespace litebox::shim::linux_abi::socket_inet {

using socket_detail::ReceiveReply;
using socket_detail::ReceiveRequest;
using socket_detail::SendRequest;
using socket_detail::SocketAddress;

/// The net::Socket behind a file, or nullptr.
template <typename P>
net::Socket<P>* inet_socket_of(fd::OpenFile<P>& file) noexcept {
    return dynamic_cast<net::Socket<P>*>(&file);
}

template <typename P>
SyscallResult bind(net::Socket<P>& s, const SocketAddress& address) {
    LITEBOX_TRY_ASSIGN(const net::Endpoint endpoint, socket_detail::decode_inet(address, true));
    LITEBOX_TRY(s.bind(endpoint));
    return 0;
}

template <typename P>
SyscallResult connect(ThreadContext<P>& t, net::Socket<P>& s, const SocketAddress& address) {
    if (address.length < 2) return Errno::inval;
    std::optional<net::Endpoint> remote;
    if (address.family() != socket_detail::af_unspec) {
        LITEBOX_TRY_ASSIGN(remote, socket_detail::decode_inet(address));
    }
    LITEBOX_TRY(net::connect(t.wait_context(), s, remote));
    return 0;
}

/// accept4: the new socket (SOCK_NONBLOCK from `flags`) and the client's address.
template <typename P>
Result<std::pair<std::shared_ptr<fd::OpenFile<P>>, SocketAddress>> accept(ThreadContext<P>& t, net::Socket<P>& s, std::uint32_t flags) {
    net::Endpoint peer;
    LITEBOX_TRY_ASSIGN(auto accepted, net::accept(t.wait_context(), s, &peer, static_cast<int>(flags & net::sock_flags::nonblock)));
    return std::pair{std::shared_ptr<fd::OpenFile<P>>(std::move(accepted)), socket_detail::encode_inet(peer)};
}

template <typename P>
Result<SocketAddress> local_name(net::Socket<P>& s) {
    LITEBOX_TRY_ASSIGN(const net::Endpoint e, s.local_endpoint());
    return socket_detail::encode_inet(e);
}
template <typename P>
Result<SocketAddress> peer_name(net::Socket<P>& s) {
    LITEBOX_TRY_ASSIGN(const net::Endpoint e, s.peer_endpoint());
    return socket_detail::encode_inet(e);
}

template <typename P>
SyscallResult send(ThreadContext<P>& t, net::Socket<P>& s, const SendRequest& request) {
    if (request.control.other_socket_level || !request.control.rights.empty() || request.control.credentials) return Errno::inval;
    std::optional<net::Endpoint> to;
    if (request.to && s.type() == net::SocketType::datagram) {
        LITEBOX_TRY_ASSIGN(to, socket_detail::decode_inet(*request.to));
    }
    const auto ctx = t.wait_context();
    const int flags = static_cast<int>(request.flags);
    if (s.type() == net::SocketType::datagram)
        return socket_detail::send_message(t, request, [&](std::span<const std::byte> data) { return net::send(ctx, s, data, flags, to); });
    return socket_detail::send_stream(t, request, [&](std::span<const std::byte> data, bool) { return net::send(ctx, s, data, flags); });
}

/// recvfrom / recvmsg. UDP reports the sender's address; TCP reports none (as Linux).
template <typename P>
Result<ReceiveReply<P>> receive(ThreadContext<P>& t, net::Socket<P>& s, const ReceiveRequest& request) {
    const auto ctx = t.wait_context();
    const int flags = static_cast<int>(request.flags);
    ReceiveReply<P> reply;
    if (s.type() == net::SocketType::datagram) {
        auto buffer = socket_detail::message_buffer(t, static_cast<std::size_t>(std::min<std::uint64_t>(request.total, socket_detail::max_message_bytes)));
        net::Endpoint from;
        bool truncated = false;
        LITEBOX_TRY_ASSIGN(const std::size_t n, net::receive(ctx, s, buffer.bytes, flags, &from, &truncated));
        LITEBOX_TRY(socket_detail::scatter<P>(request.segments, 0, buffer.bytes.first(std::min(n, buffer.bytes.size()))));
        reply.value = static_cast<std::int64_t>(n);
        if (truncated) reply.flags |= ipc::msg_flags::trunc;
        reply.from = socket_detail::encode_inet(from);
        return reply;
    }
    const bool wait_all = (flags & net::msg::waitall) != 0;
    const bool peek = (flags & net::msg::peek) != 0;
    const auto bounce = t.io_buffer();
    std::uint64_t done = 0;
    do {
        const auto chunk = bounce.first(static_cast<std::size_t>(std::min<std::uint64_t>(request.total - done, bounce.size())));
        const int step_flags = done == 0 || wait_all ? flags : flags | net::msg::dontwait;
        Result<std::size_t> got = net::receive(ctx, s, chunk, step_flags);
        if (!got.has_value()) {
            if (done != 0) break;
            return got.error();
        }
        if (auto copied = socket_detail::scatter<P>(request.segments, done, chunk.first(*got)); !copied.has_value()) {
            if (done != 0) break;
            return copied.error();
        }
        done += *got;
        if (*got < chunk.size() || peek) break;
    } while (done < request.total);
    reply.value = static_cast<std::int64_t>(done);
    return reply;
}

template <typename P>
SyscallResult set_option(net::Socket<P>& s, int level, int name, std::span<const std::byte> value) {
    LITEBOX_TRY(s.set_option(level, name, value));
    return 0;
}

template <typename P>
Result<std::vector<std::byte>> get_option(net::Socket<P>& s, int level, int name) {
    std::vector<std::byte> out(socket_detail::max_option_bytes);
    LITEBOX_TRY_ASSIGN(const std::size_t length, s.get_option(level, name, out));
    out.resize(std::min(length, out.size()));
    return out;
}

}  // namespace litebox::shim::linux_abi::socket_inet
