// prctl: the options ordinary programs use (thread name, parent-death signal, dumpable,
// no_new_privs, seccomp mode query). Everything else is EINVAL, traced once, as on a kernel that
// lacks the option.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "guest_memory.hpp"
#include "kernel.hpp"
#include "request.hpp"

namespace litebox::shim::linux_abi {

namespace prctl_options {
inline constexpr std::int32_t set_pdeathsig = 1, get_pdeathsig = 2, get_dumpable = 3, set_dumpable = 4;
inline constexpr std::int32_t set_name = 15, get_name = 16, get_seccomp = 21;
inline constexpr std::int32_t set_no_new_privs = 38, get_no_new_privs = 39;
/// PR_SET_NAME / PR_GET_NAME transfer this many bytes (TASK_COMM_LEN).
inline constexpr std::size_t task_comm_len = 16;
}  // namespace prctl_options

template <typename P>
SyscallResult sys_prctl(ThreadContext<P>& t, const SyscallRequest& r) {
    namespace o = prctl_options;
    const std::int32_t option = r.i32(0);
    const std::uint64_t arg2 = r.u64(1);
    switch (option) {
        case o::set_name: {
            // Like strncpy_from_user into 15 bytes: up to the first NUL, longer names truncated.
            auto read = Guest<P>::read_string(r.ptr(1), o::task_comm_len - 1);
            std::string name;
            if (read.has_value()) {
                name = std::move(*read);
            } else if (read.error() == Errno::nametoolong) {
                name.assign(o::task_comm_len - 1, '\0');
                LITEBOX_TRY(Guest<P>::read_bytes(r.ptr(1), std::as_writable_bytes(std::span<char>(name))));
            } else {
                return read.error();
            }
            if (name.size() > o::task_comm_len - 1) name.resize(o::task_comm_len - 1);
            t.thread().name().with_lock([&](std::string& n) { n = std::move(name); });
            return 0;
        }
        case o::get_name: {
            std::string name = t.thread().name().with_lock([](const std::string& n) { return n; });
            if (name.empty()) name = comm_of_path(t.process().state().with_lock([](auto& st) { return st.exe; }));
            std::array<char, o::task_comm_len> out{};
            for (std::size_t i = 0; i < name.size() && i + 1 < out.size(); ++i) out[i] = name[i];
            LITEBOX_TRY(Guest<P>::write(r.ptr(1), out));
            return 0;
        }
        case o::set_pdeathsig:
            if (arg2 > 64) return Errno::inval;
            t.thread().parent_death_signal.store(static_cast<int>(arg2), std::memory_order_relaxed);
            return 0;
        case o::get_pdeathsig:
            LITEBOX_TRY(Guest<P>::write(r.ptr(1), static_cast<std::int32_t>(t.thread().parent_death_signal.load(std::memory_order_relaxed))));
            return 0;
        case o::get_dumpable: return 1;
        case o::set_dumpable: return arg2 <= 1 ? SyscallResult(0) : SyscallResult(Errno::inval);
        case o::get_seccomp: return 0;  // the box's own view: no filter of the guest's own
        case o::set_no_new_privs:
            // Setuid programs gain nothing in the box already; accept the request (Linux: arg2 == 1, rest 0).
            if (arg2 != 1 || r.u64(2) != 0 || r.u64(3) != 0 || r.u64(4) != 0) return Errno::inval;
            return 0;
        case o::get_no_new_privs: return 1;
        default:
            t.kernel().unsupported(r.number, "option not supported");
            return Errno::inval;
    }
}

}  // namespace litebox::shim::linux_abi
