// The shim's process model, independent of the host: threads, processes, credentials, the shared
// file-system context (cwd, umask), resource limits and signal bookkeeping.
//
// Contract:
// - A Thread belongs to exactly one Process for its whole life; its tid is unique in the box.
//   A Process's pid equals its first thread's tid and never changes.
// - Per-process state (credentials, limits, program identity) is reachable only through the
//   process's lock; relations between processes (parent, group, session, zombie status) belong to
//   the ProcessTable and are reachable only through its lock (task_table.hpp).
// - Signals are bookkeeping: the shim records pending and blocked sets and dispositions, wakes a
//   thread blocked in the shim (EINTR) and hands signals to the runtime, which delivers them.
// - Lock order: table -> process state -> process signals -> thread signals.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../fd/table.hpp"
#include "../../fs/location.hpp"
#include "../../event/waiter.hpp"
#include "../../sync/condvar.hpp"
#include "../../sync/mutex.hpp"
#include "abi.hpp"
#include "constants.hpp"

namespace litebox::shim::linux_abi {

/// Real, effective, saved and file-system ids plus supplementary groups. "Privileged" means
/// effective uid 0 (the shim models capabilities as Linux does for a root-uid process).
struct Credentials {
    std::uint32_t ruid = 0, euid = 0, suid = 0, fsuid = 0;
    std::uint32_t rgid = 0, egid = 0, sgid = 0, fsgid = 0;
    std::vector<std::uint32_t> groups;

    static Credentials of(std::uint32_t uid, std::uint32_t gid) {
        return Credentials{uid, uid, uid, uid, gid, gid, gid, gid, {}};
    }
    [[nodiscard]] bool privileged() const noexcept { return euid == 0; }
};

/// cwd and umask: shared between processes created with CLONE_FS (and between threads).
template <platform::RawMutexProvider P>
struct FsContext {
    fs::Location<P> cwd;
    std::uint32_t umask = 022;
};

/// Counters the box knows about a process (the runtime may add CPU time it measured).
struct Usage {
    std::int64_t user_ns = 0;
    std::int64_t system_ns = 0;
    void add(const Usage& other) noexcept {
        user_ns += other.user_ns;
        system_ns += other.system_ns;
    }
};

inline constexpr std::uint64_t signal_bit(int signal) noexcept { return std::uint64_t{1} << (signal - 1); }
/// SIGKILL and SIGSTOP can be neither blocked nor caught.
inline constexpr std::uint64_t unblockable_signals = signal_bit(abi::sigkill) | signal_bit(abi::sigstop);
/// Signals whose default action is to be ignored.
inline constexpr std::uint64_t default_ignored_signals =
    signal_bit(abi::sigchld) | signal_bit(abi::sigurg) | signal_bit(abi::sigwinch) | signal_bit(abi::sigcont);
constexpr bool valid_signal(int signal) noexcept { return signal >= 1 && signal <= abi::signal_count; }

template <platform::RawMutexProvider P>
class Process;

/// TASK_COMM_LEN - 1: the longest thread name (comm) Linux keeps.
inline constexpr std::size_t max_comm_length = 15;
/// The comm a program run from `path` gets: its base name, cut to max_comm_length bytes.
inline std::string comm_of_path(std::string_view path) {
    if (const auto slash = path.rfind('/'); slash != std::string_view::npos) path.remove_prefix(slash + 1);
    return std::string(path.substr(0, max_comm_length));
}

/// A guest thread as the shim sees it.
template <platform::RawMutexProvider P>
class Thread {
public:
    struct Signals {
        std::uint64_t pending = 0;
        std::uint64_t blocked = 0;
    };

    Thread(int tid, Process<P>& process) noexcept : m_tid(tid), m_process(&process) {}
    Thread(const Thread&) = delete;
    Thread& operator=(const Thread&) = delete;

    [[nodiscard]] int tid() const noexcept { return m_tid; }
    [[nodiscard]] Process<P>& process() const noexcept { return *m_process; }
    /// What the thread sleeps on in every blocking call of the shim (readiness, child exit,
    /// timers); interrupting it makes the call return EINTR.
    [[nodiscard]] event::Waiter<P>& waiter() noexcept { return m_waiter; }
    [[nodiscard]] sync::Mutex<P, Signals>& signals() noexcept { return m_signals; }
    /// The thread's comm (at most 15 bytes): the base name of the path given to execve, copied at
    /// fork and clone, set by prctl(PR_SET_NAME); empty means the program's base name.
    [[nodiscard]] sync::Mutex<P, std::string>& name() noexcept { return m_name; }
    /// prctl(PR_SET_PDEATHSIG): recorded and reported back (the box does not send it).
    std::atomic<int> parent_death_signal{0};
    /// sched_setaffinity's mask of box CPUs (0: all of them); a new thread or process starts with
    /// its creator's. Reported back only: where the thread runs is the platform's business.
    std::atomic<std::uint64_t> affinity{0};
    /// sched_setscheduler / sched_setattr: the policy (with SCHED_RESET_ON_FORK) and the static
    /// priority, inherited by new threads and processes (see inherit_scheduling). Reported back
    /// only, like the affinity: the platform schedules the threads.
    /// Both in one word, so that a reader never sees one setter's policy with another's priority.
    struct Scheduling {
        int policy = 0;
        int priority = 0;
    };
    [[nodiscard]] Scheduling scheduling() const noexcept {
        const std::uint64_t word = m_scheduling.load(std::memory_order_relaxed);
        return {static_cast<int>(static_cast<std::uint32_t>(word)), static_cast<int>(static_cast<std::uint32_t>(word >> 32))};
    }
    void set_scheduling(Scheduling s) noexcept {
        m_scheduling.store(static_cast<std::uint32_t>(s.policy) | std::uint64_t{static_cast<std::uint32_t>(s.priority)} << 32,
                           std::memory_order_relaxed);
    }
    /// A new thread's or process's policy from its creator's: SCHED_RESET_ON_FORK makes a
    /// real-time policy SCHED_OTHER (priority 0) in the child, and is not passed on.
    void inherit_scheduling(const Thread& parent) noexcept {
        Scheduling s = parent.scheduling();
        if ((s.policy & abi::sched_reset_on_fork) != 0) {
            s.policy &= ~abi::sched_reset_on_fork;
            if (s.policy == abi::sched_fifo || s.policy == abi::sched_rr || s.policy == abi::sched_deadline) s = {};
        }
        set_scheduling(s);
    }
    /// The temporary signal mask of the wait in progress (ppoll, pselect6, epoll_pwait), if any:
    /// a runtime whose host thread keeps its own mask meanwhile decides with it whether a signal
    /// ends the wait. `ran_with_temporary_mask` tells the runtime afterwards that the call had one.
    [[nodiscard]] std::optional<std::uint64_t> temporary_mask() const noexcept {
        if (!m_temporary_mask_active.load(std::memory_order_acquire)) return std::nullopt;
        return m_temporary_mask.load(std::memory_order_acquire);
    }
    void set_temporary_mask(std::optional<std::uint64_t> mask) noexcept {
        if (mask) {
            m_temporary_mask.store(*mask, std::memory_order_release);
            ran_with_temporary_mask.store(true, std::memory_order_release);
        }
        m_temporary_mask_active.store(mask.has_value(), std::memory_order_release);
    }
    std::atomic<bool> ran_with_temporary_mask{false};
    /// Set by a call that posted a signal to this very thread and ended with EINTR for it (a
    /// terminal's SIGTTIN or SIGTTOU): Linux's -ERESTARTSYS. A runtime that raises the posted
    /// signal on the thread answers that instead, and clears the flag (take_restart_after_signal).
    void set_restart_after_signal() noexcept { m_restart_after_signal.store(true, std::memory_order_release); }
    bool take_restart_after_signal() noexcept { return m_restart_after_signal.exchange(false, std::memory_order_acq_rel); }

    /// True when a signal may be deliverable or the thread was told to exit: blocking calls in
    /// the shim return EINTR. Recomputed by the signal code under the signal locks.
    [[nodiscard]] bool interrupted() const noexcept {
        return m_interrupt_hint.load(std::memory_order_acquire) || killed();
    }
    /// Sets the hint and the waiter's (sticky) interrupt with it.
    void set_interrupt_hint(bool value) noexcept {
        m_interrupt_hint.store(value, std::memory_order_release);
        if (value)
            m_waiter.interrupt();
        else if (!killed())
            m_waiter.clear_interrupt();
    }
    /// Set when the process exits (exit_group, fatal signal): the runtime must stop this thread.
    [[nodiscard]] bool killed() const noexcept { return m_killed.load(std::memory_order_acquire); }
    void kill() noexcept {
        m_killed.store(true, std::memory_order_release);
        m_waiter.interrupt();
    }

    /// set_tid_address / CLONE_CHILD_CLEARTID: the word the runtime clears and futex-wakes at exit.
    std::atomic<std::uintptr_t> clear_child_tid{0};
    /// CPU time the runtime accounted to this thread.
    std::atomic<std::int64_t> user_ns{0};
    std::atomic<std::int64_t> system_ns{0};

private:
    const int m_tid;
    Process<P>* m_process;
    event::Waiter<P> m_waiter;
    sync::Mutex<P, Signals> m_signals;
    sync::Mutex<P, std::string> m_name;
    std::atomic<bool> m_interrupt_hint{false};
    std::atomic<std::uint64_t> m_temporary_mask{0};
    std::atomic<bool> m_temporary_mask_active{false};
    std::atomic<bool> m_restart_after_signal{false};
    std::atomic<bool> m_killed{false};
    std::atomic<std::uint64_t> m_scheduling{0};  // policy (low half), priority (high half)
};

/// A descriptor table and the processes that use it: clone with CLONE_FILES hands the child the
/// parent's share, so a share's use_count is the number of live processes using its table (an
/// exiting process gives its share up: Process::release_files). Threads hold the table itself
/// (ThreadContext::files) without counting as users. The last user to let go closes every
/// descriptor, as Linux's put_files_struct: whoever that is (an exit, an execve's unshare, a
/// clone that failed while holding the share), so no ordering of exits leaves a table open.
/// Drop a share outside every lock (descriptors' destructors may wake other threads).
template <platform::RawMutexProvider P>
struct DescriptorShare {
    std::shared_ptr<fd::DescriptorTable<P>> table;
    static std::shared_ptr<DescriptorShare> of(std::shared_ptr<fd::DescriptorTable<P>> table) {
        auto share = std::make_shared<DescriptorShare>();
        share->table = std::move(table);
        return share;
    }
    DescriptorShare() = default;
    DescriptorShare(const DescriptorShare&) = delete;
    DescriptorShare& operator=(const DescriptorShare&) = delete;
    ~DescriptorShare() {
        if (table) table->close_range(0, ~0u);
    }
};

/// Told once when the process it listens to has exited (it became a zombie): a pidfd's readiness.
/// process_exited runs without the shim's locks held and must not block.
class ExitListener {
public:
    virtual void process_exited() noexcept = 0;

protected:
    ExitListener() = default;
    ExitListener(const ExitListener&) = default;
    ExitListener& operator=(const ExitListener&) = default;
    ~ExitListener() = default;
};

/// Listeners told once, at one moment of a process's exit; held weakly.
template <platform::RawMutexProvider P>
class ExitListenerList {
public:
    /// Adds `listener` -- or tells it at once if `passed` (read under the list's lock) says the
    /// moment has come.
    void add(const std::shared_ptr<ExitListener>& listener, const std::atomic<bool>& passed) {
        const bool now = m_listeners.with_lock([&](std::vector<std::weak_ptr<ExitListener>>& listeners) {
            if (passed.load(std::memory_order_acquire)) return true;
            std::erase_if(listeners, [](const std::weak_ptr<ExitListener>& l) { return l.expired(); });
            listeners.push_back(listener);
            return false;
        });
        if (now) listener->process_exited();
    }
    /// Tells the listeners added so far, outside the lock; `passed`, if given, is set under it
    /// first (else the caller set it before).
    void notify(std::atomic<bool>* passed) {
        auto listeners = m_listeners.with_lock([&](std::vector<std::weak_ptr<ExitListener>>& l) {
            if (passed != nullptr) passed->store(true, std::memory_order_release);
            return std::exchange(l, {});
        });
        for (const auto& weak : listeners)
            if (auto listener = weak.lock()) listener->process_exited();
    }

private:
    sync::Mutex<P, std::vector<std::weak_ptr<ExitListener>>> m_listeners;
};

/// A guest process: its own state plus shared parts (descriptor table, fs context).
template <platform::RawMutexProvider P>
class Process {
public:
    struct State {
        Credentials credentials;
        std::array<abi::rlimit, abi::rlimit_count> limits{};
        std::string exe;                    // /proc/<pid>/exe
        std::vector<std::string> argv;      // /proc/<pid>/cmdline
        std::vector<std::string> environ;   // /proc/<pid>/environ (when the runtime provides it)
        Usage reaped_children;              // RUSAGE_CHILDREN
        Usage exited_threads;               // threads that already left
        std::vector<std::shared_ptr<Thread<P>>> threads;
        std::optional<int> exit_status;     // wait status once exiting
        int nice = 0;                       // getpriority/setpriority: -20..19, kept over fork and exec
        std::uint32_t ioprio = 0;           // ioprio_get/ioprio_set (priority.hpp), kept over fork and exec
    };
    struct Signals {
        std::array<abi::kernel_sigaction, abi::signal_count> actions{};
        std::uint64_t shared_pending = 0;
    };

    Process(int pid, std::shared_ptr<DescriptorShare<P>> files, std::shared_ptr<sync::Mutex<P, FsContext<P>>> fs)
        : m_pid(pid), m_files(std::move(files)), m_fs(std::move(fs)) {}
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    [[nodiscard]] int pid() const noexcept { return m_pid; }
    [[nodiscard]] sync::Mutex<P, State>& state() noexcept { return m_state; }
    [[nodiscard]] sync::Mutex<P, Signals>& signals() noexcept { return m_signals; }
    /// The process's descriptor table, held by the caller: it may change (unshare_files) while the
    /// caller uses it. A thread of the process asks its ThreadContext::files() instead.
    [[nodiscard]] std::shared_ptr<fd::DescriptorTable<P>> files() const noexcept {
        return m_files.with_lock([](const std::shared_ptr<DescriptorShare<P>>& share) { return share->table; });
    }
    /// Moves on every change of the process's table (unshare_files).
    [[nodiscard]] std::uint64_t files_generation() const noexcept { return m_files_generation.load(std::memory_order_acquire); }
    /// The table's share, for a clone with CLONE_FILES.
    [[nodiscard]] std::shared_ptr<DescriptorShare<P>> share_files() const noexcept {
        return m_files.with_lock([](const std::shared_ptr<DescriptorShare<P>>& share) { return share; });
    }
    /// When another process uses this process's table, gives this process a copy of its own (the
    /// same descriptors, a new owner of POSIX record locks) for all its threads: Linux's
    /// unshare_files, for execve and close_range(CLOSE_RANGE_UNSHARE). Linux unshares only the
    /// calling thread; here a table belongs to a process.
    void unshare_files() {
        std::shared_ptr<DescriptorShare<P>> old;  // dropped after unlocking: it may be the table's last user
        // The shared table's size limit may be the other process's RLIMIT_NOFILE: the copy takes
        // this process's own.
        const std::uint64_t own = limit(abi::rlimit_nofile).rlim_cur;
        m_files.with_lock([&](std::shared_ptr<DescriptorShare<P>>& share) {
            if (share.use_count() == 1) return;
            auto copy = DescriptorShare<P>::of(std::shared_ptr<fd::DescriptorTable<P>>(share->table->clone()));
            (void)copy->table->set_limit(static_cast<std::size_t>(std::min<std::uint64_t>(own, fd::max_descriptor_limit)));
            old = std::exchange(share, std::move(copy));
            m_files_generation.fetch_add(1, std::memory_order_acq_rel);
        });
    }
    /// At exit (Linux's exit_files): the process stops using its table, which closes it if no
    /// other process uses it (~DescriptorShare); the zombie keeps an empty table. Returns the old
    /// share, for the caller to drop outside its locks.
    [[nodiscard]] std::shared_ptr<DescriptorShare<P>> release_files() {
        auto empty = DescriptorShare<P>::of(std::make_shared<fd::DescriptorTable<P>>(files()->limit()));
        std::shared_ptr<DescriptorShare<P>> old;
        m_files.with_lock([&](std::shared_ptr<DescriptorShare<P>>& share) {
            old = std::exchange(share, std::move(empty));
            m_files_generation.fetch_add(1, std::memory_order_acq_rel);
        });
        return old;
    }
    [[nodiscard]] sync::Mutex<P, FsContext<P>>& fs() const noexcept { return *m_fs; }
    [[nodiscard]] const std::shared_ptr<sync::Mutex<P, FsContext<P>>>& shared_fs() const noexcept { return m_fs; }

    [[nodiscard]] Credentials credentials() {
        return m_state.with_lock([](State& s) { return s.credentials; });
    }
    /// One id of the credentials (e.g. &Credentials::euid) without copying the group list.
    [[nodiscard]] std::uint32_t credential(std::uint32_t Credentials::*field) {
        return m_state.with_lock([&](State& s) { return s.credentials.*field; });
    }
    [[nodiscard]] abi::rlimit limit(int resource) {
        return m_state.with_lock([&](State& s) { return s.limits[static_cast<std::size_t>(resource)]; });
    }
    /// CPU time used so far: the threads that left and the live ones (RUSAGE_SELF).
    [[nodiscard]] Usage usage() {
        return m_state.with_lock([](State& s) {
            Usage total = s.exited_threads;
            for (const auto& thread : s.threads) total.add(Usage{thread->user_ns.load(), thread->system_ns.load()});
            return total;
        });
    }

    /// Whether the process has exited (every thread is gone and it is a zombie, or reaped).
    [[nodiscard]] bool exited() const noexcept { return m_exited.load(std::memory_order_acquire); }
    /// Tells `listener` when the process exits (at once if it has); held weakly.
    void add_exit_listener(const std::shared_ptr<ExitListener>& listener) { m_exit_listeners.add(listener, m_exited); }
    /// Tells `listener` as the process exits, before anyone can see it as a zombie (where Linux
    /// undoes System V semaphore adjustments); at once if that point has passed. Held weakly.
    void add_teardown_listener(const std::shared_ptr<ExitListener>& listener) { m_teardown_listeners.add(listener, m_tearing_down); }
    /// Whether the process has begun its exit (its teardown listeners were or are being told).
    [[nodiscard]] bool tearing_down() const noexcept { return m_tearing_down.load(std::memory_order_acquire); }
    /// The process table calls this first as the process exits, outside its locks.
    void notify_teardown() { m_teardown_listeners.notify(&m_tearing_down); }
    /// The process table marks the exit as the process becomes a zombie (under its lock, before
    /// the parent's exit signal, as Linux makes a pidfd readable first) ...
    void mark_exited() noexcept { m_exited.store(true, std::memory_order_release); }
    /// ... and then tells the listeners, outside its locks.
    void notify_exit_listeners() { m_exit_listeners.notify(nullptr); }

private:
    const int m_pid;
    std::atomic<bool> m_exited{false};
    ExitListenerList<P> m_exit_listeners;
    std::atomic<bool> m_tearing_down{false};
    ExitListenerList<P> m_teardown_listeners;
    mutable sync::Mutex<P, std::shared_ptr<DescriptorShare<P>>> m_files;
    std::atomic<std::uint64_t> m_files_generation{0};
    std::shared_ptr<sync::Mutex<P, FsContext<P>>> m_fs;
    sync::Mutex<P, State> m_state;
    sync::Mutex<P, Signals> m_signals;
};

}  // namespace litebox::shim::linux_abi
