// The platforms every behaviour test runs on (TEMPLATE_TEST_CASE / TEMPLATE_LIST_TEST_CASE).
#pragma once

#include <litebox/platform/linux/platform.hpp>
#include <litebox/platform/std/platform.hpp>
#include <tuple>

#include "test_platform.hpp"

namespace litebox::test {
/// Platforms with real time (for multi-threaded blocking tests).
using RealTimePlatforms = std::tuple<platform::StdPlatform, platform::LinuxPlatform>;
/// Every platform, including the virtual-clock TestPlatform.
using AllPlatforms = std::tuple<platform::StdPlatform, platform::LinuxPlatform, TestPlatform>;
}  // namespace litebox::test
