// Sync file parts: the binary part codec and the armor (see sync_parts.hpp, DESIGN §11.1.1).
#include "kolokol/core/sync_parts.hpp"

#include <charconv>

#include "domains.hpp"
#include "kolokol/core/errors.hpp"
#include "kolokol/crypto/byte_reader.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/hash.hpp"

namespace kolokol::core {

namespace {
constexpr std::string_view kPartMagic = "KKPART01";
constexpr std::string_view kBegin = "-----BEGIN KOLOKOL SYNC PART ";
constexpr std::string_view kEnd = "-----END KOLOKOL SYNC PART ";
constexpr std::string_view kDashes = "-----";
constexpr std::size_t kArmorWidth = 64;
// Base64 is decoded in runs of this many characters (a multiple of 4).
constexpr std::size_t kBase64Run = 4096;

ByteArray<32> part_check(ByteView header_before_check, ByteView body) {
    crypto::Blake2b h(32);
    h.update(kSyncPartDomain);
    const std::uint8_t zero = 0;
    h.update(ByteView(&zero, 1));
    h.update(header_before_check);
    h.update(body);
    return to_array<32>(h.finish());
}

Bytes header_before_check(const PartHeader& h) {
    Bytes out(kPartMagic.begin(), kPartMagic.end());
    append(out, h.set);
    put_u32be(out, h.index);
    put_u32be(out, h.count);
    put_u64be(out, h.total);
    put_u64be(out, h.offset);
    put_u32be(out, h.size);
    return out;
}

std::string label_line(std::string_view lead, const PartHeader& h) {
    return std::string(lead) + std::to_string(h.index) + " OF " + std::to_string(h.count) +
           " SET " + set_name(h.set) + std::string(kDashes);
}

// Reads a decimal number of 1..9 digits at the front of `text`.
std::optional<std::uint32_t> take_number(std::string_view& text) {
    std::size_t n = 0;
    while (n < text.size() && n < 10 && text[n] >= '0' && text[n] <= '9') ++n;
    if (n == 0 || n > 9) return std::nullopt;
    std::uint32_t v = 0;
    std::from_chars(text.data(), text.data() + n, v);
    text.remove_prefix(n);
    return v;
}

// "3 OF 12 SET 1f2e3d4c5b6a7980-----" after the BEGIN/END lead.
std::optional<PartHeader> parse_label(std::string_view line, std::string_view lead) {
    if (!line.starts_with(lead)) return std::nullopt;
    line.remove_prefix(lead.size());
    PartHeader h;
    auto index = take_number(line);
    if (!index || !line.starts_with(" OF ")) return std::nullopt;
    line.remove_prefix(4);
    auto count = take_number(line);
    if (!count || !line.starts_with(" SET ")) return std::nullopt;
    // Bounds as a binary header's: a label is trusted no further than one.
    if (*index == 0 || *count == 0 || *count > kMaxPartCount || *index > *count)
        return std::nullopt;
    line.remove_prefix(5);
    if (line.size() != 16 + kDashes.size() || !line.ends_with(kDashes)) return std::nullopt;
    auto set = crypto::hex_decode(line.substr(0, 16));
    if (!set) return std::nullopt;
    h.index = *index;
    h.count = *count;
    h.set = to_array<8>(*set);
    return h;
}

bool is_base64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}
}  // namespace

std::string set_name(const PartSetId& set) {
    return crypto::hex_encode(set);
}

Result<std::size_t> parse_part_size(std::string_view text) {
    std::string_view digits = text;
    std::size_t unit = 1;
    for (std::string_view suffix : {"iB", "B"})
        if (digits.ends_with(suffix)) {
            digits.remove_suffix(suffix.size());
            break;
        }
    if (!digits.empty()) {
        const char u = digits.back();
        if (u == 'K' || u == 'k') unit = 1024;
        if (u == 'M' || u == 'm') unit = 1024 * 1024;
        if (unit != 1) digits.remove_suffix(1);
    }
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size())
        return fail(CoreErrc::bad_input,
                    "\"{}\" is not a size: give bytes, or a number with K or M (such as 2M)",
                    std::string(text));
    // Compared before multiplying, so that no size overflows into range.
    if (n > kMaxPartSize / unit || n * unit < kMinPartSize || n * unit > kMaxPartSize)
        return fail(CoreErrc::bad_input, "a part must be from 4K to 64M, not {}",
                    std::string(text));
    return static_cast<std::size_t>(n * unit);
}

Bytes encode_part(const PartHeader& header, ByteView body) {
    PartHeader h = header;
    h.size = static_cast<std::uint32_t>(body.size());
    auto out = header_before_check(h);
    auto check = part_check(out, body);
    append(out, check);
    append(out, body);
    return out;
}

Result<Part> decode_part(ByteView bytes) {
    ByteReader r(bytes);
    auto magic = r.take(kPartMagic.size());
    if (!magic || as_chars(*magic) != kPartMagic)
        return fail(CoreErrc::bad_input, "it is not a part of a sync file");
    Part p;
    auto set = r.array<8>();
    auto index = r.u32be();
    auto count = r.u32be();
    auto total = r.u64be();
    auto offset = r.u64be();
    auto size = r.u32be();
    auto check = r.array<32>();
    if (!check) return fail(CoreErrc::bad_input, "it is truncated");
    // Bounds first: these numbers size what the reader puts together.
    if (*count == 0 || *count > kMaxPartCount || *index == 0 || *index > *count || *size == 0 ||
        *size > kMaxPartSize || *total > std::uint64_t{*count} * kMaxPartSize || *offset > *total ||
        *size > *total - *offset)
        return fail(CoreErrc::bad_input, "its header is out of bounds");
    if (r.remaining() < *size) return fail(CoreErrc::bad_input, "it is truncated");
    if (r.remaining() > *size) return fail(CoreErrc::bad_input, "it has bytes after its end");
    p.header = {*set, *index, *count, *total, *offset, *size, *check};
    auto body = r.rest();
    if (part_check(bytes.first(kPartHeaderSize - 32), body) != *check)
        return fail(CoreErrc::bad_input, "its checksum does not match");
    p.body.assign(body.begin(), body.end());
    return p;
}

std::string armor_part(const PartHeader& header, ByteView binary_part) {
    std::string out = label_line(kBegin, header) + "\n";
    for (std::size_t at = 0; at < binary_part.size(); at += kArmorWidth / 4 * 3) {
        auto n = std::min(kArmorWidth / 4 * 3, binary_part.size() - at);
        out += crypto::base64_raw_encode(binary_part.subspan(at, n));
        out += '\n';
    }
    out += label_line(kEnd, header) + "\n";
    return out;
}

ArmorScanner::ArmorScanner(std::function<bool(ArmorBlock&&)> on_block)
    : m_on_block(std::move(on_block)) {}

void ArmorScanner::feed(std::string_view text) {
    for (char c : text) {
        if (m_stopped) return;
        ++m_pos;
        if (c == '\n') {
            line_done();
            m_line_start = m_pos;
            continue;
        }
        if (m_mode == Mode::lead) {
            // Leading whitespace and mail quote marks are not part of the line.
            if (is_space(c) || c == '>') continue;
            m_mode = (!m_inside || c == '-') ? Mode::marker : Mode::body;
        }
        if (m_mode == Mode::body) {
            body_char(c);
        } else if (m_line.size() < kMaxArmorLine) {
            m_line.push_back(c);
        } else {
            m_line_long = true;
        }
    }
}

void ArmorScanner::finish() {
    if (m_stopped) return;
    line_done();
    if (m_inside) close_block(make_error(CoreErrc::bad_input, "it ends before its END line"));
}

void ArmorScanner::line_done() {
    std::string_view line = m_line;
    while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
    const bool long_line = m_line_long;
    const auto mode = m_mode;
    m_mode = Mode::lead;
    m_line_long = false;
    if (mode != Mode::marker) return;
    std::string text(line);
    m_line.clear();
    if (!m_inside) {
        if (!long_line && text.starts_with(kBegin)) open_block(text);
        return;
    }
    if (!long_line && text.starts_with(kEnd)) {
        close_block(std::nullopt, text);
    } else if (!long_line && text.starts_with(kBegin)) {
        close_block(make_error(CoreErrc::bad_input, "it ends before its END line"));
        if (!m_stopped) open_block(text);
    } else if (!m_damage) {
        m_damage = make_error(CoreErrc::bad_input, "its armor holds a line that is not base64");
    }
}

void ArmorScanner::open_block(std::string_view begin_line) {
    m_seen_begin = true;
    m_inside = true;
    m_block_offset = m_line_start;
    m_label = parse_label(begin_line, kBegin);
    m_damage.reset();
    if (!m_label) m_damage = make_error(CoreErrc::bad_input, "its BEGIN line does not parse");
    m_base64.clear();
    m_decoded.clear();
}

void ArmorScanner::body_char(char c) {
    if (m_damage || is_space(c)) return;
    if (!is_base64_char(c)) {
        m_damage =
            make_error(CoreErrc::bad_input, "its armor holds a character that is not base64");
        return;
    }
    m_base64.push_back(c);
    if (m_base64.size() == kBase64Run) flush_base64();
}

void ArmorScanner::flush_base64() {
    if (m_damage || m_base64.empty()) return;
    // The part's own header bounds what follows; until it is decoded, the largest part does.
    std::size_t cap = kPartHeaderSize + kMaxPartSize;
    if (m_decoded.size() >= kPartHeaderSize) {
        ByteReader r(ByteView(m_decoded).subspan(40, 4));
        cap = kPartHeaderSize + std::min<std::size_t>(*r.u32be(), kMaxPartSize);
    }
    if (m_decoded.size() + m_base64.size() / 4 * 3 > cap) {
        m_damage = make_error(CoreErrc::bad_input, "it is longer than its header says");
        return;
    }
    const bool header_known = m_decoded.size() >= kPartHeaderSize;
    const bool ok = crypto::base64_raw_decode_append(m_base64, m_decoded);
    m_base64.clear();
    if (!ok) {
        m_damage = make_error(CoreErrc::bad_input, "its armor is not valid base64");
        return;
    }
    // Once the header is known, room for the part it claims is taken once (address space
    // only until written) rather than doubled towards it.
    if (!header_known && m_decoded.size() >= kPartHeaderSize) {
        ByteReader r(ByteView(m_decoded).subspan(40, 4));
        m_decoded.reserve(kPartHeaderSize + std::min<std::size_t>(*r.u32be(), kMaxPartSize));
    }
}

void ArmorScanner::close_block(std::optional<Error> damage, std::string_view end_line) {
    flush_base64();
    if (!damage) damage = std::move(m_damage);
    ArmorBlock block;
    block.offset = m_block_offset;
    block.label = m_label;
    if (damage) {
        block.part = std::unexpected(*damage);
    } else {
        block.part = decode_part(m_decoded);
        auto end = parse_label(end_line, kEnd);
        if (block.part && (!end || end->index != m_label->index || end->count != m_label->count ||
                           end->set != m_label->set))
            block.part = fail(CoreErrc::bad_input, "its BEGIN and END lines differ");
        if (block.part &&
            (block.part->header.index != m_label->index ||
             block.part->header.count != m_label->count || block.part->header.set != m_label->set))
            block.part = fail(CoreErrc::bad_input, "its BEGIN line does not match its contents");
    }
    m_inside = false;
    m_label.reset();
    m_damage.reset();
    m_base64.clear();
    m_decoded.clear();
    m_decoded.shrink_to_fit();
    if (!m_on_block(std::move(block))) m_stopped = true;
}

std::vector<ArmorBlock> parse_armored_parts(std::string_view text) {
    std::vector<ArmorBlock> blocks;
    ArmorScanner scanner([&](ArmorBlock&& b) {
        blocks.push_back(std::move(b));
        return true;
    });
    scanner.feed(text);
    scanner.finish();
    return blocks;
}

}  // namespace kolokol::core
