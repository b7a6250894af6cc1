// Out-of-line members of TmpfsNode (included at the end of tmpfs_node.hpp).
#pragma once

#include "tmpfs_node.hpp"

namespace litebox::fs::detail {

template <platform::RawMutexProvider P>
Result<typename TmpfsNode<P>::Ptr> TmpfsNode<P>::add_child(std::string_view name, const NewNode& node,
                                                           std::string_view symlink_target) {
    const auto now = m_shared->now();
    auto guard = m_shared->state.lock();
    TmpfsCounters& c = *guard;
    Data& d = data(c);
    if (d.removed) return Errno::noent;
    if (d.entries.find(name) != d.entries.end()) return Errno::exist;
    if (c.inodes_used >= m_shared->quota.max_inodes) return Errno::nospc;
    if (symlink_target.size() > m_shared->quota.max_bytes - std::min(m_shared->quota.max_bytes, c.bytes_used)) return Errno::nospc;
    const bool directory = fs::is_directory(node.mode);
    if (directory && d.nlink >= m_shared->quota.max_links) return Errno::mlink;

    auto child = std::make_shared<TmpfsNode>(Private{}, m_shared, c.next_ino++, node, now);
    child->m_self = child;
    ++c.inodes_used;
    if (!symlink_target.empty()) {
        child->data(c).target.assign(symlink_target);
        c.bytes_used += symlink_target.size();
    }
    if (directory) {
        Data& cd = child->data(c);
        cd.nlink = 2;
        cd.parent = std::static_pointer_cast<TmpfsNode>(m_self.lock());
        ++d.nlink;
    }
    insert_entry(d, name, child);
    d.mtime = d.ctime = now;
    return Ptr(std::move(child));
}

template <platform::RawMutexProvider P>
Result<void> TmpfsNode<P>::remove_child(std::string_view name, bool directory) {
    const auto now = m_shared->now();
    Graveyard graveyard;  // destroyed after the guard
    auto guard = m_shared->state.lock();
    TmpfsCounters& c = *guard;
    Data& d = data(c);
    const auto it = d.entries.find(name);
    if (it == d.entries.end()) return Errno::noent;
    TmpfsNode& child = *it->second.node;
    Data& cd = child.data(c);
    if (directory) {
        if (!child.is_directory()) return Errno::notdir;
        if (!cd.entries.empty()) return Errno::notempty;
        cd.nlink = 0;
        cd.removed = true;
        cd.ctime = now;
        --d.nlink;
    } else {
        if (child.is_directory()) return Errno::isdir;
        --cd.nlink;
        cd.ctime = now;
    }
    erase_entry(d, it, graveyard);
    d.mtime = d.ctime = now;
    return ok();
}

template <platform::RawMutexProvider P>
Result<void> TmpfsNode<P>::rename(std::string_view old_name, Inode<P>& new_dir_base, std::string_view new_name,
                                  std::uint32_t flags) {
    auto* new_dir = dynamic_cast<TmpfsNode*>(&new_dir_base);
    if (!new_dir || new_dir->m_shared != m_shared) return Errno::xdev;
    if ((flags & ~(rename_flags::no_replace | rename_flags::exchange)) != 0) return Errno::inval;
    if ((flags & rename_flags::no_replace) && (flags & rename_flags::exchange)) return Errno::inval;
    const auto now = m_shared->now();
    Graveyard graveyard;
    auto guard = m_shared->state.lock();
    TmpfsCounters& c = *guard;
    Data& od = data(c);
    Data& nd = new_dir->data(c);
    const bool same_dir = new_dir == this;

    const auto src = od.entries.find(old_name);
    if (src == od.entries.end()) return Errno::noent;
    if (nd.removed) return Errno::noent;
    auto tgt = nd.entries.find(new_name);
    const bool target_exists = tgt != nd.entries.end();
    if ((flags & rename_flags::no_replace) && target_exists) return Errno::exist;
    if ((flags & rename_flags::exchange) && !target_exists) return Errno::noent;
    std::shared_ptr<TmpfsNode> moving = src->second.node;
    if (target_exists && tgt->second.node == moving) return ok();
    const bool moving_dir = moving->is_directory();

    if (flags & rename_flags::exchange) {
        std::shared_ptr<TmpfsNode> other = tgt->second.node;
        const bool other_dir = other->is_directory();
        if (!same_dir && moving_dir != other_dir) {
            // The directory changes parent: move one ".." reference between the parents.
            if (moving_dir) {
                if (nd.nlink >= m_shared->quota.max_links) return Errno::mlink;
                --od.nlink;
                ++nd.nlink;
            } else {
                if (od.nlink >= m_shared->quota.max_links) return Errno::mlink;
                --nd.nlink;
                ++od.nlink;
            }
        }
        if (moving_dir) moving->data(c).parent = std::static_pointer_cast<TmpfsNode>(new_dir->m_self.lock());
        if (other_dir) other->data(c).parent = std::static_pointer_cast<TmpfsNode>(m_self.lock());
        std::swap(src->second.node, tgt->second.node);
        moving->data(c).ctime = now;
        other->data(c).ctime = now;
        od.mtime = od.ctime = now;
        nd.mtime = nd.ctime = now;
        return ok();
    }

    const bool replaces_dir = target_exists && tgt->second.node->is_directory();
    if (moving_dir && !same_dir && !replaces_dir && nd.nlink >= m_shared->quota.max_links) return Errno::mlink;
    if (target_exists) {
        TmpfsNode& victim = *tgt->second.node;
        Data& vd = victim.data(c);
        if (moving_dir && !victim.is_directory()) return Errno::notdir;
        if (!moving_dir && victim.is_directory()) return Errno::isdir;
        if (victim.is_directory()) {
            if (!vd.entries.empty()) return Errno::notempty;
            vd.nlink = 0;
            vd.removed = true;
            --nd.nlink;
        } else {
            --vd.nlink;
        }
        vd.ctime = now;
        erase_entry(nd, tgt, graveyard);
    }
    if (moving_dir && !same_dir) {
        --od.nlink;
        ++nd.nlink;
        moving->data(c).parent = std::static_pointer_cast<TmpfsNode>(new_dir->m_self.lock());
    }
    moving->data(c).ctime = now;
    erase_entry(od, src, graveyard);
    insert_entry(nd, new_name, std::move(moving));
    od.mtime = od.ctime = now;
    nd.mtime = nd.ctime = now;
    return ok();
}

template <platform::RawMutexProvider P>
Result<std::size_t> TmpfsNode<P>::read(std::span<std::byte> out, std::uint64_t offset) {
    if (this->is_directory()) return Errno::isdir;
    if (!this->is_regular()) return Errno::inval;
    const auto now = m_shared->now();
    return m_shared->state.with_lock([&](TmpfsCounters& c) -> Result<std::size_t> {
        Data& d = data(c);
        if (offset >= d.size || out.empty()) return std::size_t{0};
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), d.size - offset));
        if (d.store) {
            LITEBOX_TRY_ASSIGN(n, d.store->read(out.first(n), offset));
        } else {
            copy_pages(d, out.first(n), offset);
        }
        // relatime: update atime when it is not newer than mtime/ctime, or a day old.
        if (!time_before(d.mtime, d.atime) || !time_before(d.ctime, d.atime) || now.seconds - d.atime.seconds >= 24 * 3600) d.atime = now;
        return n;
    });
}

template <platform::RawMutexProvider P>
Result<std::size_t> TmpfsNode<P>::write_locked(TmpfsCounters& c, std::span<const std::byte> in, std::uint64_t offset,
                                                fd::Timespec now) {
    Data& d = data(c);
    if (in.empty()) return std::size_t{0};
    if ((d.seals & (seal::write | seal::future_write)) != 0) return Errno::perm;
    if (offset >= fs::max_file_size || in.size() > fs::max_file_size - offset) return Errno::fbig;
    if ((d.seals & seal::grow) != 0 && offset + in.size() > d.size) {
        // Linux refuses the first page-sized piece that would end past the size
        // (shmem_write_begin): the pieces before it are written, a short count.
        const std::uint64_t limit = d.size / tmpfs_page_size * tmpfs_page_size;
        if (offset >= limit) return Errno::perm;
        in = in.first(static_cast<std::size_t>(limit - offset));
    }
    const std::uint64_t end = offset + in.size();
    if (d.store) {
        const std::uint64_t old_size = d.size;
        if (end > old_size) LITEBOX_TRY(recharge_store(c, old_size, end));
        if (auto stored = d.store->write(in, offset); !stored) {
            if (end > old_size) {
                (void)recharge_store(c, end, old_size);
                (void)d.store->resize(old_size);  // a failed write must not leave the file longer
            }
            return stored.error();
        }
        if (end > d.size) d.size = end;
        d.mtime = d.ctime = now;
        return in.size();
    }
    const std::uint64_t first = offset / tmpfs_page_size;
    const std::uint64_t last = (end - 1) / tmpfs_page_size;
    // Count the pages this write must allocate, and check the quota before touching anything.
    std::uint64_t missing = last - first + 1;
    for (auto it = d.pages.lower_bound(first); it != d.pages.end() && it->first <= last; ++it) --missing;
    const std::uint64_t need = missing * tmpfs_page_size;
    if (need > m_shared->quota.max_bytes - std::min(m_shared->quota.max_bytes, c.bytes_used)) return Errno::nospc;
    c.bytes_used += need;

    std::size_t done = 0;
    auto page = d.pages.lower_bound(first);
    for (std::uint64_t index = first; index <= last; ++index) {
        const std::uint64_t pos = offset + done;
        const std::size_t in_page = static_cast<std::size_t>(pos % tmpfs_page_size);
        const std::size_t chunk = std::min<std::size_t>(in.size() - done, tmpfs_page_size - in_page);
        if (page == d.pages.end() || page->first != index) {
            // A new page: zero only what this write does not cover (a hole reads as zeros).
            PoolPage<P> fresh(m_shared->pages.allocate(), PageReturn<P>{&m_shared->pages});
            if (!fresh) {
                // The host is out of memory: give back the charge of the pages not stored, and
                // report what was written (a short write), or ENOMEM for nothing.
                std::uint64_t unstored = 0;
                for (std::uint64_t i = index; i <= last; ++i) {
                    if (page != d.pages.end() && page->first == i) ++page;
                    else ++unstored;
                }
                c.bytes_used -= std::min(c.bytes_used, unstored * tmpfs_page_size);
                if (done == 0) return Errno::nomem;
                if (offset + done > d.size) d.size = offset + done;
                d.mtime = d.ctime = now;
                return done;
            }
            std::memset(fresh.get(), 0, in_page);
            std::memset(fresh.get() + in_page + chunk, 0, tmpfs_page_size - in_page - chunk);
            page = d.pages.emplace_hint(page, index, std::move(fresh));
        }
        std::memcpy(page->second.get() + in_page, in.data() + done, chunk);
        done += chunk;
        ++page;
    }
    if (end > d.size) d.size = end;
    d.mtime = d.ctime = now;
    return in.size();
}

template <platform::RawMutexProvider P>
Result<void> TmpfsNode<P>::truncate(std::uint64_t length) {
    if (this->is_directory()) return Errno::isdir;
    if (!this->is_regular()) return Errno::inval;
    if (length > fs::max_file_size) return Errno::fbig;
    const auto now = m_shared->now();
    return m_shared->state.with_lock([&](TmpfsCounters& c) -> Result<void> {
        Data& d = data(c);
        if ((length < d.size && (d.seals & seal::shrink) != 0) || (length > d.size && (d.seals & seal::grow) != 0)) return Errno::perm;
        if (d.store) {
            LITEBOX_TRY(recharge_store(c, d.size, length));
            if (auto resized = d.store->resize(length); !resized) {
                (void)recharge_store(c, length, d.size);
                return resized.error();
            }
        } else if (length < d.size) {
            const std::uint64_t keep = (length + tmpfs_page_size - 1) / tmpfs_page_size;  // pages [0, keep)
            std::uint64_t freed = 0;
            for (auto it = d.pages.lower_bound(keep); it != d.pages.end();) {
                it = d.pages.erase(it);
                freed += tmpfs_page_size;
            }
            c.bytes_used -= std::min(c.bytes_used, freed);
            if (length % tmpfs_page_size != 0) {
                const auto tail = d.pages.find(length / tmpfs_page_size);
                if (tail != d.pages.end()) {
                    const std::size_t from = static_cast<std::size_t>(length % tmpfs_page_size);
                    std::memset(tail->second.get() + from, 0, tmpfs_page_size - from);
                }
            }
        }
        d.size = length;
        d.mtime = d.ctime = now;
        return ok();
    });
}

template <platform::RawMutexProvider P>
Result<std::uint64_t> TmpfsNode<P>::seek_data(std::uint64_t offset, bool hole) {
    if (!this->is_regular()) return Errno::inval;
    return m_shared->state.with_lock([&](TmpfsCounters& c) -> Result<std::uint64_t> {
        Data& d = data(c);
        if (offset >= d.size) return Errno::nxio;
        if (d.store) return hole ? d.size : offset;  // a store has no holes we can see
        const std::uint64_t index = offset / tmpfs_page_size;
        auto it = d.pages.lower_bound(index);
        if (!hole) {
            if (it == d.pages.end()) return Errno::nxio;
            const std::uint64_t at = std::max(offset, it->first * tmpfs_page_size);
            if (at >= d.size) return Errno::nxio;
            return at;
        }
        // The first page at or after `index` that is not stored (or the end of file).
        std::uint64_t expect = index;
        while (it != d.pages.end() && it->first == expect) {
            ++it;
            ++expect;
        }
        const std::uint64_t at = std::max(offset, expect * tmpfs_page_size);
        return std::min(at, d.size);
    });
}

template <platform::RawMutexProvider P>
Result<std::shared_ptr<SharedStore>> TmpfsNode<P>::shared_store(const SharedStoreFactory& factory) {
    if (!this->is_regular()) return Errno::opnotsupp;
    return m_shared->state.with_lock([&](TmpfsCounters& c) -> Result<std::shared_ptr<SharedStore>> {
        Data& d = data(c);
        if (d.store) return d.store;
        if (!factory) return Errno::nodata;
        // The store is charged its whole size (a mapping may touch any page); the pages it replaces
        // are given back once their bytes are in it.
        const std::uint64_t pages_before = d.pages.size() * tmpfs_page_size;
        const std::uint64_t need = whole_pages(d.size);
        if (need > pages_before && need - pages_before > m_shared->quota.max_bytes - std::min(m_shared->quota.max_bytes, c.bytes_used))
            return Errno::nospc;
        LITEBOX_TRY_ASSIGN(auto store, factory());
        if (!store) return Errno::nomem;
        LITEBOX_TRY(store->resize(d.size));
        for (const auto& [index, page] : d.pages) {
            const std::uint64_t at = index * tmpfs_page_size;
            if (at >= d.size) break;
            const auto length = static_cast<std::size_t>(std::min<std::uint64_t>(tmpfs_page_size, d.size - at));
            LITEBOX_TRY(store->write(std::span<const std::byte>(page.get(), length), at));
        }
        if (d.seals != 0 && d.seals != seal::seal) LITEBOX_TRY(store->add_seals(d.seals & ~seal::seal));
        if ((d.seals & seal::seal) != 0 && d.seals != seal::seal) LITEBOX_TRY(store->add_seals(seal::seal));
        c.bytes_used = c.bytes_used - std::min(c.bytes_used, pages_before) + need;
        d.pages.clear();
        d.store = std::move(store);
        return d.store;
    });
}

template <platform::RawMutexProvider P>
Result<void> TmpfsNode<P>::setxattr(std::string_view name, std::span<const std::byte> value, int flags) {
    const auto now = m_shared->now();
    return m_shared->state.with_lock([&](TmpfsCounters& c) -> Result<void> {
        Data& d = data(c);
        const auto it = d.xattrs.find(name);
        if ((flags & 1) && it != d.xattrs.end()) return Errno::exist;
        if ((flags & 2) && it == d.xattrs.end()) return Errno::nodata;
        const std::uint64_t old_bytes = it == d.xattrs.end() ? 0 : name.size() + it->second.size();
        const std::uint64_t new_bytes = name.size() + value.size();
        if (d.xattr_bytes - old_bytes + new_bytes > m_shared->quota.max_xattr_bytes) return Errno::nospc;
        if (new_bytes > old_bytes &&
            new_bytes - old_bytes > m_shared->quota.max_bytes - std::min(m_shared->quota.max_bytes, c.bytes_used)) {
            return Errno::nospc;
        }
        c.bytes_used = c.bytes_used - std::min(c.bytes_used, old_bytes) + new_bytes;
        d.xattr_bytes = d.xattr_bytes - old_bytes + new_bytes;
        if (it == d.xattrs.end()) {
            d.xattrs.emplace(std::string(name), std::vector<std::byte>(value.begin(), value.end()));
        } else {
            it->second.assign(value.begin(), value.end());
        }
        d.ctime = now;
        return ok();
    });
}

}  // namespace litebox::fs::detail
