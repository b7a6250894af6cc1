// The AF_UNIX half of the socket family: each socket call on an ipc::UnixSocket, after the
// syscall layer (socket.hpp) decoded its arguments. Abstract names live in the box's
// UnixNamespace, path names in the shim's file system (Vfs::bind_socket / connect_socket, so
// permissions, EADDRINUSE and ENOENT are the file system's).
//
// Contract: blocking calls wait through the thread's wait context (a signal ends them with
// EINTR); O_NONBLOCK and MSG_DONTWAIT make them fail with EAGAIN instead. Linux's address rules
// apply (unix_validate_addr: EINVAL for short, long or foreign addresses; a bare family autobinds).
// SO_RCVTIMEO / SO_SNDTIMEO are not supported on unix sockets (ENOPROTOOPT).
#pragma once

#include <cstring>
#include <memory>

#include "../../ipc/unix/socket.hpp"
#include "detail/socket_io.hpp"
#include "fs_common.hpp"
#include "syscalls.hpp"

namespace litebox::shim::linux_abi::socket_unix {

using socket_detail::ReceiveReply;
using socket_detail::ReceiveRequest;
using socket_detail::SendRequest;
using socket_detail::SocketAddress;

/// The credentials a socket records for SO_PEERCRED: the process's pid, effective uid and gid.
template <typename P>
ipc::PeerCredentials credentials_of(ThreadContext<P>& t) {
    ipc::PeerCredentials c;
    c.pid = t.pid();
    t.process().state().with_lock([&](auto& st) {
        c.uid = st.credentials.euid;
        c.gid = st.credentials.egid;
    });
    return c;
}

/// The endpoint bound at `address`: an abstract name (ECONNREFUSED when unbound) or a path
/// (ENOENT, EACCES, ECONNREFUSED as the file system reports them).
template <typename P>
Result<std::shared_ptr<ipc::UnixEndpoint<P>>> resolve(ThreadContext<P>& t, const ipc::UnixAddress& address) {
    if (address.kind == ipc::UnixAddress::Kind::abstract) return t.kernel().box().unix_namespace()->lookup_abstract(address.name);
    if (address.kind != ipc::UnixAddress::Kind::path) return Errno::inval;
    LITEBOX_TRY_ASSIGN(auto base, at_base(t, abi::at_fdcwd, address.name));
    LITEBOX_TRY_ASSIGN(std::shared_ptr<void> endpoint, t.kernel().vfs().connect_socket(fs_credentials(t), base, address.name));
    return std::static_pointer_cast<ipc::UnixEndpoint<P>>(std::move(endpoint));
}

template <typename P>
SyscallResult bind(ThreadContext<P>& t, ipc::UnixSocket<P>& s, const SocketAddress& address) {
    if (address.length == 2 && address.family() == socket_detail::af_unix) {
        LITEBOX_TRY(s.bind(ipc::UnixAddress::unnamed()));  // autobind
        return 0;
    }
    LITEBOX_TRY_ASSIGN(ipc::UnixAddress name, socket_detail::decode_unix(address));
    if (name.kind == ipc::UnixAddress::Kind::abstract) {
        LITEBOX_TRY(s.bind(name));
        return 0;
    }
    LITEBOX_TRY_ASSIGN(auto base, at_base(t, abi::at_fdcwd, name.name));
    const auto creds = fs_credentials(t);
    auto& vfs = t.kernel().vfs();
    const std::string path = name.name;
    LITEBOX_TRY(s.bind_path(std::move(name.name), [&](const std::shared_ptr<ipc::UnixEndpoint<P>>& endpoint) {
        return vfs.bind_socket(creds, base, path, endpoint);
    }));
    return 0;
}

template <typename P>
SyscallResult connect(ThreadContext<P>& t, ipc::UnixSocket<P>& s, const SocketAddress& address) {
    if (s.type() == ipc::SocketType::datagram) {
        if (address.length < 2) return Errno::inval;
        if (address.family() == socket_detail::af_unspec) {
            LITEBOX_TRY(s.disconnect());
            return 0;
        }
    }
    LITEBOX_TRY_ASSIGN(const ipc::UnixAddress name, socket_detail::decode_unix(address));
    LITEBOX_TRY_ASSIGN(auto endpoint, resolve(t, name));
    LITEBOX_TRY(s.connect(t.wait_context(), endpoint));
    return 0;
}

/// accept4: the new socket and the client's address.
template <typename P>
Result<std::pair<std::shared_ptr<fd::OpenFile<P>>, SocketAddress>> accept(ThreadContext<P>& t, ipc::UnixSocket<P>& s, std::uint32_t flags) {
    LITEBOX_TRY_ASSIGN(auto file, s.accept(t.wait_context(), flags & ipc::socket_flags::nonblock));
    SocketAddress peer = socket_detail::encode_unix(ipc::UnixAddress::unnamed());
    if (auto* accepted = ipc::unix_socket_of(*file)) {
        if (auto address = accepted->peer_address(); address.has_value()) peer = socket_detail::encode_unix(*address);
    }
    return std::pair{std::move(file), peer};
}

template <typename P>
Result<SocketAddress> local_name(ipc::UnixSocket<P>& s) {
    return socket_detail::encode_unix(s.local_address());
}
template <typename P>
Result<SocketAddress> peer_name(ipc::UnixSocket<P>& s) {
    LITEBOX_TRY_ASSIGN(const ipc::UnixAddress address, s.peer_address());
    return socket_detail::encode_unix(address);
}

/// sendto / sendmsg. SCM_CREDENTIALS must name the caller (EPERM otherwise) and is otherwise
/// implied: receivers with SO_PASSCRED see the sender's recorded credentials.
template <typename P>
SyscallResult send(ThreadContext<P>& t, ipc::UnixSocket<P>& s, const SendRequest& request) {
    if (request.control.other_socket_level) return Errno::inval;
    ipc::SendExtras<P> extras;
    if (request.control.credentials) {
        const abi::ucred& c = *request.control.credentials;
        const bool allowed = t.process().state().with_lock([&](auto& st) {
            const auto& id = st.credentials;
            if (id.privileged()) return true;
            return c.pid == t.pid() && (c.uid == id.ruid || c.uid == id.euid || c.uid == id.suid) &&
                   (c.gid == id.rgid || c.gid == id.egid || c.gid == id.sgid);
        });
        if (!allowed) return Errno::perm;
    }
    for (const std::int32_t descriptor : request.control.rights) {
        LITEBOX_TRY_ASSIGN(auto file, t.files().get(descriptor));
        extras.rights.push_back(std::move(file));
    }
    if (request.to && s.type() == ipc::SocketType::stream) return s.peer_address().has_value() ? Errno::isconn : Errno::opnotsupp;
    if (request.to && s.type() == ipc::SocketType::datagram) {
        LITEBOX_TRY_ASSIGN(const ipc::UnixAddress name, socket_detail::decode_unix(*request.to));
        LITEBOX_TRY_ASSIGN(extras.destination, resolve(t, name));
    }
    const auto ctx = t.wait_context();
    const std::uint32_t flags = request.flags;
    if (s.type() != ipc::SocketType::stream)
        return socket_detail::send_message(t, request, [&](std::span<const std::byte> data) { return s.send(ctx, data, flags, std::move(extras)); });
    return socket_detail::send_stream(t, request, [&](std::span<const std::byte> data, bool first) {
        return s.send(ctx, data, flags, first ? std::move(extras) : ipc::SendExtras<P>{});
    });
}

namespace detail {
template <typename P>
void take(ReceiveReply<P>& reply, ipc::Received<P>& got) {
    reply.flags |= got.flags & ipc::msg_flags::trunc;
    reply.from = socket_detail::encode_unix(got.source, true);
    for (auto& f : got.rights) reply.rights.push_back(std::move(f));
    if (got.credentials && !reply.credentials) reply.credentials = got.credentials;
}
}  // namespace detail

/// recvfrom / recvmsg. A message arrives whole (MSG_TRUNC returns its real length); a stream
/// read returns what is there (after waiting for the first byte), all of it with MSG_WAITALL.
template <typename P>
Result<ReceiveReply<P>> receive(ThreadContext<P>& t, ipc::UnixSocket<P>& s, const ReceiveRequest& request) {
    const auto ctx = t.wait_context();
    ReceiveReply<P> reply;
    if (s.type() != ipc::SocketType::stream) {
        auto buffer = socket_detail::message_buffer(t, static_cast<std::size_t>(std::min<std::uint64_t>(request.total, socket_detail::max_message_bytes)));
        LITEBOX_TRY_ASSIGN(ipc::Received<P> got, s.receive(ctx, buffer.bytes, request.flags));
        LITEBOX_TRY(socket_detail::scatter<P>(request.segments, 0, buffer.bytes.first(got.bytes)));
        reply.value = static_cast<std::int64_t>((request.flags & ipc::msg_flags::trunc) != 0 ? got.message_length : got.bytes);
        detail::take(reply, got);
        return reply;
    }
    const bool wait_all = (request.flags & ipc::msg_flags::waitall) != 0;
    const bool peek = (request.flags & ipc::msg_flags::peek) != 0;
    const auto bounce = t.io_buffer();
    std::uint64_t done = 0;
    do {
        const auto chunk = bounce.first(static_cast<std::size_t>(std::min<std::uint64_t>(request.total - done, bounce.size())));
        const std::uint32_t flags = done == 0 || wait_all ? request.flags : request.flags | ipc::msg_flags::dontwait;
        Result<ipc::Received<P>> got = s.receive(ctx, chunk, flags);
        if (!got.has_value()) {
            if (done != 0) break;
            return got.error();
        }
        if (auto copied = socket_detail::scatter<P>(request.segments, done, chunk.first(got->bytes)); !copied.has_value()) {
            if (done != 0) break;
            return copied.error();
        }
        done += got->bytes;
        const bool rights = !got->rights.empty();
        detail::take(reply, *got);
        if (got->bytes < chunk.size() || rights || peek) break;
    } while (done < request.total);
    reply.value = static_cast<std::int64_t>(done);
    return reply;
}

// ---- options -----------------------------------------------------------------------------------
namespace detail {
inline constexpr int so_reuseaddr = 2, so_type = 3, so_error = 4, so_sndbuf = 7, so_rcvbuf = 8, so_acceptconn = 30,
                     so_protocol = 38, so_domain = 39;
}  // namespace detail

/// setsockopt: SO_SNDBUF, SO_RCVBUF, SO_PASSCRED. Other SOL_SOCKET names: ENOPROTOOPT; other
/// levels: EOPNOTSUPP (Linux's sock_no_setsockopt).
template <typename P>
SyscallResult set_option(ThreadContext<P>& t, ipc::UnixSocket<P>& s, int level, int name, std::span<const std::byte> value) {
    if (level != socket_detail::sol_socket) return Errno::opnotsupp;
    if (name != detail::so_sndbuf && name != detail::so_rcvbuf && name != socket_detail::so_passcred) {
        t.kernel().unsupported(nr::setsockopt, "unix socket option");
        return Errno::noprotoopt;
    }
    if (value.size() < sizeof(int)) return Errno::inval;
    int v = 0;
    std::memcpy(&v, value.data(), sizeof v);
    const std::size_t size = v < 0 ? 0 : static_cast<std::size_t>(v);
    if (name == detail::so_sndbuf) s.set_send_buffer(size);
    else if (name == detail::so_rcvbuf) s.set_receive_buffer(size);
    else s.set_pass_credentials(v != 0);
    return 0;
}

/// getsockopt: the option's bytes (the syscall layer truncates them to the guest's length).
template <typename P>
Result<std::vector<std::byte>> get_option(ThreadContext<P>& t, ipc::UnixSocket<P>& s, int level, int name) {
    if (level != socket_detail::sol_socket) return Errno::opnotsupp;
    auto bytes_of = [](const auto& value) {
        std::vector<std::byte> out(sizeof value);
        std::memcpy(out.data(), &value, sizeof value);
        return out;
    };
    switch (name) {
        case detail::so_type: return bytes_of(static_cast<int>(s.type()));
        case detail::so_domain: return bytes_of(socket_detail::af_unix);
        case detail::so_protocol: return bytes_of(0);
        case detail::so_error: {
            const auto e = s.take_error();
            return bytes_of(e ? static_cast<int>(errno_number(*e)) : 0);
        }
        case detail::so_sndbuf: return bytes_of(static_cast<int>(s.send_buffer()));
        case detail::so_rcvbuf: return bytes_of(static_cast<int>(s.receive_buffer()));
        case detail::so_acceptconn: return bytes_of(s.listening() ? 1 : 0);
        case socket_detail::so_passcred: return bytes_of(s.pass_credentials() ? 1 : 0);
        case socket_detail::so_peercred: {
            const ipc::PeerCredentials c = s.peer_credentials();
            return bytes_of(abi::ucred{c.pid, c.uid, c.gid});
        }
        default: t.kernel().unsupported(nr::getsockopt, "unix socket option"); return Errno::noprotoopt;
    }
}

}  // namespace litebox::shim::linux_abi::socket_unix
