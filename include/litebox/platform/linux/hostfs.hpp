// The Linux host side of the host-directory punchthrough (fs/hostfs/operations.hpp):
// HostDirectoryPolicy grants HostFsRequests for one host directory and executes them, and
// LinuxHostFsPlatform is the Linux platform with that one extra operation.
//
// Contract:
// - The policy holds an O_PATH descriptor of its directory, opened once. Every request is resolved
//   from it with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) — or, where the kernel lacks
//   openat2, by opening one component at a time with O_NOFOLLOW — so that neither "..", nor a
//   symlink (absolute, relative, or planted on the host meanwhile), nor a /proc magic link leads
//   outside. The final component is acted on with *at calls that do not follow it.
// - Decisions: a request with an unclean path (absolute, ".", "..", empty components, NUL) is
//   refused; a write on a read-only policy is refused; a request naming a held file
//   (HostFsRequest::file) is refused unless this policy made that file (HostOp::hold) and the
//   operation may name one; the rest is granted and executed. An escape found while executing
//   fails with EACCES and is reported as a denial.
// - The optional audit callback receives one line per grant and one per denial:
//   "hostfs grant lstat 'a/b'", "hostfs deny write 'x' (read-only)".
// - LinuxHostFsPlatform without a policy refuses every request (as the std and minimal platforms,
//   which do not list the operation at all).
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "../../fs/hostfs/operations.hpp"
#include "hostfs_execute.hpp"
#include "platform.hpp"

namespace litebox::platform::linux_platform {

class HostDirectoryPolicy {
public:
    using Audit = std::function<void(std::string_view line)>;
    using Request = fs::hostfs::HostFsRequest;
    using Outcome = PunchthroughResult<Request::Success, Request::Failure>;

    /// Opens `directory` (which must exist). `use_openat2 = false` forces the component walk.
    static Result<std::shared_ptr<HostDirectoryPolicy>> open(const std::string& directory, bool read_only, Audit audit = {},
                                                             bool use_openat2 = true) {
        const int fd = ::open(directory.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return detail::current_errno();
        return std::shared_ptr<HostDirectoryPolicy>(new HostDirectoryPolicy(fd, read_only, std::move(audit), use_openat2));
    }
    HostDirectoryPolicy(const HostDirectoryPolicy&) = delete;
    HostDirectoryPolicy& operator=(const HostDirectoryPolicy&) = delete;
    ~HostDirectoryPolicy() { ::close(m_root); }

    [[nodiscard]] bool read_only() const noexcept { return m_read_only; }

    /// The decision, before any host work. Logs denials (grants are logged by execute()).
    [[nodiscard]] bool grants(const Request& r) const {
        if (!fs::hostfs::host_path_is_clean(r.path) ||
            ((r.op == fs::hostfs::HostOp::rename || r.op == fs::hostfs::HostOp::link) &&
             !fs::hostfs::host_path_is_clean(r.path2))) {
            audit("deny", r, "path outside the host directory");
            return false;
        }
        if (m_read_only && r.is_write()) {
            audit("deny", r, "read-only");
            return false;
        }
        if (r.file) {
            const auto* held = dynamic_cast<const hostfs_detail::HostFile*>(r.file.get());
            if (!fs::hostfs::host_op_takes_file(r.op) || held == nullptr || held->owner() != m_id) {
                audit("deny", r, "not a file this directory holds");
                return false;
            }
        }
        return true;
    }

    /// Performs a granted request.
    Outcome execute(const Request& r) const {
        hostfs_detail::Executor exec{m_root, m_use_openat2, m_id};
        auto result = exec.run(r);
        if (!result.has_value() && exec.escaped) {
            audit("deny", r, "escapes the host directory");
            return PunchthroughError<Errno>::failed(Errno::acces);
        }
        audit("grant", r, {});
        if (!result.has_value()) return PunchthroughError<Errno>::failed(result.error());
        return std::move(result.value());
    }

private:
    HostDirectoryPolicy(int fd, bool read_only, Audit audit, bool use_openat2)
        : m_root(fd), m_read_only(read_only), m_audit(std::move(audit)), m_use_openat2(use_openat2) {}

    void audit(std::string_view verdict, const Request& r, std::string_view why) const {
        if (!m_audit) return;
        std::string line = "hostfs ";
        line += verdict;
        line += ' ';
        line += r.describe();
        if (!why.empty()) {
            line += " (";
            line += why;
            line += ')';
        }
        m_audit(line);
    }

    /// A number no other policy of this process has (marks the files it holds).
    static std::uint64_t next_id() noexcept {
        static std::atomic<std::uint64_t> counter{0};
        return counter.fetch_add(1, std::memory_order_relaxed) + 1;
    }

    const std::uint64_t m_id = next_id();
    const int m_root;
    const bool m_read_only;
    const Audit m_audit;
    const bool m_use_openat2;
};

/// A granted host-directory request.
class HostFsToken {
public:
    HostFsToken(std::shared_ptr<const HostDirectoryPolicy> policy, fs::hostfs::HostFsRequest request)
        : m_policy(std::move(policy)), m_request(std::move(request)) {}
    HostDirectoryPolicy::Outcome execute() && { return m_policy->execute(m_request); }

private:
    std::shared_ptr<const HostDirectoryPolicy> m_policy;
    fs::hostfs::HostFsRequest m_request;
};

/// The Linux platform plus the host-directory punchthrough, granted by `policy` (none: all denied).
class LinuxHostFsPlatform : public LinuxPlatform {
public:
    using Punchthrough = fs::hostfs::HostFsRequest;
    using PunchthroughToken = HostFsToken;

    LinuxHostFsPlatform() = default;
    explicit LinuxHostFsPlatform(std::shared_ptr<const HostDirectoryPolicy> policy) : m_policy(std::move(policy)) {}

    std::optional<HostFsToken> get_punchthrough_token_for(fs::hostfs::HostFsRequest request) const {
        if (!m_policy || !m_policy->grants(request)) return std::nullopt;
        return HostFsToken(m_policy, std::move(request));
    }

private:
    std::shared_ptr<const HostDirectoryPolicy> m_policy;
};

}  // namespace litebox::platform::linux_platform

namespace litebox::platform {
using linux_platform::HostDirectoryPolicy;
using linux_platform::LinuxHostFsPlatform;
}  // namespace litebox::platform
