// Umbrella header: the whole portable core (no host platform). Include a platform header
// (litebox/platform/std/platform.hpp or litebox/platform/linux/platform.hpp) or bring your own.
#pragma once

#include "box.hpp"
#include "error.hpp"
#include "fd/table.hpp"
#include "fs/devfs.hpp"
#include "fs/tmpfs.hpp"
#include "fs/vfs.hpp"
#include "log.hpp"
#include "platform/concepts.hpp"
#include "platform/diagnose.hpp"
#include "platform/punchthrough.hpp"
#include "platform/time.hpp"
#include "platform/trivial.hpp"
#include "sync.hpp"
#include "shim/linux/shim.hpp"
