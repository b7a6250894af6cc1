// The tar parser behind Archive::parse: walks the headers once, applies pax and GNU long-name
// records, and builds the directory tree. See archive.hpp for the rules it enforces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../../error.hpp"
#include "../archive.hpp"
#include "format.hpp"

namespace litebox::fs::tar::detail {

/// A pax value: absent, explicitly deleted (empty value), or set.
template <typename T>
struct PaxSetting {
    bool present = false;
    bool deleted = false;
    T value{};
};

struct PaxTime {
    std::int64_t seconds = 0;
    std::uint32_t nanoseconds = 0;
};

/// The pax keys this reader honours.
struct PaxValues {
    PaxSetting<std::string> path;
    PaxSetting<std::string> linkpath;
    PaxSetting<std::uint64_t> size;
    PaxSetting<PaxTime> mtime;
    PaxSetting<std::uint32_t> uid;
    PaxSetting<std::uint32_t> gid;
};

/// Entry kinds after type-flag decoding.
enum class EntryKind { regular, directory, symlink, hard_link, char_device, block_device, fifo };

/// One file-system entry as the headers describe it, before it is placed in the tree.
struct EntryInfo {
    EntryKind kind = EntryKind::regular;
    std::string path;
    std::string link;
    std::uint32_t permissions = 0;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    PaxTime mtime;
    std::uint64_t data_offset = 0;
    std::uint64_t size = 0;
    std::uint32_t device_major = 0;
    std::uint32_t device_minor = 0;
};

class ArchiveBuilder {
public:
    ArchiveBuilder(std::span<const std::byte> bytes, const Limits& limits, ParseError* error)
        : m_bytes(bytes), m_limits(limits), m_error(error) {}

    Result<Archive> run() {
        Node root;
        root.type = NodeType::directory;
        root.permissions = 0755;
        root.implied = true;
        m_nodes.push_back(std::move(root));
        m_children.emplace_back();

        const std::uint64_t total = m_bytes.size();
        std::uint64_t pos = 0;
        while (pos < total) {
            m_offset = pos;
            if (total - pos < block_size) {
                if (all_zero(pos, total - pos)) break;
                return fail(Errno::inval, "truncated header at the end of the archive");
            }
            const Block block(m_bytes.data() + pos, block_size);
            if (is_zero_block(block)) break;  // end-of-archive marker; anything after it is ignored
            if (!checksum_matches(block)) return fail(Errno::inval, "header checksum mismatch");
            m_current_name.assign(string_field(block, field_name));  // for error messages

            std::uint64_t header_size = 0;
            LITEBOX_TRY(unsigned_field(block, field_size, "size", std::numeric_limits<std::int64_t>::max(), header_size));
            const char type = field_bytes(block, field_typeflag)[0];
            const std::uint64_t data_offset = pos + block_size;
            const bool metadata = type == 'x' || type == 'X' || type == 'g' || type == 'L' || type == 'K';
            std::uint64_t size = header_size;
            if (!metadata) {
                const auto& pax_size = effective(m_local.size, m_global.size);
                if (pax_size) size = *pax_size;
            }
            if (size > total - data_offset) return fail(Errno::inval, "entry data runs past the end of the archive");
            if (metadata && size > m_limits.max_metadata_size)
                return fail(Errno::toobig, "extended header larger than the metadata limit");

            const std::string_view data(reinterpret_cast<const char*>(m_bytes.data()) + data_offset,
                                        static_cast<std::size_t>(metadata ? size : 0));
            switch (type) {
                case 'x':
                case 'X':
                    LITEBOX_TRY(parse_pax(data, m_local, false));
                    m_pending_metadata = true;
                    break;
                case 'g':
                    LITEBOX_TRY(parse_pax(data, m_global, true));
                    break;
                case 'L':
                    LITEBOX_TRY(long_name(data, m_long_name));
                    m_pending_metadata = true;
                    break;
                case 'K':
                    LITEBOX_TRY(long_name(data, m_long_link));
                    m_pending_metadata = true;
                    break;
                case 'V':  // GNU volume label: not a file
                    clear_local();
                    break;
                case 'S':
                    return fail(Errno::opnotsupp, "GNU sparse files are not supported");
                case 'M':
                    return fail(Errno::opnotsupp, "multi-volume continuation entries are not supported");
                case 'N':
                    return fail(Errno::opnotsupp, "old GNU long-name entries are not supported");
                default:
                    LITEBOX_TRY(entry(block, type, data_offset, size));
                    clear_local();
                    break;
            }
            const auto padded = padded_size(size);
            pos = (!padded || *padded > total - data_offset) ? total : data_offset + *padded;
        }
        if (m_pending_metadata) {
            m_offset = pos;
            return fail(Errno::inval, "extended header or long name not followed by an entry");
        }
        return finish();
    }

private:
    // ---- errors --------------------------------------------------------------------------------
    Errno fail(Errno e, std::string_view reason) {
        if (m_error) {
            m_error->error = e;
            m_error->reason = std::string(reason);
            if (!m_current_name.empty()) {
                m_error->reason += ": '";
                m_error->reason += m_current_name.substr(0, 256);
                m_error->reason += "'";
            }
            m_error->offset = m_offset;
        }
        return e;
    }

    Result<void> unsigned_field(Block block, Field f, std::string_view what, std::uint64_t max, std::uint64_t& out) {
        switch (parse_unsigned(field_bytes(block, f), max, out)) {
            case NumberError::none: return ok();
            case NumberError::syntax: return fail(Errno::inval, std::string("invalid numeric field ").append(what));
            case NumberError::overflow: return fail(Errno::inval, std::string("numeric field out of range: ").append(what));
            case NumberError::negative: return fail(Errno::inval, std::string("negative numeric field ").append(what));
        }
        return fail(Errno::inval, "invalid numeric field");
    }

    [[nodiscard]] bool all_zero(std::uint64_t from, std::uint64_t count) const noexcept {
        for (std::uint64_t i = 0; i < count; ++i)
            if (m_bytes[static_cast<std::size_t>(from + i)] != std::byte{0}) return false;
        return true;
    }

    // ---- metadata records ----------------------------------------------------------------------
    template <typename T>
    static std::optional<T> effective(const PaxSetting<T>& local, const PaxSetting<T>& global) {
        if (local.present) return local.deleted ? std::nullopt : std::optional<T>(local.value);
        if (global.present) return global.value;
        return std::nullopt;
    }

    void clear_local() {
        m_local = PaxValues{};
        m_long_name.reset();
        m_long_link.reset();
        m_pending_metadata = false;
    }

    Result<void> parse_pax(std::string_view data, PaxValues& into, bool global) {
        Result<void> status = ok();
        const bool well_formed = for_each_pax_record(data, [&](const PaxRecord& r) {
            status = pax_record(r, into, global);
            return status.has_value();
        });
        if (!status) return status;
        if (!well_formed) return fail(Errno::inval, "malformed pax extended header record");
        return ok();
    }

    template <typename T, typename Parse>
    Result<void> pax_setting(PaxSetting<T>& s, std::string_view value, bool global, Parse&& parse) {
        if (value.empty()) {
            s = PaxSetting<T>{};
            if (!global) {
                s.present = true;
                s.deleted = true;
            }
            return ok();
        }
        T parsed{};
        if (!parse(value, parsed)) return fail(Errno::inval, "invalid pax value");
        s.present = true;
        s.deleted = false;
        s.value = std::move(parsed);
        return ok();
    }

    Result<void> pax_record(const PaxRecord& r, PaxValues& into, bool global) {
        const auto text = [](std::string_view v, std::string& out) {
            out.assign(v);
            return true;
        };
        const auto id = [](std::string_view v, std::uint32_t& out) {
            std::uint64_t n = 0;
            if (!parse_decimal(v, std::numeric_limits<std::uint32_t>::max(), n)) return false;
            out = static_cast<std::uint32_t>(n);
            return true;
        };
        if (r.key == "path") return pax_setting(into.path, r.value, global, text);
        if (r.key == "linkpath") return pax_setting(into.linkpath, r.value, global, text);
        if (r.key == "size")
            return pax_setting(into.size, r.value, global, [](std::string_view v, std::uint64_t& out) {
                return parse_decimal(v, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()), out);
            });
        if (r.key == "mtime")
            return pax_setting(into.mtime, r.value, global, [](std::string_view v, PaxTime& out) {
                return parse_pax_time(v, out.seconds, out.nanoseconds);
            });
        if (r.key == "uid") return pax_setting(into.uid, r.value, global, id);
        if (r.key == "gid") return pax_setting(into.gid, r.value, global, id);
        if (r.key.substr(0, 11) == "GNU.sparse.") return fail(Errno::opnotsupp, "GNU sparse files are not supported");
        return ok();  // uname, gname, atime, ctime, charset, comment, vendor keys: ignored
    }

    Result<void> long_name(std::string_view data, std::optional<std::string>& into) {
        const auto nul = data.find('\0');
        const std::string_view name = data.substr(0, nul);
        if (nul != std::string_view::npos && data.find_first_not_of('\0', nul) != std::string_view::npos)
            return fail(Errno::inval, "GNU long name contains NUL");
        into.emplace(name);
        return ok();
    }

    // ---- entries -------------------------------------------------------------------------------
    Result<void> entry(Block block, char type, std::uint64_t data_offset, std::uint64_t size) {
        EntryInfo e;
        e.data_offset = data_offset;
        e.size = size;
        const Dialect dialect = dialect_of(block);

        if (const auto path = effective(m_local.path, m_global.path)) {
            e.path = *path;
        } else if (m_long_name) {
            e.path = *m_long_name;
        } else {
            const std::string_view prefix =
                dialect == Dialect::posix_ustar ? string_field(block, field_prefix) : std::string_view{};
            if (!prefix.empty()) {
                e.path.assign(prefix);
                e.path += '/';
            }
            e.path += string_field(block, field_name);
        }
        m_current_name = e.path;
        if (const auto link = effective(m_local.linkpath, m_global.linkpath)) {
            e.link = *link;
        } else if (m_long_link) {
            e.link = *m_long_link;
        } else {
            e.link.assign(string_field(block, field_linkname));
        }

        std::uint64_t value = 0;
        LITEBOX_TRY(unsigned_field(block, field_mode, "mode", std::numeric_limits<std::uint32_t>::max(), value));
        e.permissions = static_cast<std::uint32_t>(value) & 07777u;
        if (const auto uid = effective(m_local.uid, m_global.uid)) {
            e.uid = *uid;
        } else {
            LITEBOX_TRY(unsigned_field(block, field_uid, "uid", std::numeric_limits<std::uint32_t>::max(), value));
            e.uid = static_cast<std::uint32_t>(value);
        }
        if (const auto gid = effective(m_local.gid, m_global.gid)) {
            e.gid = *gid;
        } else {
            LITEBOX_TRY(unsigned_field(block, field_gid, "gid", std::numeric_limits<std::uint32_t>::max(), value));
            e.gid = static_cast<std::uint32_t>(value);
        }
        if (const auto mtime = effective(m_local.mtime, m_global.mtime)) {
            e.mtime = *mtime;
        } else {
            std::int64_t seconds = 0;
            if (parse_number(field_bytes(block, field_mtime), seconds) != NumberError::none)
                return fail(Errno::inval, "invalid numeric field mtime");
            e.mtime = PaxTime{seconds, 0};
        }

        switch (type) {
            case '1': e.kind = EntryKind::hard_link; break;
            case '2': e.kind = EntryKind::symlink; break;
            case '3': e.kind = EntryKind::char_device; break;
            case '4': e.kind = EntryKind::block_device; break;
            case '5':
            case 'D': e.kind = EntryKind::directory; break;
            case '6': e.kind = EntryKind::fifo; break;
            default:  // '0', '\0', '7' and unknown types: regular files (old tars mark dirs with '/')
                e.kind = (type == '0' || type == '\0') && !e.path.empty() && e.path.back() == '/' ? EntryKind::directory
                                                                                                : EntryKind::regular;
                break;
        }
        if (e.kind == EntryKind::char_device || e.kind == EntryKind::block_device) {
            LITEBOX_TRY(unsigned_field(block, field_devmajor, "devmajor", std::numeric_limits<std::uint32_t>::max(), value));
            e.device_major = static_cast<std::uint32_t>(value);
            LITEBOX_TRY(unsigned_field(block, field_devminor, "devminor", std::numeric_limits<std::uint32_t>::max(), value));
            e.device_minor = static_cast<std::uint32_t>(value);
        }
        LITEBOX_TRY(place(e));
        m_current_name.clear();
        return ok();
    }

    /// Splits a name into normal components: '/'-separated, '.' and empty ones dropped, '..'
    /// resolved lexically. Fails on NUL, overlong names or components, and escapes from the root.
    Result<std::vector<std::string_view>> components(std::string_view path) {
        if (path.empty()) return fail(Errno::inval, "empty entry name");
        if (path.find('\0') != std::string_view::npos) return fail(Errno::inval, "name contains NUL");
        if (path.size() > m_limits.max_path_length) return fail(Errno::nametoolong, "name longer than the path limit");
        std::vector<std::string_view> out;
        std::size_t start = 0;
        while (start <= path.size()) {
            auto slash = path.find('/', start);
            if (slash == std::string_view::npos) slash = path.size();
            const std::string_view part = path.substr(start, slash - start);
            start = slash + 1;
            if (part.empty() || part == ".") continue;
            if (part == "..") {
                if (out.empty()) return fail(Errno::inval, "name escapes the archive root with '..'");
                out.pop_back();
                continue;
            }
            if (part.size() > m_limits.max_name_length)
                return fail(Errno::nametoolong, "path component longer than the name limit");
            out.push_back(part);
        }
        return out;
    }

    Result<NodeId> new_node(Node node) {
        if (m_nodes.size() >= m_limits.max_nodes || m_nodes.size() >= std::numeric_limits<NodeId>::max())
            return fail(Errno::nospc, "archive has more entries than the node limit");
        m_nodes.push_back(std::move(node));
        m_children.emplace_back();
        return static_cast<NodeId>(m_nodes.size() - 1);
    }

    /// Walks `parts` from the root; missing directories are created (implied) when `create`.
    Result<NodeId> walk(std::span<const std::string_view> parts, bool create, const PaxTime& mtime) {
        NodeId dir = root_node;
        for (const auto part : parts) {
            auto& children = m_children[dir];
            const auto it = children.find(part);
            if (it != children.end()) {
                if (m_nodes[it->second].type != NodeType::directory)
                    return fail(Errno::notdir, "a path component is not a directory");
                dir = it->second;
                continue;
            }
            if (!create) return fail(Errno::noent, "hard link target does not exist");
            Node implied;
            implied.type = NodeType::directory;
            implied.permissions = 0755;
            implied.mtime_seconds = mtime.seconds;
            implied.mtime_nanoseconds = mtime.nanoseconds;
            implied.parent = dir;
            implied.implied = true;
            LITEBOX_TRY_ASSIGN(const NodeId created, new_node(std::move(implied)));
            m_children[dir].emplace(std::string(part), created);
            dir = created;
        }
        return dir;
    }

    static void apply_metadata(Node& n, const EntryInfo& e) {
        n.permissions = e.permissions;
        n.uid = e.uid;
        n.gid = e.gid;
        n.mtime_seconds = e.mtime.seconds;
        n.mtime_nanoseconds = e.mtime.nanoseconds;
        n.implied = false;
    }

    Result<void> place(const EntryInfo& e) {
        LITEBOX_TRY_ASSIGN(const auto parts, components(e.path));
        if (parts.empty()) {
            if (e.kind != EntryKind::directory) return fail(Errno::inval, "a non-directory entry names the archive root");
            apply_metadata(m_nodes[root_node], e);
            return ok();
        }
        LITEBOX_TRY_ASSIGN(const NodeId parent, walk(std::span(parts).first(parts.size() - 1), true, e.mtime));
        const std::string_view name = parts.back();
        const auto existing = m_children[parent].find(name);

        if (e.kind == EntryKind::hard_link) {
            LITEBOX_TRY_ASSIGN(const auto target_parts, components(e.link));
            if (target_parts.empty()) return fail(Errno::perm, "hard link to a directory");
            LITEBOX_TRY_ASSIGN(const NodeId target_dir,
                               walk(std::span(target_parts).first(target_parts.size() - 1), false, e.mtime));
            const auto target = m_children[target_dir].find(target_parts.back());
            if (target == m_children[target_dir].end()) return fail(Errno::noent, "hard link target does not exist");
            if (m_nodes[target->second].type == NodeType::directory) return fail(Errno::perm, "hard link to a directory");
            const NodeId target_node = target->second;
            if (existing != m_children[parent].end())
                existing->second = target_node;
            else
                m_children[parent].emplace(std::string(name), target_node);
            return ok();
        }

        if (e.kind == EntryKind::directory && existing != m_children[parent].end() &&
            m_nodes[existing->second].type == NodeType::directory) {
            apply_metadata(m_nodes[existing->second], e);
            return ok();
        }

        Node n;
        apply_metadata(n, e);
        switch (e.kind) {
            case EntryKind::regular:
                n.type = NodeType::regular;
                n.data_offset = e.data_offset;
                n.size = e.size;
                break;
            case EntryKind::directory:
                n.type = NodeType::directory;
                n.parent = parent;
                break;
            case EntryKind::symlink:
                if (e.link.find('\0') != std::string::npos) return fail(Errno::inval, "symlink target contains NUL");
                if (e.link.size() > m_limits.max_path_length)
                    return fail(Errno::nametoolong, "symlink target longer than the path limit");
                n.type = NodeType::symlink;
                n.link_target = e.link;
                n.size = e.link.size();
                break;
            case EntryKind::char_device:
            case EntryKind::block_device:
                n.type = e.kind == EntryKind::char_device ? NodeType::char_device : NodeType::block_device;
                n.device_major = e.device_major;
                n.device_minor = e.device_minor;
                break;
            case EntryKind::fifo: n.type = NodeType::fifo; break;
            case EntryKind::hard_link: break;  // handled above
        }
        LITEBOX_TRY_ASSIGN(const NodeId id, new_node(std::move(n)));
        auto& children = m_children[parent];  // new_node may have reallocated m_children
        const auto slot = children.find(name);
        if (slot != children.end())
            slot->second = id;
        else
            children.emplace(std::string(name), id);
        return ok();
    }

    /// Moves the reachable tree into sorted entry vectors and counts links.
    Result<Archive> finish() {
        std::vector<NodeId> stack{root_node};
        while (!stack.empty()) {
            const NodeId dir = stack.back();
            stack.pop_back();
            Node& d = m_nodes[dir];
            d.link_count = 2;
            d.entries.reserve(m_children[dir].size());
            for (auto& [name, child] : m_children[dir]) {
                d.entries.push_back(DirEntry{name, child});
                Node& c = m_nodes[child];
                if (c.type == NodeType::directory) {
                    ++d.link_count;
                    stack.push_back(child);
                } else {
                    ++c.link_count;
                }
            }
            m_children[dir].clear();
        }
        Archive archive;
        archive.m_bytes = m_bytes;
        archive.m_nodes = std::move(m_nodes);
        return archive;
    }

    std::span<const std::byte> m_bytes;
    const Limits& m_limits;
    ParseError* m_error;
    std::uint64_t m_offset = 0;
    std::string m_current_name;

    std::vector<Node> m_nodes;
    std::vector<std::map<std::string, NodeId, std::less<>>> m_children;  // while building

    PaxValues m_global;
    PaxValues m_local;
    std::optional<std::string> m_long_name;
    std::optional<std::string> m_long_link;
    bool m_pending_metadata = false;
};

}  // namespace litebox::fs::tar::detail

namespace litebox::fs::tar {

inline Result<Archive> Archive::parse(std::span<const std::byte> bytes, const Limits& limits, ParseError* error) {
    return detail::ArchiveBuilder(bytes, limits, error).run();
}

inline Result<NodeId> Archive::lookup_path(std::string_view path) const {
    NodeId current = root_node;
    std::size_t start = 0;
    while (start <= path.size()) {
        auto slash = path.find('/', start);
        if (slash == std::string_view::npos) slash = path.size();
        const std::string_view part = path.substr(start, slash - start);
        start = slash + 1;
        if (part.empty() || part == ".") continue;
        if (m_nodes[current].type != NodeType::directory) return Errno::notdir;
        if (part == "..") {
            current = m_nodes[current].parent;
            continue;
        }
        const auto next = lookup(current, part);
        if (!next) return Errno::noent;
        current = *next;
    }
    return current;
}

}  // namespace litebox::fs::tar
