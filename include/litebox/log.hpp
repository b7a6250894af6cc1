// Logging: format with {fmt} into a bounded stack buffer, then hand one string to the platform's
// DebugLogProvider.
//
// Contract: a log call never allocates, never throws and never writes more than
// log_buffer_size bytes; longer messages are cut and end in "...". The checked form takes a
// compile-time format string; log_runtime() takes a runtime one and prints a fixed marker instead
// of throwing when the format string is malformed.
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <string_view>
#include <utility>

#include "platform/concepts.hpp"

namespace litebox {

/// The largest message the library logs in one piece, in bytes.
inline constexpr std::size_t log_buffer_size = 1024;

namespace log_detail {
template <platform::DebugLogProvider P>
void emit(const P& platform, std::array<char, log_buffer_size>& buffer, std::size_t needed) noexcept {
    std::size_t size = needed;
    if (needed > buffer.size()) {
        size = buffer.size();
        buffer[size - 3] = buffer[size - 2] = buffer[size - 1] = '.';
    }
    platform.debug_log_print(std::string_view(buffer.data(), size));
}
}  // namespace log_detail

/// Formats `format` with `args` and prints it through the platform.
template <platform::DebugLogProvider P, typename... Args>
void log(const P& platform, fmt::format_string<Args...> format, Args&&... args) noexcept {
    std::array<char, log_buffer_size> buffer;
    std::size_t needed = 0;
    try {
        needed = fmt::format_to_n(buffer.data(), buffer.size(), format, std::forward<Args>(args)...).size;
    } catch (...) {  // a user formatter threw: report that instead of propagating
        constexpr std::string_view marker = "<log formatting failed>";
        platform.debug_log_print(marker);
        return;
    }
    log_detail::emit(platform, buffer, needed);
}

/// Like log(), for a format string only known at run time (never throws on a bad one).
template <platform::DebugLogProvider P, typename... Args>
void log_runtime(const P& platform, std::string_view format, const Args&... args) noexcept {
    std::array<char, log_buffer_size> buffer;
    std::size_t needed = 0;
    try {
        needed = fmt::vformat_to_n(buffer.data(), buffer.size(), fmt::string_view(format.data(), format.size()),
                                   fmt::make_format_args(args...))
                     .size;
    } catch (...) {
        constexpr std::string_view marker = "<malformed log format>";
        platform.debug_log_print(marker);
        return;
    }
    log_detail::emit(platform, buffer, needed);
}

}  // namespace litebox
