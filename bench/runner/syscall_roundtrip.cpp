// Served-syscall round trip: the static probe calls getppid in a loop natively and under the
// seccomp supervisor in several configurations (SYNC_WAKE_UP on/off, CPU pinning, inline vs
// waiter threads). The probe measures itself (vDSO clock, kept for this benchmark) and reports
// the median of its repetitions; each configuration runs `runs` times and the median is shown,
// with the fastest repetition seen ("best": the least disturbed by other load) and the CPU time
// the supervisor thread and the guest spent per call ("cpu/call": what a round trip costs when
// nobody else wants the CPUs; on a loaded machine the wall-clock numbers include waiting).
//
// usage: litebox_runner_bench PROBE [calls per repetition] [repetitions] [runs]
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <litebox/platform/linux/seccomp_launch.hpp>
#include <litebox/platform/linux/seccomp_supervisor.hpp>

namespace {

namespace sc = litebox::platform::linux_platform::seccomp;

/// Serves getppid (a constant), write (captured) and exit_group; ENOSYS for the rest.
class BenchHandler {
public:
    std::int64_t handle(sc::GuestThread& thread, int nr, const sc::SyscallArgs& args) {
        switch (nr) {
            case SYS_getppid: return 1;
            case SYS_write: {
                const std::size_t size = std::min<std::uint64_t>(args[2], 4096);
                auto bytes = litebox::platform::linux_platform::RemoteConstPtr<char>(args[1]).to_owned_slice(size);
                if (!bytes.has_value()) return -litebox::errno_number(bytes.error());
                out.append(bytes->begin(), bytes->end());
                return static_cast<std::int64_t>(size);
            }
            case SYS_exit_group:
                guest_cpu_ns = process_cpu_ns(thread.pid());
                thread.exit_process(static_cast<int>(args[0] & 0xff));
                return 0;
            default: return -litebox::errno_number(litebox::Errno::nosys);
        }
    }
    std::string out;
    double guest_cpu_ns = 0;

private:
    /// se.sum_exec_runtime of the guest's main thread (ms with ns precision in /proc/PID/sched).
    static double process_cpu_ns(int pid) {
        std::ifstream sched("/proc/" + std::to_string(pid) + "/sched");
        std::string line;
        while (std::getline(sched, line)) {
            if (line.rfind("se.sum_exec_runtime", 0) != 0) continue;
            const auto colon = line.find(':');
            if (colon != std::string::npos) return std::strtod(line.c_str() + colon + 1, nullptr) * 1e6;
        }
        return 0;
    }
};

double thread_cpu_ns() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

/// The probe's median and fastest repetition (ns per call).
struct Sample {
    long median;
    long best;
    double cpu = 0;  // supervisor + guest CPU time per served call, ns (0: not measured)
};

std::optional<Sample> parse_sample(const std::string& text) {
    const auto m = text.find("getppid_ns_median=");
    const auto b = text.find("getppid_ns_min=");
    if (m == std::string::npos || b == std::string::npos) return std::nullopt;
    return Sample{std::strtol(text.c_str() + m + 18, nullptr, 10), std::strtol(text.c_str() + b + 15, nullptr, 10)};
}

std::optional<Sample> run_native(const char* probe, const std::vector<std::string>& argv) {
    int fds[2];
    if (::pipe(fds) != 0) return std::nullopt;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(fds[1], 1);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(probe, args.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    std::string text;
    char buffer[512];
    ssize_t n;
    while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return parse_sample(text);
}

struct Config {
    const char* name;
    bool sync_wakeup;
    int supervisor_cpu;
    int guest_cpu;
    bool on_waiters;
};

std::optional<Sample> run_served(const sc::GuestImage& image, const std::vector<std::string>& argv, const Config& config,
                                 double total_calls) {
    sc::LaunchOptions launch;
    launch.hide_vdso = false;  // the probe times itself with the vDSO clock
    launch.sync_wakeup = config.sync_wakeup;
    launch.guest_cpu = config.guest_cpu;
    sc::LaunchFailure failure;
    auto guest = sc::launch_guest(image, argv, {}, launch, &failure);
    if (!guest.has_value()) {
        std::fprintf(stderr, "launch failed: %s\n", failure.message.c_str());
        return std::nullopt;
    }
    if (config.sync_wakeup && !guest->sync_wakeup) std::fprintf(stderr, "note: SYNC_WAKE_UP unavailable\n");
    BenchHandler handler;
    sc::SupervisorOptions options;
    options.supervisor_cpu = config.supervisor_cpu;
    options.all_calls_on_waiters = config.on_waiters;
    sc::Supervisor<BenchHandler> supervisor(handler, options);
    const double cpu_before = thread_cpu_ns();
    auto exit = supervisor.run(*guest);
    const double supervisor_cpu = thread_cpu_ns() - cpu_before;
    if (!exit.has_value() || exit->shell_status() != 0) return std::nullopt;
    auto sample = parse_sample(handler.out);
    // With every call on waiters the notification thread's CPU is only part of the story.
    if (sample && !config.on_waiters) sample->cpu = (supervisor_cpu + handler.guest_cpu_ns) / total_calls;
    return sample;
}

/// Median of the runs' medians, and the best repetition seen in any run (least disturbed by
/// other load on the machine).
Sample summarize(std::vector<Sample> samples) {
    std::sort(samples.begin(), samples.end(), [](const Sample& a, const Sample& b) { return a.median < b.median; });
    long best = samples.front().best;
    for (const auto& s : samples) best = std::min(best, s.best);
    return Sample{samples[samples.size() / 2].median, best, samples[samples.size() / 2].cpu};
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s PROBE [calls] [repetitions] [runs]\n", argv[0]);
        return 2;
    }
    const char* probe = argv[1];
    const std::string calls = argc > 2 ? argv[2] : "20000";
    const std::string repetitions = argc > 3 ? argv[3] : "11";
    const int runs = argc > 4 ? std::atoi(argv[4]) : 5;
    const std::vector<std::string> probe_argv{"probe", "getppid", calls, repetitions};

    std::ifstream in(probe, std::ios::binary);
    std::vector<std::byte> bytes;
    char chunk[1 << 16];
    while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
        const auto* first = reinterpret_cast<const std::byte*>(chunk);
        bytes.insert(bytes.end(), first, first + in.gcount());
    }
    auto image = sc::GuestImage::from_bytes(bytes);
    if (!image.has_value()) {
        std::fprintf(stderr, "cannot load %s\n", probe);
        return 1;
    }
    const long ncpu = ::sysconf(_SC_NPROCESSORS_ONLN);
    std::vector<Config> configs = {
        {"served, SYNC_WAKE_UP, unpinned", true, -1, -1, false},
        {"served, no SYNC_WAKE_UP, unpinned", false, -1, -1, false},
        {"served, SYNC_WAKE_UP, both on CPU 0", true, 0, 0, false},
        {"served, no SYNC_WAKE_UP, both on CPU 0", false, 0, 0, false},
        {"served, every call on a waiter thread", true, -1, -1, true},
        {"served, every call on a waiter, all on CPU 0", true, 0, 0, true},
    };
    if (ncpu > 1) {
        configs.push_back({"served, SYNC_WAKE_UP, CPU 0 / guest CPU 1", true, 0, 1, false});
        configs.push_back({"served, no SYNC_WAKE_UP, CPU 0 / guest CPU 1", false, 0, 1, false});
    }

    std::printf("getppid round trip, median of %d runs (each the median of %s x %s calls)\n", runs, repetitions.c_str(),
                calls.c_str());
    std::vector<Sample> native_samples;
    for (int r = 0; r < runs; ++r)
        if (auto v = run_native(probe, probe_argv)) native_samples.push_back(*v);
    if (native_samples.empty()) {
        std::fprintf(stderr, "native run failed\n");
        return 1;
    }
    const Sample native = summarize(native_samples);
    const double total_calls = std::atof(calls.c_str()) * std::atof(repetitions.c_str());
    std::printf("  %-48s %9s %9s %12s\n", "configuration", "median", "best", "cpu/call");
    std::printf("  %-48s %6ld ns %6ld ns\n", "native", native.median, native.best);
    int status = 0;
    for (const auto& config : configs) {
        std::vector<Sample> samples;
        for (int r = 0; r < runs; ++r)
            if (auto v = run_served(*image, probe_argv, config, total_calls)) samples.push_back(*v);
        if (samples.empty()) {
            std::printf("  %-48s   failed\n", config.name);
            status = 1;
            continue;
        }
        const Sample m = summarize(samples);
        if (m.cpu > 0)
            std::printf("  %-48s %6ld ns %6ld ns %9.0f ns\n", config.name, m.median, m.best, m.cpu);
        else
            std::printf("  %-48s %6ld ns %6ld ns %12s\n", config.name, m.median, m.best, "-");
    }
    return status;
}
