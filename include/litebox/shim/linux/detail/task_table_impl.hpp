// ProcessTable<P> member definitions (see task_table.hpp for the contract).
#pragma once

#include "../task_table.hpp"

namespace litebox::shim::linux_abi {

template <platform::RawMutexProvider P>
Result<int> ProcessTable<P>::allocate_id(State& s) const {
    if (s.ids_in_use >= m_max_tasks) return Errno::again;
    int candidate = s.last_id;
    for (int tries = 0; tries < m_pid_max; ++tries) {
        candidate = candidate >= m_pid_max - 1 ? 1 : candidate + 1;
        if (!s.processes.contains(candidate) && !s.threads.contains(candidate)) {
            s.last_id = candidate;
            ++s.ids_in_use;
            return candidate;
        }
    }
    return Errno::again;
}

template <platform::RawMutexProvider P>
void ProcessTable<P>::release_id(State& s, int /*id*/) const {
    if (s.ids_in_use > 0) --s.ids_in_use;
}

template <platform::RawMutexProvider P>
auto ProcessTable<P>::create_init(Credentials credentials, std::array<abi::rlimit, abi::rlimit_count> limits,
                                  std::size_t descriptor_limit, fs::Location<P> cwd) -> Result<Created> {
    auto files = DescriptorShare<P>::of(std::make_shared<fd::DescriptorTable<P>>(descriptor_limit));
    auto fs = std::make_shared<sync::Mutex<P, FsContext<P>>>(FsContext<P>{std::move(cwd), 022});
    return m_state.with_lock([&](State& s) -> Result<Created> {
        if (s.last_id != 0) return Errno::exist;
        LITEBOX_TRY_ASSIGN(const int pid, allocate_id(s));
        auto process = std::make_shared<Process<P>>(pid, std::move(files), std::move(fs));
        auto thread = std::make_shared<Thread<P>>(pid, *process);
        const std::uint32_t uid = credentials.ruid;
        process->state().with_lock([&](typename Process<P>::State& st) {
            st.credentials = std::move(credentials);
            st.limits = limits;
            st.threads.push_back(thread);
        });
        Node node;
        node.process = process;
        node.pgid = node.sid = pid;
        node.uid = uid;
        s.processes.emplace(pid, std::move(node));
        s.threads.emplace(pid, TidEntry{process, thread});
        return Created{process, thread};
    });
}

template <platform::RawMutexProvider P>
auto ProcessTable<P>::clone(Thread<P>& parent, std::uint64_t flags) -> Result<Created> {
    Process<P>& source = parent.process();
    const std::uint64_t parent_blocked = parent.signals().with_lock([](auto& s) { return s.blocked; });
    // Linux copies comm at fork and clone: a new thread or process has its creator's name.
    std::string parent_name = parent.name().with_lock([](const std::string& n) { return n; });
    if ((flags & abi::clone_thread) != 0) {
        return m_state.with_lock([&](State& s) -> Result<Created> {
            Node* node = s.node(source.pid());
            if (!node || node->zombie) return Errno::srch;
            LITEBOX_TRY_ASSIGN(const int tid, allocate_id(s));
            ProcessPtr process = node->process;
            auto thread = std::make_shared<Thread<P>>(tid, *process);
            thread->signals().with_lock([&](auto& ts) { ts.blocked = parent_blocked; });
            thread->name().with_lock([&](std::string& n) { n = std::move(parent_name); });
            thread->affinity.store(parent.affinity.load(std::memory_order_relaxed), std::memory_order_relaxed);
            thread->inherit_scheduling(parent);
            process->state().with_lock([&](auto& st) { st.threads.push_back(thread); });
            s.threads.emplace(tid, TidEntry{process, thread});
            return Created{std::move(process), std::move(thread)};
        });
    }
    auto files = (flags & abi::clone_files) != 0
                     ? source.share_files()
                     : DescriptorShare<P>::of(std::shared_ptr<fd::DescriptorTable<P>>(source.files()->clone()));
    auto fs = (flags & abi::clone_fs) != 0 ? source.shared_fs()
                                           : std::make_shared<sync::Mutex<P, FsContext<P>>>(source.fs().with_lock([](FsContext<P>& c) { return c; }));
    auto copied = source.state().with_lock([](auto& st) {
        typename Process<P>::State copy;
        copy.credentials = st.credentials;
        copy.limits = st.limits;
        copy.nice = st.nice;
        copy.ioprio = st.ioprio;
        copy.exe = st.exe;
        copy.argv = st.argv;
        copy.environ = st.environ;
        return copy;
    });
    auto actions = source.signals().with_lock([](auto& sig) { return sig.actions; });
    return m_state.with_lock([&](State& s) -> Result<Created> {
        Node* parent_node = s.node(source.pid());
        if (!parent_node || parent_node->zombie) return Errno::srch;
        LITEBOX_TRY_ASSIGN(const int pid, allocate_id(s));
        auto process = std::make_shared<Process<P>>(pid, std::move(files), std::move(fs));
        auto thread = std::make_shared<Thread<P>>(pid, *process);
        thread->signals().with_lock([&](auto& ts) { ts.blocked = parent_blocked; });
        thread->name().with_lock([&](std::string& n) { n = std::move(parent_name); });
        thread->affinity.store(parent.affinity.load(std::memory_order_relaxed), std::memory_order_relaxed);
        thread->inherit_scheduling(parent);
        const std::uint32_t uid = copied.credentials.ruid;
        copied.threads.push_back(thread);
        process->state().with_lock([&](auto& st) { st = std::move(copied); });
        process->signals().with_lock([&](auto& sig) { sig.actions = actions; });
        Node node;
        node.process = process;
        node.ppid = (flags & abi::clone_parent) != 0 ? parent_node->ppid : source.pid();
        node.pgid = parent_node->pgid;
        node.sid = parent_node->sid;
        node.exit_signal = static_cast<int>(flags & abi::csignal);
        node.uid = uid;
        s.processes.emplace(pid, std::move(node));
        s.threads.emplace(pid, TidEntry{process, thread});
        return Created{std::move(process), std::move(thread)};
    });
}

template <platform::RawMutexProvider P>
bool ProcessTable<P>::exit_thread(Thread<P>& thread, int code) {
    Process<P>& process = thread.process();
    bool last = false;
    m_state.with_lock([&](State& s) {
        if (s.threads.erase(thread.tid()) != 0 && thread.tid() != process.pid()) release_id(s, thread.tid());
        process.state().with_lock([&](auto& st) {
            std::erase_if(st.threads, [&](const ThreadPtr& t) { return t.get() == &thread; });
            st.exited_threads.add(Usage{thread.user_ns.load(), thread.system_ns.load()});
            if (st.threads.empty() && !st.exit_status) {
                st.exit_status = exit_wait_status(code);
                last = true;
            }
        });
    });
    if (last) finish_exit(process, exit_wait_status(code), {});
    return last;
}

template <platform::RawMutexProvider P>
void ProcessTable<P>::exit_group(Process<P>& process, int wait_status) {
    std::vector<ThreadPtr> killed;
    bool first = false;
    m_state.with_lock([&](State& s) {
        process.state().with_lock([&](auto& st) {
            if (st.exit_status) return;
            first = true;
            st.exit_status = wait_status;
            killed = std::move(st.threads);
            st.threads.clear();
            for (const auto& t : killed) st.exited_threads.add(Usage{t->user_ns.load(), t->system_ns.load()});
        });
        for (const auto& t : killed) {
            if (s.threads.erase(t->tid()) != 0 && t->tid() != process.pid()) release_id(s, t->tid());
        }
    });
    if (first) finish_exit(process, wait_status, std::move(killed));
}

template <platform::RawMutexProvider P>
void ProcessTable<P>::finish_exit(Process<P>& process, int wait_status, std::vector<ThreadPtr> killed) {
    for (const auto& t : killed) t->kill();
    killed.clear();
    process.notify_teardown();  // System V semaphore undo first, as Linux's exit_sem before exit_files
    // Descriptors are released outside every lock (their destructors may wake other threads): the
    // table closes here unless another live process still uses it (CLONE_FILES), which then closes
    // it when it lets go (~DescriptorShare).
    (void)process.release_files();
    const int pid = process.pid();
    if (m_session_leader_exit) {
        const bool leader = m_state.with_lock([&](State& s) {
            const Node* node = s.node(pid);
            return node && node->sid == pid;
        });
        if (leader) m_session_leader_exit(pid);
    }
    Usage usage;
    std::uint32_t uid = 0;
    process.state().with_lock([&](auto& st) {
        usage = st.exited_threads;
        uid = st.credentials.ruid;
    });
    std::vector<ProcessPtr> to_wake;
    std::vector<ProcessPtr> to_kill;
    std::vector<std::pair<int, std::vector<int>>> hangups;  // orphaned groups with a stopped member
    ProcessPtr parent;
    int parent_signal = 0;
    std::function<void()> after_wake;
    m_state.with_lock([&](State& s) {
        process.mark_exited();  // its pidfds are readable before the parent's signal
        Node* node = s.node(pid);
        if (!node) return;
        node->zombie = true;
        node->wait_status = wait_status;
        node->stop_signal = 0;
        node->stop_unreported = node->continue_unreported = false;
        node->usage = usage;
        node->uid = uid;
        Node* init = s.node(1);
        const bool init_alive = pid != 1 && init && !init->zombie;
        std::vector<int> child_groups;  // the groups of its children outside its own group, in its session
        for (auto& [child_pid, child] : s.processes) {
            if (child.ppid != pid) continue;
            child.ppid = init_alive ? 1 : 0;
            if (child.zombie && init_alive) to_wake.push_back(init->process);
            if (!child.zombie && child.pgid != node->pgid && child.sid == node->sid) child_groups.push_back(child.pgid);
        }
        Node* parent_node = node->ppid != 0 ? s.node(node->ppid) : nullptr;
        if (pid == 1) {
            for (auto& [other_pid, other] : s.processes)
                if (other_pid != 1 && !other.zombie) to_kill.push_back(other.process);
        } else {
            // Linux's kill_orphaned_pgrp, for each child's group (reparent_leader) and for its own
            // group, which its parent in another group of the session connected until now.
            if (parent_node && !parent_node->zombie && parent_node->pgid != node->pgid && parent_node->sid == node->sid)
                child_groups.push_back(node->pgid);
            std::sort(child_groups.begin(), child_groups.end());
            child_groups.erase(std::unique(child_groups.begin(), child_groups.end()), child_groups.end());
            for (const int group : child_groups)
                if (group_has_stopped(s, group) && group_orphaned(s, group)) hangups.emplace_back(group, live_members(s, group));
        }
        if (!parent_node || parent_node->zombie) return;
        const bool auto_reap = node->exit_signal == abi::sigchld && parent_node->process->signals().with_lock([](auto& sig) {
            const auto& action = sig.actions[abi::sigchld - 1];
            return action.handler == abi::sig_ign || (action.flags & abi::sa_nocldwait) != 0;
        });
        parent = parent_node->process;
        parent_signal = node->exit_signal;
        // Linux raises the exit signal under the same lock that makes the zombie visible to
        // wait: a parent's wait either misses the child and gets the signal later, or finds it
        // with the signal already pending. So does the runtime's notifier, here.
        if (m_child_exit && valid_signal(parent_signal)) {
            // A wait status: exit code in bits 8-15, or the signal in bits 0-6 and a core dump at 0x80.
            const int signal = wait_status & 0x7f;
            const ChildExit child = signal == 0 ? ChildExit{pid, uid, 1, (wait_status >> 8) & 0xff}
                                                : ChildExit{pid, uid, (wait_status & 0x80) != 0 ? 3 : 2, signal};
            after_wake = m_child_exit(node->ppid, parent_signal, child);
        }
        if (auto_reap) {
            parent->state().with_lock([&](auto& st) { st.reaped_children.add(usage); });
            s.processes.erase(pid);
            release_id(s, pid);
        }
    });
    process.notify_exit_listeners();  // wakes its pidfds' waiters
    for (const auto& p : to_kill) post_to_process(*p, abi::sigkill);
    for (const auto& p : to_wake) wake_process(*p);
    if (parent) {
        if (valid_signal(parent_signal)) post_to_process(*parent, parent_signal);
        wake_process(*parent);
    }
    if (after_wake) after_wake();
    for (const auto& [group, members] : hangups) {
        if (m_orphaned_hangup) {
            m_orphaned_hangup(group, members);
            continue;
        }
        for (const int signal : {abi::sighup, abi::sigcont})
            for (const int member : members)
                if (auto p = find_process(member)) post_to_process(*p, signal);
    }
}

template <platform::RawMutexProvider P>
bool ProcessTable<P>::group_orphaned(State& s, int group) {
    for (const auto& [member_pid, member] : s.processes) {
        if (member.pgid != group || member.zombie) continue;
        const Node* parent = member.ppid != 0 ? s.node(member.ppid) : nullptr;
        if (parent && !parent->zombie && parent->pgid != group && parent->sid == member.sid) return false;
    }
    return true;
}

template <platform::RawMutexProvider P>
std::vector<int> ProcessTable<P>::live_members(const State& s, int group) {
    std::vector<int> members;
    for (const auto& [pid, node] : s.processes)
        if (node.pgid == group && !node.zombie) members.push_back(pid);
    return members;
}

template <platform::RawMutexProvider P>
bool ProcessTable<P>::group_has_stopped(const State& s, int group) {
    for (const auto& [member_pid, member] : s.processes)
        if (member.pgid == group && !member.zombie && member.stop_signal != 0) return true;
    return false;
}

template <platform::RawMutexProvider P>
void ProcessTable<P>::wake_process(Process<P>& process) {
    auto threads = process.state().with_lock([](auto& st) { return st.threads; });
    for (const auto& t : threads) t->waiter().wake();
}

template <platform::RawMutexProvider P>
void ProcessTable<P>::report_stop(Process<P>& process, int signal) {
    if (!valid_signal(signal)) return;
    notify_job_change(process, true, signal);
}

template <platform::RawMutexProvider P>
void ProcessTable<P>::report_continue(Process<P>& process) {
    notify_job_change(process, false, abi::sigcont);
}

template <platform::RawMutexProvider P>
bool ProcessTable<P>::is_stopped(int pid) const {
    return m_state.with_lock([&](State& s) {
        const Node* n = s.node(pid);
        return n && !n->zombie && n->stop_signal != 0;
    });
}

template <platform::RawMutexProvider P>
bool ProcessTable<P>::in_orphaned_group(int pid) const {
    return m_state.with_lock([&](State& s) {
        const Node* self = s.node(pid);
        if (!self || self->zombie) return true;
        return group_orphaned(s, self->pgid);
    });
}

/// Linux's do_notify_parent_cldstop: the state wait reports changes and the parent hears of it
/// under the table's lock (its wait either misses the change and gets the signal later, or finds
/// it with the signal raised); SIGCHLD only without SA_NOCLDSTOP, the wake-up in any case.
template <platform::RawMutexProvider P>
void ProcessTable<P>::notify_job_change(Process<P>& process, bool stopped, int signal) {
    const int pid = process.pid();
    ProcessPtr parent;
    bool post = false;
    std::function<void()> after_wake;
    m_state.with_lock([&](State& s) {
        Node* node = s.node(pid);
        if (!node || node->zombie || node->process.get() != &process) return;
        if (stopped) {
            if (node->stop_signal != 0) return;  // one report per stop, however many threads stop
            node->stop_signal = signal;
            node->stop_unreported = true;
            node->continue_unreported = false;
        } else {
            if (node->stop_signal == 0) return;
            node->stop_signal = 0;
            node->stop_unreported = false;  // a stop wait has not seen is not reported any more
            node->continue_unreported = true;
        }
        Node* parent_node = node->ppid != 0 ? s.node(node->ppid) : nullptr;
        if (!parent_node || parent_node->zombie) return;
        parent = parent_node->process;
        post = !parent->signals().with_lock(
            [](auto& sig) { return (sig.actions[abi::sigchld - 1].flags & abi::sa_nocldstop) != 0; });
        if (post && m_child_stop)
            after_wake = m_child_stop(node->ppid, pid, stopped ? abi::cld_stopped : abi::cld_continued, stopped ? signal : abi::sigcont);
    });
    if (!parent) return;
    if (post) post_to_process(*parent, abi::sigchld);
    wake_process(*parent);
    if (after_wake) after_wake();
}

template <platform::RawMutexProvider P>
Result<WaitOutcome> ProcessTable<P>::wait(const P& platform, Thread<P>& caller, const WaitSelector& selector) {
    const int self = caller.process().pid();
    bool interrupted = false;
    for (;;) {
        const std::uint32_t token = caller.waiter().prepare();
        Result<WaitOutcome> found = m_state.with_lock([&](State& s) -> Result<WaitOutcome> {
            Node* me = s.node(self);
            const int group = selector.kind == WaitSelector::Kind::group && selector.id == 0 && me ? me->pgid : selector.id;
            bool any = false;
            for (auto it = s.processes.begin(); it != s.processes.end(); ++it) {
                Node& child = it->second;
                if (child.ppid != self) continue;
                if (selector.kind == WaitSelector::Kind::pid && it->first != selector.id) continue;
                if (selector.kind == WaitSelector::Kind::group && child.pgid != group) continue;
                const bool clone_child = child.exit_signal != abi::sigchld;
                if ((selector.options & abi::wall) == 0 && clone_child != ((selector.options & abi::wclone) != 0)) continue;
                any = true;
                const bool keep = (selector.options & abi::wnowait) != 0;
                if (child.zombie) {
                    if ((selector.options & abi::wexited) == 0) continue;
                    WaitOutcome out{it->first, child.wait_status, child.uid, child.usage};
                    if (!keep) {
                        if (me) me->process->state().with_lock([&](auto& st) { st.reaped_children.add(child.usage); });
                        s.processes.erase(it);
                        release_id(s, out.pid);
                    }
                    return out;
                }
                // Linux's order: an exit, then a stop, then a continuation.
                int status = 0;
                if ((selector.options & abi::wstopped) != 0 && child.stop_signal != 0 && child.stop_unreported) {
                    status = stopped_wait_status(child.stop_signal);
                    if (!keep) child.stop_unreported = false;
                } else if ((selector.options & abi::wcontinued) != 0 && child.continue_unreported) {
                    status = continued_wait_status;
                    if (!keep) child.continue_unreported = false;
                } else {
                    continue;
                }
                return WaitOutcome{it->first, status, child.process->credential(&Credentials::ruid), child.process->usage()};
            }
            if (!any) return Errno::child;
            if ((selector.options & abi::wnohang) != 0) return WaitOutcome{};
            return Errno::again;
        });
        if (found.has_value() || found.error() != Errno::again) return found;
        // Interrupted: only after one more look, as Linux's do_wait scans before it checks for a
        // signal (a child's exit both wakes the wait and raises SIGCHLD; the wait still succeeds).
        if (interrupted || caller.interrupted()) return Errno::intr;
        const Result<void> slept = caller.waiter().sleep(platform, token, std::nullopt);
        if (!slept.has_value() && slept.error() == Errno::intr) interrupted = true;
    }
}

template <platform::RawMutexProvider P>
int ProcessTable<P>::parent_of(int pid) const {
    return m_state.with_lock([&](State& s) { const Node* n = s.node(pid); return n ? n->ppid : 0; });
}
template <platform::RawMutexProvider P>
Result<int> ProcessTable<P>::process_group_of(int pid) const {
    return m_state.with_lock([&](State& s) -> Result<int> { const Node* n = s.node(pid); if (!n) return Errno::srch; return n->pgid; });
}
template <platform::RawMutexProvider P>
Result<int> ProcessTable<P>::session_of(int pid) const {
    return m_state.with_lock([&](State& s) -> Result<int> { const Node* n = s.node(pid); if (!n) return Errno::srch; return n->sid; });
}

template <platform::RawMutexProvider P>
Result<void> ProcessTable<P>::set_process_group(Process<P>& caller, int pid, int pgid) {
    if (pgid < 0) return Errno::inval;
    const int self = caller.pid();
    if (pid == 0) pid = self;
    if (pgid == 0) pgid = pid;
    return m_state.with_lock([&](State& s) -> Result<void> {
        Node* me = s.node(self);
        Node* target = s.node(pid);
        if (!me || !target || target->zombie) return Errno::srch;
        if (pid != self) {
            if (target->ppid != self) return Errno::srch;
            if (target->sid != me->sid) return Errno::perm;
            if (target->did_exec) return Errno::acces;
        }
        if (target->sid == pid) return Errno::perm;
        if (pgid != pid) {
            bool exists = false;
            for (const auto& [other_pid, other] : s.processes)
                if (other.pgid == pgid && other.sid == me->sid && !other.zombie) exists = true;
            if (!exists) return Errno::perm;
        }
        target->pgid = pgid;
        return ok();
    });
}

template <platform::RawMutexProvider P>
Result<int> ProcessTable<P>::create_session(Process<P>& caller) {
    const int self = caller.pid();
    return m_state.with_lock([&](State& s) -> Result<int> {
        for (const auto& [other_pid, other] : s.processes)
            if (other.pgid == self) return Errno::perm;
        Node* me = s.node(self);
        if (!me) return Errno::srch;
        me->sid = me->pgid = self;
        return self;
    });
}

template <platform::RawMutexProvider P>
void ProcessTable<P>::mark_exec(int pid) {
    m_state.with_lock([&](State& s) { if (Node* n = s.node(pid)) n->did_exec = true; });
}

template <platform::RawMutexProvider P>
auto ProcessTable<P>::find_process(int pid) const -> ProcessPtr {
    return m_state.with_lock([&](State& s) -> ProcessPtr { const Node* n = s.node(pid); return n ? n->process : nullptr; });
}
template <platform::RawMutexProvider P>
auto ProcessTable<P>::find_thread(int tid) const -> ThreadPtr {
    return m_state.with_lock([&](State& s) -> ThreadPtr {
        auto it = s.threads.find(tid);
        return it == s.threads.end() ? nullptr : it->second.thread.lock();
    });
}
template <platform::RawMutexProvider P>
auto ProcessTable<P>::process_of_thread(int tid) const -> ProcessPtr {
    return m_state.with_lock([&](State& s) -> ProcessPtr {
        auto it = s.threads.find(tid);
        return it == s.threads.end() || it->second.thread.expired() ? nullptr : it->second.process;
    });
}
template <platform::RawMutexProvider P>
std::vector<int> ProcessTable<P>::process_ids() const {
    return m_state.with_lock([](State& s) {
        std::vector<int> ids;
        for (const auto& [pid, node] : s.processes)
            if (!node.zombie) ids.push_back(pid);
        return ids;
    });
}
template <platform::RawMutexProvider P>
std::vector<int> ProcessTable<P>::group_members(int group) const {
    return m_state.with_lock([&](State& s) { return live_members(s, group); });
}
template <platform::RawMutexProvider P>
std::size_t ProcessTable<P>::tasks_in_use() const {
    return m_state.with_lock([](State& s) { return s.ids_in_use; });
}
template <platform::RawMutexProvider P>
std::optional<int> ProcessTable<P>::orphan_exit_status(int pid) const {
    return m_state.with_lock([&](State& s) -> std::optional<int> {
        const Node* n = s.node(pid);
        if (!n || !n->zombie) return std::nullopt;
        return n->wait_status;
    });
}

}  // namespace litebox::shim::linux_abi

#include "signal_impl.hpp"
