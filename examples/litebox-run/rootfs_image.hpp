// The default root file system of litebox-run: a ustar archive built from Debian's busybox-static
// at build time (make_rootfs.sh) and embedded in the executable (rootfs_image.cpp).
#pragma once

#include <cstddef>
#include <span>

namespace litebox_run {

/// The embedded image's bytes (read-only, for the lifetime of the program).
std::span<const std::byte> default_rootfs_image() noexcept;

}  // namespace litebox_run
