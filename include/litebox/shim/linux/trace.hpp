// The shim's trace facility: strace-style lines (`[pid 1] openat(AT_FDCWD, "/etc/passwd",
// O_RDONLY|O_CLOEXEC) = 3`) printed through the platform's DebugLogProvider when enabled, and
// "unsupported" notes printed once per (syscall, reason) whether tracing is on or not.
//
// Contract: tracing never changes a syscall's outcome and never fails it. String arguments are
// read from guest memory again for the line (after the call, for display only; no decision
// depends on them) and cut at trace_string_limit bytes. The set of remembered notes is bounded by
// max_unsupported_notes.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../fd/types.hpp"
#include "../../log.hpp"
#include "../../sync/mutex.hpp"
#include "constants.hpp"
#include "guest_memory.hpp"
#include "request.hpp"
#include "syscalls.hpp"

namespace litebox::shim::linux_abi {

/// Bytes of a string argument shown in a trace line.
inline constexpr std::size_t trace_string_limit = 64;

namespace trace_detail {

inline void append_open_flags(std::string& out, std::uint32_t flags) {
    namespace of = fd::open_flags;
    constexpr std::pair<std::uint32_t, std::string_view> names[] = {
        {of::create, "O_CREAT"},     {of::exclusive, "O_EXCL"},     {of::no_ctty, "O_NOCTTY"},   {of::truncate, "O_TRUNC"},
        {of::append, "O_APPEND"},    {of::nonblock, "O_NONBLOCK"},  {of::sync, "O_SYNC"},        {of::dsync, "O_DSYNC"},
        {of::direct, "O_DIRECT"},    {of::large_file, "O_LARGEFILE"}, {of::tmpfile, "O_TMPFILE"}, {of::directory, "O_DIRECTORY"},
        {of::no_follow, "O_NOFOLLOW"}, {of::no_atime, "O_NOATIME"}, {of::close_on_exec, "O_CLOEXEC"}, {of::path, "O_PATH"},
        {of::async, "O_ASYNC"}};
    const std::uint32_t mode = flags & of::access_mode;
    out += mode == of::read_only ? "O_RDONLY" : mode == of::write_only ? "O_WRONLY" : mode == of::read_write ? "O_RDWR" : "O_ACCMODE";
    std::uint32_t rest = flags & ~of::access_mode;
    for (const auto& [bits, name] : names) {
        if ((rest & bits) == bits) {
            out += '|';
            out += name;
            rest &= ~bits;
        }
    }
    if (rest != 0) fmt::format_to(std::back_inserter(out), "|{:#x}", rest);
}

constexpr std::string_view clock_name(int clock) noexcept {
    constexpr std::string_view names[] = {"CLOCK_REALTIME",        "CLOCK_MONOTONIC",        "CLOCK_PROCESS_CPUTIME_ID",
                                           "CLOCK_THREAD_CPUTIME_ID", "CLOCK_MONOTONIC_RAW",    "CLOCK_REALTIME_COARSE",
                                           "CLOCK_MONOTONIC_COARSE", "CLOCK_BOOTTIME",         "CLOCK_REALTIME_ALARM",
                                           "CLOCK_BOOTTIME_ALARM",   "",                       "CLOCK_TAI"};
    return clock >= 0 && clock < 12 ? names[clock] : std::string_view{};
}

constexpr std::string_view signal_name(int signal) noexcept {
    constexpr std::string_view names[] = {"0",       "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",  "SIGTRAP", "SIGABRT",
                                           "SIGBUS",  "SIGFPE",  "SIGKILL",   "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE",
                                           "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",
                                           "SIGTTIN", "SIGTTOU", "SIGURG",    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF",
                                           "SIGWINCH", "SIGIO",  "SIGPWR",    "SIGSYS"};
    return signal >= 0 && signal < 32 ? names[signal] : std::string_view{};
}

inline void append_quoted(std::string& out, std::string_view text, bool cut) {
    out += '"';
    for (const char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
                fmt::format_to(std::back_inserter(out), "\\x{:02x}", static_cast<unsigned char>(c));
            else
                out += c;
        }
    }
    out += '"';
    if (cut) out += "...";
}

}  // namespace trace_detail

/// Formats one trace line (without the pid prefix) for `request` and its `result`.
template <platform::RawPointerProvider P>
std::string format_trace_line(const SyscallRequest& request, const SyscallResult& result) {
    using namespace trace_detail;
    const SyscallInfo info = syscall_info(request.number);
    std::string out;
    auto it = std::back_inserter(out);
    if (info.known())
        out += info.name;
    else
        fmt::format_to(it, "syscall_{}", request.number);
    out += '(';
    if (!info.known() || info.format == "?") {
        fmt::format_to(it, "{:#x}, {:#x}, {:#x}, ...", request.args[0], request.args[1], request.args[2]);
    } else {
        bool creating = true;  // mode arguments after open flags print only with O_CREAT/O_TMPFILE
        for (std::size_t i = 0; i < info.format.size() && i < request.args.size(); ++i) {
            const char code = info.format[i];
            if (code == 'm' && !creating) continue;
            if (i != 0) out += ", ";
            switch (code) {
            case 'd': case 'f': fmt::format_to(it, "{}", request.i32(i)); break;
            case 'u': fmt::format_to(it, "{}", request.u64(i)); break;
            case 'l': fmt::format_to(it, "{}", request.i64(i)); break;
            case 'F':
                if (request.i32(i) == abi::at_fdcwd) out += "AT_FDCWD";
                else fmt::format_to(it, "{}", request.i32(i));
                break;
            case 'p':
                if (request.args[i] == 0) out += "NULL";
                else fmt::format_to(it, "{:#x}", request.args[i]);
                break;
            case 'o':
                append_open_flags(out, request.u32(i));
                creating = (request.u32(i) & (fd::open_flags::create | fd::open_flags::tmpfile)) != 0;
                break;
            case 'm': fmt::format_to(it, "{:#o}", request.u32(i)); break;
            case 'c':
                if (const auto name = clock_name(request.i32(i)); !name.empty()) out += name;
                else fmt::format_to(it, "{}", request.i32(i));
                break;
            case 'S':
                if (const auto name = signal_name(request.i32(i)); !name.empty()) out += name;
                else fmt::format_to(it, "{}", request.i32(i));
                break;
            case 's': {
                auto text = Guest<P>::read_string(request.ptr(i), trace_string_limit + 1);
                if (text.has_value()) append_quoted(out, *text, false);
                else if (text.error() == Errno::nametoolong) {
                    auto head = Guest<P>::template read_array<char>(request.ptr(i), trace_string_limit);
                    if (head.has_value()) append_quoted(out, std::string_view(head->data(), head->size()), true);
                    else fmt::format_to(it, "{:#x}", request.args[i]);
                } else
                    fmt::format_to(it, "{:#x}", request.args[i]);
                break;
            }
            default: fmt::format_to(it, "{:#x}", request.args[i]); break;
            }
        }
    }
    out += ") = ";
    if (result.has_value())
        fmt::format_to(it, "{}", *result);
    else
        fmt::format_to(it, "-1 {} ({})", errno_name(result.error()), errno_message(result.error()));
    return out;
}

/// Trace switch and the trace-once register of unsupported syscalls and flags.
template <platform::RawMutexProvider P>
class Tracer {
public:
    explicit Tracer(bool enabled, bool log_unsupported = true) noexcept : m_enabled(enabled), m_log_unsupported(log_unsupported) {}

    [[nodiscard]] bool enabled() const noexcept { return m_enabled.load(std::memory_order_relaxed); }
    void set_enabled(bool on) noexcept { m_enabled.store(on, std::memory_order_relaxed); }

    /// Logs "unsupported" for (syscall number, reason) the first time only. `reason` must be a
    /// string literal (its address is part of the key).
    void note_unsupported(const P& platform, std::uint64_t number, std::string_view reason) {
        const bool first = m_notes.with_lock([&](std::vector<std::pair<std::uint64_t, const char*>>& notes) {
            for (const auto& [n, r] : notes)
                if (n == number && r == reason.data()) return false;
            if (notes.size() >= max_unsupported_notes) return false;
            notes.emplace_back(number, reason.data());
            return true;
        });
        if (!first || !(m_log_unsupported || enabled())) return;
        const SyscallInfo info = syscall_info(number);
        if (info.known())
            litebox::log(platform, "litebox shim: unsupported {}: {}", info.name, reason);
        else
            litebox::log(platform, "litebox shim: unsupported syscall {}: {}", number, reason);
    }

    [[nodiscard]] std::size_t note_count() {
        return m_notes.with_lock([](auto& notes) { return notes.size(); });
    }

private:
    std::atomic<bool> m_enabled;
    bool m_log_unsupported;
    sync::Mutex<P, std::vector<std::pair<std::uint64_t, const char*>>> m_notes;
};

}  // namespace litebox::shim::linux_abi
