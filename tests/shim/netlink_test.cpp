// rtnetlink and the SIOCGIF* ioctls through the shim: the box's interfaces (lo, and eth0 once the
// stack has an external interface), parsed here with the host's <linux/rtnetlink.h> so that the
// message layout is checked against Linux's ABI, and /proc/net/{dev,route}.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;

namespace {

struct Reply {
    std::int64_t result = 0;
    std::vector<std::byte> bytes;
    int flags = 0;
};

std::int64_t open_route(ShimFixture<>& f, int type = SOCK_RAW) { return f.call(lx::nr::socket, AF_NETLINK, type | SOCK_CLOEXEC, NETLINK_ROUTE); }

/// Sends one request (a header and a fixed body) with sendto to the kernel.
template <typename Body>
std::int64_t send_request(ShimFixture<>& f, int fd, std::uint16_t type, std::uint16_t flags, std::uint32_t sequence, const Body& body) {
    struct {
        nlmsghdr header;
        Body body;
    } message{};
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = type;
    message.header.nlmsg_flags = flags;
    message.header.nlmsg_seq = sequence;
    message.body = body;
    const auto at = f.mem.allocate(sizeof message);
    f.mem.put(at, message);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    const auto to = f.mem.allocate(sizeof kernel);
    f.mem.put(to, kernel);
    return f.call(lx::nr::sendto, fd, at, sizeof message, 0, to, sizeof kernel);
}

/// One recvmsg into a buffer of `size` bytes.
Reply receive(ShimFixture<>& f, int fd, std::size_t size = 8192, int flags = MSG_DONTWAIT) {
    const auto buffer = f.mem.allocate(size);
    const auto from = f.mem.allocate(sizeof(sockaddr_nl));
    ::iovec iov{reinterpret_cast<void*>(buffer), size};
    const auto iov_at = f.mem.allocate(sizeof iov);
    f.mem.put(iov_at, iov);
    ::msghdr header{};
    header.msg_name = reinterpret_cast<void*>(from);
    header.msg_namelen = sizeof(sockaddr_nl);
    header.msg_iov = reinterpret_cast<::iovec*>(iov_at);
    header.msg_iovlen = 1;
    const auto header_at = f.mem.allocate(sizeof header);
    f.mem.put(header_at, header);
    Reply r;
    r.result = f.call(lx::nr::recvmsg, fd, header_at, flags);
    if (r.result >= 0) {
        r.bytes = f.mem.bytes(buffer, std::min<std::size_t>(size, static_cast<std::size_t>(r.result)));
        r.flags = f.mem.get<::msghdr>(header_at).msg_flags;
        const auto sender = f.mem.get<sockaddr_nl>(from);
        CHECK(sender.nl_family == AF_NETLINK);
        CHECK(sender.nl_pid == 0u);  // from the kernel
    }
    return r;
}

/// The messages of a datagram.
std::vector<std::pair<nlmsghdr, std::vector<std::byte>>> messages_of(const std::vector<std::byte>& datagram) {
    std::vector<std::pair<nlmsghdr, std::vector<std::byte>>> out;
    std::size_t at = 0;
    while (datagram.size() - at >= sizeof(nlmsghdr)) {
        nlmsghdr h{};
        std::memcpy(&h, datagram.data() + at, sizeof h);
        REQUIRE(h.nlmsg_len >= sizeof h);
        REQUIRE(h.nlmsg_len <= datagram.size() - at);
        out.emplace_back(h, std::vector<std::byte>(datagram.begin() + static_cast<std::ptrdiff_t>(at + sizeof h),
                                                   datagram.begin() + static_cast<std::ptrdiff_t>(at + h.nlmsg_len)));
        at += NLMSG_ALIGN(h.nlmsg_len);
    }
    return out;
}

/// The attributes after a fixed part of `fixed` bytes.
std::map<int, std::vector<std::byte>> attributes(const std::vector<std::byte>& body, std::size_t fixed) {
    std::map<int, std::vector<std::byte>> out;
    for (std::size_t at = NLMSG_ALIGN(fixed); at + sizeof(rtattr) <= body.size();) {
        rtattr a{};
        std::memcpy(&a, body.data() + at, sizeof a);
        REQUIRE(a.rta_len >= sizeof a);
        REQUIRE(a.rta_len <= body.size() - at);
        out[a.rta_type] = std::vector<std::byte>(body.begin() + static_cast<std::ptrdiff_t>(at + RTA_LENGTH(0)),
                                                 body.begin() + static_cast<std::ptrdiff_t>(at + a.rta_len));
        at += RTA_ALIGN(a.rta_len);
    }
    return out;
}
std::string text_of(const std::vector<std::byte>& b) { return std::string(reinterpret_cast<const char*>(b.data())); }
std::string dotted(const std::vector<std::byte>& b) {
    REQUIRE(b.size() == 4);
    char text[INET_ADDRSTRLEN];
    return inet_ntop(AF_INET, b.data(), text, sizeof text);
}

/// Dumps `type` and collects every message up to NLMSG_DONE (checking sequence and port).
std::vector<std::pair<nlmsghdr, std::vector<std::byte>>> dump(ShimFixture<>& f, int fd, std::uint16_t type, std::uint32_t sequence,
                                                              std::uint32_t port, unsigned char family = AF_UNSPEC) {
    rtgenmsg g{};
    g.rtgen_family = family;
    REQUIRE(send_request(f, fd, type, NLM_F_REQUEST | NLM_F_DUMP, sequence, g) == static_cast<std::int64_t>(NLMSG_SPACE(sizeof g)));
    std::vector<std::pair<nlmsghdr, std::vector<std::byte>>> all;
    for (int datagrams = 0; datagrams < 16; ++datagrams) {
        const auto r = receive(f, fd);
        REQUIRE(r.result > 0);
        for (auto& m : messages_of(r.bytes)) {
            CHECK(m.first.nlmsg_seq == sequence);
            CHECK(m.first.nlmsg_pid == port);
            CHECK((m.first.nlmsg_flags & NLM_F_MULTI) != 0);
            if (m.first.nlmsg_type == NLMSG_DONE) return all;
            all.push_back(std::move(m));
        }
    }
    FAIL("no NLMSG_DONE");
    return all;
}

void add_eth0(ShimFixture<>& f) {
    litebox::net::InterfaceConfig eth;
    eth.address = litebox::net::Ipv4Address{10, 0, 2, 15};
    eth.prefix_length = 24;
    eth.gateway = litebox::net::Ipv4Address{10, 0, 2, 2};
    eth.mtu = 1400;
    REQUIRE(f.box.net().configure_interface(eth).has_value());
}

/// A whole file through open and read, or "errno N".
std::string read_file(ShimFixture<>& f, std::string_view path) {
    const auto fd = f.call(lx::nr::open, f.mem.put_string(path), O_RDONLY);
    if (fd < 0) return "errno " + std::to_string(-fd);
    const auto buf = f.mem.allocate(256);
    std::string out;
    for (std::int64_t n; (n = f.call(lx::nr::read, fd, buf, 256)) > 0;) {
        const auto bytes = f.mem.bytes(buf, static_cast<std::size_t>(n));
        out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    f.call(lx::nr::close, fd);
    return out;
}

std::uint32_t bound_port(ShimFixture<>& f, int fd) {
    const auto name = f.mem.allocate(sizeof(sockaddr_nl)), length = f.mem.allocate(4);
    f.mem.put<std::int32_t>(length, sizeof(sockaddr_nl));
    REQUIRE(f.call(lx::nr::getsockname, fd, name, length) == 0);
    CHECK(f.mem.get<std::int32_t>(length) == static_cast<std::int32_t>(sizeof(sockaddr_nl)));
    return f.mem.get<sockaddr_nl>(name).nl_pid;
}

}  // namespace

TEST_CASE("netlink: RTM_GETLINK and RTM_GETADDR dumps describe the box's interfaces", "[shim][netlink]") {
    ShimFixture<> f;
    add_eth0(f);
    const auto fd = static_cast<int>(open_route(f));
    REQUIRE(fd >= 0);
    CHECK(bound_port(f, fd) == 0u);  // unbound until the first send
    const auto pid = static_cast<std::uint32_t>(f.call(lx::nr::getpid));

    const auto links = dump(f, fd, RTM_GETLINK, 7, pid);
    CHECK(bound_port(f, fd) == pid);  // the send autobound it to the caller's pid
    REQUIRE(links.size() == 2);
    std::map<std::string, ifinfomsg> by_name;
    for (const auto& [h, body] : links) {
        CHECK(h.nlmsg_type == RTM_NEWLINK);
        REQUIRE(body.size() >= sizeof(ifinfomsg));
        ifinfomsg info{};
        std::memcpy(&info, body.data(), sizeof info);
        auto attrs = attributes(body, sizeof info);
        REQUIRE(attrs.count(IFLA_IFNAME) == 1);
        REQUIRE(attrs.count(IFLA_MTU) == 1);
        std::uint32_t mtu = 0;
        std::memcpy(&mtu, attrs[IFLA_MTU].data(), 4);
        const auto name = text_of(attrs[IFLA_IFNAME]);
        if (name == "eth0") CHECK(mtu == 1400u);
        by_name[name] = info;
    }
    REQUIRE(by_name.count("lo") == 1);
    REQUIRE(by_name.count("eth0") == 1);
    CHECK(by_name["lo"].ifi_index == 1);
    CHECK(by_name["lo"].ifi_type == ARPHRD_LOOPBACK);
    CHECK((by_name["lo"].ifi_flags & (IFF_UP | IFF_LOOPBACK | IFF_RUNNING)) == (IFF_UP | IFF_LOOPBACK | IFF_RUNNING));
    CHECK(by_name["eth0"].ifi_index == 2);
    CHECK(by_name["eth0"].ifi_type == ARPHRD_NONE);
    CHECK((by_name["eth0"].ifi_flags & IFF_LOOPBACK) == 0u);

    const auto addresses = dump(f, fd, RTM_GETADDR, 8, pid, AF_INET);
    REQUIRE(addresses.size() == 2);
    std::map<std::string, std::pair<std::string, int>> found;
    for (const auto& [h, body] : addresses) {
        CHECK(h.nlmsg_type == RTM_NEWADDR);
        ifaddrmsg a{};
        std::memcpy(&a, body.data(), sizeof a);
        auto attrs = attributes(body, sizeof a);
        CHECK(a.ifa_family == AF_INET);
        found[text_of(attrs[IFA_LABEL])] = {dotted(attrs[IFA_LOCAL]), a.ifa_prefixlen};
        if (text_of(attrs[IFA_LABEL]) == "eth0") CHECK(dotted(attrs[IFA_BROADCAST]) == "10.0.2.255");
    }
    CHECK(found["lo"] == std::pair<std::string, int>{"127.0.0.1", 8});
    CHECK(found["eth0"] == std::pair<std::string, int>{"10.0.2.15", 24});

    // No IPv6 addresses: an empty dump, still ended by NLMSG_DONE.
    CHECK(dump(f, fd, RTM_GETADDR, 9, pid, AF_INET6).empty());
    CHECK(receive(f, fd).result == -EAGAIN);  // nothing left over
}

TEST_CASE("netlink: the main routing table has eth0's subnet and default route", "[shim][netlink]") {
    ShimFixture<> f;
    const auto fd = static_cast<int>(open_route(f, SOCK_DGRAM));
    REQUIRE(fd >= 0);
    const auto pid = static_cast<std::uint32_t>(f.call(lx::nr::getpid));
    CHECK(dump(f, fd, RTM_GETROUTE, 1, pid, AF_INET).empty());  // loopback only: main is empty
    add_eth0(f);
    const auto routes = dump(f, fd, RTM_GETROUTE, 2, pid, AF_INET);
    REQUIRE(routes.size() == 2);
    bool default_route = false, subnet = false;
    for (const auto& [h, body] : routes) {
        rtmsg m{};
        std::memcpy(&m, body.data(), sizeof m);
        auto attrs = attributes(body, sizeof m);
        CHECK(m.rtm_table == RT_TABLE_MAIN);
        std::uint32_t oif = 0;
        std::memcpy(&oif, attrs[RTA_OIF].data(), 4);
        CHECK(oif == 2u);
        if (m.rtm_dst_len == 0) default_route = dotted(attrs[RTA_GATEWAY]) == "10.0.2.2";
        else subnet = m.rtm_dst_len == 24 && dotted(attrs[RTA_DST]) == "10.0.2.0" && dotted(attrs[RTA_PREFSRC]) == "10.0.2.15";
    }
    CHECK(default_route);
    CHECK(subnet);
}

TEST_CASE("netlink: single requests, acks, refusals and malformed input", "[shim][netlink]") {
    ShimFixture<> f;
    const auto fd = static_cast<int>(open_route(f));
    REQUIRE(fd >= 0);
    sockaddr_nl bound{};
    bound.nl_family = AF_NETLINK;
    bound.nl_pid = 4242;
    const auto addr = f.mem.allocate(sizeof bound);
    f.mem.put(addr, bound);
    REQUIRE(f.call(lx::nr::bind, fd, addr, sizeof bound) == 0);
    CHECK(bound_port(f, fd) == 4242u);
    CHECK(f.call(lx::nr::bind, fd, addr, 4) == -EINVAL);  // shorter than sockaddr_nl

    SECTION("RTM_GETLINK of one index, with an ack") {
        ifinfomsg info{};
        info.ifi_index = 1;
        REQUIRE(send_request(f, fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, 3, info) > 0);
        auto r = receive(f, fd);
        auto m = messages_of(r.bytes);
        REQUIRE(m.size() == 1);
        CHECK(m[0].first.nlmsg_type == RTM_NEWLINK);
        CHECK(m[0].first.nlmsg_pid == 4242u);
        CHECK(text_of(attributes(m[0].second, sizeof(ifinfomsg))[IFLA_IFNAME]) == "lo");
        r = receive(f, fd);
        m = messages_of(r.bytes);
        REQUIRE(m.size() == 1);
        CHECK(m[0].first.nlmsg_type == NLMSG_ERROR);
        std::int32_t error = -1;
        std::memcpy(&error, m[0].second.data(), 4);
        CHECK(error == 0);
    }
    SECTION("an unknown index is ENODEV") {
        ifinfomsg info{};
        info.ifi_index = 9;
        REQUIRE(send_request(f, fd, RTM_GETLINK, NLM_F_REQUEST, 4, info) > 0);
        const auto m = messages_of(receive(f, fd).bytes);
        REQUIRE(m.size() == 1);
        CHECK(m[0].first.nlmsg_type == NLMSG_ERROR);
        std::int32_t error = 0;
        std::memcpy(&error, m[0].second.data(), 4);
        CHECK(error == -ENODEV);
    }
    SECTION("changing the network is EPERM") {
        ifaddrmsg a{};
        a.ifa_family = AF_INET;
        a.ifa_index = 1;
        REQUIRE(send_request(f, fd, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, 5, a) > 0);
        const auto m = messages_of(receive(f, fd).bytes);
        REQUIRE(m.size() == 1);
        std::int32_t error = 0;
        std::memcpy(&error, m[0].second.data(), 4);
        CHECK(error == -EPERM);
        CHECK(receive(f, fd).result == -EAGAIN);
    }
    SECTION("a malformed header ends parsing without a reply") {
        nlmsghdr bad{};
        bad.nlmsg_len = 8;  // shorter than a header
        bad.nlmsg_type = RTM_GETLINK;
        bad.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        const auto at = f.mem.allocate(sizeof bad);
        f.mem.put(at, bad);
        CHECK(f.call(lx::nr::sendto, fd, at, sizeof bad, 0, 0, 0) == static_cast<std::int64_t>(sizeof bad));
        CHECK(receive(f, fd).result == -EAGAIN);
    }
    SECTION("MSG_PEEK|MSG_TRUNC gives the length; a short buffer is truncated") {
        rtgenmsg g{};
        REQUIRE(send_request(f, fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 6, g) > 0);
        const auto peek = receive(f, fd, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
        REQUIRE(peek.result > static_cast<std::int64_t>(sizeof(nlmsghdr)));
        const auto cut = receive(f, fd, 20);
        CHECK(cut.result == 20);
        CHECK((cut.flags & MSG_TRUNC) != 0);
        CHECK(receive(f, fd).result == -EAGAIN);  // the rest of that datagram is gone
    }
    SECTION("only the kernel is a peer") {
        sockaddr_nl other{};
        other.nl_family = AF_NETLINK;
        other.nl_pid = 77;
        const auto to = f.mem.allocate(sizeof other);
        f.mem.put(to, other);
        CHECK(f.call(lx::nr::connect, fd, to, sizeof other) == -ECONNREFUSED);
        const auto data = f.mem.put_string("x");
        CHECK(f.call(lx::nr::sendto, fd, data, 1, 0, to, sizeof other) == -ECONNREFUSED);
        CHECK(f.call(lx::nr::listen, fd, 1) == -EOPNOTSUPP);
    }
    CHECK(f.call(lx::nr::socket, AF_NETLINK, SOCK_RAW, NETLINK_AUDIT) == -EPROTONOSUPPORT);
    CHECK(f.call(lx::nr::socket, AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE) == -ESOCKTNOSUPPORT);
}

TEST_CASE("netlink: replies stay within SO_RCVBUF", "[shim][netlink]") {
    ShimFixture<> f;
    const auto fd = static_cast<int>(open_route(f));
    REQUIRE(fd >= 0);
    const auto value = f.mem.allocate(4);
    f.mem.put<std::int32_t>(value, 1);  // clamped to the minimum, then doubled
    REQUIRE(f.call(lx::nr::setsockopt, fd, SOL_SOCKET, SO_RCVBUF, value, 4) == 0);
    rtgenmsg g{};
    int accepted = 0;
    std::int64_t last = 0;
    for (int i = 0; i < 100 && last >= 0; ++i) {
        last = send_request(f, fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, static_cast<std::uint32_t>(i), g);
        if (last >= 0) ++accepted;
    }
    CHECK(last == -ENOBUFS);
    CHECK(accepted > 0);
    CHECK(accepted < 100);
    // Reading makes room again.
    while (receive(f, fd).result > 0) {
    }
    CHECK(send_request(f, fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1000, g) > 0);
}

TEST_CASE("SIOCGIF* ioctls report the box's interfaces", "[shim][netlink]") {
    ShimFixture<> f;
    add_eth0(f);
    const auto s = static_cast<int>(f.call(lx::nr::socket, AF_INET, SOCK_DGRAM, 0));
    REQUIRE(s >= 0);
    const auto request = f.mem.allocate(sizeof(::ifreq));
    auto ask = [&](unsigned long code, const char* name) {
        ::ifreq r{};
        std::strncpy(r.ifr_name, name, IFNAMSIZ - 1);
        f.mem.put(request, r);
        return f.call(lx::nr::ioctl, s, code, request);
    };
    auto address = [&]() {
        const auto r = f.mem.get<::ifreq>(request);
        char text[INET_ADDRSTRLEN];
        return std::string(inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&r.ifr_addr)->sin_addr, text, sizeof text));
    };
    REQUIRE(ask(SIOCGIFADDR, "eth0") == 0);
    CHECK(address() == "10.0.2.15");
    REQUIRE(ask(SIOCGIFNETMASK, "eth0") == 0);
    CHECK(address() == "255.255.255.0");
    REQUIRE(ask(SIOCGIFADDR, "lo") == 0);
    CHECK(address() == "127.0.0.1");
    REQUIRE(ask(SIOCGIFFLAGS, "lo") == 0);
    CHECK((f.mem.get<::ifreq>(request).ifr_flags & IFF_LOOPBACK) != 0);
    REQUIRE(ask(SIOCGIFINDEX, "eth0") == 0);
    CHECK(f.mem.get<::ifreq>(request).ifr_ifindex == 2);
    REQUIRE(ask(SIOCGIFMTU, "eth0") == 0);
    CHECK(f.mem.get<::ifreq>(request).ifr_mtu == 1400);
    CHECK(ask(SIOCGIFADDR, "wlan0") == -ENODEV);
    CHECK(ask(SIOCSIFADDR, "eth0") == -EPERM);
    // SIOCGIFNAME by index.
    ::ifreq byindex{};
    byindex.ifr_ifindex = 1;
    f.mem.put(request, byindex);
    REQUIRE(f.call(lx::nr::ioctl, s, SIOCGIFNAME, request) == 0);
    CHECK(std::string(f.mem.get<::ifreq>(request).ifr_name) == "lo");
    // SIOCGIFCONF: the length needed, then both entries.
    ::ifconf conf{};
    const auto conf_at = f.mem.allocate(sizeof conf);
    f.mem.put(conf_at, conf);
    REQUIRE(f.call(lx::nr::ioctl, s, SIOCGIFCONF, conf_at) == 0);
    CHECK(f.mem.get<::ifconf>(conf_at).ifc_len == static_cast<int>(2 * sizeof(::ifreq)));
    const auto entries = f.mem.allocate(2 * sizeof(::ifreq));
    conf.ifc_len = 2 * sizeof(::ifreq);
    conf.ifc_buf = reinterpret_cast<char*>(entries);
    f.mem.put(conf_at, conf);
    REQUIRE(f.call(lx::nr::ioctl, s, SIOCGIFCONF, conf_at) == 0);
    CHECK(std::string(f.mem.get<::ifreq>(entries + sizeof(::ifreq)).ifr_name) == "eth0");
    // Not a socket: ENOTTY.
    const auto pipe_fds = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::pipe2, pipe_fds, 0) == 0);
    ::ifreq r{};
    std::strncpy(r.ifr_name, "lo", IFNAMSIZ - 1);
    f.mem.put(request, r);
    CHECK(f.call(lx::nr::ioctl, f.mem.get<std::int32_t>(pipe_fds), SIOCGIFADDR, request) == -ENOTTY);
}

TEST_CASE("/proc/net/dev and /proc/net/route list the box's interfaces", "[shim][netlink][procfs]") {
    ShimFixture<> f;
    add_eth0(f);
    const auto dev = read_file(f, "/proc/net/dev");
    CHECK(dev.find("    lo:") != std::string::npos);
    CHECK(dev.find("  eth0:") != std::string::npos);
    const auto route = read_file(f, "/proc/net/route");
    CHECK(route.find("eth0\t00000000\t0202000A\t0003") != std::string::npos);  // default via 10.0.2.2
    CHECK(route.find("eth0\t0002000A\t00000000\t0001") != std::string::npos);  // 10.0.2.0/24
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
