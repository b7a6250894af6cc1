// The box's network interfaces as a list, and the /proc/net/{dev,route} texts made from it (see
// net_interfaces.hpp for the contract). No dependency on the shim's kernel: procfs includes this.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "../../../net/stack.hpp"

namespace litebox::shim::linux_abi::net_interfaces {

// Interface flags (IFF_*) and hardware types (ARPHRD_*).
inline constexpr std::uint32_t iff_up = 0x1, iff_broadcast = 0x2, iff_loopback = 0x8, iff_running = 0x40,
                               iff_noarp = 0x80, iff_multicast = 0x1000, iff_lower_up = 0x10000;
inline constexpr std::uint16_t arphrd_loopback = 772, arphrd_none = 0xfffe;
inline constexpr std::size_t name_size = 16;  // IFNAMSIZ

/// One interface of the box.
struct Interface {
    std::int32_t index = 0;
    std::string_view name;
    std::uint32_t flags = 0;  // IFF_*, including IFF_LOWER_UP (netlink reports it; ioctls only the low 16 bits)
    std::uint16_t type = 0;   // ARPHRD_*
    std::uint32_t mtu = 0;
    net::Ipv4Address address;
    unsigned prefix_length = 0;
    std::optional<net::Ipv4Address> gateway;
    std::uint64_t rx_packets = 0, tx_packets = 0;

    [[nodiscard]] bool loopback() const noexcept { return (flags & iff_loopback) != 0; }
    [[nodiscard]] net::Ipv4Address netmask() const noexcept {
        return net::Ipv4Address{prefix_length == 0 ? 0u : ~std::uint32_t{0} << (32 - prefix_length)};
    }
    [[nodiscard]] net::Ipv4Address network() const noexcept { return net::Ipv4Address{address.value() & netmask().value()}; }
    /// The directed broadcast address (none for /31 and /32, as Linux).
    [[nodiscard]] std::optional<net::Ipv4Address> broadcast() const noexcept {
        if (loopback() || prefix_length >= 31) return std::nullopt;
        return net::Ipv4Address{address.value() | ~netmask().value()};
    }
};

/// The box's interfaces, lo first (see the contract).
template <typename P>
std::vector<Interface> box_interfaces(const net::Stack<P>& stack) {
    std::vector<Interface> list;
    Interface lo;
    lo.index = 1;
    lo.name = "lo";
    lo.flags = iff_up | iff_loopback | iff_running | iff_lower_up;
    lo.type = arphrd_loopback;
    lo.mtu = static_cast<std::uint32_t>(stack.loopback_mtu());
    lo.address = net::Ipv4Address::loopback();
    lo.prefix_length = 8;
    list.push_back(lo);
    if (const auto external = stack.interface()) {
        const auto stats = stack.stats();
        Interface eth;
        eth.index = 2;
        eth.name = "eth0";
        eth.flags = iff_up | iff_running | iff_noarp | iff_lower_up;
        eth.type = arphrd_none;
        eth.mtu = static_cast<std::uint32_t>(external->mtu);
        eth.address = external->address;
        eth.prefix_length = external->prefix_length;
        eth.gateway = external->gateway;
        eth.rx_packets = stats.packets_received;
        eth.tx_packets = stats.packets_sent;
        list.push_back(eth);
    }
    return list;
}

/// sin_addr of a sockaddr_in: network byte order as it lies in memory.
inline std::uint32_t in_addr_of(net::Ipv4Address a) noexcept {
    const auto b = a.to_bytes();
    std::uint32_t v = 0;
    std::memcpy(&v, b.data(), sizeof v);
    return v;
}

/// /proc/net/dev.
inline std::string dev_text(const std::vector<Interface>& list) {
    std::string text =
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n";
    auto it = std::back_inserter(text);
    for (const auto& i : list)
        fmt::format_to(it, "{:>6}: {:>7} {:>7}    0    0    0     0          0         0 {:>8} {:>7}    0    0    0     0       0          0\n",
                       i.name, 0, i.rx_packets, 0, i.tx_packets);
    return text;
}

/// /proc/net/route (the main table: eth0's subnet and its default route; addresses as the host-
/// order hex of their in-memory network-order value, as Linux prints them).
inline std::string route_text(const std::vector<Interface>& list) {
    std::string text = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n";
    auto line = [&](const Interface& i, net::Ipv4Address destination, net::Ipv4Address gateway, unsigned flags, net::Ipv4Address mask) {
        fmt::format_to(std::back_inserter(text), "{}\t{:08X}\t{:08X}\t{:04X}\t0\t0\t0\t{:08X}\t0\t0\t0{:79}\n", i.name, in_addr_of(destination),
                       in_addr_of(gateway), flags, in_addr_of(mask), "");
    };
    constexpr unsigned rtf_up = 0x1, rtf_gateway = 0x2;
    for (const auto& i : list) {
        if (i.loopback()) continue;
        if (i.gateway) line(i, net::Ipv4Address{}, *i.gateway, rtf_up | rtf_gateway, net::Ipv4Address{});
        line(i, i.network(), net::Ipv4Address{}, rtf_up, i.netmask());
    }
    return text;
}

}  // namespace litebox::shim::linux_abi::net_interfaces
