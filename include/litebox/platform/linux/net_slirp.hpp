// An IP backend for the Linux platform through libslirp (user-mode NAT, as QEMU and rootless
// containers use): an unprivileged box reaches host services and, through NAT, the outside.
//
// Addressing is QEMU's: the box is 10.0.2.15/24, the gateway and the host are 10.0.2.2 (slirp maps
// 10.0.2.2 to the host's 127.0.0.1), DNS is 10.0.2.3. Port forwarding (add_port_forward) makes a
// host port on 127.0.0.1 reach a listener inside the box.
//
// Contract:
// - send_ip_packet/receive_ip_packet are the platform's IPInterfaceProvider (thread-safe; they
//   never block). The backend speaks Ethernet and ARP to slirp on the box's behalf.
// - service(timeout) is the backend's half of the runtime loop: it waits (at most `timeout`) for
//   slirp's host sockets or a wake-up, then lets slirp work and runs its timers. A runtime loops
//       auto deadline = stack.poll();  backend.service(time until deadline);
//   The WakeupHook (backend.wakeup_hook(), installed with Stack::set_wakeup_hook) and every packet
//   queued for the box end a service() wait early, so neither side busy-loops or oversleeps.
// - Every queue is bounded (max_queued_packets); a full queue drops packets (TCP retransmits).
// - libslirp (and GLib under it) is loaded with dlopen when the first backend is made, not linked:
//   a program that includes this header but runs without a slirp network does not pay for loading
//   them (~0.5 ms of every start on the reference machine). Link with ${CMAKE_DL_LIBS} (empty
//   from glibc 2.34 on), not libslirp; the program needs libslirp.so.0 at run time only to make a
//   backend (valid() is false without it, and slirp_library_error() says why).
#pragma once

#include <arpa/inet.h>
#include <dlfcn.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "../../net/config.hpp"
#include "../../net/stack.hpp"
#include "platform.hpp"

namespace litebox::platform {

namespace detail {
/// The libslirp entry points the backend uses, resolved once from libslirp.so.0 (the library
/// stays loaded for the rest of the process).
struct SlirpLibrary {
    decltype(&::slirp_new) new_ = nullptr;
    decltype(&::slirp_cleanup) cleanup = nullptr;
    decltype(&::slirp_input) input = nullptr;
    decltype(&::slirp_add_hostfwd) add_hostfwd = nullptr;
    decltype(&::slirp_pollfds_fill) pollfds_fill = nullptr;
    decltype(&::slirp_pollfds_poll) pollfds_poll = nullptr;
    std::string error;  // empty: every entry point was found

    static const SlirpLibrary& get() {
        static const SlirpLibrary library = load();
        return library;
    }

private:
    static SlirpLibrary load() {
        SlirpLibrary l;
        void* handle = ::dlopen("libslirp.so.0", RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            const char* why = ::dlerror();
            l.error = why != nullptr ? why : "libslirp.so.0 cannot be loaded";
            return l;
        }
        const auto resolve = [&](auto& entry, const char* name) {
            entry = reinterpret_cast<std::remove_reference_t<decltype(entry)>>(::dlsym(handle, name));
            if (entry == nullptr && l.error.empty()) l.error = std::string("libslirp.so.0 has no ") + name;
        };
        resolve(l.new_, "slirp_new");
        resolve(l.cleanup, "slirp_cleanup");
        resolve(l.input, "slirp_input");
        resolve(l.add_hostfwd, "slirp_add_hostfwd");
        resolve(l.pollfds_fill, "slirp_pollfds_fill");
        resolve(l.pollfds_poll, "slirp_pollfds_poll");
        return l;
    }
};
}  // namespace detail

/// Why no SlirpBackend can be made (libslirp.so.0 missing or incomplete); empty when it can.
inline std::string slirp_library_error() { return detail::SlirpLibrary::get().error; }

struct SlirpOptions {
    net::Ipv4Address network{10, 0, 2, 0};
    unsigned prefix_length = 24;
    net::Ipv4Address host{10, 0, 2, 2};
    net::Ipv4Address dns{10, 0, 2, 3};
    net::Ipv4Address guest{10, 0, 2, 15};
    std::size_t mtu = 1500;
    /// Packets queued towards the box before new ones are dropped.
    std::size_t max_queued_packets = 4096;
};

class SlirpBackend final : public net::WakeupHook {
public:
    explicit SlirpBackend(const SlirpOptions& options = {}) : m_options(options) {
        m_event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        SlirpConfig config{};
        config.version = 4;
        config.restricted = 0;
        config.in_enabled = true;
        config.vnetwork = to_in_addr(options.network);
        config.vnetmask = to_in_addr(net::Ipv4Address(options.prefix_length == 0 ? 0u : ~std::uint32_t{0} << (32 - options.prefix_length)));
        config.vhost = to_in_addr(options.host);
        config.in6_enabled = false;
        config.vdhcp_start = to_in_addr(options.guest);
        config.vnameserver = to_in_addr(options.dns);
        config.if_mtu = options.mtu;
        config.if_mru = options.mtu;
        config.disable_host_loopback = false;
        config.enable_emu = false;
        config.disable_dhcp = true;
        m_callbacks.send_packet = &SlirpBackend::on_send_packet;
        m_callbacks.guest_error = [](const char*, void*) {};
        m_callbacks.clock_get_ns = [](void*) -> std::int64_t { return monotonic_ns(); };
        m_callbacks.timer_new = &SlirpBackend::on_timer_new;
        m_callbacks.timer_free = &SlirpBackend::on_timer_free;
        m_callbacks.timer_mod = &SlirpBackend::on_timer_mod;
        m_callbacks.register_poll_fd = [](int, void*) {};
        m_callbacks.unregister_poll_fd = [](int, void*) {};
        m_callbacks.notify = [](void* self) { static_cast<SlirpBackend*>(self)->wake(); };
        if (!m_lib.error.empty()) return;  // valid() is false
        std::lock_guard lock(m_mutex);
        m_slirp = m_lib.new_(&config, &m_callbacks, this);
        // Announce the box (an ARP request for the gateway), so that slirp knows its MAC address.
        if (m_slirp != nullptr) send_arp(1, gateway_mac_broadcast(), m_options.host);
        drain_pending_input();
    }
    SlirpBackend(const SlirpBackend&) = delete;
    SlirpBackend& operator=(const SlirpBackend&) = delete;
    ~SlirpBackend() {
        {
            std::lock_guard lock(m_mutex);
            if (m_slirp != nullptr) m_lib.cleanup(m_slirp);
            m_slirp = nullptr;
        }
        if (m_event_fd >= 0) ::close(m_event_fd);
    }

    [[nodiscard]] bool valid() const noexcept { return m_slirp != nullptr && m_event_fd >= 0; }

    /// The interface configuration the box should use with this backend.
    [[nodiscard]] net::InterfaceConfig interface_config() const {
        return net::InterfaceConfig{m_options.guest, m_options.prefix_length, m_options.host, m_options.mtu};
    }

    /// hostfwd: connections to 127.0.0.1:host_port (host_port 0: any free port) reach the box's
    /// guest_port. Returns the host port.
    Result<std::uint16_t> add_port_forward(std::uint16_t host_port, std::uint16_t guest_port, bool udp = false) {
        std::lock_guard lock(m_mutex);
        if (m_slirp == nullptr) return Errno::netdown;
        in_addr host{};
        host.s_addr = htonl(INADDR_LOOPBACK);
        if (m_lib.add_hostfwd(m_slirp, udp ? 1 : 0, host, host_port, to_in_addr(m_options.guest), guest_port) < 0)
            return Errno::addrinuse;
        return host_port;
    }

    // ---- IPInterfaceProvider ------------------------------------------------------------------
    Result<void> send_ip_packet(std::span<const std::byte> packet) {
        if (packet.size() > m_options.mtu) return Errno::msgsize;
        std::vector<std::uint8_t> frame(ethernet_header + packet.size());
        write_ethernet(frame.data(), slirp_mac, guest_mac, ethertype_ipv4);
        std::memcpy(frame.data() + ethernet_header, packet.data(), packet.size());
        std::lock_guard lock(m_mutex);
        if (m_slirp == nullptr) return Errno::netdown;
        m_lib.input(m_slirp, frame.data(), static_cast<int>(frame.size()));
        drain_pending_input();
        wake();  // slirp may have opened a host socket the service loop must now watch
        return ok();
    }
    Result<std::size_t> receive_ip_packet(std::span<std::byte> out) {
        std::lock_guard lock(m_mutex);
        if (m_to_guest.empty()) return Errno::again;
        auto& p = m_to_guest.front();
        const std::size_t n = std::min(out.size(), p.size());
        std::memcpy(out.data(), p.data(), n);
        m_to_guest.pop_front();
        return n;
    }

    // ---- driving --------------------------------------------------------------------------------
    /// Waits up to `timeout` (nullopt: until something happens) for slirp's sockets, a queued
    /// packet or a wake-up, then lets slirp process its sockets and timers.
    void service(std::optional<Duration> timeout) {
        std::vector<pollfd> fds;
        std::uint32_t slirp_timeout_ms = UINT32_MAX;
        {
            std::lock_guard lock(m_mutex);
            if (m_slirp == nullptr) return;
            m_poll_fds = &fds;
            m_lib.pollfds_fill(m_slirp, &slirp_timeout_ms, &SlirpBackend::on_add_poll, this);
            m_poll_fds = nullptr;
            const std::int64_t next_timer = next_timer_ms();
            if (next_timer >= 0) {
                const std::int64_t now_ms = monotonic_ns() / 1'000'000;
                const auto wait = static_cast<std::uint32_t>(std::clamp<std::int64_t>(next_timer - now_ms, 0, UINT32_MAX - 1));
                slirp_timeout_ms = std::min(slirp_timeout_ms, wait);
            }
            if (!m_to_guest.empty()) slirp_timeout_ms = 0;
        }
        fds.push_back(pollfd{m_event_fd, POLLIN, 0});
        int wait_ms = slirp_timeout_ms == UINT32_MAX ? -1 : static_cast<int>(std::min<std::uint32_t>(slirp_timeout_ms, INT32_MAX));
        if (timeout) {
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout + std::chrono::microseconds(999)).count();
            const int t = static_cast<int>(std::clamp<std::int64_t>(ms, 0, INT32_MAX));
            wait_ms = wait_ms < 0 ? t : std::min(wait_ms, t);
        }
        const int ready = ::poll(fds.data(), fds.size(), wait_ms);
        if (fds.back().revents != 0) {
            std::uint64_t value;
            (void)!::read(m_event_fd, &value, sizeof value);
        }
        std::lock_guard lock(m_mutex);
        if (m_slirp == nullptr) return;
        m_poll_fds = &fds;
        m_lib.pollfds_poll(m_slirp, ready < 0 ? 1 : 0, &SlirpBackend::on_get_revents, this);
        m_poll_fds = nullptr;
        run_timers();
        drain_pending_input();
    }

    /// WakeupHook: ends a service() wait (the stack armed an earlier timer, or has output).
    void wake() noexcept override {
        const std::uint64_t one = 1;
        (void)!::write(m_event_fd, &one, sizeof one);
    }
    /// Readable when service() should run (for runtimes with their own poll loop).
    [[nodiscard]] int event_fd() const noexcept { return m_event_fd; }

private:
    static constexpr std::size_t ethernet_header = 14;
    static constexpr std::uint16_t ethertype_ipv4 = 0x0800;
    static constexpr std::uint16_t ethertype_arp = 0x0806;
    using Mac = std::array<std::uint8_t, 6>;
    static constexpr Mac guest_mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    static constexpr Mac slirp_mac = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};
    static constexpr Mac gateway_mac_broadcast() { return {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}; }

    struct Timer {
        SlirpTimerCb callback;
        void* opaque;
        std::int64_t expire_ms = -1;
    };

    static std::int64_t monotonic_ns() {
        timespec ts{};
        ::clock_gettime(CLOCK_MONOTONIC, &ts);
        return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    }
    static in_addr to_in_addr(net::Ipv4Address a) {
        in_addr out{};
        out.s_addr = htonl(a.value());
        return out;
    }
    static void write_ethernet(std::uint8_t* f, const Mac& dst, const Mac& src, std::uint16_t type) {
        std::memcpy(f, dst.data(), 6);
        std::memcpy(f + 6, src.data(), 6);
        f[12] = static_cast<std::uint8_t>(type >> 8);
        f[13] = static_cast<std::uint8_t>(type);
    }
    /// Queues an ARP packet from the box (op 1 request, 2 reply) for slirp_input.
    void send_arp(std::uint16_t op, const Mac& target_mac, net::Ipv4Address target_ip) {
        std::vector<std::uint8_t> f(ethernet_header + 28);
        write_ethernet(f.data(), target_mac, guest_mac, ethertype_arp);
        std::uint8_t* a = f.data() + ethernet_header;
        const std::uint8_t header[8] = {0, 1, 8, 0, 6, 4, 0, static_cast<std::uint8_t>(op)};
        std::memcpy(a, header, 8);
        std::memcpy(a + 8, guest_mac.data(), 6);
        const auto own = m_options.guest.to_bytes();
        std::memcpy(a + 14, own.data(), 4);
        if (op == 2) std::memcpy(a + 18, target_mac.data(), 6);
        const auto target = target_ip.to_bytes();
        std::memcpy(a + 24, target.data(), 4);
        m_pending_input.push_back(std::move(f));
    }
    void drain_pending_input() {
        for (std::size_t rounds = 0; rounds < 16 && !m_pending_input.empty() && m_slirp != nullptr; ++rounds) {
            auto pending = std::move(m_pending_input);
            m_pending_input.clear();
            for (auto& f : pending) m_lib.input(m_slirp, f.data(), static_cast<int>(f.size()));
        }
    }
    std::int64_t next_timer_ms() const {
        std::int64_t next = -1;
        for (const auto& t : m_timers)
            if (t->expire_ms >= 0 && (next < 0 || t->expire_ms < next)) next = t->expire_ms;
        return next;
    }
    void run_timers() {
        const std::int64_t now_ms = monotonic_ns() / 1'000'000;
        for (std::size_t i = 0; i < m_timers.size(); ++i) {
            Timer* t = m_timers[i].get();
            if (t->expire_ms >= 0 && t->expire_ms <= now_ms) {
                t->expire_ms = -1;
                t->callback(t->opaque);
            }
        }
    }

    // ---- slirp callbacks (called with m_mutex held, from inside slirp) --------------------------
    static ssize_t on_send_packet(const void* buffer, std::size_t length, void* opaque) {
        auto* self = static_cast<SlirpBackend*>(opaque);
        const auto* f = static_cast<const std::uint8_t*>(buffer);
        if (length < ethernet_header) return static_cast<ssize_t>(length);
        const std::uint16_t type = static_cast<std::uint16_t>((f[12] << 8) | f[13]);
        if (type == ethertype_arp && length >= ethernet_header + 28) {
            const std::uint8_t* a = f + ethernet_header;
            const auto target = net::Ipv4Address::from_bytes({a[24], a[25], a[26], a[27]});
            if (a[7] == 1 && target == self->m_options.guest) {
                Mac requester;
                std::memcpy(requester.data(), a + 8, 6);
                self->send_arp(2, requester, net::Ipv4Address::from_bytes({a[14], a[15], a[16], a[17]}));
            }
            return static_cast<ssize_t>(length);
        }
        if (type != ethertype_ipv4) return static_cast<ssize_t>(length);
        if (self->m_to_guest.size() >= self->m_options.max_queued_packets) return static_cast<ssize_t>(length);  // dropped
        const auto* ip = reinterpret_cast<const std::byte*>(f + ethernet_header);
        self->m_to_guest.emplace_back(ip, ip + (length - ethernet_header));
        self->wake();
        return static_cast<ssize_t>(length);
    }
    static void* on_timer_new(SlirpTimerCb callback, void* cb_opaque, void* opaque) {
        auto* self = static_cast<SlirpBackend*>(opaque);
        self->m_timers.push_back(std::make_unique<Timer>(Timer{callback, cb_opaque, -1}));
        return self->m_timers.back().get();
    }
    static void on_timer_free(void* timer, void* opaque) {
        auto* self = static_cast<SlirpBackend*>(opaque);
        std::erase_if(self->m_timers, [&](const auto& t) { return t.get() == timer; });
    }
    static void on_timer_mod(void* timer, std::int64_t expire_ms, void*) { static_cast<Timer*>(timer)->expire_ms = expire_ms; }
    static int on_add_poll(int fd, int events, void* opaque) {
        auto* self = static_cast<SlirpBackend*>(opaque);
        short e = 0;
        if ((events & SLIRP_POLL_IN) != 0) e |= POLLIN;
        if ((events & SLIRP_POLL_OUT) != 0) e |= POLLOUT;
        if ((events & SLIRP_POLL_PRI) != 0) e |= POLLPRI;
        self->m_poll_fds->push_back(pollfd{fd, e, 0});
        return static_cast<int>(self->m_poll_fds->size() - 1);
    }
    static int on_get_revents(int index, void* opaque) {
        auto* self = static_cast<SlirpBackend*>(opaque);
        if (index < 0 || static_cast<std::size_t>(index) >= self->m_poll_fds->size()) return 0;
        const short r = (*self->m_poll_fds)[static_cast<std::size_t>(index)].revents;
        int out = 0;
        if ((r & POLLIN) != 0) out |= SLIRP_POLL_IN;
        if ((r & POLLOUT) != 0) out |= SLIRP_POLL_OUT;
        if ((r & POLLPRI) != 0) out |= SLIRP_POLL_PRI;
        if ((r & POLLERR) != 0) out |= SLIRP_POLL_ERR;
        if ((r & POLLHUP) != 0) out |= SLIRP_POLL_HUP;
        return out;
    }

    const detail::SlirpLibrary& m_lib = detail::SlirpLibrary::get();
    SlirpOptions m_options;
    SlirpCb m_callbacks{};
    std::mutex m_mutex;  // guards slirp and everything below
    Slirp* m_slirp = nullptr;
    int m_event_fd = -1;
    std::deque<std::vector<std::byte>> m_to_guest;
    std::vector<std::vector<std::uint8_t>> m_pending_input;
    std::vector<std::unique_ptr<Timer>> m_timers;
    std::vector<pollfd>* m_poll_fds = nullptr;
};

/// The Linux platform with its IP interface on a SlirpBackend (which must outlive it).
class SlirpPlatform : public LinuxPlatform {
public:
    explicit SlirpPlatform(SlirpBackend& backend) : m_backend(&backend) {}
    Result<void> send_ip_packet(std::span<const std::byte> packet) const { return m_backend->send_ip_packet(packet); }
    Result<std::size_t> receive_ip_packet(std::span<std::byte> buffer) const { return m_backend->receive_ip_packet(buffer); }
    [[nodiscard]] SlirpBackend& backend() const noexcept { return *m_backend; }

private:
    SlirpBackend* m_backend;
};

}  // namespace litebox::platform
