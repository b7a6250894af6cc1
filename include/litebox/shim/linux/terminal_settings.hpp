// The box's emulated terminal settings (terminal.hpp): the kernel's struct termios and winsize
// layouts, Linux's default termios, and the state the Kernel keeps for its one terminal.
#pragma once

#include <cstdint>
#include <optional>

#include "../../platform/concepts.hpp"

namespace litebox::shim::linux_abi {

namespace terminal_detail {

/// struct termios as the kernel's TCGETS/TCSETS copy it (x86-64: NCCS 19, no speed fields).
struct kernel_termios {
    std::uint32_t c_iflag;
    std::uint32_t c_oflag;
    std::uint32_t c_cflag;
    std::uint32_t c_lflag;
    std::uint8_t c_line;
    std::uint8_t c_cc[19];
};
static_assert(sizeof(kernel_termios) == 36);
struct kernel_winsize {
    std::uint16_t ws_row;
    std::uint16_t ws_col;
    std::uint16_t ws_xpixel;
    std::uint16_t ws_ypixel;
};
static_assert(sizeof(kernel_winsize) == 8);

/// Linux's tty_std_termios: ICRNL|IXON, OPOST|ONLCR, B38400|CS8|CREAD|HUPCL,
/// ISIG|ICANON|ECHO|ECHOE|ECHOK|ECHOCTL|ECHOKE|IEXTEN, and INIT_C_CC.
inline constexpr kernel_termios default_termios{0x500, 0x5, 0x4bf, 0x8a3b, 0,
                                                 {3, 034, 0177, 025, 4, 0, 1, 0, 021, 023, 032, 0, 022, 017, 027, 026, 0, 0, 0}};

}  // namespace terminal_detail

/// The box's emulated terminal settings (kernel-wide).
struct TerminalSettings {
    terminal_detail::kernel_termios termios = terminal_detail::default_termios;
    std::optional<platform::WindowSize> window;  // set by TIOCSWINSZ
    int foreground_group = 0;                    // 0: pid 1's group
};

}  // namespace litebox::shim::linux_abi
