// Temporary scaffolding until the Linux shim lands: a minimal system call handler that proves the
// supervisor mechanism. It serves
//   * write(1 or 2, buf, n): copies n guest bytes through RemoteConstPtr into a buffer the test
//     owns (never to the host's stdout), returns n; other descriptors get EBADF;
//   * exit_group(status): ends the guest process with that status;
// and answers ENOSYS to everything else -- including what busybox's static startup asks
// (prlimit64, readlink("/proc/self/exe"), getrandom, prctl(PR_GET_NAME), getuid), which it
// tolerates. A test may override any call with `override_call`.
#pragma once

#include <sys/syscall.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <litebox/platform/linux/remote_memory.hpp>
#include <litebox/platform/linux/seccomp_supervisor.hpp>

namespace litebox::test {

namespace seccomp = platform::linux_platform::seccomp;

class RecordingHandler {
public:
    using Override = std::function<std::optional<std::int64_t>(seccomp::GuestThread&, int, const seccomp::SyscallArgs&)>;

    /// Largest write the handler copies in one call.
    static constexpr std::size_t max_write = 1 << 20;

    Override override_call;

    std::int64_t handle(seccomp::GuestThread& thread, int nr, const seccomp::SyscallArgs& args) {
        {
            std::lock_guard lock(m_mutex);
            ++m_counts[nr];
        }
        if (override_call) {
            if (const auto result = override_call(thread, nr, args)) return *result;
        }
        switch (nr) {
            case SYS_write: {
                if (args[0] != 1 && args[0] != 2) return -errno_number(Errno::badf);
                const std::size_t size = std::min<std::uint64_t>(args[2], max_write);
                const platform::linux_platform::RemoteConstPtr<char> buffer(args[1]);
                auto bytes = buffer.to_owned_slice(size);
                if (!bytes.has_value()) return -errno_number(bytes.error());
                std::lock_guard lock(m_mutex);
                (args[0] == 1 ? m_out : m_err).append(bytes->begin(), bytes->end());
                return static_cast<std::int64_t>(size);
            }
            case SYS_exit_group:
                thread.exit_process(static_cast<int>(args[0] & 0xff));
                return 0;
            default:
                return -errno_number(Errno::nosys);
        }
    }

    std::string out() const {
        std::lock_guard lock(m_mutex);
        return m_out;
    }
    std::string err() const {
        std::lock_guard lock(m_mutex);
        return m_err;
    }
    int count(int nr) const {
        std::lock_guard lock(m_mutex);
        const auto it = m_counts.find(nr);
        return it == m_counts.end() ? 0 : it->second;
    }
    /// The "key=value" lines of the guest's stdout.
    std::map<std::string, std::string> facts() const {
        std::map<std::string, std::string> result;
        const std::string text = out();
        std::size_t start = 0;
        while (start < text.size()) {
            std::size_t end = text.find('\n', start);
            if (end == std::string::npos) end = text.size();
            const std::string line = text.substr(start, end - start);
            const auto eq = line.find('=');
            if (eq != std::string::npos) result[line.substr(0, eq)] = line.substr(eq + 1);
            start = end + 1;
        }
        return result;
    }

private:
    mutable std::mutex m_mutex;
    std::string m_out, m_err;
    std::map<int, int> m_counts;
};

}  // namespace litebox::test
