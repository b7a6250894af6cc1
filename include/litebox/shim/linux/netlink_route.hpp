// AF_NETLINK sockets of protocol NETLINK_ROUTE: the read-only half of rtnetlink, so that
// getifaddrs(3), if_nameindex(3), `ip addr`, `ip route` and `hostname -I` describe the box's own
// interfaces (net_interfaces.hpp). Nothing reaches the host.
//
// Contract:
// - socket(AF_NETLINK, SOCK_RAW or SOCK_DGRAM, NETLINK_ROUTE); other netlink protocols are
//   EPROTONOSUPPORT (traced), other types ESOCKTNOSUPPORT.
// - Addresses are sockaddr_nl (12 bytes; shorter or another family: EINVAL). bind takes the
//   guest's port id, or with 0 (and at the first send of an unbound socket) the caller's pid;
//   port ids are not checked for uniqueness, since the box delivers netlink messages only from
//   "the kernel" (port 0) to the socket that asked. Multicast groups may be joined (bind's
//   nl_groups, NETLINK_ADD_MEMBERSHIP), and no event ever arrives: the box's interfaces do not
//   change while it runs. Sending to a port other than 0 is ECONNREFUSED, to a group EPERM.
// - Each datagram sent is a sequence of requests, answered in order as Linux's rtnetlink does:
//   RTM_GETLINK (dump, or one interface by index or IFLA_IFNAME: ENODEV when none),
//   RTM_GETADDR and RTM_GETROUTE (dumps; IPv4 addresses and the main routing table, nothing for
//   IPv6). Replies carry the socket's port id and the request's sequence number; dumps are packed
//   into datagrams of at most dump_datagram_bytes and end with NLMSG_DONE. A request without
//   NLM_F_REQUEST, or a control message, only gets its acknowledgment (NLM_F_ACK). NEW, DEL and
//   SET requests are EPERM (the box's network is the runtime's to configure; traced); other
//   types EOPNOTSUPP. Errors and acknowledgments are NLMSG_ERROR messages, as Linux. Parsing stops
//   at the first malformed header (its length shorter than a header or past the datagram).
// - recv takes one datagram: MSG_PEEK keeps it, MSG_TRUNC returns its full length, a short buffer
//   gets the start and MSG_TRUNC in msg_flags; the sender is port 0. With none queued the call
//   waits (a signal ends it with EINTR), or is EAGAIN with O_NONBLOCK / MSG_DONTWAIT.
// - Limit: the queued replies of a socket stay within its SO_RCVBUF (default 212992 bytes, as
//   Linux; settable up to net::Limits-like bounds below); a request whose reply would not fit is
//   ENOBUFS at send and nothing of it is queued.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "../../event/blocking.hpp"
#include "../../event/pollee.hpp"
#include "../../fd/open_file.hpp"
#include "../../ipc/detail/anon_inode.hpp"
#include "../../sync/mutex.hpp"
#include "detail/net_interface_list.hpp"

namespace litebox::shim::linux_abi::netlink {

inline constexpr int af_netlink = 16;
inline constexpr int netlink_route = 0;
inline constexpr int sol_netlink = 270;

// Message types and flags.
inline constexpr std::uint16_t nlmsg_noop = 1, nlmsg_error = 2, nlmsg_done = 3, nlmsg_min_type = 0x10;
inline constexpr std::uint16_t rtm_newlink = 16, rtm_getlink = 18, rtm_newaddr = 20, rtm_getaddr = 22, rtm_newroute = 24,
                               rtm_getroute = 26;
/// One past the last rtnetlink message type Linux defines (RTM_MAX rounded up).
inline constexpr std::uint16_t rtm_end = 128;
inline constexpr std::uint16_t nlm_f_request = 0x1, nlm_f_multi = 0x2, nlm_f_ack = 0x4, nlm_f_root = 0x100,
                               nlm_f_match = 0x200, nlm_f_dump = nlm_f_root | nlm_f_match;
// Attribute types.
inline constexpr std::uint16_t ifla_address = 1, ifla_broadcast = 2, ifla_ifname = 3, ifla_mtu = 4, ifla_txqlen = 13,
                               ifla_operstate = 16, ifla_linkmode = 17;
inline constexpr std::uint16_t ifa_address = 1, ifa_local = 2, ifa_label = 3, ifa_broadcast = 4, ifa_flags = 8;
inline constexpr std::uint16_t rta_dst = 1, rta_oif = 4, rta_gateway = 5, rta_prefsrc = 7, rta_table = 15;
inline constexpr std::uint8_t af_unspec = 0, af_inet = 2, af_packet = 17;
inline constexpr std::uint8_t rt_scope_universe = 0, rt_scope_link = 253, rt_scope_host = 254, rt_table_main = 254,
                              rtprot_kernel = 2, rtprot_boot = 3, rtn_unicast = 1;
inline constexpr std::uint8_t ifa_f_permanent = 0x80;
inline constexpr std::uint8_t if_oper_unknown = 0, if_oper_up = 6;

// Socket options at SOL_NETLINK.
inline constexpr int netlink_add_membership = 1, netlink_drop_membership = 2, netlink_pktinfo = 3,
                     netlink_broadcast_error = 4, netlink_no_enobufs = 5, netlink_listen_all_nsid = 8,
                     netlink_list_memberships = 9, netlink_cap_ack = 10, netlink_ext_ack = 11, netlink_get_strict_chk = 12;

/// The largest datagram a dump is packed into (Linux's NLMSG_GOODSIZE for 4 KiB pages).
inline constexpr std::size_t dump_datagram_bytes = 3776;
/// SO_RCVBUF: default, and the bounds setsockopt clamps to (before Linux's doubling).
inline constexpr std::size_t default_receive_buffer = 212992;
inline constexpr std::size_t min_receive_buffer = 2304;
inline constexpr std::size_t max_receive_buffer = 8u << 20;

struct nlmsghdr {
    std::uint32_t length;
    std::uint16_t type;
    std::uint16_t flags;
    std::uint32_t sequence;
    std::uint32_t port;
};
static_assert(sizeof(nlmsghdr) == 16);
struct sockaddr_nl {
    std::uint16_t family;
    std::uint16_t pad;
    std::uint32_t port;
    std::uint32_t groups;
};
static_assert(sizeof(sockaddr_nl) == 12);
/// The address every reply comes from and every socket's peer is: the kernel, port 0.
inline constexpr sockaddr_nl kernel_address{af_netlink, 0, 0, 0};
struct ifinfomsg {
    std::uint8_t family;
    std::uint8_t pad;
    std::uint16_t type;
    std::int32_t index;
    std::uint32_t flags;
    std::uint32_t change;
};
static_assert(sizeof(ifinfomsg) == 16);
struct ifaddrmsg {
    std::uint8_t family;
    std::uint8_t prefix_length;
    std::uint8_t flags;
    std::uint8_t scope;
    std::uint32_t index;
};
static_assert(sizeof(ifaddrmsg) == 8);
struct rtmsg {
    std::uint8_t family;
    std::uint8_t destination_length;
    std::uint8_t source_length;
    std::uint8_t tos;
    std::uint8_t table;
    std::uint8_t protocol;
    std::uint8_t scope;
    std::uint8_t type;
    std::uint32_t flags;
};
static_assert(sizeof(rtmsg) == 12);

constexpr std::size_t align4(std::size_t n) noexcept { return (n + 3) & ~std::size_t{3}; }

/// Builds netlink messages (headers, fixed parts and attributes, 4-byte aligned) into one buffer.
class MessageWriter {
public:
    /// Starts a message; `end()` fills in its length.
    void begin(std::uint16_t type, std::uint16_t flags, std::uint32_t sequence, std::uint32_t port) {
        m_start = m_bytes.size();
        put(nlmsghdr{0, type, flags, sequence, port});
    }
    template <typename T>
    void put(const T& value) {
        append(std::as_bytes(std::span<const T, 1>(&value, 1)));
    }
    void attribute(std::uint16_t type, std::span<const std::byte> payload) {
        struct {
            std::uint16_t length, type;
        } header{static_cast<std::uint16_t>(4 + payload.size()), type};
        put(header);
        append(payload);
    }
    /// Raw bytes, then padding to the next 4-byte boundary.
    void append(std::span<const std::byte> b) {
        m_bytes.insert(m_bytes.end(), b.begin(), b.end());
        m_bytes.resize(align4(m_bytes.size()));
    }
    template <typename T>
    void attribute_value(std::uint16_t type, const T& value) {
        attribute(type, std::as_bytes(std::span<const T, 1>(&value, 1)));
    }
    void attribute_string(std::uint16_t type, std::string_view text) {
        std::vector<std::byte> z(text.size() + 1);
        std::memcpy(z.data(), text.data(), text.size());
        attribute(type, z);
    }
    void attribute_address(std::uint16_t type, net::Ipv4Address a) { attribute_value(type, net_interfaces::in_addr_of(a)); }
    void end() {
        const auto length = static_cast<std::uint32_t>(m_bytes.size() - m_start);
        std::memcpy(m_bytes.data() + m_start, &length, sizeof length);
    }
    std::vector<std::byte> take() { return std::exchange(m_bytes, {}); }

private:
    std::vector<std::byte> m_bytes;
    std::size_t m_start = 0;
};

namespace detail {
using net_interfaces::Interface;

inline void link_message(MessageWriter& w, const Interface& i, std::uint16_t flags, std::uint32_t sequence, std::uint32_t port) {
    w.begin(rtm_newlink, flags, sequence, port);
    w.put(ifinfomsg{af_unspec, 0, i.type, i.index, i.flags, 0});
    w.attribute_string(ifla_ifname, i.name);
    w.attribute_value(ifla_txqlen, std::uint32_t{i.loopback() ? 1000u : 500u});
    w.attribute_value(ifla_operstate, i.loopback() ? if_oper_unknown : if_oper_up);
    w.attribute_value(ifla_linkmode, std::uint8_t{0});
    w.attribute_value(ifla_mtu, i.mtu);
    if (i.loopback()) {  // a six-byte all-zero hardware address, as Linux's lo
        const std::array<std::byte, 6> zero{};
        w.attribute(ifla_address, zero);
        w.attribute(ifla_broadcast, zero);
    }
    w.end();
}

inline void address_message(MessageWriter& w, const Interface& i, std::uint16_t flags, std::uint32_t sequence, std::uint32_t port) {
    w.begin(rtm_newaddr, flags, sequence, port);
    w.put(ifaddrmsg{af_inet, static_cast<std::uint8_t>(i.prefix_length), ifa_f_permanent, i.loopback() ? rt_scope_host : rt_scope_universe,
                    static_cast<std::uint32_t>(i.index)});
    w.attribute_address(ifa_address, i.address);
    w.attribute_address(ifa_local, i.address);
    if (const auto b = i.broadcast()) w.attribute_address(ifa_broadcast, *b);
    w.attribute_string(ifa_label, i.name);
    w.attribute_value(ifa_flags, std::uint32_t{ifa_f_permanent});
    w.end();
}

/// The main table's routes of interface `i`: its subnet, and the default route via its gateway.
template <typename Emit>
void routes_of(const Interface& i, Emit&& emit) {
    if (i.loopback()) return;  // lo's routes live in the local table, which dumps of main leave out
    if (i.gateway) emit(rtmsg{af_inet, 0, 0, 0, rt_table_main, rtprot_boot, rt_scope_universe, rtn_unicast, 0}, std::optional<net::Ipv4Address>{},
                        i.gateway, std::optional<net::Ipv4Address>{});
    emit(rtmsg{af_inet, static_cast<std::uint8_t>(i.prefix_length), 0, 0, rt_table_main, rtprot_kernel, rt_scope_link, rtn_unicast, 0},
         std::optional<net::Ipv4Address>{i.network()}, std::optional<net::Ipv4Address>{}, std::optional<net::Ipv4Address>{i.address});
}

inline void route_message(MessageWriter& w, const Interface& i, const rtmsg& m, std::optional<net::Ipv4Address> destination,
                          std::optional<net::Ipv4Address> gateway, std::optional<net::Ipv4Address> source, std::uint16_t flags,
                          std::uint32_t sequence, std::uint32_t port) {
    w.begin(rtm_newroute, flags, sequence, port);
    w.put(m);
    w.attribute_value(rta_table, std::uint32_t{rt_table_main});
    if (destination) w.attribute_address(rta_dst, *destination);
    if (source) w.attribute_address(rta_prefsrc, *source);
    if (gateway) w.attribute_address(rta_gateway, *gateway);
    w.attribute_value(rta_oif, static_cast<std::uint32_t>(i.index));
    w.end();
}

/// The interface a non-dump RTM_GETLINK names: ifi_index, else an IFLA_IFNAME attribute.
inline const Interface* requested_link(const std::vector<Interface>& list, std::span<const std::byte> body) {
    if (body.size() < sizeof(ifinfomsg)) return nullptr;
    ifinfomsg info{};
    std::memcpy(&info, body.data(), sizeof info);
    if (info.index != 0) {
        for (const auto& i : list)
            if (i.index == info.index) return &i;
        return nullptr;
    }
    for (std::size_t at = align4(sizeof(ifinfomsg)); at + 4 <= body.size();) {
        std::uint16_t length = 0, type = 0;
        std::memcpy(&length, body.data() + at, 2);
        std::memcpy(&type, body.data() + at + 2, 2);
        if (length < 4 || length > body.size() - at) break;
        if ((type & 0x3fff) == ifla_ifname) {
            std::string_view name(reinterpret_cast<const char*>(body.data() + at + 4), length - 4u);
            if (const auto z = name.find('\0'); z != std::string_view::npos) name = name.substr(0, z);
            for (const auto& i : list)
                if (i.name == name) return &i;
            return nullptr;
        }
        at += align4(length);
    }
    return nullptr;
}
}  // namespace detail

/// The replies to one datagram of requests from port `port` (see the contract): datagrams, in
/// order. `refused` is called with a reason for each request the box refuses (for the trace).
template <typename Refused>
std::vector<std::vector<std::byte>> answer(std::span<const std::byte> datagram, std::uint32_t port,
                                           const std::vector<net_interfaces::Interface>& interfaces, Refused&& refused) {
    std::vector<std::vector<std::byte>> out;
    auto error = [&](const nlmsghdr& h, std::span<const std::byte> request, int negative_errno) {
        MessageWriter w;
        w.begin(nlmsg_error, 0, h.sequence, port);
        w.put(std::int32_t{negative_errno});
        // The request's header, and for an error its whole message (no NETLINK_CAP_ACK).
        const auto echoed = negative_errno == 0 ? request.first(sizeof(nlmsghdr)) : request;
        w.append(echoed);
        w.end();
        out.push_back(w.take());
    };
    for (std::size_t at = 0; datagram.size() - at >= sizeof(nlmsghdr);) {
        nlmsghdr h{};
        std::memcpy(&h, datagram.data() + at, sizeof h);
        if (h.length < sizeof(nlmsghdr) || h.length > datagram.size() - at) break;
        const auto request = datagram.subspan(at, h.length);
        const auto body = request.subspan(sizeof(nlmsghdr));
        at += std::min<std::size_t>(align4(h.length), datagram.size() - at);
        const bool wants_ack = (h.flags & nlm_f_ack) != 0;
        if ((h.flags & nlm_f_request) == 0 || h.type < nlmsg_min_type) {
            if (wants_ack) error(h, request, 0);
            continue;
        }
        if (h.type >= rtm_end) {
            refused("rtnetlink message type");
            error(h, request, -95);  // EOPNOTSUPP
            continue;
        }
        if ((h.type & 3) != 2) {  // NEW, DEL, SET: changes the network
            refused("rtnetlink change requests");
            error(h, request, -1);  // EPERM
            continue;
        }
        const std::uint8_t family = body.empty() ? af_unspec : static_cast<std::uint8_t>(body[0]);
        const bool ipv4 = family == af_unspec || family == af_inet || family == af_packet;
        if ((h.flags & nlm_f_dump) == nlm_f_dump) {
            std::vector<std::vector<std::byte>> messages;
            auto add = [&](auto&& write) {
                MessageWriter one;
                write(one);
                messages.push_back(one.take());
            };
            constexpr std::uint16_t multi = nlm_f_multi;
            switch (h.type) {
            case rtm_getlink:
                for (const auto& i : interfaces) add([&](MessageWriter& m) { detail::link_message(m, i, multi, h.sequence, port); });
                break;
            case rtm_getaddr:
                if (ipv4)
                    for (const auto& i : interfaces) add([&](MessageWriter& m) { detail::address_message(m, i, multi, h.sequence, port); });
                break;
            case rtm_getroute:
                if (ipv4)
                    for (const auto& i : interfaces)
                        detail::routes_of(i, [&](const rtmsg& r, auto destination, auto gateway, auto source) {
                            add([&](MessageWriter& m) { detail::route_message(m, i, r, destination, gateway, source, multi, h.sequence, port); });
                        });
                break;
            default:  // another GET of rtnetlink (neighbours, rules, qdiscs, ...): an empty dump
                break;
            }
            add([&](MessageWriter& m) {
                m.begin(nlmsg_done, multi, h.sequence, port);
                m.put(std::int32_t{0});
                m.end();
            });
            // Pack whole messages into datagrams of at most dump_datagram_bytes.
            std::vector<std::byte> current;
            for (auto& m : messages) {
                if (!current.empty() && current.size() + m.size() > dump_datagram_bytes) out.push_back(std::exchange(current, {}));
                current.insert(current.end(), m.begin(), m.end());
            }
            if (!current.empty()) out.push_back(std::move(current));
            if (wants_ack) error(h, request, 0);
            continue;
        }
        if (h.type == rtm_getlink) {
            const auto* i = detail::requested_link(interfaces, body);
            if (i == nullptr) {
                error(h, request, -19);  // ENODEV
                continue;
            }
            MessageWriter w;
            detail::link_message(w, *i, 0, h.sequence, port);
            out.push_back(w.take());
            if (wants_ack) error(h, request, 0);
            continue;
        }
        refused("rtnetlink request without NLM_F_DUMP");
        error(h, request, -95);  // EOPNOTSUPP
    }
    return out;
}

/// An AF_NETLINK / NETLINK_ROUTE socket (see the contract).
template <typename P>
class RouteSocket final : public fd::OpenFile<P> {
public:
    RouteSocket(const net::Stack<P>& stack, int type, std::uint32_t status_flags, std::uint32_t creator_pid)
        : fd::OpenFile<P>(fd::open_flags::read_write | status_flags), m_stack(stack), m_type(type), m_creator(creator_pid),
          m_inode(ipc::detail::allocate_anonymous_inode()) {}

    [[nodiscard]] int type() const noexcept { return m_type; }

    /// bind(2): the port (0: the creator's pid) and multicast groups.
    Result<void> bind(std::uint32_t port, std::uint32_t groups) {
        return m_state.with_lock([&](State& s) -> Result<void> {
            const std::uint32_t wanted = port != 0 ? port : (s.port != 0 ? s.port : m_creator);
            if (s.port != 0 && s.port != wanted) return Errno::inval;  // already bound elsewhere
            s.port = wanted;
            s.groups = groups;
            return ok();
        });
    }
    [[nodiscard]] sockaddr_nl local_name() const {
        return m_state.with_lock([](const State& s) { return sockaddr_nl{af_netlink, 0, s.port, s.groups}; });
    }
    /// connect(2): only "the kernel" (port 0, no group) is a peer; AF_UNSPEC disconnects.
    Result<void> connect(std::uint32_t port, std::uint32_t groups) {
        if (port != 0) return Errno::connrefused;
        if (groups != 0) return Errno::perm;
        return m_state.with_lock([&](State& s) -> Result<void> {
            if (s.port == 0) s.port = m_creator;  // connect autobinds, as Linux
            return ok();
        });
    }

    /// Answers one datagram of requests to port 0: queues the replies (ENOBUFS if they do not fit).
    template <typename Refused>
    Result<std::size_t> request(std::span<const std::byte> datagram, Refused&& refused) {
        const auto interfaces = net_interfaces::box_interfaces(m_stack);
        const std::uint32_t port = m_state.with_lock([&](State& s) {
            if (s.port == 0) s.port = m_creator;  // the first send autobinds
            return s.port;
        });
        auto replies = answer(datagram, port, interfaces, refused);
        std::size_t bytes = 0;
        for (const auto& r : replies) bytes += r.size();
        LITEBOX_TRY(m_state.with_lock([&](State& s) -> Result<void> {
            if (bytes > s.receive_buffer - std::min(s.receive_buffer, s.queued_bytes)) return Errno::nobufs;
            for (auto& r : replies) s.queue.push_back(std::move(r));
            s.queued_bytes += bytes;
            return ok();
        }));
        if (!replies.empty()) m_pollee.notify(fd::events::in | fd::events::rdnorm);
        return datagram.size();
    }

    /// The next datagram (a copy with `peek`, else taken off the queue); EAGAIN when none.
    Result<std::vector<std::byte>> take(bool peek) {
        return m_state.with_lock([&](State& s) -> Result<std::vector<std::byte>> {
            if (s.queue.empty()) return Errno::again;
            if (peek) return s.queue.front();
            auto front = std::move(s.queue.front());
            s.queue.pop_front();
            s.queued_bytes -= front.size();
            return front;
        });
    }

    Result<std::size_t> read(std::span<std::byte> out) override {
        LITEBOX_TRY_ASSIGN(const auto datagram, take(false));
        const std::size_t n = std::min(out.size(), datagram.size());
        if (n != 0) std::memcpy(out.data(), datagram.data(), n);
        return n;
    }
    /// write(2): a send to the kernel. (sendto/sendmsg go through request() with a trace sink; here
    /// there is no calling thread to trace refusals for.)
    Result<std::size_t> write(std::span<const std::byte> in) override {
        return request(in, [](std::string_view) {});
    }

    [[nodiscard]] std::size_t bytes_readable() const {
        return m_state.with_lock([](const State& s) { return s.queue.empty() ? std::size_t{0} : s.queue.front().size(); });
    }

    /// SOL_SOCKET and SOL_NETLINK options.
    Result<void> set_option(int level, int name, std::span<const std::byte> value) {
        std::int32_t v = 0;
        if (value.size() < sizeof v) return Errno::inval;
        std::memcpy(&v, value.data(), sizeof v);
        return m_state.with_lock([&](State& s) -> Result<void> {
            if (level == 1) {  // SOL_SOCKET
                switch (name) {
                case 8: case 33:  // SO_RCVBUF, SO_RCVBUFFORCE: doubled, as Linux
                    s.receive_buffer = 2 * std::clamp<std::size_t>(static_cast<std::size_t>(std::max(v, 0)), min_receive_buffer / 2, max_receive_buffer);
                    return ok();
                case 7: case 32:  // SO_SNDBUF, SO_SNDBUFFORCE
                    s.send_buffer = 2 * std::clamp<std::size_t>(static_cast<std::size_t>(std::max(v, 0)), min_receive_buffer / 2, max_receive_buffer);
                    return ok();
                case 16: s.pass_credentials = v != 0; return ok();  // SO_PASSCRED
                default: return Errno::noprotoopt;
                }
            }
            if (level != sol_netlink) return Errno::noprotoopt;
            switch (name) {
            case netlink_add_membership: case netlink_drop_membership: {
                if (v <= 0) return Errno::inval;
                if (v > 32) return ok();  // groups above 32 exist on Linux; none of them has events here
                const std::uint32_t bit = 1u << (v - 1);
                s.groups = name == netlink_add_membership ? (s.groups | bit) : (s.groups & ~bit);
                return ok();
            }
            case netlink_pktinfo: case netlink_broadcast_error: case netlink_no_enobufs: case netlink_listen_all_nsid:
            case netlink_cap_ack: case netlink_ext_ack: case netlink_get_strict_chk:
                s.flags[static_cast<std::size_t>(name)] = v != 0;
                return ok();
            default: return Errno::noprotoopt;
            }
        });
    }
    Result<std::vector<std::byte>> get_option(int level, int name) const {
        return m_state.with_lock([&](const State& s) -> Result<std::vector<std::byte>> {
            std::int32_t v = 0;
            if (level == 1) {
                switch (name) {
                case 3: v = m_type; break;                                  // SO_TYPE
                case 39: v = af_netlink; break;                             // SO_DOMAIN
                case 38: v = netlink_route; break;                          // SO_PROTOCOL
                case 4: v = 0; break;                                       // SO_ERROR
                case 8: v = static_cast<std::int32_t>(s.receive_buffer); break;
                case 7: v = static_cast<std::int32_t>(s.send_buffer); break;
                case 16: v = s.pass_credentials ? 1 : 0; break;
                default: return Errno::noprotoopt;
                }
            } else if (level == sol_netlink) {
                switch (name) {
                case netlink_list_memberships: v = static_cast<std::int32_t>(s.groups); break;
                case netlink_pktinfo: case netlink_broadcast_error: case netlink_no_enobufs: case netlink_listen_all_nsid:
                case netlink_cap_ack: case netlink_ext_ack: case netlink_get_strict_chk:
                    v = s.flags[static_cast<std::size_t>(name)] ? 1 : 0;
                    break;
                default: return Errno::noprotoopt;
                }
            } else {
                return Errno::noprotoopt;
            }
            std::vector<std::byte> out(sizeof v);
            std::memcpy(out.data(), &v, sizeof v);
            return out;
        });
    }

    Result<fd::Stat> stat() override { return ipc::detail::anonymous_stat(m_inode, fd::mode::socket | 0777); }
    fd::Events poll(fd::Events /*interest*/) override {
        return fd::events::out | fd::events::wrnorm | (has_datagram() ? fd::events::in | fd::events::rdnorm : 0);
    }
    event::Pollee<P>* pollee() noexcept override { return &m_pollee; }

private:
    [[nodiscard]] bool has_datagram() const {
        return m_state.with_lock([](const State& s) { return !s.queue.empty(); });
    }
    struct State {
        std::uint32_t port = 0;
        std::uint32_t groups = 0;
        std::deque<std::vector<std::byte>> queue;
        std::size_t queued_bytes = 0;
        std::size_t receive_buffer = default_receive_buffer;
        std::size_t send_buffer = default_receive_buffer;
        bool pass_credentials = false;
        std::array<bool, 16> flags{};
    };
    const net::Stack<P>& m_stack;
    const int m_type;
    const std::uint32_t m_creator;
    mutable sync::Mutex<P, State> m_state;
    event::Pollee<P> m_pollee{event::owner_of(this)};
    const std::uint64_t m_inode;
};

/// The RouteSocket behind a file, or nullptr.
template <typename P>
RouteSocket<P>* route_socket_of(fd::OpenFile<P>& file) noexcept {
    return event::owner_as<RouteSocket<P>>(file);
}

}  // namespace litebox::shim::linux_abi::netlink
