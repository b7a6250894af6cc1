// Signal syscalls: kill, tkill, tgkill (only within the box) and the bookkeeping ones
// (rt_sigaction, rt_sigprocmask, rt_sigpending). The runtime delivers what is pending.
#pragma once

#include "kernel.hpp"

namespace litebox::shim::linux_abi {

inline constexpr std::uint64_t kernel_sigset_size = 8;

template <typename P>
SyscallResult sys_kill(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t pid = r.i32(0), signal = r.i32(1);
    if (pid == INT32_MIN) return Errno::srch;
    LITEBOX_TRY(t.kernel().tasks().kill(t.process(), pid, signal));
    return 0;
}
template <typename P>
SyscallResult sys_tkill(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t tid = r.i32(0), signal = r.i32(1);
    LITEBOX_TRY(t.kernel().tasks().kill_thread(t.process(), -1, tid, signal));
    return 0;
}
template <typename P>
SyscallResult sys_tgkill(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t tgid = r.i32(0), tid = r.i32(1), signal = r.i32(2);
    if (tgid <= 0) return Errno::inval;
    LITEBOX_TRY(t.kernel().tasks().kill_thread(t.process(), tgid, tid, signal));
    return 0;
}

template <typename P>
SyscallResult sys_rt_sigaction(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t signal = r.i32(0);
    const std::uintptr_t new_address = r.ptr(1), old_address = r.ptr(2);
    if (r.u64(3) != kernel_sigset_size || !valid_signal(signal)) return Errno::inval;
    if (new_address != 0 && (signal == abi::sigkill || signal == abi::sigstop)) return Errno::inval;
    std::optional<abi::kernel_sigaction> next;
    if (new_address != 0) {
        LITEBOX_TRY_ASSIGN(next, Guest<P>::template read<abi::kernel_sigaction>(new_address));
        next->mask &= ~unblockable_signals;
    }
    const auto index = static_cast<std::size_t>(signal - 1);
    const std::uint64_t bit = signal_bit(signal);
    const auto old = t.process().signals().with_lock([&](auto& sig) {
        const abi::kernel_sigaction previous = sig.actions[index];
        if (next) {
            sig.actions[index] = *next;
            const bool now_ignored = next->handler == abi::sig_ign ||
                                     (next->handler == abi::sig_dfl && (default_ignored_signals & bit) != 0);
            if (now_ignored) sig.shared_pending &= ~bit;
        }
        return previous;
    });
    if (next && (next->handler == abi::sig_ign || (next->handler == abi::sig_dfl && (default_ignored_signals & bit) != 0))) {
        auto threads = t.process().state().with_lock([](auto& st) { return st.threads; });
        for (auto& thread : threads) thread->signals().with_lock([&](auto& ts) { ts.pending &= ~bit; });
    }
    if (old_address != 0) LITEBOX_TRY(Guest<P>::write(old_address, old));
    return 0;
}

template <typename P>
SyscallResult sys_rt_sigprocmask(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t how = r.i32(0);
    const std::uintptr_t new_address = r.ptr(1), old_address = r.ptr(2);
    if (r.u64(3) != kernel_sigset_size) return Errno::inval;
    std::optional<std::uint64_t> set;
    if (new_address != 0) {
        LITEBOX_TRY_ASSIGN(set, Guest<P>::template read<std::uint64_t>(new_address));
        if (how != abi::sig_block && how != abi::sig_unblock && how != abi::sig_setmask) return Errno::inval;
    }
    const std::uint64_t old = t.thread().signals().with_lock([&](auto& ts) {
        const std::uint64_t previous = ts.blocked;
        if (set) {
            const std::uint64_t value = *set & ~unblockable_signals;
            ts.blocked = how == abi::sig_block ? (ts.blocked | value) : how == abi::sig_unblock ? (ts.blocked & ~value) : value;
        }
        return previous;
    });
    if (set) t.kernel().tasks().refresh_interrupt_hint(t.thread());
    if (old_address != 0) LITEBOX_TRY(Guest<P>::write(old_address, old));
    return 0;
}

template <typename P>
SyscallResult sys_rt_sigpending(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t address = r.ptr(0);
    const std::uint64_t size = r.u64(1);
    if (size > kernel_sigset_size) return Errno::inval;
    const std::uint64_t shared = t.process().signals().with_lock([](auto& sig) { return sig.shared_pending; });
    const std::uint64_t pending = t.thread().signals().with_lock([&](auto& ts) { return (ts.pending | shared) & ts.blocked; });
    LITEBOX_TRY(Guest<P>::write_bytes(address, std::as_bytes(std::span<const std::uint64_t, 1>(&pending, 1)).first(size)));
    return 0;
}

}  // namespace litebox::shim::linux_abi
