// litebox-run: runs an unmodified static x86-64 Linux program out of process. The guest runs under
// a seccomp filter; every system call it may not make natively is trapped and served here, by the
// handler below, from a LiteBox (see DESIGN.md for the mechanism and what is still to come).
//
// Exit status: the guest's (128 + N if signal N killed it); 125 for a runner error (bad option,
// launch failure), 126 for a program that cannot be executed (not an x86-64 ELF), 127 for a
// missing program.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <litebox/platform/linux/remote_memory.hpp>
#include <litebox/platform/linux/seccomp_launch.hpp>
#include <litebox/platform/linux/seccomp_supervisor.hpp>

namespace {

namespace lp = litebox::platform::linux_platform;
namespace sc = litebox::platform::linux_platform::seccomp;
using litebox::Errno;

constexpr int exit_runner_error = 125;
constexpr int exit_cannot_execute = 126;
constexpr int exit_not_found = 127;

struct Options {
    bool trace = false;
    bool keep_vdso = false;
    bool sync_wakeup = true;
    int supervisor_cpu = -1;
    int guest_cpu = -1;
    std::vector<std::string> env{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/root"};
    std::vector<std::string> command;
};

void usage(std::FILE* out) {
    std::fputs(
        "usage: litebox-run [options] -- PROGRAM [ARGS...]\n"
        "Runs a static x86-64 Linux program with every system call served by a LiteBox.\n"
        "  --env K=V            add to the guest's environment\n"
        "  --trace              print one line per served system call\n"
        "  --keep-vdso          keep the host's vDSO (faster clocks, host time)\n"
        "  --no-sync-wakeup     don't ask the kernel for same-CPU wake-ups\n"
        "  --supervisor-cpu N   pin the supervisor's notification thread to CPU N\n"
        "  --guest-cpu N        pin the guest to CPU N\n"
        "  --help               show this text\n",
        out);
}

std::optional<int> parse_cpu(std::string_view text) {
    int value = 0;
    if (text.empty() || text.size() > 4) return std::nullopt;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + (c - '0');
    }
    return value;
}

/// Parses the command line; on error returns nullopt with `error` set (empty error: --help).
std::optional<Options> parse(int argc, char** argv, std::string& error) {
    Options options;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const auto value = [&]() -> std::optional<std::string_view> {
            if (i + 1 >= argc) return std::nullopt;
            return std::string_view(argv[++i]);
        };
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg == "--help" || arg == "-h") {
            error.clear();
            return std::nullopt;
        } else if (arg == "--trace") {
            options.trace = true;
        } else if (arg == "--keep-vdso") {
            options.keep_vdso = true;
        } else if (arg == "--no-sync-wakeup") {
            options.sync_wakeup = false;
        } else if (arg == "--env") {
            const auto v = value();
            if (!v || v->find('=') == std::string_view::npos) {
                error = "--env needs K=V";
                return std::nullopt;
            }
            options.env.emplace_back(*v);
        } else if (arg == "--supervisor-cpu" || arg == "--guest-cpu") {
            const auto v = value();
            const auto cpu = v ? parse_cpu(*v) : std::nullopt;
            if (!cpu) {
                error = std::string(arg) + " needs a CPU number";
                return std::nullopt;
            }
            (arg == "--guest-cpu" ? options.guest_cpu : options.supervisor_cpu) = *cpu;
        } else if (!arg.empty() && arg[0] == '-') {
            error = "unknown option '" + std::string(arg) + "'";
            return std::nullopt;
        } else {
            break;  // the program, without "--"
        }
    }
    for (; i < argc; ++i) options.command.emplace_back(argv[i]);
    if (options.command.empty()) {
        error = "no program given";
        return std::nullopt;
    }
    return options;
}

/// The system call handler. The Linux shim plugs in here with one call per trapped syscall:
///     return m_shim.handle(thread, nr, args);
/// Until it lands this stand-in serves only what a "hello world" needs -- write to the standard
/// streams (through the platform's StdioProvider, never a host descriptor the guest names) and
/// exit_group -- and answers ENOSYS to everything else, which --trace shows.
class Handler {
public:
    explicit Handler(bool trace) : m_trace(trace) {}

    std::int64_t handle(sc::GuestThread& thread, int nr, const sc::SyscallArgs& args) {
        const std::int64_t result = serve(thread, nr, args);
        if (m_trace) {
            std::fprintf(stderr, "[%d] syscall %d (0x%llx, 0x%llx, 0x%llx, ...) = %lld\n", thread.tid(), nr,
                         static_cast<unsigned long long>(args[0]), static_cast<unsigned long long>(args[1]),
                         static_cast<unsigned long long>(args[2]), static_cast<long long>(result));
        }
        return result;
    }

private:
    std::int64_t serve(sc::GuestThread& thread, int nr, const sc::SyscallArgs& args) {
        constexpr std::size_t max_chunk = 1 << 16;
        switch (nr) {
            case SYS_write: {
                if (args[0] != 1 && args[0] != 2) return -litebox::errno_number(Errno::badf);
                const std::size_t size = args[2] < max_chunk ? static_cast<std::size_t>(args[2]) : max_chunk;
                auto bytes = lp::RemoteConstPtr<std::byte>(args[1]).to_owned_slice(size);
                if (!bytes.has_value()) return -litebox::errno_number(bytes.error());
                const auto stream = args[0] == 1 ? litebox::platform::StdioStream::out : litebox::platform::StdioStream::err;
                auto written = m_platform.stdio_write(stream, *bytes);
                if (!written.has_value()) return -litebox::errno_number(written.error());
                return static_cast<std::int64_t>(*written);
            }
            case SYS_exit_group:
                thread.exit_process(static_cast<int>(args[0] & 0xff));
                return 0;
            default:
                return -litebox::errno_number(Errno::nosys);
        }
    }

    bool m_trace;
    litebox::platform::RemoteGuestPlatform m_platform;
};

/// The program file, mapped read-only (no copy until GuestImage puts it in a memfd).
class MappedProgram {
public:
    MappedProgram() = default;
    MappedProgram(const MappedProgram&) = delete;
    MappedProgram& operator=(const MappedProgram&) = delete;
    ~MappedProgram() {
        if (m_data != nullptr) ::munmap(m_data, m_size);
    }
    bool map(int fd, std::size_t size) {
        if (size == 0) return true;
        void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) return false;
        m_data = p;
        m_size = size;
        return true;
    }
    [[nodiscard]] std::span<const std::byte> bytes() const {
        return {static_cast<const std::byte*>(m_data), m_size};
    }

private:
    void* m_data = nullptr;
    std::size_t m_size = 0;
};

/// Reads the program the operator named. (With the box file system this becomes a lookup in the
/// box; today the path is the operator's, on the host.)
bool read_program(const std::string& path, MappedProgram& program, int& exit_code) {
    const auto complain = [&](const char* what, int code) {
        std::fprintf(stderr, "litebox-run: %s: %s\n", path.c_str(), what);
        exit_code = code;
        return false;
    };
    lp::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        const int e = errno;
        return complain(std::strerror(e), e == ENOENT || e == ENOTDIR ? exit_not_found : exit_cannot_execute);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return complain(std::strerror(errno), exit_cannot_execute);
    if (S_ISDIR(st.st_mode)) return complain("is a directory", exit_cannot_execute);
    if (!S_ISREG(st.st_mode)) return complain("not a regular file", exit_cannot_execute);
    if (!program.map(fd.get(), static_cast<std::size_t>(st.st_size))) return complain("cannot read the program", exit_cannot_execute);
    const auto check = sc::check_elf(program.bytes());
    if (check != sc::ElfCheck::ok) {
        const std::string what(sc::describe(check));
        return complain(what.c_str(), exit_cannot_execute);
    }
    return true;
}

int run(int argc, char** argv) {
    std::string error;
    const auto options = parse(argc, argv, error);
    if (!options) {
        if (error.empty()) {
            usage(stdout);
            return 0;
        }
        std::fprintf(stderr, "litebox-run: %s\n", error.c_str());
        usage(stderr);
        return exit_runner_error;
    }
    int exit_code = 0;
    auto image = [&]() -> std::optional<litebox::Result<sc::GuestImage>> {
        MappedProgram program;
        if (!read_program(options->command[0], program, exit_code)) return std::nullopt;
        return sc::GuestImage::from_bytes(program.bytes());  // the mapping is gone before the fork
    }();
    if (!image) return exit_code;
    if (!image->has_value()) {
        std::fprintf(stderr, "litebox-run: cannot stage the program: %s\n", litebox::errno_message(image->error()).data());
        return exit_runner_error;
    }
    ::signal(SIGPIPE, SIG_IGN);  // a closed stdout is an EPIPE for the guest, not our death

    sc::LaunchOptions launch;
    launch.hide_vdso = !options->keep_vdso;
    launch.sync_wakeup = options->sync_wakeup;
    launch.guest_cpu = options->guest_cpu;
    sc::LaunchFailure failure;
    auto guest = sc::launch_guest(**image, options->command, options->env, launch, &failure);
    if (!guest.has_value()) {
        std::fprintf(stderr, "litebox-run: %s: %s\n", options->command[0].c_str(), failure.message.c_str());
        return failure.error == Errno::noexec ? exit_cannot_execute : exit_runner_error;
    }
    Handler handler(options->trace);
    sc::SupervisorOptions supervise;
    supervise.supervisor_cpu = options->supervisor_cpu;
    sc::Supervisor<Handler> supervisor(handler, supervise);
    auto exit = supervisor.run(*guest);
    if (!exit.has_value()) {
        std::fprintf(stderr, "litebox-run: serving the guest failed: %s\n", litebox::errno_message(exit.error()).data());
        return exit_runner_error;
    }
    if (const auto exec_error = guest->exec_error()) {
        std::fprintf(stderr, "litebox-run: %s: cannot execute: %s\n", options->command[0].c_str(),
                     litebox::errno_message(*exec_error).data());
        return exit_cannot_execute;
    }
    return exit->shell_status();
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "litebox-run: internal error: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "litebox-run: internal error\n");
    }
    return exit_runner_error;
}
