// Pipes and eventfds: pipe, pipe2, eventfd, eventfd2 (objects from the ipc layer; descriptors
// from the process's table).
#pragma once

#include "../../ipc/eventfd.hpp"
#include "../../ipc/pipe.hpp"
#include "kernel.hpp"

namespace litebox::shim::linux_abi {

namespace pipe_detail {
/// Installs both ends and writes int[2]; on failure nothing stays installed.
template <typename P>
SyscallResult install_pair(ThreadContext<P>& t, std::shared_ptr<fd::OpenFile<P>> first, std::shared_ptr<fd::OpenFile<P>> second,
                           bool close_on_exec, std::uintptr_t address) {
    LITEBOX_TRY_ASSIGN(const int a, t.files().insert(std::move(first), close_on_exec));
    auto b = t.files().insert(std::move(second), close_on_exec);
    if (!b.has_value()) {
        (void)t.files().close(a);
        return b.error();
    }
    const std::int32_t fds[2] = {a, *b};
    if (auto written = Guest<P>::write(address, fds); !written.has_value()) {
        (void)t.files().close(a);
        (void)t.files().close(*b);
        return written.error();
    }
    return 0;
}
}  // namespace pipe_detail

template <typename P>
SyscallResult sys_pipe2(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t address = r.ptr(0);
    const std::uint32_t flags = r.u32(1);
    if ((flags & fd::open_flags::direct) != 0) {
        t.kernel().unsupported(r.number, "O_DIRECT (packet mode)");
        return Errno::inval;
    }
    LITEBOX_TRY_ASSIGN(auto ends, ipc::make_pipe<P>(flags));
    return pipe_detail::install_pair(t, std::move(ends.read), std::move(ends.write), (flags & fd::open_flags::close_on_exec) != 0, address);
}
template <typename P>
SyscallResult sys_pipe(ThreadContext<P>& t, const SyscallRequest& r) {
    SyscallRequest two = r;
    two.args[1] = 0;
    return sys_pipe2(t, two);
}

template <typename P>
SyscallResult sys_eventfd2(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t initial = r.u32(0), flags = r.u32(1);
    LITEBOX_TRY_ASSIGN(auto file, ipc::make_eventfd<P>(initial, flags));
    LITEBOX_TRY_ASSIGN(const int descriptor, t.files().insert(std::move(file), (flags & fd::open_flags::close_on_exec) != 0));
    return descriptor;
}
template <typename P>
SyscallResult sys_eventfd(ThreadContext<P>& t, const SyscallRequest& r) {
    SyscallRequest two = r;
    two.args[1] = 0;
    return sys_eventfd2(t, two);
}

}  // namespace litebox::shim::linux_abi
