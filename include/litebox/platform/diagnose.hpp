// Readable diagnostics for platforms that do not satisfy Provider.
//
// `static_assert(litebox::platform::diagnose_provider<P>())` (LiteBox<P> does this) checks the
// sub-concepts member by member, in order, and fires exactly one static_assert for the first thing
// missing. Its message names the sub-concept and the member and shows the expected signature.
// The diagnose functions always return true: when something is missing their own static_assert has
// already failed the build, and the caller's assertion must not add a second, vaguer message. To
// *test* whether a type is a platform, use the concepts in concepts.hpp.
#pragma once

#include <type_traits>

#include "concepts.hpp"

namespace litebox::platform {

namespace diagnose_detail {
template <typename>
inline constexpr bool always_false = false;

template <typename P> concept has_raw_mutex_type = requires { typename P::RawMutex; };
template <typename M> concept raw_has_atomic = requires(M& m) { { m.underlying_atomic() } -> std::same_as<std::atomic<std::uint32_t>&>; };
template <typename M> concept raw_has_wake_many = requires(M& m, std::size_t n) { { m.wake_many(n) } -> std::same_as<std::size_t>; };
template <typename M> concept raw_has_wake_one = requires(M& m) { { m.wake_one() } -> std::same_as<bool>; };
template <typename M> concept raw_has_wake_all = requires(M& m) { { m.wake_all() } -> std::same_as<std::size_t>; };
template <typename M> concept raw_has_block = requires(M& m, std::uint32_t v) { { m.block(v) } -> std::same_as<WaitOutcome>; };
template <typename M> concept raw_has_block_timeout = requires(M& m, std::uint32_t v, Duration d) { { m.block_or_timeout(v, d) } -> std::same_as<WaitOutcome>; };

template <typename P> concept has_send = requires(const P& p, std::span<const std::byte> s) { { p.send_ip_packet(s) } -> std::same_as<Result<void>>; };
template <typename P> concept has_receive = requires(const P& p, std::span<std::byte> s) { { p.receive_ip_packet(s) } -> std::same_as<Result<std::size_t>>; };

template <typename P> concept has_instant = requires { typename P::Instant; };
template <typename P> concept has_system_time = requires { typename P::SystemTime; };
template <typename P> concept has_now = requires(const P& p) { { p.now() } -> std::same_as<typename P::Instant>; };
template <typename P> concept has_current_time = requires(const P& p) { { p.current_time() } -> std::same_as<typename P::SystemTime>; };

template <typename P> concept has_punchthrough_types = requires { typename P::Punchthrough; typename P::PunchthroughToken; };
template <typename P> concept has_get_token = requires(const P& p, typename P::Punchthrough r) {
    { p.get_punchthrough_token_for(std::move(r)) } -> std::same_as<std::optional<typename P::PunchthroughToken>>;
};

template <typename P> concept has_debug_log = requires(const P& p, std::string_view s) { { p.debug_log_print(s) } -> std::same_as<void>; };

template <typename P> concept has_pointer_templates = requires {
    typename P::template ConstPtr<std::uint8_t>;
    typename P::template MutPtr<std::uint8_t>;
};
}  // namespace diagnose_detail

#define LITEBOX_DIAGNOSE_FAIL(message) static_assert(diagnose_detail::always_false<P>, message)

/// Fires one static_assert naming the first missing piece of RawMutexProvider; true otherwise.
template <typename P>
consteval bool diagnose_raw_mutex_provider() {
    using namespace diagnose_detail;
    if constexpr (!has_raw_mutex_type<P>) {
        LITEBOX_DIAGNOSE_FAIL("LiteBox platform: RawMutexProvider: missing member type `using RawMutex = ...;` (a futex-like 32-bit raw mutex)");
        return true;  // the static_assert above has already failed the build
    } else {
        using M = typename P::RawMutex;
        if constexpr (!std::default_initializable<M>) {
            LITEBOX_DIAGNOSE_FAIL("LiteBox platform: RawMutexProvider: RawMutex must be default-constructible (to the value 0)");
            return true;  // the static_assert above has already failed the build
        } else if constexpr (!raw_has_atomic<M>) {
            LITEBOX_DIAGNOSE_FAIL("LiteBox platform: RawMutexProvider: RawMutex is missing `std::atomic<std::uint32_t>& underlying_atomic()`");
            return true;  // the static_assert above has already failed the build
        } else if constexpr (!raw_has_wake_many<M>) {
            LITEBOX_DIAGNOSE_FAIL("LiteBox platform: RawMutexProvider: RawMutex is missing `std::size_t wake_many(std::size_t n)`");
            return true;  // the static_assert above has already failed the build
        } else if constexpr (!raw_has_wake_one<M>) {
            LITEBOX_DIAGNOSE_FAIL("LiteBox platform: RawMutexProvider: RawMutex is missing `bool wake_one()`");
            return true;  // the static_assert above has already failed the build
        } else if constexpr (!raw_has_wake_all<M>) {
            LITEBOX_DIAGNOSE_FAIL("LiteBox platform: RawMutexProvider: RawMutex is missing `std::size_t wake_all()`");
            return true;  // the static_assert above has already failed the build
        } else if constexpr (!raw_has_block<M>) {
            LITEBOX_DIAGNOSE_FAIL("LiteBox platform: RawMutexProvider: RawMutex is missing `litebox::platform::WaitOutcome block(std::uint32_t expected)`");
            return true;  // the static_assert above has already failed the build
        } else if constexpr (!raw_has_block_timeout<M>) {
            LITEBOX_DIAGNOSE_FAIL("LiteBox platform: RawMutexProvider: RawMutex is missing `litebox::platform::WaitOutcome block_or_timeout(std::uint32_t expected, litebox::platform::Duration timeout)`");
            return true;  // the static_assert above has already failed the build
        } else if constexpr (std::copy_constructible<M> || std::movable<M>) {
            LITEBOX_DIAGNOSE_FAIL("LiteBox platform: RawMutexProvider: RawMutex must be neither copyable nor movable (its address is its identity)");
            return true;  // the static_assert above has already failed the build
        } else {
            return true;
        }
    }
}

/// Fires one static_assert naming the first missing piece of IPInterfaceProvider; true otherwise.
template <typename P>
consteval bool diagnose_ip_interface_provider() {
    using namespace diagnose_detail;
    if constexpr (!has_send<P>) {
        LITEBOX_DIAGNOSE_FAIL("LiteBox platform: IPInterfaceProvider: missing `litebox::Result<void> send_ip_packet(std::span<const std::byte> packet) const` (inherit litebox::platform::NoNetwork for none)");
        return true;  // the static_assert above has already failed the build
    } else if constexpr (!has_receive<P>) {
        LITEBOX_DIAGNOSE_FAIL("LiteBox platform: IPInterfaceProvider: missing `litebox::Result<std::size_t> receive_ip_packet(std::span<std::byte> buffer) const` (inherit litebox::platform::NoNetwork for none)");
        return true;  // the static_assert above has already failed the build
    } else {
        return true;
    }
}

/// Fires one static_assert naming the first missing piece of TimeProvider; true otherwise.
template <typename P>
consteval bool diagnose_time_provider() {
    using namespace diagnose_detail;
    if constexpr (!has_instant<P>) {
        LITEBOX_DIAGNOSE_FAIL("LiteBox platform: TimeProvider: missing member type `using Instant = ...;` (e.g. litebox::platform::MonotonicInstant)");
        return true;  // the static_assert above has already failed the build
    } else if constexpr (!InstantLike<typename P::Instant>) {
        LITEBOX_DIAGNOSE_FAIL("LiteBox platform: TimeProvider: Instant must be ordered and have `std::optional<Duration> checked_duration_since(Instant) const` and `std::optional<Instant> checked_add(Duration) const`");
        return true;  // the static_assert above has already failed the build
    } else if constexpr (!has_system_time<P>) {
        LITEBOX_DIAGNOSE_FAIL("LiteBox platform: TimeProvider: missing member type `using SystemTime = ...;` (e.g. litebox::platform::UnixTime)");
        return true;  // the static_assert above has already failed the build
    } else if constexpr (!SystemTimeLike<typename P::SystemTime>) {
        LITEBOX_DIAGNOSE_FAIL("LiteBox platform: TimeProvider: SystemTime must have `static SystemTime unix_epoch()` and `litebox::platform::DurationSince duration_since(SystemTime) const`");
        return true;  // the static_assert above has already failed the build
    } else if constexpr (!has_now<P>) {
        LITEBOX_DIAGNOSE_FAIL("LiteBox platform: TimeProvider: missing `Instant now() const`");
        return true;  // the static_assert above has already failed the build
    } else if constexpr (!has_current_time<P>) {
        LITEBOX_DIAGNOSE_FAIL("LiteBox platform: TimeProvider: missing `SystemTime current_time() const`");
        return true;  // the static_assert above has already failed the build
    } else {
        return true;
    }
}

/// Fires one static_assert naming the first missing piece of PunchthroughProvider; true otherwise.
template <typename P>
consteval bool diagnose_punchthrough_provider() {
    using namespace diagnose_detail;
    if constexpr (!has_punchthrough_types<P>) {
        LITEBOX_DIAGNOSE_FAIL("LiteBox platform: PunchthroughProvider: missing member types `using Punchthrough = ...; using PunchthroughToken = ...;` (inherit litebox::platform::DenyAllPunchthrough to grant nothing)");
        return true;  // the static_assert above has already failed the build
    } else if constexpr (!PunchthroughOperation<typename P::Punchthrough>) {
        LITEBOX_DIAGNOSE_FAIL("LiteBox platform: PunchthroughProvider: Punchthrough must declare `using Success`, `using Failure` and `static constexpr std::string_view name`");
        return true;  // the static_assert above has already failed the build
    } else if constexpr (!has_get_token<P>) {
        LITEBOX_DIAGNOSE_FAIL("LiteBox platform: PunchthroughProvider: missing `std::optional<PunchthroughToken> get_punchthrough_token_for(Punchthrough request) const`");
        return true;  // the static_assert above has already failed the build
    } else if constexpr (!PunchthroughToken<typename P::PunchthroughToken, typename P::Punchthrough>) {
        LITEBOX_DIAGNOSE_FAIL("LiteBox platform: PunchthroughProvider: PunchthroughToken is missing `PunchthroughResult<Punchthrough::Success, Punchthrough::Failure> execute() &&`");
        return true;  // the static_assert above has already failed the build
    } else {
        return true;
    }
}

/// Fires one static_assert naming the first missing piece of DebugLogProvider; true otherwise.
template <typename P>
consteval bool diagnose_debug_log_provider() {
    using namespace diagnose_detail;
    if constexpr (!has_debug_log<P>) {
        LITEBOX_DIAGNOSE_FAIL("LiteBox platform: DebugLogProvider: missing `void debug_log_print(std::string_view message) const`");
        return true;  // the static_assert above has already failed the build
    } else {
        return true;
    }
}

/// Fires one static_assert naming the first missing piece of RawPointerProvider; true otherwise.
template <typename P>
consteval bool diagnose_raw_pointer_provider() {
    using namespace diagnose_detail;
    if constexpr (!has_pointer_templates<P>) {
        LITEBOX_DIAGNOSE_FAIL("LiteBox platform: RawPointerProvider: missing member templates `template <class T> using ConstPtr = ...;` and `template <class T> using MutPtr = ...;` (inherit litebox::platform::HostMemoryPointers for in-process memory)");
        return true;  // the static_assert above has already failed the build
    } else if constexpr (!RawPointerProvider<P>) {
        LITEBOX_DIAGNOSE_FAIL("LiteBox platform: RawPointerProvider: ConstPtr<T>/MutPtr<T> need `explicit Ptr(std::uintptr_t)`, `std::uintptr_t address() const`, `Result<T> read_at_offset(std::size_t) const`, `Result<void> read_into(std::size_t, std::span<T>) const`, `Result<std::vector<T>> to_owned_slice(std::size_t) const`, `Result<std::string> to_cstring(std::size_t) const` (char), and for MutPtr `Result<void> write_at_offset(std::size_t, const T&) const`, `Result<void> copy_from(std::size_t, std::span<const T>) const`");
        return true;  // the static_assert above has already failed the build
    } else {
        return true;
    }
}

/// All six; stops at the first sub-concept that fails so that exactly one message fires.
template <typename P>
consteval bool diagnose_provider() {
    if constexpr (!RawMutexProvider<P>) {
        return diagnose_raw_mutex_provider<P>();
    } else if constexpr (!IPInterfaceProvider<P>) {
        return diagnose_ip_interface_provider<P>();
    } else if constexpr (!TimeProvider<P>) {
        return diagnose_time_provider<P>();
    } else if constexpr (!PunchthroughProvider<P>) {
        return diagnose_punchthrough_provider<P>();
    } else if constexpr (!DebugLogProvider<P>) {
        return diagnose_debug_log_provider<P>();
    } else if constexpr (!RawPointerProvider<P>) {
        return diagnose_raw_pointer_provider<P>();
    } else {
        return true;
    }
}

#undef LITEBOX_DIAGNOSE_FAIL

}  // namespace litebox::platform
