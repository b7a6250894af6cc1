// Sockets: socket, socketpair, bind, listen, accept, accept4, connect, getsockname, getpeername,
// sendto, recvfrom, sendmsg, recvmsg, sendmmsg, recvmmsg, shutdown, setsockopt, getsockopt. Each handler decodes its
// arguments once here, then calls the family: AF_UNIX (socket_unix.hpp, ipc::UnixSocket),
// AF_INET (socket_inet.hpp, the box's net::Stack) or AF_NETLINK (netlink_route.hpp: rtnetlink's
// description of the box's interfaces, answered in the shim; listen/accept are EOPNOTSUPP). Sockets are OpenFiles in the descriptor
// table, so read/write/close/fstat (S_IFSOCK)/fcntl/poll/select/epoll work on them as on pipes.
//
// Contract: a descriptor that is not a socket is ENOTSOCK; AF_INET6 and other families are
// EAFNOSUPPORT, SOCK_RAW is EPERM (EPROTONOSUPPORT for root: the box has no raw sockets).
// Addresses follow Linux's length rules (EINVAL for negative or oversized lengths; output is
// truncated to the guest's length and the full length is returned). EPIPE from a send raises
// SIGPIPE unless MSG_NOSIGNAL. recvmsg installs SCM_RIGHTS descriptors (MSG_CMSG_CLOEXEC) as far
// as the control buffer holds them; the rest are dropped and MSG_CTRUNC is set.
#pragma once

#include "netlink_route.hpp"
#include "pipe.hpp"
#include "poll.hpp"
#include "socket_inet.hpp"
#include "socket_unix.hpp"

namespace litebox::shim::linux_abi {

namespace socket_detail {
/// A socket descriptor: exactly one of `unix_socket`, `inet` and `netlink` is set.
template <typename P>
struct SocketRef {
    std::shared_ptr<fd::OpenFile<P>> file;
    ipc::UnixSocket<P>* unix_socket = nullptr;
    net::Socket<P>* inet = nullptr;
    netlink::RouteSocket<P>* netlink = nullptr;
};
template <typename P>
Result<SocketRef<P>> socket_of(ThreadContext<P>& t, std::int32_t descriptor) {
    SocketRef<P> ref;
    LITEBOX_TRY_ASSIGN(ref.file, t.files().get(descriptor));
    ref.unix_socket = ipc::unix_socket_of(*ref.file);
    if (ref.unix_socket == nullptr) ref.inet = socket_inet::inet_socket_of(*ref.file);
    if (ref.unix_socket == nullptr && ref.inet == nullptr) ref.netlink = netlink::route_socket_of(*ref.file);
    if (ref.unix_socket == nullptr && ref.inet == nullptr && ref.netlink == nullptr) return Errno::notsock;
    return ref;
}

/// sockaddr_nl from a decoded address: EINVAL when short or of another family.
inline Result<netlink::sockaddr_nl> decode_netlink(const SocketAddress& address) {
    if (address.length < sizeof(netlink::sockaddr_nl) || address.family() != netlink::af_netlink) return Errno::inval;
    netlink::sockaddr_nl a{};
    std::memcpy(&a, address.bytes.data(), sizeof a);
    return a;
}
inline SocketAddress encode_netlink(const netlink::sockaddr_nl& a) {
    SocketAddress out;
    std::memcpy(out.bytes.data(), &a, sizeof a);
    out.length = sizeof a;
    return out;
}

/// send on a netlink socket: the gathered datagram is a request to the kernel (port 0).
template <typename P>
SyscallResult netlink_send(ThreadContext<P>& t, netlink::RouteSocket<P>& s, const SendRequest& request) {
    if (request.to) {
        LITEBOX_TRY_ASSIGN(const auto to, decode_netlink(*request.to));
        if (to.groups != 0) return Errno::perm;
        if (to.port != 0) return Errno::connrefused;
    }
    if (request.total > max_message_bytes) return Errno::msgsize;
    std::vector<std::byte> datagram(static_cast<std::size_t>(request.total));
    LITEBOX_TRY(gather<P>(request.segments, 0, datagram));
    LITEBOX_TRY_ASSIGN(const std::size_t n, s.request(datagram, [&](std::string_view reason) { t.kernel().unsupported(request.syscall, reason); }));
    return static_cast<std::int64_t>(n);
}

/// receive on a netlink socket: one datagram (see netlink_route.hpp), from port 0.
template <typename P>
Result<ReceiveReply<P>> netlink_receive(ThreadContext<P>& t, netlink::RouteSocket<P>& s, fd::OpenFile<P>& file, const ReceiveRequest& request) {
    const bool peek = (request.flags & ipc::msg_flags::peek) != 0;
    LITEBOX_TRY_ASSIGN(const auto datagram, event::blocking(t.wait_context(), file, fd::events::in, [&] { return s.take(peek); },
                                                            (request.flags & ipc::msg_flags::dontwait) != 0));
    const std::size_t copied = static_cast<std::size_t>(std::min<std::uint64_t>(request.total, datagram.size()));
    LITEBOX_TRY(scatter<P>(request.segments, 0, std::span<const std::byte>(datagram).first(copied)));
    ReceiveReply<P> reply;
    const bool truncated = copied < datagram.size();
    reply.value = static_cast<std::int64_t>((request.flags & ipc::msg_flags::trunc) != 0 ? datagram.size() : copied);
    if (truncated) reply.flags |= ipc::msg_flags::trunc;
    reply.from = encode_netlink(netlink::kernel_address);
    return reply;
}

/// Raises SIGPIPE for EPIPE unless MSG_NOSIGNAL.
template <typename P>
SyscallResult after_send(ThreadContext<P>& t, SyscallResult result, std::uint32_t flags) {
    if (!result.has_value() && result.error() == Errno::pipe && (flags & ipc::msg_flags::nosignal) == 0)
        t.kernel().tasks().post_to_thread(t.thread(), abi::sigpipe);
    return result;
}

template <typename P>
SyscallResult send(ThreadContext<P>& t, std::int32_t descriptor, const SendRequest& request) {
    LITEBOX_TRY_ASSIGN(auto s, socket_of(t, descriptor));
    if (s.netlink != nullptr) return netlink_send(t, *s.netlink, request);
    SyscallResult result = s.unix_socket != nullptr ? socket_unix::send(t, *s.unix_socket, request) : socket_inet::send(t, *s.inet, request);
    return after_send(t, std::move(result), request.flags);
}

template <typename P>
Result<ReceiveReply<P>> receive(ThreadContext<P>& t, std::int32_t descriptor, const ReceiveRequest& request) {
    LITEBOX_TRY_ASSIGN(auto s, socket_of(t, descriptor));
    if (s.unix_socket != nullptr) return socket_unix::receive(t, *s.unix_socket, request);
    if (s.netlink != nullptr) return netlink_receive(t, *s.netlink, *s.file, request);
    return socket_inet::receive(t, *s.inet, request);
}

/// The optional address of sendto / sendmsg (none when null or empty).
template <typename P>
Result<std::optional<SocketAddress>> destination(std::uintptr_t address, std::int64_t length) {
    if (address == 0) return std::optional<SocketAddress>{};
    LITEBOX_TRY_ASSIGN(SocketAddress a, read_address<P>(address, length));
    if (a.length == 0) return std::optional<SocketAddress>{};
    return std::optional<SocketAddress>{a};
}

/// getsockname / getpeername / accept's address output.
template <typename P>
Result<void> write_optional_address(std::uintptr_t address, std::uintptr_t length_address, const SocketAddress& full) {
    if (address == 0) return ok();
    return write_address<P>(address, length_address, full);
}
}  // namespace socket_detail

template <typename P>
SyscallResult sys_socket(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t domain = r.i32(0), type = r.i32(1), protocol = r.i32(2);
    constexpr std::uint32_t flag_mask = ipc::socket_flags::nonblock | ipc::socket_flags::close_on_exec;
    const auto flags = static_cast<std::uint32_t>(type) & ~ipc::socket_flags::type_mask;
    if ((flags & ~flag_mask) != 0) return Errno::inval;
    const int kind = type & static_cast<int>(ipc::socket_flags::type_mask);
    if (domain < 0 || domain >= socket_detail::af_max) return Errno::afnosupport;
    if (kind >= socket_detail::sock_max) return Errno::inval;
    std::shared_ptr<fd::OpenFile<P>> file;
    if (domain == socket_detail::af_unix) {
        LITEBOX_TRY_ASSIGN(file, ipc::make_unix_socket<P>(t.kernel().box().unix_namespace(), static_cast<std::uint32_t>(type), protocol,
                                                          socket_unix::credentials_of(t)));
    } else if (domain == socket_detail::af_inet) {
        if (kind == socket_detail::sock_raw) {
            const bool root = t.process().state().with_lock([](auto& st) { return st.credentials.privileged(); });
            return root ? Errno::protonosupport : Errno::perm;
        }
        LITEBOX_TRY_ASSIGN(auto inet, t.kernel().box().net().socket(domain, type, protocol));
        inet->set_owner(t.process().credential(&Credentials::euid));
        file = std::move(inet);
    } else if (domain == netlink::af_netlink) {
        if (kind != socket_detail::sock_raw && kind != socket_detail::sock_dgram) return Errno::socktnosupport;
        if (protocol != netlink::netlink_route) {
            t.kernel().unsupported(r.number, "netlink protocols other than NETLINK_ROUTE");
            return Errno::protonosupport;
        }
        const std::uint32_t status = (flags & ipc::socket_flags::nonblock) != 0 ? fd::open_flags::nonblock : 0;
        file = std::make_shared<netlink::RouteSocket<P>>(t.kernel().box().net(), kind, status, static_cast<std::uint32_t>(t.process().pid()));
    } else {
        t.kernel().unsupported(r.number, domain == socket_detail::af_inet6 ? "AF_INET6" : "address family");
        return Errno::afnosupport;
    }
    LITEBOX_TRY_ASSIGN(const int descriptor, t.files().insert(std::move(file), (flags & ipc::socket_flags::close_on_exec) != 0));
    return descriptor;
}

template <typename P>
SyscallResult sys_socketpair(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t domain = r.i32(0), type = r.i32(1), protocol = r.i32(2);
    const std::uintptr_t out = r.ptr(3);
    if (domain == socket_detail::af_inet) return Errno::opnotsupp;
    if (domain != socket_detail::af_unix) return Errno::afnosupport;
    LITEBOX_TRY_ASSIGN(auto pair, ipc::make_unix_socketpair<P>(t.kernel().box().unix_namespace(), static_cast<std::uint32_t>(type), protocol,
                                                               socket_unix::credentials_of(t)));
    const bool close_on_exec = (static_cast<std::uint32_t>(type) & ipc::socket_flags::close_on_exec) != 0;
    return pipe_detail::install_pair(t, std::move(pair.first), std::move(pair.second), close_on_exec, out);
}

template <typename P>
SyscallResult sys_bind(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t descriptor = r.i32(0);
    LITEBOX_TRY_ASSIGN(auto s, socket_detail::socket_of(t, descriptor));
    LITEBOX_TRY_ASSIGN(const auto address, socket_detail::read_address<P>(r.ptr(1), r.i32(2)));
    if (s.unix_socket != nullptr) return socket_unix::bind(t, *s.unix_socket, address);
    if (s.netlink != nullptr) {
        LITEBOX_TRY_ASSIGN(const auto a, socket_detail::decode_netlink(address));
        LITEBOX_TRY(s.netlink->bind(a.port, a.groups));
        return 0;
    }
    return socket_inet::bind(*s.inet, address);
}

template <typename P>
SyscallResult sys_connect(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(auto s, socket_detail::socket_of(t, r.i32(0)));
    LITEBOX_TRY_ASSIGN(const auto address, socket_detail::read_address<P>(r.ptr(1), r.i32(2)));
    if (s.unix_socket != nullptr) return socket_unix::connect(t, *s.unix_socket, address);
    if (s.netlink != nullptr) {
        if (address.family() == socket_detail::af_unspec) return 0;
        LITEBOX_TRY_ASSIGN(const auto a, socket_detail::decode_netlink(address));
        LITEBOX_TRY(s.netlink->connect(a.port, a.groups));
        return 0;
    }
    return socket_inet::connect(t, *s.inet, address);
}

template <typename P>
SyscallResult sys_listen(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(auto s, socket_detail::socket_of(t, r.i32(0)));
    const int backlog = r.i32(1);
    if (s.netlink != nullptr) return Errno::opnotsupp;
    if (s.unix_socket != nullptr) LITEBOX_TRY(s.unix_socket->listen(backlog));
    else LITEBOX_TRY(s.inet->listen(backlog));
    return 0;
}

template <typename P>
SyscallResult sys_accept4(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t address = r.ptr(1), length_address = r.ptr(2);
    const std::uint32_t flags = r.u32(3);
    if ((flags & ~(ipc::socket_flags::nonblock | ipc::socket_flags::close_on_exec)) != 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(auto s, socket_detail::socket_of(t, r.i32(0)));
    if (s.netlink != nullptr) return Errno::opnotsupp;
    LITEBOX_TRY_ASSIGN(auto accepted, s.unix_socket != nullptr ? socket_unix::accept(t, *s.unix_socket, flags)
                                                               : socket_inet::accept(t, *s.inet, flags));
    // Linux drops the new connection when the address cannot be written.
    LITEBOX_TRY(socket_detail::write_optional_address<P>(address, length_address, accepted.second));
    LITEBOX_TRY_ASSIGN(const int descriptor, t.files().insert(std::move(accepted.first), (flags & ipc::socket_flags::close_on_exec) != 0));
    return descriptor;
}
template <typename P>
SyscallResult sys_accept(ThreadContext<P>& t, const SyscallRequest& r) {
    SyscallRequest four = r;
    four.args[3] = 0;
    return sys_accept4(t, four);
}

template <typename P>
SyscallResult sys_getsockname(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(auto s, socket_detail::socket_of(t, r.i32(0)));
    if (s.netlink != nullptr) {
        LITEBOX_TRY(socket_detail::write_address<P>(r.ptr(1), r.ptr(2), socket_detail::encode_netlink(s.netlink->local_name())));
        return 0;
    }
    LITEBOX_TRY_ASSIGN(const auto name, s.unix_socket != nullptr ? socket_unix::local_name(*s.unix_socket) : socket_inet::local_name(*s.inet));
    LITEBOX_TRY(socket_detail::write_address<P>(r.ptr(1), r.ptr(2), name));
    return 0;
}
template <typename P>
SyscallResult sys_getpeername(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(auto s, socket_detail::socket_of(t, r.i32(0)));
    if (s.netlink != nullptr) {  // the peer is always the kernel
        LITEBOX_TRY(socket_detail::write_address<P>(r.ptr(1), r.ptr(2), socket_detail::encode_netlink(netlink::kernel_address)));
        return 0;
    }
    LITEBOX_TRY_ASSIGN(const auto name, s.unix_socket != nullptr ? socket_unix::peer_name(*s.unix_socket) : socket_inet::peer_name(*s.inet));
    LITEBOX_TRY(socket_detail::write_address<P>(r.ptr(1), r.ptr(2), name));
    return 0;
}

template <typename P>
SyscallResult sys_shutdown(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t how = r.i32(1);
    LITEBOX_TRY_ASSIGN(auto s, socket_detail::socket_of(t, r.i32(0)));
    if (how < 0 || how > 2) return Errno::inval;
    if (s.netlink != nullptr) return 0;  // Linux's netlink accepts shutdown and does nothing
    if (s.unix_socket != nullptr) LITEBOX_TRY(s.unix_socket->shutdown(static_cast<ipc::ShutdownHow>(how)));
    else LITEBOX_TRY(s.inet->shutdown(static_cast<net::ShutdownHow>(how)));
    return 0;
}

template <typename P>
SyscallResult sys_sendto(ThreadContext<P>& t, const SyscallRequest& r) {
    socket_detail::SendRequest request;
    LITEBOX_TRY_ASSIGN(request.segments, buffer_segments(r.ptr(1), r.u64(2)));
    request.total = socket_detail::total_of(request.segments);
    request.flags = r.u32(3);
    request.syscall = r.number;
    LITEBOX_TRY_ASSIGN(request.to, socket_detail::destination<P>(r.ptr(4), r.i32(5)));
    return socket_detail::send(t, r.i32(0), request);
}

namespace socket_detail {
/// sendmsg of one message whose header the caller has read: the bytes sent.
template <typename P>
Result<std::int64_t> send_message(ThreadContext<P>& t, std::int32_t fd, const abi::msghdr& header, std::uint32_t flags, std::uint64_t number) {
    if (header.msg_iovlen > abi::iov_max) return Errno::msgsize;
    if (static_cast<std::int32_t>(header.msg_namelen) < 0) return Errno::inval;
    if (header.msg_controllen > max_control_bytes) return Errno::nobufs;
    SendRequest request;
    request.flags = flags;
    request.syscall = number;
    const std::int64_t name_length = std::min<std::int64_t>(header.msg_namelen, abi::sockaddr_storage_size);
    LITEBOX_TRY_ASSIGN(request.to, destination<P>(header.msg_name, name_length));
    LITEBOX_TRY_ASSIGN(request.segments, iovec_segments<P>(header.msg_iov, header.msg_iovlen));
    request.total = total_of(request.segments);
    if (header.msg_controllen != 0) {
        std::vector<std::byte> control(static_cast<std::size_t>(header.msg_controllen));
        LITEBOX_TRY(Guest<P>::read_bytes(header.msg_control, control));
        LITEBOX_TRY_ASSIGN(request.control, parse_control(control));
    }
    return send(t, fd, request);
}

/// The guest address of entry `index` of an mmsghdr array (EFAULT if it would wrap).
inline Result<std::uintptr_t> mmsghdr_at(std::uintptr_t vector, std::uint32_t index) noexcept {
    constexpr std::uint64_t entry = sizeof(abi::mmsghdr);
    if (vector == 0 || (std::numeric_limits<std::uintptr_t>::max() - vector) / entry < index + std::uint64_t{1}) return Errno::fault;
    return vector + index * entry;
}
}  // namespace socket_detail

template <typename P>
SyscallResult sys_sendmsg(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(const abi::msghdr header, Guest<P>::template read<abi::msghdr>(r.ptr(1)));
    LITEBOX_TRY_ASSIGN(const std::int64_t sent, socket_detail::send_message(t, r.i32(0), header, r.u32(2), r.number));
    return sent;
}

/// sendmmsg: sendmsg for each entry in turn, msg_len set to its byte count. As Linux: at most
/// UIO_MAXIOV entries; an error on the first entry is the call's error, a later one ends the call
/// with the number of entries sent.
template <typename P>
SyscallResult sys_sendmmsg(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t count = std::min(r.u32(2), abi::iov_max);
    std::uint32_t done = 0;
    for (; done < count; ++done) {
        const auto sent = [&]() -> Result<void> {
            LITEBOX_TRY_ASSIGN(const std::uintptr_t entry, socket_detail::mmsghdr_at(r.ptr(1), done));
            LITEBOX_TRY_ASSIGN(const abi::msghdr header, Guest<P>::template read<abi::msghdr>(entry));
            LITEBOX_TRY_ASSIGN(const std::int64_t n, socket_detail::send_message(t, r.i32(0), header, r.u32(3), r.number));
            return Guest<P>::write(entry + offsetof(abi::mmsghdr, msg_len), static_cast<std::uint32_t>(n));
        }();
        if (!sent.has_value()) {
            if (done == 0) return sent.error();
            break;
        }
    }
    return done;
}

template <typename P>
SyscallResult sys_recvfrom(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t address = r.ptr(4), length_address = r.ptr(5);
    socket_detail::ReceiveRequest request;
    LITEBOX_TRY_ASSIGN(request.segments, buffer_segments(r.ptr(1), r.u64(2)));
    request.total = socket_detail::total_of(request.segments);
    request.flags = r.u32(3) & ~ipc::msg_flags::cmsg_cloexec;
    LITEBOX_TRY_ASSIGN(auto reply, socket_detail::receive(t, r.i32(0), request));
    if (address != 0) LITEBOX_TRY(socket_detail::write_address<P>(address, length_address, reply.from));
    return reply.value;
}

namespace socket_detail {
/// Installs received descriptors and builds recvmsg's control bytes within `room`.
template <typename P>
Result<ControlOut> deliver_control(ThreadContext<P>& t, ReceiveReply<P>& reply, std::size_t room, bool close_on_exec,
                                   std::vector<int>& installed) {
    ControlOut control(room);
    if (reply.credentials) {
        const abi::ucred c{reply.credentials->pid, reply.credentials->uid, reply.credentials->gid};
        control.put(sol_socket, scm_credentials, std::as_bytes(std::span<const abi::ucred, 1>(&c, 1)));
    }
    if (reply.rights.empty()) return control;
    const std::size_t fit = std::min(control.rights_room(), reply.rights.size());
    if (fit < reply.rights.size()) control.truncated();
    std::vector<std::int32_t> descriptors;
    for (std::size_t i = 0; i < fit; ++i) {
        auto descriptor = t.files().insert(std::move(reply.rights[i]), close_on_exec);
        if (!descriptor.has_value()) {  // EMFILE: Linux stops here and reports MSG_CTRUNC
            control.truncated();
            break;
        }
        installed.push_back(*descriptor);
        descriptors.push_back(*descriptor);
    }
    reply.rights.clear();  // what did not fit is dropped (closed when the last reference goes)
    if (!descriptors.empty()) control.put(sol_socket, scm_rights, std::as_bytes(std::span<const std::int32_t>(descriptors)));
    return control;
}
}  // namespace socket_detail

namespace socket_detail {
/// recvmsg into the message whose header is at `header_address`: the bytes received; the header's
/// name length, control length and flags are written back.
template <typename P>
Result<std::int64_t> receive_message(ThreadContext<P>& t, std::int32_t fd, std::uintptr_t header_address, std::uint32_t flags) {
    LITEBOX_TRY_ASSIGN(abi::msghdr header, Guest<P>::template read<abi::msghdr>(header_address));
    if (header.msg_iovlen > abi::iov_max) return Errno::msgsize;
    if (header.msg_name != 0 && static_cast<std::int32_t>(header.msg_namelen) < 0) return Errno::inval;
    ReceiveRequest request;
    LITEBOX_TRY_ASSIGN(request.segments, iovec_segments<P>(header.msg_iov, header.msg_iovlen));
    request.total = total_of(request.segments);
    request.flags = flags & ~ipc::msg_flags::cmsg_cloexec;
    LITEBOX_TRY_ASSIGN(auto reply, receive(t, fd, request));

    const std::size_t room = static_cast<std::size_t>(std::min<std::uint64_t>(header.msg_controllen, max_control_bytes));
    std::vector<int> installed;
    LITEBOX_TRY_ASSIGN(auto control, deliver_control(t, reply, header.msg_control != 0 ? room : 0,
                                                     (flags & ipc::msg_flags::cmsg_cloexec) != 0, installed));
    auto written = [&]() -> Result<void> {
        if (header.msg_name != 0) {
            const std::size_t n = std::min<std::size_t>(header.msg_namelen, reply.from.length);
            LITEBOX_TRY(Guest<P>::write_bytes(header.msg_name, reply.from.view().first(n)));
            header.msg_namelen = static_cast<std::uint32_t>(reply.from.length);
        } else {
            header.msg_namelen = 0;
        }
        LITEBOX_TRY(Guest<P>::write_bytes(header.msg_control, control.bytes()));
        header.msg_controllen = control.bytes().size();
        header.msg_flags = static_cast<std::int32_t>(reply.flags | control.flags());
        return Guest<P>::write(header_address, header);
    }();
    if (!written.has_value()) {
        for (const int d : installed) (void)t.files().close(d);
        return written.error();
    }
    return static_cast<std::int64_t>(reply.value);
}
}  // namespace socket_detail

template <typename P>
SyscallResult sys_recvmsg(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(const std::int64_t received, socket_detail::receive_message(t, r.i32(0), r.ptr(1), r.u32(2)));
    return received;
}

/// recvmmsg: recvmsg for each entry in turn, msg_len set to its byte count. Only the first entry
/// may wait (every later one is received as with MSG_WAITFORONE: the call returns once no further
/// datagram is queued), so a call interrupted after its first datagram never loses one. The
/// timeout, as on Linux, is checked after each datagram, and the time left is written back.
template <typename P>
SyscallResult sys_recvmmsg(ThreadContext<P>& t, const SyscallRequest& r) {
    constexpr std::uint32_t wait_for_one = 0x10000;  // MSG_WAITFORONE
    const std::uint32_t count = std::min(r.u32(2), abi::iov_max);
    const std::uint32_t flags = r.u32(3) & ~wait_for_one;
    const std::uintptr_t timeout_address = r.ptr(4);
    LITEBOX_TRY_ASSIGN(const auto deadline, poll_detail::read_timeout(t, timeout_address));
    std::uint32_t done = 0;
    for (; done < count; ++done) {
        const auto received = [&]() -> Result<void> {
            LITEBOX_TRY_ASSIGN(const std::uintptr_t entry, socket_detail::mmsghdr_at(r.ptr(1), done));
            const std::uint32_t these = done == 0 ? flags : flags | ipc::msg_flags::dontwait;
            LITEBOX_TRY_ASSIGN(const std::int64_t n, socket_detail::receive_message(t, r.i32(0), entry, these));
            return Guest<P>::write(entry + offsetof(abi::mmsghdr, msg_len), static_cast<std::uint32_t>(n));
        }();
        if (!received.has_value()) {
            if (done == 0) return received.error();
            break;
        }
        if (deadline && poll_detail::ns_left(t, deadline) == 0) {
            ++done;
            break;
        }
    }
    if (deadline) (void)Guest<P>::write(timeout_address, time_detail::to_timespec(poll_detail::ns_left(t, deadline)));
    return done;
}

template <typename P>
SyscallResult sys_setsockopt(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t level = r.i32(1), name = r.i32(2), length = r.i32(4);
    LITEBOX_TRY_ASSIGN(auto s, socket_detail::socket_of(t, r.i32(0)));
    if (length < 0) return Errno::inval;
    std::vector<std::byte> value(std::min<std::size_t>(static_cast<std::size_t>(length), socket_detail::max_option_bytes));
    LITEBOX_TRY(Guest<P>::read_bytes(r.ptr(3), value));
    if (s.unix_socket != nullptr) return socket_unix::set_option(t, *s.unix_socket, level, name, value);
    if (s.netlink != nullptr) {
        LITEBOX_TRY(s.netlink->set_option(level, name, value));
        return 0;
    }
    return socket_inet::set_option(*s.inet, level, name, value);
}

template <typename P>
SyscallResult sys_getsockopt(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t level = r.i32(1), name = r.i32(2);
    const std::uintptr_t value_address = r.ptr(3), length_address = r.ptr(4);
    LITEBOX_TRY_ASSIGN(auto s, socket_detail::socket_of(t, r.i32(0)));
    LITEBOX_TRY_ASSIGN(const std::int32_t room, Guest<P>::template read<std::int32_t>(length_address));
    if (room < 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const auto value, s.unix_socket != nullptr ? socket_unix::get_option(t, *s.unix_socket, level, name)
                                         : s.netlink != nullptr   ? s.netlink->get_option(level, name)
                                                                  : socket_inet::get_option(*s.inet, level, name));
    const std::size_t n = std::min(static_cast<std::size_t>(room), value.size());
    LITEBOX_TRY(Guest<P>::write_bytes(value_address, std::span<const std::byte>(value).first(n)));
    LITEBOX_TRY(Guest<P>::write(length_address, static_cast<std::int32_t>(n)));
    return 0;
}

}  // namespace litebox::shim::linux_abi
