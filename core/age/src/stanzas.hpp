#pragma once
// The two native recipient types: X25519 and scrypt (passphrase).

#include <optional>

#include "header.hpp"
#include "kolokol/age/keys.hpp"
#include "kolokol/crypto/random.hpp"

namespace kolokol::age::detail {

inline constexpr std::string_view kX25519Type = "X25519";
inline constexpr std::string_view kScryptType = "scrypt";

// "-> X25519 <ephemeral share>" with the file key wrapped under
// HKDF-SHA-256(salt = share || recipient, X25519(eph, recipient), "age-encryption.org/v1/X25519").
// Fails (invalid_key) when the recipient is a low-order point.
Result<Stanza> wrap_x25519(const X25519Recipient& recipient, const crypto::SecretBytes& file_key,
                           crypto::Random& random);

// "-> scrypt <salt> <log2 N>" with the file key wrapped under
// scrypt(passphrase, "age-encryption.org/v1/scrypt" || salt, N, r = 8, p = 1).
Result<Stanza> wrap_scrypt(ByteView passphrase, const crypto::SecretBytes& file_key,
                           unsigned work_factor, crypto::Random& random);

// Tries `identity` on an X25519 stanza. nullopt: the stanza is not for this identity. Error
// (header_failure): the stanza is malformed, or the shared secret is all zero.
Result<std::optional<crypto::SecretBytes>> unwrap_x25519(const Stanza& stanza,
                                                         const X25519Identity& identity);

// Checks an scrypt stanza before any passphrase is asked for: argument count, a 16-byte salt,
// a decimal work factor without sign or leading zero, at most `max_work_factor`, a 32-byte
// body. Returns the work factor; failures are header_failure.
Result<unsigned> check_scrypt_stanza(const Stanza& stanza, unsigned max_work_factor);

// Unwraps a stanza that passed check_scrypt_stanza. nullopt: wrong passphrase.
Result<std::optional<crypto::SecretBytes>> unwrap_scrypt(const Stanza& stanza, unsigned work_factor,
                                                         ByteView passphrase);

}  // namespace kolokol::age::detail
