// libFuzzer target for the tar parser: arbitrary bytes go to tar::Archive::parse; on success the
// whole index is walked and checked (sorted unique names, lookups agree, data inside the input,
// link counts consistent) and every file is read. A parse failure must carry a reason.
//
// The first input byte is a mode: when odd, the header checksums of the remaining bytes are fixed
// up before parsing, so that mutations reach the code behind the checksum check.
//
// Run: CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DLITEBOX_BUILD_FUZZ=ON && ninja -C build-fuzz
//      tar_fuzz && build-fuzz/tests/fuzz/tar_fuzz -max_total_time=600 corpus/ tests/fuzz/corpus/tar_fuzz
#include <litebox/fs/tar/archive.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

namespace {

using litebox::fs::tar::Archive;
using litebox::fs::tar::NodeId;
using litebox::fs::tar::NodeType;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "tar_fuzz invariant broken: %s\n", what);
    __builtin_trap();
}

void fix_checksums(std::vector<std::byte>& bytes) {
    for (std::size_t at = 0; at + 512 <= bytes.size(); at += 512) {
        std::memset(bytes.data() + at + 148, ' ', 8);
        unsigned sum = 0;
        for (std::size_t i = 0; i < 512; ++i) sum += static_cast<unsigned char>(bytes[at + i]);
        char text[8];
        std::snprintf(text, sizeof text, "%06o", sum & 0777777u);
        std::memcpy(bytes.data() + at + 148, text, 7);
    }
}

void check_index(const Archive& a, std::span<const std::byte> input) {
    std::vector<std::uint32_t> references(a.node_count(), 0);
    std::vector<NodeId> stack{litebox::fs::tar::root_node};
    std::array<std::byte, 4096> buffer{};
    std::size_t visited = 0;
    while (!stack.empty()) {
        const NodeId dir = stack.back();
        stack.pop_back();
        if (++visited > a.node_count()) fail("directory cycle");
        const auto entries = a.entries(dir);
        std::uint32_t subdirectories = 0;
        for (std::size_t i = 0; i < entries.size(); ++i) {
            const auto& e = entries[i];
            if (i > 0 && !(entries[i - 1].name < e.name)) fail("entries not sorted and unique");
            if (e.name.empty() || e.name == "." || e.name == ".." || e.name.find('/') != std::string::npos ||
                e.name.find('\0') != std::string::npos)
                fail("bad entry name");
            if (!a.valid(e.node)) fail("entry names an invalid node");
            if (a.lookup(dir, e.name) != e.node) fail("lookup disagrees with the entry list");
            const auto& n = a.node(e.node);
            if (n.permissions > 07777) fail("permission bits out of range");
            switch (n.type) {
                case NodeType::directory:
                    if (n.parent != dir) fail("directory parent mismatch");
                    ++subdirectories;
                    stack.push_back(e.node);
                    break;
                case NodeType::regular: {
                    ++references[e.node];
                    const auto data = a.data(e.node);
                    if (data.size() != n.size) fail("data size mismatch");
                    if (!data.empty() && (data.data() < input.data() || data.data() + data.size() > input.data() + input.size()))
                        fail("data outside the archive");
                    std::uint64_t offset = 0;
                    while (const auto got = a.read(e.node, offset, buffer)) offset += got;
                    if (offset != n.size) fail("read did not return the whole file");
                    break;
                }
                case NodeType::symlink:
                    ++references[e.node];
                    if (n.link_target.size() != n.size) fail("symlink size mismatch");
                    break;
                default: ++references[e.node]; break;
            }
        }
        if (a.node(dir).link_count != 2 + subdirectories) fail("directory link count");
    }
    for (NodeId id = 0; id < a.node_count(); ++id) {
        const auto& n = a.node(id);
        if (n.type != NodeType::directory && references[id] != n.link_count) fail("file link count");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::vector<std::byte> bytes(size - 1);
    if (size > 1) std::memcpy(bytes.data(), data + 1, size - 1);
    if (data[0] & 1) fix_checksums(bytes);

    litebox::fs::tar::Limits limits;
    limits.max_nodes = 1u << 14;
    litebox::fs::tar::ParseError why;
    auto parsed = Archive::parse(bytes, limits, &why);
    if (!parsed) {
        if (why.reason.empty() || why.error != parsed.error()) fail("failure without a reason");
        if (why.offset > bytes.size()) fail("failure offset past the input");
        return 0;
    }
    check_index(*parsed, bytes);
    // Path walks over the index with a path made of the input's first bytes.
    const std::string_view path(reinterpret_cast<const char*>(data), size < 64 ? size : 64);
    (void)parsed->lookup_path(path);
    return 0;
}
