// Umbrella header: the whole portable core (no host platform). Include a platform header
// (litebox/platform/std/platform.hpp or litebox/platform/linux/platform.hpp) or bring your own.
#pragma once

#include "box.hpp"
#include "error.hpp"
#include "log.hpp"
#include "net/blocking.hpp"
#include "net/stack.hpp"
#include "platform/concepts.hpp"
#include "platform/diagnose.hpp"
#include "platform/punchthrough.hpp"
#include "platform/time.hpp"
#include "platform/trivial.hpp"
#include "sync.hpp"
