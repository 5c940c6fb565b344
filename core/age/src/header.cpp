#include "header.hpp"

#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/hash.hpp"

namespace kolokol::age::detail {

namespace {

constexpr std::size_t kBodyLineBytes = 48;  // 64 base64 columns
constexpr std::string_view kStanzaPrefix = "->";
constexpr std::string_view kFooterPrefix = "---";

std::unexpected<Error> header_error(const char* literal) {
    return fail(AgeErrc::header_failure, "invalid age header: {}", literal);
}

// Splits on single spaces, keeping empty parts so that doubled or trailing spaces are seen.
std::vector<std::string_view> split_spaces(std::string_view line) {
    std::vector<std::string_view> parts;
    while (true) {
        auto sp = line.find(' ');
        parts.push_back(line.substr(0, sp));
        if (sp == std::string_view::npos) break;
        line.remove_prefix(sp + 1);
    }
    return parts;
}

// Stanza arguments are non-empty strings of visible ASCII (spec: 1*VCHAR).
bool valid_argument(std::string_view arg) {
    if (arg.empty()) return false;
    for (char c : arg) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u > 0x7e) return false;
    }
    return true;
}

class LineReader {
public:
    explicit LineReader(std::string_view text) : m_text(text) {}
    // The next line without its '\n'; nullopt at the end (the header always ends in '\n').
    std::optional<std::string_view> next() {
        if (m_pos >= m_text.size()) return std::nullopt;
        auto nl = m_text.find('\n', m_pos);
        if (nl == std::string_view::npos) return std::nullopt;
        auto line = m_text.substr(m_pos, nl - m_pos);
        m_pos = nl + 1;
        return line;
    }
    std::size_t position() const { return m_pos; }

private:
    std::string_view m_text;
    std::size_t m_pos = 0;
};

}  // namespace

std::optional<std::size_t> find_header_end(ByteView data, std::size_t& scan_from) {
    auto text = as_chars(data);
    while (scan_from < text.size()) {
        auto nl = text.find('\n', scan_from);
        if (nl == std::string_view::npos) return std::nullopt;
        auto line = text.substr(scan_from, nl - scan_from);
        scan_from = nl + 1;
        // Body lines are base64 and stanza lines start with "->", so the first line starting
        // with "---" is the footer; parse_header decides whether it is well formed.
        if (line.starts_with(kFooterPrefix)) return scan_from;
    }
    return std::nullopt;
}

Result<Header> parse_header(ByteView header_bytes, std::size_t max_stanzas) {
    LineReader lines(as_chars(header_bytes));
    auto first = lines.next();
    if (!first || *first != kVersionLine)
        return header_error(KOLOKOL_TEXT("unsupported version or not an age file"));

    Header header;
    while (true) {
        std::size_t line_start = lines.position();
        auto line = lines.next();
        if (!line) return header_error(KOLOKOL_TEXT("missing \"---\" line"));

        if (line->starts_with(kFooterPrefix)) {
            auto parts = split_spaces(*line);
            if (parts.size() != 2 || parts[0] != kFooterPrefix)
                return header_error(KOLOKOL_TEXT("malformed closing line"));
            auto mac = crypto::base64_raw_decode(parts[1]);
            if (!mac || mac->size() != header.mac.size())
                return header_error(KOLOKOL_TEXT("malformed header MAC"));
            header.mac = to_array<32>(*mac);
            header.mac_input_bytes = line_start + kFooterPrefix.size();
            if (lines.position() != header_bytes.size())
                return header_error(KOLOKOL_TEXT("data after header"));
            return header;
        }

        if (!line->starts_with(kStanzaPrefix)) return header_error(KOLOKOL_TEXT("unexpected line"));
        auto parts = split_spaces(*line);
        if (parts[0] != kStanzaPrefix || parts.size() < 2)
            return header_error(KOLOKOL_TEXT("malformed stanza opening line"));
        for (std::size_t i = 1; i < parts.size(); ++i)
            if (!valid_argument(parts[i]))
                return header_error(KOLOKOL_TEXT("malformed stanza argument"));
        if (header.stanzas.size() >= max_stanzas)
            return fail(AgeErrc::header_failure, "invalid age header: more than {} stanzas",
                        max_stanzas);

        Stanza stanza;
        stanza.type = std::string(parts[1]);
        for (std::size_t i = 2; i < parts.size(); ++i) stanza.args.emplace_back(parts[i]);
        // Body: full 64-column lines, then one shorter (possibly empty) line that ends it.
        while (true) {
            auto body_line = lines.next();
            if (!body_line) return header_error(KOLOKOL_TEXT("stanza body is not terminated"));
            auto chunk = crypto::base64_raw_decode(*body_line);
            if (!chunk) return header_error(KOLOKOL_TEXT("stanza body is not canonical base64"));
            if (chunk->size() > kBodyLineBytes)
                return header_error(KOLOKOL_TEXT("stanza body line too long"));
            append(stanza.body, *chunk);
            if (chunk->size() < kBodyLineBytes) break;
        }
        header.stanzas.push_back(std::move(stanza));
    }
}

std::string serialize_without_mac(const std::vector<Stanza>& stanzas) {
    std::string out(kVersionLine);
    out += '\n';
    for (const auto& s : stanzas) {
        out += kStanzaPrefix;
        out += ' ';
        out += s.type;
        for (const auto& a : s.args) {
            out += ' ';
            out += a;
        }
        out += '\n';
        ByteView body = s.body;
        // A body whose length is a multiple of 48 (including zero) ends with an empty line.
        while (true) {
            auto n = std::min(body.size(), kBodyLineBytes);
            out += crypto::base64_raw_encode(body.first(n));
            out += '\n';
            body = body.subspan(n);
            if (n < kBodyLineBytes) break;
        }
    }
    out += kFooterPrefix;
    return out;
}

ByteArray<32> header_mac(const crypto::SecretBytes& file_key, ByteView header_without_mac) {
    auto key = crypto::hkdf_sha256({}, file_key.view(), as_bytes("header"), 32);
    return crypto::hmac_sha256(key.view(), header_without_mac);
}

}  // namespace kolokol::age::detail
