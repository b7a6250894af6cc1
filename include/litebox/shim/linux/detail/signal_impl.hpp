// ProcessTable<P> signal members: kill, tgkill, posting, dequeueing (see task_table.hpp).
#pragma once

#include "../task_table.hpp"

namespace litebox::shim::linux_abi {

template <platform::RawMutexProvider P>
bool ProcessTable<P>::may_signal(const Credentials& sender, const Credentials& target) noexcept {
    return sender.privileged() || sender.euid == target.ruid || sender.euid == target.suid || sender.ruid == target.ruid ||
           sender.ruid == target.suid;
}

template <platform::RawMutexProvider P>
bool ProcessTable<P>::ignored(const typename Process<P>::Signals& sig, int signal) noexcept {
    if (signal == abi::sigkill || signal == abi::sigstop) return false;
    const auto handler = sig.actions[static_cast<std::size_t>(signal - 1)].handler;
    return handler == abi::sig_ign || (handler == abi::sig_dfl && (default_ignored_signals & signal_bit(signal)) != 0);
}

template <platform::RawMutexProvider P>
Result<void> ProcessTable<P>::kill(Process<P>& sender, int pid, int signal) {
    if (signal < 0 || signal > abi::signal_count) return Errno::inval;
    struct Target {
        ProcessPtr process;
        bool zombie;
    };
    std::vector<Target> targets;
    m_state.with_lock([&](State& s) {
        const Node* me = s.node(sender.pid());
        const int group = pid == 0 ? (me ? me->pgid : 0) : -pid;
        for (const auto& [other_pid, node] : s.processes) {
            const bool match = pid > 0    ? other_pid == pid
                               : pid == -1 ? other_pid != 1 && other_pid != sender.pid()
                                           : node.pgid == group;
            if (match) targets.push_back(Target{node.process, node.zombie});
        }
    });
    if (targets.empty()) return Errno::srch;
    const Credentials mine = sender.credentials();
    bool permitted = false;
    for (const Target& t : targets) {
        if (!may_signal(mine, t.process->credentials())) continue;
        permitted = true;
        if (signal != 0 && !t.zombie) post_to_process(*t.process, signal);
    }
    if (!permitted) return Errno::perm;
    return ok();
}

template <platform::RawMutexProvider P>
Result<void> ProcessTable<P>::kill_thread(Process<P>& sender, int tgid, int tid, int signal) {
    if (tid <= 0 || (tgid <= 0 && tgid != -1) || signal < 0 || signal > abi::signal_count) return Errno::inval;
    ThreadPtr target = find_thread(tid);
    if (!target || (tgid > 0 && target->process().pid() != tgid)) return Errno::srch;
    if (!may_signal(sender.credentials(), target->process().credentials())) return Errno::perm;
    if (signal != 0) post_to_thread(*target, signal);
    return ok();
}

template <platform::RawMutexProvider P>
void ProcessTable<P>::post_to_process(Process<P>& target, int signal) {
    if (!valid_signal(signal)) return;
    auto threads = target.state().with_lock([](auto& st) { return st.threads; });
    const bool queued = target.signals().with_lock([&](auto& sig) {
        if (ignored(sig, signal)) return false;
        sig.shared_pending |= signal_bit(signal);
        return true;
    });
    if (!queued) return;
    for (const auto& t : threads) refresh_interrupt_hint(*t);
}

template <platform::RawMutexProvider P>
void ProcessTable<P>::post_to_thread(Thread<P>& target, int signal) {
    if (!valid_signal(signal)) return;
    const bool queued = target.process().signals().with_lock([&](auto& sig) {
        if (ignored(sig, signal)) return false;
        target.signals().with_lock([&](auto& ts) { ts.pending |= signal_bit(signal); });
        return true;
    });
    if (!queued) return;
    refresh_interrupt_hint(target);
}

template <platform::RawMutexProvider P>
void ProcessTable<P>::refresh_interrupt_hint(Thread<P>& thread) {
    thread.process().signals().with_lock([&](auto& sig) {
        thread.signals().with_lock([&](auto& ts) {
            const std::uint64_t deliverable = (ts.pending | sig.shared_pending) & ~(ts.blocked & ~unblockable_signals);
            thread.set_interrupt_hint(deliverable != 0);
        });
    });
}

template <platform::RawMutexProvider P>
std::optional<std::pair<int, abi::kernel_sigaction>> ProcessTable<P>::dequeue_signal(Thread<P>& thread) {
    return thread.process().signals().with_lock([&](auto& sig) -> std::optional<std::pair<int, abi::kernel_sigaction>> {
        return thread.signals().with_lock([&](auto& ts) -> std::optional<std::pair<int, abi::kernel_sigaction>> {
            const std::uint64_t deliverable = (ts.pending | sig.shared_pending) & ~(ts.blocked & ~unblockable_signals);
            if (deliverable == 0) {
                thread.set_interrupt_hint(false);
                return std::nullopt;
            }
            const int signal = (deliverable & signal_bit(abi::sigkill)) != 0 ? abi::sigkill : __builtin_ctzll(deliverable) + 1;
            if ((ts.pending & signal_bit(signal)) != 0)
                ts.pending &= ~signal_bit(signal);
            else
                sig.shared_pending &= ~signal_bit(signal);
            const std::uint64_t rest = (ts.pending | sig.shared_pending) & ~(ts.blocked & ~unblockable_signals);
            thread.set_interrupt_hint(rest != 0);
            return std::pair{signal, sig.actions[static_cast<std::size_t>(signal - 1)]};
        });
    });
}

}  // namespace litebox::shim::linux_abi
