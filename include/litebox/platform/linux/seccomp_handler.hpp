// The contract between the seccomp supervisor and whoever answers the guest's system calls (the
// Linux shim; a test handler until then). Host-free on purpose: a handler written against these
// concepts compiles in the core.
//
//     std::int64_t handle(Thread& thread, int nr, const SyscallArgs& args);
//
// The supervisor calls handle() once per trapped call, with the guest's memory installed as the
// current RemoteMemory (so P::ConstPtr<T>(address) reads the calling guest). The return value is
// the raw Linux result: a value >= 0, or -errno (-4095..-1). Two escape hatches:
//   * `would_block`: the call cannot complete without waiting, and handle() has done nothing
//     observable yet. Returned only when `thread.may_block()` is false (the notification thread,
//     which must never wait); the supervisor then runs the same call again on a waiter thread with
//     may_block() true, where the handler waits for real.
//   * `thread.exit_process(status)`: the guest process ends (exit_group); the supervisor kills the
//     host process after handle() returns and reports `status`; the return value is ignored.
// exit (one thread) is shown to the handler for its bookkeeping and must not block; whatever it
// returns, the supervisor forgets the thread and lets the kernel end it.
// A handler blocking on a waiter thread must be interruptible: it arms a waker with
// `thread.arm_interrupt(w)` (false: already interrupted, don't wait), waits until its condition
// or `thread.interrupted()`, disarms, and on interruption returns -ERESTARTSYS (restart_sys;
// Linux then restarts the call or fails it with EINTR according to SA_RESTART) or -EINTR.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <limits>

namespace litebox::platform::linux_platform::seccomp {

/// The six argument registers of a trapped x86-64 call (rdi, rsi, rdx, r10, r8, r9).
using SyscallArgs = std::array<std::uint64_t, 6>;

/// handle()'s "this would block; run me again where I may wait" answer.
inline constexpr std::int64_t would_block = std::numeric_limits<std::int64_t>::min();

/// Something a blocked handler waits on, woken when the guest thread is interrupted.
///
/// Contract: wake() may be called from any thread, at most once per arm_interrupt(), possibly
/// before the handler started waiting (so the wait must re-check `interrupted()` under its own
/// lock); it must not block or call back into the supervisor. wake() runs under the call's
/// interrupt lock, which arm_interrupt()/disarm_interrupt() also take: never call those two while
/// holding a lock that wake() acquires (arm before locking, disarm after unlocking).
class InterruptWaker {
public:
    virtual void wake() noexcept = 0;

protected:
    InterruptWaker() = default;
    InterruptWaker(const InterruptWaker&) = default;
    InterruptWaker& operator=(const InterruptWaker&) = default;
    ~InterruptWaker() = default;
};

/// The calling guest thread as the handler sees it (see the file comment for the protocol).
template <typename T>
concept ServedThread = requires(T& thread, const T& const_thread, InterruptWaker& waker, int status) {
    { const_thread.tid() } -> std::same_as<std::int32_t>;             // host thread id
    { const_thread.pid() } -> std::same_as<std::int32_t>;             // host process id (thread group)
    { const_thread.process_serial() } -> std::same_as<std::uint64_t>; // never reused, unlike pids
    { const_thread.instruction_pointer() } -> std::same_as<std::uint64_t>;
    { const_thread.may_block() } -> std::same_as<bool>;
    { const_thread.interrupted() } -> std::same_as<bool>;
    { thread.arm_interrupt(waker) } -> std::same_as<bool>;
    { thread.disarm_interrupt() } -> std::same_as<void>;
    { thread.exit_process(status) } -> std::same_as<void>;
};

/// A system call handler for threads of type Thread.
template <typename H, typename Thread>
concept SyscallHandlerFor = ServedThread<Thread> && requires(H& handler, Thread& thread, int nr, const SyscallArgs& args) {
    { handler.handle(thread, nr, args) } -> std::same_as<std::int64_t>;
};

}  // namespace litebox::platform::linux_platform::seccomp
