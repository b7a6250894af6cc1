// Helpers shared by the IPC tests.
#pragma once

#include <litebox/event/blocking.hpp>
#include <litebox/fd/open_file.hpp>

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "support/platforms.hpp"

namespace litebox::test {

inline std::span<const std::byte> as_bytes(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

/// One non-blocking write of a string.
template <typename P>
Result<std::size_t> write_string(fd::OpenFile<P>& file, std::string_view s) {
    return file.write(as_bytes(s));
}

/// One non-blocking read of up to `max` bytes, as a string (the error if it fails).
template <typename P>
Result<std::string> read_string(fd::OpenFile<P>& file, std::size_t max = 4096) {
    std::string out(max, '\0');
    LITEBOX_TRY_ASSIGN(const std::size_t n, file.read(std::as_writable_bytes(std::span<char>(out.data(), out.size()))));
    out.resize(n);
    return out;
}

/// Polls `condition` in real time until it holds or `limit` passes (only for waiting on another
/// test thread to reach a blocking call; never used to wait for the code under test's results).
template <typename F>
bool eventually(F&& condition, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (condition()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return condition();
}

}  // namespace litebox::test
