// The Internet checksum (RFC 1071) and TCP sequence-number arithmetic (modulo 2^32).
//
// Contract: Checksum sums any sequence of byte spans as if they were one contiguous buffer (odd
// lengths are handled across spans). finish() returns the one's complement of the folded sum as
// the two bytes to store in a header (in memory order, i.e. ready for memcpy into the packet);
// verifying a buffer that contains a correct checksum yields finish() == 0.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "address.hpp"

namespace litebox::net {

class Checksum {
public:
    void add(std::span<const std::byte> data) noexcept {
        const std::byte* p = data.data();
        std::size_t n = data.size();
        if (n == 0) return;
        if (m_odd) {  // finish the pending 16-bit word with this span's first byte
            add_word(static_cast<std::uint64_t>(std::to_integer<std::uint8_t>(*p)) << byte_shift_high());
            ++p;
            --n;
            m_odd = false;
        }
        std::uint64_t sum = 0;
        std::uint64_t carry = 0;
        while (n >= 32) {
            std::uint64_t w[4];
            std::memcpy(w, p, 32);
            for (std::uint64_t v : w) {
                sum += v;
                carry += (sum < v) ? 1 : 0;
            }
            p += 32;
            n -= 32;
        }
        while (n >= 8) {
            std::uint64_t v;
            std::memcpy(&v, p, 8);
            sum += v;
            carry += (sum < v) ? 1 : 0;
            p += 8;
            n -= 8;
        }
        while (n >= 2) {
            std::uint16_t v;
            std::memcpy(&v, p, 2);
            sum += v;
            carry += (sum < v) ? 1 : 0;
            p += 2;
            n -= 2;
        }
        add_word(fold64(sum, carry));
        if (n == 1) {  // the first byte of a word: its position in memory order is the low byte
            add_word(static_cast<std::uint64_t>(std::to_integer<std::uint8_t>(*p)) << byte_shift_low());
            m_odd = true;
        }
    }
    /// Adds a 16-bit value given in host order (as a big-endian field of the packet).
    void add_be16(std::uint16_t value) noexcept {
        const std::byte b[2] = {std::byte(value >> 8), std::byte(value & 0xff)};
        add(b);
    }
    void add_be32(std::uint32_t value) noexcept {
        add_be16(static_cast<std::uint16_t>(value >> 16));
        add_be16(static_cast<std::uint16_t>(value));
    }
    /// The TCP/UDP pseudo-header (RFC 9293 3.1, RFC 768).
    void add_pseudo_header(Ipv4Address source, Ipv4Address destination, std::uint8_t protocol, std::uint16_t length) noexcept {
        add_be32(source.value());
        add_be32(destination.value());
        add_be16(protocol);
        add_be16(length);
    }

    /// The complemented 16-bit sum, as the two bytes to store (memory order).
    [[nodiscard]] std::uint16_t finish() const noexcept {
        std::uint64_t s = m_sum;
        while ((s >> 16) != 0) s = (s & 0xffff) + (s >> 16);
        return static_cast<std::uint16_t>(~s & 0xffff);
    }

    /// Stores finish() at `out` (two bytes).
    void store(std::byte* out) const noexcept {
        const std::uint16_t v = finish();
        std::memcpy(out, &v, 2);
    }

private:
    static constexpr bool little_endian() noexcept {
        return std::endian::native == std::endian::little;
    }
    static constexpr unsigned byte_shift_low() noexcept { return little_endian() ? 0 : 8; }
    static constexpr unsigned byte_shift_high() noexcept { return little_endian() ? 8 : 0; }
    static std::uint64_t fold64(std::uint64_t sum, std::uint64_t carry) noexcept {
        // sum + carry * 2^64; 2^64 = 1 (mod 0xffff) in one's-complement arithmetic.
        std::uint64_t s = (sum & 0xffffffffu) + (sum >> 32) + carry;
        s = (s & 0xffffffffu) + (s >> 32);
        return s;
    }
    void add_word(std::uint64_t v) noexcept {
        m_sum += v;
        if (m_sum >= (std::uint64_t{1} << 48)) m_sum = (m_sum & 0xffffffffffffu) + (m_sum >> 48);
    }
    std::uint64_t m_sum = 0;
    bool m_odd = false;
};

/// One-shot checksum of a buffer.
inline std::uint16_t internet_checksum(std::span<const std::byte> data) noexcept {
    Checksum c;
    c.add(data);
    return c.finish();
}

// ---- sequence numbers (RFC 9293 3.4: comparisons modulo 2^32) --------------------------------
using Seq = std::uint32_t;
constexpr std::int32_t seq_diff(Seq a, Seq b) noexcept { return static_cast<std::int32_t>(a - b); }
constexpr bool seq_lt(Seq a, Seq b) noexcept { return seq_diff(a, b) < 0; }
constexpr bool seq_le(Seq a, Seq b) noexcept { return seq_diff(a, b) <= 0; }
constexpr bool seq_gt(Seq a, Seq b) noexcept { return seq_diff(a, b) > 0; }
constexpr bool seq_ge(Seq a, Seq b) noexcept { return seq_diff(a, b) >= 0; }
constexpr Seq seq_max(Seq a, Seq b) noexcept { return seq_gt(a, b) ? a : b; }
constexpr Seq seq_min(Seq a, Seq b) noexcept { return seq_lt(a, b) ? a : b; }
/// lo <= s < hi (modulo 2^32).
constexpr bool seq_in(Seq s, Seq lo, Seq hi) noexcept { return seq_le(lo, s) && seq_lt(s, hi); }

}  // namespace litebox::net
