// The seccomp user-notification interface of the Linux kernel, wrapped for a supervisor: an owning
// descriptor, the listener (receive / respond / ADDFD / ID_VALID) and the few kernel ABI constants
// that older userspace headers lack. Host-specific by design: only runtimes (litebox-run) use it.
#pragma once

#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "../../error.hpp"

// Kernel ABI that Debian 12's headers (Linux 6.1) do not have yet. Values from include/uapi/linux.
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)  // Linux 6.6
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)  // Linux 6.6
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)  // Linux 5.19
#endif

namespace litebox::platform::linux_platform {

namespace detail {
/// errno as an Errno (EIO for a number outside the table).
inline Errno last_errno() noexcept {
    Errno e = Errno::io;
    (void)errno_from_number(errno, e);
    return e;
}
}  // namespace detail

/// An owned file descriptor: closed on destruction, movable, never copied. -1 means "none".
class UniqueFd {
public:
    UniqueFd() noexcept = default;
    explicit UniqueFd(int fd) noexcept : m_fd(fd) {}
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.m_fd, -1));
        return *this;
    }
    ~UniqueFd() { reset(); }

    [[nodiscard]] int get() const noexcept { return m_fd; }
    [[nodiscard]] bool valid() const noexcept { return m_fd >= 0; }
    int release() noexcept { return std::exchange(m_fd, -1); }
    void reset(int fd = -1) noexcept {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = fd;
    }

private:
    int m_fd = -1;
};

namespace seccomp {

namespace detail {
using ::litebox::platform::linux_platform::detail::last_errno;
}

/// The registers of one trapped system call, as the kernel reported them (x86-64 numbering).
struct TrappedCall {
    std::uint64_t id = 0;          // the notification's cookie (for respond, ADDFD and ID_VALID)
    std::int32_t tid = 0;          // the calling thread, in the supervisor's pid namespace
    std::int32_t nr = 0;           // system call number
    std::uint32_t arch = 0;        // AUDIT_ARCH_* (the filter only notifies for AUDIT_ARCH_X86_64)
    std::uint64_t instruction_pointer = 0;
    std::uint64_t args[6] = {};
};

/// Linux's internal restart codes. A served call may answer -ERESTARTSYS (and friends) only while a
/// signal is pending for the calling thread: the kernel then restarts the call or turns the code
/// into EINTR exactly as for a native blocking call. Without a pending signal the guest would see
/// the raw number, so the supervisor's interrupt hook is the only place that produces them.
inline constexpr std::int64_t restart_sys = 512;             // ERESTARTSYS
inline constexpr std::int64_t restart_no_intr = 513;         // ERESTARTNOINTR
inline constexpr std::int64_t restart_no_hand = 514;         // ERESTARTNOHAND
inline constexpr std::int64_t restart_restart_block = 516;   // ERESTART_RESTARTBLOCK

/// The supervisor's end of a seccomp filter with SECCOMP_RET_USER_NOTIF actions.
///
/// Contract: receive() blocks until a trapped call is queued (or fails: Errno::noent when the
/// caller died between queueing and receiving, Errno::intr on a signal); respond() completes it
/// with a value or an errno, exactly once; a response to a call whose thread has died fails with
/// Errno::noent, which callers treat as "nothing to do". id_valid() tells whether the calling
/// thread is still blocked in that call, which also proves its pid was not reused meanwhile.
/// CONTINUE is offered only through continue_unchecked(), whose callers must justify each use.
class Listener {
public:
    Listener() noexcept = default;
    explicit Listener(UniqueFd fd) noexcept : m_fd(std::move(fd)) {}

    [[nodiscard]] int fd() const noexcept { return m_fd.get(); }
    [[nodiscard]] bool valid() const noexcept { return m_fd.valid(); }

    /// Asks the kernel to wake the supervisor and the guest on the current CPU (Linux >= 6.6): a
    /// notification round trip then avoids a cross-CPU wake-up. Errno::inval on older kernels.
    [[nodiscard]] Result<void> set_sync_wakeup() const noexcept {
        if (::ioctl(m_fd.get(), SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) != 0)
            return detail::last_errno();
        return ok();
    }

    /// Waits up to timeout_ms (-1: forever) for the listener to be readable. Returns true when a
    /// call is queued, false on timeout; Errno::pipe once no task uses the filter any more.
    [[nodiscard]] Result<bool> wait_readable(int timeout_ms) const noexcept {
        struct pollfd pfd {};
        pfd.fd = m_fd.get();
        pfd.events = POLLIN;
        const int n = ::poll(&pfd, 1, timeout_ms);
        if (n < 0) return detail::last_errno();
        if (n == 0) return false;
        if ((pfd.revents & POLLIN) != 0) return true;
        if ((pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) return Errno::pipe;
        return false;
    }

    [[nodiscard]] Result<void> receive(TrappedCall& out) const noexcept {
        struct seccomp_notif notif;
        std::memset(&notif, 0, sizeof notif);  // the kernel rejects a non-zeroed buffer
        if (::ioctl(m_fd.get(), SECCOMP_IOCTL_NOTIF_RECV, &notif) != 0) return detail::last_errno();
        out.id = notif.id;
        out.tid = static_cast<std::int32_t>(notif.pid);
        out.nr = notif.data.nr;
        out.arch = notif.data.arch;
        out.instruction_pointer = notif.data.instruction_pointer;
        for (int i = 0; i < 6; ++i) out.args[i] = notif.data.args[i];
        return ok();
    }

    /// Completes a call: `value` when error == 0, otherwise the call fails with -error.
    [[nodiscard]] Result<void> respond(std::uint64_t id, std::int64_t value, std::int32_t error) const noexcept {
        struct seccomp_notif_resp resp;
        std::memset(&resp, 0, sizeof resp);
        resp.id = id;
        resp.val = value;
        resp.error = error;
        if (::ioctl(m_fd.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0) return detail::last_errno();
        return ok();
    }

    /// Completes a call with a handler's raw Linux result: >= 0 is a value, -4095..-1 an errno.
    [[nodiscard]] Result<void> respond_raw(std::uint64_t id, std::int64_t result) const noexcept {
        if (result < 0 && result >= -4095) return respond(id, 0, static_cast<std::int32_t>(result));
        return respond(id, result, 0);
    }

    /// Lets the kernel run the trapped call itself. Unsafe in general (the kernel re-reads pointer
    /// arguments that another guest thread may have changed): only for calls made by the
    /// supervisor's own trusted code, or calls whose arguments are all registers. See the callers.
    [[nodiscard]] Result<void> continue_unchecked(std::uint64_t id) const noexcept {
        struct seccomp_notif_resp resp;
        std::memset(&resp, 0, sizeof resp);
        resp.id = id;
        resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        if (::ioctl(m_fd.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0) return detail::last_errno();
        return ok();
    }

    /// True while the thread that made call `id` is still waiting for its answer.
    [[nodiscard]] bool id_valid(std::uint64_t id) const noexcept {
        std::uint64_t cookie = id;
        return ::ioctl(m_fd.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &cookie) == 0;
    }

    /// Installs a copy of our descriptor `source` in the guest (SECCOMP_IOCTL_NOTIF_ADDFD). With
    /// `target` >= 0 the guest descriptor number is exactly `target` (replacing what was there);
    /// with `send` the call is answered atomically with the new number. Returns the guest number.
    [[nodiscard]] Result<int> add_fd(std::uint64_t id, int source, int target, bool cloexec, bool send) const noexcept {
        struct seccomp_notif_addfd addfd;
        std::memset(&addfd, 0, sizeof addfd);
        addfd.id = id;
        addfd.srcfd = static_cast<std::uint32_t>(source);
        addfd.newfd_flags = cloexec ? O_CLOEXEC : 0;
        if (target >= 0) {
            addfd.flags |= SECCOMP_ADDFD_FLAG_SETFD;
            addfd.newfd = static_cast<std::uint32_t>(target);
        }
        if (send) addfd.flags |= SECCOMP_ADDFD_FLAG_SEND;
        const int n = ::ioctl(m_fd.get(), SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
        if (n < 0) return detail::last_errno();
        return n;
    }

private:
    UniqueFd m_fd;
};

}  // namespace seccomp
}  // namespace litebox::platform::linux_platform
