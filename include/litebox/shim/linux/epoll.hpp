// epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait over event::Epoll.
#pragma once

#include "../../event/epoll.hpp"
#include "signal_mask.hpp"

namespace litebox::shim::linux_abi {

/// Events one epoll_wait call returns at most (the guest's maxevents may be larger).
inline constexpr std::size_t max_epoll_events_per_call = 1024;

namespace epoll_detail {
template <typename P>
Result<event::Epoll<P>*> epoll_of(ThreadContext<P>& t, std::int32_t descriptor, std::shared_ptr<fd::OpenFile<P>>& keep) {
    return descriptor_object<event::Epoll<P>>(t, descriptor, keep, [](fd::OpenFile<P>& f) { return dynamic_cast<event::Epoll<P>*>(&f); });
}

template <typename P>
SyscallResult wait(ThreadContext<P>& t, const SyscallRequest& r, std::optional<std::uint64_t> mask) {
    const std::uintptr_t address = r.ptr(1);
    const std::int32_t max_events = r.i32(2), timeout = r.i32(3);
    if (max_events <= 0 || static_cast<std::size_t>(max_events) > event::max_epoll_events) return Errno::inval;
    if (!user_range_ok(address, static_cast<std::uint64_t>(max_events) * sizeof(abi::epoll_event))) return Errno::fault;
    std::shared_ptr<fd::OpenFile<P>> keep;
    LITEBOX_TRY_ASSIGN(auto* epoll, epoll_of(t, r.i32(0), keep));
    std::vector<event::EpollEvent> ready(std::min<std::size_t>(static_cast<std::size_t>(max_events), max_epoll_events_per_call));
    ScopedSignalMask<P> scoped(t, mask);
    LITEBOX_TRY_ASSIGN(const std::size_t n, epoll->wait(t.wait_context(deadline_after_ms(t.platform(), timeout)), ready));
    std::vector<abi::epoll_event> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = abi::epoll_event{ready[i].events, ready[i].data};
    LITEBOX_TRY(Guest<P>::write_bytes(address, std::as_bytes(std::span<const abi::epoll_event>(out))));
    return static_cast<std::int64_t>(n);
}
}  // namespace epoll_detail

template <typename P>
SyscallResult sys_epoll_create1(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t flags = r.u32(0);
    if ((flags & ~event::epoll_flags::close_on_exec) != 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const int descriptor, t.files().insert(event::Epoll<P>::create(), (flags & event::epoll_flags::close_on_exec) != 0));
    return descriptor;
}
template <typename P>
SyscallResult sys_epoll_create(ThreadContext<P>& t, const SyscallRequest& r) {
    if (r.i32(0) <= 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(const int descriptor, t.files().insert(event::Epoll<P>::create(), false));
    return descriptor;
}

template <typename P>
SyscallResult sys_epoll_ctl(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t epfd = r.i32(0), op = r.i32(1), target = r.i32(2);
    const std::uintptr_t address = r.ptr(3);
    if (op < 1 || op > 3) return Errno::inval;
    abi::epoll_event request{};
    if (op != static_cast<int>(event::EpollOp::del)) {
        LITEBOX_TRY_ASSIGN(request, Guest<P>::template read<abi::epoll_event>(address));
    }
    std::shared_ptr<fd::OpenFile<P>> keep;
    LITEBOX_TRY_ASSIGN(auto* epoll, epoll_detail::epoll_of(t, epfd, keep));
    LITEBOX_TRY_ASSIGN(auto file, t.files().get(target));
    if (target == epfd) return Errno::inval;
    LITEBOX_TRY(epoll->ctl(static_cast<event::EpollOp>(op), target, file, event::EpollEvent{request.events, request.data}));
    return 0;
}

template <typename P>
SyscallResult sys_epoll_wait(ThreadContext<P>& t, const SyscallRequest& r) {
    return epoll_detail::wait(t, r, std::nullopt);
}
template <typename P>
SyscallResult sys_epoll_pwait(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(const auto mask, ScopedSignalMask<P>::read(r.ptr(4), r.u64(5)));
    return epoll_detail::wait(t, r, mask);
}

}  // namespace litebox::shim::linux_abi
