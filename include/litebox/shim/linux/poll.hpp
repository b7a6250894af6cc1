// poll, ppoll, select, pselect6 over event::poll_files. Timeouts left are written back for ppoll,
// select and pselect6 (as Linux does).
#pragma once

#include "../../event/poll.hpp"
#include "signal_mask.hpp"
#include "time.hpp"

namespace litebox::shim::linux_abi {

namespace poll_detail {
template <typename P>
using Deadline = std::optional<typename P::Instant>;

/// The pollfd array: copied in, polled, revents copied out.
template <typename P>
SyscallResult poll_array(ThreadContext<P>& t, std::uintptr_t address, std::uint64_t count, const Deadline<P>& deadline,
                         std::optional<std::uint64_t> mask) {
    if (count > t.process().limit(abi::rlimit_nofile).rlim_cur || count > event::max_poll_requests) return Errno::inval;
    LITEBOX_TRY_ASSIGN(auto fds, Guest<P>::template read_array<abi::pollfd>(address, static_cast<std::size_t>(count)));
    std::vector<std::shared_ptr<fd::OpenFile<P>>> keep;
    std::vector<event::PollRequest<P>> requests;
    std::vector<std::size_t> index;  // request -> pollfd
    for (std::size_t i = 0; i < fds.size(); ++i) {
        fds[i].revents = 0;
        if (fds[i].fd < 0) continue;
        auto file = t.files().get(fds[i].fd);
        requests.push_back({file.has_value() ? file->get() : nullptr, static_cast<std::uint16_t>(fds[i].events), 0});
        if (file.has_value()) keep.push_back(std::move(*file));
        index.push_back(i);
    }
    ScopedSignalMask<P> scoped(t, mask);
    LITEBOX_TRY_ASSIGN(const std::size_t ready, event::poll_files<P>(t.wait_context(deadline), requests));
    for (std::size_t k = 0; k < requests.size(); ++k) fds[index[k]].revents = static_cast<std::int16_t>(requests[k].revents);
    LITEBOX_TRY(Guest<P>::write_bytes(address, std::as_bytes(std::span<const abi::pollfd>(fds))));
    return static_cast<std::int64_t>(ready);
}

/// select's three fd_sets over poll_files.
template <typename P>
SyscallResult select_sets(ThreadContext<P>& t, std::int32_t nfds, const std::uintptr_t (&sets)[3], const Deadline<P>& deadline,
                          std::optional<std::uint64_t> mask) {
    if (nfds < 0) return Errno::inval;
    const auto limit = static_cast<std::int64_t>(t.files().limit());
    const std::size_t count = static_cast<std::size_t>(std::min<std::int64_t>(nfds, limit));
    const std::size_t words = (count + 63) / 64;
    std::vector<std::uint64_t> bits[3];
    for (int s = 0; s < 3; ++s) {
        if (sets[s] == 0) continue;
        LITEBOX_TRY_ASSIGN(bits[s], Guest<P>::template read_array<std::uint64_t>(sets[s], words));
    }
    constexpr fd::Events wanted[3] = {fd::events::in, fd::events::out, fd::events::pri};
    std::vector<std::shared_ptr<fd::OpenFile<P>>> keep;
    std::vector<event::PollRequest<P>> requests;
    std::vector<int> descriptors;
    for (std::size_t d = 0; d < count; ++d) {
        fd::Events events = 0;
        for (int s = 0; s < 3; ++s)
            if (!bits[s].empty() && (bits[s][d / 64] >> (d % 64) & 1) != 0) events |= wanted[s];
        if (events == 0) continue;
        LITEBOX_TRY_ASSIGN(auto file, t.files().get(static_cast<int>(d)));
        requests.push_back({file.get(), events, 0});
        keep.push_back(std::move(file));
        descriptors.push_back(static_cast<int>(d));
    }
    ScopedSignalMask<P> scoped(t, mask);
    LITEBOX_TRY(event::poll_files<P>(t.wait_context(deadline), requests));
    constexpr fd::Events ready_on[3] = {fd::events::in | fd::events::hup | fd::events::err, fd::events::out | fd::events::err,
                                        fd::events::pri};
    std::int64_t total = 0;
    for (auto& b : bits) std::fill(b.begin(), b.end(), 0);
    for (std::size_t k = 0; k < requests.size(); ++k) {
        const auto d = static_cast<std::size_t>(descriptors[k]);
        for (int s = 0; s < 3; ++s) {
            if (bits[s].empty() || (requests[k].events & wanted[s]) == 0 || (requests[k].revents & ready_on[s]) == 0) continue;
            bits[s][d / 64] |= std::uint64_t{1} << (d % 64);
            ++total;
        }
    }
    for (int s = 0; s < 3; ++s)
        if (sets[s] != 0) LITEBOX_TRY(Guest<P>::write_bytes(sets[s], std::as_bytes(std::span<const std::uint64_t>(bits[s]))));
    return total;
}

template <typename P>
Deadline<P> deadline_after_ns(ThreadContext<P>& t, std::int64_t ns) {
    return t.platform().now().checked_add(platform::Duration{ns});
}
/// A `struct timespec *` timeout argument as a deadline (address 0: none, wait for ever); EINVAL
/// for a malformed one.
template <typename P>
Result<Deadline<P>> read_timeout(ThreadContext<P>& t, std::uintptr_t address) {
    if (address == 0) return Deadline<P>{};
    LITEBOX_TRY_ASSIGN(const abi::timespec ts, Guest<P>::template read<abi::timespec>(address));
    if (!time_detail::valid(ts)) return Errno::inval;
    return deadline_after_ns(t, time_detail::to_ns_saturating(ts));
}
template <typename P>
std::int64_t ns_left(ThreadContext<P>& t, const Deadline<P>& deadline) {
    if (!deadline) return 0;
    return deadline->checked_duration_since(t.platform().now()).value_or(platform::Duration{0}).count();
}
}  // namespace poll_detail

template <typename P>
SyscallResult sys_poll(ThreadContext<P>& t, const SyscallRequest& r) {
    return poll_detail::poll_array(t, r.ptr(0), r.u32(1), deadline_after_ms(t.platform(), r.i32(2)), std::nullopt);
}

template <typename P>
SyscallResult sys_ppoll(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t timeout_address = r.ptr(2);
    LITEBOX_TRY_ASSIGN(const auto deadline, poll_detail::read_timeout(t, timeout_address));
    LITEBOX_TRY_ASSIGN(const auto mask, ScopedSignalMask<P>::read(r.ptr(3), r.u64(4)));
    SyscallResult result = poll_detail::poll_array(t, r.ptr(0), r.u32(1), deadline, mask);
    if (timeout_address != 0) (void)Guest<P>::write(timeout_address, time_detail::to_timespec(poll_detail::ns_left(t, deadline)));
    return result;
}

template <typename P>
SyscallResult sys_select(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t sets[3] = {r.ptr(1), r.ptr(2), r.ptr(3)};
    const std::uintptr_t timeout_address = r.ptr(4);
    poll_detail::Deadline<P> deadline;
    if (timeout_address != 0) {
        LITEBOX_TRY_ASSIGN(const abi::timeval tv, Guest<P>::template read<abi::timeval>(timeout_address));
        if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1'000'000) return Errno::inval;
        deadline = poll_detail::deadline_after_ns(t, time_detail::to_ns_saturating(abi::timespec{tv.tv_sec, tv.tv_usec * 1000}));
    }
    SyscallResult result = poll_detail::select_sets(t, r.i32(0), sets, deadline, std::nullopt);
    if (timeout_address != 0) {
        const abi::timespec left = time_detail::to_timespec(poll_detail::ns_left(t, deadline));
        (void)Guest<P>::write(timeout_address, abi::timeval{left.tv_sec, left.tv_nsec / 1000});
    }
    return result;
}

template <typename P>
SyscallResult sys_pselect6(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uintptr_t sets[3] = {r.ptr(1), r.ptr(2), r.ptr(3)};
    const std::uintptr_t timeout_address = r.ptr(4), mask_address = r.ptr(5);
    LITEBOX_TRY_ASSIGN(const auto deadline, poll_detail::read_timeout(t, timeout_address));
    std::optional<std::uint64_t> mask;
    if (mask_address != 0) {
        LITEBOX_TRY_ASSIGN(const auto pair, Guest<P>::template read_array<std::uint64_t>(mask_address, 2));
        LITEBOX_TRY_ASSIGN(mask, ScopedSignalMask<P>::read(static_cast<std::uintptr_t>(pair[0]), pair[1]));
    }
    SyscallResult result = poll_detail::select_sets(t, r.i32(0), sets, deadline, mask);
    if (timeout_address != 0) (void)Guest<P>::write(timeout_address, time_detail::to_timespec(poll_detail::ns_left(t, deadline)));
    return result;
}

}  // namespace litebox::shim::linux_abi
