// Process model through raw syscalls: pids, fork/clone/exit/wait, groups and sessions, signals.
#include <sys/wait.h>

#include <functional>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;
using P = GuestMemoryPlatform;

TEST_CASE("getpid, gettid and getppid of the first process", "[shim][process]") {
    ShimFixture<> f;
    CHECK(f.call(lx::nr::getpid) == 1);
    CHECK(f.call(lx::nr::gettid) == 1);
    CHECK(f.call(lx::nr::getppid) == 0);
    CHECK(f.call(lx::nr::sched_yield) == 0);
    CHECK(f.call(lx::nr::set_tid_address, 0x1234) == 1);
    CHECK(f.init->thread().clear_child_tid.load() == 0x1234);
    CHECK(f.shim.create_init().error() == Errno::exist);
}

TEST_CASE("fork creates a child that exit and wait4 reap", "[shim][process]") {
    ShimFixture<> f;
    auto child = f.fork(*f.init);
    CHECK(child->pid() == 2);
    CHECK(f.call_on(*child, lx::nr::getpid) == 2);
    CHECK(f.call_on(*child, lx::nr::getppid) == 1);
    CHECK(&child->files() != &f.init->files());

    const auto status = f.mem.allocate(4);
    CHECK(f.call(lx::nr::wait4, -1, status, lx::abi::wnohang, 0) == 0);
    CHECK(f.call_on(*child, lx::nr::exit_group, 7) == 0);
    auto request = child->take_request();
    REQUIRE(std::holds_alternative<lx::ExitRequest>(request));
    CHECK(std::get<lx::ExitRequest>(request).whole_process);
    CHECK(!f.init->dequeue_signal());  // SIGCHLD is ignored by default: discarded
    const auto usage = f.mem.allocate(sizeof(lx::abi::rusage));
    CHECK(f.call(lx::nr::wait4, -1, status, 0, usage) == 2);
    CHECK(f.mem.get<std::int32_t>(status) == 7 << 8);
    CHECK(f.call(lx::nr::wait4, -1, status, 0, 0) == err(Errno::child));
    CHECK(f.shim.tasks().tasks_in_use() == 1);
}

TEST_CASE("wait4 errors", "[shim][process]") {
    ShimFixture<> f;
    CHECK(f.call(lx::nr::wait4, -1, 0, 0, 0) == err(Errno::child));
    CHECK(f.call(lx::nr::wait4, -1, 0, 0x100, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::wait4, INT32_MIN, 0, 0, 0) == err(Errno::srch));
    auto child = f.fork(*f.init);
    CHECK(f.call(lx::nr::wait4, 99, 0, 0, 0) == err(Errno::child));
    f.call_on(*child, lx::nr::exit, 3);
    CHECK(f.call(lx::nr::wait4, 2, f.mem.hole(), 0, 0) == err(Errno::fault));
    CHECK(f.call(lx::nr::wait4, 2, 0, 0, 0) == err(Errno::child));  // reaped despite EFAULT, as on Linux
}

TEST_CASE("wait4 blocks until a child exits and is interrupted by a signal", "[shim][process]") {
    ShimFixture<> f;
    auto child = f.fork(*f.init);
    std::int64_t waited = 0;
    std::thread waiter([&] { waited = f.call(lx::nr::wait4, 2, 0, 0, 0); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    f.call_on(*child, lx::nr::exit_group, 0);
    waiter.join();
    CHECK(waited == 2);

    auto second = f.fork(*f.init);
    std::thread interrupted([&] { waited = f.call(lx::nr::wait4, -1, 0, 0, 0); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(f.call_on(*second, lx::nr::kill, 1, lx::abi::sigusr1) == 0);
    interrupted.join();
    CHECK(waited == err(Errno::intr));
    auto signal = f.init->dequeue_signal();
    REQUIRE(signal);
    CHECK(signal->first == lx::abi::sigusr1);
    CHECK(!f.init->dequeue_signal());
}

TEST_CASE("the child-exit notifier raises the signal as the zombie appears; an interrupted wait still finds it", "[shim][process]") {
    ShimFixture<> f;
    auto child = f.fork(*f.init);
    std::vector<std::pair<int, int>> notified;
    std::vector<std::tuple<int, int, int>> children;  // si_pid, si_code, si_status
    bool after_wake_ran = false;
    // The parent's wait is interrupted as the child becomes a zombie (before its wake-up even):
    // the wait must still return the child, not EINTR.
    f.shim.tasks().set_child_exit_notifier([&](int parent, int signal, const auto& exited) -> std::function<void()> {
        notified.emplace_back(parent, signal);
        children.emplace_back(exited.pid, exited.code, exited.status);
        f.init->thread().waiter().interrupt();
        return [&] { after_wake_ran = true; };
    });
    std::int64_t waited = 0;
    std::thread waiter([&] { waited = f.call(lx::nr::wait4, -1, 0, 0, 0); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    f.call_on(*child, lx::nr::exit_group, 5);
    waiter.join();
    CHECK(waited == 2);  // Linux's do_wait looks for a zombie before it checks for a signal
    CHECK(after_wake_ran);
    REQUIRE(notified.size() == 1);
    CHECK(notified[0] == std::pair{1, lx::abi::sigchld});
    CHECK(children[0] == std::tuple{2, 1, 5});  // CLD_EXITED with status 5
    f.init->thread().waiter().clear_interrupt();

    // Interrupted with no child exited: EINTR, after one more look.
    auto second = f.fork(*f.init);
    f.init->thread().waiter().interrupt();
    CHECK(f.call(lx::nr::wait4, -1, 0, 0, 0) == err(Errno::intr));
    f.init->thread().waiter().clear_interrupt();
    f.call_on(*second, lx::nr::exit, 0);
    f.init->thread().waiter().clear_interrupt();  // the notifier interrupted again
    CHECK(f.call(lx::nr::wait4, -1, 0, 0, 0) == 3);
    CHECK(notified.size() == 2);
    f.shim.tasks().set_child_exit_notifier(nullptr);
}

TEST_CASE("waitid reports a siginfo and honours WNOWAIT", "[shim][process]") {
    ShimFixture<> f;
    auto child = f.fork(*f.init);
    const auto info = f.mem.allocate(sizeof(lx::abi::siginfo));
    CHECK(f.call(lx::nr::waitid, lx::abi::p_pid, 2, info, lx::abi::wexited | lx::abi::wnohang, 0) == 0);
    CHECK(f.mem.get<lx::abi::siginfo>(info).pid == 0);
    f.call_on(*child, lx::nr::exit_group, 5);
    CHECK(f.call(lx::nr::waitid, lx::abi::p_all, 0, info, lx::abi::wexited | lx::abi::wnowait, 0) == 0);
    auto si = f.mem.get<lx::abi::siginfo>(info);
    CHECK(si.signo == lx::abi::sigchld);
    CHECK(si.code == lx::abi::cld_exited);
    CHECK(si.pid == 2);
    CHECK(si.status == 5);
    CHECK(si.uid == 1000);
    CHECK(f.call(lx::nr::waitid, lx::abi::p_pgid, 0, info, lx::abi::wexited, 0) == 0);  // still there
    CHECK(f.call(lx::nr::waitid, lx::abi::p_all, 0, info, lx::abi::wexited, 0) == err(Errno::child));
    CHECK(f.call(lx::nr::waitid, lx::abi::p_all, 0, info, 0, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::waitid, lx::abi::p_pid, 0, info, lx::abi::wexited, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::waitid, 7, 0, info, lx::abi::wexited, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::waitid, lx::abi::p_pidfd, 3, info, lx::abi::wexited, 0) == err(Errno::badf));  // no pidfd there

    auto killed = f.fork(*f.init);
    f.shim.tasks().exit_group(killed->process(), lx::signal_wait_status(lx::abi::sigkill));
    CHECK(f.call(lx::nr::waitid, lx::abi::p_all, 0, f.mem.hole(), lx::abi::wexited, 0) == err(Errno::fault));
}

TEST_CASE("WUNTRACED and WCONTINUED report a runtime's stop and continuation once each", "[shim][process][jobctl]") {
    ShimFixture<> f;
    auto child = f.fork(*f.init);
    auto& tasks = f.shim.tasks();
    const auto status = f.mem.allocate(4);
    constexpr std::uint32_t untraced_now = lx::abi::wuntraced | lx::abi::wnohang;
    CHECK(f.call(lx::nr::wait4, -1, status, untraced_now, 0) == 0);
    CHECK(!tasks.is_stopped(2));

    tasks.report_stop(child->process(), lx::abi::sigstop);
    CHECK(tasks.is_stopped(2));
    CHECK(f.call(lx::nr::wait4, -1, status, lx::abi::wnohang, 0) == 0);  // a stop needs WUNTRACED
    CHECK(f.call(lx::nr::wait4, -1, status, lx::abi::wcontinued | lx::abi::wnohang, 0) == 0);
    f.mem.put<std::int32_t>(status, 0);
    CHECK(f.call(lx::nr::wait4, 2, status, lx::abi::wuntraced, 0) == 2);
    const int stopped = f.mem.get<std::int32_t>(status);
    CHECK(stopped == 0x137f);
    CHECK(WIFSTOPPED(stopped));
    CHECK(WSTOPSIG(stopped) == lx::abi::sigstop);
    CHECK(f.call(lx::nr::wait4, -1, status, untraced_now, 0) == 0);  // once per stop
    tasks.report_stop(child->process(), lx::abi::sigstop);             // another thread's stop: the same one
    CHECK(f.call(lx::nr::wait4, -1, status, untraced_now, 0) == 0);

    tasks.report_continue(child->process());
    CHECK(!tasks.is_stopped(2));
    CHECK(f.call(lx::nr::wait4, -1, status, untraced_now, 0) == 0);
    CHECK(f.call(lx::nr::wait4, -1, status, lx::abi::wcontinued, 0) == 2);
    CHECK(f.mem.get<std::int32_t>(status) == 0xffff);
    CHECK(WIFCONTINUED(f.mem.get<std::int32_t>(status)));
    CHECK(f.call(lx::nr::wait4, -1, status, lx::abi::wcontinued | lx::abi::wnohang, 0) == 0);
    tasks.report_continue(child->process());  // not stopped: nothing to report
    CHECK(f.call(lx::nr::wait4, -1, status, lx::abi::wcontinued | lx::abi::wnohang, 0) == 0);

    // waitid: CLD_STOPPED with the stop signal; WNOWAIT leaves it to be reported again.
    const auto info = f.mem.allocate(sizeof(lx::abi::siginfo));
    tasks.report_stop(child->process(), lx::abi::sigtstp);
    CHECK(f.call(lx::nr::waitid, lx::abi::p_pid, 2, info, lx::abi::wexited | lx::abi::wnohang, 0) == 0);
    CHECK(f.mem.get<lx::abi::siginfo>(info).pid == 0);
    for (const std::uint32_t extra : {lx::abi::wnowait, 0u}) {
        f.mem.put(info, lx::abi::siginfo{});
        CHECK(f.call(lx::nr::waitid, lx::abi::p_all, 0, info, lx::abi::wstopped | extra, 0) == 0);
        const auto si = f.mem.get<lx::abi::siginfo>(info);
        CHECK(si.signo == lx::abi::sigchld);
        CHECK(si.code == lx::abi::cld_stopped);
        CHECK(si.pid == 2);
        CHECK(si.uid == 1000);
        CHECK(si.status == lx::abi::sigtstp);
    }
    CHECK(f.call(lx::nr::waitid, lx::abi::p_all, 0, info, lx::abi::wstopped | lx::abi::wnohang, 0) == 0);
    CHECK(f.mem.get<lx::abi::siginfo>(info).pid == 0);

    // A stop that wait never saw is not reported once the process runs again; the continuation is.
    tasks.report_continue(child->process());
    tasks.report_stop(child->process(), lx::abi::sigttin);
    tasks.report_continue(child->process());
    CHECK(f.call(lx::nr::waitid, lx::abi::p_all, 0, info, lx::abi::wstopped | lx::abi::wnohang, 0) == 0);
    CHECK(f.mem.get<lx::abi::siginfo>(info).pid == 0);
    CHECK(f.call(lx::nr::waitid, lx::abi::p_pgid, 0, info, lx::abi::wcontinued | lx::abi::wnowait, 0) == 0);
    CHECK(f.mem.get<lx::abi::siginfo>(info).code == lx::abi::cld_continued);
    CHECK(f.call(lx::nr::waitid, lx::abi::p_all, 0, info, lx::abi::wcontinued, 0) == 0);
    auto si = f.mem.get<lx::abi::siginfo>(info);
    CHECK(si.code == lx::abi::cld_continued);
    CHECK(si.status == lx::abi::sigcont);
    CHECK(si.pid == 2);
    CHECK(f.call(lx::nr::waitid, lx::abi::p_all, 0, info, lx::abi::wcontinued | lx::abi::wnohang, 0) == 0);
    CHECK(f.mem.get<lx::abi::siginfo>(info).pid == 0);
    // A new stop replaces an unreported continuation.
    tasks.report_stop(child->process(), lx::abi::sigstop);
    tasks.report_continue(child->process());
    tasks.report_stop(child->process(), lx::abi::sigttou);
    CHECK(f.call(lx::nr::wait4, -1, status, lx::abi::wcontinued | lx::abi::wnohang, 0) == 0);
    CHECK(f.call(lx::nr::wait4, -1, status, lx::abi::wuntraced | lx::abi::wcontinued, 0) == 2);
    CHECK(f.mem.get<std::int32_t>(status) == ((lx::abi::sigttou << 8) | 0x7f));

    // Hostile or meaningless reports change nothing; a stopped process that dies is a zombie first.
    tasks.report_stop(child->process(), 0);
    tasks.report_stop(child->process(), 65);
    tasks.report_stop(f.init->process(), lx::abi::sigstop);  // no parent: recorded, nobody told
    CHECK(tasks.is_stopped(1));
    tasks.report_continue(f.init->process());
    tasks.report_continue(child->process());
    tasks.report_stop(child->process(), lx::abi::sigstop);
    f.shim.tasks().exit_group(child->process(), lx::signal_wait_status(lx::abi::sigkill));
    CHECK(!tasks.is_stopped(2));
    tasks.report_stop(child->process(), lx::abi::sigstop);  // a zombie does not stop
    CHECK(f.call(lx::nr::wait4, -1, status, lx::abi::wuntraced | lx::abi::wcontinued, 0) == 2);
    CHECK(f.mem.get<std::int32_t>(status) == lx::abi::sigkill);
    CHECK(f.call(lx::nr::wait4, -1, status, untraced_now, 0) == err(Errno::child));
}

TEST_CASE("a child's stop wakes a blocked wait and raises SIGCHLD unless SA_NOCLDSTOP", "[shim][process][jobctl]") {
    ShimFixture<> f;
    auto child = f.fork(*f.init);
    auto& tasks = f.shim.tasks();
    struct Notice {
        int parent, child, code, status;
    };
    std::vector<Notice> notices;
    tasks.set_child_stop_notifier([&](int parent, int pid, int code, int status) -> std::function<void()> {
        notices.push_back(Notice{parent, pid, code, status});
        return {};
    });
    const auto status = f.mem.allocate(4);
    std::int64_t waited = 0;
    std::thread waiter([&] { waited = f.call(lx::nr::wait4, -1, status, lx::abi::wuntraced, 0); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    tasks.report_stop(child->process(), lx::abi::sigstop);
    waiter.join();
    CHECK(waited == 2);
    CHECK(f.mem.get<std::int32_t>(status) == 0x137f);
    CHECK(!f.init->dequeue_signal());  // SIGCHLD's default action is to ignore it: discarded
    REQUIRE(notices.size() == 1);
    CHECK(notices[0].parent == 1);
    CHECK(notices[0].child == 2);
    CHECK(notices[0].code == lx::abi::cld_stopped);
    CHECK(notices[0].status == lx::abi::sigstop);

    std::thread continued([&] { waited = f.call(lx::nr::wait4, 2, status, lx::abi::wcontinued, 0); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    tasks.report_continue(child->process());
    continued.join();
    CHECK(waited == 2);
    CHECK(f.mem.get<std::int32_t>(status) == 0xffff);
    REQUIRE(notices.size() == 2);
    CHECK(notices[1].code == lx::abi::cld_continued);
    CHECK(notices[1].status == lx::abi::sigcont);

    // With a SIGCHLD handler the parent gets SIGCHLD for each stop and continuation.
    const auto action = f.mem.allocate(sizeof(lx::abi::kernel_sigaction));
    f.mem.put(action, lx::abi::kernel_sigaction{0x401000, lx::abi::sa_restorer, 0x402000, 0});
    CHECK(f.call(lx::nr::rt_sigaction, lx::abi::sigchld, action, 0, 8) == 0);
    tasks.report_stop(child->process(), lx::abi::sigtstp);
    auto signal = f.init->dequeue_signal();
    REQUIRE(signal);
    CHECK(signal->first == lx::abi::sigchld);
    tasks.report_continue(child->process());
    signal = f.init->dequeue_signal();
    REQUIRE(signal);
    CHECK(signal->first == lx::abi::sigchld);
    CHECK(notices.size() == 4);

    // SA_NOCLDSTOP: no signal, no notice; wait still reports, and a blocked wait still wakes.
    f.mem.put(action, lx::abi::kernel_sigaction{0x401000, lx::abi::sa_restorer | lx::abi::sa_nocldstop, 0x402000, 0});
    CHECK(f.call(lx::nr::rt_sigaction, lx::abi::sigchld, action, 0, 8) == 0);
    std::thread quiet([&] { waited = f.call(lx::nr::wait4, -1, status, lx::abi::wuntraced, 0); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    tasks.report_stop(child->process(), lx::abi::sigstop);
    quiet.join();
    CHECK(waited == 2);
    CHECK(!f.init->dequeue_signal());
    tasks.report_continue(child->process());
    CHECK(!f.init->dequeue_signal());
    CHECK(notices.size() == 4);
    CHECK(f.call(lx::nr::wait4, -1, status, lx::abi::wcontinued | lx::abi::wnohang, 0) == 2);
    tasks.set_child_stop_notifier(nullptr);
}

TEST_CASE("wait for a stopped child of another process group or a clone child follows the selector", "[shim][process][jobctl]") {
    ShimFixture<> f;
    auto child = f.fork(*f.init);
    auto& tasks = f.shim.tasks();
    CHECK(f.call_on(*child, lx::nr::setpgid, 0, 0) == 0);
    tasks.report_stop(child->process(), lx::abi::sigstop);
    CHECK(f.call(lx::nr::wait4, 0, 0, lx::abi::wuntraced | lx::abi::wnohang, 0) == err(Errno::child));
    CHECK(f.call(lx::nr::wait4, -2, 0, lx::abi::wuntraced | lx::abi::wnohang, 0) == 2);
    tasks.report_continue(child->process());
    // A child with another exit signal is reported only to __WCLONE or __WALL waits.
    const auto cloned = f.call(lx::nr::clone, lx::abi::sigusr1, 0, 0, 0, 0);
    REQUIRE(cloned == 3);
    auto outcome = f.init->take_request();
    auto* request = std::get_if<lx::CloneRequest<P>>(&outcome);
    REQUIRE(request);
    auto clone_child = std::move(request->child);
    tasks.report_stop(clone_child->process(), lx::abi::sigstop);
    CHECK(f.call(lx::nr::wait4, 3, 0, lx::abi::wuntraced | lx::abi::wnohang, 0) == err(Errno::child));
    CHECK(f.call(lx::nr::wait4, 3, 0, lx::abi::wuntraced | lx::abi::wnohang | lx::abi::wclone, 0) == 3);
    tasks.report_continue(clone_child->process());
    CHECK(f.call(lx::nr::wait4, -1, 0, lx::abi::wcontinued | lx::abi::wnohang | lx::abi::wall, 0) == 2);
    CHECK(f.call(lx::nr::wait4, -1, 0, lx::abi::wcontinued | lx::abi::wnohang | lx::abi::wall, 0) == 3);
}

TEST_CASE("a process group is orphaned unless a member's parent is in another group of the session", "[shim][process][jobctl]") {
    ShimFixture<> f;
    auto& tasks = f.shim.tasks();
    CHECK(tasks.in_orphaned_group(1));  // pid 1 has no parent
    auto shell = f.fork(*f.init);     // 2, in pid 1's group
    CHECK(tasks.in_orphaned_group(2));  // its parent is in its own group
    auto job = f.fork(*f.init);         // 3, a group of its own: its parent (1) is in the session
    CHECK(f.call_on(*job, lx::nr::setpgid, 0, 0) == 0);
    CHECK(!tasks.in_orphaned_group(3));
    CHECK(tasks.in_orphaned_group(1));  // what a child's group is does not change pid 1's
    // A new session: the leader's parent is in another session, so its group is orphaned, and so
    // is a child in that group; a child in a group of its own in that session is not.
    CHECK(f.call_on(*shell, lx::nr::setsid) == 2);
    CHECK(tasks.in_orphaned_group(2));
    auto in_group = f.fork(*shell);  // 4
    auto own_group = f.fork(*shell);  // 5
    CHECK(f.call_on(*own_group, lx::nr::setpgid, 0, 0) == 0);
    CHECK(tasks.in_orphaned_group(4));
    CHECK(!tasks.in_orphaned_group(5));
    // One member with a parent outside the group is enough for the whole group.
    auto sibling = f.fork(*own_group);  // 6, in group 5, its parent in the same group
    CHECK(!tasks.in_orphaned_group(6));
    // When the session leader exits, its children go to pid 1 (another session): now orphaned.
    f.call_on(*shell, lx::nr::exit_group, 0);
    CHECK(tasks.in_orphaned_group(5));
    CHECK(tasks.in_orphaned_group(6));
    CHECK(tasks.in_orphaned_group(2));   // a zombie
    CHECK(tasks.in_orphaned_group(99));  // no such process
    (void)in_group;
    (void)sibling;
}

TEST_CASE("an exit that orphans a process group with a stopped member sends it SIGHUP and SIGCONT", "[shim][process][jobctl]") {
    ShimFixture<> f;
    auto& tasks = f.shim.tasks();
    const auto hup = [](auto& context) {
        auto signal = context->dequeue_signal();
        return signal && signal->first == lx::abi::sighup;
    };
    // A session leader (2) with a job in a group of its own (3, with its child 4): when the leader
    // exits, the job goes to pid 1, in another session, and nothing connects the group any more.
    auto shell = f.fork(*f.init);
    CHECK(f.call_on(*shell, lx::nr::setsid) == 2);
    auto job = f.fork(*shell);
    CHECK(f.call_on(*job, lx::nr::setpgid, 0, 0) == 0);
    auto member = f.fork(*job);  // 4, in group 3
    tasks.report_stop(member->process(), lx::abi::sigstop);
    std::vector<std::pair<int, std::vector<int>>> hangups;
    tasks.set_orphaned_group_hangup([&](int group, const std::vector<int>& members) { hangups.emplace_back(group, members); });
    f.call_on(*shell, lx::nr::exit_group, 0);
    REQUIRE(hangups.size() == 1);
    CHECK(hangups[0].first == 3);
    CHECK(hangups[0].second == std::vector<int>{3, 4});
    // Without a runtime's hook the signals go to the shim's books (SIGCONT's default is to ignore).
    tasks.set_orphaned_group_hangup(nullptr);
    tasks.report_continue(member->process());

    // The job leader's own exit orphans its group (its parent was in another group of the
    // session; the member's new parent, pid 1, is in another session).
    auto shell2 = f.fork(*f.init);  // 5
    CHECK(f.call_on(*shell2, lx::nr::setsid) == 5);
    auto leader = f.fork(*shell2);  // 6
    CHECK(f.call_on(*leader, lx::nr::setpgid, 0, 0) == 0);
    auto stopped = f.fork(*leader);  // 7, in group 6
    auto running = f.fork(*leader);  // 8, in group 6
    tasks.report_stop(stopped->process(), lx::abi::sigstop);
    f.call_on(*leader, lx::nr::exit_group, 0);
    CHECK(hup(stopped));
    CHECK(hup(running));  // every member, stopped or not
    tasks.report_continue(stopped->process());

    // Not orphaned: another member's parent (the session leader) is still in the session.
    auto first = f.fork(*shell2);   // 9
    auto second = f.fork(*shell2);  // 10
    CHECK(f.call_on(*first, lx::nr::setpgid, 0, 0) == 0);
    CHECK(f.call_on(*second, lx::nr::setpgid, 10, 9) == 0);
    auto grandchild = f.fork(*first);  // 11, in group 9
    tasks.report_stop(grandchild->process(), lx::abi::sigstop);
    f.call_on(*first, lx::nr::exit_group, 0);
    CHECK(!grandchild->dequeue_signal());
    CHECK(!second->dequeue_signal());
    tasks.report_continue(grandchild->process());
    // Orphaned but nothing stopped: no signal.
    f.call_on(*second, lx::nr::exit_group, 0);  // group 9 now only 11, its parent pid 1
    CHECK(!grandchild->dequeue_signal());
    (void)running;
}

TEST_CASE("orphans are re-parented to pid 1 and pid 1 reaps them", "[shim][process]") {
    ShimFixture<> f;
    auto middle = f.fork(*f.init);
    auto grandchild = f.fork(*middle);
    CHECK(f.call_on(*grandchild, lx::nr::getppid) == 2);
    f.call_on(*middle, lx::nr::exit_group, 0);
    CHECK(f.call_on(*grandchild, lx::nr::getppid) == 1);
    f.call_on(*grandchild, lx::nr::exit_group, 9);
    const auto status = f.mem.allocate(4);
    CHECK(f.call(lx::nr::wait4, 3, status, 0, 0) == 3);
    CHECK(f.mem.get<std::int32_t>(status) == 9 << 8);
    CHECK(f.call(lx::nr::wait4, 2, 0, 0, 0) == 2);
}

TEST_CASE("a parent that ignores SIGCHLD never sees zombies", "[shim][process]") {
    ShimFixture<> f;
    const auto action = f.mem.allocate(sizeof(lx::abi::kernel_sigaction));
    f.mem.put(action, lx::abi::kernel_sigaction{lx::abi::sig_ign, 0, 0, 0});
    CHECK(f.call(lx::nr::rt_sigaction, lx::abi::sigchld, action, 0, 8) == 0);
    auto child = f.fork(*f.init);
    f.call_on(*child, lx::nr::exit_group, 0);
    CHECK(f.call(lx::nr::wait4, -1, 0, lx::abi::wnohang, 0) == err(Errno::child));
    CHECK(f.shim.tasks().tasks_in_use() == 1);
}

TEST_CASE("when pid 1 exits every other process is killed", "[shim][process]") {
    ShimFixture<> f;
    auto child = f.fork(*f.init);
    f.call(lx::nr::exit_group, 0);
    auto signal = child->dequeue_signal();
    REQUIRE(signal);
    CHECK(signal->first == lx::abi::sigkill);
    CHECK(f.shim.tasks().orphan_exit_status(1) == 0);
}

TEST_CASE("threads: clone(CLONE_THREAD), exit, exit_group kills siblings", "[shim][process]") {
    ShimFixture<> f;
    constexpr std::uint64_t thread_flags = lx::abi::clone_vm | lx::abi::clone_fs | lx::abi::clone_files | lx::abi::clone_sighand |
                                           lx::abi::clone_thread | lx::abi::clone_parent_settid | lx::abi::clone_child_cleartid;
    const auto tid_word = f.mem.allocate(4);
    const auto tid = f.call(lx::nr::clone, thread_flags, 0x7000, tid_word, tid_word, 0);
    CHECK(tid == 2);
    CHECK(f.mem.get<std::int32_t>(tid_word) == 2);
    auto request = f.init->take_request();
    REQUIRE(std::holds_alternative<lx::CloneRequest<P>>(request));
    auto& clone = std::get<lx::CloneRequest<P>>(request);
    CHECK(clone.stack == 0x7000);
    auto thread = std::move(clone.child);
    CHECK(f.call_on(*thread, lx::nr::getpid) == 1);
    CHECK(f.call_on(*thread, lx::nr::gettid) == 2);
    CHECK(&thread->files() == &f.init->files());
    CHECK(thread->thread().clear_child_tid.load() == tid_word);

    CHECK(f.call(lx::nr::clone, lx::abi::clone_thread | lx::abi::clone_vm, 0, 0, 0, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::clone, lx::abi::clone_sighand, 0, 0, 0, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::clone, lx::abi::clone_pidfd | lx::abi::sigchld, 0, 0, 0, 0) == err(Errno::inval));

    CHECK(f.call_on(*thread, lx::nr::exit, 0) == 0);
    auto exit = thread->take_request();
    REQUIRE(std::holds_alternative<lx::ExitRequest>(exit));
    CHECK(!std::get<lx::ExitRequest>(exit).whole_process);
    CHECK(std::get<lx::ExitRequest>(exit).clear_child_tid == tid_word);
    CHECK(f.shim.tasks().find_thread(2) == nullptr);

    const auto second = f.call(lx::nr::clone, thread_flags, 0, tid_word, tid_word, 0);
    auto sibling = std::move(std::get<lx::CloneRequest<P>>(f.init->take_request()).child);
    CHECK(second == 3);
    f.call(lx::nr::exit_group, 4);
    CHECK(sibling->thread().killed());
    CHECK(f.call_on(*sibling, lx::nr::getpid) == err(Errno::intr));
    CHECK(std::holds_alternative<lx::ExitRequest>(sibling->take_request()));
}

TEST_CASE("the box limits processes and threads", "[shim][process]") {
    lx::ShimConfig config;
    config.max_tasks = 3;
    ShimFixture<> f(config);
    auto a = f.fork(*f.init);
    auto b = f.fork(*f.init);
    CHECK(f.call(lx::nr::fork) == err(Errno::again));
    f.call_on(*a, lx::nr::exit_group, 0);
    CHECK(f.call(lx::nr::fork) == err(Errno::again));  // a zombie still holds its pid
    CHECK(f.call(lx::nr::wait4, 2, 0, 0, 0) == 2);
    auto c = f.fork(*f.init);
    CHECK(c->pid() == 4);  // pids are not reused at once
}

TEST_CASE("process groups and sessions", "[shim][process]") {
    ShimFixture<> f;
    CHECK(f.call(lx::nr::getpgid, 0) == 1);
    CHECK(f.call(lx::nr::getpgrp) == 1);
    CHECK(f.call(lx::nr::getsid, 0) == 1);
    CHECK(f.call(lx::nr::setsid) == err(Errno::perm));  // already a group leader
    auto child = f.fork(*f.init);
    CHECK(f.call(lx::nr::getpgid, 2) == 1);
    CHECK(f.call(lx::nr::setpgid, 2, 2) == 0);
    CHECK(f.call_on(*child, lx::nr::getpgrp) == 2);
    CHECK(f.call(lx::nr::setpgid, 2, 1) == 0);
    CHECK(f.call(lx::nr::setpgid, 2, 77) == err(Errno::perm));
    CHECK(f.call(lx::nr::setpgid, 2, -1) == err(Errno::inval));
    CHECK(f.call(lx::nr::setpgid, 99, 0) == err(Errno::srch));
    CHECK(f.call(lx::nr::getpgid, 99) == err(Errno::srch));
    CHECK(f.call(lx::nr::getsid, 99) == err(Errno::srch));
    CHECK(f.call(lx::nr::getpgid, -1) == err(Errno::srch));
    CHECK(f.call_on(*child, lx::nr::setsid) == 2);
    CHECK(f.call_on(*child, lx::nr::getsid, 0) == 2);
    CHECK(f.call(lx::nr::getsid, 2) == 2);
    CHECK(f.call(lx::nr::setpgid, 2, 2) == err(Errno::perm));  // other session
    CHECK(f.call_on(*child, lx::nr::setpgid, 0, 0) == err(Errno::perm));  // session leader
    auto grandchild = f.fork(*child);
    f.shim.tasks().mark_exec(grandchild->pid());
    CHECK(f.call_on(*child, lx::nr::setpgid, 3, 3) == err(Errno::acces));
    CHECK(f.call_on(*grandchild, lx::nr::setpgid, 0, 0) == 0);
    CHECK(f.call(lx::nr::setpgid, 3, 3) == err(Errno::srch));  // not our child
}

TEST_CASE("kill, tkill and tgkill stay inside the box", "[shim][signal]") {
    ShimFixture<> f;
    auto child = f.fork(*f.init);
    CHECK(f.call(lx::nr::kill, 2, 0) == 0);
    CHECK(f.call(lx::nr::kill, 99, lx::abi::sigterm) == err(Errno::srch));
    CHECK(f.call(lx::nr::kill, 2, 65) == err(Errno::inval));
    CHECK(f.call(lx::nr::kill, INT32_MIN, 1) == err(Errno::srch));
    CHECK(f.call(lx::nr::kill, 2, lx::abi::sigterm) == 0);
    CHECK(child->thread().interrupted());
    auto signal = child->dequeue_signal();
    REQUIRE(signal);
    CHECK(signal->first == lx::abi::sigterm);
    CHECK(!child->thread().interrupted());
    CHECK(f.call(lx::nr::kill, 0, lx::abi::sigusr2) == 0);  // our group: both
    CHECK(f.init->dequeue_signal()->first == lx::abi::sigusr2);
    CHECK(child->dequeue_signal()->first == lx::abi::sigusr2);
    CHECK(f.call(lx::nr::kill, -1, lx::abi::sigusr1) == 0);  // all but pid 1 and self
    CHECK(!f.init->dequeue_signal());
    CHECK(child->dequeue_signal()->first == lx::abi::sigusr1);
    CHECK(f.call(lx::nr::kill, -5, lx::abi::sigusr1) == err(Errno::srch));
    CHECK(f.call(lx::nr::tgkill, 2, 2, lx::abi::sigusr1) == 0);
    CHECK(child->dequeue_signal()->first == lx::abi::sigusr1);
    CHECK(f.call(lx::nr::tgkill, 1, 2, lx::abi::sigusr1) == err(Errno::srch));
    CHECK(f.call(lx::nr::tgkill, 0, 2, lx::abi::sigusr1) == err(Errno::inval));
    CHECK(f.call(lx::nr::tkill, 2, lx::abi::sigusr1) == 0);
    CHECK(f.call(lx::nr::tkill, 0, lx::abi::sigusr1) == err(Errno::inval));
    CHECK(f.call(lx::nr::tkill, 50, lx::abi::sigusr1) == err(Errno::srch));
    // SIGCHLD (default-ignored) is discarded.
    CHECK(f.call(lx::nr::kill, 2, lx::abi::sigchld) == 0);
    CHECK(!f.init->dequeue_signal().has_value());
}

TEST_CASE("kill needs matching credentials", "[shim][signal]") {
    lx::ShimConfig config;
    config.initial_uid = 0;
    config.initial_gid = 0;
    ShimFixture<> f(config);
    auto child = f.fork(*f.init);
    CHECK(f.call_on(*child, lx::nr::setuid, 1000) == 0);
    CHECK(f.call_on(*child, lx::nr::kill, 1, lx::abi::sigterm) == err(Errno::perm));
    CHECK(f.call_on(*child, lx::nr::tkill, 1, lx::abi::sigterm) == err(Errno::perm));
    CHECK(f.call(lx::nr::kill, 2, lx::abi::sigterm) == 0);  // root may
}

TEST_CASE("signal masks, actions and pending sets", "[shim][signal]") {
    ShimFixture<> f;
    const auto set = f.mem.allocate(8), old = f.mem.allocate(8);
    f.mem.put<std::uint64_t>(set, lx::signal_bit(lx::abi::sigusr1) | lx::signal_bit(lx::abi::sigkill));
    CHECK(f.call(lx::nr::rt_sigprocmask, lx::abi::sig_block, set, old, 8) == 0);
    CHECK(f.mem.get<std::uint64_t>(old) == 0);
    CHECK(f.call(lx::nr::rt_sigprocmask, lx::abi::sig_block, 0, old, 8) == 0);
    CHECK(f.mem.get<std::uint64_t>(old) == lx::signal_bit(lx::abi::sigusr1));  // SIGKILL cannot be blocked
    CHECK(f.call(lx::nr::rt_sigprocmask, 7, set, 0, 8) == err(Errno::inval));
    CHECK(f.call(lx::nr::rt_sigprocmask, lx::abi::sig_block, set, 0, 4) == err(Errno::inval));
    CHECK(f.call(lx::nr::rt_sigprocmask, lx::abi::sig_block, f.mem.hole(), 0, 8) == err(Errno::fault));

    CHECK(f.call(lx::nr::kill, 1, lx::abi::sigusr1) == 0);
    CHECK(!f.init->thread().interrupted());
    CHECK(!f.init->dequeue_signal());
    const auto pending = f.mem.allocate(8);
    CHECK(f.call(lx::nr::rt_sigpending, pending, 8) == 0);
    CHECK(f.mem.get<std::uint64_t>(pending) == lx::signal_bit(lx::abi::sigusr1));
    CHECK(f.call(lx::nr::rt_sigpending, pending, 9) == err(Errno::inval));
    CHECK(f.call(lx::nr::rt_sigprocmask, lx::abi::sig_unblock, set, 0, 8) == 0);
    CHECK(f.init->thread().interrupted());
    CHECK(f.init->dequeue_signal()->first == lx::abi::sigusr1);

    const auto action = f.mem.allocate(sizeof(lx::abi::kernel_sigaction));
    const auto previous = f.mem.allocate(sizeof(lx::abi::kernel_sigaction));
    f.mem.put(action, lx::abi::kernel_sigaction{0x401000, lx::abi::sa_restart | lx::abi::sa_restorer, 0x402000, ~std::uint64_t{0}});
    CHECK(f.call(lx::nr::rt_sigaction, lx::abi::sigint, action, previous, 8) == 0);
    CHECK(f.mem.get<lx::abi::kernel_sigaction>(previous).handler == lx::abi::sig_dfl);
    CHECK(f.call(lx::nr::rt_sigaction, lx::abi::sigint, 0, previous, 8) == 0);
    const auto stored = f.mem.get<lx::abi::kernel_sigaction>(previous);
    CHECK(stored.handler == 0x401000);
    CHECK(stored.mask == ~lx::unblockable_signals);
    CHECK(f.call(lx::nr::rt_sigaction, lx::abi::sigkill, action, 0, 8) == err(Errno::inval));
    CHECK(f.call(lx::nr::rt_sigaction, 0, 0, 0, 8) == err(Errno::inval));
    CHECK(f.call(lx::nr::rt_sigaction, 65, 0, 0, 8) == err(Errno::inval));
    CHECK(f.call(lx::nr::rt_sigaction, lx::abi::sigint, 0, 0, 16) == err(Errno::inval));
    CHECK(f.call(lx::nr::rt_sigaction, lx::abi::sigint, f.mem.hole(), 0, 8) == err(Errno::fault));
    CHECK(f.call(lx::nr::kill, 1, lx::abi::sigint) == 0);
    auto delivered = f.init->dequeue_signal();
    REQUIRE(delivered);
    CHECK(delivered->second.handler == 0x401000);
}

TEST_CASE("complete_exec unshares a descriptor table shared through CLONE_FILES", "[shim][process]") {
    ShimFixture<> f;
    const auto keep = f.install(*f.init, std::make_shared<MemoryFile<P>>());
    const auto drop = f.install(*f.init, std::make_shared<MemoryFile<P>>());
    REQUIRE(f.init->files().set_close_on_exec(drop, true).has_value());
    REQUIRE(f.call(lx::nr::clone, lx::abi::clone_files | lx::abi::sigchld, 0, 0, 0, 0) > 0);
    auto child = std::move(std::get<lx::CloneRequest<P>>(f.init->take_request()).child);
    auto& shared = f.init->files();
    REQUIRE(&child->files() == &shared);
    // The parent's RLIMIT_NOFILE sizes the shared table; the child's own stays 1024.
    const auto lim = f.mem.allocate(16);
    f.mem.put(lim, lx::abi::rlimit{10, 4096});
    REQUIRE(f.call(lx::nr::setrlimit, lx::abi::rlimit_nofile, lim) == 0);

    REQUIRE(f.call_on(*child, lx::nr::execve, f.mem.put_string("/bin/true"), 0, 0) == 0);
    auto request = child->take_request();
    REQUIRE(std::holds_alternative<lx::ExecRequest>(request));
    f.shim.complete_exec(*child, std::get<lx::ExecRequest>(request));
    // The new program has its own table (close-on-exec applied to it only).
    CHECK(&child->files() != &shared);
    CHECK(child->files().get(keep).has_value());
    CHECK(child->files().get(drop).error() == Errno::badf);
    CHECK(&f.init->files() == &shared);
    CHECK(f.init->files().get(drop).has_value());
    CHECK(child->files().limit() == 1024);  // the copy is sized by the child's own limit
    CHECK(f.init->files().limit() == 10);
    // Later changes stay apart.
    CHECK(f.call(lx::nr::close, keep) == 0);
    CHECK(child->files().get(keep).has_value());
    CHECK(f.call_on(*child, lx::nr::dup2, keep, 9) == 9);
    CHECK(f.call(lx::nr::fcntl, 9, lx::abi::f_getfd) == err(Errno::badf));
}

TEST_CASE("an exiting process stops sharing its table; the last user closes it", "[shim][process]") {
    ShimFixture<> f;
    auto file = std::make_shared<MemoryFile<P>>();
    const std::weak_ptr<MemoryFile<P>> watch = file;
    const auto drop = f.install(*f.init, std::move(file));
    REQUIRE(f.init->files().set_close_on_exec(drop, true).has_value());
    const auto clone_sharing = [&] {
        REQUIRE(f.call(lx::nr::clone, lx::abi::clone_files | lx::abi::sigchld, 0, 0, 0, 0) > 0);
        return std::move(std::get<lx::CloneRequest<P>>(f.init->take_request()).child);
    };
    // A child sharing the table exits and stays unreaped: an execve then has nothing to unshare,
    // and close-on-exec closes the file for good (Linux: exit_files drops the zombie's use).
    auto child = clone_sharing();
    auto& shared = f.init->files();
    CHECK(f.call_on(*child, lx::nr::exit_group, 0) == 0);
    REQUIRE(f.call(lx::nr::execve, f.mem.put_string("/bin/true"), 0, 0) == 0);
    f.shim.complete_exec(*f.init, std::get<lx::ExecRequest>(f.init->take_request()));
    CHECK(&f.init->files() == &shared);
    CHECK(watch.expired());
    // The parent exits first: the child keeps the table; its own exit closes it.
    auto file2 = std::make_shared<MemoryFile<P>>();
    const std::weak_ptr<MemoryFile<P>> watch2 = file2;
    const auto kept = f.install(*f.init, std::move(file2));
    auto second = clone_sharing();
    f.shim.tasks().exit_group(f.init->process(), 0);
    CHECK_FALSE(watch2.expired());
    CHECK(second->files().get(kept).has_value());
    CHECK(f.call_on(*second, lx::nr::exit_group, 0) == 0);
    CHECK(watch2.expired());
}

TEST_CASE("execve asks the runtime and complete_exec closes close-on-exec descriptors", "[shim][process]") {
    ShimFixture<> f;
    const auto keep = f.install(*f.init, std::make_shared<MemoryFile<P>>());
    const auto drop = f.install(*f.init, std::make_shared<MemoryFile<P>>());
    REQUIRE(f.init->files().set_close_on_exec(drop, true).has_value());
    const auto path = f.mem.put_string("/bin/sh");
    const auto arg0 = f.mem.put_string("sh"), arg1 = f.mem.put_string("-c"), env0 = f.mem.put_string("A=1");
    const auto argv = f.mem.allocate(24), envp = f.mem.allocate(16);
    f.mem.put<std::uint64_t>(argv, arg0);
    f.mem.put<std::uint64_t>(argv + 8, arg1);
    f.mem.put<std::uint64_t>(envp, env0);
    CHECK(f.call(lx::nr::execve, path, argv, envp) == 0);
    auto request = f.init->take_request();
    REQUIRE(std::holds_alternative<lx::ExecRequest>(request));
    const auto& exec = std::get<lx::ExecRequest>(request);
    CHECK(exec.path == "/bin/sh");
    CHECK(exec.argv == std::vector<std::string>{"sh", "-c"});
    CHECK(exec.envp == std::vector<std::string>{"A=1"});
    f.shim.complete_exec(*f.init, exec);
    CHECK(f.init->files().get(keep).has_value());
    CHECK(f.init->files().get(drop).error() == Errno::badf);
    CHECK(f.init->process().state().with_lock([](auto& st) { return st.argv; }) == exec.argv);

    CHECK(f.call(lx::nr::execve, f.mem.put_string(""), 0, 0) == err(Errno::noent));
    CHECK(f.call(lx::nr::execve, f.mem.hole(), 0, 0) == err(Errno::fault));
    CHECK(f.call(lx::nr::execve, path, f.mem.hole(), 0) == err(Errno::fault));
    lx::ShimConfig small;
    small.max_exec_strings_bytes = 16;
    ShimFixture<> g(small);
    const auto argv2 = g.mem.allocate(24);
    g.mem.put<std::uint64_t>(argv2, g.mem.put_string("a-long-argument-string"));
    CHECK(g.call(lx::nr::execve, g.mem.put_string("/bin/sh"), argv2, 0) == err(Errno::toobig));
}

TEST_CASE("execveat: a descriptor's program (/dev/fd/N), dirfd-relative paths and Linux's error order", "[shim][process]") {
    ShimFixture<> f;
    const auto plain = f.install(*f.init, std::make_shared<MemoryFile<P>>());
    const auto closing = f.install(*f.init, std::make_shared<MemoryFile<P>>());
    REQUIRE(f.init->files().set_close_on_exec(closing, true).has_value());
    const auto empty = f.mem.put_string("");
    const auto exec_of = [&](std::int64_t fd, std::uint64_t path, std::uint64_t flags) {
        const auto r = f.call(lx::nr::execveat, fd, path, 0, 0, flags);
        auto request = f.init->take_request();
        return std::pair{r, std::holds_alternative<lx::ExecRequest>(request) ? std::get<lx::ExecRequest>(request) : lx::ExecRequest{}};
    };
    auto [r1, e1] = exec_of(plain, empty, lx::abi::at_empty_path);
    CHECK(r1 == 0);
    CHECK(e1.path == "/dev/fd/" + std::to_string(plain));
    CHECK(e1.descriptor == plain);
    CHECK_FALSE(e1.name_inaccessible);
    auto [r2, e2] = exec_of(closing, empty, lx::abi::at_empty_path | lx::abi::at_symlink_nofollow);
    CHECK(r2 == 0);
    CHECK(e2.descriptor == closing);
    CHECK(e2.name_inaccessible);
    CHECK(e2.nofollow);
    // An absolute path ignores the descriptor; a relative one is taken from the directory.
    auto [r3, e3] = exec_of(999, f.mem.put_string("/bin/sh"), 0);
    CHECK(r3 == 0);
    CHECK(e3.path == "/bin/sh");
    CHECK(e3.descriptor == -1);
    REQUIRE(f.call(lx::nr::mkdir, f.mem.put_string("/bin"), 0755) == 0);
    const auto dir = f.call(lx::nr::open, f.mem.put_string("/bin"), litebox::fd::open_flags::read_only | litebox::fd::open_flags::directory);
    REQUIRE(dir >= 0);
    auto [r4, e4] = exec_of(dir, f.mem.put_string("sh"), 0);
    CHECK(r4 == 0);
    CHECK(e4.path == "/bin/sh");
    CHECK(e4.invoked_as == "/dev/fd/" + std::to_string(dir) + "/sh");
    // Errors: ENOENT for an empty path without the flag comes before EINVAL for unknown flags.
    CHECK(exec_of(plain, empty, 0).first == err(Errno::noent));
    CHECK(exec_of(plain, empty, 0x1).first == err(Errno::noent));
    CHECK(exec_of(plain, empty, lx::abi::at_empty_path | 0x1).first == err(Errno::inval));
    CHECK(exec_of(999, empty, lx::abi::at_empty_path).first == err(Errno::badf));
    CHECK(exec_of(999, f.mem.put_string("sh"), 0).first == err(Errno::badf));
    CHECK(exec_of(plain, f.mem.put_string("sh"), 0).first == err(Errno::notdir));
    CHECK(exec_of(plain, f.mem.hole(), lx::abi::at_empty_path).first == err(Errno::fault));
}

TEST_CASE("ShimConfig::cpus: the affinity mask covers the box's CPUs and each thread keeps its own", "[shim][process]") {
    lx::ShimConfig config;
    config.cpus = 4;
    ShimFixture<> f(config);
    const auto mask = f.mem.allocate(8);
    CHECK(f.call(lx::nr::sched_getaffinity, 0, 8, mask) == 8);
    CHECK(f.mem.get<std::uint64_t>(mask) == 0xf);
    f.mem.put<std::uint64_t>(mask, 0x30);  // CPUs 4 and 5: none of the box's
    CHECK(f.call(lx::nr::sched_setaffinity, 0, 8, mask) == err(Errno::inval));
    f.mem.put<std::uint64_t>(mask, 0x16);  // CPUs 1, 2 and 4: the box's part is kept
    CHECK(f.call(lx::nr::sched_setaffinity, 0, 8, mask) == 0);
    CHECK(f.call(lx::nr::sched_getaffinity, 0, 8, mask) == 8);
    CHECK(f.mem.get<std::uint64_t>(mask) == 0x6);
    // A child starts with its parent's mask (taskset -c 1,2 CMD: CMD's nproc says 2) and changes
    // only its own.
    auto child = f.fork(*f.init);
    CHECK(f.call_on(*child, lx::nr::sched_getaffinity, 0, 8, mask) == 8);
    CHECK(f.mem.get<std::uint64_t>(mask) == 0x6);
    f.mem.put<std::uint64_t>(mask, 0x8);
    CHECK(f.call_on(*child, lx::nr::sched_setaffinity, 0, 8, mask) == 0);
    CHECK(f.call(lx::nr::sched_getaffinity, child->pid(), 8, mask) == 8);
    CHECK(f.mem.get<std::uint64_t>(mask) == 0x8);
    CHECK(f.call(lx::nr::sched_getaffinity, 0, 8, mask) == 8);
    CHECK(f.mem.get<std::uint64_t>(mask) == 0x6);
}

TEST_CASE("the box has one CPU: affinity, getcpu and scheduler queries", "[shim][process]") {
    lx::ShimConfig config;
    config.initial_uid = 0;
    config.initial_gid = 0;
    ShimFixture<> f(config);
    const auto mask = f.mem.allocate(16);
    f.mem.put<std::uint64_t>(mask, ~0ull);
    CHECK(f.call(lx::nr::sched_getaffinity, 0, 16, mask) == 8);
    CHECK(f.mem.get<std::uint64_t>(mask) == 1);
    CHECK(f.call(lx::nr::sched_getaffinity, 1, 8, mask) == 8);
    CHECK(f.call(lx::nr::sched_getaffinity, 0, 4, mask) == err(Errno::inval));
    CHECK(f.call(lx::nr::sched_getaffinity, 0, 12, mask) == err(Errno::inval));
    CHECK(f.call(lx::nr::sched_getaffinity, 77, 8, mask) == err(Errno::srch));
    CHECK(f.call(lx::nr::sched_getaffinity, -1, 8, mask) == err(Errno::srch));
    CHECK(f.call(lx::nr::sched_getaffinity, 0, 8, f.mem.hole()) == err(Errno::fault));
    CHECK(f.call(lx::nr::sched_getaffinity, 77, 4, mask) == err(Errno::inval));  // the length first
    CHECK(f.call(lx::nr::sched_getaffinity, 0, 0x100000000ull, mask) == err(Errno::inval));  // an unsigned int: 0
    CHECK(f.call(lx::nr::sched_getaffinity, 0, 0x100000008ull, mask) == 8);

    CHECK(f.call(lx::nr::sched_setaffinity, 0, 8, mask) == 0);  // CPU 0
    f.mem.put<std::uint64_t>(mask, 2);
    CHECK(f.call(lx::nr::sched_setaffinity, 0, 8, mask) == err(Errno::inval));  // no CPU of the box
    CHECK(f.call(lx::nr::sched_setaffinity, 0, 0, mask) == err(Errno::inval));  // an empty mask
    CHECK(f.call(lx::nr::sched_setaffinity, 0, 8, f.mem.hole()) == err(Errno::fault));
    CHECK(f.call(lx::nr::sched_setaffinity, 77, 8, f.mem.hole()) == err(Errno::fault));  // the copy first
    f.mem.put<std::uint64_t>(mask, 1);
    CHECK(f.call(lx::nr::sched_setaffinity, 77, 8, mask) == err(Errno::srch));
    CHECK(f.call(lx::nr::sched_setaffinity, 0, 2, mask) == 0);  // a short mask is zero-extended
    f.mem.put<std::uint64_t>(mask, 3);
    auto child = f.fork(*f.init);
    CHECK(f.call_on(*child, lx::nr::setuid, 1000) == 0);
    CHECK(f.call_on(*child, lx::nr::sched_setaffinity, 1, 8, mask) == err(Errno::perm));
    CHECK(f.call(lx::nr::sched_setaffinity, 2, 8, mask) == 0);  // root may

    const auto cpu = f.mem.allocate(4), node = f.mem.allocate(4);
    f.mem.put<std::uint32_t>(cpu, 9);
    f.mem.put<std::uint32_t>(node, 9);
    CHECK(f.call(lx::nr::getcpu, cpu, node, 0) == 0);
    CHECK(f.mem.get<std::uint32_t>(cpu) == 0);
    CHECK(f.mem.get<std::uint32_t>(node) == 0);
    CHECK(f.call(lx::nr::getcpu, 0, 0, 0) == 0);

    CHECK(f.call(lx::nr::sched_getscheduler, 0) == lx::abi::sched_other);
    CHECK(f.call(lx::nr::sched_getscheduler, 99) == err(Errno::srch));
    CHECK(f.call(lx::nr::sched_getscheduler, -1) == err(Errno::inval));
    const auto param = f.mem.allocate(4);
    f.mem.put<std::int32_t>(param, 5);
    CHECK(f.call(lx::nr::sched_getparam, 0, param) == 0);
    CHECK(f.mem.get<std::int32_t>(param) == 0);
    CHECK(f.call(lx::nr::sched_getparam, 0, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::sched_get_priority_max, lx::abi::sched_fifo) == 99);
    CHECK(f.call(lx::nr::sched_get_priority_min, lx::abi::sched_rr) == 1);
    CHECK(f.call(lx::nr::sched_get_priority_max, lx::abi::sched_other) == 0);
    CHECK(f.call(lx::nr::sched_get_priority_min, 4) == err(Errno::inval));
}

TEST_CASE("getpriority and setpriority keep a nice value per process", "[shim][process][priority]") {
    constexpr int prio_process = 0, prio_pgrp = 1, prio_user = 2;
    ShimFixture<> f;  // uid 1000: no CAP_SYS_NICE, RLIMIT_NICE 0
    CHECK(f.call(lx::nr::getpriority, prio_process, 0) == 20);  // the raw ABI: 20 - nice
    CHECK(f.call(lx::nr::setpriority, prio_process, 0, 5) == 0);
    CHECK(f.call(lx::nr::getpriority, prio_process, 0) == 15);
    CHECK(f.call(lx::nr::getpriority, prio_process, 1) == 15);
    CHECK(f.call(lx::nr::setpriority, prio_process, 0, 4) == err(Errno::acces));  // lowering needs CAP_SYS_NICE
    CHECK(f.call(lx::nr::getpriority, 3, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::getpriority, -1, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::setpriority, 3, 0, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::getpriority, prio_process, 999) == err(Errno::srch));
    CHECK(f.call(lx::nr::getpriority, prio_process, -5) == err(Errno::srch));
    CHECK(f.call(lx::nr::setpriority, prio_process, 999, 0) == err(Errno::srch));

    // fork inherits; the child changes only itself; exec keeps it.
    auto child = f.fork(*f.init);
    CHECK(f.call_on(*child, lx::nr::getpriority, prio_process, 0) == 15);
    CHECK(f.call_on(*child, lx::nr::setpriority, prio_process, 0, 100) == 0);  // clamped to 19
    CHECK(f.call_on(*child, lx::nr::getpriority, prio_process, 0) == 1);
    CHECK(f.call_on(*child, lx::nr::setpriority, prio_process, 0, 19) == 0);   // equal is not lowering
    REQUIRE(f.call_on(*child, lx::nr::execve, f.mem.put_string("/bin/sh"), 0, 0) == 0);
    auto exec = child->take_request();
    REQUIRE(std::holds_alternative<lx::ExecRequest>(exec));
    f.shim.complete_exec(*child, std::get<lx::ExecRequest>(exec));
    CHECK(f.call_on(*child, lx::nr::getpriority, prio_process, 0) == 1);
    CHECK(f.call(lx::nr::getpriority, prio_process, 0) == 15);

    // Groups and users: the highest priority (lowest nice) of the matches.
    CHECK(f.call(lx::nr::getpriority, prio_pgrp, 0) == 15);
    CHECK(f.call(lx::nr::getpriority, prio_user, 0) == 15);
    CHECK(f.call(lx::nr::getpriority, prio_user, 1000) == 15);
    CHECK(f.call(lx::nr::getpriority, prio_user, 4242) == err(Errno::srch));
    CHECK(f.call(lx::nr::getpriority, prio_pgrp, 4242) == err(Errno::srch));
    CHECK(f.call(lx::nr::setpriority, prio_pgrp, 0, 19) == 0);
    CHECK(f.call(lx::nr::getpriority, prio_pgrp, 0) == 1);

    // Another user's process: EPERM, unless root; root may lower (CAP_SYS_NICE).
    lx::ShimConfig root_config;
    root_config.initial_uid = 0;
    ShimFixture<> r(root_config);
    auto other = r.fork(*r.init);
    CHECK(r.call_on(*other, lx::nr::setuid, 2000) == 0);
    CHECK(r.call_on(*other, lx::nr::setpriority, prio_process, 1, 3) == err(Errno::perm));
    CHECK(r.call_on(*other, lx::nr::setpriority, prio_process, 0, 3) == 0);
    CHECK(r.call(lx::nr::setpriority, prio_process, other->pid(), -20) == 0);
    CHECK(r.call(lx::nr::getpriority, prio_process, other->pid()) == 40);
    CHECK(r.call(lx::nr::setpriority, prio_process, 0, -100) == 0);
    CHECK(r.call(lx::nr::getpriority, prio_process, 0) == 40);
    CHECK(r.call(lx::nr::getpriority, prio_user, 2000) == 40);
    CHECK(r.call_on(*other, lx::nr::setpriority, prio_user, 0, 0) == 0);  // its own uid's processes (just itself)
    CHECK(r.call(lx::nr::getpriority, prio_process, 0) == 40);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
