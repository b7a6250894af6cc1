// LiteBox<P>: the only door to the north API. Nothing of the library OS can be reached before a
// platform type is bound here.
//
// Lifetime rule: a LiteBox keeps a reference to its platform; the platform object must outlive the
// box (and every descriptor, thread or callback that still uses the box). A platform instance may
// serve several boxes at once; each box owns its own state (descriptors, file systems, network).
#pragma once

#include "log.hpp"
#include "net/stack.hpp"
#include "platform/concepts.hpp"
#include "platform/diagnose.hpp"

namespace litebox {

template <typename P>
class LiteBox {
    static_assert(platform::diagnose_provider<P>());

public:
    using Platform = P;

    explicit LiteBox(P& platform) noexcept : m_platform(&platform) {}
    LiteBox(const LiteBox&) = delete;
    LiteBox& operator=(const LiteBox&) = delete;

    /// The bound platform.
    [[nodiscard]] P& platform() const noexcept { return *m_platform; }

    /// The box's TCP/IP stack (loopback only until net().configure_interface()); see net/stack.hpp
    /// for how a runtime drives it with poll().
    [[nodiscard]] net::Stack<P>& net() noexcept { return m_net; }

    /// The platform's monotonic clock.
    [[nodiscard]] auto now() const noexcept { return m_platform->now(); }

    /// Logs one formatted line through the platform.
    template <typename... Args>
    void log(fmt::format_string<Args...> format, Args&&... args) const noexcept {
        litebox::log(*m_platform, format, std::forward<Args>(args)...);
    }

private:
    P* m_platform;
    net::Stack<P> m_net{*m_platform};
};

}  // namespace litebox
