// Blocking socket calls: the non-blocking Socket operations plus waiting on the socket's Pollee
// (event::wait_until_ready), honouring O_NONBLOCK, MSG_DONTWAIT, MSG_WAITALL, SO_RCVTIMEO and
// SO_SNDTIMEO. The shim calls these.
//
// Contract: a WaitContext carries the caller's Waiter (so a signal interrupts the wait with
// Errno::intr) and an optional deadline. A socket timeout that expires yields Errno::again
// (Linux's EAGAIN for SO_RCVTIMEO), or the partial count if some bytes moved. A blocking connect
// returns once the handshake has finished (ok or its error); interrupted, it returns Errno::intr
// and the handshake goes on (a later connect gives EALREADY, as Linux). These waits rely on the
// runtime driving Stack::poll() (see net/stack.hpp) for anything but loopback traffic.
#pragma once

#include <memory>
#include <optional>

#include "../event/blocking.hpp"
#include "socket.hpp"

namespace litebox::net {

namespace detail {
template <typename P>
event::WaitContext<P> with_timeout(const event::WaitContext<P>& ctx, std::optional<platform::Duration> timeout, bool& used) {
    used = false;
    if (!timeout) return ctx;
    event::WaitContext<P> c = ctx;
    const auto d = event::deadline_after(*ctx.platform, *timeout);
    c.deadline = event::earlier(ctx.deadline, d);
    used = c.deadline == d;
    return c;
}
}  // namespace detail

template <typename P>
Result<void> connect(const event::WaitContext<P>& ctx, Socket<P>& socket, std::optional<Endpoint> remote) {
    const Result<void> started = socket.connect(remote);
    if (started || started.error() != Errno::inprogress || socket.nonblocking()) return started;
    bool used = false;
    const auto c = detail::with_timeout(ctx, socket.send_timeout(), used);
    const Result<void> done = event::wait_until_ready(c, socket.pollee(), fd::events::out, false, [&] { return socket.connect_status(); });
    if (!done && done.error() == Errno::timedout && used) return Errno::inprogress;
    return done;
}

template <typename P>
Result<std::shared_ptr<Socket<P>>> accept(const event::WaitContext<P>& ctx, Socket<P>& socket, Endpoint* peer = nullptr, int flags = 0) {
    bool used = false;
    const auto c = detail::with_timeout(ctx, socket.receive_timeout(), used);
    auto r = event::wait_until_ready(c, socket.pollee(), fd::events::in, socket.nonblocking(), [&] { return socket.accept(peer, flags); });
    if (!r && r.error() == Errno::timedout && used) return Errno::again;
    return r;
}

/// send/sendto: a blocking stream send goes on until every byte is queued (Linux), returning
/// the partial count if interrupted or timed out after some progress.
template <typename P>
Result<std::size_t> send(const event::WaitContext<P>& ctx, Socket<P>& socket, std::span<const std::byte> data, int flags = 0,
                         std::optional<Endpoint> to = std::nullopt) {
    const bool dont_wait = socket.nonblocking() || (flags & msg::dontwait) != 0;
    bool used = false;
    const auto c = detail::with_timeout(ctx, socket.send_timeout(), used);
    std::size_t done = 0;
    for (;;) {
        auto step = event::wait_until_ready(c, socket.pollee(), fd::events::out, dont_wait,
                                            [&] { return socket.send_to(data.subspan(done), flags, to); });
        if (!step) {
            if (done > 0) return done;
            if (step.error() == Errno::timedout && used) return Errno::again;
            return step.error();
        }
        done += *step;
        if (done >= data.size() || dont_wait || socket.type() != SocketType::stream) return done;
    }
}

/// recv/recvfrom; MSG_WAITALL on a stream socket waits for the whole buffer (or EOF, an error,
/// a signal or the timeout after partial progress).
template <typename P>
Result<std::size_t> receive(const event::WaitContext<P>& ctx, Socket<P>& socket, std::span<std::byte> out, int flags = 0,
                            Endpoint* from = nullptr, bool* truncated = nullptr) {
    const bool dont_wait = socket.nonblocking() || (flags & msg::dontwait) != 0;
    const bool wait_all = (flags & msg::waitall) != 0 && (flags & msg::peek) == 0 && socket.type() == SocketType::stream;
    bool used = false;
    const auto c = detail::with_timeout(ctx, socket.receive_timeout(), used);
    std::size_t done = 0;
    for (;;) {
        auto step = event::wait_until_ready(c, socket.pollee(), fd::events::in, dont_wait,
                                            [&] { return socket.receive_from(out.subspan(done), flags, from, truncated); });
        if (!step) {
            if (done > 0) return done;
            if (step.error() == Errno::timedout && used) return Errno::again;
            return step.error();
        }
        done += *step;
        if (!wait_all || *step == 0 || done >= out.size() || dont_wait) return done;
    }
}

}  // namespace litebox::net
