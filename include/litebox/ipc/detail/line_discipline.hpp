// The terminal line discipline of a pseudo-terminal pair (pty.hpp): termios state, input
// processing of the bytes the master writes (ICANON line editing, echo, ISIG signal characters,
// CR/NL mapping, IXON flow control) and output processing of the bytes the slave writes (OPOST).
//
// Contract (Linux's N_TTY, as far as it goes here):
// - receive() consumes master bytes until the input queue is full (then the caller reports a
//   short write or EAGAIN); in canonical mode a line longer than canonical_line_max drops its
//   extra characters (a bell is echoed with IMAXBEL), as Linux keeps room for the newline only.
// - Echo and processed output go to the output queue (what the master reads), bounded by
//   output_capacity; echo that does not fit is dropped.
// - Canonical reads return at most one line; an end-of-file character ends a line without being
//   returned, and alone it makes read return 0. Non-canonical reads return what is queued.
// - Signal characters (ISIG) are not queued: the signal numbers are collected for the caller to
//   send to the foreground process group, and the queues are flushed unless NOFLSH.
// Not implemented: VLNEXT, VREPRINT, VDISCARD, ECHOPRT, PARMRK/parity, TABDLY other than XTABS,
// column-exact erasure of tabs (a tab is erased as one column).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

namespace litebox::ipc {

/// termios flag bits and c_cc indices (Linux x86-64 values).
namespace termios_bits {
inline constexpr std::uint32_t ignbrk = 01, brkint = 02, istrip = 040, inlcr = 0100, igncr = 0200, icrnl = 0400,
                               iuclc = 01000, ixon = 02000, ixany = 04000, imaxbel = 020000, iutf8 = 040000;
inline constexpr std::uint32_t opost = 01, olcuc = 02, onlcr = 04, ocrnl = 010, onocr = 020, onlret = 040, tabdly = 014000,
                               xtabs = 014000;
inline constexpr std::uint32_t isig = 01, icanon = 02, echo = 010, echoe = 020, echok = 040, echonl = 0100, noflsh = 0200,
                               tostop = 0400, echoctl = 01000, echoprt = 02000, echoke = 04000, iexten = 0100000;
inline constexpr std::size_t vintr = 0, vquit = 1, verase = 2, vkill = 3, veof = 4, vtime = 5, vmin = 6, vstart = 8, vstop = 9,
                             vsusp = 10, veol = 11, vwerase = 14, veol2 = 16;
inline constexpr int sigint = 2, sigquit = 3, sigtstp = 20;
}  // namespace termios_bits

/// struct termios as TCGETS/TCSETS copy it (x86-64: NCCS 19, no speed fields).
struct Termios {
    std::uint32_t iflag = 0;
    std::uint32_t oflag = 0;
    std::uint32_t cflag = 0;
    std::uint32_t lflag = 0;
    std::uint8_t line = 0;
    std::uint8_t cc[19] = {};
};
static_assert(sizeof(Termios) == 36);

/// Linux's tty_std_termios: ICRNL|IXON, OPOST|ONLCR, B38400|CS8|CREAD|HUPCL,
/// ISIG|ICANON|ECHO|ECHOE|ECHOK|ECHOCTL|ECHOKE|IEXTEN, and INIT_C_CC.
inline constexpr Termios default_termios{0x500, 0x5, 0x4bf, 0x8a3b, 0,
                                         {3, 034, 0177, 025, 4, 0, 1, 0, 021, 023, 032, 0, 022, 017, 027, 026, 0, 0, 0}};

/// Linux's N_TTY_BUF_SIZE: the input queue (what the slave reads), and the longest canonical line.
inline constexpr std::size_t pty_input_capacity = 4096;
inline constexpr std::size_t canonical_line_max = pty_input_capacity - 1;
/// Bytes the slave may write before the master reads them (Linux's pty buffer is of this order).
inline constexpr std::size_t pty_output_capacity = 16 * 1024;

namespace detail {

class LineDiscipline {
public:
    [[nodiscard]] const Termios& termios() const noexcept { return m_termios; }
    /// TCSETS*: switching ICANON off makes the line being edited readable; switching it on makes
    /// what is queued one line (Linux's n_tty_set_termios).
    void set_termios(const Termios& next) {
        const bool was_canonical = canonical();
        m_termios = next;
        if (was_canonical && !canonical()) {
            m_ready.insert(m_ready.end(), m_line.begin(), m_line.end());
            m_line.clear();
            m_lines.clear();
        } else if (!was_canonical && canonical()) {
            m_lines.clear();
            if (!m_ready.empty()) m_lines.push_back(Line{m_ready.size(), false});
        }
        if ((m_termios.iflag & termios_bits::ixon) == 0) m_stopped = false;
    }
    [[nodiscard]] bool canonical() const noexcept { return (m_termios.lflag & termios_bits::icanon) != 0; }
    [[nodiscard]] bool output_stopped() const noexcept { return m_stopped; }

    /// Processes bytes written to the master. Returns how many were consumed (fewer when the
    /// input queue is full); signal numbers to raise are appended to `signals`.
    std::size_t receive(std::span<const std::byte> in, std::vector<int>& signals) {
        std::size_t used = 0;
        for (const std::byte b : in) {
            if (!receive_one(static_cast<unsigned char>(b), signals)) break;
            ++used;
        }
        return used;
    }

    /// Bytes a read could return now: canonical mode, the first complete line (an EOF-only line
    /// counts as readable with 0 bytes: `eof` is set); otherwise everything queued.
    [[nodiscard]] std::size_t readable(bool* eof = nullptr) const noexcept {
        if (eof) *eof = false;
        if (!canonical()) return m_ready.size();
        if (m_lines.empty()) return 0;
        if (eof) *eof = m_lines.front().length == 0;
        return m_lines.front().length;
    }
    /// Whether a line (or any byte, non-canonical) can be read.
    [[nodiscard]] bool has_input() const noexcept { return canonical() ? !m_lines.empty() : !m_ready.empty(); }
    /// FIONREAD: every byte queued for reading (canonical: of completed lines).
    [[nodiscard]] std::size_t queued() const noexcept { return m_ready.size(); }

    /// Reads at most one line (canonical) or what is queued. Call only when has_input().
    std::size_t read(std::span<std::byte> out) {
        if (!canonical()) return pop(out, m_ready.size());
        if (m_lines.empty()) return 0;
        Line& line = m_lines.front();
        const std::size_t n = pop(out, line.length);
        line.length -= n;
        if (line.length == 0) m_lines.pop_front();  // an EOF delimiter goes with its line
        return n;
    }

    /// OPOST processing of bytes the slave writes into the output queue. Returns bytes consumed.
    std::size_t transmit(std::span<const std::byte> in) {
        std::size_t used = 0;
        for (const std::byte b : in) {
            if (!output_char(static_cast<unsigned char>(b))) break;
            ++used;
        }
        return used;
    }
    /// The output queue (master reads it).
    std::size_t read_output(std::span<std::byte> out) {
        const std::size_t n = std::min(out.size(), m_output.size());
        std::copy_n(m_output.begin(), n, out.begin());
        m_output.erase(m_output.begin(), m_output.begin() + static_cast<std::ptrdiff_t>(n));
        return n;
    }
    [[nodiscard]] std::size_t output_queued() const noexcept { return m_output.size(); }
    [[nodiscard]] std::size_t output_room() const noexcept { return pty_output_capacity - std::min(pty_output_capacity, m_output.size()); }
    [[nodiscard]] std::size_t input_room() const noexcept {
        return pty_input_capacity - std::min(pty_input_capacity, m_ready.size() + m_line.size());
    }

    void flush_input() {
        m_ready.clear();
        m_line.clear();
        m_lines.clear();
    }
    void flush_output() { m_output.clear(); }
    /// The output queue is released when the master closes.
    void release_output() { std::deque<std::byte>().swap(m_output); }

private:
    struct Line {
        std::size_t length;   // bytes still to be read (the EOF character is not stored)
        bool eof_delimited;   // ended by VEOF
    };

    [[nodiscard]] bool lflag(std::uint32_t bit) const noexcept { return (m_termios.lflag & bit) != 0; }
    [[nodiscard]] bool iflag(std::uint32_t bit) const noexcept { return (m_termios.iflag & bit) != 0; }
    [[nodiscard]] bool oflag(std::uint32_t bit) const noexcept { return (m_termios.oflag & bit) != 0; }
    [[nodiscard]] bool is(unsigned char c, std::size_t index) const noexcept { return m_termios.cc[index] != 0 && c == m_termios.cc[index]; }
    static bool control(unsigned char c) noexcept { return c < 0x20 || c == 0x7f; }

    std::size_t pop(std::span<std::byte> out, std::size_t limit) {
        const std::size_t n = std::min({out.size(), limit, m_ready.size()});
        std::copy_n(m_ready.begin(), n, out.begin());
        m_ready.erase(m_ready.begin(), m_ready.begin() + static_cast<std::ptrdiff_t>(n));
        return n;
    }

    bool receive_one(unsigned char c, std::vector<int>& signals) {
        namespace tb = termios_bits;
        if (iflag(tb::istrip)) c &= 0x7f;
        if (lflag(tb::isig)) {
            int signal = 0;
            if (is(c, tb::vintr)) signal = tb::sigint;
            else if (is(c, tb::vquit)) signal = tb::sigquit;
            else if (is(c, tb::vsusp)) signal = tb::sigtstp;
            if (signal != 0) {
                if (!lflag(tb::noflsh)) {
                    flush_input();
                    flush_output();
                }
                m_stopped = false;
                signals.push_back(signal);
                if (lflag(tb::echo)) echo_char(c);
                return true;
            }
        }
        if (iflag(tb::ixon)) {
            if (is(c, tb::vstop)) {
                m_stopped = true;
                return true;
            }
            if (is(c, tb::vstart)) {
                m_stopped = false;
                return true;
            }
            if (m_stopped && iflag(tb::ixany)) m_stopped = false;
        }
        if (c == '\r') {
            if (iflag(tb::igncr)) return true;
            if (iflag(tb::icrnl)) c = '\n';
        } else if (c == '\n' && iflag(tb::inlcr)) {
            c = '\r';
        }
        if (iflag(tb::iuclc) && lflag(tb::iexten) && c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
        if (!canonical()) {
            if (m_ready.size() >= pty_input_capacity) return false;
            m_ready.push_back(std::byte{c});
            if (lflag(tb::echo)) echo_char(c);
            return true;
        }
        // Canonical mode: editing characters act on the line being typed.
        if (is(c, tb::verase)) {
            erase(Kill::character, c);
            return true;
        }
        if (is(c, tb::vkill)) {
            erase(Kill::line, c);
            return true;
        }
        if (lflag(tb::iexten) && is(c, tb::vwerase)) {
            erase(Kill::word, c);
            return true;
        }
        const bool eof = is(c, tb::veof);
        const bool delimiter = eof || c == '\n' || is(c, tb::veol) || (lflag(tb::iexten) && is(c, tb::veol2));
        if (m_ready.size() + m_line.size() >= pty_input_capacity && !m_lines.empty()) return false;  // full: wait for a reader
        if (!delimiter) {
            if (m_line.size() >= canonical_line_max) {
                if (iflag(tb::imaxbel) && lflag(tb::echo)) echo_raw('\a');
                return true;  // dropped, as Linux keeps room only for the newline
            }
            m_line.push_back(std::byte{c});
            if (lflag(tb::echo)) echo_char(c);
            return true;
        }
        if (!eof) {
            m_line.push_back(std::byte{c});
            if (c == '\n') {
                if (lflag(tb::echo) || lflag(tb::echonl)) output_char('\n');
            } else if (lflag(tb::echo)) {
                echo_char(c);
            }
        }
        m_lines.push_back(Line{m_line.size(), eof});
        m_ready.insert(m_ready.end(), m_line.begin(), m_line.end());
        m_line.clear();
        return true;
    }

    enum class Kill { character, word, line };
    void erase(Kill kind, unsigned char c) {
        namespace tb = termios_bits;
        if (m_line.empty()) return;
        if (!lflag(tb::echo)) {
            erase_chars(kind);
            return;
        }
        if (kind == Kill::line && !(lflag(tb::echok) && lflag(tb::echoke) && lflag(tb::echoe))) {
            m_line.clear();
            echo_char(c);
            if (lflag(tb::echok)) output_char('\n');
            return;
        }
        if (kind == Kill::character && !lflag(tb::echoe)) {
            erase_chars(kind);
            echo_char(c);
            return;
        }
        erase_chars(kind, true);
    }
    void erase_chars(Kill kind, bool visual = false) {
        namespace tb = termios_bits;
        bool seen_word = false;
        while (!m_line.empty()) {
            const auto last = static_cast<unsigned char>(m_line.back());
            if (kind == Kill::word) {
                const bool space = last == ' ' || last == '\t';
                if (space && seen_word) break;
                if (!space) seen_word = true;
            }
            m_line.pop_back();
            if (iflag(tb::iutf8) && (last & 0xc0) == 0x80) {
                // A UTF-8 continuation byte: erase the whole character (one column).
                while (!m_line.empty() && (static_cast<unsigned char>(m_line.back()) & 0xc0) == 0x80) m_line.pop_back();
                if (!m_line.empty()) m_line.pop_back();
            }
            if (visual) {
                if (control(last) && last != '\t') {
                    if (lflag(tb::echoctl)) echo_erase(2);
                } else {
                    echo_erase(1);
                }
            }
            if (kind == Kill::character) break;
        }
    }
    void echo_erase(int columns) {
        for (int i = 0; i < columns; ++i) {
            echo_raw('\b');
            echo_raw(' ');
            echo_raw('\b');
        }
    }
    /// Echoes an input character: control characters as ^X with ECHOCTL (not tab or newline).
    void echo_char(unsigned char c) {
        if (lflag(termios_bits::echoctl) && control(c) && c != '\t' && c != '\n') {
            echo_raw('^');
            echo_raw(static_cast<unsigned char>(c ^ 0100));
            return;
        }
        (void)output_char(c);
    }
    void echo_raw(unsigned char c) {
        if (m_output.size() < pty_output_capacity) m_output.push_back(std::byte{c});
    }
    /// One output character through OPOST; false when the output queue has no room for it.
    bool output_char(unsigned char c) {
        namespace tb = termios_bits;
        const std::size_t room = output_room();
        if (!oflag(tb::opost)) {
            if (room < 1) return false;
            m_output.push_back(std::byte{c});
            return true;
        }
        switch (c) {
        case '\n':
            if (oflag(tb::onlcr)) {
                if (room < 2) return false;
                m_output.push_back(std::byte{'\r'});
                m_column = 0;
            } else if (room < 1) {
                return false;
            }
            if (oflag(tb::onlret)) m_column = 0;
            m_output.push_back(std::byte{'\n'});
            return true;
        case '\r':
            if (oflag(tb::onocr) && m_column == 0) return true;
            if (room < 1) return false;
            m_output.push_back(std::byte{oflag(tb::ocrnl) ? std::uint8_t{'\n'} : std::uint8_t{'\r'}});
            m_column = 0;
            return true;
        case '\t': {
            const unsigned spaces = 8 - (m_column & 7);
            if ((m_termios.oflag & tb::tabdly) == tb::xtabs) {
                if (room < spaces) return false;
                for (unsigned i = 0; i < spaces; ++i) m_output.push_back(std::byte{' '});
            } else {
                if (room < 1) return false;
                m_output.push_back(std::byte{'\t'});
            }
            m_column += spaces;
            return true;
        }
        case '\b':
            if (room < 1) return false;
            if (m_column > 0) --m_column;
            m_output.push_back(std::byte{c});
            return true;
        default:
            if (room < 1) return false;
            if (oflag(tb::olcuc) && c >= 'a' && c <= 'z') c = static_cast<unsigned char>(c - 'a' + 'A');
            if (!control(c) && (c & 0xc0) != 0x80) ++m_column;
            m_output.push_back(std::byte{c});
            return true;
        }
    }

    Termios m_termios = default_termios;
    std::deque<std::byte> m_ready;   // readable bytes (canonical: completed lines)
    std::deque<Line> m_lines;        // canonical: the completed lines in m_ready, oldest first
    std::vector<std::byte> m_line;   // canonical: the line being edited
    std::deque<std::byte> m_output;  // slave output and echo, for the master
    unsigned m_column = 0;
    bool m_stopped = false;          // IXON: VSTOP received
};

}  // namespace detail
}  // namespace litebox::ipc
