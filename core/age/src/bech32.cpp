#include "bech32.hpp"

#include <array>
#include <cstdint>

namespace kolokol::age::bech32 {

namespace {

constexpr std::string_view kCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

std::uint32_t polymod(ByteView values) {
    constexpr std::array<std::uint32_t, 5> kGen = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd,
                                                   0x2a1462b3};
    std::uint32_t chk = 1;
    for (auto v : values) {
        std::uint32_t top = chk >> 25;
        chk = ((chk & 0x1ffffff) << 5) ^ v;
        for (int i = 0; i < 5; ++i)
            if ((top >> i) & 1) chk ^= kGen[static_cast<std::size_t>(i)];
    }
    return chk;
}

Bytes hrp_expand(std::string_view hrp) {
    Bytes out;
    out.reserve(hrp.size() * 2 + 1);
    for (char c : hrp) out.push_back(static_cast<std::uint8_t>(static_cast<unsigned char>(c) >> 5));
    out.push_back(0);
    for (char c : hrp) out.push_back(static_cast<std::uint8_t>(static_cast<unsigned char>(c) & 31));
    return out;
}

char to_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
char to_upper(char c) {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

// Regroups bits; `pad` adds zero bits at the end (encoding), otherwise leftover bits must be
// fewer than `from` and zero (decoding).
std::optional<Bytes> convert_bits(ByteView in, int from, int to, bool pad) {
    std::uint32_t acc = 0;
    int bits = 0;
    const std::uint32_t maxv = (1u << to) - 1;
    Bytes out;
    out.reserve(in.size() * static_cast<std::size_t>(from) / static_cast<std::size_t>(to) + 1);
    for (auto v : in) {
        if ((v >> from) != 0) return std::nullopt;
        acc = (acc << from) | v;
        bits += from;
        while (bits >= to) {
            bits -= to;
            out.push_back(static_cast<std::uint8_t>((acc >> bits) & maxv));
        }
    }
    if (pad) {
        if (bits > 0) out.push_back(static_cast<std::uint8_t>((acc << (to - bits)) & maxv));
    } else if (bits >= from || ((acc << (to - bits)) & maxv) != 0) {
        return std::nullopt;
    }
    return out;
}

}  // namespace

std::string encode(std::string_view hrp, ByteView data, bool upper) {
    std::string lower_hrp;
    for (char c : hrp) lower_hrp.push_back(to_lower(c));
    auto values = *convert_bits(data, 8, 5, true);
    Bytes check_input = hrp_expand(lower_hrp);
    append(check_input, values);
    check_input.insert(check_input.end(), 6, 0);
    std::uint32_t mod = polymod(check_input) ^ 1;

    std::string out = lower_hrp + "1";
    for (auto v : values) out.push_back(kCharset[v]);
    for (int i = 0; i < 6; ++i) out.push_back(kCharset[(mod >> (5 * (5 - i))) & 31]);
    if (upper)
        for (auto& c : out) c = to_upper(c);
    return out;
}

std::optional<Decoded> decode(std::string_view text) {
    bool has_lower = false, has_upper = false;
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (u < 33 || u > 126) return std::nullopt;
        has_lower |= (c >= 'a' && c <= 'z');
        has_upper |= (c >= 'A' && c <= 'Z');
    }
    if (has_lower && has_upper) return std::nullopt;
    auto pos = text.rfind('1');
    // At least one HRP character and six checksum characters.
    if (pos == std::string_view::npos || pos < 1 || pos + 7 > text.size()) return std::nullopt;

    Decoded out;
    for (char c : text.substr(0, pos)) out.hrp.push_back(to_lower(c));
    Bytes values;
    values.reserve(text.size() - pos - 1);
    for (char c : text.substr(pos + 1)) {
        auto idx = kCharset.find(to_lower(c));
        if (idx == std::string_view::npos) return std::nullopt;
        values.push_back(static_cast<std::uint8_t>(idx));
    }
    Bytes check_input = hrp_expand(out.hrp);
    append(check_input, values);
    if (polymod(check_input) != 1) return std::nullopt;
    auto data = convert_bits(ByteView(values).first(values.size() - 6), 5, 8, false);
    if (!data) return std::nullopt;
    out.data = std::move(*data);
    return out;
}

}  // namespace kolokol::age::bech32
