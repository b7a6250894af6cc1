// GuestMemoryPlatform: the TestPlatform (virtual clock, captured log) whose guest memory is a
// SIMULATED address space: a byte array at a fake base address with page-granular holes and
// read-only pages. Its ConstPtr/MutPtr translate guest addresses into that array and fail with
// EFAULT for holes, read-only pages (on write) and anything out of range — so shim tests exercise
// real EFAULT paths without touching host memory.
#pragma once

#include <litebox/litebox.hpp>

#include <cstring>
#include <mutex>
#include <string_view>
#include <vector>

#include "test_platform.hpp"

namespace litebox::test {

class GuestAddressSpace {
public:
    static constexpr std::uintptr_t base = 0x10000000;
    static constexpr std::size_t page_size = 4096;
    static constexpr std::size_t size = 1u << 20;

    static GuestAddressSpace& instance() {
        static GuestAddressSpace space;
        return space;
    }

    /// Everything mapped read-write and zeroed; the bump allocator restarts.
    void reset() {
        std::lock_guard lock(m_mutex);
        m_bytes.assign(size, std::byte{0});
        m_pages.assign(size / page_size, Page::read_write);
        m_next = base;
    }
    /// Marks whole pages covering [address, address+length) as holes.
    void unmap(std::uintptr_t address, std::size_t length) { set(address, length, Page::unmapped); }
    void protect_read_only(std::uintptr_t address, std::size_t length) { set(address, length, Page::read_only); }
    /// Returns a page-aligned hole (an address that always faults).
    std::uintptr_t hole() {
        const std::uintptr_t at = allocate(page_size, page_size);
        unmap(at, page_size);
        return at;
    }
    /// A fresh zeroed region (test-side allocation, never freed until reset()).
    std::uintptr_t allocate(std::size_t length, std::size_t align = 16) {
        std::lock_guard lock(m_mutex);
        m_next = (m_next + align - 1) / align * align;
        const std::uintptr_t at = m_next;
        m_next += length;
        return at;
    }

    litebox::Result<void> read(std::uintptr_t address, void* out, std::size_t length) {
        std::lock_guard lock(m_mutex);
        if (!accessible(address, length, false)) return litebox::Errno::fault;
        std::memcpy(out, m_bytes.data() + (address - base), length);
        return litebox::ok();
    }
    litebox::Result<void> write(std::uintptr_t address, const void* in, std::size_t length) {
        std::lock_guard lock(m_mutex);
        if (!accessible(address, length, true)) return litebox::Errno::fault;
        std::memmove(m_bytes.data() + (address - base), in, length);
        return litebox::ok();
    }

    // ---- test-side helpers (bypass protections) -------------------------------------------
    template <typename T>
    void put(std::uintptr_t address, const T& value) {
        std::lock_guard lock(m_mutex);
        std::memcpy(m_bytes.data() + (address - base), &value, sizeof(T));
    }
    template <typename T>
    T get(std::uintptr_t address) {
        std::lock_guard lock(m_mutex);
        T value;
        std::memcpy(&value, m_bytes.data() + (address - base), sizeof(T));
        return value;
    }
    std::uintptr_t put_string(std::string_view text) {
        const std::uintptr_t at = allocate(text.size() + 1, 1);
        std::lock_guard lock(m_mutex);
        std::memcpy(m_bytes.data() + (at - base), text.data(), text.size());
        m_bytes[at - base + text.size()] = std::byte{0};
        return at;
    }
    std::vector<std::byte> bytes(std::uintptr_t address, std::size_t length) {
        std::lock_guard lock(m_mutex);
        return std::vector<std::byte>(m_bytes.begin() + static_cast<std::ptrdiff_t>(address - base),
                                      m_bytes.begin() + static_cast<std::ptrdiff_t>(address - base + length));
    }
    /// Fills the whole space with `pattern`, repeated (for the fuzzer).
    void fill(std::span<const std::uint8_t> pattern) {
        std::lock_guard lock(m_mutex);
        if (pattern.empty()) return;
        std::size_t done = std::min(pattern.size(), m_bytes.size());
        std::memcpy(m_bytes.data(), pattern.data(), done);
        while (done < m_bytes.size()) {  // repeat by doubling
            const std::size_t n = std::min(done, m_bytes.size() - done);
            std::memcpy(m_bytes.data() + done, m_bytes.data(), n);
            done += n;
        }
    }

private:
    enum class Page : std::uint8_t { unmapped, read_only, read_write };
    GuestAddressSpace() { reset(); }

    bool accessible(std::uintptr_t address, std::size_t length, bool writing) const {
        if (address < base || address - base > size || length > size - (address - base)) return false;
        if (length == 0) return true;
        for (std::size_t page = (address - base) / page_size; page <= (address - base + length - 1) / page_size; ++page) {
            if (m_pages[page] == Page::unmapped || (writing && m_pages[page] == Page::read_only)) return false;
        }
        return true;
    }
    void set(std::uintptr_t address, std::size_t length, Page state) {
        std::lock_guard lock(m_mutex);
        for (std::size_t page = (address - base) / page_size; page <= (address - base + length - 1) / page_size && page < m_pages.size(); ++page)
            m_pages[page] = state;
    }

    std::mutex m_mutex;
    std::vector<std::byte> m_bytes;
    std::vector<Page> m_pages;
    std::uintptr_t m_next = base;
};

/// A guest pointer into the simulated address space.
template <typename T>
class SimulatedConstPtr {
public:
    SimulatedConstPtr() = default;
    explicit SimulatedConstPtr(std::uintptr_t address) noexcept : m_address(address) {}
    [[nodiscard]] std::uintptr_t address() const noexcept { return m_address; }

    litebox::Result<T> read_at_offset(std::size_t offset) const {
        const auto at = litebox::platform::detail::element_address(m_address, offset, sizeof(T));
        if (!at) return litebox::Errno::fault;
        T value;
        LITEBOX_TRY(GuestAddressSpace::instance().read(*at, &value, sizeof(T)));
        return value;
    }
    litebox::Result<void> read_into(std::size_t offset, std::span<T> out) const {
        if (out.empty()) return litebox::ok();
        const auto at = litebox::platform::detail::element_address(m_address, offset, sizeof(T));
        if (!at || !litebox::platform::detail::element_address(*at, out.size(), sizeof(T))) return litebox::Errno::fault;
        return GuestAddressSpace::instance().read(*at, out.data(), out.size_bytes());
    }
    litebox::Result<std::vector<T>> to_owned_slice(std::size_t length) const {
        if (length > GuestAddressSpace::size) return litebox::Errno::fault;
        std::vector<T> out(length);
        LITEBOX_TRY(read_into(0, out));
        return out;
    }
    litebox::Result<std::string> to_cstring(std::size_t max) const requires(sizeof(T) == 1) {
        std::string out;
        for (std::size_t i = 0; i < max; ++i) {
            const auto at = litebox::platform::detail::element_address(m_address, i, 1);
            if (!at) return litebox::Errno::fault;
            char c;
            LITEBOX_TRY(GuestAddressSpace::instance().read(*at, &c, 1));
            if (c == '\0') return out;
            out.push_back(c);
        }
        return litebox::Errno::nametoolong;
    }

protected:
    std::uintptr_t m_address = 0;
};

template <typename T>
class SimulatedMutPtr : public SimulatedConstPtr<T> {
public:
    using SimulatedConstPtr<T>::SimulatedConstPtr;
    litebox::Result<void> write_at_offset(std::size_t offset, const T& value) const {
        const auto at = litebox::platform::detail::element_address(this->m_address, offset, sizeof(T));
        if (!at) return litebox::Errno::fault;
        return GuestAddressSpace::instance().write(*at, &value, sizeof(T));
    }
    litebox::Result<void> copy_from(std::size_t offset, std::span<const T> in) const {
        if (in.empty()) return litebox::ok();
        const auto at = litebox::platform::detail::element_address(this->m_address, offset, sizeof(T));
        if (!at || !litebox::platform::detail::element_address(*at, in.size(), sizeof(T))) return litebox::Errno::fault;
        return GuestAddressSpace::instance().write(*at, in.data(), in.size_bytes());
    }
};

/// TestPlatform with simulated guest memory; `WithCrng` adds a deterministic CrngProvider.
template <bool WithCrng>
class BasicGuestMemoryPlatform : public TestPlatform {
public:
    template <typename T>
    using ConstPtr = SimulatedConstPtr<T>;
    template <typename T>
    using MutPtr = SimulatedMutPtr<T>;

    litebox::Result<void> fill_random_bytes(std::span<std::byte> out) const requires WithCrng {
        for (auto& b : out) {
            m_state ^= m_state << 13, m_state ^= m_state >> 7, m_state ^= m_state << 17;
            b = static_cast<std::byte>(m_state);
        }
        return litebox::ok();
    }

private:
    mutable std::uint64_t m_state = 0x9e3779b97f4a7c15ull;
};

using GuestMemoryPlatform = BasicGuestMemoryPlatform<true>;
using GuestMemoryPlatformWithoutCrng = BasicGuestMemoryPlatform<false>;

}  // namespace litebox::test
