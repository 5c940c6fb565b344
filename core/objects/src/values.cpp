#include "kolokol/objects/values.hpp"

#include <charconv>
#include <cstdio>

#include "civil.hpp"
#include "kolokol/crypto/encoding.hpp"

namespace kolokol::objects {

namespace {

using detail::days_from_civil;
using detail::days_in_month;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Reads exactly `n` digits at `pos`.
std::optional<int> digits(std::string_view s, std::size_t pos, std::size_t n) {
    if (pos + n > s.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (!is_digit(s[i])) return std::nullopt;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

}  // namespace

bool is_display_text(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) return false;
            ++i;
            continue;
        }
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;  // a continuation byte or 0xf8..0xff cannot start a sequence
        }
        if (i + len > text.size()) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        static constexpr std::uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMinForLength[len]) return false;       // overlong encoding
        if (cp > 0x10ffff) return false;                 // beyond Unicode
        if (cp >= 0xd800 && cp <= 0xdfff) return false;  // UTF-16 surrogate
        if (cp >= 0x80 && cp <= 0x9f) return false;      // C1 control (8-bit CSI …)
        i += len;
    }
    return true;
}

std::optional<std::int64_t> parse_datetime(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SSZ
    if (s.size() != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != 'Z')
        return std::nullopt;
    auto year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
    auto hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
    if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
    if (*year < kMinYear || *year > kMaxYear) return std::nullopt;
    if (*month < 1 || *month > 12) return std::nullopt;
    if (*day < 1 || *day > days_in_month(*year, *month)) return std::nullopt;
    if (*hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
    const auto days =
        days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
    return days * 86400 + *hour * 3600 + *minute * 60 + *second;
}

std::optional<std::string> format_datetime(std::int64_t t) {
    static const std::int64_t kMin = days_from_civil(kMinYear, 1, 1) * 86400;
    static const std::int64_t kMax = days_from_civil(kMaxYear + 1, 1, 1) * 86400 - 1;
    if (t < kMin || t > kMax) return std::nullopt;
    std::int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) {
        secs += 86400;
        days -= 1;
    }
    const auto c = detail::civil_from_days(days);
    char buf[32];
    const int n =
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(c.year),
                      c.month, c.day, static_cast<int>(secs / 3600),
                      static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
    return std::string(buf, static_cast<std::size_t>(n));
}

std::optional<std::int64_t> parse_amount_cents(std::string_view s) {
    const auto dot = s.find('.');
    const auto whole = s.substr(0, dot);
    if (whole.empty() || whole.size() > 13) return std::nullopt;
    if (whole.size() > 1 && whole[0] == '0') return std::nullopt;  // one spelling per amount
    std::int64_t units = 0;
    for (char c : whole) {
        if (!is_digit(c)) return std::nullopt;
        units = units * 10 + (c - '0');
    }
    std::int64_t cents = 0;
    if (dot != std::string_view::npos) {
        const auto frac = s.substr(dot + 1);
        if (frac.empty() || frac.size() > 2) return std::nullopt;
        for (char c : frac)
            if (!is_digit(c)) return std::nullopt;
        cents = (frac[0] - '0') * 10 + (frac.size() == 2 ? frac[1] - '0' : 0);
    }
    const std::int64_t total = units * 100 + cents;
    if (total > kMaxAmountCents) return std::nullopt;
    return total;
}

std::string format_cents(std::int64_t cents) {
    const bool negative = cents < 0;
    // Work in unsigned so that INT64_MIN does not overflow on negation.
    const std::uint64_t mag =
        negative ? 0 - static_cast<std::uint64_t>(cents) : static_cast<std::uint64_t>(cents);
    std::string out = negative ? "-" : "";
    out += std::to_string(mag / 100);
    out += '.';
    out += static_cast<char>('0' + mag % 100 / 10);
    out += static_cast<char>('0' + mag % 10);
    return out;
}

bool is_currency_code(std::string_view s) {
    if (s.size() != 3) return false;
    for (char c : s)
        if (c < 'A' || c > 'Z') return false;
    return true;
}

std::optional<std::int64_t> parse_integer(std::string_view s) {
    const bool negative = !s.empty() && s[0] == '-';
    const auto body = s.substr(negative ? 1 : 0);
    if (body.empty() || (body.size() > 1 && body[0] == '0')) return std::nullopt;
    if (negative && body == "0") return std::nullopt;
    for (char c : body)
        if (!is_digit(c)) return std::nullopt;
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
}

std::optional<ByteArray<32>> parse_key_hex(std::string_view s) {
    if (s.size() != 64) return std::nullopt;
    for (char c : s)
        if (!is_digit(c) && !(c >= 'a' && c <= 'f')) return std::nullopt;  // lower case only
    auto bytes = crypto::hex_decode(s);
    if (!bytes || bytes->size() != 32) return std::nullopt;
    return to_array<32>(*bytes);
}

std::string key_hex(const ByteArray<32>& key) {
    return crypto::hex_encode(key);
}

}  // namespace kolokol::objects
