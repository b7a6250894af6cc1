// LinuxPlatform: the platform for Linux hosts. Raw mutexes are futexes, clocks are
// clock_gettime(CLOCK_MONOTONIC / CLOCK_REALTIME), random bytes come from getrandom(2), the log and
// the standard streams are file descriptors 0-2. Guest memory is this process's memory (the
// litebox-run runner brings its own pointers for out-of-process guests). Punchthroughs are denied
// and there is no network unless a runtime composes more (see the runner).
#pragma once

#include <linux/futex.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "../concepts.hpp"
#include "../trivial.hpp"

namespace litebox::platform::linux_platform {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "futexes need a plain 32-bit atomic");

namespace detail {
inline Errno current_errno() noexcept {
    Errno e = Errno::io;
    (void)errno_from_number(errno, e);
    return e;
}
inline long futex(std::atomic<std::uint32_t>* word, int op, std::uint32_t value, const struct timespec* timeout) noexcept {
    return ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op, value, timeout, nullptr, 0);
}
inline struct timespec to_timespec(Duration d) noexcept {
    const auto ns = d.count();
    struct timespec ts {};
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    return ts;
}
}  // namespace detail

/// A futex on its own 32-bit word (process-private).
class FutexRawMutex {
public:
    FutexRawMutex() noexcept = default;
    FutexRawMutex(const FutexRawMutex&) = delete;
    FutexRawMutex& operator=(const FutexRawMutex&) = delete;

    std::atomic<std::uint32_t>& underlying_atomic() noexcept { return m_word; }

    WaitOutcome block(std::uint32_t expected) noexcept {
        if (detail::futex(&m_word, FUTEX_WAIT_PRIVATE, expected, nullptr) == -1 && errno == EAGAIN)
            return WaitOutcome::immediately_woken;
        return WaitOutcome::unblocked;  // woken, EINTR (spurious) or other: callers re-check
    }

    WaitOutcome block_or_timeout(std::uint32_t expected, Duration timeout) noexcept {
        if (timeout <= Duration{0}) {
            return m_word.load(std::memory_order_acquire) != expected ? WaitOutcome::immediately_woken
                                                                      : WaitOutcome::timed_out;
        }
        const struct timespec ts = detail::to_timespec(timeout);  // FUTEX_WAIT takes a relative time
        if (detail::futex(&m_word, FUTEX_WAIT_PRIVATE, expected, &ts) == -1) {
            if (errno == EAGAIN) return WaitOutcome::immediately_woken;
            if (errno == ETIMEDOUT) return WaitOutcome::timed_out;
        }
        return WaitOutcome::unblocked;
    }

    std::size_t wake_many(std::size_t n) noexcept {
        if (n == 0) return 0;
        const auto count = static_cast<std::uint32_t>(n > INT_MAX ? INT_MAX : n);
        const long woken = detail::futex(&m_word, FUTEX_WAKE_PRIVATE, count, nullptr);
        return woken > 0 ? static_cast<std::size_t>(woken) : 0;
    }
    bool wake_one() noexcept { return wake_many(1) != 0; }
    std::size_t wake_all() noexcept { return wake_many(INT_MAX); }

private:
    std::atomic<std::uint32_t> m_word{0};
};

/// The Linux platform. Stateless: any number of boxes may share one instance.
class LinuxPlatform : public HostMemoryPointers, public DenyAllPunchthrough, public NoNetwork {
public:
    using RawMutex = FutexRawMutex;
    using Instant = MonotonicInstant;
    using SystemTime = UnixTime;

    Instant now() const noexcept {
        struct timespec ts {};
        ::clock_gettime(CLOCK_MONOTONIC, &ts);
        return Instant::from_nanoseconds(static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
                                         static_cast<std::uint64_t>(ts.tv_nsec));
    }
    SystemTime current_time() const noexcept {
        struct timespec ts {};
        ::clock_gettime(CLOCK_REALTIME, &ts);
        return SystemTime::from_nanoseconds_since_epoch(static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 +
                                                        static_cast<std::int64_t>(ts.tv_nsec));
    }

    void debug_log_print(std::string_view message) const noexcept {
        write_all(STDERR_FILENO, message.data(), message.size());
        write_all(STDERR_FILENO, "\n", 1);
    }

    // CrngProvider: getrandom(2) from the kernel's CSPRNG (blocks only until it is seeded).
    Result<void> fill_random_bytes(std::span<std::byte> out) const noexcept {
        std::size_t done = 0;
        while (done < out.size()) {
            const ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                return detail::current_errno();
            }
            done += static_cast<std::size_t>(n);
        }
        return ok();
    }

    // PageMemoryProvider: anonymous mappings; a 2 MiB request is aligned to 2 MiB and marked
    // MADV_HUGEPAGE (a hint: with transparent huge pages in "madvise" or "always" mode one fault
    // and one zeroing then back the whole slab).
    std::byte* map_pages(std::size_t bytes) const noexcept {
        constexpr std::size_t huge = std::size_t{2} << 20;
        if (bytes == 0 || bytes % 4096 != 0 || bytes > (std::size_t{1} << 40)) return nullptr;
        if (bytes != huge) {
            void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            return p == MAP_FAILED ? nullptr : static_cast<std::byte*>(p);
        }
        // Over-map by one huge page and trim both ends, leaving an aligned 2 MiB.
        const std::size_t span = 2 * huge;
        void* p = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return nullptr;
        const auto start = reinterpret_cast<std::uintptr_t>(p);
        const std::uintptr_t aligned = (start + huge - 1) & ~(std::uintptr_t{huge} - 1);
        if (aligned > start) ::munmap(p, aligned - start);
        if (start + span > aligned + huge) ::munmap(reinterpret_cast<void*>(aligned + huge), start + span - (aligned + huge));
        (void)::madvise(reinterpret_cast<void*>(aligned), huge, MADV_HUGEPAGE);
        return reinterpret_cast<std::byte*>(aligned);
    }
    void unmap_pages(std::byte* base, std::size_t bytes) const noexcept { ::munmap(base, bytes); }

    // StdioProvider: the runner's own descriptors 0, 1 and 2.
    Result<std::size_t> stdio_read(std::span<std::byte> in) const noexcept {
        for (;;) {
            const ssize_t n = ::read(STDIN_FILENO, in.data(), in.size());
            if (n >= 0) return static_cast<std::size_t>(n);
            if (errno != EINTR) return detail::current_errno();
        }
    }
    Result<std::size_t> stdio_write(StdioStream stream, std::span<const std::byte> out) const noexcept {
        if (stream == StdioStream::in) return Errno::badf;
        for (;;) {
            const ssize_t n = ::write(static_cast<int>(stream), out.data(), out.size());
            if (n >= 0) return static_cast<std::size_t>(n);
            if (errno != EINTR) return detail::current_errno();
        }
    }
    bool stdio_is_terminal(StdioStream stream) const noexcept { return ::isatty(static_cast<int>(stream)) == 1; }
    // TerminalProvider: the host terminal's size (TIOCGWINSZ on the runner's descriptor).
    std::optional<WindowSize> terminal_window_size(StdioStream stream) const noexcept {
        struct winsize size {};
        if (::ioctl(static_cast<int>(stream), TIOCGWINSZ, &size) != 0) return std::nullopt;
        return WindowSize{size.ws_row, size.ws_col};
    }

private:
    static void write_all(int fd, const char* data, std::size_t size) noexcept {
        while (size > 0) {
            const ssize_t n = ::write(fd, data, size);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;  // the log never fails its caller
            data += n;
            size -= static_cast<std::size_t>(n);
        }
    }
};

}  // namespace litebox::platform::linux_platform

namespace litebox::platform {
using linux_platform::LinuxPlatform;
}
