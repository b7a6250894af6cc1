// Turning non-blocking operations into blocking ones.
//
// Every OpenFile operation is non-blocking (it fails with Errno::again where it would wait). The
// helpers here retry such an attempt after waiting for readiness on the file's Pollee, with the
// caller's deadline and Waiter (so that another thread can interrupt the wait):
//
//   auto n = event::blocking(ctx, file, events::in, [&] { return file.read(buffer); });
//
// Contract: the attempt is a callable returning Result<T>. It is called once; if it fails with
// Errno::again and the caller may block (not `nonblocking`, and the object has a Pollee), the
// helper subscribes to the Pollee, calls the attempt again (so that a change between the first try
// and the subscription is not lost) and sleeps until notified, then retries. It returns the first
// result that is not Errno::again, Errno::again itself for non-blocking callers, Errno::intr when
// the Waiter is interrupted, and Errno::timedout when ctx.deadline passes (the shim maps that:
// EAGAIN for SO_RCVTIMEO, ...). There is no busy loop: between two attempts the thread sleeps on
// the platform's RawMutex until a notification, an interrupt, or a deadline.
#pragma once

#include <cstddef>
#include <span>
#include <type_traits>

#include "../fd/open_file.hpp"
#include "pollee.hpp"
#include "waiter.hpp"

namespace litebox::event {

/// Events a blocked operation always wakes for besides its own (errors and hang-ups end waits).
inline constexpr Events wake_always = fd::events::err | fd::events::hup | deadline_changed;

namespace detail {
template <typename P>
bool deadline_passed(const P& platform, const std::optional<typename P::Instant>& deadline) {
    if (!deadline) return false;
    const auto remaining = deadline->checked_duration_since(platform.now());
    return !remaining || *remaining <= platform::Duration{0};
}
}  // namespace detail

/// Retries `attempt` until it stops failing with Errno::again, waiting for `events` on `pollee`
/// in between (see the contract at the top of this file).
template <typename P, typename Attempt>
auto wait_until_ready(const WaitContext<P>& ctx, Pollee<P>* pollee, Events events, bool nonblocking, Attempt&& attempt)
    -> std::invoke_result_t<Attempt&> {
    using R = std::invoke_result_t<Attempt&>;
    R result = attempt();
    if (result.has_value() || result.error() != Errno::again || nonblocking || pollee == nullptr) return result;

    Waiter<P> private_waiter;
    Waiter<P>& waiter = ctx.waiter != nullptr ? *ctx.waiter : private_waiter;
    Subscription<P> subscription(*pollee, waiter, events | wake_always);
    for (;;) {
        const std::uint32_t token = waiter.prepare();
        result = attempt();
        if (result.has_value() || result.error() != Errno::again) return result;
        const auto deadline = earlier(ctx.deadline, pollee->next_deadline());
        const Result<void> slept = waiter.sleep(*ctx.platform, token, deadline);
        if (!slept.has_value()) {
            if (slept.error() == Errno::intr) return Errno::intr;
            if (detail::deadline_passed(*ctx.platform, ctx.deadline)) return Errno::timedout;
            // Otherwise a timed Pollee's deadline passed: retry the attempt.
        }
    }
}

/// wait_until_ready on a file's Pollee; non-blocking when the description has O_NONBLOCK or the
/// caller says so (MSG_DONTWAIT).
template <typename P, typename Attempt>
auto blocking(const WaitContext<P>& ctx, fd::OpenFile<P>& file, Events events, Attempt&& attempt, bool dont_wait = false)
    -> std::invoke_result_t<Attempt&> {
    return wait_until_ready(ctx, file.pollee(), events, dont_wait || file.nonblocking(), std::forward<Attempt>(attempt));
}

/// read(2): waits for data unless the description is non-blocking.
template <typename P>
Result<std::size_t> read(const WaitContext<P>& ctx, fd::OpenFile<P>& file, std::span<std::byte> out) {
    return blocking(ctx, file, fd::events::in, [&] { return file.read(out); });
}

/// write(2) with Linux's blocking semantics: a blocking write to a pipe or stream socket goes on
/// until every byte is written; if it is interrupted, times out or fails after some bytes were
/// written, it returns that count instead of the error. A non-blocking write makes one attempt.
/// Errno::pipe means the reader is gone: the shim raises SIGPIPE (write(2) always does; send(2)
/// unless MSG_NOSIGNAL).
template <typename P>
Result<std::size_t> write(const WaitContext<P>& ctx, fd::OpenFile<P>& file, std::span<const std::byte> in) {
    std::size_t done = 0;
    for (;;) {
        Result<std::size_t> step = blocking(ctx, file, fd::events::out, [&] { return file.write(in.subspan(done)); });
        if (!step.has_value()) {
            if (done > 0) return done;
            return step.error();
        }
        done += *step;
        if (done >= in.size() || *step == 0 || file.nonblocking()) return done;
    }
}

}  // namespace litebox::event
