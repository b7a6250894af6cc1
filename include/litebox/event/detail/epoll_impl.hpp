// Out-of-line definitions of Epoll<P> (see event/epoll.hpp for the contract).
#pragma once

#include "../epoll.hpp"

namespace litebox::event {

template <typename P>
Epoll<P>::~Epoll() {
    Interest interest;
    m_interest.with_lock([&](Interest& i) { std::swap(i, interest); });
    for (auto& [key, entry] : interest.entries) entry->subscription.detach();  // no callback after this
    Ready ready;
    m_ready.with_lock([&](Ready& r) {
        for (auto& [key, entry] : interest.entries) entry->removed = true;
        std::swap(r, ready);
    });
    // `interest` and `ready` are destroyed here, without any lock held.
}

template <typename P>
void Epoll<P>::entry_event(Entry& entry, Events events) noexcept {
    bool relevant = false;
    {
        auto ready = m_ready.lock();
        if (entry.removed || entry.dead) return;
        relevant = (events & entry.events) != 0 && !entry.disabled;
        if (relevant) {
            ++entry.event_count;
            if (!entry.in_ready) {
                // The callback runs while the entry is subscribed, so the interest map still holds
                // it and this reference is never the last one.
                if (EntryPtr self = entry.weak_from_this().lock()) {
                    entry.in_ready = true;
                    ready->list.push_back(std::move(self));
                }
            }
        }
    }
    // Like Linux, every event wakes this epoll's own waiters (also when the entry was already
    // queued): a parent epoll or a poller re-checks us.
    if (relevant) m_pollee.notify(fd::events::in | fd::events::rdnorm);
    if ((events & deadline_changed) != 0) m_pollee.notify(deadline_changed);
}

template <typename P>
void Epoll<P>::entry_closed(Entry& entry) noexcept {
    auto ready = m_ready.lock();
    if (entry.removed || entry.dead) return;
    entry.dead = true;
    ready->dead.push_back(entry.weak_from_this());
}

template <typename P>
void Epoll<P>::purge_dead(Interest& interest) {
    std::vector<std::weak_ptr<Entry>> dead;
    m_ready.with_lock([&](Ready& r) { std::swap(r.dead, dead); });
    for (const auto& weak : dead) {
        EntryPtr entry = weak.lock();
        if (!entry) continue;
        auto it = interest.entries.find(entry->key);
        if (it != interest.entries.end() && it->second == entry) interest.entries.erase(it);
        std::erase(interest.timed, entry);
    }
}

template <typename P>
void Epoll<P>::check_now(Entry& entry, fd::OpenFile<P>& file) {
    const Events mask = m_ready.with_lock([&](Ready&) { return entry.events; });
    if ((file.poll(mask) & mask) != 0) entry_event(entry, mask);
}

template <typename P>
Result<void> Epoll<P>::ctl(EpollOp op, int fd, const FilePtr& file, EpollEvent event) {
    if (!file) return Errno::badf;
    if (file.get() == this) return Errno::inval;
    const Events flags = event.events & epoll_flags::all;
    const Events events = (event.events & ~epoll_flags::all) | fd::events::err | fd::events::hup;
    const Key key{file.get(), fd};
    auto* target_epoll = owner_as<Epoll>(*file);

    switch (op) {
    case EpollOp::add: {
        Pollee<P>* pollee = file->pollee();
        if (pollee == nullptr) return Errno::perm;
        if ((flags & epoll_flags::exclusive) != 0) {
            if ((flags & epoll_flags::one_shot) != 0 || target_epoll != nullptr) return Errno::inval;
            if ((event.events & ~epoll_flags::exclusive_ok) != 0) return Errno::inval;
        }
        sync::RawLock<P>* topology = nullptr;
        if (target_epoll != nullptr) {
            topology = &topology_lock();
            topology->lock();
            if (Result<void> nesting = check_nesting(*target_epoll); !nesting.has_value()) {
                topology->unlock();
                return nesting;
            }
        }
        Result<void> added = m_interest.with_lock([&](Interest& interest) -> Result<void> {
            purge_dead(interest);
            if (interest.entries.contains(key)) return Errno::exist;
            if (interest.entries.size() >= m_max_watches) return Errno::nospc;
            auto entry = std::make_shared<Entry>(this, key, file);
            entry->timed = pollee->timed();
            m_ready.with_lock([&](Ready&) {
                entry->events = events;
                entry->flags = flags;
                entry->data = event.data;
            });
            interest.entries.emplace(key, entry);
            if (entry->timed) interest.timed.push_back(entry);
            if (!entry->subscription.attach(*pollee, *entry, all_events)) {
                interest.entries.erase(key);
                std::erase(interest.timed, entry);
                return Errno::badf;
            }
            check_now(*entry, *file);
            return ok();
        });
        if (topology != nullptr) topology->unlock();
        return added;
    }
    case EpollOp::mod: {
        if ((flags & epoll_flags::exclusive) != 0) return Errno::inval;
        return m_interest.with_lock([&](Interest& interest) -> Result<void> {
            purge_dead(interest);
            auto it = interest.entries.find(key);
            if (it == interest.entries.end()) return Errno::noent;
            Entry& entry = *it->second;
            const bool was_exclusive = m_ready.with_lock([&](Ready&) {
                if ((entry.flags & epoll_flags::exclusive) != 0) return true;
                entry.events = events;
                entry.flags = flags;
                entry.data = event.data;
                entry.disabled = false;
                return false;
            });
            if (was_exclusive) return Errno::inval;
            check_now(entry, *file);
            return ok();
        });
    }
    case EpollOp::del: {
        EntryPtr removed;  // destroyed after the interest lock is released
        Result<void> deleted = m_interest.with_lock([&](Interest& interest) -> Result<void> {
            purge_dead(interest);
            auto it = interest.entries.find(key);
            if (it == interest.entries.end()) return Errno::noent;
            removed = std::move(it->second);
            interest.entries.erase(it);
            std::erase(interest.timed, removed);
            removed->subscription.detach();
            m_ready.with_lock([&](Ready&) { removed->removed = true; });
            return ok();
        });
        return deleted;
    }
    }
    return Errno::inval;
}

template <typename P>
std::vector<std::shared_ptr<Epoll<P>>> Epoll<P>::child_epolls() {
    std::vector<FilePtr> files;
    m_interest.with_lock([&](Interest& interest) {
        for (auto& [key, entry] : interest.entries) {
            if (FilePtr f = entry->file.lock()) files.push_back(std::move(f));
        }
    });
    std::vector<std::shared_ptr<Epoll>> children;
    for (FilePtr& f : files) {
        if (Epoll* child = owner_as<Epoll>(*f)) children.push_back(std::shared_ptr<Epoll>(f, child));
    }
    return children;
}

template <typename P>
Result<void> Epoll<P>::check_nesting(Epoll& target) {
    // Depth-first from the target, with the topology lock held (nobody adds epolls meanwhile).
    struct Frame {
        std::shared_ptr<Epoll> epoll;
        int depth;
    };
    std::vector<Frame> stack;
    for (auto& child : target.child_epolls()) stack.push_back({std::move(child), 2});
    while (!stack.empty()) {
        Frame frame = std::move(stack.back());
        stack.pop_back();
        if (frame.epoll.get() == this || frame.depth > max_epoll_nesting) return Errno::loop;
        for (auto& child : frame.epoll->child_epolls()) stack.push_back({std::move(child), frame.depth + 1});
    }
    return ok();
}

template <typename P>
bool Epoll<P>::has_timed() {
    return m_interest.with_lock([](Interest& interest) { return !interest.timed.empty(); });
}

template <typename P>
void Epoll<P>::poll_timed() {
    std::vector<FilePtr> files;
    m_interest.with_lock([&](Interest& interest) {
        for (const EntryPtr& entry : interest.timed) {
            if (FilePtr f = entry->file.lock()) files.push_back(std::move(f));
        }
    });
    // Looking at a timed file makes it notice expiries and notify (which readies our entry).
    for (const FilePtr& f : files) (void)f->poll(all_events);
}

template <typename P>
std::optional<typename P::Instant> Epoll<P>::next_deadline() {
    std::vector<FilePtr> files;
    m_interest.with_lock([&](Interest& interest) {
        for (const EntryPtr& entry : interest.timed) {
            if (FilePtr f = entry->file.lock()) files.push_back(std::move(f));
        }
    });
    std::optional<typename P::Instant> deadline;
    for (const FilePtr& f : files) {
        if (Pollee<P>* pollee = f->pollee()) deadline = earlier(deadline, pollee->next_deadline());
    }
    return deadline;
}

template <typename P>
std::size_t Epoll<P>::harvest(std::span<EpollEvent> out) {
    if (has_timed()) poll_timed();
    std::deque<EntryPtr> batch;
    m_ready.with_lock([&](Ready& r) {
        std::swap(batch, r.list);
        for (const EntryPtr& e : batch) e->in_ready = false;
    });
    std::size_t n = 0;
    std::vector<EntryPtr> requeue;  // level-triggered entries stay on the ready list
    while (!batch.empty() && n < out.size()) {
        EntryPtr entry = std::move(batch.front());
        batch.pop_front();
        FilePtr file = entry->file.lock();
        if (!file) continue;  // released: its on_close queued it for purging
        const auto mask = m_ready.with_lock([&](Ready&) -> std::optional<Events> {
            if (entry->removed || entry->disabled || entry->dead) return std::nullopt;
            return entry->events;
        });
        if (!mask) continue;
        const Events events = file->poll(*mask) & *mask;
        if (events == 0) continue;
        m_ready.with_lock([&](Ready&) {
            if (entry->removed || entry->disabled || entry->dead) return;
            out[n++] = EpollEvent{events, entry->data};
            if ((entry->flags & epoll_flags::one_shot) != 0) {
                entry->disabled = true;
            } else if ((entry->flags & epoll_flags::edge_triggered) == 0 && !entry->in_ready) {
                entry->in_ready = true;
                requeue.push_back(entry);
            }
        });
    }
    if (!batch.empty() || !requeue.empty()) {
        m_ready.with_lock([&](Ready& r) {
            // Unvisited entries go back to the front, in order; re-queued ones to the back.
            for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
                if (!(*it)->in_ready) {
                    (*it)->in_ready = true;
                    r.list.push_front(*it);
                }
            }
            for (EntryPtr& e : requeue) r.list.push_back(std::move(e));
        });
    }
    return n;
}

template <typename P>
Result<std::size_t> Epoll<P>::wait(const WaitContext<P>& ctx, std::span<EpollEvent> out) {
    if (out.empty() || out.size() > max_epoll_events) return Errno::inval;
    Waiter<P> private_waiter;
    Waiter<P>& waiter = ctx.waiter != nullptr ? *ctx.waiter : private_waiter;
    Subscription<P> subscription;
    for (;;) {
        const std::uint32_t token = waiter.prepare();
        const std::size_t n = harvest(out);
        if (n > 0) return n;
        if (detail::deadline_passed(*ctx.platform, ctx.deadline)) return std::size_t{0};
        if (!subscription.attached()) {
            // Subscribe, then look again before sleeping so that no notification is missed.
            (void)subscription.attach(m_pollee, waiter, fd::events::in | deadline_changed);
            continue;
        }
        const auto deadline = earlier(ctx.deadline, next_deadline());
        const Result<void> slept = waiter.sleep(*ctx.platform, token, deadline);
        if (!slept.has_value()) {
            if (slept.error() == Errno::intr) return Errno::intr;
            // timed out: the loop harvests once more and then returns 0 if ctx.deadline passed.
        }
    }
}

template <typename P>
fd::Events Epoll<P>::poll(fd::Events /*interest*/) {
    if (has_timed()) poll_timed();
    std::vector<EntryPtr> snapshot;
    m_ready.with_lock([&](Ready& r) { snapshot.assign(r.list.begin(), r.list.end()); });
    fd::Events result = 0;
    std::vector<std::pair<EntryPtr, std::uint64_t>> stale;  // not ready when looked at
    for (const EntryPtr& entry : snapshot) {
        FilePtr file = entry->file.lock();
        if (!file) continue;
        const auto seen = m_ready.with_lock([&](Ready&) -> std::optional<std::pair<Events, std::uint64_t>> {
            if (entry->removed || entry->disabled || entry->dead) return std::nullopt;
            return std::pair{entry->events, entry->event_count};
        });
        if (!seen) continue;
        if ((file->poll(seen->first) & seen->first) != 0) {
            result = fd::events::in | fd::events::rdnorm;
            break;
        }
        stale.emplace_back(entry, seen->second);
    }
    if (!stale.empty()) {
        // Drop entries that were not ready, unless an event arrived for them since (as Linux's
        // poll of an epoll does); a later event queues them again.
        m_ready.with_lock([&](Ready& r) {
            for (auto& [entry, count] : stale) {
                if (entry->event_count != count || !entry->in_ready) continue;
                entry->in_ready = false;
                auto it = std::find(r.list.begin(), r.list.end(), entry);
                if (it != r.list.end()) r.list.erase(it);
            }
        });
    }
    return result;
}

template <typename P>
std::size_t Epoll<P>::watch_count() {
    return m_interest.with_lock([&](Interest& interest) {
        purge_dead(interest);
        return interest.entries.size();
    });
}

}  // namespace litebox::event
