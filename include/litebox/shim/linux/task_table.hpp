// ProcessTable<P>: the box's pids and tids and the relations between processes — parent and
// children, process groups and sessions, zombies and their wait status — plus signal posting.
//
// Contract:
// - Ids: the first process is pid 1; pids and tids share one space, cycle below pid_max and are
//   never reused while a process (or its zombie) or thread holds them. At most max_tasks ids are
//   in use (EAGAIN beyond).
// - Exit: the last thread of a process leaving (or exit_group) closes the process's descriptors
//   when no other process shares them, turns it into a zombie holding its wait status, hands its
//   children to pid 1, posts its exit signal to the parent and wakes the parent's waiters. A
//   parent that ignores SIGCHLD (or set SA_NOCLDWAIT) never sees zombies. When pid 1 exits, every
//   other process is killed (as when a pid namespace's init dies). An exit that orphans a process
//   group with a stopped member sends the group SIGHUP and SIGCONT (Linux's kill_orphaned_pgrp).
// - wait blocks on the caller's Waiter: interruptible (EINTR), WNOHANG returns at once.
// - Job control: the shim cannot stop a guest; a runtime that does (litebox-run's tracer sees
//   the host's group-stops) reports each stop and continuation of a whole process here. A stop
//   is reported to wait (WUNTRACED/WSTOPPED) once, and only while the process is still stopped;
//   a continuation (WCONTINUED) once; WNOWAIT leaves either to be reported again. Each one wakes
//   the parent's waiters and posts SIGCHLD to the parent unless its SIGCHLD action has
//   SA_NOCLDSTOP.
// - Signals stay inside the box: kill/tgkill find only box processes; posting a signal records it
//   as pending and interrupts a thread that does not block it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "../../error.hpp"
#include "request.hpp"
#include "task.hpp"

namespace litebox::shim::linux_abi {

/// Which children wait4/waitid look at.
struct WaitSelector {
    enum class Kind { any, pid, group } kind = Kind::any;
    int id = 0;                      // pid or process group (0 for the caller's group)
    std::uint32_t options = 0;       // abi::wnohang, wnowait, wall, wclone, wexited...
};
/// A reaped (or, with WNOWAIT, observed) child; pid 0 when WNOHANG found nothing yet.
struct WaitOutcome {
    int pid = 0;
    int status = 0;   // wait status: code << 8, the terminating signal, (stop signal << 8) | 0x7f, or 0xffff
    std::uint32_t uid = 0;
    Usage usage;
};

/// A wait status for a normal exit with `code`, or for death by `signal`.
constexpr int exit_wait_status(int code) noexcept { return (code & 0xff) << 8; }
constexpr int signal_wait_status(int signal) noexcept { return signal & 0x7f; }
/// The wait status of a child stopped by `signal` (WIFSTOPPED), and of a continued one (WIFCONTINUED).
constexpr int stopped_wait_status(int signal) noexcept { return ((signal & 0xff) << 8) | 0x7f; }
inline constexpr int continued_wait_status = 0xffff;
/// The siginfo code and status waitid reports for a wait status (CLD_EXITED, CLD_KILLED,
/// CLD_STOPPED or CLD_CONTINUED).
struct ChildCode {
    int code = 0;
    int status = 0;
};
constexpr ChildCode child_code_of(int wait_status) noexcept {
    if (wait_status == continued_wait_status) return {abi::cld_continued, abi::sigcont};
    if ((wait_status & 0xff) == 0x7f) return {abi::cld_stopped, (wait_status >> 8) & 0xff};
    if ((wait_status & 0x7f) != 0) return {(wait_status & 0x80) != 0 ? abi::cld_dumped : abi::cld_killed, wait_status & 0x7f};
    return {abi::cld_exited, (wait_status >> 8) & 0xff};
}

template <platform::RawMutexProvider P>
class ProcessTable {
public:
    using ProcessPtr = std::shared_ptr<Process<P>>;
    using ThreadPtr = std::shared_ptr<Thread<P>>;
    struct Created {
        ProcessPtr process;
        ThreadPtr thread;
    };

    explicit ProcessTable(const ShimConfig& config) : m_max_tasks(config.max_tasks), m_pid_max(config.pid_max) {}
    ProcessTable(const ProcessTable&) = delete;
    ProcessTable& operator=(const ProcessTable&) = delete;

    /// The first process of the box (pid 1). EEXIST once one was created.
    Result<Created> create_init(Credentials credentials, std::array<abi::rlimit, abi::rlimit_count> limits,
                                std::size_t descriptor_limit, fs::Location<P> cwd);
    /// fork/vfork/clone: a new process, or with CLONE_THREAD a new thread of `parent`'s process.
    Result<Created> clone(Thread<P>& parent, std::uint64_t flags);

    /// exit(): the thread leaves; the process exits with `code` when it was the last one (then
    /// the result is true).
    bool exit_thread(Thread<P>& thread, int code);
    /// exit_group() or a fatal signal: every thread of the process is killed; `wait_status` is
    /// what the parent will see.
    void exit_group(Process<P>& process, int wait_status);

    /// A runtime that delivers signals itself (litebox-run raises real host signals) learns of
    /// every child exit here, like Linux's do_notify_parent: called with the parent's pid and the
    /// child's exit signal under this table's lock, as the child becomes a zombie, so a parent's
    /// wait either misses the child (and the signal comes later) or finds it with the signal
    /// already raised. It must not call back into this table. The callable it returns (may be
    /// empty) runs after the parent's waits were woken, without the lock (a runtime interrupts
    /// the parent's other blocking calls there). Set it before any process exits. `child` is what
    /// Linux's siginfo for the signal says (a runtime that cannot send those codes itself may
    /// hand them on another way: litebox-run's signalfds).
    struct ChildExit {
        int pid = 0;             // si_pid: the child
        std::uint32_t uid = 0;   // si_uid: its real user id
        int code = 0;            // si_code: CLD_EXITED (1), CLD_KILLED (2) or CLD_DUMPED (3)
        int status = 0;          // si_status: the exit code, or the signal that killed it
    };
    using ChildExitNotifier = std::function<std::function<void()>(int parent_pid, int exit_signal, const ChildExit& child)>;
    void set_child_exit_notifier(ChildExitNotifier notifier) { m_child_exit = std::move(notifier); }

    /// Job control, reported by a runtime that stops processes (see the contract): every thread
    /// of `process` is (being) stopped by the stop signal `signal`, or the stop ended (SIGCONT).
    /// Nothing happens for a zombie, a second stop without a continuation in between, or a
    /// continuation of a process that is not stopped.
    void report_stop(Process<P>& process, int signal);
    void report_continue(Process<P>& process);
    /// True while `pid` is a live process in a group-stop (/proc shows 'T').
    [[nodiscard]] bool is_stopped(int pid) const;
    /// True if the process group of `pid` is orphaned (POSIX): no live member has a parent in
    /// another group of the same session. Linux discards SIGTSTP, SIGTTIN and SIGTTOU (default
    /// action) for a process in an orphaned group (is_current_pgrp_orphaned). Box pid 1 has no
    /// parent, so its group is orphaned unless another member's parent makes it not, as with a
    /// container's init. True for a pid that is not a live process.
    [[nodiscard]] bool in_orphaned_group(int pid) const;

    /// Linux's kill_orphaned_pgrp: when an exit orphans a process group (its own, or a child's
    /// group in the same session) that has a stopped member, every live member of that group gets
    /// SIGHUP and then SIGCONT, so that a stopped job nobody can continue any more is woken to
    /// hear of it (and, by default, dies). A runtime that delivers signals itself sends them here
    /// (called without this table's lock, with the group and its live members; it must send
    /// SIGHUP to all of them before SIGCONT to any); without one they are posted to the shim's
    /// books. Set it before any process exits.
    using OrphanedGroupHangup = std::function<void(int pgid, const std::vector<int>& members)>;
    void set_orphaned_group_hangup(OrphanedGroupHangup hangup) { m_orphaned_hangup = std::move(hangup); }

    /// Called (without this table's lock) when a session leader exits, with its session, before it
    /// becomes a zombie: the kernel takes the session's controlling terminal away there (Linux's
    /// disassociate_ctty). Set it before any process exits.
    using SessionLeaderExit = std::function<void(int session)>;
    void set_session_leader_exit(SessionLeaderExit hook) { m_session_leader_exit = std::move(hook); }

    /// A runtime that delivers signals itself learns of every stop and continuation SIGCHLD here,
    /// like the exit notifier: `code` is CLD_STOPPED or CLD_CONTINUED, `status` the stop signal or
    /// SIGCONT. Called under this table's lock, only when the parent's SIGCHLD action (as the
    /// shim knows it) lacks SA_NOCLDSTOP; the callable it returns runs after the parent's waits
    /// were woken, without the lock. Set it before any process stops.
    using ChildStopNotifier = std::function<std::function<void()>(int parent_pid, int child_pid, int code, int status)>;
    void set_child_stop_notifier(ChildStopNotifier notifier) { m_child_stop = std::move(notifier); }

    /// wait4 / waitid for `caller`: blocks until a matching child is a zombie (WEXITED), stopped
    /// and not yet reported (WSTOPPED) or continued and not yet reported (WCONTINUED), unless
    /// WNOHANG.
    Result<WaitOutcome> wait(const P& platform, Thread<P>& caller, const WaitSelector& selector);

    // ---- identity, groups, sessions -----------------------------------------------------------
    [[nodiscard]] int parent_of(int pid) const;
    Result<int> process_group_of(int pid) const;
    Result<int> session_of(int pid) const;
    Result<void> set_process_group(Process<P>& caller, int pid, int pgid);
    Result<int> create_session(Process<P>& caller);
    /// execve: remembers that the process executed (setpgid then refuses with EACCES).
    void mark_exec(int pid);

    // ---- signals -------------------------------------------------------------------------------
    /// kill(2) semantics from `sender` (pid > 0, 0, -1, < -1); signal 0 only checks.
    Result<void> kill(Process<P>& sender, int pid, int signal);
    /// tgkill (tgid >= 0) / tkill (tgid < 0).
    Result<void> kill_thread(Process<P>& sender, int tgid, int tid, int signal);
    /// Posts a signal to a whole process (no permission check: the runtime or the kernel sends).
    void post_to_process(Process<P>& target, int signal);
    /// Posts a signal to one thread (SIGPIPE on EPIPE, tgkill).
    void post_to_thread(Thread<P>& target, int signal);
    /// The lowest deliverable signal of `thread`, removed from its pending sets, with the action.
    std::optional<std::pair<int, abi::kernel_sigaction>> dequeue_signal(Thread<P>& thread);
    /// Recomputes the thread's interrupt hint (after its mask or pending sets changed).
    void refresh_interrupt_hint(Thread<P>& thread);

    // ---- queries ---------------------------------------------------------------------------------
    [[nodiscard]] ProcessPtr find_process(int pid) const;
    [[nodiscard]] ThreadPtr find_thread(int tid) const;
    /// The process of live thread `tid` (null if there is none).
    [[nodiscard]] ProcessPtr process_of_thread(int tid) const;
    /// Live (non-zombie) process ids, ascending.
    [[nodiscard]] std::vector<int> process_ids() const;
    /// The live (non-zombie) members of process group `group`, ascending.
    [[nodiscard]] std::vector<int> group_members(int group) const;
    [[nodiscard]] std::size_t tasks_in_use() const;
    /// The wait status of a zombie without a box parent (pid 1 after it exited), if any.
    [[nodiscard]] std::optional<int> orphan_exit_status(int pid) const;

private:
    struct Node {
        ProcessPtr process;
        int ppid = 0;
        int pgid = 0;
        int sid = 0;
        int exit_signal = abi::sigchld;
        bool did_exec = false;
        bool zombie = false;
        int wait_status = 0;
        int stop_signal = 0;              // in a group-stop by this signal (0: running)
        bool stop_unreported = false;     // the stop is still to be reported to wait (WSTOPPED)
        bool continue_unreported = false; // a continuation is still to be reported (WCONTINUED)
        std::uint32_t uid = 0;
        Usage usage;
    };
    struct TidEntry {
        ProcessPtr process;
        std::weak_ptr<Thread<P>> thread;
    };
    struct State {
        std::map<int, Node> processes;  // live and zombie processes by pid
        std::map<int, TidEntry> threads;  // every live thread by tid (leaders included)
        int last_id = 0;
        std::size_t ids_in_use = 0;
        Node* node(int pid) {
            auto it = processes.find(pid);
            return it == processes.end() ? nullptr : &it->second;
        }
    };

    Result<int> allocate_id(State& s) const;
    void release_id(State& s, int id) const;
    void finish_exit(Process<P>& process, int wait_status, std::vector<ThreadPtr> killed);
    static bool may_signal(const Credentials& sender, const Credentials& target) noexcept;
    static bool ignored(const typename Process<P>::Signals& sig, int signal) noexcept;
    void wake_process(Process<P>& process);
    void notify_job_change(Process<P>& process, bool stopped, int signal);
    /// POSIX's orphaned process group: no live member has a live parent in another group of the
    /// same session (Linux's will_become_orphaned_pgrp once the exiting process is a zombie).
    static bool group_orphaned(State& s, int group);
    /// Some live member of `group` is in a group-stop (Linux's has_stopped_jobs).
    static bool group_has_stopped(const State& s, int group);
    static std::vector<int> live_members(const State& s, int group);

    const std::size_t m_max_tasks;
    const int m_pid_max;
    mutable sync::Mutex<P, State> m_state;
    ChildExitNotifier m_child_exit;
    ChildStopNotifier m_child_stop;
    OrphanedGroupHangup m_orphaned_hangup;
    SessionLeaderExit m_session_leader_exit;
};

}  // namespace litebox::shim::linux_abi

#include "detail/task_table_impl.hpp"
