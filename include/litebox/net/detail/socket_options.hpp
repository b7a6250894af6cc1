// Socket<P>::set_option / get_option: SOL_SOCKET and SOL_TCP options with Linux's encodings.
#pragma once

#include <chrono>

#include "../socket.hpp"

namespace litebox::net {

namespace detail {
inline Result<int> option_int(std::span<const std::byte> value) {
    if (value.size() < sizeof(int)) return Errno::inval;
    int v = 0;
    std::memcpy(&v, value.data(), sizeof v);
    return v;
}
inline std::size_t put_option(std::span<std::byte> out, const void* value, std::size_t size) {
    std::memcpy(out.data(), value, std::min(out.size(), size));
    return std::min(out.size(), size);
}
/// struct timeval as x86-64 Linux lays it out.
struct OptionTimeval {
    std::int64_t seconds;
    std::int64_t microseconds;
};
inline Result<std::optional<platform::Duration>> option_timeout(std::span<const std::byte> value) {
    if (value.size() < sizeof(OptionTimeval)) return Errno::inval;
    OptionTimeval tv;
    std::memcpy(&tv, value.data(), sizeof tv);
    if (tv.microseconds < 0 || tv.microseconds >= 1'000'000) return Errno::dom;
    if (tv.seconds < 0) return std::optional<platform::Duration>{platform::Duration{0}};  // Linux: returns at once
    if (tv.seconds == 0 && tv.microseconds == 0) return std::optional<platform::Duration>{};
    constexpr std::int64_t max_seconds = 1'000'000'000;  // far beyond any use, below overflow
    const std::int64_t seconds = std::min(tv.seconds, max_seconds);
    return std::optional<platform::Duration>{std::chrono::seconds(seconds) + std::chrono::microseconds(tv.microseconds)};
}
}  // namespace detail

template <typename P>
Result<void> Socket<P>::set_option(int level, int name, std::span<const std::byte> value) {
    if (level == sol::socket) {
        if (name == so::rcvtimeo || name == so::sndtimeo) {
            LITEBOX_TRY_ASSIGN(auto timeout, detail::option_timeout(value));
            (name == so::rcvtimeo ? m_receive_timeout : m_send_timeout) = timeout;
            return ok();
        }
        if (name == so::linger) {
            if (value.size() < 2 * sizeof(int)) return Errno::inval;
            int v[2];
            std::memcpy(v, value.data(), sizeof v);
            if (auto* t = tcb()) {
                m_core->with_engine([&](detail::Engine&, detail::Time) {
                    t->linger = v[0] != 0;
                    t->linger_seconds = v[1] < 0 ? 0 : v[1];
                    return 0;
                });
            }
            return ok();
        }
        LITEBOX_TRY_ASSIGN(const int v, detail::option_int(value));
        return m_core->with_engine([&](detail::Engine& e, detail::Time now) -> Result<void> {
            switch (name) {
                case so::reuseaddr:
                    m_state->reuse_address = v != 0;
                    return ok();
                case so::reuseport:
                    m_state->reuse_port = v != 0;
                    return ok();
                case so::broadcast:
                    m_state->broadcast = v != 0;
                    return ok();
                case so::keepalive:
                    m_keepalive = v != 0;
                    if (auto* t = tcb()) {
                        t->keepalive = v != 0;
                        e.tcp_options_changed(*t, now);
                    }
                    return ok();
                case so::sndbuf:
                case so::rcvbuf: {
                    const std::size_t size = e.buffer_size_for(v < 0 ? 0 : static_cast<std::size_t>(v));
                    const bool send = name == so::sndbuf;
                    if (auto* t = tcb()) {
                        e.tcp_set_buffer_limits(*t, send ? std::optional(size) : std::nullopt,
                                                send ? std::nullopt : std::optional(size), now);
                    } else {
                        (send ? m_state->send_limit : m_state->receive_limit) = size;
                    }
                    return ok();
                }
                default:
                    return Errno::noprotoopt;
            }
        });
    }
    if (level == sol::tcp) {
        auto* t = tcb();
        if (t == nullptr) return Errno::noprotoopt;
        LITEBOX_TRY_ASSIGN(const int v, detail::option_int(value));
        return m_core->with_engine([&](detail::Engine& e, detail::Time now) -> Result<void> {
            switch (name) {
                case tcp_opt::nodelay:
                    t->nodelay = v != 0;
                    e.tcp_options_changed(*t, now);
                    return ok();
                case tcp_opt::keepidle:
                case tcp_opt::keepintvl:
                    if (v < 1 || v > 32767) return Errno::inval;
                    (name == tcp_opt::keepidle ? t->keepalive_idle_s : t->keepalive_interval_s) = static_cast<unsigned>(v);
                    e.tcp_options_changed(*t, now);
                    return ok();
                case tcp_opt::keepcnt:
                    if (v < 1 || v > 127) return Errno::inval;
                    t->keepalive_count = static_cast<unsigned>(v);
                    return ok();
                case tcp_opt::maxseg:
                    if (v < 88 || v > 32767) return Errno::inval;
                    if (static_cast<std::uint32_t>(v) < t->rcv_mss) t->rcv_mss = static_cast<std::uint32_t>(v);
                    return ok();
                default:
                    return Errno::noprotoopt;
            }
        });
    }
    if (level == sol::ip && name == ip_opt::recverr) {
        LITEBOX_TRY_ASSIGN(const int v, detail::option_int(value));
        return m_core->with_engine([&](detail::Engine&, detail::Time) -> Result<void> {
            m_state->receive_errors = v != 0;
            return ok();
        });
    }
    return Errno::noprotoopt;
}

template <typename P>
Result<std::size_t> Socket<P>::get_option(int level, int name, std::span<std::byte> out) {
    if (level == sol::socket && (name == so::rcvtimeo || name == so::sndtimeo)) {
        const auto& timeout = name == so::rcvtimeo ? m_receive_timeout : m_send_timeout;
        detail::OptionTimeval tv{0, 0};
        if (timeout) {
            const auto us = std::chrono::duration_cast<std::chrono::microseconds>(*timeout).count();
            tv.seconds = us / 1'000'000;
            tv.microseconds = us % 1'000'000;
        }
        return detail::put_option(out, &tv, sizeof tv);
    }
    if (level == sol::socket && name == so::linger) {
        int v[2] = {0, 0};
        if (auto* t = tcb()) {
            m_core->with_engine([&](detail::Engine&, detail::Time) {
                v[0] = t->linger ? 1 : 0;
                v[1] = t->linger_seconds;
                return 0;
            });
        }
        return detail::put_option(out, v, sizeof v);
    }
    return m_core->with_engine([&](detail::Engine& e, detail::Time) -> Result<std::size_t> {
        int v = 0;
        if (level == sol::socket) {
            switch (name) {
                case so::reuseaddr: v = m_state->reuse_address ? 1 : 0; break;
                case so::reuseport: v = m_state->reuse_port ? 1 : 0; break;
                case so::broadcast: v = m_state->broadcast ? 1 : 0; break;
                case so::keepalive: v = m_keepalive ? 1 : 0; break;
                case so::sndbuf: v = static_cast<int>(m_state->send_limit); break;
                case so::rcvbuf: v = static_cast<int>(m_state->receive_limit); break;
                case so::error: {
                    const auto e = m_state->take_error();
                    v = e ? errno_number(*e) : 0;
                    break;
                }
                case so::type: v = static_cast<int>(type()); break;
                case so::domain: v = af::inet; break;
                case so::protocol: v = protocol(); break;
                case so::acceptconn: v = tcb() != nullptr && tcb()->state == detail::TcpState::listen ? 1 : 0; break;
                case so::rcvlowat:
                case so::sndlowat: v = 1; break;
                default: return Errno::noprotoopt;
            }
            return detail::put_option(out, &v, sizeof v);
        }
        if (level == sol::tcp) {
            auto* t = tcb();
            if (t == nullptr) return Errno::noprotoopt;
            switch (name) {
                case tcp_opt::nodelay: v = t->nodelay ? 1 : 0; break;
                case tcp_opt::maxseg: v = static_cast<int>(t->synchronized() ? t->mss : 536); break;
                case tcp_opt::keepidle:
                    v = static_cast<int>(t->keepalive_idle_s.value_or(static_cast<unsigned>(
                        std::chrono::duration_cast<std::chrono::seconds>(e.config().tcp.keepalive_idle).count())));
                    break;
                case tcp_opt::keepintvl:
                    v = static_cast<int>(t->keepalive_interval_s.value_or(static_cast<unsigned>(
                        std::chrono::duration_cast<std::chrono::seconds>(e.config().tcp.keepalive_interval).count())));
                    break;
                case tcp_opt::keepcnt: v = static_cast<int>(t->keepalive_count.value_or(e.config().tcp.keepalive_probes)); break;
                default: return Errno::noprotoopt;
            }
            return detail::put_option(out, &v, sizeof v);
        }
        if (level == sol::ip && name == ip_opt::recverr) {
            v = m_state->receive_errors ? 1 : 0;
            return detail::put_option(out, &v, sizeof v);
        }
        return Errno::noprotoopt;
    });
}

}  // namespace litebox::net
