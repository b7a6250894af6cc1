// Guest pointers into another process: the RawPointerProvider of an out-of-process runtime
// (litebox-run). A pointer is just an address; the process it points into is the guest whose
// system call the current thread is serving, installed by the supervisor in a thread-local context
// (ScopedRemoteMemory) before it calls the handler.
//
// Access paths (measured on a 2-vCPU VM: process_vm_readv ~1.5 us, /proc/PID/mem pread ~1.1 us):
//   * reads of up to small_read_limit bytes: pread on the guest's /proc/PID/mem descriptor, which
//     the supervisor opened once per process. The descriptor is bound to that address space, not to
//     the pid, so it can never read another process even if the pid is reused.
//   * larger reads: process_vm_readv, then SECCOMP_IOCTL_NOTIF_ID_VALID: if the guest thread is
//     still blocked in the served call, it was alive during the read and the pid was not reused.
//   * writes: process_vm_writev, which (unlike /proc/PID/mem) honours page protections, so a
//     read() into a read-only buffer fails with EFAULT as on Linux. The call is validated with
//     ID_VALID before the write. The supervisor keeps a guest process unreaped (it is the parent,
//     or its tracer) until it has seen the process die, so a pid cannot be reused while a served
//     call of that process is in progress.
// Every failure is an Errno: EFAULT for unmapped, misaligned or overflowing ranges, ESRCH when the
// guest thread is gone, EFAULT when no guest is being served on this thread.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "../../error.hpp"
#include "../trivial.hpp"
#include "platform.hpp"
#include "seccomp_notify.hpp"

namespace litebox::platform::linux_platform {

/// Reads of at most this many bytes use /proc/PID/mem (one pread) instead of process_vm_readv.
inline constexpr std::size_t remote_small_read_limit = 256;

/// One guest address space, seen from the call being served.
///
/// Contract: read/write move exactly `size` bytes or fail (Errno::fault for an unmapped or
/// protected range, Errno::srch when the guest thread is no longer waiting in call
/// `notification_id`). No partial transfers are reported as success. Thread-safe: several served
/// calls may read the same guest concurrently.
class RemoteMemory {
public:
    /// `tid` is the calling thread; `mem_fd` the process's /proc/PID/mem (or -1 to use only
    /// process_vm_*); `listener` and `notification_id` identify the call for ID_VALID checks
    /// (listener may be null in tests, which then skip validation).
    RemoteMemory(pid_t tid, int mem_fd, const seccomp::Listener* listener, std::uint64_t notification_id) noexcept
        : m_tid(tid), m_mem_fd(mem_fd), m_listener(listener), m_notification_id(notification_id) {}

    [[nodiscard]] pid_t tid() const noexcept { return m_tid; }

    [[nodiscard]] Result<void> read(std::uintptr_t address, void* out, std::size_t size) const noexcept {
        if (size == 0) return ok();
        if (m_mem_fd >= 0 && size <= remote_small_read_limit) {
            const ssize_t n = ::pread(m_mem_fd, out, size, static_cast<off_t>(address));
            if (n == static_cast<ssize_t>(size)) return ok();
            return validated_error(Errno::fault);
        }
        struct iovec local {out, size};
        struct iovec remote {reinterpret_cast<void*>(address), size};
        const ssize_t n = ::process_vm_readv(m_tid, &local, 1, &remote, 1, 0);
        if (!still_waiting()) return Errno::srch;
        if (n != static_cast<ssize_t>(size)) return (n < 0 && errno == ESRCH) ? Errno::srch : Errno::fault;
        return ok();
    }

    [[nodiscard]] Result<void> write(std::uintptr_t address, const void* in, std::size_t size) const noexcept {
        if (size == 0) return ok();
        if (!still_waiting()) return Errno::srch;
        struct iovec local {const_cast<void*>(in), size};
        struct iovec remote {reinterpret_cast<void*>(address), size};
        const ssize_t n = ::process_vm_writev(m_tid, &local, 1, &remote, 1, 0);
        if (n != static_cast<ssize_t>(size)) return (n < 0 && errno == ESRCH) ? Errno::srch : Errno::fault;
        return ok();
    }

    /// Reads a NUL-terminated string of at most `max` bytes (without the NUL); in pieces that never
    /// cross a page, so a string that ends just before an unmapped page reads fine, as with Linux's
    /// strncpy_from_user. With the /proc/PID/mem descriptor the first piece is a small read (one
    /// pread, no ID_VALID), which holds the whole of a typical path name; longer strings go on page
    /// by page.
    [[nodiscard]] Result<std::string> read_cstring(std::uintptr_t address, std::size_t max) const {
        if (address == 0) return Errno::fault;
        std::string out;
        constexpr std::size_t page = 4096;
        char chunk[page];
        while (out.size() < max) {
            const std::size_t piece = out.empty() && m_mem_fd >= 0 ? remote_small_read_limit : page;
            const auto at = ::litebox::platform::detail::element_address(address, out.size(), 1);
            if (!at) return Errno::fault;
            const std::size_t to_page_end = page - (*at % page);
            const std::size_t n = std::min({to_page_end, max - out.size(), piece});
            LITEBOX_TRY(read(*at, chunk, n));
            const auto* end = std::find(chunk, chunk + n, '\0');
            out.append(chunk, static_cast<std::size_t>(end - chunk));
            if (end != chunk + n) return out;
        }
        return Errno::nametoolong;
    }

    /// The memory of the guest whose call this thread is serving, or null.
    [[nodiscard]] static const RemoteMemory* current() noexcept { return current_slot(); }

private:
    friend class ScopedRemoteMemory;
    static const RemoteMemory*& current_slot() noexcept {
        static thread_local const RemoteMemory* slot = nullptr;
        return slot;
    }
    [[nodiscard]] bool still_waiting() const noexcept {
        return m_listener == nullptr || m_listener->id_valid(m_notification_id);
    }
    [[nodiscard]] Errno validated_error(Errno e) const noexcept { return still_waiting() ? e : Errno::srch; }

    pid_t m_tid;
    int m_mem_fd;
    const seccomp::Listener* m_listener;
    std::uint64_t m_notification_id;
};

/// Installs a RemoteMemory as this thread's current guest for its lifetime (restores the previous
/// one afterwards, so nested use is fine).
class ScopedRemoteMemory {
public:
    explicit ScopedRemoteMemory(const RemoteMemory& memory) noexcept : m_previous(RemoteMemory::current_slot()) {
        RemoteMemory::current_slot() = &memory;
    }
    ScopedRemoteMemory(const ScopedRemoteMemory&) = delete;
    ScopedRemoteMemory& operator=(const ScopedRemoteMemory&) = delete;
    ~ScopedRemoteMemory() { RemoteMemory::current_slot() = m_previous; }

private:
    const RemoteMemory* m_previous;
};

/// A read-only pointer into the current guest (see the file comment). Null, misaligned and
/// overflowing accesses fail with Errno::fault before any host call.
template <typename T>
class RemoteConstPtr {
    static_assert(std::is_trivially_copyable_v<T>, "guest pointers carry trivially copyable types only");

public:
    constexpr RemoteConstPtr() noexcept = default;
    constexpr explicit RemoteConstPtr(std::uintptr_t address) noexcept : m_address(address) {}

    [[nodiscard]] constexpr std::uintptr_t address() const noexcept { return m_address; }

    [[nodiscard]] Result<T> read_at_offset(std::size_t offset) const noexcept {
        T value;
        LITEBOX_TRY(read_into(offset, std::span<T>(&value, 1)));
        return value;
    }
    [[nodiscard]] Result<void> read_into(std::size_t offset, std::span<T> out) const noexcept {
        if (out.empty()) return ok();
        const auto at = ::litebox::platform::detail::checked_range<T>(m_address, offset, out.size());
        const RemoteMemory* memory = RemoteMemory::current();
        if (!at || memory == nullptr) return Errno::fault;
        return memory->read(*at, static_cast<void*>(out.data()), out.size_bytes());
    }
    [[nodiscard]] Result<std::vector<T>> to_owned_slice(std::size_t length) const {
        if (length == 0) return std::vector<T>{};
        if (!::litebox::platform::detail::checked_range<T>(m_address, 0, length)) return Errno::fault;
        std::vector<T> out(length);
        LITEBOX_TRY(read_into(0, std::span<T>(out)));
        return out;
    }
    [[nodiscard]] Result<std::string> to_cstring(std::size_t max) const
        requires(sizeof(T) == 1)
    {
        const RemoteMemory* memory = RemoteMemory::current();
        if (memory == nullptr) return Errno::fault;
        return memory->read_cstring(m_address, max);
    }

protected:
    std::uintptr_t m_address = 0;
};

/// A writable pointer into the current guest.
template <typename T>
class RemoteMutPtr : public RemoteConstPtr<T> {
public:
    using RemoteConstPtr<T>::RemoteConstPtr;

    [[nodiscard]] Result<void> write_at_offset(std::size_t offset, const T& value) const noexcept {
        return copy_from(offset, std::span<const T>(&value, 1));
    }
    [[nodiscard]] Result<void> copy_from(std::size_t offset, std::span<const T> in) const noexcept {
        if (in.empty()) return ok();
        const auto at = ::litebox::platform::detail::checked_range<T>(this->m_address, offset, in.size());
        const RemoteMemory* memory = RemoteMemory::current();
        if (!at || memory == nullptr) return Errno::fault;
        return memory->write(*at, static_cast<const void*>(in.data()), in.size_bytes());
    }
};

/// Mix-in: guest pointers point into the out-of-process guest being served.
struct RemotePointers {
    template <typename T>
    using ConstPtr = RemoteConstPtr<T>;
    template <typename T>
    using MutPtr = RemoteMutPtr<T>;
};

/// The Linux platform with guest memory in another process: the platform type of litebox-run.
class RemoteGuestPlatform : public LinuxPlatform {
public:
    template <typename T>
    using ConstPtr = RemoteConstPtr<T>;
    template <typename T>
    using MutPtr = RemoteMutPtr<T>;
};

static_assert(RawPointerProvider<RemotePointers>);
static_assert(Provider<RemoteGuestPlatform>);

}  // namespace litebox::platform::linux_platform

namespace litebox::platform {
using linux_platform::RemoteGuestPlatform;
}
