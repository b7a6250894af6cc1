// OpenFile<P>: an open file description — what a descriptor table slot points at. Regular files,
// directories, devices, pipes, sockets, eventfds and epoll instances all implement it.
//
// Contract for implementers:
// - An OpenFile is shared by every descriptor dup'ed from it (and across fork); it owns the file
//   offset and the status flags. It is reference counted (std::shared_ptr) and released when the
//   last descriptor and the last internal user drop it.
// - read/write/pread/pwrite never block: where the operation would have to wait (an empty pipe) they
//   fail with Errno::again, and the caller (fd/blocking code, later the shim) waits for readiness
//   through pollee() unless the description is non-blocking.
// - read returns 0 at end of file (or when the peer closed). write returns the number of bytes
//   accepted, at least 1 for a non-empty buffer unless it fails.
// - Operations a kind of object does not support fail with the errno Linux gives: EINVAL for read
//   or write on objects that refuse them, ESPIPE for seeking a pipe, EISDIR for writing a directory,
//   EBADF when the access mode forbids the operation (checked by the descriptor layer as well).
// - poll(interest) reports the currently ready events (fd::events); objects whose readiness never
//   changes return in|out and have no pollee(). Objects whose readiness changes return a Pollee
//   from pollee() and notify it on every change.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "../error.hpp"
#include "directory.hpp"
#include "types.hpp"

namespace litebox::event {
template <typename P>
class Pollee;  // defined in event/pollee.hpp
}

namespace litebox::fd {

/// lseek whence values.
enum class Whence : int { set = 0, current = 1, end = 2, data = 3, hole = 4 };

template <typename P>
class OpenFile {
public:
    explicit OpenFile(std::uint32_t status_flags) noexcept : m_status_flags(status_flags & ~open_flags::close_on_exec) {}
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
    virtual ~OpenFile() = default;

    // ---- data --------------------------------------------------------------------------------
    /// Reads at the current offset and advances it. Errno::again instead of blocking.
    virtual Result<std::size_t> read(std::span<std::byte> /*out*/) { return Errno::inval; }
    /// Writes at the current offset (or at the end with O_APPEND) and advances it.
    virtual Result<std::size_t> write(std::span<const std::byte> /*in*/) { return Errno::inval; }
    /// Reads at `offset` without moving the file offset.
    virtual Result<std::size_t> pread(std::span<std::byte> /*out*/, std::uint64_t /*offset*/) { return Errno::spipe; }
    /// Writes at `offset` without moving the file offset.
    virtual Result<std::size_t> pwrite(std::span<const std::byte> /*in*/, std::uint64_t /*offset*/) { return Errno::spipe; }
    /// Moves the offset; returns the new one.
    virtual Result<std::uint64_t> seek(std::int64_t /*offset*/, Whence /*whence*/) { return Errno::spipe; }

    // ---- metadata ----------------------------------------------------------------------------
    virtual Result<Stat> stat() = 0;
    virtual Result<void> truncate(std::uint64_t /*length*/) { return Errno::inval; }
    /// fsync/fdatasync: an in-memory object has nothing to flush; success is the honest answer.
    virtual Result<void> sync() { return ok(); }
    /// getdents64: feeds entries from the current position to `sink` until it refuses one or the
    /// directory ends, advancing the position past each consumed entry. ENOTDIR for non-directories.
    virtual Result<void> read_directory(DirectorySink& /*sink*/) { return Errno::notdir; }

    // ---- readiness ---------------------------------------------------------------------------
    virtual Events poll(Events /*interest*/) { return events::in | events::out; }
    /// The object to wait on for readiness changes, or nullptr if readiness never changes.
    virtual event::Pollee<P>* pollee() noexcept { return nullptr; }

    // ---- status flags (O_APPEND, O_NONBLOCK, access mode, ...) -------------------------------
    [[nodiscard]] std::uint32_t status_flags() const noexcept { return m_status_flags.load(std::memory_order_relaxed); }
    /// F_SETFL: changes only the flags in open_flags::settable; the rest stay as they were.
    virtual Result<void> set_status_flags(std::uint32_t flags) {
        std::uint32_t current = m_status_flags.load(std::memory_order_relaxed);
        std::uint32_t next;
        do {
            next = (current & ~open_flags::settable) | (flags & open_flags::settable);
        } while (!m_status_flags.compare_exchange_weak(current, next, std::memory_order_relaxed));
        return ok();
    }
    [[nodiscard]] bool nonblocking() const noexcept { return (status_flags() & open_flags::nonblock) != 0; }
    [[nodiscard]] bool readable() const noexcept {
        const auto mode = status_flags() & open_flags::access_mode;
        return (status_flags() & open_flags::path) == 0 && (mode == open_flags::read_only || mode == open_flags::read_write);
    }
    [[nodiscard]] bool writable() const noexcept {
        const auto mode = status_flags() & open_flags::access_mode;
        return (status_flags() & open_flags::path) == 0 && (mode == open_flags::write_only || mode == open_flags::read_write);
    }

    // ---- what /proc shows -------------------------------------------------------------------
    /// The name of an anonymous-inode object as /proc/<pid>/fd shows it after "anon_inode:"
    /// (Linux's: "[eventfd]", "[eventpoll]", "inotify", ...); empty for other objects.
    [[nodiscard]] virtual std::string_view anonymous_name() const noexcept { return {}; }
    /// The lines /proc/<pid>/fdinfo adds for this kind of object after pos, flags, mnt_id and ino
    /// (Linux's format, each ending in a newline); empty if none.
    [[nodiscard]] virtual std::string fdinfo_lines() { return {}; }

private:
    std::atomic<std::uint32_t> m_status_flags;
};

}  // namespace litebox::fd
