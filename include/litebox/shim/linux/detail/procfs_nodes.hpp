// The inodes of procfs (procfs.hpp): generated text files, caller-aware symlinks and directories
// whose entries come from the process table.
#pragma once

#include "../procfs.hpp"  // for standalone header checks; procfs.hpp includes this file at its end

#include <array>
#include <charconv>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../../../ipc/pipe.hpp"
#include "../../../sync/mutex.hpp"
#include "net_interface_list.hpp"
#include "procfs_content.hpp"

namespace litebox::shim::linux_abi {

// Defined in sysv_ipc.hpp (which includes poll.hpp, and so cannot be included here); shim.hpp
// includes both.
template <typename P>
std::string sysvipc_msg_text(Kernel<P>& kernel);
template <typename P>
std::string sysvipc_sem_text(Kernel<P>& kernel);
template <typename P>
std::string sysvipc_shm_text(Kernel<P>& kernel);

}  // namespace litebox::shim::linux_abi

namespace litebox::shim::linux_abi::procfs_detail {

template <typename P>
using InodePtr = typename fs::Inode<P>::Ptr;

// ---- inode numbers: global nodes are small; /proc/<pid>/... are pid << 32 | kind << 24 | index ---
namespace ino {
inline constexpr std::uint64_t root = 1;
inline constexpr std::uint64_t pid_dir(int pid) noexcept { return static_cast<std::uint64_t>(pid) << 32; }
inline constexpr std::uint64_t pid_file(int pid, std::uint64_t index) noexcept { return pid_dir(pid) | index; }
inline constexpr std::uint64_t fd_link(int pid, int fd) noexcept { return pid_dir(pid) | (1ULL << 24) | static_cast<std::uint32_t>(fd); }
inline constexpr std::uint64_t fd_info(int pid, int fd) noexcept { return pid_dir(pid) | (2ULL << 24) | static_cast<std::uint32_t>(fd); }
/// /proc/<pid>/task/<tid> (tids stay below pid_max, far below 2^24) and the files in it.
inline constexpr std::uint64_t task_dir(int pid, int tid) noexcept { return pid_dir(pid) | (3ULL << 24) | static_cast<std::uint32_t>(tid); }
inline constexpr std::uint64_t task_file(int tid, std::uint64_t index) noexcept { return pid_dir(tid) | (4ULL << 24) | index; }
}  // namespace ino

/// A decimal pid or descriptor number ("0" alone; no sign, no leading zeros), or nothing.
inline std::optional<int> parse_number(std::string_view name) noexcept {
    if (name.empty() || name.size() > 9 || (name.size() > 1 && name.front() == '0')) return std::nullopt;
    int value = 0;
    const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), value);
    if (error != std::errc{} || end != name.data() + name.size()) return std::nullopt;
    return value;
}

/// Root may inspect every process; others only processes with their effective uid (the links).
inline bool may_inspect(const fs::Credentials& caller, const Credentials& target) noexcept {
    return caller.euid == 0 || caller.euid == target.euid;
}
/// Following fd/N reaches the object itself, so it takes Linux's ptrace-style rule: root, or the
/// caller's fs ids equal to every real, effective and saved id of the target (a process that
/// dropped or switched ids keeps its descriptors from the other uid).
inline bool may_follow(const fs::Credentials& caller, const Credentials& target) noexcept {
    if (caller.euid == 0) return true;
    return caller.fsuid == target.ruid && caller.fsuid == target.euid && caller.fsuid == target.suid &&
           caller.fsgid == target.rgid && caller.fsgid == target.egid && caller.fsgid == target.sgid;
}

/// Common attributes: type, permissions, owner, and the kernel through the shared source.
template <typename P>
class Node : public fs::Inode<P> {
public:
    Node(std::shared_ptr<Source<P>> source, std::uint64_t number, std::uint32_t mode, std::uint32_t uid = 0, std::uint32_t gid = 0)
        : fs::Inode<P>(number, mode), m_source(std::move(source)), m_mode(mode), m_uid(uid), m_gid(gid) {}

    Result<fs::Stat> getattr() override {
        fs::Stat st;
        st.inode = this->ino();
        st.mode = m_mode;
        st.link_count = this->is_directory() ? 2 : 1;
        st.uid = m_uid;
        st.gid = m_gid;
        st.block_size = 1024;
        if (Kernel<P>* k = kernel()) st.access_time = st.modify_time = st.change_time = fs::detail::wall_clock_now(k->platform());
        return st;
    }
    Result<fs::Ownership> ownership() override { return fs::Ownership{m_mode, m_uid, m_gid}; }

protected:
    [[nodiscard]] Kernel<P>* kernel() const noexcept { return m_source->get(); }
    [[nodiscard]] const std::shared_ptr<Source<P>>& source() const noexcept { return m_source; }

private:
    std::shared_ptr<Source<P>> m_source;
    std::uint32_t m_mode;
    std::uint32_t m_uid;
    std::uint32_t m_gid;
};

/// A regular file whose text is generated on the first read (one snapshot per inode instance).
template <typename P>
class TextFile final : public Node<P> {
public:
    using Generator = std::function<Result<std::string>(Kernel<P>&)>;
    TextFile(std::shared_ptr<Source<P>> source, std::uint64_t number, std::uint32_t perm, std::uint32_t uid, std::uint32_t gid,
             Generator generate)
        : Node<P>(std::move(source), number, fd::mode::regular | perm, uid, gid), m_generate(std::move(generate)) {}

    Result<std::size_t> read(std::span<std::byte> out, std::uint64_t offset) override {
        return m_text.with_lock([&](std::optional<std::string>& text) -> Result<std::size_t> {
            if (!text) {
                Kernel<P>* k = this->kernel();
                if (!k) return Errno::noent;
                LITEBOX_TRY_ASSIGN(std::string made, m_generate(*k));
                text = std::move(made);
            }
            if (offset >= text->size()) return std::size_t{0};
            const std::size_t n = std::min<std::size_t>(out.size(), text->size() - static_cast<std::size_t>(offset));
            std::memcpy(out.data(), text->data() + offset, n);
            return n;
        });
    }

private:
    Generator m_generate;
    sync::Mutex<P, std::optional<std::string>> m_text;
};

/// A symlink whose body depends on the caller (self) or on process state (exe, cwd, fd/N). With
/// a Jumper it is a magic link: following it leads to the object itself (fs::Inode::jump_as).
template <typename P>
class Link final : public Node<P> {
public:
    using Generator = std::function<Result<std::string>(Kernel<P>&, const fs::Credentials&)>;
    using Jump = typename fs::Inode<P>::Jump;
    using Jumper = std::function<Result<std::optional<Jump>>(Kernel<P>&, const fs::Credentials&)>;
    Link(std::shared_ptr<Source<P>> source, std::uint64_t number, std::uint32_t uid, std::uint32_t gid, Generator generate,
         Jumper jump = {})
        : Node<P>(std::move(source), number, fd::mode::symlink | 0777, uid, gid), m_generate(std::move(generate)), m_jump(std::move(jump)) {}

    Result<std::string> readlink() override { return readlink_as(fs::Credentials::root()); }
    Result<std::string> readlink_as(const fs::Credentials& caller) override {
        Kernel<P>* k = this->kernel();
        if (!k) return Errno::noent;
        return m_generate(*k, caller);
    }
    Result<std::optional<Jump>> jump_as(const fs::Credentials& caller) override {
        if (!m_jump) return std::optional<Jump>{};
        Kernel<P>* k = this->kernel();
        if (!k) return Errno::noent;
        return m_jump(*k, caller);
    }

private:
    Generator m_generate;
    Jumper m_jump;
};

/// An anonymous pipe reached through /proc/<pid>/fd/N: opening it opens a new end of that pipe
/// with a FIFO's rules (Linux does the same), through the VFS's FIFO opener and this attachment.
template <typename P>
class PipeNode final : public Node<P> {
public:
    PipeNode(std::shared_ptr<Source<P>> source, const fd::Stat& st, std::uint32_t uid, std::uint32_t gid,
             std::shared_ptr<ipc::Pipe<P>> pipe)
        : Node<P>(std::move(source), st.inode, fd::mode::fifo | 0600, uid, gid), m_stat(st), m_pipe(std::move(pipe)) {
        m_stat.uid = uid;
        m_stat.gid = gid;
        m_stat.device = 0;  // the VFS fills in the mount's (Source::objects: the pipe's own)
        m_attachment.try_attach(m_pipe);
    }
    /// The pipe's own attributes (inode number, type, times), as fstat of its ends reports them.
    Result<fs::Stat> getattr() override { return m_stat; }
    fs::Attachment<P>* attachment() noexcept override { return &m_attachment; }

private:
    fs::Stat m_stat;
    std::shared_ptr<ipc::Pipe<P>> m_pipe;  // held for the open: the last end may close meanwhile
    fs::Attachment<P> m_attachment;
};

/// A socket or an anonymous-inode object (eventfd, epoll, timerfd) reached through
/// /proc/<pid>/fd/N: stat reports the object's attributes as fstat of its descriptor does (Linux's
/// stat follows the link); opening it fails with ENXIO (the VFS opens no socket inode and no
/// inode without a file type), and an O_PATH descriptor of it does not keep the object alive.
template <typename P>
class ObjectNode final : public Node<P> {
public:
    ObjectNode(std::shared_ptr<Source<P>> source, const fd::Stat& st, std::uint32_t uid, std::uint32_t gid)
        : Node<P>(std::move(source), st.inode, st.mode, uid, gid), m_stat(st) {}
    Result<fs::Stat> getattr() override { return m_stat; }

private:
    fs::Stat m_stat;
};

/// Where /proc/<pid>/fd/N leads: a file system object's own location (a file renamed or unlinked
/// since it was opened included), a new end of an anonymous pipe, or a node with the attributes of
/// a socket or an anonymous object (which cannot be opened, as on Linux).
template <typename P>
Result<std::optional<typename fs::Inode<P>::Jump>> descriptor_jump(const std::shared_ptr<Source<P>>& source, fd::OpenFile<P>& file,
                                                                   std::uint32_t uid, std::uint32_t gid) {
    using Jump = typename fs::Inode<P>::Jump;
    if (const auto* handle = dynamic_cast<const fs::FileHandle<P>*>(&file)) {
        Jump jump{handle->location().mount, handle->location().inode, nullptr, nullptr, {}};
        if (const auto& origin = handle->origin()) {
            jump.origin_mount = origin->directory.mount;
            jump.origin_directory = origin->directory.inode;
            jump.origin_name = origin->name;
        }
        return std::optional<Jump>(std::move(jump));
    }
    if (auto* end = dynamic_cast<ipc::PipeEnd<P>*>(&file)) {
        LITEBOX_TRY_ASSIGN(const fd::Stat st, end->stat());
        auto pipe = end->pipe().weak_from_this().lock();  // (shared_from_this could throw)
        if (!pipe) return Errno::nxio;
        return std::optional<Jump>(Jump{source->objects, std::make_shared<PipeNode<P>>(source, st, uid, gid, pipe), nullptr, nullptr, {}});
    }
    LITEBOX_TRY_ASSIGN(const fd::Stat st, file.stat());
    return std::optional<Jump>(Jump{source->objects, std::make_shared<ObjectNode<P>>(source, st, uid, gid), nullptr, nullptr, {}});
}

/// One directory entry as a procfs directory lists it; `key` orders entries and is the cookie.
struct Entry {
    std::string name;
    std::uint64_t ino;
    std::uint8_t type;
    std::uint64_t key;
};

template <typename P>
class Directory : public Node<P> {
public:
    Directory(std::shared_ptr<Source<P>> source, std::uint64_t number, std::uint32_t perm, std::uint32_t uid, std::uint32_t gid,
              InodePtr<P> parent)
        : Node<P>(std::move(source), number, fd::mode::directory | perm, uid, gid), m_parent(std::move(parent)) {}

    Result<InodePtr<P>> lookup(std::string_view name) override {
        if (name == "..") {
            if (m_parent) return m_parent;
            if (auto self = m_self.lock()) return self;
            return Errno::noent;
        }
        Kernel<P>* k = this->kernel();
        if (!k) return Errno::noent;
        return child(*k, name);
    }
    Result<void> readdir(std::uint64_t cookie, fd::DirectorySink& sink) override {
        Kernel<P>* k = this->kernel();
        if (!k) return Errno::noent;
        LITEBOX_TRY_ASSIGN(std::vector<Entry> list, entries(*k));
        std::sort(list.begin(), list.end(), [](const Entry& a, const Entry& b) { return a.key < b.key; });
        for (const Entry& e : list) {
            if (e.key < cookie) continue;
            if (!sink.add(fd::DirectoryEntry{e.name, e.ino, e.type, e.key + 1})) break;
        }
        return ok();
    }
    /// The root's ".." is itself: it keeps a weak reference to its own shared_ptr.
    void set_self(const InodePtr<P>& self) { m_self = self; }

protected:
    virtual Result<std::vector<Entry>> entries(Kernel<P>& k) = 0;
    virtual Result<InodePtr<P>> child(Kernel<P>& k, std::string_view name) = 0;
    /// This directory as the parent of the children it makes.
    [[nodiscard]] InodePtr<P> self_ptr() const { return m_self.lock(); }

    InodePtr<P> m_parent;
    std::weak_ptr<fs::Inode<P>> m_self;
};

/// Makes a directory of type D and lets it know its own shared_ptr.
template <typename D, typename... Args>
std::shared_ptr<D> make_directory(Args&&... args) {
    auto dir = std::make_shared<D>(std::forward<Args>(args)...);
    dir->set_self(dir);
    return dir;
}

constexpr std::uint8_t dt_dir = fd::dirent_type::directory;
constexpr std::uint8_t dt_reg = fd::dirent_type::regular;
constexpr std::uint8_t dt_lnk = fd::dirent_type::symlink;

/// /proc/<pid>/fd (links) or /proc/<pid>/fdinfo (text files).
template <typename P>
class DescriptorDirectory final : public Directory<P> {
public:
    DescriptorDirectory(std::shared_ptr<Source<P>> source, int pid, bool info, std::uint32_t uid, std::uint32_t gid, InodePtr<P> parent)
        : Directory<P>(std::move(source), ino::pid_file(pid, info ? 5 : 4), 0500, uid, gid, std::move(parent)),
          m_pid(pid), m_info(info), m_uid(uid), m_gid(gid) {}

protected:
    Result<std::vector<Entry>> entries(Kernel<P>& k) override {
        auto process = k.tasks().find_process(m_pid);
        if (!process) return Errno::noent;
        std::vector<Entry> list;
        process->files()->for_each([&](int fd, const auto&, bool) {
            list.push_back(Entry{std::to_string(fd), m_info ? ino::fd_info(m_pid, fd) : ino::fd_link(m_pid, fd), m_info ? dt_reg : dt_lnk,
                                 static_cast<std::uint64_t>(fd)});
        });
        return list;
    }
    Result<InodePtr<P>> child(Kernel<P>& k, std::string_view name) override {
        const auto number = parse_number(name);
        if (!number) {
            // The text of a pipe/socket/anonymous link, followed as a relative path: such objects
            // cannot be reopened by name.
            if (name.starts_with("pipe:[") || name.starts_with("socket:[") || name.starts_with("anon_inode:")) return Errno::nxio;
            return Errno::noent;
        }
        auto process = k.tasks().find_process(m_pid);
        if (!process) return Errno::noent;
        if (!process->files()->get(*number)) return Errno::noent;
        const std::uint32_t uid = m_uid, gid = m_gid;
        const int pid = m_pid, fd = *number;
        std::weak_ptr<Process<P>> weak = process;
        if (m_info) {
            return InodePtr<P>(std::make_shared<TextFile<P>>(this->source(), ino::fd_info(pid, fd), 0444, uid, gid,
                                                             [weak, fd](Kernel<P>&) -> Result<std::string> {
                auto p = weak.lock();
                if (!p) return Errno::srch;
                const auto files = p->files();
                LITEBOX_TRY_ASSIGN(auto file, files->get(fd));
                LITEBOX_TRY_ASSIGN(const bool cloexec, files->close_on_exec(fd));
                return fdinfo_text<P>(*file, cloexec);
            }));
        }
        auto source = this->source();
        return InodePtr<P>(std::make_shared<Link<P>>(
            source, ino::fd_link(pid, fd), uid, gid,
            [weak, fd](Kernel<P>& kk, const fs::Credentials& caller) -> Result<std::string> {
                auto p = weak.lock();
                if (!p) return Errno::noent;
                if (!may_inspect(caller, p->credentials())) return Errno::acces;
                LITEBOX_TRY_ASSIGN(auto file, p->files()->get(fd));
                return descriptor_link<P>(kk, *file);
            },
            [weak, fd, source](Kernel<P>&, const fs::Credentials& caller) -> Result<std::optional<typename Link<P>::Jump>> {
                auto p = weak.lock();
                if (!p) return Errno::noent;
                if (!may_follow(caller, p->credentials())) return Errno::acces;
                LITEBOX_TRY_ASSIGN(auto file, p->files()->get(fd));
                const auto owner = p->credentials();
                return descriptor_jump<P>(source, *file, owner.euid, owner.egid);
            }));
    }

private:
    int m_pid;
    bool m_info;
    std::uint32_t m_uid;
    std::uint32_t m_gid;
};

/// The tids of a process's live threads, ascending (empty once it is gone or a zombie).
template <typename P>
std::vector<int> thread_ids(Process<P>& process) {
    std::vector<int> tids;
    process.state().with_lock([&](auto& st) {
        for (const auto& t : st.threads) tids.push_back(t->tid());
    });
    std::sort(tids.begin(), tids.end());
    return tids;
}

/// /proc/<pid>/task/<tid>: the thread's stat, status and comm, generated as /proc/<pid>'s are but
/// from that thread (its id, name, signal mask, sleep and CPU times; the rest is the process's).
template <typename P>
class ThreadDirectory final : public Directory<P> {
public:
    ThreadDirectory(std::shared_ptr<Source<P>> source, int pid, int tid, std::weak_ptr<Process<P>> process, std::uint32_t uid,
                    std::uint32_t gid, InodePtr<P> parent)
        : Directory<P>(std::move(source), ino::task_dir(pid, tid), 0555, uid, gid, std::move(parent)),
          m_pid(pid), m_tid(tid), m_process(std::move(process)), m_uid(uid), m_gid(gid) {}

protected:
    static constexpr std::string_view items[] = {"stat", "status", "comm"};
    [[nodiscard]] bool alive(Kernel<P>& k) const {
        const auto p = m_process.lock();
        if (!p || p != k.tasks().find_process(m_pid)) return false;
        const auto tids = thread_ids(*p);
        return std::find(tids.begin(), tids.end(), m_tid) != tids.end();
    }
    Result<std::vector<Entry>> entries(Kernel<P>& k) override {
        if (!alive(k)) return Errno::noent;
        std::vector<Entry> list;
        for (std::size_t i = 0; i < std::size(items); ++i) list.push_back(Entry{std::string(items[i]), ino::task_file(m_tid, i + 1), dt_reg, i});
        return list;
    }
    Result<InodePtr<P>> child(Kernel<P>& k, std::string_view name) override {
        if (!alive(k)) return Errno::noent;
        std::size_t index = 0;
        while (index < std::size(items) && items[index] != name) ++index;
        if (index == std::size(items)) return Errno::noent;
        const int pid = m_pid, tid = m_tid;
        const auto weak = m_process;
        return InodePtr<P>(std::make_shared<TextFile<P>>(this->source(), ino::task_file(tid, index + 1), 0444, m_uid, m_gid,
                                                         [pid, tid, weak, index](Kernel<P>& kk) -> Result<std::string> {
            const auto opened = weak.lock();
            if (!opened || opened != kk.tasks().find_process(pid)) return Errno::srch;
            LITEBOX_TRY_ASSIGN(const ProcessSnapshot s, snapshot(kk, pid, tid));
            if (index == 0) return stat_text(s);
            if (index == 1) return status_text(s);
            return comm_of(s) + "\n";
        }));
    }

private:
    int m_pid;
    int m_tid;
    std::weak_ptr<Process<P>> m_process;
    std::uint32_t m_uid;
    std::uint32_t m_gid;
};

/// /proc/<pid>/task: one directory per live thread of the process, named by its tid.
template <typename P>
class TaskDirectory final : public Directory<P> {
public:
    TaskDirectory(std::shared_ptr<Source<P>> source, std::uint64_t number, int pid, std::weak_ptr<Process<P>> process,
                  std::uint32_t uid, std::uint32_t gid, InodePtr<P> parent)
        : Directory<P>(std::move(source), number, 0555, uid, gid, std::move(parent)),
          m_pid(pid), m_process(std::move(process)), m_uid(uid), m_gid(gid) {}

protected:
    [[nodiscard]] std::shared_ptr<Process<P>> current(Kernel<P>& k) const {
        auto p = m_process.lock();
        return p && p == k.tasks().find_process(m_pid) ? p : nullptr;
    }
    Result<std::vector<Entry>> entries(Kernel<P>& k) override {
        const auto p = current(k);
        if (!p) return Errno::noent;
        std::vector<Entry> list;
        for (const int tid : thread_ids(*p))
            list.push_back(Entry{std::to_string(tid), ino::task_dir(m_pid, tid), dt_dir, static_cast<std::uint64_t>(tid)});
        return list;
    }
    Result<InodePtr<P>> child(Kernel<P>& k, std::string_view name) override {
        const auto p = current(k);
        if (!p) return Errno::noent;
        const auto tid = parse_number(name);
        if (!tid) return Errno::noent;
        const auto tids = thread_ids(*p);
        if (std::find(tids.begin(), tids.end(), *tid) == tids.end()) return Errno::noent;
        return InodePtr<P>(make_directory<ThreadDirectory<P>>(this->source(), m_pid, *tid, m_process, m_uid, m_gid, this->self_ptr()));
    }

private:
    int m_pid;
    std::weak_ptr<Process<P>> m_process;
    std::uint32_t m_uid;
    std::uint32_t m_gid;
};

/// /proc/<pid>.
template <typename P>
class ProcessDirectory final : public Directory<P> {
public:
    ProcessDirectory(std::shared_ptr<Source<P>> source, int pid, std::uint32_t uid, std::uint32_t gid, InodePtr<P> parent)
        : Directory<P>(std::move(source), ino::pid_dir(pid), 0555, uid, gid, std::move(parent)), m_pid(pid), m_uid(uid), m_gid(gid) {}

protected:
    struct Item {
        std::string_view name;
        std::uint8_t type;
    };
    static constexpr Item items[] = {{"exe", dt_lnk},     {"cwd", dt_lnk},      {"root", dt_lnk},    {"fd", dt_dir},
                                     {"fdinfo", dt_dir},  {"cmdline", dt_reg},  {"environ", dt_reg}, {"status", dt_reg},
                                     {"stat", dt_reg},    {"comm", dt_reg},     {"mounts", dt_reg},  {"maps", dt_reg},
                                     {"limits", dt_reg},  {"statm", dt_reg},    {"mountinfo", dt_reg}, {"oom_score_adj", dt_reg},
                                     {"cgroup", dt_reg},  {"task", dt_dir}};
    /// "maps" exists only when the runtime can describe address spaces (Kernel::maps_source).
    static bool present(Kernel<P>& k, std::string_view name) { return name != "maps" || static_cast<bool>(k.maps_source()); }

    Result<std::vector<Entry>> entries(Kernel<P>& k) override {
        if (!k.tasks().find_process(m_pid)) return Errno::noent;
        std::vector<Entry> list;
        for (std::size_t i = 0; i < std::size(items); ++i) {
            if (!present(k, items[i].name)) continue;
            list.push_back(Entry{std::string(items[i].name), ino::pid_file(m_pid, i + 1), items[i].type, i});
        }
        return list;
    }
    Result<InodePtr<P>> child(Kernel<P>& k, std::string_view name) override {
        auto process = k.tasks().find_process(m_pid);
        if (!process) return Errno::noent;
        std::size_t index = 0;
        while (index < std::size(items) && items[index].name != name) ++index;
        if (index == std::size(items) || !present(k, name)) return Errno::noent;
        const std::uint64_t number = ino::pid_file(m_pid, index + 1);
        const int pid = m_pid;
        std::weak_ptr<Process<P>> weak = process;
        const auto text = [&](std::uint32_t perm, auto generate) {
            return InodePtr<P>(std::make_shared<TextFile<P>>(this->source(), number, perm, m_uid, m_gid,
                                                             [pid, weak, generate](Kernel<P>& kk) -> Result<std::string> {
                // The process the file was opened for (and its permission checked against), not
                // a later one that reused its pid.
                const auto opened = weak.lock();
                if (!opened || opened != kk.tasks().find_process(pid)) return Errno::srch;
                LITEBOX_TRY_ASSIGN(const ProcessSnapshot s, snapshot(kk, pid));
                return generate(kk, s);
            }));
        };
        const auto link = [&](auto generate) {
            return InodePtr<P>(std::make_shared<Link<P>>(this->source(), number, m_uid, m_gid,
                                                         [weak, generate](Kernel<P>& kk, const fs::Credentials& caller) -> Result<std::string> {
                auto p = weak.lock();
                if (!p) return Errno::noent;
                if (!may_inspect(caller, p->credentials())) return Errno::acces;
                return generate(kk, *p);
            }));
        };
        if (name == "exe") {
            return link([](Kernel<P>&, Process<P>& p) -> Result<std::string> {
                std::string exe = p.state().with_lock([](auto& st) { return st.exe; });
                if (exe.empty()) return Errno::noent;
                return exe;
            });
        }
        if (name == "cwd") {
            return link([](Kernel<P>& kk, Process<P>& p) -> Result<std::string> {
                auto cwd = p.fs().with_lock([](auto& f) { return f.cwd; });
                return kk.vfs().path_of(cwd);
            });
        }
        if (name == "root") return link([](Kernel<P>&, Process<P>&) -> Result<std::string> { return std::string("/"); });
        if (name == "fd" || name == "fdinfo") {
            return InodePtr<P>(make_directory<DescriptorDirectory<P>>(this->source(), m_pid, name == "fdinfo", m_uid, m_gid, this->self_ptr()));
        }
        if (name == "cmdline")
            return text(0444, [](Kernel<P>&, const ProcessSnapshot& s) -> Result<std::string> { return joined_with_nul(s.argv); });
        if (name == "environ")
            return text(0400, [](Kernel<P>&, const ProcessSnapshot& s) -> Result<std::string> { return joined_with_nul(s.environ); });
        if (name == "comm")
            return text(0444, [](Kernel<P>&, const ProcessSnapshot& s) -> Result<std::string> { return comm_of(s) + "\n"; });
        if (name == "mounts") return text(0444, [](Kernel<P>& kk, const ProcessSnapshot&) -> Result<std::string> { return mounts_text(kk); });
        if (name == "mountinfo")
            return text(0444, [](Kernel<P>& kk, const ProcessSnapshot&) -> Result<std::string> { return mountinfo_text(kk); });
        if (name == "limits")
            return text(0444, [](Kernel<P>&, const ProcessSnapshot& s) -> Result<std::string> { return limits_text(s); });
        if (name == "statm") return text(0444, [](Kernel<P>&, const ProcessSnapshot&) -> Result<std::string> { return statm_text(); });
        // The shim has no OOM killer and nowhere to keep an adjustment: "0", read-only like the rest.
        if (name == "oom_score_adj")
            return text(0444, [](Kernel<P>&, const ProcessSnapshot&) -> Result<std::string> { return std::string("0\n"); });
        // Every box process sits at the root of a cgroup-v2 hierarchy, as in a container.
        if (name == "cgroup")
            return text(0444, [](Kernel<P>&, const ProcessSnapshot&) -> Result<std::string> { return std::string("0::/\n"); });
        if (name == "task") {
            return InodePtr<P>(make_directory<TaskDirectory<P>>(this->source(), number, m_pid, weak, m_uid, m_gid, this->self_ptr()));
        }
        if (name == "status")
            return text(0444, [](Kernel<P>&, const ProcessSnapshot& s) -> Result<std::string> { return status_text(s); });
        if (name == "maps") {
            // 0400 like environ: Linux lets only a process that may ptrace the owner read it.
            return text(0400, [pid](Kernel<P>& kk, const ProcessSnapshot&) -> Result<std::string> {
                const auto& source = kk.maps_source();
                if (!source) return Errno::noent;
                return source(pid);
            });
        }
        return text(0444, [](Kernel<P>&, const ProcessSnapshot& s) -> Result<std::string> { return stat_text(s); });
    }

private:
    int m_pid;
    std::uint32_t m_uid;
    std::uint32_t m_gid;
};

/// A fixed directory of generated files (/proc/sys, /proc/sys/kernel).
template <typename P>
class StaticDirectory final : public Directory<P> {
public:
    using Maker = std::function<InodePtr<P>(const std::shared_ptr<Source<P>>&, const InodePtr<P>& self)>;
    struct Child {
        std::string name;
        std::uint64_t ino;
        std::uint8_t type;
        Maker make;
    };
    StaticDirectory(std::shared_ptr<Source<P>> source, std::uint64_t number, InodePtr<P> parent, std::vector<Child> children)
        : Directory<P>(std::move(source), number, 0555, 0, 0, std::move(parent)), m_children(std::move(children)) {}

protected:
    Result<std::vector<Entry>> entries(Kernel<P>&) override {
        std::vector<Entry> list;
        for (std::size_t i = 0; i < m_children.size(); ++i) list.push_back(Entry{m_children[i].name, m_children[i].ino, m_children[i].type, i});
        return list;
    }
    Result<InodePtr<P>> child(Kernel<P>&, std::string_view name) override {
        for (const auto& c : m_children)
            if (c.name == name) return c.make(this->source(), this->self_ptr());
        return Errno::noent;
    }

private:
    std::vector<Child> m_children;
};

/// Global text file maker.
template <typename P>
typename StaticDirectory<P>::Maker global_text(std::uint64_t number, std::function<std::string(Kernel<P>&)> generate) {
    return [number, generate](const std::shared_ptr<Source<P>>& source, const InodePtr<P>&) {
        return InodePtr<P>(std::make_shared<TextFile<P>>(source, number, 0444, 0, 0,
                                                         [generate](Kernel<P>& k) -> Result<std::string> { return generate(k); }));
    };
}

namespace ino {
inline constexpr std::uint64_t self = 2, mounts = 3, cpuinfo = 4, meminfo = 5, uptime = 6, loadavg = 7, stat = 8, filesystems = 9,
                               sys = 10, sys_kernel = 11, hostname = 12, ostype = 13, osrelease = 14, version = 15, pid_max = 16,
                               sys_random = 17, uuid = 18, sys_vm = 19, overcommit_memory = 20, sys_fs = 21, file_max = 22,
                               net = 23, net_dev = 24, net_route = 25, sys_fs_inotify = 26, inotify_instances = 27,
                               inotify_watches = 28, inotify_queued = 29, vmstat = 30,
                               sysvipc = 31, sysvipc_msg = 32, sysvipc_sem = 33, sysvipc_shm = 34;
}

/// A fixed subdirectory maker.
template <typename P>
typename StaticDirectory<P>::Maker static_directory(std::uint64_t number, std::function<std::vector<typename StaticDirectory<P>::Child>()> children) {
    return [number, children](const std::shared_ptr<Source<P>>& source, const InodePtr<P>& parent) {
        return InodePtr<P>(make_directory<StaticDirectory<P>>(source, number, parent, children()));
    };
}

/// /proc/sys/kernel/random: uuid, a fresh random UUID per read, when the platform has a random
/// source (CrngProvider; without one the directory is empty, as getrandom is ENOSYS).
template <typename P>
std::vector<typename StaticDirectory<P>::Child> random_children() {
    if constexpr (platform::CrngProvider<P>) {
        return {
            {"uuid", ino::uuid, dt_reg, [](const std::shared_ptr<Source<P>>& source, const InodePtr<P>&) {
                 return InodePtr<P>(std::make_shared<TextFile<P>>(source, ino::uuid, 0444, 0, 0, [](Kernel<P>& k) -> Result<std::string> {
                     std::array<std::uint8_t, 16> bytes{};
                     LITEBOX_TRY(k.platform().fill_random_bytes(std::as_writable_bytes(std::span(bytes))));
                     return uuid_text(bytes);
                 }));
             }},
        };
    } else {
        return {};
    }
}

template <typename P>
std::vector<typename StaticDirectory<P>::Child> kernel_children() {
    return {
        {"hostname", ino::hostname, dt_reg,
         global_text<P>(ino::hostname, [](Kernel<P>& k) { return k.uts().with_lock([](auto& u) { return u.hostname; }) + "\n"; })},
        {"ostype", ino::ostype, dt_reg, global_text<P>(ino::ostype, [](Kernel<P>&) { return std::string("Linux\n"); })},
        {"osrelease", ino::osrelease, dt_reg, global_text<P>(ino::osrelease, [](Kernel<P>& k) { return k.config().release + "\n"; })},
        {"pid_max", ino::pid_max, dt_reg, global_text<P>(ino::pid_max, [](Kernel<P>& k) { return fmt::format("{}\n", k.config().pid_max); })},
        {"random", ino::sys_random, dt_dir, static_directory<P>(ino::sys_random, [] { return random_children<P>(); })},
    };
}

template <typename P>
std::vector<typename StaticDirectory<P>::Child> sys_children() {
    using Child = typename StaticDirectory<P>::Child;
    return {
        {"kernel", ino::sys_kernel, dt_dir, static_directory<P>(ino::sys_kernel, [] { return kernel_children<P>(); })},
        // Heuristic overcommit, Linux's default (the shim does not account guest memory).
        {"vm", ino::sys_vm, dt_dir, static_directory<P>(ino::sys_vm, [] {
             return std::vector<Child>{{"overcommit_memory", ino::overcommit_memory, dt_reg,
                                        global_text<P>(ino::overcommit_memory, [](Kernel<P>&) { return std::string("0\n"); })}};
         })},
        // The most descriptors the box lets a process have open (the ceiling of RLIMIT_NOFILE,
        // fd::max_descriptor_limit): the shim keeps no box-wide count of open files.
        {"fs", ino::sys_fs, dt_dir, static_directory<P>(ino::sys_fs, [] {
             return std::vector<Child>{
                 {"file-max", ino::file_max, dt_reg,
                  global_text<P>(ino::file_max, [](Kernel<P>&) { return fmt::format("{}\n", fd::max_descriptor_limit); })},
                 // The box's inotify limits (ShimConfig::max_inotify_*), read-only.
                 {"inotify", ino::sys_fs_inotify, dt_dir, static_directory<P>(ino::sys_fs_inotify, [] {
                      return std::vector<Child>{
                          {"max_queued_events", ino::inotify_queued, dt_reg,
                           global_text<P>(ino::inotify_queued, [](Kernel<P>& k) { return fmt::format("{}\n", k.config().max_inotify_queued_events); })},
                          {"max_user_instances", ino::inotify_instances, dt_reg,
                           global_text<P>(ino::inotify_instances, [](Kernel<P>& k) { return fmt::format("{}\n", k.config().max_inotify_instances); })},
                          {"max_user_watches", ino::inotify_watches, dt_reg,
                           global_text<P>(ino::inotify_watches, [](Kernel<P>& k) { return fmt::format("{}\n", k.config().max_inotify_watches); })},
                      };
                  })},
             };
         })},
    };
}

/// /proc/net: the box's interfaces (net_interfaces.hpp), not the host's.
template <typename P>
std::vector<typename StaticDirectory<P>::Child> net_children() {
    return {
        {"dev", ino::net_dev, dt_reg,
         global_text<P>(ino::net_dev, [](Kernel<P>& k) { return net_interfaces::dev_text(net_interfaces::box_interfaces(k.box().net())); })},
        {"route", ino::net_route, dt_reg,
         global_text<P>(ino::net_route, [](Kernel<P>& k) { return net_interfaces::route_text(net_interfaces::box_interfaces(k.box().net())); })},
    };
}

/// /proc/sysvipc: the box's System V IPC objects (sysv_ipc.hpp), as Linux lists them.
template <typename P>
std::vector<typename StaticDirectory<P>::Child> sysvipc_children() {
    return {
        {"msg", ino::sysvipc_msg, dt_reg, global_text<P>(ino::sysvipc_msg, [](Kernel<P>& k) { return sysvipc_msg_text(k); })},
        {"sem", ino::sysvipc_sem, dt_reg, global_text<P>(ino::sysvipc_sem, [](Kernel<P>& k) { return sysvipc_sem_text(k); })},
        {"shm", ino::sysvipc_shm, dt_reg, global_text<P>(ino::sysvipc_shm, [](Kernel<P>& k) { return sysvipc_shm_text(k); })},
    };
}

/// The root: fixed entries, then one directory per live box process (keys 64 + pid).
template <typename P>
class RootDirectory final : public Directory<P> {
public:
    explicit RootDirectory(std::shared_ptr<Source<P>> source) : Directory<P>(std::move(source), ino::root, 0555, 0, 0, nullptr) {
        const auto self_link = [](std::uint64_t number) {
            return [number](const std::shared_ptr<Source<P>>& src, const InodePtr<P>&) {
                return InodePtr<P>(std::make_shared<Link<P>>(src, number, 0, 0,
                                                             [](Kernel<P>&, const fs::Credentials& caller) -> Result<std::string> {
                    if (caller.pid <= 0) return Errno::noent;  // no calling process: no "self"
                    return std::to_string(caller.pid);
                }));
            };
        };
        m_fixed = {
            {"self", ino::self, dt_lnk, self_link(ino::self)},
            {"mounts", ino::mounts, dt_lnk,
             [](const std::shared_ptr<Source<P>>& src, const InodePtr<P>&) {
                 return InodePtr<P>(std::make_shared<Link<P>>(
                     src, ino::mounts, 0, 0, [](Kernel<P>&, const fs::Credentials&) -> Result<std::string> { return std::string("self/mounts"); }));
             }},
            {"cpuinfo", ino::cpuinfo, dt_reg, global_text<P>(ino::cpuinfo, [](Kernel<P>& k) { return cpuinfo_text(k.cpu_count()); })},
            {"meminfo", ino::meminfo, dt_reg, global_text<P>(ino::meminfo, [](Kernel<P>& k) { return meminfo_text(k); })},
            {"uptime", ino::uptime, dt_reg, global_text<P>(ino::uptime, [](Kernel<P>& k) { return uptime_text(k); })},
            {"loadavg", ino::loadavg, dt_reg, global_text<P>(ino::loadavg, [](Kernel<P>& k) { return loadavg_text(k); })},
            {"stat", ino::stat, dt_reg, global_text<P>(ino::stat, [](Kernel<P>& k) { return stat_global_text(k); })},
            {"vmstat", ino::vmstat, dt_reg, global_text<P>(ino::vmstat, [](Kernel<P>& k) { return vmstat_text(k); })},
            {"filesystems", ino::filesystems, dt_reg, global_text<P>(ino::filesystems, [](Kernel<P>&) { return filesystems_text(); })},
            {"sys", ino::sys, dt_dir, static_directory<P>(ino::sys, [] { return sys_children<P>(); })},
            {"version", ino::version, dt_reg, global_text<P>(ino::version, [](Kernel<P>& k) { return version_text(k.config()); })},
            {"net", ino::net, dt_dir, static_directory<P>(ino::net, [] { return net_children<P>(); })},
            {"sysvipc", ino::sysvipc, dt_dir, static_directory<P>(ino::sysvipc, [] { return sysvipc_children<P>(); })},
        };
    }

protected:
    static constexpr std::uint64_t first_pid_key = 64;
    Result<std::vector<Entry>> entries(Kernel<P>& k) override {
        std::vector<Entry> list;
        for (std::size_t i = 0; i < m_fixed.size(); ++i) list.push_back(Entry{m_fixed[i].name, m_fixed[i].ino, m_fixed[i].type, i});
        for (const int pid : k.tasks().process_ids())
            list.push_back(Entry{std::to_string(pid), ino::pid_dir(pid), dt_dir, first_pid_key + static_cast<std::uint64_t>(pid)});
        return list;
    }
    Result<InodePtr<P>> child(Kernel<P>& k, std::string_view name) override {
        for (const auto& c : m_fixed)
            if (c.name == name) return c.make(this->source(), this->self_ptr());
        const auto pid = parse_number(name);
        if (!pid) return Errno::noent;
        auto process = k.tasks().find_process(*pid);
        if (!process) return Errno::noent;
        const auto ids = process->state().with_lock([](auto& st) { return std::pair{st.credentials.euid, st.credentials.egid}; });
        return InodePtr<P>(make_directory<ProcessDirectory<P>>(this->source(), *pid, ids.first, ids.second, this->self_ptr()));
    }

private:
    std::vector<typename StaticDirectory<P>::Child> m_fixed;
};

template <typename P>
typename fs::Inode<P>::Ptr make_root(std::shared_ptr<Source<P>> source) {
    return make_directory<RootDirectory<P>>(std::move(source));
}

}  // namespace litebox::shim::linux_abi::procfs_detail
