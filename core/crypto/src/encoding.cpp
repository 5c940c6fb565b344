#include "kolokol/crypto/encoding.hpp"

#include <sodium.h>

namespace kolokol::crypto {

std::string hex_encode(ByteView data) {
    if (data.empty()) return {};
    std::string out(data.size() * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), data.data(), data.size());
    out.pop_back();
    return out;
}

std::optional<Bytes> hex_decode(std::string_view text) {
    if (text.size() % 2 != 0) return std::nullopt;
    if (text.empty()) return Bytes{};  // libsodium must not be handed a null output buffer
    Bytes out(text.size() / 2);
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_hex2bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end) !=
            0 ||
        len != out.size() || end != text.data() + text.size())
        return std::nullopt;
    return out;
}

namespace {
std::string b64_encode(ByteView data, int variant) {
    std::string out(sodium_base64_encoded_len(data.size(), variant), '\0');
    sodium_bin2base64(out.data(), out.size(), data.data(), data.size(), variant);
    out.resize(std::char_traits<char>::length(out.c_str()));
    return out;
}
std::optional<Bytes> b64_decode(std::string_view text, int variant) {
    Bytes out(text.size() * 3 / 4 + 3);
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                          variant) != 0 ||
        end != text.data() + text.size())
        return std::nullopt;
    out.resize(len);
    // libsodium ignores non-zero trailing bits; canonical encodings only.
    if (b64_encode(out, variant) != text) return std::nullopt;
    return out;
}
}  // namespace

std::string base64url_encode(ByteView data) {
    return b64_encode(data, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
std::optional<Bytes> base64url_decode(std::string_view text) {
    return b64_decode(text, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
std::string base64_raw_encode(ByteView data) {
    return b64_encode(data, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}
std::optional<Bytes> base64_raw_decode(std::string_view text) {
    return b64_decode(text, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

namespace {
// The value of a standard base64 character (the caller has decoded it, so it is one).
unsigned base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return static_cast<unsigned>(c - 'A');
    if (c >= 'a' && c <= 'z') return static_cast<unsigned>(c - 'a') + 26;
    if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0') + 52;
    return c == '+' ? 62 : 63;
}
}  // namespace

bool base64_raw_decode_append(std::string_view text, Bytes& out) {
    if (text.empty()) return true;
    if (text.size() % 4 == 1) return false;
    const std::size_t at = out.size();
    out.resize(at + text.size() * 3 / 4 + 3);
    std::size_t len = 0;
    const char* end = nullptr;
    const bool ok =
        sodium_base642bin(out.data() + at, out.size() - at, text.data(), text.size(), nullptr, &len,
                          &end, sodium_base64_VARIANT_ORIGINAL_NO_PADDING) == 0 &&
        end == text.data() + text.size();
    // libsodium ignores non-zero trailing bits; canonical encodings only.
    const unsigned spare = text.size() % 4 == 2 ? 0x0f : text.size() % 4 == 3 ? 0x03 : 0;
    if (!ok || (base64_value(text.back()) & spare) != 0) {
        out.resize(at);
        return false;
    }
    out.resize(at + len);
    return true;
}

namespace {
constexpr char kBase32Alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
}

std::string base32_encode(ByteView data) {
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (auto byte : data) {
        buffer = (buffer << 8) | byte;
        bits += 8;
        while (bits >= 5) {
            out.push_back(kBase32Alphabet[(buffer >> (bits - 5)) & 31]);
            bits -= 5;
        }
    }
    if (bits > 0) out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 31]);
    return out;
}

std::optional<Bytes> base32_decode(std::string_view text) {
    Bytes out;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : text) {
        int v = -1;
        if (c >= 'a' && c <= 'z')
            v = c - 'a';
        else if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= '2' && c <= '7')
            v = c - '2' + 26;
        if (v < 0) return std::nullopt;
        buffer = (buffer << 5) | static_cast<unsigned>(v);
        bits += 5;
        if (bits >= 8) {
            out.push_back(static_cast<std::uint8_t>(buffer >> (bits - 8)));
            bits -= 8;
        }
    }
    // Leftover bits must be fewer than 5 and zero, else the encoding is not canonical.
    if (bits >= 5 || (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

}  // namespace kolokol::crypto
