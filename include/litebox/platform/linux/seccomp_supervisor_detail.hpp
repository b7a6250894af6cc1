// Internals of the seccomp supervisor (seccomp_supervisor.hpp): the per-process record, the
// interrupt slot of a blocked call, and small /proc readers. Not an interface.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "seccomp_handler.hpp"
#include "seccomp_notify.hpp"

namespace litebox::platform::linux_platform::seccomp {

namespace detail {

/// One guest process as the supervisor knows it.
struct GuestProcess {
    pid_t pid = -1;
    std::uint64_t serial = 0;
    std::atomic<bool> initial{false};  // its exit ends the run (moves to the new image on execve)
    const Listener* listener = nullptr;  // the seccomp listener its calls arrive on
    UniqueFd pidfd;
    UniqueFd mem;  // /proc/PID/mem, opened at the process's first served call
    bool mem_tried = false;  // notification thread only
    std::atomic<bool> exiting{false};
    std::atomic<int> box_status{-1};  // exit_process() status, or -1
    std::atomic<int> host_status{-1};  // wait status recorded by an external reaper, or -1
};

/// The interruption state of one blocked call (see InterruptWaker).
class InterruptSlot {
public:
    [[nodiscard]] bool interrupted() const noexcept { return m_interrupted.load(std::memory_order_acquire); }
    bool arm(InterruptWaker& waker) noexcept {
        std::lock_guard lock(m_mutex);
        if (m_interrupted.load(std::memory_order_relaxed)) return false;
        m_waker = &waker;
        return true;
    }
    void disarm() noexcept {
        std::lock_guard lock(m_mutex);
        m_waker = nullptr;
    }
    void fire() noexcept {
        std::lock_guard lock(m_mutex);
        m_interrupted.store(true, std::memory_order_release);
        if (m_waker != nullptr) std::exchange(m_waker, nullptr)->wake();
    }

private:
    std::mutex m_mutex;
    std::atomic<bool> m_interrupted{false};
    InterruptWaker* m_waker = nullptr;
};

struct BlockedCall {
    TrappedCall call;
    std::shared_ptr<GuestProcess> process;
    InterruptSlot slot;
};

/// Reads a small /proc file into `buffer`; returns the length or -1.
inline ssize_t read_proc_file(const char* path, char* buffer, std::size_t size) noexcept {
    UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return -1;
    ssize_t total = 0;
    while (static_cast<std::size_t>(total) + 1 < size) {
        const ssize_t n = ::read(fd.get(), buffer + total, size - 1 - static_cast<std::size_t>(total));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        total += n;
    }
    buffer[total] = '\0';
    return total;
}

/// The value after "\n<key>:" in a /proc status text, parsed in `base`.
inline std::optional<std::uint64_t> status_field(const char* text, const char* key, int base) noexcept {
    char needle[32];
    const int length = std::snprintf(needle, sizeof needle, "\n%s:", key);
    if (length <= 0 || static_cast<std::size_t>(length) >= sizeof needle) return std::nullopt;
    const char* at = std::strstr(text, needle);
    if (at == nullptr) return std::nullopt;
    at += length;
    char* end = nullptr;
    const unsigned long long value = std::strtoull(at, &end, base);
    if (end == at) return std::nullopt;
    return static_cast<std::uint64_t>(value);
}

/// The thread group (process id) of host thread `tid`.
inline std::optional<pid_t> thread_group_of(pid_t tid) noexcept {
    char path[64], text[4096];
    std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(tid));
    if (read_proc_file(path, text, sizeof text) <= 0) return std::nullopt;
    const auto tgid = status_field(text, "Tgid", 10);
    if (!tgid || *tgid == 0) return std::nullopt;
    return static_cast<pid_t>(*tgid);
}

/// A thread's signal state from /proc (bit N-1 for signal N): its mask, its process's ignored and
/// caught sets, and the signals pending for it (its own and its process's).
struct SignalState {
    std::uint64_t blocked = 0;
    std::uint64_t ignored = 0;
    std::uint64_t caught = 0;
    std::uint64_t pending = 0;
};
inline std::optional<SignalState> signal_state(pid_t pid, pid_t tid) noexcept {
    char path[64], text[4096];
    std::snprintf(path, sizeof path, "/proc/%d/task/%d/status", static_cast<int>(pid), static_cast<int>(tid));
    if (read_proc_file(path, text, sizeof text) <= 0) return std::nullopt;
    const auto blocked = status_field(text, "SigBlk", 16);
    const auto ignored = status_field(text, "SigIgn", 16);
    const auto caught = status_field(text, "SigCgt", 16);
    const auto own = status_field(text, "SigPnd", 16);
    const auto shared = status_field(text, "ShdPnd", 16);
    if (!blocked || !ignored || !caught || !own || !shared) return std::nullopt;
    return SignalState{*blocked, *ignored, *caught, *own | *shared};
}

/// Whether Linux would interrupt a blocking call of thread `tid` for signal `sig`: the signal is
/// not blocked by the thread (or by `wait_mask`, the call's temporary mask, which replaces the
/// thread's while a ppoll/pselect6/epoll_pwait waits) and not ignored (explicitly, or by default
/// like SIGCHLD).
inline bool signal_would_interrupt(pid_t pid, pid_t tid, int sig, std::optional<std::uint64_t> wait_mask = std::nullopt) noexcept {
    if (sig <= 0 || sig > 64) return false;
    if (sig == SIGKILL) return true;
    const auto state = signal_state(pid, tid);
    if (!state) return false;
    const std::uint64_t bit = std::uint64_t{1} << (sig - 1);
    if (sig != SIGSTOP && (wait_mask.value_or(state->blocked) & bit) != 0) return false;
    if ((state->ignored & bit) != 0) return false;
    if ((state->caught & bit) != 0) return true;
    switch (sig) {  // default action "ignore": no interruption
        case SIGCHLD:
        case SIGURG:
        case SIGWINCH:
        case SIGCONT: return false;
        default: return true;  // terminate, dump or stop: the call ends (or restarts after SIGCONT)
    }
}

/// True if `fd` is open for writing and not write-sealed.
inline bool writable_unsealed(int fd) noexcept {
    const int mode = ::fcntl(fd, F_GETFL);
    if (mode < 0 || (mode & O_ACCMODE) == O_RDONLY) return false;
    const int seals = ::fcntl(fd, F_GET_SEALS);
    return seals < 0 || (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) == 0;
}

/// True if `fd` is a signalfd (its /proc/self/fd link is "anon_inode:[signalfd]").
inline bool is_signalfd(int fd) noexcept {
    char path[40];
    std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    char target[32];
    const ssize_t n = ::readlink(path, target, sizeof target);
    constexpr char expected[] = "anon_inode:[signalfd]";
    return n == static_cast<ssize_t>(sizeof expected - 1) && std::memcmp(target, expected, sizeof expected - 1) == 0;
}

/// Installs a no-op handler for `sig` unless the application handles it already. A handler is
/// what makes the signal interrupt SECCOMP_IOCTL_NOTIF_RECV (which fails with EINTR even under
/// SA_RESTART); other system calls restart.
inline void install_wake_handler(int sig) noexcept {
    struct sigaction current {};
    if (::sigaction(sig, nullptr, &current) != 0) return;
    if ((current.sa_flags & SA_SIGINFO) == 0 && (current.sa_handler == SIG_DFL || current.sa_handler == SIG_IGN)) {
        struct sigaction action {};
        action.sa_handler = +[](int) {};
        action.sa_flags = SA_RESTART;
        sigemptyset(&action.sa_mask);
        (void)::sigaction(sig, &action, nullptr);
    }
}

}  // namespace detail

}  // namespace litebox::platform::linux_platform::seccomp
