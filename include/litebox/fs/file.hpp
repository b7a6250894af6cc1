// Open files of the file system: what Vfs::open returns. Regular files, directories, O_PATH
// handles and FIFOs (a wrapper around the IPC layer's pipe end) all implement fd::OpenFile<P> and
// FileHandle<P> (their Location, for *at operations, fchdir, fchmod, ...).
//
// Contract (beyond fd::OpenFile's): the file offset is shared by every descriptor of the
// description and each read/write/seek updates it atomically (a per-description lock, like Linux's
// f_pos_lock). O_APPEND writes go to the end of file atomically. A directory's offset is the
// backend's readdir cookie (positions 0 and 1 are "." and ".."), so lseek/telldir values stay valid
// while entries come and go.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include <cstdint>
#include <memory>
#include <span>
#include <utility>

#include "../fd/open_file.hpp"
#include "../sync/mutex.hpp"
#include "inotify.hpp"
#include "location.hpp"
#include "types.hpp"

namespace litebox::fs {

/// Told when an open file description that holds locks is destroyed: its flock(2) locks
/// (flock.hpp) and its OFD record locks (locks.hpp) go with its last reference, whatever dropped
/// it. Called from the destructor, with whatever locks the thread dropping that reference holds:
/// it may only take leaf locks of its own.
template <platform::RawMutexProvider P>
class DescriptionObserver {
public:
    virtual void description_closed(const Inode<P>* inode, const void* description) noexcept = 0;

protected:
    ~DescriptionObserver() = default;
};

/// The lock tables that observe descriptions (each has its own observer slot in a FileHandle).
enum class LockTable : std::size_t { flock = 0, record = 1 };

/// Anything opened through the Vfs: it knows where it is.
template <platform::RawMutexProvider P>
class FileHandle {
public:
    explicit FileHandle(Location<P> where) : m_location(std::move(where)) {}
    virtual ~FileHandle() {
        if (m_inotify) m_inotify->last_close(m_location);
        for (const auto& observer : m_observers)
            if (observer) observer->description_closed(m_location.inode.get(), static_cast<const void*>(this));
    }
    FileHandle(const FileHandle&) = delete;
    FileHandle& operator=(const FileHandle&) = delete;
    [[nodiscard]] const Location<P>& location() const noexcept { return m_location; }

    /// The lock table of kind `table` this description holds locks in (the table sets it under its
    /// own lock, the first time the description takes a lock; it never changes afterwards).
    void observe_with(LockTable table, std::shared_ptr<DescriptionObserver<P>> observer) {
        auto& slot = m_observers[static_cast<std::size_t>(table)];
        if (!slot) slot = std::move(observer);
    }

    /// Where the file was found when it was opened by path: its directory and the name in it (for
    /// /proc/<pid>/fd links). Set once by Vfs::open before the file is shared; unset otherwise.
    struct Origin {
        Location<P> directory;
        std::string name;
    };
    [[nodiscard]] const std::optional<Origin>& origin() const noexcept { return m_origin; }
    void set_origin(Location<P> directory, std::string_view name) { m_origin = Origin{std::move(directory), std::string(name)}; }

    /// The inotify hub that sees this description's reads, writes and close (set once by the Vfs
    /// when it opens the file, before the file is shared).
    void set_inotify(std::shared_ptr<InotifyHub<P>> hub) noexcept { m_inotify = std::move(hub); }
    /// Reports `mask` on this object (and to the directory it was opened in, by its name there).
    void notify(std::uint32_t mask) const {
        if (!m_inotify || !m_inotify->active()) return;
        NamedIn<P> parent;
        bool unlinked = false;
        if (m_origin) {
            parent = NamedIn<P>{&m_origin->directory, m_origin->name};
            // (A host file that lost its name no longer answers by path: unlinked too.)
            if (auto st = m_location.inode->getattr(); !st || st->link_count == 0) unlinked = true;
        }
        m_inotify->object_event(m_location, parent, mask, unlinked);
    }

protected:
    Location<P> m_location;
    std::optional<Origin> m_origin;
    std::shared_ptr<InotifyHub<P>> m_inotify;

private:
    std::array<std::shared_ptr<DescriptionObserver<P>>, 2> m_observers;
};

namespace detail {
/// lseek arithmetic shared by files and directories: the new offset, or EINVAL/EOVERFLOW.
inline Result<std::uint64_t> seek_target(std::uint64_t base, std::int64_t offset) {
    if (offset < 0) {
        const auto back = static_cast<std::uint64_t>(-(offset + 1)) + 1;
        if (back > base) return Errno::inval;
        return base - back;
    }
    const auto fwd = static_cast<std::uint64_t>(offset);
    if (fwd > max_file_size - std::min(base, max_file_size)) return Errno::overflow;
    return base + fwd;
}
}  // namespace detail

template <platform::RawMutexProvider P>
class RegularFile final : public fd::OpenFile<P>, public FileHandle<P> {
public:
    RegularFile(Location<P> where, std::uint32_t flags) : fd::OpenFile<P>(flags), FileHandle<P>(std::move(where)) {}
    /// The last reference: IN_CLOSE_WRITE or IN_CLOSE_NOWRITE.
    ~RegularFile() override {
        this->notify(this->writable() ? in_event::close_write : in_event::close_nowrite);
    }

    Result<std::size_t> read(std::span<std::byte> out) override {
        if (!this->readable()) return Errno::badf;
        std::size_t n = 0;
        {
            auto offset = m_offset.lock();
            LITEBOX_TRY_ASSIGN(n, inode().read(out, *offset));
            *offset += n;
        }
        if (n != 0) this->notify(in_event::access);
        return n;
    }
    Result<std::size_t> write(std::span<const std::byte> in) override {
        if (!this->writable()) return Errno::badf;
        std::size_t n = 0;
        {
            auto offset = m_offset.lock();
            if (this->status_flags() & fd::open_flags::append) {
                LITEBOX_TRY_ASSIGN(const AppendResult r, inode().append(in));
                *offset = r.end;
                n = r.written;
            } else {
                LITEBOX_TRY_ASSIGN(n, inode().write(in, *offset));
                *offset += n;
            }
        }
        if (n != 0) this->notify(in_event::modify);
        return n;
    }
    Result<std::size_t> pread(std::span<std::byte> out, std::uint64_t offset) override {
        if (!this->readable()) return Errno::badf;
        LITEBOX_TRY_ASSIGN(const std::size_t n, inode().read(out, offset));
        if (n != 0) this->notify(in_event::access);
        return n;
    }
    Result<std::size_t> pwrite(std::span<const std::byte> in, std::uint64_t offset) override {
        if (!this->writable()) return Errno::badf;
        std::size_t n = 0;
        if (this->status_flags() & fd::open_flags::append) {  // Linux appends even for pwrite
            LITEBOX_TRY_ASSIGN(const AppendResult r, inode().append(in));
            n = r.written;
        } else {
            LITEBOX_TRY_ASSIGN(n, inode().write(in, offset));
        }
        if (n != 0) this->notify(in_event::modify);
        return n;
    }
    Result<std::uint64_t> seek(std::int64_t offset, fd::Whence whence) override {
        auto current = m_offset.lock();
        std::uint64_t target = 0;
        switch (whence) {
            case fd::Whence::set:
                if (offset < 0) return Errno::inval;
                target = static_cast<std::uint64_t>(offset);
                break;
            case fd::Whence::current: {
                LITEBOX_TRY_ASSIGN(target, detail::seek_target(*current, offset));
                break;
            }
            case fd::Whence::end: {
                LITEBOX_TRY_ASSIGN(const Stat st, inode().getattr());
                LITEBOX_TRY_ASSIGN(target, detail::seek_target(static_cast<std::uint64_t>(st.size), offset));
                break;
            }
            case fd::Whence::data:
            case fd::Whence::hole: {
                if (offset < 0) return Errno::nxio;
                LITEBOX_TRY_ASSIGN(target, inode().seek_data(static_cast<std::uint64_t>(offset), whence == fd::Whence::hole));
                break;
            }
            default:
                return Errno::inval;
        }
        *current = target;
        return target;
    }
    Result<Stat> stat() override { return this->m_location.stat(); }
    Result<void> truncate(std::uint64_t length) override {
        if (!this->writable()) return Errno::inval;
        if (length > max_file_size) return Errno::fbig;
        LITEBOX_TRY(inode().truncate(length));
        this->notify(in_event::modify);
        return ok();
    }
    Result<void> sync() override { return inode().sync(); }

private:
    Inode<P>& inode() const noexcept { return *this->m_location.inode; }
    sync::Mutex<P, std::uint64_t> m_offset;
};

template <platform::RawMutexProvider P>
class DirectoryFile final : public fd::OpenFile<P>, public FileHandle<P> {
public:
    DirectoryFile(Location<P> where, std::uint32_t flags) : fd::OpenFile<P>(flags), FileHandle<P>(std::move(where)) {}
    ~DirectoryFile() override {
        this->notify(in_event::close_nowrite);
    }

    Result<std::size_t> read(std::span<std::byte>) override { return Errno::isdir; }
    Result<std::size_t> write(std::span<const std::byte>) override { return Errno::badf; }
    Result<std::size_t> pread(std::span<std::byte>, std::uint64_t) override { return Errno::isdir; }
    Result<std::size_t> pwrite(std::span<const std::byte>, std::uint64_t) override { return Errno::badf; }
    Result<std::uint64_t> seek(std::int64_t offset, fd::Whence whence) override {
        auto position = m_position.lock();
        std::uint64_t target = 0;
        if (whence == fd::Whence::set) {
            if (offset < 0) return Errno::inval;
            target = static_cast<std::uint64_t>(offset);
        } else if (whence == fd::Whence::current) {
            LITEBOX_TRY_ASSIGN(target, detail::seek_target(*position, offset));
        } else {
            return Errno::inval;
        }
        *position = target;
        return target;
    }
    Result<Stat> stat() override { return this->m_location.stat(); }
    Result<void> truncate(std::uint64_t) override { return Errno::isdir; }

    /// getdents64: "." and ".." first, then the backend's entries from the current position.
    Result<void> read_directory(fd::DirectorySink& sink) override {
        this->notify(in_event::access);  // Linux: every getdents that gets to the file system
        auto position = m_position.lock();
        if (*position == 0) {
            if (!sink.add(fd::DirectoryEntry{".", this->m_location.inode->ino(), fd::dirent_type::directory, 1})) return ok();
            *position = 1;
        }
        if (*position == 1) {
            auto parent = this->m_location.parent();
            const std::uint64_t ino = parent ? parent->inode->ino() : this->m_location.inode->ino();
            if (!sink.add(fd::DirectoryEntry{"..", ino, fd::dirent_type::directory, 2})) return ok();
            *position = 2;
        }
        struct Shift final : fd::DirectorySink {
            fd::DirectorySink& inner;
            std::uint64_t& position;
            Shift(fd::DirectorySink& s, std::uint64_t& p) : inner(s), position(p) {}
            bool add(const fd::DirectoryEntry& e) override {
                fd::DirectoryEntry shifted = e;
                shifted.next = e.next + 2;
                if (!inner.add(shifted)) return false;
                position = shifted.next;
                return true;
            }
        } shift{sink, *position};
        return this->m_location.inode->readdir(*position - 2, shift);
    }

private:
    sync::Mutex<P, std::uint64_t> m_position;
};

/// An O_PATH descriptor: names a location; every I/O fails with EBADF, stat works.
template <platform::RawMutexProvider P>
class PathFile final : public fd::OpenFile<P>, public FileHandle<P> {
public:
    PathFile(Location<P> where, std::uint32_t flags) : fd::OpenFile<P>(flags), FileHandle<P>(std::move(where)) {}
    Result<std::size_t> read(std::span<std::byte>) override { return Errno::badf; }
    Result<std::size_t> write(std::span<const std::byte>) override { return Errno::badf; }
    Result<std::size_t> pread(std::span<std::byte>, std::uint64_t) override { return Errno::badf; }
    Result<std::size_t> pwrite(std::span<const std::byte>, std::uint64_t) override { return Errno::badf; }
    Result<std::uint64_t> seek(std::int64_t, fd::Whence) override { return Errno::badf; }
    Result<Stat> stat() override { return this->m_location.stat(); }
    Result<void> truncate(std::uint64_t) override { return Errno::badf; }
    Result<void> sync() override { return Errno::badf; }
    Result<void> read_directory(fd::DirectorySink&) override { return Errno::badf; }
    fd::Events poll(fd::Events) override { return fd::events::nval; }
};

/// A FIFO opened by path: the IPC layer's pipe end, reporting the FIFO inode in stat().
template <platform::RawMutexProvider P>
class FifoFile final : public fd::OpenFile<P>, public FileHandle<P> {
public:
    FifoFile(Location<P> where, std::uint32_t flags, std::shared_ptr<fd::OpenFile<P>> end)
        : fd::OpenFile<P>(flags), FileHandle<P>(std::move(where)), m_end(std::move(end)) {}
    Result<std::size_t> read(std::span<std::byte> out) override { return m_end->read(out); }
    Result<std::size_t> write(std::span<const std::byte> in) override { return m_end->write(in); }
    Result<Stat> stat() override { return this->m_location.stat(); }
    fd::Events poll(fd::Events interest) override { return m_end->poll(interest); }
    event::Pollee<P>* pollee() noexcept override { return m_end->pollee(); }
    Result<void> set_status_flags(std::uint32_t flags) override {
        LITEBOX_TRY(m_end->set_status_flags(flags));
        return fd::OpenFile<P>::set_status_flags(flags);
    }
    /// The wrapped pipe end.
    [[nodiscard]] const std::shared_ptr<fd::OpenFile<P>>& inner() const noexcept { return m_end; }

private:
    std::shared_ptr<fd::OpenFile<P>> m_end;
};

}  // namespace litebox::fs
