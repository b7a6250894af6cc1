// StackCore<P>: the Engine behind its lock, plus what ties it to a platform: the clock (stack time
// is nanoseconds since the core's creation), the packet buffer for receive_ip_packet, and the
// flush of queued packets to send_ip_packet. Sockets and the Stack share it (shared_ptr), so a
// socket that outlives its Stack object still finds a valid (if no longer driven) engine.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "../../platform/concepts.hpp"
#include "../../sync/mutex.hpp"
#include "engine.hpp"
#include "engine_ip.hpp"
#include "sockets.hpp"
#include "tcp_input.hpp"
#include "tcp_output.hpp"

namespace litebox::net {

/// Tells a runtime that the stack's next timer deadline moved earlier than the one poll()
/// reported last (a socket call armed a timer): the runtime should call poll() again at the new
/// deadline. Called with the stack lock held: must not block or call into the stack.
class WakeupHook {
public:
    virtual void wake() noexcept = 0;

protected:
    ~WakeupHook() = default;
};

namespace detail {

template <typename P>
class StackCore {
public:
    using Instant = typename P::Instant;

    struct State {
        State(const StackConfig& config, std::uint64_t seed) : engine(config, seed) {}
        Engine engine;
        std::vector<std::byte> receive_buffer;
        Time reported_deadline = never;
        WakeupHook* wakeup = nullptr;
    };

    StackCore(P& platform, const StackConfig& config)
        : m_platform(&platform), m_epoch(platform.now()), m_state(std::in_place, config, make_seed(platform, this)) {}

    [[nodiscard]] P& platform() const noexcept { return *m_platform; }
    [[nodiscard]] Time now() const {
        const auto d = m_platform->now().checked_duration_since(m_epoch);
        return d && d->count() > 0 ? static_cast<Time>(d->count()) : 0;
    }
    [[nodiscard]] std::optional<Instant> instant(Time t) const {
        if (t == never) return std::nullopt;
        return m_epoch.checked_add(platform::Duration{static_cast<platform::Duration::rep>(t)});
    }

    /// Runs f(Engine&, now) under the lock, then lets loopback traffic settle, hands queued
    /// packets to the platform and tells the wakeup hook if a timer moved earlier.
    template <typename F>
    decltype(auto) with_engine(F&& f) {
        auto guard = m_state.lock();
        const Time t = now();
        guard->engine.begin_round();
        struct Finish {
            StackCore& core;
            State& state;
            Time t;
            ~Finish() { core.finish(state, t); }
        } finish{*this, *guard, t};
        return std::forward<F>(f)(guard->engine, t);
    }

    /// One round of driving (see Stack::poll).
    std::optional<Instant> poll() {
        auto guard = m_state.lock();
        State& s = *guard;
        const Time t = now();
        Engine& e = s.engine;
        e.begin_round();
        if (s.receive_buffer.empty()) s.receive_buffer.resize(ipv4_max_packet);
        std::size_t budget = e.config().limits.max_packets_per_poll;
        bool more = false;
        for (;;) {
            if (budget == 0) {
                more = true;
                break;
            }
            const Result<std::size_t> n = m_platform->receive_ip_packet(s.receive_buffer);
            if (!n) break;
            --budget;
            e.input(std::span<const std::byte>(s.receive_buffer.data(), std::min(*n, s.receive_buffer.size())), t, false);
        }
        e.flush_acks(t);
        e.run_timers(t);
        e.process_loopback(t);
        flush(e);
        const Time next = more ? t : e.next_deadline();
        s.reported_deadline = next;
        return instant(next);
    }

    void set_wakeup(WakeupHook* hook) {
        auto guard = m_state.lock();
        guard->wakeup = hook;
    }

    template <typename F>
    decltype(auto) inspect(F&& f) {
        auto guard = m_state.lock();
        return std::forward<F>(f)(guard->engine);
    }

private:
    void finish(State& s, Time t) noexcept {
        s.engine.process_loopback(t);
        flush(s.engine);
        if (s.wakeup != nullptr) {
            const Time next = s.engine.next_deadline();
            if (next < s.reported_deadline) {
                s.reported_deadline = next;
                s.wakeup->wake();
            }
        }
    }
    void flush(Engine& e) noexcept {
        auto& queue = e.transmit_queue();
        while (!queue.empty()) {
            (void)m_platform->send_ip_packet(queue.front());  // a failed send is a lost packet
            e.recycle(std::move(queue.front()));
            queue.pop_front();
        }
    }
    static std::uint64_t make_seed(P& platform, const void* salt) {
        std::uint64_t seed = 0;
        if constexpr (platform::CrngProvider<P>) {
            std::byte bytes[8] = {};
            if (platform.fill_random_bytes(bytes)) {
                std::memcpy(&seed, bytes, sizeof seed);
                return seed;
            }
        }
        // Without a CRNG: the clocks and an address. Unpredictable enough for port choice; ISNs
        // are then guessable by an observer of the host (documented in net/stack.hpp).
        seed = static_cast<std::uint64_t>(platform.current_time().duration_since(P::SystemTime::unix_epoch()).value().count());
        seed ^= static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(salt)) * 0x9e3779b97f4a7c15ull;
        return seed;
    }

    P* m_platform;
    Instant m_epoch;
    sync::Mutex<P, State> m_state;
};

}  // namespace detail
}  // namespace litebox::net
