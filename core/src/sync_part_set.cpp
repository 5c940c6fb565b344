// Sync file parts on disk: cutting a sync file into part files, finding the parts of one set
// among the files given, and reading the whole file back out of them (sync_parts.hpp).
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "kolokol/core/errors.hpp"
#include "kolokol/core/sync_parts.hpp"
#include "kolokol/crypto/byte_reader.hpp"
#include "kolokol/storage/error.hpp"
#include "kolokol/storage/output_file.hpp"
#include "kolokol/storage/posix_io.hpp"
#include "output_temp.hpp"

namespace kolokol::core {

namespace {
constexpr std::string_view kPartMagic = "KKPART01";
constexpr std::string_view kWholeMagic = "KKSYNC01";
constexpr std::size_t kReadBlock = 64 << 10;
// In a folder, a text file whose first 64 KiB hold no BEGIN line is not looked at further.
constexpr std::size_t kTextProbe = 64 << 10;
constexpr std::size_t kMaxFolderEntries = 100000;
// Parts found in all, duplicates included: what collect_parts keeps is a path and a header each.
constexpr std::size_t kMaxPartsFound = 4 * kMaxPartCount;
constexpr std::size_t kMaxMissingNamed = 20;

std::string part_file_name(const std::filesystem::path& out, std::uint32_t index,
                           std::uint32_t count, bool armor) {
    const auto digits = std::max<std::size_t>(2, std::to_string(count).size());
    auto number = std::to_string(index);
    number.insert(0, digits - number.size(), '0');
    return out.string() + ".part" + number + (armor ? ".txt" : "");
}

// The armored size of a part with `body` bytes, for the longest BEGIN and END lines.
std::size_t armored_size(std::size_t body) {
    PartHeader widest;
    widest.index = widest.count = kMaxPartCount;
    const std::size_t binary = kPartHeaderSize + body;
    const std::size_t lines = armor_part(widest, {}).size();  // BEGIN and END with newlines
    return lines + binary / 48 * 65 + (binary % 48 == 0 ? 0 : (binary % 48 * 4 + 2) / 3 + 1);
}

// The most body bytes a part of at most `part_size` bytes holds.
std::size_t body_per_part(std::size_t part_size, bool armor) {
    if (!armor) return part_size - kPartHeaderSize;
    std::size_t lo = 1, hi = part_size;
    while (lo < hi) {
        const std::size_t mid = (lo + hi + 1) / 2;
        if (armored_size(mid) <= part_size)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

Status pread_all(int fd, std::uint64_t offset, MutableByteView out) {
    std::size_t done = 0;
    while (done < out.size()) {
        auto n =
            ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail(CoreErrc::io, "cannot read the sync file back");
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Status write_part_file(const std::filesystem::path& path, ByteView bytes) {
    auto tmp = path;
    tmp += ".partial";
    auto created = create_temp_output(tmp);
    if (!created) return std::unexpected(created.error());
    const int fd = *created;
    const bool ok = storage::write_all(fd, bytes).has_value() && ::fsync(fd) == 0;
    ::close(fd);
    std::error_code ec;
    if (ok) std::filesystem::rename(tmp, path, ec);
    if (!ok || ec) {
        std::filesystem::remove(tmp, ec);
        return fail(CoreErrc::io, "cannot write {}", path.string());
    }
    return {};
}

// The first `n` bytes of a file (fewer when it is shorter).
Result<std::string> read_prefix(const std::filesystem::path& path, std::size_t n) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(CoreErrc::io, "cannot read {}", path.string());
    std::string out(n, '\0');
    in.read(out.data(), static_cast<std::streamsize>(n));
    out.resize(static_cast<std::size_t>(in.gcount()));
    return out;
}

Result<Part> read_binary_part(const std::filesystem::path& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return fail(CoreErrc::io, "cannot read {}", path.string());
    // Refused before reading: a part is never larger.
    if (size > kPartHeaderSize + kMaxPartSize)
        return fail(CoreErrc::bad_input, "it is larger than a part may be");
    std::ifstream in(path, std::ios::binary);
    std::string bytes(static_cast<std::size_t>(size), '\0');
    if (!in.read(bytes.data(), static_cast<std::streamsize>(size)))
        return fail(CoreErrc::io, "cannot read {}", path.string());
    return decode_part(as_bytes(bytes));
}

// What a binary part's header says, for naming it when the part is damaged; nullopt when it
// is too short or out of bounds to say anything.
std::optional<PartHeader> peek_label(const std::filesystem::path& path) {
    auto bytes = read_prefix(path, kPartHeaderSize);
    if (!bytes) return std::nullopt;
    ByteReader r(as_bytes(*bytes));
    r.take(kPartMagic.size());
    PartHeader h;
    auto set = r.array<8>();
    auto index = r.u32be();
    auto count = r.u32be();
    if (!count || *count == 0 || *count > kMaxPartCount || *index == 0 || *index > *count)
        return std::nullopt;
    h.set = *set;
    h.index = *index;
    h.count = *count;
    return h;
}

std::unexpected<Error> damaged(const std::filesystem::path& path,
                               const std::optional<PartHeader>& label, const Error& why) {
    if (label)
        return fail(CoreErrc::bad_input, "{}: part {} of {} of set {} is damaged: {}",
                    path.string(), label->index, label->count, set_name(label->set), why);
    return fail(CoreErrc::bad_input, "{}: a part of a sync file is damaged: {}", path.string(),
                why);
}

// Scans a text file for armored blocks from `offset`; `on_block` as for ArmorScanner. With
// `probe`, gives up (returns false) when the first kTextProbe bytes hold no BEGIN line.
Result<bool> scan_text(const std::filesystem::path& path, std::uint64_t offset, bool probe,
                       const std::function<bool(ArmorBlock&&)>& on_block) {
    std::ifstream in(path, std::ios::binary);
    if (!in || !in.seekg(static_cast<std::streamoff>(offset)))
        return fail(CoreErrc::io, "cannot read {}", path.string());
    ArmorScanner scanner(on_block);
    std::string buf(kReadBlock, '\0');
    std::size_t read = 0;
    while (!scanner.stopped() && in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        const auto got = static_cast<std::size_t>(in.gcount());
        if (got == 0) break;
        scanner.feed(std::string_view(buf.data(), got));
        read += got;
        if (probe && read >= kTextProbe && !scanner.seen_begin()) return false;
    }
    if (in.bad()) return fail(CoreErrc::io, "cannot read {}", path.string());
    scanner.finish();
    return scanner.seen_begin();
}

class Collector {
public:
    std::vector<PartSource> found;
    std::size_t ignored = 0;
    // Damaged parts, with what their header still says (nullopt when nothing can be read).
    struct Damaged {
        std::optional<PartHeader> label;
        Error error;
    };
    std::vector<Damaged> damaged;

    // One file; `in_folder`: a file that holds no part is counted, not refused.
    Status add_file(const std::filesystem::path& path, bool in_folder) {
        auto magic = read_prefix(path, kPartMagic.size());
        if (!magic) return std::unexpected(magic.error());
        if (*magic == kPartMagic) {
            auto part = read_binary_part(path);
            if (!part) {
                if (part.error().code == make_error_code(CoreErrc::io))
                    return std::unexpected(part.error());
                return note_damaged(path, peek_label(path), part.error());
            }
            return keep({path, 0, false, part->header});
        }
        if (*magic == kWholeMagic) {
            if (in_folder) {
                ++ignored;
                return {};
            }
            return fail(CoreErrc::bad_input,
                        "{} is a whole sync file: read it alone, not with parts", path.string());
        }
        std::optional<Error> error;
        auto seen = scan_text(path, 0, in_folder, [&](ArmorBlock&& block) {
            if (!block.part) {
                auto noted = note_damaged(path, block.label, block.part.error());
                if (!noted) error = noted.error();
                return noted.has_value();
            }
            auto kept = keep({path, block.offset, true, block.part->header});
            if (!kept) error = kept.error();
            return kept.has_value();
        });
        if (!seen) return std::unexpected(seen.error());
        if (error) return std::unexpected(*error);
        if (!*seen) {
            if (in_folder) {
                ++ignored;
                return {};
            }
            return fail(CoreErrc::bad_input, "{} is neither a sync file nor a part of one",
                        path.string());
        }
        return {};
    }

    Status add_folder(const std::filesystem::path& dir) {
        std::vector<std::filesystem::path> files;
        std::error_code ec;
        for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end;
             it.increment(ec)) {
            if (files.size() == kMaxFolderEntries)
                return fail(CoreErrc::bad_input,
                            "{} holds too many files: put the parts in a folder of their own",
                            dir.string());
            std::error_code type_ec;
            if (it->is_regular_file(type_ec)) files.push_back(it->path());
        }
        if (ec) return fail(CoreErrc::io, "cannot read {}", dir.string());
        std::sort(files.begin(), files.end());
        for (const auto& f : files)
            if (auto ok = add_file(f, true); !ok) return ok;
        return {};
    }

private:
    Status note_damaged(const std::filesystem::path& path, const std::optional<PartHeader>& label,
                        const Error& why) {
        if (damaged.size() == kMaxPartsFound)
            return fail(CoreErrc::bad_input, "more than {} damaged parts were given",
                        kMaxPartsFound);
        damaged.push_back({label, ::kolokol::core::damaged(path, label, why).error()});
        return {};
    }

    Status keep(PartSource source) {
        if (found.size() == kMaxPartsFound)
            return fail(CoreErrc::bad_input, "more than {} parts were given", kMaxPartsFound);
        found.push_back(std::move(source));
        return {};
    }
};

std::string number_list(const std::vector<std::uint32_t>& numbers, std::size_t most) {
    std::string out;
    for (std::size_t i = 0; i < numbers.size() && i < most; ++i)
        out += (i ? ", " : "") + std::to_string(numbers[i]);
    return out;
}

Result<Bytes> load_part(const PartSource& source) {
    Result<Part> part = fail(CoreErrc::bad_input, "it is no longer there");
    if (!source.armored) {
        part = read_binary_part(source.path);
    } else {
        auto scanned = scan_text(source.path, source.offset, false, [&](ArmorBlock&& block) {
            part = std::move(block.part);
            return false;
        });
        if (!scanned) return std::unexpected(scanned.error());
    }
    if (!part || part->header.check != source.header.check)
        return fail(CoreErrc::bad_input, "{} changed while it was read", source.path.string());
    return std::move(part->body);
}
}  // namespace

bool is_whole_sync_file(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return false;
    auto magic = read_prefix(path, kWholeMagic.size());
    return magic && *magic == kWholeMagic;
}

Result<PartsWritten> write_parts(int whole_fd, std::uint64_t total,
                                 const std::filesystem::path& out, const PartOptions& options,
                                 const PartSetId& set) {
    const bool one = options.part_size == 0;
    const std::size_t body = body_per_part(
        one ? kMaxPartSize : std::max(options.part_size, kMinPartSize), options.armor);
    const std::uint64_t count = total == 0 ? 1 : (total + body - 1) / body;
    if (one && count > 1)
        return fail(CoreErrc::bad_input,
                    "the sync file has {} bytes, more than one part holds: give a part size",
                    total);
    if (count > kMaxPartCount)
        return fail(CoreErrc::bad_input,
                    "the sync file has {} bytes: parts of that size would be {}, more than {}: "
                    "give a larger part size",
                    total, count, kMaxPartCount);
    PartsWritten written;
    written.set = set;
    auto undo = [&] {
        std::error_code ec;
        for (const auto& f : written.files) std::filesystem::remove(f, ec);
    };
    for (std::uint32_t i = 0; i < count; ++i) {
        PartHeader h;
        h.set = set;
        h.index = i + 1;
        h.count = static_cast<std::uint32_t>(count);
        h.total = total;
        h.offset = std::uint64_t{i} * body;
        Bytes chunk(static_cast<std::size_t>(std::min<std::uint64_t>(body, total - h.offset)));
        if (auto ok = pread_all(whole_fd, h.offset, chunk); !ok) {
            undo();
            return std::unexpected(ok.error());
        }
        auto binary = encode_part(h, chunk);
        const std::filesystem::path path =
            one ? out : std::filesystem::path(part_file_name(out, h.index, h.count, options.armor));
        Status ok = options.armor ? write_part_file(path, as_bytes(armor_part(h, binary)))
                                  : write_part_file(path, binary);
        if (!ok) {
            undo();
            return std::unexpected(ok.error());
        }
        written.files.push_back(path);
    }
    return written;
}

Result<PartSet> collect_parts(std::span<const std::filesystem::path> inputs) {
    Collector c;
    for (const auto& path : inputs) {
        std::error_code ec;
        const auto status = std::filesystem::status(path, ec);
        Status ok;
        if (std::filesystem::is_directory(status))
            ok = c.add_folder(path);
        else if (std::filesystem::is_regular_file(status))
            ok = c.add_file(path, false);
        else
            return fail(CoreErrc::not_found, "no such file: {}", path.string());
        if (!ok) return std::unexpected(ok.error());
    }
    if (c.found.empty()) {
        if (!c.damaged.empty()) return std::unexpected(c.damaged.front().error);
        return fail(CoreErrc::bad_input, "no part of a sync file in {}",
                    inputs.empty() ? std::string() : inputs.front().string());
    }

    // The set most parts belong to is the one meant; a part of any other is named.
    std::map<PartSetId, std::size_t> per_set;
    for (const auto& p : c.found) ++per_set[p.header.set];
    PartSetId chosen = c.found.front().header.set;
    for (const auto& p : c.found)
        if (per_set[p.header.set] > per_set[chosen]) chosen = p.header.set;
    for (const auto& p : c.found)
        if (p.header.set != chosen)
            return fail(CoreErrc::bad_input,
                        "{}: part {} of {} of set {} is from another set than the others (set "
                        "{}): give the parts of one set",
                        p.path.string(), p.header.index, p.header.count, set_name(p.header.set),
                        set_name(chosen));

    const auto& first = c.found.front().header;
    PartSet set;
    set.set = chosen;
    set.count = first.count;
    set.total = first.total;
    set.ignored_files = c.ignored;
    std::vector<std::optional<PartSource>> slots(first.count);
    for (auto& p : c.found) {
        if (p.header.count != set.count || p.header.total != set.total)
            return fail(CoreErrc::bad_input,
                        "{}: part {} of set {} does not agree with the other parts on the set's "
                        "size",
                        p.path.string(), p.header.index, set_name(chosen));
        auto& slot = slots[p.header.index - 1];
        if (!slot) {
            slot = std::move(p);
        } else if (slot->header.check == p.header.check) {
            set.duplicates.push_back(std::move(p));
        } else {
            return fail(
                CoreErrc::bad_input, "{} and {} are both part {} of {} of set {}, but differ",
                slot->path.string(), p.path.string(), p.header.index, set.count, set_name(chosen));
        }
    }
    std::vector<std::uint32_t> missing;
    for (std::uint32_t i = 0; i < set.count; ++i)
        if (!slots[i]) missing.push_back(i + 1);
    // A damaged copy is passed over when the set is whole without it. Otherwise the damage is
    // what is said: of a part that is missing, or of one whose header no longer says which.
    for (auto& d : c.damaged) {
        if (missing.empty()) {
            set.damaged.push_back(std::move(d.error));
            continue;
        }
        if (!d.label ||
            (d.label->set == chosen && d.label->count == set.count && d.label->index >= 1 &&
             d.label->index <= set.count && !slots[d.label->index - 1]))
            return std::unexpected(d.error);
    }
    if (missing.size() == 1)
        return fail(CoreErrc::bad_input, "part {} of {} of set {} is missing", missing.front(),
                    set.count, set_name(chosen));
    if (!missing.empty() && missing.size() <= kMaxMissingNamed)
        return fail(CoreErrc::bad_input, "parts {} of {} of set {} are missing",
                    number_list(missing, kMaxMissingNamed), set.count, set_name(chosen));
    if (!missing.empty())
        return fail(CoreErrc::bad_input,
                    "set {} is missing {} of its {} parts, the first of them: {}", set_name(chosen),
                    missing.size(), set.count, number_list(missing, kMaxMissingNamed));
    // The parts must tile the file exactly; only a part made by hand can fail this.
    std::uint64_t at = 0;
    for (auto& slot : slots) {
        if (slot->header.offset != at)
            return fail(CoreErrc::bad_input, "the parts of set {} do not fit together at part {}",
                        set_name(chosen), slot->header.index);
        at += slot->header.size;
        set.parts.push_back(std::move(*slot));
    }
    if (at != set.total)
        return fail(CoreErrc::bad_input, "the parts of set {} do not fit together at part {}",
                    set_name(chosen), set.count);
    return set;
}

Result<std::size_t> PartSetReader::read(std::span<std::uint8_t> out) {
    std::size_t n = 0;
    while (n < out.size()) {
        if (m_at == m_body.size()) {
            if (m_next == m_set.parts.size()) break;
            auto body = load_part(m_set.parts[m_next]);
            if (!body) return std::unexpected(body.error());
            m_body = std::move(*body);
            m_at = 0;
            ++m_next;
        }
        const auto take = std::min(out.size() - n, m_body.size() - m_at);
        std::copy_n(m_body.begin() + static_cast<std::ptrdiff_t>(m_at), take, out.begin() + n);
        m_at += take;
        n += take;
    }
    return n;
}

}  // namespace kolokol::core
