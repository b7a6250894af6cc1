// inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch: instances of fs/inotify.hpp on
// the box's namespace. Reading, polling, FIONREAD and closing go through the ordinary descriptor
// paths (the instance is an open file).
//
// Contract (Linux's): inotify_init1 accepts IN_NONBLOCK and IN_CLOEXEC only (EINVAL otherwise);
// EMFILE past ShimConfig::max_inotify_instances. inotify_add_watch: EINVAL for a mask with an
// unknown bit or no known one (a mask of flags only is accepted, as the kernel does, not as the man
// page says), EBADF for a bad descriptor, EINVAL for one that is not an inotify instance or for
// IN_MASK_ADD with IN_MASK_CREATE; the path is resolved like stat(2) (IN_DONT_FOLLOW: like lstat;
// IN_ONLYDIR: ENOTDIR for a non-directory) and must be readable (EACCES); ENOSPC past
// ShimConfig::max_inotify_watches. inotify_rm_watch: EINVAL for an unknown wd.
#pragma once

#include "../../fs/inotify.hpp"
#include "fs_common.hpp"

namespace litebox::shim::linux_abi {

namespace inotify_detail {
template <typename P>
Result<fs::Inotify<P>*> instance_of(ThreadContext<P>& t, std::int32_t descriptor, std::shared_ptr<fd::OpenFile<P>>& keep) {
    return descriptor_object<fs::Inotify<P>>(t, descriptor, keep, [](fd::OpenFile<P>& f) { return fs::inotify_of(f); });
}
}  // namespace inotify_detail

template <typename P>
SyscallResult sys_inotify_init1(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::uint32_t flags = r.u32(0);
    if ((flags & ~(fs::in_init::nonblock | fs::in_init::close_on_exec)) != 0) return Errno::inval;
    LITEBOX_TRY_ASSIGN(auto instance, fs::Inotify<P>::create(t.kernel().vfs().inotify_hub(), flags));
    LITEBOX_TRY_ASSIGN(const int descriptor, t.files().insert(std::shared_ptr<fd::OpenFile<P>>(std::move(instance)),
                                                              (flags & fs::in_init::close_on_exec) != 0));
    return descriptor;
}

template <typename P>
SyscallResult sys_inotify_init(ThreadContext<P>& t, const SyscallRequest& r) {
    SyscallRequest one = r;
    one.args[0] = 0;
    return sys_inotify_init1(t, one);
}

template <typename P>
SyscallResult sys_inotify_add_watch(ThreadContext<P>& t, const SyscallRequest& r) {
    namespace ie = fs::in_event;
    const std::int32_t descriptor = r.i32(0);
    const std::uintptr_t address = r.ptr(1);
    const std::uint32_t mask = r.u32(2);
    // Linux's order: the mask (unknown bits, or none known), the descriptor, then IN_MASK_ADD with
    // IN_MASK_CREATE. A mask of flags only is a watch that reports nothing but IN_IGNORED.
    if ((mask & ~ie::known) != 0 || (mask & ie::known) == 0) return Errno::inval;
    std::shared_ptr<fd::OpenFile<P>> keep;
    LITEBOX_TRY_ASSIGN(auto* instance, inotify_detail::instance_of(t, descriptor, keep));
    if ((mask & ie::mask_add) && (mask & ie::mask_create)) return Errno::inval;
    LITEBOX_TRY_ASSIGN(auto path, path_argument(t, abi::at_fdcwd, address));
    const fs::Credentials creds = fs_credentials(t);
    LITEBOX_TRY_ASSIGN(const auto where,
                       t.kernel().vfs().resolve(creds, path.base, path.path, (mask & ie::dont_follow) ? fs::at_flags::symlink_nofollow : 0u));
    if ((mask & ie::only_dir) && !where.is_directory()) return Errno::notdir;
    LITEBOX_TRY_ASSIGN(const fs::Ownership owner, where.inode->ownership());
    LITEBOX_TRY(fs::check_permission(creds, owner, fs::access_mode::read));
    LITEBOX_TRY_ASSIGN(const int wd, instance->add_watch(where, mask & ie::valid_add));
    return wd;
}

template <typename P>
SyscallResult sys_inotify_rm_watch(ThreadContext<P>& t, const SyscallRequest& r) {
    std::shared_ptr<fd::OpenFile<P>> keep;
    LITEBOX_TRY_ASSIGN(auto* instance, inotify_detail::instance_of(t, r.i32(0), keep));
    LITEBOX_TRY(instance->remove_watch(r.i32(1)));
    return 0;
}

}  // namespace litebox::shim::linux_abi
