// The host oracle: runs the same sequence of file-system operations on a fresh host temp directory
// (real syscalls) and inside a box directory, and records each outcome (0 or errno, plus a stat
// summary) so that a test can compare them line by line. Only relative paths that stay inside the
// directory are meaningful (the host has no box root to clamp ".." or absolute symlinks).
#pragma once

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <grp.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fs_fixture.hpp"

namespace litebox::test {

enum class OracleOp { mkdir, rmdir, unlink, create, open, symlink, link, rename, stat, lstat, readlink, truncate, chmod, access };

struct OracleStep {
    OracleStep(OracleOp o, std::string p, std::string p2 = {}, std::uint32_t f = 0, std::uint32_t m = 0644, std::uint64_t len = 0)
        : op(o), path(std::move(p)), path2(std::move(p2)), flags(f), mode(m), length(len) {}
    OracleOp op;
    bool as_user = false;  // run as uid 1000, gid 1000, supplementary group 100 (the fixture's `user`)
    std::string path;
    std::string path2;      // symlink target, link/rename destination
    std::uint32_t flags = 0;  // open flags, rename flags, access mode
    std::uint32_t mode = 0644;
    std::uint64_t length = 0;
};

/// The same step, run as the unprivileged user.
inline OracleStep as_user(OracleStep s) {
    s.as_user = true;
    return s;
}

/// One outcome: "ok", "ok <summary>" or an errno name.
using Outcome = std::string;

inline std::string summarize(std::uint32_t mode, std::uint64_t nlink, std::int64_t size, bool with_size) {
    std::string s = "mode=" + std::to_string(mode) + " nlink=" + std::to_string(nlink);
    if (with_size) s += " size=" + std::to_string(size);
    return s;
}

/// Runs one step on the host relative to `base`.
inline Outcome run_host_step(int base, const OracleStep& s) {
    int rc = 0;
    std::string extra;
    errno = 0;
    switch (s.op) {
        case OracleOp::mkdir: rc = ::mkdirat(base, s.path.c_str(), s.mode); break;
        case OracleOp::rmdir: rc = ::unlinkat(base, s.path.c_str(), AT_REMOVEDIR); break;
        case OracleOp::unlink: rc = ::unlinkat(base, s.path.c_str(), 0); break;
        case OracleOp::create:
        case OracleOp::open: {
            const int fd = ::openat(base, s.path.c_str(), static_cast<int>(s.flags), s.mode);
            rc = fd < 0 ? -1 : 0;
            if (fd >= 0) ::close(fd);
            break;
        }
        case OracleOp::symlink: rc = ::symlinkat(s.path2.c_str(), base, s.path.c_str()); break;
        case OracleOp::link: rc = ::linkat(base, s.path.c_str(), base, s.path2.c_str(), static_cast<int>(s.flags)); break;
        case OracleOp::rename:
            rc = static_cast<int>(::syscall(SYS_renameat2, base, s.path.c_str(), base, s.path2.c_str(), s.flags));
            break;
        case OracleOp::stat:
        case OracleOp::lstat: {
            struct stat st{};
            rc = ::fstatat(base, s.path.c_str(), &st, s.op == OracleOp::lstat ? AT_SYMLINK_NOFOLLOW : 0);
            if (rc == 0) extra = summarize(st.st_mode, st.st_nlink, st.st_size, !S_ISDIR(st.st_mode));
            break;
        }
        case OracleOp::readlink: {
            char buf[4096];
            const ssize_t n = ::readlinkat(base, s.path.c_str(), buf, sizeof buf);
            rc = n < 0 ? -1 : 0;
            if (n >= 0) extra = std::string(buf, static_cast<std::size_t>(n));
            break;
        }
        case OracleOp::truncate: {
            const int fd = ::openat(base, s.path.c_str(), O_PATH);
            rc = fd < 0 ? -1 : ::truncate(("/proc/self/fd/" + std::to_string(fd)).c_str(), static_cast<off_t>(s.length));
            if (fd >= 0) {
                const int saved = errno;
                ::close(fd);
                errno = saved;
            }
            break;
        }
        case OracleOp::chmod: rc = ::fchmodat(base, s.path.c_str(), s.mode, 0); break;
        case OracleOp::access: rc = ::faccessat(base, s.path.c_str(), static_cast<int>(s.flags), 0); break;
    }
    if (rc == 0) return extra.empty() ? "ok" : "ok " + extra;
    Errno e = Errno::inval;
    (void)errno_from_number(errno, e);
    return std::string(errno_name(e));
}

/// Runs the steps on a new directory under /dev/shm (or /tmp); removes it afterwards.
inline std::vector<Outcome> run_on_host(const std::vector<OracleStep>& steps) {
    char templ[] = "/dev/shm/litebox-oracle-XXXXXX";
    char templ_tmp[] = "/tmp/litebox-oracle-XXXXXX";
    char* dir = ::mkdtemp(templ);
    if (!dir) dir = ::mkdtemp(templ_tmp);
    std::vector<Outcome> out;
    if (!dir) return out;
    ::chmod(dir, 0755);  // like the box's directory, so that unprivileged steps can search it
    const int base = ::open(dir, O_RDONLY | O_DIRECTORY);
    const mode_t old_umask = ::umask(022);
    for (const auto& s : steps) {
        if (!s.as_user) {
            out.push_back(run_host_step(base, s));
            continue;
        }
        // Unprivileged steps run in a child process with the user's ids (credentials are
        // per process, so the test process keeps its own).
        int fds[2];
        if (::pipe(fds) != 0) break;
        const pid_t child = ::fork();
        if (child == 0) {
            const gid_t groups[] = {100};
            if (::setgroups(1, groups) != 0 || ::setresgid(1000, 1000, 1000) != 0 || ::setresuid(1000, 1000, 1000) != 0) ::_exit(2);
            const Outcome o = run_host_step(base, s);
            (void)!::write(fds[1], o.data(), o.size());
            ::_exit(0);
        }
        ::close(fds[1]);
        std::string o;
        char buf[512];
        for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) o.append(buf, static_cast<std::size_t>(n));
        ::close(fds[0]);
        int status = 0;
        ::waitpid(child, &status, 0);
        out.push_back(o.empty() ? "child failed" : o);
    }
    ::umask(old_umask);
    ::close(base);
    (void)std::system(("rm -rf '" + std::string(dir) + "'").c_str());
    return out;
}

/// Runs the steps inside a fresh directory of the fixture's namespace, as `creds`.
template <typename P>
std::vector<Outcome> run_in_box(FsFixture<P>& f, const std::vector<OracleStep>& steps, const std::string& dir = "/oracle") {
    std::vector<Outcome> out;
    if (!f.mkdir(dir, 0755)) return out;
    auto base = f.vfs->resolve_directory(f.root, f.vfs->root(), dir);
    if (!base) return out;
    auto& v = *f.vfs;
    for (const auto& s : steps) {
        const fs::Credentials& c = s.as_user ? f.user : f.root;
        Result<void> rc = ok();
        std::string extra;
        switch (s.op) {
            case OracleOp::mkdir: rc = v.mkdir(c, *base, s.path, s.mode); break;
            case OracleOp::rmdir: rc = v.rmdir(c, *base, s.path); break;
            case OracleOp::unlink: rc = v.unlink(c, *base, s.path); break;
            case OracleOp::create:
            case OracleOp::open: {
                auto file = v.open(c, *base, s.path, s.flags, s.mode);
                if (!file) rc = file.error();
                break;
            }
            case OracleOp::symlink: rc = v.symlink(c, s.path2, *base, s.path); break;
            case OracleOp::link: rc = v.link(c, *base, s.path, *base, s.path2, s.flags); break;
            case OracleOp::rename: rc = v.rename(c, *base, s.path, *base, s.path2, s.flags); break;
            case OracleOp::stat:
            case OracleOp::lstat: {
                auto st = v.stat(c, *base, s.path, s.op == OracleOp::lstat ? fs::at_flags::symlink_nofollow : 0);
                if (!st) rc = st.error();
                else extra = summarize(st->mode, st->link_count, st->size, !fs::is_directory(st->mode));
                break;
            }
            case OracleOp::readlink: {
                auto target = v.readlink(c, *base, s.path);
                if (!target) rc = target.error();
                else extra = *target;
                break;
            }
            case OracleOp::truncate: rc = v.truncate(c, *base, s.path, s.length); break;
            case OracleOp::chmod: rc = v.chmod(c, *base, s.path, s.mode); break;
            case OracleOp::access: rc = v.access(c, *base, s.path, s.flags); break;
        }
        if (rc) {
            out.push_back(extra.empty() ? "ok" : "ok " + extra);
        } else {
            out.emplace_back(errno_name(rc.error()));
        }
    }
    return out;
}

}  // namespace litebox::test
