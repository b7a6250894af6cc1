// A complete platform built from pieces; each compile-fail test removes or breaks one piece.
#pragma once
#include <litebox/litebox.hpp>
#include <litebox/platform/std/platform.hpp>

namespace cf {
using litebox::platform::Duration;
using litebox::platform::WaitOutcome;
struct Log {
    void debug_log_print(std::string_view) const {}
};
struct Clock {
    using Instant = litebox::platform::MonotonicInstant;
    using SystemTime = litebox::platform::UnixTime;
    Instant now() const { return {}; }
    SystemTime current_time() const { return {}; }
};
}  // namespace cf
