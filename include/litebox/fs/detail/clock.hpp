// Wall-clock timestamps for inodes, from the platform's TimeProvider.
#pragma once

#include <cstdint>

#include "../../fd/types.hpp"
#include "../../platform/concepts.hpp"

namespace litebox::fs::detail {

/// The platform's current wall-clock time as a timespec (negative before 1970).
template <platform::TimeProvider P>
fd::Timespec wall_clock_now(const P& platform) {
    const auto since = platform.current_time().duration_since(P::SystemTime::unix_epoch());
    const std::int64_t ns = since.has_value() ? static_cast<std::int64_t>(since.value().count())
                                              : -static_cast<std::int64_t>(since.backwards_by().count());
    std::int64_t seconds = ns / 1'000'000'000;
    std::int64_t nanos = ns % 1'000'000'000;
    if (nanos < 0) {
        nanos += 1'000'000'000;
        --seconds;
    }
    return fd::Timespec{seconds, nanos};
}

/// a < b on timespecs.
constexpr bool time_before(const fd::Timespec& a, const fd::Timespec& b) noexcept {
    return a.seconds < b.seconds || (a.seconds == b.seconds && a.nanoseconds < b.nanoseconds);
}

}  // namespace litebox::fs::detail
