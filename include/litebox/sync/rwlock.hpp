// RwLock<P, T>: many readers or one writer, writer-preferring.
//
// Contract: `with_read(f)` calls f(const T&) while no writer holds the lock; `with_write(f)` calls
// f(T&) exclusively. Writer-preferring: once a writer waits, new readers wait behind it, so writers
// do not starve (readers can, under a constant stream of writers). Not recursive: taking a read
// lock twice in one thread can deadlock when a writer arrives in between.
#pragma once

#include <cstdint>
#include <utility>

#include "condvar.hpp"
#include "mutex.hpp"

namespace litebox::sync {

template <platform::RawMutexProvider P, typename T>
class RwLock {
public:
    RwLock() = default;
    explicit RwLock(T value) : m_value(std::move(value)) {}
    RwLock(const RwLock&) = delete;
    RwLock& operator=(const RwLock&) = delete;

    template <typename F>
    decltype(auto) with_read(F&& f) {
        {
            auto state = m_state.lock();
            m_readers_cv.wait(state, [](const State& s) { return !s.writer && s.writers_waiting == 0; });
            ++state->readers;
        }
        ReadRelease release{this};
        return std::forward<F>(f)(std::as_const(m_value));
    }

    template <typename F>
    decltype(auto) with_write(F&& f) {
        {
            auto state = m_state.lock();
            ++state->writers_waiting;
            m_writers_cv.wait(state, [](const State& s) { return !s.writer && s.readers == 0; });
            --state->writers_waiting;
            state->writer = true;
        }
        WriteRelease release{this};
        return std::forward<F>(f)(m_value);
    }

private:
    struct State {
        std::uint32_t readers = 0;
        std::uint32_t writers_waiting = 0;
        bool writer = false;
    };
    struct ReadRelease {
        RwLock* lock;
        ~ReadRelease() {
            auto state = lock->m_state.lock();
            if (--state->readers == 0 && state->writers_waiting > 0) lock->m_writers_cv.notify_all();
        }
    };
    struct WriteRelease {
        RwLock* lock;
        ~WriteRelease() {
            auto state = lock->m_state.lock();
            state->writer = false;
            if (state->writers_waiting > 0) lock->m_writers_cv.notify_all();
            else lock->m_readers_cv.notify_all();
        }
    };

    Mutex<P, State> m_state;
    Condvar<P> m_readers_cv;
    Condvar<P> m_writers_cv;
    T m_value{};
};

}  // namespace litebox::sync
