// The seccomp supervisor: receives every trapped guest system call, runs the handler (the shim)
// with the guest's memory installed as the current RemoteMemory, and answers. See
// seccomp_handler.hpp for the handler protocol and seccomp_launch.hpp for how a guest starts.
//
// Threads. One notification thread (the caller of run()) blocks in SECCOMP_IOCTL_NOTIF_RECV and
// runs the handler inline: no poll() and no hand-off, so a served call costs one kernel round trip
// (~5 us here with SYNC_WAKE_UP). A call the handler reports as `would_block` goes to a waiter
// thread (a pool that grows on demand up to max_blocked_calls) and runs again there, allowed to
// wait. Running every call on a worker instead adds a cross-thread wake-up to every call
// (measured with SupervisorOptions::all_calls_on_waiters; see bench/runner_syscall.sh). A monitor
// thread polls the guest processes' pidfds. The notification loop ends when RECV fails with
// ENOENT and the listener reports POLLHUP (no task uses the filter), or when the monitor, once the
// initial process is gone, interrupts it with a thread-directed wake signal (needed while other
// processes of the group are still dying, and on kernels whose RECV keeps blocking).
//
// Interruption. The filter is installed with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: once the
// supervisor has received a call, only a fatal signal ends the guest's wait. So a blocked served
// call never vanishes under a waiter (no data is consumed for a reply nobody reads); instead the
// supervisor interrupts it: signal_thread() sends a thread-directed signal and, if Linux would
// interrupt a blocking call for it (not blocked, not ignored), fires the call's interrupt slot;
// the handler returns -ERESTARTSYS and the kernel -- which now sees the pending signal -- runs the
// handler and restarts the call or fails it with EINTR exactly as for a native call. interrupt()
// alone is the hook for signals the kernel raised itself (e.g. SIGCHLD) when the box knows one
// is pending. A process that dies (pidfd readable) has all its blocked calls interrupted. Before
// RECV the wait is still interruptible: a signal then ends the call with -ERESTARTSYS before it
// was served; the supervisor marks its own -ERESTARTSYS answers (take_restart_answer) so that the
// tracer can restart the other kind unconditionally (Tracer::restart_if_unserved).
//
// Processes. The supervisor learns a guest thread at its first trapped call (its thread group
// from /proc/TID/status; its process gets a pidfd, a /proc/PID/mem descriptor and a serial number
// that is never reused). The monitor forgets a process's thread ids as soon as its pidfd reports
// the exit; a thread id could only be misattributed if the kernel cycled through every pid
// (pid_max) between that exit and the monitor's wake-up. (Tracking processes with ptrace events,
// DESIGN.md, makes this exact.) run() returns when the initial process has exited; the rest of
// its process group (background jobs) is killed first.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "remote_memory.hpp"
#include "seccomp_handler.hpp"
#include "seccomp_launch.hpp"
#include "seccomp_notify.hpp"
#include "seccomp_supervisor_detail.hpp"

namespace litebox::platform::linux_platform::seccomp {

/// Calls that may wait at the same time (one waiter thread each). Beyond it a call that would
/// block fails with EAGAIN.
inline constexpr std::size_t default_max_blocked_calls = 256;
/// Guest processes one supervisor serves. Calls from further processes fail with EAGAIN.
inline constexpr std::size_t default_max_guest_processes = 1024;

struct SupervisorOptions {
    std::size_t max_blocked_calls = default_max_blocked_calls;
    std::size_t max_processes = default_max_guest_processes;
    /// Pin the notification thread (the caller of run()) to this CPU for the run (-1: don't).
    int supervisor_cpu = -1;
    /// Measurement switch: run every call on a waiter thread instead of inline (except exit).
    bool all_calls_on_waiters = false;
    /// When the initial process exits, kill what is left of its process group.
    bool kill_group_on_exit = true;
    /// Interrupts the notification thread's blocking receive at the end of a run (thread-directed
    /// with pthread_kill). If the application has no handler for it, a no-op handler with
    /// SA_RESTART is installed: SIGURG is ignored by default, so nothing else changes.
    int wake_signal = SIGURG;
    /// Another component reaps the guest processes (the ptrace tracer, seccomp_tracer.hpp) and
    /// reports each exit with record_exit(); the supervisor then never calls waitid itself.
    bool external_reaper = false;
};

/// How the initial guest process ended.
struct GuestExit {
    int code = 0;    // exit status (0-255) when signal == 0
    int signal = 0;  // the signal that killed it, or 0
    /// The shell's convention: the code, or 128 + the signal.
    [[nodiscard]] int shell_status() const noexcept { return signal != 0 ? 128 + signal : code; }
};

struct SupervisorStats {
    std::uint64_t served_inline = 0;
    std::uint64_t served_on_waiters = 0;
    std::uint64_t overloaded = 0;       // would-block calls refused with EAGAIN (pool full)
    std::uint64_t unattributed = 0;     // calls whose thread could not be identified
};


/// The calling guest thread of one served call (satisfies ServedThread).
class GuestThread {
public:
    GuestThread(const TrappedCall& call, const detail::GuestProcess& process, detail::InterruptSlot* slot,
                const Listener& listener) noexcept
        : m_call(call), m_process(process), m_slot(slot), m_listener(listener) {}
    GuestThread(const GuestThread&) = delete;
    GuestThread& operator=(const GuestThread&) = delete;

    [[nodiscard]] std::int32_t tid() const noexcept { return m_call.tid; }
    [[nodiscard]] std::int32_t pid() const noexcept { return m_process.pid; }
    [[nodiscard]] std::uint64_t process_serial() const noexcept { return m_process.serial; }
    [[nodiscard]] std::uint64_t instruction_pointer() const noexcept { return m_call.instruction_pointer; }
    [[nodiscard]] std::uint64_t notification_id() const noexcept { return m_call.id; }
    /// Argument `i` (0-5) of the call being served, as the guest's registers held it.
    [[nodiscard]] std::uint64_t call_argument(std::size_t i) const noexcept { return i < 6 ? m_call.args[i] : 0; }

    /// False on the notification thread: the handler must return `would_block` instead of waiting.
    [[nodiscard]] bool may_block() const noexcept { return m_slot != nullptr; }
    [[nodiscard]] bool interrupted() const noexcept { return m_slot != nullptr && m_slot->interrupted(); }
    /// Arms `waker` for this call; false if the call is already interrupted -- or cannot block at
    /// all (notification thread) -- in which case the handler must not wait.
    bool arm_interrupt(InterruptWaker& waker) noexcept { return m_slot != nullptr && m_slot->arm(waker); }
    void disarm_interrupt() noexcept {
        if (m_slot != nullptr) m_slot->disarm();
    }

    /// Ends the guest process with `status` once handle() returns (exit_group).
    void exit_process(int status) noexcept { m_exit_status = status; }
    [[nodiscard]] std::optional<int> requested_exit() const noexcept { return m_exit_status; }

    /// Installs a copy of our descriptor `source` in the guest (SECCOMP_IOCTL_NOTIF_ADDFD): at
    /// number `target` if >= 0 (replacing it), else at the lowest free number. Returns the number.
    [[nodiscard]] Result<int> install_fd(int source, int target, bool cloexec) const noexcept {
        return m_listener.add_fd(m_call.id, source, target, cloexec, false);
    }

    /// Serves a file-backed mmap from our descriptor `host_fd` (typically a memfd holding the box
    /// file's bytes): installs it in the guest at the very descriptor number the guest passed,
    /// and has the kernel perform the guest's mmap on it (the reply is CONTINUE; handle()'s return
    /// value is then ignored). Only for the call being served, and only if it is an mmap.
    ///
    /// Why CONTINUE is safe here: mmap takes no pointer, so the kernel re-reads nothing a guest
    /// thread could have changed -- it uses the registers we inspected; and the one object it
    /// touches, the guest's real descriptor at that number, changes only through the supervisor:
    /// every call that creates, duplicates or closes descriptors is served, and the guest's real
    /// descriptor table holds only what ADDFD put there. A mapping that is both MAP_SHARED and
    /// writable would let the guest write into `host_fd`, so it is refused (Errno::acces) unless
    /// `host_fd` is read-only or write-sealed (a read-only `host_fd` also keeps mprotect from
    /// making a shared mapping writable later).
    [[nodiscard]] Result<void> map_from(int host_fd) noexcept {
        if (m_call.nr != SYS_mmap) return Errno::inval;
        const std::uint64_t flags = m_call.args[3];
        if ((flags & MAP_ANONYMOUS) != 0) return Errno::inval;
        const auto number = static_cast<std::uint32_t>(m_call.args[4]);  // the kernel's fget() takes 32 bits
        if (number > static_cast<std::uint32_t>(INT32_MAX)) return Errno::badf;
        const std::uint64_t type = flags & 0x03;  // MAP_TYPE
        if (type != MAP_PRIVATE && detail::writable_unsealed(host_fd)) return Errno::acces;
        LITEBOX_TRY(m_listener.add_fd(m_call.id, host_fd, static_cast<int>(number), /*cloexec=*/true, /*send=*/false));
        m_continue = true;
        return ok();
    }
    /// As map_from, for a writable MAP_SHARED mapping of a box file whose bytes live in
    /// `memfd` (fs::SharedStore, MemfdStore): the guest may write into it, which is the point --
    /// the box reads and writes the same memfd. Refused (Errno::acces) unless `memfd` is a memfd
    /// (it supports seals), so that no host file is ever mapped writable into a guest.
    [[nodiscard]] Result<void> map_shared_from(int memfd) noexcept {
        if (m_call.nr != SYS_mmap) return Errno::inval;
        if ((m_call.args[3] & MAP_ANONYMOUS) != 0) return Errno::inval;
        if (::fcntl(memfd, F_GET_SEALS) < 0) return Errno::acces;
        const auto number = static_cast<std::uint32_t>(m_call.args[4]);
        if (number > static_cast<std::uint32_t>(INT32_MAX)) return Errno::badf;
        LITEBOX_TRY(m_listener.add_fd(m_call.id, memfd, static_cast<int>(number), /*cloexec=*/true, /*send=*/false));
        m_continue = true;
        return ok();
    }
    /// Serves read(2) or readv(2) of a box signalfd (HostSignalFd): installs our signalfd
    /// `host_fd` at the descriptor number the guest passed and has the kernel perform the read
    /// (the reply is CONTINUE). A signalfd reads the pending signals of the thread that reads it,
    /// so the guest dequeues its own signals -- what the native rt_sigtimedwait does -- and the
    /// kernel blocks, honours O_NONBLOCK and is interrupted as Linux does. Safe for the reasons
    /// given at map_from: the kernel uses the registers we inspected, the buffer it writes is the
    /// guest's own memory, and the real descriptor at that number changes only through the
    /// supervisor. Refused (Errno::inval) for any other call, and (Errno::acces) unless `host_fd`
    /// is a signalfd, so that no other host object is ever read by a guest this way.
    [[nodiscard]] Result<void> read_natively_from(int host_fd) noexcept {
        if (m_call.nr != SYS_read && m_call.nr != SYS_readv) return Errno::inval;
        if (!detail::is_signalfd(host_fd)) return Errno::acces;
        const auto number = static_cast<std::uint32_t>(m_call.args[0]);  // fdget() takes 32 bits
        if (number > static_cast<std::uint32_t>(INT32_MAX)) return Errno::badf;
        LITEBOX_TRY(m_listener.add_fd(m_call.id, host_fd, static_cast<int>(number), /*cloexec=*/true, /*send=*/false));
        m_continue = true;
        return ok();
    }
    /// Whether the reply is CONTINUE (after a successful map_from or read_natively_from).
    [[nodiscard]] bool continues() const noexcept { return m_continue; }

private:
    const TrappedCall& m_call;
    const detail::GuestProcess& m_process;
    detail::InterruptSlot* m_slot;
    const Listener& m_listener;
    std::optional<int> m_exit_status;
    bool m_continue = false;
};

static_assert(ServedThread<GuestThread>);

/// The interruption a Supervisor::signal_*_deferred call held back: fire() interrupts the served
/// call the signal was sent to (if Linux would interrupt it for that signal); empty when there is
/// none. Firing after that call was answered is harmless (its slot is no longer armed).
class DeferredInterrupt {
public:
    DeferredInterrupt() = default;
    explicit DeferredInterrupt(std::shared_ptr<detail::BlockedCall> call) noexcept : m_call(std::move(call)) {}
    void fire() noexcept {
        if (m_call) std::exchange(m_call, nullptr)->slot.fire();
    }

private:
    std::shared_ptr<detail::BlockedCall> m_call;
};

/// Serves the guest's trapped system calls with `Handler` (see the file comment).
///
/// Contract: run() returns the initial process's exit (or an Errno if the listener fails); every
/// trapped call is answered exactly once, or not at all when its process is being killed; no
/// exception escapes (a throwing handler answers ENOMEM for bad_alloc, ENOSYS otherwise);
/// interrupt()/signal_thread() may be called from any thread while run() runs. The handler must be
/// thread-safe: calls of different guest threads run concurrently (one inline, others on waiters).
template <typename Handler>
    requires SyscallHandlerFor<Handler, GuestThread>
class Supervisor {
public:
    explicit Supervisor(Handler& handler, SupervisorOptions options = {}) : m_handler(handler), m_options(options) {}
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;
    ~Supervisor() { stop_waiters(); }

    /// Serves `guest` until its initial process exits. The calling thread becomes the
    /// notification thread; a monitor thread watches the guest processes' pidfds.
    Result<GuestExit> run(LaunchedGuest& guest) {
        std::optional<cpu_set_t> saved_affinity;
        if (m_options.supervisor_cpu >= 0) {
            cpu_set_t old_set, new_set;
            CPU_ZERO(&new_set);
            CPU_SET(m_options.supervisor_cpu, &new_set);
            if (::sched_getaffinity(0, sizeof old_set, &old_set) == 0 && ::sched_setaffinity(0, sizeof new_set, &new_set) == 0)
                saved_affinity = old_set;
        }
        // The wake signal must reach this thread: a no-op handler (if the application has none)
        // and unblocked here for the duration of the run.
        detail::install_wake_handler(m_options.wake_signal);
        sigset_t wake_set, saved_mask;
        sigemptyset(&wake_set);
        sigaddset(&wake_set, m_options.wake_signal);
        ::pthread_sigmask(SIG_UNBLOCK, &wake_set, &saved_mask);

        std::shared_ptr<detail::GuestProcess> initial;
        try {
            initial = std::make_shared<detail::GuestProcess>();
            initial->pid = guest.pid;
            initial->initial.store(true);
            initial->listener = &guest.listener;
            initial->pidfd = std::move(guest.pidfd);
            std::lock_guard lock(m_mutex);
            initial->serial = m_next_serial++;
            m_processes[guest.pid] = initial;
            m_done = false;
            m_notifier_done = false;
            m_outcome.reset();
        } catch (const std::bad_alloc&) {
            ::pthread_sigmask(SIG_SETMASK, &saved_mask, nullptr);
            if (saved_affinity) ::sched_setaffinity(0, sizeof *saved_affinity, &*saved_affinity);
            if (guest.pidfd.valid()) (void)::syscall(SYS_pidfd_send_signal, guest.pidfd.get(), SIGKILL, nullptr, 0);
            return Errno::nomem;
        }
        m_notifier = ::pthread_self();
        m_monitor_wake.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        std::optional<Errno> failure;
        if (!m_monitor_wake.valid()) failure = detail::last_errno();
        std::thread monitor;
        if (!failure) {
            try {
                monitor = std::thread([this] { monitor_loop(); });
            } catch (...) {
                failure = Errno::again;
            }
        }

        if (!failure) failure = serve(guest.listener);
        if (failure) {
            // Never leave a guest running unserved: kill it; the monitor then reports the exit.
            if (m_options.kill_group_on_exit) ::kill(-guest.pid, SIGKILL);
            (void)::syscall(SYS_pidfd_send_signal, initial->pidfd.get(), SIGKILL, nullptr, 0);
        }
        {
            std::lock_guard lock(m_mutex);
            m_notifier_done = true;
        }
        m_state_changed.notify_all();
        if (monitor.joinable()) monitor.join();
        stop_listeners();
        stop_waiters();

        std::optional<GuestExit> exit;
        {
            std::lock_guard lock(m_mutex);
            exit = m_outcome;
            m_processes.clear();
            m_threads.clear();
        }
        m_monitor_wake.reset();
        m_adopted.clear();
        ::pthread_sigmask(SIG_SETMASK, &saved_mask, nullptr);
        if (saved_affinity) ::sched_setaffinity(0, sizeof *saved_affinity, &*saved_affinity);
        if (failure) return *failure;
        if (!exit) return Errno::io;
        return *exit;
    }

    /// Serves another launched guest -- a new program image started for execve -- on its own
    /// notification thread. `replaced` (if > 0) is the host process the image replaces: it is
    /// killed and never answered again, and if it was the initial process the new one becomes the
    /// initial process (its exit ends the run). Call only while run() runs.
    Result<void> adopt(std::unique_ptr<LaunchedGuest> guest, pid_t replaced) {
        if (!guest) return Errno::inval;
        auto process = std::make_shared<detail::GuestProcess>();
        process->pid = guest->pid;
        process->listener = &guest->listener;
        process->pidfd = std::move(guest->pidfd);
        std::shared_ptr<detail::GuestProcess> old;
        {
            std::lock_guard lock(m_mutex);
            if (m_stopping_listeners) {
                (void)::syscall(SYS_pidfd_send_signal, process->pidfd.get(), SIGKILL, nullptr, 0);
                return Errno::srch;
            }
            process->serial = m_next_serial++;
            if (replaced > 0) {
                const auto it = m_processes.find(replaced);
                if (it != m_processes.end()) old = it->second;
            }
            if (old) {
                process->initial.store(old->initial.exchange(false));
                old->exiting.store(true, std::memory_order_release);
            }
            m_processes[process->pid] = process;
            const Listener* listener = &guest->listener;
            m_adopted.push_back(std::move(guest));
            auto finished = std::make_shared<std::atomic<bool>>(false);
            m_listener_threads.push_back(ListenerThread{std::thread([this, listener, finished] {
                                                            serve_adopted(*listener);
                                                            finished->store(true, std::memory_order_release);
                                                        }),
                                                        finished});
        }
        if (old) (void)::syscall(SYS_pidfd_send_signal, old->pidfd.get(), SIGKILL, nullptr, 0);
        notify_monitor();
        return ok();
    }

    /// With SupervisorOptions::external_reaper: the wait status of guest process `pid`, which the
    /// caller has reaped.
    void record_exit(pid_t pid, int wait_status) noexcept {
        {
            std::lock_guard lock(m_mutex);
            const auto it = m_processes.find(pid);
            if (it != m_processes.end()) {
                it->second->host_status.store(wait_status, std::memory_order_release);
            } else {
                // The monitor may already have dropped the process from the table (it is waiting
                // for this status if that was the initial process). Bounded: stale entries of
                // other processes go when it overflows.
                if (m_reaped.size() >= m_options.max_processes) m_reaped.clear();
                m_reaped[pid] = wait_status;
            }
        }
        m_state_changed.notify_all();
    }

    /// Interrupts the served call thread `tid` is blocked in, if it is on a waiter (thread-safe).
    void interrupt(pid_t tid) noexcept {
        std::shared_ptr<detail::BlockedCall> blocked;
        {
            std::lock_guard lock(m_mutex);
            const auto it = m_blocked.find(tid);
            if (it != m_blocked.end()) blocked = it->second;
        }
        if (blocked) blocked->slot.fire();
    }

    /// Sends `sig` to guest thread `tid` of process `pid` (a process this supervisor serves) and
    /// interrupts its blocked served call if Linux would. Errno::srch for an unknown process.
    /// With `info` the signal carries that siginfo (rt_tgsigqueueinfo): the kernel accepts only
    /// a negative si_code other than SI_TKILL from another process (SI_QUEUE, SI_TIMER, ...).
    Result<void> signal_thread(pid_t pid, pid_t tid, int sig, const siginfo_t* info = nullptr) noexcept {
        auto sent = signal_thread_deferred(pid, tid, sig, info);
        if (!sent) return sent.error();
        sent->fire();
        return ok();
    }
    /// signal_thread, except that the blocked call is interrupted only when the result fires:
    /// the signal is pending on the thread at return, its served call not yet answered.
    Result<DeferredInterrupt> signal_thread_deferred(pid_t pid, pid_t tid, int sig, const siginfo_t* info = nullptr) noexcept {
        std::shared_ptr<detail::BlockedCall> blocked;
        {
            std::lock_guard lock(m_mutex);
            if (m_processes.find(pid) == m_processes.end()) return Errno::srch;
            const auto it = m_blocked.find(tid);
            if (it != m_blocked.end() && it->second->process->pid == pid) blocked = it->second;
        }
        // Decide before sending (the thread's mask cannot change while it waits for us), fire only
        // the call captured before the signal went out, so a later call never sees a stale
        // interruption without a pending signal.
        const bool interrupts = blocked && detail::signal_would_interrupt(pid, tid, sig, wait_mask(tid));
        const long sent = info != nullptr ? ::syscall(SYS_rt_tgsigqueueinfo, pid, tid, sig, info) : ::syscall(SYS_tgkill, pid, tid, sig);
        if (sent != 0) return detail::last_errno();
        return interrupts ? DeferredInterrupt(std::move(blocked)) : DeferredInterrupt();
    }

    /// Sends `sig` to guest process `pid` (kill semantics). If a thread of it is blocked in a
    /// served call that Linux would interrupt, the signal goes to that thread (thread-directed:
    /// a -ERESTARTSYS answer needs the signal pending on the very thread it answers) and the call
    /// is interrupted; otherwise it is sent to the process through its pidfd (no pid-reuse race).
    /// Errno::srch for a process this supervisor does not serve: a guest cannot reach the host.
    Result<void> signal_process(pid_t pid, int sig, const siginfo_t* info = nullptr) noexcept {
        auto sent = signal_process_deferred(pid, sig, info);
        if (!sent) return sent.error();
        sent->fire();
        return ok();
    }
    /// signal_process, with the interruption of a blocked call left to the result (see
    /// signal_thread_deferred): a runtime raises SIGCHLD this way before a child's exit becomes
    /// visible, and interrupts the parent's blocking call after its wait4 could see the exit.
    /// `info`: as for signal_thread (pidfd_send_signal checks it the same way).
    Result<DeferredInterrupt> signal_process_deferred(pid_t pid, int sig, const siginfo_t* info = nullptr) noexcept {
        std::vector<pid_t> blocked_tids;
        std::shared_ptr<detail::GuestProcess> process;
        try {
            std::lock_guard lock(m_mutex);
            const auto it = m_processes.find(pid);
            if (it == m_processes.end()) return Errno::srch;
            process = it->second;
            for (const auto& [tid, call] : m_blocked)
                if (call->process == process) blocked_tids.push_back(tid);
        } catch (const std::bad_alloc&) {
            return Errno::nomem;
        }
        for (const pid_t tid : blocked_tids)
            if (detail::signal_would_interrupt(pid, tid, sig, wait_mask(tid))) return signal_thread_deferred(pid, tid, sig, info);
        if (::syscall(SYS_pidfd_send_signal, process->pidfd.get(), sig, info, 0) != 0) return detail::last_errno();
        return DeferredInterrupt();
    }

    /// Whether the supervisor itself answered thread `tid`'s last served call with -ERESTARTSYS
    /// (a blocked call it interrupted for a signal); the mark is consumed. The kernel ends a call
    /// a signal cut off before RECV with the same code: the tracer tells the two apart with this
    /// at the signal-delivery stop (Tracer::restart_if_unserved). Thread-safe.
    bool take_restart_answer(pid_t tid) noexcept {
        if (m_restart_answer_count.load(std::memory_order_acquire) == 0) return false;
        std::lock_guard lock(m_mutex);
        if (m_restart_answers.erase(tid) == 0) return false;
        m_restart_answer_count.store(m_restart_answers.size(), std::memory_order_release);
        return true;
    }

    [[nodiscard]] SupervisorStats stats() const noexcept {
        SupervisorStats s;
        s.served_inline = m_served_inline.load(std::memory_order_relaxed);
        s.served_on_waiters = m_served_on_waiters.load(std::memory_order_relaxed);
        s.overloaded = m_overloaded.load(std::memory_order_relaxed);
        s.unattributed = m_unattributed.load(std::memory_order_relaxed);
        return s;
    }

private:
    /// The temporary mask thread `tid`'s blocked call waits with, when the handler keeps one
    /// (`std::optional<std::uint64_t> wait_mask(pid_t)`): ppoll, pselect6 and epoll_pwait are served
    /// while the host thread keeps its own mask, so the call's mask decides what interrupts it.
    std::optional<std::uint64_t> wait_mask(pid_t tid) {
        if constexpr (requires(Handler& h) {
                          { h.wait_mask(tid) } -> std::same_as<std::optional<std::uint64_t>>;
                      })
            return m_handler.wait_mask(tid);
        else
            return std::nullopt;
    }

    /// The notification loop of one listener: block in RECV, serve, repeat. Only the wake signal
    /// (sent once the initial process is gone), the listener's last task leaving, or a listener
    /// failure ends it.
    std::optional<Errno> serve(const Listener& listener) {
        while (!m_done.load(std::memory_order_acquire)) {
            TrappedCall call;
            const auto received = listener.receive(call);
            if (received.has_value()) {
                try {
                    dispatch(call, listener);
                } catch (...) {  // allocation failure in the supervisor's own tables
                    reply(listener, call.id, -static_cast<std::int64_t>(errno_number(Errno::nomem)));
                }
            } else if (received.error() == Errno::noent) {
                // The caller died before we read its call -- or no task uses the filter any more
                // (Linux 6.x then fails RECV at once instead of blocking): stop receiving and let
                // the monitor report the exit, rather than spin.
                const auto readable = listener.wait_readable(0);
                if (!readable.has_value() && readable.error() == Errno::pipe) break;
            } else if (received.error() != Errno::intr) {
                return received.error();
            }
        }
        return std::nullopt;
    }

    void serve_adopted(const Listener& listener) noexcept {
        sigset_t wake_set;
        sigemptyset(&wake_set);
        sigaddset(&wake_set, m_options.wake_signal);
        ::pthread_sigmask(SIG_UNBLOCK, &wake_set, nullptr);
        for (;;) {
            try {
                (void)serve(listener);
                return;
            } catch (...) {
                ::usleep(1000);
            }
        }
    }

    /// End of the run: kill every guest process still alive and stop the adopted listeners'
    /// threads.
    void stop_listeners() noexcept {
        std::vector<ListenerThread> threads;
        m_done.store(true, std::memory_order_release);
        {
            std::lock_guard lock(m_mutex);
            m_stopping_listeners = true;
            for (auto& [pid, process] : m_processes) (void)::syscall(SYS_pidfd_send_signal, process->pidfd.get(), SIGKILL, nullptr, 0);
            threads.swap(m_listener_threads);
        }
        for (auto& listener : threads) {
            // Its RECV ends with the wake signal (or when its last task is gone).
            detail::wake_until(listener.thread.native_handle(), m_options.wake_signal, *listener.finished, 2'000'000);
            listener.thread.join();
        }
        std::lock_guard lock(m_mutex);
        m_stopping_listeners = false;
    }

    std::int64_t invoke(GuestThread& thread, const TrappedCall& call) noexcept {
        SyscallArgs args;
        for (std::size_t i = 0; i < args.size(); ++i) args[i] = call.args[i];
        try {
            return m_handler.handle(thread, call.nr, args);
        } catch (const std::bad_alloc&) {
            return -static_cast<std::int64_t>(errno_number(Errno::nomem));
        } catch (...) {
            return -static_cast<std::int64_t>(errno_number(Errno::nosys));
        }
    }

    static void reply(const Listener& listener, std::uint64_t id, std::int64_t result) noexcept {
        (void)listener.respond_raw(id, result);
    }

    /// Answers a served call, marking the thread when the answer is -ERESTARTSYS (see
    /// take_restart_answer) -- before the reply, which lets the thread run on to its
    /// signal-delivery stop.
    void answer(const Listener& listener, const TrappedCall& call, std::int64_t result) noexcept {
        if (result == -restart_sys) {
            try {
                std::lock_guard lock(m_mutex);
                m_restart_answers.insert(call.tid);
                m_restart_answer_count.store(m_restart_answers.size(), std::memory_order_release);
            } catch (...) {  // unmarked: the tracer then restarts it (the pre-RECV rule)
            }
        }
        reply(listener, call.id, result);
    }

    /// A mark left by an answer that reached no signal-delivery stop (the signal was gone): the
    /// thread's next call ends it.
    void clear_restart_answer(pid_t tid) noexcept { (void)take_restart_answer(tid); }

    void dispatch(const TrappedCall& call, const Listener& listener) {
        auto process = process_of(call, listener);
        if (!process) {
            m_unattributed.fetch_add(1, std::memory_order_relaxed);
            reply(listener, call.id, -static_cast<std::int64_t>(errno_number(Errno::again)));
            return;
        }
        if (process->exiting.load(std::memory_order_acquire)) return;  // being killed: no answer
        clear_restart_answer(call.tid);
        if (m_options.all_calls_on_waiters && call.nr != SYS_exit) {
            hand_to_waiter(call, std::move(process));
            return;
        }
        GuestThread thread(call, *process, nullptr, listener);
        const RemoteMemory memory(call.tid, process->mem.get(), &listener, call.id);
        const ScopedRemoteMemory scope(memory);
        const std::int64_t result = invoke(thread, call);
        if (const auto status = thread.requested_exit()) {
            exit_process(*process, *status);
            return;
        }
        if (call.nr == SYS_exit) {
            // One thread ends. Forget its id first (the kernel may reuse it as soon as the thread
            // is gone), then let the kernel run exit: it takes a single integer, so CONTINUE
            // cannot be fooled by guest memory. The handler saw the call for its bookkeeping.
            {
                std::lock_guard lock(m_mutex);
                m_threads.erase(call.tid);
            }
            (void)listener.continue_unchecked(call.id);
            return;
        }
        if (result == would_block) {
            hand_to_waiter(call, std::move(process));
            return;
        }
        m_served_inline.fetch_add(1, std::memory_order_relaxed);
        if (thread.continues())
            (void)listener.continue_unchecked(call.id);  // map_from: see its comment
        else
            answer(listener, call, result);
    }

    /// The process of the calling thread: cached, or learnt now (and then validated).
    std::shared_ptr<detail::GuestProcess> process_of(const TrappedCall& call, const Listener& listener) {
        {
            std::lock_guard lock(m_mutex);
            const auto it = m_threads.find(call.tid);
            if (it != m_threads.end()) return it->second;
        }
        const auto tgid = detail::thread_group_of(call.tid);
        if (!tgid) return nullptr;
        std::shared_ptr<detail::GuestProcess> process;
        bool added = false;
        {
            std::lock_guard lock(m_mutex);
            const auto it = m_processes.find(*tgid);
            if (it != m_processes.end()) {
                process = it->second;
            } else {
                if (m_processes.size() >= m_options.max_processes) return nullptr;
                UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, *tgid, 0)));
                if (!pidfd.valid()) return nullptr;
                process = std::make_shared<detail::GuestProcess>();
                process->pid = *tgid;
                process->listener = &listener;
                process->serial = m_next_serial++;
                if (const auto reaped = m_reaped.find(*tgid); reaped != m_reaped.end()) m_reaped.erase(reaped);
                process->pidfd = std::move(pidfd);
                m_processes[*tgid] = process;
                added = true;
            }
        }
        if (added) notify_monitor();
        if (!process->mem_tried) {
            // Only this thread opens it, once, before any call of the process reaches a waiter; the
            // descriptor is bound to the address space it opens (execve is never native).
            process->mem_tried = true;
            char path[64];
            std::snprintf(path, sizeof path, "/proc/%d/mem", static_cast<int>(process->pid));
            process->mem.reset(::open(path, O_RDONLY | O_CLOEXEC));
        }
        // The thread is still blocked in this call, so tid -> tgid and the descriptors refer to it.
        if (!listener.id_valid(call.id)) return nullptr;
        std::lock_guard lock(m_mutex);
        m_threads[call.tid] = process;
        return process;
    }

    void exit_process(detail::GuestProcess& process, int status) noexcept {
        process.box_status.store(status & 0xff, std::memory_order_release);
        process.exiting.store(true, std::memory_order_release);
        (void)::syscall(SYS_pidfd_send_signal, process.pidfd.get(), SIGKILL, nullptr, 0);
        // With an external reaper the initial process's exit ends the run at once: its status is
        // the box's, so waiting for the kernel to tear the process down and for the reaper to
        // report it (~0.3 ms) would only delay the runtime. (Without one, the monitor still reaps
        // it first.) The monitor sees the outcome, wakes the notification thread and returns.
        if (!m_options.external_reaper || !process.initial.load()) return;
        if (m_options.kill_group_on_exit) ::kill(-process.pid, SIGKILL);  // not reaped yet: SIGKILL only just sent
        {
            std::lock_guard lock(m_mutex);
            if (!m_outcome) {
                GuestExit exit;
                exit.code = status & 0xff;
                m_outcome = exit;
            }
        }
        m_done.store(true, std::memory_order_release);
        notify_monitor();
    }

    /// A process's pidfd became readable (or the run is being torn down). Returns the exit of the
    /// initial process when that is the one.
    std::optional<GuestExit> on_process_exit(const std::shared_ptr<detail::GuestProcess>& process) {
        std::vector<std::shared_ptr<detail::BlockedCall>> to_interrupt;
        {
            std::lock_guard lock(m_mutex);
            for (auto it = m_threads.begin(); it != m_threads.end();) {
                if (it->second == process) {
                    m_restart_answers.erase(it->first);
                    it = m_threads.erase(it);
                } else {
                    ++it;
                }
            }
            m_restart_answer_count.store(m_restart_answers.size(), std::memory_order_release);
            for (auto& [tid, blocked] : m_blocked)
                if (blocked->process == process) to_interrupt.push_back(blocked);
            if (const auto it = m_processes.find(process->pid); it != m_processes.end() && it->second == process) m_processes.erase(it);
        }
        for (auto& blocked : to_interrupt) blocked->slot.fire();
        if (!process->initial.load()) return std::nullopt;
        // Still a zombie, so its pid (and process group id) cannot have been reused yet.
        if (m_options.kill_group_on_exit) ::kill(-process->pid, SIGKILL);
        siginfo_t info{};
        int rc = -1;
        GuestExit exit;
        const int box_status = process->box_status.load(std::memory_order_acquire);
        if (m_options.external_reaper) {
            // The reaper reports the status soon after the pidfd became readable.
            std::unique_lock lock(m_mutex);
            const auto recorded = [&] {
                if (process->host_status.load(std::memory_order_acquire) >= 0) return true;
                const auto it = m_reaped.find(process->pid);
                if (it == m_reaped.end()) return false;
                process->host_status.store(it->second, std::memory_order_release);
                return true;
            };
            m_state_changed.wait_for(lock, std::chrono::seconds(2), recorded);
            const int status = process->host_status.load(std::memory_order_acquire);
            if (status >= 0) {
                rc = 0;
                if (WIFEXITED(status)) {
                    info.si_code = CLD_EXITED;
                    info.si_status = WEXITSTATUS(status);
                } else {
                    info.si_code = CLD_KILLED;
                    info.si_status = WTERMSIG(status);
                }
            }
        } else {
            do {
                rc = ::waitid(static_cast<idtype_t>(3 /*P_PIDFD*/), static_cast<id_t>(process->pidfd.get()), &info, WEXITED | WNOHANG);
            } while (rc < 0 && errno == EINTR);
        }
        if (box_status >= 0) {
            exit.code = box_status;
        } else if (rc == 0 && info.si_code == CLD_EXITED) {
            exit.code = info.si_status;
        } else if (rc == 0 && (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED)) {
            exit.signal = info.si_status;
        } else {
            exit.signal = SIGKILL;
        }
        return exit;
    }

    /// Watches the pidfds of the guest processes (and an eventfd that says "the set changed").
    /// Handles each exit; when the initial process is gone, records the outcome and wakes the
    /// notification thread until it acknowledges (a signal that arrives just before it enters
    /// RECV would otherwise be lost).
    void monitor_loop() noexcept {
        for (;;) {
            try {
                monitor_rounds();
                return;
            } catch (...) {  // allocation failure: try again shortly
                ::usleep(1000);
            }
        }
    }

    void monitor_rounds() {
        std::vector<struct pollfd> fds;
        std::vector<std::shared_ptr<detail::GuestProcess>> polled;
        for (;;) {
            {
                std::lock_guard lock(m_mutex);
                polled.clear();
                for (auto& [pid, process] : m_processes) polled.push_back(process);
            }
            fds.clear();
            fds.push_back(pollfd{m_monitor_wake.get(), POLLIN, 0});
            for (const auto& process : polled) fds.push_back(pollfd{process->pidfd.get(), POLLIN, 0});
            if (::poll(fds.data(), fds.size(), -1) < 0) {
                if (errno == EINTR) continue;
                ::usleep(1000);  // cannot happen with valid descriptors; don't spin
                continue;
            }
            if ((fds[0].revents & POLLIN) != 0) {
                std::uint64_t drained;
                (void)!::read(m_monitor_wake.get(), &drained, sizeof drained);
                bool decided = false;
                {
                    std::lock_guard lock(m_mutex);
                    decided = m_outcome.has_value();
                }
                if (decided) {  // exit_process() ended the run
                    wake_notifier_until_acknowledged();
                    return;
                }
            }
            for (std::size_t i = 1; i < fds.size(); ++i) {
                if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
                if (auto exit = on_process_exit(polled[i - 1])) {
                    {
                        std::lock_guard lock(m_mutex);
                        if (!m_outcome) m_outcome = *exit;  // exit_process() may have decided first
                    }
                    m_done.store(true, std::memory_order_release);
                    wake_notifier_until_acknowledged();
                    return;
                }
            }
        }
    }

    void wake_notifier_until_acknowledged() noexcept {
        std::unique_lock lock(m_mutex);
        while (!m_notifier_done) {
            ::pthread_kill(m_notifier, m_options.wake_signal);
            m_state_changed.wait_for(lock, std::chrono::milliseconds(2));
        }
    }

    void notify_monitor() noexcept {
        if (!m_monitor_wake.valid()) return;
        const std::uint64_t one = 1;
        (void)!::write(m_monitor_wake.get(), &one, sizeof one);
    }

    void hand_to_waiter(const TrappedCall& call, std::shared_ptr<detail::GuestProcess> process) {
        auto blocked = std::make_shared<detail::BlockedCall>();
        blocked->call = call;
        blocked->process = std::move(process);
        std::shared_ptr<detail::BlockedCall> stale;
        bool spawn = false;
        {
            std::lock_guard lock(m_mutex);
            if (m_stopping || (m_idle_waiters <= m_queue.size() && m_waiters.size() >= m_options.max_blocked_calls)) {
                m_overloaded.fetch_add(1, std::memory_order_relaxed);
                reply(*blocked->process->listener, call.id, -static_cast<std::int64_t>(errno_number(Errno::again)));
                return;
            }
            // A thread has one call at a time; an entry left over means that call is gone.
            auto& slot = m_blocked[call.tid];
            stale = std::exchange(slot, blocked);
            m_queue.push_back(blocked);
            spawn = m_idle_waiters < m_queue.size();
            if (spawn) {
                try {
                    m_waiters.emplace_back([this] { waiter_loop(); });
                } catch (...) {
                    m_queue.pop_back();
                    m_blocked.erase(call.tid);
                    m_overloaded.fetch_add(1, std::memory_order_relaxed);
                    reply(*blocked->process->listener, call.id, -static_cast<std::int64_t>(errno_number(Errno::again)));
                    spawn = false;
                    blocked.reset();
                }
            }
        }
        if (stale) stale->slot.fire();
        if (blocked && !spawn) m_queue_ready.notify_one();
    }

    void waiter_loop() noexcept {
        for (;;) {
            std::shared_ptr<detail::BlockedCall> job;
            {
                std::unique_lock lock(m_mutex);
                ++m_idle_waiters;
                m_queue_ready.wait(lock, [&] { return m_stopping || !m_queue.empty(); });
                --m_idle_waiters;
                if (m_queue.empty()) return;  // stopping and drained
                job = std::move(m_queue.front());
                m_queue.pop_front();
            }
            const TrappedCall& call = job->call;
            const Listener& listener = *job->process->listener;
            GuestThread thread(call, *job->process, &job->slot, listener);
            std::int64_t result;
            {
                const RemoteMemory memory(call.tid, job->process->mem.get(), &listener, call.id);
                const ScopedRemoteMemory scope(memory);
                result = invoke(thread, call);
            }
            {
                std::lock_guard lock(m_mutex);
                const auto it = m_blocked.find(call.tid);
                if (it != m_blocked.end() && it->second == job) m_blocked.erase(it);
            }
            if (const auto status = thread.requested_exit()) {
                exit_process(*job->process, *status);
                continue;
            }
            if (result == would_block) result = -static_cast<std::int64_t>(errno_number(Errno::again));  // contract breach
            m_served_on_waiters.fetch_add(1, std::memory_order_relaxed);
            if (thread.continues())
                (void)listener.continue_unchecked(call.id);  // map_from: see its comment
            else
                answer(listener, call, result);
        }
    }

    void stop_waiters() noexcept {
        std::vector<std::thread> waiters;
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
            // Fired under the table lock (no allocation here); lock order: table, slot, handler.
            for (auto& [tid, call] : m_blocked) call->slot.fire();
        }
        m_queue_ready.notify_all();
        {
            std::lock_guard lock(m_mutex);
            waiters.swap(m_waiters);
        }
        for (auto& waiter : waiters)
            if (waiter.joinable()) waiter.join();
        std::lock_guard lock(m_mutex);
        m_blocked.clear();
        m_stopping = false;
    }

    Handler& m_handler;
    SupervisorOptions m_options;

    std::mutex m_mutex;  // guards everything below except the atomics
    std::unordered_map<pid_t, std::shared_ptr<detail::GuestProcess>> m_processes;  // by pid
    std::unordered_map<pid_t, std::shared_ptr<detail::GuestProcess>> m_threads;    // by tid
    std::unordered_map<pid_t, std::shared_ptr<detail::BlockedCall>> m_blocked;     // by tid
    std::deque<std::shared_ptr<detail::BlockedCall>> m_queue;
    std::condition_variable m_queue_ready;
    std::vector<std::thread> m_waiters;
    std::size_t m_idle_waiters = 0;
    bool m_stopping = false;
    std::uint64_t m_next_serial = 1;
    std::vector<std::unique_ptr<LaunchedGuest>> m_adopted;  // images started for execve
    struct ListenerThread {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> finished;
    };
    std::vector<ListenerThread> m_listener_threads;         // their notification threads
    bool m_stopping_listeners = false;
    std::unordered_map<pid_t, int> m_reaped;                // record_exit() before the process was known
    std::unordered_set<pid_t> m_restart_answers;            // tids answered -ERESTARTSYS (take_restart_answer)
    std::atomic<std::size_t> m_restart_answer_count{0};     // its size, read without the lock
    std::condition_variable m_state_changed;   // m_notifier_done
    bool m_notifier_done = false;
    std::optional<GuestExit> m_outcome;
    std::atomic<bool> m_done{false};           // the initial process is gone
    pthread_t m_notifier{};
    UniqueFd m_monitor_wake;                   // eventfd: the process set changed

    std::atomic<std::uint64_t> m_served_inline{0};
    std::atomic<std::uint64_t> m_served_on_waiters{0};
    std::atomic<std::uint64_t> m_overloaded{0};
    std::atomic<std::uint64_t> m_unattributed{0};
};

}  // namespace litebox::platform::linux_platform::seccomp
