// The process tracer of the seccomp runner: one thread that is every guest task's ptrace tracer,
// so that the box sees each new process or thread before it runs and each death with its exact
// status. (DESIGN.md of litebox-run, "fork, vfork, clone".)
//
// How a fork goes. The filter (FilterOptions::traced_clone) makes clone/fork/vfork stop at their
// entry (SECCOMP_RET_TRACE). The tracer reads the registers, asks the owner to create the box's
// task (TraceEvents::on_clone_entry, which returns the box id), rewrites the call into
// clone(flags | CLONE_PARENT, ...) -- so that every guest process is a host child of the runner,
// which reaps it and learns how it died -- and resumes it with PTRACE_SYSCALL. The kernel then
// reports the new task (PTRACE_EVENT_FORK/VFORK/CLONE, with its host id); the child starts in a
// ptrace stop and is released only once the owner has bound it (on_clone_created). The parent's
// CLONE_PARENT_SETTID word becomes the box id at that event, before the child can run; the return
// value at the parent's syscall-exit stop; the child's CLONE_CHILD_SETTID word before its first
// instruction. A clone the
// kernel refuses ends at the syscall-exit stop with an error and the owner undoes its task
// (on_clone_failed).
//
// Deaths. The tracer is the only one that waits for guest tasks (wait4(-1, __WALL)); a thread
// group leader's status and CPU time go to on_process_exit. Signal-delivery stops are resumed with the
// signal (the guest's own handlers run as usual; a call the signal cut off before it was served
// is restarted, see restart_if_unserved); a group-stop keeps the task stopped (PTRACE_LISTEN)
// until SIGCONT ends it.
//
// Job control. A group-stop is reported to the owner once per process, when its first task stops
// (on_process_stop, with the stop signal), and its end once, when the first task hears SIGCONT
// (on_process_continue). Linux reports a stop when the last thread has stopped; here a thread
// that waits in a served call the supervisor has received only stops when the call is answered,
// so waiting for every thread could hold the report back indefinitely.
//
// SIGTSTP, SIGTTIN and SIGTTOU. The host kernel discards them (default action) for a process in an
// orphaned process group, and to the host every guest group is orphaned: each guest is the host
// child of the runner, in another session. The kernel decides that only after the tracer's
// signal-delivery stop (get_signal: ptrace_signal, then is_current_pgrp_orphaned), so there the
// tracer asks the owner whether the box would stop the process (TraceEvents::job_control_stops)
// and, if so, delivers SIGSTOP instead -- reporting the original signal with the stop.
//
// Program images are launched on the tracer thread (launch()), because only the thread that
// seized a task may trace it.
#pragma once

#include <pthread.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "seccomp_launch.hpp"
#include "seccomp_supervisor_detail.hpp"

namespace litebox::platform::linux_platform::seccomp {

/// CPU time of a reaped host process, in nanoseconds.
struct ProcessCpu {
    std::int64_t user_ns = 0;
    std::int64_t system_ns = 0;
};

/// What the tracer tells its owner. Every call runs on the tracer thread, which waits for it:
/// keep them short and never wait for a guest task.
class TraceEvents {
public:
    /// Host thread `tid` (of host process `pid`) enters clone/fork/vfork with `flags` (fork and
    /// vfork as their clone flags). Returns the box id of the new task (> 0) or -errno to fail the
    /// call with that error.
    virtual std::int64_t on_clone_entry(pid_t pid, pid_t tid, std::uint64_t flags) = 0;
    /// The host task `child` exists for the clone that `tid` entered; `box_id` is what
    /// on_clone_entry returned. The child runs once this returns.
    virtual void on_clone_created(pid_t tid, pid_t child, pid_t child_pid, std::int64_t box_id) = 0;
    /// The kernel failed the clone (-errno `error`) after on_clone_entry returned `box_id`.
    virtual void on_clone_failed(pid_t tid, std::int64_t box_id, int error) = 0;
    /// Host process `pid` (a thread group) died with `wait_status`, and was reaped; `cpu` is the
    /// CPU time its threads used (wait4's rusage).
    virtual void on_process_exit(pid_t pid, int wait_status, const ProcessCpu& cpu) = 0;
    /// Host process `pid` entered a group-stop by stop signal `sig` (SIGSTOP, SIGTSTP, SIGTTIN or
    /// SIGTTOU): once per stop, when its first task stops. The default ignores it.
    virtual void on_process_stop(pid_t pid, int sig) {
        (void)pid;
        (void)sig;
    }
    /// The group-stop of host process `pid` ended (SIGCONT): once, after on_process_stop.
    virtual void on_process_continue(pid_t pid) { (void)pid; }
    /// Host process `pid` died (killed) after one of its threads took stop signal `sig` but before
    /// its group-stop began: the stop was lost with it. Called just before on_process_exit. The
    /// default ignores it.
    virtual void on_stop_cut_short(pid_t pid, int sig) {
        (void)pid;
        (void)sig;
    }
    /// SIGTSTP, SIGTTIN or SIGTTOU (`sig`) is about to be delivered to host process `pid`, which
    /// neither blocks, ignores nor handles it. True: the process's group is not orphaned in the
    /// owner's process table, so the signal stops the process (the host kernel would discard it:
    /// every guest group is orphaned to the host). The default (false) leaves it to the host.
    virtual bool job_control_stops(pid_t pid, int sig) {
        (void)pid;
        (void)sig;
        return false;
    }
    /// A signal is about to be delivered to host thread `tid`, whose system call `nr` ended with
    /// -ERESTARTSYS. True: the call never took effect (a seccomp notification the supervisor had
    /// not received yet), so it is restarted after the handler whatever SA_RESTART says -- as if
    /// the signal had come just before the call. False (the default): Linux's rule applies.
    virtual bool restart_unserved_call(pid_t tid, long nr) {
        (void)tid;
        (void)nr;
        return false;
    }

    /// Host thread `tid` (of host process `pid`) enters a call the filter stops for the tracer
    /// besides clone and set_tid_address (shmat, shmdt) with `args`. The answer is the call to run
    /// instead (`nr` and `args`; the filter judges it again), or a result to return at once.
    /// The default refuses with ENOSYS.
    struct CallRewrite {
        bool run = false;         // false: return `result` without running anything
        std::int64_t result = -ENOSYS;
        long nr = -1;
        std::array<std::uint64_t, 6> args{};
    };
    virtual CallRewrite on_traced_call(pid_t pid, pid_t tid, long nr, const std::array<std::uint64_t, 6>& args) {
        (void)pid;
        (void)tid;
        (void)nr;
        (void)args;
        return CallRewrite{};
    }
    /// The call run instead of `nr` for `tid` ended with `result` (-errno; -ESRCH if the thread
    /// died first): the value the guest's call returns. The default passes it on.
    virtual std::int64_t on_traced_call_exit(pid_t tid, long nr, std::int64_t result) {
        (void)tid;
        (void)nr;
        return result;
    }

protected:
    TraceEvents() = default;
    TraceEvents(const TraceEvents&) = default;
    TraceEvents& operator=(const TraceEvents&) = default;
    ~TraceEvents() = default;
};

/// The ptrace options every traced guest task gets.
inline constexpr unsigned long tracer_ptrace_options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                                                       PTRACE_O_TRACECLONE | PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL;

/// The signal that interrupts the tracer's waitpid() when a launch request arrives (installed
/// without SA_RESTART; unblocked only on the tracer thread).
inline constexpr int default_tracer_wake_signal = SIGWINCH;

class Tracer {
public:
    explicit Tracer(TraceEvents& events, int wake_signal = default_tracer_wake_signal) : m_events(events), m_wake_signal(wake_signal) {}
    Tracer(const Tracer&) = delete;
    Tracer& operator=(const Tracer&) = delete;
    ~Tracer() { stop(); }

    /// Starts the tracer thread.
    Result<void> start() {
        struct sigaction action {};
        action.sa_handler = [](int) {};
        sigemptyset(&action.sa_mask);
        action.sa_flags = 0;  // no SA_RESTART: waitpid returns EINTR
        if (::sigaction(m_wake_signal, &action, nullptr) != 0) return detail::last_errno();
        try {
            m_thread = std::thread([this] { loop(); });
        } catch (...) {
            return Errno::again;
        }
        return ok();
    }

    /// Stops tracing (the guests are killed by PTRACE_O_EXITKILL only when the thread ends; call
    /// after the guests are gone).
    void stop() noexcept {
        if (!m_thread.joinable()) return;
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_changed.notify_all();
        detail::wake_until(m_thread.native_handle(), m_wake_signal, m_finished, 1'000'000);
        m_thread.join();
    }

    /// Launches `image` on the tracer thread, traced from its first instruction on (stay_traced and
    /// the clone filter are forced). Blocks until the launch is done.
    ///
    /// `stage` (optional) finishes an image made with GuestImage::reserve -- writes its bytes and
    /// seals it -- on the calling thread while the tracer thread forks and
    /// confines the trampoline; the trampoline's exec waits for it (LaunchOptions::image_ready).
    /// Meanwhile the tracer thread waits too, so other guests' ptrace stops wait as long as the
    /// copy outlasts the fork (~1 ms for busybox); at most LaunchOptions::startup_timeout, after
    /// which the launch fails.
    Result<std::unique_ptr<LaunchedGuest>> launch(const GuestImage& image, std::vector<std::string> argv, std::vector<std::string> envp,
                                                  LaunchOptions options, LaunchFailure* failure,
                                                  const std::function<Result<void>()>& stage = {}) {
        auto request = std::make_shared<LaunchRequest>();
        request->image = &image;
        request->argv = std::move(argv);
        request->envp = std::move(envp);
        options.stay_traced = true;
        options.trace_options = tracer_ptrace_options;
        options.filter.traced_clone = true;
        if (stage) {
            // The request owns this function and outlives run_launch: a plain pointer back to it.
            // Bounded like the rest of the launch (startup_timeout): a stage that never ends fails
            // the launch instead of holding the tracer thread.
            options.image_ready = [this, raw = request.get(), limit = options.startup_timeout]() -> Result<void> {
                std::unique_lock lock(m_mutex);
                if (!m_changed.wait_for(lock, limit, [&] { return raw->staged.has_value(); })) return Errno::timedout;
                return *raw->staged;
            };
        }
        request->options = options;
        {
            std::lock_guard lock(m_mutex);
            if (m_stopping || !m_thread.joinable()) return Errno::srch;
            m_requests.push_back(request);
        }
        m_changed.notify_all();
        if (stage) {
            ::pthread_kill(m_thread.native_handle(), m_wake_signal);  // out of a blocking waitpid: fork now
            Result<void> staged = Errno::io;
            try {
                staged = stage();
            } catch (...) {
                staged = Errno::nomem;
            }
            {
                std::lock_guard lock(m_mutex);
                request->staged = staged;
            }
            m_changed.notify_all();
        }
        std::unique_lock lock(m_mutex);
        while (!request->done) {
            ::pthread_kill(m_thread.native_handle(), m_wake_signal);  // out of a blocking waitpid
            m_changed.wait_for(lock, std::chrono::milliseconds(2));
        }
        if (failure != nullptr) *failure = request->failure;
        if (!request->result) return request->error;
        return std::move(request->result);
    }

    /// Handles, on the tracer thread, every event the tasks of host process `pid` have pending,
    /// so that a stop signal one of them has taken is known (on_process_stop, or on_stop_cut_short
    /// once the process dies) before the caller kills the process -- as execve does with the old
    /// image: a task in a signal-delivery stop the tracer has not seen yet would take its signal
    /// to the grave unseen. Blocks until done.
    void settle(pid_t pid) {
        auto request = std::make_shared<LaunchRequest>();
        request->settle = pid;
        {
            std::lock_guard lock(m_mutex);
            if (m_stopping || !m_thread.joinable()) return;
            m_requests.push_back(request);
        }
        m_changed.notify_all();
        std::unique_lock lock(m_mutex);
        while (!request->done) {
            ::pthread_kill(m_thread.native_handle(), m_wake_signal);  // out of a blocking waitpid
            m_changed.wait_for(lock, std::chrono::milliseconds(2));
        }
    }

private:
    struct LaunchRequest {
        pid_t settle = 0;  // not a launch: settle(settle)
        const GuestImage* image = nullptr;
        std::vector<std::string> argv, envp;
        LaunchOptions options;
        std::optional<Result<void>> staged;  // what the launching thread's `stage` returned
        bool done = false;
        std::unique_ptr<LaunchedGuest> result;
        Errno error = Errno::io;
        LaunchFailure failure;
    };
    struct Task {
        pid_t tgid = 0;
        bool running = false;      // released after its birth stop
        bool registered = false;   // the owner bound it (on_clone_created)
        bool birth_stop = false;   // its first stop was seen
        bool group_stopped = false;  // in a group-stop (until the trap that ends it)
        std::uintptr_t child_settid = 0;  // CLONE_CHILD_SETTID word to rewrite before it runs
        std::int64_t box_id = 0;
        bool restore = false;             // give back the argument registers the rewrite changed
        std::array<unsigned long long, 5> arguments{};  // rdi, rsi, rdx, r10, r8 as the guest set them
    };
    /// A call the owner rewrote (on_traced_call): what the guest asked for, given back at its exit.
    struct RewrittenCall {
        long nr = -1;
        std::array<unsigned long long, 6> arguments{};  // rdi, rsi, rdx, r10, r8, r9
    };
    struct PendingClone {
        std::int64_t box_id = 0;
        std::uint64_t flags = 0;
        std::uintptr_t parent_tid = 0;
        bool created = false;
        std::array<unsigned long long, 5> arguments{};  // rdi, rsi, rdx, r10, r8 as the guest set them
    };

    /// The kernel preserves argument registers across a system call, and code relies on it (glibc's
    /// vfork keeps its return address in rdi): undo the rewrite in parent and child.
    static void put_arguments(struct user_regs_struct& regs, const std::array<unsigned long long, 5>& arguments) noexcept {
        regs.rdi = arguments[0];
        regs.rsi = arguments[1];
        regs.rdx = arguments[2];
        regs.r10 = arguments[3];
        regs.r8 = arguments[4];
    }
    static void restore_arguments(pid_t tid, const std::array<unsigned long long, 5>& arguments) noexcept {
        struct user_regs_struct regs {};
        if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return;
        put_arguments(regs, arguments);
        (void)::ptrace(PTRACE_SETREGS, tid, nullptr, &regs);
    }

    void loop() noexcept {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, m_wake_signal);
        ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
        for (;;) {
            try {
                if (!round()) break;
            } catch (...) {
                struct timespec slice {0, 1'000'000};
                ::nanosleep(&slice, nullptr);
            }
        }
        m_finished.store(true, std::memory_order_release);
    }

    /// One step: serve launch requests, then wait for one task event. False: stop.
    bool round() {
        for (;;) {
            std::shared_ptr<LaunchRequest> request;
            {
                std::lock_guard lock(m_mutex);
                if (m_stopping) return false;
                if (m_requests.empty()) break;
                request = m_requests.front();
                m_requests.pop_front();
            }
            if (request->settle != 0)
                run_settle(*request);
            else
                run_launch(*request);
        }
        int status = 0;
        struct rusage usage {};
        const pid_t tid = ::wait4(-1, &status, __WALL, &usage);
        if (tid < 0) {
            if (errno == ECHILD) {  // nothing to trace: wait for a launch
                std::unique_lock lock(m_mutex);
                m_changed.wait_for(lock, std::chrono::milliseconds(50), [&] { return m_stopping || !m_requests.empty(); });
            }
            return true;
        }
        on_status(tid, status, usage);
        return true;
    }

    void run_launch(LaunchRequest& request) {
        auto launched = launch_guest(*request.image, request.argv, request.envp, request.options, &request.failure);
        {
            std::lock_guard lock(m_mutex);
            if (launched) {
                auto& task = m_tasks[launched->pid];
                task.tgid = launched->pid;
                task.running = task.registered = task.birth_stop = true;
                task.box_id = request.options.box_tid;
                request.result = std::make_unique<LaunchedGuest>(std::move(*launched));
            } else {
                request.error = launched.error();
            }
            request.done = true;
        }
        m_changed.notify_all();
    }

    void run_settle(LaunchRequest& request) {
        std::vector<pid_t> tids;
        for (int pass = 0; pass < 4; ++pass) {  // an event handled may lead to another at once
            tids.clear();
            for (const auto& [tid, task] : m_tasks)
                if (task.tgid == request.settle) tids.push_back(tid);
            bool any = false;
            for (const pid_t tid : tids) {
                int status = 0;
                struct rusage usage {};
                if (::wait4(tid, &status, __WALL | WNOHANG, &usage) != tid) continue;
                on_status(tid, status, usage);
                any = true;
            }
            if (!any) break;
        }
        {
            std::lock_guard lock(m_mutex);
            request.done = true;
        }
        m_changed.notify_all();
    }

    static constexpr bool is_stop_signal(int sig) noexcept {
        return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
    }

    static void resume(pid_t tid, int request = PTRACE_CONT, int sig = 0) noexcept {
        (void)::ptrace(static_cast<__ptrace_request>(request), tid, nullptr, reinterpret_cast<void*>(static_cast<std::uintptr_t>(sig)));
    }

    /// Writes the 32-bit `value` at `address` of stopped task `tid` (a pid_t word).
    static void poke_int(pid_t tid, std::uintptr_t address, std::int32_t value) noexcept {
        if (address == 0) return;
        const std::uintptr_t aligned = address & ~std::uintptr_t{7};
        const unsigned shift = static_cast<unsigned>(address - aligned) * 8;
        if (shift > 32) return;  // the word straddles two longs: leave the kernel's value
        errno = 0;
        const long word = ::ptrace(PTRACE_PEEKDATA, tid, reinterpret_cast<void*>(aligned), nullptr);
        if (errno != 0) return;
        auto bits = static_cast<std::uint64_t>(word);
        bits &= ~(std::uint64_t{0xffffffffu} << shift);
        bits |= std::uint64_t{static_cast<std::uint32_t>(value)} << shift;
        (void)::ptrace(PTRACE_POKEDATA, tid, reinterpret_cast<void*>(aligned), reinterpret_cast<void*>(bits));
    }

    static std::int64_t nanoseconds(const struct timeval& t) noexcept {
        return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + static_cast<std::int64_t>(t.tv_usec) * 1'000;
    }

    void on_status(pid_t tid, int status, const struct rusage& usage) {
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            const auto it = m_tasks.find(tid);
            const bool leader = it == m_tasks.end() || it->second.tgid == tid;
            if (it != m_tasks.end()) m_tasks.erase(it);
            m_pending.erase(tid);
            m_box_tid_answers.erase(tid);
            if (const auto call = m_rewritten.find(tid); call != m_rewritten.end()) {
                const long nr = call->second.nr;
                m_rewritten.erase(call);
                (void)m_events.on_traced_call_exit(tid, nr, -ESRCH);
            }
            if (leader) {
                m_stopped_groups.erase(tid);
                if (const auto stopping = m_taking_stop.find(tid); stopping != m_taking_stop.end()) {
                    const int sig = stopping->second;
                    m_taking_stop.erase(stopping);
                    m_events.on_stop_cut_short(tid, sig);
                }
                m_events.on_process_exit(tid, status, ProcessCpu{nanoseconds(usage.ru_utime), nanoseconds(usage.ru_stime)});
            }
            return;
        }
        if (!WIFSTOPPED(status)) return;
        const int event = status >> 16;
        const int sig = WSTOPSIG(status);
        if (event == PTRACE_EVENT_SECCOMP) return on_seccomp_stop(tid);
        if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE) return on_clone_event(tid);
        if (sig == (SIGTRAP | 0x80)) return on_syscall_exit(tid);
        auto& task = m_tasks[tid];
        if (event == PTRACE_EVENT_STOP) {
            if (!task.running) {  // the birth stop of a new task
                task.birth_stop = true;
                maybe_start(tid, task);
                return;
            }
            if (is_stop_signal(sig)) {
                // A group-stop (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU): the task stays stopped but
                // the tracer hears when the stop ends (SIGCONT), with another STOP trap.
                task.group_stopped = true;
                const pid_t group = task.tgid != 0 ? task.tgid : tid;
                // A job-control signal turned into SIGSTOP (deliver_stop_signal) stops as itself.
                int reported = sig;
                if (const auto stopping = m_taking_stop.find(group); stopping != m_taking_stop.end()) {
                    reported = stopping->second;
                    m_taking_stop.erase(stopping);
                }
                if (m_stopped_groups.insert(group).second) m_events.on_process_stop(group, reported);
                (void)::ptrace(PTRACE_LISTEN, tid, nullptr, nullptr);
                return;
            }
            // The end of a group-stop (SIGTRAP): run again.
            m_taking_stop.erase(task.tgid != 0 ? task.tgid : tid);
            if (task.group_stopped) {
                task.group_stopped = false;
                const pid_t group = task.tgid != 0 ? task.tgid : tid;
                if (m_stopped_groups.erase(group) != 0) m_events.on_process_continue(group);
            }
            resume(tid);
            return;
        }
        if (event != 0) {  // another event (exec of a trampoline is handled by launch): go on
            resume(tid);
            return;
        }
        if (!task.running) {  // a signal before the birth stop was handled: keep it pending
            task.birth_stop = true;
            maybe_start(tid, task, sig);
            return;
        }
        restart_if_unserved(tid);
        if (sig == SIGCONT) m_taking_stop.erase(task.tgid != 0 ? task.tgid : tid);  // a stop not taken yet is off
        resume(tid, PTRACE_CONT, is_stop_signal(sig) ? deliver_stop_signal(tid, task, sig) : sig);  // signal-delivery stop
    }

    /// At the signal-delivery stop of stop signal `sig`: the signal to deliver. SIGSTOP for a
    /// SIGTSTP, SIGTTIN or SIGTTOU with the default action that the owner says stops the process
    /// (job_control_stops). A SIGSTOP delivered makes the process "stopping" with the signal to
    /// report (SIGSTOP or the job-control one) until its group-stop comes, or SIGCONT, or its death
    /// (on_stop_cut_short). Every group-stop starts at such a stop.
    int deliver_stop_signal(pid_t tid, const Task& task, int sig) {
        const pid_t group = task.tgid != 0 ? task.tgid : tid;
        if (sig != SIGSTOP) {
            // Ignored or handled: the kernel does that after this stop (ignored signals reach a tracer).
            const auto state = detail::signal_state(group, tid);
            const std::uint64_t bit = std::uint64_t{1} << (sig - 1);
            if (!state || ((state->ignored | state->caught) & bit) != 0) return sig;
            if (!m_events.job_control_stops(group, sig)) return sig;  // the host discards it
        }
        m_taking_stop[group] = sig;
        return SIGSTOP;
    }

    /// At a signal-delivery stop: a system call the signal interrupted before the supervisor
    /// received it ends with -ERESTARTSYS (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV protects received
    /// calls only), which a handler without SA_RESTART turns into EINTR -- even for a close or an
    /// open of a regular file, which Linux never interrupts. Nothing of the call happened, so the
    /// owner may have it restarted unconditionally (-ERESTARTNOINTR): the kernel reads the result
    /// register only after this stop, when it sets up the handler.
    void restart_if_unserved(pid_t tid) {
        struct user_regs_struct regs {};
        if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return;
        const auto nr = static_cast<long>(regs.orig_rax);
        if (nr < 0 || static_cast<std::int64_t>(regs.rax) != -restart_sys) return;
        if (!m_events.restart_unserved_call(tid, nr)) return;
        regs.rax = static_cast<unsigned long long>(-restart_no_intr);
        (void)::ptrace(PTRACE_SETREGS, tid, nullptr, &regs);
    }

    void maybe_start(pid_t tid, Task& task, int sig = 0) {
        if (!task.registered || !task.birth_stop || task.running) return;
        if (task.restore) restore_arguments(tid, task.arguments);
        if (task.child_settid != 0) poke_int(tid, task.child_settid, static_cast<std::int32_t>(task.box_id));
        task.running = true;
        resume(tid, PTRACE_CONT, sig == SIGSTOP ? 0 : sig);
    }

    /// A RET_TRACE stop: clone/fork/vfork, or set_tid_address (whose result, the thread's id,
    /// becomes the box's at the syscall-exit stop).
    void on_seccomp_stop(pid_t tid) {
        struct user_regs_struct regs {};
        if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return;
        const auto nr = static_cast<long>(regs.orig_rax);
        if (nr == SYS_set_tid_address) {
            const auto it = m_tasks.find(tid);
            if (it != m_tasks.end() && it->second.box_id > 0) {
                m_box_tid_answers.insert(tid);
                resume(tid, PTRACE_SYSCALL);
            } else {
                resume(tid);  // a task the box has no id for: the host's id stays
            }
            return;
        }
        if (nr == SYS_shmat || nr == SYS_shmdt) return rewrite_call(tid, regs, nr);
        std::uint64_t flags;
        if (nr == SYS_clone) flags = regs.rdi;
        else if (nr == SYS_fork) flags = SIGCHLD;
        else if (nr == SYS_vfork) flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
        else {
            resume(tid);
            return;
        }
        const auto it = m_tasks.find(tid);
        const pid_t tgid = it != m_tasks.end() ? it->second.tgid : tid;
        const std::int64_t id = m_events.on_clone_entry(tgid, tid, flags);
        if (id <= 0) {
            regs.orig_rax = static_cast<unsigned long long>(-1);  // skip the call...
            regs.rax = static_cast<unsigned long long>(id < 0 ? id : -static_cast<std::int64_t>(EAGAIN));  // ...returning this
            (void)::ptrace(PTRACE_SETREGS, tid, nullptr, &regs);
            resume(tid);
            return;
        }
        PendingClone pending;
        pending.box_id = id;
        pending.flags = flags;
        pending.parent_tid = (flags & CLONE_PARENT_SETTID) != 0 ? static_cast<std::uintptr_t>(regs.rdx) : 0;
        pending.arguments = {regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8};
        m_pending[tid] = pending;
        if (nr != SYS_clone) {
            regs.orig_rax = SYS_clone;
            regs.rsi = regs.rdx = regs.r10 = regs.r8 = 0;
        }
        // Every new process is a host child of the runner, which reaps it.
        regs.rdi = flags | (((flags & CLONE_THREAD) == 0) ? CLONE_PARENT : 0);
        (void)::ptrace(PTRACE_SETREGS, tid, nullptr, &regs);
        resume(tid, PTRACE_SYSCALL);
    }

    /// The six argument registers of a call.
    template <typename Word>
    static void put_call_arguments(struct user_regs_struct& regs, const std::array<Word, 6>& args) noexcept {
        regs.rdi = args[0];
        regs.rsi = args[1];
        regs.rdx = args[2];
        regs.r10 = args[3];
        regs.r8 = args[4];
        regs.r9 = args[5];
    }

    /// A traced call the owner answers or turns into another (on_traced_call).
    void rewrite_call(pid_t tid, struct user_regs_struct& regs, long nr) {
        const auto it = m_tasks.find(tid);
        const pid_t tgid = it != m_tasks.end() ? it->second.tgid : tid;
        const RewrittenCall original{nr, {regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9}};
        const std::array<std::uint64_t, 6> args{regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9};
        const TraceEvents::CallRewrite rewrite = m_events.on_traced_call(tgid, tid, nr, args);
        if (!rewrite.run) {
            regs.orig_rax = static_cast<unsigned long long>(-1);  // skip the call...
            regs.rax = static_cast<unsigned long long>(rewrite.result);  // ...returning this
        } else {
            regs.orig_rax = static_cast<unsigned long long>(rewrite.nr);
            put_call_arguments(regs, rewrite.args);
        }
        // Resumed unchanged, the call would run on the host (the filter lets a traced call through
        // after the stop): a task whose registers cannot be written dies instead.
        if (::ptrace(PTRACE_SETREGS, tid, nullptr, &regs) != 0) {
            (void)::syscall(SYS_tgkill, tgid, tid, SIGKILL);
            resume(tid);
            return;
        }
        if (!rewrite.run) {
            resume(tid);
            return;
        }
        m_rewritten[tid] = original;
        resume(tid, PTRACE_SYSCALL);
    }

    /// The exit of a rewritten call: the owner's result, the guest's own argument registers back
    /// (the kernel preserves them across a call), and the guest's call number if the result asks
    /// for a restart (the kernel restarts the number in orig_rax: the guest's call, trapped again).
    void finish_rewritten_call(pid_t tid, const RewrittenCall& call) {
        struct user_regs_struct regs {};
        if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) {
            (void)m_events.on_traced_call_exit(tid, call.nr, -ESRCH);
            resume(tid);
            return;
        }
        const std::int64_t result = m_events.on_traced_call_exit(tid, call.nr, static_cast<std::int64_t>(regs.rax));
        regs.rax = static_cast<unsigned long long>(result);
        put_call_arguments(regs, call.arguments);
        if (result == -restart_sys || result == -restart_no_intr || result == -restart_no_hand)
            regs.orig_rax = static_cast<unsigned long long>(call.nr);
        (void)::ptrace(PTRACE_SETREGS, tid, nullptr, &regs);
        resume(tid);
    }

    void on_clone_event(pid_t tid) {
        unsigned long message = 0;
        (void)::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &message);
        const auto child = static_cast<pid_t>(message);
        const auto pending = m_pending.find(tid);
        if (pending == m_pending.end() || child <= 0) {  // not ours (cannot happen): let it run
            resume(tid);
            return;
        }
        pending->second.created = true;
        const bool thread = (pending->second.flags & CLONE_THREAD) != 0;
        const auto parent = m_tasks.find(tid);
        const pid_t tgid = parent != m_tasks.end() ? parent->second.tgid : tid;
        auto& task = m_tasks[child];
        task.tgid = thread ? tgid : child;
        task.box_id = pending->second.box_id;
        task.restore = true;
        task.arguments = pending->second.arguments;
        struct user_regs_struct regs {};
        if ((pending->second.flags & CLONE_CHILD_SETTID) != 0 && ::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) == 0)
            task.child_settid = static_cast<std::uintptr_t>(regs.r10);
        m_events.on_clone_created(tid, child, task.tgid, pending->second.box_id);
        task.registered = true;
        // The kernel wrote the host id to the CLONE_PARENT_SETTID word before this stop. Rewrite it
        // now, while the child is held: pthread_create passes the same word as CLONE_CHILD_CLEARTID,
        // and a thread released first may exit (the kernel zeroes the word and wakes pthread_join)
        // before the parent's syscall-exit stop -- a rewrite there would put a nonzero id back and
        // pthread_join would wait forever.
        poke_int(tid, pending->second.parent_tid, static_cast<std::int32_t>(pending->second.box_id));
        maybe_start(child, task);
        resume(tid, PTRACE_SYSCALL);
    }

    void on_syscall_exit(pid_t tid) {
        if (const auto call = m_rewritten.find(tid); call != m_rewritten.end()) {
            const RewrittenCall original = call->second;
            m_rewritten.erase(call);
            finish_rewritten_call(tid, original);
            return;
        }
        if (m_box_tid_answers.erase(tid) != 0) {
            struct user_regs_struct regs {};
            const auto it = m_tasks.find(tid);
            if (it != m_tasks.end() && ::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) == 0 && static_cast<std::int64_t>(regs.rax) > 0) {
                regs.rax = static_cast<unsigned long long>(it->second.box_id);
                (void)::ptrace(PTRACE_SETREGS, tid, nullptr, &regs);
            }
            resume(tid);
            return;
        }
        const auto pending = m_pending.find(tid);
        if (pending == m_pending.end()) {
            resume(tid);
            return;
        }
        const PendingClone clone = pending->second;
        m_pending.erase(pending);
        struct user_regs_struct regs {};
        if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) == 0) {
            const auto result = static_cast<std::int64_t>(regs.rax);
            if (result < 0 || !clone.created) {
                m_events.on_clone_failed(tid, clone.box_id, result < 0 ? static_cast<int>(-result) : EAGAIN);
            } else {
                regs.rax = static_cast<unsigned long long>(clone.box_id);  // the settid word: on_clone_event
            }
            put_arguments(regs, clone.arguments);
            (void)::ptrace(PTRACE_SETREGS, tid, nullptr, &regs);
        }
        resume(tid);
    }

    TraceEvents& m_events;
    const int m_wake_signal;
    std::thread m_thread;
    std::atomic<bool> m_finished{false};

    std::mutex m_mutex;  // guards the request queue and m_stopping
    std::condition_variable m_changed;
    std::deque<std::shared_ptr<LaunchRequest>> m_requests;
    bool m_stopping = false;

    // Tracer thread only.
    std::unordered_map<pid_t, Task> m_tasks;
    std::unordered_map<pid_t, PendingClone> m_pending;  // by the cloning thread
    std::unordered_map<pid_t, RewrittenCall> m_rewritten;  // by the calling thread, until its exit stop
    std::unordered_set<pid_t> m_box_tid_answers;         // in set_tid_address, to answer the box id
    std::unordered_set<pid_t> m_stopped_groups;          // host processes reported stopped (on_process_stop)
    std::unordered_map<pid_t, int> m_taking_stop;        // host process -> the stop signal it takes (deliver_stop_signal)
};

}  // namespace litebox::platform::linux_platform::seccomp
