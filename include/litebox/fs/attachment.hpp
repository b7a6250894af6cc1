// Attachment<P>: the opaque slot a FIFO or socket inode carries for the IPC layer.
//
// Contract: the slot holds a weak reference to an object the IPC side owns (a FIFO's pipe, a bound
// unix socket's listener). The file system never looks inside it; it only stores and hands it back.
// Because the reference is weak, the object lives exactly as long as the IPC side keeps it (a FIFO's
// pipe while an end is open, a socket while it is bound and open); afterwards get() yields nullptr
// and get_or_create() makes a fresh one. All members are thread-safe.
#pragma once

#include <memory>
#include <utility>

#include "../sync/mutex.hpp"

namespace litebox::fs {

template <platform::RawMutexProvider P>
class Attachment {
public:
    Attachment() = default;
    Attachment(const Attachment&) = delete;
    Attachment& operator=(const Attachment&) = delete;

    /// The attached object, or nullptr when none is attached (or it has gone away).
    [[nodiscard]] std::shared_ptr<void> get() {
        return m_slot.with_lock([](std::weak_ptr<void>& w) { return w.lock(); });
    }

    /// Attaches `object` if nothing live is attached; returns false (and changes nothing) otherwise.
    bool try_attach(const std::shared_ptr<void>& object) {
        return m_slot.with_lock([&](std::weak_ptr<void>& w) {
            if (!w.expired()) return false;
            w = object;
            return true;
        });
    }

    /// The attached object; if none is live, `make()` (returning std::shared_ptr<T>) creates one,
    /// which is attached and returned. `make` runs under the slot's lock and must not re-enter it.
    template <typename Make>
    std::shared_ptr<void> get_or_create(Make&& make) {
        return m_slot.with_lock([&](std::weak_ptr<void>& w) -> std::shared_ptr<void> {
            if (auto live = w.lock()) return live;
            std::shared_ptr<void> created = std::forward<Make>(make)();
            w = created;
            return created;
        });
    }

    /// Detaches whatever is attached.
    void clear() {
        m_slot.with_lock([](std::weak_ptr<void>& w) { w.reset(); });
    }

private:
    sync::Mutex<P, std::weak_ptr<void>> m_slot;
};

}  // namespace litebox::fs
