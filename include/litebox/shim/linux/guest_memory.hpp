// Guest memory access for the shim: every guest buffer, struct and string goes through the
// platform's RawPointerProvider here, as bytes (so guest alignment never matters).
//
// Contract: each helper copies guest memory in once or out once; callers decode the copy and
// never read the guest again for a value they have checked. A range that is null, wraps, lies
// above the x86-64 user address limit or is refused by the platform fails with Errno::fault.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "../../error.hpp"
#include "../../platform/concepts.hpp"
#include "abi.hpp"
#include "constants.hpp"

namespace litebox::shim::linux_abi {

/// The end of x86-64 user space (TASK_SIZE_MAX): no guest buffer reaches at or above it.
inline constexpr std::uint64_t user_address_limit = 0x00007ffffffff000ull;

/// access_ok(): [address, address + size) lies inside user space.
constexpr bool user_range_ok(std::uint64_t address, std::uint64_t size) noexcept {
    return size <= user_address_limit && address <= user_address_limit - size;
}

template <platform::RawPointerProvider P>
struct Guest {
    using ConstBytes = typename P::template ConstPtr<std::uint8_t>;
    using MutBytes = typename P::template MutPtr<std::uint8_t>;

    /// Copies `out.size()` bytes in from `address`.
    static Result<void> read_bytes(std::uintptr_t address, std::span<std::byte> out) {
        if (out.empty()) return ok();
        if (!user_range_ok(address, out.size())) return Errno::fault;
        return ConstBytes(address).read_into(0, std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(out.data()), out.size()));
    }
    /// Copies `in` out to `address`.
    static Result<void> write_bytes(std::uintptr_t address, std::span<const std::byte> in) {
        if (in.empty()) return ok();
        if (!user_range_ok(address, in.size())) return Errno::fault;
        return MutBytes(address).copy_from(0, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(in.data()), in.size()));
    }
    /// Copies one trivially copyable T in.
    template <typename T>
    static Result<T> read(std::uintptr_t address) {
        static_assert(std::is_trivially_copyable_v<T>);
        T value;
        LITEBOX_TRY(read_bytes(address, std::as_writable_bytes(std::span<T, 1>(&value, 1))));
        return value;
    }
    /// Copies one trivially copyable T out.
    template <typename T>
    static Result<void> write(std::uintptr_t address, const T& value) {
        static_assert(std::is_trivially_copyable_v<T>);
        return write_bytes(address, std::as_bytes(std::span<const T, 1>(&value, 1)));
    }
    /// Writes `value` when `address` is not null (optional out-parameters).
    template <typename T>
    static Result<void> write_optional(std::uintptr_t address, const T& value) {
        if (address == 0) return ok();
        return write(address, value);
    }
    /// Copies `count` Ts in (callers bound `count` first).
    template <typename T>
    static Result<std::vector<T>> read_array(std::uintptr_t address, std::size_t count) {
        std::vector<T> out(count);
        if (count == 0) return out;
        if (count > user_address_limit / sizeof(T)) return Errno::fault;
        LITEBOX_TRY(read_bytes(address, std::as_writable_bytes(std::span<T>(out))));
        return out;
    }
    /// A NUL-terminated string of at most `max` bytes including the NUL; ENAMETOOLONG beyond.
    static Result<std::string> read_string(std::uintptr_t address, std::size_t max) {
        if (address == 0 || address >= user_address_limit) return Errno::fault;
        return typename P::template ConstPtr<char>(address).to_cstring(max);
    }
    /// A path argument: PATH_MAX bytes at most (ENAMETOOLONG), never re-read afterwards.
    static Result<std::string> read_path(std::uintptr_t address) { return read_string(address, abi::path_max); }

    /// An iovec array (readv, writev, sendmsg): at most IOV_MAX entries, every length and their
    /// sum at most SSIZE_MAX (EINVAL otherwise). Lengths are not clamped here.
    static Result<std::vector<abi::iovec>> read_iovecs(std::uintptr_t address, std::uint64_t count) {
        if (count > abi::iov_max) return Errno::inval;
        LITEBOX_TRY_ASSIGN(auto vectors, read_array<abi::iovec>(address, static_cast<std::size_t>(count)));
        std::uint64_t total = 0;
        constexpr std::uint64_t ssize_max = 0x7fffffffffffffffull;
        for (const auto& v : vectors) {
            if (v.iov_len > ssize_max - total) return Errno::inval;
            total += v.iov_len;
        }
        return vectors;
    }
};

/// Copies a string into a fixed char field (utsname), NUL-terminated and truncated to fit.
template <std::size_t N>
void copy_fixed_string(char (&field)[N], std::string_view text) noexcept {
    const std::size_t n = text.size() < N - 1 ? text.size() : N - 1;
    std::memcpy(field, text.data(), n);
    std::memset(field + n, 0, N - n);
}

}  // namespace litebox::shim::linux_abi
