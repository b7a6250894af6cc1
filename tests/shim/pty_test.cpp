// Pseudo-terminals through the shim: /dev/ptmx, /dev/pts, the terminal ioctls on a pair, the
// controlling terminal and the hangup.
#include <cstring>
#include <string>
#include <vector>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;
namespace of = litebox::fd::open_flags;
namespace td = lx::terminal_detail;
namespace pd = lx::pty_detail;

namespace {

struct PtyFixture : ShimFixture<> {
    explicit PtyFixture(lx::ShimConfig config = {}) : ShimFixture<>(config, true) {}

    std::int64_t write(std::int64_t fd, std::string_view text) {
        return call(lx::nr::write, fd, mem.put_string(text), text.size());
    }
    /// One read of up to `max` bytes as a string; the negative errno as "E<n>".
    std::string read(std::int64_t fd, std::size_t max = 256) {
        const auto buffer = mem.allocate(max);
        const auto n = call(lx::nr::read, fd, buffer, max);
        if (n < 0) return "E" + std::to_string(-n);
        std::string out(static_cast<std::size_t>(n), '\0');
        REQUIRE(mem.read(buffer, out.data(), out.size()).has_value());
        return out;
    }
    std::int64_t ioctl_int(std::int64_t fd, std::uint32_t request, std::int32_t value, std::int32_t* out = nullptr) {
        const auto at = mem.allocate(4);
        mem.put(at, value);
        const auto r = call(lx::nr::ioctl, fd, request, at);
        if (out) *out = mem.get<std::int32_t>(at);
        return r;
    }
    /// open("/dev/ptmx") and unlockpt: the master and its index.
    std::pair<std::int64_t, int> open_master(std::uint32_t flags = of::read_write | of::no_ctty) {
        const auto master = call(lx::nr::open, mem.put_string("/dev/ptmx"), flags);
        REQUIRE(master >= 0);
        std::int32_t index = -1;
        REQUIRE(ioctl_int(master, pd::tiocgptn, 0, &index) == 0);
        REQUIRE(ioctl_int(master, pd::tiocsptlck, 0) == 0);
        return {master, index};
    }
    std::int64_t open_slave(int index, std::uint32_t flags = of::read_write | of::no_ctty) {
        return call(lx::nr::open, mem.put_string("/dev/pts/" + std::to_string(index)), flags);
    }
};

}  // namespace

TEST_CASE("pty: /dev/ptmx makes a pair, /dev/pts/N its slave", "[shim][pty]") {
    PtyFixture f;
    const auto master = f.call(lx::nr::open, f.mem.put_string("/dev/ptmx"), of::read_write | of::no_ctty | of::nonblock);
    REQUIRE(master >= 0);
    std::int32_t index = -1;
    REQUIRE(f.ioctl_int(master, pd::tiocgptn, 0, &index) == 0);
    CHECK(index == 0);
    std::int32_t locked = 0;
    REQUIRE(f.ioctl_int(master, pd::tiocgptlck, 0, &locked) == 0);
    CHECK(locked == 1);
    CHECK(f.open_slave(0) == err(Errno::io));  // locked until unlockpt
    REQUIRE(f.ioctl_int(master, pd::tiocsptlck, 0) == 0);
    const auto slave = f.open_slave(0);
    REQUIRE(slave >= 0);

    // The slave node: 136:0, 0620, owned by the opener of /dev/ptmx (uid 1000).
    const auto st = f.mem.allocate(sizeof(lx::abi::stat));
    REQUIRE(f.call(lx::nr::fstat, slave, st) == 0);
    auto s = f.mem.get<lx::abi::stat>(st);
    CHECK(s.st_rdev == litebox::fs::make_device(136, 0));
    CHECK(s.st_mode == (litebox::fd::mode::char_device | 0620));
    CHECK(s.st_uid == 1000);
    REQUIRE(f.call(lx::nr::stat, f.mem.put_string("/dev/pts/0"), st) == 0);
    CHECK(f.mem.get<lx::abi::stat>(st).st_ino == s.st_ino);
    CHECK(f.call(lx::nr::stat, f.mem.put_string("/dev/pts/1"), st) == err(Errno::noent));
    // ttyname(3): /proc/self/fd/N names the slave.
    const auto link = f.mem.allocate(64);
    const auto n = f.call(lx::nr::readlink, f.mem.put_string("/proc/self/fd/" + std::to_string(slave)), link, 64);
    REQUIRE(n > 0);
    std::string target(static_cast<std::size_t>(n), '\0');
    REQUIRE(f.mem.read(link, target.data(), target.size()).has_value());
    CHECK(target == "/dev/pts/0");

    // Data both ways, through the line discipline.
    CHECK(f.write(master, "abc\x7f" "d\n") == 6);
    std::int32_t queued = 0;
    REQUIRE(f.ioctl_int(slave, lx::abi::fionread, 0, &queued) == 0);
    CHECK(queued == 4);
    CHECK(f.read(slave) == "abd\n");
    CHECK(f.write(slave, "out\n") == 4);
    REQUIRE(f.ioctl_int(slave, pd::tiocoutq, 0, &queued) == 0);
    CHECK(queued == 14);  // the echo and the output, not yet read by the master
    CHECK(f.read(master) == "abc\b \bd\r\nout\r\n");

    // termios: raw mode on the slave is seen on the master.
    const auto termios = f.mem.allocate(sizeof(td::kernel_termios));
    REQUIRE(f.call(lx::nr::ioctl, slave, lx::abi::tcgets, termios) == 0);
    auto t = f.mem.get<td::kernel_termios>(termios);
    CHECK(t.c_lflag == 0x8a3b);
    t.c_lflag &= ~std::uint32_t{0x2 | 0x8};
    f.mem.put(termios, t);
    REQUIRE(f.call(lx::nr::ioctl, slave, lx::abi::tcsetsw, termios) == 0);
    REQUIRE(f.call(lx::nr::ioctl, master, lx::abi::tcgets, termios) == 0);
    CHECK(f.mem.get<td::kernel_termios>(termios).c_lflag == (0x8a3b & ~0xau));
    CHECK(f.write(master, "x") == 1);
    CHECK(f.read(slave) == "x");
    CHECK(f.read(master) == "E11");  // no echo

    // Window size.
    const auto ws = f.mem.allocate(sizeof(td::kernel_winsize));
    f.mem.put(ws, td::kernel_winsize{33, 101, 0, 0});
    REQUIRE(f.call(lx::nr::ioctl, master, lx::abi::tiocswinsz, ws) == 0);
    f.mem.put(ws, td::kernel_winsize{});
    REQUIRE(f.call(lx::nr::ioctl, slave, lx::abi::tiocgwinsz, ws) == 0);
    CHECK(f.mem.get<td::kernel_winsize>(ws).ws_col == 101);

    // Not a controlling terminal (O_NOCTTY): TIOCGPGRP on the slave is ENOTTY.
    CHECK(f.ioctl_int(slave, lx::abi::tiocgpgrp, 0) == err(Errno::notty));
    CHECK(f.ioctl_int(master, pd::tiocpkt, 1) == err(Errno::inval));
    CHECK(f.ioctl_int(master, pd::tcflsh, 5) == err(Errno::inval));

    // TIOCGPTPEER opens the slave without a path.
    const auto peer = f.call(lx::nr::ioctl, master, pd::tiocgptpeer, of::read_write);
    REQUIRE(peer >= 0);
    CHECK(f.write(peer, "p") == 1);
    CHECK(f.read(master) == "p");

    SECTION("closing the master hangs the slave up and removes /dev/pts/0") {
        REQUIRE(f.call(lx::nr::close, master) == 0);
        CHECK(f.read(slave) == "");
        CHECK(f.write(slave, "x") == err(Errno::io));
        CHECK(f.call(lx::nr::ioctl, slave, lx::abi::tcgets, termios) == err(Errno::io));
        CHECK(f.call(lx::nr::stat, f.mem.put_string("/dev/pts/0"), st) == err(Errno::noent));
    }
    SECTION("closing every slave: the master reads EIO once drained") {
        CHECK(f.write(slave, "z") == 1);
        REQUIRE(f.call(lx::nr::close, slave) == 0);
        REQUIRE(f.call(lx::nr::close, peer) == 0);
        CHECK(f.read(master) == "z");
        CHECK(f.read(master) == "E5");
    }
}

TEST_CASE("pty: the controlling terminal of a session", "[shim][pty]") {
    PtyFixture f;
    auto [master, index] = f.open_master();
    // pid 1 leads its session and has no pty: opening the slave without O_NOCTTY acquires it.
    const auto slave = f.open_slave(index, of::read_write);
    REQUIRE(slave >= 0);
    std::int32_t value = 0;
    REQUIRE(f.ioctl_int(slave, pd::tiocgsid, 0, &value) == 0);
    CHECK(value == 1);
    REQUIRE(f.ioctl_int(slave, lx::abi::tiocgpgrp, 0, &value) == 0);
    CHECK(value == 1);
    // /dev/tty is now that slave.
    const auto tty = f.call(lx::nr::open, f.mem.put_string("/dev/tty"), of::read_write);
    REQUIRE(tty >= 0);
    REQUIRE(f.ioctl_int(tty, pd::tiocgptn, 0, &value) == 0);
    CHECK(value == index);
    CHECK(f.write(master, "via tty\n") == 8);
    CHECK(f.read(tty) == "via tty\n");

    // ^C: SIGINT to the foreground group (pid 1's).
    CHECK(f.write(master, "\x03") == 1);
    auto signal = f.init->dequeue_signal();
    REQUIRE(signal.has_value());
    CHECK(signal->first == 2);
    // A new size: SIGWINCH (caught: by default it is ignored, and never even queued).
    const auto action = f.mem.allocate(sizeof(lx::abi::kernel_sigaction));
    f.mem.put(action, lx::abi::kernel_sigaction{0x1000, 0x04000000, 0x2000, 0});
    REQUIRE(f.call(lx::nr::rt_sigaction, 28, action, 0, 8) == 0);
    REQUIRE(f.call(lx::nr::rt_sigaction, 18, action, 0, 8) == 0);
    const auto ws = f.mem.allocate(sizeof(td::kernel_winsize));
    f.mem.put(ws, td::kernel_winsize{10, 20, 0, 0});
    REQUIRE(f.call(lx::nr::ioctl, master, lx::abi::tiocswinsz, ws) == 0);
    signal = f.init->dequeue_signal();
    REQUIRE(signal.has_value());
    CHECK(signal->first == 28);

    // TIOCSPGRP: a group of the session; ESRCH for none.
    CHECK(f.ioctl_int(slave, lx::abi::tiocspgrp, 4242) == err(Errno::srch));
    CHECK(f.ioctl_int(slave, lx::abi::tiocspgrp, 1) == 0);
    // A second pair cannot become the session's terminal too.
    auto [master2, index2] = f.open_master();
    const auto slave2 = f.open_slave(index2, of::read_write);
    REQUIRE(slave2 >= 0);
    CHECK(f.ioctl_int(slave2, pd::tiocgsid, 0) == err(Errno::notty));
    CHECK(f.call(lx::nr::ioctl, slave2, pd::tiocsctty, 0) == err(Errno::perm));
    (void)master2;

    SECTION("closing the master sends SIGHUP and SIGCONT to the session leader") {
        REQUIRE(f.call(lx::nr::close, master) == 0);
        std::vector<int> got;
        while (auto s = f.init->dequeue_signal()) got.push_back(s->first);
        CHECK(std::find(got.begin(), got.end(), 1) != got.end());
        CHECK(std::find(got.begin(), got.end(), 18) != got.end());
        // The session has no pty now: /dev/tty is the console again (no stdio here: ENXIO/ENOENT).
        CHECK(f.call(lx::nr::ioctl, slave2, pd::tiocsctty, 0) == 0);
    }
    SECTION("TIOCNOTTY by the leader gives the terminal up") {
        CHECK(f.call(lx::nr::ioctl, slave, pd::tiocnotty, 0) == 0);
        CHECK(f.ioctl_int(slave, pd::tiocgsid, 0) == err(Errno::notty));
        CHECK(f.call(lx::nr::ioctl, slave2, pd::tiocsctty, 0) == 0);
        REQUIRE(f.ioctl_int(slave2, pd::tiocgsid, 0, &value) == 0);
        CHECK(value == 1);
    }
}

TEST_CASE("pty: a child that is not a session leader cannot take a terminal", "[shim][pty]") {
    PtyFixture f;
    auto [master, index] = f.open_master();
    auto child = f.fork(*f.init);
    const auto slave = f.call_on(*child, lx::nr::open, f.mem.put_string("/dev/pts/" + std::to_string(index)), of::read_write);
    REQUIRE(slave >= 0);
    CHECK(f.call_on(*child, lx::nr::ioctl, slave, pd::tiocgsid, f.mem.allocate(4)) == err(Errno::notty));
    CHECK(f.call_on(*child, lx::nr::ioctl, slave, pd::tiocsctty, 0) == err(Errno::perm));
    // After setsid it leads a session of its own and may.
    REQUIRE(f.call_on(*child, lx::nr::setsid) > 0);
    CHECK(f.call_on(*child, lx::nr::ioctl, slave, pd::tiocsctty, 0) == 0);
    (void)master;
}

TEST_CASE("pty: a session leader's exit takes the terminal from the session and hangs up its foreground group", "[shim][pty]") {
    PtyFixture f;
    auto [master, index] = f.open_master();
    auto leader = f.fork(*f.init);  // 2
    REQUIRE(f.call_on(*leader, lx::nr::setsid) == 2);
    const auto path = f.mem.put_string("/dev/pts/" + std::to_string(index));
    const auto slave = f.call_on(*leader, lx::nr::open, path, of::read_write);  // acquires it
    REQUIRE(slave >= 0);
    auto foreground = f.fork(*leader);  // 3, in the leader's group (the foreground group)
    auto background = f.fork(*leader);  // 4, in a group of its own
    REQUIRE(f.call_on(*background, lx::nr::setpgid, 0, 0) == 0);
    const auto sid = f.mem.allocate(4);
    REQUIRE(f.call_on(*foreground, lx::nr::ioctl, slave, pd::tiocgsid, sid) == 0);
    CHECK(f.mem.get<std::int32_t>(sid) == 2);
    f.call_on(*leader, lx::nr::exit_group, 0);
    auto signal = foreground->dequeue_signal();
    REQUIRE(signal.has_value());
    CHECK(signal->first == 1);
    CHECK(!foreground->dequeue_signal());  // no SIGCONT for a pty
    CHECK(!background->dequeue_signal());
    // The session has no controlling terminal any more; another session leader may take it.
    CHECK(f.call_on(*foreground, lx::nr::ioctl, slave, pd::tiocgsid, sid) == err(Errno::notty));
    const auto slave_of_init = f.call(lx::nr::open, path, of::read_write);
    REQUIRE(slave_of_init >= 0);
    std::int32_t value = 0;
    REQUIRE(f.ioctl_int(slave_of_init, pd::tiocgsid, 0, &value) == 0);
    CHECK(value == 1);
    (void)master;
}

TEST_CASE("pty: a background group that uses its controlling terminal gets SIGTTIN or SIGTTOU", "[shim][pty][jobctl]") {
    PtyFixture f;
    auto [master, index] = f.open_master();
    auto leader = f.fork(*f.init);  // 2: a session whose foreground group is its own
    REQUIRE(f.call_on(*leader, lx::nr::setsid) == 2);
    const auto slave = f.call_on(*leader, lx::nr::open, f.mem.put_string("/dev/pts/" + std::to_string(index)), of::read_write);
    REQUIRE(slave >= 0);
    auto job = f.fork(*leader);     // 3, a background group of the session
    REQUIRE(f.call_on(*job, lx::nr::setpgid, 0, 0) == 0);
    auto member = f.fork(*job);     // 4, in group 3
    const auto taken = [](auto& context) {
        std::vector<int> got;
        while (auto signal = context->dequeue_signal()) got.push_back(signal->first);
        return got;
    };
    const std::vector<int> ttin{lx::abi::sigttin}, ttou{lx::abi::sigttou}, none;
    const auto buffer = f.mem.allocate(16);
    const auto text = f.mem.put_string("out\n");
    const auto termios = f.mem.allocate(sizeof(td::kernel_termios));

    // A read: EINTR, SIGTTIN to the caller's thread and to the rest of its group.
    CHECK(f.call_on(*job, lx::nr::read, slave, buffer, 16) == err(Errno::intr));
    CHECK(taken(job) == ttin);
    CHECK(taken(member) == ttin);
    CHECK(taken(leader) == none);
    // The foreground group reads as usual; another terminal is not the job's business.
    CHECK(f.write(master, "x\n") == 2);
    CHECK(f.call_on(*leader, lx::nr::read, slave, buffer, 16) == 2);
    // Writes: through without TOSTOP; with it, SIGTTOU.
    CHECK(f.call_on(*job, lx::nr::write, slave, text, 4) == 4);
    REQUIRE(f.call_on(*leader, lx::nr::ioctl, slave, lx::abi::tcgets, termios) == 0);
    auto settings = f.mem.get<td::kernel_termios>(termios);
    settings.c_lflag |= 0400;  // TOSTOP
    f.mem.put(termios, settings);
    REQUIRE(f.call_on(*leader, lx::nr::ioctl, slave, lx::abi::tcsets, termios) == 0);
    CHECK(f.call_on(*job, lx::nr::write, slave, text, 4) == err(Errno::intr));
    CHECK(taken(job) == ttou);
    CHECK(taken(member) == ttou);
    CHECK(f.call_on(*leader, lx::nr::write, slave, text, 4) == 4);
    // Settings and the foreground group: SIGTTOU; reading them is free.
    CHECK(f.call_on(*job, lx::nr::ioctl, slave, lx::abi::tcsets, termios) == err(Errno::intr));
    CHECK(taken(job) == ttou);
    CHECK(taken(member) == ttou);
    const auto group = f.mem.allocate(4);
    f.mem.put(group, std::int32_t{3});
    CHECK(f.call_on(*job, lx::nr::ioctl, slave, lx::abi::tiocspgrp, group) == err(Errno::intr));
    CHECK(taken(job) == ttou);
    CHECK(taken(member) == ttou);
    CHECK(f.call_on(*job, lx::nr::ioctl, slave, lx::abi::tcgets, termios) == 0);
    CHECK(taken(job) == none);

    // Ignored: SIGTTIN is EIO, SIGTTOU lets the call go on (a shell takes the terminal back so).
    const auto ignore = f.mem.allocate(sizeof(lx::abi::kernel_sigaction));
    f.mem.put(ignore, lx::abi::kernel_sigaction{lx::abi::sig_ign, 0, 0, 0});
    REQUIRE(f.call_on(*job, lx::nr::rt_sigaction, lx::abi::sigttin, ignore, 0, 8) == 0);
    REQUIRE(f.call_on(*job, lx::nr::rt_sigaction, lx::abi::sigttou, ignore, 0, 8) == 0);
    CHECK(f.call_on(*job, lx::nr::read, slave, buffer, 16) == err(Errno::io));
    CHECK(f.call_on(*job, lx::nr::write, slave, text, 4) == 4);
    CHECK(f.call_on(*job, lx::nr::ioctl, slave, lx::abi::tiocspgrp, group) == 0);  // now the job is in the foreground
    CHECK(taken(job) == none);
    CHECK(taken(member) == none);
    CHECK(f.write(master, "y\n") == 2);
    CHECK(f.call_on(*member, lx::nr::read, slave, buffer, 16) == 2);
    f.mem.put(group, std::int32_t{2});
    REQUIRE(f.call_on(*job, lx::nr::ioctl, slave, lx::abi::tiocspgrp, group) == 0);  // and back
    // Blocked: the same as ignored.
    const auto set = f.mem.allocate(8);
    f.mem.put(set, std::uint64_t{1} << (lx::abi::sigttin - 1));
    REQUIRE(f.call_on(*member, lx::nr::rt_sigprocmask, lx::abi::sig_block, set, 0, 8) == 0);
    CHECK(f.call_on(*member, lx::nr::read, slave, buffer, 16) == err(Errno::io));
    // An orphaned group: EIO. The job's leader leaves; its child's new parent, pid 1, is in
    // another session.
    f.call_on(*job, lx::nr::exit_group, 0);
    (void)taken(member);
    REQUIRE(f.call_on(*member, lx::nr::rt_sigprocmask, lx::abi::sig_unblock, set, 0, 8) == 0);
    CHECK(f.call_on(*member, lx::nr::read, slave, buffer, 16) == err(Errno::io));
    CHECK(taken(member) == none);
    (void)master;
}

TEST_CASE("pty: the number of pairs is limited", "[shim][pty]") {
    lx::ShimConfig config;
    config.max_ptys = 2;
    PtyFixture f(config);
    const auto a = f.call(lx::nr::open, f.mem.put_string("/dev/ptmx"), of::read_write);
    const auto b = f.call(lx::nr::open, f.mem.put_string("/dev/ptmx"), of::read_write);
    REQUIRE(a >= 0);
    REQUIRE(b >= 0);
    CHECK(f.call(lx::nr::open, f.mem.put_string("/dev/ptmx"), of::read_write) == err(Errno::nospc));
    REQUIRE(f.call(lx::nr::close, a) == 0);
    CHECK(f.call(lx::nr::open, f.mem.put_string("/dev/ptmx"), of::read_write) >= 0);
    // /dev/pts lists the live slaves.
    const auto dir = f.call(lx::nr::open, f.mem.put_string("/dev/pts"), of::read_only | of::directory);
    REQUIRE(dir >= 0);
    const auto buffer = f.mem.allocate(1024);
    const auto n = f.call(lx::nr::getdents64, dir, buffer, 1024);
    REQUIRE(n > 0);
    std::string names;
    for (std::int64_t at = 0; at < n;) {
        const auto length = f.mem.get<std::uint16_t>(buffer + static_cast<std::uintptr_t>(at) + 16);
        std::string name(64, '\0');
        REQUIRE(f.mem.read(buffer + static_cast<std::uintptr_t>(at) + 19, name.data(), std::min<std::size_t>(64, length - 19)).has_value());
        name.resize(std::strlen(name.c_str()));
        if (name != "." && name != "..") names += name + " ";
        at += length;
    }
    CHECK(names == "0 1 ");
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
