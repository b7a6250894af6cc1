// All synchronization primitives, each built only on the platform's RawMutex.
#pragma once

#include "sync/condvar.hpp"
#include "sync/futex_table.hpp"
#include "sync/mutex.hpp"
#include "sync/raw_lock.hpp"
#include "sync/rwlock.hpp"
