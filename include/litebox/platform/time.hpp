// Time types shared by the core and by platforms: Duration, and ready-made Instant / SystemTime
// types that a platform may use for its TimeProvider (it may also bring its own, as long as they
// satisfy InstantLike / SystemTimeLike in concepts.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>

namespace litebox::platform {

/// All durations in LiteBox are nanoseconds.
using Duration = std::chrono::nanoseconds;

/// The result of SystemTime::duration_since: a forward duration, or the size of a backwards step
/// (the wall clock is not monotonic: it may be set back).
class DurationSince {
public:
    static constexpr DurationSince forward(Duration d) noexcept { return DurationSince{d, true}; }
    static constexpr DurationSince backwards(Duration d) noexcept { return DurationSince{d, false}; }

    /// True when `later` was not before `earlier`.
    [[nodiscard]] constexpr bool has_value() const noexcept { return m_forward; }
    /// The forward duration; zero when the step was backwards.
    [[nodiscard]] constexpr Duration value() const noexcept { return m_forward ? m_duration : Duration{0}; }
    /// How far back the clock stepped; zero when it did not.
    [[nodiscard]] constexpr Duration backwards_by() const noexcept { return m_forward ? Duration{0} : m_duration; }

private:
    constexpr DurationSince(Duration d, bool fwd) noexcept : m_duration(d), m_forward(fwd) {}
    Duration m_duration;
    bool m_forward;
};

/// A monotonic instant counted in nanoseconds from an arbitrary, platform-chosen origin.
class MonotonicInstant {
public:
    constexpr MonotonicInstant() noexcept = default;
    static constexpr MonotonicInstant from_nanoseconds(std::uint64_t ns) noexcept { return MonotonicInstant{ns}; }
    [[nodiscard]] constexpr std::uint64_t nanoseconds() const noexcept { return m_ns; }

    /// `*this - earlier`, or nullopt when `earlier` is later than `*this`.
    [[nodiscard]] constexpr std::optional<Duration> checked_duration_since(MonotonicInstant earlier) const noexcept {
        if (earlier.m_ns > m_ns) return std::nullopt;
        const std::uint64_t diff = m_ns - earlier.m_ns;
        if (diff > static_cast<std::uint64_t>(std::numeric_limits<Duration::rep>::max())) return std::nullopt;
        return Duration{static_cast<Duration::rep>(diff)};
    }
    /// `*this + d`, or nullopt on overflow or for a negative d that would go below the origin.
    [[nodiscard]] constexpr std::optional<MonotonicInstant> checked_add(Duration d) const noexcept {
        const auto count = d.count();
        if (count >= 0) {
            const auto add = static_cast<std::uint64_t>(count);
            if (add > std::numeric_limits<std::uint64_t>::max() - m_ns) return std::nullopt;
            return MonotonicInstant{m_ns + add};
        }
        const auto sub = static_cast<std::uint64_t>(-(count + 1)) + 1;
        if (sub > m_ns) return std::nullopt;
        return MonotonicInstant{m_ns - sub};
    }
    /// `*this - earlier`, saturating at zero.
    [[nodiscard]] constexpr Duration saturating_duration_since(MonotonicInstant earlier) const noexcept {
        return checked_duration_since(earlier).value_or(Duration{0});
    }
    friend constexpr auto operator<=>(MonotonicInstant, MonotonicInstant) noexcept = default;

private:
    constexpr explicit MonotonicInstant(std::uint64_t ns) noexcept : m_ns(ns) {}
    std::uint64_t m_ns = 0;
};

/// Wall-clock time: signed nanoseconds since the UNIX epoch (1970-01-01T00:00:00Z).
class UnixTime {
public:
    constexpr UnixTime() noexcept = default;
    static constexpr UnixTime unix_epoch() noexcept { return UnixTime{}; }
    static constexpr UnixTime from_nanoseconds_since_epoch(std::int64_t ns) noexcept { return UnixTime{ns}; }
    [[nodiscard]] constexpr std::int64_t nanoseconds_since_epoch() const noexcept { return m_ns; }

    /// `*this - earlier` when not negative; otherwise the size of the backwards step.
    [[nodiscard]] constexpr DurationSince duration_since(UnixTime earlier) const noexcept {
        // Compute in unsigned arithmetic: the difference of two int64 values fits in uint64.
        if (m_ns >= earlier.m_ns) {
            const auto diff = static_cast<std::uint64_t>(m_ns) - static_cast<std::uint64_t>(earlier.m_ns);
            return DurationSince::forward(clamp(diff));
        }
        const auto diff = static_cast<std::uint64_t>(earlier.m_ns) - static_cast<std::uint64_t>(m_ns);
        return DurationSince::backwards(clamp(diff));
    }
    friend constexpr auto operator<=>(UnixTime, UnixTime) noexcept = default;

private:
    static constexpr Duration clamp(std::uint64_t diff) noexcept {
        constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<Duration::rep>::max());
        return Duration{static_cast<Duration::rep>(diff > max ? max : diff)};
    }
    constexpr explicit UnixTime(std::int64_t ns) noexcept : m_ns(ns) {}
    std::int64_t m_ns = 0;
};

}  // namespace litebox::platform
