// /proc of the Linux shim (procfs.hpp), driven through raw syscalls.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "shim_fixture.hpp"
#include "support/test_platform.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;
namespace of = litebox::fd::open_flags;

namespace {

template <typename F>
struct Guest {
    F& f;
    using Context = typename F::Context;

    /// The whole file (reads of 7 bytes at a time, to cross chunk boundaries), or -errno text.
    std::string read_file(Context& c, std::string_view path) {
        const auto fd = f.call_on(c, lx::nr::open, f.mem.put_string(path), of::read_only);
        if (fd < 0) return "errno " + std::to_string(-fd);
        const auto buf = f.mem.allocate(64);
        std::string out;
        for (;;) {
            const auto n = f.call_on(c, lx::nr::read, fd, buf, 7);
            if (n <= 0) {
                if (n < 0) out = "errno " + std::to_string(-n);
                break;
            }
            const auto bytes = f.mem.bytes(buf, static_cast<std::size_t>(n));
            out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        }
        f.call_on(c, lx::nr::close, fd);
        return out;
    }
    std::string readlink(Context& c, std::string_view path) {
        const auto buf = f.mem.allocate(512);
        const auto n = f.call_on(c, lx::nr::readlink, f.mem.put_string(path), buf, 512);
        if (n < 0) return "errno " + std::to_string(-n);
        const auto bytes = f.mem.bytes(buf, static_cast<std::size_t>(n));
        return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    std::vector<std::string> list(Context& c, std::string_view path) {
        std::vector<std::string> names;
        const auto dir = f.call_on(c, lx::nr::open, f.mem.put_string(path), of::read_only | of::directory);
        if (dir < 0) return {"errno " + std::to_string(-dir)};
        const auto buf = f.mem.allocate(4096);
        for (;;) {
            const auto n = f.call_on(c, lx::nr::getdents64, dir, buf, 96);  // small: several calls
            if (n <= 0) break;
            for (std::int64_t at = 0; at < n;) {
                const auto head = f.mem.template get<lx::abi::linux_dirent64_head>(buf + static_cast<std::uintptr_t>(at));
                const auto bytes = f.mem.bytes(buf + static_cast<std::uintptr_t>(at) + 19, head.d_reclen - 19u);
                std::string name(reinterpret_cast<const char*>(bytes.data()));
                if (name != "." && name != "..") names.push_back(name);
                at += head.d_reclen;
            }
        }
        f.call_on(c, lx::nr::close, dir);
        return names;
    }
};

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> out;
    std::string item;
    std::istringstream in(text);
    while (std::getline(in, item, separator)) out.push_back(item);
    return out;
}

/// The numeric entries of a /proc listing (what ps iterates).
std::vector<std::string> pids_of(const std::vector<std::string>& names) {
    std::vector<std::string> out;
    std::copy_if(names.begin(), names.end(), std::back_inserter(out),
                 [](const std::string& n) { return !n.empty() && std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }); });
    return out;
}

}  // namespace

TEST_CASE("procfs: a ps-like listing sees exactly the box processes", "[shim][procfs]") {
    ShimFixture<> f;
    Guest<ShimFixture<>> g{f};
    CHECK(pids_of(g.list(*f.init, "/proc")) == std::vector<std::string>{"1"});
    auto child = f.fork(*f.init);
    auto grandchild = f.fork(*child);
    CHECK(pids_of(g.list(*f.init, "/proc")) == std::vector<std::string>{"1", "2", "3"});
    const auto names = g.list(*f.init, "/proc");
    for (const char* fixed : {"self", "mounts", "cpuinfo", "meminfo", "uptime", "loadavg", "stat", "filesystems", "sys"})
        CHECK(std::find(names.begin(), names.end(), fixed) != names.end());

    // ps: /proc/<pid>/stat and cmdline of each.
    for (const char* pid : {"1", "2", "3"}) {
        const auto stat = g.read_file(*f.init, std::string("/proc/") + pid + "/stat");
        const auto fields = split(stat.substr(0, stat.size() - 1), ' ');
        REQUIRE(fields.size() == 52);
        CHECK(fields[0] == pid);
        CHECK(fields[1] == "(init)");
        CHECK(fields[2] == "R");
        CHECK(fields[3] == (std::string(pid) == "1" ? "0" : std::string(pid) == "2" ? "1" : "2"));
        CHECK(fields[17] == "20");  // priority (20 + nice)
        CHECK(fields[18] == "0");   // nice
        CHECK(fields[19] == "1");   // num_threads
        CHECK(fields[37] == "17");  // exit_signal
    }
    REQUIRE(f.call_on(*grandchild, lx::nr::setpriority, 0, 0, 7) == 0);
    const auto niced = split(g.read_file(*f.init, "/proc/3/stat"), ' ');
    REQUIRE(niced.size() == 52);
    CHECK(niced[17] == "27");
    CHECK(niced[18] == "7");
    f.call_on(*grandchild, lx::nr::exit_group, 0);
    f.call_on(*child, lx::nr::wait4, -1, 0, 0, 0);
    CHECK(pids_of(g.list(*f.init, "/proc")) == std::vector<std::string>{"1", "2"});
    CHECK(g.read_file(*f.init, "/proc/3/stat") == "errno 2");
    CHECK(g.read_file(*f.init, "/proc/999/status") == "errno 2");
    CHECK(g.read_file(*f.init, "/proc/01/status") == "errno 2");
}

TEST_CASE("procfs: anonymous objects are named as on Linux, with their fdinfo lines", "[shim][procfs]") {
    ShimFixture<> f;
    Guest<ShimFixture<>> g{f};
    auto child = f.fork(*f.init);
    const auto event = f.call(lx::nr::eventfd2, 0x2a, 0);
    const auto epoll = f.call(lx::nr::epoll_create1, 0);
    const auto timer = f.call(lx::nr::timerfd_create, 1, 0);
    const auto pidfd = f.call(lx::nr::pidfd_open, child->pid(), 0);
    REQUIRE(event >= 0);
    REQUIRE(epoll >= 0);
    REQUIRE(timer >= 0);
    REQUIRE(pidfd >= 0);
    const auto link = [&](std::int64_t fd) { return g.readlink(*f.init, "/proc/self/fd/" + std::to_string(fd)); };
    const auto info = [&](std::int64_t fd) { return g.read_file(*f.init, "/proc/self/fdinfo/" + std::to_string(fd)); };
    CHECK(link(event) == "anon_inode:[eventfd]");
    CHECK(link(epoll) == "anon_inode:[eventpoll]");
    CHECK(link(timer) == "anon_inode:[timerfd]");
    CHECK(link(pidfd) == "anon_inode:[pidfd]");
    CHECK(info(event).find("\neventfd-count:               2a\neventfd-semaphore: 0\n") != std::string::npos);
    CHECK(info(timer).find("\nclockid: 1\nticks: 0\nsettime flags: 00\nit_value: (0, 0)\nit_interval: (0, 0)\n") != std::string::npos);
    CHECK(info(pidfd).find("\nPid:\t2\nNSpid:\t2\n") != std::string::npos);
    f.call_on(*child, lx::nr::exit_group, 0);
    CHECK(info(pidfd).find("\nPid:\t2\nNSpid:\t2\n") != std::string::npos);  // a zombie keeps its pid
}

TEST_CASE("procfs: a stopped process is T, one blocked in the shim S", "[shim][procfs][jobctl]") {
    ShimFixture<> f;
    Guest<ShimFixture<>> g{f};
    auto child = f.fork(*f.init);
    const auto state_field = [&](const char* path) {
        const auto stat = g.read_file(*f.init, path);
        const auto fields = split(stat.substr(0, stat.size() - 1), ' ');
        return fields.size() == 52 ? fields[2] : std::string("?");
    };
    CHECK(state_field("/proc/2/stat") == "R");
    f.shim.tasks().report_stop(child->process(), lx::abi::sigtstp);
    CHECK(g.read_file(*f.init, "/proc/2/status").find("State:\tT (stopped)\n") != std::string::npos);
    CHECK(state_field("/proc/2/stat") == "T");
    f.shim.tasks().report_continue(child->process());
    CHECK(g.read_file(*f.init, "/proc/2/status").find("State:\tR (running)\n") != std::string::npos);
    CHECK(state_field("/proc/2/stat") == "R");

    // The child blocks in wait4 (for a child of its own): S until that child exits.
    auto grandchild = f.fork(*child);
    std::int64_t waited = 0;
    std::thread waiter([&] { waited = f.call_on(*child, lx::nr::wait4, -1, 0, 0, 0); });
    bool sleeping = false;
    for (int i = 0; i < 500 && !sleeping; ++i) {
        sleeping = state_field("/proc/2/stat") == "S";
        if (!sleeping) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    CHECK(sleeping);
    CHECK(g.read_file(*f.init, "/proc/2/status").find("State:\tS (sleeping)\n") != std::string::npos);
    f.call_on(*grandchild, lx::nr::exit_group, 0);
    waiter.join();
    CHECK(waited == 3);
    CHECK(state_field("/proc/2/stat") == "R");
}

TEST_CASE("procfs: status fields, cmdline bytes, comm and environ", "[shim][procfs]") {
    ShimFixture<> f;
    Guest<ShimFixture<>> g{f};
    const auto status = g.read_file(*f.init, "/proc/self/status");
    CHECK(status.find("Name:\tinit\n") != std::string::npos);
    CHECK(status.find("State:\tR (running)\n") != std::string::npos);
    CHECK(status.find("Tgid:\t1\n") != std::string::npos);
    CHECK(status.find("Pid:\t1\n") != std::string::npos);
    CHECK(status.find("PPid:\t0\n") != std::string::npos);
    CHECK(status.find("Uid:\t1000\t1000\t1000\t1000\n") != std::string::npos);
    CHECK(status.find("Gid:\t1000\t1000\t1000\t1000\n") != std::string::npos);
    CHECK(status.find("Threads:\t1\n") != std::string::npos);
    CHECK(status.find("SigBlk:\t0000000000000000\n") != std::string::npos);
    // Block SIGUSR1 (10), ignore SIGTERM (15): status shows both masks.
    const auto set = f.mem.allocate(8);
    f.mem.template put<std::uint64_t>(set, std::uint64_t{1} << 9);
    REQUIRE(f.call(lx::nr::rt_sigprocmask, 0, set, 0, 8) == 0);
    const auto action = f.mem.allocate(sizeof(lx::abi::kernel_sigaction));
    f.mem.template put<lx::abi::kernel_sigaction>(action, lx::abi::kernel_sigaction{lx::abi::sig_ign, 0, 0, 0});
    REQUIRE(f.call(lx::nr::rt_sigaction, 15, action, 0, 8) == 0);
    const auto masked = g.read_file(*f.init, "/proc/1/status");
    CHECK(masked.find("SigBlk:\t0000000000000200\n") != std::string::npos);
    CHECK(masked.find("SigIgn:\t0000000000004000\n") != std::string::npos);

    const auto cmdline = g.read_file(*f.init, "/proc/self/cmdline");
    CHECK(cmdline == std::string("init\0--flag\0", 12));
    CHECK(g.read_file(*f.init, "/proc/1/comm") == "init\n");
    CHECK(g.read_file(*f.init, "/proc/self/environ") == std::string("HOME=/\0", 7));
}

TEST_CASE("procfs: comm is execve's path's base name, copied at fork, set by PR_SET_NAME", "[shim][procfs]") {
    ShimFixture<> f;
    Guest<ShimFixture<>> g{f};
    auto child = f.fork(*f.init);
    const std::string child_comm = "/proc/" + std::to_string(child->pid()) + "/comm";
    CHECK(g.read_file(*f.init, child_comm) == "init\n");
    // An applet link resolved to busybox: Linux names the process after the path it was asked for.
    f.shim.complete_exec(*child, lx::ExecRequest{"/bin/busybox", {"sleep", "5"}, {}, "/bin/sleep"});
    CHECK(g.read_file(*f.init, child_comm) == "sleep\n");
    CHECK(g.read_file(*child, "/proc/self/status").find("Name:\tsleep\n") != std::string::npos);
    CHECK(g.readlink(*child, "/proc/self/exe") == "/bin/busybox");
    // 15 bytes at most; without the path asked for, the program's name.
    f.shim.complete_exec(*child, lx::ExecRequest{"/bin/busybox", {"x"}, {}, "./a-rather-long-program-name"});
    CHECK(g.read_file(*f.init, child_comm) == "a-rather-long-p\n");
    f.shim.complete_exec(*child, lx::ExecRequest{"/usr/bin/python3", {"python3"}, {}});
    CHECK(g.read_file(*f.init, child_comm) == "python3\n");
    // PR_SET_NAME on the main thread renames the process; a fork inherits the name.
    const auto name = f.mem.put_string("worker");
    REQUIRE(f.call_on(*child, lx::nr::prctl, 15, name, 0, 0, 0) == 0);
    CHECK(g.read_file(*f.init, child_comm) == "worker\n");
    auto grandchild = f.fork(*child);
    CHECK(g.read_file(*f.init, "/proc/" + std::to_string(grandchild->pid()) + "/comm") == "worker\n");
}

TEST_CASE("procfs: another uid cannot read environ, links or fd/", "[shim][procfs]") {
    lx::ShimConfig config;
    config.initial_uid = config.initial_gid = 0;
    ShimFixture<> f(config);
    Guest<ShimFixture<>> g{f};
    auto child = f.fork(*f.init);
    REQUIRE(f.call_on(*child, lx::nr::setresuid, 2000, 2000, 2000) == 0);
    // environ is 0400 for the owner; cmdline stays readable.
    CHECK(g.read_file(*child, "/proc/1/environ") == "errno 13");
    CHECK(g.read_file(*child, "/proc/1/cmdline") == std::string("init\0--flag\0", 12));
    CHECK(g.readlink(*child, "/proc/1/exe") == "errno 13");
    CHECK(g.readlink(*child, "/proc/1/cwd") == "errno 13");
    CHECK(g.list(*child, "/proc/1/fd") == std::vector<std::string>{"errno 13"});
    CHECK(g.read_file(*child, "/proc/self/status").find("Uid:\t2000\t2000\t2000\t2000\n") != std::string::npos);
    CHECK(g.read_file(*child, "/proc/self/environ") == std::string("HOME=/\0", 7));
    // Root reads everything.
    CHECK(g.readlink(*f.init, "/proc/2/exe") == "/bin/init");
}

TEST_CASE("procfs: self, exe, cwd and fd links resolve for the caller", "[shim][procfs]") {
    ShimFixture<> f;
    Guest<ShimFixture<>> g{f};
    CHECK(g.readlink(*f.init, "/proc/self") == "1");
    auto child = f.fork(*f.init);
    CHECK(g.readlink(*child, "/proc/self") == "2");
    CHECK(g.read_file(*child, "/proc/self/stat").rfind("2 (init) ", 0) == 0);
    CHECK(g.readlink(*f.init, "/proc/self/exe") == "/bin/init");
    CHECK(g.readlink(*f.init, "/proc/1/root") == "/");

    REQUIRE(f.call(lx::nr::mkdir, f.mem.put_string("/work"), 0755) == 0);
    REQUIRE(f.call(lx::nr::chdir, f.mem.put_string("/work")) == 0);
    CHECK(g.readlink(*f.init, "/proc/self/cwd") == "/work");
    const auto file = f.call(lx::nr::open, f.mem.put_string("notes.txt"), of::create | of::read_write, 0644);
    REQUIRE(file >= 0);
    const auto text = f.mem.put_string("hello procfs");
    REQUIRE(f.call(lx::nr::write, file, text, 12) == 12);
    const auto fds = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::pipe2, fds, 0) == 0);
    const auto read_end = f.mem.template get<std::int32_t>(fds);

    const auto path = "/proc/self/fd/" + std::to_string(file);
    CHECK(g.readlink(*f.init, path) == "/work/notes.txt");
    CHECK(g.readlink(*f.init, "/proc/self/fd/" + std::to_string(read_end)).rfind("pipe:[", 0) == 0);
    // fd/ lists exactly the open descriptors.
    // (the listing's own directory descriptor is open too, as on Linux)
    const std::vector<std::string> expected{std::to_string(file), std::to_string(read_end), std::to_string(read_end + 1),
                                            std::to_string(read_end + 2)};
    CHECK(g.list(*f.init, "/proc/self/fd") == expected);
    CHECK(g.list(*f.init, "/proc/1/fdinfo") == expected);
    const auto info = g.read_file(*f.init, "/proc/self/fdinfo/" + std::to_string(file));
    CHECK(info.rfind("pos:\t12\nflags:\t", 0) == 0);
    // Opening fd/N opens the file itself (a fresh description at offset 0).
    CHECK(g.read_file(*f.init, path) == "hello procfs");
    CHECK(g.readlink(*f.init, "/proc/self/fd/77") == "errno 2");
    // After unlink the link says so, and it still leads to the file (Linux's magic link).
    REQUIRE(f.call(lx::nr::unlink, f.mem.put_string("/work/notes.txt")) == 0);
    CHECK(g.readlink(*f.init, path) == "/work/notes.txt (deleted)");
    CHECK(g.read_file(*f.init, path) == "hello procfs");
    const auto again = f.call(lx::nr::open, f.mem.put_string(path), of::read_only);
    REQUIRE(again >= 0);
    CHECK(g.readlink(*f.init, "/proc/self/fd/" + std::to_string(again)) == "/work/notes.txt (deleted)");
    REQUIRE(f.call(lx::nr::close, again) == 0);
    // A file opened through a symbolic link is named by the link's target, a directory by its path.
    REQUIRE(f.call(lx::nr::symlink, f.mem.put_string("target.txt"), f.mem.put_string("/work/alias")) == 0);
    REQUIRE(f.call(lx::nr::close, f.call(lx::nr::open, f.mem.put_string("/work/target.txt"), of::create | of::write_only, 0644)) == 0);
    const auto through = f.call(lx::nr::open, f.mem.put_string("/work/alias"), of::read_only);
    REQUIRE(through >= 0);
    CHECK(g.readlink(*f.init, "/proc/self/fd/" + std::to_string(through)) == "/work/target.txt");
    const auto proc_dir = f.call(lx::nr::open, f.mem.put_string("/proc"), of::read_only | of::directory);
    REQUIRE(proc_dir >= 0);
    CHECK(g.readlink(*f.init, "/proc/self/fd/" + std::to_string(proc_dir)) == "/proc");
    REQUIRE(f.call(lx::nr::close, through) == 0);
    REQUIRE(f.call(lx::nr::close, proc_dir) == 0);
    // mounts: /proc itself is listed, and /proc/mounts is the caller's.
    CHECK(g.readlink(*f.init, "/proc/mounts") == "self/mounts");
    const auto mounts = g.read_file(*f.init, "/proc/mounts");
    CHECK(mounts.find("proc /proc proc ro,nosuid,nodev,noexec 0 0\n") != std::string::npos);
    CHECK(mounts.rfind("tmpfs / tmpfs rw 0 0\n", 0) == 0);
}

TEST_CASE("procfs: fd/N of a pipe opens a new end of that pipe; /dev/stdin and /dev/fd follow the caller's descriptors",
          "[shim][procfs]") {
    lx::ShimConfig config;
    config.initial_uid = config.initial_gid = 0;
    ShimFixture<> f(config, true);  // the box's namespace, with its devfs
    Guest<ShimFixture<>> g{f};
    const auto fds = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::pipe2, fds, 0) == 0);
    const auto read_end = f.mem.template get<std::int32_t>(fds);
    const auto write_end = f.mem.template get<std::int32_t>(fds + 4);
    const auto data = f.mem.put_string("through the pipe");
    REQUIRE(f.call(lx::nr::write, write_end, data, 16) == 16);
    // The only writer closes first: an anonymous pipe opens without waiting for a partner.
    REQUIRE(f.call(lx::nr::dup2, read_end, 0) == 0);
    REQUIRE(f.call(lx::nr::close, write_end) == 0);
    CHECK(g.read_file(*f.init, "/dev/stdin") == "through the pipe");
    CHECK(g.readlink(*f.init, "/dev/stdin") == "/proc/self/fd/0");
    CHECK(g.readlink(*f.init, "/dev/fd") == "/proc/self/fd");

    // A writer opened through /dev/fd/N (O_CREAT|O_TRUNC, as a shell's "> /dev/fd/N") feeds the
    // same pipe; the link text stays pipe:[ino] for the new description.
    REQUIRE(f.call(lx::nr::pipe2, fds, 0) == 0);
    const auto r2 = f.mem.template get<std::int32_t>(fds);
    const auto w2 = f.mem.template get<std::int32_t>(fds + 4);
    const auto writer = f.call(lx::nr::open, f.mem.put_string("/dev/fd/" + std::to_string(w2)), of::write_only | of::create | of::truncate, 0644);
    REQUIRE(writer >= 0);
    CHECK(g.readlink(*f.init, "/proc/self/fd/" + std::to_string(writer)) == g.readlink(*f.init, "/proc/self/fd/" + std::to_string(w2)));
    REQUIRE(f.call(lx::nr::write, writer, data, 7) == 7);
    const auto buf = f.mem.allocate(16);
    REQUIRE(f.call(lx::nr::read, r2, buf, 16) == 7);
    const auto got = f.mem.bytes(buf, 7);
    CHECK(std::string(reinterpret_cast<const char*>(got.data()), got.size()) == "through");
    // O_EXCL on an existing object fails; a socket cannot be reopened (ENXIO, as Linux).
    CHECK(f.call(lx::nr::open, f.mem.put_string("/dev/fd/" + std::to_string(w2)), of::write_only | of::create | of::exclusive, 0644) ==
          err(Errno::exist));
    const auto sock = f.call(lx::nr::socket, 1 /*AF_UNIX*/, 1 /*SOCK_STREAM*/, 0);
    REQUIRE(sock >= 0);
    CHECK(g.read_file(*f.init, "/proc/self/fd/" + std::to_string(sock)) == "errno 6");

    // The reopened end is the same pipe to stat (same inode and type as fstat of the original).
    const auto st_a = f.mem.allocate(sizeof(lx::abi::stat));
    const auto st_b = f.mem.allocate(sizeof(lx::abi::stat));
    REQUIRE(f.call(lx::nr::fstat, w2, st_a) == 0);
    REQUIRE(f.call(lx::nr::fstat, writer, st_b) == 0);
    CHECK(f.mem.template get<lx::abi::stat>(st_a).st_ino == f.mem.template get<lx::abi::stat>(st_b).st_ino);
    CHECK(f.mem.template get<lx::abi::stat>(st_b).st_mode == (0010000u | 0600u));  // S_IFIFO

    // Another uid cannot follow the links of a root process.
    auto child = f.fork(*f.init);
    REQUIRE(f.call_on(*child, lx::nr::setresuid, 2000, 2000, 2000) == 0);
    CHECK(g.read_file(*child, "/proc/1/fd/" + std::to_string(r2)) == "errno 13");
    // Nor those of a process that switched to its uid but kept another saved uid (Linux's
    // ptrace rule), though it may read the link's text.
    auto switched = f.fork(*f.init);
    REQUIRE(f.call_on(*switched, lx::nr::setresuid, 2000, 2000, 0) == 0);
    const auto own = f.mem.allocate(8);
    REQUIRE(f.call_on(*switched, lx::nr::pipe2, own, 0) == 0);
    const auto path = "/proc/" + std::to_string(switched->pid()) + "/fd/" + std::to_string(f.mem.template get<std::int32_t>(own));
    CHECK(g.readlink(*child, path).rfind("pipe:[", 0) == 0);
    CHECK(g.read_file(*child, path) == "errno 13");
}

TEST_CASE("procfs: stat follows fd/N to a socket, pipe or anonymous object; open of a socket is ENXIO", "[shim][procfs]") {
    ShimFixture<> f;
    Guest<ShimFixture<>> g{f};
    const auto pair = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::socketpair, 1 /*AF_UNIX*/, 1 /*SOCK_STREAM*/, 0, pair) == 0);
    const auto pipe = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::pipe2, pipe, 0) == 0);
    const std::vector<std::int64_t> objects{
        f.mem.template get<std::int32_t>(pair),
        f.call(lx::nr::socket, 2 /*AF_INET*/, 2 /*SOCK_DGRAM*/, 0),
        f.call(lx::nr::eventfd2, 0, 0),
        f.call(lx::nr::epoll_create1, 0),
        f.call(lx::nr::timerfd_create, lx::abi::clock_monotonic, 0),
    };
    const auto fstat_of = [&](std::int64_t fd) {
        const auto st = f.mem.allocate(sizeof(lx::abi::stat));
        REQUIRE(f.call(lx::nr::fstat, fd, st) == 0);
        return f.mem.template get<lx::abi::stat>(st);
    };
    const auto stat_of = [&](std::uint64_t number, std::string_view path, lx::abi::stat& out) {
        const auto st = f.mem.allocate(sizeof(lx::abi::stat));
        const auto result = f.call(number, f.mem.put_string(path), st);
        out = f.mem.template get<lx::abi::stat>(st);
        return result;
    };
    std::vector<std::int64_t> all = objects;
    all.push_back(f.mem.template get<std::int32_t>(pipe));
    for (const auto fd : all) {
        INFO("descriptor " << fd);
        REQUIRE(fd >= 0);
        const auto path = "/proc/self/fd/" + std::to_string(fd);
        const auto want = fstat_of(fd);
        lx::abi::stat got{};
        REQUIRE(stat_of(lx::nr::stat, path, got) == 0);
        CHECK(got.st_mode == want.st_mode);
        CHECK(got.st_ino == want.st_ino);
        CHECK(got.st_dev == want.st_dev);
        REQUIRE(stat_of(lx::nr::lstat, path, got) == 0);  // the link itself
        CHECK((got.st_mode & 0170000u) == 0120000u);
    }
    CHECK((fstat_of(objects[0]).st_mode & 0170000u) == 0140000u);  // S_IFSOCK
    CHECK((fstat_of(objects[1]).st_mode & 0170000u) == 0140000u);
    CHECK((fstat_of(objects[2]).st_mode & 0170000u) == 0u);        // an anonymous inode has no type
    // Opening them is still refused; O_PATH only names the object.
    for (const auto fd : objects) CHECK(g.read_file(*f.init, "/proc/self/fd/" + std::to_string(fd)) == "errno 6");
    const auto path_fd = f.call(lx::nr::open, f.mem.put_string("/proc/self/fd/" + std::to_string(objects[0])), of::path);
    REQUIRE(path_fd >= 0);
    CHECK(fstat_of(path_fd).st_ino == fstat_of(objects[0]).st_ino);
    CHECK(f.call(lx::nr::read, path_fd, f.mem.allocate(4), 4) == err(Errno::badf));
}

TEST_CASE("procfs: writes fail, nothing can be created", "[shim][procfs]") {
    ShimFixture<> f;
    CHECK(f.call(lx::nr::open, f.mem.put_string("/proc/self/status"), of::write_only) == err(Errno::rofs));
    CHECK(f.call(lx::nr::open, f.mem.put_string("/proc/uptime"), of::read_write) == err(Errno::rofs));
    CHECK(f.call(lx::nr::truncate, f.mem.put_string("/proc/uptime"), 0) == err(Errno::acces));  // permission first
    CHECK(f.call(lx::nr::open, f.mem.put_string("/proc/new"), of::create | of::write_only, 0644) == err(Errno::rofs));
    CHECK(f.call(lx::nr::mkdir, f.mem.put_string("/proc/dir"), 0755) == err(Errno::rofs));
    CHECK(f.call(lx::nr::unlink, f.mem.put_string("/proc/uptime")) == err(Errno::rofs));
    CHECK(f.call(lx::nr::chmod, f.mem.put_string("/proc/uptime"), 0666) == err(Errno::rofs));
    // Root meets the read-only file system too.
    lx::ShimConfig config;
    config.initial_uid = config.initial_gid = 0;
    ShimFixture<> root(config);
    CHECK(root.call(lx::nr::open, root.mem.put_string("/proc/self/status"), of::write_only) == err(Errno::rofs));
    CHECK(root.call(lx::nr::chmod, root.mem.put_string("/proc/uptime"), 0666) == err(Errno::rofs));
    const auto st = f.mem.allocate(sizeof(lx::abi::stat));
    REQUIRE(f.call(lx::nr::stat, f.mem.put_string("/proc/self/environ"), st) == 0);
    CHECK((f.mem.template get<lx::abi::stat>(st).st_mode & 07777) == 0400);
    REQUIRE(f.call(lx::nr::stat, f.mem.put_string("/proc/1"), st) == 0);
    CHECK(f.mem.template get<lx::abi::stat>(st).st_mode == (litebox::fd::mode::directory | 0555));
    CHECK(f.mem.template get<lx::abi::stat>(st).st_uid == 1000);
    const auto sfs = f.mem.allocate(sizeof(lx::abi::statfs));
    REQUIRE(f.call(lx::nr::statfs, f.mem.put_string("/proc"), sfs) == 0);
    CHECK(f.mem.template get<lx::abi::statfs>(sfs).f_type == 0x9fa0);
}

TEST_CASE("procfs: global files", "[shim][procfs]") {
    lx::ShimConfig config;
    config.total_memory_bytes = 64ull << 20;
    ShimFixture<> f(config);
    Guest<ShimFixture<>> g{f};
    CHECK(g.read_file(*f.init, "/proc/meminfo").rfind("MemTotal:          65536 kB\n", 0) == 0);
    CHECK(g.read_file(*f.init, "/proc/vmstat") == "nr_free_pages 16384\npgpgin 0\npgpgout 0\npswpin 0\npswpout 0\n");
    // /proc/sysvipc lists the box's System V objects as Linux does (key, id, mode, sizes, owners, times).
    REQUIRE(f.call(lx::nr::semget, 5, 2, lx::sysv::ipc_creat | 0600) == 0);
    REQUIRE(f.call(lx::nr::msgget, 6, lx::sysv::ipc_creat | 0640) == 0);
    REQUIRE(f.call(lx::nr::shmget, 7, 5000, lx::sysv::ipc_creat | 0600) == 0);
    const auto sem = g.read_file(*f.init, "/proc/sysvipc/sem");
    CHECK(sem.rfind("       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n", 0) == 0);
    CHECK(sem.find("\n         5          0   600          2  1000  1000  1000  1000          0 ") != std::string::npos);
    CHECK(g.read_file(*f.init, "/proc/sysvipc/msg").find("\n         6          0   640           0          0     0     0  1000  1000  1000  1000          0          0 ") != std::string::npos);
    CHECK(g.read_file(*f.init, "/proc/sysvipc/shm").find("\n         7          0   600                  5000     1     0      0  1000  1000  1000  1000          0          0 ") != std::string::npos);
    CHECK(g.read_file(*f.init, "/proc/cpuinfo").rfind("processor\t: 0\n", 0) == 0);
    CHECK(g.read_file(*f.init, "/proc/loadavg") == "0.00 0.00 0.00 1/1 1\n");
    CHECK(g.read_file(*f.init, "/proc/stat").rfind("cpu  ", 0) == 0);
    CHECK(g.read_file(*f.init, "/proc/filesystems").find("nodev\tproc\n") != std::string::npos);
    CHECK(g.read_file(*f.init, "/proc/sys/kernel/ostype") == "Linux\n");
    CHECK(g.read_file(*f.init, "/proc/sys/kernel/osrelease") == config.release + "\n");
    CHECK(g.read_file(*f.init, "/proc/sys/kernel/hostname") == "litebox\n");
    const auto name = f.mem.put_string("sandbox");
    lx::ShimConfig root_config;
    root_config.initial_uid = 0;
    ShimFixture<> root(root_config);
    Guest<ShimFixture<>> rg{root};
    REQUIRE(root.call(lx::nr::sethostname, root.mem.put_string("sandbox"), 7) == 0);
    CHECK(rg.read_file(*root.init, "/proc/sys/kernel/hostname") == "sandbox\n");
    (void)name;
    CHECK(g.list(*f.init, "/proc/sys") == std::vector<std::string>{"kernel", "vm", "fs"});
    CHECK(g.list(*f.init, "/proc/sys/kernel") == std::vector<std::string>{"hostname", "ostype", "osrelease", "pid_max", "random"});
}

TEST_CASE("procfs: uptime advances with the virtual clock; a snapshot per open", "[shim][procfs]") {
    using TP = litebox::test::TestPlatform;
    // TestPlatform has no guest memory: use the VFS directly with the shim's credentials.
    TP platform;
    litebox::LiteBox<TP> box(platform);
    lx::ShimConfig config;
    lx::Kernel<TP> kernel(box, config);
    auto init = kernel.create_init(lx::InitSpec{"/bin/sh", {"sh"}, {}});
    REQUIRE(init.has_value());
    auto creds = lx::fs_credentials(**init);
    auto& vfs = kernel.vfs();
    const auto read_all = [&](const std::shared_ptr<litebox::fd::OpenFile<TP>>& file) {
        std::string out;
        std::array<std::byte, 5> buf{};
        for (;;) {
            auto n = file->read(buf);
            REQUIRE(n.has_value());
            if (*n == 0) break;
            out.append(reinterpret_cast<const char*>(buf.data()), *n);
        }
        return out;
    };
    auto first = vfs.open(creds, vfs.root(), "/proc/uptime", of::read_only);
    REQUIRE(first.has_value());
    TP::advance(std::chrono::milliseconds(2500));
    auto second = vfs.open(creds, vfs.root(), "/proc/uptime", of::read_only);
    REQUIRE(second.has_value());
    TP::advance(std::chrono::seconds(10));
    CHECK(read_all(*first) == "12.50 0.00\n");   // generated at the first read
    CHECK(read_all(*second) == "12.50 0.00\n");
    auto third = vfs.open(creds, vfs.root(), "/proc/uptime", of::read_only);
    REQUIRE(third.has_value());
    std::array<std::byte, 3> head{};
    REQUIRE((*third)->read(head).value() == 3);
    TP::advance(std::chrono::seconds(100));
    CHECK(read_all(*third) == "50 0.00\n");  // the rest of the same snapshot ("12.50 0.00")
    CHECK(kernel.uptime() >= std::chrono::seconds(112));
    // self needs a calling process: without one (pid 0) it does not exist.
    CHECK(vfs.readlink(litebox::fs::Credentials::root(), vfs.root(), "/proc/self").error() == Errno::noent);
    CHECK(vfs.readlink(creds, vfs.root(), "/proc/self").value() == "1");
}

TEST_CASE("procfs: not mounted when the config says so; unmounted with the kernel", "[shim][procfs]") {
    lx::ShimConfig config;
    config.mount_procfs = false;
    ShimFixture<> f(config);
    CHECK(f.call(lx::nr::open, f.mem.put_string("/proc/self/stat"), of::read_only) == err(Errno::noent));
    // A kernel on the box's own namespace leaves no dangling mount behind.
    ShimFixture<> shared({}, true);
    Guest<ShimFixture<>> g{shared};
    CHECK(g.readlink(*shared.init, "/proc/self") == "1");
}

TEST_CASE("O_TMPFILE works in a tmpfs; a bad path is EFAULT", "[shim][open]") {
    // (was EOPNOTSUPP for every file system; tmpfile_test.cpp has the details)
    ShimFixture<> f;
    constexpr std::uint32_t o_tmpfile = 020000000 | 0200000;
    const auto dir = f.mem.put_string("/");
    CHECK(f.call(lx::nr::open, dir, o_tmpfile | of::read_write, 0600) >= 0);
    CHECK(f.call(lx::nr::openat, lx::abi::at_fdcwd, dir, o_tmpfile | of::write_only, 0600) >= 0);
    CHECK(f.call(lx::nr::open, f.mem.hole(), o_tmpfile | of::read_write, 0600) == err(Errno::fault));
}

TEST_CASE("procfs: maps exists only with the runtime's source, which gets the pid; owner-only", "[shim][procfs]") {
    lx::ShimConfig config;
    config.initial_uid = config.initial_gid = 0;
    ShimFixture<> f(config);
    Guest<ShimFixture<>> g{f};
    auto child = f.fork(*f.init);
    const auto names = g.list(*f.init, "/proc/self");
    CHECK(std::find(names.begin(), names.end(), "maps") == names.end());
    CHECK(g.read_file(*f.init, "/proc/self/maps") == "errno " + std::to_string(static_cast<int>(Errno::noent)));

    std::vector<int> asked;
    f.shim.set_maps_source([&](int pid) -> litebox::Result<std::string> {
        asked.push_back(pid);
        if (pid == 2) return Errno::nomem;
        return std::string("00400000-00401000 r-xp 00000000 00:00 0 \n");
    });
    const auto with = g.list(*f.init, "/proc/self");
    CHECK(std::find(with.begin(), with.end(), "maps") != with.end());
    CHECK(g.read_file(*f.init, "/proc/self/maps") == "00400000-00401000 r-xp 00000000 00:00 0 \n");
    CHECK(g.read_file(*f.init, "/proc/2/maps") == "errno " + std::to_string(static_cast<int>(Errno::nomem)));
    CHECK(asked == std::vector<int>{1, 2});
    // Like environ, another uid cannot read it (the address layout is the owner's).
    REQUIRE(f.call_on(*child, lx::nr::setresuid, 2000, 2000, 2000) == 0);
    CHECK(g.read_file(*child, "/proc/1/maps") == "errno 13");
    CHECK(asked.size() == 2);
}

TEST_CASE("procfs: a file opened for a process never shows the process that reused its pid", "[shim][procfs]") {
    lx::ShimConfig config;
    config.pid_max = 3;  // below 3: every new process is pid 2
    ShimFixture<> f(config);
    auto child = f.fork(*f.init);
    REQUIRE(child->pid() == 2);
    const auto fd = f.call(lx::nr::open, f.mem.put_string("/proc/2/cmdline"), of::read_only);
    REQUIRE(fd >= 0);
    f.call_on(*child, lx::nr::exit_group, 0);
    REQUIRE(f.call(lx::nr::wait4, 2, 0, 0, 0) == 2);
    child.reset();
    auto reused = f.fork(*f.init);
    REQUIRE(reused->pid() == 2);
    const auto buf = f.mem.allocate(64);
    CHECK(f.call(lx::nr::read, fd, buf, 64) == err(Errno::srch));
}

TEST_CASE("sysfs: one virtual CPU, read-only, nothing of the host", "[shim][sysfs]") {
    lx::ShimConfig config;
    config.initial_uid = config.initial_gid = 0;  // even root cannot change it
    ShimFixture<> f(config);
    Guest<ShimFixture<>> g{f};
    CHECK(g.read_file(*f.init, "/sys/devices/system/cpu/online") == "0\n");
    CHECK(g.read_file(*f.init, "/sys/devices/system/cpu/possible") == "0\n");
    CHECK(g.read_file(*f.init, "/sys/devices/system/cpu/present") == "0\n");
    CHECK(g.read_file(*f.init, "/sys/devices/system/cpu/offline") == "\n");
    auto cpus = g.list(*f.init, "/sys/devices/system/cpu");
    std::sort(cpus.begin(), cpus.end());
    CHECK(cpus == std::vector<std::string>{"cpu0", "offline", "online", "possible", "present"});
    CHECK(g.read_file(*f.init, "/sys/devices/system/cpu/cpu1/online") == "errno 2");
    CHECK(f.call(lx::nr::open, f.mem.put_string("/sys/devices/system/cpu/online"), of::write_only) == err(Errno::rofs));
    CHECK(f.call(lx::nr::mkdir, f.mem.put_string("/sys/devices/system/cpu/cpu1"), 0755) == err(Errno::rofs));
    CHECK(f.call(lx::nr::unlink, f.mem.put_string("/sys/devices/system/cpu/online")) == err(Errno::rofs));
    const auto st = f.mem.allocate(sizeof(lx::abi::stat));
    REQUIRE(f.call(lx::nr::stat, f.mem.put_string("/sys/devices/system/cpu/online"), st) == 0);
    CHECK((f.mem.template get<lx::abi::stat>(st).st_mode & 07777) == 0444);
    REQUIRE(f.call(lx::nr::stat, f.mem.put_string("/sys/devices/system/cpu/cpu0"), st) == 0);
    CHECK(f.mem.template get<lx::abi::stat>(st).st_mode == (litebox::fd::mode::directory | 0555));
    // A file system of its own: /sys and / differ in device (find and du -x rely on it).
    REQUIRE(f.call(lx::nr::stat, f.mem.put_string("/sys"), st) == 0);
    const auto sys_dev = f.mem.template get<lx::abi::stat>(st).st_dev;
    REQUIRE(f.call(lx::nr::stat, f.mem.put_string("/"), st) == 0);
    CHECK(f.mem.template get<lx::abi::stat>(st).st_dev != sys_dev);
    REQUIRE(f.call(lx::nr::stat, f.mem.put_string("/proc"), st) == 0);
    CHECK(f.mem.template get<lx::abi::stat>(st).st_dev != sys_dev);
    // The mount shows in the box's mount table, read-only.
    const auto mounts = g.read_file(*f.init, "/proc/mounts");
    CHECK(mounts.find(" /sys tmpfs ro,") != std::string::npos);
}

TEST_CASE("ShimConfig::cpus: /sys, /proc/cpuinfo and /proc/stat show that many CPUs", "[shim][sysfs][procfs]") {
    lx::ShimConfig config;
    config.cpus = 3;
    ShimFixture<> f(config);
    Guest<ShimFixture<>> g{f};
    CHECK(g.read_file(*f.init, "/sys/devices/system/cpu/online") == "0-2\n");
    CHECK(g.read_file(*f.init, "/sys/devices/system/cpu/possible") == "0-2\n");
    CHECK(g.read_file(*f.init, "/sys/devices/system/cpu/present") == "0-2\n");
    auto cpus = g.list(*f.init, "/sys/devices/system/cpu");
    std::sort(cpus.begin(), cpus.end());
    CHECK(cpus == std::vector<std::string>{"cpu0", "cpu1", "cpu2", "offline", "online", "possible", "present"});
    const std::string cpuinfo = g.read_file(*f.init, "/proc/cpuinfo");
    std::size_t paragraphs = 0;
    for (std::size_t at = cpuinfo.find("processor\t: "); at != std::string::npos; at = cpuinfo.find("processor\t: ", at + 1)) ++paragraphs;
    CHECK(paragraphs == 3);
    CHECK(cpuinfo.find("processor\t: 2\n") != std::string::npos);
    CHECK(cpuinfo.find("siblings\t: 3\n") != std::string::npos);
    const std::string stat = g.read_file(*f.init, "/proc/stat");
    CHECK(stat.find("\ncpu2 ") != std::string::npos);
    CHECK(stat.find("\ncpu3 ") == std::string::npos);

    lx::ShimConfig many;
    many.cpus = 1000;  // clamped to the 64 an affinity mask holds
    ShimFixture<> m(many);
    Guest<ShimFixture<>> gm{m};
    CHECK(gm.read_file(*m.init, "/sys/devices/system/cpu/online") == "0-63\n");
    CHECK(gm.list(*m.init, "/sys/devices/system/cpu").size() == 64 + 4);
}

TEST_CASE("sysfs: ShimConfig::mount_sysfs off leaves /sys alone", "[shim][sysfs]") {
    lx::ShimConfig config;
    config.mount_sysfs = false;
    ShimFixture<> f(config);
    Guest<ShimFixture<>> g{f};
    CHECK(g.read_file(*f.init, "/sys/devices/system/cpu/online") == "errno 2");
}

namespace {
/// One line of /proc/<pid>/limits as Linux's proc_pid_limits prints it (printf, independently of
/// the shim's formatting).
std::string limit_line(const char* name, const char* soft, const char* hard, const char* unit) {
    char line[128];
    if (unit) std::snprintf(line, sizeof line, "%-25s %-20s %-20s %-10s\n", name, soft, hard, unit);
    else std::snprintf(line, sizeof line, "%-25s %-20s %-20s \n", name, soft, hard);
    return line;
}
}  // namespace

TEST_CASE("procfs: limits shows the process's rlimits in Linux's format; setrlimit shows", "[shim][procfs]") {
    ShimFixture<> f;
    Guest<ShimFixture<>> g{f};
    std::string expected = limit_line("Limit", "Soft Limit", "Hard Limit", "Units");
    CHECK(expected == "Limit                     Soft Limit           Hard Limit           Units     \n");
    expected += limit_line("Max cpu time", "unlimited", "unlimited", "seconds");
    expected += limit_line("Max file size", "unlimited", "unlimited", "bytes");
    expected += limit_line("Max data size", "unlimited", "unlimited", "bytes");
    expected += limit_line("Max stack size", "8388608", "unlimited", "bytes");
    expected += limit_line("Max core file size", "0", "unlimited", "bytes");
    expected += limit_line("Max resident set", "unlimited", "unlimited", "bytes");
    expected += limit_line("Max processes", "512", "512", "processes");
    expected += limit_line("Max open files", "1024", "4096", "files");
    expected += limit_line("Max locked memory", "8388608", "8388608", "bytes");
    expected += limit_line("Max address space", "unlimited", "unlimited", "bytes");
    expected += limit_line("Max file locks", "unlimited", "unlimited", "locks");
    expected += limit_line("Max pending signals", "512", "512", "signals");
    expected += limit_line("Max msgqueue size", "819200", "819200", "bytes");
    expected += limit_line("Max nice priority", "0", "0", nullptr);
    expected += limit_line("Max realtime priority", "0", "0", nullptr);
    expected += limit_line("Max realtime timeout", "unlimited", "unlimited", "us");
    CHECK(g.read_file(*f.init, "/proc/self/limits") == expected);
    CHECK(expected.find("Max cpu time              unlimited            unlimited            seconds   \n") != std::string::npos);

    // setrlimit(RLIMIT_NOFILE, 256/2048) and RLIMIT_CPU 10/unlimited: both rows follow; a child
    // inherits them; another process's file shows that process's limits.
    auto child = f.fork(*f.init);
    const auto limit = f.mem.allocate(sizeof(lx::abi::rlimit));
    f.mem.template put<lx::abi::rlimit>(limit, lx::abi::rlimit{256, 2048});
    REQUIRE(f.call(lx::nr::setrlimit, lx::abi::rlimit_nofile, limit) == 0);
    f.mem.template put<lx::abi::rlimit>(limit, lx::abi::rlimit{10, lx::abi::rlim_infinity});
    REQUIRE(f.call(lx::nr::setrlimit, lx::abi::rlimit_cpu, limit) == 0);
    const auto mine = g.read_file(*f.init, "/proc/1/limits");
    CHECK(mine.find(limit_line("Max open files", "256", "2048", "files")) != std::string::npos);
    CHECK(mine.find(limit_line("Max cpu time", "10", "unlimited", "seconds")) != std::string::npos);
    CHECK(g.read_file(*f.init, "/proc/2/limits") == expected);  // forked before the change
    auto grandchild = f.fork(*f.init);
    CHECK(g.read_file(*grandchild, "/proc/self/limits") == mine);
}

TEST_CASE("procfs: statm, oom_score_adj and cgroup", "[shim][procfs]") {
    ShimFixture<> f;
    Guest<ShimFixture<>> g{f};
    CHECK(g.read_file(*f.init, "/proc/self/statm") == "0 0 0 0 0 0 0\n");  // no memory accounting, as status
    CHECK(g.read_file(*f.init, "/proc/self/oom_score_adj") == "0\n");
    CHECK(g.read_file(*f.init, "/proc/1/cgroup") == "0::/\n");
    CHECK(f.call(lx::nr::open, f.mem.put_string("/proc/self/oom_score_adj"), of::write_only) == err(Errno::rofs));
}

TEST_CASE("procfs: mountinfo lists the mounts of mounts, in order, with ids and options", "[shim][procfs]") {
    ShimFixture<> f;
    Guest<ShimFixture<>> g{f};
    const auto mounts = split(g.read_file(*f.init, "/proc/self/mounts"), '\n');
    const auto info = split(g.read_file(*f.init, "/proc/self/mountinfo"), '\n');
    REQUIRE(!mounts.empty());
    REQUIRE(info.size() == mounts.size());
    const std::regex line(R"(^(\d+) (\d+) (\d+):(\d+) / (\S+) (\S+) - (\S+) (\S+) (ro|rw)$)");
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < info.size(); ++i) {
        std::smatch m;
        INFO(info[i]);
        REQUIRE(std::regex_match(info[i], m, line));
        const auto mount = split(mounts[i], ' ');
        REQUIRE(mount.size() == 6);
        CHECK(m[5] == mount[1]);  // mount point
        CHECK(m[6] == mount[3]);  // options
        CHECK(m[7] == mount[2]);  // type
        CHECK(m[8] == mount[0]);  // source
        CHECK(m[9] == mount[3].substr(0, 2));
        CHECK(m[1] == m[4]);  // the id is the device's minor
        if (i == 0) {
            CHECK(m[5] == "/");
            CHECK(m[2] == m[1]);  // the root mount is its own parent
        } else {
            CHECK(std::find(ids.begin(), ids.end(), m[2].str()) != ids.end());  // the parent is listed before
        }
        ids.push_back(m[1]);
    }
    const auto proc = std::find_if(info.begin(), info.end(), [](const std::string& l) { return l.find(" /proc ") != std::string::npos; });
    REQUIRE(proc != info.end());
    CHECK(proc->ends_with(" / /proc ro,nosuid,nodev,noexec - proc proc ro"));
    // The mount id agrees with fdinfo's mnt_id of a file of that mount.
    const auto fd = f.call(lx::nr::open, f.mem.put_string("/proc/self/status"), of::read_only);
    REQUIRE(fd >= 0);
    const auto fdinfo = g.read_file(*f.init, "/proc/self/fdinfo/" + std::to_string(fd));
    CHECK(fdinfo.find("mnt_id:\t" + proc->substr(0, proc->find(' ')) + "\n") != std::string::npos);
}

TEST_CASE("procfs: task/ lists the process's threads, each with its own stat, status and comm", "[shim][procfs]") {
    ShimFixture<> f;
    Guest<ShimFixture<>> g{f};
    CHECK(g.list(*f.init, "/proc/self/task") == std::vector<std::string>{"1"});
    CHECK(g.list(*f.init, "/proc/1/task/1") == std::vector<std::string>{"stat", "status", "comm"});
    CHECK(g.read_file(*f.init, "/proc/1/task/1/stat") == g.read_file(*f.init, "/proc/1/stat"));
    CHECK(g.read_file(*f.init, "/proc/1/task/1/comm") == "init\n");
    constexpr std::uint64_t thread_flags =
        lx::abi::clone_vm | lx::abi::clone_fs | lx::abi::clone_files | lx::abi::clone_sighand | lx::abi::clone_thread;
    REQUIRE(f.call(lx::nr::clone, thread_flags, 0x7000, 0, 0, 0) == 2);
    auto thread = std::move(std::get<lx::CloneRequest<GuestMemoryPlatform>>(f.init->take_request()).child);
    REQUIRE(f.call_on(*thread, lx::nr::prctl, 15 /* PR_SET_NAME */, f.mem.put_string("worker")) == 0);
    CHECK(g.list(*f.init, "/proc/1/task") == std::vector<std::string>{"1", "2"});
    CHECK(pids_of(g.list(*f.init, "/proc")) == std::vector<std::string>{"1"});  // threads are not processes
    CHECK(g.read_file(*f.init, "/proc/1/task/2/comm") == "worker\n");
    CHECK(g.read_file(*f.init, "/proc/1/comm") == "init\n");
    const auto status = g.read_file(*f.init, "/proc/1/task/2/status");
    CHECK(status.find("Name:\tworker\n") != std::string::npos);
    CHECK(status.find("Tgid:\t1\n") != std::string::npos);
    CHECK(status.find("Pid:\t2\n") != std::string::npos);
    CHECK(status.find("Threads:\t2\n") != std::string::npos);
    const auto stat = split(g.read_file(*f.init, "/proc/1/task/2/stat"), ' ');
    REQUIRE(stat.size() == 52);
    CHECK(stat[0] == "2");
    CHECK(stat[1] == "(worker)");
    CHECK(stat[19] == "2");
    CHECK(g.read_file(*f.init, "/proc/1/task/3/stat") == "errno 2");
    CHECK(g.read_file(*f.init, "/proc/1/task/01/stat") == "errno 2");
    // The thread leaves: its directory goes, and a file opened before reads ESRCH.
    const auto open_stat = f.call(lx::nr::open, f.mem.put_string("/proc/1/task/2/stat"), of::read_only);
    REQUIRE(open_stat >= 0);
    CHECK(f.call_on(*thread, lx::nr::exit, 0) == 0);
    CHECK(g.list(*f.init, "/proc/1/task") == std::vector<std::string>{"1"});
    CHECK(g.read_file(*f.init, "/proc/1/task/2/stat") == "errno 2");
    CHECK(f.call(lx::nr::read, open_stat, f.mem.allocate(16), 16) == err(Errno::srch));
}

TEST_CASE("procfs: /proc/self lists what it looks up", "[shim][procfs]") {
    ShimFixture<> f;
    Guest<ShimFixture<>> g{f};
    const auto names = g.list(*f.init, "/proc/self");
    for (const char* name : {"limits", "statm", "mountinfo", "oom_score_adj", "cgroup", "task", "status", "stat", "comm", "mounts"})
        CHECK(std::find(names.begin(), names.end(), name) != names.end());
    const auto st = f.mem.allocate(256);
    for (const auto& name : names) {
        INFO(name);
        CHECK(f.call(lx::nr::newfstatat, -100, f.mem.put_string("/proc/self/" + name), st, 0x100 /* AT_SYMLINK_NOFOLLOW */) == 0);
    }
    const auto root = g.list(*f.init, "/proc");
    CHECK(std::find(root.begin(), root.end(), "version") != root.end());
    for (const auto& name : root) {
        INFO(name);
        CHECK(f.call(lx::nr::newfstatat, -100, f.mem.put_string("/proc/" + name), st, 0x100) == 0);
    }
}

TEST_CASE("procfs: version, pid_max, random uuid, overcommit_memory, file-max", "[shim][procfs]") {
    lx::ShimConfig config;
    config.release = "5.15.0-box";
    config.version = "#7 SMP PREEMPT Test";
    config.pid_max = 4096;
    ShimFixture<> f(config);
    Guest<ShimFixture<>> g{f};
    CHECK(g.read_file(*f.init, "/proc/version") == "Linux version 5.15.0-box (litebox) #7 SMP PREEMPT Test\n");
    CHECK(g.read_file(*f.init, "/proc/sys/kernel/pid_max") == "4096\n");
    CHECK(g.read_file(*f.init, "/proc/sys/kernel/osrelease") == "5.15.0-box\n");
    CHECK(g.read_file(*f.init, "/proc/sys/vm/overcommit_memory") == "0\n");
    CHECK(g.read_file(*f.init, "/proc/sys/fs/file-max") == "1048576\n");
    CHECK(g.list(*f.init, "/proc/sys/vm") == std::vector<std::string>{"overcommit_memory"});
    CHECK(g.list(*f.init, "/proc/sys/fs") == std::vector<std::string>{"file-max", "inotify"});
    CHECK(g.list(*f.init, "/proc/sys/fs/inotify") == std::vector<std::string>{"max_queued_events", "max_user_instances", "max_user_watches"});
    CHECK(g.list(*f.init, "/proc/sys/kernel/random") == std::vector<std::string>{"uuid"});
    const std::regex uuid(R"(^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$)");
    const auto a = g.read_file(*f.init, "/proc/sys/kernel/random/uuid");
    const auto b = g.read_file(*f.init, "/proc/sys/kernel/random/uuid");
    CHECK(std::regex_match(a, uuid));
    CHECK(std::regex_match(b, uuid));
    CHECK(a != b);  // fresh per open
}

TEST_CASE("procfs: no random/uuid without the platform's random source", "[shim][procfs]") {
    ShimFixture<GuestMemoryPlatformWithoutCrng> f;
    Guest<ShimFixture<GuestMemoryPlatformWithoutCrng>> g{f};
    CHECK(g.list(*f.init, "/proc/sys/kernel/random").empty());
    CHECK(g.read_file(*f.init, "/proc/sys/kernel/random/uuid") == "errno 2");
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
