// Starting a guest process under the seccomp filter: the program image (a sealed memfd), the ELF
// sanity check, and launch_guest(), which forks a trampoline that confines itself and then execs
// the image. See launch_guest() for the exact protocol and why its single CONTINUE is safe.
#pragma once

#include <fcntl.h>
#include <linux/futex.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../../error.hpp"
#include "seccomp_filter.hpp"
#include "seccomp_notify.hpp"

namespace litebox::platform::linux_platform::seccomp {

// ---- the program image ------------------------------------------------------------------------

/// What is wrong with a file that should be an x86-64 Linux executable.
enum class ElfCheck { ok, empty, script, not_elf, not_64bit, not_little_endian, not_x86_64, not_executable, truncated, dynamic };

inline std::string_view describe(ElfCheck check) noexcept {
    switch (check) {
        case ElfCheck::ok: return "an x86-64 ELF executable";
        case ElfCheck::empty: return "an empty file, not an executable";
        case ElfCheck::script: return "a '#!' script (scripts are not supported yet; run its interpreter instead)";
        case ElfCheck::not_elf: return "not an ELF executable";
        case ElfCheck::not_64bit: return "a 32-bit ELF file (only x86-64 programs are supported)";
        case ElfCheck::not_little_endian: return "a big-endian ELF file (only x86-64 programs are supported)";
        case ElfCheck::not_x86_64: return "an ELF file for another architecture (only x86-64 programs are supported)";
        case ElfCheck::not_executable: return "an ELF file that is not an executable (object file or core dump?)";
        case ElfCheck::truncated: return "a truncated ELF file";
        case ElfCheck::dynamic:
            return "a dynamically linked program (its ELF interpreter would be opened by host path; only static programs "
                   "are supported yet)";
    }
    return "an unknown file";
}

/// Checks that a candidate program is something the kernel will run *without opening any other
/// file*: an x86-64 ELF executable with no PT_INTERP (a dynamic program would make the kernel open
/// its interpreter by host path; a `#!` script its interpreter; other formats may go to a host
/// binfmt_misc handler). No deeper validation: the kernel does that.
namespace detail {
/// Little-endian fields of an ELF file; callers check the offsets against the size first.
struct ElfFields {
    std::span<const std::byte> bytes;
    [[nodiscard]] std::uint64_t u8(std::size_t i) const noexcept { return std::to_integer<std::uint64_t>(bytes[i]); }
    [[nodiscard]] std::uint64_t u16(std::size_t i) const noexcept { return u8(i) | (u8(i + 1) << 8); }
    [[nodiscard]] std::uint64_t u32(std::size_t i) const noexcept { return u16(i) | (u16(i + 2) << 16); }
    [[nodiscard]] std::uint64_t u64(std::size_t i) const noexcept { return u32(i) | (u32(i + 4) << 32); }
};
}  // namespace detail

inline ElfCheck check_elf(std::span<const std::byte> bytes) noexcept {
    const detail::ElfFields elf{bytes};
    const auto at = [&](std::size_t i) { return elf.u8(i); };
    if (bytes.empty()) return ElfCheck::empty;
    if (bytes.size() >= 2 && at(0) == '#' && at(1) == '!') return ElfCheck::script;
    if (bytes.size() < 4 || at(0) != 0x7f || at(1) != 'E' || at(2) != 'L' || at(3) != 'F') return ElfCheck::not_elf;
    if (bytes.size() < 64) return ElfCheck::truncated;  // sizeof(Elf64_Ehdr)
    if (at(4) != 2 /*ELFCLASS64*/) return ElfCheck::not_64bit;
    if (at(5) != 1 /*ELFDATA2LSB*/) return ElfCheck::not_little_endian;
    const std::uint64_t type = elf.u16(16), machine = elf.u16(18);
    if (machine != 62 /*EM_X86_64*/) return ElfCheck::not_x86_64;
    if (type != 2 /*ET_EXEC*/ && type != 3 /*ET_DYN*/) return ElfCheck::not_executable;
    // Program headers, read exactly as the kernel will (it refuses any other entry size).
    const std::uint64_t phoff = elf.u64(32), phentsize = elf.u16(54), phnum = elf.u16(56);
    if (phentsize != 56 || phnum == 0) return ElfCheck::ok;  // the kernel rejects it: nothing is opened
    if (phoff > bytes.size() || phnum * phentsize > bytes.size() - phoff) return ElfCheck::truncated;
    for (std::uint64_t i = 0; i < phnum; ++i)
        if (elf.u32(static_cast<std::size_t>(phoff + i * phentsize)) == 3 /*PT_INTERP*/) return ElfCheck::dynamic;
    return ElfCheck::ok;
}

/// The PT_INTERP path of an ELF file that check_elf() called `dynamic` (ENOEXEC if it is malformed).
inline Result<std::string> elf_interpreter(std::span<const std::byte> bytes) {
    if (check_elf(bytes) != ElfCheck::dynamic) return Errno::noexec;  // also bounds-checks the headers
    const detail::ElfFields elf{bytes};
    const std::uint64_t phoff = elf.u64(32), phnum = elf.u16(56);
    for (std::uint64_t i = 0; i < phnum; ++i) {
        const auto header = static_cast<std::size_t>(phoff + i * 56);
        if (elf.u32(header) != 3 /*PT_INTERP*/) continue;
        const std::uint64_t offset = elf.u64(header + 8), size = elf.u64(header + 32);
        if (size == 0 || size > 4096 || offset > bytes.size() || size > bytes.size() - offset) return Errno::noexec;
        std::string path(reinterpret_cast<const char*>(bytes.data() + offset), static_cast<std::size_t>(size));
        if (const auto nul = path.find('\0'); nul != std::string::npos) path.resize(nul);
        if (path.empty()) return Errno::noexec;
        return path;
    }
    return Errno::noexec;
}

namespace detail {
/// check_elf() of the whole of the (sealed) file `fd`, through a read-only mapping (harmless if a
/// fork inherits it).
inline Result<ElfCheck> check_image_fd(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return last_errno();
    if (st.st_size <= 0) return ElfCheck::empty;
    const auto size = static_cast<std::size_t>(st.st_size);
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) return last_errno();
    const ElfCheck check = check_elf(std::span<const std::byte>(static_cast<const std::byte*>(map), size));
    ::munmap(map, size);
    return check;
}

/// An empty memfd for a program image: close-on-exec, sealable, executable.
inline Result<UniqueFd> new_image_memfd(const char* name) {
    constexpr unsigned mfd_exec = 0x0010U;  // MFD_EXEC (Linux 6.3): executable even if the sysctl says noexec
    int fd = ::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | mfd_exec);
    if (fd < 0 && errno == EINVAL) fd = ::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return last_errno();
    return UniqueFd(fd);
}
}  // namespace detail

/// A program ready to be executed: a sealed, close-on-exec memfd the supervisor filled. The guest
/// never names a host path; the kernel executes these bytes.
class GuestImage {
public:
    /// Copies `bytes` into a new memfd and seals it (no writes, no resizing). The bytes go to the
    /// kernel straight from `bytes` (no intermediate buffer): `bytes` must not change meanwhile.
    static Result<GuestImage> from_bytes(std::span<const std::byte> bytes, const char* name = "litebox-guest") {
        LITEBOX_TRY_ASSIGN(GuestImage image, reserve(name));
        LITEBOX_TRY(image.fill(bytes));
        LITEBOX_TRY(image.seal());
        return image;
    }

    /// A memfd with at most `size` bytes that `read_at(std::span<std::byte> out, std::uint64_t
    /// offset) -> Result<std::size_t>` supplies (0: the end), sealed. The bytes pass through one
    /// bounded buffer. (Not a writable shared mapping of the memfd: a fork by another thread of the
    /// supervisor -- a guest launch -- would inherit it and make the seal fail with EBUSY.)
    template <typename ReadAt>
    static Result<GuestImage> from_reader(std::uint64_t size, ReadAt&& read_at, const char* name = "litebox-guest") {
        LITEBOX_TRY_ASSIGN(GuestImage image, reserve(name));
        LITEBOX_TRY(image.fill_from_reader(size, std::forward<ReadAt>(read_at)));
        LITEBOX_TRY(image.seal());
        return image;
    }

    /// An empty memfd, not yet sealed (check() is ElfCheck::empty): fill() it, then seal(). This
    /// lets a launch fork its trampoline while the bytes are still being written
    /// (LaunchOptions::image_ready); nothing executes the image before it is sealed and checked.
    static Result<GuestImage> reserve(const char* name = "litebox-guest") {
        LITEBOX_TRY_ASSIGN(UniqueFd owned, detail::new_image_memfd(name));
        return GuestImage(std::move(owned), ElfCheck::empty);
    }
    /// Appends `bytes` (an unsealed image only), straight from `bytes`.
    Result<void> fill(std::span<const std::byte> bytes) {
        for (std::size_t done = 0; done < bytes.size();) {
            const ssize_t w = ::write(m_fd.get(), bytes.data() + done, bytes.size() - done);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) return w < 0 ? detail::last_errno() : Errno::io;
            done += static_cast<std::size_t>(w);
        }
        return ok();
    }
    /// Appends at most `size` bytes from `read_at` (see from_reader) through one bounded buffer.
    template <typename ReadAt>
    Result<void> fill_from_reader(std::uint64_t size, ReadAt&& read_at) {
        constexpr std::uint64_t chunk = 256 * 1024;
        std::unique_ptr<std::byte[]> buffer;
        if (size > 0) buffer.reset(new std::byte[static_cast<std::size_t>(std::min(size, chunk))]);
        for (std::uint64_t done = 0; done < size;) {
            const std::span<std::byte> room(buffer.get(), static_cast<std::size_t>(std::min(chunk, size - done)));
            Result<std::size_t> got = read_at(room, done);
            if (!got.has_value()) return got.error();
            if (*got == 0) break;
            const std::size_t n = std::min(*got, room.size());
            LITEBOX_TRY(fill(room.first(n)));
            done += n;
        }
        return ok();
    }
    /// Seals the memfd (no writes, no resizing, no further seals) and checks the sealed bytes
    /// (check()). Call once, from the thread that filled it.
    Result<void> seal() {
        const int fd = m_fd.get();
        if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) return detail::last_errno();
        LITEBOX_TRY_ASSIGN(m_check, detail::check_image_fd(fd));
        return ok();
    }

    /// Another descriptor of the same memfd (close-on-exec), for a second launch or mapping of a
    /// cached image. It carries the check() of this object at the time of the call.
    [[nodiscard]] Result<GuestImage> duplicate() const {
        const int fd = ::fcntl(m_fd.get(), F_DUPFD_CLOEXEC, 0);
        if (fd < 0) return detail::last_errno();
        return GuestImage(UniqueFd(fd), m_check);
    }

    [[nodiscard]] int fd() const noexcept { return m_fd.get(); }
    /// check_elf() of the sealed bytes (ElfCheck::empty before seal()); launch_guest() runs only
    /// images that are ElfCheck::ok.
    [[nodiscard]] ElfCheck check() const noexcept { return m_check; }

private:
    GuestImage(UniqueFd fd, ElfCheck check) noexcept : m_fd(std::move(fd)), m_check(check) {}

    UniqueFd m_fd;
    ElfCheck m_check;
};

// ---- launching --------------------------------------------------------------------------------

/// A resource limit the host kernel enforces on the guest's own address space or CPU time
/// (RLIMIT_AS, DATA, STACK, CPU), applied to a new image: never above the supervisor's own hard
/// limit (a limit the supervisor could not raise for itself stays where it is).
struct HostLimit {
    int resource = 0;
    std::uint64_t soft = RLIM_INFINITY;
    std::uint64_t hard = RLIM_INFINITY;
};

struct LaunchOptions {
    FilterOptions filter{};
    /// Hide the host's vDSO: the new image's AT_SYSINFO_EHDR auxv entry is rewritten to AT_IGNORE
    /// at the exec stop (ptrace, during launch only), so the C library makes real clock_gettime /
    /// gettimeofday / time / getcpu calls, which the box serves from its TimeProvider. Costs one
    /// served call per clock read (~5 us instead of ~20 ns). The [vdso] pages stay mapped but
    /// unannounced. If ptrace is unavailable the launch fails rather than silently keep the vDSO.
    bool hide_vdso = true;
    /// SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux >= 6.6); silently off on older kernels.
    bool sync_wakeup = true;
    /// Pin the guest to this CPU (-1: no pinning).
    int guest_cpu = -1;
    /// Stay the guest's ptrace tracer after the exec (instead of detaching), with these
    /// PTRACE_O_* options (EXITKILL is always added). The calling thread is then the tracer: it
    /// must be the one that waits for the guest's ptrace stops (seccomp_tracer.hpp).
    bool stay_traced = false;
    unsigned long trace_options = 0;
    /// How long the trampoline may take to confine itself and reach its exec.
    std::chrono::milliseconds startup_timeout{10'000};
    /// The signal state the image starts with (bit N-1 for signal N), as execve keeps it: these
    /// signals blocked, and these ignored (every other disposition is the default). SIGKILL and
    /// SIGSTOP are never blocked or ignored.
    std::uint64_t blocked_signals = 0;
    std::uint64_t ignored_signals = 0;
    /// Resource limits the image starts with (the box process's, as execve keeps them).
    std::vector<HostLimit> limits;
    /// The box's id of the image's thread (its box pid), for a tracer that rewrites
    /// set_tid_address results (FilterOptions::traced_clone); 0 leaves the host's id.
    std::int64_t box_tid = 0;
    /// For an image still being written (GuestImage::reserve): called on the launching thread
    /// once the trampoline is confined and waits in its exec, before that exec may go ahead; it
    /// returns when the image is written and sealed (or why it is not). The launch then checks
    /// the memfd itself -- sealed against writes and resizing, ElfCheck::ok -- instead of the
    /// check before the fork.
    std::function<Result<void>()> image_ready;
};

/// Why a launch failed, for an operator-facing message.
struct LaunchFailure {
    Errno error = Errno::io;
    std::string message;
};

namespace detail {
/// Sends `signal` to `thread` until `done` holds, sleeping 20 us after the first try and twice as
/// long after each further one, up to `max_wait_ns` (a thread woken this way usually ends within
/// tens of microseconds; a fixed millisecond sleep cost every run that much).
inline void wake_until(pthread_t thread, int signal, const std::atomic<bool>& done, long max_wait_ns) noexcept {
    for (long wait_ns = 20'000; !done.load(std::memory_order_acquire); wait_ns = std::min(2 * wait_ns, max_wait_ns)) {
        ::pthread_kill(thread, signal);
        struct timespec slice {0, wait_ns};
        ::nanosleep(&slice, nullptr);
    }
}

/// Shared between the supervisor and its trampoline child (one MAP_SHARED page).
struct Handshake {
    std::atomic<std::uint32_t> state;  // 0: working, 1: filter installed, 2: failed
    std::int32_t listener_fd;
    std::int32_t failed_step;
    std::int32_t failed_errno;
};
inline constexpr std::uint32_t handshake_working = 0, handshake_ready = 1, handshake_failed = 2;

enum TrampolineStep : std::int32_t {
    step_none,
    step_parent_gone,
    step_setsid,
    step_signals,
    step_rlimit,
    step_capabilities,
    step_affinity,
    step_close_fds,
    step_no_new_privs,
    step_seccomp,
    step_exec
};
inline const char* describe_step(std::int32_t step) noexcept {
    switch (step) {
        case step_parent_gone: return "the supervisor went away";
        case step_setsid: return "setsid";
        case step_signals: return "resetting signal dispositions";
        case step_rlimit: return "setting resource limits";
        case step_capabilities: return "dropping capabilities";
        case step_affinity: return "pinning to a CPU";
        case step_close_fds: return "closing inherited descriptors";
        case step_no_new_privs: return "PR_SET_NO_NEW_PRIVS";
        case step_seccomp: return "installing the seccomp filter";
        case step_exec: return "executing the program";
        default: return "starting";
    }
}

inline long raw_futex(std::atomic<std::uint32_t>* word, int op, std::uint32_t value, const struct timespec* timeout) noexcept {
    return ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op, value, timeout, nullptr, 0);
}

/// Everything the trampoline needs, prepared before fork so that the child allocates nothing.
struct TrampolinePlan {
    Handshake* handshake;
    pid_t supervisor_pid;
    int image_fd;
    const sock_fprog* filter;
    unsigned long filter_flags;
    char* const* argv;
    char* const* envp;
    int cpu;
    std::uint64_t blocked_signals;
    std::uint64_t ignored_signals;
    const HostLimit* limits;
    std::size_t limit_count;
};

[[noreturn]] inline void trampoline_fail(const TrampolinePlan& plan, TrampolineStep step, int error) noexcept {
    plan.handshake->failed_step = step;
    plan.handshake->failed_errno = error;
    plan.handshake->state.store(handshake_failed, std::memory_order_release);
    raw_futex(&plan.handshake->state, FUTEX_WAKE, 1, nullptr);  // shared mapping: not FUTEX_PRIVATE
    if (step < step_seccomp) {
        for (;;) ::syscall(SYS_exit, 127);
    }
    // Confined: exit would be a served call nobody may be serving yet. Die by a trap instead
    // (SIGILL, default disposition, no core dump); the failure is in the handshake page.
    __builtin_trap();
}

/// The child between fork and exec. Only raw system calls: the parent may have other threads.
[[noreturn]] inline void run_trampoline(const TrampolinePlan& plan) noexcept {
    // Die with the supervisor; then make sure it did not already die before that took effect.
    ::syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (::syscall(SYS_getppid) != plan.supervisor_pid) trampoline_fail(plan, step_parent_gone, 0);
    // Own session and process group: no controlling terminal, and the whole tree can be killed.
    if (::syscall(SYS_setsid) < 0) trampoline_fail(plan, step_setsid, errno);
    // Signals: default dispositions but the plan's ignored ones, the plan's mask (what the box
    // process had at its execve; the supervisor's own state, e.g. an ignored SIGPIPE, never leaks).
    // The trap that ends a failed trampoline is delivered even if SIGILL is blocked or ignored.
    constexpr std::uint64_t unblockable = (std::uint64_t{1} << (SIGKILL - 1)) | (std::uint64_t{1} << (SIGSTOP - 1));
    for (int sig = 1; sig < 65; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        struct { void* handler; unsigned long flags; void* restorer; std::uint64_t mask; } action{};
        const bool ignore = (plan.ignored_signals & (std::uint64_t{1} << (sig - 1))) != 0;
        action.handler = ignore ? reinterpret_cast<void*>(1) /*SIG_IGN*/ : nullptr /*SIG_DFL*/;
        (void)::syscall(SYS_rt_sigaction, sig, &action, nullptr, 8);
    }
    const std::uint64_t mask = plan.blocked_signals & ~unblockable;
    if (::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, nullptr, 8) != 0) trampoline_fail(plan, step_signals, errno);
    // No core dumps: the kernel would write a host file (or run a host helper). RLIMIT_CORE = 1
    // stops both a file dump (below one page) and a pipe dump (the kernel's recursion guard).
    struct rlimit core {1, 1};
    if (::syscall(SYS_prlimit64, 0, RLIMIT_CORE, &core, nullptr) != 0) trampoline_fail(plan, step_rlimit, errno);
    // The box process's limits, within ours (inherited from the supervisor).
    for (std::size_t i = 0; i < plan.limit_count; ++i) {
        struct rlimit current {};
        if (::syscall(SYS_prlimit64, 0, plan.limits[i].resource, nullptr, &current) != 0) trampoline_fail(plan, step_rlimit, errno);
        struct rlimit wanted {};
        wanted.rlim_max = std::min<rlim_t>(plan.limits[i].hard, current.rlim_max);
        wanted.rlim_cur = std::min<rlim_t>(plan.limits[i].soft, wanted.rlim_max);
        if (::syscall(SYS_prlimit64, 0, plan.limits[i].resource, &wanted, nullptr) != 0) trampoline_fail(plan, step_rlimit, errno);
    }
    // Capabilities: none, and root gets none back at exec (only matters if the runner is root).
    constexpr unsigned long secure_bits = 0x2f;  // NOROOT, NO_SETUID_FIXUP, KEEP_CAPS_LOCKED (+ locks)
    (void)::syscall(SYS_prctl, PR_SET_SECUREBITS, secure_bits, 0, 0, 0);
    (void)::syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    for (int cap = 0; cap < 64; ++cap) (void)::syscall(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0);
    struct { std::uint32_t version; int pid; } cap_header{0x20080522 /*_LINUX_CAPABILITY_VERSION_3*/, 0};
    struct { std::uint32_t effective, permitted, inheritable; } cap_data[2]{};
    if (::syscall(SYS_capset, &cap_header, cap_data) != 0) trampoline_fail(plan, step_capabilities, errno);
    if (plan.cpu >= 0) {
        std::uint64_t mask[16] = {};
        mask[plan.cpu / 64] = std::uint64_t{1} << (plan.cpu % 64);
        if (::syscall(SYS_sched_setaffinity, 0, sizeof mask, mask) != 0) trampoline_fail(plan, step_affinity, errno);
    }
    // No host descriptor survives except the image (close-on-exec, so it dies at the exec too).
    if (plan.image_fd > 0 && ::syscall(SYS_close_range, 0u, static_cast<unsigned>(plan.image_fd - 1), 0u) != 0)
        trampoline_fail(plan, step_close_fds, errno);
    if (::syscall(SYS_close_range, static_cast<unsigned>(plan.image_fd + 1), ~0u, 0u) != 0)
        trampoline_fail(plan, step_close_fds, errno);
    if (::syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) trampoline_fail(plan, step_no_new_privs, errno);
    long listener = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, plan.filter_flags, plan.filter);
    if (listener < 0 && errno == EINVAL && (plan.filter_flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) != 0)
        listener = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                             plan.filter_flags & ~static_cast<unsigned long>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV),
                             plan.filter);
    if (listener < 0) trampoline_fail(plan, step_seccomp, errno);
    // From here on every call but the native ones waits for the supervisor. The listener is
    // close-on-exec (the kernel creates it so). Publish its number; futex is native.
    plan.handshake->listener_fd = static_cast<std::int32_t>(listener);
    plan.handshake->state.store(handshake_ready, std::memory_order_release);
    raw_futex(&plan.handshake->state, FUTEX_WAKE, 1, nullptr);
    ::syscall(SYS_execveat, plan.image_fd, "", plan.argv, plan.envp, AT_EMPTY_PATH);
    trampoline_fail(plan, step_exec, errno);
}

/// Rewrites AT_SYSINFO_EHDR to AT_IGNORE in the auxiliary vector of a process stopped right after
/// exec (stack pointer `sp`), through its /proc/PID/mem.
inline Result<void> hide_vdso_entry(int mem_fd, std::uint64_t sp) noexcept {
    constexpr std::uint64_t at_null = 0, at_ignore = 1, at_sysinfo_ehdr = 33;
    constexpr int max_words = 1 << 16;  // argc + argv + envp + auxv of a sane exec
    // One pread usually holds argc, argv[], envp[] and auxv (a short read stops at the end of the
    // stack); words past it are read one by one.
    std::uint64_t head[512];
    const ssize_t got = ::pread(mem_fd, head, sizeof head, static_cast<off_t>(sp));
    const std::uint64_t cached = got > 0 ? static_cast<std::uint64_t>(got) / 8 : 0;
    std::uint64_t word = 0;
    const auto read_word = [&](std::uint64_t address) -> bool {
        if (address >= sp && (address - sp) % 8 == 0 && (address - sp) / 8 < cached) {
            word = head[(address - sp) / 8];
            return true;
        }
        return ::pread(mem_fd, &word, sizeof word, static_cast<off_t>(address)) == static_cast<ssize_t>(sizeof word);
    };
    std::uint64_t at = sp;
    if (!read_word(at)) return Errno::fault;
    at += 8 * (word + 2);  // skip argc, argv[], NULL
    int budget = max_words;
    while (read_word(at) && word != 0 && --budget > 0) at += 8;  // envp[]
    if (budget <= 0 || word != 0) return Errno::fault;
    at += 8;
    for (; budget > 0; --budget, at += 16) {
        if (!read_word(at)) return Errno::fault;
        if (word == at_null) return ok();
        if (word == at_sysinfo_ehdr) {
            if (::pwrite(mem_fd, &at_ignore, sizeof at_ignore, static_cast<off_t>(at)) != static_cast<ssize_t>(sizeof at_ignore))
                return Errno::fault;
        }
    }
    return Errno::fault;
}

class SharedPage {
public:
    SharedPage() noexcept {
        void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        m_page = p == MAP_FAILED ? nullptr : p;
    }
    SharedPage(const SharedPage&) = delete;
    SharedPage& operator=(const SharedPage&) = delete;
    ~SharedPage() {
        if (m_page != nullptr) ::munmap(m_page, 4096);
    }
    [[nodiscard]] Handshake* handshake() const noexcept { return static_cast<Handshake*>(m_page); }

private:
    void* m_page = nullptr;
};

/// Whether memfd `fd` is sealed against writes, growing and shrinking (GuestImage::seal).
inline bool sealed_for_exec(int fd) noexcept {
    constexpr int needed = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
    const int seals = ::fcntl(fd, F_GET_SEALS);
    return seals >= 0 && (seals & needed) == needed;
}

inline void kill_and_reap(pid_t pid) noexcept {
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
    }
}

}  // namespace detail

/// A guest process that has executed its image under the filter and runs.
struct LaunchedGuest {
    pid_t pid = -1;
    UniqueFd pidfd;
    Listener listener;
    bool sync_wakeup = false;  // SYNC_WAKE_UP is in effect
    bool vdso_hidden = false;

    /// When the exec itself failed (only detectable after the process exited, without hide_vdso).
    [[nodiscard]] std::optional<Errno> exec_error() const noexcept {
        const auto* h = handshake != nullptr ? handshake->handshake() : nullptr;
        if (h == nullptr || h->state.load(std::memory_order_acquire) != detail::handshake_failed) return std::nullopt;
        Errno e = Errno::noexec;
        (void)errno_from_number(h->failed_errno, e);
        return e;
    }
    std::unique_ptr<detail::SharedPage> handshake;  // the trampoline's page (reports a failed exec)
};

/// Starts `image` as a confined guest process with the given argv and environment.
///
/// Protocol. The supervisor forks a trampoline child. The child, running only our own code:
/// arms PDEATHSIG, enters a new session, resets signals, disables core dumps, drops every
/// capability, closes every descriptor except the image memfd (close-on-exec), sets
/// no_new_privs, installs the filter with a new listener (and WAIT_KILLABLE_RECV, so that a
/// received call is only interrupted by a fatal signal -- see the supervisor's interrupt hook),
/// publishes the listener's number in a shared page (futex is native), and calls
/// execveat(image_fd, "", argv, envp, AT_EMPTY_PATH), which traps. The supervisor takes the
/// listener with pidfd_getfd and answers that single execveat with CONTINUE.
///
/// Why that CONTINUE is safe (the only other use, GuestThread::map_from, argues its own case): CONTINUE lets the kernel re-read pointer arguments
/// after the supervisor looked at them, which is unsafe when untrusted code can change them. Here
/// the calling process has not executed a single guest instruction: it is a single-threaded copy
/// of the supervisor running the trampoline above, nobody else can write its memory, and the
/// supervisor checks that the call is exactly the trampoline's (pid from fork, nr execveat, fd
/// = the image, flags = AT_EMPTY_PATH) before answering. The memfd is close-on-exec, so its number
/// is dead in the new image; every later execve/execveat of any guest is served, never continued.
/// The alternative -- letting the filter allow one execveat on that fd number -- is weaker: a
/// filter cannot count, and with AT_EMPTY_PATH and an absolute path the fd is ignored, so the
/// guest could later exec a host path.
///
/// With hide_vdso the supervisor also PTRACE_SEIZEs the trampoline (with EXITKILL) before the
/// exec, rewrites the auxiliary vector at the exec stop and detaches: no guest instruction runs
/// before the vDSO is hidden.
///
/// Call from a thread that outlives the guest (PDEATHSIG fires when the forking thread exits).
inline Result<LaunchedGuest> launch_guest_unguarded(const GuestImage& image, std::span<const std::string> argv,
                                                    std::span<const std::string> envp, const LaunchOptions& options,
                                                    LaunchFailure* failure);

inline Result<LaunchedGuest> launch_guest(const GuestImage& image, std::span<const std::string> argv,
                                          std::span<const std::string> envp, const LaunchOptions& options,
                                          LaunchFailure* failure = nullptr) noexcept {
    try {
        return launch_guest_unguarded(image, argv, envp, options, failure);
    } catch (...) {  // allocation failure before the fork (afterwards nothing allocates that can throw)
        return Errno::nomem;
    }
}

/// launch_guest() without the exception guard.
inline Result<LaunchedGuest> launch_guest_unguarded(const GuestImage& image, std::span<const std::string> argv,
                                                    std::span<const std::string> envp, const LaunchOptions& options,
                                                    LaunchFailure* failure) {
    const auto fail = [&](Errno e, std::string message) -> Result<LaunchedGuest> {
        if (failure != nullptr) *failure = LaunchFailure{e, std::move(message)};
        return e;
    };
    if (image.fd() < 0) return fail(Errno::badf, "no program image");
    // The kernel must not open anything but this memfd: no interpreter, no script, no binfmt_misc.
    if (!options.image_ready && image.check() != ElfCheck::ok) return fail(Errno::noexec, std::string(describe(image.check())));
    if (argv.empty()) return fail(Errno::inval, "empty argument vector");

    // Everything the child uses is prepared here: it must not allocate.
    std::vector<sock_filter> program = build_filter(options.filter);
    const sock_fprog filter{static_cast<unsigned short>(program.size()), program.data()};
    std::vector<std::string> strings;
    strings.reserve(argv.size() + envp.size());
    std::vector<char*> argv_pointers, envp_pointers;
    for (const auto& a : argv) argv_pointers.push_back(strings.emplace_back(a).data());
    for (const auto& e : envp) envp_pointers.push_back(strings.emplace_back(e).data());
    argv_pointers.push_back(nullptr);
    envp_pointers.push_back(nullptr);
    auto page = std::make_unique<detail::SharedPage>();
    if (page->handshake() == nullptr) return fail(Errno::nomem, "cannot map the handshake page");
    new (page->handshake()) detail::Handshake{{detail::handshake_working}, -1, 0, 0};
    const detail::TrampolinePlan plan{page->handshake(),
                                      ::getpid(),
                                      image.fd(),
                                      &filter,
                                      SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
                                      argv_pointers.data(),
                                      envp_pointers.data(),
                                      options.guest_cpu,
                                      options.blocked_signals,
                                      options.ignored_signals,
                                      options.limits.data(),
                                      options.limits.size()};

    const pid_t pid = ::fork();
    if (pid < 0) return fail(detail::last_errno(), "fork failed");
    if (pid == 0) detail::run_trampoline(plan);

    // Wait for the filter to be installed (or for the trampoline to report a failure).
    const auto deadline = std::chrono::steady_clock::now() + options.startup_timeout;
    auto* handshake = page->handshake();
    while (handshake->state.load(std::memory_order_acquire) == detail::handshake_working) {
        if (std::chrono::steady_clock::now() >= deadline) {
            detail::kill_and_reap(pid);
            return fail(Errno::timedout, "the guest did not start in time");
        }
        const struct timespec slice {0, 50'000'000};
        detail::raw_futex(&handshake->state, FUTEX_WAIT, detail::handshake_working, &slice);
    }
    if (handshake->state.load(std::memory_order_acquire) == detail::handshake_failed) {
        detail::kill_and_reap(pid);
        Errno e = Errno::io;
        (void)errno_from_number(handshake->failed_errno, e);
        return fail(e, std::string("guest setup failed while ") + detail::describe_step(handshake->failed_step) + ": " +
                           std::string(errno_message(e)));
    }

    LaunchedGuest guest;
    guest.pid = pid;
    guest.handshake = std::move(page);
    guest.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!guest.pidfd.valid()) {
        const Errno e = detail::last_errno();
        detail::kill_and_reap(pid);
        return fail(e, "pidfd_open failed");
    }
    UniqueFd listener_fd(static_cast<int>(::syscall(SYS_pidfd_getfd, guest.pidfd.get(), handshake->listener_fd, 0)));
    if (!listener_fd.valid()) {
        const Errno e = detail::last_errno();
        detail::kill_and_reap(pid);
        return fail(e, "cannot take the seccomp listener from the guest (pidfd_getfd)");
    }
    guest.listener = Listener(std::move(listener_fd));
    if (options.sync_wakeup) guest.sync_wakeup = guest.listener.set_sync_wakeup().has_value();

    bool traced = false;
    if (options.hide_vdso || options.stay_traced) {
        if (::ptrace(PTRACE_SEIZE, pid, nullptr, PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL) != 0) {
            const Errno e = detail::last_errno();
            detail::kill_and_reap(pid);
            return fail(e, "cannot hide the vDSO: ptrace is not permitted (use the keep-vDSO option)");
        }
        traced = true;
    }

    // The trampoline's execveat: the one call answered with CONTINUE (see above).
    TrappedCall call;
    for (;;) {
        const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        const auto wait_ms = static_cast<int>(std::clamp<std::int64_t>(remaining.count(), 0, 60'000));
        auto readable = guest.listener.wait_readable(wait_ms);
        // A signal for the calling thread (the runner's tracer is woken by one) is not a failure.
        if (!readable.has_value() && readable.error() == Errno::intr && wait_ms > 0) continue;
        if (!readable.has_value() || !*readable) {
            detail::kill_and_reap(pid);
            return fail(Errno::timedout, "the guest did not reach its exec");
        }
        const auto received = guest.listener.receive(call);
        if (received.has_value()) break;
        if (received.error() != Errno::intr && received.error() != Errno::noent) {
            detail::kill_and_reap(pid);
            return fail(received.error(), "cannot receive the guest's exec");
        }
    }
    if (call.tid != pid || call.nr != SYS_execveat || call.args[0] != static_cast<std::uint64_t>(image.fd()) ||
        call.args[4] != static_cast<std::uint64_t>(AT_EMPTY_PATH)) {
        detail::kill_and_reap(pid);
        return fail(Errno::perm, "unexpected first system call from the guest trampoline");
    }
    if (options.image_ready) {  // the bytes were written meanwhile: the exec waits for them
        Result<ElfCheck> ready = Errno::io;
        try {
            if (auto staged = options.image_ready(); !staged) ready = staged.error();
            else if (!detail::sealed_for_exec(image.fd())) ready = Errno::perm;
            else ready = detail::check_image_fd(image.fd());
        } catch (...) {
            ready = Errno::nomem;
        }
        if (!ready.has_value() || *ready != ElfCheck::ok) {
            detail::kill_and_reap(pid);
            if (!ready.has_value())
                return fail(ready.error(), "cannot stage the program image: " + std::string(errno_message(ready.error())));
            return fail(Errno::noexec, std::string(describe(*ready)));
        }
    }
    if (!guest.listener.continue_unchecked(call.id).has_value()) {
        const Errno e = detail::last_errno();
        detail::kill_and_reap(pid);
        return fail(e, "cannot let the guest exec");
    }

    if (traced) {
        for (;;) {
            int status = 0;
            if (::waitpid(pid, &status, __WALL) < 0) {
                if (errno == EINTR) continue;
                const Errno e = detail::last_errno();
                detail::kill_and_reap(pid);
                return fail(e, "waitpid on the guest failed");
            }
            if (WIFEXITED(status) || WIFSIGNALED(status)) {  // the trampoline's exec failed
                Errno e = Errno::noexec;
                if (handshake->state.load(std::memory_order_acquire) == detail::handshake_failed)
                    (void)errno_from_number(handshake->failed_errno, e);
                return fail(e, std::string("cannot execute the program: ") + std::string(errno_message(e)));
            }
            if (WIFSTOPPED(status) && (status >> 8) == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) break;
            // Any other stop (a signal on its way in): pass it on and keep waiting.
            const int sig = WIFSTOPPED(status) ? WSTOPSIG(status) : 0;
            (void)::ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void*>(static_cast<std::uintptr_t>(sig == SIGTRAP ? 0 : sig)));
        }
        struct user_regs_struct regs {};
        Result<void> hidden = options.hide_vdso ? Result<void>(Errno::fault) : Result<void>(ok());
        if (options.hide_vdso && ::ptrace(PTRACE_GETREGS, pid, nullptr, &regs) == 0) {
            char mem_path[64];
            std::snprintf(mem_path, sizeof mem_path, "/proc/%d/mem", static_cast<int>(pid));
            UniqueFd mem(::open(mem_path, O_RDWR | O_CLOEXEC));
            if (mem.valid()) hidden = detail::hide_vdso_entry(mem.get(), regs.rsp);
        }
        if (!hidden.has_value()) {
            detail::kill_and_reap(pid);
            return fail(hidden.error(), "cannot hide the vDSO from the guest");
        }
        guest.vdso_hidden = options.hide_vdso;
        if (options.stay_traced) {
            if (::ptrace(PTRACE_SETOPTIONS, pid, nullptr, options.trace_options | PTRACE_O_EXITKILL) != 0 ||
                ::ptrace(PTRACE_CONT, pid, nullptr, nullptr) != 0) {
                const Errno e = detail::last_errno();
                detail::kill_and_reap(pid);
                return fail(e, "cannot keep tracing the guest");
            }
            return guest;
        }
        if (::ptrace(PTRACE_DETACH, pid, nullptr, nullptr) != 0) {
            const Errno e = detail::last_errno();
            detail::kill_and_reap(pid);
            return fail(e, "cannot detach from the guest");
        }
    }
    return guest;
}

}  // namespace litebox::platform::linux_platform::seccomp
