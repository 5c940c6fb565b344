#pragma once
// Errors of the age layer. The first kinds match the age test kit's `expect:` values, so a caller
// (or a test) can tell a wrong key from a damaged file from a tampered one.

#include <system_error>

#include "kolokol/crypto/error.hpp"

namespace kolokol::age {

enum class AgeErrc {
    ok = 0,
    no_match = 1,           // no identity or passphrase unwrapped the file key
    hmac_failure = 2,       // the header MAC did not verify: the header was altered
    header_failure = 3,     // malformed or unsupported header, an invalid stanza, a missing nonce
    payload_failure = 4,    // a payload chunk failed to authenticate, truncation, trailing data
    armor_unsupported = 5,  // ASCII-armored (PEM) input: not implemented
    io = 6,                 // a source or sink failed without an error code of its own
    invalid_key = 7,        // a recipient or identity string that does not parse
    invalid_argument = 8,   // misuse: no recipients, passphrase with recipients, write after finish
};

const std::error_category& age_category();
inline std::error_code make_error_code(AgeErrc e) {
    return {static_cast<int>(e), age_category()};
}

}  // namespace kolokol::age

template <>
struct std::is_error_code_enum<kolokol::age::AgeErrc> : std::true_type {};
