// The x86-64 Linux ABI: the exact layout of every structure that crosses the syscall boundary,
// and the constants the shim decodes. Layouts follow the kernel's uapi headers (not glibc's);
// each has static_asserts on size and field offsets, and tests/shim/abi_test.cpp checks them
// against the host's own headers.
//
// Contract: these are plain trivially-copyable records, copied to and from guest memory as bytes
// (never through a typed guest pointer, so guest alignment never matters).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace litebox::shim::linux_abi::abi {

// ---- time --------------------------------------------------------------------------------------
struct timespec {
    std::int64_t tv_sec;
    std::int64_t tv_nsec;
};
struct timeval {
    std::int64_t tv_sec;
    std::int64_t tv_usec;
};
struct timezone {
    std::int32_t tz_minuteswest;
    std::int32_t tz_dsttime;
};
struct itimerspec {
    timespec it_interval;
    timespec it_value;
};
struct itimerval {
    timeval it_interval;
    timeval it_value;
};
/// struct sigevent (timer_create): 64 bytes; only the thread id of the union is read.
struct sigevent {
    std::uint64_t sigev_value;
    std::int32_t sigev_signo;
    std::int32_t sigev_notify;
    std::int32_t sigev_notify_thread_id;
    std::int32_t padding[11];
};
struct tms {
    std::int64_t tms_utime;
    std::int64_t tms_stime;
    std::int64_t tms_cutime;
    std::int64_t tms_cstime;
};

// ---- files -------------------------------------------------------------------------------------
struct stat {
    std::uint64_t st_dev;
    std::uint64_t st_ino;
    std::uint64_t st_nlink;
    std::uint32_t st_mode;
    std::uint32_t st_uid;
    std::uint32_t st_gid;
    std::int32_t pad0;
    std::uint64_t st_rdev;
    std::int64_t st_size;
    std::int64_t st_blksize;
    std::int64_t st_blocks;
    std::int64_t st_atime_sec;
    std::uint64_t st_atime_nsec;
    std::int64_t st_mtime_sec;
    std::uint64_t st_mtime_nsec;
    std::int64_t st_ctime_sec;
    std::uint64_t st_ctime_nsec;
    std::int64_t unused[3];
};
struct statx_timestamp {
    std::int64_t tv_sec;
    std::uint32_t tv_nsec;
    std::int32_t reserved;
};
struct statx {
    std::uint32_t stx_mask;
    std::uint32_t stx_blksize;
    std::uint64_t stx_attributes;
    std::uint32_t stx_nlink;
    std::uint32_t stx_uid;
    std::uint32_t stx_gid;
    std::uint16_t stx_mode;
    std::uint16_t spare0;
    std::uint64_t stx_ino;
    std::uint64_t stx_size;
    std::uint64_t stx_blocks;
    std::uint64_t stx_attributes_mask;
    statx_timestamp stx_atime;
    statx_timestamp stx_btime;
    statx_timestamp stx_ctime;
    statx_timestamp stx_mtime;
    std::uint32_t stx_rdev_major;
    std::uint32_t stx_rdev_minor;
    std::uint32_t stx_dev_major;
    std::uint32_t stx_dev_minor;
    std::uint64_t stx_mnt_id;
    std::uint32_t stx_dio_mem_align;
    std::uint32_t stx_dio_offset_align;
    std::uint64_t spare3[12];
};
/// The fixed head of a linux_dirent64 record; d_name (NUL-terminated) follows at offset 19 and
/// the record is padded to a multiple of 8 bytes.
struct linux_dirent64_head {
    std::uint64_t d_ino;
    std::int64_t d_off;
    std::uint16_t d_reclen;
    std::uint8_t d_type;
};
inline constexpr std::size_t dirent64_name_offset = 19;
struct statfs {
    std::int64_t f_type;
    std::int64_t f_bsize;
    std::uint64_t f_blocks;
    std::uint64_t f_bfree;
    std::uint64_t f_bavail;
    std::uint64_t f_files;
    std::uint64_t f_ffree;
    std::int32_t f_fsid[2];
    std::int64_t f_namelen;
    std::int64_t f_frsize;
    std::int64_t f_flags;
    std::int64_t f_spare[4];
};
struct flock {
    std::int16_t l_type;
    std::int16_t l_whence;
    std::int64_t l_start;
    std::int64_t l_len;
    std::int32_t l_pid;
};
struct open_how {
    std::uint64_t flags;
    std::uint64_t mode;
    std::uint64_t resolve;
};

// ---- I/O vectors, messages, readiness ----------------------------------------------------------
struct iovec {
    std::uint64_t iov_base;
    std::uint64_t iov_len;
};
struct msghdr {
    std::uint64_t msg_name;
    std::uint32_t msg_namelen;
    std::uint32_t pad0;
    std::uint64_t msg_iov;
    std::uint64_t msg_iovlen;
    std::uint64_t msg_control;
    std::uint64_t msg_controllen;
    std::int32_t msg_flags;
    std::uint32_t pad1;
};
/// sendmmsg/recvmmsg: one message and the byte count the kernel reports for it.
struct mmsghdr {
    msghdr msg_hdr;
    std::uint32_t msg_len;
    std::uint32_t pad;
};
struct cmsghdr {
    std::uint64_t cmsg_len;
    std::int32_t cmsg_level;
    std::int32_t cmsg_type;
};
struct ucred {
    std::int32_t pid;
    std::uint32_t uid;
    std::uint32_t gid;
};
struct pollfd {
    std::int32_t fd;
    std::int16_t events;
    std::int16_t revents;
};
#pragma pack(push, 4)
struct epoll_event {
    std::uint32_t events;
    std::uint64_t data;
};
#pragma pack(pop)
struct sockaddr_un {
    std::uint16_t sun_family;
    char sun_path[108];
};
/// sin_port and sin_addr are in network byte order.
struct sockaddr_in {
    std::uint16_t sin_family;
    std::uint16_t sin_port;
    std::uint32_t sin_addr;
    std::uint8_t sin_zero[8];
};
struct sockaddr_in6 {
    std::uint16_t sin6_family;
    std::uint16_t sin6_port;
    std::uint32_t sin6_flowinfo;
    std::uint8_t sin6_addr[16];
    std::uint32_t sin6_scope_id;
};
/// sizeof(struct sockaddr_storage): the most address bytes a socket call copies in.
inline constexpr std::size_t sockaddr_storage_size = 128;

// ---- processes and the system -----------------------------------------------------------------
struct rlimit {
    std::uint64_t rlim_cur;
    std::uint64_t rlim_max;
};
struct utsname {
    char sysname[65];
    char nodename[65];
    char release[65];
    char version[65];
    char machine[65];
    char domainname[65];
};
struct sysinfo {
    std::int64_t uptime;
    std::uint64_t loads[3];
    std::uint64_t totalram;
    std::uint64_t freeram;
    std::uint64_t sharedram;
    std::uint64_t bufferram;
    std::uint64_t totalswap;
    std::uint64_t freeswap;
    std::uint16_t procs;
    std::uint16_t pad;
    std::uint64_t totalhigh;
    std::uint64_t freehigh;
    std::uint32_t mem_unit;
};
struct rusage {
    timeval ru_utime;
    timeval ru_stime;
    std::int64_t ru_maxrss;
    std::int64_t ru_ixrss;
    std::int64_t ru_idrss;
    std::int64_t ru_isrss;
    std::int64_t ru_minflt;
    std::int64_t ru_majflt;
    std::int64_t ru_nswap;
    std::int64_t ru_inblock;
    std::int64_t ru_oublock;
    std::int64_t ru_msgsnd;
    std::int64_t ru_msgrcv;
    std::int64_t ru_nsignals;
    std::int64_t ru_nvcsw;
    std::int64_t ru_nivcsw;
};
/// siginfo_t: 128 bytes; the fields waitid and SIGCHLD use (the union starts at offset 16).
/// Field names avoid the si_* macros of <signal.h>.
struct siginfo {
    std::int32_t signo;
    std::int32_t error;
    std::int32_t code;
    std::int32_t pad0;
    std::int32_t pid;
    std::uint32_t uid;
    std::int32_t status;
    std::int32_t pad1;
    std::int64_t utime;
    std::int64_t stime;
    std::uint8_t rest[80];
};
/// The kernel's struct sigaction for rt_sigaction (not glibc's).
/// Field names avoid the sa_* macros of <signal.h>.
struct kernel_sigaction {
    std::uint64_t handler;
    std::uint64_t flags;
    std::uint64_t restorer;
    std::uint64_t mask;
};

// ---- layout checks -----------------------------------------------------------------------------
#define LITEBOX_ABI_CHECK(type, size)                                                          \
    static_assert(sizeof(type) == (size), "x86-64 layout of " #type);                          \
    static_assert(std::is_trivially_copyable_v<type> && std::is_standard_layout_v<type>, #type)
#define LITEBOX_ABI_OFFSET(type, field, offset) static_assert(offsetof(type, field) == (offset), #type "::" #field)

LITEBOX_ABI_CHECK(timespec, 16);
LITEBOX_ABI_CHECK(timeval, 16);
LITEBOX_ABI_CHECK(timezone, 8);
LITEBOX_ABI_CHECK(itimerspec, 32);
LITEBOX_ABI_OFFSET(itimerspec, it_value, 16);
LITEBOX_ABI_CHECK(itimerval, 32);
LITEBOX_ABI_OFFSET(itimerval, it_value, 16);
LITEBOX_ABI_CHECK(sigevent, 64);
LITEBOX_ABI_OFFSET(sigevent, sigev_signo, 8);
LITEBOX_ABI_OFFSET(sigevent, sigev_notify, 12);
LITEBOX_ABI_OFFSET(sigevent, sigev_notify_thread_id, 16);
LITEBOX_ABI_CHECK(tms, 32);
LITEBOX_ABI_CHECK(stat, 144);
LITEBOX_ABI_OFFSET(stat, st_nlink, 16);
LITEBOX_ABI_OFFSET(stat, st_mode, 24);
LITEBOX_ABI_OFFSET(stat, st_uid, 28);
LITEBOX_ABI_OFFSET(stat, st_rdev, 40);
LITEBOX_ABI_OFFSET(stat, st_size, 48);
LITEBOX_ABI_OFFSET(stat, st_blksize, 56);
LITEBOX_ABI_OFFSET(stat, st_blocks, 64);
LITEBOX_ABI_OFFSET(stat, st_atime_sec, 72);
LITEBOX_ABI_OFFSET(stat, st_mtime_sec, 88);
LITEBOX_ABI_OFFSET(stat, st_ctime_sec, 104);
LITEBOX_ABI_CHECK(statx_timestamp, 16);
LITEBOX_ABI_CHECK(statx, 256);
LITEBOX_ABI_OFFSET(statx, stx_nlink, 16);
LITEBOX_ABI_OFFSET(statx, stx_mode, 28);
LITEBOX_ABI_OFFSET(statx, stx_ino, 32);
LITEBOX_ABI_OFFSET(statx, stx_size, 40);
LITEBOX_ABI_OFFSET(statx, stx_atime, 64);
LITEBOX_ABI_OFFSET(statx, stx_btime, 80);
LITEBOX_ABI_OFFSET(statx, stx_ctime, 96);
LITEBOX_ABI_OFFSET(statx, stx_mtime, 112);
LITEBOX_ABI_OFFSET(statx, stx_rdev_major, 128);
LITEBOX_ABI_OFFSET(statx, stx_dev_major, 136);
LITEBOX_ABI_OFFSET(statx, stx_mnt_id, 144);
LITEBOX_ABI_OFFSET(linux_dirent64_head, d_off, 8);
LITEBOX_ABI_OFFSET(linux_dirent64_head, d_reclen, 16);
LITEBOX_ABI_OFFSET(linux_dirent64_head, d_type, 18);
LITEBOX_ABI_CHECK(statfs, 120);
LITEBOX_ABI_OFFSET(statfs, f_fsid, 56);
LITEBOX_ABI_OFFSET(statfs, f_namelen, 64);
LITEBOX_ABI_OFFSET(statfs, f_flags, 80);
LITEBOX_ABI_CHECK(flock, 32);
LITEBOX_ABI_OFFSET(flock, l_start, 8);
LITEBOX_ABI_OFFSET(flock, l_len, 16);
LITEBOX_ABI_OFFSET(flock, l_pid, 24);
LITEBOX_ABI_CHECK(open_how, 24);
LITEBOX_ABI_CHECK(iovec, 16);
LITEBOX_ABI_CHECK(msghdr, 56);
LITEBOX_ABI_OFFSET(msghdr, msg_namelen, 8);
LITEBOX_ABI_OFFSET(msghdr, msg_iov, 16);
LITEBOX_ABI_OFFSET(msghdr, msg_iovlen, 24);
LITEBOX_ABI_OFFSET(msghdr, msg_control, 32);
LITEBOX_ABI_OFFSET(msghdr, msg_controllen, 40);
LITEBOX_ABI_OFFSET(msghdr, msg_flags, 48);
LITEBOX_ABI_CHECK(mmsghdr, 64);
LITEBOX_ABI_OFFSET(mmsghdr, msg_len, 56);
LITEBOX_ABI_CHECK(cmsghdr, 16);
LITEBOX_ABI_CHECK(ucred, 12);
LITEBOX_ABI_CHECK(pollfd, 8);
LITEBOX_ABI_OFFSET(pollfd, events, 4);
LITEBOX_ABI_OFFSET(pollfd, revents, 6);
LITEBOX_ABI_CHECK(epoll_event, 12);
LITEBOX_ABI_OFFSET(epoll_event, data, 4);
LITEBOX_ABI_CHECK(sockaddr_un, 110);
LITEBOX_ABI_OFFSET(sockaddr_un, sun_path, 2);
LITEBOX_ABI_CHECK(sockaddr_in, 16);
LITEBOX_ABI_OFFSET(sockaddr_in, sin_port, 2);
LITEBOX_ABI_OFFSET(sockaddr_in, sin_addr, 4);
LITEBOX_ABI_OFFSET(sockaddr_in, sin_zero, 8);
LITEBOX_ABI_CHECK(sockaddr_in6, 28);
LITEBOX_ABI_OFFSET(sockaddr_in6, sin6_flowinfo, 4);
LITEBOX_ABI_OFFSET(sockaddr_in6, sin6_addr, 8);
LITEBOX_ABI_OFFSET(sockaddr_in6, sin6_scope_id, 24);
LITEBOX_ABI_CHECK(rlimit, 16);
LITEBOX_ABI_CHECK(utsname, 390);
LITEBOX_ABI_OFFSET(utsname, machine, 260);
LITEBOX_ABI_CHECK(sysinfo, 112);
LITEBOX_ABI_OFFSET(sysinfo, totalram, 32);
LITEBOX_ABI_OFFSET(sysinfo, procs, 80);
LITEBOX_ABI_OFFSET(sysinfo, totalhigh, 88);
LITEBOX_ABI_OFFSET(sysinfo, mem_unit, 104);
LITEBOX_ABI_CHECK(rusage, 144);
LITEBOX_ABI_OFFSET(rusage, ru_maxrss, 32);
LITEBOX_ABI_OFFSET(rusage, ru_nivcsw, 136);
LITEBOX_ABI_CHECK(siginfo, 128);
LITEBOX_ABI_OFFSET(siginfo, code, 8);
LITEBOX_ABI_OFFSET(siginfo, pid, 16);
LITEBOX_ABI_OFFSET(siginfo, uid, 20);
LITEBOX_ABI_OFFSET(siginfo, status, 24);
LITEBOX_ABI_OFFSET(siginfo, utime, 32);
LITEBOX_ABI_CHECK(kernel_sigaction, 32);

#undef LITEBOX_ABI_CHECK
#undef LITEBOX_ABI_OFFSET

}  // namespace litebox::shim::linux_abi::abi
