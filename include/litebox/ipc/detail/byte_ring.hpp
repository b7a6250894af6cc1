// ByteRing: a byte queue in one lazily allocated circular buffer (the storage of a pipe).
// Not thread-safe: its owner guards it with a lock.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <span>

namespace litebox::ipc::detail {

class ByteRing {
public:
    ByteRing() = default;
    ByteRing(const ByteRing&) = delete;
    ByteRing& operator=(const ByteRing&) = delete;

    [[nodiscard]] std::size_t size() const noexcept { return m_size; }
    [[nodiscard]] bool empty() const noexcept { return m_size == 0; }

    /// Appends `in`; the caller has checked that size() + in.size() <= `capacity`. The storage
    /// is allocated (at `capacity` bytes) on first use.
    void push(std::span<const std::byte> in, std::size_t capacity) {
        if (in.empty()) return;
        if (m_storage_size < capacity) relayout(capacity);
        std::size_t tail = (m_head + m_size) % m_storage_size;
        std::size_t first = std::min(in.size(), m_storage_size - tail);
        std::memcpy(m_storage.get() + tail, in.data(), first);
        if (first < in.size()) std::memcpy(m_storage.get(), in.data() + first, in.size() - first);
        m_size += in.size();
    }

    /// Copies up to out.size() bytes from the front; removes them unless `peek`.
    std::size_t pop(std::span<std::byte> out, bool peek = false) noexcept {
        const std::size_t n = std::min(out.size(), m_size);
        if (n == 0) return 0;
        const std::size_t first = std::min(n, m_storage_size - m_head);
        std::memcpy(out.data(), m_storage.get() + m_head, first);
        if (first < n) std::memcpy(out.data() + first, m_storage.get(), n - first);
        if (!peek) {
            m_head = (m_head + n) % m_storage_size;
            m_size -= n;
            if (m_size == 0) m_head = 0;
        }
        return n;
    }

    /// Removes up to `n` bytes from the front (after a peek).
    void drop(std::size_t n) noexcept {
        n = std::min(n, m_size);
        if (n == 0) return;
        m_head = (m_head + n) % m_storage_size;
        m_size -= n;
        if (m_size == 0) m_head = 0;
    }

    /// Moves the contents into storage of exactly `capacity` bytes (capacity >= size()); frees the
    /// storage when `capacity` is 0 and the ring is empty.
    void relayout(std::size_t capacity) {
        if (capacity == 0) {
            m_storage.reset();
            m_storage_size = m_head = 0;
            return;
        }
        // Page-aligned storage, like the kernel's pipe pages: a copy whose destination sits just
        // above its source modulo 4 KiB runs many times slower on x86 ("4K aliasing").
        Storage fresh(new (std::align_val_t{storage_alignment}) std::byte[capacity]);
        const std::size_t n = m_size;
        if (n > 0) (void)pop(std::span<std::byte>(fresh.get(), n));
        m_storage = std::move(fresh);
        m_storage_size = capacity;
        m_head = 0;
        m_size = n;
    }

    void clear() noexcept { m_head = m_size = 0; }

private:
    static constexpr std::size_t storage_alignment = 4096;
    struct AlignedDelete {
        void operator()(std::byte* p) const noexcept { ::operator delete[](p, std::align_val_t{storage_alignment}); }
    };
    using Storage = std::unique_ptr<std::byte[], AlignedDelete>;

    Storage m_storage;
    std::size_t m_storage_size = 0;
    std::size_t m_head = 0;
    std::size_t m_size = 0;
};

}  // namespace litebox::ipc::detail
