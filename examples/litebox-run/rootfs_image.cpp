// Embeds the default root file system image (LITEBOX_RUN_ROOTFS, a path set by CMake) with the
// assembler's .incbin: no multi-megabyte array for the compiler to parse.
#include "rootfs_image.hpp"

#ifndef LITEBOX_RUN_ROOTFS
#error "LITEBOX_RUN_ROOTFS must name the image to embed"
#endif

// The symbols are defined in the asm block below.
extern "C" const unsigned char litebox_run_rootfs_begin[];
extern "C" const unsigned char litebox_run_rootfs_end[];

__asm__(".section .rodata.litebox_run_rootfs,\"a\"\n"
        ".balign 64\n"
        ".globl litebox_run_rootfs_begin\n"
        "litebox_run_rootfs_begin:\n"
        ".incbin \"" LITEBOX_RUN_ROOTFS "\"\n"
        ".globl litebox_run_rootfs_end\n"
        "litebox_run_rootfs_end:\n"
        ".previous\n");

namespace litebox_run {

std::span<const std::byte> default_rootfs_image() noexcept {
    const auto* begin = reinterpret_cast<const std::byte*>(litebox_run_rootfs_begin);
    const auto* end = reinterpret_cast<const std::byte*>(litebox_run_rootfs_end);
    return {begin, static_cast<std::size_t>(end - begin)};
}

}  // namespace litebox_run
