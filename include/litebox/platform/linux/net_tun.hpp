// An IP backend for the Linux platform on a TUN device (root, or CAP_NET_ADMIN, and /dev/net/tun):
// the box's packets become packets of a host network interface, routed by the host kernel.
//
// Addressing: a point-to-point /30-style subnet of the caller's choice, by default the host side
// 10.0.3.1/24 on the interface and the box at 10.0.3.2 with the host as its gateway. The host
// reaches the box's listeners at the box's address directly (no port forwarding). Reaching further
// than the host needs the host's own forwarding and NAT (ip_forward, nftables masquerade): the
// backend does not change host routing or firewall state beyond creating the interface.
//
// Contract (the same as SlirpBackend's):
// - send_ip_packet/receive_ip_packet are the platform's IPInterfaceProvider (thread-safe; they
//   never block). The device is opened with IFF_TUN | IFF_NO_PI: one read or write is one IPv4
//   packet, without Ethernet framing.
// - service(timeout) waits (at most `timeout`) for a packet from the host or a wake-up; a runtime
//   loops   auto deadline = stack.poll();  backend.service(time until deadline);
//   with the backend installed as the stack's WakeupHook, so that neither side busy-loops.
// - The interface exists while the backend does (a non-persistent TUN device disappears when its
//   descriptor closes).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>

#include "../../net/config.hpp"
#include "../../net/stack.hpp"
#include "platform.hpp"

namespace litebox::platform {

struct TunOptions {
    /// Interface name; a trailing %d lets the kernel pick the number (lbx0, lbx1, ...).
    std::string name = "lbx%d";
    net::Ipv4Address host{10, 0, 3, 1};
    net::Ipv4Address guest{10, 0, 3, 2};
    unsigned prefix_length = 24;
    std::size_t mtu = 1500;
};

class TunBackend final : public net::WakeupHook {
public:
    /// Creates and configures the interface; check valid() (and error()) afterwards.
    explicit TunBackend(const TunOptions& options = {}) : m_options(options) {
        m_event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (m_event_fd < 0 || options.name.size() >= IFNAMSIZ || options.prefix_length == 0 || options.prefix_length > 30 ||
            options.mtu < 576 || options.mtu > 65535) {
            m_error = m_event_fd < 0 ? Errno::mfile : Errno::inval;
            return;
        }
        m_fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (m_fd < 0) {
            m_error = errno_from_host(errno);
            return;
        }
        ifreq request{};
        request.ifr_flags = IFF_TUN | IFF_NO_PI;
        std::memcpy(request.ifr_name, options.name.c_str(), options.name.size());
        if (::ioctl(m_fd, TUNSETIFF, &request) != 0) {
            m_error = errno_from_host(errno);
            close_device();
            return;
        }
        m_name.assign(request.ifr_name, ::strnlen(request.ifr_name, IFNAMSIZ));
        if (const auto configured = configure(); !configured) {
            m_error = configured.error();
            close_device();
        }
    }
    TunBackend(const TunBackend&) = delete;
    TunBackend& operator=(const TunBackend&) = delete;
    ~TunBackend() {
        close_device();
        if (m_event_fd >= 0) ::close(m_event_fd);
    }

    [[nodiscard]] bool valid() const noexcept { return m_fd >= 0 && m_event_fd >= 0; }
    /// Why the interface could not be made (EPERM without CAP_NET_ADMIN, ENOENT without the device).
    [[nodiscard]] Errno error() const noexcept { return m_error; }
    /// The host's name of the interface (lbx0, ...).
    [[nodiscard]] const std::string& name() const noexcept { return m_name; }
    [[nodiscard]] net::Ipv4Address host_address() const noexcept { return m_options.host; }
    [[nodiscard]] net::Ipv4Address guest_address() const noexcept { return m_options.guest; }

    /// The interface configuration the box should use with this backend.
    [[nodiscard]] net::InterfaceConfig interface_config() const {
        return net::InterfaceConfig{m_options.guest, m_options.prefix_length, m_options.host, m_options.mtu};
    }

    // ---- IPInterfaceProvider ------------------------------------------------------------------
    Result<void> send_ip_packet(std::span<const std::byte> packet) const {
        if (m_fd < 0) return Errno::netdown;
        if (packet.size() > m_options.mtu) return Errno::msgsize;
        const ssize_t n = ::write(m_fd, packet.data(), packet.size());
        if (n < 0) return errno == EAGAIN ? Errno::nobufs : errno_from_host(errno);  // a full queue drops it
        return ok();
    }
    Result<std::size_t> receive_ip_packet(std::span<std::byte> out) const {
        if (m_fd < 0) return Errno::netdown;
        for (;;) {
            const ssize_t n = ::read(m_fd, out.data(), out.size());
            if (n >= 0) return static_cast<std::size_t>(n);
            if (errno == EINTR) continue;
            return errno == EAGAIN ? Errno::again : errno_from_host(errno);
        }
    }

    // ---- driving --------------------------------------------------------------------------------
    /// Waits up to `timeout` (nullopt: until something happens) for a packet from the host or a
    /// wake-up. The packets themselves are taken by the stack's receive_ip_packet.
    void service(std::optional<Duration> timeout) const {
        pollfd fds[2] = {{m_fd, POLLIN, 0}, {m_event_fd, POLLIN, 0}};
        int wait_ms = -1;
        if (timeout) {
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout + std::chrono::microseconds(999)).count();
            wait_ms = static_cast<int>(std::clamp<std::int64_t>(ms, 0, INT32_MAX));
        }
        (void)::poll(fds, 2, wait_ms);
        if (fds[1].revents != 0) {
            std::uint64_t value;
            (void)!::read(m_event_fd, &value, sizeof value);
        }
    }
    /// WakeupHook: ends a service() wait.
    void wake() noexcept override {
        const std::uint64_t one = 1;
        (void)!::write(m_event_fd, &one, sizeof one);
    }

private:
    static Errno errno_from_host(int e) noexcept { return static_cast<Errno>(e); }
    static sockaddr_in inet(net::Ipv4Address a) {
        sockaddr_in out{};
        out.sin_family = AF_INET;
        out.sin_addr.s_addr = htonl(a.value());
        return out;
    }

    /// Host side of the interface: address, netmask, MTU, up.
    Result<void> configure() {
        const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0) return errno_from_host(errno);
        auto fail = [&]() -> Result<void> {
            const Errno e = errno_from_host(errno);
            ::close(s);
            return e;
        };
        ifreq request{};
        std::memcpy(request.ifr_name, m_name.c_str(), m_name.size());
        const sockaddr_in address = inet(m_options.host);
        std::memcpy(&request.ifr_addr, &address, sizeof address);
        if (::ioctl(s, SIOCSIFADDR, &request) != 0) return fail();
        const sockaddr_in mask = inet(net::Ipv4Address(~std::uint32_t{0} << (32 - m_options.prefix_length)));
        std::memcpy(&request.ifr_netmask, &mask, sizeof mask);
        if (::ioctl(s, SIOCSIFNETMASK, &request) != 0) return fail();
        request.ifr_mtu = static_cast<int>(m_options.mtu);
        if (::ioctl(s, SIOCSIFMTU, &request) != 0) return fail();
        if (::ioctl(s, SIOCGIFFLAGS, &request) != 0) return fail();
        request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP | IFF_RUNNING);
        if (::ioctl(s, SIOCSIFFLAGS, &request) != 0) return fail();
        ::close(s);
        return ok();
    }
    void close_device() noexcept {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = -1;
    }

    TunOptions m_options;
    int m_fd = -1;
    int m_event_fd = -1;
    Errno m_error{};
    std::string m_name;
};

}  // namespace litebox::platform
