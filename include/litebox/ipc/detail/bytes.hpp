// Bytes: the payload buffer of one queued socket message — a growable byte array whose storage
// is page-aligned once it reaches a page (like the kernel's socket buffers and pipe pages: a copy
// whose destination sits just above its source modulo 4 KiB runs many times slower on x86), and
// which keeps its capacity when cleared so that a connection can recycle it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <utility>

namespace litebox::ipc::detail {

class Bytes {
public:
    Bytes() = default;
    Bytes(Bytes&& other) noexcept
        : m_storage(std::exchange(other.m_storage, nullptr)), m_size(std::exchange(other.m_size, 0)),
          m_capacity(std::exchange(other.m_capacity, 0)) {}
    Bytes& operator=(Bytes&& other) noexcept {
        if (this != &other) {
            release();
            m_storage = std::exchange(other.m_storage, nullptr);
            m_size = std::exchange(other.m_size, 0);
            m_capacity = std::exchange(other.m_capacity, 0);
        }
        return *this;
    }
    Bytes(const Bytes&) = delete;
    Bytes& operator=(const Bytes&) = delete;
    ~Bytes() { release(); }

    [[nodiscard]] std::byte* data() noexcept { return m_storage; }
    [[nodiscard]] const std::byte* data() const noexcept { return m_storage; }
    [[nodiscard]] std::size_t size() const noexcept { return m_size; }
    [[nodiscard]] std::size_t capacity() const noexcept { return m_capacity; }
    [[nodiscard]] bool empty() const noexcept { return m_size == 0; }
    void clear() noexcept { m_size = 0; }

    /// Replaces the contents (reusing the storage when it is large enough).
    void assign(std::span<const std::byte> in) {
        m_size = 0;
        append(in);
    }
    /// Appends (growing the storage geometrically).
    void append(std::span<const std::byte> in) {
        if (in.empty()) return;
        if (m_capacity - m_size < in.size()) grow(std::max(m_size + in.size(), m_capacity * 2));
        std::memcpy(m_storage + m_size, in.data(), in.size());
        m_size += in.size();
    }

private:
    static constexpr std::size_t page = 4096;
    static std::size_t alignment_for(std::size_t capacity) noexcept { return capacity >= page ? page : alignof(std::max_align_t); }

    void grow(std::size_t capacity) {
        auto* fresh = static_cast<std::byte*>(::operator new(capacity, std::align_val_t{alignment_for(capacity)}));
        if (m_size > 0) std::memcpy(fresh, m_storage, m_size);
        release();
        m_storage = fresh;
        m_capacity = capacity;
    }
    void release() noexcept {
        if (m_storage != nullptr) ::operator delete(m_storage, std::align_val_t{alignment_for(m_capacity)});
        m_storage = nullptr;
        m_capacity = 0;
    }

    std::byte* m_storage = nullptr;
    std::size_t m_size = 0;
    std::size_t m_capacity = 0;
};

}  // namespace litebox::ipc::detail
