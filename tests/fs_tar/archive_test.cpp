// tar::Archive: every format feature and every rejection, on archives written by the test.
#include <catch2/catch.hpp>
#include <litebox/fs/tar/archive.hpp>

#include <string>

#include "tar_writer.hpp"

// File-local names: the tests are compiled in unity batches (tests/CMakeLists.txt).
namespace {
namespace LITEBOX_UNITY_ID {

using litebox::Errno;
using litebox::fs::tar::Archive;
using litebox::fs::tar::Limits;
using litebox::fs::tar::NodeId;
using litebox::fs::tar::NodeType;
using litebox::fs::tar::ParseError;
using litebox::test::tar::HeaderSpec;
using litebox::test::tar::Magic;
using litebox::test::tar::TarWriter;

namespace {

Archive parse_ok(const TarWriter& w, const Limits& limits = {}) {
    ParseError why;
    auto parsed = Archive::parse(w.span(), limits, &why);
    INFO("reason: " << why.reason << " at " << why.offset);
    REQUIRE(parsed.has_value());
    return std::move(parsed).value();
}

ParseError parse_fails(const TarWriter& w, Errno expected, const Limits& limits = {}) {
    ParseError why;
    auto parsed = Archive::parse(w.span(), limits, &why);
    REQUIRE_FALSE(parsed.has_value());
    INFO("reason: " << why.reason);
    CHECK(parsed.error() == expected);
    CHECK(why.error == expected);
    CHECK_FALSE(why.reason.empty());
    return why;
}

NodeId at(const Archive& a, std::string_view path) {
    auto id = a.lookup_path(path);
    INFO("path " << path);
    REQUIRE(id.has_value());
    return *id;
}

std::string contents(const Archive& a, std::string_view path) {
    const auto d = a.data(at(a, path));
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

}  // namespace

TEST_CASE("tar: ustar entries of every type", "[fs][tar]") {
    TarWriter w;
    w.dir("etc/", 0750);
    w.file("etc/passwd", "root:x:0:0\n", 0640);
    w.symlink("etc/alias", "passwd");
    w.hardlink("etc/passwd2", "etc/passwd");
    HeaderSpec dev;
    dev.name = "dev/null";
    dev.type = '3';
    dev.devmajor = 1;
    dev.devminor = 3;
    dev.mode = 0666;
    w.header(dev);
    dev.name = "dev/sda";
    dev.type = '4';
    dev.devmajor = 8;
    dev.devminor = 0;
    w.header(dev);
    HeaderSpec fifo;
    fifo.name = "run/fifo";
    fifo.type = '6';
    w.header(fifo);
    w.end();
    const Archive a = parse_ok(w);

    const auto& etc = a.node(at(a, "etc"));
    CHECK(etc.type == NodeType::directory);
    CHECK(etc.permissions == 0750);
    CHECK(etc.uid == 1000);
    CHECK_FALSE(etc.implied);
    CHECK(etc.link_count == 2);

    const NodeId passwd = at(a, "/etc/passwd");
    CHECK(a.node(passwd).type == NodeType::regular);
    CHECK(a.node(passwd).permissions == 0640);
    CHECK(a.node(passwd).mtime_seconds == 1'700'000'000);
    CHECK(a.node(passwd).size == 11);
    CHECK(contents(a, "etc/passwd") == "root:x:0:0\n");
    // No copy: the data is a view into the archive bytes.
    CHECK(a.data(passwd).data() == w.span().data() + 1024);
    CHECK(at(a, "etc/passwd2") == passwd);
    CHECK(a.node(passwd).link_count == 2);

    const auto& alias = a.node(at(a, "etc/alias"));
    CHECK(alias.type == NodeType::symlink);
    CHECK(alias.link_target == "passwd");
    CHECK(alias.size == 6);

    const auto& null = a.node(at(a, "dev/null"));
    CHECK(null.type == NodeType::char_device);
    CHECK(null.device_major == 1);
    CHECK(null.device_minor == 3);
    CHECK(a.node(at(a, "dev/sda")).type == NodeType::block_device);
    CHECK(a.node(at(a, "dev/sda")).device_major == 8);
    CHECK(a.node(at(a, "run/fifo")).type == NodeType::fifo);

    // Entries are sorted, lookups are by component.
    const auto entries = a.entries(at(a, "etc"));
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].name == "alias");
    CHECK(entries[1].name == "passwd");
    CHECK(entries[2].name == "passwd2");
    CHECK(a.lookup(at(a, "etc"), "passwd") == passwd);
    CHECK_FALSE(a.lookup(at(a, "etc"), "shadow").has_value());
    CHECK(a.lookup_path("etc/shadow").error() == Errno::noent);
    CHECK(a.lookup_path("etc/passwd/x").error() == Errno::notdir);
    CHECK(a.lookup_path("etc/../etc/./passwd").value() == passwd);
    CHECK(a.lookup_path("../../etc/passwd").value() == passwd);  // '..' stops at the root

    // The root counts its subdirectories.
    CHECK(a.node(litebox::fs::tar::root_node).link_count == 2 + 3);

    std::array<std::byte, 4> buffer{};
    CHECK(a.read(passwd, 5, buffer) == 4);
    CHECK(std::string(reinterpret_cast<const char*>(buffer.data()), 4) == "x:0:");
    CHECK(a.read(passwd, 9, buffer) == 2);
    CHECK(a.read(passwd, 11, buffer) == 0);
    CHECK(a.read(passwd, 1000, buffer) == 0);
}

TEST_CASE("tar: directories implied by paths", "[fs][tar]") {
    TarWriter w;
    w.file("a/b/c.txt", "c");
    w.end();
    const Archive a = parse_ok(w);
    const auto& ab = a.node(at(a, "a/b"));
    CHECK(ab.type == NodeType::directory);
    CHECK(ab.implied);
    CHECK(ab.permissions == 0755);
    CHECK(ab.uid == 0);
    CHECK(ab.mtime_seconds == 1'700'000'000);
    CHECK(ab.parent == at(a, "a"));
    CHECK(a.node(at(a, "a")).parent == litebox::fs::tar::root_node);
    CHECK(contents(a, "a/b/c.txt") == "c");
}

TEST_CASE("tar: names are normalized", "[fs][tar]") {
    TarWriter w;
    w.file("/abs/file", "1");
    w.file("./dot//slashes/./f", "2");
    w.file("x/../back", "3");
    w.dir("./", 0700);
    w.end();
    const Archive a = parse_ok(w);
    CHECK(contents(a, "abs/file") == "1");
    CHECK(contents(a, "dot/slashes/f") == "2");
    CHECK(contents(a, "back") == "3");
    CHECK(a.node(litebox::fs::tar::root_node).permissions == 0700);
    CHECK_FALSE(a.node(litebox::fs::tar::root_node).implied);
}

TEST_CASE("tar: ustar prefix, GNU long names and v7 headers", "[fs][tar]") {
    const std::string deep = std::string(120, 'p') + "/" + std::string(90, 'n');
    const std::string long_name = std::string(150, 'L') + "/" + std::string(200, 'm');
    const std::string long_target = std::string(300, 't');
    TarWriter w;
    HeaderSpec split;
    split.prefix = std::string(120, 'p');
    split.name = std::string(90, 'n');
    split.size = 2;
    w.header(split);
    w.data("pf");

    w.gnu_long('L', long_name);
    HeaderSpec gnu;
    gnu.name = "truncated-name";
    gnu.magic = Magic::gnu;
    gnu.size = 3;
    w.header(gnu);
    w.data("gnu");

    w.gnu_long('K', long_target);
    w.gnu_long('L', "links/long");
    HeaderSpec link;
    link.name = "ignored";
    link.type = '2';
    link.linkname = "ignored";
    link.magic = Magic::gnu;
    w.header(link);

    HeaderSpec v7;
    v7.name = "old/dir/";
    v7.type = '\0';
    v7.magic = Magic::v7;
    v7.prefix = "not-a-prefix";  // v7 headers have no prefix field
    w.header(v7);
    w.end();

    const Archive a = parse_ok(w);
    CHECK(contents(a, deep) == "pf");
    CHECK(contents(a, long_name) == "gnu");
    CHECK_FALSE(a.lookup_path("truncated-name").has_value());
    CHECK(a.node(at(a, "links/long")).link_target == long_target);
    CHECK(a.node(at(a, "old/dir")).type == NodeType::directory);  // old-style: '/' marks a directory
}

TEST_CASE("tar: pax per-file and global headers", "[fs][tar]") {
    const std::string long_path = "pax/" + std::string(200, 'q');
    TarWriter w;
    w.pax('g', {{"uid", "4000000"}, {"gid", "4000001"}, {"comment", "ignored"}});
    w.pax('x', {{"path", long_path},
                {"mtime", "1700000000.123456789123"},
                {"uname", "someone"},
                {"SCHILY.xattr.user.x", "y"},
                {"size", "5"}});
    HeaderSpec h;
    h.name = "short";
    h.size = 0;  // pax size overrides the header's
    w.header(h);
    w.data("hello");

    w.pax('x', {{"linkpath", std::string(400, 'z')}, {"uid", "7"}, {"mtime", "-1.25"}});
    HeaderSpec s;
    s.name = "pax/link";
    s.type = '2';
    w.header(s);

    w.pax('x', {{"uid", ""}});  // an empty value deletes the global value: the header field is used
    w.file("pax/plain", "p");
    w.end();

    const Archive a = parse_ok(w);
    const auto& f = a.node(at(a, long_path));
    CHECK(f.size == 5);
    CHECK(contents(a, long_path) == "hello");
    CHECK(f.mtime_seconds == 1'700'000'000);
    CHECK(f.mtime_nanoseconds == 123'456'789);
    CHECK(f.uid == 4'000'000);
    CHECK(f.gid == 4'000'001);
    const auto& l = a.node(at(a, "pax/link"));
    CHECK(l.link_target == std::string(400, 'z'));
    CHECK(l.uid == 7);
    CHECK(l.gid == 4'000'001);
    CHECK(l.mtime_seconds == -2);
    CHECK(l.mtime_nanoseconds == 750'000'000);
    const auto& p = a.node(at(a, "pax/plain"));
    CHECK(p.uid == 1000);         // header value: the per-file record deleted the global one
    CHECK(p.gid == 4'000'001);    // the global gid still applies
}

TEST_CASE("tar: base-256 numbers and signed checksums", "[fs][tar]") {
    TarWriter w;
    HeaderSpec h;
    h.name = "big";
    h.size = 3;
    h.base256_size = true;
    h.mtime = -86400;
    h.base256_mtime = true;
    h.uid = 3'000'000'000u;
    h.base256_uid = true;
    w.header(h);
    w.data("b256");
    const auto signed_at = w.file("caf\xc3\xa9", "s");
    w.fix_checksum_signed(signed_at);
    w.end();
    const Archive a = parse_ok(w);
    CHECK(a.node(at(a, "big")).size == 3);
    CHECK(contents(a, "big") == "b25");
    CHECK(a.node(at(a, "big")).mtime_seconds == -86400);
    CHECK(a.node(at(a, "big")).uid == 3'000'000'000u);
    CHECK(contents(a, "caf\xc3\xa9") == "s");
}

TEST_CASE("tar: later entries win, as with GNU tar", "[fs][tar]") {
    TarWriter w;
    w.file("f", "old");
    w.hardlink("keep", "f");  // links the old contents
    w.file("f", "new");
    w.dir("d", 0700);
    w.file("d/child", "c");
    w.dir("d/", 0711);  // a later directory entry updates the directory, keeps its children
    w.file("gone/x", "x");
    w.file("gone", "now a file");  // replaces the directory and its subtree
    w.file("same", "s");
    w.hardlink("same", "same");  // a link to itself changes nothing
    w.end();
    const Archive a = parse_ok(w);
    CHECK(contents(a, "f") == "new");
    CHECK(contents(a, "keep") == "old");
    CHECK(a.node(at(a, "f")).link_count == 1);
    CHECK(a.node(at(a, "keep")).link_count == 1);
    CHECK(a.node(at(a, "d")).permissions == 0711);
    CHECK(contents(a, "d/child") == "c");
    CHECK(a.node(at(a, "gone")).type == NodeType::regular);
    CHECK(a.lookup_path("gone/x").error() == Errno::notdir);
    CHECK(a.node(at(a, "same")).link_count == 1);
}

TEST_CASE("tar: an archive may end without its zero blocks", "[fs][tar]") {
    TarWriter w;
    w.file("a", "1");
    const Archive a = parse_ok(w);
    CHECK(contents(a, "a") == "1");

    TarWriter empty;
    const Archive e = parse_ok(empty);
    CHECK(e.entries(litebox::fs::tar::root_node).empty());

    TarWriter trailing;  // garbage after the end-of-archive marker is ignored
    trailing.file("a", "1");
    trailing.end();
    trailing.data("junk after the end");
    CHECK(contents(parse_ok(trailing), "a") == "1");
}

TEST_CASE("tar: malformed archives are rejected with a reason", "[fs][tar]") {
    SECTION("checksum") {
        TarWriter w;
        const auto h = w.file("a", "1");
        w.bytes()[h + 1] = std::byte{'b'};
        const auto why = parse_fails(w, Errno::inval);
        CHECK(why.reason.find("checksum") != std::string::npos);
        CHECK(why.offset == 0);
    }
    SECTION("checksum field not octal") {
        TarWriter w;
        const auto h = w.file("a", "1");
        w.put_raw(h + 148, "zzzzzz");
        parse_fails(w, Errno::inval);
    }
    SECTION("size past the end") {
        TarWriter w;
        w.file("ok", "1");
        HeaderSpec h;
        h.name = "big";
        h.size = 1u << 20;
        w.header(h);
        w.data("short");
        const auto why = parse_fails(w, Errno::inval);
        CHECK(why.reason.find("past the end") != std::string::npos);
        CHECK(why.reason.find("big") != std::string::npos);
        CHECK(why.offset == 1024);
    }
    SECTION("pax size past the end") {
        TarWriter w;
        w.pax('x', {{"size", "99999999999"}});
        w.file("a", "1");
        parse_fails(w, Errno::inval);
    }
    SECTION("bad octal") {
        TarWriter w;
        const auto h = w.file("a", "1");
        w.put_raw(h + 100, "07558");
        w.fix_checksum(h);
        const auto why = parse_fails(w, Errno::inval);
        CHECK(why.reason.find("mode") != std::string::npos);
    }
    SECTION("negative size") {
        TarWriter w;
        HeaderSpec h;
        h.name = "neg";
        h.size = static_cast<std::uint64_t>(-5);
        h.base256_size = true;
        w.header(h);
        parse_fails(w, Errno::inval);
    }
    SECTION("truncated header") {
        TarWriter w;
        w.file("a", "1");
        w.data("partial header");
        w.bytes().resize(w.bytes().size() - 100);
        const auto why = parse_fails(w, Errno::inval);
        CHECK(why.reason.find("truncated") != std::string::npos);
    }
    SECTION("NUL inside a GNU long name") {
        TarWriter w;
        w.metadata('L', std::string("evil\0name", 9));
        w.file("x", "1");
        const auto why = parse_fails(w, Errno::inval);
        CHECK(why.reason.find("NUL") != std::string::npos);
    }
    SECTION("NUL inside a pax path") {
        TarWriter w;
        w.pax('x', {{"path", std::string("a\0b", 3)}});
        w.file("x", "1");
        parse_fails(w, Errno::inval);
    }
    SECTION("NUL inside a symlink target") {
        TarWriter w;
        w.pax('x', {{"linkpath", std::string("a\0b", 3)}});
        w.symlink("s", "t");
        parse_fails(w, Errno::inval);
    }
    SECTION("'..' escaping the root") {
        for (const char* name : {"../etc/passwd", "a/../../b", "/..", "./a/b/../../.."}) {
            TarWriter w;
            w.file(name, "1");
            const auto why = parse_fails(w, Errno::inval);
            CHECK(why.reason.find("escapes") != std::string::npos);
        }
    }
    SECTION("hard link escaping the root") {
        TarWriter w;
        w.hardlink("x", "../outside");
        parse_fails(w, Errno::inval);
    }
    SECTION("empty name") {
        TarWriter w;
        w.file("", "1");
        parse_fails(w, Errno::inval);
    }
    SECTION("a file naming the root") {
        TarWriter w;
        w.file(".", "1");
        parse_fails(w, Errno::inval);
    }
    SECTION("hard link to a missing target") {
        TarWriter w;
        w.hardlink("x", "missing");
        const auto why = parse_fails(w, Errno::noent);
        CHECK(why.reason.find("hard link") != std::string::npos);
        TarWriter w2;
        w2.hardlink("x", "missing/dir/file");
        parse_fails(w2, Errno::noent);
    }
    SECTION("hard link to a directory") {
        TarWriter w;
        w.dir("d");
        w.hardlink("x", "d");
        parse_fails(w, Errno::perm);
        TarWriter w2;
        w2.hardlink("x", "/");
        parse_fails(w2, Errno::perm);
    }
    SECTION("path through a file or a symlink") {
        TarWriter w;
        w.file("f", "1");
        w.file("f/g", "2");
        parse_fails(w, Errno::notdir);
        TarWriter w2;
        w2.symlink("s", "/etc");
        w2.file("s/passwd", "2");
        parse_fails(w2, Errno::notdir);
    }
    SECTION("path too long") {
        std::string path;
        while (path.size() <= 4096) path += "abcdefgh/";
        TarWriter w;
        w.pax('x', {{"path", path}});
        w.file("x", "1");
        parse_fails(w, Errno::nametoolong);
        TarWriter w2;
        w2.pax('x', {{"path", std::string(256, 'n')}});
        w2.file("x", "1");
        parse_fails(w2, Errno::nametoolong);
        TarWriter w3;
        w3.pax('x', {{"linkpath", std::string(4097, 't')}});
        w3.symlink("x", "t");
        parse_fails(w3, Errno::nametoolong);
    }
    SECTION("node limit") {
        TarWriter w;
        for (int i = 0; i < 10; ++i) w.file("f" + std::to_string(i), "x");
        Limits limits;
        limits.max_nodes = 10;  // the root plus 9
        parse_fails(w, Errno::nospc, limits);
        limits.max_nodes = 11;
        CHECK(Archive::parse(w.span(), limits).has_value());
        TarWriter deep;  // implied directories count too
        deep.file("a/b/c/d/e/f/g/h/i/j/k", "x");
        limits.max_nodes = 5;
        parse_fails(deep, Errno::nospc, limits);
    }
    SECTION("metadata limit") {
        TarWriter w;
        w.pax('x', {{"comment", std::string(70000, 'c')}});
        w.file("x", "1");
        parse_fails(w, Errno::toobig);
        Limits limits;
        limits.max_metadata_size = 100;
        TarWriter w2;
        w2.gnu_long('L', std::string(200, 'l'));
        w2.file("x", "1");
        parse_fails(w2, Errno::toobig, limits);
    }
    SECTION("malformed pax records") {
        for (const std::string& body : {std::string("5 a=b\n"), std::string("x path=a\n"), std::string("11 path=a\n"),
                                       std::string("8 patha\n"), std::string("10 path=ab"), std::string("6 =ab\n"),
                                       std::string("99999999999999999999999 a=b\n")}) {
            TarWriter w;
            w.metadata('x', body, "pax");
            w.file("x", "1");
            INFO("record: " << body);
            parse_fails(w, Errno::inval);
        }
    }
    SECTION("bad pax values") {
        for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
                 {"size", "12a"}, {"size", "-1"}, {"uid", "4294967296"}, {"mtime", "1.2.3"}, {"mtime", "1."}, {"gid", "x"}}) {
            TarWriter w;
            w.pax('x', {{key, value}});
            w.file("x", "1");
            parse_fails(w, Errno::inval);
        }
    }
    SECTION("extended header without an entry") {
        TarWriter w;
        w.file("a", "1");
        w.pax('x', {{"path", "b"}});
        w.end();
        parse_fails(w, Errno::inval);
    }
    SECTION("sparse files") {
        TarWriter w;
        HeaderSpec h;
        h.name = "sparse";
        h.type = 'S';
        h.magic = Magic::gnu;
        w.header(h);
        parse_fails(w, Errno::opnotsupp);
        TarWriter w2;
        w2.pax('x', {{"GNU.sparse.major", "1"}});
        w2.file("x", "1");
        parse_fails(w2, Errno::opnotsupp);
    }
}

TEST_CASE("tar: unknown types are regular files, volume labels are skipped", "[fs][tar]") {
    TarWriter w;
    HeaderSpec label;
    label.name = "VOLUME";
    label.type = 'V';
    label.magic = Magic::gnu;
    w.header(label);
    HeaderSpec odd;
    odd.name = "vendor";
    odd.type = 'Q';
    odd.size = 1;
    w.header(odd);
    w.data("q");
    HeaderSpec contiguous;
    contiguous.name = "contig";
    contiguous.type = '7';
    contiguous.size = 1;
    w.header(contiguous);
    w.data("7");
    w.end();
    const Archive a = parse_ok(w);
    CHECK_FALSE(a.lookup_path("VOLUME").has_value());
    CHECK(contents(a, "vendor") == "q");
    CHECK(contents(a, "contig") == "7");
}

}  // namespace LITEBOX_UNITY_ID
}  // namespace
