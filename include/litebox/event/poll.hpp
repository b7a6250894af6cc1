// poll(2)/select(2)-style one-shot waits over a set of open files.
//
// Contract: poll_files() fills each request's `revents` with file->poll(events) restricted to the
// requested events plus POLLERR|POLLHUP (always reported); a request whose file is nullptr (a
// closed descriptor) gets POLLNVAL. It returns the number of requests with a non-zero `revents`
// as soon as that number is positive, 0 when ctx.deadline passes first (ctx.deadline == now makes
// it a pure check), and Errno::intr when the caller's Waiter is interrupted. It waits only on the
// files' Pollees (and on timed files' deadlines), never in a busy loop. The caller keeps every
// file alive for the duration of the call. select(2) maps onto it: readfds -> POLLIN (ready on
// in|hup|err), writefds -> POLLOUT (ready on out|err), exceptfds -> POLLPRI.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <span>

#include "../fd/open_file.hpp"
#include "blocking.hpp"
#include "pollee.hpp"
#include "waiter.hpp"

namespace litebox::event {

/// One entry of a poll set (struct pollfd without the descriptor number).
template <typename P>
struct PollRequest {
    fd::OpenFile<P>* file = nullptr;  // nullptr: closed descriptor -> POLLNVAL
    Events events = 0;
    Events revents = 0;
};

/// The most requests one poll call accepts (RLIMIT_NOFILE's hard limit bounds Linux's nfds).
inline constexpr std::size_t max_poll_requests = 1u << 20;

namespace detail {
template <typename P>
std::size_t poll_once(std::span<PollRequest<P>> requests) {
    std::size_t ready = 0;
    for (PollRequest<P>& r : requests) {
        if (r.file == nullptr) {
            r.revents = fd::events::nval;
        } else {
            const Events wanted = r.events | fd::events::err | fd::events::hup;
            r.revents = r.file->poll(wanted) & wanted;
        }
        if (r.revents != 0) ++ready;
    }
    return ready;
}
}  // namespace detail

/// Waits until at least one request is ready (see the contract at the top of this file).
template <typename P>
Result<std::size_t> poll_files(const WaitContext<P>& ctx, std::span<PollRequest<P>> requests) {
    if (requests.size() > max_poll_requests) return Errno::inval;
    std::size_t ready = detail::poll_once(requests);
    if (ready > 0 || detail::deadline_passed(*ctx.platform, ctx.deadline)) return ready;

    Waiter<P> private_waiter;
    Waiter<P>& waiter = ctx.waiter != nullptr ? *ctx.waiter : private_waiter;
    std::deque<Subscription<P>> subscriptions;  // node-stable: subscriptions never move
    bool timed = false;
    for (PollRequest<P>& r : requests) {
        if (r.file == nullptr) continue;
        Pollee<P>* pollee = r.file->pollee();
        if (pollee == nullptr) continue;  // readiness never changes
        timed = timed || pollee->timed();
        subscriptions.emplace_back(*pollee, waiter, r.events | wake_always);
    }
    for (;;) {
        const std::uint32_t token = waiter.prepare();
        ready = detail::poll_once(requests);
        if (ready > 0) return ready;
        std::optional<typename P::Instant> deadline = ctx.deadline;
        if (timed) {
            for (PollRequest<P>& r : requests) {
                Pollee<P>* pollee = r.file != nullptr ? r.file->pollee() : nullptr;
                if (pollee != nullptr && pollee->timed()) deadline = earlier(deadline, pollee->next_deadline());
            }
        }
        const Result<void> slept = waiter.sleep(*ctx.platform, token, deadline);
        if (!slept.has_value()) {
            if (slept.error() == Errno::intr) return Errno::intr;
            if (detail::deadline_passed(*ctx.platform, ctx.deadline)) {
                return detail::poll_once(requests);  // a last look, as Linux does after its timeout
            }
        }
    }
}

}  // namespace litebox::event
