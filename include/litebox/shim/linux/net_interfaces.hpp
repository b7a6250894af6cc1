// The box's network interfaces as a guest sees them: the list that rtnetlink (netlink_route.hpp),
// the SIOCGIF* socket ioctls (here) and /proc/net/{dev,route} describe.
//
// Contract:
// - Interfaces come from the box's TCP/IP stack (Box::net()), never from the host: `lo` (index 1,
//   127.0.0.1/8, ARPHRD_LOOPBACK, UP|LOOPBACK|RUNNING) always, and `eth0` (index 2) when the stack
//   has an external interface (net::InterfaceConfig: its address, prefix, gateway and MTU). The
//   external interface carries raw IP packets (no link layer), so it is ARPHRD_NONE with no
//   hardware address, flagged UP|RUNNING|NOARP (as a Linux tun device without a peer address).
// - Packet counters: eth0 reports the stack's received and sent packet counts; byte counts and lo's
//   counters are not kept by the stack and read as 0.
// - ioctls on any socket (AF_INET, AF_UNIX, AF_NETLINK), as Linux: SIOCGIFNAME, SIOCGIFCONF,
//   SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFDSTADDR, SIOCGIFBRDADDR, SIOCGIFNETMASK, SIOCGIFMETRIC,
//   SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFINDEX, SIOCGIFTXQLEN, SIOCGIFMAP. An unknown name or index is
//   ENODEV; an address request on an interface without one is EADDRNOTAVAIL. The SIOCSIF* requests
//   (changing an interface) are EPERM: the box's network is the runtime's to configure, not the
//   guest's (traced). A descriptor that is not a socket is ENOTTY.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "../../net/stack.hpp"
#include "detail/net_interface_list.hpp"
#include "guest_memory.hpp"
#include "kernel.hpp"

namespace litebox::shim::linux_abi::net_interfaces {

// ---- SIOCGIF* ---------------------------------------------------------------------------------

namespace request {
inline constexpr std::uint32_t siocgifname = 0x8910, siocgifconf = 0x8912, siocgifflags = 0x8913, siocsifflags = 0x8914,
                               siocgifaddr = 0x8915, siocsifaddr = 0x8916, siocgifdstaddr = 0x8917, siocsifdstaddr = 0x8918,
                               siocgifbrdaddr = 0x8919, siocsifbrdaddr = 0x891a, siocgifnetmask = 0x891b,
                               siocsifnetmask = 0x891c, siocgifmetric = 0x891d, siocsifmetric = 0x891e, siocsifmtu = 0x8922,
                               siocgifmtu = 0x8921, siocsifname = 0x8923, siocsifhwaddr = 0x8924, siocgifhwaddr = 0x8927,
                               siocgifindex = 0x8933, siocgiftxqlen = 0x8942, siocsiftxqlen = 0x8943, siocgifmap = 0x8970,
                               siocsifmap = 0x8971;
}  // namespace request

/// struct ifreq: a name and a 24-byte union.
struct ifreq {
    char name[name_size];
    std::byte value[24];
};
static_assert(sizeof(ifreq) == 40);
/// struct ifconf.
struct ifconf {
    std::int32_t length;
    std::int32_t pad;
    std::uint64_t buffer;
};
static_assert(sizeof(ifconf) == 16);

/// True for the requests interface_ioctl handles.
constexpr bool is_interface_request(std::uint32_t r) noexcept {
    using namespace request;
    switch (r) {
    case siocgifname: case siocgifconf: case siocgifflags: case siocsifflags: case siocgifaddr: case siocsifaddr:
    case siocgifdstaddr: case siocsifdstaddr: case siocgifbrdaddr: case siocsifbrdaddr: case siocgifnetmask:
    case siocsifnetmask: case siocgifmetric: case siocsifmetric: case siocgifmtu: case siocsifmtu: case siocsifname:
    case siocsifhwaddr: case siocgifhwaddr: case siocgifindex: case siocgiftxqlen: case siocsiftxqlen: case siocgifmap:
    case siocsifmap: return true;
    default: return false;
    }
}

namespace detail {
inline const Interface* find_by_name(const std::vector<Interface>& list, const ifreq& req) noexcept {
    const auto* end = std::find(req.name, req.name + name_size, '\0');
    if (end == req.name + name_size) return nullptr;  // no terminator: no such name
    const auto length = static_cast<std::size_t>(end - req.name);
    const std::string_view name(req.name, length);
    for (const auto& i : list)
        if (i.name == name) return &i;
    return nullptr;
}
inline void put_address(ifreq& req, net::Ipv4Address a) noexcept {
    abi::sockaddr_in in{};
    in.sin_family = 2;  // AF_INET
    in.sin_addr = in_addr_of(a);
    std::memset(req.value, 0, sizeof req.value);
    std::memcpy(req.value, &in, sizeof in);
}
template <typename T>
void put(ifreq& req, T value) noexcept {
    std::memset(req.value, 0, sizeof req.value);
    std::memcpy(req.value, &value, sizeof value);
}
}  // namespace detail

/// SIOCGIFCONF: one ifreq (name and address) per interface with an IPv4 address, as far as the
/// guest's buffer holds whole entries; a null buffer asks for the length needed.
template <typename P>
SyscallResult interface_configuration(const std::vector<Interface>& list, std::uintptr_t argument) {
    LITEBOX_TRY_ASSIGN(ifconf conf, Guest<P>::template read<ifconf>(argument));
    if (conf.buffer == 0) {
        conf.length = static_cast<std::int32_t>(list.size() * sizeof(ifreq));
    } else {
        if (conf.length < 0) return Errno::inval;
        std::size_t written = 0;
        for (const auto& i : list) {
            if (static_cast<std::size_t>(conf.length) - written < sizeof(ifreq)) break;
            ifreq entry{};
            std::memcpy(entry.name, i.name.data(), i.name.size());
            detail::put_address(entry, i.address);
            LITEBOX_TRY(Guest<P>::write(conf.buffer + written, entry));
            written += sizeof(ifreq);
        }
        conf.length = static_cast<std::int32_t>(written);
    }
    LITEBOX_TRY(Guest<P>::write(argument, conf));
    return 0;
}

/// Handles one request (is_interface_request) on descriptor `file`: see the contract.
template <typename P>
SyscallResult interface_ioctl(ThreadContext<P>& t, bool is_socket, std::uint64_t number, std::uint32_t req, std::uintptr_t argument) {
    using namespace request;
    if (!is_socket) return Errno::notty;
    const auto list = box_interfaces(t.kernel().box().net());
    if (req == siocgifconf) return interface_configuration<P>(list, argument);
    switch (req) {
    case siocsifflags: case siocsifaddr: case siocsifdstaddr: case siocsifbrdaddr: case siocsifnetmask: case siocsifmetric:
    case siocsifmtu: case siocsifname: case siocsifhwaddr: case siocsiftxqlen: case siocsifmap:
        t.kernel().unsupported(number, "changing the box's network interfaces");
        return Errno::perm;
    default: break;
    }
    LITEBOX_TRY_ASSIGN(ifreq r, Guest<P>::template read<ifreq>(argument));
    if (req == siocgifname) {
        std::int32_t index = 0;
        std::memcpy(&index, r.value, sizeof index);
        for (const auto& i : list) {
            if (i.index != index) continue;
            std::memset(r.name, 0, sizeof r.name);
            std::memcpy(r.name, i.name.data(), i.name.size());
            LITEBOX_TRY(Guest<P>::write(argument, r));
            return 0;
        }
        return Errno::nodev;
    }
    const Interface* i = detail::find_by_name(list, r);
    if (i == nullptr) return Errno::nodev;
    switch (req) {
    case siocgifflags: detail::put(r, static_cast<std::uint16_t>(i->flags & 0xffff)); break;
    case siocgifaddr: detail::put_address(r, i->address); break;
    case siocgifnetmask: detail::put_address(r, i->netmask()); break;
    case siocgifbrdaddr:
        // Linux reports the configured broadcast address, 0.0.0.0 when there is none.
        detail::put_address(r, i->broadcast().value_or(net::Ipv4Address{}));
        break;
    case siocgifdstaddr: detail::put_address(r, net::Ipv4Address{}); break;
    case siocgifmetric: detail::put(r, std::int32_t{0}); break;
    case siocgifmtu: detail::put(r, static_cast<std::int32_t>(i->mtu)); break;
    case siocgifindex: detail::put(r, i->index); break;
    case siocgiftxqlen: detail::put(r, std::int32_t{i->loopback() ? 1000 : 500}); break;
    case siocgifmap: detail::put(r, std::array<std::byte, 24>{}); break;
    case siocgifhwaddr: {
        std::memset(r.value, 0, sizeof r.value);
        std::memcpy(r.value, &i->type, sizeof i->type);  // sa_family = ARPHRD_*, sa_data zeros
        break;
    }
    default: return Errno::notty;
    }
    LITEBOX_TRY(Guest<P>::write(argument, r));
    return 0;
}

}  // namespace litebox::shim::linux_abi::net_interfaces
