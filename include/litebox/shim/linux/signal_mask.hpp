// A temporary signal mask for the duration of a wait (epoll_pwait, ppoll, pselect6): installed
// before the wait, the previous mask restored afterwards.
#pragma once

#include <optional>

#include "kernel.hpp"

namespace litebox::shim::linux_abi {

template <typename P>
class ScopedSignalMask {
public:
    ScopedSignalMask(ThreadContext<P>& t, std::optional<std::uint64_t> mask) : m_thread(&t) {
        if (!mask) return;
        m_previous = t.thread().signals().with_lock([&](auto& ts) { return std::exchange(ts.blocked, *mask & ~unblockable_signals); });
        t.thread().set_temporary_mask(*mask & ~unblockable_signals);
        t.kernel().tasks().refresh_interrupt_hint(t.thread());
    }
    ~ScopedSignalMask() {
        if (!m_previous) return;
        m_thread->thread().set_temporary_mask(std::nullopt);
        m_thread->thread().signals().with_lock([&](auto& ts) { ts.blocked = *m_previous; });
        m_thread->kernel().tasks().refresh_interrupt_hint(m_thread->thread());
    }
    ScopedSignalMask(const ScopedSignalMask&) = delete;
    ScopedSignalMask& operator=(const ScopedSignalMask&) = delete;

    /// Reads the sigset argument of a p*() call: none for NULL, EINVAL for a size other than 8.
    static Result<std::optional<std::uint64_t>> read(std::uintptr_t address, std::uint64_t size) {
        if (address == 0) return std::optional<std::uint64_t>{};
        if (size != 8) return Errno::inval;
        LITEBOX_TRY_ASSIGN(const std::uint64_t mask, Guest<P>::template read<std::uint64_t>(address));
        return std::optional<std::uint64_t>{mask};
    }

private:
    ThreadContext<P>* m_thread;
    std::optional<std::uint64_t> m_previous;
};

/// A deadline `ms` milliseconds from now (negative: none, as poll and epoll_wait take it).
template <typename P>
std::optional<typename P::Instant> deadline_after_ms(const P& platform, std::int32_t ms) {
    if (ms < 0) return std::nullopt;
    return platform.now().checked_add(std::chrono::milliseconds(ms));
}

}  // namespace litebox::shim::linux_abi
