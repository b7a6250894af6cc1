// The audit translation unit: instantiates the whole core against AuditPlatform, whose members are
// declared but never defined. Its undefined symbols are then exactly (1) what the core asks of the
// platform and (2) allocation/runtime support — never a host OS function. Add every new core
// subsystem here.
#include <litebox/litebox.hpp>
#include <litebox/fd/table.hpp>
#include <litebox/shim/linux/shim.hpp>

namespace litebox_audit {

struct AuditRawMutex {
    AuditRawMutex();
    AuditRawMutex(const AuditRawMutex&) = delete;
    AuditRawMutex& operator=(const AuditRawMutex&) = delete;
    std::atomic<std::uint32_t>& underlying_atomic();
    std::size_t wake_many(std::size_t n);
    bool wake_one();
    std::size_t wake_all();
    litebox::platform::WaitOutcome block(std::uint32_t expected);
    litebox::platform::WaitOutcome block_or_timeout(std::uint32_t expected, litebox::platform::Duration timeout);
};

template <typename T>
struct AuditConstPtr {
    explicit AuditConstPtr(std::uintptr_t address);
    std::uintptr_t address() const;
    litebox::Result<T> read_at_offset(std::size_t offset) const;
    litebox::Result<void> read_into(std::size_t offset, std::span<T> out) const;
    litebox::Result<std::vector<T>> to_owned_slice(std::size_t length) const;
    litebox::Result<std::string> to_cstring(std::size_t max) const;
};
template <typename T>
struct AuditMutPtr : AuditConstPtr<T> {
    explicit AuditMutPtr(std::uintptr_t address);
    litebox::Result<void> write_at_offset(std::size_t offset, const T& value) const;
    litebox::Result<void> copy_from(std::size_t offset, std::span<const T> in) const;
};

struct AuditToken {
    litebox::platform::PunchthroughResult<litebox::platform::NoPunchthrough::Success, litebox::platform::NoPunchthrough::Failure> execute() &&;
};

struct AuditPlatform {
    using RawMutex = AuditRawMutex;
    using Instant = litebox::platform::MonotonicInstant;
    using SystemTime = litebox::platform::UnixTime;
    using Punchthrough = litebox::platform::NoPunchthrough;
    using PunchthroughToken = AuditToken;
    template <typename T>
    using ConstPtr = AuditConstPtr<T>;
    template <typename T>
    using MutPtr = AuditMutPtr<T>;

    litebox::Result<void> send_ip_packet(std::span<const std::byte> packet) const;
    litebox::Result<std::size_t> receive_ip_packet(std::span<std::byte> buffer) const;
    Instant now() const;
    SystemTime current_time() const;
    std::optional<AuditToken> get_punchthrough_token_for(Punchthrough request) const;
    void debug_log_print(std::string_view message) const;
};
static_assert(litebox::platform::Provider<AuditPlatform>);

}  // namespace litebox_audit

using P = litebox_audit::AuditPlatform;

// Explicit instantiation definitions instantiate every member of these templates.
template class litebox::LiteBox<P>;
template class litebox::sync::RawLock<P>;
template class litebox::sync::Condvar<P>;
template class litebox::sync::FutexTable<P>;
template class litebox::sync::Mutex<P, int>;
template class litebox::sync::RwLock<P, int>;
template class litebox::fd::DescriptorTable<P>;
template class litebox::shim::linux_abi::LinuxShim<P>;
template class litebox::shim::linux_abi::ProcessTable<P>;
template class litebox::fs::Vfs<P>;
template class litebox::fs::Tmpfs<P>;
template class litebox::fs::detail::TmpfsNode<P>;
template class litebox::fs::RecordLocks<P>;
template class litebox::fs::RegularFile<P>;
template class litebox::fs::DirectoryFile<P>;
template class litebox::fs::PathFile<P>;
template class litebox::fs::FifoFile<P>;
template class litebox::fs::detail::MemoryDeviceFile<P>;

// Member templates are instantiated by calling them.
int audit_exercise(P& platform, int value) {
    litebox::LiteBox<P> box(platform);
    box.log("audit {} {}", value, "message");
    litebox::log_runtime(platform, "{} {}", value, 2);

    litebox::sync::Mutex<P, int> mutex;
    litebox::sync::Condvar<P> condvar;
    {
        auto guard = mutex.lock();
        condvar.wait_for(platform, guard, litebox::platform::Duration{1000}, [](int& v) { return v > 0; });
        condvar.wait(guard, [](int& v) { return v >= 0; });
    }
    litebox::sync::RwLock<P, int> rwlock;
    rwlock.with_write([&](int& v) { v = value; });
    const int read = rwlock.with_read([](const int& v) { return v; });

    litebox::sync::FutexTable<P> futexes;
    auto waited = futexes.wait(platform, 1, litebox::sync::FutexTable<P>::match_any,
                               [] { return litebox::Result<bool>(true); }, platform.now().checked_add(litebox::platform::Duration{5}));

    litebox::fd::DescriptorTable<P> table;
    int count = static_cast<int>(table.count());
    table.for_each([&](int, const auto&, bool) { ++count; });
    auto denied = litebox::platform::request_punchthrough(platform, litebox::platform::NoPunchthrough{});

    // The file system through the box's north API.
    auto& vfs = box.fs();
    const auto creds = litebox::fs::Credentials::root();
    auto file = vfs.open(creds, vfs.root(), "/tmp/audit", litebox::fd::open_flags::create | litebox::fd::open_flags::read_write, 0644);
    if (file) count += (*file)->write(std::as_bytes(std::span("x", 1))).has_value() ? 1 : 0;
    count += vfs.rename(creds, vfs.root(), "/tmp/audit", vfs.root(), "/tmp/b").has_value() ? 1 : 0;
    count += vfs.path_of(vfs.root()).has_value() ? 1 : 0;

    litebox::shim::linux_abi::LinuxShim<P> shim(box);
    auto init = shim.create_init();
    std::int64_t shim_result = 0;
    if (init.has_value()) {
        for (std::uint64_t number = 0; number < 600; ++number)
            shim_result += shim.dispatch(**init, litebox::shim::linux_abi::SyscallRequest{number, {1, 2, 3, 4, 5, 6}});
    }

    return read + count + (waited.has_value() ? 1 : 0) + (denied ? 1 : 0) + static_cast<int>(shim_result);
}
