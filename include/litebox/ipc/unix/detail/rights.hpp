// SCM_RIGHTS bookkeeping: every bundle of open files in flight in a unix socket queue is counted
// and registered with its box's InFlightRegistry.
//
// Contract: make_bundle fails with ETOOMANYREFS when the box would have more than its limit of
// files in flight (this also bounds what a reference cycle — a socket sent over itself — can
// leak). take() hands the files to the receiver; a bundle destroyed unreceived releases them.
// purge() (box teardown) drops every file still in flight, which breaks such cycles. Files are
// always released outside the registry's lock, because releasing a file may close sockets.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "../../../error.hpp"
#include "../../../sync/mutex.hpp"
#include "../types.hpp"

namespace litebox::ipc::detail {

template <typename P>
class RightsBundle;

template <typename P>
class InFlightRegistry : public std::enable_shared_from_this<InFlightRegistry<P>> {
public:
    explicit InFlightRegistry(std::size_t limit) : m_limit(limit) {}
    InFlightRegistry(const InFlightRegistry&) = delete;
    InFlightRegistry& operator=(const InFlightRegistry&) = delete;

    /// Puts `files` in flight (an empty vector gives a null bundle).
    Result<std::unique_ptr<RightsBundle<P>>> make_bundle(std::vector<FilePtr<P>> files);

    /// Drops every file in flight (box teardown).
    void purge() {
        std::vector<FilePtr<P>> dropped;
        m_state.with_lock([&](State& s) {
            while (s.head != nullptr) {
                RightsBundle<P>* b = s.head;
                for (auto& f : b->m_files) dropped.push_back(std::move(f));
                s.count -= b->m_files.size();
                b->m_files.clear();
                unlink(s, *b);
            }
        });
    }

    [[nodiscard]] std::size_t count() const {
        return m_state.with_lock([](const State& s) { return s.count; });
    }

private:
    friend class RightsBundle<P>;
    struct State {
        std::size_t count = 0;
        RightsBundle<P>* head = nullptr;
    };
    static void unlink(State& s, RightsBundle<P>& b) noexcept {
        if (!b.m_linked) return;
        if (b.m_prev != nullptr) b.m_prev->m_next = b.m_next;
        else s.head = b.m_next;
        if (b.m_next != nullptr) b.m_next->m_prev = b.m_prev;
        b.m_prev = b.m_next = nullptr;
        b.m_linked = false;
    }

    const std::size_t m_limit;
    mutable sync::Mutex<P, State> m_state;
};

/// Files attached to one queued message. Not copyable or movable (registered by address).
template <typename P>
class RightsBundle {
    struct Tag {};

public:
    RightsBundle(Tag, std::shared_ptr<InFlightRegistry<P>> registry) : m_registry(std::move(registry)) {}
    RightsBundle(const RightsBundle&) = delete;
    RightsBundle& operator=(const RightsBundle&) = delete;
    ~RightsBundle() { (void)take(); }

    /// The files, for the receiver; the bundle is empty afterwards.
    std::vector<FilePtr<P>> take() {
        std::vector<FilePtr<P>> files;
        m_registry->m_state.with_lock([&](typename InFlightRegistry<P>::State& s) {
            files = std::move(m_files);
            m_files.clear();
            s.count -= files.size();
            InFlightRegistry<P>::unlink(s, *this);
        });
        return files;
    }
    /// New references to the files (MSG_PEEK leaves the message queued).
    [[nodiscard]] std::vector<FilePtr<P>> copy() const {
        return m_registry->m_state.with_lock([&](typename InFlightRegistry<P>::State&) { return m_files; });
    }

private:
    friend class InFlightRegistry<P>;
    std::shared_ptr<InFlightRegistry<P>> m_registry;
    std::vector<FilePtr<P>> m_files;  // guarded by the registry's lock
    RightsBundle* m_prev = nullptr;
    RightsBundle* m_next = nullptr;
    bool m_linked = false;
};

template <typename P>
Result<std::unique_ptr<RightsBundle<P>>> InFlightRegistry<P>::make_bundle(std::vector<FilePtr<P>> files) {
    if (files.empty()) return std::unique_ptr<RightsBundle<P>>();
    for (const auto& f : files) {
        if (!f) return Errno::badf;
    }
    auto self = this->weak_from_this().lock();  // (shared_from_this could throw)
    if (!self) return Errno::inval;
    auto bundle = std::make_unique<RightsBundle<P>>(typename RightsBundle<P>::Tag{}, std::move(self));
    const bool admitted = m_state.with_lock([&](State& s) {
        if (files.size() > m_limit || s.count > m_limit - files.size()) return false;
        s.count += files.size();
        bundle->m_files = std::move(files);
        bundle->m_next = s.head;
        if (s.head != nullptr) s.head->m_prev = bundle.get();
        s.head = bundle.get();
        bundle->m_linked = true;
        return true;
    });
    if (!admitted) return Errno::toomanyrefs;  // `files` is released here, outside the lock
    return bundle;
}

}  // namespace litebox::ipc::detail
