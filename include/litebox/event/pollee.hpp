// Pollee<P>: the one readiness mechanism of the library. Every object whose poll events change
// (pipes, sockets, eventfds, timerfds, epoll instances) owns one Pollee per open file description
// and calls notify(events) after each change; waiters (poll, epoll, blocking read/write) subscribe
// an Observer to it and re-check the object's poll() when notified.
//
// Contract for objects (the notifying side):
// - Change the state first, then call notify() with every event bit that may have changed (a
//   superset is fine: notifications are hints, observers re-check). The state change must be
//   visible to a later poll(): make it under the lock that poll() takes (notify may be called with
//   or without that lock held).
// - Timed readiness (a timerfd) is not notified by a clock: such an object gives the Pollee a
//   DeadlineSource, waiters sleep at most until next_deadline() and then re-poll, and poll()
//   notifies when it observes the expiry.
// - The Pollee must live exactly as long as the open file description: its destructor tells every
//   observer (epoll removes the entry, as Linux does when the file is released).
//
// Contract for observers (the waiting side):
// - on_events / on_close run with the Pollee's lock held, possibly on any thread. They must not
//   block, must not subscribe or unsubscribe anything, must not drop the last reference to any
//   object, and may only take leaf locks (a Waiter's word, an epoll's ready-list lock) or notify
//   another Pollee further up an acyclic epoll graph.
// - A subscriber that subscribes and then re-checks the state never misses a change: either its
//   re-check sees the change, or the change's notify() sees its subscription.
//
// Lock order of the whole event/ipc layer (take only in this order, never the reverse):
//   epoll topology lock -> epoll interest lock (parent before child) -> object state locks
//   (socket -> unix namespace, socket -> connection, pipe channel, eventfd, timerfd) ->
//   Pollee locks (a watched file's before the epoll's own, along the acyclic epoll graph) ->
//   leaf locks (epoll ready list, Waiter word).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "../fd/types.hpp"
#include "../sync/raw_lock.hpp"

namespace litebox::event {

using fd::Events;

/// Internal event bit, never reported to a guest: "my next_deadline() may have changed" (a timerfd
/// was re-armed). Waiters include it in their masks so that they recompute how long to sleep.
inline constexpr Events deadline_changed = 1u << 27;
/// Every event bit a subscription may ask for.
inline constexpr Events all_events = ~Events{0};

namespace detail {
/// The futex-like word a Waiter sleeps on. It is shared with notifiers so that they can wake it
/// after releasing the Pollee's lock (a woken thread then never runs into that lock while its
/// waker still holds it), even if the Waiter has returned and gone meanwhile.
template <typename P>
struct WakeWord {
    typename P::RawMutex word;
};
template <typename P>
using WakeWordPtr = std::shared_ptr<WakeWord<P>>;
}  // namespace detail

/// Receives a Pollee's notifications (see the contract above).
template <typename P>
class Observer {
public:
    /// Some of `events` (already masked by the subscription) may have changed. May return a word
    /// to wake once the Pollee's lock is released (a sleeping Waiter's), else nullptr.
    virtual detail::WakeWordPtr<P> on_events(Events events) noexcept = 0;
    /// The Pollee is being destroyed; the subscription is already detached. Same return value.
    virtual detail::WakeWordPtr<P> on_close() noexcept { return nullptr; }

protected:
    Observer() = default;
    Observer(const Observer&) = default;
    Observer& operator=(const Observer&) = default;
    ~Observer() = default;
};

/// An object whose readiness depends on the clock (timerfd, an epoll that watches one).
///
/// Contract: next_deadline() returns the earliest instant at which poll() may report a new event
/// without any notify(), or nullopt when there is none. It is called without any lock of the
/// event layer held and may take the object's own lock.
template <typename P>
class DeadlineSource {
public:
    virtual std::optional<typename P::Instant> next_deadline() = 0;

protected:
    DeadlineSource() = default;
    DeadlineSource(const DeadlineSource&) = default;
    DeadlineSource& operator=(const DeadlineSource&) = default;
    ~DeadlineSource() = default;
};

/// Who owns a Pollee: the address of a per-type tag and the owning object. It lets callers get
/// the concrete object behind an OpenFile without RTTI (see owner_as).
struct PolleeOwner {
    const void* kind = nullptr;
    void* object = nullptr;
};

/// The tag whose address identifies type T in PolleeOwner::kind.
template <typename T>
inline constexpr char kind_tag = 0;

/// The owner record for an object of type T.
template <typename T>
PolleeOwner owner_of(T* object) noexcept {
    return PolleeOwner{&kind_tag<T>, static_cast<void*>(object)};
}

template <typename P>
class Subscription;
template <typename P>
class Notifier;
template <typename P>
class NotifyList;

namespace detail {

template <typename P>
struct SubscriptionNode {
    SubscriptionNode* prev = nullptr;
    SubscriptionNode* next = nullptr;
    Observer<P>* observer = nullptr;
    Events mask = 0;
    bool linked = false;  // guarded by the core's lock
};

/// The shared part of a Pollee: its lock and its list of subscriptions. Subscriptions and
/// Notifiers keep it alive, so that they can always reach it even after the Pollee is gone.
template <typename P>
class PolleeCore {
public:
    void notify(Events events) noexcept {
        // Fast path: nobody listens. seq_cst pairs with the increment in link(): a subscriber that
        // then re-checks the object's state either sees the change or is seen here.
        if (m_subscribers.load(std::memory_order_seq_cst) == 0) return;
        Wakes wakes;
        m_lock.lock();
        for (SubscriptionNode<P>* node = m_head; node != nullptr; node = node->next) {
            const Events hit = node->mask & events;
            if (hit != 0) wakes.add(node->observer->on_events(hit));
        }
        m_lock.unlock();
        wakes.fire();
    }

    bool link(SubscriptionNode<P>& node) noexcept {
        m_lock.lock();
        if (m_closed) {
            m_lock.unlock();
            return false;
        }
        node.prev = m_tail;
        node.next = nullptr;
        if (m_tail != nullptr) m_tail->next = &node;
        else m_head = &node;
        m_tail = &node;
        node.linked = true;
        m_subscribers.fetch_add(1, std::memory_order_seq_cst);
        m_lock.unlock();
        return true;
    }

    void unlink(SubscriptionNode<P>& node) noexcept {
        m_lock.lock();
        if (node.linked) remove(node);
        m_lock.unlock();
    }

    void set_mask(SubscriptionNode<P>& node, Events mask) noexcept {
        m_lock.lock();
        node.mask = mask;
        m_lock.unlock();
    }

    void close() noexcept {
        Wakes wakes;
        m_lock.lock();
        m_closed = true;
        while (m_head != nullptr) {
            SubscriptionNode<P>* node = m_head;
            remove(*node);
            wakes.add(node->observer->on_close());
        }
        m_lock.unlock();
        wakes.fire();
    }

    [[nodiscard]] std::size_t subscribers() const noexcept { return m_subscribers.load(std::memory_order_relaxed); }

private:
    /// Words to wake after the lock is released (beyond the first few, woken under the lock).
    class Wakes {
    public:
        void add(WakeWordPtr<P> word) noexcept {
            if (!word) return;
            if (m_count < m_words.size()) m_words[m_count++] = std::move(word);
            else (void)word->word.wake_all();
        }
        void fire() noexcept {
            for (std::size_t i = 0; i < m_count; ++i) (void)m_words[i]->word.wake_all();
        }

    private:
        std::array<WakeWordPtr<P>, 4> m_words{};
        std::size_t m_count = 0;
    };

    void remove(SubscriptionNode<P>& node) noexcept {
        if (node.prev != nullptr) node.prev->next = node.next;
        else m_head = node.next;
        if (node.next != nullptr) node.next->prev = node.prev;
        else m_tail = node.prev;
        node.prev = node.next = nullptr;
        node.linked = false;
        m_subscribers.fetch_sub(1, std::memory_order_relaxed);
    }

    sync::RawLock<P> m_lock;
    SubscriptionNode<P>* m_head = nullptr;
    SubscriptionNode<P>* m_tail = nullptr;
    std::atomic<std::size_t> m_subscribers{0};
    bool m_closed = false;
};

}  // namespace detail

/// The readiness notifier of one open file description. Not copyable or movable.
template <typename P>
class Pollee {
public:
    /// `deadline_source` (optional) must outlive the Pollee; `owner` names the object that owns
    /// it (owner_of(this)). Both are set once and never change.
    explicit Pollee(DeadlineSource<P>* deadline_source = nullptr, PolleeOwner owner = {})
        : m_core(std::make_shared<detail::PolleeCore<P>>()), m_deadline_source(deadline_source), m_owner(owner) {}
    explicit Pollee(PolleeOwner owner) : Pollee(nullptr, owner) {}
    Pollee(const Pollee&) = delete;
    Pollee& operator=(const Pollee&) = delete;
    ~Pollee() { m_core->close(); }

    /// Tells subscribers whose mask intersects `events` that those events may have changed.
    void notify(Events events) noexcept { m_core->notify(events); }

    /// A handle that can notify this Pollee from elsewhere and outlive it (then it does nothing).
    [[nodiscard]] Notifier<P> notifier() const;

    /// True when readiness also changes with the clock (see DeadlineSource).
    [[nodiscard]] bool timed() const noexcept { return m_deadline_source != nullptr; }
    /// The earliest instant at which readiness may change without a notification.
    [[nodiscard]] std::optional<typename P::Instant> next_deadline() const {
        if (m_deadline_source == nullptr) return std::nullopt;
        return m_deadline_source->next_deadline();
    }

    /// Number of live subscriptions (for tests and diagnostics).
    [[nodiscard]] std::size_t subscribers() const noexcept { return m_core->subscribers(); }

    [[nodiscard]] const PolleeOwner& owner() const noexcept { return m_owner; }

private:
    friend class Subscription<P>;
    friend class NotifyList<P>;
    std::shared_ptr<detail::PolleeCore<P>> m_core;
    DeadlineSource<P>* const m_deadline_source;
    const PolleeOwner m_owner;
};

/// The object of type T that owns `file`'s Pollee, or nullptr when `file` is something else.
/// `File` is any type with a `pollee()` member returning Pollee<P>* (an OpenFile).
template <typename T, typename File>
T* owner_as(File& file) noexcept {
    auto* pollee = file.pollee();
    if (pollee == nullptr || pollee->owner().kind != &kind_tag<T>) return nullptr;
    return static_cast<T*>(pollee->owner().object);
}

/// A shared handle that notifies a Pollee; harmless after the Pollee is destroyed. Copyable.
template <typename P>
class Notifier {
public:
    Notifier() = default;
    void notify(Events events) const noexcept {
        if (m_core) m_core->notify(events);
    }
    [[nodiscard]] explicit operator bool() const noexcept { return m_core != nullptr; }

private:
    friend class Pollee<P>;
    friend class NotifyList<P>;
    explicit Notifier(std::shared_ptr<detail::PolleeCore<P>> core) : m_core(std::move(core)) {}
    std::shared_ptr<detail::PolleeCore<P>> m_core;
};

template <typename P>
Notifier<P> Pollee<P>::notifier() const {
    return Notifier<P>(m_core);
}

/// Notifications collected while an object's lock is held and delivered after it is released, so
/// that a woken thread does not run straight into the lock its waker still holds. Only Pollees
/// with subscribers are recorded (checking under the lock is exact: a subscriber that has not
/// been counted yet re-checks the state after this lock is released).
template <typename P>
class NotifyList {
public:
    NotifyList() = default;
    NotifyList(const NotifyList&) = delete;
    NotifyList& operator=(const NotifyList&) = delete;
    ~NotifyList() { fire(); }

    void add(const Pollee<P>& pollee, Events events) {
        if (pollee.m_core->subscribers() != 0) push(pollee.m_core, events);
    }
    void add(const Notifier<P>& notifier, Events events) {
        if (notifier.m_core && notifier.m_core->subscribers() != 0) push(notifier.m_core, events);
    }
    /// Delivers and forgets everything collected (call it after releasing the lock).
    void fire() noexcept {
        for (std::size_t i = 0; i < m_count; ++i) {
            m_entries[i].first->notify(m_entries[i].second);
            m_entries[i].first.reset();
        }
        m_count = 0;
    }

private:
    void push(const std::shared_ptr<detail::PolleeCore<P>>& core, Events events) {
        for (std::size_t i = 0; i < m_count; ++i) {
            if (m_entries[i].first == core) {
                m_entries[i].second |= events;
                return;
            }
        }
        if (m_count == m_entries.size()) {  // full: deliver the oldest now (still correct, just
            m_entries[0].first->notify(m_entries[0].second);  // under the caller's lock)
            m_entries[0] = {core, events};
            return;
        }
        m_entries[m_count++] = {core, events};
    }
    std::array<std::pair<std::shared_ptr<detail::PolleeCore<P>>, Events>, 4> m_entries{};
    std::size_t m_count = 0;
};

/// One observer registered with one Pollee, for the lifetime of this object (RAII). Not movable:
/// keep subscriptions in node-stable containers (std::deque::emplace_back, std::list, arrays).
template <typename P>
class Subscription {
public:
    Subscription() = default;
    Subscription(Pollee<P>& pollee, Observer<P>& observer, Events mask) { (void)attach(pollee, observer, mask); }
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    ~Subscription() { detach(); }

    /// Subscribes `observer` for `mask`. Returns false when the Pollee is already closing. A
    /// subscription that is attached is detached first.
    bool attach(Pollee<P>& pollee, Observer<P>& observer, Events mask) noexcept {
        detach();
        m_node.observer = &observer;
        m_node.mask = mask;
        m_core = pollee.m_core;
        if (!m_core->link(m_node)) {
            m_core.reset();
            return false;
        }
        return true;
    }
    /// Unsubscribes. When it returns, no callback for this subscription is running or will run.
    void detach() noexcept {
        if (m_core) {
            m_core->unlink(m_node);
            m_core.reset();
        }
    }
    /// Changes the mask of an attached subscription.
    void set_mask(Events mask) noexcept {
        if (m_core) m_core->set_mask(m_node, mask);
    }
    [[nodiscard]] bool attached() const noexcept { return m_core != nullptr; }

private:
    std::shared_ptr<detail::PolleeCore<P>> m_core;
    detail::SubscriptionNode<P> m_node;
};

}  // namespace litebox::event
