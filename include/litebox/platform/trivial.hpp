// Ready-made providers that many platforms share: host-memory guest pointers, a deny-all
// punchthrough and a no-network IP interface. A platform inherits the ones it wants.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "../error.hpp"
#include "punchthrough.hpp"

namespace litebox::platform {

namespace detail {
/// address + offset * size, or nullopt on overflow.
constexpr std::optional<std::uintptr_t> element_address(std::uintptr_t base, std::size_t offset, std::size_t size) noexcept {
    if (size != 0 && offset > std::numeric_limits<std::uintptr_t>::max() / size) return std::nullopt;
    const std::uintptr_t delta = offset * size;
    if (delta > std::numeric_limits<std::uintptr_t>::max() - base) return std::nullopt;
    return base + delta;
}
/// Checks that [base + offset*size, + count*size) is non-null, aligned and does not wrap.
template <typename T>
constexpr std::optional<std::uintptr_t> checked_range(std::uintptr_t base, std::size_t offset, std::size_t count) noexcept {
    if (base == 0 || base % alignof(T) != 0) return std::nullopt;
    const auto start = element_address(base, offset, sizeof(T));
    if (!start) return std::nullopt;
    if (!element_address(*start, count, sizeof(T))) return std::nullopt;
    return start;
}
}  // namespace detail

/// A guest pointer into this process's own memory (for in-process guests and tests).
/// Null, misaligned and overflowing accesses fail with Errno::fault. It cannot know whether the
/// memory is mapped: a runtime that hands such pointers to the library vouches for the buffers.
template <typename T>
class HostConstPtr {
    static_assert(std::is_trivially_copyable_v<T>, "guest pointers carry trivially copyable types only");

public:
    constexpr HostConstPtr() noexcept = default;
    constexpr explicit HostConstPtr(std::uintptr_t address) noexcept : m_address(address) {}
    explicit HostConstPtr(const T* pointer) noexcept : m_address(reinterpret_cast<std::uintptr_t>(pointer)) {}

    [[nodiscard]] constexpr std::uintptr_t address() const noexcept { return m_address; }

    [[nodiscard]] Result<T> read_at_offset(std::size_t offset) const noexcept {
        const auto at = detail::checked_range<T>(m_address, offset, 1);
        if (!at) return Errno::fault;
        T value;
        std::memcpy(static_cast<void*>(&value), reinterpret_cast<const void*>(*at), sizeof(T));
        return value;
    }
    [[nodiscard]] Result<void> read_into(std::size_t offset, std::span<T> out) const noexcept {
        if (out.empty()) return ok();
        const auto at = detail::checked_range<T>(m_address, offset, out.size());
        if (!at) return Errno::fault;
        std::memcpy(static_cast<void*>(out.data()), reinterpret_cast<const void*>(*at), out.size_bytes());
        return ok();
    }
    [[nodiscard]] Result<std::vector<T>> to_owned_slice(std::size_t length) const {
        if (length == 0) return std::vector<T>{};
        const auto at = detail::checked_range<T>(m_address, 0, length);
        if (!at) return Errno::fault;
        std::vector<T> out(length);
        std::memcpy(static_cast<void*>(out.data()), reinterpret_cast<const void*>(*at), length * sizeof(T));
        return out;
    }
    [[nodiscard]] Result<std::string> to_cstring(std::size_t max) const
        requires(sizeof(T) == 1)
    {
        if (m_address == 0) return Errno::fault;
        const auto* bytes = reinterpret_cast<const char*>(m_address);
        for (std::size_t i = 0; i < max; ++i) {
            if (!detail::element_address(m_address, i, 1)) return Errno::fault;
            if (bytes[i] == '\0') return std::string(bytes, i);
        }
        return Errno::nametoolong;
    }

protected:
    std::uintptr_t m_address = 0;
};

/// A writable guest pointer into this process's own memory.
template <typename T>
class HostMutPtr : public HostConstPtr<T> {
public:
    using HostConstPtr<T>::HostConstPtr;
    explicit HostMutPtr(T* pointer) noexcept : HostConstPtr<T>(reinterpret_cast<std::uintptr_t>(pointer)) {}

    [[nodiscard]] Result<void> write_at_offset(std::size_t offset, const T& value) const noexcept {
        const auto at = detail::checked_range<T>(this->m_address, offset, 1);
        if (!at) return Errno::fault;
        std::memcpy(reinterpret_cast<void*>(*at), static_cast<const void*>(&value), sizeof(T));
        return ok();
    }
    [[nodiscard]] Result<void> copy_from(std::size_t offset, std::span<const T> in) const noexcept {
        if (in.empty()) return ok();
        const auto at = detail::checked_range<T>(this->m_address, offset, in.size());
        if (!at) return Errno::fault;
        std::memmove(reinterpret_cast<void*>(*at), static_cast<const void*>(in.data()), in.size_bytes());
        return ok();
    }
};

/// Mix-in: guest pointers are host pointers.
struct HostMemoryPointers {
    template <typename T>
    using ConstPtr = HostConstPtr<T>;
    template <typename T>
    using MutPtr = HostMutPtr<T>;
};

/// The token type of a platform that grants nothing; never handed out.
struct NoPunchthroughToken {
    PunchthroughResult<NoPunchthrough::Success, NoPunchthrough::Failure> execute() && {
        return PunchthroughError<NoPunchthrough::Failure>::unsupported();
    }
};

/// Mix-in: every punchthrough request is denied.
struct DenyAllPunchthrough {
    using Punchthrough = NoPunchthrough;
    using PunchthroughToken = NoPunchthroughToken;
    std::optional<NoPunchthroughToken> get_punchthrough_token_for(NoPunchthrough /*request*/) const noexcept {
        return std::nullopt;
    }
};

/// Mix-in: no network. Sending fails with ENETUNREACH; nothing is ever received.
struct NoNetwork {
    Result<void> send_ip_packet(std::span<const std::byte> /*packet*/) const noexcept { return Errno::netunreach; }
    Result<std::size_t> receive_ip_packet(std::span<std::byte> /*buffer*/) const noexcept { return Errno::again; }
};

}  // namespace litebox::platform
