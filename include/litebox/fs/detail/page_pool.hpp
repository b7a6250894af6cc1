// PagePool: where a tmpfs instance keeps its file pages (tmpfs_page_size bytes each).
//
// Pages come from slabs the pool takes in one piece -- from the platform when it is a
// PageMemoryProvider, else from operator new. The first slab is small (64 KiB) and each new one is
// as large as all the slabs mapped so far, up to 2 MiB: a tmpfs that holds a few small files costs
// little, while a large file's pages come from 2 MiB slabs that the Linux platform backs with
// transparent huge pages (one fault and one zeroing per 2 MiB instead of a fault per 4 KiB page --
// the cost that dominated writing a large file). A freed page goes back to its slab and is reused
// before any new slab is mapped; a slab whose pages are all free is returned to the host, except
// one spare (besides the slab in use) kept so that a create/delete cycle does not map and unmap a
// slab every time.
//
// Host memory bound: a new slab is mapped only when every mapped slab is full, and it is at most
// 2 MiB, so the mapped total never exceeds the most pages ever live at once plus 2 MiB -- for a
// tmpfs, its byte quota plus 2 MiB. Freed pages inside a partly used slab stay resident (they are
// reused first); the pool does not hand memory back page by page.
//
// Thread-safe (its own lock: while holding it the pool takes no other lock; it may call the
// platform's map_pages/unmap_pages or operator new/delete). Pages must be released to
// the pool that allocated them, before the pool is destroyed; the destructor unmaps every slab.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <new>
#include <vector>

#include "../../platform/concepts.hpp"
#include "../../sync/mutex.hpp"

namespace litebox::fs::detail {

inline constexpr std::size_t pool_page_size = 4096;
inline constexpr std::size_t pool_first_slab_bytes = 64 * 1024;
inline constexpr std::size_t pool_huge_slab_bytes = 2 * 1024 * 1024;

template <platform::RawMutexProvider P>
class PagePool {
public:
    explicit PagePool(const P& host) noexcept : m_host(host) {}
    PagePool(const PagePool&) = delete;
    PagePool& operator=(const PagePool&) = delete;
    ~PagePool() {
        auto state = m_state.lock();
        for (auto& [key, slab] : state->slabs) unmap_slab(m_host, slab.base, slab.bytes());
    }

    /// One page (content unspecified: a reused page holds old data), or nullptr when the host has
    /// no memory.
    std::byte* allocate() noexcept {
        auto state = m_state.lock();
        Slab* slab = state->current;
        if (slab == nullptr || !slab->has_room()) slab = state->take_slab_with_room();
        if (slab == nullptr) slab = state->map_new_slab(m_host);
        if (slab == nullptr) return nullptr;
        state->current = slab;
        if (slab->live == 0) --state->empty_slabs;
        ++slab->live;
        ++state->live;
        if (!slab->free.empty()) {
            const std::uint32_t index = slab->free.back();
            slab->free.pop_back();
            return slab->base + std::size_t{index} * pool_page_size;
        }
        return slab->base + std::size_t{slab->bump++} * pool_page_size;
    }

    /// Gives `page` (from allocate(), not yet released) back.
    void release(std::byte* page) noexcept {
        if (page == nullptr) return;
        auto state = m_state.lock();
        auto it = state->slabs.upper_bound(reinterpret_cast<std::uintptr_t>(page));
        if (it == state->slabs.begin()) return;  // not ours: a caller bug; never unmap blindly
        --it;
        Slab& slab = it->second;
        const auto offset = static_cast<std::size_t>(page - slab.base);
        if (offset >= slab.bytes() || offset % pool_page_size != 0 || slab.live == 0) return;
        const bool was_full = !slab.has_room();
        slab.free.push_back(static_cast<std::uint32_t>(offset / pool_page_size));  // reserved: no throw
        --slab.live;
        --state->live;
        if (slab.live == 0) {
            if (state->empty_slabs >= 1 && &slab != state->current) {
                state->unmap(m_host, it);
                return;
            }
            ++state->empty_slabs;
        }
        if (was_full && &slab != state->current) state->queue(slab);
    }

    /// Pages handed out and not released; bytes of slabs mapped (for tests and statistics).
    struct Usage {
        std::size_t live_pages = 0;
        std::size_t mapped_bytes = 0;
        std::size_t slabs = 0;
    };
    Usage usage() noexcept {
        auto state = m_state.lock();
        Usage u;
        u.live_pages = state->live;
        u.mapped_bytes = state->mapped;
        u.slabs = state->slabs.size();
        return u;
    }

private:
    struct Slab {
        std::byte* base = nullptr;
        std::uint32_t pages = 0;
        std::uint32_t bump = 0;  // pages [bump, pages) were never handed out
        std::uint32_t live = 0;
        bool queued = false;  // in State::with_room
        std::vector<std::uint32_t> free;  // capacity `pages`, reserved when mapped

        [[nodiscard]] bool has_room() const noexcept { return bump < pages || !free.empty(); }
        [[nodiscard]] std::size_t bytes() const noexcept { return std::size_t{pages} * pool_page_size; }
    };

    struct State {
        std::map<std::uintptr_t, Slab> slabs;  // by base address
        std::vector<std::uintptr_t> with_room;  // slabs (not current) that regained room; one entry each
        Slab* current = nullptr;
        std::size_t live = 0;
        std::size_t mapped = 0;  // bytes of all slabs
        std::size_t empty_slabs = 0;

        Slab* take_slab_with_room() noexcept {
            while (!with_room.empty()) {
                const std::uintptr_t key = with_room.back();
                with_room.pop_back();
                const auto it = slabs.find(key);
                if (it == slabs.end()) continue;
                it->second.queued = false;
                if (it->second.has_room()) return &it->second;
            }
            return nullptr;
        }
        void queue(Slab& slab) noexcept {
            if (slab.queued) return;
            // Never reallocates: with_room holds at most one entry per mapped slab, and
            // map_new_slab reserved room for every slab.
            with_room.push_back(reinterpret_cast<std::uintptr_t>(slab.base));
            slab.queued = true;
        }
        Slab* map_new_slab(const P& host) noexcept {
            const std::size_t bytes = std::min(std::max(mapped, pool_first_slab_bytes), pool_huge_slab_bytes);
            std::byte* base = map_slab(host, bytes);
            if (base == nullptr) return nullptr;
            try {
                Slab slab;
                slab.base = base;
                slab.pages = static_cast<std::uint32_t>(bytes / pool_page_size);
                slab.free.reserve(slab.pages);
                with_room.reserve(slabs.size() + 1);
                auto [it, inserted] = slabs.emplace(reinterpret_cast<std::uintptr_t>(base), std::move(slab));
                mapped += bytes;
                ++empty_slabs;
                return &it->second;
            } catch (...) {
                unmap_slab(host, base, bytes);
                return nullptr;
            }
        }
        void unmap(const P& host, typename std::map<std::uintptr_t, Slab>::iterator it) noexcept {
            Slab& slab = it->second;
            if (current == &slab) current = nullptr;
            if (slab.queued) std::erase(with_room, reinterpret_cast<std::uintptr_t>(slab.base));
            mapped -= slab.bytes();
            unmap_slab(host, slab.base, slab.bytes());
            slabs.erase(it);
        }
    };

    static std::byte* map_slab(const P& host, std::size_t bytes) noexcept {
        if constexpr (platform::PageMemoryProvider<P>) {
            return host.map_pages(bytes);
        } else {
            (void)host;
            try {
                return static_cast<std::byte*>(::operator new(bytes, std::align_val_t{pool_page_size}));
            } catch (const std::bad_alloc&) {
                return nullptr;
            }
        }
    }
    static void unmap_slab(const P& host, std::byte* base, std::size_t bytes) noexcept {
        if constexpr (platform::PageMemoryProvider<P>) {
            host.unmap_pages(base, bytes);
        } else {
            (void)host;
            (void)bytes;
            ::operator delete(base, std::align_val_t{pool_page_size});
        }
    }

    const P& m_host;
    sync::Mutex<P, State> m_state;
};

/// Returns a page to its pool (the deleter of PoolPage).
template <platform::RawMutexProvider P>
struct PageReturn {
    PagePool<P>* pool = nullptr;
    void operator()(std::byte* page) const noexcept {
        if (pool != nullptr) pool->release(page);
    }
};
template <platform::RawMutexProvider P>
using PoolPage = std::unique_ptr<std::byte[], PageReturn<P>>;

}  // namespace litebox::fs::detail
