// The audit translation unit: instantiates the whole core against AuditPlatform, whose members are
// declared but never defined. Its undefined symbols are then exactly (1) what the core asks of the
// platform and (2) allocation/runtime support — never a host OS function. Add every new core
// subsystem here.
#include <litebox/litebox.hpp>
#include <litebox/fd/table.hpp>
#include <litebox/fs/hostfs/hostfs.hpp>
#include <litebox/fs/overlay/overlayfs.hpp>
#include <litebox/fs/tar/tarfs.hpp>
#include <litebox/event/blocking.hpp>
#include <litebox/event/epoll.hpp>
#include <litebox/event/poll.hpp>
#include <litebox/event/timerfd.hpp>
#include <litebox/ipc/eventfd.hpp>
#include <litebox/ipc/pipe.hpp>
#include <litebox/ipc/pty.hpp>
#include <litebox/fs/devpts.hpp>
#include <litebox/ipc/unix/socket.hpp>
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

// The same platform offering the host-directory punchthrough (for HostFs).
struct AuditHostFsToken {
    litebox::platform::PunchthroughResult<litebox::fs::hostfs::HostFsReply, litebox::Errno> execute() &&;
};
struct AuditHostFsPlatform : AuditPlatform {
    using Punchthrough = litebox::fs::hostfs::HostFsRequest;
    using PunchthroughToken = AuditHostFsToken;
    std::optional<AuditHostFsToken> get_punchthrough_token_for(Punchthrough request) const;
};
static_assert(litebox::platform::Provider<AuditHostFsPlatform>);

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
template class litebox::fs::Vfs<P>;
template class litebox::fs::Tmpfs<P>;
template class litebox::fs::detail::TmpfsNode<P>;
template class litebox::fs::RecordLocks<P>;
template class litebox::fs::InotifyHub<P>;
template class litebox::fs::Inotify<P>;
template class litebox::fs::RegularFile<P>;
template class litebox::fs::DirectoryFile<P>;
template class litebox::fs::PathFile<P>;
template class litebox::fs::FifoFile<P>;
template class litebox::fs::detail::MemoryDeviceFile<P>;
template class litebox::fs::TarFs<P>;
template class litebox::fs::detail::TarInode<P>;
template class litebox::fs::OverlayFs<P>;
template class litebox::fs::detail::OverlayNode<P>;
template class litebox::fs::HostFs<litebox_audit::AuditHostFsPlatform>;
template class litebox::fs::detail::HostInode<litebox_audit::AuditHostFsPlatform>;
template class litebox::event::Pollee<P>;
template class litebox::event::Subscription<P>;
template class litebox::event::Waiter<P>;
template class litebox::event::Epoll<P>;
template class litebox::event::TimerFd<P>;
template class litebox::ipc::Pipe<P>;
template class litebox::ipc::PipeEnd<P>;
template class litebox::ipc::PtyPair<P>;
template class litebox::ipc::PtyMaster<P>;
template class litebox::ipc::PtySlave<P>;
template class litebox::ipc::PtyTable<P>;
template class litebox::fs::PtsFs<P>;
template class litebox::ipc::EventFd<P>;
template class litebox::ipc::UnixNamespace<P>;
template class litebox::ipc::UnixSocket<P>;
template class litebox::ipc::detail::Connection<P>;
template class litebox::ipc::detail::InFlightRegistry<P>;

// The event and IPC layer: every member template and free function the shim will call.
int audit_ipc(P& platform) {
    using namespace litebox;
    event::WaitContext<P> ctx(platform, nullptr, event::deadline_after(platform, platform::Duration{1000}));
    std::array<std::byte, 16> buffer{};
    int total = 0;
    auto pipe = ipc::make_pipe<P>(0);
    if (pipe) {
        total += static_cast<int>(event::read(ctx, *pipe->read, buffer).value_or(0));
        total += static_cast<int>(event::write(ctx, *pipe->write, buffer).value_or(0));
        std::array<event::PollRequest<P>, 2> requests{{{pipe->read.get(), fd::events::in}, {nullptr, fd::events::in}}};
        total += static_cast<int>(event::poll_files(ctx, std::span(requests)).value_or(0));
        if (auto* p = ipc::pipe_of(*pipe->read)) total += static_cast<int>(p->set_capacity(8192).value_or(0));
    }
    {
        auto ptys = ipc::PtyTable<P>::create(2);
        if (auto pair = ptys->allocate()) {
            auto master = std::make_shared<ipc::PtyMaster<P>>(fs::Location<P>{}, fd::open_flags::read_write, *pair);
            total += static_cast<int>(event::write(ctx, *master, buffer).value_or(0));
            if (auto slave = ipc::PtySlave<P>::make(fs::Location<P>{}, fd::open_flags::read_write, *pair))
                total += static_cast<int>(event::read(ctx, **slave, buffer).value_or(0));
        }
    }
    auto fifo = ipc::Pipe<P>::create();
    total += fifo->open_fifo(ctx, fd::open_flags::read_only).has_value() ? 1 : 0;
    auto efd = ipc::make_eventfd<P>(1, 0);
    auto tfd = event::make_timerfd(platform, 1, 0);
    auto ep = event::make_epoll<P>(0);
    if (efd && tfd && ep) {
        auto* epoll = event::epoll_of(**ep);
        (void)epoll->ctl(event::EpollOp::add, 3, *efd, {fd::events::in, 3});
        (void)event::timerfd_of(**tfd)->settime(0, event::TimerSpec{});
        std::array<event::EpollEvent, 4> events{};
        total += static_cast<int>(epoll->wait(ctx, events).value_or(0));
        total += ipc::eventfd_of(**efd) != nullptr ? 1 : 0;
    }
    auto ns = ipc::UnixNamespace<P>::create();
    auto pair = ipc::make_unix_socketpair<P>(ns, 1, 0, ipc::PeerCredentials{});
    auto listener = ipc::make_unix_socket<P>(ns, 1, 0, ipc::PeerCredentials{});
    if (pair && listener) {
        auto* a = ipc::unix_socket_of(*pair->first);
        auto* l = ipc::unix_socket_of(**listener);
        (void)l->bind_path("/socket", [](const std::shared_ptr<ipc::UnixEndpoint<P>>&) { return litebox::ok(); });
        (void)l->listen(4);
        (void)a->connect(ctx, ns->lookup_abstract("x").value_or(nullptr));
        (void)l->accept(ctx, 0);
        total += static_cast<int>(a->send(ctx, buffer, ipc::msg_flags::nosignal).value_or(0));
        auto received = a->receive(ctx, buffer, ipc::msg_flags::waitall);
        total += received ? static_cast<int>(received->bytes) : 0;
    }
    return total;
}
template class litebox::shim::linux_abi::LinuxShim<P>;
template class litebox::shim::linux_abi::ProcessTable<P>;
template class litebox::shim::linux_abi::ProcFs<P>;
template class litebox::net::Stack<P>;
template class litebox::net::Socket<P>;

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

    // tar parsing and the backends' member templates.
    litebox::fs::tar::ParseError why;
    auto archive = litebox::fs::tar::Archive::parse({}, {}, &why);
    auto tar = litebox::fs::TarFs<P>::create(std::vector<std::byte>{});
    int fs_checks = archive.has_value() && tar.has_value() ? 1 : 0;
    if (tar) {
        auto overlay = litebox::fs::OverlayFs<P>::create(platform, *tar, *tar);
        if (overlay) {
            auto root = (*overlay)->root();
            (void)root->create("x", litebox::fs::NewNode{});
            (void)root->mkdir("y", litebox::fs::NewNode{});
            (void)root->symlink("z", "t", litebox::fs::NewNode{});
        }
    }
    const litebox_audit::AuditHostFsPlatform host_platform{};
    fs_checks += litebox::fs::HostFs<litebox_audit::AuditHostFsPlatform>::create(host_platform, true).has_value() ? 1 : 0;

    litebox::shim::linux_abi::LinuxShim<P> shim(box);
    auto init = shim.create_init();
    std::int64_t shim_result = 0;
    if (init.has_value()) {
        for (std::uint64_t number = 0; number < 600; ++number)
            shim_result += shim.dispatch(**init, litebox::shim::linux_abi::SyscallRequest{number, {1, 2, 3, 4, 5, 6}});
    }

    int net_count = 0;
    {
        namespace net = litebox::net;
        auto& stack = box.net();
        (void)stack.configure_interface(net::InterfaceConfig{net::Ipv4Address(10, 0, 2, 15), 24, net::Ipv4Address(10, 0, 2, 2), 1500});
        (void)stack.poll();
        litebox::event::WaitContext<P> ctx(platform);
        auto tcp = stack.socket(net::af::inet, static_cast<int>(net::SocketType::stream), 0);
        auto udp = stack.socket(net::af::inet, static_cast<int>(net::SocketType::datagram), 0);
        if (tcp && udp) {
            std::byte buffer[16] = {};
            (void)(*tcp)->bind(net::Endpoint{net::Ipv4Address::any(), 80});
            (void)(*tcp)->listen(1);
            (void)net::accept(ctx, **tcp);
            (void)net::connect(ctx, **udp, net::Endpoint{net::Ipv4Address::loopback(), 80});
            (void)net::send(ctx, **udp, buffer);
            (void)net::receive(ctx, **udp, buffer);
            (void)(*tcp)->set_option(net::sol::socket, net::so::linger, buffer);
            (void)(*tcp)->get_option(net::sol::tcp, net::tcp_opt::nodelay, buffer);
            net_count = static_cast<int>(stack.stats().packets_sent + (*tcp)->poll(0));
        }
    }
    return read + count + fs_checks + net_count + static_cast<int>(shim_result) + (waited.has_value() ? 1 : 0) + (denied ? 1 : 0);
}
