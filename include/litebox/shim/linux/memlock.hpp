// mlock, mlock2, munlock, mlockall, munlockall: checked as Linux checks them, then answered
// without locking host memory. The guest's pages belong to a host process the box does not pin
// (a sandbox must not let a guest take unswappable host memory); a program that asks for locked
// memory (gpg, databases, audio tools) gets success and runs, with pages that may be swapped.
//
// What is checked: flags (EINVAL), a range that wraps (EINVAL), RLIMIT_MEMLOCK -- a process
// without CAP_IPC_LOCK (box root has it) and a limit of 0 gets EPERM, a request for more whole
// pages than the soft limit allows ENOMEM (each call on its own: overlapping locks are not accumulated, as
// nothing is locked) -- and, when the runtime can describe the address space
// (Kernel::maps_source), a range with unmapped pages (ENOMEM). mlockall(MCL_CURRENT) of an
// unprivileged process whose whole mapped size exceeds the limit is ENOMEM. See
// docs/security-model.md.
#pragma once

#include <charconv>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "kernel.hpp"

namespace litebox::shim::linux_abi {

namespace memlock_detail {
inline constexpr std::uint64_t page = 4096;
inline constexpr std::uint32_t mlock_onfault = 1;                                       // mlock2
inline constexpr std::uint32_t mcl_current = 1, mcl_future = 2, mcl_onfault = 4;        // mlockall

/// The [start, end) ranges of /proc/<pid>/maps text (sorted, as the kernel lists them).
inline std::vector<std::pair<std::uint64_t, std::uint64_t>> parse_maps(std::string_view text) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
    while (!text.empty()) {
        const auto newline = text.find('\n');
        const std::string_view line = text.substr(0, newline);
        text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
        const auto dash = line.find('-');
        const auto space = line.find(' ');
        if (dash == std::string_view::npos || space == std::string_view::npos || dash > space) continue;
        std::uint64_t start = 0, end = 0;
        if (std::from_chars(line.data(), line.data() + dash, start, 16).ec != std::errc{}) continue;
        if (std::from_chars(line.data() + dash + 1, line.data() + space, end, 16).ec != std::errc{}) continue;
        if (end > start) out.emplace_back(start, end);
    }
    return out;
}

/// Whether [start, end) is mapped without a hole (true when the runtime cannot tell).
template <typename P>
bool mapped(ThreadContext<P>& t, std::uint64_t start, std::uint64_t end) {
    const auto& source = t.kernel().maps_source();
    if (!source) return true;
    auto text = source(t.pid());
    if (!text) return true;
    std::uint64_t at = start;
    for (const auto& [from, to] : parse_maps(*text)) {
        if (to <= at) continue;
        if (from > at) return false;
        at = to;
        if (at >= end) return true;
    }
    return at >= end;
}
/// The bytes mapped in the caller's address space (0 when the runtime cannot tell).
template <typename P>
std::uint64_t mapped_total(ThreadContext<P>& t) {
    const auto& source = t.kernel().maps_source();
    if (!source) return 0;
    auto text = source(t.pid());
    if (!text) return 0;
    std::uint64_t total = 0;
    for (const auto& [from, to] : parse_maps(*text)) total += to - from;
    return total;
}

/// The soft RLIMIT_MEMLOCK and whether the caller may ignore it (CAP_IPC_LOCK: box root).
template <typename P>
std::pair<std::uint64_t, bool> limit_of(ThreadContext<P>& t) {
    return t.process().state().with_lock([](auto& st) {
        return std::pair{st.limits[static_cast<std::size_t>(abi::rlimit_memlock)].rlim_cur, st.credentials.privileged()};
    });
}

/// mlock/mlock2/munlock in Linux's order: the lock permission (EPERM with a zero limit), the
/// length rounded up to pages (modulo 2^64, as the kernel's arithmetic), the limit in whole
/// pages (ENOMEM), a range that wraps (EINVAL), then the mapping (ENOMEM).
template <typename P>
SyscallResult lock_range(ThreadContext<P>& t, std::uint64_t address, std::uint64_t length, bool lock) {
    const std::uint64_t start = address & ~(page - 1);
    const std::uint64_t span = (length + (address - start) + page - 1) & ~(page - 1);  // may wrap
    if (lock) {
        const auto [limit, privileged] = limit_of(t);
        if (!privileged && limit == 0) return Errno::perm;
        if (!privileged && span / page > limit / page) return Errno::nomem;
    }
    if (start + span < start) return Errno::inval;
    if (span == 0) return 0;
    if (!mapped(t, start, start + span)) return Errno::nomem;
    return 0;
}
}  // namespace memlock_detail

template <typename P>
SyscallResult sys_mlock(ThreadContext<P>& t, const SyscallRequest& r) {
    return memlock_detail::lock_range(t, r.u64(0), r.u64(1), true);
}
template <typename P>
SyscallResult sys_mlock2(ThreadContext<P>& t, const SyscallRequest& r) {
    if ((r.u32(2) & ~memlock_detail::mlock_onfault) != 0 || (r.u64(2) >> 32) != 0) return Errno::inval;
    return memlock_detail::lock_range(t, r.u64(0), r.u64(1), true);
}
template <typename P>
SyscallResult sys_munlock(ThreadContext<P>& t, const SyscallRequest& r) {
    return memlock_detail::lock_range(t, r.u64(0), r.u64(1), false);
}
template <typename P>
SyscallResult sys_mlockall(ThreadContext<P>& t, const SyscallRequest& r) {
    namespace md = memlock_detail;
    const std::uint64_t flags = r.u64(0);
    if (flags == 0 || (flags & ~std::uint64_t{md::mcl_current | md::mcl_future | md::mcl_onfault}) != 0 || flags == md::mcl_onfault)
        return Errno::inval;
    const auto [limit, privileged] = md::limit_of(t);
    if (privileged) return 0;
    if (limit == 0) return Errno::perm;
    if ((flags & md::mcl_current) != 0 && md::mapped_total(t) > limit) return Errno::nomem;
    return 0;
}
template <typename P>
SyscallResult sys_munlockall(ThreadContext<P>&, const SyscallRequest&) {
    return 0;
}

}  // namespace litebox::shim::linux_abi
