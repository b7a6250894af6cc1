// Socket syscalls through the shim: AF_UNIX (socketpair, paths, abstract names, SCM_RIGHTS,
// SO_PEERCRED) and AF_INET over the box's loopback (TCP and UDP). Constants come from the host's
// headers so that the ABI numbers are checked too; one test runs the same calls on the host.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;
using namespace std::chrono_literals;

namespace {
struct Address {
    std::uintptr_t at = 0;
    std::int32_t length = 0;
};

/// sockaddr_un in guest memory: a path (NUL-terminated), or with `abstract` "\0name".
Address unix_address(ShimFixture<>& f, std::string_view name, bool abstract = false) {
    struct ::sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    const std::size_t offset = abstract ? 1 : 0;
    std::memcpy(sun.sun_path + offset, name.data(), name.size());
    const auto length = static_cast<std::int32_t>(offsetof(struct ::sockaddr_un, sun_path) + offset + name.size() + (abstract ? 0 : 1));
    const auto at = f.mem.allocate(sizeof sun);
    f.mem.put(at, sun);
    return {at, length};
}

Address inet_address(ShimFixture<>& f, std::uint32_t host_order_address, std::uint16_t port) {
    struct ::sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(host_order_address);
    const auto at = f.mem.allocate(sizeof sin);
    f.mem.put(at, sin);
    return {at, static_cast<std::int32_t>(sizeof sin)};
}
constexpr std::uint32_t loopback = 0x7f000001;

std::int64_t make_socket(ShimFixture<>& f, int domain, int type, int protocol = 0) {
    return f.call(lx::nr::socket, domain, type, protocol);
}

std::pair<int, int> make_pair(ShimFixture<>& f, int type) {
    const auto fds = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::socketpair, AF_UNIX, type, 0, fds) == 0);
    return {f.mem.get<std::int32_t>(fds), f.mem.get<std::int32_t>(fds + 4)};
}

std::int64_t send_text(ShimFixture<>& f, int fd, std::string_view text, int flags = 0) {
    return f.call(lx::nr::sendto, fd, f.mem.put_string(text), text.size(), flags, 0, 0);
}

std::string receive_text(ShimFixture<>& f, int fd, std::size_t size = 64, int flags = 0) {
    const auto buffer = f.mem.allocate(size);
    const auto n = f.call(lx::nr::recvfrom, fd, buffer, size, flags, 0, 0);
    if (n < 0) return "errno " + std::to_string(-n);
    const auto bytes = f.mem.bytes(buffer, static_cast<std::size_t>(std::min<std::int64_t>(n, static_cast<std::int64_t>(size))));
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

/// An int option.
std::int64_t get_int_option(ShimFixture<>& f, int fd, int level, int name, int& value) {
    const auto v = f.mem.allocate(4), length = f.mem.allocate(4);
    f.mem.put<std::int32_t>(length, 4);
    const auto r = f.call(lx::nr::getsockopt, fd, level, name, v, length);
    value = f.mem.get<std::int32_t>(v);
    return r;
}

/// A msghdr with one iovec over `data` (or an empty buffer of `capacity`) and `control` bytes
/// of control buffer.
struct Message {
    std::uintptr_t header = 0, iov = 0, buffer = 0, control = 0;
};
Message make_message(ShimFixture<>& f, std::string_view data, std::size_t capacity, std::size_t control_bytes) {
    Message m;
    m.buffer = data.empty() ? f.mem.allocate(capacity) : f.mem.put_string(data);
    m.iov = f.mem.allocate(sizeof(lx::abi::iovec));
    f.mem.put(m.iov, lx::abi::iovec{m.buffer, data.empty() ? capacity : data.size()});
    m.control = control_bytes != 0 ? f.mem.allocate(control_bytes) : 0;
    m.header = f.mem.allocate(sizeof(lx::abi::msghdr));
    lx::abi::msghdr h{};
    h.msg_iov = m.iov;
    h.msg_iovlen = 1;
    h.msg_control = m.control;
    h.msg_controllen = control_bytes;
    f.mem.put(m.header, h);
    return m;
}
}  // namespace

TEST_CASE("socket: socketpair round trip, fstat, poll, MSG_PEEK, shutdown", "[shim][socket]") {
    ShimFixture<> f;
    const auto pair1 = make_pair(f, SOCK_STREAM);
    const int a = pair1.first, b = pair1.second;
    CHECK(send_text(f, a, "hello") == 5);
    CHECK(receive_text(f, b, 64, MSG_PEEK) == "hello");
    CHECK(receive_text(f, b, 3) == "hel");
    CHECK(receive_text(f, b) == "lo");
    CHECK(receive_text(f, b, 64, MSG_DONTWAIT) == "errno " + std::to_string(EAGAIN));
    // read/write work on sockets too
    CHECK(f.call(lx::nr::write, b, f.mem.put_string("back"), 4) == 4);
    const auto buf = f.mem.allocate(16);
    CHECK(f.call(lx::nr::read, a, buf, 16) == 4);

    const auto st = f.mem.allocate(sizeof(lx::abi::stat));
    REQUIRE(f.call(lx::nr::fstat, a, st) == 0);
    CHECK((f.mem.get<lx::abi::stat>(st).st_mode & S_IFMT) == S_IFSOCK);

    const auto pfd = f.mem.allocate(sizeof(lx::abi::pollfd));
    f.mem.put(pfd, lx::abi::pollfd{b, POLLIN | POLLOUT, 0});
    CHECK(f.call(lx::nr::poll, pfd, 1, 0) == 1);
    CHECK(f.mem.get<lx::abi::pollfd>(pfd).revents == POLLOUT);
    CHECK(send_text(f, a, "x") == 1);
    CHECK(f.call(lx::nr::poll, pfd, 1, 0) == 1);
    CHECK(f.mem.get<lx::abi::pollfd>(pfd).revents == (POLLIN | POLLOUT));

    int value = 0;
    CHECK(get_int_option(f, a, SOL_SOCKET, SO_TYPE, value) == 0);
    CHECK(value == SOCK_STREAM);
    CHECK(get_int_option(f, a, SOL_SOCKET, SO_DOMAIN, value) == 0);
    CHECK(value == AF_UNIX);

    CHECK(f.call(lx::nr::shutdown, a, SHUT_WR) == 0);
    CHECK(receive_text(f, b) == "x");
    CHECK(receive_text(f, b) == "");  // EOF after shutdown
    CHECK(f.call(lx::nr::shutdown, a, 7) == err(Errno::inval));
    CHECK(send_text(f, a, "late", MSG_NOSIGNAL) == err(Errno::pipe));
    CHECK_FALSE(f.init->dequeue_signal());
    CHECK(send_text(f, a, "late") == err(Errno::pipe));
    auto signal = f.init->dequeue_signal();
    REQUIRE(signal);
    CHECK(signal->first == lx::abi::sigpipe);

    // flags and descriptors
    const auto fds = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::socketpair, AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    const int d = f.mem.get<std::int32_t>(fds);
    CHECK(f.call(lx::nr::fcntl, d, lx::abi::f_getfd) == FD_CLOEXEC);
    CHECK((f.call(lx::nr::fcntl, d, F_GETFL) & O_NONBLOCK) != 0);
    CHECK(receive_text(f, d) == "errno " + std::to_string(EAGAIN));
    CHECK(f.call(lx::nr::socketpair, AF_INET, SOCK_STREAM, 0, fds) == err(Errno::opnotsupp));
    CHECK(f.call(lx::nr::socketpair, AF_UNIX, SOCK_STREAM, 1, fds) == err(Errno::protonosupport));
    const auto before = f.init->files().count();
    CHECK(f.call(lx::nr::socketpair, AF_UNIX, SOCK_STREAM, 0, f.mem.hole()) == err(Errno::fault));
    CHECK(f.init->files().count() == before);
}

TEST_CASE("socket: unix path bind, listen, connect, accept and names", "[shim][socket]") {
    ShimFixture<> f;
    const int server = static_cast<int>(make_socket(f, AF_UNIX, SOCK_STREAM));
    REQUIRE(server >= 0);
    const auto path = unix_address(f, "/srv.sock");
    CHECK(f.call(lx::nr::listen, server, 4) == err(Errno::inval));  // not bound
    REQUIRE(f.call(lx::nr::bind, server, path.at, path.length) == 0);
    CHECK(f.call(lx::nr::bind, server, path.at, path.length) == err(Errno::inval));  // bound already
    const int other = static_cast<int>(make_socket(f, AF_UNIX, SOCK_STREAM));
    CHECK(f.call(lx::nr::bind, other, path.at, path.length) == err(Errno::addrinuse));
    const auto st = f.mem.allocate(sizeof(lx::abi::stat));
    REQUIRE(f.call(lx::nr::stat, f.mem.put_string("/srv.sock"), st) == 0);
    CHECK((f.mem.get<lx::abi::stat>(st).st_mode & S_IFMT) == S_IFSOCK);
    REQUIRE(f.call(lx::nr::listen, server, 4) == 0);
    int value = 0;
    CHECK(get_int_option(f, server, SOL_SOCKET, SO_ACCEPTCONN, value) == 0);
    CHECK(value == 1);

    // non-blocking accept with nobody waiting
    CHECK(f.call(lx::nr::accept4, server, 0, 0, 0x1) == err(Errno::inval));
    CHECK(f.call(lx::nr::fcntl, server, lx::abi::f_setfl, O_NONBLOCK) == 0);
    CHECK(f.call(lx::nr::accept, server, 0, 0) == err(Errno::again));

    const int client = static_cast<int>(make_socket(f, AF_UNIX, SOCK_STREAM));
    REQUIRE(f.call(lx::nr::connect, client, path.at, path.length) == 0);  // completes into the backlog
    CHECK(f.call(lx::nr::connect, client, path.at, path.length) == err(Errno::isconn));
    CHECK(f.call(lx::nr::accept, client, 0, 0) == err(Errno::inval));  // not listening
    const auto peer = f.mem.allocate(sizeof(struct ::sockaddr_un)), peer_length = f.mem.allocate(4);
    f.mem.put<std::int32_t>(peer_length, sizeof(struct ::sockaddr_un));
    const int accepted = static_cast<int>(f.call(lx::nr::accept4, server, peer, peer_length, SOCK_CLOEXEC));
    REQUIRE(accepted >= 0);
    CHECK(f.mem.get<std::int32_t>(peer_length) == 2);  // the client is unnamed
    CHECK(f.call(lx::nr::fcntl, accepted, lx::abi::f_getfd) == FD_CLOEXEC);
    CHECK(send_text(f, client, "ping") == 4);
    CHECK(receive_text(f, accepted) == "ping");

    // getsockname / getpeername with truncation: the full length comes back
    const auto name = f.mem.allocate(sizeof(struct ::sockaddr_un)), length = f.mem.allocate(4);
    f.mem.put<std::int32_t>(length, 5);
    REQUIRE(f.call(lx::nr::getpeername, client, name, length) == 0);
    CHECK(f.mem.get<std::int32_t>(length) == path.length);
    const auto got = f.mem.bytes(name, 6);
    CHECK(std::to_integer<char>(got[2]) == '/');
    CHECK(std::to_integer<char>(got[4]) == 'r');
    CHECK(std::to_integer<char>(got[5]) == 0);  // not written beyond the 5 bytes asked for
    f.mem.put<std::int32_t>(length, 128);
    REQUIRE(f.call(lx::nr::getsockname, accepted, name, length) == 0);
    CHECK(f.mem.get<std::int32_t>(length) == path.length);
    f.mem.put<std::int32_t>(length, -1);
    CHECK(f.call(lx::nr::getsockname, accepted, name, length) == err(Errno::inval));
    CHECK(f.call(lx::nr::getsockname, accepted, name, f.mem.hole()) == err(Errno::fault));
    CHECK(f.call(lx::nr::getpeername, server, name, length) == err(Errno::notconn));

    // connecting to a missing path, a regular file, a closed socket
    const auto missing = unix_address(f, "/missing.sock");
    CHECK(f.call(lx::nr::connect, other, missing.at, missing.length) == err(Errno::noent));
    const int file = static_cast<int>(f.call(lx::nr::open, f.mem.put_string("/plain"), O_CREAT | O_WRONLY, 0644));
    REQUIRE(file >= 0);
    const auto plain = unix_address(f, "/plain");
    CHECK(f.call(lx::nr::connect, other, plain.at, plain.length) == err(Errno::connrefused));
    const auto dgram = unix_address(f, "/dgram.sock");
    const int d = static_cast<int>(make_socket(f, AF_UNIX, SOCK_DGRAM));
    REQUIRE(f.call(lx::nr::bind, d, dgram.at, dgram.length) == 0);
    CHECK(f.call(lx::nr::connect, other, dgram.at, dgram.length) == err(Errno::prototype));
    CHECK(f.call(lx::nr::close, server) == 0);
    const int late = static_cast<int>(make_socket(f, AF_UNIX, SOCK_STREAM));
    CHECK(f.call(lx::nr::connect, late, path.at, path.length) == err(Errno::connrefused));

    // malformed addresses
    CHECK(f.call(lx::nr::bind, late, path.at, -1) == err(Errno::inval));
    CHECK(f.call(lx::nr::bind, late, path.at, 1) == err(Errno::inval));
    CHECK(f.call(lx::nr::bind, late, path.at, 111) == err(Errno::inval));
    CHECK(f.call(lx::nr::bind, late, f.mem.hole(), 10) == err(Errno::fault));
    const auto wrong = inet_address(f, loopback, 80);
    CHECK(f.call(lx::nr::bind, late, wrong.at, wrong.length) == err(Errno::inval));
}

TEST_CASE("socket: abstract names, autobind and datagrams with addresses", "[shim][socket]") {
    ShimFixture<> f;
    const int a = static_cast<int>(make_socket(f, AF_UNIX, SOCK_DGRAM));
    const int b = static_cast<int>(make_socket(f, AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK));
    const auto name = unix_address(f, "litebox-test", true);
    REQUIRE(f.call(lx::nr::bind, b, name.at, name.length) == 0);
    const int c = static_cast<int>(make_socket(f, AF_UNIX, SOCK_DGRAM));
    CHECK(f.call(lx::nr::bind, c, name.at, name.length) == err(Errno::addrinuse));
    // autobind: a bare family gives a five-hex-digit abstract name
    const auto family_only = unix_address(f, "", false);
    REQUIRE(f.call(lx::nr::bind, a, family_only.at, 2) == 0);
    const auto out = f.mem.allocate(sizeof(struct ::sockaddr_un)), length = f.mem.allocate(4);
    f.mem.put<std::int32_t>(length, sizeof(struct ::sockaddr_un));
    REQUIRE(f.call(lx::nr::getsockname, a, out, length) == 0);
    CHECK(f.mem.get<std::int32_t>(length) == 2 + 1 + 5);

    CHECK(f.call(lx::nr::sendto, a, f.mem.put_string("to b"), 4, 0, name.at, name.length) == 4);
    const auto buffer = f.mem.allocate(64);
    f.mem.put<std::int32_t>(length, sizeof(struct ::sockaddr_un));
    CHECK(f.call(lx::nr::recvfrom, b, buffer, 64, 0, out, length) == 4);
    CHECK(f.mem.get<std::int32_t>(length) == 8);  // the sender's autobind name
    // MSG_TRUNC returns the real length of a datagram cut short
    CHECK(f.call(lx::nr::sendto, a, f.mem.put_string("0123456789"), 10, 0, name.at, name.length) == 10);
    CHECK(f.call(lx::nr::recvfrom, b, buffer, 4, MSG_TRUNC, 0, 0) == 10);
    // from an unnamed sender, recvfrom reports no address at all
    CHECK(f.call(lx::nr::sendto, c, f.mem.put_string("anon"), 4, 0, name.at, name.length) == 4);
    f.mem.put<std::int32_t>(length, sizeof(struct ::sockaddr_un));
    CHECK(f.call(lx::nr::recvfrom, b, buffer, 64, 0, out, length) == 4);
    CHECK(f.mem.get<std::int32_t>(length) == 0);
    CHECK(receive_text(f, b) == "errno " + std::to_string(EAGAIN));

    const auto nobody = unix_address(f, "nobody", true);
    CHECK(f.call(lx::nr::sendto, a, f.mem.put_string("x"), 1, 0, nobody.at, nobody.length) == err(Errno::connrefused));
    CHECK(send_text(f, c, "x") == err(Errno::notconn));
    REQUIRE(f.call(lx::nr::connect, c, name.at, name.length) == 0);
    CHECK(send_text(f, c, "y") == 1);
    CHECK(receive_text(f, b) == "y");
    CHECK(f.call(lx::nr::listen, c, 1) == err(Errno::opnotsupp));
    CHECK(f.call(lx::nr::accept, c, 0, 0) == err(Errno::opnotsupp));
    const auto unspec = f.mem.allocate(16);
    CHECK(f.call(lx::nr::connect, c, unspec, 16) == 0);  // AF_UNSPEC dissolves the association
    CHECK(send_text(f, c, "z") == err(Errno::notconn));
}

TEST_CASE("socket: SCM_RIGHTS moves a pipe end; MSG_CTRUNC and MSG_CMSG_CLOEXEC", "[shim][socket]") {
    ShimFixture<> f;
    const auto pair2 = make_pair(f, SOCK_STREAM);
    const int a = pair2.first, b = pair2.second;
    const auto pipe_fds = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::pipe, pipe_fds) == 0);
    const int r = f.mem.get<std::int32_t>(pipe_fds), w = f.mem.get<std::int32_t>(pipe_fds + 4);

    auto send_fd = [&](int fd) {
        auto m = make_message(f, "F", 0, CMSG_SPACE(sizeof(int)));
        struct ::cmsghdr h{};
        h.cmsg_len = CMSG_LEN(sizeof(int));
        h.cmsg_level = SOL_SOCKET;
        h.cmsg_type = SCM_RIGHTS;
        f.mem.put(m.control, h);
        f.mem.put<std::int32_t>(m.control + sizeof h, fd);
        return f.call(lx::nr::sendmsg, a, m.header, 0);
    };
    REQUIRE(send_fd(w) == 1);
    CHECK(f.call(lx::nr::close, w) == 0);  // in flight: the pipe end stays alive

    auto m = make_message(f, "", 16, CMSG_SPACE(sizeof(int)));
    REQUIRE(f.call(lx::nr::recvmsg, b, m.header, MSG_CMSG_CLOEXEC) == 1);
    const auto h = f.mem.get<lx::abi::msghdr>(m.header);
    CHECK(h.msg_flags == 0);
    CHECK(h.msg_controllen == CMSG_SPACE(sizeof(int)));
    const auto c = f.mem.get<lx::abi::cmsghdr>(m.control);
    CHECK(c.cmsg_len == CMSG_LEN(sizeof(int)));
    CHECK(c.cmsg_level == SOL_SOCKET);
    CHECK(c.cmsg_type == SCM_RIGHTS);
    const int received = f.mem.get<std::int32_t>(m.control + sizeof c);
    CHECK(f.call(lx::nr::fcntl, received, lx::abi::f_getfd) == FD_CLOEXEC);
    CHECK(f.call(lx::nr::write, received, f.mem.put_string("via fd"), 6) == 6);
    const auto buf = f.mem.allocate(16);
    CHECK(f.call(lx::nr::read, r, buf, 16) == 6);

    // a control buffer too short for the descriptor: MSG_CTRUNC and nothing installed
    REQUIRE(send_fd(r) == 1);
    const auto count = f.init->files().count();
    auto small = make_message(f, "", 16, sizeof(struct ::cmsghdr));
    REQUIRE(f.call(lx::nr::recvmsg, b, small.header, 0) == 1);
    CHECK((f.mem.get<lx::abi::msghdr>(small.header).msg_flags & MSG_CTRUNC) != 0);
    CHECK(f.mem.get<lx::abi::msghdr>(small.header).msg_controllen == 0);
    CHECK(f.init->files().count() == count);

    // a bad descriptor in the message, a malformed header, and rights over TCP
    CHECK(send_fd(999) == err(Errno::badf));
    auto bad = make_message(f, "F", 0, 16);
    f.mem.put(bad.control, lx::abi::cmsghdr{64, SOL_SOCKET, SCM_RIGHTS});
    CHECK(f.call(lx::nr::sendmsg, a, bad.header, 0) == err(Errno::inval));
    CHECK(f.call(lx::nr::sendmsg, a, f.mem.hole(), 0) == err(Errno::fault));
    CHECK(f.call(lx::nr::recvmsg, b, f.mem.hole(), 0) == err(Errno::fault));
}

TEST_CASE("socket: SO_PEERCRED and SCM_CREDENTIALS", "[shim][socket]") {
    ShimFixture<> f;
    const auto pair3 = make_pair(f, SOCK_STREAM);
    const int a = pair3.first, b = pair3.second;
    const auto cred = f.mem.allocate(sizeof(struct ::ucred)), length = f.mem.allocate(4);
    f.mem.put<std::int32_t>(length, sizeof(struct ::ucred));
    REQUIRE(f.call(lx::nr::getsockopt, a, SOL_SOCKET, SO_PEERCRED, cred, length) == 0);
    CHECK(f.mem.get<std::int32_t>(length) == static_cast<std::int32_t>(sizeof(struct ::ucred)));
    const auto c = f.mem.get<lx::abi::ucred>(cred);
    CHECK(c.pid == 1);
    CHECK(c.uid == 1000);
    CHECK(c.gid == 1000);

    const auto on = f.mem.allocate(4);
    f.mem.put<std::int32_t>(on, 1);
    REQUIRE(f.call(lx::nr::setsockopt, b, SOL_SOCKET, SO_PASSCRED, on, 4) == 0);
    CHECK(f.call(lx::nr::setsockopt, b, SOL_SOCKET, SO_PASSCRED, on, 2) == err(Errno::inval));
    CHECK(f.call(lx::nr::setsockopt, b, SOL_SOCKET, SO_PASSCRED, on, -1) == err(Errno::inval));
    CHECK(f.call(lx::nr::setsockopt, b, IPPROTO_TCP, TCP_NODELAY, on, 4) == err(Errno::opnotsupp));
    CHECK(send_text(f, a, "c") == 1);
    auto m = make_message(f, "", 16, 64);
    REQUIRE(f.call(lx::nr::recvmsg, b, m.header, 0) == 1);
    const auto h = f.mem.get<lx::abi::cmsghdr>(m.control);
    CHECK(h.cmsg_type == SCM_CREDENTIALS);
    CHECK(f.mem.get<lx::abi::ucred>(m.control + sizeof h).pid == 1);

    // SCM_CREDENTIALS naming another process is EPERM for an unprivileged sender
    auto forged = make_message(f, "F", 0, CMSG_SPACE(sizeof(struct ::ucred)));
    f.mem.put(forged.control, lx::abi::cmsghdr{CMSG_LEN(sizeof(struct ::ucred)), SOL_SOCKET, SCM_CREDENTIALS});
    f.mem.put(forged.control + sizeof(lx::abi::cmsghdr), lx::abi::ucred{77, 1000, 1000});
    CHECK(f.call(lx::nr::sendmsg, a, forged.header, 0) == err(Errno::perm));
}

TEST_CASE("socket: a blocked accept waits for a client and is interrupted by a signal", "[shim][socket]") {
    ShimFixture<> f;
    const int server = static_cast<int>(make_socket(f, AF_UNIX, SOCK_STREAM));
    const auto name = unix_address(f, "acceptor", true);
    REQUIRE(f.call(lx::nr::bind, server, name.at, name.length) == 0);
    REQUIRE(f.call(lx::nr::listen, server, 1) == 0);
    auto child = f.fork(*f.init);
    std::int64_t got = 0;
    std::thread acceptor([&] { got = f.call_on(*child, lx::nr::accept, server, 0, 0); });
    std::this_thread::sleep_for(20ms);
    const int client = static_cast<int>(make_socket(f, AF_UNIX, SOCK_STREAM));
    CHECK(f.call(lx::nr::connect, client, name.at, name.length) == 0);
    acceptor.join();
    CHECK(got >= 0);

    std::thread interrupted([&] { got = f.call_on(*child, lx::nr::accept, server, 0, 0); });
    std::this_thread::sleep_for(20ms);
    CHECK(f.call(lx::nr::kill, 2, lx::abi::sigusr1) == 0);
    interrupted.join();
    CHECK(got == err(Errno::intr));

    // a blocked recv is interrupted the same way
    const auto pair4 = make_pair(f, SOCK_STREAM);
    const int a = pair4.first, b = pair4.second;
    auto second = f.fork(*f.init);
    const auto buffer = f.mem.allocate(16);
    std::thread reader([&, sock = b] { got = f.call_on(*second, lx::nr::recvfrom, sock, buffer, 16, 0, 0, 0); });
    std::this_thread::sleep_for(20ms);
    CHECK(f.call(lx::nr::kill, 3, lx::abi::sigusr1) == 0);
    reader.join();
    CHECK(got == err(Errno::intr));
    (void)a;
}

TEST_CASE("socket: loopback TCP connect, accept, send, recv through the shim", "[shim][socket]") {
    ShimFixture<> f;
    const int server = static_cast<int>(make_socket(f, AF_INET, SOCK_STREAM));
    REQUIRE(server >= 0);
    const auto on = f.mem.allocate(4);
    f.mem.put<std::int32_t>(on, 1);
    CHECK(f.call(lx::nr::setsockopt, server, SOL_SOCKET, SO_REUSEADDR, on, 4) == 0);
    int value = 0;
    CHECK(get_int_option(f, server, SOL_SOCKET, SO_REUSEADDR, value) == 0);
    CHECK(value == 1);
    const auto any = inet_address(f, 0, 0);
    REQUIRE(f.call(lx::nr::bind, server, any.at, any.length) == 0);  // port 0: an ephemeral port
    const auto name = f.mem.allocate(16), length = f.mem.allocate(4);
    f.mem.put<std::int32_t>(length, 16);
    REQUIRE(f.call(lx::nr::getsockname, server, name, length) == 0);
    CHECK(f.mem.get<std::int32_t>(length) == 16);
    const std::uint16_t port = ntohs(f.mem.get<struct ::sockaddr_in>(name).sin_port);
    CHECK(port != 0);
    REQUIRE(f.call(lx::nr::listen, server, 8) == 0);

    const int client = static_cast<int>(make_socket(f, AF_INET, SOCK_STREAM | SOCK_NONBLOCK));
    const auto target = inet_address(f, loopback, port);
    const auto connected = f.call(lx::nr::connect, client, target.at, target.length);
    CHECK((connected == 0 || connected == err(Errno::inprogress)));
    CHECK(get_int_option(f, client, SOL_SOCKET, SO_ERROR, value) == 0);
    CHECK(value == 0);
    CHECK(f.call(lx::nr::setsockopt, client, IPPROTO_TCP, TCP_NODELAY, on, 4) == 0);
    CHECK(get_int_option(f, client, IPPROTO_TCP, TCP_NODELAY, value) == 0);
    CHECK(value == 1);

    const auto peer = f.mem.allocate(16), peer_length = f.mem.allocate(4);
    f.mem.put<std::int32_t>(peer_length, 16);
    const int accepted = static_cast<int>(f.call(lx::nr::accept, server, peer, peer_length));
    REQUIRE(accepted >= 0);
    CHECK(ntohl(f.mem.get<struct ::sockaddr_in>(peer).sin_addr.s_addr) == loopback);

    CHECK(send_text(f, client, "over tcp") == 8);
    CHECK(receive_text(f, accepted) == "over tcp");
    CHECK(f.call(lx::nr::write, accepted, f.mem.put_string("reply"), 5) == 5);
    CHECK(receive_text(f, client) == "reply");
    const auto st = f.mem.allocate(sizeof(lx::abi::stat));
    REQUIRE(f.call(lx::nr::fstat, accepted, st) == 0);
    CHECK((f.mem.get<lx::abi::stat>(st).st_mode & S_IFMT) == S_IFSOCK);
    f.mem.put<std::int32_t>(peer_length, 16);
    REQUIRE(f.call(lx::nr::getpeername, client, peer, peer_length) == 0);
    CHECK(ntohs(f.mem.get<struct ::sockaddr_in>(peer).sin_port) == port);

    CHECK(f.call(lx::nr::shutdown, client, SHUT_WR) == 0);
    CHECK(receive_text(f, accepted) == "");
    CHECK(f.call(lx::nr::close, accepted) == 0);

    // refused: nobody listens on the port
    const int lonely = static_cast<int>(make_socket(f, AF_INET, SOCK_STREAM));
    const auto closed_port = inet_address(f, loopback, 9);
    CHECK(f.call(lx::nr::connect, lonely, closed_port.at, closed_port.length) == err(Errno::connrefused));
}

TEST_CASE("socket: loopback UDP sendto and recvfrom", "[shim][socket]") {
    ShimFixture<> f;
    const int a = static_cast<int>(make_socket(f, AF_INET, SOCK_DGRAM));
    const int b = static_cast<int>(make_socket(f, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK));
    const auto at_b = inet_address(f, loopback, 5353);
    REQUIRE(f.call(lx::nr::bind, b, at_b.at, at_b.length) == 0);
    CHECK(f.call(lx::nr::sendto, a, f.mem.put_string("datagram"), 8, 0, at_b.at, at_b.length) == 8);
    const auto buffer = f.mem.allocate(64), from = f.mem.allocate(16), length = f.mem.allocate(4);
    f.mem.put<std::int32_t>(length, 16);
    CHECK(f.call(lx::nr::recvfrom, b, buffer, 4, 0, from, length) == 4);  // truncated to the buffer
    CHECK(f.mem.get<std::int32_t>(length) == 16);
    const auto sender = f.mem.get<struct ::sockaddr_in>(from);
    CHECK(sender.sin_family == AF_INET);
    CHECK(ntohl(sender.sin_addr.s_addr) == loopback);
    CHECK(receive_text(f, b) == "errno " + std::to_string(EAGAIN));
    // recvmsg reports MSG_TRUNC
    CHECK(f.call(lx::nr::sendto, a, f.mem.put_string("0123456789"), 10, 0, at_b.at, at_b.length) == 10);
    auto m = make_message(f, "", 4, 0);
    CHECK(f.call(lx::nr::recvmsg, b, m.header, 0) == 4);
    CHECK((f.mem.get<lx::abi::msghdr>(m.header).msg_flags & MSG_TRUNC) != 0);
    // sendmsg with a destination and two iovecs
    const auto iov = f.mem.allocate(2 * sizeof(lx::abi::iovec));
    f.mem.put(iov, lx::abi::iovec{f.mem.put_string("ab"), 2});
    f.mem.put(iov + sizeof(lx::abi::iovec), lx::abi::iovec{f.mem.put_string("cd"), 2});
    lx::abi::msghdr h{};
    h.msg_name = at_b.at;
    h.msg_namelen = static_cast<std::uint32_t>(at_b.length);
    h.msg_iov = iov;
    h.msg_iovlen = 2;
    const auto header = f.mem.allocate(sizeof h);
    f.mem.put(header, h);
    CHECK(f.call(lx::nr::sendmsg, a, header, 0) == 4);
    CHECK(receive_text(f, b) == "abcd");
    // connected UDP, then a destination of another family
    REQUIRE(f.call(lx::nr::connect, a, at_b.at, at_b.length) == 0);
    CHECK(send_text(f, a, "conn") == 4);
    CHECK(receive_text(f, b) == "conn");
    const auto six = f.mem.allocate(28);
    f.mem.put<std::uint16_t>(six, AF_INET6);
    CHECK(f.call(lx::nr::sendto, a, f.mem.put_string("x"), 1, 0, six, 28) == err(Errno::afnosupport));
}

TEST_CASE("socket: families, types, flags, ENOTSOCK and bad pointers", "[shim][socket]") {
    ShimFixture<> f;
    CHECK(make_socket(f, AF_INET6, SOCK_STREAM) == err(Errno::afnosupport));
    CHECK(make_socket(f, AF_NETLINK, SOCK_RAW, 4 /* NETLINK_SOCK_DIAG */) == err(Errno::protonosupport));  // NETLINK_ROUTE: netlink_test.cpp
    CHECK(make_socket(f, 1000, SOCK_STREAM) == err(Errno::afnosupport));
    CHECK(make_socket(f, AF_INET, SOCK_RAW, IPPROTO_ICMP) == err(Errno::perm));
    CHECK(make_socket(f, AF_UNIX, SOCK_STREAM | 0x100000) == err(Errno::inval));
    CHECK(make_socket(f, AF_UNIX, 12) == err(Errno::inval));
    CHECK(make_socket(f, AF_INET, SOCK_STREAM, IPPROTO_UDP) == err(Errno::protonosupport));
    CHECK(make_socket(f, AF_INET, SOCK_SEQPACKET) == err(Errno::socktnosupport));

    const auto fds = f.mem.allocate(8);
    REQUIRE(f.call(lx::nr::pipe, fds) == 0);
    const int p = f.mem.get<std::int32_t>(fds);
    CHECK(f.call(lx::nr::listen, p, 1) == err(Errno::notsock));
    CHECK(send_text(f, p, "x") == err(Errno::notsock));
    CHECK(f.call(lx::nr::shutdown, 99, SHUT_RD) == err(Errno::badf));

    const int s = static_cast<int>(make_socket(f, AF_INET, SOCK_DGRAM));
    CHECK(f.call(lx::nr::sendto, s, f.mem.hole(), 4, 0, 0, 0) == err(Errno::fault));
    const auto target = inet_address(f, loopback, 7);
    CHECK(f.call(lx::nr::sendto, s, f.mem.put_string("x"), 1, 0, f.mem.hole(), target.length) == err(Errno::fault));
    CHECK(f.call(lx::nr::sendto, s, f.mem.put_string("x"), 1, 0, target.at, 8) == err(Errno::inval));
    CHECK(f.call(lx::nr::recvfrom, s, f.mem.hole(), 4, MSG_DONTWAIT, 0, 0) == err(Errno::again));  // as Linux: nothing to copy
    const auto pair5 = make_pair(f, SOCK_DGRAM);
    const int a = pair5.first, b = pair5.second;
    CHECK(send_text(f, a, "lost") == 4);
    CHECK(f.call(lx::nr::recvfrom, b, f.mem.hole(), 4, 0, 0, 0) == err(Errno::fault));
    CHECK(f.call(lx::nr::recvfrom, a, f.mem.allocate(4), 4, MSG_DONTWAIT, f.mem.allocate(8), f.mem.hole()) == err(Errno::again));
    const auto length = f.mem.allocate(4);
    f.mem.put<std::int32_t>(length, 4);
    CHECK(f.call(lx::nr::getsockopt, s, SOL_SOCKET, SO_TYPE, f.mem.hole(), length) == err(Errno::fault));
    CHECK(f.call(lx::nr::getsockopt, s, SOL_SOCKET, SO_TYPE, f.mem.allocate(4), f.mem.hole()) == err(Errno::fault));
    CHECK(f.call(lx::nr::getsockopt, s, SOL_SOCKET, 999, f.mem.allocate(4), length) == err(Errno::noprotoopt));
}

TEST_CASE("socket: the host agrees on address lengths and errnos", "[shim][socket][host]") {
    // The same sequence on the host's kernel and through the shim.
    struct Outcome {
        int bind_short, connect_missing, name_length, truncated_length, peer_unconnected;
    };
    Outcome host{};
    {
        const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
        REQUIRE(s >= 0);
        struct ::sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        host.bind_short = ::bind(s, reinterpret_cast<struct ::sockaddr*>(&sun), 1) == 0 ? 0 : errno;
        std::strcpy(sun.sun_path, "/nonexistent-litebox-dir/x.sock");
        host.connect_missing = ::connect(s, reinterpret_cast<struct ::sockaddr*>(&sun), sizeof sun) == 0 ? 0 : errno;
        REQUIRE(::bind(s, reinterpret_cast<struct ::sockaddr*>(&sun), 2) == 0);  // autobind
        socklen_t length = sizeof sun;
        REQUIRE(::getsockname(s, reinterpret_cast<struct ::sockaddr*>(&sun), &length) == 0);
        host.name_length = static_cast<int>(length);
        length = 3;
        REQUIRE(::getsockname(s, reinterpret_cast<struct ::sockaddr*>(&sun), &length) == 0);
        host.truncated_length = static_cast<int>(length);
        host.peer_unconnected = ::getpeername(s, reinterpret_cast<struct ::sockaddr*>(&sun), &length) == 0 ? 0 : errno;
        ::close(s);
    }
    ShimFixture<> f;
    Outcome shim{};
    const int s = static_cast<int>(make_socket(f, AF_UNIX, SOCK_STREAM));
    const auto missing = unix_address(f, "/nonexistent-litebox-dir/x.sock");
    shim.bind_short = static_cast<int>(-f.call(lx::nr::bind, s, missing.at, 1));
    shim.connect_missing = static_cast<int>(-f.call(lx::nr::connect, s, missing.at, sizeof(struct ::sockaddr_un)));
    REQUIRE(f.call(lx::nr::bind, s, missing.at, 2) == 0);
    const auto out = f.mem.allocate(sizeof(struct ::sockaddr_un)), length = f.mem.allocate(4);
    f.mem.put<std::int32_t>(length, sizeof(struct ::sockaddr_un));
    REQUIRE(f.call(lx::nr::getsockname, s, out, length) == 0);
    shim.name_length = f.mem.get<std::int32_t>(length);
    f.mem.put<std::int32_t>(length, 3);
    REQUIRE(f.call(lx::nr::getsockname, s, out, length) == 0);
    shim.truncated_length = f.mem.get<std::int32_t>(length);
    shim.peer_unconnected = static_cast<int>(-f.call(lx::nr::getpeername, s, out, length));
    CHECK(shim.bind_short == host.bind_short);
    CHECK(shim.connect_missing == host.connect_missing);
    CHECK(shim.name_length == host.name_length);
    CHECK(shim.truncated_length == host.truncated_length);
    CHECK(shim.peer_unconnected == host.peer_unconnected);
}

TEST_CASE("socket: epoll sees a pending connection; blocking TCP accept and connect in two threads", "[shim][socket]") {
    ShimFixture<> f;
    const int server = static_cast<int>(make_socket(f, AF_INET, SOCK_STREAM));
    const auto at = inet_address(f, loopback, 7000);
    REQUIRE(f.call(lx::nr::bind, server, at.at, at.length) == 0);
    REQUIRE(f.call(lx::nr::listen, server, 4) == 0);
    const auto ep = f.call(lx::nr::epoll_create1, 0);
    REQUIRE(ep >= 0);
    const auto ev = f.mem.allocate(sizeof(lx::abi::epoll_event) * 4);
    f.mem.put(ev, lx::abi::epoll_event{EPOLLIN, 42});
    REQUIRE(f.call(lx::nr::epoll_ctl, ep, EPOLL_CTL_ADD, server, ev) == 0);
    CHECK(f.call(lx::nr::epoll_wait, ep, ev, 4, 0) == 0);

    auto child = f.fork(*f.init);
    std::int64_t accepted = -1;
    std::thread acceptor([&] {
        const auto peer = f.mem.allocate(16), length = f.mem.allocate(4);
        f.mem.put<std::int32_t>(length, 16);
        accepted = f.call_on(*child, lx::nr::accept, server, peer, length);
    });
    std::this_thread::sleep_for(20ms);
    const int client = static_cast<int>(make_socket(f, AF_INET, SOCK_STREAM));
    CHECK(f.call(lx::nr::connect, client, at.at, at.length) == 0);  // blocking: returns connected
    acceptor.join();
    REQUIRE(accepted >= 0);
    CHECK(send_text(f, client, "both ways") == 9);
    const auto buffer = f.mem.allocate(16);
    CHECK(f.call_on(*child, lx::nr::recvfrom, accepted, buffer, 16, 0, 0, 0) == 9);  // the accepted fd is the child's

    // a second client waits in the backlog: epoll reports the listener readable
    const int second = static_cast<int>(make_socket(f, AF_INET, SOCK_STREAM));
    CHECK(f.call(lx::nr::connect, second, at.at, at.length) == 0);
    CHECK(f.call(lx::nr::epoll_wait, ep, ev, 4, 0) == 1);
    const lx::abi::epoll_event first = f.mem.get<lx::abi::epoll_event>(ev);
    const std::uint64_t data = first.data;
    CHECK(data == 42);
}

namespace {
/// An mmsghdr array in guest memory: one entry per text (to send), or `count` empty entries of
/// `capacity` bytes each (to receive).
std::uintptr_t make_mmsg(ShimFixture<>& f, const std::vector<std::string>& texts, std::size_t count = 0, std::size_t capacity = 0) {
    const std::size_t n = texts.empty() ? count : texts.size();
    const auto vector = f.mem.allocate(n * sizeof(lx::abi::mmsghdr));
    for (std::size_t i = 0; i < n; ++i) {
        const auto m = make_message(f, texts.empty() ? std::string_view{} : std::string_view(texts[i]), capacity, 0);
        lx::abi::mmsghdr entry{};
        entry.msg_hdr = f.mem.get<lx::abi::msghdr>(m.header);
        entry.msg_len = 0xdead;
        f.mem.put(vector + i * sizeof(lx::abi::mmsghdr), entry);
    }
    return vector;
}
std::uint32_t mmsg_len(ShimFixture<>& f, std::uintptr_t vector, std::size_t i) {
    return f.mem.get<lx::abi::mmsghdr>(vector + i * sizeof(lx::abi::mmsghdr)).msg_len;
}
}  // namespace

TEST_CASE("socket: sendmmsg and recvmmsg", "[shim][socket]") {
    ShimFixture<> f;
    SECTION("unix datagrams: every entry, msg_len, then EAGAIN") {
        const auto [a, b] = make_pair(f, SOCK_DGRAM);
        const auto out = make_mmsg(f, {"one", "three", "fifth"});
        CHECK(f.call(lx::nr::sendmmsg, a, out, 3, 0) == 3);
        CHECK(mmsg_len(f, out, 0) == 3);
        CHECK(mmsg_len(f, out, 1) == 5);
        CHECK(mmsg_len(f, out, 2) == 5);
        const auto in = make_mmsg(f, {}, 5, 16);
        // Blocking socket, room for 5: returns the 3 queued datagrams instead of waiting for more.
        CHECK(f.call(lx::nr::recvmmsg, b, in, 5, 0, 0) == 3);
        CHECK(mmsg_len(f, in, 0) == 3);
        CHECK(mmsg_len(f, in, 1) == 5);
        CHECK(mmsg_len(f, in, 2) == 5);
        CHECK(mmsg_len(f, in, 3) == 0xdead);  // untouched
        const auto second = f.mem.get<lx::abi::mmsghdr>(in + sizeof(lx::abi::mmsghdr));
        const auto iov = f.mem.get<lx::abi::iovec>(second.msg_hdr.msg_iov);
        const auto bytes = f.mem.bytes(iov.iov_base, 5);
        CHECK(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()) == "three");
        CHECK(f.call(lx::nr::recvmmsg, b, in, 5, MSG_DONTWAIT, 0) == err(Errno::again));
        CHECK(f.call(lx::nr::sendmmsg, a, out, 0, 0) == 0);
    }
    SECTION("a bad entry: an error only when nothing was sent") {
        const auto [a, b] = make_pair(f, SOCK_DGRAM);
        const auto out = make_mmsg(f, {"ok", "bad"});
        auto broken = f.mem.get<lx::abi::mmsghdr>(out + sizeof(lx::abi::mmsghdr));
        broken.msg_hdr.msg_iov = 0x10;  // unmapped
        f.mem.put(out + sizeof(lx::abi::mmsghdr), broken);
        CHECK(f.call(lx::nr::sendmmsg, a, out, 2, 0) == 1);
        CHECK(f.call(lx::nr::sendmmsg, a, out + sizeof(lx::abi::mmsghdr), 1, 0) == err(Errno::fault));
        CHECK(f.call(lx::nr::sendmmsg, a, 0x10, 1, 0) == err(Errno::fault));
        CHECK(receive_text(f, b) == "ok");
        CHECK(receive_text(f, b, 64, MSG_DONTWAIT) == "errno " + std::to_string(EAGAIN));
    }
    SECTION("recvmmsg timeout: validated, the time left written back") {
        const auto [a, b] = make_pair(f, SOCK_DGRAM);
        const auto in = make_mmsg(f, {}, 2, 16);
        const auto timeout = f.mem.allocate(sizeof(lx::abi::timespec));
        f.mem.put(timeout, lx::abi::timespec{0, 1'000'000'000});
        CHECK(f.call(lx::nr::recvmmsg, b, in, 2, MSG_DONTWAIT, timeout) == err(Errno::inval));
        f.mem.put(timeout, lx::abi::timespec{5, 0});
        CHECK(send_text(f, a, "t") == 1);
        CHECK(f.call(lx::nr::recvmmsg, b, in, 2, MSG_WAITFORONE, timeout) == 1);
        const auto left = f.mem.get<lx::abi::timespec>(timeout);
        CHECK(left.tv_sec <= 5);
        CHECK((left.tv_sec > 0 || left.tv_nsec > 0));
    }
    SECTION("loopback UDP: sendmmsg to an address, recvmmsg reports each sender") {
        const int a = static_cast<int>(make_socket(f, AF_INET, SOCK_DGRAM));
        const int b = static_cast<int>(make_socket(f, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK));
        const auto at_b = inet_address(f, loopback, 5354);
        REQUIRE(f.call(lx::nr::bind, b, at_b.at, at_b.length) == 0);
        const auto out = make_mmsg(f, {"query-a", "query-aaaa"});
        for (std::size_t i = 0; i < 2; ++i) {
            auto entry = f.mem.get<lx::abi::mmsghdr>(out + i * sizeof(lx::abi::mmsghdr));
            entry.msg_hdr.msg_name = at_b.at;
            entry.msg_hdr.msg_namelen = static_cast<std::uint32_t>(at_b.length);
            f.mem.put(out + i * sizeof(lx::abi::mmsghdr), entry);
        }
        CHECK(f.call(lx::nr::sendmmsg, a, out, 2, 0) == 2);
        const auto in = make_mmsg(f, {}, 4, 32);
        const auto names = f.mem.allocate(4 * sizeof(struct ::sockaddr_in));
        for (std::size_t i = 0; i < 4; ++i) {
            auto entry = f.mem.get<lx::abi::mmsghdr>(in + i * sizeof(lx::abi::mmsghdr));
            entry.msg_hdr.msg_name = names + i * sizeof(struct ::sockaddr_in);
            entry.msg_hdr.msg_namelen = sizeof(struct ::sockaddr_in);
            f.mem.put(in + i * sizeof(lx::abi::mmsghdr), entry);
        }
        CHECK(f.call(lx::nr::recvmmsg, b, in, 4, 0, 0) == 2);
        CHECK(mmsg_len(f, in, 0) == 7);
        CHECK(mmsg_len(f, in, 1) == 10);
        for (std::size_t i = 0; i < 2; ++i) {
            const auto sender = f.mem.get<struct ::sockaddr_in>(names + i * sizeof(struct ::sockaddr_in));
            CHECK(sender.sin_family == AF_INET);
            CHECK(ntohl(sender.sin_addr.s_addr) == loopback);
            CHECK(f.mem.get<lx::abi::mmsghdr>(in + i * sizeof(lx::abi::mmsghdr)).msg_hdr.msg_namelen == sizeof(struct ::sockaddr_in));
        }
    }
}

TEST_CASE("socket: the host agrees on sendmmsg with a bad second entry", "[shim][socket][host]") {
    // Linux: the first message goes out and the call reports 1; the bad entry alone is EFAULT.
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM, 0, fds) == 0);
    char ok[] = "ok";
    struct ::iovec good{ok, 2};
    struct ::mmsghdr entries[2]{};
    entries[0].msg_hdr.msg_iov = &good;
    entries[0].msg_hdr.msg_iovlen = 1;
    entries[1].msg_hdr.msg_iov = reinterpret_cast<struct ::iovec*>(0x10);
    entries[1].msg_hdr.msg_iovlen = 1;
    CHECK(::sendmmsg(fds[0], entries, 2, 0) == 1);
    CHECK(entries[0].msg_len == 2);
    errno = 0;
    CHECK(::sendmmsg(fds[0], entries + 1, 1, 0) == -1);
    CHECK(errno == EFAULT);
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST_CASE("socket: FIONREAD reports queued bytes (stream) or the next datagram (datagram)", "[shim][socket]") {
    ShimFixture<> f;
    const auto count = f.mem.allocate(4);
    const auto readable = [&](int fd) {
        const auto r = f.call(lx::nr::ioctl, fd, FIONREAD, count);
        return r < 0 ? r : f.mem.get<std::int32_t>(count);
    };
    const auto [s1, s2] = make_pair(f, SOCK_STREAM);
    CHECK(readable(s2) == 0);
    CHECK(send_text(f, s1, "abc") == 3);
    CHECK(send_text(f, s1, "defg") == 4);
    CHECK(readable(s2) == 7);
    const auto [d1, d2] = make_pair(f, SOCK_DGRAM);
    CHECK(send_text(f, d1, "abc") == 3);
    CHECK(send_text(f, d1, "defg") == 4);
    CHECK(readable(d2) == 3);
    const int u = static_cast<int>(make_socket(f, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK));
    const auto at_u = inet_address(f, loopback, 5355);
    REQUIRE(f.call(lx::nr::bind, u, at_u.at, at_u.length) == 0);
    CHECK(readable(u) == 0);
    const int sender = static_cast<int>(make_socket(f, AF_INET, SOCK_DGRAM));
    CHECK(f.call(lx::nr::sendto, sender, f.mem.put_string("12345"), 5, 0, at_u.at, at_u.length) == 5);
    CHECK(f.call(lx::nr::sendto, sender, f.mem.put_string("12"), 2, 0, at_u.at, at_u.length) == 2);
    CHECK(readable(u) == 5);
    const int listener = static_cast<int>(make_socket(f, AF_INET, SOCK_STREAM));
    const auto at_l = inet_address(f, loopback, 5356);
    REQUIRE(f.call(lx::nr::bind, listener, at_l.at, at_l.length) == 0);
    REQUIRE(f.call(lx::nr::listen, listener, 4) == 0);
    CHECK(readable(listener) == err(Errno::inval));
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
