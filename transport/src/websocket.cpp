#include "kolokol/transport/websocket.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstring>

#include "kolokol/crypto/encoding.hpp"
#include "kolokol/transport/session_error.hpp"

namespace kolokol::transport::ws {

namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::unexpected<Error> protocol_error(const char* why) {
    return fail(TransportErrc::malformed_frame, "websocket: {}", why);
}

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Whether a comma-separated header value holds `token` (any case).
bool has_token(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        auto comma = value.find(',');
        if (iequals(trim(value.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

// The head's first line and its headers; a header given twice keeps its first value, except
// that the caller sees `duplicate` set (a request with two keys is refused).
struct Head {
    std::string_view first_line;
    std::optional<std::string_view> upgrade, connection, key, version, accept, real_ip;
    bool duplicate = false;
    bool malformed = false;
};

Head parse_head(std::string_view head) {
    Head out;
    if (head.size() > kMaxHandshakeBytes || !head.ends_with("\r\n\r\n")) {
        out.malformed = true;
        return out;
    }
    head.remove_suffix(2);  // the blank line's CRLF; every line now ends with CRLF
    bool first = true;
    while (!head.empty()) {
        auto end = head.find("\r\n");
        if (end == std::string_view::npos) {
            out.malformed = true;
            return out;
        }
        auto line = head.substr(0, end);
        head.remove_prefix(end + 2);
        if (first) {
            out.first_line = line;
            first = false;
            continue;
        }
        auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            out.malformed = true;
            return out;
        }
        auto name = line.substr(0, colon);
        auto value = trim(line.substr(colon + 1));
        auto set = [&](std::optional<std::string_view>& slot) {
            if (slot)
                out.duplicate = true;
            else
                slot = value;
        };
        if (iequals(name, "upgrade"))
            set(out.upgrade);
        else if (iequals(name, "connection"))
            set(out.connection);
        else if (iequals(name, "sec-websocket-key"))
            set(out.key);
        else if (iequals(name, "sec-websocket-version"))
            set(out.version);
        else if (iequals(name, "sec-websocket-accept"))
            set(out.accept);
        else if (iequals(name, "x-real-ip"))
            set(out.real_ip);
    }
    if (first) out.malformed = true;
    return out;
}

std::string base64_padded(ByteView data) {
    auto out = crypto::base64_raw_encode(data);
    while (out.size() % 4) out.push_back('=');
    return out;
}

}  // namespace

Bytes encode_frame(Opcode opcode, ByteView payload, std::optional<std::uint32_t> mask) {
    Bytes out;
    out.reserve(payload.size() + 14);
    out.push_back(static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(opcode)));
    const std::uint8_t mask_bit = mask ? 0x80 : 0x00;
    const std::uint64_t n = payload.size();
    if (n <= 125) {
        out.push_back(static_cast<std::uint8_t>(mask_bit | n));
    } else if (n <= 0xffff) {
        out.push_back(mask_bit | 126);
        out.push_back(static_cast<std::uint8_t>(n >> 8));
        out.push_back(static_cast<std::uint8_t>(n));
    } else {
        out.push_back(mask_bit | 127);
        for (int shift = 56; shift >= 0; shift -= 8)
            out.push_back(static_cast<std::uint8_t>(n >> shift));
    }
    if (!mask) {
        append(out, payload);
        return out;
    }
    std::array<std::uint8_t, 4> key{};
    for (int i = 0; i < 4; ++i)
        key[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(*mask >> (24 - 8 * i));
    append(out, ByteView(key));
    const auto start = out.size();
    append(out, payload);
    for (std::size_t i = 0; i < payload.size(); ++i) out[start + i] ^= key[i % 4];
    return out;
}

void FrameDecoder::feed(ByteView bytes) {
    if (m_failed) return;
    // Drop what was consumed before growing, so the buffer holds at most one frame.
    if (m_offset > 0) {
        m_buffer.erase(m_buffer.begin(), m_buffer.begin() + static_cast<std::ptrdiff_t>(m_offset));
        m_offset = 0;
    }
    append(m_buffer, bytes);
}

Result<std::optional<Frame>> FrameDecoder::next() {
    if (m_failed) return std::unexpected(*m_failed);
    auto fail_with = [&](std::unexpected<Error> e) -> Result<std::optional<Frame>> {
        m_failed = e.error();
        return e;
    };
    const ByteView in = ByteView(m_buffer).subspan(m_offset);
    if (in.size() < 2) return std::nullopt;
    const std::uint8_t b0 = in[0], b1 = in[1];
    if (b0 & 0x70) return fail_with(protocol_error("reserved bits set"));
    const bool fin = (b0 & 0x80) != 0;
    const auto op = static_cast<Opcode>(b0 & 0x0f);
    const bool masked = (b1 & 0x80) != 0;
    if (masked != (m_role == Role::server))
        return fail_with(protocol_error(masked ? "a masked frame from the server"
                                               : "an unmasked frame from the client"));
    bool control = false;
    switch (op) {
        case Opcode::continuation:
            if (!m_in_message) return fail_with(protocol_error("a continuation out of place"));
            break;
        case Opcode::binary:
            if (m_in_message) return fail_with(protocol_error("a data frame inside a message"));
            break;
        case Opcode::close:
        case Opcode::ping:
        case Opcode::pong:
            control = true;
            break;
        default:
            return fail_with(protocol_error("an opcode this side does not speak"));
    }
    std::size_t header = 2;
    std::uint64_t length = b1 & 0x7f;
    if (length == 126) {
        if (in.size() < 4) return std::nullopt;
        length = (std::uint64_t{in[2]} << 8) | in[3];
        if (length < 126) return fail_with(protocol_error("a length not in its shortest form"));
        header = 4;
    } else if (length == 127) {
        if (in.size() < 10) return std::nullopt;
        length = 0;
        for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | in[i];
        if (length >> 63) return fail_with(protocol_error("a length with its top bit set"));
        if (length <= 0xffff) return fail_with(protocol_error("a length not in its shortest form"));
        header = 10;
    }
    if (control && (length > kMaxControlPayload || !fin))
        return fail_with(protocol_error("a control frame too long or fragmented"));
    if (length > m_max_payload)
        return fail_with(std::unexpected(make_error(TransportErrc::frame_too_large,
                                                    "websocket: a frame of {} bytes (at most {})",
                                                    length, m_max_payload)));
    std::array<std::uint8_t, 4> key{};
    if (masked) {
        if (in.size() < header + 4) return std::nullopt;
        for (std::size_t i = 0; i < 4; ++i) key[i] = in[header + i];
        header += 4;
    }
    if (in.size() - header < length) return std::nullopt;
    Frame frame;
    frame.opcode = op;
    frame.fin = fin;
    frame.payload.assign(in.begin() + static_cast<std::ptrdiff_t>(header),
                         in.begin() + static_cast<std::ptrdiff_t>(header + length));
    if (masked)
        for (std::size_t i = 0; i < frame.payload.size(); ++i) frame.payload[i] ^= key[i % 4];
    if (!control) m_in_message = !fin;
    m_offset += header + static_cast<std::size_t>(length);
    return std::optional<Frame>(std::move(frame));
}

std::string make_client_key(ByteView sixteen_random_bytes) {
    return base64_padded(sixteen_random_bytes);
}

std::string accept_for_key(std::string_view key) {
    std::string input(key);
    input += kGuid;
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int n = 0;
    EVP_Digest(input.data(), input.size(), digest.data(), &n, EVP_sha1(), nullptr);
    return base64_padded(ByteView(digest.data(), n));
}

std::string client_request(std::string_view host_header, std::string_view path,
                           std::string_view key) {
    std::string out = "GET ";
    out += path;
    out += " HTTP/1.1\r\nHost: ";
    out += host_header;
    out += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
    out += key;
    out += "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    return out;
}

std::optional<std::string> check_upgrade_request(std::string_view head, std::string_view path) {
    auto h = parse_head(head);
    if (h.malformed || h.duplicate) return std::nullopt;
    const std::string expected = "GET " + std::string(path) + " HTTP/1.1";
    if (h.first_line != expected) return std::nullopt;
    if (!h.upgrade || !has_token(*h.upgrade, "websocket")) return std::nullopt;
    if (!h.connection || !has_token(*h.connection, "upgrade")) return std::nullopt;
    if (!h.version || *h.version != "13") return std::nullopt;
    if (!h.key || h.key->size() != 24 || !h.key->ends_with("==")) return std::nullopt;
    auto decoded = crypto::base64_raw_decode(h.key->substr(0, 22));
    if (!decoded || decoded->size() != 16) return std::nullopt;
    return std::string(*h.key);
}

std::optional<std::string> real_ip(std::string_view head) {
    auto h = parse_head(head);
    // Two X-Real-IP headers: one came from the client, and which is unknown.
    if (h.malformed || h.duplicate || !h.real_ip) return std::nullopt;
    return std::string(*h.real_ip);
}

std::string upgrade_response(std::string_view key) {
    return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
           "Upgrade\r\nSec-WebSocket-Accept: " +
           accept_for_key(key) + "\r\n\r\n";
}

std::string not_found_response() {
    return "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 0\r\n"
           "Connection: close\r\n\r\n";
}

bool check_upgrade_response(std::string_view head, std::string_view key) {
    auto h = parse_head(head);
    if (h.malformed || h.duplicate) return false;
    if (!h.first_line.starts_with("HTTP/1.1 101")) return false;
    if (!h.upgrade || !has_token(*h.upgrade, "websocket")) return false;
    if (!h.connection || !has_token(*h.connection, "upgrade")) return false;
    return h.accept && *h.accept == accept_for_key(key);
}

}  // namespace kolokol::transport::ws
