// timerfd_create, timerfd_settime, timerfd_gettime. The guest's CLOCK_MONOTONIC starts at the
// box's boot, so the timer's monotonic origin is the kernel's boot instant.
#pragma once

#include "../../event/timerfd.hpp"
#include "kernel.hpp"

namespace litebox::shim::linux_abi {

namespace timerfd_detail {
inline event::TimerSpec from_abi(const abi::itimerspec& s) noexcept {
    return event::TimerSpec{fd::Timespec{s.it_interval.tv_sec, s.it_interval.tv_nsec}, fd::Timespec{s.it_value.tv_sec, s.it_value.tv_nsec}};
}
inline abi::itimerspec to_abi(const event::TimerSpec& s) noexcept {
    return abi::itimerspec{{s.interval.seconds, s.interval.nanoseconds}, {s.value.seconds, s.value.nanoseconds}};
}
template <typename P>
Result<event::TimerFd<P>*> timer_of(ThreadContext<P>& t, std::int32_t descriptor, std::shared_ptr<fd::OpenFile<P>>& keep) {
    return descriptor_object<event::TimerFd<P>>(t, descriptor, keep, [](fd::OpenFile<P>& f) { return event::timerfd_of(f); });
}
}  // namespace timerfd_detail

template <typename P>
SyscallResult sys_timerfd_create(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t clock = r.i32(0);
    const std::uint32_t flags = r.u32(1);
    LITEBOX_TRY_ASSIGN(auto file, event::make_timerfd(t.platform(), clock, flags, t.kernel().boot_instant()));
    LITEBOX_TRY_ASSIGN(const int descriptor, t.files().insert(std::move(file), (flags & fd::open_flags::close_on_exec) != 0));
    return descriptor;
}

template <typename P>
SyscallResult sys_timerfd_settime(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t flags = r.u32(1);
    const std::uintptr_t new_address = r.ptr(2), old_address = r.ptr(3);
    std::shared_ptr<fd::OpenFile<P>> keep;
    LITEBOX_TRY_ASSIGN(auto* timer, timerfd_detail::timer_of(t, r.i32(0), keep));
    LITEBOX_TRY_ASSIGN(const abi::itimerspec spec, Guest<P>::template read<abi::itimerspec>(new_address));
    LITEBOX_TRY_ASSIGN(const event::TimerSpec old, timer->settime(flags, timerfd_detail::from_abi(spec)));
    LITEBOX_TRY(Guest<P>::write_optional(old_address, timerfd_detail::to_abi(old)));
    return 0;
}

template <typename P>
SyscallResult sys_timerfd_gettime(ThreadContext<P>& t, const SyscallRequest& r) {
    std::shared_ptr<fd::OpenFile<P>> keep;
    LITEBOX_TRY_ASSIGN(auto* timer, timerfd_detail::timer_of(t, r.i32(0), keep));
    LITEBOX_TRY(Guest<P>::write(r.ptr(1), timerfd_detail::to_abi(timer->gettime())));
    return 0;
}

}  // namespace litebox::shim::linux_abi
