// EventFd<P>: eventfd(2) — a 64-bit counter that threads signal through.
//
// Contract (Linux's): reads and writes move exactly 8 bytes (a native-endian u64); a buffer
// shorter than 8 bytes is EINVAL (a longer one uses its first 8 bytes and returns 8). read returns
// the counter and resets it to 0, or in semaphore mode (EFD_SEMAPHORE) returns 1 and decrements
// it; with the counter at 0 it is EAGAIN. write adds its value; writing 0xffffffffffffffff is
// EINVAL, and a write that would take the counter above 0xfffffffffffffffe is EAGAIN (blocking
// callers wait for a read). poll: IN while the counter is non-zero, OUT while it is below the
// maximum. eventfd flags other than EFD_SEMAPHORE, EFD_NONBLOCK and EFD_CLOEXEC are EINVAL.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "../error.hpp"
#include "../event/pollee.hpp"
#include "../fd/open_file.hpp"
#include "../sync/mutex.hpp"
#include "detail/anon_inode.hpp"

namespace litebox::ipc {

/// eventfd(2) flags.
namespace eventfd_flags {
inline constexpr std::uint32_t semaphore = 1;
inline constexpr std::uint32_t nonblock = fd::open_flags::nonblock;
inline constexpr std::uint32_t close_on_exec = fd::open_flags::close_on_exec;
inline constexpr std::uint32_t valid = semaphore | nonblock | close_on_exec;
}  // namespace eventfd_flags

/// The largest value the counter holds.
inline constexpr std::uint64_t eventfd_max = 0xfffffffffffffffeull;

template <typename P>
class EventFd final : public fd::OpenFile<P> {
public:
    EventFd(std::uint64_t initial, std::uint32_t flags)
        : fd::OpenFile<P>(fd::open_flags::read_write | (flags & eventfd_flags::nonblock)),
          m_semaphore((flags & eventfd_flags::semaphore) != 0), m_inode(detail::allocate_anonymous_inode()) {
        m_count.with_lock([&](std::uint64_t& c) { c = initial; });
    }

    Result<std::size_t> read(std::span<std::byte> out) override {
        if (out.size() < sizeof(std::uint64_t)) return Errno::inval;
        LITEBOX_TRY_ASSIGN(const std::uint64_t value, take());
        std::memcpy(out.data(), &value, sizeof value);
        return sizeof value;
    }

    Result<std::size_t> write(std::span<const std::byte> in) override {
        if (in.size() < sizeof(std::uint64_t)) return Errno::inval;
        std::uint64_t value = 0;
        std::memcpy(&value, in.data(), sizeof value);
        LITEBOX_TRY(add(value));
        return sizeof value;
    }

    /// eventfd_read: the value a read would return (and the counter update), or EAGAIN.
    Result<std::uint64_t> take() {
        Result<std::uint64_t> taken = m_count.with_lock([&](std::uint64_t& c) -> Result<std::uint64_t> {
            if (c == 0) return Errno::again;
            const std::uint64_t value = m_semaphore ? 1 : c;
            c -= value;
            return value;
        });
        if (taken.has_value()) m_pollee.notify(fd::events::out | fd::events::wrnorm);
        return taken;
    }

    /// eventfd_write: adds `value`, or EINVAL / EAGAIN as described above.
    Result<void> add(std::uint64_t value) {
        if (value == ~std::uint64_t{0}) return Errno::inval;
        LITEBOX_TRY(m_count.with_lock([&](std::uint64_t& c) -> Result<void> {
            if (eventfd_max - c < value) return Errno::again;
            c += value;
            return ok();
        }));
        if (value != 0) m_pollee.notify(fd::events::in | fd::events::rdnorm);
        return ok();
    }

    [[nodiscard]] std::uint64_t count() const {
        return m_count.with_lock([](const std::uint64_t& c) { return c; });
    }
    [[nodiscard]] bool semaphore() const noexcept { return m_semaphore; }

    Result<fd::Stat> stat() override { return detail::anonymous_stat(m_inode, 0600); }
    [[nodiscard]] std::string_view anonymous_name() const noexcept override { return "[eventfd]"; }
    [[nodiscard]] std::string fdinfo_lines() override {
        // Linux's lines, the count as "%16llx" (its eventfd-id, a number of its own, is left out).
        std::string hex(16, ' ');
        std::uint64_t value = count();
        std::size_t at = hex.size();
        do {
            hex[--at] = "0123456789abcdef"[value & 0xf];
            value >>= 4;
        } while (value != 0);
        return "eventfd-count: " + hex + "\neventfd-semaphore: " + (m_semaphore ? "1" : "0") + "\n";
    }
    fd::Events poll(fd::Events /*interest*/) override {
        const std::uint64_t c = count();
        fd::Events ev = 0;
        if (c > 0) ev |= fd::events::in | fd::events::rdnorm;
        if (c < eventfd_max) ev |= fd::events::out | fd::events::wrnorm;
        return ev;
    }
    event::Pollee<P>* pollee() noexcept override { return &m_pollee; }

private:
    mutable sync::Mutex<P, std::uint64_t> m_count;
    event::Pollee<P> m_pollee{event::owner_of(this)};
    const bool m_semaphore;
    const std::uint64_t m_inode;
};

/// The EventFd behind a file, or nullptr.
template <typename P>
EventFd<P>* eventfd_of(fd::OpenFile<P>& file) noexcept {
    return event::owner_as<EventFd<P>>(file);
}

/// eventfd2(2). O_CLOEXEC in `flags` is for the shim's descriptor table.
template <typename P>
Result<std::shared_ptr<fd::OpenFile<P>>> make_eventfd(std::uint64_t initial, std::uint32_t flags = 0) {
    if ((flags & ~eventfd_flags::valid) != 0) return Errno::inval;
    return std::shared_ptr<fd::OpenFile<P>>(std::make_shared<EventFd<P>>(initial, flags));
}

}  // namespace litebox::ipc
