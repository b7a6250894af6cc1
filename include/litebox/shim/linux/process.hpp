// Process identity syscalls: pids and tids, process groups and sessions, set_tid_address.
#pragma once

#include "kernel.hpp"

namespace litebox::shim::linux_abi {

template <typename P>
SyscallResult sys_getpid(ThreadContext<P>& t, const SyscallRequest&) {
    return t.pid();
}
template <typename P>
SyscallResult sys_gettid(ThreadContext<P>& t, const SyscallRequest&) {
    return t.tid();
}
template <typename P>
SyscallResult sys_getppid(ThreadContext<P>& t, const SyscallRequest&) {
    return t.kernel().tasks().parent_of(t.pid());
}

template <typename P>
SyscallResult sys_getpgid(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t pid = r.i32(0);
    if (pid < 0) return Errno::srch;
    LITEBOX_TRY_ASSIGN(const int group, t.kernel().tasks().process_group_of(pid == 0 ? t.pid() : pid));
    return group;
}
template <typename P>
SyscallResult sys_getpgrp(ThreadContext<P>& t, const SyscallRequest&) {
    LITEBOX_TRY_ASSIGN(const int group, t.kernel().tasks().process_group_of(t.pid()));
    return group;
}
template <typename P>
SyscallResult sys_setpgid(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t pid = r.i32(0), pgid = r.i32(1);
    if (pid < 0) return Errno::srch;
    LITEBOX_TRY(t.kernel().tasks().set_process_group(t.process(), pid, pgid));
    return 0;
}
template <typename P>
SyscallResult sys_getsid(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t pid = r.i32(0);
    if (pid < 0) return Errno::srch;
    LITEBOX_TRY_ASSIGN(const int session, t.kernel().tasks().session_of(pid == 0 ? t.pid() : pid));
    return session;
}
template <typename P>
SyscallResult sys_setsid(ThreadContext<P>& t, const SyscallRequest&) {
    LITEBOX_TRY_ASSIGN(const int session, t.kernel().tasks().create_session(t.process()));
    return session;
}

/// Records the word the runtime clears and futex-wakes when this thread exits.
template <typename P>
SyscallResult sys_set_tid_address(ThreadContext<P>& t, const SyscallRequest& r) {
    t.thread().clear_child_tid.store(r.ptr(0), std::memory_order_relaxed);
    return t.tid();
}

template <typename P>
SyscallResult sys_sched_yield(ThreadContext<P>&, const SyscallRequest&) {
    return 0;
}

}  // namespace litebox::shim::linux_abi
