// The seccomp supervisor mechanism end to end: real guests (busybox-static and a static probe
// program) run under the filter, and a small test handler (test_handler.hpp) serves their calls.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <litebox/platform/linux/memfd_store.hpp>
#include <litebox/platform/linux/remote_memory.hpp>
#include <litebox/platform/linux/seccomp_filter.hpp>
#include <litebox/platform/linux/seccomp_launch.hpp>
#include <litebox/platform/linux/seccomp_supervisor.hpp>

#include "test_handler.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

#ifndef LITEBOX_TEST_GUEST_PROBE
#error "tests/runner/CMakeLists.txt defines the path of the static guest probe"
#endif

namespace {

namespace lp = litebox::platform::linux_platform;
namespace sc = litebox::platform::linux_platform::seccomp;
using litebox::Errno;
using litebox::Result;
using litebox::test::RecordingHandler;

constexpr const char* busybox_path = "/bin/busybox";
constexpr const char* probe_path = LITEBOX_TEST_GUEST_PROBE;

std::vector<std::byte> read_file(const char* path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<std::byte> bytes;
    char chunk[1 << 16];
    while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
        const auto* first = reinterpret_cast<const std::byte*>(chunk);
        bytes.insert(bytes.end(), first, first + in.gcount());
    }
    return bytes;
}

sc::GuestImage image_of(const char* path) {
    const auto bytes = read_file(path);
    INFO("reading " << path << " (busybox-static and the probe are build dependencies)");
    REQUIRE(sc::check_elf(bytes) == sc::ElfCheck::ok);
    auto image = sc::GuestImage::from_bytes(bytes);
    REQUIRE(image.has_value());
    return std::move(*image);
}

/// Kills a guest that outlives `limit` so that a broken mechanism fails the test instead of hanging.
class Watchdog {
public:
    Watchdog(pid_t pid, std::chrono::seconds limit)
        : m_thread([this, pid, limit] {
              std::unique_lock lock(m_mutex);
              if (!m_cv.wait_for(lock, limit, [&] { return m_done; })) {
                  m_fired = true;
                  ::kill(pid, SIGKILL);
              }
          }) {}
    ~Watchdog() {
        {
            std::lock_guard lock(m_mutex);
            m_done = true;
        }
        m_cv.notify_all();
        m_thread.join();
    }
    bool fired() {
        std::lock_guard lock(m_mutex);
        return m_fired;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_done = false;
    bool m_fired = false;
    std::thread m_thread;
};

struct RunSpec {
    const char* program = probe_path;
    std::vector<std::string> argv;
    sc::LaunchOptions launch{};
    sc::SupervisorOptions supervise{};
    /// Runs on a helper thread while the guest runs.
    std::function<void(sc::Supervisor<RecordingHandler>&, pid_t)> during;
};

sc::GuestExit run_guest(RecordingHandler& handler, RunSpec spec) {
    const auto image = image_of(spec.program);
    const std::vector<std::string> envp{"PATH=/bin", "HOME=/"};
    sc::LaunchFailure failure;
    auto guest = sc::launch_guest(image, spec.argv, envp, spec.launch, &failure);
    INFO("launch: " << failure.message);
    REQUIRE(guest.has_value());
    sc::Supervisor<RecordingHandler> supervisor(handler, spec.supervise);
    const pid_t pid = guest->pid;
    Watchdog watchdog(pid, std::chrono::seconds(30));
    std::thread helper;
    if (spec.during) helper = std::thread([&] { spec.during(supervisor, pid); });
    auto exit = supervisor.run(*guest);
    if (helper.joinable()) helper.join();
    REQUIRE_FALSE(watchdog.fired());
    REQUIRE(exit.has_value());
    return *exit;
}

}  // namespace

TEST_CASE("The filter policy classifies calls", "[runner][filter]") {
    const sc::FilterOptions defaults{};
    CHECK(sc::disposition_of(SYS_read, defaults) == sc::Disposition::served);
    CHECK(sc::disposition_of(SYS_openat, defaults) == sc::Disposition::served);
    CHECK(sc::disposition_of(SYS_execve, defaults) == sc::Disposition::served);
    CHECK(sc::disposition_of(SYS_clone, defaults) == sc::Disposition::served);
    CHECK(sc::disposition_of(SYS_getpid, defaults) == sc::Disposition::served);
    CHECK(sc::disposition_of(SYS_exit_group, defaults) == sc::Disposition::served);
    CHECK(sc::disposition_of(SYS_futex, defaults) == sc::Disposition::native);
    CHECK(sc::disposition_of(SYS_exit, defaults) == sc::Disposition::served);  // the supervisor forgets the tid
    CHECK(sc::disposition_of(SYS_rt_sigreturn, defaults) == sc::Disposition::native);
    CHECK(sc::disposition_of(SYS_ptrace, defaults) == sc::Disposition::refused);
    CHECK(sc::disposition_of(SYS_seccomp, defaults) == sc::Disposition::refused);
    CHECK(sc::disposition_of(SYS_getpid | 0x40000000, defaults) == sc::Disposition::refused);
    CHECK(sc::disposition_of(1000, defaults) == sc::Disposition::served);  // unknown numbers are served
    sc::FilterOptions open{};
    open.native_pid_queries = true;
    open.native_clone = true;
    CHECK(sc::disposition_of(SYS_getpid, open) == sc::Disposition::native);
    CHECK(sc::disposition_of(SYS_clone, open) == sc::Disposition::native);
    CHECK(sc::disposition_of(SYS_set_tid_address, open) == sc::Disposition::native);
    sc::FilterOptions traced{};
    traced.traced_clone = true;
    CHECK(sc::disposition_of(SYS_clone, traced) == sc::Disposition::traced);
    CHECK(sc::disposition_of(SYS_set_tid_address, traced) == sc::Disposition::traced);  // the box's id is answered
    CHECK(sc::disposition_of(SYS_shmat, traced) == sc::Disposition::traced);  // rewritten into an mmap
    CHECK(sc::disposition_of(SYS_shmdt, traced) == sc::Disposition::traced);  // and a munmap
    CHECK(sc::disposition_of(SYS_shmat, defaults) == sc::Disposition::served);

    for (const auto& options : {defaults, open, traced}) {
        const auto program = sc::build_filter(options);
        REQUIRE(program.size() < 4096);  // BPF_MAXINSNS
        CHECK((program.back().code & 0x07) == 0x06);  // BPF_RET: the program cannot fall off its end
        for (std::size_t i = 0; i < program.size(); ++i) {
            if ((program[i].code & 0x07) != 0x05 /*BPF_JMP*/) continue;
            CHECK(i + 1 + program[i].jt < program.size());
            CHECK(i + 1 + program[i].jf < program.size());
        }
    }
}

TEST_CASE("ELF checks name what is wrong with a program", "[runner][elf]") {
    const auto as_bytes = [](std::string_view text) {
        std::vector<std::byte> out(text.size());
        std::memcpy(out.data(), text.data(), text.size());
        return out;
    };
    CHECK(sc::check_elf({}) == sc::ElfCheck::empty);
    CHECK(sc::check_elf(as_bytes("#!/bin/sh\necho hi\n")) == sc::ElfCheck::script);
    CHECK(sc::check_elf(as_bytes("hello world, this is text")) == sc::ElfCheck::not_elf);
    CHECK(sc::check_elf(as_bytes("\x7f" "ELF")) == sc::ElfCheck::truncated);
    auto elf = read_file(busybox_path);
    REQUIRE(sc::check_elf(elf) == sc::ElfCheck::ok);
    auto i386 = elf;
    i386[4] = std::byte{1};
    CHECK(sc::check_elf(i386) == sc::ElfCheck::not_64bit);
    auto arm = elf;
    arm[18] = std::byte{183};  // EM_AARCH64
    arm[19] = std::byte{0};
    CHECK(sc::check_elf(arm) == sc::ElfCheck::not_x86_64);
    auto object = elf;
    object[16] = std::byte{1};  // ET_REL
    CHECK(sc::check_elf(object) == sc::ElfCheck::not_executable);
    CHECK(!sc::describe(sc::ElfCheck::not_x86_64).empty());
}

TEST_CASE("busybox echo runs under the supervisor", "[runner][busybox]") {
    RecordingHandler handler;
    RunSpec spec;
    spec.program = busybox_path;
    spec.argv = {"busybox", "echo", "hello"};
    const auto exit = run_guest(handler, spec);
    CHECK(handler.out() == "hello\n");
    CHECK(handler.err().empty());
    CHECK(exit.signal == 0);
    CHECK(exit.code == 0);
    CHECK(handler.count(SYS_write) == 1);
    CHECK(handler.count(SYS_exit_group) == 1);
    CHECK(handler.count(SYS_brk) == 0);  // native
}

TEST_CASE("busybox's exit status is propagated", "[runner][busybox]") {
    RecordingHandler handler;
    RunSpec spec;
    spec.program = busybox_path;
    spec.argv = {"busybox", "false"};
    CHECK(run_guest(handler, spec).shell_status() == 1);
}

TEST_CASE("Exit codes and deaths by signal are reported", "[runner][exit]") {
    RecordingHandler handler;
    RunSpec spec;
    spec.argv = {"probe", "exit", "42"};
    CHECK(run_guest(handler, spec).shell_status() == 42);

    RecordingHandler crash_handler;
    RunSpec crash;
    crash.argv = {"probe", "segv"};
    const auto exit = run_guest(crash_handler, crash);
    CHECK(exit.signal == SIGSEGV);
    CHECK(exit.shell_status() == 128 + SIGSEGV);
}

TEST_CASE("The filter runs, refuses and serves the right calls", "[runner][filter]") {
    RecordingHandler handler;
    handler.override_call = [](sc::GuestThread&, int nr, const sc::SyscallArgs&) -> std::optional<std::int64_t> {
        if (nr == SYS_getpid) return 4242;
        return std::nullopt;
    };
    RunSpec spec;
    spec.argv = {"probe", "policy"};
    const auto exit = run_guest(handler, spec);
    CHECK(exit.shell_status() == 0);
    const auto facts = handler.facts();
    const auto fact = [&](const char* key) {
        const auto it = facts.find(key);
        return it == facts.end() ? std::string("<missing>") : it->second;
    };
    // i386 entry: ENOSYS, never served; or, on a kernel without 32-bit emulation, a fault before
    // any system call.
    CHECK((fact("int80_getpid") == "-38" || fact("int80_getpid") == "fault"));
    CHECK(fact("x32_getpid") == "-38");        // x32 numbers: ENOSYS
    CHECK(fact("ptrace") == "-1");             // EPERM
    CHECK(fact("process_vm_readv") == "-1");
    CHECK(fact("bpf") == "-1");
    CHECK(fact("io_uring_setup") == "-38");
    CHECK(fact("mount") == "-1");
    CHECK(fact("unshare") == "-1");
    CHECK(fact("seccomp") == "-1");
    CHECK(fact("personality") == "-38");              // the query: served
    CHECK(fact("personality_linux") == "-38");        // PER_LINUX (low 32 bits): served
    CHECK(fact("personality_no_randomize") == "-1");  // other personas: EPERM
    CHECK(fact("clone3") == "-38");
    CHECK(fact("getpid") == "4242");           // served
    CHECK(fact("anon_mmap_ok") == "1");        // native
    CHECK(fact("file_mmap") == "-38");         // served (natively: EBADF)
    CHECK(fact("madvise_hwpoison") == "-1");
    CHECK(fact("madvise_dontneed") == "0");
    CHECK(fact("arch_prctl_get_fs") == "0");   // native
    CHECK(fact("arch_prctl_get_cpuid") == "-38");  // served
    CHECK(fact("clone_newuser") == "-38");     // clone is served by default
    CHECK(handler.count(SYS_mmap) == 1);
    CHECK(handler.count(SYS_ptrace) == 0);
    CHECK(handler.count(SYS_getpid) == 1);
}

TEST_CASE("Namespace flags are refused even when clone is native", "[runner][filter]") {
    RecordingHandler handler;
    RunSpec spec;
    spec.argv = {"probe", "policy"};
    spec.launch.filter.native_clone = true;
    (void)run_guest(handler, spec);
    CHECK(handler.facts()["clone_newuser"] == "-1");
    CHECK(handler.count(SYS_clone) == 0);
}

TEST_CASE("Remote pointers read and write the guest's memory", "[runner][memory]") {
    RecordingHandler handler;
    std::vector<std::string> paths;
    std::mutex paths_mutex;
    int reads = 0;
    handler.override_call = [&](sc::GuestThread&, int nr, const sc::SyscallArgs& args) -> std::optional<std::int64_t> {
        if (nr == SYS_read) {
            const std::string_view text = "injected";
            const lp::RemoteMutPtr<char> buffer(args[1]);
            if (++reads == 1) CHECK(buffer.read_at_offset(0).has_value());  // readable before writing
            auto written = buffer.copy_from(0, std::span<const char>(text.data(), text.size()));
            if (!written.has_value()) return -litebox::errno_number(written.error());
            return static_cast<std::int64_t>(text.size());
        }
        if (nr == SYS_chdir) {
            auto path = lp::RemoteConstPtr<char>(args[0]).to_cstring(4096);
            if (!path.has_value()) return -litebox::errno_number(path.error());
            std::lock_guard lock(paths_mutex);
            paths.push_back(*path);
            return 0;
        }
        return std::nullopt;
    };
    RunSpec spec;
    spec.argv = {"probe", "memory"};
    CHECK(run_guest(handler, spec).shell_status() == 0);
    auto facts = handler.facts();
    CHECK(facts["read"] == "8");
    CHECK(facts["data"] == "injected");
    CHECK(facts["bad_write"] == "-14");        // unmapped source: EFAULT
    CHECK(facts["readonly_read"] == "-14");    // read-only destination: EFAULT, as on Linux
    CHECK(facts["chdir_edge"] == "0");         // a string ending at a page edge reads fine
    CHECK(facts["chdir_unterminated"] == "-14");
    CHECK(facts["big_write"] == "65536");      // process_vm_readv path
    REQUIRE(paths.size() == 1);
    CHECK(paths[0] == "/edge/of/page");
    const std::string err = handler.err();
    REQUIRE(err.size() == 65536);
    CHECK(err.substr(0, 5) == "abcde");
    CHECK(err[65535] == static_cast<char>('a' + 65535 % 26));
}

TEST_CASE("Remote pointers fail cleanly without a guest or with bad addresses", "[runner][memory]") {
    CHECK(lp::RemoteConstPtr<std::uint32_t>(4096).read_at_offset(0).error() == Errno::fault);  // no current guest
    CHECK(lp::RemoteConstPtr<char>(4096).to_cstring(10).error() == Errno::fault);
    // Against this very process (a RemoteMemory without a listener: no ID_VALID checks).
    const lp::RemoteMemory self(static_cast<pid_t>(::syscall(SYS_gettid)), -1, nullptr, 0);
    const lp::ScopedRemoteMemory scope(self);
    std::uint32_t words[2] = {7, 9};
    const lp::RemoteMutPtr<std::uint32_t> p(reinterpret_cast<std::uintptr_t>(words));
    CHECK(*p.read_at_offset(1) == 9);
    REQUIRE(p.write_at_offset(0, 70).has_value());
    CHECK(words[0] == 70);
    CHECK(lp::RemoteConstPtr<std::uint32_t>(reinterpret_cast<std::uintptr_t>(words) + 1).read_at_offset(0).error() == Errno::fault);
    CHECK(lp::RemoteConstPtr<std::uint8_t>(UINTPTR_MAX - 2).to_owned_slice(8).error() == Errno::fault);
    CHECK(lp::RemoteConstPtr<std::uint8_t>(16).read_at_offset(0).error() == Errno::fault);  // unmapped
    STATIC_REQUIRE(litebox::platform::Provider<litebox::platform::RemoteGuestPlatform>);
}

namespace {

/// The guest's read(0) blocks on a waiter until interrupted; a second read returns 0 at once.
struct BlockingRead {
    std::mutex mutex;
    std::condition_variable cv;
    pid_t blocked_tid = 0;
    int reads = 0;
    bool interrupted = false;

    struct Waker final : sc::InterruptWaker {
        BlockingRead& owner;
        explicit Waker(BlockingRead& o) : owner(o) {}
        void wake() noexcept override {
            std::lock_guard lock(owner.mutex);
            owner.cv.notify_all();
        }
    };

    std::optional<std::int64_t> operator()(sc::GuestThread& thread, int nr, const sc::SyscallArgs&) {
        if (nr != SYS_read) return std::nullopt;
        if (!thread.may_block()) {
            std::lock_guard lock(mutex);
            if (reads > 0) return 0;  // the restarted read: end of file
            return sc::would_block;
        }
        Waker waker(*this);
        const bool armed = thread.arm_interrupt(waker);
        {
            std::unique_lock lock(mutex);
            ++reads;
            blocked_tid = thread.tid();
            cv.notify_all();
            if (armed) cv.wait_for(lock, std::chrono::seconds(20), [&] { return thread.interrupted(); });
            interrupted = thread.interrupted();
        }
        thread.disarm_interrupt();
        return interrupted ? -sc::restart_sys : 0;
    }

    pid_t wait_blocked() {
        std::unique_lock lock(mutex);
        cv.wait_for(lock, std::chrono::seconds(20), [&] { return blocked_tid != 0; });
        return blocked_tid;
    }
};

}  // namespace

TEST_CASE("A signal interrupts a blocked served call with EINTR", "[runner][signals]") {
    RecordingHandler handler;
    BlockingRead blocking;
    handler.override_call = std::ref(blocking);
    RunSpec spec;
    spec.argv = {"probe", "block"};
    pid_t guest_pid = 0, blocked_tid = 0;
    bool signalled = false;
    spec.during = [&](sc::Supervisor<RecordingHandler>& supervisor, pid_t pid) {
        guest_pid = pid;
        blocked_tid = blocking.wait_blocked();
        signalled = supervisor.signal_thread(pid, blocked_tid, SIGUSR1).has_value();
    };
    CHECK(run_guest(handler, spec).shell_status() == 0);
    CHECK(blocked_tid == guest_pid);
    CHECK(signalled);
    auto facts = handler.facts();
    CHECK(facts["read"] == "-4");  // EINTR: the handler had no SA_RESTART
    CHECK(facts["handled"] == "1");
    CHECK(blocking.interrupted);
    CHECK(handler.count(SYS_read) == 2);  // inline (would block), then on a waiter
}

TEST_CASE("A signal with SA_RESTART restarts a blocked served call", "[runner][signals]") {
    RecordingHandler handler;
    BlockingRead blocking;
    handler.override_call = std::ref(blocking);
    RunSpec spec;
    spec.argv = {"probe", "block", "restart"};
    bool signalled = false;
    spec.during = [&](sc::Supervisor<RecordingHandler>& supervisor, pid_t pid) {
        const pid_t tid = blocking.wait_blocked();
        signalled = supervisor.signal_thread(pid, tid, SIGUSR1).has_value();
    };
    CHECK(run_guest(handler, spec).shell_status() == 0);
    CHECK(signalled);
    auto facts = handler.facts();
    CHECK(facts["read"] == "0");  // restarted, then served inline
    CHECK(facts["handled"] == "1");
    CHECK(handler.count(SYS_read) == 3);  // inline + waiter, then the restarted call inline
}

TEST_CASE("A process-directed signal interrupts the blocked thread; host processes are out of reach", "[runner][signals]") {
    RecordingHandler handler;
    BlockingRead blocking;
    handler.override_call = std::ref(blocking);
    RunSpec spec;
    spec.argv = {"probe", "block"};
    bool signalled = false;
    Errno host_target = Errno{};
    spec.during = [&](sc::Supervisor<RecordingHandler>& supervisor, pid_t pid) {
        (void)blocking.wait_blocked();
        auto self = supervisor.signal_process(::getpid(), SIGUSR1);  // the supervisor is not a guest
        host_target = self.has_value() ? Errno{} : self.error();
        signalled = supervisor.signal_process(pid, SIGUSR1).has_value();
    };
    CHECK(run_guest(handler, spec).shell_status() == 0);
    CHECK(signalled);
    CHECK(host_target == Errno::srch);
    auto facts = handler.facts();
    CHECK(facts["read"] == "-4");
    CHECK(facts["handled"] == "1");
}

TEST_CASE("A blocked call does not stall the guest's other threads", "[runner][threads]") {
    RecordingHandler handler;
    std::mutex mutex;
    std::condition_variable cv;
    int b_lines = 0;
    struct Waker final : sc::InterruptWaker {
        std::mutex& m;
        std::condition_variable& c;
        Waker(std::mutex& mm, std::condition_variable& cc) : m(mm), c(cc) {}
        void wake() noexcept override {
            std::lock_guard lock(m);
            c.notify_all();
        }
    };
    handler.override_call = [&](sc::GuestThread& thread, int nr, const sc::SyscallArgs& args) -> std::optional<std::int64_t> {
        if (nr == SYS_write && args[0] == 1 && args[2] == 2) {
            std::lock_guard lock(mutex);
            ++b_lines;
            cv.notify_all();
            return std::nullopt;  // and record it as usual
        }
        if (nr != SYS_read) return std::nullopt;
        if (!thread.may_block()) return sc::would_block;
        Waker waker(mutex, cv);
        (void)thread.arm_interrupt(waker);
        std::unique_lock lock(mutex);
        const bool released = cv.wait_for(lock, std::chrono::seconds(20), [&] { return b_lines >= 3 || thread.interrupted(); });
        lock.unlock();
        thread.disarm_interrupt();
        return released && !thread.interrupted() ? 0 : -sc::restart_sys;
    };
    RunSpec spec;
    spec.argv = {"probe", "threads"};
    spec.launch.filter.native_clone = true;  // threads are created natively in this test
    CHECK(run_guest(handler, spec).shell_status() == 0);
    auto facts = handler.facts();
    CHECK(facts["main_read"] == "0");
    CHECK(b_lines == 3);
    CHECK(handler.count(SYS_exit) == 1);  // the writer thread's exit went through the supervisor
}

TEST_CASE("A forked guest process is adopted and served as its own process", "[runner][processes]") {
    RecordingHandler handler;
    std::mutex mutex;
    std::map<std::string, std::pair<pid_t, std::uint64_t>> writers;  // line -> (pid, serial)
    handler.override_call = [&](sc::GuestThread& thread, int nr, const sc::SyscallArgs& args) -> std::optional<std::int64_t> {
        if (nr == SYS_write) {
            auto text = lp::RemoteConstPtr<char>(args[1]).to_owned_slice(std::min<std::uint64_t>(args[2], 64));
            if (text.has_value()) {
                std::lock_guard lock(mutex);
                writers[std::string(text->begin(), text->end())] = {thread.pid(), thread.process_serial()};
            }
        }
        return std::nullopt;
    };
    RunSpec spec;
    spec.argv = {"probe", "fork"};
    spec.launch.filter.native_clone = true;
    pid_t initial = 0;
    spec.during = [&](sc::Supervisor<RecordingHandler>&, pid_t pid) { initial = pid; };
    CHECK(run_guest(handler, spec).shell_status() == 0);  // the parent's status, not the child's 5
    CHECK(handler.out() == "child\nparent\n");
    REQUIRE(writers.count("child\n") == 1);
    REQUIRE(writers.count("parent\n") == 1);
    CHECK(writers["parent\n"].first == initial);
    CHECK(writers["child\n"].first != initial);
    CHECK(writers["child\n"].second != writers["parent\n"].second);
    // The parent always exits through a served exit_group. The child's exit_group races with the
    // parent's exit: the child wakes the parent before it exits, and once the initial process is
    // gone the run may end before the child's last call is received (seen under heavy load).
    CHECK(handler.count(SYS_exit_group) >= 1);
    CHECK(handler.count(SYS_exit_group) <= 2);
}

TEST_CASE("The vDSO is hidden unless kept", "[runner][vdso]") {
    RecordingHandler hidden;
    RunSpec spec;
    spec.argv = {"probe", "vdso"};
    (void)run_guest(hidden, spec);
    CHECK(hidden.facts()["auxv_vdso"] == "0");
    CHECK(hidden.facts()["clock_gettime"] == "-38");  // trapped and served (ENOSYS from the test handler)

    RecordingHandler kept;
    spec.launch.hide_vdso = false;
    (void)run_guest(kept, spec);
    CHECK(kept.facts()["auxv_vdso"] == "1");
    CHECK(kept.facts()["clock_gettime"] == "0");
    // glibc's static startup reads the clock before it sets up the vDSO (both runs trap those);
    // the probe's own clock_gettime traps only when the vDSO is hidden.
    CHECK(hidden.count(SYS_clock_gettime) == kept.count(SYS_clock_gettime) + 1);

    // The auxiliary vector past the first chunk the launcher reads at once (argv[] alone > 4 KiB).
    RecordingHandler long_argv;
    spec.launch.hide_vdso = true;
    spec.argv.resize(700, "x");
    (void)run_guest(long_argv, spec);
    CHECK(long_argv.facts()["auxv_vdso"] == "0");
}

TEST_CASE("Calls can all run on waiter threads", "[runner][threads]") {
    RecordingHandler handler;
    RunSpec spec;
    spec.program = busybox_path;
    spec.argv = {"busybox", "echo", "via", "waiters"};
    spec.supervise.all_calls_on_waiters = true;
    CHECK(run_guest(handler, spec).shell_status() == 0);
    CHECK(handler.out() == "via waiters\n");
}

TEST_CASE("Images that would make the kernel open another file are never launched", "[runner][launch]") {
    const std::vector<std::string> argv{"guest"};
    const auto refused = [&](std::vector<std::byte> bytes) {
        auto image = sc::GuestImage::from_bytes(bytes);
        REQUIRE(image.has_value());
        sc::LaunchFailure failure;
        auto guest = sc::launch_guest(*image, argv, {}, sc::LaunchOptions{}, &failure);
        CHECK(failure.error == Errno::noexec);
        return !guest.has_value();
    };
    std::vector<std::byte> script(12);
    std::memcpy(script.data(), "#!/bin/sh\nid", 12);
    CHECK(refused(script));                  // binfmt_script would open /bin/sh on the host
    auto truncated = read_file(busybox_path);
    truncated.resize(200);                   // program headers cut off: cannot be checked
    CHECK(refused(truncated));
    // A dynamic program: the kernel would open its PT_INTERP by host path.
    auto dynamic = read_file(busybox_path);
    const auto phoff = std::to_integer<std::size_t>(dynamic[32]) | (std::to_integer<std::size_t>(dynamic[33]) << 8);
    dynamic[phoff] = std::byte{3};           // first program header becomes PT_INTERP
    dynamic[phoff + 1] = dynamic[phoff + 2] = dynamic[phoff + 3] = std::byte{0};
    CHECK(sc::check_elf(dynamic) == sc::ElfCheck::dynamic);
    CHECK(refused(dynamic));
    CHECK(sc::check_elf(read_file("/bin/ls")) == sc::ElfCheck::dynamic);
}

TEST_CASE("A program the kernel cannot execute fails the launch", "[runner][launch]") {
    auto elf = read_file(busybox_path);
    elf[56] = elf[57] = std::byte{0};  // e_phnum = 0: passes our check, the kernel says ENOEXEC
    REQUIRE(sc::check_elf(elf) == sc::ElfCheck::ok);
    auto image = sc::GuestImage::from_bytes(elf);
    REQUIRE(image.has_value());
    const std::vector<std::string> argv{"broken"};
    sc::LaunchFailure failure;
    auto guest = sc::launch_guest(*image, argv, {}, sc::LaunchOptions{}, &failure);
    REQUIRE_FALSE(guest.has_value());
    CHECK(failure.error == Errno::noexec);
    CHECK(!failure.message.empty());

    sc::LaunchOptions keep;
    keep.hide_vdso = false;
    auto unchecked = sc::launch_guest(*image, argv, {}, keep, &failure);
    REQUIRE(unchecked.has_value());  // without ptrace the failure shows up when the process exits
    RecordingHandler handler;
    sc::Supervisor<RecordingHandler> supervisor(handler);
    auto exit = supervisor.run(*unchecked);
    REQUIRE(exit.has_value());
    CHECK(exit->signal == SIGILL);  // the confined trampoline dies by a trap after reporting
    REQUIRE(unchecked->exec_error().has_value());
    CHECK(*unchecked->exec_error() == Errno::noexec);
}

TEST_CASE("An image written while the launch forks runs only once it is sealed and checked", "[runner][launch]") {
    const auto busybox = read_file(busybox_path);
    const std::vector<std::string> argv{"busybox", "echo", "staged"};
    enum class Stage { seal, unsealed };
    // The launch is given an empty memfd; the staging thread writes it only after the launch has
    // asked for it (image_ready runs once the trampoline is confined and trapped in its exec), so
    // the exec provably waits for the bytes.
    const auto launch_staged = [&](std::vector<std::byte> bytes, Stage how, sc::LaunchFailure& failure) {
        auto reserved = sc::GuestImage::reserve();
        REQUIRE(reserved.has_value());
        auto writer = std::make_shared<sc::GuestImage>(std::move(*reserved));
        auto launched_image = writer->duplicate();
        REQUIRE(launched_image.has_value());
        CHECK(launched_image->check() == sc::ElfCheck::empty);
        std::mutex m;
        std::condition_variable cv;
        bool asked = false;
        std::optional<litebox::Result<void>> staged;
        sc::LaunchOptions options;
        options.image_ready = [&]() -> litebox::Result<void> {
            std::unique_lock lock(m);
            asked = true;
            cv.notify_all();
            cv.wait(lock, [&] { return staged.has_value(); });
            return *staged;
        };
        std::thread staging([&, bytes = std::move(bytes)] {
            {
                std::unique_lock lock(m);
                cv.wait(lock, [&] { return asked; });
            }
            litebox::Result<void> result = writer->fill(bytes);
            if (result && how == Stage::seal) result = writer->seal();  // unsealed: reports success all the same
            std::lock_guard lock(m);
            staged = result;
            cv.notify_all();
        });
        auto guest = sc::launch_guest(*launched_image, argv, {}, options, &failure);
        if (!guest.has_value()) {  // image_ready was never called: let the staging thread end
            std::lock_guard lock(m);
            asked = true;
            cv.notify_all();
        }
        staging.join();
        return guest;
    };

    sc::LaunchFailure failure;
    auto guest = launch_staged(busybox, Stage::seal, failure);
    INFO("launch: " << failure.message);
    REQUIRE(guest.has_value());
    RecordingHandler handler;
    sc::Supervisor<RecordingHandler> supervisor(handler);
    Watchdog watchdog(guest->pid, std::chrono::seconds(30));
    auto exit = supervisor.run(*guest);
    REQUIRE(exit.has_value());
    CHECK(exit->shell_status() == 0);
    CHECK(handler.out() == "staged\n");

    // A memfd left writable is never executed, even with a good check.
    CHECK_FALSE(launch_staged(busybox, Stage::unsealed, failure).has_value());
    CHECK(failure.error == Errno::perm);
    // Nor is an image whose sealed bytes fail the launch's own check (a script), though the stage
    // reported success.
    std::vector<std::byte> script(12);
    std::memcpy(script.data(), "#!/bin/sh\nid", 12);
    CHECK_FALSE(launch_staged(script, Stage::seal, failure).has_value());
    CHECK(failure.error == Errno::noexec);
}

TEST_CASE("A file-backed mmap is served from a memfd the supervisor installs", "[runner][mmap]") {
    // The "box file": a memfd with a line of text, handed to the guest through a read-only
    // descriptor (so a shared mapping can never become writable).
    const std::string contents = "box file contents\n";
    lp::UniqueFd memfd(::memfd_create("box-file", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    REQUIRE(memfd.valid());
    REQUIRE(::write(memfd.get(), contents.c_str(), contents.size() + 1) == static_cast<ssize_t>(contents.size() + 1));
    lp::UniqueFd readonly(::open(("/proc/self/fd/" + std::to_string(memfd.get())).c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(readonly.valid());

    RecordingHandler handler;
    handler.override_call = [&](sc::GuestThread& thread, int nr, const sc::SyscallArgs& args) -> std::optional<std::int64_t> {
        if (nr != SYS_mmap) return std::nullopt;
        if (args[4] != 7) return -litebox::errno_number(Errno::badf);
        const int source = (args[3] & MAP_SHARED) != 0 && (args[2] & PROT_WRITE) != 0 ? memfd.get() : readonly.get();
        auto mapped = thread.map_from(source);
        if (!mapped.has_value()) return -litebox::errno_number(mapped.error());
        return 0;  // ignored: the kernel performs the mapping
    };
    RunSpec spec;
    spec.argv = {"probe", "filemap"};
    CHECK(run_guest(handler, spec).shell_status() == 0);
    auto facts = handler.facts();
    CHECK(facts["private_ok"] == "1");
    CHECK(facts["content"] == "box file contents");
    CHECK(facts["private_mprotect"] == "0");
    CHECK(facts["remapped_first_byte"] == std::to_string(static_cast<int>('b')));  // COW stayed private
    CHECK(facts["shared_writable"] == "-13");      // refused: the writable memfd is not sealed
    CHECK(facts["shared_readonly_ok"] == "1");
    CHECK(facts["shared_mprotect_write"] == "-13");  // read-only descriptor: no way to write back
    CHECK(facts["unserved_fd"] == "-9");
    char first = 0;
    REQUIRE(::pread(memfd.get(), &first, 1, 0) == 1);
    CHECK(first == 'b');
}

TEST_CASE("A writable shared mapping is served from a MemfdStore, never from a host file", "[runner][mmap]") {
    auto made = lp::MemfdStore::create("box-shared");
    REQUIRE(made);
    auto store = *made;
    REQUIRE(store->resize(4096));
    REQUIRE(store->write(std::as_bytes(std::span("box", 3)), 0));
    // A host file the guest must never get a writable shared mapping of.
    char name[] = "/tmp/litebox-sharedmap-XXXXXX";
    lp::UniqueFd host(::mkstemp(name));
    REQUIRE(host.valid());
    ::unlink(name);
    REQUIRE(::ftruncate(host.get(), 4096) == 0);

    RecordingHandler handler;
    handler.override_call = [&](sc::GuestThread& thread, int nr, const sc::SyscallArgs& args) -> std::optional<std::int64_t> {
        if (nr != SYS_mmap) return std::nullopt;
        const bool writable_shared = (args[3] & MAP_SHARED) != 0 && (args[2] & PROT_WRITE) != 0;
        Result<void> mapped = Errno::badf;
        if (args[4] == 7) mapped = writable_shared ? thread.map_shared_from(store->descriptor()) : thread.map_from(store->read_only_descriptor());
        if (args[4] == 8) mapped = thread.map_shared_from(host.get());
        if (!mapped.has_value()) return -litebox::errno_number(mapped.error());
        return 0;
    };
    RunSpec spec;
    spec.argv = {"probe", "sharedmap"};
    CHECK(run_guest(handler, spec).shell_status() == 0);
    auto facts = handler.facts();
    CHECK(facts["shared_ok"] == "1");
    CHECK(facts["first_byte"] == std::to_string(static_cast<int>('b')));
    CHECK(facts["readonly_sees"] == std::to_string(static_cast<int>('g')));  // one memfd, two views
    CHECK(facts["readonly_mprotect"] == "-13");
    CHECK(facts["host_file"] == "-13");
    std::array<std::byte, 5> out{};
    REQUIRE(store->read(out, 0));
    CHECK(std::memcmp(out.data(), "guest", 5) == 0);  // the guest's stores are the box's bytes
    // Sealing against writes: refused while the guest could still write (the mapping died with
    // the guest, so now it succeeds), then enforced on the store itself.
    REQUIRE(store->add_seals(litebox::fs::seal::write));
    CHECK(!store->write(std::as_bytes(std::span("x", 1)), 0).has_value());
}

TEST_CASE("MemfdStore: EBUSY for a write seal while a writable mapping exists", "[runner][mmap]") {
    auto made = lp::MemfdStore::create();
    REQUIRE(made);
    auto store = *made;
    REQUIRE(store->resize(100));
    std::array<std::byte, 200> out{};
    CHECK(*store->read(out, 0) == 100);  // short at the end of the store
    CHECK(*store->read(out, 500) == 0);
    void* map = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, store->descriptor(), 0);
    REQUIRE(map != MAP_FAILED);
    std::memcpy(map, "mapped", 6);
    REQUIRE(store->read(std::span(out).first(6), 0));
    CHECK(std::memcmp(out.data(), "mapped", 6) == 0);
    auto sealed = store->add_seals(litebox::fs::seal::write);
    REQUIRE(!sealed.has_value());
    CHECK(sealed.error() == Errno::busy);
    ::munmap(map, 4096);
    CHECK(store->add_seals(litebox::fs::seal::write).has_value());
    CHECK(::fcntl(store->read_only_descriptor(), F_GETFL) >= 0);
    CHECK((::fcntl(store->read_only_descriptor(), F_GETFL) & O_ACCMODE) == O_RDONLY);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
