// TarFs<P>: a read-only file system over a tar archive held in memory (see archive.hpp for the
// formats it reads and what it rejects at mount time).
//
// Contract (beyond backend.hpp's):
// - create() parses and validates the whole archive once; a malformed archive fails with the
//   parser's errno, and the optional ParseError says why and where. Nothing is copied: file reads
//   come straight from the archive bytes, which must stay alive and unchanged as long as the file
//   system or any of its inodes (pass `owner` to tie their lifetime to it).
// - Every mutation fails with EROFS (read_only() is true). Modes, owners, device numbers and mtimes
//   are the archive's; atime and ctime equal mtime. st_size is the content size (symlinks: target
//   length), st_blocks the 512-byte blocks the content occupies, st_nlink the number of names.
// - Inode numbers are the archive's node numbers plus one (the root is 1): unique per mount, stable
//   for the file system's life. Looking up the same entry twice yields the same Inode object while
//   anyone holds it.
// - readdir lists a directory in name order; the cookie of an entry is its index, so a listing is
//   stable (nothing ever changes).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../platform/concepts.hpp"
#include "../../sync/mutex.hpp"
#include "../backend.hpp"
#include "archive.hpp"

namespace litebox::fs {

namespace tar_fs_magic {
/// statfs f_type of a TarFs ("tarf"); Linux has no tar file system, so this is LiteBox's own.
inline constexpr std::uint64_t value = 0x74617266;
}  // namespace tar_fs_magic

template <platform::RawMutexProvider P>
class TarFs;

namespace detail {

template <platform::RawMutexProvider P>
struct TarShared {
    tar::Archive archive;
    std::shared_ptr<const void> owner;
    /// One weak Inode per archive node, created on first lookup (index = node id).
    sync::Mutex<P, std::vector<std::weak_ptr<Inode<P>>>> inodes;

    TarShared(tar::Archive a, std::shared_ptr<const void> o) : archive(std::move(a)), owner(std::move(o)) {
        inodes.with_lock([&](auto& v) { v.resize(archive.node_count()); });
    }
};

inline std::uint32_t tar_type_bits(tar::NodeType t) noexcept {
    switch (t) {
        case tar::NodeType::regular: return fd::mode::regular;
        case tar::NodeType::directory: return fd::mode::directory;
        case tar::NodeType::symlink: return fd::mode::symlink;
        case tar::NodeType::char_device: return fd::mode::char_device;
        case tar::NodeType::block_device: return fd::mode::block_device;
        case tar::NodeType::fifo: return fd::mode::fifo;
    }
    return fd::mode::regular;
}

template <platform::RawMutexProvider P>
class TarInode final : public Inode<P> {
public:
    using Ptr = typename Inode<P>::Ptr;

    TarInode(std::shared_ptr<TarShared<P>> shared, tar::NodeId id)
        : Inode<P>(std::uint64_t{id} + 1, tar_type_bits(shared->archive.node(id).type)), m_shared(std::move(shared)), m_id(id) {
        if (this->type() == fd::mode::fifo) m_attachment = std::make_unique<Attachment<P>>();
    }

    /// The Inode for `id`: the live one if any, else a new one.
    static Ptr get(const std::shared_ptr<TarShared<P>>& shared, tar::NodeId id) {
        return shared->inodes.with_lock([&](std::vector<std::weak_ptr<Inode<P>>>& v) -> Ptr {
            if (auto live = v[id].lock()) return live;
            Ptr made = std::make_shared<TarInode>(shared, id);
            v[id] = made;
            return made;
        });
    }

    Result<Stat> getattr() override {
        const tar::Node& n = node();
        Stat st;
        st.inode = this->ino();
        st.mode = this->type() | n.permissions;
        st.link_count = n.link_count;
        st.uid = n.uid;
        st.gid = n.gid;
        if (n.type == tar::NodeType::char_device || n.type == tar::NodeType::block_device)
            st.represented_device = make_device(n.device_major, n.device_minor);
        if (n.type == tar::NodeType::directory) {
            st.size = static_cast<std::int64_t>(n.entries.size() + 2) * 20;  // like tmpfs
        } else {
            st.size = static_cast<std::int64_t>(n.size);
        }
        st.block_size = 4096;
        st.blocks = n.type == tar::NodeType::regular ? static_cast<std::int64_t>((n.size + 511) / 512) : 0;
        st.modify_time = fd::Timespec{n.mtime_seconds, n.mtime_nanoseconds};
        st.access_time = st.modify_time;
        st.change_time = st.modify_time;
        return st;
    }
    Result<Ownership> ownership() override {
        const tar::Node& n = node();
        return Ownership{this->type() | n.permissions, n.uid, n.gid};
    }

    Result<Ptr> lookup(std::string_view name) override {
        if (!this->is_directory()) return Errno::notdir;
        if (name == "..") return get(m_shared, node().parent);
        const auto child = m_shared->archive.lookup(m_id, name);
        if (!child) return Errno::noent;
        return get(m_shared, *child);
    }

    Result<void> readdir(std::uint64_t cookie, fd::DirectorySink& sink) override {
        if (!this->is_directory()) return Errno::notdir;
        const auto entries = m_shared->archive.entries(m_id);
        for (std::uint64_t i = cookie; i < entries.size(); ++i) {
            const auto& e = entries[static_cast<std::size_t>(i)];
            fd::DirectoryEntry out;
            out.name = e.name;
            out.inode = std::uint64_t{e.node} + 1;
            out.type = fd::dirent_type::from_mode(tar_type_bits(m_shared->archive.node(e.node).type));
            out.next = i + 1;
            if (!sink.add(out)) break;
        }
        return ok();
    }

    Result<std::string> readlink() override {
        if (!this->is_symlink()) return Errno::inval;
        return node().link_target;
    }

    Result<std::size_t> read(std::span<std::byte> out, std::uint64_t offset) override {
        if (this->is_directory()) return Errno::isdir;
        if (!this->is_regular()) return Errno::inval;
        return m_shared->archive.read(m_id, offset, out);
    }
    /// The archive bytes (kept alive by m_shared, which this inode holds).
    Result<std::span<const std::byte>> immutable_contents() override {
        if (!this->is_regular()) return Errno::opnotsupp;
        return m_shared->archive.data(m_id);
    }

    Result<std::vector<std::byte>> getxattr(std::string_view /*name*/) override { return Errno::nodata; }

    Attachment<P>* attachment() noexcept override { return m_attachment.get(); }

private:
    [[nodiscard]] const tar::Node& node() const noexcept { return m_shared->archive.node(m_id); }

    std::shared_ptr<TarShared<P>> m_shared;
    tar::NodeId m_id;
    std::unique_ptr<Attachment<P>> m_attachment;  // FIFOs only: the rendezvous of their pipe
};

}  // namespace detail

template <platform::RawMutexProvider P>
class TarFs final : public FileSystem<P> {
public:
    /// Mounts the archive in `bytes`. `owner` (optional) is kept alive as long as the file system
    /// or any of its inodes, so that it can own the bytes. On failure, `error` (if given) receives
    /// the reason.
    static Result<std::shared_ptr<TarFs>> create(std::span<const std::byte> bytes, std::shared_ptr<const void> owner = {},
                                                 const tar::Limits& limits = {}, tar::ParseError* error = nullptr) {
        auto parsed = tar::Archive::parse(bytes, limits, error);
        if (!parsed) return parsed.error();
        auto shared = std::make_shared<detail::TarShared<P>>(std::move(*parsed), std::move(owner));
        auto root = detail::TarInode<P>::get(shared, tar::root_node);
        return std::shared_ptr<TarFs>(new TarFs(std::move(shared), std::move(root)));
    }

    /// Mounts an archive that the file system owns.
    static Result<std::shared_ptr<TarFs>> create(std::vector<std::byte> bytes, const tar::Limits& limits = {},
                                                 tar::ParseError* error = nullptr) {
        auto owned = std::make_shared<const std::vector<std::byte>>(std::move(bytes));
        const std::span<const std::byte> view(*owned);
        return create(view, std::move(owned), limits, error);
    }

    typename Inode<P>::Ptr root() override { return m_root; }

    Result<StatFs> statfs() override {
        StatFs s;
        s.type = tar_fs_magic::value;
        s.block_size = 4096;
        s.fragment_size = 4096;
        s.blocks = (m_shared->archive.bytes().size() + 4095) / 4096;
        s.files = m_shared->archive.node_count();
        s.flags = 1;  // ST_RDONLY
        s.fsid = this->device();
        return s;
    }

    [[nodiscard]] std::string_view type_name() const noexcept override { return "tar"; }
    [[nodiscard]] bool read_only() const noexcept override { return true; }

    /// The index, for tools and tests.
    [[nodiscard]] const tar::Archive& archive() const noexcept { return m_shared->archive; }

private:
    TarFs(std::shared_ptr<detail::TarShared<P>> shared, typename Inode<P>::Ptr root)
        : m_shared(std::move(shared)), m_root(std::move(root)) {}

    std::shared_ptr<detail::TarShared<P>> m_shared;
    typename Inode<P>::Ptr m_root;
};

}  // namespace litebox::fs
