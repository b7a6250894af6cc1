// pidfd_open and pidfd_send_signal, and the pidfd that waitid(P_PIDFD) takes: a descriptor that
// names one box process for good -- it holds the process object, so a later process that reuses
// the pid is never the one signalled or waited for. It is readable (poll, select, epoll) once the
// process has exited; read(2) is EINVAL, as on Linux. PIDFD_THREAD (pidfds for threads) is not
// supported (EINVAL).
#pragma once

#include <memory>

#include "../../event/pollee.hpp"
#include "../../fd/open_file.hpp"
#include "../../ipc/detail/anon_inode.hpp"
#include "kernel.hpp"

namespace litebox::shim::linux_abi {

inline constexpr std::uint32_t pidfd_nonblock = fd::open_flags::nonblock;  // PIDFD_NONBLOCK

template <typename P>
class PidFd final : public fd::OpenFile<P>, public ExitListener {
public:
    using ProcessPtr = std::shared_ptr<Process<P>>;
    PidFd(ProcessPtr process, bool nonblocking)
        : fd::OpenFile<P>(fd::open_flags::read_write | (nonblocking ? fd::open_flags::nonblock : 0)), m_process(std::move(process)),
          m_inode(ipc::detail::allocate_anonymous_inode()) {}

    [[nodiscard]] const ProcessPtr& process() const noexcept { return m_process; }

    Result<fd::Stat> stat() override { return ipc::detail::anonymous_stat(m_inode, 0600); }
    [[nodiscard]] std::string_view anonymous_name() const noexcept override { return "[pidfd]"; }
    /// Linux's lines: the pid (Linux shows -1 once the process is reaped; the pidfd cannot tell
    /// a reaped process from a zombie, so it keeps the pid).
    [[nodiscard]] std::string fdinfo_lines() override {
        const std::string pid = std::to_string(m_process->pid());
        return "Pid:\t" + pid + "\nNSpid:\t" + pid + "\n";
    }
    fd::Events poll(fd::Events /*interest*/) override {
        return m_process->exited() ? (fd::events::in | fd::events::rdnorm) : fd::Events{0};
    }
    event::Pollee<P>* pollee() noexcept override { return &m_pollee; }
    void process_exited() noexcept override { m_pollee.notify(fd::events::in | fd::events::rdnorm); }

private:
    ProcessPtr m_process;
    event::Pollee<P> m_pollee;
    std::uint64_t m_inode;
};

/// The pidfd behind `descriptor`: EBADF without one or for another kind of file (Linux's
/// pidfd_get_pid).
template <typename P>
Result<PidFd<P>*> pidfd_of(ThreadContext<P>& t, std::int32_t descriptor, std::shared_ptr<fd::OpenFile<P>>& keep) {
    auto pidfd = descriptor_object<PidFd<P>>(t, descriptor, keep, [](fd::OpenFile<P>& f) { return dynamic_cast<PidFd<P>*>(&f); });
    if (!pidfd && pidfd.error() == Errno::inval) return Errno::badf;
    return pidfd;
}

/// pidfd_send_signal's flags (Linux 6.9): one of them at most.
inline constexpr std::uint32_t pidfd_signal_thread = 1, pidfd_signal_thread_group = 2, pidfd_signal_process_group = 4;
inline constexpr bool valid_pidfd_signal_flags(std::uint32_t flags) noexcept {
    return flags == 0 || flags == pidfd_signal_thread || flags == pidfd_signal_thread_group || flags == pidfd_signal_process_group;
}

/// The box pid of the process a pidfd names, if that process is still in the process table (a
/// zombie included) under that pid; ESRCH once it was reaped.
template <typename P>
Result<int> pidfd_target(ThreadContext<P>& t, const PidFd<P>& pidfd) {
    const int pid = pidfd.process()->pid();
    if (t.kernel().tasks().find_process(pid) != pidfd.process()) return Errno::srch;
    return pid;
}

template <typename P>
SyscallResult sys_pidfd_open(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t pid = r.i32(0);
    const std::uint32_t flags = r.u32(1);
    if ((flags & ~pidfd_nonblock) != 0 || pid <= 0) return Errno::inval;
    auto process = t.kernel().tasks().find_process(pid);
    if (!process) {
        // A thread that is not its process's leader needs PIDFD_THREAD, which the box lacks.
        if (t.kernel().tasks().process_of_thread(pid)) return Errno::inval;
        return Errno::srch;
    }
    auto file = std::make_shared<PidFd<P>>(process, (flags & pidfd_nonblock) != 0);
    process->add_exit_listener(file);
    LITEBOX_TRY_ASSIGN(const int descriptor, t.files().insert(std::move(file), /*close_on_exec=*/true));
    return descriptor;
}

/// Calls `send` for every process of group `group` that the caller may signal (Linux's kill_pgrp,
/// which -- unlike kill(-1) -- also reaches group 1): success if one was permitted, EPERM if none
/// was, ESRCH if the group has no process. `send` sends to one process (the shim's kill, or a
/// runtime's).
template <typename P, typename Send>
Result<void> signal_group(ThreadContext<P>& t, int group, Send send) {
    auto& tasks = t.kernel().tasks();
    bool found = false, permitted = false;
    for (const int pid : tasks.process_ids()) {
        if (tasks.process_group_of(pid).value_or(0) != group) continue;
        found = true;
        if (!tasks.kill(t.process(), pid, 0)) continue;
        permitted = true;
        send(pid);
    }
    if (!found) return Errno::srch;
    if (!permitted) return Errno::perm;
    return ok();
}

/// A pidfd_send_signal request after Linux's checks, in Linux's order: the flags, the descriptor
/// (EBADF), the signal number, the process (ESRCH once reaped), then a siginfo's -- it names the
/// signal sent (EINVAL), and claims a kernel code (si_code >= 0, or SI_TKILL) only from the
/// target's own main thread to itself, never to a process group (EPERM). Shared by the shim's
/// delivery and a runtime's (litebox-run).
struct PidfdSignal {
    int pid = 0;
    int signal = 0;
    std::uint32_t flags = 0;
    std::uintptr_t info_address = 0;  // 0: no siginfo
};
template <typename P>
Result<PidfdSignal> checked_pidfd_signal(ThreadContext<P>& t, const SyscallRequest& r) {
    PidfdSignal request{0, r.i32(1), r.u32(3), r.ptr(2)};
    if (!valid_pidfd_signal_flags(request.flags)) return Errno::inval;
    std::shared_ptr<fd::OpenFile<P>> keep;
    LITEBOX_TRY_ASSIGN(auto* pidfd, pidfd_of(t, r.i32(0), keep));
    if (request.signal < 0 || request.signal > abi::signal_count) return Errno::inval;
    LITEBOX_TRY_ASSIGN(request.pid, pidfd_target(t, *pidfd));
    if (request.info_address != 0) {
        LITEBOX_TRY_ASSIGN(const abi::siginfo info, Guest<P>::template read<abi::siginfo>(request.info_address));
        if (info.signo != request.signal) return Errno::inval;
        constexpr int si_tkill = -6;
        if ((info.code >= 0 || info.code == si_tkill) && (t.tid() != request.pid || request.flags == pidfd_signal_process_group))
            return Errno::perm;
    }
    return request;
}

/// pidfd_send_signal: the signal goes to the pidfd's process as kill(2) sends it -- or, with
/// PIDFD_SIGNAL_THREAD, to its main thread (tgkill), with PIDFD_SIGNAL_PROCESS_GROUP to its
/// process group. A siginfo must name the same signal (EINVAL) and may claim a kernel code
/// (si_code >= 0, or SI_TKILL) only for the caller's own process (EPERM); the box's processes then
/// see the signal, not that siginfo.
template <typename P>
SyscallResult sys_pidfd_send_signal(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(const PidfdSignal request, checked_pidfd_signal(t, r));
    const int pid = request.pid, signal = request.signal;
    const std::uint32_t flags = request.flags;
    auto& tasks = t.kernel().tasks();
    if (flags == pidfd_signal_thread) {
        LITEBOX_TRY(tasks.kill_thread(t.process(), pid, pid, signal));
    } else if (flags == pidfd_signal_process_group) {
        LITEBOX_TRY_ASSIGN(const int group, tasks.process_group_of(pid));
        LITEBOX_TRY(signal_group(t, group, [&](int member) { (void)tasks.kill(t.process(), member, signal); }));
    } else {
        LITEBOX_TRY(tasks.kill(t.process(), pid, signal));
    }
    return 0;
}

}  // namespace litebox::shim::linux_abi
