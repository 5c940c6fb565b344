#pragma once
// Text encodings. Decoders return nullopt on any invalid input (no partial results).

#include <optional>
#include <string>
#include <string_view>

#include "kolokol/crypto/bytes.hpp"

namespace kolokol::crypto {

std::string hex_encode(ByteView data);
std::optional<Bytes> hex_decode(std::string_view text);

// RFC 4648 base64url without padding (cards, tokens).
std::string base64url_encode(ByteView data);
std::optional<Bytes> base64url_decode(std::string_view text);
// RFC 4648 standard base64 without padding (age headers). Strict: rejects padding and
// non-canonical trailing bits.
std::string base64_raw_encode(ByteView data);
std::optional<Bytes> base64_raw_decode(std::string_view text);
// The same, decoded onto the end of `out` with no other allocation; on failure `out` is as it
// was and false is returned.
bool base64_raw_decode_append(std::string_view text, Bytes& out);
// RFC 4648 base32, lower case, no padding (relay keys in addresses).
std::string base32_encode(ByteView data);
std::optional<Bytes> base32_decode(std::string_view text);

}  // namespace kolokol::crypto
