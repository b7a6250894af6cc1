// inotify_init1, inotify_add_watch, inotify_rm_watch and the events the box's file operations
// report (fs/inotify.hpp, shim/linux/inotify.hpp), through raw syscalls.
#include <cstring>
#include <string>
#include <vector>

#include "shim_fixture.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using namespace litebox::test;
using litebox::Errno;
namespace of = litebox::fd::open_flags;
namespace ie = litebox::fs::in_event;

struct Event {
    std::int32_t wd = 0;
    std::uint32_t mask = 0;
    std::uint32_t cookie = 0;
    std::uint32_t len = 0;
    std::string name;
};

struct Inotify {
    ShimFixture<>& f;

    std::int64_t init(std::uint32_t flags = of::nonblock) { return f.call(lx::nr::inotify_init1, flags); }
    std::int64_t watch(std::int64_t fd, std::string_view path, std::uint32_t mask) {
        return f.call(lx::nr::inotify_add_watch, fd, f.mem.put_string(path), mask);
    }
    std::int64_t unwatch(std::int64_t fd, std::int64_t wd) { return f.call(lx::nr::inotify_rm_watch, fd, wd); }
    std::int64_t open(std::string_view path, std::uint32_t flags, std::uint32_t mode = 0644) {
        return f.call(lx::nr::open, f.mem.put_string(path), flags, mode);
    }
    std::int64_t write(std::int64_t fd, std::string_view text) { return f.call(lx::nr::write, fd, f.mem.put_string(text), text.size()); }
    std::int64_t close(std::int64_t fd) { return f.call(lx::nr::close, fd); }
    std::int64_t path_call(std::uint64_t nr, std::string_view path, std::uint64_t arg = 0) {
        return f.call(nr, f.mem.put_string(path), arg);
    }
    std::int64_t rename(std::string_view from, std::string_view to) {
        return f.call(lx::nr::rename, f.mem.put_string(from), f.mem.put_string(to));
    }
    /// One read(2) of at most `size` bytes: the events, or an errno in `error`.
    std::vector<Event> read(std::int64_t fd, std::size_t size = 4096, std::int64_t* error = nullptr) {
        const auto buf = f.mem.allocate(size);
        const auto n = f.call(lx::nr::read, fd, buf, size);
        if (error != nullptr) *error = n < 0 ? n : 0;
        std::vector<Event> out;
        if (n <= 0) return out;
        const auto bytes = f.mem.bytes(buf, static_cast<std::size_t>(n));
        for (std::size_t at = 0; at + 16 <= bytes.size();) {
            Event e;
            std::memcpy(&e.wd, bytes.data() + at, 4);
            std::memcpy(&e.mask, bytes.data() + at + 4, 4);
            std::memcpy(&e.cookie, bytes.data() + at + 8, 4);
            std::memcpy(&e.len, bytes.data() + at + 12, 4);
            REQUIRE(at + 16 + e.len <= bytes.size());
            const char* name = reinterpret_cast<const char*>(bytes.data() + at + 16);
            e.name.assign(name, strnlen(name, e.len));
            // NUL padding up to len, as Linux fills it.
            for (std::size_t i = e.name.size(); i < e.len; ++i) CHECK(bytes[at + 16 + i] == std::byte{0});
            at += 16 + e.len;
            out.push_back(std::move(e));
        }
        return out;
    }
    /// The events as "wd:MASK:name" lines.
    std::vector<std::string> drain(std::int64_t fd) {
        std::vector<std::string> lines;
        for (const auto& e : read(fd, 65536)) lines.push_back(describe(e));
        return lines;
    }
    static std::string describe(const Event& e) {
        static constexpr std::pair<std::uint32_t, const char*> names[] = {
            {ie::access, "ACCESS"},         {ie::modify, "MODIFY"},         {ie::attrib, "ATTRIB"},       {ie::close_write, "CLOSE_WRITE"},
            {ie::close_nowrite, "CLOSE_NOWRITE"}, {ie::open, "OPEN"},      {ie::moved_from, "MOVED_FROM"}, {ie::moved_to, "MOVED_TO"},
            {ie::create, "CREATE"},         {ie::delete_child, "DELETE"},   {ie::delete_self, "DELETE_SELF"}, {ie::move_self, "MOVE_SELF"},
            {ie::q_overflow, "Q_OVERFLOW"}, {ie::ignored, "IGNORED"},       {ie::is_dir, "ISDIR"},
        };
        std::string mask;
        for (const auto& [bit, name] : names)
            if (e.mask & bit) mask += (mask.empty() ? "" : "|") + std::string(name);
        return std::to_string(e.wd) + ":" + mask + (e.name.empty() ? "" : ":" + e.name);
    }
};

using Lines = std::vector<std::string>;

TEST_CASE("inotify_init1: flags, limits, descriptor identity", "[shim][inotify]") {
    lx::ShimConfig config;
    config.max_inotify_instances = 2;
    ShimFixture<> f(config);
    Inotify in{f};
    CHECK(in.init(0x1) == err(Errno::inval));
    CHECK(f.call(lx::nr::inotify_init1, of::close_on_exec | of::nonblock | of::append) == err(Errno::inval));
    const auto a = in.init(of::close_on_exec);
    REQUIRE(a >= 0);
    CHECK(f.call(lx::nr::fcntl, a, lx::abi::f_getfd) == lx::abi::fd_cloexec);
    const auto b = f.call(lx::nr::inotify_init);
    REQUIRE(b >= 0);
    CHECK(f.call(lx::nr::fcntl, b, lx::abi::f_getfd) == 0);
    CHECK(in.init() == err(Errno::mfile));  // max_inotify_instances
    CHECK(in.close(b) == 0);
    const auto c = in.init();
    REQUIRE(c >= 0);
    // A blocking instance reports O_RDONLY; a nonblocking one O_NONBLOCK too.
    CHECK(f.call(lx::nr::fcntl, a, lx::abi::f_getfl) == of::read_only);
    CHECK(f.call(lx::nr::fcntl, c, lx::abi::f_getfl) == of::nonblock);
    // Empty and nonblocking: EAGAIN. Not writable.
    std::int64_t error = 0;
    CHECK(in.read(c, 4096, &error).empty());
    CHECK(error == err(Errno::again));
    CHECK(in.write(c, "x") == err(Errno::badf));  // opened O_RDONLY, as on Linux

    const auto link = f.mem.allocate(64);
    const auto n = f.call(lx::nr::readlink, f.mem.put_string("/proc/self/fd/" + std::to_string(c)), link, 64);
    REQUIRE(n > 0);
    const auto text = f.mem.bytes(link, static_cast<std::size_t>(n));
    CHECK(std::string(reinterpret_cast<const char*>(text.data()), text.size()) == "anon_inode:inotify");
}

TEST_CASE("inotify_add_watch: errors, the same wd for the same inode, IN_MASK_ADD/CREATE", "[shim][inotify]") {
    ShimFixture<> f;
    Inotify in{f};
    const auto fd = in.init();
    REQUIRE(fd >= 0);
    REQUIRE(in.path_call(lx::nr::mkdir, "/d", 0755) == 0);
    const auto file = in.open("/d/f", of::create | of::write_only);
    REQUIRE(file >= 0);
    REQUIRE(in.close(file) == 0);
    REQUIRE(f.call(lx::nr::symlink, f.mem.put_string("/d/f"), f.mem.put_string("/link")) == 0);

    CHECK(in.watch(fd, "/d", 0) == err(Errno::inval));                                  // no known bit
    CHECK(in.watch(fd, "/d", ie::create | 0x08000000) == err(Errno::inval));            // an unknown bit
    CHECK(in.watch(fd, "/d", ie::create | ie::mask_add | ie::mask_create) == err(Errno::inval));
    CHECK(in.watch(77, "/d", ie::create) == err(Errno::badf));
    CHECK(in.watch(77, "/d", 0) == err(Errno::inval));  // the mask is checked first, as Linux
    CHECK(in.watch(77, "/d", ie::create | ie::mask_add | ie::mask_create) == err(Errno::badf));
    const auto plain = in.open("/d/f", of::read_only);
    REQUIRE(plain >= 0);
    CHECK(in.watch(plain, "/d", ie::create) == err(Errno::inval));  // not an inotify descriptor
    REQUIRE(in.close(plain) == 0);
    CHECK(in.watch(fd, "/missing", ie::create) == err(Errno::noent));
    CHECK(in.watch(fd, "/d/f", ie::create | ie::only_dir) == err(Errno::notdir));
    CHECK(in.watch(fd, "/link", ie::attrib | ie::only_dir) == err(Errno::notdir));
    CHECK(f.call(lx::nr::inotify_add_watch, fd, 0, ie::create) == err(Errno::fault));

    const auto dir = in.watch(fd, "/d", ie::create);
    CHECK(dir == 1);
    CHECK(in.watch(fd, "/d/", ie::delete_child) == dir);  // same inode, same wd
    CHECK(in.watch(fd, "/d", ie::open | ie::mask_create) == err(Errno::exist));
    const auto target = in.watch(fd, "/link", ie::attrib);  // follows the link
    CHECK(target == 2);
    CHECK(in.watch(fd, "/d/f", ie::modify) == target);
    const auto link = in.watch(fd, "/link", ie::attrib | ie::dont_follow);
    CHECK(link == 3);

    // The watch's mask was replaced by the second add (IN_DELETE only): creating is not reported.
    REQUIRE(in.path_call(lx::nr::mkdir, "/d/sub", 0755) == 0);
    CHECK(in.drain(fd).empty());
    CHECK(in.watch(fd, "/d", ie::create | ie::mask_add) == dir);  // now IN_CREATE | IN_DELETE
    REQUIRE(in.path_call(lx::nr::rmdir, "/d/sub") == 0);
    REQUIRE(in.path_call(lx::nr::mkdir, "/d/sub", 0755) == 0);
    CHECK(in.drain(fd) == Lines{"1:DELETE|ISDIR:sub", "1:CREATE|ISDIR:sub"});

    // Flags only: a watch that reports nothing (Linux accepts it too).
    const auto quiet = in.watch(fd, "/d/sub", ie::only_dir);
    CHECK(quiet == 4);
    REQUIRE(in.close(in.open("/d/sub/x", of::create | of::write_only)) == 0);
    CHECK(in.drain(fd).empty());

    // A file the caller cannot read cannot be watched.
    REQUIRE(in.path_call(lx::nr::chmod, "/d/f", 0) == 0);
    (void)in.drain(fd);
    CHECK(in.watch(fd, "/d/f", ie::modify | ie::mask_create) == err(Errno::acces));
}

TEST_CASE("inotify: a watched directory sees its children's events with their names", "[shim][inotify]") {
    ShimFixture<> f;
    Inotify in{f};
    const auto fd = in.init();
    REQUIRE(in.path_call(lx::nr::mkdir, "/d", 0755) == 0);
    REQUIRE(in.watch(fd, "/d", ie::all_events) == 1);

    const auto file = in.open("/d/a-longer-name-than-16", of::create | of::read_write);
    REQUIRE(file >= 0);
    REQUIRE(in.write(file, "hello") == 5);
    REQUIRE(in.write(file, "again") == 5);  // merged with the previous IN_MODIFY
    REQUIRE(f.call(lx::nr::lseek, file, 0, 0) == 0);
    const auto buf = f.mem.allocate(16);
    REQUIRE(f.call(lx::nr::read, file, buf, 16) == 10);
    REQUIRE(f.call(lx::nr::ftruncate, file, 2) == 0);
    REQUIRE(f.call(lx::nr::fchmod, file, 0600) == 0);
    REQUIRE(in.close(file) == 0);
    CHECK(in.drain(fd) == Lines{"1:CREATE:a-longer-name-than-16", "1:OPEN:a-longer-name-than-16", "1:MODIFY:a-longer-name-than-16",
                                "1:ACCESS:a-longer-name-than-16", "1:MODIFY:a-longer-name-than-16", "1:ATTRIB:a-longer-name-than-16",
                                "1:CLOSE_WRITE:a-longer-name-than-16"});

    const auto reader = in.open("/d/a-longer-name-than-16", of::read_only);
    REQUIRE(reader >= 0);
    REQUIRE(in.close(reader) == 0);
    REQUIRE(in.rename("/d/a-longer-name-than-16", "/d/b") == 0);
    REQUIRE(in.path_call(lx::nr::mkdir, "/d/sub", 0755) == 0);
    REQUIRE(in.path_call(lx::nr::unlink, "/d/b") == 0);
    const auto events = in.read(fd);
    REQUIRE(events.size() == 6);
    CHECK(Inotify::describe(events[0]) == "1:OPEN:a-longer-name-than-16");
    CHECK(Inotify::describe(events[1]) == "1:CLOSE_NOWRITE:a-longer-name-than-16");
    CHECK(Inotify::describe(events[2]) == "1:MOVED_FROM:a-longer-name-than-16");
    CHECK(Inotify::describe(events[3]) == "1:MOVED_TO:b");
    CHECK(events[2].cookie != 0);
    CHECK(events[2].cookie == events[3].cookie);
    CHECK(events[2].len == 32);  // 22 bytes + NUL, padded to 16
    CHECK(events[3].len == 16);
    CHECK(Inotify::describe(events[4]) == "1:CREATE|ISDIR:sub");
    CHECK(Inotify::describe(events[5]) == "1:DELETE:b");

    // Reading the directory: open, access, close of the directory itself (IN_ISDIR, no name).
    const auto dir = in.open("/d", of::read_only | of::directory);
    REQUIRE(dir >= 0);
    const auto dents = f.mem.allocate(1024);
    REQUIRE(f.call(lx::nr::getdents64, dir, dents, 1024) > 0);
    REQUIRE(in.close(dir) == 0);
    CHECK(in.drain(fd) == Lines{"1:OPEN|ISDIR", "1:ACCESS|ISDIR", "1:CLOSE_NOWRITE|ISDIR"});
}

TEST_CASE("inotify: watches of the object itself (attributes, links, moves, deletion)", "[shim][inotify]") {
    ShimFixture<> f;
    Inotify in{f};
    const auto fd = in.init();
    REQUIRE(in.path_call(lx::nr::mkdir, "/d", 0755) == 0);
    REQUIRE(in.path_call(lx::nr::mkdir, "/e", 0755) == 0);
    REQUIRE(in.close(in.open("/d/f", of::create | of::write_only)) == 0);
    const auto file = in.watch(fd, "/d/f", ie::all_events);
    const auto dir = in.watch(fd, "/d", ie::delete_child | ie::moved_from | ie::moved_to);
    const auto other = in.watch(fd, "/e", ie::moved_to | ie::delete_self);
    REQUIRE(file == 1);
    REQUIRE(dir == 2);
    REQUIRE(other == 3);

    REQUIRE(in.path_call(lx::nr::chmod, "/d/f", 0600) == 0);
    REQUIRE(f.call(lx::nr::utimensat, lx::abi::at_fdcwd, f.mem.put_string("/d/f"), 0, 0) == 0);
    REQUIRE(f.call(lx::nr::truncate, f.mem.put_string("/d/f"), 5) == 0);
    REQUIRE(f.call(lx::nr::link, f.mem.put_string("/d/f"), f.mem.put_string("/d/g")) == 0);
    CHECK(in.drain(fd) == Lines{"1:ATTRIB", "1:MODIFY", "1:ATTRIB"});  // chmod+utimens merge; truncate; the link count

    REQUIRE(in.rename("/d/f", "/e/f") == 0);
    const auto moved = in.read(fd);
    REQUIRE(moved.size() == 3);
    CHECK(Inotify::describe(moved[0]) == "2:MOVED_FROM:f");
    CHECK(Inotify::describe(moved[1]) == "3:MOVED_TO:f");
    CHECK(moved[0].cookie == moved[1].cookie);
    CHECK(Inotify::describe(moved[2]) == "1:MOVE_SELF");

    // One name left: unlinking it drops the link count (IN_ATTRIB); the last one deletes it.
    REQUIRE(in.path_call(lx::nr::unlink, "/d/g") == 0);
    REQUIRE(in.path_call(lx::nr::unlink, "/e/f") == 0);
    CHECK(in.drain(fd) == Lines{"1:ATTRIB", "2:DELETE:g", "1:ATTRIB", "1:DELETE_SELF", "1:IGNORED"});
    CHECK(in.unwatch(fd, file) == err(Errno::inval));  // gone with the inode

    REQUIRE(in.path_call(lx::nr::rmdir, "/e") == 0);
    CHECK(in.drain(fd) == Lines{"3:DELETE_SELF", "3:IGNORED"});
    CHECK(in.unwatch(fd, dir) == 0);
    CHECK(in.drain(fd) == Lines{"2:IGNORED"});
    CHECK(in.unwatch(fd, dir) == err(Errno::inval));
    CHECK(in.unwatch(fd, 12345) == err(Errno::inval));
    CHECK(f.call(lx::nr::inotify_rm_watch, 99, 1) == err(Errno::badf));
}

TEST_CASE("inotify: oneshot, IN_EXCL_UNLINK, several instances, other processes", "[shim][inotify]") {
    ShimFixture<> f;
    Inotify in{f};
    const auto a = in.init();
    const auto b = in.init();
    REQUIRE(in.path_call(lx::nr::mkdir, "/d", 0755) == 0);
    REQUIRE(in.watch(a, "/d", ie::create | ie::oneshot) == 1);
    REQUIRE(in.watch(b, "/d", ie::modify | ie::close_write | ie::excl_unlink) == 1);
    const auto file = in.open("/d/f", of::create | of::write_only);
    REQUIRE(in.close(in.open("/d/g", of::create | of::write_only)) == 0);
    CHECK(in.drain(a) == Lines{"1:CREATE:f", "1:IGNORED"});
    CHECK(in.drain(b) == Lines{"1:CLOSE_WRITE:g"});

    // After the unlink, b's watch (IN_EXCL_UNLINK) hears nothing more of f.
    REQUIRE(in.path_call(lx::nr::unlink, "/d/f") == 0);
    REQUIRE(in.write(file, "x") == 1);
    REQUIRE(in.close(file) == 0);
    CHECK(in.drain(b).empty());

    // A write by a forked child is seen by the parent's instance.
    auto child = f.fork(*f.init);
    const auto g = f.call_on(*child, lx::nr::open, f.mem.put_string("/d/g"), of::write_only | of::append);
    REQUIRE(g >= 0);
    REQUIRE(f.call_on(*child, lx::nr::write, g, f.mem.put_string("y"), 1) == 1);
    REQUIRE(f.call_on(*child, lx::nr::close, g) == 0);
    CHECK(in.drain(b) == Lines{"1:MODIFY:g", "1:CLOSE_WRITE:g"});
}

TEST_CASE("inotify: extended attributes, fallocate, writes through sendfile", "[shim][inotify]") {
    ShimFixture<> f;
    Inotify in{f};
    const auto fd = in.init();
    REQUIRE(in.path_call(lx::nr::mkdir, "/d", 0755) == 0);
    const auto file = in.open("/d/f", of::create | of::read_write);
    REQUIRE(in.write(file, "0123456789") == 10);
    REQUIRE(in.watch(fd, "/d", ie::attrib | ie::modify | ie::access) == 1);
    const auto value = f.mem.put_string("v");
    REQUIRE(f.call(lx::nr::setxattr, f.mem.put_string("/d/f"), f.mem.put_string("user.x"), value, 1, 0) == 0);
    REQUIRE(f.call(lx::nr::fremovexattr, file, f.mem.put_string("user.x")) == 0);
    CHECK(in.drain(fd) == Lines{"1:ATTRIB:f"});  // the two merge
    REQUIRE(f.call(lx::nr::fallocate, file, 0, 0, 4) == 0);
    CHECK(in.drain(fd) == Lines{"1:MODIFY:f"});
    const auto copy = in.open("/d/g", of::create | of::write_only);
    const auto offset = f.mem.allocate(8);
    f.mem.put(offset, std::int64_t{0});
    REQUIRE(f.call(lx::nr::sendfile, copy, file, offset, 4) == 4);
    CHECK(in.drain(fd) == Lines{"1:ACCESS:f", "1:MODIFY:g"});
}

TEST_CASE("inotify: a file unlinked while open is deleted at its last close", "[shim][inotify]") {
    ShimFixture<> f;
    Inotify in{f};
    const auto fd = in.init();
    REQUIRE(in.path_call(lx::nr::mkdir, "/d", 0755) == 0);
    const auto file = in.open("/d/held", of::create | of::write_only);
    REQUIRE(file >= 0);
    const auto dup = f.call(lx::nr::dup, file);
    REQUIRE(dup >= 0);
    REQUIRE(in.watch(fd, "/d", ie::delete_child | ie::close_write) == 1);
    REQUIRE(in.watch(fd, "/d/held", ie::all_events) == 2);
    REQUIRE(in.path_call(lx::nr::unlink, "/d/held") == 0);
    CHECK(in.drain(fd) == Lines{"2:ATTRIB", "1:DELETE:held"});
    REQUIRE(in.close(file) == 0);  // the description lives on in `dup`
    CHECK(in.drain(fd).empty());
    REQUIRE(in.close(dup) == 0);
    CHECK(in.drain(fd) == Lines{"1:CLOSE_WRITE:held", "2:CLOSE_WRITE", "2:DELETE_SELF", "2:IGNORED"});
}

TEST_CASE("inotify: epoll reports an instance readable", "[shim][inotify]") {
    ShimFixture<> f;
    Inotify in{f};
    const auto fd = in.init();
    REQUIRE(in.path_call(lx::nr::mkdir, "/d", 0755) == 0);
    REQUIRE(in.watch(fd, "/d", ie::create) == 1);
    const auto ep = f.call(lx::nr::epoll_create1, 0);
    REQUIRE(ep >= 0);
    const auto event = f.mem.allocate(sizeof(lx::abi::epoll_event));
    f.mem.put(event, lx::abi::epoll_event{1, 42});
    REQUIRE(f.call(lx::nr::epoll_ctl, ep, 1 /* EPOLL_CTL_ADD */, fd, event) == 0);
    const auto out = f.mem.allocate(sizeof(lx::abi::epoll_event) * 2);
    CHECK(f.call(lx::nr::epoll_wait, ep, out, 2, 0) == 0);
    REQUIRE(in.path_call(lx::nr::mkdir, "/d/x", 0755) == 0);
    REQUIRE(f.call(lx::nr::epoll_wait, ep, out, 2, 0) == 1);
    CHECK(std::uint64_t{f.mem.get<lx::abi::epoll_event>(out).data} == 42);  // a copy: the field is packed
    CHECK(in.drain(fd) == Lines{"1:CREATE|ISDIR:x"});
    CHECK(f.call(lx::nr::epoll_wait, ep, out, 2, 0) == 0);
}

TEST_CASE("inotify read(2): small buffers, whole events, FIONREAD, poll, overflow", "[shim][inotify]") {
    lx::ShimConfig config;
    config.max_inotify_queued_events = 3;
    config.max_inotify_watches = 2;
    ShimFixture<> f(config);
    Inotify in{f};
    const auto fd = in.init();
    REQUIRE(in.path_call(lx::nr::mkdir, "/d", 0755) == 0);
    REQUIRE(in.path_call(lx::nr::mkdir, "/e", 0755) == 0);
    REQUIRE(in.path_call(lx::nr::mkdir, "/x", 0755) == 0);
    REQUIRE(in.watch(fd, "/d", ie::create) == 1);
    REQUIRE(in.watch(fd, "/e", ie::create) == 2);
    CHECK(in.watch(fd, "/x", ie::create) == err(Errno::nospc));  // max_inotify_watches

    const lx::abi::pollfd p{static_cast<std::int32_t>(fd), 1, 0};
    const auto pollfd = f.mem.allocate(sizeof p);
    f.mem.put(pollfd, p);
    CHECK(f.call(lx::nr::poll, pollfd, 1, 0) == 0);

    REQUIRE(in.path_call(lx::nr::mkdir, "/d/one", 0755) == 0);
    REQUIRE(in.path_call(lx::nr::mkdir, "/d/two", 0755) == 0);
    CHECK(f.call(lx::nr::poll, pollfd, 1, 0) == 1);
    CHECK((f.mem.get<lx::abi::pollfd>(pollfd).revents & 1) != 0);
    const auto count = f.mem.allocate(4);
    REQUIRE(f.call(lx::nr::ioctl, fd, lx::abi::fionread, count) == 0);
    CHECK(f.mem.get<std::int32_t>(count) == 64);

    // Too small for the first event: EINVAL, nothing consumed; room for one and a half: one.
    std::int64_t error = 0;
    CHECK(in.read(fd, 31, &error).empty());
    CHECK(error == err(Errno::inval));
    auto one = in.read(fd, 40);
    REQUIRE(one.size() == 1);
    CHECK(Inotify::describe(one[0]) == "1:CREATE|ISDIR:one");
    REQUIRE(f.call(lx::nr::ioctl, fd, lx::abi::fionread, count) == 0);
    CHECK(f.mem.get<std::int32_t>(count) == 32);

    // Past max_queued_events (3): one IN_Q_OVERFLOW, then nothing until the queue drains.
    REQUIRE(in.path_call(lx::nr::mkdir, "/e/a", 0755) == 0);
    REQUIRE(in.path_call(lx::nr::mkdir, "/e/b", 0755) == 0);
    REQUIRE(in.path_call(lx::nr::mkdir, "/e/c", 0755) == 0);
    REQUIRE(in.path_call(lx::nr::mkdir, "/e/d", 0755) == 0);
    CHECK(in.drain(fd) == Lines{"1:CREATE|ISDIR:two", "2:CREATE|ISDIR:a", "2:CREATE|ISDIR:b", "-1:Q_OVERFLOW"});
    REQUIRE(in.path_call(lx::nr::mkdir, "/e/e", 0755) == 0);
    CHECK(in.drain(fd) == Lines{"2:CREATE|ISDIR:e"});
    CHECK(f.call(lx::nr::poll, pollfd, 1, 0) == 0);
}

TEST_CASE("inotify: /proc/sys/fs/inotify and fdinfo", "[shim][inotify]") {
    lx::ShimConfig config;
    config.max_inotify_instances = 7;
    config.max_inotify_watches = 99;
    config.max_inotify_queued_events = 1234;
    ShimFixture<> f(config);
    Inotify in{f};
    const auto read_text = [&](std::string_view path) {
        const auto file = in.open(path, of::read_only);
        if (file < 0) return "errno " + std::to_string(-file);
        const auto buf = f.mem.allocate(1024);
        const auto n = f.call(lx::nr::read, file, buf, 1024);
        (void)in.close(file);
        if (n < 0) return "errno " + std::to_string(-n);
        const auto bytes = f.mem.bytes(buf, static_cast<std::size_t>(n));
        return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    };
    CHECK(read_text("/proc/sys/fs/inotify/max_user_instances") == "7\n");
    CHECK(read_text("/proc/sys/fs/inotify/max_user_watches") == "99\n");
    CHECK(read_text("/proc/sys/fs/inotify/max_queued_events") == "1234\n");
    CHECK(in.open("/proc/sys/fs/inotify/max_user_watches", of::write_only) < 0);

    const auto fd = in.init();
    REQUIRE(in.path_call(lx::nr::mkdir, "/d", 0755) == 0);
    REQUIRE(in.watch(fd, "/d", ie::create | ie::excl_unlink) == 1);
    const auto info = read_text("/proc/self/fdinfo/" + std::to_string(fd));
    CHECK(info.find("inotify wd:1 ino:") != std::string::npos);
    CHECK(info.find(" mask:4000100 ignored_mask:0\n") != std::string::npos);
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
