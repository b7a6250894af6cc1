// libFuzzer target: path resolution over a random tree. The input drives a sequence of namespace
// operations (mkdir, create, symlink, link, unlink, rmdir, rename, chdir, open, mount) with paths
// built from a tiny alphabet (so that names collide, and "." / ".." / "//" appear often) and
// symlink targets that may be absolute, relative, looping or dangling. Nothing may crash, hang or
// leak, and two invariants must hold:
//   1. every directory that resolves has an absolute path (path_of) that resolves back to the same
//      inode -- until something is mounted: a covered directory keeps its path, as on Linux;
//   2. no resolution ever leaves the box: ".." of the root is the root.
// Run longer by hand: tests/fuzz/path_fuzz -max_total_time=600
#include <fuzzer/FuzzedDataProvider.h>

#include <litebox/fs/tmpfs.hpp>
#include <litebox/fs/vfs.hpp>
#include <litebox/platform/std/platform.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using Platform = litebox::platform::StdPlatform;
using Vfs = litebox::fs::Vfs<Platform>;
namespace of = litebox::fd::open_flags;

std::string random_path(FuzzedDataProvider& in) {
    static const std::string parts[] = {"a", "b", "c", ".", "..", "", "dir", "l", std::string(300, 'n')};
    std::string path;
    if (in.ConsumeBool()) path = "/";
    const int count = in.ConsumeIntegralInRange(0, 6);
    for (int i = 0; i < count; ++i) {
        const auto index = in.ConsumeIntegralInRange<std::size_t>(0, 8);
        path += parts[index];
        if (i + 1 < count || in.ConsumeBool()) path += '/';
    }
    return path;
}

const bool g_trace = std::getenv("LITEBOX_FUZZ_TRACE") != nullptr;

void check(bool condition, const char* what) {
    if (condition) return;
    std::fprintf(stderr, "invariant violated: %s\n", what);
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    static Platform platform;
    litebox::fs::TmpfsLimits limits;
    limits.max_inodes = 256;
    limits.max_bytes = 1 << 20;
    Vfs vfs(platform, litebox::fs::Tmpfs<Platform>::create(platform, limits, 0755));
    auto creds = litebox::fs::Credentials::root();
    if (in.ConsumeBool()) creds = litebox::fs::Credentials::user(1000, 1000);
    auto cwd = vfs.root();
    const auto root_ino = vfs.root().inode->ino();
    bool mounted = false;
    for (int step = 0; step < 64 && in.remaining_bytes() > 0; ++step) {
        const std::string a = random_path(in);
        const int op = in.ConsumeIntegralInRange(0, 11);
        if (g_trace) std::fprintf(stderr, "op %d '%s' cwd=%s\n", op, a.c_str(), vfs.path_of(cwd).has_value() ? vfs.path_of(cwd)->c_str() : "?");
        switch (op) {
            case 0: (void)vfs.mkdir(creds, cwd, a, in.ConsumeIntegral<std::uint16_t>() & 07777); break;
            case 1: (void)vfs.open(creds, cwd, a, of::create | of::write_only | (in.ConsumeBool() ? of::exclusive : 0), 0644); break;
            case 2: (void)vfs.symlink(creds, in.ConsumeBool() ? random_path(in) : in.ConsumeRandomLengthString(64), cwd, a); break;
            case 3: (void)vfs.unlink(creds, cwd, a); break;
            case 4: (void)vfs.rmdir(creds, cwd, a); break;
            case 5: (void)vfs.rename(creds, cwd, a, cwd, random_path(in), in.ConsumeIntegralInRange<std::uint32_t>(0, 3)); break;
            case 6: (void)vfs.link(creds, cwd, a, cwd, random_path(in), in.ConsumeBool() ? litebox::fs::at_flags::symlink_follow : 0); break;
            case 7: {
                auto dir = vfs.resolve_directory(creds, cwd, a);
                if (dir) cwd = *dir;
                break;
            }
            case 8: {
                const std::uint32_t flags = in.ConsumeIntegral<std::uint32_t>() &
                                            (of::access_mode | of::directory | of::no_follow | of::path | of::truncate | of::append);
                auto file = vfs.open(creds, cwd, a, flags);
                if (file) {
                    struct Sink final : litebox::fd::DirectorySink {
                        int n = 0;
                        bool add(const litebox::fd::DirectoryEntry&) override { return ++n < 100; }
                    } sink;
                    (void)(*file)->read_directory(sink);
                }
                break;
            }
            case 9: {
                if (creds.euid == 0 && in.ConsumeBool()) {
                    // A mount may cover the working directory (then its path names the cover).
                    if (vfs.mount(creds, cwd, a, litebox::fs::Tmpfs<Platform>::create(platform, limits, 0755))) mounted = true;
                } else {
                    (void)vfs.unmount(creds, cwd, a);
                }
                break;
            }
            default: {
                auto where = vfs.resolve(creds, cwd, a, in.ConsumeBool() ? litebox::fs::at_flags::symlink_nofollow : 0);
                if (where && where->is_directory()) {
                    auto path = vfs.path_of(*where);
                    if (path) {
                        check(!path->empty() && path->front() == '/', "path_of is absolute");
                        // Once something is mounted, a directory under a covered mount point
                        // keeps its path (as Linux's d_path does), which then names the cover or
                        // nothing at all.
                        auto back = vfs.resolve(litebox::fs::Credentials::root(), vfs.root(), *path);
                        check(mounted || back.has_value(), "path_of resolves");
                        check(mounted || back->inode == where->inode, "path_of resolves back to the same directory");
                    }
                }
                break;
            }
        }
        // ".." of the root is the root, whatever was done.
        auto up = vfs.resolve(litebox::fs::Credentials::root(), cwd, "/../..");
        check(up.has_value() && (mounted || up->inode->ino() == root_ino), "the root is its own parent");
    }
    return 0;
}
