// UnixEndpoint<P> and UnixNamespace<P>: where bound unix sockets can be found.
//
// A bound socket owns a UnixEndpoint (its address and a weak reference back to it). Abstract
// names live in the box's UnixNamespace; path names live in the box's file system: binding a path
// hands the endpoint to the file system, which keeps it in the socket inode (a weak reference, the
// fs Attachment), and connect/sendto to a path resolve the inode and pass its endpoint here.
//
// Contract: an endpoint whose socket was closed resolves to nothing (connect: ECONNREFUSED, as
// for a stale socket file on Linux). An abstract name is free again as soon as its socket closes.
// The namespace is shared by every socket of the box and is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "../../error.hpp"
#include "../../sync/mutex.hpp"
#include "detail/rights.hpp"
#include "types.hpp"

namespace litebox::ipc {

template <typename P>
class UnixSocket;

/// A bound address and the socket bound to it.
template <typename P>
class UnixEndpoint {
    struct Tag {};

public:
    UnixEndpoint(Tag, UnixAddress address, std::weak_ptr<UnixSocket<P>> socket)
        : m_address(std::move(address)), m_socket(std::move(socket)) {}
    UnixEndpoint(const UnixEndpoint&) = delete;
    UnixEndpoint& operator=(const UnixEndpoint&) = delete;

    [[nodiscard]] const UnixAddress& address() const noexcept { return m_address; }
    /// The bound socket, or nullptr once it is closed.
    [[nodiscard]] std::shared_ptr<UnixSocket<P>> socket() const noexcept { return m_socket.lock(); }
    /// False once the socket is closed. Takes no reference (safe under any lock).
    [[nodiscard]] bool alive() const noexcept { return !m_socket.expired(); }

private:
    friend class UnixSocket<P>;
    static std::shared_ptr<UnixEndpoint> make(UnixAddress address, std::weak_ptr<UnixSocket<P>> socket) {
        return std::make_shared<UnixEndpoint>(Tag{}, std::move(address), std::move(socket));
    }
    const UnixAddress m_address;
    const std::weak_ptr<UnixSocket<P>> m_socket;  // never reassigned: lock() needs no extra lock
};

/// A box's unix socket namespace: abstract names, limits, and SCM_RIGHTS accounting.
template <typename P>
class UnixNamespace {
    struct Tag {};

public:
    UnixNamespace(Tag, UnixLimits limits)
        : m_limits(limits), m_in_flight(std::make_shared<detail::InFlightRegistry<P>>(limits.max_in_flight_files)) {}
    UnixNamespace(const UnixNamespace&) = delete;
    UnixNamespace& operator=(const UnixNamespace&) = delete;

    static std::shared_ptr<UnixNamespace> create(UnixLimits limits = {}) {
        return std::make_shared<UnixNamespace>(Tag{}, limits);
    }

    [[nodiscard]] const UnixLimits& limits() const noexcept { return m_limits; }

    /// The endpoint bound to an abstract name, or ECONNREFUSED. (No socket reference is taken
    /// under the namespace lock: dropping the last one would close the socket, which unbinds.)
    Result<std::shared_ptr<UnixEndpoint<P>>> lookup_abstract(std::string_view name) {
        return m_state.with_lock([&](State& s) -> Result<std::shared_ptr<UnixEndpoint<P>>> {
            auto it = s.abstract.find(std::string(name));
            if (it == s.abstract.end()) return Errno::connrefused;
            auto endpoint = it->second.lock();
            if (!endpoint || !endpoint->alive()) return Errno::connrefused;
            return endpoint;
        });
    }

    /// Number of abstract names bound.
    [[nodiscard]] std::size_t abstract_count() {
        return m_state.with_lock([](State& s) { return s.abstract.size(); });
    }

    /// Files currently in flight in SCM_RIGHTS messages.
    [[nodiscard]] std::size_t in_flight() const { return m_in_flight->count(); }

    /// Box teardown: drops every file still in flight (breaks reference cycles of sockets that
    /// were sent over themselves).
    void release_in_flight() { m_in_flight->purge(); }

private:
    friend class UnixSocket<P>;
    struct State {
        std::map<std::string, std::weak_ptr<UnixEndpoint<P>>> abstract;
        std::uint32_t next_autobind = 0;
    };
    /// Number of autobind names ("\0" + five hex digits).
    static constexpr std::uint32_t autobind_names = 0x100000;

    Result<void> bind_abstract(const std::shared_ptr<UnixEndpoint<P>>& endpoint) {
        return m_state.with_lock([&](State& s) -> Result<void> {
            auto [it, inserted] = s.abstract.try_emplace(endpoint->address().name, endpoint);
            if (!inserted) {
                auto live = it->second.lock();
                if (live && live->alive()) return Errno::addrinuse;
                it->second = endpoint;
                return ok();
            }
            if (s.abstract.size() > m_limits.max_abstract_names) {
                s.abstract.erase(it);
                return Errno::nobufs;
            }
            return ok();
        });
    }

    /// A free autobind name (Linux: ENOSPC when every one is taken).
    Result<std::string> free_autobind_name() {
        return m_state.with_lock([&](State& s) -> Result<std::string> {
            static constexpr char digits[] = "0123456789abcdef";
            for (std::uint32_t attempt = 0; attempt < autobind_names; ++attempt) {
                const std::uint32_t n = s.next_autobind++ % autobind_names;
                std::string name(5, '0');
                for (int i = 4, v = static_cast<int>(n); i >= 0; --i, v >>= 4) name[static_cast<std::size_t>(i)] = digits[v & 0xf];
                auto it = s.abstract.find(name);
                if (it == s.abstract.end() || it->second.expired()) return name;
            }
            return Errno::nospc;
        });
    }

    void unbind_abstract(const std::string& name, const UnixEndpoint<P>* endpoint) {
        m_state.with_lock([&](State& s) {
            auto it = s.abstract.find(name);
            if (it == s.abstract.end()) return;
            auto live = it->second.lock();
            if (!live || live.get() == endpoint) s.abstract.erase(it);
        });
    }

    [[nodiscard]] const std::shared_ptr<detail::InFlightRegistry<P>>& in_flight_registry() const noexcept { return m_in_flight; }

    const UnixLimits m_limits;
    const std::shared_ptr<detail::InFlightRegistry<P>> m_in_flight;
    sync::Mutex<P, State> m_state;
};

}  // namespace litebox::ipc
