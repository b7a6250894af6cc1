// File-system operations: the box's tmpfs (through LiteBox<LinuxPlatform>'s north API, with a
// descriptor table as the shim would use it) against the same operations by real system calls on
// the host's tmpfs (/dev/shm), in the same run. Both sides use the same path shape
// (/dev/shm/<dir>/file: in the box, /dev/shm is the devfs's tmpfs mount, so crossing a mount point
// is part of the measured cost).
//
// Benchmark names are "<case>/box" and "<case>/host" so that bench/run.sh pairs them.
#include <benchmark/benchmark.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <litebox/litebox.hpp>
#include <litebox/platform/linux/platform.hpp>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Platform = litebox::platform::LinuxPlatform;
namespace of = litebox::fd::open_flags;
using litebox::fs::Credentials;

constexpr std::size_t small_io = 4096;
constexpr std::size_t large_io = 64 * 1024;
constexpr std::size_t large_file = 16 * 1024 * 1024;  // read sequentially, wrapping around
constexpr int directory_entries = 1000;

/// The shared setup: a box with files under /dev/shm/litebox-bench, and the same on the host.
struct World {
    Platform platform;
    litebox::fs::TmpfsLimits limits;
    litebox::LiteBox<Platform> box{platform, limits};
    Credentials creds = Credentials::root();
    std::string host_dir;

    World() {
        char templ[] = "/dev/shm/litebox-bench-XXXXXX";
        const char* made = ::mkdtemp(templ);
        host_dir = made ? made : "/tmp";
        auto& vfs = box.fs();
        const auto root = vfs.root();
        (void)vfs.mkdir(creds, root, "/dev/shm/litebox-bench", 0755);
        (void)vfs.mkdir(creds, root, "/dev/shm/litebox-bench/many", 0755);
        ::mkdir((host_dir + "/many").c_str(), 0755);
        std::vector<std::byte> data(large_file, std::byte{0x5a});
        // Files: "file" (4 KiB) and "large" (16 MiB).
        for (const auto& [name, size] : {std::pair{"file", small_io}, std::pair{"large", large_file}}) {
            auto f = vfs.open(creds, root, std::string("/dev/shm/litebox-bench/") + name, of::create | of::write_only, 0644);
            if (f) (void)(*f)->write(std::span(data).first(size));
            const int fd = ::open((host_dir + "/" + name).c_str(), O_CREAT | O_WRONLY, 0644);
            if (fd >= 0) {
                (void)!::write(fd, data.data(), size);
                ::close(fd);
            }
        }
        for (int i = 0; i < directory_entries; ++i) {
            const std::string name = "/entry-" + std::to_string(i);
            (void)vfs.open(creds, root, "/dev/shm/litebox-bench/many" + name, of::create | of::write_only, 0644);
            const int fd = ::open((host_dir + "/many" + name).c_str(), O_CREAT | O_WRONLY, 0644);
            if (fd >= 0) ::close(fd);
        }
    }
    ~World() { (void)std::system(("rm -rf '" + host_dir + "'").c_str()); }

    std::string host(const char* name) const { return host_dir + "/" + name; }
};

World& world() {
    static World w;
    return w;
}

// ---- open + close ----------------------------------------------------------------------------
void box_open_close(benchmark::State& state) {
    auto& w = world();
    auto& vfs = w.box.fs();
    const auto root = vfs.root();
    auto& table = w.box.descriptors();
    for (auto _ : state) {
        auto file = vfs.open(w.creds, root, "/dev/shm/litebox-bench/file", of::read_only);
        const int fd = *table.insert(std::move(*file), false);
        (void)table.close(fd);
    }
}
void host_open_close(benchmark::State& state) {
    const std::string path = world().host("file");
    for (auto _ : state) {
        const int fd = ::open(path.c_str(), O_RDONLY);
        ::close(fd);
    }
}

// ---- stat ------------------------------------------------------------------------------------
void box_stat(benchmark::State& state) {
    auto& w = world();
    auto& vfs = w.box.fs();
    const auto root = vfs.root();
    for (auto _ : state) {
        auto st = vfs.stat(w.creds, root, "/dev/shm/litebox-bench/file");
        benchmark::DoNotOptimize(st);
    }
}
void host_stat(benchmark::State& state) {
    const std::string path = world().host("file");
    struct stat st{};
    for (auto _ : state) {
        ::stat(path.c_str(), &st);
        benchmark::DoNotOptimize(st);
    }
}

// ---- 4 KiB write then read -------------------------------------------------------------------
void box_write_read_4k(benchmark::State& state) {
    auto& w = world();
    auto file = *w.box.fs().open(w.creds, w.box.fs().root(), "/dev/shm/litebox-bench/file", of::read_write);
    std::array<std::byte, small_io> buffer{};
    for (auto _ : state) {
        (void)file->pwrite(buffer, 0);
        (void)file->pread(buffer, 0);
        benchmark::DoNotOptimize(buffer);
    }
}
void host_write_read_4k(benchmark::State& state) {
    const int fd = ::open(world().host("file").c_str(), O_RDWR);
    std::array<std::byte, small_io> buffer{};
    for (auto _ : state) {
        (void)!::pwrite(fd, buffer.data(), buffer.size(), 0);
        (void)!::pread(fd, buffer.data(), buffer.size(), 0);
        benchmark::DoNotOptimize(buffer);
    }
    ::close(fd);
}

// ---- 64 KiB sequential read ------------------------------------------------------------------
void box_read_64k(benchmark::State& state) {
    auto& w = world();
    auto file = *w.box.fs().open(w.creds, w.box.fs().root(), "/dev/shm/litebox-bench/large", of::read_only);
    std::vector<std::byte> buffer(large_io);
    for (auto _ : state) {
        auto n = file->read(buffer);
        if (*n == 0) (void)file->seek(0, litebox::fd::Whence::set);
        benchmark::DoNotOptimize(buffer.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(large_io));
}
void host_read_64k(benchmark::State& state) {
    const int fd = ::open(world().host("large").c_str(), O_RDONLY);
    std::vector<std::byte> buffer(large_io);
    for (auto _ : state) {
        if (::read(fd, buffer.data(), buffer.size()) == 0) ::lseek(fd, 0, SEEK_SET);
        benchmark::DoNotOptimize(buffer.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(large_io));
    ::close(fd);
}

// ---- create + unlink -------------------------------------------------------------------------
void box_create_unlink(benchmark::State& state) {
    auto& w = world();
    auto& vfs = w.box.fs();
    const auto root = vfs.root();
    auto& table = w.box.descriptors();
    for (auto _ : state) {
        auto file = vfs.open(w.creds, root, "/dev/shm/litebox-bench/new", of::create | of::exclusive | of::write_only, 0644);
        const int fd = *table.insert(std::move(*file), false);
        (void)table.close(fd);
        (void)vfs.unlink(w.creds, root, "/dev/shm/litebox-bench/new");
    }
}
void host_create_unlink(benchmark::State& state) {
    const std::string path = world().host("new");
    for (auto _ : state) {
        const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
        ::close(fd);
        ::unlink(path.c_str());
    }
}

// ---- readdir of 1000 entries (open, getdents64 until the end, close) ---------------------------
/// Encodes entries as struct linux_dirent64 into a buffer, as the shim's getdents64 would.
struct DirentBuffer final : litebox::fd::DirectorySink {
    std::array<std::byte, 32768> bytes{};
    std::size_t used = 0;
    bool add(const litebox::fd::DirectoryEntry& e) override {
        const std::size_t length = (19 + e.name.size() + 1 + 7) & ~std::size_t{7};
        if (used + length > bytes.size()) return false;
        std::byte* at = bytes.data() + used;
        const auto reclen = static_cast<std::uint16_t>(length);
        std::memcpy(at, &e.inode, 8);
        std::memcpy(at + 8, &e.next, 8);
        std::memcpy(at + 16, &reclen, 2);
        std::memcpy(at + 18, &e.type, 1);
        std::memcpy(at + 19, e.name.data(), e.name.size());
        at[19 + e.name.size()] = std::byte{0};
        used += length;
        return true;
    }
};
void box_readdir_1000(benchmark::State& state) {
    auto& w = world();
    auto& vfs = w.box.fs();
    const auto root = vfs.root();
    DirentBuffer buffer;
    for (auto _ : state) {
        auto dir = *vfs.open(w.creds, root, "/dev/shm/litebox-bench/many", of::read_only | of::directory);
        for (;;) {
            buffer.used = 0;
            (void)dir->read_directory(buffer);
            if (buffer.used == 0) break;
            benchmark::DoNotOptimize(buffer.bytes.data());
        }
    }
}
void host_readdir_1000(benchmark::State& state) {
    const std::string path = world().host("many");
    std::array<std::byte, 32768> buffer{};
    for (auto _ : state) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY);
        while (::syscall(SYS_getdents64, fd, buffer.data(), buffer.size()) > 0) benchmark::DoNotOptimize(buffer.data());
        ::close(fd);
    }
}

}  // namespace

BENCHMARK(box_open_close)->Name("fs_open_close/box");
BENCHMARK(host_open_close)->Name("fs_open_close/host");
BENCHMARK(box_stat)->Name("fs_stat/box");
BENCHMARK(host_stat)->Name("fs_stat/host");
BENCHMARK(box_write_read_4k)->Name("fs_write_read_4k/box");
BENCHMARK(host_write_read_4k)->Name("fs_write_read_4k/host");
BENCHMARK(box_read_64k)->Name("fs_read_64k/box");
BENCHMARK(host_read_64k)->Name("fs_read_64k/host");
BENCHMARK(box_create_unlink)->Name("fs_create_unlink/box");
BENCHMARK(host_create_unlink)->Name("fs_create_unlink/host");
BENCHMARK(box_readdir_1000)->Name("fs_readdir_1000/box");
BENCHMARK(host_readdir_1000)->Name("fs_readdir_1000/host");

BENCHMARK_MAIN();
