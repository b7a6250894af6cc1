// HostSignalFd<P>: signalfd(2) for a runtime whose guests' signals the host kernel holds -- the
// seccomp runtime (litebox-run), where signal masks, handlers and pending signals are the guest
// threads' own and only their senders (kill, timers, child exits) go through the supervisor.
//
// The descriptor is an ordinary box descriptor (the box's table, RLIMIT_NOFILE, dup, fork, close)
// whose object holds the supervisor's own signalfd with the guest's mask. Linux's signalfd reads
// and polls the signals of the thread that reads or polls it, not of its creator, so:
//   * read(2)/readv(2): the runtime installs the host signalfd at the descriptor's number in the
//     calling guest process and lets the kernel run the read (GuestThread::read_natively_from):
//     the guest dequeues its own pending signals, as the native rt_sigtimedwait does, with Linux's
//     blocking, O_NONBLOCK, EINVAL for short buffers and signal interruption.
//   * poll/select/epoll (served): readiness is computed for the served thread (the runtime sets
//     `served_thread_id` around each call), from its thread-pending and process-pending sets in
//     the host's /proc/TID/status. Waiters are woken by notify_signal(), which the runtime calls
//     after it sends a signal to a box process, and in any case re-check every `recheck_period`
//     (the Pollee is timed), which covers signals the kernel generates itself.
//   * Signals a runtime holds itself for the box (`QueuedSignals`: litebox-run's SIGCHLD with
//     the codes the host lets no other process send) count as pending too; the runtime serves a
//     read from them before it lets the kernel read.
//   * The object's read() is never the way in (it would dequeue the supervisor's signals):
//     EINVAL, as Linux answers splice or sendfile from a signalfd.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "../../error.hpp"
#include "../../event/pollee.hpp"
#include "../../fd/open_file.hpp"
#include "../../ipc/detail/anon_inode.hpp"
#include "seccomp_notify.hpp"

namespace litebox::platform::linux_platform {

/// The host thread id of the guest thread whose call the current thread is serving (0: none).
/// Set by the runtime around each served call; HostSignalFd::poll reports that thread's signals.
inline thread_local pid_t served_thread_id = 0;

/// The signal sets of host thread `tid` in the host's /proc/TID/status, bit N-1 for signal N as
/// in a sigset: pending for the thread (SigPnd) and for its process (ShdPnd), and blocked (SigBlk).
struct HostSignalSets {
    std::uint64_t thread_pending = 0, process_pending = 0, blocked = 0;
    [[nodiscard]] std::uint64_t pending() const noexcept { return thread_pending | process_pending; }
};

/// HostSignalSets of host thread `tid`; nullopt if the thread is gone.
inline std::optional<HostSignalSets> host_signal_sets(pid_t tid) noexcept {
    char path[48];
    std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(tid));
    UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return std::nullopt;
    char text[4096];
    std::size_t used = 0;
    while (used + 1 < sizeof text) {
        const ssize_t n = ::read(fd.get(), text + used, sizeof text - 1 - used);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        used += static_cast<std::size_t>(n);
    }
    text[used] = '\0';
    HostSignalSets sets;
    const std::pair<const char*, std::uint64_t*> fields[] = {
        {"\nSigPnd:", &sets.thread_pending}, {"\nShdPnd:", &sets.process_pending}, {"\nSigBlk:", &sets.blocked}};
    for (const auto& [key, value] : fields) {
        const char* at = std::strstr(text, key);
        if (at == nullptr) return std::nullopt;
        *value = std::strtoull(at + std::strlen(key), nullptr, 16);
    }
    return sets;
}

/// The signals a runtime holds for the process of host thread `tid` (see above), as a sigset.
using QueuedSignals = std::function<std::uint64_t(pid_t tid)>;

template <typename P>
class HostSignalFd final : public fd::OpenFile<P>, private event::DeadlineSource<P> {
public:
    using Instant = typename P::Instant;
    /// How often a waiter re-checks without a notification (signals the kernel sends itself).
    static constexpr std::int64_t recheck_period_ns = 10'000'000;
    /// SIGKILL and SIGSTOP: never read through a signalfd (Linux drops them from the mask).
    static constexpr std::uint64_t unreadable = (1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1));

    /// A new signalfd with `mask` (a kernel sigset) and `nonblocking` as O_NONBLOCK.
    static Result<std::shared_ptr<HostSignalFd>> create(const P& platform, std::uint64_t mask, bool nonblocking,
                                                        QueuedSignals queued = {}) {
        mask &= ~unreadable;
        sigset_t set;
        to_sigset(mask, set);
        UniqueFd host(::signalfd(-1, &set, SFD_CLOEXEC | (nonblocking ? SFD_NONBLOCK : 0)));
        if (!host.valid()) return detail::last_errno();
        return std::shared_ptr<HostSignalFd>(new HostSignalFd(platform, std::move(host), mask, nonblocking, std::move(queued)));
    }
    ~HostSignalFd() override = default;

    /// The supervisor's signalfd, to install in a guest for a read.
    [[nodiscard]] int host_descriptor() const noexcept { return m_host.get(); }
    [[nodiscard]] std::uint64_t mask() const noexcept { return m_mask.load(std::memory_order_relaxed); }

    /// signalfd4(2) on an existing descriptor: replaces the mask.
    Result<void> set_mask(std::uint64_t mask) {
        mask &= ~unreadable;
        sigset_t set;
        to_sigset(mask, set);
        if (::signalfd(m_host.get(), &set, 0) < 0) return detail::last_errno();
        m_mask.store(mask, std::memory_order_relaxed);
        m_pollee.notify(fd::events::in | fd::events::rdnorm);
        return ok();
    }

    /// A signal was sent to a box process: waiters re-check (a hint; poll() decides).
    void notify_signal() { m_pollee.notify(fd::events::in | fd::events::rdnorm); }

    Result<std::size_t> read(std::span<std::byte> /*out*/) override { return Errno::inval; }
    Result<fd::Stat> stat() override { return ipc::detail::anonymous_stat(m_inode, 0600); }
    [[nodiscard]] std::string_view anonymous_name() const noexcept override { return "[signalfd]"; }
    /// Linux's line: the mask as "%016llx" (SIGKILL and SIGSTOP never in it).
    [[nodiscard]] std::string fdinfo_lines() override {
        std::string hex(16, '0');
        std::uint64_t value = mask();
        for (std::size_t at = hex.size(); at-- > 0; value >>= 4) hex[at] = "0123456789abcdef"[value & 0xf];
        return "sigmask:\t" + hex + "\n";
    }

    fd::Events poll(fd::Events /*interest*/) override {
        const pid_t tid = served_thread_id;
        bool ready = false;
        if (tid > 0) {
            const auto sets = host_signal_sets(tid);
            ready = sets && (sets->pending() & mask()) != 0;
            if (!ready && m_queued) ready = (m_queued(tid) & mask()) != 0;
        }
        // Readiness seen for the first time is a change: tell observers (epoll, other waiters).
        if (ready && !m_seen_ready.exchange(true, std::memory_order_relaxed)) m_pollee.notify(fd::events::in | fd::events::rdnorm);
        if (!ready) m_seen_ready.store(false, std::memory_order_relaxed);
        return ready ? (fd::events::in | fd::events::rdnorm) : fd::Events{0};
    }
    event::Pollee<P>* pollee() noexcept override { return &m_pollee; }

    /// F_SETFL: O_NONBLOCK also on the host signalfd, whose flags the guest's native read uses.
    Result<void> set_status_flags(std::uint32_t flags) override {
        LITEBOX_TRY(fd::OpenFile<P>::set_status_flags(flags));
        const int current = ::fcntl(m_host.get(), F_GETFL);
        if (current < 0) return detail::last_errno();
        const int next = this->nonblocking() ? (current | O_NONBLOCK) : (current & ~O_NONBLOCK);
        if (next != current && ::fcntl(m_host.get(), F_SETFL, next) < 0) return detail::last_errno();
        return ok();
    }

private:
    HostSignalFd(const P& platform, UniqueFd host, std::uint64_t mask, bool nonblocking, QueuedSignals queued)
        : fd::OpenFile<P>(fd::open_flags::read_write | (nonblocking ? fd::open_flags::nonblock : 0)), m_platform(&platform),
          m_host(std::move(host)), m_mask(mask), m_queued(std::move(queued)), m_pollee(this),
          m_inode(ipc::detail::allocate_anonymous_inode()) {}

    /// The kernel's 64-bit sigset at the start of a sigset_t (what signalfd passes on; glibc's
    /// sigaddset would refuse its own internal signals 32 and 33, which a guest may block).
    static void to_sigset(std::uint64_t mask, sigset_t& set) noexcept {
        std::memset(&set, 0, sizeof set);
        static_assert(sizeof set >= sizeof mask);
        std::memcpy(&set, &mask, sizeof mask);
    }

    std::optional<Instant> next_deadline() override {
        return m_platform->now().checked_add(platform::Duration{recheck_period_ns});
    }

    const P* m_platform;
    UniqueFd m_host;
    std::atomic<std::uint64_t> m_mask;
    QueuedSignals m_queued;
    std::atomic<bool> m_seen_ready{false};
    event::Pollee<P> m_pollee;
    std::uint64_t m_inode;
};

}  // namespace litebox::platform::linux_platform
