// A tiny tar writer for tests: builds ustar / GNU / v7 headers, pax and GNU long-name records, and
// lets a test corrupt any byte (then fix or keep the checksum) to exercise each rejection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace litebox::test::tar {

enum class Magic { posix, gnu, v7 };

struct HeaderSpec {
    std::string name;
    char type = '0';
    std::uint32_t mode = 0644;
    std::uint64_t uid = 1000;
    std::uint64_t gid = 1000;
    std::int64_t mtime = 1'700'000'000;
    std::string linkname;
    std::string prefix;
    std::uint64_t size = 0;
    std::uint32_t devmajor = 0;
    std::uint32_t devminor = 0;
    Magic magic = Magic::posix;
    bool base256_size = false;
    bool base256_mtime = false;
    bool base256_uid = false;
};

class TarWriter {
public:
    /// Writes a header block; returns its offset.
    std::size_t header(const HeaderSpec& h) {
        const std::size_t at = m_bytes.size();
        m_bytes.resize(at + 512);
        put_string(at + 0, 100, h.name);
        put_octal(at + 100, 8, h.mode);
        if (h.base256_uid)
            put_base256(at + 108, 8, static_cast<std::int64_t>(h.uid));
        else
            put_octal(at + 108, 8, h.uid);
        put_octal(at + 116, 8, h.gid);
        if (h.base256_size)
            put_base256(at + 124, 12, static_cast<std::int64_t>(h.size));
        else
            put_octal(at + 124, 12, h.size);
        if (h.base256_mtime)
            put_base256(at + 136, 12, h.mtime);
        else
            put_octal(at + 136, 12, static_cast<std::uint64_t>(h.mtime));
        m_bytes[at + 156] = static_cast<std::byte>(h.type);
        put_string(at + 157, 100, h.linkname);
        if (h.magic == Magic::posix) {
            put_raw(at + 257, std::string_view("ustar\0" "00", 8));
        } else if (h.magic == Magic::gnu) {
            put_raw(at + 257, std::string_view("ustar  \0", 8));
        }
        if (h.magic != Magic::v7) {
            put_string(at + 265, 32, "user");
            put_string(at + 297, 32, "group");
            put_octal(at + 329, 8, h.devmajor);
            put_octal(at + 337, 8, h.devminor);
        }
        if (h.magic == Magic::posix) put_string(at + 345, 155, h.prefix);
        fix_checksum(at);
        return at;
    }

    /// Appends data and pads it to a whole block.
    void data(std::string_view contents) {
        const std::size_t at = m_bytes.size();
        m_bytes.resize(at + (contents.size() + 511) / 512 * 512);
        std::memcpy(m_bytes.data() + at, contents.data(), contents.size());
    }

    std::size_t file(const std::string& name, std::string_view contents, std::uint32_t mode = 0644) {
        HeaderSpec h;
        h.name = name;
        h.mode = mode;
        h.size = contents.size();
        const auto at = header(h);
        data(contents);
        return at;
    }
    std::size_t dir(const std::string& name, std::uint32_t mode = 0755) {
        HeaderSpec h;
        h.name = name;
        h.type = '5';
        h.mode = mode;
        return header(h);
    }
    std::size_t symlink(const std::string& name, const std::string& target) {
        HeaderSpec h;
        h.name = name;
        h.type = '2';
        h.mode = 0777;
        h.linkname = target;
        return header(h);
    }
    std::size_t hardlink(const std::string& name, const std::string& target) {
        HeaderSpec h;
        h.name = name;
        h.type = '1';
        h.linkname = target;
        return header(h);
    }

    /// A pax extended header ('x' or 'g') with the given records, lengths computed.
    std::size_t pax(char type, const std::vector<std::pair<std::string, std::string>>& records) {
        std::string body;
        for (const auto& [key, value] : records) body += pax_record(key, value);
        return metadata(type, body, "PaxHeaders/x");
    }
    static std::string pax_record(const std::string& key, const std::string& value) {
        const std::string rest = " " + key + "=" + value + "\n";
        std::size_t length = rest.size() + 1;
        while (std::to_string(length).size() + rest.size() != length) ++length;
        return std::to_string(length) + rest;
    }
    /// A metadata record ('L', 'K', 'x', 'g') carrying `body` verbatim.
    std::size_t metadata(char type, std::string_view body, const std::string& name = "././@LongLink") {
        HeaderSpec h;
        h.name = name;
        h.type = type;
        h.size = body.size();
        h.magic = (type == 'L' || type == 'K') ? Magic::gnu : Magic::posix;
        const auto at = header(h);
        data(body);
        return at;
    }
    /// A GNU long name (with its trailing NUL, as GNU tar writes it).
    std::size_t gnu_long(char type, const std::string& name) { return metadata(type, name + std::string(1, '\0')); }

    void end() { m_bytes.resize(m_bytes.size() + 1024); }

    void fix_checksum(std::size_t at) {
        std::memset(m_bytes.data() + at + 148, ' ', 8);
        unsigned sum = 0;
        for (std::size_t i = 0; i < 512; ++i) sum += static_cast<unsigned char>(m_bytes[at + i]);
        char text[8];
        std::snprintf(text, sizeof text, "%06o", sum);
        std::memcpy(m_bytes.data() + at + 148, text, 7);  // six digits, NUL, then the space stays
    }
    /// Stores the signed-char sum, as some historic tars did.
    void fix_checksum_signed(std::size_t at) {
        std::memset(m_bytes.data() + at + 148, ' ', 8);
        int sum = 0;
        for (std::size_t i = 0; i < 512; ++i) sum += static_cast<signed char>(m_bytes[at + i]);
        char text[8];
        std::snprintf(text, sizeof text, "%06o", static_cast<unsigned>(sum));
        std::memcpy(m_bytes.data() + at + 148, text, 7);
    }

    void put_raw(std::size_t at, std::string_view bytes) { std::memcpy(m_bytes.data() + at, bytes.data(), bytes.size()); }

    std::vector<std::byte>& bytes() noexcept { return m_bytes; }
    [[nodiscard]] std::span<const std::byte> span() const noexcept { return m_bytes; }

private:
    void put_string(std::size_t at, std::size_t width, std::string_view s) {
        std::memcpy(m_bytes.data() + at, s.data(), std::min(width, s.size()));
    }
    void put_octal(std::size_t at, std::size_t width, std::uint64_t value) {
        std::string digits(width - 1, '0');
        for (std::size_t i = width - 1; i-- > 0 && value != 0;) {
            digits[i] = static_cast<char>('0' + (value & 7));
            value >>= 3;
        }
        put_string(at, width - 1, digits);
    }
    void put_base256(std::size_t at, std::size_t width, std::int64_t value) {
        auto v = static_cast<std::uint64_t>(value);
        for (std::size_t i = width; i-- > 1;) {
            m_bytes[at + i] = static_cast<std::byte>(v & 0xff);
            v = value < 0 ? (v >> 8) | (0xffull << 56) : v >> 8;
        }
        m_bytes[at] = value < 0 ? std::byte{0xff} : std::byte{0x80};
    }

    std::vector<std::byte> m_bytes;
};

}  // namespace litebox::test::tar
