// Executes host-directory requests on Linux, confined beneath one directory descriptor (see
// hostfs.hpp for the policy and the contract). Only HostDirectoryPolicy uses this.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "../../error.hpp"
#include "../../fd/types.hpp"
#include "../../fs/hostfs/operations.hpp"

namespace litebox::platform::linux_platform::hostfs_detail {

inline Errno last_errno() noexcept {
    Errno e = Errno::io;
    (void)errno_from_number(errno, e);
    return e;
}

/// An owned descriptor.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : m_fd(fd) {}
    Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset();
            m_fd = std::exchange(other.m_fd, -1);
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    [[nodiscard]] int get() const noexcept { return m_fd; }
    int release() noexcept { return std::exchange(m_fd, -1); }

private:
    void reset() noexcept {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = -1;
    }
    int m_fd = -1;
};

/// HostOp::open_read's and HostOp::hold's reply on Linux. `owner` is the id of the policy that
/// made a held file (0 for open_read's): a policy acts only on the held files it made.
class HostFile final : public fs::hostfs::HostFileHandle {
public:
    explicit HostFile(Fd fd, std::uint64_t owner = 0) noexcept : m_fd(std::move(fd)), m_owner(owner) {}
    [[nodiscard]] int descriptor() const noexcept override { return m_fd.get(); }
    [[nodiscard]] std::uint64_t owner() const noexcept { return m_owner; }

private:
    Fd m_fd;
    std::uint64_t m_owner;
};

inline fd::Timespec to_timespec(const struct timespec& t) noexcept { return {t.tv_sec, t.tv_nsec}; }

inline fd::Stat to_stat(const struct stat& st) noexcept {
    fd::Stat out;
    out.device = st.st_dev;
    out.inode = st.st_ino;
    out.mode = st.st_mode;
    out.link_count = st.st_nlink;
    out.uid = st.st_uid;
    out.gid = st.st_gid;
    out.represented_device = st.st_rdev;
    out.size = st.st_size;
    out.block_size = st.st_blksize;
    out.blocks = st.st_blocks;
    out.access_time = to_timespec(st.st_atim);
    out.modify_time = to_timespec(st.st_mtim);
    out.change_time = to_timespec(st.st_ctim);
    return out;
}

struct Executor {
    int root;
    bool use_openat2;
    std::uint64_t owner = 0;  // the policy's id: marks the files it holds
    bool escaped = false;  // the host refused a resolution that would have left the directory

    using Request = fs::hostfs::HostFsRequest;
    using Reply = fs::hostfs::HostFsReply;

    /// Opens `path` beneath the root; the last component is never followed when O_NOFOLLOW is set
    /// and no component may lead outside.
    Result<Fd> open_beneath(const std::string& path, int flags, mode_t mode = 0) {
        const char* p = path.empty() ? "." : path.c_str();
        if (use_openat2) {
            struct open_how how {};
            how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
            how.mode = (flags & O_CREAT) ? mode : 0;
            how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
            const long fd = ::syscall(SYS_openat2, root, p, &how, sizeof how);
            if (fd >= 0) return Fd(static_cast<int>(fd));
            if (errno != ENOSYS) {
                if (errno == EXDEV) escaped = true;
                return last_errno();
            }
            use_openat2 = false;  // an old kernel: walk instead
        }
        return walk(path, flags, mode);
    }

    /// The openat2-less path: one component at a time, never following a symlink anywhere.
    Result<Fd> walk(const std::string& path, int flags, mode_t mode) {
        Fd current(::openat(root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (current.get() < 0) return last_errno();
        std::string_view rest = path;
        while (!rest.empty()) {
            const auto slash = rest.find('/');
            const std::string part(rest.substr(0, slash));
            const bool last = slash == std::string_view::npos;
            rest = last ? std::string_view{} : rest.substr(slash + 1);
            if (part == "..") {
                escaped = true;
                return Errno::acces;
            }
            if (last) {
                const int fd = ::openat(current.get(), part.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
                if (fd < 0) return last_errno();
                return Fd(fd);
            }
            const int next = ::openat(current.get(), part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (next < 0) {
                if (errno == ENOTDIR || errno == ELOOP) {
                    struct stat st {};
                    if (::fstatat(current.get(), part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
                        escaped = true;  // a symlink in the middle: refuse rather than follow
                        return Errno::acces;
                    }
                }
                return last_errno();
            }
            current = Fd(next);
        }
        const int fd = ::openat(current.get(), ".", flags | O_CLOEXEC, mode);
        if (fd < 0) return last_errno();
        return Fd(fd);
    }

    /// The directory holding `path` and the last component ("" for the root itself).
    Result<std::pair<Fd, std::string>> parent_of(const std::string& path) {
        const auto slash = path.rfind('/');
        const std::string parent = slash == std::string::npos ? std::string() : path.substr(0, slash);
        std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
        LITEBOX_TRY_ASSIGN(Fd dir, open_beneath(parent, O_PATH | O_DIRECTORY));
        return std::pair<Fd, std::string>(std::move(dir), std::move(name));
    }

    /// Opens `r.path` beneath the root and, when the request names an inode, checks that the path
    /// still leads to it (ESTALE: the name now belongs to another file).
    Result<Fd> open_expected(const Request& r, int flags) {
        LITEBOX_TRY_ASSIGN(Fd fd, open_beneath(r.path, flags));
        if (r.inode != 0) {
            struct stat st {};
            if (::fstat(fd.get(), &st) < 0) return last_errno();
            if (st.st_ino != r.inode) return Errno::stale;
        }
        return fd;
    }

    static Result<Reply> check(int rc, Reply reply = {}) {
        if (rc < 0) return last_errno();
        return reply;
    }

    Result<Reply> run(const Request& r) {
        using fs::hostfs::HostOp;
        if (r.file) return run_held(r);
        Reply reply;
        switch (r.op) {
            case HostOp::lstat: {
                LITEBOX_TRY_ASSIGN(Fd fd, open_expected(r, O_PATH | O_NOFOLLOW));
                struct stat st {};
                if (::fstat(fd.get(), &st) < 0) return last_errno();
                reply.stat = to_stat(st);
                return reply;
            }
            case HostOp::readdir: {
                LITEBOX_TRY_ASSIGN(Fd fd, open_beneath(r.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
                DIR* dir = ::fdopendir(fd.get());
                if (!dir) return last_errno();
                (void)fd.release();
                while (const struct dirent* e = ::readdir(dir)) {
                    const std::string_view name = e->d_name;
                    if (name == "." || name == "..") continue;
                    reply.entries.push_back(fs::hostfs::HostDirEntry{std::string(name), e->d_ino, e->d_type});
                    if (reply.entries.size() > fs::hostfs::max_listing) break;
                }
                ::closedir(dir);
                return reply;
            }
            case HostOp::read:
            case HostOp::write: {
                LITEBOX_TRY_ASSIGN(Fd fd, open_expected(r, (r.op == HostOp::read ? O_RDONLY : O_WRONLY) | O_NOFOLLOW));
                return transfer(fd.get(), r);
            }
            case HostOp::open_read: {
                LITEBOX_TRY_ASSIGN(Fd fd, open_expected(r, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
                struct stat st {};
                if (::fstat(fd.get(), &st) < 0) return last_errno();
                if (!S_ISREG(st.st_mode)) return Errno::acces;  // never a FIFO or device of the host
                reply.file = std::make_shared<const HostFile>(std::move(fd));
                return reply;
            }
            case HostOp::hold: {
                // Read-write when the host lets the runner, else whichever way it does: the box
                // checked the guest's own access when the guest opened the file.
                constexpr int how = O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
                auto fd = open_expected(r, O_RDWR | how);
                if (!fd && (fd.error() == Errno::acces || fd.error() == Errno::txtbsy) && !escaped) fd = open_expected(r, O_RDONLY | how);
                if (!fd && fd.error() == Errno::acces && !escaped) fd = open_expected(r, O_WRONLY | how);
                if (!fd) return fd.error();
                struct stat st {};
                if (::fstat(fd->get(), &st) < 0) return last_errno();
                if (!S_ISREG(st.st_mode)) return Errno::acces;
                reply.stat = to_stat(st);
                reply.file = std::make_shared<const HostFile>(std::move(*fd), owner);
                return reply;
            }
            case HostOp::truncate: {
                LITEBOX_TRY_ASSIGN(Fd fd, open_expected(r, O_WRONLY | O_NOFOLLOW));
                return check(::ftruncate(fd.get(), static_cast<off_t>(r.offset)));
            }
            case HostOp::statfs: {
                struct statfs s {};
                if (::fstatfs(root, &s) < 0) return last_errno();
                reply.statfs.type = static_cast<std::uint64_t>(s.f_type);
                reply.statfs.block_size = static_cast<std::uint64_t>(s.f_bsize);
                reply.statfs.blocks = s.f_blocks;
                reply.statfs.blocks_free = s.f_bfree;
                reply.statfs.blocks_available = s.f_bavail;
                reply.statfs.files = s.f_files;
                reply.statfs.files_free = s.f_ffree;
                reply.statfs.name_max = static_cast<std::uint64_t>(s.f_namelen);
                reply.statfs.fragment_size = static_cast<std::uint64_t>(s.f_frsize);
                return reply;
            }
            case HostOp::chmod:
            case HostOp::chown:
            case HostOp::utimens: return change_attributes(r);
            default: return change_entries(r);
        }
    }

    /// An operation on a held file (the policy checked that it made it): the descriptor's calls.
    Result<Reply> run_held(const Request& r) {
        using fs::hostfs::HostOp;
        const int fd = r.file->descriptor();
        switch (r.op) {
            case HostOp::lstat: {
                struct stat st {};
                if (::fstat(fd, &st) < 0) return last_errno();
                Reply reply;
                reply.stat = to_stat(st);
                return reply;
            }
            case HostOp::read:
            case HostOp::write: return transfer(fd, r);
            case HostOp::truncate: return check(::ftruncate(fd, static_cast<off_t>(r.offset)));
            case HostOp::chmod: return check(::fchmod(fd, static_cast<mode_t>(r.mode)));
            case HostOp::chown: return check(::fchown(fd, r.uid, r.gid));
            case HostOp::utimens: {
                const auto times = times_of(r);
                return check(::futimens(fd, times.data()));
            }
            default: return Errno::opnotsupp;
        }
    }

    /// A read's pread or a write's pwrite on `fd` (again after EINTR).
    static Result<Reply> transfer(int fd, const Request& r) {
        for (;;) {
            const ssize_t n = r.op == fs::hostfs::HostOp::read ? ::pread(fd, r.out.data(), r.out.size(), static_cast<off_t>(r.offset))
                                                              : ::pwrite(fd, r.in.data(), r.in.size(), static_cast<off_t>(r.offset));
            if (n >= 0) {
                Reply reply;
                reply.count = static_cast<std::size_t>(n);
                return reply;
            }
            if (errno != EINTR) return last_errno();
        }
    }
    /// utimens's two times as the kernel takes them.
    static std::array<struct timespec, 2> times_of(const Request& r) noexcept {
        return {{{static_cast<time_t>(r.atime.seconds), static_cast<long>(r.atime.nanoseconds)},
                 {static_cast<time_t>(r.mtime.seconds), static_cast<long>(r.mtime.nanoseconds)}}};
    }

    /// chmod/chown/utimens on the entry itself, through an O_PATH descriptor (never a symlink's target).
    Result<Reply> change_attributes(const Request& r) {
        using fs::hostfs::HostOp;
        LITEBOX_TRY_ASSIGN(Fd fd, open_expected(r, O_PATH | O_NOFOLLOW));
        struct stat st {};
        if (::fstat(fd.get(), &st) < 0) return last_errno();
        const std::string self = "/proc/self/fd/" + std::to_string(fd.get());
        if (r.op == HostOp::chown) return check(::fchownat(fd.get(), "", r.uid, r.gid, AT_EMPTY_PATH));
        if (S_ISLNK(st.st_mode)) return Errno::opnotsupp;  // chmod/utimes of a symlink itself
        if (r.op == HostOp::chmod) return check(::chmod(self.c_str(), static_cast<mode_t>(r.mode)));
        const auto times = times_of(r);
        return check(::utimensat(AT_FDCWD, self.c_str(), times.data(), 0));
    }

    /// Operations on a name in a directory: the directory is opened beneath the root, the name
    /// (one component) is used with *at calls that do not follow it.
    Result<Reply> change_entries(const Request& r) {
        using fs::hostfs::HostOp;
        LITEBOX_TRY_ASSIGN(auto at, parent_of(r.path));
        auto& [dir, name] = at;
        if (name.empty()) return (r.op == HostOp::unlink || r.op == HostOp::rmdir || r.op == HostOp::rename) ? Errno::busy : Errno::exist;
        switch (r.op) {
            case HostOp::create: {
                const auto perm = static_cast<mode_t>(r.mode & 07777);
                if (fs::is_fifo(r.mode)) return check(::mknodat(dir.get(), name.c_str(), S_IFIFO | perm, 0));
                const int fd = ::openat(dir.get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, perm);
                if (fd < 0) return last_errno();
                ::close(fd);
                return Reply{};
            }
            case HostOp::mkdir: return check(::mkdirat(dir.get(), name.c_str(), static_cast<mode_t>(r.mode & 07777)));
            case HostOp::symlink: return check(::symlinkat(r.path2.c_str(), dir.get(), name.c_str()));
            case HostOp::unlink: return check(::unlinkat(dir.get(), name.c_str(), 0));
            case HostOp::rmdir: return check(::unlinkat(dir.get(), name.c_str(), AT_REMOVEDIR));
            case HostOp::readlink: {
                char buffer[4096];
                const ssize_t n = ::readlinkat(dir.get(), name.c_str(), buffer, sizeof buffer);
                if (n < 0) return last_errno();
                Reply reply;
                reply.text.assign(buffer, static_cast<std::size_t>(n));
                return reply;
            }
            case HostOp::link:
            case HostOp::rename: {
                LITEBOX_TRY_ASSIGN(auto to, parent_of(r.path2));
                auto& [to_dir, to_name] = to;
                if (to_name.empty()) return r.op == HostOp::rename ? Errno::busy : Errno::exist;
                if (r.op == HostOp::link) return check(::linkat(dir.get(), name.c_str(), to_dir.get(), to_name.c_str(), 0));
                return check(static_cast<int>(
                    ::syscall(SYS_renameat2, dir.get(), name.c_str(), to_dir.get(), to_name.c_str(), r.flags)));
            }
            default: return Errno::opnotsupp;
        }
    }
};

}  // namespace litebox::platform::linux_platform::hostfs_detail
