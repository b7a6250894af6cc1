#include <catch2/catch.hpp>
#include <litebox/event/epoll.hpp>
#include <litebox/fd/table.hpp>
#include <litebox/ipc/eventfd.hpp>
#include <litebox/ipc/ioctl.hpp>
#include <litebox/ipc/pipe.hpp>
#include <litebox/ipc/unix/socket.hpp>

#include <map>
#include <thread>

#include "ipc_support.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox;
using litebox::test::as_bytes;
using litebox::test::read_string;
using litebox::test::write_string;
namespace ev = litebox::fd::events;
using ipc::SocketType;
using ipc::UnixAddress;

namespace {
using TP = litebox::test::TestPlatform;
constexpr ipc::PeerCredentials alice{100, 1000, 1000};
constexpr ipc::PeerCredentials bob{200, 2000, 2000};

template <typename P>
using Sock = std::shared_ptr<ipc::UnixSocket<P>>;

template <typename P>
std::pair<Sock<P>, Sock<P>> pair_of(SocketType type, std::shared_ptr<ipc::UnixNamespace<P>> ns = ipc::UnixNamespace<P>::create()) {
    return ipc::UnixSocket<P>::create_pair(std::move(ns), type, 0, alice).value();
}

template <typename P>
Result<std::size_t> send_str(ipc::UnixSocket<P>& s, std::string_view text, std::uint32_t flags = 0, ipc::SendExtras<P> extras = {}) {
    return s.try_send(as_bytes(text), flags, extras);
}

template <typename P>
Result<std::string> recv_str(ipc::UnixSocket<P>& s, std::size_t max = 256, std::uint32_t flags = 0, ipc::Received<P>* info = nullptr) {
    std::string out(max, '\0');
    LITEBOX_TRY_ASSIGN(ipc::Received<P> r, s.try_receive(std::as_writable_bytes(std::span<char>(out.data(), out.size())), flags));
    out.resize(r.bytes);
    if (info) *info = std::move(r);
    return out;
}

template <typename P>
Sock<P> listener_at(const std::shared_ptr<ipc::UnixNamespace<P>>& ns, const std::string& name, int backlog = 8,
                    SocketType type = SocketType::stream) {
    auto l = ipc::UnixSocket<P>::create(ns, type, 0, bob).value();
    REQUIRE(l->bind(UnixAddress::abstract(name)).has_value());
    if (type != SocketType::datagram) REQUIRE(l->listen(backlog).has_value());
    return l;
}

template <typename P>
Sock<P> accepted(ipc::UnixSocket<P>& listener) {
    auto f = listener.try_accept(0).value();
    return std::static_pointer_cast<ipc::UnixSocket<P>>(f);
}
}  // namespace

TEST_CASE("unix: socket and socketpair argument checks", "[ipc][unix]") {
    auto ns = ipc::UnixNamespace<TP>::create();
    CHECK(ipc::make_unix_socket<TP>(ns, 1, 0, alice).has_value());
    CHECK(ipc::make_unix_socket<TP>(ns, 3, 0, alice).error() == Errno::socktnosupport);  // SOCK_RAW
    CHECK(ipc::make_unix_socket<TP>(ns, 1, 1, alice).error() == Errno::protonosupport);
    CHECK(ipc::make_unix_socket<TP>(ns, 1 | 0x10000, 0, alice).error() == Errno::inval);
    auto nb = ipc::make_unix_socket<TP>(ns, 2 | ipc::socket_flags::nonblock | ipc::socket_flags::close_on_exec, 0, alice).value();
    CHECK(nb->nonblocking());
    CHECK((nb->stat().value().mode & fd::mode::type_mask) == fd::mode::socket);
    auto pair = ipc::make_unix_socketpair<TP>(ns, 5, 0, alice).value();
    CHECK(ipc::unix_socket_of(*pair.first)->type() == SocketType::seqpacket);
    CHECK(ipc::unix_socket_of(*nb)->type() == SocketType::datagram);
}

TEST_CASE("unix: stream socketpair data, shutdown and close", "[ipc][unix]") {
    auto [a, b] = pair_of<TP>(SocketType::stream);
    CHECK(a->poll(ev::in | ev::out) == (ev::out | ev::wrnorm));
    REQUIRE(send_str(*a, "hello ").value() == 6);
    REQUIRE(send_str(*a, "world").value() == 5);
    CHECK(b->bytes_readable().value() == 11);
    CHECK(ipc::bytes_readable<TP>(*b).value() == 11);
    auto pipe = ipc::make_pipe<TP>(0).value();
    REQUIRE(write_string(*pipe.write, "abc").has_value());
    CHECK(ipc::bytes_readable(*pipe.read).value() == 3);
    CHECK(ipc::bytes_readable(*ipc::make_eventfd<TP>(0, 0).value()).error() == Errno::notty);
    CHECK(a->bytes_unsent() == 11);
    CHECK(recv_str(*b, 100, ipc::msg_flags::peek).value() == "hello world");
    CHECK(recv_str(*b, 3).value() == "hel");
    CHECK(recv_str(*b).value() == "lo world");
    CHECK(recv_str(*b).error() == Errno::again);
    REQUIRE(write_string(*b, "back").value() == 4);  // write(2) works too
    CHECK(read_string(*a).value() == "back");
    CHECK(a->peer_credentials() == alice);
    CHECK(a->peer_address().value() == UnixAddress::unnamed());
    CHECK(send_str(*a, "x", ipc::msg_flags::oob).error() == Errno::opnotsupp);

    SECTION("shutdown(SHUT_WR): the peer reads what is queued, then 0") {
        REQUIRE(send_str(*a, "last").has_value());
        REQUIRE(a->shutdown(ipc::ShutdownHow::write).has_value());
        CHECK(send_str(*a, "more").error() == Errno::pipe);
        CHECK((b->poll(ev::in) & ev::rdhup) != 0);
        CHECK(recv_str(*b).value() == "last");
        CHECK(recv_str(*b).value().empty());
        REQUIRE(send_str(*b, "reply").has_value());  // the other direction still works
        CHECK(recv_str(*a).value() == "reply");
    }
    SECTION("shutdown(SHUT_RD): the peer's sends fail with EPIPE") {
        REQUIRE(b->shutdown(ipc::ShutdownHow::read).has_value());
        CHECK(send_str(*a, "x").error() == Errno::pipe);
        CHECK(recv_str(*b).value().empty());
        CHECK(b->shutdown(static_cast<ipc::ShutdownHow>(7)).error() == Errno::inval);
    }
    SECTION("close: EOF and HUP for the peer, EPIPE for its sends") {
        a.reset();
        CHECK((b->poll(ev::in) & (ev::hup | ev::rdhup | ev::in)) == (ev::hup | ev::rdhup | ev::in));
        CHECK(recv_str(*b).value().empty());
        CHECK(send_str(*b, "x").error() == Errno::pipe);
    }
    SECTION("close with unread data: the peer gets ECONNRESET once") {
        REQUIRE(send_str(*b, "unread").has_value());
        a.reset();
        CHECK((b->poll(0) & ev::err) != 0);
        CHECK(recv_str(*b).error() == Errno::connreset);
        CHECK(recv_str(*b).value().empty());
    }
}

TEST_CASE("unix: datagram and seqpacket keep message boundaries", "[ipc][unix]") {
    for (SocketType type : {SocketType::datagram, SocketType::seqpacket}) {
        auto [a, b] = pair_of<TP>(type);
        REQUIRE(send_str(*a, "one").value() == 3);
        REQUIRE(send_str(*a, "two!").value() == 4);
        REQUIRE(send_str(*a, "").value() == 0);
        CHECK(b->bytes_readable().value() == (type == SocketType::datagram ? 3u : 7u));
        ipc::Received<TP> info;
        CHECK(recv_str(*b, 100, ipc::msg_flags::peek).value() == "one");
        CHECK(recv_str(*b, 2, 0, &info).value() == "on");  // truncated: the rest is dropped
        CHECK(info.flags == ipc::msg_flags::trunc);
        CHECK(info.message_length == 3);
        CHECK(recv_str(*b, 100, 0, &info).value() == "two!");
        CHECK(info.flags == 0);
        CHECK(recv_str(*b).value().empty());  // the empty message
        CHECK(recv_str(*b).error() == Errno::again);
    }
}

TEST_CASE("unix: SO_SNDBUF bounds queued bytes and a full stream is not writable", "[ipc][unix]") {
    auto [a, b] = pair_of<TP>(SocketType::stream);
    a->set_send_buffer(1);
    CHECK(a->send_buffer() == ipc::min_socket_buffer);
    a->set_send_buffer(8192);
    CHECK(a->send_buffer() == 16384);
    a->set_send_buffer(std::size_t{1} << 40);
    CHECK(a->send_buffer() == ipc::UnixLimits{}.max_buffer);
    a->set_send_buffer(8192);
    std::vector<std::byte> big(100000, std::byte{7});
    ipc::SendExtras<TP> none;
    const std::size_t first = a->try_send(big, 0, none).value();
    CHECK(first == 16384 - ipc::message_overhead);
    CHECK((a->poll(ev::out) & ev::out) == 0);
    CHECK(a->try_send(big, 0, none).error() == Errno::again);
    std::vector<std::byte> out(100000);
    CHECK(b->try_receive(out, 0).value().bytes == first);
    CHECK((a->poll(ev::out) & ev::out) != 0);

    auto [d1, d2] = pair_of<TP>(SocketType::datagram);
    d1->set_send_buffer(4096);
    CHECK(d1->try_send(std::span(big).first(8192 - 31), 0, none).error() == Errno::msgsize);
    CHECK(d1->try_send(std::span(big).first(8192 - 32), 0, none).value() == 8192 - 32);
}

TEST_CASE("unix: abstract names, listen, connect, accept", "[ipc][unix]") {
    auto ns = ipc::UnixNamespace<TP>::create();
    auto listener = listener_at(ns, "server");
    CHECK(listener->listening());
    CHECK(listener->local_address() == UnixAddress::abstract("server"));
    CHECK(listener->poll(ev::in | ev::out) == 0);

    auto client = ipc::UnixSocket<TP>::create(ns, SocketType::stream, 0, alice).value();
    CHECK(client->poll(ev::out) == (ev::out | ev::wrnorm | ev::hup));  // unconnected stream
    CHECK(send_str(*client, "x").error() == Errno::notconn);
    CHECK(recv_str(*client).error() == Errno::inval);
    CHECK(client->peer_address().error() == Errno::notconn);
    CHECK(client->peer_credentials() == ipc::no_peer_credentials);
    REQUIRE(client->try_connect(ns->lookup_abstract("server").value()).has_value());
    CHECK(client->try_connect(ns->lookup_abstract("server").value()).error() == Errno::isconn);
    REQUIRE(send_str(*client, "before accept").has_value());  // queued for the accepted socket
    CHECK((listener->poll(ev::in) & ev::in) != 0);

    auto server = accepted(*listener);
    CHECK(recv_str(*server).value() == "before accept");
    CHECK(server->local_address() == UnixAddress::abstract("server"));
    CHECK(server->peer_address().value() == UnixAddress::unnamed());
    CHECK(client->peer_address().value() == UnixAddress::abstract("server"));
    CHECK(server->peer_credentials() == alice);  // SO_PEERCRED: the connecting process
    CHECK(client->peer_credentials() == bob);    // ... and the listening one
    CHECK(listener->try_accept().error() == Errno::again);

    SECTION("name errors") {
        auto other = ipc::UnixSocket<TP>::create(ns, SocketType::stream, 0, alice).value();
        CHECK(other->bind(UnixAddress::abstract("server")).error() == Errno::addrinuse);
        CHECK(other->bind(UnixAddress::path("/tmp/x")).error() == Errno::inval);
        CHECK(other->bind(UnixAddress::abstract(std::string(108, 'n'))).error() == Errno::inval);
        CHECK(other->listen(1).error() == Errno::inval);  // not bound
        CHECK(ns->lookup_abstract("nobody").error() == Errno::connrefused);
        REQUIRE(other->bind(UnixAddress::abstract("second")).has_value());
        CHECK(other->bind(UnixAddress::abstract("third")).error() == Errno::inval);
        CHECK(other->try_connect(ns->lookup_abstract("second").value()).error() == Errno::connrefused);  // not listening
        auto dgram = ipc::UnixSocket<TP>::create(ns, SocketType::datagram, 0, alice).value();
        CHECK(dgram->try_connect(ns->lookup_abstract("server").value()).error() == Errno::prototype);
        CHECK(dgram->listen(1).error() == Errno::opnotsupp);
    }
    SECTION("a closed socket frees its name") {
        auto endpoint = ns->lookup_abstract("server").value();
        listener.reset();
        CHECK(ns->lookup_abstract("server").error() == Errno::connrefused);
        auto fresh = ipc::UnixSocket<TP>::create(ns, SocketType::stream, 0, alice).value();
        CHECK(fresh->try_connect(endpoint).error() == Errno::connrefused);  // a stale endpoint
        CHECK(fresh->bind(UnixAddress::abstract("server")).has_value());
    }
    SECTION("autobind") {
        auto a = ipc::UnixSocket<TP>::create(ns, SocketType::datagram, 0, alice).value();
        REQUIRE(a->bind(UnixAddress::unnamed()).has_value());
        const auto name = a->local_address();
        CHECK(name.kind == UnixAddress::Kind::abstract);
        CHECK(name.name.size() == 5);
        auto b = ipc::UnixSocket<TP>::create(ns, SocketType::datagram, 0, alice).value();
        REQUIRE(b->bind(UnixAddress::unnamed()).has_value());
        CHECK(b->local_address() != name);
    }
}

TEST_CASE("unix: the backlog bounds pending connections", "[ipc][unix]") {
    auto ns = ipc::UnixNamespace<TP>::create();
    auto listener = listener_at(ns, "busy", 1);
    auto endpoint = ns->lookup_abstract("busy").value();
    std::vector<Sock<TP>> clients;
    for (int i = 0; i < 3; ++i) clients.push_back(ipc::UnixSocket<TP>::create(ns, SocketType::stream, 0, alice).value());
    REQUIRE(clients[0]->try_connect(endpoint).has_value());
    REQUIRE(clients[1]->try_connect(endpoint).has_value());  // backlog + 1, as Linux
    CHECK(clients[2]->try_connect(endpoint).error() == Errno::again);
    CHECK((clients[2]->poll(ev::out) & ev::out) != 0);
    auto s0 = accepted(*listener);
    CHECK(clients[2]->try_connect(endpoint).has_value());

    SECTION("a listener closed with pending connections resets them") {
        listener.reset();
        CHECK(recv_str(*clients[1]).error() == Errno::connreset);
        CHECK(recv_str(*clients[1]).value().empty());
        CHECK(send_str(*clients[2], "x").error() == Errno::connreset);
        CHECK(send_str(*clients[2], "x").error() == Errno::pipe);
        REQUIRE(send_str(*clients[0], "still").has_value());  // the accepted one is unaffected
        CHECK(recv_str(*s0).value() == "still");
    }
}

TEST_CASE("unix: path binding through a file-system hook", "[ipc][unix]") {
    auto ns = ipc::UnixNamespace<TP>::create();
    std::map<std::string, std::weak_ptr<ipc::UnixEndpoint<TP>>> fs;  // stands in for tmpfs inodes
    auto attach = [&](const std::string& path) {
        return [&, path](const std::shared_ptr<ipc::UnixEndpoint<TP>>& endpoint) -> Result<void> {
            if (fs.contains(path)) return Errno::addrinuse;
            fs[path] = endpoint;
            return ok();
        };
    };
    auto server = ipc::UnixSocket<TP>::create(ns, SocketType::seqpacket, 0, bob).value();
    REQUIRE(server->bind_path("/run/app.sock", attach("/run/app.sock")).has_value());
    REQUIRE(server->listen(4).has_value());
    CHECK(server->local_address() == UnixAddress::path("/run/app.sock"));
    auto other = ipc::UnixSocket<TP>::create(ns, SocketType::seqpacket, 0, bob).value();
    CHECK(other->bind_path("/run/app.sock", attach("/run/app.sock")).error() == Errno::addrinuse);
    CHECK(other->local_address() == UnixAddress::unnamed());  // a failed bind leaves it unbound
    CHECK(other->bind_path("", attach("")).error() == Errno::inval);

    auto client = ipc::UnixSocket<TP>::create(ns, SocketType::seqpacket, 0, alice).value();
    REQUIRE(client->try_connect(fs["/run/app.sock"].lock()).has_value());
    auto conn = accepted(*server);
    REQUIRE(send_str(*client, "record").has_value());
    CHECK(recv_str(*conn).value() == "record");
    CHECK(client->peer_address().value() == UnixAddress::path("/run/app.sock"));

    server.reset();
    CHECK(fs["/run/app.sock"].expired());  // the inode's weak reference: connect -> ECONNREFUSED
}

TEST_CASE("unix: unconnected datagrams", "[ipc][unix]") {
    ipc::UnixLimits limits;
    limits.max_datagram_queue = 3;
    auto ns = ipc::UnixNamespace<TP>::create(limits);
    auto server = listener_at(ns, "dg", 0, SocketType::datagram);
    auto to_server = ns->lookup_abstract("dg").value();
    auto client = ipc::UnixSocket<TP>::create(ns, SocketType::datagram, 0, alice).value();
    CHECK(send_str(*client, "x").error() == Errno::notconn);
    ipc::SendExtras<TP> extras;
    extras.destination = to_server;
    REQUIRE(client->try_send(as_bytes("anon"), 0, extras).value() == 4);
    REQUIRE(client->bind(UnixAddress::abstract("client")).has_value());
    REQUIRE(client->try_send(as_bytes("named"), 0, extras).value() == 5);
    REQUIRE(client->try_send(as_bytes("third"), 0, extras).value() == 5);
    CHECK(client->try_send(as_bytes("full"), 0, extras).error() == Errno::again);  // max_datagram_queue

    ipc::Received<TP> info;
    CHECK(recv_str(*server, 100, 0, &info).value() == "anon");
    CHECK(info.source == UnixAddress::unnamed());
    CHECK(recv_str(*server, 100, 0, &info).value() == "named");
    CHECK(info.source == UnixAddress::abstract("client"));
    CHECK(info.credentials == std::nullopt);
    server->set_pass_credentials(true);
    CHECK(recv_str(*server, 100, 0, &info).value() == "third");
    CHECK(info.credentials == alice);

    SECTION("connected datagram sockets") {
        auto third = ipc::UnixSocket<TP>::create(ns, SocketType::datagram, 0, alice).value();
        REQUIRE(server->try_connect(ns->lookup_abstract("client").value()).has_value());
        CHECK(server->peer_address().value() == UnixAddress::abstract("client"));
        CHECK(third->try_send(as_bytes("no"), 0, extras).error() == Errno::perm);  // server talks to client only
        CHECK(third->try_connect(to_server).error() == Errno::perm);
        REQUIRE(send_str(*server, "reply").has_value());
        CHECK(recv_str(*client).value() == "reply");
        REQUIRE(server->disconnect().has_value());
        CHECK(third->try_send(as_bytes("yes"), 0, extras).has_value());
    }
    SECTION("a closed destination: ECONNREFUSED") {
        REQUIRE(client->try_connect(to_server).has_value());
        server.reset();
        CHECK(send_str(*client, "gone").error() == Errno::connrefused);
        CHECK(client->try_send(as_bytes("gone"), 0, extras).error() == Errno::connrefused);
    }
}

TEST_CASE("unix: SCM_RIGHTS keeps a file alive after the sender closes it", "[ipc][unix]") {
    auto ns = ipc::UnixNamespace<TP>::create();
    auto [a, b] = pair_of<TP>(SocketType::stream, ns);
    fd::DescriptorTable<TP> sender_table;
    fd::DescriptorTable<TP> receiver_table;
    auto pipe = ipc::make_pipe<TP>(0).value();
    const int rfd = sender_table.insert(pipe.read, false).value();
    std::weak_ptr<fd::OpenFile<TP>> watch = pipe.read;
    pipe.read.reset();

    ipc::SendExtras<TP> extras;
    extras.rights.push_back(sender_table.get(rfd).value());
    REQUIRE(a->try_send(as_bytes("fd"), 0, extras).value() == 2);
    CHECK(extras.rights.empty());
    REQUIRE(sender_table.close(rfd).has_value());  // the sender closes its descriptor
    CHECK_FALSE(watch.expired());                  // in flight: still alive
    CHECK(ns->in_flight() == 1);

    ipc::Received<TP> info;
    CHECK(recv_str(*b, 100, 0, &info).value() == "fd");
    REQUIRE(info.rights.size() == 1);
    CHECK(ns->in_flight() == 0);
    const int installed = receiver_table.insert(std::move(info.rights[0]), true).value();
    REQUIRE(write_string(*pipe.write, "through").has_value());
    CHECK(read_string(*receiver_table.get(installed).value()).value() == "through");
    REQUIRE(receiver_table.close(installed).has_value());
    CHECK(watch.expired());
}

TEST_CASE("unix: SCM_RIGHTS boundaries, peek, limits and teardown", "[ipc][unix]") {
    ipc::UnixLimits limits;
    limits.max_in_flight_files = 2;
    auto ns = ipc::UnixNamespace<TP>::create(limits);
    auto [a, b] = pair_of<TP>(SocketType::stream, ns);
    auto efd = ipc::make_pipe<TP>(0).value().read;

    REQUIRE(send_str(*a, "ab").has_value());
    ipc::SendExtras<TP> extras;
    extras.rights = {efd};
    REQUIRE(a->try_send(as_bytes("cd"), 0, extras).has_value());
    REQUIRE(send_str(*a, "ef").has_value());
    ipc::Received<TP> info;
    CHECK(recv_str(*b, 100, 0, &info).value() == "ab");  // stops before the files
    CHECK(info.rights.empty());
    CHECK(recv_str(*b, 100, ipc::msg_flags::peek, &info).value() == "cd");
    CHECK(info.rights.size() == 1);  // peek duplicates the references
    CHECK(recv_str(*b, 100, 0, &info).value() == "cd");  // stops right after the files
    CHECK(info.rights.size() == 1);
    CHECK(recv_str(*b, 100, 0, &info).value() == "ef");
    CHECK(info.rights.empty());

    extras.rights = {efd, efd, efd};
    CHECK(a->try_send(as_bytes("x"), 0, extras).error() == Errno::toomanyrefs);
    extras.rights.assign(ipc::max_rights_per_message + 1, efd);
    CHECK(a->try_send(as_bytes("x"), 0, extras).error() == Errno::inval);

    SECTION("a socket sent over itself is freed at teardown") {
        std::weak_ptr<ipc::UnixSocket<TP>> wa = a;
        std::weak_ptr<ipc::UnixSocket<TP>> wb = b;
        ipc::SendExtras<TP> self;
        self.rights = {b};  // b's own description, queued in b's own inbox
        REQUIRE(a->try_send(as_bytes("!"), 0, self).has_value());
        a.reset();
        b.reset();
        CHECK_FALSE(wb.expired());  // a reference cycle
        ns->release_in_flight();
        CHECK(wb.expired());
        CHECK(wa.expired());
        CHECK(ns->in_flight() == 0);
    }
}

TEMPLATE_LIST_TEST_CASE("unix: blocking accept, connect, receive and send", "[ipc][unix]", litebox::test::AllPlatforms) {
    using P = TestType;
    P platform;
    event::WaitContext<P> ctx(platform);
    auto ns = ipc::UnixNamespace<P>::create();
    auto listener = listener_at(ns, "block", 0);
    auto endpoint = ns->lookup_abstract("block").value();

    SECTION("accept waits for a connection; receive waits for data") {
        std::string text;
        std::thread server([&] {
            auto s = listener->accept(ctx, 0);
            if (!s) return;
            auto* sock = ipc::unix_socket_of(**s);
            std::array<std::byte, 32> buf{};
            auto r = sock->receive(ctx, buf, ipc::msg_flags::waitall);
            if (r) text.assign(reinterpret_cast<const char*>(buf.data()), r->bytes);
        });
        REQUIRE(litebox::test::eventually([&] { return listener->pollee()->subscribers() > 0; }));
        auto client = ipc::UnixSocket<P>::create(ns, SocketType::stream, 0, alice).value();
        REQUIRE(client->connect(ctx, endpoint).has_value());
        // MSG_WAITALL: the server keeps reading until its 32 bytes are full.
        for (int i = 0; i < 4; ++i) {
            REQUIRE(client->send(ctx, as_bytes("01234567"), 0).value() == 8);
            std::this_thread::yield();
        }
        server.join();
        CHECK(text == "01234567012345670123456701234567");
    }
    SECTION("connect waits for room in the backlog") {
        auto first = ipc::UnixSocket<P>::create(ns, SocketType::stream, 0, alice).value();
        REQUIRE(first->try_connect(endpoint).has_value());  // backlog 0 admits one
        auto second = ipc::UnixSocket<P>::create(ns, SocketType::stream, 0, alice).value();
        Result<void> connected = Errno::inval;
        std::thread t([&] { connected = second->connect(ctx, endpoint); });
        REQUIRE(litebox::test::eventually([&] { return second->pollee()->subscribers() > 0; }));
        REQUIRE(listener->try_accept().has_value());
        t.join();
        CHECK(connected.has_value());
    }
    SECTION("a blocking stream send waits for the reader and sends everything") {
        auto pair = ipc::UnixSocket<P>::create_pair(ns, SocketType::stream, 0, alice).value();
        auto& a = pair.first;
        auto& b = pair.second;
        a->set_send_buffer(4096);
        std::vector<std::byte> data(100000);
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i % 251);
        std::vector<std::byte> received;
        std::thread reader([&] {
            std::array<std::byte, 3000> buf{};
            while (received.size() < data.size()) {
                auto r = b->receive(ctx, buf, 0);
                if (!r || r->bytes == 0) break;
                received.insert(received.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r->bytes));
            }
        });
        CHECK(a->send(ctx, data, 0).value() == data.size());
        reader.join();
        CHECK(received == data);
    }
    SECTION("an interrupted receive returns EINTR and MSG_DONTWAIT does not wait") {
        auto pair = ipc::UnixSocket<P>::create_pair(ns, SocketType::seqpacket, 0, alice).value();
        auto& b = pair.second;
        std::array<std::byte, 8> buf{};
        CHECK(b->receive(ctx, buf, ipc::msg_flags::dontwait).error() == Errno::again);
        event::Waiter<P> waiter;
        event::WaitContext<P> interruptible(platform, &waiter);
        Result<ipc::Received<P>> r = Errno::inval;
        std::thread t([&] { r = b->receive(interruptible, buf, 0); });
        REQUIRE(litebox::test::eventually([&] { return b->pollee()->subscribers() > 0; }));
        waiter.interrupt();
        t.join();
        CHECK(r.error() == Errno::intr);
    }
}

TEST_CASE("unix: epoll sees connections and data", "[ipc][unix][epoll]") {
    TP platform;
    auto ns = ipc::UnixNamespace<TP>::create();
    auto listener = listener_at(ns, "ep");
    auto ep = event::Epoll<TP>::create();
    REQUIRE(ep->ctl(event::EpollOp::add, 3, listener, {ev::in, 3}).has_value());
    std::array<event::EpollEvent, 4> out{};
    event::WaitContext<TP> now(platform, nullptr, platform.now());
    CHECK(ep->wait(now, out).value() == 0);
    auto client = ipc::UnixSocket<TP>::create(ns, SocketType::stream, 0, alice).value();
    REQUIRE(client->try_connect(ns->lookup_abstract("ep").value()).has_value());
    REQUIRE(ep->wait(now, out).value() == 1);
    CHECK(out[0].data == 3);
    auto server = accepted(*listener);
    CHECK(ep->wait(now, out).value() == 0);
    REQUIRE(ep->ctl(event::EpollOp::add, 4, server, {ev::in | ev::rdhup | event::epoll_flags::edge_triggered, 4}).has_value());
    REQUIRE(send_str(*client, "ping").has_value());
    REQUIRE(ep->wait(now, out).value() == 1);
    CHECK(out[0] == event::EpollEvent{ev::in, 4});
    client.reset();
    REQUIRE(ep->wait(now, out).value() == 1);
    CHECK(out[0] == event::EpollEvent{ev::in | ev::rdhup | ev::hup, 4});
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
