// wait4 and waitid: reaping children through the process table (blocking, interruptible), and
// reporting stopped (WUNTRACED/WSTOPPED) and continued (WCONTINUED) ones.
#pragma once

#include <climits>

#include "kernel.hpp"
#include "pidfd.hpp"

namespace litebox::shim::linux_abi {

namespace wait_detail {
inline abi::timeval to_timeval(std::int64_t ns) noexcept { return abi::timeval{ns / 1'000'000'000, (ns % 1'000'000'000) / 1000}; }
inline abi::rusage to_rusage(const Usage& usage) noexcept {
    abi::rusage out{};
    out.ru_utime = to_timeval(usage.user_ns);
    out.ru_stime = to_timeval(usage.system_ns);
    return out;
}
}  // namespace wait_detail

template <typename P>
SyscallResult sys_wait4(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t pid = r.i32(0);
    const std::uintptr_t status_address = r.ptr(1), rusage_address = r.ptr(3);
    const std::uint32_t options = r.u32(2);
    constexpr std::uint32_t known = abi::wnohang | abi::wuntraced | abi::wcontinued | abi::wnothread | abi::wclone | abi::wall;
    if ((options & ~known) != 0) return Errno::inval;
    if (pid == INT_MIN) return Errno::srch;
    WaitSelector selector;
    selector.options = options | abi::wexited;
    if (pid < -1) selector = {WaitSelector::Kind::group, -pid, selector.options};
    else if (pid == 0) selector = {WaitSelector::Kind::group, 0, selector.options};
    else if (pid > 0) selector = {WaitSelector::Kind::pid, pid, selector.options};
    LITEBOX_TRY_ASSIGN(const WaitOutcome child, t.kernel().tasks().wait(t.platform(), t.thread(), selector));
    if (child.pid != 0) {
        if (status_address != 0) LITEBOX_TRY(Guest<P>::write(status_address, static_cast<std::int32_t>(child.status)));
        if (rusage_address != 0) LITEBOX_TRY(Guest<P>::write(rusage_address, wait_detail::to_rusage(child.usage)));
    }
    return child.pid;
}

template <typename P>
SyscallResult sys_waitid(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t which = r.i32(0), id = r.i32(1);
    const std::uintptr_t info_address = r.ptr(2), rusage_address = r.ptr(4);
    const std::uint32_t options = r.u32(3);
    constexpr std::uint32_t known =
        abi::wnohang | abi::wnowait | abi::wexited | abi::wstopped | abi::wcontinued | abi::wnothread | abi::wclone | abi::wall;
    if ((options & ~known) != 0 || (options & (abi::wexited | abi::wstopped | abi::wcontinued)) == 0) return Errno::inval;
    WaitSelector selector{WaitSelector::Kind::any, 0, options};
    bool nonblocking_pidfd = false;
    switch (which) {
    case abi::p_all: break;
    case abi::p_pid:
        if (id <= 0) return Errno::inval;
        selector.kind = WaitSelector::Kind::pid;
        selector.id = id;
        break;
    case abi::p_pgid:
        if (id < 0) return Errno::inval;
        selector.kind = WaitSelector::Kind::group;
        selector.id = id;
        break;
    case abi::p_pidfd: {
        // The process the pidfd names, if it is still there under its pid (else, like a child
        // that is gone: ECHILD); a O_NONBLOCK pidfd never waits (EAGAIN, as Linux).
        if (id < 0) return Errno::inval;
        std::shared_ptr<fd::OpenFile<P>> keep;
        LITEBOX_TRY_ASSIGN(auto* pidfd, pidfd_of(t, id, keep));
        auto target = pidfd_target(t, *pidfd);
        if (!target) return Errno::child;
        selector.kind = WaitSelector::Kind::pid;
        selector.id = *target;
        if (pidfd->nonblocking() && (options & abi::wnohang) == 0) {
            selector.options |= abi::wnohang;
            nonblocking_pidfd = true;
        }
        break;
    }
    default: return Errno::inval;
    }
    LITEBOX_TRY_ASSIGN(const WaitOutcome child, t.kernel().tasks().wait(t.platform(), t.thread(), selector));
    if (nonblocking_pidfd && child.pid == 0) return Errno::again;
    if (info_address != 0) {
        abi::siginfo info{};
        if (child.pid != 0) {
            const ChildCode code = child_code_of(child.status);
            info.signo = abi::sigchld;
            info.code = code.code;
            info.pid = child.pid;
            info.uid = child.uid;
            info.status = code.status;
        }
        LITEBOX_TRY(Guest<P>::write(info_address, info));
    }
    if (rusage_address != 0 && child.pid != 0) LITEBOX_TRY(Guest<P>::write(rusage_address, wait_detail::to_rusage(child.usage)));
    return 0;
}

}  // namespace litebox::shim::linux_abi
