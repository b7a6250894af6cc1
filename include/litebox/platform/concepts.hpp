// The south interface: what a platform must give a LiteBox. Provider<P> is the conjunction of six
// small sub-concepts; optional concepts (StdioProvider, CrngProvider) are required only by the
// subsystems that need them. diagnose.hpp turns a failed check into one readable message.
#pragma once

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../error.hpp"
#include "punchthrough.hpp"
#include "time.hpp"

namespace litebox::platform {

/// What a raw-mutex wait reports. `unblocked` may be spurious (as with a futex): callers re-check
/// their condition.
enum class WaitOutcome {
    unblocked,          // woken by wake_*, or spuriously
    timed_out,          // block_or_timeout only: the duration elapsed
    immediately_woken,  // the atomic did not hold `expected` when the wait began
};

/// A futex-like primitive: a 32-bit atomic that a thread can sleep on.
///
/// Contract: a default-constructed RawMutex holds 0 and has no waiters. It is neither copied nor
/// moved (its address is its identity). `block(expected)` atomically checks that the value equals
/// `expected` and sleeps until a wake call (or spuriously); if the value differs it returns
/// `immediately_woken` without sleeping. `block_or_timeout` does the same but returns `timed_out`
/// after at least `timeout` has elapsed. `wake_many(n)` wakes up to n sleepers and returns how many
/// it woke (an upper bound is acceptable where the host cannot count); `wake_one`/`wake_all` are the
/// usual shorthands. No wake-up may be lost: a wake after a value change must reach any thread that
/// blocked on the old value.
template <typename M>
concept RawMutex = std::default_initializable<M> && !std::copy_constructible<M> && !std::movable<M> &&
    requires(M& m, std::uint32_t expected, std::size_t n, Duration timeout) {
        { m.underlying_atomic() } -> std::same_as<std::atomic<std::uint32_t>&>;
        { m.wake_many(n) } -> std::same_as<std::size_t>;
        { m.wake_one() } -> std::same_as<bool>;
        { m.wake_all() } -> std::same_as<std::size_t>;
        { m.block(expected) } -> std::same_as<WaitOutcome>;
        { m.block_or_timeout(expected, timeout) } -> std::same_as<WaitOutcome>;
    };

/// The platform names its raw mutex type; every lock, condition and wait in the library is built on
/// it and on nothing else.
template <typename P>
concept RawMutexProvider = requires { typename P::RawMutex; } && RawMutex<typename P::RawMutex>;

/// Sends and receives whole raw IP packets; the library runs its own TCP/IP stack on top.
///
/// Contract: `send_ip_packet` queues or transmits one packet and fails with an Errno (never blocks
/// for long). `receive_ip_packet` copies one packet into the buffer and returns its size, or fails
/// with Errno::again when none is waiting (it never blocks); a packet larger than the buffer is
/// truncated to the buffer and its remainder dropped. A platform without a network sends nothing
/// (Errno::netunreach) and never receives.
template <typename P>
concept IPInterfaceProvider = requires(const P& p, std::span<const std::byte> out, std::span<std::byte> in) {
    { p.send_ip_packet(out) } -> std::same_as<Result<void>>;
    { p.receive_ip_packet(in) } -> std::same_as<Result<std::size_t>>;
};

/// A point on a monotonic clock.
template <typename I>
concept InstantLike = std::copyable<I> && std::totally_ordered<I> && requires(const I& i, const I& j, Duration d) {
    { i.checked_duration_since(j) } -> std::same_as<std::optional<Duration>>;
    { i.checked_add(d) } -> std::same_as<std::optional<I>>;
};

/// A point on the wall clock.
template <typename S>
concept SystemTimeLike = std::copyable<S> && requires(const S& s, const S& t) {
    { S::unix_epoch() } -> std::same_as<S>;
    { s.duration_since(t) } -> std::same_as<DurationSince>;
};

/// Clocks. Contract: `now()` never goes backwards (successive calls are ordered by <=) and keeps
/// running while threads sleep; `current_time()` is the wall clock, which may step in either
/// direction. Neither call blocks.
template <typename P>
concept TimeProvider = requires { typename P::Instant; typename P::SystemTime; } &&
    InstantLike<typename P::Instant> && SystemTimeLike<typename P::SystemTime> && requires(const P& p) {
        { p.now() } -> std::same_as<typename P::Instant>;
        { p.current_time() } -> std::same_as<typename P::SystemTime>;
    };

/// A granted punchthrough. Contract: execute() performs the operation once and reports the outcome.
template <typename T, typename Set>
concept PunchthroughToken = std::movable<T> && requires(T t) {
    { std::move(t).execute() } -> std::same_as<PunchthroughResult<typename Set::Success, typename Set::Failure>>;
};

/// The audit point for every extra host operation (see punchthrough.hpp for the contract).
template <typename P>
concept PunchthroughProvider = requires { typename P::Punchthrough; typename P::PunchthroughToken; } &&
    PunchthroughOperation<typename P::Punchthrough> &&
    PunchthroughToken<typename P::PunchthroughToken, typename P::Punchthrough> &&
    requires(const P& p, typename P::Punchthrough request) {
        { p.get_punchthrough_token_for(std::move(request)) } -> std::same_as<std::optional<typename P::PunchthroughToken>>;
    };

/// Diagnostics. Contract: prints one message (a line, without a trailing newline) somewhere an
/// operator can read it; never blocks for long, never fails the caller.
template <typename P>
concept DebugLogProvider = requires(const P& p, std::string_view message) {
    { p.debug_log_print(message) } -> std::same_as<void>;
};

/// A probe type used to check pointer templates with a struct, not just bytes.
struct PointerProbe {
    std::uint32_t a;
    std::uint16_t b;
};

/// Read access to guest memory for one trivially copyable T.
///
/// Contract: constructing from an address never touches memory; `address()` returns it unchanged.
/// Every access is fallible: a null, misaligned, unmapped or overflowing access returns
/// Errno::fault, never undefined behaviour. Offsets count elements of T; `offset * sizeof(T)` and
/// the address arithmetic are overflow-checked. `to_cstring(max)` reads up to `max` bytes and
/// fails with Errno::nametoolong when no NUL is found within them (T must be char-sized).
template <typename Ptr, typename T>
concept GuestConstPointer = std::copyable<Ptr> && std::constructible_from<Ptr, std::uintptr_t> &&
    requires(const Ptr& p, std::size_t i, std::size_t len, std::span<T> out) {
        { p.address() } -> std::same_as<std::uintptr_t>;
        { p.read_at_offset(i) } -> std::same_as<Result<T>>;
        { p.read_into(i, out) } -> std::same_as<Result<void>>;
        { p.to_owned_slice(len) } -> std::same_as<Result<std::vector<T>>>;
    };

/// Read and write access to guest memory; the same rules as GuestConstPointer.
template <typename Ptr, typename T>
concept GuestMutPointer = GuestConstPointer<Ptr, T> &&
    requires(const Ptr& p, std::size_t i, const T& v, std::span<const T> in) {
        { p.write_at_offset(i, v) } -> std::same_as<Result<void>>;
        { p.copy_from(i, in) } -> std::same_as<Result<void>>;
    };

/// Typed guest pointers: `P::template ConstPtr<T>` and `P::template MutPtr<T>`.
template <typename P>
concept RawPointerProvider =
    GuestConstPointer<typename P::template ConstPtr<std::uint8_t>, std::uint8_t> &&
    GuestConstPointer<typename P::template ConstPtr<PointerProbe>, PointerProbe> &&
    GuestMutPointer<typename P::template MutPtr<std::uint8_t>, std::uint8_t> &&
    GuestMutPointer<typename P::template MutPtr<PointerProbe>, PointerProbe> &&
    requires(const typename P::template ConstPtr<char>& s, std::size_t max) {
        { s.to_cstring(max) } -> std::same_as<Result<std::string>>;
    };

/// Everything a LiteBox needs from its host.
template <typename P>
concept Provider = RawMutexProvider<P> && IPInterfaceProvider<P> && TimeProvider<P> &&
                   PunchthroughProvider<P> && DebugLogProvider<P> && RawPointerProvider<P>;

// ---- optional providers ---------------------------------------------------------------------

enum class StdioStream { in = 0, out = 1, err = 2 };

/// The host's standard streams, for devices like /dev/stdout and /dev/tty.
///
/// Contract: `stdio_read` reads from standard input and returns 0 at end of input; it may block.
/// `stdio_write` writes at least one byte of a non-empty buffer to out or err, or fails;
/// `stdio_is_terminal` tells whether a stream is an interactive terminal.
template <typename P>
concept StdioProvider = requires(const P& p, std::span<std::byte> in, std::span<const std::byte> out, StdioStream s) {
    { p.stdio_read(in) } -> std::same_as<Result<std::size_t>>;
    { p.stdio_write(s, out) } -> std::same_as<Result<std::size_t>>;
    { p.stdio_is_terminal(s) } -> std::same_as<bool>;
};

/// A terminal's size in character cells.
struct WindowSize {
    std::uint16_t rows = 0;
    std::uint16_t columns = 0;
};

/// Optional, on top of StdioProvider: the size of a standard stream that is a terminal.
///
/// Contract: `terminal_window_size` returns the current size of the stream's terminal, or nothing
/// when the stream is not a terminal or its size is unknown. It never blocks. Without this
/// capability the shim reports a zero size for a terminal stream (terminal settings themselves are
/// emulated inside the box and never reach the host).
template <typename P>
concept TerminalProvider = StdioProvider<P> && requires(const P& p, StdioStream s) {
    { p.terminal_window_size(s) } -> std::same_as<std::optional<WindowSize>>;
};

/// Cryptographically secure random bytes. Contract: fills the whole buffer from a CSPRNG seeded by
/// the host's entropy source, or fails; never returns predictable bytes.
template <typename P>
concept CrngProvider = requires(const P& p, std::span<std::byte> out) {
    { p.fill_random_bytes(out) } -> std::same_as<Result<void>>;
};

/// Optional: bulk memory for file data (a tmpfs's pages). Contract: `map_pages(bytes)`, for a
/// non-zero multiple of 4096, returns that many bytes of read-write memory aligned to 4096, or
/// nullptr; when `bytes` is 2 MiB the platform may align it to 2 MiB and back it with huge pages.
/// `unmap_pages(p, bytes)` returns exactly one earlier result with its size. Both are thread-safe
/// and never throw. Without this capability the memory comes from operator new.
template <typename P>
concept PageMemoryProvider = requires(const P& p, std::size_t bytes, std::byte* base) {
    { p.map_pages(bytes) } noexcept -> std::same_as<std::byte*>;
    { p.unmap_pages(base, bytes) } noexcept;
};

}  // namespace litebox::platform
