// Process and thread life: clone, fork, vfork, execve, exit, exit_group. The shim does the
// process-model part; the runtime gets a request (kernel.hpp) for the address-space part.
#pragma once

#include "kernel.hpp"
#include "../../fs/vfs.hpp"
#include "fs_common.hpp"

namespace litebox::shim::linux_abi {

namespace lifecycle_detail {
template <typename P>
SyscallResult clone(ThreadContext<P>& t, std::uint64_t flags, std::uintptr_t stack, std::uintptr_t parent_tid,
                    std::uintptr_t child_tid, std::uint64_t tls, std::uint64_t number) {
    if ((flags & abi::clone_namespaces) != 0) {
        t.kernel().unsupported(number, "namespace flags");
        return Errno::inval;
    }
    if ((flags & abi::clone_pidfd) != 0) {
        t.kernel().unsupported(number, "CLONE_PIDFD");
        return Errno::inval;
    }
    if ((flags & abi::clone_thread) != 0 && (flags & abi::clone_sighand) == 0) return Errno::inval;
    if ((flags & abi::clone_sighand) != 0 && (flags & abi::clone_vm) == 0) return Errno::inval;
    if ((flags & abi::clone_sighand) != 0 && (flags & abi::clone_thread) == 0)
        t.kernel().unsupported(number, "CLONE_SIGHAND without CLONE_THREAD (handlers are copied)");
    LITEBOX_TRY_ASSIGN(auto created, t.kernel().tasks().clone(t.thread(), flags));
    const int child = created.thread->tid();
    if ((flags & abi::clone_parent_settid) != 0) (void)Guest<P>::write(parent_tid, static_cast<std::int32_t>(child));
    if ((flags & abi::clone_child_cleartid) != 0) created.thread->clear_child_tid.store(child_tid, std::memory_order_relaxed);
    CloneRequest<P> request;
    request.child = std::make_unique<ThreadContext<P>>(t.kernel(), std::move(created.process), std::move(created.thread));
    request.flags = flags;
    request.stack = stack;
    request.child_tid = (flags & abi::clone_child_settid) != 0 ? child_tid : 0;
    request.tls = (flags & abi::clone_settls) != 0 ? tls : 0;
    t.set_request(std::move(request));
    return child;
}

/// Reads a NULL-terminated array of strings, charging every byte (and pointer) to `budget`.
template <typename P>
Result<std::vector<std::string>> read_string_array(std::uintptr_t address, std::size_t& budget) {
    std::vector<std::string> out;
    if (address == 0) return out;
    for (std::size_t i = 0;; ++i) {
        if (budget < sizeof(std::uint64_t)) return Errno::toobig;
        budget -= sizeof(std::uint64_t);
        LITEBOX_TRY_ASSIGN(const std::uint64_t pointer, Guest<P>::template read<std::uint64_t>(address + i * sizeof(std::uint64_t)));
        if (pointer == 0) return out;
        auto text = Guest<P>::read_string(static_cast<std::uintptr_t>(pointer), budget);
        if (!text.has_value()) return text.error() == Errno::nametoolong ? Errno::toobig : text.error();
        budget -= text->size() + 1;
        out.push_back(std::move(*text));
    }
}
}  // namespace lifecycle_detail

template <typename P>
SyscallResult sys_clone(ThreadContext<P>& t, const SyscallRequest& r) {
    return lifecycle_detail::clone(t, r.u64(0), r.ptr(1), r.ptr(2), r.ptr(3), r.u64(4), r.number);
}
template <typename P>
SyscallResult sys_fork(ThreadContext<P>& t, const SyscallRequest& r) {
    return lifecycle_detail::clone(t, abi::sigchld, 0, 0, 0, 0, r.number);
}
template <typename P>
SyscallResult sys_vfork(ThreadContext<P>& t, const SyscallRequest& r) {
    return lifecycle_detail::clone(t, abi::clone_vm | abi::clone_vfork | abi::sigchld, 0, 0, 0, 0, r.number);
}

/// execve: copies the path, argv and envp in (ARG_MAX-like budget, E2BIG beyond) and asks the
/// runtime to load the program; the runtime then calls Kernel::complete_exec.
template <typename P>
SyscallResult sys_execve(ThreadContext<P>& t, const SyscallRequest& r) {
    LITEBOX_TRY_ASSIGN(std::string path, Guest<P>::read_path(r.ptr(0)));
    if (path.empty()) return Errno::noent;
    std::size_t budget = t.kernel().config().max_exec_strings_bytes;
    LITEBOX_TRY_ASSIGN(auto argv, lifecycle_detail::read_string_array<P>(r.ptr(1), budget));
    LITEBOX_TRY_ASSIGN(auto envp, lifecycle_detail::read_string_array<P>(r.ptr(2), budget));
    t.set_request(ExecRequest{std::move(path), std::move(argv), std::move(envp)});
    return 0;
}

/// execveat: as execve, with the program named relative to a directory descriptor, or (empty
/// path with AT_EMPTY_PATH) the open file itself -- fexecve. Linux gives the program the name
/// "/dev/fd/N" or "/dev/fd/N/PATH"; with a close-on-exec descriptor that name is gone in the new
/// image, so a `#!` script fails with ENOENT there (the runtime checks) while a binary runs.
template <typename P>
SyscallResult sys_execveat(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t dirfd = r.i32(0);
    const std::uint32_t flags = r.u32(4);
    // Linux's order: the path (ENOENT when empty without AT_EMPTY_PATH), argv and envp, then
    // the flags and the descriptor.
    LITEBOX_TRY_ASSIGN(std::string path, Guest<P>::read_path(r.ptr(1)));
    if (path.empty() && (flags & abi::at_empty_path) == 0) return Errno::noent;
    std::size_t budget = t.kernel().config().max_exec_strings_bytes;
    LITEBOX_TRY_ASSIGN(auto argv, lifecycle_detail::read_string_array<P>(r.ptr(2), budget));
    LITEBOX_TRY_ASSIGN(auto envp, lifecycle_detail::read_string_array<P>(r.ptr(3), budget));
    if ((flags & ~(abi::at_symlink_nofollow | abi::at_empty_path)) != 0) return Errno::inval;
    ExecRequest request{{}, std::move(argv), std::move(envp)};
    request.nofollow = (flags & abi::at_symlink_nofollow) != 0;
    if (path.empty()) {
        LITEBOX_TRY_ASSIGN(auto file, t.files().get(dirfd));  // EBADF
        (void)file;
        LITEBOX_TRY_ASSIGN(const bool cloexec, t.files().close_on_exec(dirfd));
        request.path = "/dev/fd/" + std::to_string(dirfd);
        request.descriptor = dirfd;
        request.name_inaccessible = cloexec;
    } else if (path.front() != '/' && dirfd != abi::at_fdcwd) {
        // The directory's path, resolved now (EBADF, ENOTDIR); the script name is Linux's.
        LITEBOX_TRY_ASSIGN(auto base, at_base(t, dirfd, path));
        if (!base.is_directory()) return Errno::notdir;
        LITEBOX_TRY_ASSIGN(std::string directory, t.kernel().vfs().path_of(base));
        LITEBOX_TRY_ASSIGN(const bool cloexec, t.files().close_on_exec(dirfd));
        request.invoked_as = "/dev/fd/" + std::to_string(dirfd) + "/" + path;
        request.path = (directory == "/" ? std::string() : directory) + "/" + path;
        request.name_inaccessible = cloexec;
    } else {
        request.path = std::move(path);
    }
    t.set_request(std::move(request));
    return 0;
}

template <typename P>
SyscallResult sys_exit(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t code = r.i32(0);
    t.set_request(ExitRequest{exit_wait_status(code), false, t.thread().clear_child_tid.load(std::memory_order_relaxed)});
    (void)t.kernel().tasks().exit_thread(t.thread(), code);  // the last thread closes the descriptors
    return 0;
}
template <typename P>
SyscallResult sys_exit_group(ThreadContext<P>& t, const SyscallRequest& r) {
    const std::int32_t code = r.i32(0);
    t.set_request(ExitRequest{exit_wait_status(code), true, t.thread().clear_child_tid.load(std::memory_order_relaxed)});
    t.kernel().record_final_cpu(t.process());
    t.kernel().tasks().exit_group(t.process(), exit_wait_status(code));  // closes the descriptors
    return 0;
}

}  // namespace litebox::shim::linux_abi
