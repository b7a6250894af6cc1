// Umbrella header: the whole portable core (no host platform). Include a platform header
// (litebox/platform/std/platform.hpp or litebox/platform/linux/platform.hpp) or bring your own.
#pragma once

#include "box.hpp"
#include "error.hpp"
#include "event/blocking.hpp"
#include "event/epoll.hpp"
#include "event/poll.hpp"
#include "event/pollee.hpp"
#include "event/timerfd.hpp"
#include "event/waiter.hpp"
#include "ipc/eventfd.hpp"
#include "ipc/ioctl.hpp"
#include "ipc/pipe.hpp"
#include "ipc/unix/socket.hpp"
#include "log.hpp"
#include "platform/concepts.hpp"
#include "platform/diagnose.hpp"
#include "platform/punchthrough.hpp"
#include "platform/time.hpp"
#include "platform/trivial.hpp"
#include "sync.hpp"
