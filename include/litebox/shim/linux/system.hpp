// System identity and information: uname (a configurable, honest identity), sethostname,
// sysinfo, getrandom (only with a CrngProvider) and umask.
#pragma once

#include "kernel.hpp"

namespace litebox::shim::linux_abi {

template <typename P>
SyscallResult sys_uname(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t address = r.ptr(0);
    abi::utsname uts{};
    const auto& config = t.kernel().config();
    copy_fixed_string(uts.sysname, "Linux");
    copy_fixed_string(uts.release, config.release);
    copy_fixed_string(uts.version, config.version);
    copy_fixed_string(uts.machine, "x86_64");
    t.kernel().uts().with_lock([&](auto& u) {
        copy_fixed_string(uts.nodename, u.hostname);
        copy_fixed_string(uts.domainname, u.domainname);
    });
    LITEBOX_TRY(Guest<P>::write(address, uts));
    return 0;
}

template <typename P>
SyscallResult sys_sethostname(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t address = r.ptr(0);
    const std::int32_t length = r.i32(1);
    if (length < 0 || static_cast<std::uint32_t>(length) > abi::host_name_max) return Errno::inval;
    if (t.process().credential(&Credentials::euid) != 0) return Errno::perm;
    std::string name(static_cast<std::size_t>(length), '\0');
    LITEBOX_TRY(Guest<P>::read_bytes(address, std::as_writable_bytes(std::span<char>(name))));
    if (const auto nul = name.find('\0'); nul != std::string::npos) name.resize(nul);
    t.kernel().uts().with_lock([&](auto& u) { u.hostname = std::move(name); });
    return 0;
}

template <typename P>
SyscallResult sys_sysinfo(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t address = r.ptr(0);
    abi::sysinfo info{};
    info.uptime = std::chrono::duration_cast<std::chrono::seconds>(t.kernel().uptime()).count();
    info.totalram = t.kernel().config().total_memory_bytes;
    info.freeram = info.totalram;  // the box does not account guest memory
    const std::size_t tasks = t.kernel().tasks().tasks_in_use();
    info.procs = static_cast<std::uint16_t>(tasks > 0xffff ? 0xffff : tasks);
    info.mem_unit = 1;
    LITEBOX_TRY(Guest<P>::write(address, info));
    return 0;
}

template <typename P>
SyscallResult sys_getrandom(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t address = r.ptr(0);
    std::uint64_t count = r.u64(1);
    const std::uint32_t flags = r.u32(2);
    constexpr std::uint32_t known = abi::grnd_nonblock | abi::grnd_random | abi::grnd_insecure;
    if ((flags & ~known) != 0 || (flags & (abi::grnd_random | abi::grnd_insecure)) == (abi::grnd_random | abi::grnd_insecure))
        return Errno::inval;
    if constexpr (!platform::CrngProvider<P>) {
        t.kernel().unsupported(r.number, "the platform has no CrngProvider");
        return Errno::nosys;
    } else {
        if (count > abi::max_rw_count) count = abi::max_rw_count;
        if (!user_range_ok(address, count)) return Errno::fault;
        std::uint64_t done = 0;
        const auto buffer = t.io_buffer();
        while (done < count) {
            const auto chunk = buffer.first(static_cast<std::size_t>(std::min<std::uint64_t>(count - done, buffer.size())));
            LITEBOX_TRY(t.platform().fill_random_bytes(chunk));
            if (auto written = Guest<P>::write_bytes(address + done, chunk); !written.has_value()) {
                if (done == 0) return written.error();
                break;
            }
            done += chunk.size();
        }
        return static_cast<std::int64_t>(done);
    }
}

template <typename P>
SyscallResult sys_umask(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t mask = r.u32(0) & 0777;
    return t.process().fs().with_lock([&](FsContext<P>& fs) { return static_cast<std::int64_t>(std::exchange(fs.umask, mask)); });
}

}  // namespace litebox::shim::linux_abi
