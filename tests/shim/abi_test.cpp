// The shim's x86-64 layouts and constants against the host's own headers (tests may include host
// headers; the core may not).
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#include <cstddef>
#include <litebox/shim/linux/abi.hpp>
#include <litebox/shim/linux/constants.hpp>

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

namespace abi = litebox::shim::linux_abi::abi;

#define SAME_SIZE(ours, theirs) CHECK(sizeof(abi::ours) == sizeof(theirs))
#define SAME_OFFSET(ours, ofield, theirs, tfield) CHECK(offsetof(abi::ours, ofield) == offsetof(theirs, tfield))

TEST_CASE("ABI layouts match the host's headers", "[shim][abi]") {
    SAME_SIZE(stat, struct ::stat);
    SAME_OFFSET(stat, st_ino, struct ::stat, st_ino);
    SAME_OFFSET(stat, st_nlink, struct ::stat, st_nlink);
    SAME_OFFSET(stat, st_mode, struct ::stat, st_mode);
    SAME_OFFSET(stat, st_uid, struct ::stat, st_uid);
    SAME_OFFSET(stat, st_gid, struct ::stat, st_gid);
    SAME_OFFSET(stat, st_rdev, struct ::stat, st_rdev);
    SAME_OFFSET(stat, st_size, struct ::stat, st_size);
    SAME_OFFSET(stat, st_blksize, struct ::stat, st_blksize);
    SAME_OFFSET(stat, st_blocks, struct ::stat, st_blocks);
    SAME_OFFSET(stat, st_atime_sec, struct ::stat, st_atim);
    SAME_OFFSET(stat, st_mtime_sec, struct ::stat, st_mtim);
    SAME_OFFSET(stat, st_ctime_sec, struct ::stat, st_ctim);

    SAME_SIZE(statx, struct ::statx);
    SAME_OFFSET(statx, stx_blksize, struct ::statx, stx_blksize);
    SAME_OFFSET(statx, stx_attributes, struct ::statx, stx_attributes);
    SAME_OFFSET(statx, stx_nlink, struct ::statx, stx_nlink);
    SAME_OFFSET(statx, stx_mode, struct ::statx, stx_mode);
    SAME_OFFSET(statx, stx_ino, struct ::statx, stx_ino);
    SAME_OFFSET(statx, stx_size, struct ::statx, stx_size);
    SAME_OFFSET(statx, stx_blocks, struct ::statx, stx_blocks);
    SAME_OFFSET(statx, stx_atime, struct ::statx, stx_atime);
    SAME_OFFSET(statx, stx_btime, struct ::statx, stx_btime);
    SAME_OFFSET(statx, stx_ctime, struct ::statx, stx_ctime);
    SAME_OFFSET(statx, stx_mtime, struct ::statx, stx_mtime);
    SAME_OFFSET(statx, stx_rdev_major, struct ::statx, stx_rdev_major);
    SAME_OFFSET(statx, stx_dev_minor, struct ::statx, stx_dev_minor);
    SAME_SIZE(statx_timestamp, struct ::statx_timestamp);

    SAME_SIZE(statfs, struct ::statfs);
    SAME_OFFSET(statfs, f_bavail, struct ::statfs, f_bavail);
    SAME_OFFSET(statfs, f_fsid, struct ::statfs, f_fsid);
    SAME_OFFSET(statfs, f_namelen, struct ::statfs, f_namelen);
    SAME_OFFSET(statfs, f_frsize, struct ::statfs, f_frsize);
    SAME_OFFSET(statfs, f_flags, struct ::statfs, f_flags);

    SAME_SIZE(flock, struct ::flock);
    SAME_OFFSET(flock, l_whence, struct ::flock, l_whence);
    SAME_OFFSET(flock, l_start, struct ::flock, l_start);
    SAME_OFFSET(flock, l_len, struct ::flock, l_len);
    SAME_OFFSET(flock, l_pid, struct ::flock, l_pid);

    SAME_SIZE(iovec, struct ::iovec);
    SAME_OFFSET(iovec, iov_len, struct ::iovec, iov_len);
    SAME_SIZE(msghdr, struct ::msghdr);
    SAME_OFFSET(msghdr, msg_namelen, struct ::msghdr, msg_namelen);
    SAME_OFFSET(msghdr, msg_iov, struct ::msghdr, msg_iov);
    SAME_OFFSET(msghdr, msg_iovlen, struct ::msghdr, msg_iovlen);
    SAME_OFFSET(msghdr, msg_control, struct ::msghdr, msg_control);
    SAME_OFFSET(msghdr, msg_controllen, struct ::msghdr, msg_controllen);
    SAME_OFFSET(msghdr, msg_flags, struct ::msghdr, msg_flags);
    SAME_SIZE(cmsghdr, struct ::cmsghdr);
    SAME_OFFSET(cmsghdr, cmsg_level, struct ::cmsghdr, cmsg_level);
    SAME_OFFSET(cmsghdr, cmsg_type, struct ::cmsghdr, cmsg_type);
    SAME_SIZE(ucred, struct ::ucred);
    SAME_SIZE(pollfd, struct ::pollfd);
    SAME_OFFSET(pollfd, events, struct ::pollfd, events);
    SAME_OFFSET(pollfd, revents, struct ::pollfd, revents);
    SAME_SIZE(epoll_event, struct ::epoll_event);
    SAME_OFFSET(epoll_event, data, struct ::epoll_event, data);
    SAME_SIZE(sockaddr_un, struct ::sockaddr_un);
    SAME_OFFSET(sockaddr_un, sun_path, struct ::sockaddr_un, sun_path);
    SAME_SIZE(sockaddr_in, struct ::sockaddr_in);
    SAME_OFFSET(sockaddr_in, sin_port, struct ::sockaddr_in, sin_port);
    SAME_OFFSET(sockaddr_in, sin_addr, struct ::sockaddr_in, sin_addr);
    SAME_SIZE(sockaddr_in6, struct ::sockaddr_in6);
    SAME_OFFSET(sockaddr_in6, sin6_addr, struct ::sockaddr_in6, sin6_addr);
    SAME_OFFSET(sockaddr_in6, sin6_scope_id, struct ::sockaddr_in6, sin6_scope_id);
    CHECK(abi::sockaddr_storage_size == sizeof(struct ::sockaddr_storage));

    SAME_SIZE(timespec, struct ::timespec);
    SAME_OFFSET(timespec, tv_nsec, struct ::timespec, tv_nsec);
    SAME_SIZE(timeval, struct ::timeval);
    SAME_OFFSET(timeval, tv_usec, struct ::timeval, tv_usec);
    SAME_SIZE(timezone, struct ::timezone);
    SAME_SIZE(itimerspec, struct ::itimerspec);
    SAME_OFFSET(itimerspec, it_value, struct ::itimerspec, it_value);
    SAME_SIZE(tms, struct ::tms);
    SAME_OFFSET(tms, tms_cstime, struct ::tms, tms_cstime);

    SAME_SIZE(rlimit, struct ::rlimit);
    SAME_SIZE(utsname, struct ::utsname);
    SAME_OFFSET(utsname, nodename, struct ::utsname, nodename);
    SAME_OFFSET(utsname, machine, struct ::utsname, machine);
    SAME_OFFSET(utsname, domainname, struct ::utsname, domainname);
    SAME_SIZE(sysinfo, struct ::sysinfo);
    SAME_OFFSET(sysinfo, loads, struct ::sysinfo, loads);
    SAME_OFFSET(sysinfo, totalswap, struct ::sysinfo, totalswap);
    SAME_OFFSET(sysinfo, procs, struct ::sysinfo, procs);
    SAME_OFFSET(sysinfo, totalhigh, struct ::sysinfo, totalhigh);
    SAME_OFFSET(sysinfo, mem_unit, struct ::sysinfo, mem_unit);
    SAME_SIZE(rusage, struct ::rusage);
    SAME_OFFSET(rusage, ru_stime, struct ::rusage, ru_stime);
    SAME_OFFSET(rusage, ru_maxrss, struct ::rusage, ru_maxrss);
    SAME_OFFSET(rusage, ru_nivcsw, struct ::rusage, ru_nivcsw);

    SAME_SIZE(siginfo, siginfo_t);
    CHECK(offsetof(abi::siginfo, code) == offsetof(siginfo_t, si_code));
    CHECK(offsetof(abi::siginfo, pid) == offsetof(siginfo_t, si_pid));
    CHECK(offsetof(abi::siginfo, uid) == offsetof(siginfo_t, si_uid));
    CHECK(offsetof(abi::siginfo, status) == offsetof(siginfo_t, si_status));
    CHECK(offsetof(abi::siginfo, utime) == offsetof(siginfo_t, si_utime));
}

TEST_CASE("ABI constants match the host's headers", "[shim][abi]") {
    CHECK(abi::at_fdcwd == AT_FDCWD);
    CHECK(abi::at_symlink_nofollow == AT_SYMLINK_NOFOLLOW);
    CHECK(abi::at_removedir == AT_REMOVEDIR);
    CHECK(abi::at_symlink_follow == AT_SYMLINK_FOLLOW);
    CHECK(abi::at_empty_path == AT_EMPTY_PATH);
    CHECK(abi::f_dupfd_cloexec == F_DUPFD_CLOEXEC);
    CHECK(abi::f_getpipe_sz == F_GETPIPE_SZ);
    CHECK(abi::f_setlkw == F_SETLKW);
    CHECK(abi::fd_cloexec == FD_CLOEXEC);
    CHECK(abi::fioclex == FIOCLEX);
    CHECK(abi::fionclex == FIONCLEX);
    CHECK(abi::fionbio == FIONBIO);
    CHECK(abi::fionread == FIONREAD);
    CHECK(abi::tcgets == TCGETS);
    CHECK(abi::tiocgwinsz == TIOCGWINSZ);
    CHECK(abi::close_range_cloexec == CLOSE_RANGE_CLOEXEC);
    CHECK(abi::close_range_unshare == CLOSE_RANGE_UNSHARE);
    CHECK(abi::clock_boottime == CLOCK_BOOTTIME);
    CHECK(abi::clock_tai == CLOCK_TAI);
    CHECK(abi::clock_monotonic_coarse == CLOCK_MONOTONIC_COARSE);
    CHECK(abi::timer_abstime == TIMER_ABSTIME);
    CHECK(abi::wnohang == WNOHANG);
    CHECK(abi::wexited == WEXITED);
    CHECK(abi::wnowait == WNOWAIT);
    CHECK(abi::wall == __WALL);
    CHECK(abi::wclone == __WCLONE);
    CHECK(abi::p_pgid == P_PGID);
    CHECK(abi::cld_killed == CLD_KILLED);
    CHECK(abi::sigchld == SIGCHLD);
    CHECK(abi::sigpipe == SIGPIPE);
    CHECK(abi::sigxfsz == SIGXFSZ);
    CHECK(abi::sigwinch == SIGWINCH);
    CHECK(abi::sigsys == SIGSYS);
    CHECK(abi::sa_restart == SA_RESTART);
    CHECK(abi::sa_nocldwait == SA_NOCLDWAIT);
    CHECK(abi::sig_setmask == SIG_SETMASK);
    CHECK(abi::rlimit_nofile == RLIMIT_NOFILE);
    CHECK(abi::rlimit_rttime == RLIMIT_RTTIME);
    CHECK(abi::rlimit_count == RLIMIT_NLIMITS);
    CHECK(abi::rusage_children == RUSAGE_CHILDREN);
    CHECK(abi::rusage_thread == RUSAGE_THREAD);
    CHECK(abi::grnd_nonblock == GRND_NONBLOCK);
    CHECK(abi::grnd_random == GRND_RANDOM);
    CHECK(abi::clone_thread == CLONE_THREAD);
    CHECK(abi::clone_settls == CLONE_SETTLS);
    CHECK(abi::clone_child_cleartid == CLONE_CHILD_CLEARTID);
    CHECK(abi::clone_vfork == CLONE_VFORK);
    CHECK((abi::clone_namespaces & CLONE_NEWUSER) != 0);
    CHECK((abi::clone_namespaces & CLONE_NEWNS) != 0);
    CHECK((abi::clone_namespaces & CLONE_NEWPID) != 0);
    CHECK((abi::clone_namespaces & CLONE_VM) == 0);
    CHECK(abi::iov_max == IOV_MAX);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
