// litebox-minimal-platform: binds SecureMinimalPlatform to a LiteBox and shows that the north API
// works on it. Prints a transcript on stdout (the platform's own log goes to stderr) and exits 0
// only if every check held.
#include "minimal_platform.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace {

using Platform = minimal::SecureMinimalPlatform;
namespace lp = litebox::platform;

int g_failures = 0;

void check(bool ok, const char* what) {
    std::printf("  [%s] %s\n", ok ? " ok " : "FAIL", what);
    if (!ok) ++g_failures;
}

double milliseconds(lp::Duration d) { return static_cast<double>(d.count()) / 1e6; }

/// Two threads hand a token back and forth through a Mutex and a Condvar.
void mutex_condvar_handoff(litebox::LiteBox<Platform>& box) {
    std::puts("Mutex + Condvar: ping-pong between two threads");
    struct Court {
        int ball = 0;       // odd: the other thread's turn; even: main's turn
        int rallies = 0;
    };
    litebox::sync::Mutex<Platform, Court> court;
    litebox::sync::Condvar<Platform> changed;
    constexpr int rounds = 1000;

    std::thread other([&] {
        for (int i = 0; i < rounds; ++i) {
            auto guard = court.lock();
            changed.wait(guard, [](Court& c) { return c.ball % 2 == 1; });
            ++guard->ball;
            ++guard->rallies;
            changed.notify_all();
        }
    });
    for (int i = 0; i < rounds; ++i) {
        auto guard = court.lock();
        changed.wait(guard, [](Court& c) { return c.ball % 2 == 0; });
        ++guard->ball;
        changed.notify_all();
    }
    other.join();
    const auto [ball, rallies] = court.with_lock([](Court& c) { return std::pair{c.ball, c.rallies}; });
    std::printf("  %d hits, %d returned by the other thread\n", ball, rallies);
    check(ball == 2 * rounds && rallies == rounds, "every hit was seen by the other side, in turn");
    (void)box;
}

/// A timed wait whose predicate never holds returns false once the timeout has passed.
void timed_wait(litebox::LiteBox<Platform>& box) {
    std::puts("Condvar: timed wait on a condition nobody signals");
    litebox::sync::Mutex<Platform, bool> flag(false);
    litebox::sync::Condvar<Platform> never;
    constexpr lp::Duration timeout = std::chrono::milliseconds(50);
    const auto start = box.now();
    bool satisfied = true;
    {
        auto guard = flag.lock();
        satisfied = never.wait_for(box.platform(), guard, timeout, [](bool& f) { return f; });
    }
    const auto waited = box.now().checked_duration_since(start);
    std::printf("  waited %.1f ms for a %.1f ms timeout\n", waited ? milliseconds(*waited) : -1.0, milliseconds(timeout));
    check(!satisfied, "the wait reported a timeout (false)");
    check(waited && *waited >= timeout, "it did not return before the timeout");
    check(waited && *waited < timeout + std::chrono::seconds(5), "it returned within 5 s of the timeout");
}

/// The monotonic and wall clocks.
void clocks(litebox::LiteBox<Platform>& box) {
    std::puts("Clocks");
    const auto first = box.now();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const auto second = box.now();
    const auto elapsed = second.checked_duration_since(first);
    std::printf("  monotonic: %.3f ms passed across a 2 ms sleep\n", elapsed ? milliseconds(*elapsed) : -1.0);
    check(first <= second && elapsed && *elapsed >= std::chrono::milliseconds(2), "now() is monotonic and advances");

    const auto wall = box.platform().current_time().duration_since(lp::UnixTime::unix_epoch());
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(wall.value()).count();
    std::printf("  wall clock: %lld s since the UNIX epoch\n", static_cast<long long>(seconds));
    check(wall.has_value() && seconds > 1'577'836'800, "current_time() is after 2020-01-01");
}

/// Every punchthrough is denied, and the denial is logged by the platform.
void punchthrough(litebox::LiteBox<Platform>& box) {
    std::puts("Punchthrough: ask the host for a file and an environment variable");
    auto file = lp::request_punchthrough(box.platform(), minimal::ReadHostFile{"/etc/passwd"});
    check(!file.has_value(), "read-host-file(/etc/passwd) was denied (no token)");
    auto env = lp::request_punchthrough(box.platform(), minimal::GetHostEnvironment{"HOME"});
    check(!env.has_value(), "get-host-environment(HOME) was denied (no token)");
}

/// There is no network: a send fails cleanly, a receive would block.
void network(litebox::LiteBox<Platform>& box) {
    std::puts("Network: send and receive one IP packet");
    const std::vector<std::byte> packet(20, std::byte{0x45});
    const auto sent = box.platform().send_ip_packet(packet);
    std::printf("  send: %s\n", sent.has_value() ? "accepted" : std::string(litebox::errno_name(sent.error())).c_str());
    check(!sent.has_value() && sent.error() == litebox::Errno::netunreach, "send failed with ENETUNREACH");
    std::vector<std::byte> buffer(1500);
    const auto received = box.platform().receive_ip_packet(buffer);
    check(!received.has_value() && received.error() == litebox::Errno::again, "receive would block (EAGAIN)");
}

/// The box's own file system: create a file in its tmpfs, write it, read it back, stat it.
void file_system(litebox::LiteBox<Platform>& box) {
    namespace of = litebox::fd::open_flags;
    std::puts("File system: write /tmp/hello.txt inside the box and read it back");
    auto& fs = box.fs();
    const auto creds = litebox::fs::Credentials::root();
    const std::string_view text = "written and read inside the box\n";
    auto file = fs.open(creds, fs.root(), "/tmp/hello.txt", of::create | of::exclusive | of::read_write, 0644);
    check(file.has_value(), "open(O_CREAT|O_EXCL) created the file");
    if (!file) return;
    const auto wrote = (*file)->write(std::as_bytes(std::span(text.data(), text.size())));
    check(wrote.has_value() && *wrote == text.size(), "write stored every byte");
    std::array<std::byte, 64> buffer{};
    const auto read = (*file)->pread(buffer, 0);
    const std::string back(reinterpret_cast<const char*>(buffer.data()), read.has_value() ? *read : 0);
    std::printf("  read back: %s", back.c_str());
    check(back == text, "pread returned the same bytes");
    const auto st = fs.stat(creds, fs.root(), "/tmp/hello.txt");
    check(st.has_value() && st->size == static_cast<std::int64_t>(text.size()), "stat reports the size");
    const auto again = fs.open(creds, fs.root(), "/tmp/hello.txt", of::create | of::exclusive | of::read_write, 0644);
    check(!again.has_value() && again.error() == litebox::Errno::exist, "a second O_EXCL create fails with EEXIST");
}

}  // namespace

int main() {
    Platform platform;                 // must outlive the box (LiteBox keeps a reference)
    litebox::LiteBox box(platform);    // the only door to the north API
    std::puts("litebox-minimal-platform: SecureMinimalPlatform bound to a LiteBox");
    box.log("hello from inside the box: this line went through DebugLogProvider ({})", "stderr");

    mutex_condvar_handoff(box);
    timed_wait(box);
    clocks(box);
    punchthrough(box);
    network(box);
    file_system(box);

    if (g_failures == 0) {
        std::puts("all checks held");
        return 0;
    }
    std::printf("%d check(s) FAILED\n", g_failures);
    return 1;
}
