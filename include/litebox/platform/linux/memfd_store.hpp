// fs::SharedStore on Linux: a box file's bytes in a memfd that the supervisor owns, so that a
// runtime can map it into guests (litebox-run's writable MAP_SHARED) while the box's read(),
// write() and truncate() act on the same pages. The supervisor itself never maps it; it reads and
// writes with pread/pwrite. A second, read-only descriptor of the same memfd is what read-only and
// private guest mappings get, so that mprotect cannot make them write to the file.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "../../error.hpp"
#include "../../fs/backend.hpp"
#include "../../fs/types.hpp"
#include "seccomp_notify.hpp"

namespace litebox::platform::linux_platform {

class MemfdStore final : public fs::SharedStore {
public:
    /// A new, empty store. `name` shows in the host's /proc/PID/maps of a guest ("/memfd:NAME").
    static Result<std::shared_ptr<MemfdStore>> create(const char* name = "litebox-shared") {
        constexpr unsigned mfd_exec = 0x0010U;  // MFD_EXEC (Linux 6.3): a JIT may map it executable
        int fd = ::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | mfd_exec);
        if (fd < 0 && errno == EINVAL) fd = ::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0) return detail::last_errno();
        UniqueFd writable(fd);
        const std::string self = "/proc/self/fd/" + std::to_string(fd);
        const int ro = ::open(self.c_str(), O_RDONLY | O_CLOEXEC);
        if (ro < 0) return detail::last_errno();
        return std::shared_ptr<MemfdStore>(new MemfdStore(std::move(writable), UniqueFd(ro)));
    }

    /// The read-write descriptor: only for a writable MAP_SHARED mapping of a file the guest opened
    /// for writing.
    [[nodiscard]] int descriptor() const noexcept { return m_fd.get(); }
    /// The read-only descriptor: for every other mapping.
    [[nodiscard]] int read_only_descriptor() const noexcept { return m_read_only.get(); }

    Result<std::size_t> read(std::span<std::byte> out, std::uint64_t offset) const override {
        std::size_t done = 0;
        while (done < out.size()) {
            const ssize_t n = ::pread(m_fd.get(), out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return detail::last_errno();
            if (n == 0) break;
            done += static_cast<std::size_t>(n);
        }
        return done;
    }
    Result<void> write(std::span<const std::byte> in, std::uint64_t offset) override {
        for (std::size_t done = 0; done < in.size();) {
            const ssize_t n = ::pwrite(m_fd.get(), in.data() + done, in.size() - done, static_cast<off_t>(offset + done));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return n == 0 ? Errno::nospc : detail::last_errno();
            done += static_cast<std::size_t>(n);
        }
        return ok();
    }
    Result<void> resize(std::uint64_t size) override {
        if (size > static_cast<std::uint64_t>(INT64_MAX)) return Errno::fbig;
        if (::ftruncate(m_fd.get(), static_cast<off_t>(size)) != 0) return detail::last_errno();
        return ok();
    }
    Result<void> add_seals(std::uint32_t seals) override {
        // fs::seal uses Linux's F_SEAL_* values.
        static_assert(fs::seal::seal == F_SEAL_SEAL && fs::seal::shrink == F_SEAL_SHRINK && fs::seal::grow == F_SEAL_GROW &&
                      fs::seal::write == F_SEAL_WRITE && fs::seal::future_write == F_SEAL_FUTURE_WRITE);
        if (seals == 0) return ok();
        if (::fcntl(m_fd.get(), F_ADD_SEALS, static_cast<int>(seals & fs::seal::all)) != 0) return detail::last_errno();
        return ok();
    }

private:
    MemfdStore(UniqueFd fd, UniqueFd read_only) noexcept : m_fd(std::move(fd)), m_read_only(std::move(read_only)) {}
    UniqueFd m_fd;
    UniqueFd m_read_only;
};

}  // namespace litebox::platform::linux_platform
