// The tar on-disk format: the 512-byte header layout, numeric fields (octal and GNU base-256),
// header checksums, and pax extended-header records. Pure functions over bytes; no allocation
// except where a caller asks for a string. Every function validates its input and reports failure
// as a value: malformed input is the normal case here, not an exception.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string_view>

namespace litebox::fs::tar::detail {

inline constexpr std::size_t block_size = 512;

/// Field offsets and lengths of a ustar header (POSIX.1-1988, plus GNU's use of the same block).
struct Field {
    std::size_t offset;
    std::size_t length;
};
inline constexpr Field field_name{0, 100};
inline constexpr Field field_mode{100, 8};
inline constexpr Field field_uid{108, 8};
inline constexpr Field field_gid{116, 8};
inline constexpr Field field_size{124, 12};
inline constexpr Field field_mtime{136, 12};
inline constexpr Field field_checksum{148, 8};
inline constexpr Field field_typeflag{156, 1};
inline constexpr Field field_linkname{157, 100};
inline constexpr Field field_magic{257, 6};
inline constexpr Field field_version{263, 2};
inline constexpr Field field_devmajor{329, 8};
inline constexpr Field field_devminor{337, 8};
inline constexpr Field field_prefix{345, 155};

using Block = std::span<const std::byte, block_size>;

inline std::string_view field_bytes(Block block, Field f) noexcept {
    return {reinterpret_cast<const char*>(block.data()) + f.offset, f.length};
}

/// A NUL-terminated (or full-width) string field: the bytes before the first NUL.
inline std::string_view string_field(Block block, Field f) noexcept {
    const std::string_view raw = field_bytes(block, f);
    const auto nul = raw.find('\0');
    return nul == std::string_view::npos ? raw : raw.substr(0, nul);
}

inline bool is_zero_block(Block block) noexcept {
    for (std::byte b : block)
        if (b != std::byte{0}) return false;
    return true;
}

/// Which header dialect a block uses (from its magic and version fields).
enum class Dialect { v7, posix_ustar, gnu };

inline Dialect dialect_of(Block block) noexcept {
    const std::string_view magic = field_bytes(block, field_magic);
    const std::string_view version = field_bytes(block, field_version);
    if (magic == std::string_view("ustar\0", 6)) return Dialect::posix_ustar;  // version "00" (or sloppy)
    if (magic == "ustar " && version == std::string_view(" \0", 2)) return Dialect::gnu;
    return Dialect::v7;
}

/// Why a numeric field did not parse.
enum class NumberError { none, syntax, overflow, negative };

/// A signed numeric field: octal digits (leading spaces allowed, ended by NUL or space, only
/// NUL/space after that), or GNU base-256 (first byte's high bit set; bit 6 is the sign, the
/// remaining bits are a big-endian two's-complement number). An empty field is 0.
inline NumberError parse_number(std::string_view field, std::int64_t& out) noexcept {
    if (field.empty()) {
        out = 0;
        return NumberError::none;
    }
    const auto first = static_cast<unsigned char>(field[0]);
    if (first & 0x80u) {
        const unsigned seven = first & 0x7fu;
        std::int64_t value = seven >= 64 ? static_cast<std::int64_t>(seven) - 128 : static_cast<std::int64_t>(seven);
        constexpr std::int64_t high = std::numeric_limits<std::int64_t>::max() >> 8;
        constexpr std::int64_t low = std::numeric_limits<std::int64_t>::min() >> 8;
        for (std::size_t i = 1; i < field.size(); ++i) {
            if (value > high || value < low) return NumberError::overflow;
            value = value * 256 + static_cast<unsigned char>(field[i]);
        }
        out = value;
        return NumberError::none;
    }
    std::size_t i = 0;
    while (i < field.size() && field[i] == ' ') ++i;
    std::uint64_t value = 0;
    bool any_digit = false;
    for (; i < field.size(); ++i) {
        const char c = field[i];
        if (c < '0' || c > '7') break;
        if (value > (std::numeric_limits<std::uint64_t>::max() >> 3)) return NumberError::overflow;
        value = value * 8 + static_cast<std::uint64_t>(c - '0');
        any_digit = true;
    }
    for (; i < field.size(); ++i)
        if (field[i] != ' ' && field[i] != '\0') return NumberError::syntax;
    (void)any_digit;  // an all-blank field is 0, as GNU tar and libarchive read it
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return NumberError::overflow;
    out = static_cast<std::int64_t>(value);
    return NumberError::none;
}

/// An unsigned numeric field no larger than `max`.
inline NumberError parse_unsigned(std::string_view field, std::uint64_t max, std::uint64_t& out) noexcept {
    std::int64_t value = 0;
    if (const auto e = parse_number(field, value); e != NumberError::none) return e;
    if (value < 0) return NumberError::negative;
    if (static_cast<std::uint64_t>(value) > max) return NumberError::overflow;
    out = static_cast<std::uint64_t>(value);
    return NumberError::none;
}

/// Verifies a header checksum as tar does: the field holds the sum of all 512 bytes with the
/// checksum field itself counted as spaces; historic writers summed signed chars, so either the
/// unsigned or the signed sum is accepted. False also when the field is not an octal number.
inline bool checksum_matches(Block block) noexcept {
    std::uint64_t stored = 0;
    if (parse_unsigned(field_bytes(block, field_checksum), 0777777777u, stored) != NumberError::none) return false;
    // One branch-free pass the compiler vectorizes (it was a visible part of litebox-run's start):
    // the unsigned sum and the number of bytes >= 128, each of which a signed sum counts 256 lower.
    std::uint32_t unsigned_sum = 0;
    std::uint32_t high_bytes = 0;
    for (std::size_t i = 0; i < block_size; ++i) {
        const auto byte = static_cast<unsigned char>(block[i]);
        unsigned_sum += byte;
        high_bytes += byte >> 7;
    }
    for (std::size_t i = field_checksum.offset; i < field_checksum.offset + field_checksum.length; ++i) {
        const auto byte = static_cast<unsigned char>(block[i]);  // the field counts as spaces
        unsigned_sum = unsigned_sum - byte + static_cast<unsigned char>(' ');
        high_bytes -= byte >> 7;
    }
    const auto as_unsigned = static_cast<std::int64_t>(unsigned_sum);
    const std::int64_t as_signed = as_unsigned - 256 * static_cast<std::int64_t>(high_bytes);
    return static_cast<std::int64_t>(stored) == as_unsigned || static_cast<std::int64_t>(stored) == as_signed;
}

/// A decimal unsigned number that is the whole of `text` (pax size/uid/gid values).
inline bool parse_decimal(std::string_view text, std::uint64_t max, std::uint64_t& out) noexcept {
    if (text.empty()) return false;
    std::uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (max - digit) / 10) return false;
        value = value * 10 + digit;
    }
    out = value;
    return true;
}

/// A pax time value: [-]seconds[.fraction]. Fraction digits past nanoseconds are dropped.
inline bool parse_pax_time(std::string_view text, std::int64_t& seconds, std::uint32_t& nanoseconds) noexcept {
    bool negative = false;
    if (!text.empty() && text[0] == '-') {
        negative = true;
        text.remove_prefix(1);
    }
    const auto dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    std::uint64_t magnitude = 0;
    if (!parse_decimal(whole, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) - 1, magnitude))
        return false;
    std::uint32_t fraction = 0;
    if (dot != std::string_view::npos) {
        const std::string_view digits = text.substr(dot + 1);
        if (digits.empty()) return false;
        std::uint32_t scale = 100'000'000;
        for (char c : digits) {
            if (c < '0' || c > '9') return false;
            fraction += static_cast<std::uint32_t>(c - '0') * scale;
            scale /= 10;
        }
    }
    auto s = static_cast<std::int64_t>(magnitude);
    if (negative) {
        s = -s;
        if (fraction != 0) {
            s -= 1;
            fraction = 1'000'000'000u - fraction;
        }
    }
    seconds = s;
    nanoseconds = fraction;
    return true;
}

/// One "LEN KEY=VALUE\n" record of a pax extended header.
struct PaxRecord {
    std::string_view key;
    std::string_view value;
};

/// Splits pax extended-header data into records, calling `on_record(PaxRecord)` for each, which
/// returns false to stop. Returns false when the data is malformed: a length that is not decimal,
/// too small or past the end, a record not ended by a newline, or one without "key=". NUL padding
/// after the last record is tolerated.
template <typename OnRecord>
bool for_each_pax_record(std::string_view data, OnRecord&& on_record) {
    while (!data.empty()) {
        if (data.find_first_not_of('\0') == std::string_view::npos) return true;
        const auto space = data.find(' ');
        if (space == std::string_view::npos || space == 0 || space > 20) return false;
        std::uint64_t length = 0;
        if (!parse_decimal(data.substr(0, space), data.size(), length)) return false;
        if (length < space + 3 || length > data.size()) return false;  // "N k=\n" at least
        const std::string_view record = data.substr(0, static_cast<std::size_t>(length));
        if (record.back() != '\n') return false;
        const std::string_view body = record.substr(space + 1, record.size() - space - 2);
        const auto equals = body.find('=');
        if (equals == std::string_view::npos || equals == 0) return false;
        if (!on_record(PaxRecord{body.substr(0, equals), body.substr(equals + 1)})) return true;
        data.remove_prefix(static_cast<std::size_t>(length));
    }
    return true;
}

/// Rounds a data size up to whole blocks, or nullopt on overflow.
constexpr std::optional<std::uint64_t> padded_size(std::uint64_t size) noexcept {
    if (size > std::numeric_limits<std::uint64_t>::max() - (block_size - 1)) return std::nullopt;
    return (size + block_size - 1) / block_size * block_size;
}

}  // namespace litebox::fs::tar::detail
