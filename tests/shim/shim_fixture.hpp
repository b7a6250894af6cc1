// Shared fixture for the shim tests: a box on GuestMemoryPlatform (simulated guest memory),
// a LinuxShim with pid 1 created, raw-syscall helpers and an in-memory OpenFile.
#pragma once

#include <catch2/catch.hpp>
#include <litebox/shim/linux/shim.hpp>

#include <cstring>
#include <initializer_list>
#include <memory>
#include <vector>

#include "support/guest_memory_platform.hpp"

namespace litebox::test {

namespace lx = litebox::shim::linux_abi;

/// A regular-file-like OpenFile over a byte vector (offset, O_APPEND, pread/pwrite, seek).
template <typename P>
class MemoryFile : public fd::OpenFile<P> {
public:
    explicit MemoryFile(std::uint32_t flags = fd::open_flags::read_write, std::string_view content = {})
        : fd::OpenFile<P>(flags), m_data(reinterpret_cast<const std::byte*>(content.data()),
                                         reinterpret_cast<const std::byte*>(content.data()) + content.size()) {}

    Result<std::size_t> read(std::span<std::byte> out) override {
        auto n = pread(out, m_offset);
        if (n.has_value()) m_offset += *n;
        return n;
    }
    Result<std::size_t> write(std::span<const std::byte> in) override {
        if ((this->status_flags() & fd::open_flags::append) != 0) m_offset = m_data.size();
        if (write_limit == 0 && !in.empty()) return write_error;
        const std::size_t n = std::min(in.size(), write_limit);
        auto written = pwrite(in.first(n), m_offset);
        if (written.has_value()) m_offset += *written;
        return written;
    }
    Result<std::size_t> pread(std::span<std::byte> out, std::uint64_t offset) override {
        if (offset >= m_data.size()) return std::size_t{0};
        const std::size_t n = std::min<std::size_t>(out.size(), m_data.size() - offset);
        std::memcpy(out.data(), m_data.data() + offset, n);
        return n;
    }
    Result<std::size_t> pwrite(std::span<const std::byte> in, std::uint64_t offset) override {
        if (offset + in.size() > m_data.size()) m_data.resize(offset + in.size());
        std::memcpy(m_data.data() + offset, in.data(), in.size());
        return in.size();
    }
    Result<std::uint64_t> seek(std::int64_t offset, fd::Whence whence) override {
        const std::int64_t origin = whence == fd::Whence::set ? 0 : whence == fd::Whence::current ? static_cast<std::int64_t>(m_offset)
                                 : whence == fd::Whence::end ? static_cast<std::int64_t>(m_data.size()) : -1;
        if (origin < 0 || origin + offset < 0) return Errno::inval;
        m_offset = static_cast<std::uint64_t>(origin + offset);
        return m_offset;
    }
    Result<fd::Stat> stat() override {
        fd::Stat s;
        s.inode = 42;
        s.mode = fd::mode::regular | 0644;
        s.size = static_cast<std::int64_t>(m_data.size());
        s.link_count = 1;
        s.modify_time = {1234, 5678};
        return s;
    }
    [[nodiscard]] std::string text() const { return std::string(reinterpret_cast<const char*>(m_data.data()), m_data.size()); }

    std::size_t write_limit = SIZE_MAX;  // accept at most this many bytes per write
    Errno write_error = Errno::again;    // returned when write_limit is 0

private:
    std::vector<std::byte> m_data;
    std::uint64_t m_offset = 0;
};

template <typename Platform = GuestMemoryPlatform>
struct ShimFixture {
    using Context = lx::ThreadContext<Platform>;

    /// The guest's root is a tmpfs owned by the configured first user (so that it may create
    /// files anywhere), unless `use_box_fs` (then: the box's own namespace, root-owned).
    explicit ShimFixture(lx::ShimConfig config = {}, bool use_box_fs = false)
        : box(platform),
          shim(box, config,
               use_box_fs ? nullptr
                          : std::make_shared<fs::Vfs<Platform>>(platform, fs::Tmpfs<Platform>::create(platform, {}, 0755, config.initial_uid,
                                                                                                      config.initial_gid))) {
        mem.reset();
        auto created = shim.create_init(lx::InitSpec{"/bin/init", {"init", "--flag"}, {"HOME=/"}});
        REQUIRE(created.has_value());
        init = std::move(*created);
    }

    template <typename... Args>
    std::int64_t call_on(Context& context, std::uint64_t number, Args... args) {
        lx::SyscallRequest request{number, {static_cast<std::uint64_t>(args)...}};
        return shim.dispatch(context, request);
    }
    template <typename... Args>
    std::int64_t call(std::uint64_t number, Args... args) {
        return call_on(*init, number, args...);
    }
    /// Installs a MemoryFile in `context`'s table; returns its descriptor.
    int install(Context& context, std::shared_ptr<MemoryFile<Platform>> file) {
        auto fd = context.files().insert(std::move(file), false);
        REQUIRE(fd.has_value());
        return *fd;
    }
    /// fork() from `parent`: the child's context.
    std::unique_ptr<Context> fork(Context& parent) {
        const auto child_pid = call_on(parent, lx::nr::fork);
        REQUIRE(child_pid > 0);
        auto request = parent.take_request();
        REQUIRE(std::holds_alternative<lx::CloneRequest<Platform>>(request));
        return std::move(std::get<lx::CloneRequest<Platform>>(request).child);
    }

    Platform platform;
    LiteBox<Platform> box;
    lx::LinuxShim<Platform> shim;
    std::unique_ptr<Context> init;
    GuestAddressSpace& mem = GuestAddressSpace::instance();
};

inline constexpr std::int64_t err(Errno e) { return -static_cast<std::int64_t>(errno_number(e)); }

}  // namespace litebox::test
