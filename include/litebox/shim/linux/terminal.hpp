// Terminal ioctls on the box's standard-stream devices (devfs's /dev/tty, /dev/stdin, ...):
// TCGETS, TCSETS/TCSETSW/TCSETSF, TIOCGWINSZ/TIOCSWINSZ, TIOCGPGRP/TIOCSPGRP.
//
// Contract: a request succeeds only on a descriptor whose open file is a devfs stdio device and
// whose host stream the platform reports as a terminal (StdioProvider::stdio_is_terminal);
// everything else (files, pipes, sockets, a platform without stdio) fails with ENOTTY.
// The settings are emulated inside the box, once for the whole box (one terminal): TCGETS starts
// from Linux's default termios (cooked mode, echo) and returns what TCSETS* stored; nothing is
// applied to the host terminal (echo and line editing stay the host's). TIOCGWINSZ reports a size
// set with TIOCSWINSZ, else the platform's (TerminalProvider), else zeros. TIOCSPGRP accepts a
// process group of the box (EPERM otherwise); TIOCGPGRP returns it (initially pid 1's group).
// The console is the controlling terminal of pid 1's session (unless it took a pty): a process of
// a background group of that session that reads it gets SIGTTIN, that writes it with the emulated
// TOSTOP set or changes its settings (TCSETS*, TIOCSPGRP) SIGTTOU (console_job_control).
#pragma once

#include <cstdint>
#include <optional>

#include "../../fs/devfs.hpp"
#include "guest_memory.hpp"
#include "kernel.hpp"
#include "pty.hpp"
#include "terminal_settings.hpp"

namespace litebox::shim::linux_abi {

namespace terminal_detail {

/// The stream behind `file` when it is a stdio device on a terminal.
template <typename P>
std::optional<platform::StdioStream> terminal_stream(const P& platform, fd::OpenFile<P>& file) {
    if constexpr (platform::StdioProvider<P>) {
        const auto* device = dynamic_cast<const fs::detail::StdioDeviceFile<P>*>(&file);
        if (device == nullptr) return std::nullopt;
        const auto stream = device->terminal_stream();
        if (!platform.stdio_is_terminal(stream)) return std::nullopt;
        return stream;
    } else {
        (void)platform, (void)file;
        return std::nullopt;
    }
}

/// The console's foreground group: TIOCSPGRP's, else box pid 1's group.
template <typename P>
int console_foreground(ThreadContext<P>& t) {
    const int group = t.kernel().terminal().with_lock([](TerminalSettings& s) { return s.foreground_group; });
    return group != 0 ? group : t.kernel().tasks().process_group_of(1).value_or(1);
}

/// Whether the console is the caller's controlling terminal: it is box pid 1's session's, unless
/// that session took a pty as its own.
template <typename P>
bool controls_console(ThreadContext<P>& t) {
    auto& tasks = t.kernel().tasks();
    const int session = tasks.session_of(1).value_or(0);
    return session != 0 && tasks.session_of(t.pid()).value_or(0) == session && !t.kernel().ptys().controlling(session);
}

}  // namespace terminal_detail

/// Job control on the box's console (pty.hpp's terminal_job_control) for a read (SIGTTIN), a
/// write (SIGTTOU, only with the emulated TOSTOP set) or a settings change (SIGTTOU) through
/// `file`. The console is the controlling terminal of box pid 1's session unless that session took
/// a pty as its own; its foreground group is TIOCSPGRP's (pid 1's group until then). Anything but
/// the console (a stdio device whose host stream is a terminal) is ok. The cheap tests come
/// first: this runs on every read and write.
template <typename P>
Result<void> console_job_control(ThreadContext<P>& t, fd::OpenFile<P>& file, int signal, bool write) {
    if constexpr (platform::StdioProvider<P>) {
        if (dynamic_cast<const fs::detail::StdioDeviceFile<P>*>(&file) == nullptr) return ok();
        if (write && !t.kernel().terminal().with_lock([](TerminalSettings& s) { return (s.termios.c_lflag & ipc::termios_bits::tostop) != 0; }))
            return ok();
        const int group = terminal_detail::console_foreground(t);
        if (group == pty_detail::caller_session(t).group || !terminal_detail::controls_console(t)) return ok();
        if (!terminal_detail::terminal_stream(t.platform(), file)) return ok();  // not a terminal: no job control
        return terminal_job_control(t, t.kernel().tasks().session_of(1).value_or(0), group, signal);
    } else {
        (void)t, (void)file, (void)signal, (void)write;
        return ok();  // no console
    }
}

/// True for the requests terminal_ioctl handles.
constexpr bool is_terminal_request(std::uint32_t request) noexcept {
    switch (request) {
    case abi::tcgets: case abi::tcsets: case abi::tcsetsw: case abi::tcsetsf:
    case abi::tiocgwinsz: case abi::tiocswinsz: case abi::tiocgpgrp: case abi::tiocspgrp: return true;
    default: return false;
    }
}

/// Handles one terminal request (is_terminal_request) on `file`.
template <typename P>
SyscallResult terminal_ioctl(ThreadContext<P>& t, fd::OpenFile<P>& file, std::uint32_t request, std::uintptr_t argument) {
    namespace td = terminal_detail;
    const auto stream = td::terminal_stream(t.platform(), file);
    if (!stream) return Errno::notty;
    auto& settings = t.kernel().terminal();
    if (request == abi::tcsets || request == abi::tcsetsw || request == abi::tcsetsf) {
        LITEBOX_TRY(console_job_control(t, file, abi::sigttou, false));
    } else if (request == abi::tiocspgrp) {
        if (auto checked = console_job_control(t, file, abi::sigttou, false); !checked)
            return checked.error() == Errno::io ? Errno::notty : checked.error();
    }
    switch (request) {
    case abi::tcgets: {
        const auto termios = settings.with_lock([](TerminalSettings& s) { return s.termios; });
        LITEBOX_TRY(Guest<P>::write(argument, termios));
        return 0;
    }
    case abi::tcsets: case abi::tcsetsw: case abi::tcsetsf: {
        LITEBOX_TRY_ASSIGN(const auto termios, Guest<P>::template read<td::kernel_termios>(argument));
        settings.with_lock([&](TerminalSettings& s) { s.termios = termios; });
        return 0;
    }
    case abi::tiocgwinsz: {
        auto window = settings.with_lock([](TerminalSettings& s) { return s.window; });
        if constexpr (platform::TerminalProvider<P>) {
            if (!window) window = t.platform().terminal_window_size(*stream);
        }
        const platform::WindowSize size = window.value_or(platform::WindowSize{});
        LITEBOX_TRY(Guest<P>::write(argument, td::kernel_winsize{size.rows, size.columns, 0, 0}));
        return 0;
    }
    case abi::tiocswinsz: {
        LITEBOX_TRY_ASSIGN(const auto size, Guest<P>::template read<td::kernel_winsize>(argument));
        settings.with_lock([&](TerminalSettings& s) { s.window = platform::WindowSize{size.ws_row, size.ws_col}; });
        return 0;
    }
    case abi::tiocgpgrp: {
        if (!td::controls_console(t)) return Errno::notty;  // not the caller's controlling terminal
        LITEBOX_TRY(Guest<P>::write(argument, static_cast<std::int32_t>(td::console_foreground(t))));
        return 0;
    }
    default: {  // tiocspgrp
        // Only a process whose controlling terminal the console is may set its foreground group
        // (ENOTTY), and only to a group of that session (EPERM), as Linux's tiocspgrp.
        if (!td::controls_console(t)) return Errno::notty;
        LITEBOX_TRY_ASSIGN(const std::int32_t group, Guest<P>::template read<std::int32_t>(argument));
        if (group <= 0) return Errno::inval;
        auto& tasks = t.kernel().tasks();
        const int session = tasks.session_of(1).value_or(0);
        bool exists = false;
        for (const int pid : tasks.process_ids())
            if (tasks.process_group_of(pid).value_or(0) == group && tasks.session_of(pid).value_or(0) == session) exists = true;
        if (!exists) return Errno::perm;
        settings.with_lock([&](TerminalSettings& s) { s.foreground_group = group; });
        return 0;
    }
    }
}

}  // namespace litebox::shim::linux_abi
