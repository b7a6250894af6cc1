// Identity syscalls: get*id, set*id with Linux's permission rules, getgroups/setgroups.
// "Privileged" is an effective uid of 0 (CAP_SETUID / CAP_SETGID of a root process).
#pragma once

#include <algorithm>

#include "kernel.hpp"

namespace litebox::shim::linux_abi {

namespace identity_detail {
inline constexpr std::uint32_t unchanged = 0xffffffffu;

/// The four ids of one kind (uid or gid) inside Credentials.
struct Ids {
    std::uint32_t& real;
    std::uint32_t& effective;
    std::uint32_t& saved;
    std::uint32_t& filesystem;
};
inline Ids ids(Credentials& c, bool group) noexcept {
    return group ? Ids{c.rgid, c.egid, c.sgid, c.fsgid} : Ids{c.ruid, c.euid, c.suid, c.fsuid};
}

inline Result<void> set_id(Credentials& c, bool group, std::uint32_t id) {
    if (id == unchanged) return Errno::inval;
    Ids x = ids(c, group);
    if (c.privileged()) {
        x.real = x.saved = id;
    } else if (id != x.real && id != x.saved) {
        return Errno::perm;
    }
    x.effective = x.filesystem = id;
    return ok();
}

inline Result<void> set_re_id(Credentials& c, bool group, std::uint32_t real, std::uint32_t effective) {
    Ids x = ids(c, group);
    const std::uint32_t old_real = x.real, old_effective = x.effective, old_saved = x.saved;
    const bool privileged = c.privileged();
    if (real != unchanged && !privileged && real != old_real && real != old_effective) return Errno::perm;
    if (effective != unchanged && !privileged && effective != old_real && effective != old_effective && effective != old_saved)
        return Errno::perm;
    if (real != unchanged) x.real = real;
    if (effective != unchanged) x.effective = effective;
    if (real != unchanged || (effective != unchanged && effective != old_real)) x.saved = x.effective;
    x.filesystem = x.effective;
    return ok();
}

inline Result<void> set_res_id(Credentials& c, bool group, std::uint32_t real, std::uint32_t effective, std::uint32_t saved) {
    Ids x = ids(c, group);
    if (!c.privileged()) {
        for (const std::uint32_t id : {real, effective, saved})
            if (id != unchanged && id != x.real && id != x.effective && id != x.saved) return Errno::perm;
    }
    if (real != unchanged) x.real = real;
    if (effective != unchanged) x.effective = effective;
    if (saved != unchanged) x.saved = saved;
    x.filesystem = x.effective;
    return ok();
}

template <typename P, typename F>
SyscallResult change_credentials(ThreadContext<P>& t, F&& change) {
    return t.process().state().with_lock([&](auto& st) -> SyscallResult {
        Credentials next = st.credentials;
        LITEBOX_TRY(change(next));
        st.credentials = std::move(next);
        return 0;
    });
}

template <typename P>
SyscallResult get_res(ThreadContext<P>& t, const SyscallRequest& r, bool group) {
    Credentials c = t.process().credentials();
    const Ids x = ids(c, group);
    LITEBOX_TRY(Guest<P>::write(r.ptr(0), x.real));
    LITEBOX_TRY(Guest<P>::write(r.ptr(1), x.effective));
    LITEBOX_TRY(Guest<P>::write(r.ptr(2), x.saved));
    return 0;
}
}  // namespace identity_detail

template <typename P>
SyscallResult sys_getuid(ThreadContext<P>& t, const SyscallRequest&) { return t.process().credential(&Credentials::ruid); }
template <typename P>
SyscallResult sys_geteuid(ThreadContext<P>& t, const SyscallRequest&) { return t.process().credential(&Credentials::euid); }
template <typename P>
SyscallResult sys_getgid(ThreadContext<P>& t, const SyscallRequest&) { return t.process().credential(&Credentials::rgid); }
template <typename P>
SyscallResult sys_getegid(ThreadContext<P>& t, const SyscallRequest&) { return t.process().credential(&Credentials::egid); }
template <typename P>
SyscallResult sys_getresuid(ThreadContext<P>& t, const SyscallRequest& r) { return identity_detail::get_res(t, r, false); }
template <typename P>
SyscallResult sys_getresgid(ThreadContext<P>& t, const SyscallRequest& r) { return identity_detail::get_res(t, r, true); }

template <typename P>
SyscallResult sys_setuid(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t uid = r.u32(0);
    return identity_detail::change_credentials(t, [&](Credentials& c) { return identity_detail::set_id(c, false, uid); });
}
template <typename P>
SyscallResult sys_setgid(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t gid = r.u32(0);
    return identity_detail::change_credentials(t, [&](Credentials& c) { return identity_detail::set_id(c, true, gid); });
}
template <typename P>
SyscallResult sys_setreuid(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t real = r.u32(0), effective = r.u32(1);
    return identity_detail::change_credentials(t, [&](Credentials& c) { return identity_detail::set_re_id(c, false, real, effective); });
}
template <typename P>
SyscallResult sys_setregid(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t real = r.u32(0), effective = r.u32(1);
    return identity_detail::change_credentials(t, [&](Credentials& c) { return identity_detail::set_re_id(c, true, real, effective); });
}
template <typename P>
SyscallResult sys_setresuid(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t real = r.u32(0), effective = r.u32(1), saved = r.u32(2);
    return identity_detail::change_credentials(t, [&](Credentials& c) { return identity_detail::set_res_id(c, false, real, effective, saved); });
}
template <typename P>
SyscallResult sys_setresgid(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t real = r.u32(0), effective = r.u32(1), saved = r.u32(2);
    return identity_detail::change_credentials(t, [&](Credentials& c) { return identity_detail::set_res_id(c, true, real, effective, saved); });
}

template <typename P>
SyscallResult sys_getgroups(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t size = r.i32(0);
    const std::uintptr_t list = r.ptr(1);
    if (size < 0) return Errno::inval;
    const auto groups = t.process().credentials().groups;
    if (size == 0) return static_cast<std::int64_t>(groups.size());
    if (static_cast<std::size_t>(size) < groups.size()) return Errno::inval;
    LITEBOX_TRY(Guest<P>::write_bytes(list, std::as_bytes(std::span<const std::uint32_t>(groups))));
    return static_cast<std::int64_t>(groups.size());
}

template <typename P>
SyscallResult sys_setgroups(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t size = r.i32(0);
    const std::uintptr_t list = r.ptr(1);
    if (size < 0 || static_cast<std::uint32_t>(size) > abi::ngroups_max) return Errno::inval;
    if (!t.process().credentials().privileged()) return Errno::perm;
    LITEBOX_TRY_ASSIGN(auto groups, Guest<P>::template read_array<std::uint32_t>(list, static_cast<std::size_t>(size)));
    std::sort(groups.begin(), groups.end());
    return identity_detail::change_credentials(t, [&](Credentials& c) -> Result<void> {
        if (!c.privileged()) return Errno::perm;
        c.groups = std::move(groups);
        return ok();
    });
}

}  // namespace litebox::shim::linux_abi
