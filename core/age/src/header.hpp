#pragma once
// The textual age header: parsing (strict, canonical) and serialization.

#include <optional>
#include <string>
#include <vector>

#include "kolokol/age/error.hpp"
#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/secret.hpp"

namespace kolokol::age::detail {

inline constexpr std::string_view kVersionLine = "age-encryption.org/v1";

struct Stanza {
    std::string type;
    std::vector<std::string> args;  // after the type
    Bytes body;
};

struct Header {
    std::vector<Stanza> stanzas;
    ByteArray<32> mac{};
    // The MAC covers the header bytes up to and including "---" of the final line.
    std::size_t mac_input_bytes = 0;
};

// Returns the length of the header in `data` (through the '\n' that ends the "---" line) once
// a complete header is present; nullopt while more bytes are needed. `scan_from` carries the
// scan position across calls so repeated calls over a growing buffer stay linear.
std::optional<std::size_t> find_header_end(ByteView data, std::size_t& scan_from);

// Parses exactly one header (as delimited by find_header_end). Every failure is
// AgeErrc::header_failure with a short reason.
Result<Header> parse_header(ByteView header, std::size_t max_stanzas);

// Serializes stanzas and returns the header bytes without the MAC: everything up to and
// including "---". The caller appends " " + base64(mac) + "\n".
std::string serialize_without_mac(const std::vector<Stanza>& stanzas);

// HMAC-SHA-256 keyed by HKDF-SHA-256(salt = empty, file key, "header").
ByteArray<32> header_mac(const crypto::SecretBytes& file_key, ByteView header_without_mac);

}  // namespace kolokol::age::detail
