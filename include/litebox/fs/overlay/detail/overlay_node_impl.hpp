// OverlayNode<P>: lookup, copy-up, whiteouts, rename and merged readdir (included at the end of
// overlay_node.hpp).
#pragma once

#include "overlay_node.hpp"

namespace litebox::fs::detail {

template <platform::RawMutexProvider P>
Result<typename OverlayNode<P>::NodePtr> OverlayNode<P>::child_locked(OverlayState& s, std::string_view name) {
    Data& d = data(s);
    if (!this->is_directory()) return Errno::notdir;
    if (name == "..") {
        if (auto parent = d.parent.lock()) return parent;
        return self();
    }
    if (d.removed) return Errno::noent;
    if (const auto it = d.child_dirs.find(name); it != d.child_dirs.end()) return it->second;
    if (const auto it = d.child_others.find(name); it != d.child_others.end()) {
        if (auto live = it->second.lock()) return live;
        d.child_others.erase(it);
    }

    const auto mark_it = d.marks.find(name);
    const OverlayMark* mark = mark_it != d.marks.end() ? &mark_it->second : nullptr;
    Ptr upper_child;
    if (d.upper) {
        auto found = d.upper->lookup(name);
        if (found) {
            upper_child = std::move(*found);
        } else if (found.error() != Errno::noent) {
            return found.error();
        }
    }

    NodePtr node;
    if (upper_child) {
        if (mark && mark->kind != OverlayMark::Kind::whiteout) {
            node = make_node(mark->ino, upper_child->type());
            Data& c = node->data(s);
            c.lower_origin = mark->lower_origin;
            if (mark->kind == OverlayMark::Kind::copied && upper_child->is_directory() && lower_visible(s)) {
                auto lower = d.lower->lookup(name);
                if (lower && (*lower)->is_directory()) c.lower = std::move(*lower);
            }
            c.opaque = mark->kind == OverlayMark::Kind::replaced;
        } else {
            node = make_node(overlay_upper_ino(upper_child->ino()), upper_child->type());
        }
        node->data(s).upper = std::move(upper_child);
    } else {
        if (mark || !lower_visible(s)) return Errno::noent;  // whited out, or nothing below
        LITEBOX_TRY_ASSIGN(Ptr lower, d.lower->lookup(name));
        node = make_node(overlay_lower_ino(lower->ino()), lower->type());
        Data& c = node->data(s);
        c.lower = std::move(lower);
        c.lower_origin = true;
    }
    Data& c = node->data(s);
    c.parent = m_self;
    c.name.assign(name);
    remember_child(s, name, node);
    return node;
}

template <platform::RawMutexProvider P>
bool OverlayNode<P>::lower_has(OverlayState& s, std::string_view name, const NodePtr& child) {
    if (!child->data(s).upper) return true;  // the entry is the lower's
    const auto it = data(s).marks.find(name);
    return it != data(s).marks.end() &&
           (it->second.kind == OverlayMark::Kind::copied || it->second.kind == OverlayMark::Kind::replaced);
}

template <platform::RawMutexProvider P>
void OverlayNode<P>::forget_child(OverlayState& s, std::string_view name) {
    Data& d = data(s);
    if (const auto it = d.child_dirs.find(name); it != d.child_dirs.end()) d.child_dirs.erase(it);
    if (const auto it = d.child_others.find(name); it != d.child_others.end()) d.child_others.erase(it);
}

template <platform::RawMutexProvider P>
void OverlayNode<P>::remember_child(OverlayState& s, std::string_view name, const NodePtr& child) {
    Data& d = data(s);
    if (child->is_directory())
        d.child_dirs.insert_or_assign(std::string(name), child);
    else
        d.child_others.insert_or_assign(std::string(name), std::weak_ptr<OverlayNode>(child));
}

template <platform::RawMutexProvider P>
void OverlayNode<P>::set_mark_for_placed(OverlayState& s, std::string_view name, bool lower_had, std::uint64_t ino,
                                         bool lower_origin, const Ptr& upper) {
    Data& d = data(s);
    if (lower_had) {
        d.marks.insert_or_assign(std::string(name), OverlayMark{OverlayMark::Kind::replaced, ino, lower_origin});
    } else if (lower_origin || ino != overlay_upper_ino(upper->ino())) {
        d.marks.insert_or_assign(std::string(name), OverlayMark{OverlayMark::Kind::origin, ino, lower_origin});
    } else if (const auto it = d.marks.find(name); it != d.marks.end()) {
        d.marks.erase(it);
    }
}

template <platform::RawMutexProvider P>
Result<void> OverlayNode<P>::touch_upper(OverlayState& s) {
    AttrChange change;
    change.modify_time = wall_clock_now(m_shared->platform);
    return data(s).upper->setattr(change);
}

// ---- copy-up -------------------------------------------------------------------------------------

template <platform::RawMutexProvider P>
Result<void> OverlayNode<P>::copy_up(OverlayState& s, bool skip_data) {
    Data& d = data(s);
    if (d.upper) return ok();
    if (d.removed || !d.lower) return Errno::stale;
    NodePtr parent = d.parent.lock();
    if (!parent) return Errno::stale;
    LITEBOX_TRY(parent->copy_up(s, false));
    LITEBOX_TRY_ASSIGN(const Stat st, d.lower->getattr());
    Data& pd = parent->data(s);
    LITEBOX_TRY_ASSIGN(Ptr made, copy_up_entry(s, *pd.upper, st, skip_data));
    d.upper = std::move(made);
    pd.marks.insert_or_assign(d.name, OverlayMark{OverlayMark::Kind::copied, this->ino(), true});
    ++s.copy_ups;
    return ok();
}

template <platform::RawMutexProvider P>
Result<typename OverlayNode<P>::Ptr> OverlayNode<P>::copy_up_entry(OverlayState& s, Inode<P>& upper_dir, const Stat& st,
                                                                  bool skip_data) {
    Data& d = data(s);
    const NewNode node{st.mode, st.uid, st.gid, st.represented_device};
    Ptr made;
    if (this->is_directory()) {
        LITEBOX_TRY_ASSIGN(made, upper_dir.mkdir(d.name, node));
    } else if (this->is_symlink()) {
        LITEBOX_TRY_ASSIGN(const std::string target, d.lower->readlink());
        LITEBOX_TRY_ASSIGN(made, upper_dir.symlink(d.name, target, node));
    } else {
        LITEBOX_TRY_ASSIGN(made, upper_dir.create(d.name, node));
    }
    const auto undo = [&](Errno e) -> Errno {
        if (this->is_directory())
            (void)upper_dir.rmdir(d.name);
        else
            (void)upper_dir.unlink(d.name);
        return e;
    };
    if (this->is_regular() && !skip_data) {
        if (auto copied = copy_contents(*d.lower, *made, static_cast<std::uint64_t>(st.size)); !copied)
            return undo(copied.error());
    }
    if (auto names = d.lower->listxattr()) {
        for (const auto& name : *names) {
            auto value = d.lower->getxattr(name);
            if (!value) continue;
            auto set = made->setxattr(name, *value, 0);
            if (!set && set.error() != Errno::opnotsupp) return undo(set.error());
        }
    }
    AttrChange times;
    times.access_time = st.access_time;
    times.modify_time = st.modify_time;
    if (auto set = made->setattr(times); !set) return undo(set.error());
    return made;
}

template <platform::RawMutexProvider P>
Result<void> OverlayNode<P>::copy_contents(Inode<P>& from, Inode<P>& to, std::uint64_t size) {
    LITEBOX_TRY(to.truncate(size));  // holes stay holes: all-zero chunks are not written
    std::vector<std::byte> buffer(overlay_copy_chunk);
    std::uint64_t offset = 0;
    while (offset < size) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), size - offset));
        LITEBOX_TRY_ASSIGN(const std::size_t got, from.read(std::span(buffer.data(), want), offset));
        if (got == 0) break;
        const auto chunk = std::span<const std::byte>(buffer.data(), got);
        if (std::any_of(chunk.begin(), chunk.end(), [](std::byte b) { return b != std::byte{0}; })) {
            std::size_t done = 0;
            while (done < got) {
                LITEBOX_TRY_ASSIGN(const std::size_t n, to.write(chunk.subspan(done), offset + done));
                if (n == 0) return Errno::io;
                done += n;
            }
        }
        offset += got;
    }
    return ok();
}

// ---- namespace changes ---------------------------------------------------------------------------

template <platform::RawMutexProvider P>
Result<bool> OverlayNode<P>::is_empty(OverlayState& s) {
    Data& d = data(s);
    struct Any final : fd::DirectorySink {
        const std::map<std::string, OverlayMark, std::less<>>* hidden = nullptr;
        bool found = false;
        bool add(const fd::DirectoryEntry& e) override {
            if (hidden) {
                const auto it = hidden->find(e.name);
                if (it != hidden->end() && (it->second.kind == OverlayMark::Kind::whiteout ||
                                            it->second.kind == OverlayMark::Kind::replaced))
                    return true;  // hidden lower entry: keep looking
            }
            found = true;
            return false;
        }
    };
    if (d.upper) {
        Any any;
        LITEBOX_TRY(d.upper->readdir(0, any));
        if (any.found) return false;
    }
    if (lower_visible(s)) {
        Any any;
        any.hidden = &d.marks;
        LITEBOX_TRY(d.lower->readdir(0, any));
        if (any.found) return false;
    }
    return true;
}

template <platform::RawMutexProvider P>
template <typename Make>
Result<typename OverlayNode<P>::Ptr> OverlayNode<P>::add_entry(std::string_view name, Make&& make) {
    auto guard = m_shared->state.lock();
    OverlayState& s = *guard;
    if (data(s).removed) return Errno::noent;
    auto existing = child_locked(s, name);
    if (existing) return Errno::exist;
    if (existing.error() != Errno::noent) return existing.error();
    LITEBOX_TRY(copy_up(s, false));
    Data& d = data(s);
    LITEBOX_TRY_ASSIGN(Ptr made, make(*d.upper));
    auto node = make_node(overlay_upper_ino(made->ino()), made->type());
    const auto mark = d.marks.find(name);
    const bool over_whiteout = mark != d.marks.end() && mark->second.kind == OverlayMark::Kind::whiteout;
    if (over_whiteout) mark->second = OverlayMark{OverlayMark::Kind::replaced, node->ino(), false};
    Data& c = node->data(s);
    c.upper = std::move(made);
    c.opaque = over_whiteout;
    c.parent = m_self;
    c.name.assign(name);
    remember_child(s, name, node);
    return Ptr(std::move(node));
}

template <platform::RawMutexProvider P>
Result<typename OverlayNode<P>::Ptr> OverlayNode<P>::create_unnamed(const NewNode& node, bool linkable) {
    if (!this->is_directory()) return Errno::notdir;
    auto guard = m_shared->state.lock();
    OverlayState& s = *guard;
    if (data(s).removed) return Errno::noent;
    LITEBOX_TRY(copy_up(s, false));
    LITEBOX_TRY_ASSIGN(Ptr made, data(s).upper->create_unnamed(node, linkable));
    auto file = make_node(overlay_upper_ino(made->ino()), made->type());
    Data& c = file->data(s);
    c.upper = std::move(made);
    c.parent = m_self;
    return Ptr(std::move(file));
}

template <platform::RawMutexProvider P>
Result<void> OverlayNode<P>::link(std::string_view name, const Ptr& target) {
    auto* t = dynamic_cast<OverlayNode*>(target.get());
    if (!t || t->m_shared != m_shared) return Errno::xdev;
    if (t->is_directory()) return Errno::perm;
    auto guard = m_shared->state.lock();
    OverlayState& s = *guard;
    if (data(s).removed) return Errno::noent;
    auto existing = child_locked(s, name);
    if (existing) return Errno::exist;
    if (existing.error() != Errno::noent) return existing.error();
    LITEBOX_TRY(copy_up(s, false));
    LITEBOX_TRY(t->copy_up(s, false));
    Data& d = data(s);
    Data& td = t->data(s);
    LITEBOX_TRY(d.upper->link(name, td.upper));
    const auto mark = d.marks.find(name);
    const bool over_whiteout = mark != d.marks.end() && mark->second.kind == OverlayMark::Kind::whiteout;
    set_mark_for_placed(s, name, over_whiteout, t->ino(), td.lower_origin, td.upper);
    if (auto live = t->self()) remember_child(s, name, live);
    return ok();
}

template <platform::RawMutexProvider P>
Result<void> OverlayNode<P>::remove(std::string_view name, bool directory) {
    auto guard = m_shared->state.lock();
    OverlayState& s = *guard;
    if (data(s).removed) return Errno::noent;
    LITEBOX_TRY_ASSIGN(NodePtr child, child_locked(s, name));
    if (directory && !child->is_directory()) return Errno::notdir;
    if (!directory && child->is_directory()) return Errno::isdir;
    if (directory) {
        LITEBOX_TRY_ASSIGN(const bool empty, child->is_empty(s));
        if (!empty) return Errno::notempty;
    }
    LITEBOX_TRY(copy_up(s, false));
    Data& d = data(s);
    Data& c = child->data(s);
    const bool lower_had = lower_has(s, name, child);
    if (c.upper) {
        if (directory)
            LITEBOX_TRY(d.upper->rmdir(name));
        else
            LITEBOX_TRY(d.upper->unlink(name));
    }
    if (lower_had) {
        d.marks.insert_or_assign(std::string(name), OverlayMark{OverlayMark::Kind::whiteout, 0, false});
        if (!c.upper) LITEBOX_TRY(touch_upper(s));  // the directory changed though the upper did not
    } else if (const auto it = d.marks.find(name); it != d.marks.end()) {
        d.marks.erase(it);
    }
    forget_child(s, name);
    if (directory || !c.upper) c.removed = true;  // an upper file may live on under other names
    return ok();
}

template <platform::RawMutexProvider P>
Result<void> OverlayNode<P>::rename(std::string_view old_name, Inode<P>& new_dir, std::string_view new_name,
                                    std::uint32_t flags) {
    auto* nd = dynamic_cast<OverlayNode*>(&new_dir);
    if (!nd || nd->m_shared != m_shared) return Errno::xdev;
    if ((flags & ~(rename_flags::no_replace | rename_flags::exchange)) != 0) return Errno::inval;
    if ((flags & rename_flags::no_replace) && (flags & rename_flags::exchange)) return Errno::inval;
    const bool exchange = (flags & rename_flags::exchange) != 0;

    auto guard = m_shared->state.lock();
    OverlayState& s = *guard;
    if (data(s).removed || nd->data(s).removed) return Errno::noent;
    LITEBOX_TRY_ASSIGN(NodePtr src, child_locked(s, old_name));
    auto found = nd->child_locked(s, new_name);
    if (!found && found.error() != Errno::noent) return found.error();
    NodePtr dst = found ? std::move(*found) : nullptr;
    if (dst == src) return ok();
    if ((flags & rename_flags::no_replace) && dst) return Errno::exist;
    if (exchange && !dst) return Errno::noent;
    if (dst && !exchange) {
        if (src->is_directory() && !dst->is_directory()) return Errno::notdir;
        if (!src->is_directory() && dst->is_directory()) return Errno::isdir;
        if (dst->is_directory()) {
            LITEBOX_TRY_ASSIGN(const bool empty, dst->is_empty(s));
            if (!empty) return Errno::notempty;
        }
    }
    // A directory with lower content cannot move (overlayfs without redirect_dir: EXDEV).
    const auto has_lower = [&](OverlayNode& n) { return n.is_directory() && (n.lower_visible(s) || !n.data(s).upper); };
    if (has_lower(*src) || (exchange && has_lower(*dst))) return Errno::xdev;

    const bool old_lower_had = lower_has(s, old_name, src);
    bool new_lower_had = false;
    if (dst) {
        new_lower_had = nd->lower_has(s, new_name, dst);
    } else {
        const auto it = nd->data(s).marks.find(new_name);
        new_lower_had = it != nd->data(s).marks.end() && it->second.kind == OverlayMark::Kind::whiteout;
    }
    LITEBOX_TRY(copy_up(s, false));
    LITEBOX_TRY(nd->copy_up(s, false));
    LITEBOX_TRY(src->copy_up(s, false));
    if (exchange) LITEBOX_TRY(dst->copy_up(s, false));
    LITEBOX_TRY(data(s).upper->rename(old_name, *nd->data(s).upper, new_name, flags));

    Data& sd = src->data(s);
    forget_child(s, old_name);
    nd->forget_child(s, new_name);
    if (exchange) {
        Data& dd = dst->data(s);
        nd->set_mark_for_placed(s, new_name, new_lower_had, src->ino(), sd.lower_origin, sd.upper);
        set_mark_for_placed(s, old_name, old_lower_had, dst->ino(), dd.lower_origin, dd.upper);
        remember_child(s, old_name, dst);
        dd.parent = m_self;
        dd.name.assign(old_name);
    } else {
        if (dst) {
            Data& dd = dst->data(s);
            if (!dd.upper || dst->is_directory()) dd.removed = true;
        }
        if (old_lower_had) {
            data(s).marks.insert_or_assign(std::string(old_name), OverlayMark{OverlayMark::Kind::whiteout, 0, false});
        } else if (const auto it = data(s).marks.find(old_name); it != data(s).marks.end()) {
            data(s).marks.erase(it);
        }
        nd->set_mark_for_placed(s, new_name, new_lower_had, src->ino(), sd.lower_origin, sd.upper);
    }
    nd->remember_child(s, new_name, src);
    sd.parent = nd->m_self;
    sd.name.assign(new_name);
    return ok();
}

// ---- merged listing ------------------------------------------------------------------------------

template <platform::RawMutexProvider P>
Result<void> OverlayNode<P>::readdir(std::uint64_t cookie, fd::DirectorySink& sink) {
    if (!this->is_directory()) return Errno::notdir;
    auto guard = m_shared->state.lock();
    OverlayState& s = *guard;
    Data& d = data(s);
    if (d.removed) return ok();

    struct Filter final : fd::DirectorySink {
        fd::DirectorySink& outer;
        const std::map<std::string, OverlayMark, std::less<>>& marks;
        bool upper_part;
        bool stopped = false;
        bool overflow = false;
        Filter(fd::DirectorySink& o, const std::map<std::string, OverlayMark, std::less<>>& m, bool u)
            : outer(o), marks(m), upper_part(u) {}
        bool add(const fd::DirectoryEntry& e) override {
            if (e.next >= overlay_upper_cookie_base) {
                overflow = true;
                return false;
            }
            fd::DirectoryEntry out = e;
            const auto it = marks.find(e.name);
            const OverlayMark* mark = it != marks.end() ? &it->second : nullptr;
            if (upper_part) {
                if (mark && mark->kind == OverlayMark::Kind::copied) return true;  // listed with the lower part
                out.inode = mark ? mark->ino : overlay_upper_ino(e.inode);
                out.next = overlay_upper_cookie_base + e.next;
            } else {
                if (mark && mark->kind != OverlayMark::Kind::copied) return true;  // whited out or replaced
                out.inode = mark ? mark->ino : overlay_lower_ino(e.inode);
            }
            if (!outer.add(out)) {
                stopped = true;
                return false;
            }
            return true;
        }
    };

    if (cookie < overlay_upper_cookie_base) {
        if (lower_visible(s)) {
            Filter lower(sink, d.marks, false);
            LITEBOX_TRY(d.lower->readdir(cookie, lower));
            if (lower.overflow) return Errno::overflow;
            if (lower.stopped) return ok();
        }
        cookie = overlay_upper_cookie_base;
    }
    if (d.upper) {
        Filter upper(sink, d.marks, true);
        LITEBOX_TRY(d.upper->readdir(cookie - overlay_upper_cookie_base, upper));
        if (upper.overflow) return Errno::overflow;
    }
    return ok();
}

}  // namespace litebox::fs::detail
