#pragma once
// Canonical text forms of field values. Every value of an object is a UTF-8 string in exactly
// one of these forms, so replicas compare and fold them byte for byte. Parsers are strict: no
// leading/trailing space, no alternative spellings; they return nullopt on anything else.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kolokol/crypto/bytes.hpp"

namespace kolokol::objects {

inline constexpr int kMinYear = 1900;
inline constexpr int kMaxYear = 2200;
// Amounts are at most 1e12 units with two decimals, kept as integer hundredths ("cents").
inline constexpr std::int64_t kMaxAmountCents = 100'000'000'000'000;

// Display text: valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF) and no
// control characters other than tab and newline (C0, DEL and C1 are refused so that a value can
// never carry terminal escape sequences into someone's screen).
bool is_display_text(std::string_view text);

// ISO-8601 UTC in the one form "YYYY-MM-DDTHH:MM:SSZ", years kMinYear..kMaxYear, a real
// calendar date (leap years included), no leap seconds. Returns seconds since 1970-01-01.
std::optional<std::int64_t> parse_datetime(std::string_view text);
// Inverse of parse_datetime for instants within the year range; nullopt outside it.
std::optional<std::string> format_datetime(std::int64_t unix_seconds);

// A decimal amount "0", "12", "12.5", "12.50": no sign, no leading zeros, at most two decimals,
// at most kMaxAmountCents. Returns hundredths.
std::optional<std::int64_t> parse_amount_cents(std::string_view text);
// "1234.50" for 123450; negative values get a leading '-'.
std::string format_cents(std::int64_t cents);

// Three upper-case ASCII letters (the ISO 4217 shape). The code list itself is not checked:
// it changes over time, and replicas running different versions must agree on validity.
bool is_currency_code(std::string_view text);

// A decimal integer: optional '-', no leading zeros, no "-0", fits in int64.
std::optional<std::int64_t> parse_integer(std::string_view text);

// 32 bytes as 64 lower-case hex digits (member keys, record ids).
std::optional<ByteArray<32>> parse_key_hex(std::string_view text);
std::string key_hex(const ByteArray<32>& key);

}  // namespace kolokol::objects
