// /proc/<pid>/maps of a box process: the kernel's view of the guest's address space (the guest's
// mappings are real host mappings), with every host name and file identity replaced by the box's.
//
// The host text names memfds ("/memfd:litebox-guest (deleted)") and host files opened through the
// host-directory punchthrough (their host paths, which a --mount may place elsewhere in the box),
// and gives host device and inode numbers. None of that may reach the guest. So a file-backed line
// is kept only through what the runtime recorded when it installed that file for the kernel to map
// (the program image at exec, a box file at mmap): the host (device, inode) of that descriptor
// leads to the box path and the box's device and inode. Any other file-backed line is printed as
// anonymous (no name, 00:00, inode 0). Of the kernel's bracketed names only the fixed ones
// ([heap], [stack], [vdso], ...) and the guest's own ([anon:NAME], set with PR_SET_VMA) are kept.
#pragma once

#include <sys/sysmacros.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace litebox_run {

/// How a host file the kernel maps for a guest appears in the box.
struct MappedName {
    std::string path;
    std::uint64_t device = 0;  // the box's st_dev (glibc encoding, as the guest's stat sees it)
    std::uint64_t inode = 0;
};

namespace maps_detail {
/// The whole of `text` as a number in `base`.
inline bool number(std::string_view text, std::uint64_t& out, int base) {
    if (text.empty()) return false;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
    return ec == std::errc() && end == text.data() + text.size();
}
inline bool hex(std::string_view text, std::uint64_t& out) { return number(text, out, 16); }
/// The next space-separated field of `line` (spaces before it skipped).
inline std::string_view field(std::string_view& line) {
    const auto start = line.find_first_not_of(' ');
    if (start == std::string_view::npos) {
        line = {};
        return {};
    }
    line.remove_prefix(start);
    const auto end = std::min(line.find(' '), line.size());
    const std::string_view out = line.substr(0, end);
    line.remove_prefix(end);
    return out;
}
/// Kernel-made names that say nothing about the host, and the names a guest gives its own mappings.
inline bool keep_bracketed(std::string_view name) {
    static constexpr std::string_view fixed[] = {"[heap]", "[stack]", "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]", "[uprobes]"};
    if (std::find(std::begin(fixed), std::end(fixed), name) != std::end(fixed)) return true;
    return (name.starts_with("[anon:") || name.starts_with("[anon_shmem:")) && name.ends_with("]");
}
}  // namespace maps_detail

/// One line of the host's /proc/PID/maps.
struct HostMapping {
    std::uint64_t start = 0, end = 0, offset = 0;
    std::uint64_t device = 0;  // makedev(major, minor)
    std::uint64_t inode = 0;
    std::string_view perms, name;
};

/// The fields of one maps line; nullopt if it does not parse.
inline std::optional<HostMapping> parse_maps_line(std::string_view line) {
    const std::string_view range = maps_detail::field(line);
    const std::string_view perms = maps_detail::field(line);
    const std::string_view offset_text = maps_detail::field(line);
    const std::string_view dev_text = maps_detail::field(line);
    const std::string_view inode_text = maps_detail::field(line);
    const auto name_start = line.find_first_not_of(' ');
    HostMapping out;
    out.perms = perms;
    out.name = name_start == std::string_view::npos ? std::string_view{} : line.substr(name_start);
    std::uint64_t major_number = 0, minor_number = 0;
    const auto dash = range.find('-');
    const auto colon = dev_text.find(':');
    if (dash == std::string_view::npos || colon == std::string_view::npos || perms.size() != 4 ||
        !maps_detail::hex(range.substr(0, dash), out.start) || !maps_detail::hex(range.substr(dash + 1), out.end) ||
        !maps_detail::hex(offset_text, out.offset) || !maps_detail::hex(dev_text.substr(0, colon), major_number) ||
        !maps_detail::hex(dev_text.substr(colon + 1), minor_number) || !maps_detail::number(inode_text, out.inode, 10)) {
        return std::nullopt;
    }
    out.device = ::makedev(static_cast<unsigned>(major_number), static_cast<unsigned>(minor_number));
    return out;
}

/// Calls `f(mapping)` for each line of maps text `text` that parses, in order.
template <typename F>
void for_each_mapping(std::string_view text, F&& f) {
    while (!text.empty()) {
        const auto newline = std::min(text.find('\n'), text.size());
        const std::string_view line = text.substr(0, newline);
        text.remove_prefix(std::min(newline + 1, text.size()));
        if (auto mapping = parse_maps_line(line)) f(*mapping);
    }
}

/// Rewrites the host's /proc/PID/maps text `host` for the box. `lookup(host_device, host_inode)`
/// names the host files the runtime installed for mapping. Lines that do not parse are dropped.
/// nullopt if the result would exceed `max_bytes` (box paths can be much longer than host names).
inline std::optional<std::string> box_maps(std::string_view host,
                                           const std::function<std::optional<MappedName>(std::uint64_t, std::uint64_t)>& lookup,
                                           std::size_t max_bytes) {
    std::string out;
    out.reserve(host.size());
    bool too_long = false;
    for_each_mapping(host, [&](const HostMapping& m) {
        if (too_long) return;
        const std::string_view name = m.name;
        std::string shown;
        std::uint64_t box_major = 0, box_minor = 0, box_inode = 0;
        if (!name.empty() && name.front() == '[') {
            if (maps_detail::keep_bracketed(name)) shown = std::string(name);
        } else if (name == "/dev/zero (deleted)") {
            shown = std::string(name);  // a shared anonymous mapping, as Linux names it
        } else if (m.inode != 0) {
            if (auto named = lookup(m.device, m.inode)) {
                shown = std::move(named->path);
                box_major = ::major(named->device);
                box_minor = ::minor(named->device);
                box_inode = named->inode;
            }
        }
        std::string prefix = fmt::format("{:08x}-{:08x} {} {:08x} {:02x}:{:02x} {} ", m.start, m.end, m.perms, m.offset, box_major, box_minor, box_inode);
        if (!shown.empty()) {
            // Linux pads the fields to 72 columns, then one space, then the name -- with a
            // newline in it written as \012, so that a file name cannot forge lines.
            if (prefix.size() < 72) prefix.append(72 - prefix.size(), ' ');
            prefix += ' ';
            for (const char c : shown) {
                if (c == '\n') prefix += "\\012";
                else prefix += c;
            }
        }
        if (out.size() + prefix.size() + 1 > max_bytes) {
            too_long = true;
            return;
        }
        out += prefix;
        out += '\n';
    });
    if (too_long) return std::nullopt;
    return out;
}

}  // namespace litebox_run
