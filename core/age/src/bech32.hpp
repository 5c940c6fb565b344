#pragma once
// BIP 173 Bech32 as age uses it: no 90-character limit, case-insensitive but never mixed case,
// the checksum always computed over the lower-case form.

#include <optional>
#include <string>
#include <string_view>

#include "kolokol/crypto/bytes.hpp"

namespace kolokol::age::bech32 {

struct Decoded {
    std::string hrp;  // lower case
    Bytes data;       // 8-bit bytes
};

// `hrp` is printable ASCII (33..126); the result is lower case, or upper case when `upper`.
std::string encode(std::string_view hrp, ByteView data, bool upper);
// nullopt on mixed case, a bad separator position, a character outside the alphabet, a bad
// checksum, or non-zero padding bits.
std::optional<Decoded> decode(std::string_view text);

}  // namespace kolokol::age::bech32
