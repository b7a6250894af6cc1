// Mutex<P, T>: a value of type T that is reachable only while the lock is held.
//
// Contract: `with_lock(f)` calls f(T&) with the lock held and returns f's result; `lock()` returns a
// guard that holds the lock until it is destroyed and gives access to T. There is no other way to
// reach T. Not recursive: locking twice from one thread deadlocks.
#pragma once

#include <type_traits>
#include <utility>

#include "raw_lock.hpp"

namespace litebox::sync {

template <platform::RawMutexProvider P, typename T>
class Mutex;

template <platform::RawMutexProvider P>
class Condvar;

/// Holds a Mutex locked; gives access to its value.
template <platform::RawMutexProvider P, typename T>
class [[nodiscard]] MutexGuard {
public:
    MutexGuard(const MutexGuard&) = delete;
    MutexGuard& operator=(const MutexGuard&) = delete;
    MutexGuard(MutexGuard&& other) noexcept : m_mutex(std::exchange(other.m_mutex, nullptr)) {}
    ~MutexGuard() {
        if (m_mutex) m_mutex->m_lock.unlock();
    }

    T& operator*() const noexcept { return m_mutex->m_value; }
    T* operator->() const noexcept { return &m_mutex->m_value; }

private:
    friend class Mutex<P, T>;
    friend class Condvar<P>;
    explicit MutexGuard(Mutex<P, T>& m) noexcept : m_mutex(&m) {}
    RawLock<P>& raw_lock() const noexcept { return m_mutex->m_lock; }
    Mutex<P, T>* m_mutex;
};

template <platform::RawMutexProvider P, typename T>
class Mutex {
public:
    Mutex() = default;
    template <typename... Args>
    explicit Mutex(std::in_place_t, Args&&... args) : m_value(std::forward<Args>(args)...) {}
    explicit Mutex(T value) : m_value(std::move(value)) {}
    Mutex(const Mutex&) = delete;
    Mutex& operator=(const Mutex&) = delete;

    MutexGuard<P, T> lock() noexcept {
        m_lock.lock();
        return MutexGuard<P, T>(*this);
    }

    template <typename F>
    decltype(auto) with_lock(F&& f) {
        auto guard = lock();
        return std::forward<F>(f)(*guard);
    }

private:
    friend class MutexGuard<P, T>;
    RawLock<P> m_lock;
    T m_value{};
};

}  // namespace litebox::sync
