// LinuxShim<P>: the x86-64 Linux syscall ABI on top of the north API. A runtime hands it raw
// syscalls (number + six registers) of a guest thread; it decodes them once, calls the north API
// and returns what the guest's rax receives.
//
// Contract: dispatch never throws and never aborts for any input: an unknown number is ENOSYS,
// unsupported flags are EINVAL/EOPNOTSUPP (each traced once with its name), guest memory is only
// touched through P's RawPointerProvider (bad pointer -> EFAULT). The return value is the result,
// or -errno in [-4095, -1]. After dispatch the runtime checks context.take_request() (kernel.hpp).
#pragma once

#include <array>
#include <cstdint>

#include "../../box.hpp"
#include "attr.hpp"
#include "capability.hpp"
#include "copy.hpp"
#include "descriptor.hpp"
#include "dir.hpp"
#include "epoll.hpp"
#include "identity.hpp"
#include "inotify.hpp"
#include "itimer.hpp"
#include "kernel.hpp"
#include "lifecycle.hpp"
#include "lock.hpp"
#include "memfd.hpp"
#include "memlock.hpp"
#include "open.hpp"
#include "path.hpp"
#include "pidfd.hpp"
#include "pipe.hpp"
#include "poll.hpp"
#include "prctl.hpp"
#include "priority.hpp"
#include "process.hpp"
#include "read.hpp"
#include "resource.hpp"
#include "signal.hpp"
#include "socket.hpp"
#include "splice.hpp"
#include "stat.hpp"
#include "stat_path.hpp"
#include "syscalls.hpp"
#include "sysv_ipc.hpp"
#include "system.hpp"
#include "time.hpp"
#include "timerfd.hpp"
#include "wait.hpp"
#include "xattr.hpp"

namespace litebox::shim::linux_abi {

/// The handler of every syscall the shim does not implement.
template <typename P>
SyscallResult sys_nosys(ThreadContext<P>& t, const SyscallRequest& r) {
    t.kernel().unsupported(r.number, "not implemented");
    return Errno::nosys;
}

template <typename P>
class LinuxShim : public Kernel<P> {
public:
    using Context = ThreadContext<P>;
    using Handler = SyscallResult (*)(ThreadContext<P>&, const SyscallRequest&);

    explicit LinuxShim(LiteBox<P>& box, ShimConfig config = {}, std::shared_ptr<fs::Vfs<P>> vfs = nullptr)
        : Kernel<P>(box, std::move(config), std::move(vfs)) {}

    /// One syscall of `context`'s thread: the value for the guest's rax (-errno on failure).
    std::int64_t dispatch(ThreadContext<P>& context, const SyscallRequest& request) {
        const SyscallResult result = call(context, request);
        if (result.has_value()) return *result;
        return -static_cast<std::int64_t>(errno_number(result.error()));
    }

    /// The typed form of dispatch (no negative-errno encoding).
    SyscallResult call(ThreadContext<P>& context, const SyscallRequest& request) {
        if (context.thread().killed()) {  // the process exited under this thread: stop it
            context.set_request(ExitRequest{0, true, 0});
            return Errno::intr;
        }
        SyscallResult result = request.number < syscall_table_size ? handlers[request.number](context, request)
                                                                   : unknown(context, request);
        if (this->tracer().enabled()) {
            const auto line = format_trace_line<P>(request, result);
            litebox::log(this->platform(), "[pid {}] {}", context.tid(), line);
        }
        return result;
    }

private:
    static SyscallResult unknown(ThreadContext<P>& t, const SyscallRequest& r) {
        t.kernel().unsupported(r.number < syscall_table_size ? r.number : syscall_table_size, "unknown syscall number");
        return Errno::nosys;
    }

    static constexpr std::array<Handler, syscall_table_size> make_handlers() {
        std::array<Handler, syscall_table_size> table{};
        for (auto& h : table) h = &unknown;
#define LITEBOX_SYSCALL_HANDLER(nr, name, handler, support, format, note) table[nr] = &handler<P>;
        LITEBOX_LINUX_SYSCALLS(LITEBOX_SYSCALL_HANDLER)
#undef LITEBOX_SYSCALL_HANDLER
        return table;
    }
    static constexpr std::array<Handler, syscall_table_size> handlers = make_handlers();
};

}  // namespace litebox::shim::linux_abi

namespace litebox::shim {
using linux_abi::LinuxShim;
using linux_abi::ShimConfig;
using linux_abi::SyscallRequest;
using linux_abi::ThreadContext;
}  // namespace litebox::shim
