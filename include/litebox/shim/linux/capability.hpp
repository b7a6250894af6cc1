// capget / capset and personality: the calls that report what a process may do and how the kernel
// treats it, answered from the box's own model.
//
// Capabilities: the box models privilege as Linux does for a root-uid process without file
// capabilities (task.hpp's Credentials): effective uid 0 holds every capability, others none.
// capget reports that model: effective = all capabilities when the euid is 0; permitted = all
// when any of the real, effective or saved uids is 0 (a root process that switched its euid
// away can switch back); inheritable empty. "All" is CAP_CHOWN..CAP_CHECKPOINT_RESTORE (40), as a
// 5.9+ kernel reports. capset accepts only the sets the process already has (a no-op): the box
// cannot drop single capabilities while keeping the uid, so a request to lower them is refused
// with EPERM and traced (never a success that changes nothing); raising is EPERM as on Linux.
//
// personality: only PER_LINUX exists in the box. The query (0xffffffff) and personality(PER_LINUX)
// return PER_LINUX; every other persona is EPERM (litebox-run's filter refuses them before the
// box sees them) and traced.
#pragma once

#include <array>
#include <cstdint>

#include "kernel.hpp"

namespace litebox::shim::linux_abi {

namespace capability_detail {
inline constexpr std::uint32_t version_1 = 0x19980330;  // one 32-bit set each
inline constexpr std::uint32_t version_2 = 0x20071026;  // two (deprecated)
inline constexpr std::uint32_t version_3 = 0x20080522;  // two: the preferred one
inline constexpr int last_capability = 40;              // CAP_CHECKPOINT_RESTORE
inline constexpr std::uint64_t all_capabilities = (std::uint64_t{1} << (last_capability + 1)) - 1;

struct Header {
    std::uint32_t version;
    std::int32_t pid;
};
struct Data {
    std::uint32_t effective, permitted, inheritable;
};
static_assert(sizeof(Header) == 8 && sizeof(Data) == 12);

struct Sets {
    std::uint64_t effective = 0, permitted = 0, inheritable = 0;
};
inline Sets sets_of(const Credentials& c) noexcept {
    Sets s;
    if (c.euid == 0) s.effective = all_capabilities;
    if (c.ruid == 0 || c.euid == 0 || c.suid == 0) s.permitted = all_capabilities;
    return s;
}

/// The number of Data structs the header's version moves (1 or 2), or EINVAL after writing the
/// preferred version into the header (as Linux answers a version probe).
template <typename P>
Result<std::size_t> validate_version(std::uintptr_t header) {
    LITEBOX_TRY_ASSIGN(const std::uint32_t version, Guest<P>::template read<std::uint32_t>(header));
    if (version == version_1) return std::size_t{1};
    if (version == version_2 || version == version_3) return std::size_t{2};
    LITEBOX_TRY(Guest<P>::write(header, version_3));
    return Errno::inval;
}
}  // namespace capability_detail

template <typename P>
SyscallResult sys_capget(ThreadContext<P>& t, const SyscallRequest& r) {
    namespace cd = capability_detail;
    const std::uintptr_t header = r.ptr(0), data = r.ptr(1);
    const auto count = cd::validate_version<P>(header);
    // A NULL data pointer probes the version: 0 whether or not the header's was known.
    if (!count) return data == 0 && count.error() == Errno::inval ? SyscallResult{0} : SyscallResult{count.error()};
    if (data == 0) return 0;
    LITEBOX_TRY_ASSIGN(const std::int32_t pid, Guest<P>::template read<std::int32_t>(header + 4));
    if (pid < 0) return Errno::inval;
    Credentials credentials;
    if (pid == 0 || pid == t.pid()) {
        credentials = t.process().credentials();
    } else {
        auto process = t.kernel().tasks().process_of_thread(pid);
        if (!process) return Errno::srch;
        credentials = process->credentials();
    }
    const cd::Sets sets = cd::sets_of(credentials);
    std::array<cd::Data, 2> out{};
    for (std::size_t i = 0; i < 2; ++i) {
        out[i] = cd::Data{static_cast<std::uint32_t>(sets.effective >> (32 * i)), static_cast<std::uint32_t>(sets.permitted >> (32 * i)),
                          static_cast<std::uint32_t>(sets.inheritable >> (32 * i))};
    }
    LITEBOX_TRY(Guest<P>::write_bytes(data, std::as_bytes(std::span<const cd::Data>(out.data(), *count))));
    return 0;
}

template <typename P>
SyscallResult sys_capset(ThreadContext<P>& t, const SyscallRequest& r) {
    namespace cd = capability_detail;
    const std::uintptr_t header = r.ptr(0), data = r.ptr(1);
    LITEBOX_TRY_ASSIGN(const std::size_t count, cd::validate_version<P>(header));
    LITEBOX_TRY_ASSIGN(const std::int32_t pid, Guest<P>::template read<std::int32_t>(header + 4));
    if (pid != 0 && pid != t.pid()) return Errno::perm;  // only one's own sets, as Linux
    LITEBOX_TRY_ASSIGN(const auto in, Guest<P>::template read_array<cd::Data>(data, count));
    cd::Sets wanted;
    for (std::size_t i = 0; i < count; ++i) {
        wanted.effective |= std::uint64_t{in[i].effective} << (32 * i);
        wanted.permitted |= std::uint64_t{in[i].permitted} << (32 * i);
        wanted.inheritable |= std::uint64_t{in[i].inheritable} << (32 * i);
    }
    wanted.effective &= cd::all_capabilities;  // bits past the last capability are dropped
    wanted.permitted &= cd::all_capabilities;
    wanted.inheritable &= cd::all_capabilities;
    const cd::Sets have = cd::sets_of(t.process().credentials());
    // Linux's rules: permitted may only shrink, effective must lie in the new permitted set,
    // inheritable may grow only within permitted (with CAP_SETPCAP, root's).
    if ((wanted.permitted & ~have.permitted) != 0 || (wanted.effective & ~wanted.permitted) != 0 ||
        (wanted.inheritable & ~(have.inheritable | have.permitted)) != 0) {
        return Errno::perm;
    }
    if (wanted.effective == have.effective && wanted.permitted == have.permitted && wanted.inheritable == have.inheritable) return 0;
    t.kernel().unsupported(r.number, "changing capability sets (privilege follows the uids)");
    return Errno::perm;
}

template <typename P>
SyscallResult sys_personality(ThreadContext<P>& t, const SyscallRequest& r) {
    constexpr std::uint32_t query = 0xffffffffu, per_linux = 0;
    const std::uint32_t persona = r.u32(0);
    if (persona == query || persona == per_linux) return per_linux;
    t.kernel().unsupported(r.number, "personas other than PER_LINUX");
    return Errno::perm;
}

}  // namespace litebox::shim::linux_abi
