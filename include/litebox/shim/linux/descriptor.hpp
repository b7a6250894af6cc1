// Descriptor-table syscalls: close, close_range, dup, dup2, dup3, fcntl, ioctl (generic part;
// terminal requests in terminal.hpp).
#pragma once

#include <climits>

#include "kernel.hpp"
#include "lock.hpp"
#include "memfd.hpp"
#include "net_interfaces.hpp"
#include "netlink_route.hpp"
#include "pty.hpp"
#include "terminal.hpp"
#include "../../fs/inotify.hpp"
#include "../../ipc/pipe.hpp"
#include "../../ipc/unix/socket.hpp"
#include "socket_inet.hpp"

namespace litebox::shim::linux_abi {

template <typename P>
SyscallResult sys_close(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY(t.files().close(r.i32(0)));  // record locks go through the table's observer
    return 0;
}

template <typename P>
SyscallResult sys_close_range(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t first = r.u32(0), last = r.u32(1), flags = r.u32(2);
    if ((flags & ~(abi::close_range_unshare | abi::close_range_cloexec)) != 0 || first > last) return Errno::inval;
    if ((flags & abi::close_range_unshare) != 0) t.process().unshare_files();  // then acts on the private copy
    if ((flags & abi::close_range_cloexec) != 0) {
        t.files().for_each([&](int descriptor, const auto&, bool) {
            const auto d = static_cast<std::uint32_t>(descriptor);
            if (d >= first && d <= last) (void)t.files().set_close_on_exec(descriptor, true);
        });
        return 0;
    }
    t.files().close_range(first, last);
    return 0;
}

template <typename P>
SyscallResult sys_dup(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(const int descriptor, t.files().duplicate(r.i32(0)));
    return descriptor;
}
template <typename P>
SyscallResult sys_dup2(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(const int descriptor, t.files().duplicate_to(r.i32(0), r.i32(1), false, true));
    return descriptor;
}
template <typename P>
SyscallResult sys_dup3(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t flags = r.u32(2);
    if ((flags & ~fd::open_flags::close_on_exec) != 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const int descriptor,
                       t.files().duplicate_to(r.i32(0), r.i32(1), (flags & fd::open_flags::close_on_exec) != 0, false));
    return descriptor;
}

template <typename P>
SyscallResult sys_fcntl(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t descriptor = r.i32(0), command = r.i32(1);
    const std::uint64_t argument = r.u64(2);
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(descriptor));
    switch (command) {
    case abi::f_dupfd:
    case abi::f_dupfd_cloexec: {
        const std::uint32_t lowest = static_cast<std::uint32_t>(argument);
        if (lowest > static_cast<std::uint32_t>(INT_MAX)) return Errno::inval;
        LITEBOX_TRY_ASSIGN(const int copy, t.files().duplicate(descriptor, static_cast<int>(lowest), command == abi::f_dupfd_cloexec));
        return copy;
    }
    case abi::f_getfd: {
        LITEBOX_TRY_ASSIGN(const bool cloexec, t.files().close_on_exec(descriptor));
        return cloexec ? abi::fd_cloexec : 0;
    }
    case abi::f_setfd:
        LITEBOX_TRY(t.files().set_close_on_exec(descriptor, (argument & abi::fd_cloexec) != 0));
        return 0;
    case abi::f_getfl: return file->status_flags();
    case abi::f_setfl:
        LITEBOX_TRY(file->set_status_flags(static_cast<std::uint32_t>(argument)));
        return 0;
    case abi::f_getlk:
    case abi::f_setlk:
    case abi::f_setlkw:
    case lock_detail::f_ofd_getlk:
    case lock_detail::f_ofd_setlk:
    case lock_detail::f_ofd_setlkw: return lock_detail::record_lock(t, descriptor, file, command, static_cast<std::uintptr_t>(argument));
    case abi::f_getpipe_sz:
    case abi::f_setpipe_sz: {
        auto* pipe = ipc::pipe_of(*file);
        if (pipe == nullptr) return Errno::badf;
        if (command == abi::f_getpipe_sz) return static_cast<std::int64_t>(pipe->capacity());
        LITEBOX_TRY_ASSIGN(const std::size_t capacity, pipe->set_capacity(static_cast<std::uint32_t>(argument)));
        return static_cast<std::int64_t>(capacity);
    }
    case abi::f_add_seals:
    case abi::f_get_seals: return memfd_detail::file_seals(*file, command, argument);
    default:
        t.kernel().unsupported(r.number, "command not supported");
        return Errno::inval;
    }
}

template <typename P>
SyscallResult sys_ioctl(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t descriptor = r.i32(0);
    const std::uint32_t request = r.u32(1);
    const std::uintptr_t argument = r.ptr(2);
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(descriptor));
    if (auto* pair = ipc::pty_pair_of(*file); pair != nullptr && is_pty_request(request))
        return pty_ioctl(t, *file, *pair, request, argument);
    if (is_terminal_request(request)) return terminal_ioctl(t, *file, request, argument);
    if (net_interfaces::is_interface_request(request))
        return net_interfaces::interface_ioctl(t, ipc::unix_socket_of(*file) != nullptr || socket_inet::inet_socket_of(*file) != nullptr ||
                                                   netlink::route_socket_of(*file) != nullptr,
                                               r.number, request, argument);
    switch (request) {
    case abi::fioclex:
    case abi::fionclex:
        LITEBOX_TRY(t.files().set_close_on_exec(descriptor, request == abi::fioclex));
        return 0;
    case abi::fionbio: {
        LITEBOX_TRY_ASSIGN(const std::int32_t on, Guest<P>::template read<std::int32_t>(argument));
        const std::uint32_t flags = file->status_flags();
        LITEBOX_TRY(file->set_status_flags(on != 0 ? (flags | fd::open_flags::nonblock) : (flags & ~fd::open_flags::nonblock)));
        return 0;
    }
    case abi::fionread: {  // FIONREAD == SIOCINQ
        std::size_t readable = 0;
        if (auto* pipe = ipc::pipe_of(*file)) {
            readable = pipe->bytes_queued();
        } else if (auto* unix_socket = ipc::unix_socket_of(*file)) {
            LITEBOX_TRY_ASSIGN(readable, unix_socket->bytes_readable());
        } else if (auto* inet = socket_inet::inet_socket_of(*file)) {
            LITEBOX_TRY_ASSIGN(readable, inet->bytes_readable());
        } else if (auto* route = netlink::route_socket_of(*file)) {
            readable = route->bytes_readable();
        } else if (auto* instance = fs::inotify_of(*file)) {
            readable = instance->bytes_queued();
        } else if (auto st = file->stat(); st.has_value() && fs::is_regular(st->mode)) {
            // A regular file: the size past the offset, truncated to an int as Linux's file_ioctl
            // does (negative when the offset is past the end).
            LITEBOX_TRY_ASSIGN(const std::uint64_t offset, file->seek(0, fd::Whence::current));
            const auto left = static_cast<std::int64_t>(st->size) - static_cast<std::int64_t>(offset);
            LITEBOX_TRY(Guest<P>::write(argument, static_cast<std::int32_t>(left)));
            return 0;
        } else {
            t.kernel().unsupported(r.number, "FIONREAD on objects other than pipes, sockets, inotify instances and regular files");
            return Errno::notty;
        }
        const auto clamped = static_cast<std::int32_t>(std::min<std::size_t>(readable, INT_MAX));
        LITEBOX_TRY(Guest<P>::write(argument, clamped));
        return 0;
    }
    default:
        t.kernel().unsupported(r.number, "request not supported");
        return Errno::notty;
    }
}

}  // namespace litebox::shim::linux_abi
